/*
 * ctlbus.c: the daemon's side of the bus (see ctlbus.h).
 */
#define _GNU_SOURCE

#include <sys/socket.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "bus/bus.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/ctlbus.h"
#include "scheduler/ctlres.h"

#define RESTART_MIN	1.0		/* s, the bus's restart backoff */
#define RESTART_MAX	60.0
#define MINUTE_US	60000000ULL

static const struct msg_type to_daemon[] = {
	{ BUS_REQUEST, "request", sizeof(struct bus_req) + 1,
	    sizeof(struct bus_req) + (1 << 20), 0 },
	{ BUS_FIGS, "figures", sizeof(struct bus_figs),
	    sizeof(struct bus_figs), 0 },
};

/* A probe asked over the bus, until the control core answers it. */
struct busreq {
	struct ctlbus	*b;
	uint32_t	 tag;
	unsigned long	 gen;		/* the bus process it came from */
	struct busreq	*prev, *next;
};

struct ctlbus {
	struct control	*c;
	sd_event	*ev;
	struct bus_conf	*conf;		/* NULL: off */
	struct super	*sv;
	unsigned long	 gen;		/* bus processes started */
	struct msgchan	 ch;		/* sock -1: none */
	sd_event_source	*io, *hb;
	uint64_t	 hb_us;
	uint64_t	*times;		/* the last max_per_minute requests */
	size_t		 ntimes, next;
	struct busreq	*reqs;
	struct bus_figs	 figs;		/* as the bus last said */
	uint64_t	 dropped;	/* here: the channel was full */
	uint64_t	 limited;	/* requests over max_per_minute */
	struct complain	 cp;
	char		*pts;		/* lines for the bus (nats.points) */
	size_t		 npts;
	uint64_t	 pts_dropped;	/* here: no bus, or its channel full */
	struct complain	 pts_cp;
};

const char *
ctlbus_so_path(void)
{
	static char	 path[PATH_MAX];
	char		 exe[PATH_MAX], *slash;
	const char	*env;
	ssize_t		 n;

	if ((env = getenv("QOSD_BUS")) != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, sizeof(path),
			    "%s/bus/bus.so", exe) < sizeof(path) &&
			    access(path, R_OK) == 0)
				return path;
		}
	}
	return BUS_SO;
}

struct bus_args {
	const struct bus_conf	*conf;
	int			 sock;
	int			 verbose;
};

