/*
 * stats.c: the reflector's counters as line protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "reflector/refl.h"
#include "reflector/stats.h"

#define STATS_MAX_OUT	(64 * 1024)

void
stats_init(struct stats *st)
{
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

void
stats_cleanup(struct stats *st)
{
	size_t	i;

	for (i = 0; i < st->ntags; i++) {
		free(st->tags[i][0]);
		free(st->tags[i][1]);
	}
	st->ntags = 0;
	if (st->fd > STDERR_FILENO)
		close(st->fd);
	st->fd = -1;
}

int
stats_add_tag(struct stats *st, const char *kv, char *err, size_t errlen)
{
	struct lp_point	 p;
	const char	*eq = strchr(kv, '=');
	char		*k, *v;
	int		 rv;

	if (eq == NULL || eq == kv || eq[1] == '\0') {
		snprintf(err, errlen, "tag \"%s\": not KEY=VALUE", kv);
		return -1;
	}
	if (st->ntags == STATS_MAX_TAGS) {
		snprintf(err, errlen, "more than %d tags", STATS_MAX_TAGS);
		return -1;
	}
	if ((k = strndup(kv, (size_t)(eq - kv))) == NULL ||
	    (v = strdup(eq + 1)) == NULL)
		fatal("out of memory");
	/* The line protocol's own rules decide what a tag may be. */
	lp_point_init(&p);
	rv = lp_point_tag(&p, k, v, 0, err, errlen);
	lp_point_cleanup(&p);
	if (rv == -1 || strcmp(k, "protocol") == 0 || strcmp(k, "port") == 0) {
		if (rv != -1)
			snprintf(err, errlen, "tag \"%s\" is the reflector's",
			    k);
		free(k);
		free(v);
		return -1;
	}
	st->tags[st->ntags][0] = k;
	st->tags[st->ntags++][1] = v;
	return 0;
}

