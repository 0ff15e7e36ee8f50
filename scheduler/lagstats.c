/*
 * lagstats.c: a log-linear histogram of lag samples.
 */
#include <math.h>
#include <string.h>

#include "scheduler/lagstats.h"

void
lagstats_reset(struct lagstats *ls)
{
	memset(ls, 0, sizeof(*ls));
}

static size_t
bucket_of(uint64_t us)
{
	unsigned int	e;
	size_t		i;

	if (us < LAGSTATS_LINEAR)
		return (size_t)us;
	e = 63 - (unsigned int)__builtin_clzll(us);	/* us >= 2^10 */
	if (e >= 10 + LAGSTATS_POWERS)
		return LAGSTATS_BUCKETS - 1;
	i = LAGSTATS_LINEAR + (size_t)(e - 10) * LAGSTATS_SUB +
	    (size_t)((us >> (e - 6)) & (LAGSTATS_SUB - 1));
	return i;
}

/* The largest value that falls into bucket i. */
static uint64_t
bucket_top(size_t i)
{
	size_t		k;
	unsigned int	e;

	if (i < LAGSTATS_LINEAR)
		return i;
	k = i - LAGSTATS_LINEAR;
	e = 10 + (unsigned int)(k / LAGSTATS_SUB);
	return ((uint64_t)1 << e) + ((uint64_t)(k % LAGSTATS_SUB + 1) <<
	    (e - 6)) - 1;
}

void
lagstats_add(struct lagstats *ls, uint64_t us)
{
	size_t	i = bucket_of(us);

	if (ls->b[i] < UINT32_MAX)
		ls->b[i]++;
	ls->seen++;
	if (us > ls->max)
		ls->max = us;
}

uint64_t
lagstats_pct(const struct lagstats *ls, double p)
{
	uint64_t	rank, n = 0, top;
	size_t		i;

	if (ls->seen == 0)
		return 0;
	rank = (uint64_t)ceil(p / 100.0 * (double)ls->seen);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < LAGSTATS_BUCKETS; i++) {
		n += ls->b[i];
		if (n >= rank)
			break;
	}
	top = bucket_top(i < LAGSTATS_BUCKETS ? i : LAGSTATS_BUCKETS - 1);
	return top < ls->max ? top : ls->max;
}
