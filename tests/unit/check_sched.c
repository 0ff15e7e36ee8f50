/*
 * check_sched.c: the job table (scheduler/jobs.c) driven by a settable
 * clock, without sleeping and without processes: phase on the wall
 * clock, the offset within splay, no drift, skips on overrun and on
 * missed deadlines, exclusive groups, the cap on runs, a reload that
 * keeps each job's phase, --once.  Log messages are captured (logcap).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <check.h>

#include "lib/strmap.h"
#include "scheduler/config.h"
#include "scheduler/jobs.h"
#include "tests/stubs/fakeclock.h"
#include "tests/stubs/logcap.h"
#include "tests/unit/suites.h"

#define S	1000000ULL		/* a second in microseconds */
/* 2026-12-01 00:00:00 UTC, an exact multiple of every interval here. */
#define WALL0	(1796083200ULL * S)
#define MONO0	(5000ULL * S)

struct started {
	const char	*job;
	uint64_t	 due;
	int		 waited;
	void		*request;	/* taken from j->request */
};

/* What the table asked of its caller. */
static struct {
	struct started	 starts[64];
	size_t		 nstarts;
	size_t		 skips;
	int		 fail_start;	/* ops.start() fails */
	size_t		 gone;
	uint64_t	 armed;		/* the last time a timer was set to */
	void		*dropped;	/* the last request dropped */
	const char	*dropped_why;
	int		 join_ret;	/* what ops.join() answers */
	void		*joined;	/* the last request it was asked */
} seen;

static int
op_start(void *arg, struct job *j, uint64_t due, int waited)
{
	(void)arg;
	if (seen.fail_start)
		return -1;
	ck_assert_uint_lt(seen.nstarts, 64);
	seen.starts[seen.nstarts].job = j->name;
	seen.starts[seen.nstarts].due = due;
	seen.starts[seen.nstarts].request = j->request;
	j->request = NULL;
	seen.starts[seen.nstarts++].waited = waited;
	return 0;
}

static void
op_skipped(void *arg, struct job *j, const char *why)
{
	(void)arg;
	(void)j;
	(void)why;
	seen.skips++;
}

/* The "timer": the deadline is in j->deadline; timer marks it armed. */
static void
op_arm(void *arg, struct job *j, uint64_t deadline)
{
	(void)arg;
	j->timer = deadline != 0 ? (void *)j : NULL;
	seen.armed = deadline;
}

static void
op_gone(void *arg, struct job *j)
{
	(void)arg;
	(void)j;
	seen.gone++;
}

static void
op_dropped(void *arg, struct job *j, void *request, const char *why)
{
	(void)arg;
	(void)j;
	seen.dropped = request;
	seen.dropped_why = why;
}

static int
op_join(void *arg, struct job *j, void *request)
{
	(void)arg;
	ck_assert_int_eq(j->running, 1);
	seen.joined = request;
	return seen.join_ret;
}

static const struct jobs_ops ops = { op_start, op_skipped, op_arm,
	op_gone, op_dropped, NULL };
static const struct jobs_ops ops_join = { op_start, op_skipped, op_arm,
	op_gone, op_dropped, op_join };

static struct cfg_job
mkjob(const char *name, double interval_s, double splay_s, const char *group)
{
	struct cfg_job	j;

	memset(&j, 0, sizeof(j));
	j.name = (char *)(uintptr_t)name;
	j.collector = (char *)(uintptr_t)"test";
	j.interval_us = (uint64_t)(interval_s * 1e6);
	j.timeout_us = j.interval_us;
	j.splay_us = (uint64_t)(splay_s * 1e6);
	j.exclusive = (char *)(uintptr_t)group;
	return j;
}

/* Fire j if its deadline is due at the clock's now. */
static void
fire_at(struct jobs *t, struct job *j)
{
	fakeclock_set_mono(j->deadline);
	jobs_fire(t, j);
}

static struct job *
find(struct jobs *t, const char *name)
{
	struct job	*j;

	for (j = jobs_first(t); j != NULL; j = j->next)
		if (strcmp(j->name, name) == 0)
			return j;
	ck_abort_msg("no job %s", name);
	return NULL;
}

