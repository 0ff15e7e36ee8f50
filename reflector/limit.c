/*
 * limit.c: token buckets per source and in total.
 */
#include <stdint.h>
#include <string.h>

#include "reflector/limit.h"

#define MICRO	1000000ULL

static void
bucket_init(struct limit_bucket *b, uint64_t rate, uint64_t burst,
    uint64_t now_us)
{
	b->rate = rate;
	b->burst = burst > 0 ? burst : 1;
	b->tokens = b->burst * MICRO;
	b->last_us = now_us;
}

/* Refill for the time since the last packet, then take one if there is. */
static int
bucket_take(struct limit_bucket *b, uint64_t now_us)
{
	uint64_t	cap = b->burst * MICRO, dt = now_us - b->last_us;

	if (b->rate == 0)
		return 1;
	/* A second refills rate packets: rate millionths per microsecond. */
	if (dt >= cap / b->rate + 1)
		b->tokens = cap;
	else if ((b->tokens += dt * b->rate) > cap)
		b->tokens = cap;
	b->last_us = now_us;
	if (b->tokens < MICRO)
		return 0;
	b->tokens -= MICRO;
	return 1;
}

int
limit_init(struct limit *l, uint64_t rate, uint64_t burst, size_t slots,
    uint64_t total_rate, uint64_t total_burst)
{
	memset(l, 0, sizeof(*l));
	bucket_init(&l->total, total_rate, total_burst, 0);
	l->rate = rate;
	l->burst = burst > 0 ? burst : 1;
	/* A source unseen for a full refill has a full bucket again. */
	return table_init(&l->sources, slots,
	    rate > 0 ? (l->burst * MICRO) / rate + MICRO : MICRO);
}

void
limit_cleanup(struct limit *l)
{
	table_cleanup(&l->sources);
}

int
limit_take(struct limit *l, const struct in6_addr *a, uint64_t now_us)
{
	struct table_entry	*e;
	struct limit_bucket	 b;
	uint8_t			 key[TABLE_KEY];
	int			 fresh, ok;

	if (l->rate > 0) {
		memset(key, 0, sizeof(key));
		memcpy(key, a, sizeof(*a));
		e = table_get(&l->sources, key, now_us, &fresh);
		if (fresh)
			bucket_init(&b, l->rate, l->burst, now_us);
		else {
			b.rate = l->rate;
			b.burst = l->burst;
			b.tokens = e->val;
			b.last_us = e->val2;
		}
		ok = bucket_take(&b, now_us);
		e->val = b.tokens;
		e->val2 = b.last_us;
		if (!ok)
			return 0;
	}
	return bucket_take(&l->total, now_us);
}
