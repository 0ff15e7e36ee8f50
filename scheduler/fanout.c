/*
 * fanout.c: the daemon's sinks: started from a configuration (kept
 * across a reload when unchanged), given every point, flushed after each
 * run, synced before a reload, stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/daemon.h"
#include "scheduler/sched.h"
#include "sinks/file.h"
#include "sinks/sink.h"

/* A point that cannot go out: counted, told (rate-limited). */
static int
dropped(struct daemon *d, const struct lp_point *p, const char *why)
{
	static struct complain	c;

	d->n.rejected++;
	if (complain_fail(&c, clock_mono_us()))
		log_err("point \"%s\" dropped: %s (%lu so far)",
		    p->measurement, why, c.failures);
	return -1;
}

int
fanout_emit(struct daemon *d, struct lp_point *p)
{
	char	 err[256];
	size_t	 i;

	if (lp_point_tag(p, "agent", d->cfg->agent_id, 1, err,
	    sizeof(err)) == -1)
		return dropped(d, p, err);
	for (i = 0; i < d->cfg->nagent_tags; i++)
		if (lp_point_tag(p, d->cfg->agent_tags[i].key,
		    d->cfg->agent_tags[i].value, 0, err, sizeof(err)) == -1)
			return dropped(d, p, err);
	if (!p->has_time)
		lp_point_set_time(p, clock_real_ns());
	buf_reset(&d->line);
	if (lp_encode(p, &d->line, err, sizeof(err)) == -1)
		return dropped(d, p, err);
	for (i = 0; i < d->nsinks; i++)
		d->sinks[i].type->write(d->sinks[i].rt, d->line.data,
		    d->line.len);
	control_points(d->ctl, d->line.data, d->line.len);
	return 0;
}

void
fanout_flush(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nsinks; i++)
		if (d->sinks[i].type->flush != NULL)
			d->sinks[i].type->flush(d->sinks[i].rt);
	control_points_flush(d->ctl);
}

void
fanout_sync(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nsinks; i++)
		if (d->sinks[i].type->sync != NULL)
			d->sinks[i].type->sync(d->sinks[i].rt);
}

unsigned int
fanout_fill(const struct daemon *d)
{
	unsigned int	f, most = 0;
	size_t		i;

	for (i = 0; i < d->nsinks; i++)
		if (d->sinks[i].type->fill != NULL &&
		    (f = d->sinks[i].type->fill(d->sinks[i].rt)) > most)
			most = f;
	return most;
}

/* --once prints to stdout, whatever the sinks say. */
static int
start_stdout(struct daemon *d, struct sink_rt **out, size_t *nout,
    char *err, size_t errlen)
{
	struct sink_rt	*v;

	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->name = strdup("stdout")) == NULL)
		fatal("sinks: %m");
	v->type = &sink_file_type;
	v->rt = v->type->start(sink_file_stdout, "stdout", d->ev, err,
	    errlen);
	*out = v;
	*nout = 1;
	return v->rt == NULL ? -1 : 0;
}

/*
 * The running sink of old that cs can keep, taken out of old (*from its
 * index there), or NULL.
 */
static void *
take_same(const struct cfg_sink *cs, struct sink_rt *old, size_t nold,
    size_t *from)
{
	size_t	 k;
	void	*rt;

	for (k = 0; k < nold; k++)
		if (old[k].rt != NULL && old[k].type == cs->type &&
		    strcmp(old[k].name, cs->name) == 0 &&
		    cs->type->same != NULL &&
		    cs->type->same(old[k].conf, cs->state)) {
			rt = old[k].rt;
			old[k].rt = NULL;
			*from = k;
			return rt;
		}
	return NULL;
}

/*
 * A start that failed: sinks kept from old go back to it (the running
 * configuration goes on with them), the new ones stop.
 */
static void
undo(struct sink_rt *v, const size_t *from, size_t n, struct sink_rt *old)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (from[i] != (size_t)-1) {
			old[from[i]].rt = v[i].rt;
			v[i].rt = NULL;
		}
	fanout_stop(v, n);
}

int
fanout_start(struct daemon *d, const struct cfg *cfg, struct sink_rt *old,
    size_t nold, struct sink_rt **out, size_t *nout, char *err,
    size_t errlen)
{
	struct sink_rt	*v;
	size_t		 i, *from;

	if (d->opts->once)
		return start_stdout(d, out, nout, err, errlen);
	if ((v = calloc(cfg->nsinks ? cfg->nsinks : 1, sizeof(*v))) == NULL ||
	    (from = calloc(cfg->nsinks ? cfg->nsinks : 1,
	    sizeof(*from))) == NULL)
		fatal("sinks: %m");
	for (i = 0; i < cfg->nsinks; i++) {
		const struct cfg_sink *cs = &cfg->sinks[i];

		if ((v[i].name = strdup(cs->name)) == NULL)
			fatal("sinks: %m");
		v[i].type = cs->type;
		v[i].conf = cs->state;
		from[i] = (size_t)-1;
		v[i].rt = take_same(cs, old, nold, &from[i]);
		if (v[i].rt == NULL && (v[i].rt = cs->type->start(cs->state,
		    cs->name, d->ev, err, errlen)) == NULL) {
			undo(v, from, i + 1, old);
			free(from);
			return -1;
		}
	}
	free(from);
	*out = v;
	*nout = cfg->nsinks;
	fanout_jobs(d, cfg, v, cfg->nsinks);
	return 0;
}

void
fanout_jobs(struct daemon *d, const struct cfg *cfg, struct sink_rt *v,
    size_t n)
{
	const char	**names;
	size_t		  i;

	(void)d;
	for (i = 0; i < n && v[i].type->jobs == NULL; i++)
		;
	if (i == n)
		return;
	if ((names = calloc(cfg->njobs + 1, sizeof(*names))) == NULL)
		fatal("sinks: %m");
	for (i = 0; i < cfg->njobs; i++)
		names[i] = cfg->jobs[i].name;
	for (i = 0; i < n; i++)
		if (v[i].rt != NULL && v[i].type->jobs != NULL)
			v[i].type->jobs(v[i].rt, names, cfg->njobs);
	free(names);
}

void
fanout_stop(struct sink_rt *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (v[i].rt != NULL)
			v[i].type->stop(v[i].rt);
		free(v[i].name);
	}
	free(v);
}
