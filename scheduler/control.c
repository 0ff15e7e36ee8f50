/*
 * control.c: the control core (see control.h): runs and probes asked by
 * id, the allow-list and rate of probes, the reload, the results' life.
 * The answers that only read (status, jobs) are in ctlview.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/ctlacl.h"
#include "scheduler/ctlbus.h"
#include "scheduler/ctlhttp.h"
#include "scheduler/ctlint.h"
#include "scheduler/ctlres.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/probecfg.h"
#include "scheduler/spawner/spawner.h"

#define MINUTE_US	60000000ULL

json_t *
ctl_error(const char *fmt, ...)
{
	va_list	ap;
	char	msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "error", msg);
}

/* A result's state changed: the watcher hears it. */
static void
changed(void *arg, const struct ctl_result *x)
{
	struct control	*c = arg;
	json_t		*o;

	if (c->watch == NULL)
		return;
	o = ctlres_json(x);
	c->watch(c->watch_arg, o);
	json_decref(o);
}

void
control_points(struct control *c, const char *lines, size_t len)
{
	if (c != NULL)
		ctlbus_points(c->bus, lines, len);
}

void
control_points_flush(struct control *c)
{
	if (c != NULL)
		ctlbus_points_flush(c->bus);
}

void
control_watch(struct control *c, ctl_watch fn, void *arg)
{
	c->watch = fn;
	c->watch_arg = arg;
}

struct control *
control_new(struct daemon *d)
{
	struct control	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("control: %m");
	c->d = d;
	c->ring = ctlres_ring_new(d->cfg->control.results_max,
	    d->cfg->control.results_age_us);
	ctlres_ring_watch(c->ring, changed, c);
	control_configure(c);
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	ctlhttp_free(c->http);
	ctlbus_free(c->bus);
	c->status_timer = sd_event_source_disable_unref(c->status_timer);
	c->reload_ev = sd_event_source_disable_unref(c->reload_ev);
	free(c->waiters);
	ctlres_ring_free(c->ring);
	ctlacl_free(c->acl);
	free(c->probe_times);
	free(c->byidx);
	free(c);
}

void
control_configure(struct control *c)
{
	const struct cfg_control	*cc = &c->d->cfg->control;

	ctlacl_free(c->acl);
	c->acl = ctlacl_new(cc->targets, cc->ntargets);
	ctlres_ring_limits(c->ring, cc->results_max, cc->results_age_us);
	control_index(c);
	if (c->nprobe_times != cc->max_per_minute) {
		free(c->probe_times);
		if ((c->probe_times = calloc(cc->max_per_minute,
		    sizeof(*c->probe_times))) == NULL)
			fatal("control: %m");
		c->nprobe_times = cc->max_per_minute;
		c->probe_next = 0;
	}
	if (c->bus != NULL)
		ctlbus_configure(c->bus, c->d->cfg->nats);
	control_notify(c);
}

void
control_stopping(struct control *c)
{
	if (c != NULL)
		c->stopping = 1;
}

/* An id given (valid, unused) or made. */
static int
take_id(struct control *c, const char *given, char *id, json_t **out)
{
	if (given == NULL) {
		do
			ctlres_make_id(id);
		while (ctlres_find(c->ring, id) != NULL);
		return 0;
	}
	if (!ctlres_valid_id(given)) {
		*out = ctl_error("\"id\": expected 1 to %d of A-Z a-z 0-9 . _ "
		    ": -", CTL_ID_MAX);
		return CTL_BAD_REQUEST;
	}
	if (ctlres_find(c->ring, given) != NULL) {
		*out = ctl_error("the id \"%s\" is taken: results are kept "
		    "by id", given);
		return CTL_CONFLICT;
	}
	snprintf(id, CTL_ID_MAX + 1, "%s", given);
	return 0;
}

static struct job *
job_named(struct control *c, const char *name)
{
	struct job	*j;

	if (cfg_job_find(c->d->cfg, name) == NULL)
		return NULL;
	for (j = jobs_first(c->d->jobs); j != NULL; j = j->next)
		if (j->conf != NULL && strcmp(j->name, name) == 0)
			return j;
	return NULL;
}

