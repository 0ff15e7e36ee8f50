/*
 * sched.c: the daemon's one event loop.
 *
 * One sd-event loop in one thread: a timer per job on CLOCK_MONOTONIC with
 * absolute deadlines (next = previous + interval, so no drift), aligned to
 * wall-clock multiples of the interval plus a stable per-job offset; a run
 * is a forked child (child.c) whose lines are validated here, tagged and
 * handed to every sink; signals for reload and shutdown; the watchdog; and
 * the self-metrics.
 */
#include <sys/resource.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "qosd/collector.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/lagstats.h"
#include "scheduler/plugin.h"
#include "scheduler/sched.h"
#include "sinks/file.h"
#include "sinks/sink.h"

#define KILL_GRACE_US	2000000		/* SIGTERM to SIGKILL for a run */
#define REJECT_LOGS	3		/* rejected lines logged per run */

struct sched;

struct sink_rt {
	char			*name;
	const struct sink_type	*type;
	const void		*conf;	/* the cfg_sink state it started from */
	void			*rt;
};

/* What a run needs once started, independent of later reloads. */
struct run {
	struct job	*job;
	struct child	*child;
	char		*collector;
	char		*group;		/* exclusive group, or NULL */
	struct cfg_tag	*tags;		/* agent, job, job's, agent's */
	size_t		 ntags;
	uint64_t	 due;		/* the deadline it ran for */
	uint64_t	 lag_us;	/* fork time - due */
	int		 waited;	/* for its group or a free slot */
	unsigned long	 points;
	unsigned long	 rejected;
	int		 complain;	/* report this run's rejects */
};

struct job {
	struct sched	*s;
	char		*name;
	const struct cfg_job *conf;	/* NULL once retired by a reload */
	sd_event_source	*timer;
	uint64_t	 deadline;	/* next, CLOCK_MONOTONIC us */
	uint64_t	 due;		/* deadline of the pending run */
	int		 pending;	/* waiting for a slot or its group */
	struct run	*run;		/* the running one */
	struct complain	 fails;		/* failed runs, rate-limited reports */
	struct complain	 rejects;	/* rejected lines */
	struct complain	 skips;		/* skipped runs */
	struct job	*next;		/* all jobs */
	struct job	*next_pending;
};

struct counters {
	uint64_t	 ok, failed, timeout, crashed, overflow, skipped;
	uint64_t	 rejected, spawn_errors, waited;
};

struct sched {
	sd_event	*ev;
	struct cfg	*cfg;
	const struct sched_opts *opts;
	struct job	*jobs;
	struct job	*pending_head, *pending_tail;
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
	int		 once_failed;
	int		 lost;		/* the spawner died: exit non-zero */
};

/* FNV-1a: a stable hash, the same on every machine and every release. */
static uint64_t
phase_hash(const char *agent, const char *job)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;
	const char	*p;

	for (p = agent; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ 0xff) * 0x100000001b3ULL;
	for (p = job; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

/*
 * The first deadline after now: a wall-clock multiple of the interval plus
 * the job's offset within its splay, converted to CLOCK_MONOTONIC.
 */
static uint64_t
first_deadline(const struct sched *s, const struct cfg_job *j)
{
	uint64_t	 now_r = clock_real_us(), now_m = clock_mono_us();
	uint64_t	 off = 0, t;

	if (j->splay_us > 0)
		off = phase_hash(s->cfg->agent_id, j->name) % j->splay_us;
	off %= j->interval_us;
	t = now_r - now_r % j->interval_us + off;
	if (t <= now_r)
		t += j->interval_us;
	return now_m + (t - now_r);
}

/* Emitting points. */

static void
sinks_write(struct sched *s, const char *data, size_t len)
{
	size_t	i;

	for (i = 0; i < s->nsinks; i++)
		s->sinks[i].type->write(s->sinks[i].rt, data, len);
}

static void
sinks_flush(struct sched *s)
{
	size_t	i;

	for (i = 0; i < s->nsinks; i++)
		if (s->sinks[i].type->flush != NULL)
			s->sinks[i].type->flush(s->sinks[i].rt);
}

/* Add the agent's tags (never overriding) and send p to every sink. */
static void
emit(struct sched *s, struct lp_point *p)
{
	char	 err[256];
	size_t	 i;

	lp_point_tag(p, "agent", s->cfg->agent_id, 1, err, sizeof(err));
	for (i = 0; i < s->cfg->nagent_tags; i++)
		lp_point_tag(p, s->cfg->agent_tags[i].key,
		    s->cfg->agent_tags[i].value, 0, err, sizeof(err));
	if (!p->has_time)
		lp_point_set_time(p, clock_real_ns());
	buf_reset(&s->line);
	if (lp_encode(p, &s->line, err, sizeof(err)) == -1) {
		log_err("point \"%s\" dropped: %s", p->measurement, err);
		return;
	}
	sinks_write(s, s->line.data, s->line.len);
}

/* Runs. */

static void	run_done(void *, const struct child_result *);
static void	pending_drain(struct sched *);

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
	free(r->group);
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
run_new(struct job *j)
{
	const struct cfg_job	*c = j->conf;
	struct run		*r;
	size_t			 i;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->collector = strdup(c->collector)) == NULL ||
	    (r->tags = calloc(c->ntags + 1, sizeof(*r->tags))) == NULL)
		fatal("run_new: %m");
	r->job = j;
	if (c->exclusive != NULL && (r->group = strdup(c->exclusive)) == NULL)
		fatal("run_new: %m");
	run_tag(r, "job", c->name);
	for (i = 0; i < c->ntags; i++)
		run_tag(r, c->tags[i].key, c->tags[i].value);
	return r;
}