/* In the new process: load bus.so and hand over to it. */
static int
bus_proc(void *arg)
{
	struct bus_args	*a = arg;
	void		(*main_fn)(const struct bus_conf *, int, int);
	void		*h;

	if ((h = dlopen(ctlbus_so_path(), RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_err("bus: cannot load %s: %s", ctlbus_so_path(),
		    dlerror());
		return 127;
	}
	*(void **)&main_fn = dlsym(h, "qosd_bus_main");
	if (main_fn == NULL) {
		log_err("bus: %s has no qosd_bus_main", ctlbus_so_path());
		return 127;
	}
	main_fn(a->conf, a->sock, a->verbose);
	return 0;
}

static void
disconnect(struct ctlbus *b)
{
	b->io = sd_event_source_disable_unref(b->io);
	msgchan_cleanup(&b->ch);
	b->figs.connected = 0;
}

/* Send; output the socket did not take waits for EPOLLOUT. */
static int
send_msg(struct ctlbus *b, uint16_t type, const void *p, size_t len)
{
	if (b->ch.sock == -1) {
		errno = ENOTCONN;
		return -1;
	}
	if (msg_send(&b->ch, type, p, len, -1) == -1)
		return -1;
	if (msg_queued(&b->ch) > 0)
		sd_event_source_set_io_events(b->io, EPOLLIN | EPOLLOUT);
	return 0;
}

static void
dropped(struct ctlbus *b, const char *what)
{
	b->dropped++;
	if (complain_fail(&b->cp, clock_mono_us()))
		log_warning("bus: a %s dropped: the bus has not read %zu bytes "
		    "(%llu dropped so far)", what, msg_queued(&b->ch),
		    (unsigned long long)b->dropped);
}

static json_t * __attribute__((format(printf, 1, 2)))
bus_error(const char *fmt, ...)
{
	va_list	ap;
	char	msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s}", "error", msg);
}

void
ctlbus_points(struct ctlbus *b, const char *lines, size_t len)
{
	if (b == NULL || b->conf == NULL || !b->conf->points || len == 0)
		return;
	if (len > BUS_POINTS_MAX) {
		b->pts_dropped++;
		return;
	}
	if (b->npts + len > BUS_POINTS_MAX)
		ctlbus_points_flush(b);
	if (b->pts == NULL && (b->pts = malloc(BUS_POINTS_MAX)) == NULL)
		fatal("bus: %m");
	memcpy(b->pts + b->npts, lines, len);
	b->npts += len;
}

void
ctlbus_points_flush(struct ctlbus *b)
{
	uint64_t	n = 0;
	size_t		i;

	if (b == NULL || b->npts == 0)
		return;
	if (send_msg(b, BUS_POINTS, b->pts, b->npts) == -1) {
		for (i = 0; i < b->npts; i++)
			n += b->pts[i] == '\n';
		b->pts_dropped += n;
		if (complain_fail(&b->pts_cp, clock_mono_us()))
			log_warning("bus: %llu points not published: %s "
			    "(%llu so far; the sinks have them)",
			    (unsigned long long)n, b->ch.sock == -1 ? "the "
			    "bus is not running" : "the bus is behind",
			    (unsigned long long)b->pts_dropped);
	} else if (complain_ok(&b->pts_cp) > 0)
		log_notice("bus: points published again");
	b->npts = 0;
}

/* The answer to request tag: body (a reference taken) with its code. */
static void
reply(struct ctlbus *b, uint32_t tag, int code, json_t *body)
{
	struct bus_reply	 r = { tag, (uint32_t)code };
	char			*s, *frame;
	size_t			 len;

	if (body == NULL)
		body = json_object();
	json_object_set_new(body, "code", json_integer(code));
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (s == NULL)
		return;
	len = strlen(s);
	if ((frame = malloc(sizeof(r) + len)) == NULL)
		fatal("bus: %m");
	memcpy(frame, &r, sizeof(r));
	memcpy(frame + sizeof(r), s, len);
	if (send_msg(b, BUS_REPLY, frame, sizeof(r) + len) == -1 &&
	    errno == E2BIG)
		dropped(b, "reply");
	free(frame);
	free(s);
}

/* The control core answered a probe. */
static void
probe_done(void *arg, int code, json_t *body)
{
	struct busreq	*r = arg;
	struct ctlbus	*b = r->b;

	if (r->gen == b->gen)
		reply(b, r->tag, code, body);
	else
		json_decref(body);
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		b->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	free(r);
}

/* At most max_per_minute requests in any minute. */
static int
rate_ok(struct ctlbus *b)
{
	uint64_t	now = clock_mono_us(), *t;

	t = &b->times[b->next];
	if (*t != 0 && now - *t < MINUTE_US)
		return 0;
	*t = now;
	b->next = (b->next + 1) % b->ntimes;
	return 1;
}

static void
run(struct ctlbus *b, uint32_t tag, json_t *req)
{
	const json_t	*jid = json_object_get(req, "id");
	const char	*job = json_string_value(json_object_get(req, "job"));
	json_t		*out = NULL;
	int		 code;

	if (job == NULL) {
		reply(b, tag, CTL_BAD_REQUEST, bus_error("expected {\"job\": "
		    "\"NAME\", \"id\": \"ID\" (optional)}"));
		return;
	}
	if (jid != NULL && !json_is_string(jid)) {
		reply(b, tag, CTL_BAD_REQUEST, bus_error("\"id\": expected a "
		    "string"));
		return;
	}
	code = control_run(b->c, job, json_string_value(jid), &out);
	reply(b, tag, code, out);
}

static void
probe(struct ctlbus *b, uint32_t tag, json_t *req)
{
	struct busreq	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("bus: %m");
	r->b = b;
	r->tag = tag;
	r->gen = b->gen;
	r->next = b->reqs;
	if (b->reqs != NULL)
		b->reqs->prev = r;
	b->reqs = r;
	control_probe(b->c, req, "NATS", probe_done, r);
}

/* A BUS_REQUEST: the same checks and functions as the HTTP API's. */
static void
on_request(struct ctlbus *b, const struct msg *m)
{
	struct bus_req	 r;
	json_error_t	 e;
	json_t		*req;

	memcpy(&r, m->data, sizeof(r));
	if (!rate_ok(b)) {
		b->limited++;
		reply(b, r.tag, CTL_TOO_MANY, bus_error("more than %zu "
		    "requests in a minute (nats.max_per_minute)", b->ntimes));
		return;
	}
	if ((req = json_loadb((const char *)m->data + sizeof(r),
	    m->len - sizeof(r), JSON_REJECT_DUPLICATES, &e)) == NULL) {
		reply(b, r.tag, CTL_BAD_REQUEST, bus_error("the request is "
		    "not JSON: line %d, column %d: %s", e.line, e.column,
		    e.text));
		return;
	}
	if (!json_is_object(req))
		reply(b, r.tag, CTL_BAD_REQUEST, bus_error("the request is "
		    "not a JSON object"));
	else if (r.kind == BUS_RUN)
		run(b, r.tag, req);
	else if (r.kind == BUS_PROBE)
		probe(b, r.tag, req);
	else
		reply(b, r.tag, CTL_BAD_REQUEST, bus_error("no such request"));
	json_decref(req);
}

static void
on_msg(void *arg, const struct msg *m)
{
	struct ctlbus	*b = arg;

	if (m->type == BUS_REQUEST)
		on_request(b, m);
	else if (m->type == BUS_FIGS)
		memcpy(&b->figs, m->data, sizeof(b->figs));
}

static int
on_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct ctlbus	*b = arg;
	int		 r;

	(void)src;
	(void)fd;
	if ((revents & EPOLLOUT) && msg_flush(&b->ch) == 1)
		sd_event_source_set_io_events(b->io, EPOLLIN);
	if ((r = msg_receive(&b->ch, on_msg, b)) == 1)
		return 0;
	if (r == -1 && errno == EPROTO)
		log_err("bus: %s", msg_error(&b->ch));
	/* Gone: its exit restarts it. */
	disconnect(b);
	return 0;
}

