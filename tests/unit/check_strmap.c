/*
 * check_strmap.c: the name map: found again after it grows, duplicates
 * refused with the first value kept, absent names absent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "lib/strmap.h"
#include "tests/unit/suites.h"

START_TEST(test_strmap_finds_every_key_after_growing)
{
	struct strmap	 *m = strmap_new(0);
	static char	  keys[100000][12];
	size_t		  i;

	for (i = 0; i < 100000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "job-%zu", i);
		ck_assert_ptr_null(strmap_put(m, keys[i],
		    (void *)(uintptr_t)(i + 1)));
	}
	ck_assert_uint_eq(strmap_count(m), 100000);
	for (i = 0; i < 100000; i++)
		ck_assert_uint_eq((uintptr_t)strmap_get(m, keys[i]), i + 1);
	ck_assert_ptr_null(strmap_get(m, "job-100000"));
	ck_assert_ptr_null(strmap_get(m, ""));
	strmap_free(m);
}
END_TEST

START_TEST(test_strmap_keeps_the_first_of_a_duplicate)
{
	struct strmap	*m = strmap_new(4);
	int		 a, b;

	ck_assert_ptr_null(strmap_put(m, "gw", &a));
	ck_assert_ptr_eq(strmap_put(m, "gw", &b), &a);
	ck_assert_ptr_eq(strmap_get(m, "gw"), &a);
	ck_assert_uint_eq(strmap_count(m), 1);
	strmap_free(m);
	strmap_free(NULL);
}
END_TEST

static Suite *
strmap_suite(void)
{
	Suite	*s = suite_create("strmap");
	TCase	*tc = tcase_create("map");

	tcase_add_test(tc, test_strmap_finds_every_key_after_growing);
	tcase_add_test(tc, test_strmap_keeps_the_first_of_a_duplicate);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(strmap)