static void
setup(void)
{
	memset(&seen, 0, sizeof(seen));
	fakeclock_install(MONO0, WALL0);
	logcap_reset();
}

static void
teardown(void)
{
	fakeclock_remove();
}

START_TEST(test_sched_first_deadline_is_on_the_wall_clock_multiple)
{
	struct cfg_job	 c = mkjob("gw", 60, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "edge-1", 64, 0);
	struct job	*j;

	/* 17 s past a minute: the next whole minute is 43 s away. */
	fakeclock_advance(17 * S);
	j = jobs_add(t, &c);
	ck_assert_uint_eq(j->deadline, MONO0 + 60 * S);
	ck_assert_ptr_nonnull(j->timer);
	jobs_free(t);
	ck_assert_uint_eq(seen.gone, 1);
}
END_TEST

START_TEST(test_sched_offset_within_splay_is_stable_per_agent_and_job)
{
	struct cfg_job	 c = mkjob("gw", 60, 10, NULL);
	struct jobs	*a = jobs_new(&ops, NULL, "edge-1", 64, 0);
	struct jobs	*b = jobs_new(&ops, NULL, "edge-1", 64, 0);
	uint64_t	 off, first;
	int		 i, differ = 0;

	first = jobs_add(a, &c)->deadline;
	off = (first - MONO0) % (60 * S);
	ck_assert_uint_lt(off, 10 * S);
	/* Another table, the same agent and job: the same phase. */
	ck_assert_uint_eq(jobs_add(b, &c)->deadline, first);
	/* The offset is the agent's: other agents spread over the splay. */
	for (i = 0; i < 20; i++) {
		char		 agent[32];
		uint64_t	 d;

		snprintf(agent, sizeof(agent), "edge-%d", i + 2);
		d = jobs_first_deadline(agent, "gw", 60 * S, 10 * S);
		ck_assert_uint_lt((d - MONO0) % (60 * S), 10 * S);
		differ += d != first;
	}
	ck_assert_int_gt(differ, 15);
	/* Splay 0: exactly on the multiple. */
	ck_assert_uint_eq(jobs_first_deadline("edge-1", "gw", 60 * S, 0),
	    MONO0 + 60 * S);
	jobs_free(a);
	jobs_free(b);
}
END_TEST

