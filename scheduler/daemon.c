/*
 * daemon.c: the daemon's one event loop: one sd-event loop in one
 * thread, with a timer per job (jobs.h says when), the spawner's and the
 * runs' sockets and pipes (spawnctl.h, child.h), the sinks' (fanout.c),
 * signals for reload and shutdown, and the watchdog.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/super.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/sched.h"
#include "scheduler/spawnctl.h"
#include "sinks/sink.h"

/* How often held runs look whether the sinks have room again. */
#define HOLD_CHECK_US	10000

/* For the spawners to go at exit, once their runs are over. */
#define SPAWNER_STOP_US	2000000

static int
on_job_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct job	*j = arg;

	(void)src;
	(void)usec;
	jobs_fire(j->t, j);
	return 0;
}

void
daemon_arm(struct daemon *d, struct job *j, uint64_t deadline)
{
	sd_event_source	*src = j->timer;
	int		 r;

	if (deadline == 0) {
		j->timer = sd_event_source_disable_unref(src);
		return;
	}
	if (src == NULL) {
		/* Accuracy 1 us: sd-event would coalesce by 250 ms. */
		if ((r = sd_event_add_time(d->ev, &src, CLOCK_MONOTONIC,
		    deadline, 1, on_job_timer, j)) < 0) {
			errno = -r;
			fatal("%s: timer: %m", j->name);
		}
		j->timer = src;
		return;
	}
	sd_event_source_set_time(src, deadline);
	sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
}

/* Held runs go on once every sink is below SINK_FILL_LOW. */
static int
on_hold(sd_event_source *src, uint64_t usec, void *arg)
{
	struct daemon	*d = arg;

	(void)usec;
	if (fanout_fill(d) > SINK_FILL_LOW) {
		sd_event_source_set_time(src, clock_mono_us() + HOLD_CHECK_US);
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
		return 0;
	}
	d->hold = sd_event_source_disable_unref(src);
	child_hold(0);
	log_notice("the sinks have room again: reading runs' points again");
	return 0;
}

void
daemon_hold(struct daemon *d)
{
	if (d->hold != NULL)
		return;
	if (sd_event_add_time(d->ev, &d->hold, CLOCK_MONOTONIC,
	    clock_mono_us() + HOLD_CHECK_US, 1000, on_hold, d) < 0)
		fatal("cannot arm the sinks' check");
	d->holds++;
	child_hold(1);
	log_warning("a sink's queue is %u %% full: runs are held (their "
	    "points wait in their pipes) until it is below %d %%",
	    fanout_fill(d), SINK_FILL_LOW);
}

/* With --once: whether some selected job has not fired yet. */
static int
once_due(const struct daemon *d)
{
	const struct job	*j;

	for (j = jobs_first(d->jobs); j != NULL; j = j->next)
		if (j->timer != NULL && sd_event_source_get_enabled(j->timer,
		    NULL) > 0)
			return 1;
	return jobs_waiting(d->jobs);
}

void
daemon_maybe_exit(struct daemon *d)
{
	if (child_count() > 0 || jobs_running(d->jobs) > 0)
		return;
	if (d->stopping || (d->opts->once && !once_due(d)))
		sd_event_exit(d->ev, 0);
}

static int
stop_on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct daemon	*d = arg;

	(void)src;
	(void)usec;
	if (child_count() > 0) {
		log_err("%zu runs still going after the stop grace: killed",
		    child_count());
		child_kill_all();
	}
	daemon_maybe_exit(d);
	return 0;
}

void
daemon_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("%s: stopping, %zu runs to finish", why, child_count());
	sd_notify(0, "STOPPING=1");
	control_stopping(d->ctl);
	jobs_stop(d->jobs);
	d->self_timer = sd_event_source_disable_unref(d->self_timer);
	d->respawn = sd_event_source_disable_unref(d->respawn);
	/* At stop, runs' last points go to the sinks' queues (their cap). */
	if (d->hold != NULL) {
		d->hold = sd_event_source_disable_unref(d->hold);
		child_hold(0);
	}
	if (child_count() > 0)
		sd_event_add_time(d->ev, &d->stop_timer, CLOCK_MONOTONIC,
		    clock_mono_us() + d->cfg->stop_grace_us, 1000,
		    stop_on_timer, d);
	daemon_maybe_exit(d);
}

static void	spawner_lost(void *);

/*
 * A new spawner needs the plugins and their configured jobs, which the
 * daemon let go of: it reads the configuration again, as a reload does.
 */
static int
on_respawn(sd_event_source *src, uint64_t usec, void *arg)
{
	struct daemon	*d = arg;
	char		 err[4096];

	(void)src;
	(void)usec;
	d->respawn = sd_event_source_disable_unref(d->respawn);
	if (d->stopping)
		return 0;
	backoff_started(&d->respawn_bo);
	if (daemon_reload(d, "the spawner is gone, starting a new one", err,
	    sizeof(err)) == -1)
		spawner_lost(d);
	else
		log_notice("a new spawner runs: runs start again");
	return 0;
}

