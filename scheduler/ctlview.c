/*
 * ctlview.c: what the control core shows (control.h): the daemon's
 * status, its jobs as they are in effect, the one-line status systemd
 * shows (sd_notify STATUS=, refreshed every STATUS_US); and the start of
 * the HTTP API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/child.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/ctlbus.h"
#include "scheduler/ctlhttp.h"
#include "scheduler/ctlint.h"
#include "scheduler/ctlres.h"
#include "scheduler/daemon.h"
#include "scheduler/jobs.h"
#include "scheduler/sched.h"
#include "sinks/sink.h"

#define STATUS_US	10000000ULL

static json_t *
field_value(const struct lp_field *f)
{
	switch (f->type) {
	case LP_FLOAT:
		return json_real(f->v.f);
	case LP_INT:
		return json_integer(f->v.i);
	case LP_UINT:
		return json_integer((json_int_t)f->v.u);
	case LP_BOOL:
		return json_boolean(f->v.b);
	case LP_STRING:
		return json_string(f->v.s);
	}
	return json_null();
}

/* Each sink: its name, type and figures (sink.h stats()). */
static json_t *
sinks_json(struct daemon *d)
{
	struct lp_point	 p;
	json_t		*a = json_array(), *o;
	size_t		 i, k;

	lp_point_init(&p);
	for (i = 0; i < d->nsinks; i++) {
		o = json_pack("{s:s, s:s}", "name", d->sinks[i].name, "type",
		    d->sinks[i].type->name);
		lp_point_reset(&p);
		if (d->sinks[i].type->stats != NULL)
			d->sinks[i].type->stats(d->sinks[i].rt, &p);
		for (k = 0; k < p.nfields; k++)
			json_object_set_new(o, p.fields[k].key,
			    field_value(&p.fields[k]));
		json_array_append_new(a, o);
	}
	lp_point_cleanup(&p);
	return a;
}

static uint64_t
runs_failed(const struct daemon *d)
{
	return d->n.failed + d->n.timeout + d->n.crashed + d->n.overflow +
	    d->n.spawn_errors;
}

int
control_status(struct control *c, json_t **out)
{
	struct daemon	*d = c->d;
	json_t		*o, *bus, *tags = json_object();
	size_t		 i;

	for (i = 0; i < d->cfg->nagent_tags; i++)
		json_object_set_new(tags, d->cfg->agent_tags[i].key,
		    json_string(d->cfg->agent_tags[i].value));
	o = json_pack("{s:s, s:o, s:s, s:I, s:f, s:I}", "agent",
	    d->cfg->agent_id, "agent_tags", tags, "version", QOSD_VERSION,
	    "pid", (json_int_t)getpid(), "uptime_s",
	    (double)(clock_mono_us() - d->start_mono) / 1e6, "jobs",
	    (json_int_t)jobs_count(d->jobs));
	json_object_set_new(o, "runs", json_pack("{s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I}", "ok", (json_int_t)d->n.ok, "failed",
	    (json_int_t)runs_failed(d), "exit_failed",
	    (json_int_t)d->n.failed, "timeout", (json_int_t)d->n.timeout,
	    "crashed", (json_int_t)d->n.crashed, "overflow",
	    (json_int_t)d->n.overflow, "stopped", (json_int_t)d->n.stopped,
	    "skipped", (json_int_t)jobs_skipped(d->jobs), "waited",
	    (json_int_t)d->n.waited, "not_started",
	    (json_int_t)d->n.spawn_errors));
	json_object_set_new(o, "running", json_integer((json_int_t)
	    child_count()));
	json_object_set_new(o, "lines_rejected", json_integer((json_int_t)
	    d->n.rejected));
	if (d->lag.seen > 0)
		json_object_set_new(o, "lag_us", json_pack("{s:I, s:I, s:I}",
		    "p50", (json_int_t)lagstats_pct(&d->lag, 50), "p99",
		    (json_int_t)lagstats_pct(&d->lag, 99), "max",
		    (json_int_t)d->lag.max));
	json_object_set_new(o, "rss_bytes", json_integer((json_int_t)
	    self_rss_bytes()));
	json_object_set_new(o, "sinks", sinks_json(d));
	json_object_set_new(o, "results", json_integer((json_int_t)
	    ctlres_count(c->ring)));
	json_object_set_new(o, "probes", json_boolean(
	    d->cfg->control.allow_probes));
	if ((bus = ctlbus_json(c->bus)) != NULL)
		json_object_set_new(o, "bus", bus);
	*out = o;
	return CTL_OK;
}

/* A CLOCK_MONOTONIC time (us) as a time of day. */
static json_t *
mono_time(uint64_t mono_us)
{
	return ctlres_time(clock_real_ns() + ((int64_t)mono_us -
	    (int64_t)clock_mono_us()) * 1000);
}