int
control_run(struct control *c, const char *name, const char *given,
    json_t **out)
{
	struct ctl_result	*x;
	struct job		*j;
	char			 id[CTL_ID_MAX + 1];
	int			 code;

	if (c->stopping) {
		*out = ctl_error("qosd is stopping");
		return CTL_UNAVAILABLE;
	}
	if ((j = job_named(c, name)) == NULL) {
		*out = ctl_error("no job named \"%s\"", name);
		return CTL_NOT_FOUND;
	}
	if ((code = take_id(c, given, id, out)) != 0)
		return code;
	/* Refused before a result is kept (keeping one may expire another). */
	if (j->request != NULL || (j->running && !runs_joinable(j))) {
		*out = ctl_error("job \"%s\" is %s already: ask again when it "
		    "is done", name, j->running ? "running" : "asked to run");
		return CTL_CONFLICT;
	}
	x = ctlres_add(c->ring, id, 0, name, j->conf->collector);
	switch (jobs_request(c->d->jobs, j, x)) {
	case JOBS_REQ_STARTED:
	case JOBS_REQ_JOINED:
		break;
	case JOBS_REQ_WAITING:
		x->state = CTLRES_WAITING;
		break;
	case JOBS_REQ_BUSY:
		ctlres_remove(x);
		*out = ctl_error("job \"%s\" is busy", name);
		return CTL_CONFLICT;
	case JOBS_REQ_FAILED:
		*out = json_pack("{s:s, s:s, s:s}", "id", id, "state",
		    "failed", "error", "the run could not start (see the "
		    "log)");
		return CTL_UNAVAILABLE;
	}
	log_info("control: run of job \"%s\" asked, id %s (%s)", name, id,
	    ctlres_state_str(x->state));
	if (x->state == CTLRES_QUEUED || x->state == CTLRES_WAITING)
		ctlres_changed(x);
	*out = json_pack("{s:s, s:s}", "id", id, "state",
	    ctlres_state_str(x->state));
	return CTL_ACCEPTED;
}

int
control_result(struct control *c, const char *id, json_t **out)
{
	struct ctl_result	*x;

	if ((x = ctlres_find(c->ring, id)) == NULL) {
		*out = ctl_error("no result \"%s\" (results are kept for %g s, "
		    "at most %u)", id, (double)c->d->cfg->control.results_age_us
		    / 1e6, c->d->cfg->control.results_max);
		return CTL_NOT_FOUND;
	}
	*out = ctlres_json(x);
	return CTL_OK;
}

/* Probes. */

/* A refusal: logged (rate-limited), then answered. */
static void
refuse(struct control *c, const char *who, int code, json_t *body,
    ctl_done done, void *arg)
{
	if (code == CTL_FORBIDDEN || code == CTL_TOO_MANY) {
		if (complain_fail(&c->refusals, clock_mono_us()))
			log_notice("control: probe from %s refused: %s (%lu "
			    "refused so far)", who, json_string_value(
			    json_object_get(body, "error")),
			    c->refusals.failures);
	} else
		log_info("control: probe from %s refused: %s", who,
		    json_string_value(json_object_get(body, "error")));
	done(arg, code, body);
}

static int
collector_index(const struct cfg_control *cc, const char *name)
{
	size_t	i;

	for (i = 0; i < cc->ncollectors; i++)
		if (strcmp(cc->collectors[i], name) == 0)
			return (int)i;
	return -1;
}

/* Every target the settings name is on the allow-list. */
static int
check_targets(struct control *c, int ci, const json_t *settings,
    json_t **out)
{
	char *const	*names = c->d->cfg->control.collector_targets[ci];
	const json_t	*v, *e;
	size_t		 i, k;

	for (i = 0; names != NULL && names[i] != NULL; i++) {
		if ((v = json_object_get(settings, names[i])) == NULL)
			continue;
		for (k = 0; k < (json_is_array(v) ? json_array_size(v) : 1);
		    k++) {
			e = json_is_array(v) ? json_array_get(v, k) : v;
			/* Not a string: its collector says what is wrong. */
			if (!json_is_string(e) || ctlacl_allows(c->acl,
			    json_string_value(e)))
				continue;
			*out = ctl_error("settings.%s: \"%s\" is not allowed "
			    "(control.targets)", names[i],
			    json_string_value(e));
			return CTL_FORBIDDEN;
		}
	}
	return 0;
}

/* At most max_per_minute probes in any minute. */
static int
rate_ok(struct control *c)
{
	uint64_t	now = clock_mono_us(), *t;

	t = &c->probe_times[c->probe_next];
	if (*t != 0 && now - *t < MINUTE_US)
		return 0;
	*t = now;
	c->probe_next = (c->probe_next + 1) % c->nprobe_times;
	return 1;
}

