/*
 * runs.c: a run's life in the daemon, for the job table (jobs.h): asked
 * of the spawner (child.h) when the table says it may start; each line
 * it prints parsed with the strict parser, given the job's tags and
 * handed to the sinks; its end counted, reported (rate-limited per job)
 * and recorded as a qosd_job point.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/sched.h"
#include "sinks/sink.h"

#define KILL_GRACE_US	2000000		/* SIGTERM to SIGKILL for a run */
#define REJECT_LOGS	3		/* rejected lines logged per run */

/* What a run needs once started, independent of later reloads. */
struct run {
	struct daemon	*d;
	struct job	*job;
	struct child	*child;
	char		*collector;
	struct cfg_tag	*tags;		/* job, then the job's own */
	size_t		 ntags;
	uint64_t	 due;		/* the deadline it ran for */
	uint64_t	 lag_us;	/* fork time - due */
	int		 waited;	/* for its group or a free slot */
	unsigned long	 points;
	unsigned long	 rejected;
	int		 complain;	/* report this run's rejects */
};

static void
run_free(struct run *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ntags; i++) {
		free(r->tags[i].key);
		free(r->tags[i].value);
	}
	free(r->tags);
	free(r->collector);
	free(r);
}

static void
run_tag(struct run *r, const char *k, const char *v)
{
	struct cfg_tag	*t = &r->tags[r->ntags++];

	if ((t->key = strdup(k)) == NULL || (t->value = strdup(v)) == NULL)
		fatal("run_tag: %m");
}

/* Tags the daemon adds: job (always), then the job's own (if absent). */
static struct run *
run_new(struct daemon *d, struct job *j)
{
	const struct cfg_job	*c = j->conf;
	struct run		*r;
	size_t			 i;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->collector = strdup(c->collector)) == NULL ||
	    (r->tags = calloc(c->ntags + 1, sizeof(*r->tags))) == NULL)
		fatal("run_new: %m");
	r->d = d;
	r->job = j;
	run_tag(r, "job", c->name);
	for (i = 0; i < c->ntags; i++)
		run_tag(r, c->tags[i].key, c->tags[i].value);
	return r;
}

static void
run_reject(struct run *r, const char *line, size_t len, const char *why)
{
	r->rejected++;
	r->d->n.rejected++;
	if (r->rejected == 1)
		r->complain = complain_fail(&r->job->rejects,
		    clock_mono_us());
	if (r->complain && r->rejected <= REJECT_LOGS)
		log_err("%s[%s]: line rejected: %s: \"%.*s\"", r->collector,
		    r->job->name, why, (int)(len > 120 ? 120 : len), line);
}

static int
is_own(const char *m)
{
	return strcmp(m, "qosd") == 0 || strcmp(m, "qosd_job") == 0 ||
	    strcmp(m, "qosd_sink") == 0;
}

/* --once: a point whose result is not "ok" makes the exit status 2. */
static void
once_result(struct daemon *d, const struct lp_point *p)
{
	const struct lp_field	*f = lp_point_get_field(p, "result");

	if (f != NULL && f->type == LP_STRING && strcmp(f->v.s, "ok") != 0)
		d->once_not_ok = 1;
}

static void
run_line(void *arg, const char *line, size_t len, int toolong)
{
	struct run	*r = arg;
	struct daemon	*d = r->d;
	char		 err[256];
	size_t		 i;

	if (len == 0)
		return;
	if (toolong) {
		snprintf(err, sizeof(err), "line longer than %d bytes",
		    LP_MAX_LINE);
		run_reject(r, line, len, err);
		return;
	}
	if (lp_parse(line, len, &d->pt, err, sizeof(err)) == -1) {
		run_reject(r, line, len, err);
		return;
	}
	/* qosd's own measurements come from the daemon, never from a run. */
	if (is_own(d->pt.measurement)) {
		snprintf(err, sizeof(err), "measurement \"%s\" is qosd's own",
		    d->pt.measurement);
		run_reject(r, line, len, err);
		return;
	}
	if (d->opts->once)
		once_result(d, &d->pt);
	/* The configuration checked these tags; a failure is still told. */
	if (lp_point_tag(&d->pt, "job", r->tags[0].value, 1, err,
	    sizeof(err)) == -1) {
		run_reject(r, line, len, err);
		return;
	}
	for (i = 1; i < r->ntags; i++)
		if (lp_point_tag(&d->pt, r->tags[i].key, r->tags[i].value, 0,
		    err, sizeof(err)) == -1) {
			run_reject(r, line, len, err);
			return;
		}
	r->points++;
	if (fanout_emit(d, &d->pt) == -1)
		r->rejected++;
	if (d->hold == NULL && fanout_fill(d) >= SINK_FILL_HIGH)
		daemon_hold(d);
}

/* The lag counts until the run's process exists. */
static void
run_started(void *arg, uint64_t start_us)
{
	struct run	*r = arg;

	r->lag_us = start_us > r->due ? start_us - r->due : 0;
	/* The scheduler's precision; a wait for a group is counted apart. */
	if (r->waited)
		r->d->n.waited++;
	else
		lagstats_add(&r->d->lag, r->lag_us);
	log_debug("%s[%s]: started, lag %llu us", r->collector, r->job->name,
	    (unsigned long long)r->lag_us);
}

