/*
 * check_limit.c: the reflector's rate limits and the fixed table under
 * them, on a clock the test sets: a source gets its burst, then its rate;
 * sources are limited apart; the total limit holds whatever the number of
 * sources; a full table evicts the least recently seen and counts it.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "reflector/limit.h"
#include "reflector/table.h"
#include "tests/unit/suites.h"

static struct in6_addr
addr(unsigned n)
{
	struct in6_addr	a;

	memset(&a, 0, sizeof(a));
	a.s6_addr[0] = 0x20;
	a.s6_addr[1] = 0x01;
	a.s6_addr[12] = (uint8_t)(n >> 24);
	a.s6_addr[13] = (uint8_t)(n >> 16);
	a.s6_addr[14] = (uint8_t)(n >> 8);
	a.s6_addr[15] = (uint8_t)n;
	return a;
}

/* Packets taken out of n offered by source a at now_us. */
static unsigned
take(struct limit *l, unsigned src, unsigned n, uint64_t now_us)
{
	struct in6_addr	a = addr(src);
	unsigned	ok = 0;

	while (n-- > 0)
		ok += (unsigned)limit_take(l, &a, now_us);
	return ok;
}

START_TEST(test_limit_burst_then_rate_per_source)
{
	struct limit	l;
	uint64_t	t = 1000000000;

	ck_assert_int_eq(limit_init(&l, 100, 10, 64, 0, 0), 0);
	ck_assert_uint_eq(take(&l, 1, 50, t), 10);	/* the burst */
	ck_assert_uint_eq(take(&l, 1, 50, t + 50000), 5);	/* 50 ms */
	ck_assert_uint_eq(take(&l, 1, 50, t + 60000), 1);	/* 10 ms */
	/* Another source has its own bucket. */
	ck_assert_uint_eq(take(&l, 2, 50, t + 60000), 10);
	/* A second of silence fills a bucket, never beyond the burst. */
	ck_assert_uint_eq(take(&l, 1, 50, t + 5000000), 10);
	limit_cleanup(&l);
}
END_TEST

START_TEST(test_limit_off_takes_everything)
{
	struct limit	l;

	ck_assert_int_eq(limit_init(&l, 0, 0, 64, 0, 0), 0);
	ck_assert_uint_eq(take(&l, 1, 100000, 1), 100000);
	limit_cleanup(&l);
}
END_TEST

START_TEST(test_limit_total_holds_across_sources)
{
	struct limit	l;
	uint64_t	t = 1000000000;
	unsigned	src, ok = 0;

	/* Forged sources, each with a fresh bucket: the total still holds. */
	ck_assert_int_eq(limit_init(&l, 100, 10, 64, 1000, 100), 0);
	for (src = 0; src < 10000; src++)
		ok += take(&l, src, 1, t);
	ck_assert_uint_eq(ok, 100);
	for (src = 0; src < 10000; src++)
		ok += take(&l, src, 1, t + 100000);	/* 100 ms later */
	ck_assert_uint_eq(ok, 200);
	ck_assert_uint_gt(l.sources.evicted, 0);
	limit_cleanup(&l);
}
END_TEST

START_TEST(test_table_evicts_least_recent_and_expires)
{
	struct table		 t;
	struct table_entry	*e;
	uint8_t			 key[TABLE_KEY];
	int			 fresh, i;

	ck_assert_int_eq(table_init(&t, 8, 1000), 0);	/* one window */
	ck_assert_uint_eq(t.mask, 7);
	for (i = 0; i < 8; i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)i;
		e = table_get(&t, key, (uint64_t)(100 + i), &fresh);
		ck_assert_int_eq(fresh, 1);
		e->val = (uint64_t)i + 1;
	}
	ck_assert_uint_eq(table_live(&t, 200), 8);
	ck_assert_uint_eq(t.evicted, 0);
	/* Key 0 seen again: the same entry, its value kept. */
	memset(key, 0, sizeof(key));
	e = table_get(&t, key, 300, &fresh);
	ck_assert_int_eq(fresh, 0);
	ck_assert_uint_eq(e->val, 1);
	/* A ninth key pushes out the least recently seen: key 1. */
	key[0] = 100;
	e = table_get(&t, key, 301, &fresh);
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(e->val, 0);
	ck_assert_uint_eq(t.evicted, 1);
	key[0] = 1;
	table_get(&t, key, 302, &fresh);
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(t.evicted, 2);
	/* Past the time to live, nothing is live and nothing is evicted. */
	ck_assert_uint_eq(table_live(&t, 5000), 0);
	key[0] = 200;
	table_get(&t, key, 5000, &fresh);
	ck_assert_int_eq(fresh, 1);
	ck_assert_uint_eq(t.evicted, 2);
	table_cleanup(&t);
	table_cleanup(&t);
}
END_TEST

static Suite *
limit_suite(void)
{
	Suite	*s = suite_create("limit");
	TCase	*tc = tcase_create("limit");

	tcase_add_test(tc, test_limit_burst_then_rate_per_source);
	tcase_add_test(tc, test_limit_off_takes_everything);
	tcase_add_test(tc, test_limit_total_holds_across_sources);
	tcase_add_test(tc, test_table_evicts_least_recent_and_expires);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(limit)
