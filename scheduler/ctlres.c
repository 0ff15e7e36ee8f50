/*
 * ctlres.c: the control core's ring of results (see ctlres.h).
 */
#define _GNU_SOURCE

#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/ctlres.h"

struct ctlres_ring {
	struct ctl_result *head, *tail;	/* oldest first */
	size_t		 n, max;
	uint64_t	 age_us;
	void		(*watch)(void *, const struct ctl_result *);
	void		*watch_arg;
};

void
ctlres_ring_watch(struct ctlres_ring *r,
    void (*fn)(void *, const struct ctl_result *), void *arg)
{
	r->watch = fn;
	r->watch_arg = arg;
}

void
ctlres_changed(const struct ctl_result *x)
{
	if (x->ring->watch != NULL)
		x->ring->watch(x->ring->watch_arg, x);
}

struct ctlres_ring *
ctlres_ring_new(size_t max, uint64_t age_us)
{
	struct ctlres_ring	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("results: %m");
	r->max = max;
	r->age_us = age_us;
	return r;
}

static void
res_free(struct ctl_result *x)
{
	free(x->job);
	free(x->collector);
	free(x->status);
	free(x->error);
	free(x->lp);
	free(x);
}

void
ctlres_remove(struct ctl_result *x)
{
	struct ctlres_ring	*r = x->ring;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		r->head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		r->tail = x->prev;
	r->n--;
	res_free(x);
}

void
ctlres_ring_free(struct ctlres_ring *r)
{
	if (r == NULL)
		return;
	while (r->head != NULL)
		ctlres_remove(r->head);
	free(r);
}

/* Too many or too old: the oldest that no run holds go. */
static void
expire(struct ctlres_ring *r)
{
	struct ctl_result	*x, *next;
	uint64_t		 now = clock_mono_us();

	for (x = r->head; x != NULL; x = next) {
		next = x->next;
		if (x->live)
			continue;
		if (r->n > r->max || now - x->finished_us >= r->age_us)
			ctlres_remove(x);
	}
}

void
ctlres_ring_limits(struct ctlres_ring *r, size_t max, uint64_t age_us)
{
	r->max = max;
	r->age_us = age_us;
	expire(r);
}

struct ctl_result *
ctlres_add(struct ctlres_ring *r, const char *id, int probe, const char *job,
    const char *collector)
{
	struct ctl_result	*x;

	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (job != NULL && (x->job = strdup(job)) == NULL) ||
	    (x->collector = strdup(collector)) == NULL)
		fatal("results: %m");
	snprintf(x->id, sizeof(x->id), "%s", id);
	x->ring = r;
	x->probe = probe;
	x->live = 1;
	x->state = CTLRES_QUEUED;
	x->created_ns = clock_real_ns();
	x->prev = r->tail;
	if (r->tail != NULL)
		r->tail->next = x;
	else
		r->head = x;
	r->tail = x;
	r->n++;
	expire(r);
	return x;
}

struct ctl_result *
ctlres_find(struct ctlres_ring *r, const char *id)
{
	struct ctl_result	*x;

	expire(r);
	for (x = r->tail; x != NULL; x = x->prev)
		if (strcmp(x->id, id) == 0)
			return x;
	return NULL;
}

size_t
ctlres_count(const struct ctlres_ring *r)
{
	return r->n;
}

int
ctlres_valid_id(const char *id)
{
	const char	*p;

	if (*id == '\0' || strlen(id) > CTL_ID_MAX)
		return 0;
	for (p = id; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == ':' || *p == '-'))
			return 0;
	return 1;
}

void
ctlres_make_id(char *id)
{
	static uint64_t	 seq;
	uint64_t	 v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)clock_real_ns() ^ (++seq << 40);
	snprintf(id, CTL_ID_MAX + 1, "%016llx", (unsigned long long)v);
}

const char *
ctlres_state_str(enum ctlres_state s)
{
	switch (s) {
	case CTLRES_QUEUED:
		return "queued";
	case CTLRES_WAITING:
		return "waiting";
	case CTLRES_RUNNING:
		return "running";
	case CTLRES_DONE:
		return "done";
	case CTLRES_FAILED:
		return "failed";
	}
	return "failed";
}

json_t *
ctlres_time(int64_t ns)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / 1000000000);
	char		buf[64], out[80];

	if (ns <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%03dZ", buf,
	    (int)(ns % 1000000000 / 1000000));
	return json_string(out);
}

static json_t *
field_json(const struct lp_field *f)
{
	switch (f->type) {
	case LP_FLOAT:
		return json_real(f->v.f);
	case LP_INT:
		return json_integer(f->v.i);
	case LP_UINT:
		return f->v.u <= INT64_MAX ? json_integer((json_int_t)f->v.u) :
		    json_real((double)f->v.u);
	case LP_BOOL:
		return json_boolean(f->v.b);
	case LP_STRING:
		return json_string(f->v.s);
	}
	return json_null();
}

/* The points kept, each line parsed again (they were encoded by us). */
static json_t *
points_json(const struct ctl_result *x)
{
	struct lp_point	 p;
	json_t		*a = json_array(), *o, *tags, *fields;
	const char	*s = x->lp, *end = x->lp + x->lplen, *nl;
	char		 err[256];
	size_t		 i;

	lp_point_init(&p);
	for (; s != NULL && s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			break;
		if (lp_parse(s, (size_t)(nl - s), &p, err, sizeof(err)) == -1)
			continue;
		tags = json_object();
		for (i = 0; i < p.ntags; i++)
			json_object_set_new(tags, p.tags[i].key,
			    json_string(p.tags[i].value));
		fields = json_object();
		for (i = 0; i < p.nfields; i++)
			json_object_set_new(fields, p.fields[i].key,
			    field_json(&p.fields[i]));
		o = json_pack("{s:s, s:o, s:o, s:I}", "measurement",
		    p.measurement, "tags", tags, "fields", fields, "time",
		    (json_int_t)p.time);
		json_array_append_new(a, o);
	}
	lp_point_cleanup(&p);
	return a;
}

json_t *
ctlres_json(const struct ctl_result *x)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", x->id, "kind",
	    x->probe ? "probe" : "run", "state", ctlres_state_str(x->state),
	    "created", ctlres_time(x->created_ns), "started",
	    ctlres_time(x->started_ns), "finished",
	    ctlres_time(x->finished_ns));
	if (x->job != NULL)
		json_object_set_new(o, "job", json_string(x->job));
	json_object_set_new(o, "collector", json_string(x->collector));
	if (x->status != NULL)
		json_object_set_new(o, "run", json_pack("{s:s, s:i, s:f}",
		    "status", x->status, "code", x->code, "duration_ms",
		    (double)x->duration_us / 1000.0));
	if (x->error != NULL)
		json_object_set_new(o, "error", json_string(x->error));
	if (x->state == CTLRES_DONE || x->state == CTLRES_FAILED) {
		json_object_set_new(o, "points", points_json(x));
		json_object_set_new(o, "line_protocol", json_stringn(
		    x->lp != NULL ? x->lp : "", x->lplen));
		if (x->dropped > 0)
			json_object_set_new(o, "points_dropped",
			    json_integer((json_int_t)x->dropped));
	}
	return o;
}
