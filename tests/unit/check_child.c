/*
 * check_child.c: a run as a forked child: output lines, exit statuses,
 * timeout, output cap, crash, and the process group dying with the run.
 * The collectors here are in-process descriptors; no plugin file needed.
 */
#include <sys/resource.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <systemd/sd-event.h>

#include "qosd/collector.h"
#include "qosd/point.h"
#include "lib/super.h"
#include "scheduler/child.h"
#include "scheduler/spawnctl.h"
#include "scheduler/spawner/spawner.h"
#include "tests/unit/suites.h"

struct outcome {
	int			 done;
	struct child_result	 res;
	unsigned long		 lines, toolong;
	size_t			 count_at_done;
	uint64_t		 start_us;
	uint64_t		 begin_us;
	char			 first[256];
};

static char	 pidfile[64];

static int
run_points(void *state, struct qosd_out *out)
{
	int	i;

	(void)state;
	for (i = 0; i < 5; i++) {
		qosd_point_begin(out, "t");
		qosd_point_int(out, "i", i);
		qosd_point_end(out);
	}
	return 0;
}

static int
run_fail(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	return -1;
}

static int
run_crash(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	raise(SIGSEGV);
	return 0;
}

static int
run_sleep(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	for (;;)
		pause();
	return 0;
}

/* Ignores SIGTERM, so only SIGKILL ends it. */
static int
run_stubborn(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	signal(SIGTERM, SIG_IGN);
	for (;;)
		pause();
	return 0;
}

static int
run_flood(void *state, struct qosd_out *out)
{
	static char	 chunk[65536];
	long		 i;

	(void)state;
	(void)out;
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 100L * 1024 * 1024 / (long)sizeof(chunk); i++)
		if (write(3, chunk, sizeof(chunk)) == -1)
			return -1;
	return 0;
}

static int
run_garbage(void *state, struct qosd_out *out)
{
	static const char text[] = "good a=1i\nnot line protocol\n"
	    "good a=2i\n\nlast a=3i";

	(void)state;
	(void)out;
	return write(3, text, sizeof(text) - 1) == -1 ? -1 : 0;
}

static int
run_toolong(void *state, struct qosd_out *out)
{
	size_t	 n = 200000;
	char	*big = malloc(n);

	(void)state;
	(void)out;
	memset(big, 'y', n);
	big[n - 1] = '\n';
	if (write(3, big, n) == -1 || write(3, "after a=1i\n", 11) == -1)
		return -1;
	return 0;
}

/* A grandchild that would outlive the run; its pid goes to pidfile. */
static int
run_grandchild(void *state, struct qosd_out *out)
{
	pid_t	 pid;
	FILE	*f;

	(void)state;
	(void)out;
	if ((pid = fork()) == 0) {
		for (;;)
			pause();
	}
	if ((f = fopen(pidfile, "w")) == NULL)
		return -1;
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
	return 0;
}

/* Descriptors exist before the spawner is forked, as plugins do. */
#define COLL(fn) static const struct qosd_collector c_##fn = {		\
	.abi = QOSD_COLLECTOR_ABI, .name = "test", .run = run_##fn }
COLL(points);
COLL(fail);
COLL(crash);
COLL(sleep);
COLL(stubborn);
COLL(flood);
COLL(garbage);
COLL(toolong);
COLL(grandchild);

/* The spawner's table: a run names its collector by index. */
static const struct spawn_job table[] = {
	{ &c_points, NULL }, { &c_fail, NULL }, { &c_crash, NULL },
	{ &c_sleep, NULL }, { &c_stubborn, NULL }, { &c_flood, NULL },
	{ &c_garbage, NULL }, { &c_toolong, NULL }, { &c_grandchild, NULL },
};
#define NTABLE	(sizeof(table) / sizeof(table[0]))

static void
on_line(void *arg, const char *line, size_t len, int toolong)
{
	struct outcome	*o = arg;

	if (toolong) {
		o->toolong++;
		return;
	}
	if (o->lines++ == 0)
		snprintf(o->first, sizeof(o->first), "%.*s", (int)len, line);
}

static void
on_started(void *arg, uint64_t start_us)
{
	struct outcome	*o = arg;

	o->start_us = start_us;
}

static void
on_began(void *arg, uint64_t begin_us)
{
	struct outcome	*o = arg;

	o->begin_us = begin_us;
}

