/*
 * latstats.h: round-trip statistics and the simplified E-model shared by
 * the ping and tcp collectors (linked into both plugins).
 */
#ifndef COLLECTORS_PROBE_LATSTATS_H
#define COLLECTORS_PROBE_LATSTATS_H

#include <math.h>
#include <stddef.h>

struct qosd_out;

/* Figures over the RTTs of one target's probes, in milliseconds. */
struct latstats {
	unsigned long	 sent;
	unsigned long	 received;
	double		 loss_pct;
	double		 min, avg, max;
	double		 mdev;		/* population standard deviation */
	double		 jitter;	/* mean |rtt[i] - rtt[i-1]|, needs 2 */
	int		 has_jitter;
	double		 p50, p95, p99;
	int		 has_pct;	/* percentiles computed (count >= 10) */
	double		 r_factor, mos;
	int		 has_mos;	/* at least one reply */
};

/* Percentiles are given when at least this many probes were sent. */
#define LATSTATS_PCT_MIN	10

/*
 * Compute st from the RTTs of the probes that were answered, in the order
 * they were sent (rtt[0..n-1], milliseconds), of sent probes in all.
 * tmp is scratch space for n doubles (the percentiles sort it); NULL
 * skips the percentiles.
 */
void	latstats_compute(struct latstats *st, const double *rtt, size_t n,
	    unsigned long sent, double *tmp);

/*
 * The percentile p (0 to 100) of the sorted values v[0..n-1], n > 0, by
 * linear interpolation between the closest ranks.
 */
double	latstats_percentile(const double *v, size_t n, double p);

/*
 * The simplified ITU-T G.107 E-model: R from the mean RTT and jitter (ms)
 * and the loss (percent), clamped to 0..100; latstats_mos() maps R to a
 * mean opinion score from 1 to 4.5.
 */
double	latstats_r_factor(double rtt_ms, double jitter_ms, double loss_pct);
double	latstats_mos(double r);

/*
 * The RTT fields of st, the same in every latency measurement (ping and
 * tcp): rtt_min/avg/max/mdev_ms when a probe was answered, jitter_ms,
 * rtt_p50/p95/p99_ms and r_factor and mos when computed.  Into the point
 * being built on out.
 */
void	latstats_emit(struct qosd_out *out, const struct latstats *st);

/*
 * Figures are rounded to 1e-4 (0.1 us for milliseconds): the clocks
 * resolve 1 us, and a short number is cheaper to write and to parse.
 */
static inline double
latstats_round(double v)
{
	return round(v * 1e4) / 1e4;
}

#endif /* COLLECTORS_PROBE_LATSTATS_H */