static void
run_line(void *arg, const char *line, size_t len, int toolong)
{
	struct run	*r = arg;
	struct sched	*s = r->job->s;
	char		 err[256];
	size_t		 i;

	if (len == 0)
		return;
	if (toolong) {
		snprintf(err, sizeof(err), "line longer than %d bytes",
		    LP_MAX_LINE);
		goto reject;
	}
	if (lp_parse(line, len, &s->pt, err, sizeof(err)) == -1)
		goto reject;
	lp_point_tag(&s->pt, "job", r->tags[0].value, 1, err, sizeof(err));
	for (i = 1; i < r->ntags; i++)
		lp_point_tag(&s->pt, r->tags[i].key, r->tags[i].value, 0,
		    err, sizeof(err));
	r->points++;
	emit(s, &s->pt);
	return;
reject:
	r->rejected++;
	s->n.rejected++;
	if (r->rejected == 1)
		r->complain = complain_fail(&r->job->rejects, clock_mono_us());
	if (r->complain && r->rejected <= REJECT_LOGS)
		log_err("%s[%s]: line rejected: %s: \"%.*s\"", r->collector,
		    r->job->name, err, (int)(len > 120 ? 120 : len), line);
}

static int
group_busy(const struct sched *s, const char *group)
{
	const struct job	*j;

	for (j = s->jobs; j != NULL; j = j->next)
		if (j->run != NULL && j->run->group != NULL &&
		    strcmp(j->run->group, group) == 0)
			return 1;
	return 0;
}

static int
can_start(const struct sched *s, const struct job *j)
{
	if (child_count() >= s->cfg->max_children)
		return 0;
	return j->conf->exclusive == NULL || !group_busy(s, j->conf->exclusive);
}

/* The lag counts until the run's process exists. */
static void
run_started(void *arg, uint64_t start_us)
{
	struct run	*r = arg;

	r->lag_us = start_us > r->due ? start_us - r->due : 0;
	/* The scheduler's precision; a wait for a group is counted apart. */
	if (r->waited)
		r->job->s->n.waited++;
	else
		lagstats_add(&r->job->s->lag, r->lag_us);
	log_debug("%s[%s]: started, lag %llu us", r->collector, r->job->name,
	    (unsigned long long)r->lag_us);
}

