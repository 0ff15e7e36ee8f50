/*
 * lagstats.h: percentiles of scheduler lag over one self-metrics interval.
 *
 * Samples are kept in a fixed reservoir (Vitter's algorithm R) so memory is
 * bounded however many runs an interval holds; the maximum is exact.
 */
#ifndef SCHEDULER_LAGSTATS_H
#define SCHEDULER_LAGSTATS_H

#include <stddef.h>
#include <stdint.h>

#define LAGSTATS_RESERVOIR	65536

struct lagstats {
	uint64_t	*v;		/* LAGSTATS_RESERVOIR slots */
	size_t		 n;		/* samples kept */
	uint64_t	 seen;		/* samples offered */
	uint64_t	 max;
	uint64_t	 rng;
};

/* 0, or -1 if the reservoir cannot be allocated. */
int	lagstats_init(struct lagstats *);
void	lagstats_cleanup(struct lagstats *);
void	lagstats_add(struct lagstats *, uint64_t us);
/*
 * The p-th percentile (0 < p <= 100, nearest rank) of the samples kept;
 * sorts them.  0 when there are none.
 */
uint64_t lagstats_pct(struct lagstats *, double p);
/* Forget the samples (start of an interval). */
void	lagstats_reset(struct lagstats *);

#endif /* SCHEDULER_LAGSTATS_H */
