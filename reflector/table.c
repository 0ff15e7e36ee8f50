/*
 * table.c: the reflector's fixed table of peers.
 */
#include <sys/random.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reflector/table.h"

int
table_init(struct table *t, size_t slots, uint64_t ttl_us)
{
	size_t	n = TABLE_PROBE;

	memset(t, 0, sizeof(*t));
	while (n < slots && n < ((size_t)1 << 30))
		n <<= 1;
	if ((t->e = calloc(n, sizeof(*t->e))) == NULL)
		return -1;
	t->mask = n - 1;
	t->ttl_us = ttl_us;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t->e ^ 0x9e3779b97f4a7c15ULL;
	return 0;
}

void
table_cleanup(struct table *t)
{
	free(t->e);
	t->e = NULL;
}

/* FNV-1a from a random basis, then splitmix64's finaliser. */
static uint64_t
hash(const struct table *t, const uint8_t *key)
{
	uint64_t	h = t->seed ^ 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < TABLE_KEY; i++)
		h = (h ^ key[i]) * 0x100000001b3ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static int
expired(const struct table *t, const struct table_entry *e, uint64_t now)
{
	return !e->used || now - e->last_us > t->ttl_us;
}

struct table_entry *
table_get(struct table *t, const uint8_t *key, uint64_t now_us, int *fresh)
{
	struct table_entry	*e, *victim = NULL;
	size_t			 i, h = (size_t)hash(t, key);

	for (i = 0; i < TABLE_PROBE; i++) {
		e = &t->e[(h + i) & t->mask];
		if (e->used && memcmp(e->key, key, TABLE_KEY) == 0 &&
		    !expired(t, e, now_us)) {
			e->last_us = now_us;
			*fresh = 0;
			return e;
		}
		if (victim == NULL || (!expired(t, victim, now_us) &&
		    (expired(t, e, now_us) || e->last_us < victim->last_us)))
			victim = e;
	}
	if (!expired(t, victim, now_us))
		t->evicted++;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, TABLE_KEY);
	victim->used = 1;
	victim->last_us = now_us;
	*fresh = 1;
	return victim;
}

size_t
table_live(const struct table *t, uint64_t now_us)
{
	size_t	i, n = 0;

	for (i = 0; i <= t->mask; i++)
		if (!expired(t, &t->e[i], now_us))
			n++;
	return n;
}
