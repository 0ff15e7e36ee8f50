/*
 * latstats.c: round-trip statistics and the simplified E-model.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/probe/latstats.h"
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
latstats_percentile(const double *v, size_t n, double p)
{
	double	rank, frac;
	size_t	lo;

	if (n == 1)
		return v[0];
	rank = p / 100.0 * (double)(n - 1);
	lo = (size_t)floor(rank);
	if (lo >= n - 1)
		return v[n - 1];
	frac = rank - (double)lo;
	return v[lo] + frac * (v[lo + 1] - v[lo]);
}

double
latstats_r_factor(double rtt_ms, double jitter_ms, double loss_pct)
{
	double	eff, id, r;

	eff = rtt_ms + 2.0 * jitter_ms + 10.0;
	if (eff < 160.0)
		id = eff / 40.0;
	else
		id = (eff - 120.0) / 10.0;
	r = 93.2 - id - 2.5 * loss_pct;
	if (r < 0)
		r = 0;
	if (r > 100)
		r = 100;
	return r;
}

double
latstats_mos(double r)
{
	double	mos;

	if (r <= 0)
		return 1.0;
	mos = 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
	if (mos < 1.0)
		mos = 1.0;
	if (mos > 4.5)
		mos = 4.5;
	return mos;
}

void
latstats_compute(struct latstats *st, const double *rtt, size_t n,
    unsigned long sent, double *tmp)
{
	double	sum = 0, sq = 0, jsum = 0, var;
	size_t	i;

	memset(st, 0, sizeof(*st));
	st->sent = sent;
	st->received = n;
	st->loss_pct = sent == 0 ? 100.0 :
	    100.0 * (double)(sent - n) / (double)sent;
	if (n == 0)
		return;
	st->min = st->max = rtt[0];
	for (i = 0; i < n; i++) {
		sum += rtt[i];
		if (rtt[i] < st->min)
			st->min = rtt[i];
		if (rtt[i] > st->max)
			st->max = rtt[i];
		if (i > 0)
			jsum += fabs(rtt[i] - rtt[i - 1]);
	}
	st->avg = sum / (double)n;
	for (i = 0; i < n; i++)
		sq += (rtt[i] - st->avg) * (rtt[i] - st->avg);
	var = sq / (double)n;
	st->mdev = sqrt(var);
	if (n >= 2) {
		st->jitter = jsum / (double)(n - 1);
		st->has_jitter = 1;
	}
	if (tmp != NULL && sent >= LATSTATS_PCT_MIN) {
		memcpy(tmp, rtt, n * sizeof(*tmp));
		qsort(tmp, n, sizeof(*tmp), cmp_double);
		st->p50 = latstats_percentile(tmp, n, 50);
		st->p95 = latstats_percentile(tmp, n, 95);
		st->p99 = latstats_percentile(tmp, n, 99);
		st->has_pct = 1;
	}
	st->r_factor = latstats_r_factor(st->avg, st->jitter, st->loss_pct);
	st->mos = latstats_mos(st->r_factor);
	st->has_mos = 1;
}

void
latstats_emit(struct qosd_out *out, const struct latstats *st)
{
	if (st->received > 0) {
		qosd_point_float(out, "rtt_min_ms", latstats_round(st->min));
		qosd_point_float(out, "rtt_avg_ms", latstats_round(st->avg));
		qosd_point_float(out, "rtt_max_ms", latstats_round(st->max));
		qosd_point_float(out, "rtt_mdev_ms", latstats_round(st->mdev));
	}
	if (st->has_jitter)
		qosd_point_float(out, "jitter_ms", latstats_round(st->jitter));
	if (st->has_pct) {
		qosd_point_float(out, "rtt_p50_ms", latstats_round(st->p50));
		qosd_point_float(out, "rtt_p95_ms", latstats_round(st->p95));
		qosd_point_float(out, "rtt_p99_ms", latstats_round(st->p99));
	}
	if (st->has_mos) {
		qosd_point_float(out, "r_factor", latstats_round(st->r_factor));
		qosd_point_float(out, "mos", latstats_round(st->mos));
	}
}
