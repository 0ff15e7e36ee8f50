/*
 * spoolsink.c: the daemon's side of a spooled sink (see spoolsink.h): the
 * spool it appends to through a writer process, the flush timer that
 * seals its segments, and the process that delivers them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "lib/io.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "sinks/shipctl.h"
#include "sinks/spool.h"
#include "sinks/spoollock.h"
#include "sinks/spoolsink.h"
#include "sinks/writer.h"

struct spoolsink {
	char		*name;
	char		*spool_dir;
	struct spool_lock *lock;	/* its writer and shipper keep it */
	uint64_t	 spool_max;
	int		 do_fsync;
	uint64_t	 flush_us;
	struct writer	*w;		/* appends to the spool, seals */
	unsigned long	 open_lines;	/* since the last seal */
	uint64_t	 open_bytes;
	sd_event	*ev;
	sd_event_source	*timer;
	unsigned long	 batch_size;
	uint64_t	 batch_bytes;
	struct shipctl	*ship;
	uint64_t	 spooled;	/* lines, since start */
};

char *
spoolsink_state_dir(const config_setting_t *s)
{
	const config_setting_t	*d;
	const char		*sd = STATEDIR;
	char			*p;

	if ((d = config_lookup(s->config, "daemon.state_dir")) != NULL &&
	    config_setting_type(d) == CONFIG_TYPE_STRING)
		sd = config_setting_get_string(d);
	if ((p = strdup(sd)) == NULL)
		fatal("spool: %m");
	return p;
}

char *
spoolsink_dir(const char *spool_dir, const char *state_dir, const char *name)
{
	char	*spool, *p;

	if (spool_dir != NULL) {
		if ((p = strdup(spool_dir)) == NULL)
			fatal("spool: %m");
		return p;
	}
	spool = io_path_join(state_dir, "spool");
	p = io_path_join(spool, name);
	free(spool);
	return p;
}

static void
seal(struct spoolsink *f)
{
	if (f->open_bytes > 0)
		writer_seal(f->w);
	f->open_lines = 0;
	f->open_bytes = 0;
}

/* The spool, in its writer process (writer.h). */

static void *
spool_target_open(void *arg, char *err, size_t errlen)
{
	struct spoolsink	*f = arg;
	struct spool		*sp;
	char			 tmp[512];

	if ((sp = spool_open(f->spool_dir, f->name, f->spool_max,
	    f->do_fsync, tmp, sizeof(tmp))) == NULL)
		snprintf(err, errlen, "sink %s: spool: %s", f->name, tmp);
	return sp;
}

static void
spool_target_forget(void *t)
{
	spool_forget(t);
}

/* The writer keeps the spool's descriptors and its lock. */
static size_t
spool_target_fds(void *arg, void *t, int *fds, size_t max)
{
	struct spoolsink	*f = arg;
	size_t			 n;

	if (max == 0)
		return 0;
	n = spool_fds(t, fds, max - 1);
	fds[n++] = spool_lock_fd(f->lock);
	return n;
}

static void
spool_target_append(void *t, const char *p, size_t len, unsigned long n,
    struct writer_figs *fg)
{
	if (spool_append(t, p, len, n) == 0)
		fg->lines += n;
	fg->dropped = spool_dropped(t);
}

static void
spool_target_seal(void *t, struct writer_figs *fg)
{
	unsigned long	segs;

	spool_seal(t);
	spool_usage(t, &fg->bytes, &segs);
	fg->segments = segs;
	fg->dropped = spool_dropped(t);
}

static void
spool_target_close(void *t, struct writer_figs *fg)
{
	spool_target_seal(t, fg);
	spool_close(t);
}

static const struct writer_ops spool_ops = {
	spool_target_open, spool_target_forget, spool_target_fds,
	spool_target_append, spool_target_seal, spool_target_close
};

static int
on_flush_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct spoolsink	*f = arg;

	seal(f);
	sd_event_source_set_time(src, usec + f->flush_us);
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