static void
spawner_lost(void *arg)
{
	struct daemon	*d = arg;
	double		 delay;

	if (d->stopping || d->respawn != NULL)
		return;
	delay = backoff_failed(&d->respawn_bo);
	log_warning("the spawner is gone: runs cannot start until a new one "
	    "is forked in %g s, after reading %s again", delay,
	    d->opts->config_file);
	if (sd_event_add_time_relative(d->ev, &d->respawn, CLOCK_MONOTONIC,
	    (uint64_t)(delay * 1e6), 0, on_respawn, d) < 0)
		fatal("cannot arm the spawner's restart");
}

static int
on_signal(sd_event_source *src, const struct signalfd_siginfo *si,
    void *arg)
{
	struct daemon	*d = arg;
	char		 err[4096];

	(void)src;
	if (si->ssi_signo == SIGHUP) {
		if (!d->stopping && !d->opts->once)
			daemon_reload(d, "reloading", err, sizeof(err));
	} else
		daemon_stop(d, strsignal((int)si->ssi_signo));
	return 0;
}

static void
setup_loop(struct daemon *d)
{
	sigset_t	mask;
	int		r;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((r = sd_event_new(&d->ev)) < 0) {
		errno = -r;
		fatal("sd_event_new: %m");
	}
	if (sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d) < 0 ||
	    sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d) < 0 ||
	    sd_event_add_signal(d->ev, NULL, SIGHUP, on_signal, d) < 0 ||
	    super_init(d->ev) == -1)
		fatal("cannot set up signal handling");
	sd_event_set_watchdog(d->ev, 1);
}

/* The configuration's spawner, sinks and jobs.  0, or an exit status. */
static int
start(struct daemon *d, struct cfg *cfg)
{
	char	err[4096];
	size_t	i;

	daemon_priority(d, cfg->realtime);
	/* Before anything starts: one qosd per state_dir. */
	if (daemon_state_lock(d, cfg) == -1)
		return EX_CONFIG;
	if (daemon_spawner(d, cfg) == -1)
		fatal("cannot start the spawner");
	spawnctl_on_lost(spawner_lost, d);
	daemon_let_go(cfg);
	if (fanout_start(d, cfg, NULL, 0, &d->sinks, &d->nsinks, err,
	    sizeof(err)) == -1) {
		log_err("%s", err);
		return EX_CONFIG;
	}
	d->jobs = jobs_new(&runs_jobs_ops, d, cfg->agent_id,
	    cfg->max_children, d->opts->once);
	jobs_set_lead(d->jobs, RUN_LEAD_US);
	for (i = 0; i < cfg->njobs; i++)
		if (!d->opts->once || d->opts->only_job == NULL ||
		    strcmp(d->opts->only_job, cfg->jobs[i].name) == 0)
			jobs_add(d->jobs, &cfg->jobs[i]);
	self_arm(d);
	if (!d->opts->once) {
		d->ctl = control_new(d);
		control_listen(d->ctl);
	}
	return 0;
}

static void
finish(struct daemon *d)
{
	if (!d->opts->once)
		self_metrics(d);
	/* The job table first: requests it holds are told why. */
	jobs_free(d->jobs);
	control_free(d->ctl);
	d->ctl = NULL;
	fanout_stop(d->sinks, d->nsinks);
	spawnctl_stop(SPAWNER_STOP_US);
	d->self_timer = sd_event_source_disable_unref(d->self_timer);
	d->stop_timer = sd_event_source_disable_unref(d->stop_timer);
	d->respawn = sd_event_source_disable_unref(d->respawn);
	d->hold = sd_event_source_disable_unref(d->hold);
	sd_event_unref(d->ev);
	lp_point_cleanup(&d->pt);
	buf_cleanup(&d->line);
	cfg_free(d->cfg);
	daemon_state_release(d);
	if (!d->opts->once)
		log_info("stopped");
}

int
sched_main(struct cfg *cfg, const struct sched_opts *opts)
{
	struct daemon	d;
	int		r, rc = EX_OK;

	memset(&d, 0, sizeof(d));
	d.state.fd = d.state_next.fd = -1;
	d.cfg = cfg;
	d.opts = opts;
	d.start_mono = clock_mono_us();
	lp_point_init(&d.pt);
	buf_init(&d.line, LP_MAX_LINE + 1024);
	lagstats_reset(&d.lag);
	backoff_init(&d.respawn_bo, 1, 60);
	setup_loop(&d);
	if ((rc = start(&d, cfg)) != 0) {
		cfg_free(cfg);
		daemon_state_release(&d);
		sd_event_unref(d.ev);
		return rc;
	}
	if (!opts->once) {
		log_info("qosd %s started: agent \"%s\", %zu jobs, %zu sinks",
		    QOSD_VERSION, cfg->agent_id, cfg->njobs, d.nsinks);
		sd_notify(0, "READY=1");
		control_configure(d.ctl);
	} else if (jobs_first(d.jobs) == NULL)
		sd_event_exit(d.ev, 0);
	if ((r = sd_event_loop(d.ev)) < 0) {
		errno = -r;
		log_err("event loop: %m");
		rc = EX_SOFTWARE;
	}
	/* --once: 0 all ok, 2 measured but some result not ok, 1 failed. */
	if (opts->once && rc == EX_OK && d.once_failed)
		rc = 1;
	else if (opts->once && rc == EX_OK && d.once_not_ok)
		rc = 2;
	finish(&d);
	return rc;
}
