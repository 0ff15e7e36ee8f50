/*
 * daemon.h: the daemon's state, shared by the files of scheduler/ that
 * each hold one role of its event loop: daemon.c (the loop, signals,
 * stop), jobs.c (when jobs are due), runs.c (a run's life), fanout.c
 * (the sinks), selfmetrics.c (qosd's own points), reload.c.  Not for
 * anything outside scheduler/.
 */
#ifndef SCHEDULER_DAEMON_H
#define SCHEDULER_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/super.h"
#include "scheduler/lagstats.h"

struct cfg;
struct control;
struct jobs;
struct sched_opts;
struct sink_type;

struct sink_rt {
	char			*name;
	const struct sink_type	*type;
	const void		*conf;	/* the cfg_sink state it started from */
	void			*rt;
};

/* A lock of daemon.state_dir (statelock.c): fd -1, dir NULL for none. */
struct statelock {
	int		 fd;
	char		*dir;
};

struct counters {
	uint64_t	 ok, failed, timeout, crashed, overflow, stopped;
	uint64_t	 rejected, spawn_errors, waited;
};

struct daemon {
	sd_event	*ev;
	struct cfg	*cfg;
	const struct sched_opts *opts;
	struct jobs	*jobs;
	struct sink_rt	*sinks;
	size_t		 nsinks;
	sd_event_source	*self_timer;
	sd_event_source	*stop_timer;
	uint64_t	 self_deadline;
	uint64_t	 start_mono;
	struct lagstats	 lag;
	struct counters	 n;
	struct lp_point	 pt;		/* scratch for parsing */
	struct buf	 line;		/* scratch for encoding */
	int		 stopping;
	int		 once_failed;	/* --once: a run failed */
	int		 once_not_ok;	/* --once: a result not "ok" */
	struct backoff	 respawn_bo;	/* a lost spawner's restarts */
	sd_event_source	*respawn;	/* its timer */
	sd_event_source	*hold;		/* runs held: a sink is full */
	uint64_t	 holds;		/* times runs were held */
	struct control	*ctl;		/* the control core (control.h) */
	struct statelock state;		/* the state_dir held */
	struct statelock state_next;	/* one a reload takes */
};

/* A job's last run and counters (runs.c), in struct job's info. */
struct job_info {
	int64_t		 last_ns;	/* when it started, CLOCK_REALTIME */
	char		 last_result[16];	/* child_status_str() */
	uint64_t	 last_duration_us;
	unsigned long	 last_points;
	uint64_t	 runs, ok, failed;
};

struct job;

/*
 * daemon.c: arm job j's timer for deadline (CLOCK_MONOTONIC us); 0
 * disarms it and lets go of it.
 */
void	daemon_arm(struct daemon *, struct job *j, uint64_t deadline);
/*
 * daemon.c: a sink is nearly full: stop reading runs' points until the
 * sinks have room again (back-pressure, not loss).
 */
void	daemon_hold(struct daemon *);
/* daemon.c: exit the loop once nothing is left to do. */
void	daemon_maybe_exit(struct daemon *);
/* daemon.c: stop (a signal, a lost spawner): no new runs, then exit. */
void	daemon_stop(struct daemon *, const char *why);

/* runs.c: the job table's operations (jobs.h). */
extern const struct jobs_ops runs_jobs_ops;

/*
 * fanout.c: the sinks.  Start the sinks of cfg, keeping those of old
 * that did not change (taken out of old); --once prints to stdout
 * whatever the sinks say.  Each sink is told cfg's jobs.  0, or -1 with
 * the reason in err.
 */
int	fanout_start(struct daemon *, const struct cfg *cfg,
	    struct sink_rt *old, size_t nold, struct sink_rt **out,
	    size_t *nout, char *err, size_t errlen);
/* Tell the n sinks of v that want it the jobs of cfg (sink.h jobs()). */
void	fanout_jobs(struct daemon *, const struct cfg *cfg, struct sink_rt *v,
	    size_t n);
