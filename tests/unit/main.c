/*
 * main.c: the shared Check runner.  Each suite binary links this with its
 * check_<module>.c.  The exit status is the number of failed tests (capped).
 */
#include <stdlib.h>

#include <check.h>

#include "tests/unit/suites.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(unit_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