static void
run_start(struct job *j, uint64_t due, int waited)
{
	static const struct child_cb	 cb = { run_started, run_line,
					    run_done };
	struct sched			*s = j->s;
	struct child_spec		 spec;
	struct run			*r;

	r = run_new(j);
	r->due = due;
	r->waited = waited;
	log_debug("%s[%s]: asked, lag %llu us", r->collector, j->name,
	    (unsigned long long)(clock_mono_us() - due));
	if (clock_mono_us() - due < j->conf->interval_us)
		complain_ok(&j->skips);
	memset(&spec, 0, sizeof(spec));
	spec.plugin = j->conf->plugin;
	spec.collector = j->conf->collector;
	spec.state = j->conf->state;
	spec.job = j->name;
	spec.timeout_us = j->conf->timeout_us;
	spec.grace_us = KILL_GRACE_US;
	spec.max_output = j->conf->max_output;
	j->run = r;
	if ((r->child = child_start(s->ev, &spec, &cb, r)) == NULL) {
		s->n.spawn_errors++;
		j->run = NULL;
		run_free(r);
	}
}

static void
job_metric(struct sched *s, const char *job, const char *collector,
    const char *result, const struct run *r, const struct child_result *cr)
{
	struct lp_point	*p = &s->pt;
	char		 err[128];

	if (s->opts->once)
		return;
	lp_point_reset(p);
	lp_point_set_measurement(p, "qosd_job", err, sizeof(err));
	lp_point_tag(p, "job", job, 1, err, sizeof(err));
	lp_point_tag(p, "collector", collector, 1, err, sizeof(err));
	lp_point_field_str(p, "result", result, err, sizeof(err));
	if (r != NULL) {
		lp_point_field_int(p, "lag_us", (int64_t)r->lag_us, err,
		    sizeof(err));
		lp_point_field_int(p, "points", (int64_t)r->points, err,
		    sizeof(err));
		lp_point_field_int(p, "rejected", (int64_t)r->rejected, err,
		    sizeof(err));
	}
	if (cr != NULL) {
		lp_point_field_float(p, "duration_ms",
		    (double)cr->duration_us / 1000.0, err, sizeof(err));
		if (cr->status == CHILD_CRASHED ||
		    (cr->status == CHILD_TIMEOUT && cr->code != 0))
			lp_point_field_int(p, "signal", cr->code, err,
			    sizeof(err));
		else
			lp_point_field_int(p, "exit_code", cr->code, err,
			    sizeof(err));
		lp_point_field_int(p, "maxrss_bytes",
		    (int64_t)cr->maxrss_bytes, err, sizeof(err));
		lp_point_field_int(p, "output_bytes", (int64_t)cr->bytes,
		    err, sizeof(err));
	}
	emit(s, p);
}

static void	sched_maybe_exit(struct sched *);

static void
run_count(struct sched *s, const struct child_result *cr)
{
	switch (cr->status) {
	case CHILD_OK:
		s->n.ok++;
		break;
	case CHILD_FAILED:
		s->n.failed++;
		break;
	case CHILD_TIMEOUT:
		s->n.timeout++;
		break;
	case CHILD_CRASHED:
		s->n.crashed++;
		break;
	case CHILD_OVERFLOW:
		s->n.overflow++;
		break;
	case CHILD_SPAWN_ERROR:
		s->n.spawn_errors++;
		break;
	}
	if (cr->status != CHILD_OK)
		s->once_failed = 1;
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
	switch (cr->status) {
	case CHILD_FAILED:
		snprintf(why, sizeof(why), "failed with exit status %d",
		    cr->code);
		break;
	case CHILD_TIMEOUT:
		snprintf(why, sizeof(why), "timed out after %.1f s (%s)",
		    (double)cr->duration_us / 1e6, cr->code == SIGKILL ?
		    "killed" : "terminated");
		break;
	case CHILD_CRASHED:
		snprintf(why, sizeof(why), "crashed: %s", strsignal(cr->code));
		break;
	case CHILD_OVERFLOW:
		snprintf(why, sizeof(why), "printed more than max_output "
		    "allows: killed");
		break;
	default:
		snprintf(why, sizeof(why), "could not start");
		break;
	}
	if (j->fails.failures > 1)
		log_err("%s[%s]: run %s (%lu failed runs in a row)",
		    r->collector, j->name, why, j->fails.failures);
	else
		log_err("%s[%s]: run %s", r->collector, j->name, why);
}
static void	job_free(struct job *);