START_TEST(test_sched_deadlines_do_not_drift_with_late_firing)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);
	uint64_t	 first = j->deadline;
	int		 i;

	for (i = 0; i < 5; i++) {
		/* The timer fires 300 ms late each time. */
		fakeclock_set_mono(j->deadline + 300000);
		jobs_fire(t, j);
		ck_assert_uint_eq(seen.starts[i].due, first + (uint64_t)i *
		    10 * S);
		ck_assert_uint_eq(j->deadline, first + (uint64_t)(i + 1) *
		    10 * S);
		jobs_done(t, j);
	}
	ck_assert_uint_eq(seen.nstarts, 5);
	ck_assert_uint_eq(jobs_skipped(t), 0);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_overrun_skips_and_counts_never_queues)
{
	struct cfg_job	 c = mkjob("slow", 1, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);

	fire_at(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_int_eq(j->running, 1);
	/* Still running at the next two deadlines. */
	fire_at(t, j);
	fire_at(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(seen.skips, 2);
	ck_assert_uint_eq(jobs_skipped(t), 2);
	/* Reported once, then rate-limited. */
	ck_assert_uint_eq(logcap_count(LOG_ERR, "slow]: run skipped: the "
	    "previous run is still going"), 1);
	jobs_done(t, j);
	/* Nothing was queued: the next run is at the next deadline. */
	ck_assert_uint_eq(seen.nstarts, 1);
	fire_at(t, j);
	ck_assert_uint_eq(seen.nstarts, 2);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_missed_deadlines_count_as_skipped)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);
	uint64_t	 first = j->deadline;

	/* The process was stopped for 45 s past the deadline. */
	fakeclock_set_mono(first + 45 * S);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(seen.starts[0].due, first);
	/* first+10, +20, +30, +40 are gone; +50 is next, in phase. */
	ck_assert_uint_eq(jobs_skipped(t), 4);
	ck_assert_uint_eq(j->deadline, first + 50 * S);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_exclusive_group_runs_one_at_a_time)
{
	struct cfg_job	 c[3] = { mkjob("up", 10, 0, "bandwidth"),
	    mkjob("down", 10, 0, "bandwidth"), mkjob("ping", 10, 0, NULL) };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*up, *down, *ping;

	up = jobs_add(t, &c[0]);
	down = jobs_add(t, &c[1]);
	ping = jobs_add(t, &c[2]);
	fire_at(t, up);
	fire_at(t, down);
	fire_at(t, ping);
	/* up and ping run; down waits for the group. */
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_str_eq(seen.starts[0].job, "up");
	ck_assert_str_eq(seen.starts[1].job, "ping");
	ck_assert_int_eq(down->pending, 1);
	ck_assert_int_eq(jobs_waiting(t), 1);
	fakeclock_advance(3 * S);
	jobs_done(t, up);
	/* down starts now, for its own deadline, counted as having waited. */
	ck_assert_uint_eq(seen.nstarts, 3);
	ck_assert_str_eq(seen.starts[2].job, "down");
	ck_assert_int_eq(seen.starts[2].waited, 1);
	ck_assert_uint_eq(seen.starts[2].due, down->deadline - 10 * S);
	ck_assert_int_eq(jobs_waiting(t), 0);
	ck_assert_uint_eq(jobs_running(t), 2);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_cap_on_runs_makes_the_rest_wait)
{
	struct cfg_job	 c[3] = { mkjob("a", 10, 0, NULL),
	    mkjob("b", 10, 0, NULL), mkjob("c", 10, 0, NULL) };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 2, 0);
	struct job	*j[3];
	int		 i;

	for (i = 0; i < 3; i++)
		j[i] = jobs_add(t, &c[i]);
	for (i = 0; i < 3; i++)
		fire_at(t, j[i]);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_uint_eq(jobs_running(t), 2);
	jobs_done(t, j[0]);
	ck_assert_uint_eq(seen.nstarts, 3);
	ck_assert_str_eq(seen.starts[2].job, "c");
	ck_assert_int_eq(seen.starts[2].waited, 1);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_a_waiting_run_due_again_is_skipped)
{
	struct cfg_job	 c[2] = { mkjob("a", 10, 0, "g"),
	    mkjob("b", 10, 0, "g") };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*a = jobs_add(t, &c[0]), *b = jobs_add(t, &c[1]);
	uint64_t	 second;

	fire_at(t, a);
	fire_at(t, b);
	ck_assert_int_eq(b->pending, 1);
	second = b->deadline;
	fire_at(t, a);		/* a overruns: skipped */
	fire_at(t, b);		/* b still waiting: skipped, due moves on */
	ck_assert_uint_eq(seen.skips, 2);
	jobs_done(t, a);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_uint_eq(seen.starts[1].due, second);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_start_that_fails_frees_the_slot)
{
	struct cfg_job	 c = mkjob("x", 1, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 1, 0);
	struct job	*j = jobs_add(t, &c);

	seen.fail_start = 1;
	fire_at(t, j);
	ck_assert_uint_eq(jobs_running(t), 0);
	ck_assert_int_eq(j->running, 0);
	seen.fail_start = 0;
	fire_at(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(jobs_skipped(t), 0);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_reload_keeps_the_phase_of_unchanged_jobs)
{
	struct cfg_job	 a[3] = { mkjob("keep", 60, 10, NULL),
	    mkjob("change", 60, 0, NULL), mkjob("drop", 60, 0, NULL) };
	struct cfg_job	 b[3] = { mkjob("keep", 60, 10, NULL),
	    mkjob("change", 30, 0, NULL), mkjob("new", 60, 0, NULL) };
	struct cfg	 cfg2;
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*keep, *change, *drop;
	uint64_t	 keep_at;

	keep = jobs_add(t, &a[0]);
	change = jobs_add(t, &a[1]);
	drop = jobs_add(t, &a[2]);
	fire_at(t, drop);
	ck_assert_int_eq(drop->running, 1);
	keep_at = keep->deadline;
	fakeclock_advance(7 * S);
	memset(&cfg2, 0, sizeof(cfg2));
	cfg2.jobs = b;
	cfg2.njobs = 3;
	cfg_index(&cfg2);
	jobs_reload(t, &cfg2, 64);
	/* Same interval and splay: same deadline, so the same phase. */
	ck_assert_uint_eq(keep->deadline, keep_at);
	ck_assert_ptr_eq(keep->conf, &b[0]);
	/* A new interval: placed again on its new wall-clock multiple. */
	ck_assert_ptr_eq(change->conf, &b[1]);
	ck_assert_uint_eq((change->deadline - MONO0) % (30 * S), 0);
	ck_assert_uint_gt(change->deadline, MONO0 + 7 * S);
	/* The new job is armed; the dropped one runs out, then goes. */
	ck_assert_ptr_nonnull(find(t, "new")->timer);
	ck_assert_ptr_null(drop->conf);
	ck_assert_ptr_null(drop->timer);
	ck_assert_uint_eq(jobs_count(t), 3);
	ck_assert_uint_eq(seen.gone, 0);
	jobs_done(t, drop);
	ck_assert_uint_eq(seen.gone, 1);
	jobs_free(t);
	strmap_free(cfg2.jobmap);
}
END_TEST

START_TEST(test_sched_once_runs_every_job_now_and_once)
{
	struct cfg_job	 c[2] = { mkjob("a", 60, 10, NULL),
	    mkjob("b", 3600, 0, NULL) };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 1);
	struct job	*a = jobs_add(t, &c[0]), *b = jobs_add(t, &c[1]);

	ck_assert_uint_eq(a->deadline, MONO0);
	ck_assert_uint_eq(b->deadline, MONO0);
	jobs_fire(t, a);
	jobs_fire(t, b);
	ck_assert_uint_eq(seen.nstarts, 2);
	/* Not armed again: the deadline stays the one it ran for. */
	ck_assert_uint_eq(a->deadline, MONO0);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_stop_forgets_what_waits)
{
	struct cfg_job	 c[2] = { mkjob("a", 10, 0, "g"),
	    mkjob("b", 10, 0, "g") };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*a = jobs_add(t, &c[0]), *b = jobs_add(t, &c[1]);

	fire_at(t, a);
	fire_at(t, b);
	jobs_stop(t);
	ck_assert_ptr_null(a->timer);
	ck_assert_ptr_null(b->timer);
	ck_assert_int_eq(jobs_waiting(t), 0);
	jobs_done(t, a);
	ck_assert_uint_eq(seen.nstarts, 1);
	jobs_free(t);
}
END_TEST