/* The heartbeat: the status, the interval, how the bus goes. */
static void
heartbeat(struct ctlbus *b)
{
	json_t	*o = NULL, *bus;
	char	*s;

	control_status(b->c, &o);
	json_object_set_new(o, "time", ctlres_time(clock_real_ns()));
	json_object_set_new(o, "heartbeat_interval_s",
	    json_real((double)b->hb_us / 1e6));
	if ((bus = ctlbus_json(b)) != NULL)
		json_object_set_new(o, "bus", bus);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s != NULL && send_msg(b, BUS_HEARTBEAT, s, strlen(s)) == -1 &&
	    errno == E2BIG)
		dropped(b, "heartbeat");
	free(s);
}

static int
on_heartbeat(sd_event_source *s, uint64_t usec, void *arg)
{
	struct ctlbus	*b = arg;

	heartbeat(b);
	sd_event_source_set_time(s, usec + b->hb_us);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

/* control_watch(): a request's state changed. */
static void
on_state(void *arg, const json_t *res)
{
	struct ctlbus	*b = arg;
	char		*s;

	if (b->ch.sock == -1)
		return;
	if ((s = json_dumps(res, JSON_COMPACT)) == NULL)
		return;
	if (send_msg(b, BUS_STATE, s, strlen(s)) == -1 && errno == E2BIG)
		dropped(b, "state");
	free(s);
}

/* struct super_ops: fork a bus with a fresh channel. */
static pid_t
start(void *arg)
{
	struct proc_profile	 prof = { "qosd-bus", SIGTERM,
				    PROC_F_NULL_STDOUT | PROC_F_CREDENTIALS,
				    (1UL << SIGPIPE) | (1UL << SIGHUP) |
				    (1UL << SIGINT),
				    { -1, -1, -1, -1, -1, -1, -1, -1 } };
	struct ctlbus		*b = arg;
	struct bus_args		 a = { b->conf, -1, log_getverbose() };
	pid_t			 pid;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warning("bus: socketpair: %m");
		return -1;
	}
	prof.fds[0] = a.sock = sv[1];
	pid = proc_start(&prof, bus_proc, &a);
	close(sv[1]);
	if (pid == -1) {
		log_warning("bus: cannot fork: %m");
		close(sv[0]);
		return -1;
	}
	disconnect(b);
	b->gen++;
	memset(&b->figs, 0, sizeof(b->figs));
	msgchan_init(&b->ch, sv[0], to_daemon, sizeof(to_daemon) /
	    sizeof(to_daemon[0]), CTLBUS_OUT_MAX);
	if (sd_event_add_io(b->ev, &b->io, b->ch.sock, EPOLLIN, on_io,
	    b) < 0)
		fatal("bus: cannot watch its channel");
	heartbeat(b);
	return pid;
}