static void
run_done(void *arg, const struct child_result *cr)
{
	struct run	*r = arg;
	struct job	*j = r->job;
	struct sched	*s = j->s;

	run_count(s, cr);
	run_report(r, cr);
	log_debug("%s[%s]: %s in %.1f ms, %lu points", r->collector,
	    j->name, child_status_str(cr->status),
	    (double)cr->duration_us / 1000.0, r->points);
	job_metric(s, j->name, r->collector, child_status_str(cr->status), r,
	    cr);
	sinks_flush(s);
	j->run = NULL;
	run_free(r);
	if (j->conf == NULL)
		job_free(j);
	pending_drain(s);
	sched_maybe_exit(s);
}

/* Pending runs: waiting for a free slot or for their exclusive group. */

static void
pending_remove(struct sched *s, struct job *j)
{
	struct job	**pp, *prev = NULL;

	for (pp = &s->pending_head; *pp != NULL; pp = &(*pp)->next_pending) {
		if (*pp == j) {
			*pp = j->next_pending;
			if (s->pending_tail == j)
				s->pending_tail = prev;
			j->next_pending = NULL;
			j->pending = 0;
			return;
		}
		prev = *pp;
	}
}

static void
pending_add(struct sched *s, struct job *j, uint64_t due)
{
	j->pending = 1;
	j->due = due;
	j->next_pending = NULL;
	if (s->pending_tail != NULL)
		s->pending_tail->next_pending = j;
	else
		s->pending_head = j;
	s->pending_tail = j;
}

static void
pending_drain(struct sched *s)
{
	struct job	*j, *next;

	if (s->stopping)
		return;
	for (j = s->pending_head; j != NULL; j = next) {
		next = j->next_pending;
		if (child_count() >= s->cfg->max_children)
			break;
		if (can_start(s, j)) {
			pending_remove(s, j);
			run_start(j, j->due, 1);
		}
	}
}

/* Jobs. */

static int	job_on_timer(sd_event_source *, uint64_t, void *);

static void
job_arm(struct job *j, uint64_t deadline)
{
	int	r;

	j->deadline = deadline;
	if (j->timer == NULL) {
		/* Accuracy 1 us: sd-event would coalesce by 250 ms. */
		if ((r = sd_event_add_time(j->s->ev, &j->timer,
		    CLOCK_MONOTONIC, deadline, 1, job_on_timer, j)) < 0) {
			errno = -r;
			fatal("%s: timer: %m", j->name);
		}
		return;
	}
	sd_event_source_set_time(j->timer, deadline);
	sd_event_source_set_enabled(j->timer, SD_EVENT_ONESHOT);
}

static void
job_skip(struct job *j, const char *why)
{
	struct sched	*s = j->s;

	s->n.skipped++;
	if (complain_fail(&j->skips, clock_mono_us()))
		log_err("%s[%s]: run skipped: %s (%lu skipped since the last "
		    "run that started on time)", j->conf->collector, j->name,
		    why, j->skips.failures);
	job_metric(s, j->name, j->conf->collector, "skipped", NULL, NULL);
	sinks_flush(s);
}

static void
job_due(struct job *j, uint64_t due)
{
	struct sched	*s = j->s;

	if (j->run != NULL)
		job_skip(j, "the previous run is still going");
	else if (j->pending) {
		job_skip(j, "the previous run is still waiting for its turn");
		j->due = due;
	} else if (can_start(s, j))
		run_start(j, due, 0);
	else
		pending_add(s, j, due);
}

static int
job_on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct job	*j = arg;
	uint64_t	 due = j->deadline, now = clock_mono_us();
	uint64_t	 next = due + j->conf->interval_us;

	(void)src;
	(void)usec;
	if (j->s->opts->once) {
		job_due(j, due);
		return 0;
	}
	/* Deadlines missed entirely (a stopped process, a suspend). */
	while (next <= now) {
		j->s->n.skipped++;
		next += j->conf->interval_us;
	}
	job_arm(j, next);
	job_due(j, due);
	return 0;
}

static struct job *
job_new(struct sched *s, const struct cfg_job *c)
{
	struct job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->name = strdup(c->name)) == NULL)
		fatal("job_new: %m");
	j->s = s;
	j->conf = c;
	j->next = s->jobs;
	s->jobs = j;
	job_arm(j, s->opts->once ? clock_mono_us() : first_deadline(s, c));
	return j;
}

/*
 * A job a reload removed: no more runs.  A running one stays listed, with
 * conf NULL, until its run is done (its group is still busy till then).
 */