static int	rq1, rq2;	/* requests: their addresses */

START_TEST(test_sched_request_runs_an_idle_job_now)
{
	struct cfg_job	 c = mkjob("gw", 60, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);
	uint64_t	 deadline = j->deadline;

	fakeclock_advance(5 * S);
	ck_assert_int_eq(jobs_request(t, j, &rq1), JOBS_REQ_STARTED);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(seen.starts[0].due, MONO0 + 5 * S);
	ck_assert_ptr_eq(seen.starts[0].request, &rq1);
	ck_assert_int_eq(seen.starts[0].waited, 0);
	ck_assert_ptr_null(j->request);
	/* The schedule is untouched. */
	ck_assert_uint_eq(j->deadline, deadline);
	ck_assert_uint_eq(jobs_running(t), 1);
	jobs_done(t, j);
	ck_assert_uint_eq(jobs_running(t), 0);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_request_waits_for_its_group)
{
	struct cfg_job	 c[2] = { mkjob("up", 60, 0, "bw"),
			    mkjob("down", 60, 0, "bw") };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*up = jobs_add(t, &c[0]), *down = jobs_add(t, &c[1]);

	fire_at(t, up);
	ck_assert_uint_eq(seen.nstarts, 1);
	fakeclock_advance(S);
	ck_assert_int_eq(jobs_request(t, down, &rq1), JOBS_REQ_WAITING);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_int_eq(jobs_waiting(t), 1);
	/* Asked again while it waits: busy, nothing changes. */
	ck_assert_int_eq(jobs_request(t, down, &rq2), JOBS_REQ_BUSY);
	ck_assert_ptr_eq(down->request, &rq1);
	fakeclock_advance(2 * S);
	jobs_done(t, up);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_str_eq(seen.starts[1].job, "down");
	ck_assert_ptr_eq(seen.starts[1].request, &rq1);
	ck_assert_int_eq(seen.starts[1].waited, 1);
	jobs_done(t, down);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_request_obeys_the_cap)
{
	struct cfg_job	 c[2] = { mkjob("a", 60, 0, NULL),
			    mkjob("b", 60, 0, NULL) };
	struct jobs	*t = jobs_new(&ops, NULL, "x", 1, 0);
	struct job	*a = jobs_add(t, &c[0]), *b = jobs_add(t, &c[1]);

	ck_assert_int_eq(jobs_request(t, a, &rq1), JOBS_REQ_STARTED);
	ck_assert_int_eq(jobs_request(t, b, &rq2), JOBS_REQ_WAITING);
	ck_assert_uint_eq(jobs_running(t), 1);
	jobs_done(t, a);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_ptr_eq(seen.starts[1].request, &rq2);
	ck_assert_uint_eq(jobs_running(t), 1);
	jobs_done(t, b);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_request_on_a_running_job_is_busy)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);

	fire_at(t, j);
	ck_assert_int_eq(jobs_request(t, j, &rq1), JOBS_REQ_BUSY);
	ck_assert_ptr_null(j->request);
	ck_assert_uint_eq(seen.nstarts, 1);
	jobs_done(t, j);
	jobs_free(t);
}
END_TEST

