/*
 * runs.c: a run's life in the daemon, for the job table (jobs.h): asked
 * of the spawner (child.h) when the table says it may start; each line
 * it prints parsed with the strict parser, given the job's tags and
 * handed to the sinks; its end counted, reported (rate-limited per job)
 * and recorded as a qosd_job point.
 */
#define _GNU_SOURCE

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
#include "scheduler/control.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/sched.h"
#include "sinks/sink.h"

#define KILL_GRACE_US	2000000		/* SIGTERM to SIGKILL for a run */
#define REJECT_LOGS	3		/* rejected lines logged per run */

/* What a run needs once started, independent of later reloads. */
struct run {
	struct daemon	*d;
	struct job	*job;		/* NULL: an ad-hoc probe */
	struct child	*child;
	char		*collector;
	char		*name;		/* the job's, or "probe ID" */
	struct ctl_result *res;		/* asked by id (control.h), or NULL */
	struct complain	*rejects;	/* the job's, or the probe's own */
	struct complain	*fails;
	struct complain	 own_rejects, own_fails;
	struct cfg_tag	*tags;		/* job, then the job's own */
	size_t		 ntags;
	uint64_t	 due;		/* the deadline it ran for */
	uint64_t	 lag_us;	/* began - due, or SELF_LAG_NONE */
	int		 waited;	/* for its group or a free slot */
	int		 started;	/* the spawner forked it */
	int		 joined;	/* scheduled, then asked by id */
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
	free(r->name);
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
	    (r->name = strdup(c->name)) == NULL ||
	    (r->tags = calloc(c->ntags + 1, sizeof(*r->tags))) == NULL)
		fatal("run_new: %m");
	r->d = d;
	r->job = j;
	r->lag_us = SELF_LAG_NONE;
	r->rejects = &j->rejects;
	r->fails = &j->fails;
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
		r->complain = complain_fail(r->rejects, clock_mono_us());
	if (r->complain && r->rejected <= REJECT_LOGS)
		log_err("%s[%s]: line rejected: %s: \"%.*s\"", r->collector,
		    r->name, why, (int)(len > 120 ? 120 : len), line);
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
	for (i = 0; i < r->ntags; i++)
		if (lp_point_tag(&d->pt, r->tags[i].key, r->tags[i].value,
		    i == 0, err, sizeof(err)) == -1) {
			run_reject(r, line, len, err);
			return;
		}
	if (r->res != NULL && lp_point_tag(&d->pt, "request",
	    ctlres_id(r->res), 1, err, sizeof(err)) == -1) {
		run_reject(r, line, len, err);
		return;
	}
	r->points++;
	if (fanout_emit(d, &d->pt) == -1)
		r->rejected++;
	else if (r->res != NULL)
		ctlres_point(r->res, d->line.data, d->line.len);
	if (d->hold == NULL && fanout_fill(d) >= SINK_FILL_HIGH)
		daemon_hold(d);
}

static void
run_started(void *arg, uint64_t start_us)
{
	struct run	*r = arg;

	(void)start_us;
	r->started = 1;
	if (r->waited)
		r->d->n.waited++;
	if (r->res != NULL)
		ctlres_running(r->res);
}

/*
 * The lag: from the due time to when the run's process, forked ahead
 * and waiting for it, woke and began (child.h).
 */
static void
run_began(void *arg, uint64_t begin_us)
{
	struct run	*r = arg;

	r->lag_us = begin_us > r->due ? begin_us - r->due : 0;
	/*
	 * The scheduler's precision; a wait for a group is counted apart,
	 * and runs asked by id are not scheduled (but the scheduled runs a
	 * request joined are).
	 */
	if (!r->waited && (r->res == NULL || r->joined))
		lagstats_add(&r->d->lag, r->lag_us);
	log_debug("%s[%s]: began, lag %llu us", r->collector, r->name,
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
	const char	*name = r->name;
	unsigned long	 n;
	char		 why[128];

	if (r->rejected > REJECT_LOGS && r->complain)
		log_err("%s[%s]: %lu lines rejected in this run",
		    r->collector, name, r->rejected);
	if (r->rejected == 0 && (n = complain_ok(r->rejects)) > 0)
		log_notice("%s[%s]: output valid again after %lu runs with "
		    "rejected lines", r->collector, name, n);
	if (cr->status == CHILD_OK) {
		if ((n = complain_ok(r->fails)) > 0)
			log_notice("%s[%s]: runs ok again after %lu failed",
			    r->collector, name, n);
		return;
	}
	if (!complain_fail(r->fails, clock_mono_us()))
		return;
	why_failed(cr, why, sizeof(why));
	if (r->fails->failures > 1)
		log_err("%s[%s]: run %s (%lu failed runs in a row)",
		    r->collector, name, why, r->fails->failures);
	else
		log_err("%s[%s]: run %s", r->collector, name, why);
}

/* A job's last run and counters, for the control API. */
static void
job_info(struct job *j, const struct child_result *cr, unsigned long points,
    uint64_t started_us)
{
	struct job_info	*ji = j->info;

	if (ji == NULL && (ji = j->info = calloc(1, sizeof(*ji))) == NULL)
		fatal("job_info: %m");
	ji->runs++;
	if (cr->status == CHILD_OK)
		ji->ok++;
	else
		ji->failed++;
	ji->last_ns = clock_real_ns() - (int64_t)(clock_mono_us() -
	    started_us) * 1000;
	snprintf(ji->last_result, sizeof(ji->last_result), "%s",
	    child_status_str(cr->status));
	ji->last_duration_us = cr->duration_us;
	ji->last_points = points;
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
	    r->name, child_status_str(cr->status),
	    (double)cr->duration_us / 1000.0, r->points);
	if (j != NULL) {
		self_job(d, j->name, r->collector, child_status_str(
		    cr->status), r->lag_us, r->points, r->rejected, cr,
		    r->res != NULL ? ctlres_id(r->res) : NULL);
		job_info(j, cr, r->points, clock_mono_us() - cr->duration_us);
	}
	fanout_flush(d);
	if (r->res != NULL)
		ctlres_done(r->res, cr, r->points);
	if (j != NULL)
		j->run = NULL;
	run_free(r);
	if (j != NULL)
		jobs_done(d->jobs, j);
	daemon_maybe_exit(d);
}

