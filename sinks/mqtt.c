/*
 * mqtt.c: the mqtt sink in the daemon, a spooled sink as the influxdb
 * sink is (spoolsink.h: the spool it appends to through a writer process,
 * the flush timer that seals its segments), whose segments a process of
 * its own publishes: qosd-mqttship (mqttship.h), forked and supervised by
 * shipctl.h like the influxdb shipper.  Its settings and where its secret
 * is are mqtt_conf.h's: the daemon never reads the secret, mqttship does.
 *
 * A segment is a unit of delivery: it leaves the spool only once every
 * message of it is acknowledged.
 */
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "lib/log.h"
#include "sinks/mqtt.h"
#include "sinks/mqtt_conf.h"
#include "sinks/mqttship/mqttship.h"
#include "sinks/shipctl.h"
#include "sinks/sink.h"
#include "sinks/spoolsink.h"

/* The sending process: mqttship.so, which alone links libmosquitto. */
static const struct shipctl_kind mqtt_ship = {
	"qosd-mqttship", "QOSD_MQTTSHIP", "sinks/mqttship.so", MQTTSHIP_SO,
	"qosd_mqttship_main"
};

struct mqtt_sink {
	struct mqttship_conf mc;	/* a copy: where the secret is */
	struct spoolsink *ss;
};

static void	mqtt_stop(void *);

static void *
mqtt_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct mqtt_conf	*mq = state;
	struct spoolsink_params	 p;
	struct mqtt_sink	*f;
	char			*dir;

	/*
	 * A secret that cannot be opened fails the start before all else;
	 * mqttship reads it.
	 */
	if (mqtt_conf_secret_ok(mq, name, err, errlen) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("mqtt: %m");
	mqtt_conf_copy(&f->mc, &mq->mc, name, mq->client_id_set);
	dir = mqtt_conf_spool_dir(mq, name);
	memset(&p, 0, sizeof(p));
	p.spool_dir = dir;
	p.spool_max = mq->spool_max;
	p.do_fsync = mq->do_fsync;
	p.flush_interval = mq->flush_interval;
	p.batch_size = f->mc.batch_size;
	p.batch_bytes = f->mc.batch_bytes;
	p.kind = &mqtt_ship;
	p.ship_conf = &f->mc;
	f->ss = spoolsink_start(name, ev, &p, err, errlen);
	free(dir);
	if (f->ss == NULL) {
		mqtt_stop(f);
		return NULL;
	}
	return f;
}

static int
mqtt_write(void *sink, const char *lines, size_t len)
{
	struct mqtt_sink	*f = sink;

	return spoolsink_write(f->ss, lines, len);
}

static void
mqtt_flush(void *sink)
{
	struct mqtt_sink	*f = sink;

	spoolsink_flush(f->ss);
}

static void
mqtt_sync(void *sink)
{
	struct mqtt_sink	*f = sink;

	spoolsink_sync(f->ss);
}

static void
mqtt_stats(void *sink, struct lp_point *p)
{
	struct mqtt_sink	*f = sink;

	spoolsink_stats(f->ss, p);
}

static unsigned int
mqtt_fill(void *sink)
{
	struct mqtt_sink	*f = sink;

	return spoolsink_fill(f->ss);
}

static void
mqtt_stop(void *sink)
{
	struct mqtt_sink	*f = sink;

	if (f == NULL)
		return;
	/* mqttship is reaped before its settings go. */
	spoolsink_stop(f->ss);
	mqtt_conf_cleanup(&f->mc);
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