/* A scheduled run waiting for its group is the request's run. */
START_TEST(test_sched_request_joins_a_waiting_scheduled_run)
{
	struct cfg_job	 c[2] = { mkjob("up", 60, 0, "bw"),
			    mkjob("down", 60, 0, "bw") };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*up = jobs_add(t, &c[0]), *down = jobs_add(t, &c[1]);
	uint64_t	 due;

	fire_at(t, up);
	fire_at(t, down);
	due = down->due;
	ck_assert_int_eq(jobs_waiting(t), 1);
	fakeclock_advance(S);
	ck_assert_int_eq(jobs_request(t, down, &rq1), JOBS_REQ_WAITING);
	ck_assert_ptr_eq(down->request, &rq1);
	/* Asked for already: a second request is busy. */
	ck_assert_int_eq(jobs_request(t, down, &rq2), JOBS_REQ_BUSY);
	ck_assert_ptr_eq(down->request, &rq1);
	jobs_done(t, up);
	/* One run: the scheduled one, for its deadline, with the request. */
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_str_eq(seen.starts[1].job, "down");
	ck_assert_uint_eq(seen.starts[1].due, due);
	ck_assert_ptr_eq(seen.starts[1].request, &rq1);
	ck_assert_int_eq(seen.starts[1].waited, 1);
	jobs_done(t, down);
	jobs_free(t);
}
END_TEST

/* A run forked ahead takes the request if ops->join() says it may. */
START_TEST(test_sched_request_joins_a_run_forked_ahead)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops_join, NULL, "a", 64, 0);
	struct job	*j;

	jobs_set_lead(t, 50000);
	j = jobs_add(t, &c);
	fakeclock_set_mono(j->deadline - 50000);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	fakeclock_advance(10000);
	seen.join_ret = 0;
	ck_assert_int_eq(jobs_request(t, j, &rq1), JOBS_REQ_JOINED);
	ck_assert_ptr_eq(seen.joined, &rq1);
	/* No second run, nothing kept for one. */
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_ptr_null(j->request);
	ck_assert_uint_eq(jobs_running(t), 1);
	/* A run that has begun (or was joined) says no: busy. */
	seen.join_ret = -1;
	ck_assert_int_eq(jobs_request(t, j, &rq2), JOBS_REQ_BUSY);
	ck_assert_ptr_eq(seen.joined, &rq2);
	ck_assert_ptr_null(j->request);
	ck_assert_uint_eq(seen.nstarts, 1);
	jobs_done(t, j);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_deadline_during_a_requested_run_is_skipped)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j = jobs_add(t, &c);
	uint64_t	 d = j->deadline;

	fakeclock_set_mono(d - 1 * S);
	ck_assert_int_eq(jobs_request(t, j, &rq1), JOBS_REQ_STARTED);
	fire_at(t, j);
	ck_assert_uint_eq(seen.skips, 1);
	ck_assert_uint_eq(j->nskipped, 1);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(j->deadline, d + 10 * S);
	jobs_done(t, j);
	fire_at(t, j);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_ptr_null(seen.starts[1].request);
	jobs_done(t, j);
	jobs_free(t);
}
END_TEST