static void
job_retire(struct job *j)
{
	if (j->pending)
		pending_remove(j->s, j);
	j->timer = sd_event_source_disable_unref(j->timer);
	j->conf = NULL;
	if (j->run == NULL)
		job_free(j);
}

/* Unlink and free. */
static void
job_free(struct job *j)
{
	struct job	**pp;

	for (pp = &j->s->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	j->timer = sd_event_source_disable_unref(j->timer);
	free(j->name);
	free(j);
}

/* Sinks. */

static int
sinks_start(struct sched *s, struct cfg *cfg, struct sink_rt *old,
    size_t nold, struct sink_rt **out, size_t *nout)
{
	struct sink_rt	*v;
	char		 err[1024];
	size_t		 i, k;

	if (s->opts->once) {
		/* --once prints to stdout, whatever the sinks say. */
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    (v->name = strdup("stdout")) == NULL)
			fatal("sinks_start: %m");
		v->type = &sink_file_type;
		v->rt = v->type->start(sink_file_stdout, "stdout", s->ev, err,
		    sizeof(err));
		*out = v;
		*nout = 1;
		return v->rt == NULL ? -1 : 0;
	}
	if ((v = calloc(cfg->nsinks ? cfg->nsinks : 1, sizeof(*v))) == NULL)
		fatal("sinks_start: %m");
	for (i = 0; i < cfg->nsinks; i++) {
		const struct cfg_sink *cs = &cfg->sinks[i];

		if ((v[i].name = strdup(cs->name)) == NULL)
			fatal("sinks_start: %m");
		v[i].type = cs->type;
		v[i].conf = cs->state;
		for (k = 0; k < nold; k++)
			if (old[k].rt != NULL && old[k].type == cs->type &&
			    strcmp(old[k].name, cs->name) == 0 &&
			    cs->type->same != NULL &&
			    cs->type->same(old[k].conf, cs->state)) {
				v[i].rt = old[k].rt;
				old[k].rt = NULL;
				break;
			}
		if (v[i].rt == NULL && (v[i].rt = cs->type->start(cs->state,
		    cs->name, s->ev, err, sizeof(err))) == NULL) {
			log_err("%s", err);
			for (k = 0; k <= i; k++) {
				if (v[k].rt != NULL)
					v[k].type->stop(v[k].rt);
				free(v[k].name);
			}
			free(v);
			return -1;
		}
	}
	*out = v;
	*nout = cfg->nsinks;
	return 0;
}

static void
sinks_stop(struct sink_rt *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i].rt != NULL)
			v[i].type->stop(v[i].rt);
		free(v[i].name);
	}
	free(v);
}

/* Self-metrics. */