static void
run_count(struct daemon *d, const struct child_result *cr)
{
	switch (cr->status) {
	case CHILD_OK:
		d->n.ok++;
		break;
	case CHILD_FAILED:
		d->n.failed++;
		break;
	case CHILD_TIMEOUT:
		d->n.timeout++;
		break;
	case CHILD_CRASHED:
		d->n.crashed++;
		break;
	case CHILD_OVERFLOW:
		d->n.overflow++;
		break;
	case CHILD_STOPPED:
		d->n.stopped++;
		break;
	case CHILD_SPAWN_ERROR:
		d->n.spawn_errors++;
		break;
	}
	if (cr->status != CHILD_OK)
		d->once_failed = 1;
}

static void
why_failed(const struct child_result *cr, char *why, size_t len)
{
	switch (cr->status) {
	case CHILD_FAILED:
		snprintf(why, len, "failed with exit status %d", cr->code);
		break;
	case CHILD_TIMEOUT:
		snprintf(why, len, "timed out after %.1f s (%s)",
		    (double)cr->duration_us / 1e6, cr->code == SIGKILL ?
		    "killed" : "terminated");
		break;
	case CHILD_CRASHED:
		snprintf(why, len, "crashed: %s", strsignal(cr->code));
		break;
	case CHILD_OVERFLOW:
		snprintf(why, len, "printed more than max_output allows: "
		    "killed");
		break;
	case CHILD_STOPPED:
		snprintf(why, len, "killed: qosd is stopping or its spawner "
		    "died");
		break;
	default:
		snprintf(why, len, "could not start");
		break;
	}
}

/* One log line for a failure, rate-limited per job; recovery once. */
static void
run_report(struct run *r, const struct child_result *cr)
{
	struct job	*j = r->job;
	unsigned long	 n;
	char		 why[128];

	if (r->rejected > REJECT_LOGS && r->complain)
		log_err("%s[%s]: %lu lines rejected in this run",
		    r->collector, j->name, r->rejected);
	if (r->rejected == 0 && (n = complain_ok(&j->rejects)) > 0)
		log_notice("%s[%s]: output valid again after %lu runs with "
		    "rejected lines", r->collector, j->name, n);
	if (cr->status == CHILD_OK) {
		if ((n = complain_ok(&j->fails)) > 0)
			log_notice("%s[%s]: runs ok again after %lu failed",
			    r->collector, j->name, n);
		return;
	}
	if (!complain_fail(&j->fails, clock_mono_us()))
		return;
	why_failed(cr, why, sizeof(why));
	if (j->fails.failures > 1)
		log_err("%s[%s]: run %s (%lu failed runs in a row)",
		    r->collector, j->name, why, j->fails.failures);
	else
		log_err("%s[%s]: run %s", r->collector, j->name, why);
}

static void
run_done(void *arg, const struct child_result *cr)
{
	struct run	*r = arg;
	struct job	*j = r->job;
	struct daemon	*d = r->d;

	run_count(d, cr);
	run_report(r, cr);
	log_debug("%s[%s]: %s in %.1f ms, %lu points", r->collector,
	    j->name, child_status_str(cr->status),
	    (double)cr->duration_us / 1000.0, r->points);
	self_job(d, j->name, r->collector, child_status_str(cr->status),
	    r->lag_us, r->points, r->rejected, cr);
	fanout_flush(d);
	j->run = NULL;
	run_free(r);
	jobs_done(d->jobs, j);
	daemon_maybe_exit(d);
}

static int
runs_start(void *arg, struct job *j, uint64_t due, int waited)
{
	static const struct child_cb	 cb = { run_started, run_line,
					    run_done };
	struct daemon			*d = arg;
	struct child_spec		 spec;
	struct run			*r;

	r = run_new(d, j);
	r->due = due;
	r->waited = waited;
	log_debug("%s[%s]: asked, lag %llu us", r->collector, j->name,
	    (unsigned long long)(clock_mono_us() - due));
	memset(&spec, 0, sizeof(spec));
	spec.job_index = (unsigned int)(j->conf - d->cfg->jobs);
	spec.collector = j->conf->collector;
	spec.job = j->name;
	spec.timeout_us = j->conf->timeout_us;
	spec.grace_us = KILL_GRACE_US;
	spec.max_output = j->conf->max_output;
	j->run = r;
	if ((r->child = child_start(d->ev, &spec, &cb, r)) == NULL) {
		d->n.spawn_errors++;
		j->run = NULL;
		run_free(r);
		return -1;
	}
	return 0;
}

static void
runs_skipped(void *arg, struct job *j, const char *why)
{
	struct daemon	*d = arg;

	(void)why;
	self_job(d, j->name, j->conf->collector, "skipped", 0, 0, 0, NULL);
	fanout_flush(d);
}

static void
runs_arm(void *arg, struct job *j, uint64_t deadline)
{
	struct daemon	*d = arg;

	daemon_arm(d, j, deadline);
}

static void
runs_gone(void *arg, struct job *j)
{
	struct daemon	*d = arg;

	daemon_arm(d, j, 0);
}

const struct jobs_ops runs_jobs_ops = {
	runs_start, runs_skipped, runs_arm, runs_gone
};