/* The probe's timeout: settings.timeout, or control.probe_timeout. */
static int
probe_timeout(struct control *c, const json_t *settings, uint64_t *us,
    json_t **out)
{
	uint64_t	 max = c->d->cfg->control.probe_timeout_us;
	const json_t	*t = json_object_get(settings, "timeout");
	double		 v;

	*us = max;
	if (t == NULL)
		return 0;
	v = json_number_value(t);
	if (!json_is_number(t) || v < 0.001 || v * 1e6 > (double)max) {
		*out = ctl_error("settings.timeout: expected a number of "
		    "seconds from 0.001 to %g (control.probe_timeout)",
		    (double)max / 1e6);
		return CTL_INVALID;
	}
	*us = (uint64_t)(v * 1e6);
	return 0;
}

/* What may be asked: the checks before anything goes to the spawner. */
static int
probe_allowed(struct control *c, const json_t *req, const char **coll,
    const json_t **settings, json_t **out)
{
	const struct cfg_control	*cc = &c->d->cfg->control;
	int				 ci;

	if (c->stopping) {
		*out = ctl_error("qosd is stopping");
		return CTL_UNAVAILABLE;
	}
	if (!cc->allow_probes) {
		*out = ctl_error("ad-hoc probes are off (control.allow_probes "
		    "= false)");
		return CTL_FORBIDDEN;
	}
	if (!json_is_object(req) || (*coll = json_string_value(
	    json_object_get(req, "collector"))) == NULL) {
		*out = ctl_error("expected {\"collector\": \"NAME\", "
		    "\"settings\": {...}}");
		return CTL_BAD_REQUEST;
	}
	if ((*settings = json_object_get(req, "settings")) == NULL)
		*settings = json_object();
	else
		json_incref((json_t *)(uintptr_t)*settings);
	if ((ci = collector_index(cc, *coll)) == -1) {
		*out = ctl_error("collector \"%.64s\" is not allowed for "
		    "probes (control.collectors)", *coll);
		return CTL_FORBIDDEN;
	}
	if (!json_is_object(*settings)) {
		*out = ctl_error("settings: expected an object");
		return CTL_BAD_REQUEST;
	}
	return check_targets(c, ci, *settings, out);
}

void
control_probe(struct control *c, const json_t *req, const char *who,
    ctl_done done, void *arg)
{
	const json_t		*settings = NULL, *jid;
	const char		*coll = NULL, *given = NULL;
	struct ctl_result	*x;
	struct buf		 text;
	char			 id[CTL_ID_MAX + 1], err[1024];
	uint64_t		 timeout;
	json_t			*out = NULL;
	int			 code;

	buf_init(&text, SPAWN_PROBE_TEXT_MAX);
	if ((code = probe_allowed(c, req, &coll, &settings, &out)) != 0 ||
	    (code = probe_timeout(c, settings, &timeout, &out)) != 0)
		goto refused;
	if ((jid = json_object_get(req, "id")) != NULL &&
	    (given = json_string_value(jid)) == NULL) {
		out = ctl_error("\"id\": expected a string");
		code = CTL_BAD_REQUEST;
		goto refused;
	}
	if ((code = take_id(c, given, id, &out)) != 0)
		goto refused;
	if (probecfg_text(settings, SPAWN_PROBE_TEXT_MAX, &text, err,
	    sizeof(err)) == -1) {
		out = ctl_error("%s", err);
		code = CTL_BAD_REQUEST;
		goto refused;
	}
	if (!rate_ok(c)) {
		out = ctl_error("more than %zu probes in a minute "
		    "(control.max_per_minute)", c->nprobe_times);
		code = CTL_TOO_MANY;
		goto refused;
	}
	x = ctlres_add(c->ring, id, 1, NULL, coll);
	x->pending = done;
	x->pending_arg = arg;
	log_info("control: probe %s of %s from %s", id, coll, who);
	if (runs_probe(c->d, coll, text.data, text.len, timeout, x) == -1) {
		x->pending = NULL;
		ctlres_remove(x);
		done(arg, CTL_UNAVAILABLE, ctl_error("the probe could not be "
		    "started (see the log)"));
	}
	json_decref((json_t *)(uintptr_t)settings);
	buf_cleanup(&text);
	return;
refused:
	json_decref((json_t *)(uintptr_t)settings);
	buf_cleanup(&text);
	refuse(c, who, code, out, done, arg);
}

