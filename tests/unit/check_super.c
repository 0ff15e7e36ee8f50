/*
 * check_super.c: the supervisor (lib/super.c): the backoff (driven by a
 * settable clock), reaping, and real children restarted after they exit
 * or fail to start, logged at warning level (captured by logcap).
 */
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>
#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/super.h"
#include "tests/stubs/fakeclock.h"
#include "tests/stubs/logcap.h"
#include "tests/unit/suites.h"

#define S	1000000ULL

START_TEST(test_super_backoff_doubles_to_its_cap)
{
	struct backoff	b;
	double		want[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };
	size_t		i;

	fakeclock_install(1000 * S, 2000 * S);
	backoff_init(&b, 1, 60);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		backoff_started(&b);
		fakeclock_advance(S / 2);	/* dies half a second later */
		ck_assert_msg(backoff_failed(&b) == want[i], "step %zu", i);
	}
	fakeclock_remove();
}
END_TEST

START_TEST(test_super_backoff_starts_over_after_a_stable_run)
{
	struct backoff	b;
	int		i;

	fakeclock_install(1000 * S, 2000 * S);
	backoff_init(&b, 0.5, 30);
	for (i = 0; i < 5; i++) {
		backoff_started(&b);
		fakeclock_advance(S);
		backoff_failed(&b);
	}
	backoff_started(&b);
	fakeclock_advance(SUPER_STABLE_US - 1);
	ck_assert(backoff_failed(&b) == 16);
	backoff_started(&b);
	fakeclock_advance(SUPER_STABLE_US);
	ck_assert(backoff_failed(&b) == 0.5);
	backoff_started(&b);
	fakeclock_advance(S);
	ck_assert(backoff_failed(&b) == 1);
	fakeclock_remove();
}
END_TEST

/* Real children on a real event loop. */

static sd_event	*ev;

struct kid {
	int		 starts;
	int		 exits;
	int		 last_status;
	int		 fail_first;	/* start() fails this many times */
	int		 stop_after;	/* exit the loop after this many */
};

static pid_t
kid_start(void *arg)
{
	struct kid	*k = arg;
	pid_t		 pid;

	k->starts++;
	if (k->fail_first > 0) {
		k->fail_first--;
		return -1;
	}
	if ((pid = fork()) == 0)
		_exit(3);
	return pid;
}

static void
kid_exited(void *arg, int wstatus)
{
	struct kid	*k = arg;

	k->exits++;
	k->last_status = wstatus;
	if (k->exits >= k->stop_after)
		sd_event_exit(ev, 0);
}

static const struct super_ops kid_ops = { kid_start, kid_exited };

static void
loop_setup(void)
{
	sigset_t	m;

	sigemptyset(&m);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	ck_assert_int_ge(sd_event_new(&ev), 0);
	ck_assert_int_eq(super_init(ev), 0);
	logcap_reset();
}

static void
loop_teardown(void)
{
	ev = sd_event_unref(ev);
}

START_TEST(test_super_restarts_a_child_that_exits)
{
	struct kid	 k;
	struct super	*sv;

	memset(&k, 0, sizeof(k));
	k.stop_after = 3;
	sv = super_new(ev, "test child", &kid_ops, &k, 0.02, 0.08);
	super_start(sv);
	ck_assert_int_gt(super_pid(sv), 0);
	ck_assert_int_ge(sd_event_loop(ev), 0);
	ck_assert_int_eq(k.exits, 3);
	ck_assert_int_eq(k.starts, 3);
	ck_assert(WIFEXITED(k.last_status) && WEXITSTATUS(k.last_status) == 3);
	ck_assert_uint_eq(super_restarts(sv), 2);
	/* A restart is a warning, not an error, and says when. */
	ck_assert_uint_eq(logcap_count(LOG_WARNING, "test child exited with "
	    "status 3: restarting it in 0.02 s"), 1);
	ck_assert_uint_eq(logcap_count(LOG_WARNING, "restarting it in 0.04 "
	    "s"), 1);
	ck_assert_uint_eq(logcap_count(LOG_ERR, "test child"), 0);
	super_free(sv);
}
END_TEST

