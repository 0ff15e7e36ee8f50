/*
 * jobs.h: the job table: when each job is due, and whether its run may
 * start now, must wait, or is skipped.  No timers, processes or sinks:
 * the caller arms a timer where ops->arm() says, calls jobs_fire() when
 * it fires, and is told through ops->start() to start a run; time comes
 * from lib/clock.h, so that a test sets it and drives the table without
 * sleeping.
 *
 * - Deadlines are absolute on CLOCK_MONOTONIC: next = previous +
 *   interval, so runs never drift however long they take.
 * - Phase: the first deadline falls on a wall-clock multiple of the
 *   interval plus a stable offset within the job's splay (a hash of the
 *   agent id and the job name), so that a fleet does not hit one server
 *   at :00 and a restart keeps each job's phase.
 * - A job whose run is still going at its next deadline is skipped and
 *   counted, never queued; deadlines missed entirely (a stopped process)
 *   are counted as skipped too.
 * - At most max_children runs at once, and the jobs of one exclusive
 *   group never overlap: a due run waits (pending, first come first
 *   served) until both allow it.
 * - A reload keeps the deadline (so the phase) of every job whose interval
 *   and splay did not change.
 * - A run asked outside the schedule (jobs_request(), the control API's
 *   "run now") obeys the same cap and group: it starts at once or waits
 *   its turn with the scheduled ones.  A job whose scheduled run waits
 *   (for its turn, or forked ahead for its deadline) has that run taken
 *   for the request; a job whose run has begun, or that was asked
 *   already, is not asked twice.
 */
#ifndef SCHEDULER_JOBS_H
#define SCHEDULER_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/complain.h"

struct cfg;
struct cfg_job;
struct jobs;

struct job {
	char		*name;
	const struct cfg_job *conf;	/* NULL once a reload removed it */
	uint64_t	 deadline;	/* next, CLOCK_MONOTONIC us */
	uint64_t	 due;		/* deadline of the pending run */
	int		 pending;	/* waiting for a slot or its group */
	int		 recheck;	/* timer at the deadline itself */
	char		*group;		/* of the running run, or NULL */
	int		 running;
	void		*run;		/* the caller's, while running */
	void		*timer;		/* the caller's */
	void		*request;	/* jobs_request()'s, until start() */
	void		*info;		/* the caller's: last run, counters */
	uint64_t	 nskipped;	/* runs of this job skipped */
	struct complain	 skips;		/* rate-limited reports: skips, */
	struct complain	 fails;		/* failed runs (runs.c), */
	struct complain	 rejects;	/* rejected lines (runs.c) */
	struct jobs	*t;
	struct job	*next;		/* all jobs */
	struct job	*next_pending;
};

struct jobs_ops {
	/*
	 * Start a run of j now for deadline due; waited: it waited for a
	 * slot or its group.  0 when it started (then jobs_done() follows),
	 * -1 when it could not.
	 */
	int	(*start)(void *arg, struct job *j, uint64_t due, int waited);
	/* j's run for a deadline was skipped: why. */
	void	(*skipped)(void *arg, struct job *j, const char *why);
	/* Arm j's timer for deadline; 0: disarm it (and forget it). */
	void	(*arm)(void *arg, struct job *j, uint64_t deadline);
	/* j leaves the table: free what the caller keeps in it. */
	void	(*gone)(void *arg, struct job *j);
	/*
	 * Optional: the run asked for request (jobs_request()) will not
	 * start: why (qosd stops, a reload removed the job).
	 */
	void	(*dropped)(void *arg, struct job *j, void *request,
		    const char *why);
	/*
	 * Optional: j's run (started, not done) takes request if it has
	 * not begun yet (forked ahead, waiting for its deadline): 0, or
	 * -1 when it has begun or was asked for already.
	 */
	int	(*join)(void *arg, struct job *j, void *request);
};

/* What jobs_request() did. */
enum jobs_req {
	JOBS_REQ_STARTED,	/* ops->start() took the request */
	JOBS_REQ_WAITING,	/* it waits for a slot or its group */
	JOBS_REQ_JOINED,	/* ops->join(): the run about to begin took it */
	JOBS_REQ_BUSY,		/* j's run has begun, or j was asked already */
	JOBS_REQ_FAILED		/* ops->start() failed: not taken */
};

/*
 * A table for agent (copied; it places each job's phase) with at most
 * max_children runs at once.  once: every job is due at once, one time.
 */
struct jobs	*jobs_new(const struct jobs_ops *ops, void *arg,
		    const char *agent, unsigned int max_children, int once);
/*
 * Arm every timer lead_us ahead of its deadline (0, the default: at it;
 * --once: always 0): ops->start() then comes that much early, with due
 * the deadline itself, so that the run's process is forked and waits
 * for due (scheduler/spawner/run.h).  A job whose previous run still
 * goes (or waits) at that time is decided at the deadline itself:
 * skipped if it still goes then, started if it ended meanwhile.  A run
 * that waited for a slot or its group only past its deadline counts as
 * waited.  Set it before jobs_add().
 */
void		 jobs_set_lead(struct jobs *, uint64_t lead_us);
/* Free the table and its jobs (ops->gone for each).  NULL is fine. */
void		 jobs_free(struct jobs *);
/* Add a job of c (borrowed until a reload replaces it) and arm it. */
struct job	*jobs_add(struct jobs *, const struct cfg_job *c);
/* j's timer fired: it is due at its deadline; the next is armed. */
void		 jobs_fire(struct jobs *, struct job *j);
/*
 * Run j now, outside its schedule, for request (the caller's, kept in
 * j->request until ops->start() takes it: it sets j->request to NULL):
 * see enum jobs_req.  The schedule goes on: a deadline that falls while
 * this run goes is skipped, as after any run that overran.  A scheduled
 * run of j that waits for its turn, or that ops->join() says has not
 * begun (forked ahead: it begins within the lead), is the request's
 * run: no second run of j at the same time.
 */
enum jobs_req	 jobs_request(struct jobs *, struct job *j, void *request);
/* j's run is over: start what waited for its slot or group. */
void		 jobs_done(struct jobs *, struct job *j);
/*
 * Take the jobs of cfg: jobs kept by name keep their deadline unless
 * their interval or splay changed; removed ones are retired (a running
 * one stays until jobs_done()); new ones are added.
 */
void		 jobs_reload(struct jobs *, const struct cfg *cfg,
		    unsigned int max_children);
/* No more runs: disarm every job, forget what waits. */
void		 jobs_stop(struct jobs *);
/* Runs started and not yet done. */
size_t		 jobs_running(const struct jobs *);
/* Jobs configured (not retired). */
size_t		 jobs_count(const struct jobs *);
/* Whether a run is waiting for a slot or its group. */
int		 jobs_waiting(const struct jobs *);
/* The first job, to walk the table with ->next. */
struct job	*jobs_first(const struct jobs *);
/* Runs skipped so far (overrun or missed deadlines). */
uint64_t	 jobs_skipped(const struct jobs *);
/*
 * The first deadline after now of a job of interval and splay (us), as
 * the table places it: a CLOCK_MONOTONIC time.
 */
uint64_t	 jobs_first_deadline(const char *agent, const char *job,
		    uint64_t interval_us, uint64_t splay_us);

#endif /* SCHEDULER_JOBS_H */