int
stats_open(struct stats *st)
{
	int	fd;

	if (st->path == NULL)
		return 0;
	if (strcmp(st->path, "-") == 0) {
		st->fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(st->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_err("stats file \"%s\": %m", st->path);
		return -1;
	}
	if (st->fd > STDERR_FILENO)
		close(st->fd);
	st->fd = fd;
	return 0;
}

static void
udp_fields(struct lp_point *p, const struct refl_service *s,
    const struct refl *r, uint64_t now_us, char *err, size_t errlen)
{
	const struct refl_udp_counters *c = &s->udp;

	lp_point_field_int(p, "received", (int64_t)c->received, err, errlen);
	lp_point_field_int(p, "reflected", (int64_t)c->reflected, err,
	    errlen);
	lp_point_field_int(p, "dropped_acl", (int64_t)c->dropped_acl, err,
	    errlen);
	lp_point_field_int(p, "dropped_rate", (int64_t)c->dropped_rate, err,
	    errlen);
	lp_point_field_int(p, "dropped_bad", (int64_t)c->dropped_bad, err,
	    errlen);
	lp_point_field_int(p, "send_failed", (int64_t)c->send_failed, err,
	    errlen);
	if (s->kind != REFL_STAMP)
		return;
	lp_point_field_int(p, "app_timestamps", (int64_t)c->app_timestamps,
	    err, errlen);
	lp_point_field_bool(p, "stateful", r->stateful, err, errlen);
	lp_point_field_int(p, "sessions", r->stateful ?
	    (int64_t)table_live(&r->sessions, now_us) : 0, err, errlen);
	lp_point_field_int(p, "sessions_evicted", r->stateful ?
	    (int64_t)r->sessions.evicted : 0, err, errlen);
}

static void
tcp_fields(struct lp_point *p, const struct refl_tcp_counters *c, char *err,
    size_t errlen)
{
	lp_point_field_int(p, "accepted", (int64_t)c->accepted, err, errlen);
	lp_point_field_int(p, "refused_acl", (int64_t)c->refused_acl, err,
	    errlen);
	lp_point_field_int(p, "refused_busy", (int64_t)c->refused_busy, err,
	    errlen);
	lp_point_field_int(p, "closed_idle", (int64_t)c->closed_idle, err,
	    errlen);
	lp_point_field_int(p, "bytes", (int64_t)c->bytes, err, errlen);
	lp_point_field_int(p, "open", (int64_t)c->open, err, errlen);
}

static void
self_fields(struct lp_point *p, const struct refl *r, uint64_t now_us,
    char *err, size_t errlen)
{
	lp_point_field_float(p, "uptime_s",
	    (double)(now_us - r->started_us) / 1e6, err, errlen);
	lp_point_field_bool(p, "clock_synced", r->synced, err, errlen);
	lp_point_field_int(p, "sources",
	    (int64_t)table_live(&r->limit.sources, now_us), err, errlen);
	lp_point_field_int(p, "sources_evicted",
	    (int64_t)r->limit.sources.evicted, err, errlen);
}

/* One line: the reflector's (s NULL) or a service's. */
static int
render_one(const struct stats *st, const struct refl *r,
    const struct refl_service *s, int64_t now_ns, struct buf *out)
{
	struct lp_point	 p;
	char		 err[160] = "", port[8];
	uint64_t	 now_us = clock_mono_us();
	size_t		 i;
	int		 rv;

	lp_point_init(&p);
	lp_point_set_measurement(&p, "qosd_reflector", err, sizeof(err));
	for (i = 0; i < st->ntags; i++)
		lp_point_tag(&p, st->tags[i][0], st->tags[i][1], 0, err,
		    sizeof(err));
	if (s == NULL)
		self_fields(&p, r, now_us, err, sizeof(err));
	else {
		snprintf(port, sizeof(port), "%u", s->port);
		lp_point_tag(&p, "protocol", refl_kind_name(s->kind), 0, err,
		    sizeof(err));
		lp_point_tag(&p, "port", port, 0, err, sizeof(err));
		if (s->kind == REFL_TCP_ECHO)
			tcp_fields(&p, &s->tcp, err, sizeof(err));
		else
			udp_fields(&p, s, r, now_us, err, sizeof(err));
	}
	lp_point_set_time(&p, now_ns);
	/* The builders' rules hold by construction: a reason is a bug. */
	rv = err[0] == '\0' ? lp_encode(&p, out, err, sizeof(err)) : -1;
	if (rv == -1)
		log_err("stats: %s", err);
	lp_point_cleanup(&p);
	return rv;
}

int
stats_render(const struct stats *st, const struct refl *r, int64_t now_ns,
    struct buf *out)
{
	int	k;

	if (render_one(st, r, NULL, now_ns, out) == -1)
		return -1;
	for (k = 0; k < REFL_NKINDS; k++)
		if (r->svc[k].port != 0 &&
		    render_one(st, r, &r->svc[k], now_ns, out) == -1)
			return -1;
	return 0;
}

void
stats_write(struct stats *st, const struct refl *r)
{
	struct buf	out;

	if (st->fd == -1)
		return;
	buf_init(&out, STATS_MAX_OUT);
	if (stats_render(st, r, clock_real_ns(), &out) == 0) {
		if (io_write_all(st->fd, out.data, out.len) == -1) {
			if (complain_fail(&st->failing, clock_mono_us()))
				log_warning("stats file \"%s\": %m (%lu "
				    "writes lost)", st->path,
				    st->failing.failures);
		} else if (complain_ok(&st->failing) > 0)
			log_notice("stats file \"%s\": written again",
			    st->path);
	}
	buf_cleanup(&out);
}

void
stats_tick(struct stats *st, const struct refl *r, uint64_t now_us)
{
	if (st->interval_us == 0 || now_us < st->next_us)
		return;
	/* The next deadline, absolute: no drift, no burst after a stall. */
	st->next_us += st->interval_us;
	if (st->next_us <= now_us)
		st->next_us = now_us + st->interval_us;
	stats_write(st, r);
}