START_TEST(test_super_retries_a_start_that_fails)
{
	struct kid	 k;
	struct super	*sv;

	memset(&k, 0, sizeof(k));
	k.fail_first = 2;
	k.stop_after = 1;
	sv = super_new(ev, "flaky", &kid_ops, &k, 0.02, 1);
	super_start(sv);
	ck_assert_int_eq(super_pid(sv), -1);
	ck_assert_int_ge(sd_event_loop(ev), 0);
	/* Two failed starts, then one that ran and exited. */
	ck_assert_int_eq(k.starts, 3);
	ck_assert_int_eq(k.exits, 1);
	ck_assert_uint_eq(logcap_count(LOG_WARNING, "flaky: trying again in "
	    "0.02 s"), 1);
	ck_assert_uint_eq(logcap_count(LOG_WARNING, "flaky: trying again in "
	    "0.04 s"), 1);
	super_free(sv);
}
END_TEST

static int	watched_status = -1;

static void
on_watched(void *arg, int wstatus)
{
	(void)arg;
	watched_status = wstatus;
	sd_event_exit(ev, 0);
}

START_TEST(test_super_reaps_watched_and_unknown_children)
{
	pid_t	stray, pid;

	/* A child nobody watches is reaped quietly. */
	if ((stray = fork()) == 0)
		_exit(0);
	if ((pid = fork()) == 0) {
		struct timespec	ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
		_exit(7);
	}
	ck_assert_int_eq(super_watch(pid, on_watched, NULL), 0);
	ck_assert_int_ge(sd_event_loop(ev), 0);
	ck_assert(WIFEXITED(watched_status) && WEXITSTATUS(watched_status) ==
	    7);
	ck_assert_int_eq(waitpid(stray, NULL, WNOHANG), -1);
}
END_TEST

START_TEST(test_super_free_stops_restarting)
{
	struct kid	 k;
	struct super	*sv;
	pid_t		 pid;

	memset(&k, 0, sizeof(k));
	k.stop_after = 100;
	sv = super_new(ev, "once", &kid_ops, &k, 0.01, 0.01);
	super_start(sv);
	pid = super_pid(sv);
	super_free(sv);
	/* Forgotten, not reaped: the caller waits for it. */
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert_int_ge(sd_event_run(ev, 100000), 0);
	ck_assert_int_eq(k.starts, 1);
	ck_assert_int_eq(k.exits, 0);
}
END_TEST

static void
count_serve(void *arg, int ms)
{
	int	*n = arg;

	ck_assert_int_gt(ms, 0);
	(*n)++;
	poll(NULL, 0, ms < 10 ? ms : 10);
}

START_TEST(test_super_wait_until_reaps_or_kills_at_the_end)
{
	pid_t	pid;
	int	ws, killed = -1, served = 0;

	/* A child that exits in time: its status, not killed. */
	if ((pid = fork()) == 0) {
		struct timespec	ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
		_exit(3);
	}
	ws = super_wait_until(pid, clock_mono_us() + 60000000, count_serve,
	    &served, &killed);
	ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 3);
	ck_assert_int_eq(killed, 0);
	ck_assert_int_gt(served, 0);
	/* One that never exits: killed at the end, and reaped. */
	if ((pid = fork()) == 0)
		for (;;)
			pause();
	ws = super_wait_until(pid, clock_mono_us() + 100000, NULL, NULL,
	    &killed);
	ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	ck_assert_int_eq(killed, 1);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
}
END_TEST

static Suite *
super_suite(void)
{
	Suite	*s = suite_create("super");
	TCase	*tc = tcase_create("backoff"), *tl = tcase_create("children");

	tcase_add_test(tc, test_super_backoff_doubles_to_its_cap);
	tcase_add_test(tc, test_super_backoff_starts_over_after_a_stable_run);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tl, loop_setup, loop_teardown);
	tcase_set_timeout(tl, 20);
	tcase_add_test(tl, test_super_restarts_a_child_that_exits);
	tcase_add_test(tl, test_super_retries_a_start_that_fails);
	tcase_add_test(tl, test_super_reaps_watched_and_unknown_children);
	tcase_add_test(tl, test_super_free_stops_restarting);
	tcase_add_test(tl, test_super_wait_until_reaps_or_kills_at_the_end);
	suite_add_tcase(s, tl);
	return s;
}

QOSD_SUITE(super)