static uint64_t
rss_bytes(void)
{
	FILE			*f;
	unsigned long long	 size, rss;
	int			 ok;

	if ((f = fopen("/proc/self/statm", "re")) == NULL)
		return 0;
	ok = fscanf(f, "%llu %llu", &size, &rss) == 2;
	fclose(f);
	return ok ? rss * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void
self_metrics(struct sched *s)
{
	struct lp_point	*p = &s->pt;
	struct rusage	 ru;
	char		 err[128];
	size_t		 i, njobs = 0;
	const struct job *j;

	for (j = s->jobs; j != NULL; j = j->next)
		if (j->conf != NULL)
			njobs++;
	getrusage(RUSAGE_SELF, &ru);
	lp_point_reset(p);
	lp_point_set_measurement(p, "qosd", err, sizeof(err));
#define F_INT(k, v) lp_point_field_int(p, k, (int64_t)(v), err, sizeof(err))
	lp_point_field_float(p, "uptime_s",
	    (double)(clock_mono_us() - s->start_mono) / 1e6, err, sizeof(err));
	F_INT("jobs", njobs);
	F_INT("runs_ok", s->n.ok);
	F_INT("runs_failed", s->n.failed);
	F_INT("runs_timeout", s->n.timeout);
	F_INT("runs_crashed", s->n.crashed);
	F_INT("runs_overflow", s->n.overflow);
	F_INT("runs_skipped", s->n.skipped);
	F_INT("runs_waited", s->n.waited);
	F_INT("runs_not_started", s->n.spawn_errors);
	F_INT("lines_rejected", s->n.rejected);
	F_INT("children_running", child_count());
	if (s->lag.seen > 0) {
		F_INT("lag_p50_us", lagstats_pct(&s->lag, 50));
		F_INT("lag_p99_us", lagstats_pct(&s->lag, 99));
		F_INT("lag_max_us", s->lag.max);
	}
	F_INT("rss_bytes", rss_bytes());
	lp_point_field_float(p, "cpu_user_s", (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6, err, sizeof(err));
	lp_point_field_float(p, "cpu_system_s", (double)ru.ru_stime.tv_sec +
	    (double)ru.ru_stime.tv_usec / 1e6, err, sizeof(err));
#undef F_INT
	emit(s, p);
	lagstats_reset(&s->lag);
	for (i = 0; i < s->nsinks; i++) {
		if (s->sinks[i].type->stats == NULL)
			continue;
		lp_point_reset(p);
		lp_point_set_measurement(p, "qosd_sink", err, sizeof(err));
		lp_point_tag(p, "sink", s->sinks[i].name, 1, err, sizeof(err));
		lp_point_tag(p, "type", s->sinks[i].type->name, 1, err,
		    sizeof(err));
		s->sinks[i].type->stats(s->sinks[i].rt, p);
		if (p->nfields > 0)
			emit(s, p);
	}
	sinks_flush(s);
}

static int
self_on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sched	*s = arg;
	uint64_t	 iv = s->cfg->self_interval_us;

	(void)usec;
	self_metrics(s);
	if (iv == 0)
		return 0;
	do
		s->self_deadline += iv;
	while (s->self_deadline <= clock_mono_us());
	sd_event_source_set_time(src, s->self_deadline);
	sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	return 0;
}

static void
self_arm(struct sched *s)
{
	uint64_t	iv = s->cfg->self_interval_us, now_r, now_m;

	s->self_timer = sd_event_source_disable_unref(s->self_timer);
	if (iv == 0 || s->opts->once)
		return;
	now_r = clock_real_us();
	now_m = clock_mono_us();
	s->self_deadline = now_m + (iv - now_r % iv);
	if (sd_event_add_time(s->ev, &s->self_timer, CLOCK_MONOTONIC,
	    s->self_deadline, 1000, self_on_timer, s) < 0)
		fatal("self-metrics timer");
}

/* Reload and shutdown. */

/*
 * The spawner has its own copy of the plugins and their job states: the
 * daemon lets go of them, so that it maps no collector's libraries.
 */
static void
plugins_let_go(struct cfg *cfg)
{
	cfg_forget_plugins(cfg);
	plugin_unload_all();
	/* What the plugins' libraries allocated goes back to the system. */
	malloc_trim(0);
}

static int
cfg_job_same_timing(const struct cfg_job *a, const struct cfg_job *b)
{
	return a->interval_us == b->interval_us && a->splay_us == b->splay_us;
}

/*
 * daemon.realtime: SCHED_FIFO 1 for the daemon and the spawner forked
 * after this (proc.h says why); not for --once.
 */
static void
apply_priority(const struct sched *s, int want)
{
	int	nice;

	/*
	 * Runs put themselves back at nice 0 (proc_normal()), unless a
	 * system call filter denies them setpriority(2) (a unit with all
	 * of ~@resources): then only the kernel's reset-on-fork can.
	 * setpriority() to the value it has tells which.
	 */
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice < 0 && errno == 0 && !proc_resets_on_fork() &&
	    setpriority(PRIO_PROCESS, 0, nice) == -1)
		log_err("runs will inherit nice %d: setpriority() is refused "
		    "here (%s); allow it in the unit's system call filter "
		    "(SystemCallFilter=sched_setscheduler setpriority, as "
		    "qosd.service does) or start qosd with "
		    "SCHED_RESET_ON_FORK", nice, strerror(errno));
	if (s->opts->once || want == proc_is_realtime())
		return;
	if (!want) {
		if (proc_fair() == -1)
			log_err("leaving real-time scheduling: %m");
		else
			log_info("real-time scheduling off (daemon.realtime)");
		return;
	}
	if (proc_realtime() == -1) {
		log_notice("real-time scheduling refused (%s): scheduling at "
		    "nice %d; qosd needs CAP_SYS_NICE or an RLIMIT_RTPRIO of "
		    "1 (LimitRTPRIO=1 in the unit), or daemon.realtime = false",
		    strerror(errno), getpriority(PRIO_PROCESS, 0));
	} else
		log_info("scheduling at SCHED_FIFO priority 1 "
		    "(daemon.realtime)");
}