/* Stop and free n sinks. */
void	fanout_stop(struct sink_rt *v, size_t n);
/*
 * Add the agent's tags and the time if missing, and hand p to each sink.
 * 0, or -1 when p cannot be encoded (dropped, counted in lines_rejected,
 * logged rate-limited).
 */
int	fanout_emit(struct daemon *, struct lp_point *p);
/* Push out what the sinks buffer (after a run). */
void	fanout_flush(struct daemon *);
/* Wait until every sink's writer has written what it was given. */
void	fanout_sync(struct daemon *);
/* The fullest sink's queue, in percent (sink.h, fill). */
unsigned int fanout_fill(const struct daemon *);

/* selfmetrics.c: the daemon's resident memory, bytes. */
uint64_t self_rss_bytes(void);
/* selfmetrics.c: the qosd and qosd_sink points, now and on a timer. */
void	self_metrics(struct daemon *);
/* (Re)arm the self-metrics timer for the configured interval. */
void	self_arm(struct daemon *);
/*
 * The qosd_job point of one run (or skip); request: its id, or NULL;
 * lag_us SELF_LAG_NONE: not known (the run never said when it began).
 */
#define SELF_LAG_NONE	UINT64_MAX
/*
 * A run is asked for RUN_LEAD_US before its due time: the spawner forks
 * it then, and it waits for due itself (jobs_set_lead(), run.h).
 * Neither the daemon's wake-up nor a fork queued behind others delays a
 * run, nor a stall of the machine shorter than the lead: the runs due in
 * it are all forked and waiting.  It costs a slot of max_children held
 * that much longer (1,000 runs a second: about 50 more).
 */
#define RUN_LEAD_US	50000
struct child_result;
void	self_job(struct daemon *, const char *job, const char *collector,
	    const char *result, uint64_t lag_us, unsigned long points,
	    unsigned long rejected, const struct child_result *cr,
	    const char *request);

/*
 * reload.c: fork a spawner for cfg (after which the daemon lets go of
 * the plugins); 0, or -1 after logging why.
 */
int	daemon_spawner(struct daemon *, struct cfg *cfg);
/* Let go of cfg's plugins: the spawner has its copies. */
void	daemon_let_go(struct cfg *cfg);
/* daemon.realtime: the daemon's priority (lib/prio.h). */
void	daemon_priority(const struct daemon *, int want);
/*
 * Load the configuration again (a SIGHUP, the control API, or a lost
 * spawner: why says which, for the log); a bad one keeps the one
 * running.  0 when the new one runs, -1 when it was refused (the reason,
 * logged, in err).
 */
int	daemon_reload(struct daemon *, const char *why, char *err,
	    size_t errlen);

/* runs.c: an ad-hoc probe for the control core (control.h). */
struct ctl_result;
/*
 * Ask the spawner for a probe of collector with settings (libconfig
 * text, len bytes), stopped after timeout_us; its end goes to res.  0,
 * or -1 (it cannot be asked: no spawner).
 */
int	runs_probe(struct daemon *, const char *collector, const char *text,
	    size_t len, uint64_t timeout_us, struct ctl_result *res);
/*
 * Whether j's run, started and not done, would take a request by id now
 * (forked ahead, before its due time, no request yet: runs_join()).
 */
int	runs_joinable(const struct job *j);

/*
 * statelock.c: one qosd per state directory.  When a sink of cfg keeps
 * its spool in daemon.state_dir (cfg->state_used), lock it, unless it is
 * held already: at start into d->state, at a reload that moves it into
 * d->state_next (daemon_state_done() settles which stays).  Only the
 * daemon holds it (O_CLOEXEC; no child's profile lists it), for its
 * life.  0, or -1 after logging why ("in use by qosd, pid N").
 */
int	daemon_state_lock(struct daemon *, const struct cfg *cfg);
/* A reload ended: keep state_next (ok) or the lock held before. */
void	daemon_state_done(struct daemon *, int ok);
/* At exit: let go of every lock. */
void	daemon_state_release(struct daemon *);

#endif /* SCHEDULER_DAEMON_H */