static void
on_done(void *arg, const struct child_result *r)
{
	struct outcome	*o = arg;

	o->done = 1;
	o->res = *r;
	o->count_at_done = child_count();
}

static sd_event	*ev;

static void
setup(void)
{
	sigset_t	m;

	sigemptyset(&m);
	sigaddset(&m, SIGCHLD);
	sigprocmask(SIG_BLOCK, &m, NULL);
	ck_assert_int_ge(sd_event_new(&ev), 0);
	ck_assert_int_eq(super_init(ev), 0);
	/* Runs see the process as the spawner was forked. */
	snprintf(pidfile, sizeof(pidfile), "/tmp/qosd-gc.%ld",
	    (long)getpid());
	ck_assert_int_eq(spawnctl_start(ev, table, NTABLE, NULL, 0, &child_spawn_cb), 0);
}

static void
teardown(void)
{
	spawnctl_stop(2000000);
	ev = sd_event_unref(ev);
}

/* Run coll, due at due_us (0: now), with limits until done. */
static struct outcome
run_due(const struct qosd_collector *coll, uint64_t due_us,
    uint64_t timeout_us, uint64_t max_output)
{
	static const struct child_cb	cb = { .started = on_started,
	    .began = on_began, .line = on_line, .done = on_done };
	struct child_spec		spec;
	struct outcome			o;
	size_t				i;

	memset(&o, 0, sizeof(o));
	memset(&spec, 0, sizeof(spec));
	for (i = 0; i < NTABLE && table[i].plugin != coll; i++)
		;
	ck_assert_uint_lt(i, NTABLE);
	spec.job_index = (unsigned int)i;
	spec.due_us = due_us;
	spec.collector = "test";
	spec.job = "t";
	spec.timeout_us = timeout_us;
	spec.grace_us = 300000;
	spec.max_output = max_output;
	ck_assert_ptr_nonnull(child_start(ev, &spec, &cb, &o));
	while (!o.done)
		ck_assert_int_ge(sd_event_run(ev, (uint64_t)-1), 0);
	ck_assert_uint_eq(child_count(), 0);
	return o;
}

static struct outcome
run_one(const struct qosd_collector *coll, uint64_t timeout_us,
    uint64_t max_output)
{
	return run_due(coll, 0, timeout_us, max_output);
}

START_TEST(test_child_delivers_each_point_as_a_line)
{
	struct outcome	o;

	o = run_one(&c_points, 5000000, 1 << 20);
	ck_assert_int_eq(o.res.status, CHILD_OK);
	ck_assert_uint_eq(o.lines, 5);
	/* done() sees the run's slot already free. */
	ck_assert_uint_eq(o.count_at_done, 0);
	/* The spawner said when it forked the run, the run when it began. */
	ck_assert_uint_gt(o.start_us, 0);
	ck_assert_uint_ge(o.begin_us, o.start_us);
	ck_assert_msg(strncmp(o.first, "t i=0i ", 7) == 0, "first: %s",
	    o.first);
}
END_TEST

/*
 * Asked ahead of its due time, the run's process is forked at once and
 * begins at due: its "#begin" line says when, and is no point.
 */
START_TEST(test_child_asked_ahead_begins_at_its_due_time)
{
	struct timespec	ts;
	struct outcome	o;
	uint64_t	due;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	due = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 +
	    400000;
	o = run_due(&c_points, due, 5000000, 1 << 20);
	ck_assert_int_eq(o.res.status, CHILD_OK);
	ck_assert_uint_gt(o.start_us, 0);
	ck_assert_msg(o.start_us < due, "forked at %llu, due %llu",
	    (unsigned long long)o.start_us, (unsigned long long)due);
	ck_assert_msg(o.begin_us >= due, "began at %llu, due %llu",
	    (unsigned long long)o.begin_us, (unsigned long long)due);
	ck_assert_uint_eq(o.lines, 5);
	ck_assert_msg(strncmp(o.first, "t i=0i ", 7) == 0, "first: %s",
	    o.first);
	/* Its duration counts from due, not from the fork. */
	ck_assert_uint_lt(o.res.duration_us, 400000);
}
END_TEST

START_TEST(test_child_reports_failure_exit_status)
{
	struct outcome	o = run_one(&c_fail, 5000000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_FAILED);
	ck_assert_int_eq(o.res.code, 1);
}
END_TEST