START_TEST(test_sched_waiting_request_is_dropped_at_stop_and_reload)
{
	struct cfg_job	 c[2] = { mkjob("up", 60, 0, "bw"),
			    mkjob("down", 60, 0, "bw") };
	struct cfg	 cfg;
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*up = jobs_add(t, &c[0]), *down = jobs_add(t, &c[1]);

	fire_at(t, up);
	ck_assert_int_eq(jobs_request(t, down, &rq1), JOBS_REQ_WAITING);
	/* A reload without "down": its request is told why. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.jobs = &c[0];
	cfg.njobs = 1;
	cfg_index(&cfg);
	jobs_reload(t, &cfg, 64);
	ck_assert_ptr_eq(seen.dropped, &rq1);
	ck_assert_str_eq(seen.dropped_why, "a reload removed the job");
	ck_assert_int_eq(jobs_waiting(t), 0);
	jobs_done(t, up);
	ck_assert_uint_eq(seen.nstarts, 1);
	/* At stop, likewise. */
	up = find(t, "up");
	fire_at(t, up);
	down = jobs_add(t, &c[1]);
	ck_assert_int_eq(jobs_request(t, down, &rq2), JOBS_REQ_WAITING);
	jobs_stop(t);
	ck_assert_ptr_eq(seen.dropped, &rq2);
	ck_assert_str_eq(seen.dropped_why, "qosd is stopping");
	jobs_done(t, up);
	ck_assert_uint_eq(seen.nstarts, 2);
	jobs_free(t);
	strmap_free(cfg.jobmap);
}
END_TEST

#define LEAD	50000ULL

/* Its timer fires the lead ahead; the run is for the deadline itself. */
START_TEST(test_sched_lead_asks_for_the_run_ahead_of_its_deadline)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j;
	uint64_t	 first;

	jobs_set_lead(t, LEAD);
	j = jobs_add(t, &c);
	first = j->deadline;
	ck_assert_uint_eq(seen.armed, first - LEAD);
	fakeclock_set_mono(seen.armed);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(seen.starts[0].due, first);
	ck_assert_int_eq(seen.starts[0].waited, 0);
	ck_assert_uint_eq(j->deadline, first + 10 * S);
	ck_assert_uint_eq(seen.armed, first + 10 * S - LEAD);
	jobs_done(t, j);
	ck_assert_uint_eq(jobs_skipped(t), 0);
	jobs_free(t);
}
END_TEST

/*
 * The previous run still going at the lead: the deadline itself decides,
 * as without a lead: started if it ended meanwhile, else skipped.
 */
START_TEST(test_sched_lead_leaves_an_overrun_to_the_deadline)
{
	struct cfg_job	 c = mkjob("slow", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 0);
	struct job	*j;
	uint64_t	 d;

	jobs_set_lead(t, LEAD);
	j = jobs_add(t, &c);
	fakeclock_set_mono(seen.armed);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	/* Still going LEAD before the next deadline: nothing yet. */
	d = j->deadline;
	fakeclock_set_mono(seen.armed);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_uint_eq(seen.skips, 0);
	ck_assert_uint_eq(seen.armed, d);
	/* It ends 20 ms later: the deadline starts the next run. */
	fakeclock_advance(20000);
	jobs_done(t, j);
	fakeclock_set_mono(d);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_uint_eq(seen.starts[1].due, d);
	ck_assert_uint_eq(seen.skips, 0);
	ck_assert_uint_eq(seen.armed, d + 10 * S - LEAD);
	/* Again, but still going at the deadline itself: skipped. */
	d = j->deadline;
	fakeclock_set_mono(seen.armed);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.armed, d);
	fakeclock_set_mono(d);
	jobs_fire(t, j);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_uint_eq(seen.skips, 1);
	ck_assert_uint_eq(jobs_skipped(t), 1);
	ck_assert_uint_eq(j->deadline, d + 10 * S);
	ck_assert_uint_eq(seen.armed, d + 10 * S - LEAD);
	jobs_free(t);
}
END_TEST