static void
sched_reload(struct sched *s)
{
	struct cfg	*ncfg, *ocfg = s->cfg;
	struct job	*j, *next;
	struct sink_rt	*nsinks;
	size_t		 nn, i;
	char		 err[4096];

	log_notice("reloading %s", s->opts->config_file);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)clock_mono_us());
	if ((ncfg = cfg_load(s->opts->config_file, err, sizeof(err))) ==
	    NULL) {
		plugin_unload_all();
		log_err("reload failed, the running configuration stays: %s",
		    err);
		sd_notify(0, "READY=1\nSTATUS=reload failed, see the log");
		return;
	}
	apply_priority(s, ncfg->realtime);
	if (child_spawner_start(s->ev) == -1) {
		log_err("reload failed, the running configuration stays");
		apply_priority(s, ocfg->realtime);
		cfg_free(ncfg);
		plugin_unload_all();
		sd_notify(0, "READY=1\nSTATUS=reload failed, see the log");
		return;
	}
	/* A new sink may take over an old one's spool: nothing in flight. */
	for (i = 0; i < s->nsinks; i++)
		if (s->sinks[i].type->sync != NULL)
			s->sinks[i].type->sync(s->sinks[i].rt);
	if (sinks_start(s, ncfg, s->sinks, s->nsinks, &nsinks, &nn) == -1) {
		log_err("reload failed, the running configuration stays");
		child_spawner_abandon();
		apply_priority(s, ocfg->realtime);
		cfg_free(ncfg);
		plugin_unload_all();
		sd_notify(0, "READY=1\nSTATUS=reload failed, see the log");
		return;
	}
	child_spawner_commit();
	plugins_let_go(ncfg);
	sinks_stop(s->sinks, s->nsinks);
	s->sinks = nsinks;
	s->nsinks = nn;
	s->cfg = ncfg;
	/* Jobs that stay keep their timer, so their phase and count. */
	for (j = s->jobs; j != NULL; j = next) {
		const struct cfg_job *c = cfg_job_find(ncfg, j->name);

		next = j->next;
		if (j->conf == NULL)
			continue;
		if (c == NULL) {
			job_retire(j);
			continue;
		}
		if (!cfg_job_same_timing(j->conf, c))
			job_arm(j, first_deadline(s, c));
		j->conf = c;
	}
	for (i = 0; i < ncfg->njobs; i++) {
		for (j = s->jobs; j != NULL; j = j->next)
			if (j->conf != NULL &&
			    strcmp(j->name, ncfg->jobs[i].name) == 0)
				break;
		if (j == NULL)
			job_new(s, &ncfg->jobs[i]);
	}
	if (ocfg->self_interval_us != ncfg->self_interval_us)
		self_arm(s);
	cfg_free(ocfg);
	log_notice("configuration reloaded: %zu jobs, %zu sinks",
	    ncfg->njobs, s->nsinks);
	sd_notify(0, "READY=1\nSTATUS=running");
	pending_drain(s);
}

static void	sched_stop(struct sched *, const char *);

static void
spawner_lost(void *arg)
{
	struct sched	*s = arg;

	log_err("the spawner is gone and cannot be replaced without a "
	    "restart: stopping (systemd restarts qosd)");
	s->lost = 1;
	sched_stop(s, "spawner lost");
}

static void
sched_maybe_exit(struct sched *s)
{
	if (child_count() > 0)
		return;
	if (s->stopping || (s->opts->once && s->pending_head == NULL)) {
		if (s->opts->once) {
			const struct job *j;

			for (j = s->jobs; j != NULL; j = j->next)
				if (j->timer != NULL &&
				    sd_event_source_get_enabled(j->timer,
				    NULL) > 0)
					return;
		}
		sd_event_exit(s->ev, 0);
	}
}

static int
stop_on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct sched	*s = arg;

	(void)src;
	(void)usec;
	if (child_count() > 0) {
		log_err("%zu runs still going after the stop grace: killed",
		    child_count());
		child_kill_all();
	}
	sched_maybe_exit(s);
	return 0;
}