struct spoolsink *
spoolsink_start(const char *name, sd_event *ev,
    const struct spoolsink_params *p, char *err, size_t errlen)
{
	struct spoolsink	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(name)) == NULL ||
	    (f->spool_dir = strdup(p->spool_dir)) == NULL)
		fatal("sink %s: %m", name);
	f->ev = sd_event_ref(ev);
	f->spool_max = p->spool_max;
	f->do_fsync = p->do_fsync;
	f->batch_size = p->batch_size;
	f->batch_bytes = p->batch_bytes;
	if ((f->lock = spool_lock(f->spool_dir, name, err, errlen)) == NULL ||
	    (f->w = writer_start(name, ev, &spool_ops, f, err,
	    errlen)) == NULL)
		goto bad;
	f->flush_us = (uint64_t)(p->flush_interval * 1e6);
	if (f->flush_us > 0 && sd_event_add_time_relative(ev, &f->timer,
	    CLOCK_MONOTONIC, f->flush_us, 0, on_flush_timer, f) < 0) {
		snprintf(err, errlen, "sink %s: cannot arm the flush timer",
		    name);
		goto bad;
	}
	f->ship = shipctl_start_kind(p->kind, ev, name, p->ship_conf,
	    f->spool_dir, spool_lock_fd(f->lock));
	return f;
bad:
	spoolsink_stop(f);
	return NULL;
}

/* Points. */

int
spoolsink_write(struct spoolsink *f, const char *lines, size_t len)
{
	unsigned long	n = spool_count_lines(lines, len);

	if (writer_write(f->w, lines, len) == -1)
		return -1;
	f->spooled += n;
	f->open_lines += n;
	f->open_bytes += len;
	if (f->open_lines >= f->batch_size ||
	    f->open_bytes >= f->batch_bytes)
		seal(f);
	return 0;
}

void
spoolsink_flush(struct spoolsink *f)
{
	if (f->flush_us == 0)
		seal(f);
	writer_flush(f->w);
}

void
spoolsink_sync(struct spoolsink *f)
{
	writer_sync(f->w);
}

void
spoolsink_stats(struct spoolsink *f, struct lp_point *p)
{
	struct writer_figs	 fg;
	struct shipctl_figs	 sf;
	uint64_t		 queued;
	char			 err[128];

	writer_figs(f->w, &fg, &queued);
	shipctl_figs(f->ship, &sf);
	lp_point_field_int(p, "sent", (int64_t)sf.sent, err, sizeof(err));
	lp_point_field_int(p, "dropped", (int64_t)fg.dropped, err,
	    sizeof(err));
	lp_point_field_int(p, "spooled", (int64_t)f->spooled, err,
	    sizeof(err));
	lp_point_field_int(p, "spooled_bytes", (int64_t)fg.bytes, err,
	    sizeof(err));
	lp_point_field_int(p, "segments", (int64_t)fg.segments, err,
	    sizeof(err));
	lp_point_field_int(p, "queued_bytes", (int64_t)queued, err,
	    sizeof(err));
	lp_point_field_int(p, "retries", (int64_t)sf.retries, err,
	    sizeof(err));
	lp_point_field_int(p, "rejected", (int64_t)sf.rejected, err,
	    sizeof(err));
	lp_point_field_int(p, "shipper_restarts", (int64_t)sf.restarts, err,
	    sizeof(err));
	if (sf.last_error[0] != '\0')
		lp_point_field_str(p, "last_error", sf.last_error, err,
		    sizeof(err));
}

unsigned int
spoolsink_fill(struct spoolsink *f)
{
	return writer_fill(f->w);
}

void
spoolsink_stop(struct spoolsink *f)
{
	if (f == NULL)
		return;
	f->timer = sd_event_source_disable_unref(f->timer);
	/* The writer seals the open segment, then the shipper goes. */
	writer_stop(f->w);
	/*
	 * After the loop (the daemon exits) the shipper delivers what is
	 * ready; in it (a reload) the sink's successor will.
	 */
	shipctl_stop(f->ship, sd_event_get_state(f->ev) == SD_EVENT_FINISHED);
	/* Both are reaped: the spool is free (unless a successor has it). */
	spool_unlock(f->lock);
	sd_event_unref(f->ev);
	free(f->spool_dir);
	free(f->name);
	free(f);
}