START_TEST(test_child_crash_is_recorded_with_its_signal)
{
	struct outcome	o = run_one(&c_crash, 5000000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_CRASHED);
	ck_assert_int_eq(o.res.code, SIGSEGV);
	/* Dead before its first points: it never said when it began. */
	ck_assert_uint_eq(o.begin_us, 0);
}
END_TEST

START_TEST(test_child_sleeping_past_timeout_is_terminated)
{
	struct outcome	o = run_one(&c_sleep, 300000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_TIMEOUT);
	ck_assert_int_eq(o.res.code, SIGTERM);
	ck_assert_uint_ge(o.res.duration_us, 300000);
	ck_assert_uint_lt(o.res.duration_us, 3000000);
}
END_TEST

START_TEST(test_child_ignoring_sigterm_is_killed_after_grace)
{
	struct outcome	o = run_one(&c_stubborn, 200000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_TIMEOUT);
	ck_assert_int_eq(o.res.code, SIGKILL);
	ck_assert_uint_ge(o.res.duration_us, 500000);
}
END_TEST

START_TEST(test_child_flood_of_100mb_is_cut_at_the_cap)
{
	struct rusage	ru0, ru1;
	struct outcome	o;

	getrusage(RUSAGE_SELF, &ru0);
	o = run_one(&c_flood, 20000000, 1 << 20);
	getrusage(RUSAGE_SELF, &ru1);
	ck_assert_int_eq(o.res.status, CHILD_OVERFLOW);
	ck_assert_uint_le(o.res.bytes, (1 << 20) + 65536);
	/* The parent read at most a few buffers' worth: bounded memory. */
	ck_assert_int_lt(ru1.ru_maxrss - ru0.ru_maxrss, 16 * 1024);
}
END_TEST

START_TEST(test_child_hands_over_lines_good_or_bad_and_the_last_one)
{
	struct outcome	o = run_one(&c_garbage, 5000000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_OK);
	/* Four non-empty lines and an empty one; the unterminated last. */
	ck_assert_uint_eq(o.lines, 5);
	ck_assert_str_eq(o.first, "good a=1i");
}
END_TEST

START_TEST(test_child_too_long_line_is_flagged_and_reading_goes_on)
{
	struct outcome	o = run_one(&c_toolong, 5000000, 1 << 20);

	ck_assert_int_eq(o.res.status, CHILD_OK);
	ck_assert_uint_eq(o.toolong, 1);
	ck_assert_uint_eq(o.lines, 1);
	ck_assert_str_eq(o.first, "after a=1i");
}
END_TEST

START_TEST(test_child_grandchild_dies_with_the_group)
{
	struct outcome	 o;
	FILE		*f;
	long		 pid = 0;
	int		 i;

	o = run_one(&c_grandchild, 5000000, 1 << 20);
	ck_assert_int_eq(o.res.status, CHILD_OK);
	ck_assert_ptr_nonnull(f = fopen(pidfile, "r"));
	ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
	fclose(f);
	unlink(pidfile);
	/* Killed; it is init's to reap, so wait until it is gone. */
	for (i = 0; i < 200 && kill((pid_t)pid, 0) == 0; i++) {
		char	 path[64], st = 0;
		FILE	*sf;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((sf = fopen(path, "r")) != NULL) {
			if (fscanf(sf, "%*d %*s %c", &st) != 1)
				st = 0;
			fclose(sf);
		}
		if (st == 'Z')
			break;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	ck_assert_msg(i < 200, "grandchild %ld still alive", pid);
}
END_TEST

static Suite *
child_suite(void)
{
	Suite	*s = suite_create("child");
	TCase	*tc = tcase_create("runs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_child_delivers_each_point_as_a_line);
	tcase_add_test(tc, test_child_asked_ahead_begins_at_its_due_time);
	tcase_add_test(tc, test_child_reports_failure_exit_status);
	tcase_add_test(tc, test_child_crash_is_recorded_with_its_signal);
	tcase_add_test(tc, test_child_sleeping_past_timeout_is_terminated);
	tcase_add_test(tc, test_child_ignoring_sigterm_is_killed_after_grace);
	tcase_add_test(tc, test_child_flood_of_100mb_is_cut_at_the_cap);
	tcase_add_test(tc,
	    test_child_hands_over_lines_good_or_bad_and_the_last_one);
	tcase_add_test(tc,
	    test_child_too_long_line_is_flagged_and_reading_goes_on);
	tcase_add_test(tc, test_child_grandchild_dies_with_the_group);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(child)