static json_t *
job_json(const struct job *j)
{
	const struct cfg_job	*c = j->conf;
	const struct job_info	*ji = j->info;
	json_t			*o, *tags = json_object();
	size_t			 i;

	for (i = 0; i < c->ntags; i++)
		json_object_set_new(tags, c->tags[i].key,
		    json_string(c->tags[i].value));
	o = json_pack("{s:s, s:s, s:f, s:f, s:f, s:I, s:o, s:o, s:s}", "name",
	    j->name, "collector", c->collector, "interval_s",
	    (double)c->interval_us / 1e6, "timeout_s",
	    (double)c->timeout_us / 1e6, "splay_s", (double)c->splay_us / 1e6,
	    "max_output", (json_int_t)c->max_output, "exclusive",
	    c->exclusive != NULL ? json_string(c->exclusive) : json_null(),
	    "tags", tags, "state", j->running ? "running" : j->pending ?
	    "waiting" : "idle");
	/* Shared with the configuration: no copy, no parse per request. */
	if (c->settings != NULL)
		json_object_set(o, "settings", c->settings);
	else
		json_object_set_new(o, "settings", json_object());
	json_object_set_new(o, "next", j->deadline != 0 ?
	    mono_time(j->deadline) : json_null());
	json_object_set_new(o, "last", ji == NULL ? json_null() :
	    json_pack("{s:o, s:s, s:f, s:I}", "time",
	    ctlres_time(ji->last_ns), "result", ji->last_result,
	    "duration_ms", (double)ji->last_duration_us / 1000.0, "points",
	    (json_int_t)ji->last_points));
	json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I}",
	    "runs", (json_int_t)(ji != NULL ? ji->runs : 0), "ok",
	    (json_int_t)(ji != NULL ? ji->ok : 0), "failed",
	    (json_int_t)(ji != NULL ? ji->failed : 0), "skipped",
	    (json_int_t)j->nskipped));
	return o;
}

void
control_index(struct control *c)
{
	const struct daemon	*d = c->d;
	const struct job	*j;
	size_t			 k;

	free(c->byidx);
	if ((c->byidx = calloc(d->cfg->njobs + 1, sizeof(*c->byidx))) == NULL)
		fatal("control: %m");
	c->nbyidx = d->cfg->njobs;
	for (j = jobs_first(d->jobs); j != NULL; j = j->next)
		if (j->conf != NULL && (k = (size_t)(j->conf - d->cfg->jobs)) <
		    c->nbyidx)
			c->byidx[k] = j;
}

int
control_jobs_page(struct control *c, size_t from, size_t n, json_t **out)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = from; i < c->nbyidx && i - from < n; i++)
		if (c->byidx[i] != NULL)
			json_array_append_new(a, job_json(c->byidx[i]));
	*out = a;
	return CTL_OK;
}

size_t
control_njobs(const struct control *c)
{
	return c->nbyidx;
}

int
control_jobs(struct control *c, json_t **out)
{
	json_t	*a;

	control_jobs_page(c, 0, control_njobs(c), &a);
	*out = json_pack("{s:o}", "jobs", a);
	return CTL_OK;
}

int
control_job(struct control *c, const char *name, json_t **out)
{
	const struct job	*j;

	for (j = jobs_first(c->d->jobs); j != NULL; j = j->next)
		if (j->conf != NULL && strcmp(j->name, name) == 0) {
			*out = job_json(j);
			return CTL_OK;
		}
	*out = ctl_error("no job named \"%s\"", name);
	return CTL_NOT_FOUND;
}

/* systemctl status: jobs, runs ok and failed, the last sink error. */
void
control_notify(struct control *c)
{
	struct daemon	*d = c->d;
	struct lp_point	 p;
	const struct lp_field *f;
	char		 sinkerr[256] = "";
	size_t		 i;

	lp_point_init(&p);
	for (i = 0; i < d->nsinks && sinkerr[0] == '\0'; i++) {
		lp_point_reset(&p);
		if (d->sinks[i].type->stats == NULL)
			continue;
		d->sinks[i].type->stats(d->sinks[i].rt, &p);
		if ((f = lp_point_get_field(&p, "last_error")) != NULL &&
		    f->type == LP_STRING && f->v.s[0] != '\0')
			snprintf(sinkerr, sizeof(sinkerr), "; sink %s: %s",
			    d->sinks[i].name, f->v.s);
	}
	lp_point_cleanup(&p);
	sd_notifyf(0, "STATUS=%zu jobs, runs ok %llu, failed %llu, "
	    "skipped %llu%s", jobs_count(d->jobs),
	    (unsigned long long)d->n.ok, (unsigned long long)runs_failed(d),
	    (unsigned long long)jobs_skipped(d->jobs), sinkerr[0] != '\0' ?
	    sinkerr : "; sinks ok");
}

static int
on_status(sd_event_source *s, uint64_t usec, void *arg)
{
	struct control	*c = arg;

	control_notify(c);
	sd_event_source_set_time(s, usec + STATUS_US);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

void
control_listen(struct control *c)
{
	const struct cfg_control	*cc = &c->d->cfg->control;

	if (sd_event_add_time(c->d->ev, &c->status_timer, CLOCK_MONOTONIC,
	    clock_mono_us() + STATUS_US, 1000000, on_status, c) < 0)
		fatal("control: status timer");
	c->bus = ctlbus_new(c, c->d->ev);
	ctlbus_configure(c->bus, c->d->cfg->nats);
	if (cc->socket == NULL) {
		log_info("control API off (control.socket = \"\")");
		return;
	}
	c->http = ctlhttp_new(c, c->d->ev, cc);
}
