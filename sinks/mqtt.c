/*
 * mqtt.c: the mqtt sink in the daemon, built as the influxdb sink is
 * (influxdb.c): the spool it appends to through a writer process
 * (writer.h), the flush timer that seals its segments, and the process
 * that publishes them (mqttship.h), forked and supervised by shipctl.h
 * like the influxdb shipper.  Its settings and where its secret is are
 * mqtt_conf.h's: the daemon never reads the secret, mqttship does.
 *
 * A segment is a unit of delivery: it leaves the spool only once every
 * message of it is acknowledged.  At stop the writer seals the open
 * segment, then mqttship publishes what is ready (at the daemon's exit)
 * or only what it has under way (a reload), and both are reaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "lib/log.h"
#include "lib/lp.h"
#include "sinks/mqtt.h"
#include "sinks/mqtt_conf.h"
#include "sinks/shipctl.h"
#include "sinks/mqttship/mqttship.h"
#include "sinks/sink.h"
#include "sinks/spool.h"
#include "sinks/spoollock.h"
#include "sinks/writer.h"

struct mqtt_sink {
	char		*name;
	struct mqttship_conf mc;	/* a copy: where the secret is */
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
	struct shipctl	*ship;
	uint64_t	 spooled;	/* lines, since start */
};

static void
seal(struct mqtt_sink *f)
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
	struct mqtt_sink	*f = arg;
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
	struct mqtt_sink	*f = arg;
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
	struct mqtt_sink	*f = arg;

	seal(f);
	sd_event_source_set_time(src, usec + f->flush_us);
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

/* The sending process: mqttship.so, which alone links libmosquitto. */
static const struct shipctl_kind mqtt_ship = {
	"qosd-mqttship", "QOSD_MQTTSHIP", "sinks/mqttship.so", MQTTSHIP_SO,
	"qosd_mqttship_main"
};

static void	mqtt_stop(void *);

static void *
mqtt_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct mqtt_conf	*mq = state;
	struct mqtt_sink		*f;

	/*
	 * A secret that cannot be opened fails the start before all else;
	 * mqttship reads it.
	 */
	if (mqtt_conf_secret_ok(mq, name, err, errlen) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(name)) == NULL)
		fatal("mqtt: %m");
	f->ev = sd_event_ref(ev);
	mqtt_conf_copy(&f->mc, &mq->mc, name, mq->client_id_set);
	f->spool_dir = mqtt_conf_spool_dir(mq, name);
	f->spool_max = mq->spool_max;
	f->do_fsync = mq->do_fsync;
	if ((f->lock = spool_lock(f->spool_dir, name, err, errlen)) == NULL ||
	    (f->w = writer_start(name, ev, &spool_ops, f, err,
	    errlen)) == NULL)
		goto bad;
	f->flush_us = (uint64_t)(mq->flush_interval * 1e6);
	if (f->flush_us > 0 && sd_event_add_time_relative(ev, &f->timer,
	    CLOCK_MONOTONIC, f->flush_us, 0, on_flush_timer, f) < 0) {
		snprintf(err, errlen, "sink %s: cannot arm the flush timer",
		    name);
		goto bad;
	}
	f->ship = shipctl_start_kind(&mqtt_ship, ev, name, &f->mc,
	    f->spool_dir, spool_lock_fd(f->lock));
	return f;
bad:
	mqtt_stop(f);
	return NULL;
}

/* Points. */

static int
mqtt_write(void *sink, const char *lines, size_t len)
{
	struct mqtt_sink	*f = sink;
	unsigned long		 n = spool_count_lines(lines, len);

	if (writer_write(f->w, lines, len) == -1)
		return -1;
	f->spooled += n;
	f->open_lines += n;
	f->open_bytes += len;
	if (f->open_lines >= f->mc.batch_size ||
	    f->open_bytes >= f->mc.batch_bytes)
		seal(f);
	return 0;
}

static void
mqtt_flush(void *sink)
{
	struct mqtt_sink	*f = sink;

	if (f->flush_us == 0)
		seal(f);
	writer_flush(f->w);
}

static void
mqtt_sync(void *sink)
{
	struct mqtt_sink	*f = sink;

	writer_sync(f->w);
}

static void
mqtt_stats(void *sink, struct lp_point *p)
{
	struct mqtt_sink	*f = sink;
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

static unsigned int
mqtt_fill(void *sink)
{
	struct mqtt_sink	*f = sink;

	return writer_fill(f->w);
}

static void
mqtt_stop(void *sink)
{
	struct mqtt_sink	*f = sink;

	if (f == NULL)
		return;
	f->timer = sd_event_source_disable_unref(f->timer);
	/* The writer seals the open segment, then mqttship goes. */
	writer_stop(f->w);
	/*
	 * After the loop (the daemon exits) mqttship publishes what is
	 * ready; in it (a reload) the sink's successor will.
	 */
	shipctl_stop(f->ship, sd_event_get_state(f->ev) == SD_EVENT_FINISHED);
	/* Both are reaped: the spool is free (unless a successor has it). */
	spool_unlock(f->lock);
	sd_event_unref(f->ev);
	mqtt_conf_cleanup(&f->mc);
	free(f->spool_dir);
	free(f->name);
	free(f);
}

static char *
mqtt_dir(const void *state, const char *name)
{
	return mqtt_conf_spool_dir(state, name);
}

const struct sink_type sink_mqtt_type = {
	.name = "mqtt",
	.settings = mqtt_conf_settings,
	.configure = mqtt_conf_configure,
	.release = mqtt_conf_release,
	.same = mqtt_conf_same,
	.start = mqtt_start,
	.write = mqtt_write,
	.flush = mqtt_flush,
	.sync = mqtt_sync,
	.stats = mqtt_stats,
	.stop = mqtt_stop,
	.fill = mqtt_fill,
	.check = mqtt_conf_check,
	.dir = mqtt_dir
};
