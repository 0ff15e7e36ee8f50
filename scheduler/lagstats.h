/*
 * lagstats.h: percentiles of scheduler lag over one self-metrics interval.
 *
 * A fixed log-linear histogram: exact to the microsecond below 1024 us,
 * then 64 buckets per power of two (within 1.6 %) up to about 2^40 us.
 * Adding is O(1), a percentile is a walk over the buckets, memory is fixed;
 * the maximum is exact.
 */
#ifndef SCHEDULER_LAGSTATS_H
#define SCHEDULER_LAGSTATS_H

#include <stdint.h>

#define LAGSTATS_LINEAR	1024		/* exact buckets: 0..1023 us */
#define LAGSTATS_SUB	64		/* buckets per power of two above */
#define LAGSTATS_POWERS	30		/* 2^10 .. 2^40 us */
#define LAGSTATS_BUCKETS (LAGSTATS_LINEAR + LAGSTATS_SUB * LAGSTATS_POWERS)

struct lagstats {
	uint32_t	 b[LAGSTATS_BUCKETS];
	uint64_t	 seen;		/* samples this interval */
	uint64_t	 max;
};

void	lagstats_reset(struct lagstats *);
void	lagstats_add(struct lagstats *, uint64_t us);
/*
 * The p-th percentile (0 < p <= 100, nearest rank): the upper bound of the
 * bucket holding that rank, never more than the maximum.  0 when empty.
 */
uint64_t lagstats_pct(const struct lagstats *, double p);

#endif /* SCHEDULER_LAGSTATS_H */
