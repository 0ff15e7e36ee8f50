/*
 * prometheus.c: the prometheus sink (see prometheus.h): lines parsed back
 * into the store, scrapes streamed from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <systemd/sd-event.h>

#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "qosd/cfg.h"
#include "sinks/prometheus.h"
#include "sinks/promstore.h"
#include "sinks/sink.h"

#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"

static const char *const prom_settings[] = {
	"listen", "max_series", "max_connections", NULL
};

struct prom_conf {
	char		*listen;
	long long	 max_series;
	long long	 max_conns;
};

struct prom_sink {
	char		*name;
	struct promstore *store;
	struct httpd	*h;
	struct lp_point	 pt;
	uint64_t	 scrapes;
	uint64_t	 bad_lines;
};

static void
prom_release(void *state)
{
	struct prom_conf	*c = state;

	if (c == NULL)
		return;
	free(c->listen);
	free(c);
}

static int
prom_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	struct prom_conf	*c;
	const char		*listen = "127.0.0.1:9464";

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return qosd_cfg_error(s, err, errlen, "out of memory");
	c->max_series = 100000;
	c->max_conns = 16;
	if (qosd_cfg_string(s, "listen", 0, &listen, err, errlen) == -1 ||
	    qosd_cfg_int(s, "max_series", 1, 10000000, &c->max_series, err,
	    errlen) == -1 ||
	    qosd_cfg_int(s, "max_connections", 1, 1000, &c->max_conns, err,
	    errlen) == -1) {
		free(c);
		return -1;
	}
	if (strrchr(listen, ':') == NULL) {
		free(c);
		return qosd_cfg_error(config_setting_get_member(s, "listen"),
		    err, errlen, "expected ADDRESS:PORT, such as "
		    "\"127.0.0.1:9464\" or \"[::1]:9464\", got \"%s\"", listen);
	}
	if ((c->listen = strdup(listen)) == NULL) {
		free(c);
		return qosd_cfg_error(s, err, errlen, "out of memory");
	}
	*state = c;
	return 0;
}

static int
prom_same(const void *a, const void *b)
{
	const struct prom_conf	*x = a, *y = b;

	return strcmp(x->listen, y->listen) == 0 &&
	    x->max_series == y->max_series && x->max_conns == y->max_conns;
}

static ssize_t
scrape_read(void *arg, char *buf, size_t max)
{
	return promscrape_read(arg, buf, max);
}

static void
scrape_done(void *arg)
{
	promscrape_free(arg);
}

static void
handle(void *arg, struct httpd_req *r)
{
	struct prom_sink	*p = arg;
	static const char	 nf[] = "not found: the metrics are at "
				    "/metrics\n";

	if (strcmp(httpd_path(r), "/metrics") != 0) {
		httpd_reply(r, 404, "text/plain", nf, sizeof(nf) - 1);
		return;
	}
	if (strcmp(httpd_method(r), "GET") != 0 &&
	    strcmp(httpd_method(r), "HEAD") != 0) {
		httpd_reply_hdr(r, 405, "text/plain", "GET only\n", 9,
		    "Allow", "GET");
		return;
	}
	p->scrapes++;
	httpd_reply_stream(r, 200, PROM_TYPE, scrape_read, scrape_done,
	    promscrape_new(p->store));
}

static void
prom_stop(void *sink)
{
	struct prom_sink	*p = sink;

	if (p == NULL)
		return;
	httpd_free(p->h);
	promstore_free(p->store);
	lp_point_cleanup(&p->pt);
	free(p->name);
	free(p);
}

static void *
prom_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct prom_conf	*c = state;
	struct prom_sink	*p;
	struct httpd_opts	 o;
	char			 why[512];
	int			 fd;

	if ((fd = httpd_listen_tcp(c->listen, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "sink %s: cannot listen: %s", name, why);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(name)) == NULL)
		fatal("prometheus: %m");
	lp_point_init(&p->pt);
	p->store = promstore_new((size_t)c->max_series);
	memset(&o, 0, sizeof(o));
	o.max_conns = (unsigned int)c->max_conns;
	o.timeout_s = 30;
	o.max_body = 4096;
	o.name = p->name;
	if ((p->h = httpd_new(ev, fd, &o, handle, p, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "sink %s: %s", name, why);
		prom_stop(p);
		return NULL;
	}
	log_info("sink %s: metrics at http://%s/metrics", name, c->listen);
	return p;
}

/* Complete lines: each parsed back into the store. */
static int
prom_write(void *sink, const char *lines, size_t len)
{
	struct prom_sink	*p = sink;
	const char		*s = lines, *end = lines + len, *nl;
	char			 err[256];

	for (; s < end; s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if (nl == s)
			continue;
		if (lp_parse(s, (size_t)(nl - s), &p->pt, err,
		    sizeof(err)) == -1) {
			p->bad_lines++;
			continue;
		}
		promstore_point(p->store, &p->pt);
	}
	return 0;
}

static void
prom_stats(void *sink, struct lp_point *p)
{
	struct prom_sink	*ps = sink;
	char			 err[128];

	lp_point_field_int(p, "series", (int64_t)promstore_series(ps->store),
	    err, sizeof(err));
	lp_point_field_int(p, "series_refused",
	    (int64_t)promstore_refused(ps->store), err, sizeof(err));
	lp_point_field_int(p, "scrapes", (int64_t)ps->scrapes, err,
	    sizeof(err));
}

static void
prom_jobs(void *sink, const char *const *names, size_t n)
{
	struct prom_sink	*p = sink;

	promstore_jobs(p->store, names, n);
}

const struct sink_type sink_prometheus_type = {
	.name = "prometheus",
	.settings = prom_settings,
	.configure = prom_configure,
	.release = prom_release,
	.same = prom_same,
	.start = prom_start,
	.write = prom_write,
	.stats = prom_stats,
	.stop = prom_stop,
	.jobs = prom_jobs,
};