/* A probe its collector refused: nothing ran. */
static void
run_refused(void *arg, const char *err)
{
	struct run	*r = arg;

	if (r->res != NULL)
		ctlres_refused(r->res, err);
	run_free(r);
}

static const struct child_cb	 run_cb = { run_started, run_began, run_line,
				    run_done, run_refused };

static int
runs_start(void *arg, struct job *j, uint64_t due, int waited)
{
	struct daemon			*d = arg;
	struct child_spec		 spec;
	struct run			*r;

	uint64_t			 now = clock_mono_us();

	r = run_new(d, j);
	r->due = due;
	r->waited = waited;
	/* A run asked by id (jobs_request()) is ours from now on. */
	r->res = j->request;
	j->request = NULL;
	if (now < due)
		log_debug("%s[%s]: asked, due in %llu us", r->collector,
		    j->name, (unsigned long long)(due - now));
	else
		log_debug("%s[%s]: asked, %llu us after its due time",
		    r->collector, j->name, (unsigned long long)(now - due));
	memset(&spec, 0, sizeof(spec));
	spec.due_us = due;
	spec.job_index = (unsigned int)(j->conf - d->cfg->jobs);
	spec.collector = j->conf->collector;
	spec.job = j->name;
	spec.timeout_us = j->conf->timeout_us;
	spec.grace_us = KILL_GRACE_US;
	spec.max_output = j->conf->max_output;
	j->run = r;
	if ((r->child = child_start(d->ev, &spec, &run_cb, r)) == NULL) {
		d->n.spawn_errors++;
		j->run = NULL;
		if (r->res != NULL)
			ctlres_failed(r->res, "the run could not be started "
			    "(see the log)");
		run_free(r);
		return -1;
	}
	return 0;
}

int
runs_probe(struct daemon *d, const char *collector, const char *text,
    size_t len, uint64_t timeout_us, struct ctl_result *res)
{
	struct child_spec	 spec;
	struct run		*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->collector = strdup(collector)) == NULL ||
	    asprintf(&r->name, "probe %s", ctlres_id(res)) == -1)
		fatal("runs_probe: %m");
	r->d = d;
	r->res = res;
	r->rejects = &r->own_rejects;
	r->fails = &r->own_fails;
	r->due = clock_mono_us();
	memset(&spec, 0, sizeof(spec));
	spec.collector = collector;
	spec.job = r->name;
	spec.timeout_us = timeout_us;
	spec.grace_us = KILL_GRACE_US;
	spec.max_output = 1 << 20;
	spec.probe_text = text;
	spec.probe_len = len;
	if ((r->child = child_start(d->ev, &spec, &run_cb, r)) == NULL) {
		d->n.spawn_errors++;
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
	self_job(d, j->name, j->conf->collector, "skipped", 0, 0, 0, NULL,
	    NULL);
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
	free(j->info);
	j->info = NULL;
}

static void
runs_dropped(void *arg, struct job *j, void *request, const char *why)
{
	(void)arg;
	(void)j;
	ctlres_failed(request, why);
}

/*
 * A run asked by id while the job's scheduled run, forked ahead, waits
 * for its deadline: that run is the request's.  Before its due time it
 * sleeps (scheduler/spawner/run.c) and has printed nothing, so every
 * point it prints carries the request's tag and goes into the result.
 */
int
runs_joinable(const struct job *j)
{
	const struct run	*r = j->run;

	return j->running && r != NULL && r->res == NULL &&
	    clock_mono_us() < r->due;
}

static int
runs_join(void *arg, struct job *j, void *request)
{
	struct run	*r = j->run;

	(void)arg;
	if (!runs_joinable(j))
		return -1;
	r->res = request;
	r->joined = 1;
	log_debug("%s[%s]: asked by id %s: the run due in %llu us is its "
	    "run", r->collector, r->name, ctlres_id(request),
	    (unsigned long long)(r->due - clock_mono_us()));
	if (r->started)
		ctlres_running(request);
	return 0;
}

const struct jobs_ops runs_jobs_ops = {
	runs_start, runs_skipped, runs_arm, runs_gone, runs_dropped,
	runs_join
};