static const struct super_ops bus_super = { start, NULL };

struct ctlbus *
ctlbus_new(struct control *c, sd_event *ev)
{
	struct ctlbus	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		fatal("bus: %m");
	b->c = c;
	b->ev = sd_event_ref(ev);
	msgchan_init(&b->ch, -1, to_daemon, 2, CTLBUS_OUT_MAX);
	return b;
}

/* Stop the bus process, if one runs, and wait for it. */
static void
stop(struct ctlbus *b)
{
	pid_t	pid;

	if (b->sv == NULL)
		return;
	pid = super_pid(b->sv);
	super_free(b->sv);
	b->sv = NULL;
	b->io = sd_event_source_disable_unref(b->io);
	if (pid > 0) {
		if (b->ch.sock == -1 || msg_send(&b->ch, BUS_STOP, NULL, 0,
		    -1) == -1)
			kill(pid, SIGTERM);
		super_reap(pid, CTLBUS_STOP_US, "the bus");
	}
	disconnect(b);
	b->hb = sd_event_source_disable_unref(b->hb);
	control_watch(b->c, NULL, NULL);
}

static void
limits(struct ctlbus *b, const struct bus_conf *conf)
{
	b->hb_us = (uint64_t)(conf->heartbeat_s * 1e6);
	if (b->ntimes != conf->max_per_minute) {
		free(b->times);
		if ((b->times = calloc(conf->max_per_minute,
		    sizeof(*b->times))) == NULL)
			fatal("bus: %m");
		b->ntimes = conf->max_per_minute;
		b->next = 0;
	}
}

void
ctlbus_configure(struct ctlbus *b, const struct bus_conf *conf)
{
	if (conf != NULL && b->conf != NULL && cfg_nats_equal(conf,
	    b->conf)) {
		limits(b, conf);
		if (b->hb != NULL)
			sd_event_source_set_time(b->hb, clock_mono_us() +
			    b->hb_us);
		return;
	}
	stop(b);
	cfg_nats_free(b->conf);
	b->conf = NULL;
	if (conf == NULL)
		return;
	b->conf = cfg_nats_copy(conf);
	limits(b, conf);
	control_watch(b->c, on_state, b);
	if (sd_event_add_time(b->ev, &b->hb, CLOCK_MONOTONIC, clock_mono_us() +
	    b->hb_us, 100000, on_heartbeat, b) < 0)
		fatal("bus: heartbeat timer");
	b->sv = super_new(b->ev, "the bus", &bus_super, b, RESTART_MIN,
	    RESTART_MAX);
	super_start(b->sv);
}

void
ctlbus_free(struct ctlbus *b)
{
	struct busreq	*r, *next;

	if (b == NULL)
		return;
	stop(b);
	/* Only control_free() frees: no probe will be answered now. */
	for (r = b->reqs; r != NULL; r = next) {
		next = r->next;
		free(r);
	}
	cfg_nats_free(b->conf);
	free(b->times);
	free(b->pts);
	sd_event_unref(b->ev);
	free(b);
}

json_t *
ctlbus_json(const struct ctlbus *b)
{
	if (b == NULL || b->conf == NULL)
		return NULL;
	return json_pack("{s:I, s:I, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I}", "points_sent", (json_int_t)b->figs.points_sent,
	    "points_dropped", (json_int_t)(b->figs.points_dropped +
	    b->pts_dropped),
	    "connected", b->figs.connected != 0, "bucket", b->figs.kv != 0,
	    "published", (json_int_t)b->figs.published, "dropped",
	    (json_int_t)(b->figs.dropped + b->dropped), "requests",
	    (json_int_t)b->figs.requests, "refused",
	    (json_int_t)(b->figs.refused + b->limited), "reconnects",
	    (json_int_t)b->figs.reconnects, "restarts",
	    (json_int_t)(b->sv != NULL ? super_restarts(b->sv) : 0),
	    "kv_errors", (json_int_t)b->figs.kv_errors);
}