static void
sched_stop(struct sched *s, const char *why)
{
	struct job	*j;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("%s: stopping, %zu runs to finish", why, child_count());
	sd_notify(0, "STOPPING=1");
	for (j = s->jobs; j != NULL; j = j->next) {
		if (j->timer != NULL)
			sd_event_source_set_enabled(j->timer, SD_EVENT_OFF);
		if (j->pending)
			pending_remove(s, j);
	}
	s->self_timer = sd_event_source_disable_unref(s->self_timer);
	if (child_count() > 0)
		sd_event_add_time(s->ev, &s->stop_timer, CLOCK_MONOTONIC,
		    clock_mono_us() + s->cfg->stop_grace_us, 1000,
		    stop_on_timer, s);
	sched_maybe_exit(s);
}

static int
on_signal(sd_event_source *src, const struct signalfd_siginfo *si,
    void *arg)
{
	struct sched	*s = arg;

	(void)src;
	switch (si->ssi_signo) {
	case SIGHUP:
		if (!s->stopping && !s->opts->once)
			sched_reload(s);
		break;
	default:
		sched_stop(s, strsignal((int)si->ssi_signo));
		break;
	}
	return 0;
}

int
sched_main(struct cfg *cfg, const struct sched_opts *opts)
{
	struct sched	 s;
	struct job	*j, *next;
	sigset_t	 mask;
	size_t		 i;
	int		 r, rc = EX_OK;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.opts = opts;
	s.start_mono = clock_mono_us();
	lp_point_init(&s.pt);
	buf_init(&s.line, LP_MAX_LINE + 1024);
	lagstats_reset(&s.lag);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if ((r = sd_event_new(&s.ev)) < 0) {
		errno = -r;
		fatal("sd_event_new: %m");
	}
	if (sd_event_add_signal(s.ev, NULL, SIGTERM, on_signal, &s) < 0 ||
	    sd_event_add_signal(s.ev, NULL, SIGINT, on_signal, &s) < 0 ||
	    sd_event_add_signal(s.ev, NULL, SIGHUP, on_signal, &s) < 0 ||
	    super_init(s.ev) == -1)
		fatal("cannot set up signal handling");
	sd_event_set_watchdog(s.ev, 1);

	apply_priority(&s, cfg->realtime);
	/* Before the sinks read their secrets: runs never see them. */
	if (child_spawner_start(s.ev) == -1)
		fatal("cannot start the spawner");
	child_on_spawner_lost(spawner_lost, &s);
	plugins_let_go(cfg);
	if (sinks_start(&s, cfg, NULL, 0, &s.sinks, &s.nsinks) == -1) {
		cfg_free(cfg);
		sd_event_unref(s.ev);
		return EX_CONFIG;
	}
	for (i = 0; i < cfg->njobs; i++)
		if (!opts->once || opts->only_job == NULL ||
		    strcmp(opts->only_job, cfg->jobs[i].name) == 0)
			job_new(&s, &cfg->jobs[i]);
	self_arm(&s);

	if (!opts->once) {
		log_info("qosd %s started: agent \"%s\", %zu jobs, %zu sinks",
		    QOSD_VERSION, cfg->agent_id, cfg->njobs, s.nsinks);
		sd_notify(0, "READY=1\nSTATUS=running");
	} else if (s.jobs == NULL)
		sd_event_exit(s.ev, 0);

	if ((r = sd_event_loop(s.ev)) < 0) {
		errno = -r;
		log_err("event loop: %m");
		rc = EX_SOFTWARE;
	}
	if (opts->once && s.once_failed && rc == EX_OK)
		rc = 1;
	if (s.lost)
		rc = EX_SOFTWARE;

	if (!opts->once)
		self_metrics(&s);
	for (j = s.jobs; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	sinks_stop(s.sinks, s.nsinks);
	child_spawner_stop();
	s.self_timer = sd_event_source_disable_unref(s.self_timer);
	s.stop_timer = sd_event_source_disable_unref(s.stop_timer);
	sd_event_unref(s.ev);
	lp_point_cleanup(&s.pt);
	buf_cleanup(&s.line);
	cfg_free(s.cfg);
	if (!opts->once)
		log_info("stopped");
	return rc;
}
