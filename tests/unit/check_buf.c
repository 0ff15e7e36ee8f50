/*
 * check_buf.c: the capped buffer and the lag reservoir.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "lib/buf.h"
#include "lib/complain.h"
#include "scheduler/lagstats.h"
#include "tests/unit/suites.h"

START_TEST(test_buf_append_beyond_cap_fails_and_keeps_contents)
{
	struct buf	b;
	int		i;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_adds(&b, "12345"), 0);
	errno = 0;
	ck_assert_int_eq(buf_adds(&b, "6789"), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_str_eq(buf_str(&b), "12345");
	ck_assert_int_eq(buf_adds(&b, "678"), 0);
	ck_assert_str_eq(buf_str(&b), "12345678");
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	buf_cleanup(&b);

	/* A byte at a time, up to the cap, with storage to spare or not. */
	buf_init(&b, 100);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(buf_addc(&b, (char)('a' + i % 26)), 0);
	errno = 0;
	ck_assert_int_eq(buf_addc(&b, 'x'), -1);
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_eq(b.len, 100);
	ck_assert_int_eq(b.data[99], 'a' + 99 % 26);
	ck_assert_int_eq(b.data[100], '\0');
	buf_truncate(&b, 10);
	ck_assert_int_eq(buf_addc(&b, 'y'), 0);
	ck_assert_str_eq(buf_str(&b), "abcdefghijy");
	buf_cleanup(&b);
}
END_TEST

START_TEST(test_buf_printf_consume_take)
{
	struct buf	 b;
	char		*p;
	size_t		 n;

	buf_init(&b, 1024);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_addf(&b, "%d-%s", 42, "abc"), 0);
	buf_consume(&b, 3);
	ck_assert_str_eq(buf_str(&b), "abc");
	buf_truncate(&b, 1);
	ck_assert_str_eq(buf_str(&b), "a");
	p = buf_take(&b, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(p, "a");
	free(p);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_null(buf_take(&b, NULL));
	buf_cleanup(&b);
	buf_cleanup(NULL);
}
END_TEST

START_TEST(test_lagstats_percentiles_exact_below_1024us)
{
	struct lagstats	ls;
	uint64_t	i;

	lagstats_reset(&ls);
	ck_assert_uint_eq(lagstats_pct(&ls, 50), 0);
	for (i = 100; i >= 1; i--)
		lagstats_add(&ls, i);
	ck_assert_uint_eq(lagstats_pct(&ls, 50), 50);
	ck_assert_uint_eq(lagstats_pct(&ls, 99), 99);
	ck_assert_uint_eq(lagstats_pct(&ls, 100), 100);
	ck_assert_uint_eq(ls.max, 100);
	lagstats_reset(&ls);
	ck_assert_uint_eq(lagstats_pct(&ls, 99), 0);
}
END_TEST

START_TEST(test_lagstats_large_values_within_two_percent_max_exact)
{
	static const uint64_t v[] = { 1024, 1500, 4999, 65537, 1000000,
	    123456789, 5000000000ULL };
	struct lagstats	ls;
	uint64_t	p;
	size_t		i, k;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		lagstats_reset(&ls);
		for (k = 0; k < 99; k++)
			lagstats_add(&ls, 10);
		lagstats_add(&ls, v[i]);
		lagstats_add(&ls, v[i] * 2);
		p = lagstats_pct(&ls, 99);	/* rank 100 of 101 */
		ck_assert_msg(p >= v[i] && (double)p <= (double)v[i] * 1.02,
		    "%llu read as %llu", (unsigned long long)v[i],
		    (unsigned long long)p);
		ck_assert_uint_eq(ls.max, v[i] * 2);
		ck_assert_uint_eq(lagstats_pct(&ls, 50), 10);
	}
	/* A million samples cost no memory and keep the median. */
	lagstats_reset(&ls);
	for (k = 0; k < 1000000; k++)
		lagstats_add(&ls, k % 1000);
	p = lagstats_pct(&ls, 50);
	ck_assert_msg(p >= 498 && p <= 500, "p50 %llu", (unsigned long long)p);
}
END_TEST

START_TEST(test_complain_reports_first_then_spaced_then_recovery)
{
	struct complain	c = { 0, 0, 0 };
	uint64_t	t = 1000;

	ck_assert_int_eq(complain_fail(&c, t), 1);
	ck_assert_int_eq(complain_fail(&c, t + 1000000), 0);
	ck_assert_int_eq(complain_fail(&c, t + 59000000), 0);
	ck_assert_int_eq(complain_fail(&c, t + 60000000), 1);
	/* The interval doubled: quiet for two more minutes. */
	ck_assert_int_eq(complain_fail(&c, t + 179000000), 0);
	ck_assert_int_eq(complain_fail(&c, t + 180000000), 1);
	ck_assert_uint_eq(complain_ok(&c), 6);
	ck_assert_uint_eq(complain_ok(&c), 0);
	ck_assert_int_eq(complain_fail(&c, t + 200000000), 1);
}
END_TEST

static Suite *
buf_suite(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("buf");

	tcase_add_test(tc, test_buf_append_beyond_cap_fails_and_keeps_contents);
	tcase_add_test(tc, test_buf_printf_consume_take);
	tcase_add_test(tc, test_lagstats_percentiles_exact_below_1024us);
	tcase_add_test(tc,
	    test_lagstats_large_values_within_two_percent_max_exact);
	tcase_add_test(tc,
	    test_complain_reports_first_then_spaced_then_recovery);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(buf)
