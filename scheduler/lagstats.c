/*
 * lagstats.c: bounded reservoir of lag samples with percentiles.
 */
#include <math.h>
#include <stdlib.h>

#include "lagstats.h"

int
lagstats_init(struct lagstats *ls)
{
	ls->v = calloc(LAGSTATS_RESERVOIR, sizeof(*ls->v));
	ls->n = 0;
	ls->seen = 0;
	ls->max = 0;
	ls->rng = 0x9e3779b97f4a7c15ULL;
	return ls->v == NULL ? -1 : 0;
}

void
lagstats_cleanup(struct lagstats *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void
lagstats_add(struct lagstats *ls, uint64_t us)
{
	uint64_t	j;

	ls->seen++;
	if (us > ls->max)
		ls->max = us;
	if (ls->n < LAGSTATS_RESERVOIR) {
		ls->v[ls->n++] = us;
		return;
	}
	j = xorshift(&ls->rng) % ls->seen;
	if (j < LAGSTATS_RESERVOIR)
		ls->v[j] = us;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t
lagstats_pct(struct lagstats *ls, double p)
{
	size_t	rank;

	if (ls->n == 0)
		return 0;
	qsort(ls->v, ls->n, sizeof(*ls->v), cmp_u64);
	rank = (size_t)ceil(p / 100.0 * (double)ls->n);
	if (rank < 1)
		rank = 1;
	if (rank > ls->n)
		rank = ls->n;
	return ls->v[rank - 1];
}

void
lagstats_reset(struct lagstats *ls)
{
	ls->n = 0;
	ls->seen = 0;
	ls->max = 0;
}
