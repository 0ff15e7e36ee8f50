/*
 * influxdb.c: the influxdb sink in the daemon: a spooled sink
 * (spoolsink.h: the spool it appends to through a writer process, the
 * flush timer that seals its segments, the shipper process that delivers
 * them, shipctl.h).  Its settings and where its secret is are
 * influxdb_conf.h's: the daemon never reads the secret, the shipper does.
 */
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "lib/log.h"
#include "sinks/influxdb.h"
#include "sinks/influxdb_conf.h"
#include "sinks/shipctl.h"
#include "sinks/shipper/shipper.h"
#include "sinks/sink.h"
#include "sinks/spoolsink.h"

struct influx_sink {
	struct shipper_conf sc;		/* a copy: where the secret is */
	struct spoolsink *ss;
};

static void	influx_stop(void *);

static void *
influx_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct influx_conf	*ic = state;
	struct spoolsink_params		 p;
	struct influx_sink		*f;
	char				*dir;

	/*
	 * A secret that cannot be opened fails the start before all else;
	 * the shipper reads it.
	 */
	if (influx_conf_secret_ok(ic, name, err, errlen) == -1)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		fatal("influxdb: %m");
	influx_conf_copy(&f->sc, &ic->sc);
	dir = influx_conf_spool_dir(ic, name);
	memset(&p, 0, sizeof(p));
	p.spool_dir = dir;
	p.spool_max = ic->spool_max;
	p.do_fsync = ic->do_fsync;
	p.flush_interval = ic->flush_interval;
	p.batch_size = f->sc.batch_size;
	p.batch_bytes = f->sc.batch_bytes;
	p.kind = &shipctl_influx;
	p.ship_conf = &f->sc;
	f->ss = spoolsink_start(name, ev, &p, err, errlen);
	free(dir);
	if (f->ss == NULL) {
		influx_stop(f);
		return NULL;
	}
	return f;
}

static int
influx_write(void *sink, const char *lines, size_t len)
{
	struct influx_sink	*f = sink;

	return spoolsink_write(f->ss, lines, len);
}

static void
influx_flush(void *sink)
{
	struct influx_sink	*f = sink;

	spoolsink_flush(f->ss);
}

static void
influx_sync(void *sink)
{
	struct influx_sink	*f = sink;

	spoolsink_sync(f->ss);
}

static void
influx_stats(void *sink, struct lp_point *p)
{
	struct influx_sink	*f = sink;

	spoolsink_stats(f->ss, p);
}

static unsigned int
influx_fill(void *sink)
{
	struct influx_sink	*f = sink;

	return spoolsink_fill(f->ss);
}

static void
influx_stop(void *sink)
{
	struct influx_sink	*f = sink;

	if (f == NULL)
		return;
	/* The shipper is reaped before its settings go. */
	spoolsink_stop(f->ss);
	influx_conf_cleanup(&f->sc);
	free(f);
}

static char *
influx_dir(const void *state, const char *name)
{
	return influx_conf_spool_dir(state, name);
}

const struct sink_type sink_influxdb_type = {
	"influxdb", influx_conf_settings, influx_conf_configure,
	influx_conf_release, influx_conf_same, influx_start, influx_write,
	influx_flush, influx_sync, influx_stats, influx_stop,
	.fill = influx_fill, .check = influx_conf_check, .dir = influx_dir
};
