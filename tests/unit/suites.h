/*
 * suites.h: every Check suite, one per module.  Each check_<module>.c
 * defines <module>_suite() and QOSD_SUITE(<module>), which tells the shared
 * main.c which suite its binary runs.
 */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>

Suite	*config_suite(void);

/* Defined by each check_<module>.c through QOSD_SUITE(). */
Suite	*unit_suite(void);

#define QOSD_SUITE(mod)							\
	Suite *unit_suite(void) { return mod##_suite(); }

/* The directory of the source tree (tests run from it), for fixtures. */
#define FIXTURES	"tests/fixtures"

#endif /* TESTS_UNIT_SUITES_H */
