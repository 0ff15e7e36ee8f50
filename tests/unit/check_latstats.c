/*
 * check_latstats.c: RTT statistics and the simplified E-model shared by
 * the ping and tcp collectors.
 */
#include <math.h>
#include <stdlib.h>

#include <check.h>

#include "collectors/probe/latstats.h"
#include "tests/unit/suites.h"

#define EPS	1e-9

START_TEST(test_latstats_min_avg_max_mdev_jitter)
{
	/* 10, 12, 11, 15: mean 12, var (4+0+1+9)/4 = 3.5, jitter (2+1+4)/3 */
	const double	rtt[] = { 10, 12, 11, 15 };
	struct latstats	st;
	double		tmp[4];

	latstats_compute(&st, rtt, 4, 5, tmp);
	ck_assert_uint_eq(st.sent, 5);
	ck_assert_uint_eq(st.received, 4);
	ck_assert_double_eq_tol(st.loss_pct, 20, EPS);
	ck_assert_double_eq_tol(st.min, 10, EPS);
	ck_assert_double_eq_tol(st.max, 15, EPS);
	ck_assert_double_eq_tol(st.avg, 12, EPS);
	ck_assert_double_eq_tol(st.mdev, sqrt(3.5), EPS);
	ck_assert_int_eq(st.has_jitter, 1);
	ck_assert_double_eq_tol(st.jitter, 7.0 / 3, EPS);
	ck_assert_int_eq(st.has_pct, 0);	/* sent < 10 */
	ck_assert_int_eq(st.has_mos, 1);
}
END_TEST

START_TEST(test_latstats_nothing_received_has_no_figures)
{
	struct latstats	st;

	latstats_compute(&st, NULL, 0, 7, NULL);
	ck_assert_double_eq_tol(st.loss_pct, 100, EPS);
	ck_assert_int_eq(st.has_jitter, 0);
	ck_assert_int_eq(st.has_pct, 0);
	ck_assert_int_eq(st.has_mos, 0);
	latstats_compute(&st, (const double[]){ 3 }, 1, 1, NULL);
	ck_assert_int_eq(st.has_jitter, 0);
	ck_assert_double_eq_tol(st.mdev, 0, EPS);
	ck_assert_double_eq_tol(st.loss_pct, 0, EPS);
}
END_TEST

START_TEST(test_latstats_percentiles_interpolate_and_keep_order)
{
	double		rtt[100], tmp[100];
	struct latstats	st;
	int		i;

	/* 100..1 descending: sorted 1..100; p50 = 50.5, p95 = 95.05. */
	for (i = 0; i < 100; i++)
		rtt[i] = 100 - i;
	latstats_compute(&st, rtt, 100, 100, tmp);
	ck_assert_int_eq(st.has_pct, 1);
	ck_assert_double_eq_tol(st.p50, 50.5, EPS);
	ck_assert_double_eq_tol(st.p95, 95.05, EPS);
	ck_assert_double_eq_tol(st.p99, 99.01, EPS);
	/* The input is not reordered: jitter is over send order. */
	ck_assert_double_eq_tol(rtt[0], 100, EPS);
	ck_assert_double_eq_tol(st.jitter, 1, EPS);
	ck_assert_double_eq_tol(latstats_percentile((const double[]){ 7 }, 1,
	    99), 7, EPS);
}
END_TEST

START_TEST(test_latstats_emodel_values)
{
	double	r;

	/* 20 ms, no jitter, no loss: eff 30, Id 0.75, R 92.45. */
	r = latstats_r_factor(20, 0, 0);
	ck_assert_double_eq_tol(r, 92.45, EPS);
	ck_assert_double_eq_tol(latstats_mos(r), 1 + 0.035 * r +
	    7e-6 * r * (r - 60) * (100 - r), EPS);
	/* 200 ms + 2 * 10 jitter: eff 230, Id 11; 2 % loss: Ie 5. */
	ck_assert_double_eq_tol(latstats_r_factor(200, 10, 2), 77.2, EPS);
	/* At the knee: eff 160 uses the second branch, (160-120)/10 = 4. */
	ck_assert_double_eq_tol(latstats_r_factor(150, 0, 0), 89.2, EPS);
	/* Clamped: R never below 0, MOS within 1..4.5. */
	ck_assert_double_eq_tol(latstats_r_factor(10, 0, 100), 0, EPS);
	ck_assert_double_eq_tol(latstats_mos(0), 1, EPS);
	ck_assert_double_eq_tol(latstats_mos(-5), 1, EPS);
	ck_assert(latstats_mos(100) <= 4.5);
	ck_assert(latstats_mos(93.2) > 4.4);
}
END_TEST

static Suite *
latstats_suite(void)
{
	Suite	*s = suite_create("latstats");
	TCase	*tc = tcase_create("latstats");

	tcase_add_test(tc, test_latstats_min_avg_max_mdev_jitter);
	tcase_add_test(tc, test_latstats_nothing_received_has_no_figures);
	tcase_add_test(tc, test_latstats_percentiles_interpolate_and_keep_order);
	tcase_add_test(tc, test_latstats_emodel_values);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(latstats)