/* The life of a result (control.h, for runs.c). */

const char *
ctlres_id(const struct ctl_result *x)
{
	return x->id;
}

/* A probe's first answer: it runs, or it never will. */
static void
answer(struct ctl_result *x, int code, json_t *body)
{
	ctl_done	 done = x->pending;

	x->pending = NULL;
	if (done != NULL)
		done(x->pending_arg, code, body);
	else
		json_decref(body);
}

void
ctlres_running(struct ctl_result *x)
{
	x->state = CTLRES_RUNNING;
	x->started_ns = clock_real_ns();
	ctlres_changed(x);
	answer(x, CTL_ACCEPTED, json_pack("{s:s, s:s}", "id", x->id, "state",
	    "running"));
}

void
ctlres_point(struct ctl_result *x, const char *line, size_t len)
{
	char	*p;

	x->npoints++;
	if (x->lplen + len > CTLRES_POINTS_MAX) {
		x->dropped++;
		return;
	}
	if ((p = realloc(x->lp, x->lplen + len)) == NULL)
		fatal("results: %m");
	memcpy(p + x->lplen, line, len);
	x->lp = p;
	x->lplen += len;
}

static void
ended(struct ctl_result *x, enum ctlres_state st)
{
	x->state = st;
	x->live = 0;
	x->finished_ns = clock_real_ns();
	x->finished_us = clock_mono_us();
}

void
ctlres_done(struct ctl_result *x, const struct child_result *cr,
    unsigned long points)
{
	(void)points;
	if ((x->status = strdup(child_status_str(cr->status))) == NULL)
		fatal("results: %m");
	x->code = cr->code;
	x->duration_us = cr->duration_us;
	ended(x, cr->status == CHILD_OK ? CTLRES_DONE : CTLRES_FAILED);
	ctlres_changed(x);
	if (x->pending != NULL)
		answer(x, CTL_UNAVAILABLE, ctl_error("the probe could not be "
		    "started: %s", x->status));
}

void
ctlres_failed(struct ctl_result *x, const char *why)
{
	free(x->error);
	if ((x->error = strdup(why)) == NULL)
		fatal("results: %m");
	ended(x, CTLRES_FAILED);
	ctlres_changed(x);
	if (x->pending != NULL)
		answer(x, CTL_UNAVAILABLE, ctl_error("%s", why));
}

void
ctlres_refused(struct ctl_result *x, const char *err)
{
	json_t	*body;

	log_info("control: probe %s: %s refused it: %s", x->id, x->collector,
	    err);
	body = json_pack("{s:s, s:s}", "error", err, "collector",
	    x->collector);
	x->live = 0;
	answer(x, CTL_INVALID, body);
	ctlres_remove(x);
}

/* Reload, on the loop's next turn; every asker hears how it went. */

static int
on_reload(sd_event_source *s, void *arg)
{
	struct control	*c = arg;
	struct waiter	*w = c->waiters;
	size_t		 i, n = c->nwaiters;
	char		 err[4096];
	int		 r;

	(void)s;
	c->reload_ev = sd_event_source_disable_unref(c->reload_ev);
	c->waiters = NULL;
	c->nwaiters = 0;
	r = daemon_reload(c->d, "reload asked through the control API", err,
	    sizeof(err));
	for (i = 0; i < n; i++)
		w[i].done(w[i].arg, r == 0 ? CTL_OK : CTL_INVALID, r == 0 ?
		    json_pack("{s:b, s:I, s:I}", "reloaded", 1, "jobs",
		    (json_int_t)c->d->cfg->njobs, "sinks",
		    (json_int_t)c->d->nsinks) : ctl_error("%s", err));
	free(w);
	return 0;
}

void
control_reload(struct control *c, ctl_done done, void *arg)
{
	struct waiter	*w;

	if (c->stopping) {
		done(arg, CTL_UNAVAILABLE, ctl_error("qosd is stopping"));
		return;
	}
	if ((w = realloc(c->waiters, (c->nwaiters + 1) * sizeof(*w))) ==
	    NULL)
		fatal("control: %m");
	c->waiters = w;
	w[c->nwaiters].done = done;
	w[c->nwaiters++].arg = arg;
	if (c->reload_ev == NULL && sd_event_add_defer(c->d->ev,
	    &c->reload_ev, on_reload, c) < 0)
		fatal("control: cannot schedule the reload");
}