/* A slot freed before the deadline: the run waited, but is not late. */
START_TEST(test_sched_lead_slot_freed_before_the_deadline_is_no_wait)
{
	struct cfg_job	 c[2] = { mkjob("a", 10, 0, NULL),
	    mkjob("b", 10, 0, NULL) };
	struct jobs	*t = jobs_new(&ops, NULL, "a", 1, 0);
	struct job	*a, *b;

	jobs_set_lead(t, LEAD);
	a = jobs_add(t, &c[0]);
	b = jobs_add(t, &c[1]);
	ck_assert_uint_eq(a->deadline, b->deadline);
	fakeclock_set_mono(a->deadline - LEAD);
	jobs_fire(t, a);
	jobs_fire(t, b);
	ck_assert_uint_eq(seen.nstarts, 1);
	ck_assert_int_eq(b->pending, 1);
	fakeclock_advance(LEAD / 2);
	jobs_done(t, a);
	ck_assert_uint_eq(seen.nstarts, 2);
	ck_assert_str_eq(seen.starts[1].job, "b");
	ck_assert_int_eq(seen.starts[1].waited, 0);
	ck_assert_uint_eq(seen.starts[1].due, b->deadline - 10 * S);
	jobs_free(t);
}
END_TEST

/* --once: no lead, every job at once. */
START_TEST(test_sched_lead_is_none_with_once)
{
	struct cfg_job	 c = mkjob("gw", 10, 0, NULL);
	struct jobs	*t = jobs_new(&ops, NULL, "a", 64, 1);
	struct job	*j;

	jobs_set_lead(t, LEAD);
	j = jobs_add(t, &c);
	ck_assert_uint_eq(seen.armed, MONO0);
	ck_assert_uint_eq(j->deadline, MONO0);
	jobs_free(t);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite	*s = suite_create("sched");
	TCase	*tc = tcase_create("jobs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sched_first_deadline_is_on_the_wall_clock_multiple);
	tcase_add_test(tc,
	    test_sched_offset_within_splay_is_stable_per_agent_and_job);
	tcase_add_test(tc, test_sched_deadlines_do_not_drift_with_late_firing);
	tcase_add_test(tc, test_sched_overrun_skips_and_counts_never_queues);
	tcase_add_test(tc, test_sched_missed_deadlines_count_as_skipped);
	tcase_add_test(tc, test_sched_exclusive_group_runs_one_at_a_time);
	tcase_add_test(tc, test_sched_cap_on_runs_makes_the_rest_wait);
	tcase_add_test(tc, test_sched_a_waiting_run_due_again_is_skipped);
	tcase_add_test(tc, test_sched_start_that_fails_frees_the_slot);
	tcase_add_test(tc,
	    test_sched_reload_keeps_the_phase_of_unchanged_jobs);
	tcase_add_test(tc, test_sched_once_runs_every_job_now_and_once);
	tcase_add_test(tc, test_sched_stop_forgets_what_waits);
	tcase_add_test(tc, test_sched_request_runs_an_idle_job_now);
	tcase_add_test(tc, test_sched_request_waits_for_its_group);
	tcase_add_test(tc, test_sched_request_obeys_the_cap);
	tcase_add_test(tc, test_sched_request_on_a_running_job_is_busy);
	tcase_add_test(tc, test_sched_request_joins_a_waiting_scheduled_run);
	tcase_add_test(tc, test_sched_request_joins_a_run_forked_ahead);
	tcase_add_test(tc,
	    test_sched_deadline_during_a_requested_run_is_skipped);
	tcase_add_test(tc,
	    test_sched_waiting_request_is_dropped_at_stop_and_reload);
	tcase_add_test(tc,
	    test_sched_lead_asks_for_the_run_ahead_of_its_deadline);
	tcase_add_test(tc, test_sched_lead_leaves_an_overrun_to_the_deadline);
	tcase_add_test(tc,
	    test_sched_lead_slot_freed_before_the_deadline_is_no_wait);
	tcase_add_test(tc, test_sched_lead_is_none_with_once);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(sched)
