/*
 * mqttship.c: the mqtt sink's sending process (see mqttship.h).  One
 * libmosquitto client driven from its own poll(2) loop beside the
 * daemon's channel and an inotify watch on ready/: the oldest ready
 * segment is read and its lines published, at most max_inflight messages
 * not yet acknowledged; once all are, the segment is removed and the next
 * one read.  A lost connection is made again after a backoff (0.5 s
 * doubling to backoff_max, with jitter), with a new client: what was not
 * acknowledged is published again.
 */
#define _GNU_SOURCE

#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <mosquitto.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/msg.h"
#include "lib/secret.h"
#include "sinks/mqtt_topic.h"
#include "sinks/mqttship/mqttship.h"
#include "sinks/mqttship/payload.h"
#include "sinks/shipper/shipper.h"
#include "sinks/spool.h"

#define POLL_MS		1000		/* ready/ rescan, keepalive */
#define BACKOFF_MIN	0.5		/* s */
#define OUT_MAX		65536		/* figures queued for the daemon */
#define LAST_WORDS_MS	1000		/* for the last figures to go */
#define SEG_MAX		((size_t)1 << 30)	/* bytes of a segment read */
#define MIDS		65536		/* message ids of MQTT */
#define READ_CHUNK	65536

static const struct msg_type to_ship[] = {
	{ SHIP_STOP, "stop", sizeof(struct ship_stop),
	    sizeof(struct ship_stop), 0 },
};

/* SIGTERM: the parent-death signal, or someone's kill. */
static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

/* A ready segment being published. */
struct seg {
	char		 name[SPOOL_NAME_MAX];
	int		 fd;		/* holds its lock; -1: none (free) */
	struct buf	 lines;
	size_t		*off;		/* start of line i; off[n]: end */
	size_t		 n, alloc;
	unsigned char	*acked;		/* per line */
	size_t		 nacked;
	size_t		 next;		/* the next line to publish */
	uint64_t	 rejected;	/* lines that cannot be messages */
};

#define MID_SLOT	((int32_t)1 << 30)	/* in mid_line: seg[1] */
#define SEG_LINES_MAX	((size_t)1 << 29)

enum link {
	LINK_DOWN,			/* no client; next try at next_try */
	LINK_CONNECTING,		/* CONNECT sent, no CONNACK yet */
	LINK_UP
};

struct ship {
	const struct mqttship_conf *c;
	const char	*name;
	char		*password;	/* read at start, wiped at exit */
	int		 rfd;		/* ready/ */
	struct msgchan	 ch;		/* to the daemon; sock -1: gone */
	int		 inotify;	/* on ready/, or -1 */
	struct mosquitto *mosq;
	enum link	 link;
	uint64_t	 next_try;	/* µs, monotonic */
	uint64_t	 connack_by;
	char		 refused[256];	/* the broker's CONNACK said why */
	char		 liberr[256];	/* libmosquitto's last error line */
	unsigned int	 rounds;	/* of failures since the last CONNACK */
	/*
	 * The segments being published: the oldest, and the next one read
	 * once the oldest is all published, so that no round trip is lost
	 * between segments while the last acknowledgments come.
	 */
	struct seg	 seg[2];
	int		 cur;		/* the older of seg[] */
	size_t		 inflight;
	int32_t		*mid_line;	/* message id -> slot and line, or -1 */
	int		 in_publish;	/* in mosquitto_publish() */
	int		 written;	/* and its message went already */
	struct lp_point	 pt;
	struct buf	 topic, payload;
	/* Reporting and stopping, as the influxdb shipper does. */
	struct ship_figs figs;
	char		 error[SHIP_ERROR_MAX];
	size_t		 errlen;
	char		 last[1024];
	struct complain	 cp;
	struct complain	 cp_bad;
	int		 stopping;
	int		 drain;
	int		 gave_up;
	uint64_t	 deadline_us;
};

/* The channel to the daemon. */

static void
stop(struct ship *sh, uint32_t budget_ms, int drain)
{
	uint64_t	end = clock_mono_us() + (uint64_t)budget_ms * 1000;

	if (sh->stopping) {
		if (end < sh->deadline_us)
			sh->deadline_us = end;
		sh->drain = sh->drain && drain;
		return;
	}
	log_debug("sink %s: mqttship: stopping in %u ms at most%s",
	    sh->name, budget_ms, drain ? ", publishing what is ready" : "");
	/* Backing off: one more try now, without waiting. */
	if (sh->link == LINK_DOWN)
		sh->next_try = 0;
	sh->stopping = 1;
	sh->drain = drain;
	sh->deadline_us = end;
}

static void
orphaned(struct ship *sh)
{
	msgchan_cleanup(&sh->ch);
	stop(sh, SHIP_TERM_MS, 0);
}

static void
on_stop(void *arg, const struct msg *m)
{
	struct ship_stop	st;

	memcpy(&st, m->data, sizeof(st));
	stop(arg, st.budget_ms, st.drain != 0);
}

static void
hear(struct ship *sh)
{
	int	r;

	if (term)
		stop(sh, SHIP_TERM_MS, 0);
	if (sh->ch.sock == -1)
		return;
	if ((r = msg_receive(&sh->ch, on_stop, sh)) != 1) {
		if (r == -1 && errno == EPROTO)
			log_err("sink %s: mqttship: from the daemon: %s",
			    sh->name, msg_error(&sh->ch));
		orphaned(sh);
	} else if (msg_queued(&sh->ch) > 0 && msg_flush(&sh->ch) == -1)
		orphaned(sh);
}

static void
report(struct ship *sh)
{
	char	m[sizeof(struct ship_figs) + SHIP_ERROR_MAX];

	if (sh->ch.sock == -1)
		return;
	memcpy(m, &sh->figs, sizeof(sh->figs));
	memcpy(m + sizeof(sh->figs), sh->error, sh->errlen);
	if (msg_send(&sh->ch, SHIP_FIGS, m, sizeof(sh->figs) + sh->errlen,
	    -1) == -1) {
		if (errno != E2BIG)
			orphaned(sh);
		return;
	}
	memset(&sh->figs, 0, sizeof(sh->figs));
	sh->errlen = 0;
}

/* sh->last was just written: it goes with the next figures. */
static void
new_error(struct ship *sh)
{
	sh->errlen = strlen(sh->last);
	if (sh->errlen > sizeof(sh->error))
		sh->errlen = sizeof(sh->error);
	memcpy(sh->error, sh->last, sh->errlen);
}

/* The segments. */

static void
seg_release(struct seg *g)
{
	if (g->fd != -1)
		close(g->fd);
	g->fd = -1;
	g->name[0] = '\0';
	buf_reset(&g->lines);
	g->n = g->nacked = g->next = 0;
	g->rejected = 0;
}

/*
 * Lock and read into g the oldest ready segment after the name after
 * (NULL: the oldest): 1, or 0 if there is none (or none of ours: a segment
 * refused by spool_file_open() is logged, left alone, never sent).
 */
static int
seg_load(struct ship *sh, struct seg *g, const char *after)
{
	char		 name[SPOOL_NAME_MAX], last[SPOOL_NAME_MAX] = "";
	char		 why[128], chunk[READ_CHUNK];
	struct flock	 fl;
	struct stat	 st;
	const char	*p, *nl;
	ssize_t		 r;
	int		 fd, tries;

	if (after != NULL)
		snprintf(last, sizeof(last), "%s", after);
	for (tries = 0; tries < 64; tries++) {
		if (spool_oldest(sh->rfd, last[0] ? last : NULL, name) != 1)
			return 0;
		memcpy(last, name, sizeof(last));
		if ((fd = spool_file_open(sh->rfd, name, O_RDWR, 0, why,
		    sizeof(why))) == -1) {
			if (errno == EPERM && complain_fail(&sh->cp_bad,
			    clock_mono_us()))
				log_err("sink %s: ready/%s is refused: %s; "
				    "left alone, never sent", sh->name, name,
				    why);
			continue;
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		/* The writer's cap may hold it a moment: wait for it. */
		if (fcntl(fd, F_SETLKW, &fl) == -1 || fstat(fd, &st) == -1 ||
		    st.st_nlink == 0) {
			close(fd);
			continue;
		}
		break;
	}
	if (tries == 64)
		return 0;
	seg_release(g);
	g->fd = fd;
	memcpy(g->name, name, sizeof(g->name));
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(&g->lines, chunk, (size_t)r) == -1)
			fatal("sink %s: segment \"%s\": %m", sh->name, name);
	/* A torn last line (fsync off and a crash) is not sent. */
	while (g->lines.len > 0 && g->lines.data[g->lines.len - 1] != '\n')
		g->lines.len--;
	for (p = g->lines.data, g->n = 0; p != NULL && g->n < SEG_LINES_MAX &&
	    (nl = memchr(p, '\n', g->lines.len - (size_t)(p -
	    g->lines.data))) != NULL; p = nl + 1) {
		if (g->n + 2 > g->alloc) {
			g->alloc = g->alloc ? g->alloc * 2 : 1024;
			if ((g->off = reallocarray(g->off, g->alloc,
			    sizeof(*g->off))) == NULL ||
			    (g->acked = realloc(g->acked, g->alloc)) == NULL)
				fatal("sink %s: %m", sh->name);
		}
		g->off[g->n++] = (size_t)(p - g->lines.data);
	}
	if (g->n > 0) {
		g->off[g->n] = (size_t)(p - g->lines.data);
		memset(g->acked, 0, g->n);
	}
	return 1;
}

/* Every message of segment g is acknowledged: it goes. */
static void
seg_done(struct ship *sh, struct seg *g)
{
	if (unlinkat(sh->rfd, g->name, 0) == -1)
		log_err("sink %s: cannot remove ready/%s: %m", sh->name,
		    g->name);
	log_debug("sink %s: ready/%s: %zu messages acknowledged", sh->name,
	    g->name, g->n - (size_t)g->rejected);
	sh->figs.sent += g->n - g->rejected;
	sh->figs.rejected += g->rejected;
	seg_release(g);
	report(sh);
}

static void
ack(struct seg *g, size_t i)
{
	if (i < g->n && !g->acked[i]) {
		g->acked[i] = 1;
		g->nacked++;
	}
}

/* Whether segment g is loaded and all of it acknowledged. */
static int
seg_complete(const struct seg *g)
{
	return g->fd != -1 && g->nacked == g->n;
}

/* Nothing loaded. */
static int
segs_idle(const struct ship *sh)
{
	return sh->seg[0].fd == -1 && sh->seg[1].fd == -1;
}

/*
 * Keep the segments going: remove the ones all acknowledged (the older
 * first), read the oldest ready one when none is loaded, and the next one
 * once the older is all published.  1 if some segment is loaded.
 */
static int
segs_turn(struct ship *sh)
{
	struct seg	*old, *young;
	int		 k;
	/* Without drain, a stop publishes only what is under way. */
	int		 more = !(sh->stopping && !sh->drain);

	for (k = 0; k < 64; k++) {
		old = &sh->seg[sh->cur];
		young = &sh->seg[!sh->cur];
		if (seg_complete(old)) {
			seg_done(sh, old);
			sh->cur = !sh->cur;
			continue;
		}
		if (old->fd == -1 && young->fd != -1) {
			sh->cur = !sh->cur;
			continue;
		}
		if (old->fd == -1 && (!more || seg_load(sh, old, NULL) == 0))
			return 0;
		if (seg_complete(old))
			continue;
		if (young->fd == -1 && old->next >= old->n && more)
			seg_load(sh, young, old->name);
		return 1;
	}
	return !segs_idle(sh);
}

/* The broker. */

static double
backoff_s(struct ship *sh)
{
	unsigned int	r = sh->rounds++;
	double		d;

	d = BACKOFF_MIN * (double)(1U << (r < 20 ? r : 20));
	if (d > sh->c->backoff_max)
		d = sh->c->backoff_max;
	return d / 2 + d / 2 * ((double)random() / (double)RAND_MAX);
}

/* The connection is gone (or never came): a new client after a backoff. */
static void
down(struct ship *sh, const char *reason)
{
	char	why[512];
	double	d;

	/* reason may be sh->last itself; libmosquitto may say more. */
	if (sh->liberr[0] != '\0')
		snprintf(why, sizeof(why), "%s (%s)", reason, sh->liberr);
	else
		snprintf(why, sizeof(why), "%s", reason);
	sh->liberr[0] = '\0';
	if (sh->mosq != NULL) {
		mosquitto_destroy(sh->mosq);
		sh->mosq = NULL;
	}
	snprintf(sh->last, sizeof(sh->last), "%s:%d: %s", sh->c->host,
	    sh->c->port, why);
	new_error(sh);
	sh->figs.retries++;
	if (sh->stopping) {
		/* What is not acknowledged stays in the spool. */
		sh->gave_up = 1;
	} else if (complain_fail(&sh->cp, clock_mono_us()))
		log_warning("sink %s: %s: will retry", sh->name, sh->last);
	sh->link = LINK_DOWN;
	sh->inflight = 0;
	sh->seg[0].next = sh->seg[1].next = 0;
	memset(sh->mid_line, 0xff, MIDS * sizeof(*sh->mid_line));
	d = backoff_s(sh);
	sh->next_try = clock_mono_us() + (uint64_t)(d * 1e6);
	report(sh);
}

static void
on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct ship	*sh = arg;

	(void)m;
	if (rc != 0) {
		/* Refused: the next round of the loop tears the client down. */
		snprintf(sh->refused, sizeof(sh->refused), "%s%s",
		    mosquitto_connack_string(rc), rc == 4 || rc == 5 ?
		    ": check username and password_file" : "");
		sh->link = LINK_DOWN;
		return;
	}
	sh->link = LINK_UP;
	sh->rounds = 0;
	if (complain_ok(&sh->cp) > 0)
		log_notice("sink %s: publishing to %s:%d again", sh->name,
		    sh->c->host, sh->c->port);
}

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct ship	*sh = arg;
	int32_t		 i;

	(void)m;
	if (mid < 0 || mid >= MIDS)
		return;
	if ((i = sh->mid_line[mid]) < 0) {
		/*
		 * A QoS 0 message is written (and this called) within
		 * mosquitto_publish(), before its id is known.
		 */
		if (sh->in_publish)
			sh->written = 1;
		return;
	}
	sh->mid_line[mid] = -1;
	if (sh->inflight > 0)
		sh->inflight--;
	ack(&sh->seg[(i & MID_SLOT) != 0], (size_t)(i & ~MID_SLOT));
}

/*
 * libmosquitto's own messages: its errors (OpenSSL's reason for a TLS
 * failure, say) go with the next failure; the rest at debug level.
 */
static void
on_log(struct mosquitto *m, void *arg, int level, const char *str)
{
	struct ship	*sh = arg;

	(void)m;
	if (level & MOSQ_LOG_ERR)
		snprintf(sh->liberr, sizeof(sh->liberr), "%s", str);
	log_debug("sink %s: libmosquitto: %s", sh->name, str);
}

/* A new client, connecting (CONNACK in the loop).  0, or -1 (down). */
static int
connect_broker(struct ship *sh)
{
	const struct mqttship_conf	*c = sh->c;
	char				 why[256];
	int				 rc;

	if ((sh->mosq = mosquitto_new(c->client_id, true, sh)) == NULL)
		fatal("sink %s: mosquitto_new: %m", sh->name);
	mosquitto_int_option(sh->mosq, MOSQ_OPT_PROTOCOL_VERSION,
	    MQTT_PROTOCOL_V311);
	mosquitto_int_option(sh->mosq, MOSQ_OPT_SEND_MAXIMUM,
	    (int)c->max_inflight);
	mosquitto_connect_callback_set(sh->mosq, on_connect);
	mosquitto_publish_callback_set(sh->mosq, on_publish);
	mosquitto_log_callback_set(sh->mosq, on_log);
	if (c->username != NULL && (rc = mosquitto_username_pw_set(sh->mosq,
	    c->username, sh->password)) != MOSQ_ERR_SUCCESS)
		goto bad;
	if (c->tls) {
		if ((rc = mosquitto_tls_set(sh->mosq, c->ca_file,
		    c->ca_file != NULL ? NULL : c->ca_path, c->cert_file,
		    c->key_file, NULL)) != MOSQ_ERR_SUCCESS)
			goto bad;
		if (!c->tls_verify) {
			mosquitto_tls_opts_set(sh->mosq, 0, NULL, NULL);
			mosquitto_tls_insecure_set(sh->mosq, true);
		}
	}
	if ((rc = mosquitto_connect_async(sh->mosq, c->host, c->port,
	    c->keepalive)) != MOSQ_ERR_SUCCESS)
		goto bad;
	sh->link = LINK_CONNECTING;
	sh->connack_by = clock_mono_us() +
	    (uint64_t)(c->connect_timeout * 1e6);
	return 0;
bad:
	snprintf(why, sizeof(why), "%s", rc == MOSQ_ERR_ERRNO ?
	    strerror(errno) : mosquitto_strerror(rc));
	down(sh, why);
	return -1;
}

/*
 * Publish the next line of segment g (slot) if there is one: 1 if one
 * went (or was let go), 0 if g is all published, -1 if the connection
 * went (down() was called).
 */
static int
publish_one(struct ship *sh, struct seg *g, int slot)
{
	const struct mqttship_conf	*c = sh->c;
	const char			*line, *body;
	char				 err[256];
	size_t				 len, blen;
	int				 mid, rc;

	while (g->next < g->n && g->acked[g->next])
		g->next++;
	if (g->next >= g->n)
		return 0;
	line = g->lines.data + g->off[g->next];
	len = g->off[g->next + 1] - g->off[g->next] - 1;
	err[0] = '\0';
	if (lp_parse(line, len, &sh->pt, err, sizeof(err)) == -1 ||
	    mqtt_topic_expand(c->topic, c->agent, &sh->pt, &sh->topic) == -1 ||
	    (c->payload == MQTT_PAYLOAD_JSON && (buf_reset(&sh->payload),
	    mqtt_payload_json(&sh->pt, &sh->payload)) == -1)) {
		/* Never publishable: said once, counted, let go. */
		if (complain_fail(&sh->cp_bad, clock_mono_us()))
			log_err("sink %s: ready/%s line %zu cannot be a "
			    "message: %s", sh->name, g->name, g->next + 1,
			    err[0] ? err : "its topic is too long");
		g->rejected++;
		ack(g, g->next++);
		return 1;
	}
	if (c->payload == MQTT_PAYLOAD_JSON) {
		body = sh->payload.data;
		blen = sh->payload.len;
	} else {
		body = line;
		blen = len;
	}
	sh->in_publish = 1;
	sh->written = 0;
	rc = mosquitto_publish(sh->mosq, &mid, buf_str(&sh->topic), (int)blen,
	    body, c->qos, c->retain);
	sh->in_publish = 0;
	if (rc != MOSQ_ERR_SUCCESS) {
		down(sh, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
		return -1;
	}
	if (sh->written)
		ack(g, g->next);
	else if (mid >= 0 && mid < MIDS) {
		sh->mid_line[mid] = (int32_t)g->next | (slot ? MID_SLOT : 0);
		sh->inflight++;
	}
	g->next++;
	return 1;
}

/*
 * Publish the loaded segments' next lines, the older's first, up to
 * max_inflight messages not yet acknowledged.  0, or -1 if the
 * connection went (down() was called).
 */
static int
publish(struct ship *sh)
{
	int	slot, r;

	while (sh->link == LINK_UP && sh->inflight < sh->c->max_inflight) {
		slot = sh->cur;
		if (sh->seg[slot].fd == -1 ||
		    (r = publish_one(sh, &sh->seg[slot], slot)) == 0) {
			slot = !sh->cur;
			if (sh->seg[slot].fd == -1 ||
			    (r = publish_one(sh, &sh->seg[slot], slot)) == 0)
				return 0;
		}
		if (r == -1)
			return -1;
	}
	return 0;
}

/*
 * Wait up to ms for the broker, the daemon, a new ready segment or a
 * signal, and let libmosquitto read, write and keep the connection alive.
 */
static void
wait_events(struct ship *sh, int ms)
{
	struct pollfd	pfd[3];
	char		ev[4096];
	int		rc = MOSQ_ERR_SUCCESS, s;

	s = sh->mosq != NULL ? mosquitto_socket(sh->mosq) : -1;
	pfd[0].fd = sh->ch.sock;
	pfd[0].events = POLLIN | (msg_queued(&sh->ch) > 0 ? POLLOUT : 0);
	pfd[1].fd = sh->inotify;
	pfd[1].events = POLLIN;
	pfd[2].fd = s;
	pfd[2].events = POLLIN | (s != -1 && mosquitto_want_write(sh->mosq) ?
	    POLLOUT : 0);
	pfd[2].revents = 0;
	if (poll(pfd, 3, ms) > 0 && (pfd[1].revents & POLLIN))
		while (read(sh->inotify, ev, sizeof(ev)) > 0)
			;
	hear(sh);
	if (sh->mosq == NULL)
		return;
	if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)) {
		rc = mosquitto_loop_read(sh->mosq, 64);
		/*
		 * Acknowledge what was read at once: the broker's Nagle holds
		 * its next PUBACKs until then, and at the end of a segment,
		 * with nothing more to send, a delayed ACK cost 40 ms.
		 */
		if (s != -1 && setsockopt(s, IPPROTO_TCP, TCP_QUICKACK,
		    &(int){ 1 }, sizeof(int)) == -1)
			log_debug("sink %s: TCP_QUICKACK: %m", sh->name);
	}
	if (rc == MOSQ_ERR_SUCCESS && sh->mosq != NULL &&
	    mosquitto_want_write(sh->mosq))
		rc = mosquitto_loop_write(sh->mosq, 64);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_misc(sh->mosq);
	if (sh->refused[0] != '\0') {
		down(sh, sh->refused);
		sh->refused[0] = '\0';
	} else if (rc != MOSQ_ERR_SUCCESS)
		down(sh, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
	else if (sh->link == LINK_DOWN)
		down(sh, "connection refused");
	else if (sh->link == LINK_CONNECTING &&
	    clock_mono_us() > sh->connack_by)
		down(sh, "no CONNACK within connect_timeout");
}

/* Whether to stop now. */
static int
stop_due(struct ship *sh)
{
	hear(sh);
	if (!sh->stopping)
		return 0;
	if (sh->gave_up || clock_mono_us() >= sh->deadline_us)
		return 1;
	/* Without drain: only the segments under way, if they can go. */
	return !sh->drain && (segs_idle(sh) || sh->link != LINK_UP);
}

static void
init(struct ship *sh, const struct mqttship_conf *c, const char *name,
    const char *spooldir, int sock)
{
	struct sigaction	sa;
	char			err[PATH_MAX + 256], ready[64];
	int			dfd, jfd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sh->c = c;
	sh->name = name;
	sh->seg[0].fd = sh->seg[1].fd = -1;
	if (spool_dirs(spooldir, &dfd, &sh->rfd, &jfd, err,
	    sizeof(err)) == -1) {
		log_err("sink %s: mqttship: %s", name, err);
		_exit(EX_CONFIG);
	}
	close(dfd);
	close(jfd);
	msgchan_init(&sh->ch, sock, to_ship, 1, OUT_MAX);
	buf_init(&sh->seg[0].lines, SEG_MAX);
	buf_init(&sh->seg[1].lines, SEG_MAX);
	buf_init(&sh->topic, MQTT_TOPIC_MAX);
	buf_init(&sh->payload, (size_t)256 << 20);
	lp_point_init(&sh->pt);
	if ((sh->mid_line = malloc(MIDS * sizeof(*sh->mid_line))) == NULL)
		fatal("sink %s: %m", name);
	memset(sh->mid_line, 0xff, MIDS * sizeof(*sh->mid_line));
	srandom((unsigned int)((uint64_t)getpid() ^ clock_mono_us()));
	sh->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(ready, sizeof(ready), "/proc/self/fd/%d", sh->rfd);
	if (sh->inotify != -1 && inotify_add_watch(sh->inotify, ready,
	    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
		close(sh->inotify);
		sh->inotify = -1;
	}
	mosquitto_lib_init();
}

static void __attribute__((noreturn))
leave(struct ship *sh)
{
	unsigned long	n = 0;

	if (sh->drain)
		spool_dir_usage(sh->rfd, &n, NULL);
	if (n > 0)
		log_warning("sink %s: stopping with %lu segments not "
		    "published (%s): they stay in the spool for the next "
		    "start", sh->name, n, sh->gave_up ? sh->last :
		    "the stop budget is spent");
	if (sh->mosq != NULL) {
		if (sh->link == LINK_UP)
			mosquitto_disconnect(sh->mosq);
		mosquitto_destroy(sh->mosq);
	}
	secret_free(sh->password);
	seg_release(&sh->seg[0]);
	seg_release(&sh->seg[1]);
	report(sh);
	if (sh->ch.sock != -1)
		msg_drain(&sh->ch, LAST_WORDS_MS);
	_exit(0);
}

/* The password, read now: the only process of qosd that ever holds it. */
static void
read_secret(struct ship *sh)
{
	const struct mqttship_conf	*c = sh->c;
	char				 path[PATH_MAX], why[PATH_MAX + 256];

	if (c->secret_src == SECRET_NONE)
		return;
	if (secret_path(c->secret_src, c->secret_arg, path, sizeof(path),
	    why, sizeof(why)) == 0 && secret_read(path, &sh->password, why,
	    sizeof(why)) == 0)
		return;
	log_err("sink %s: mqttship: password_%s: %s: nothing is sent until "
	    "it is fixed", sh->name, c->secret_src == SECRET_FILE ? "file" :
	    "credential", why);
	_exit(EX_CONFIG);
}

/* How long to wait now: until the next try, else a poll round. */
static int
wait_ms(const struct ship *sh)
{
	uint64_t	now = clock_mono_us(), until;

	if (sh->link != LINK_DOWN)
		return POLL_MS;
	until = sh->next_try;
	if (sh->stopping && sh->deadline_us < until)
		until = sh->deadline_us;
	if (until <= now)
		return 0;
	return until - now > (uint64_t)POLL_MS * 1000 ? POLL_MS :
	    (int)((until - now) / 1000) + 1;
}

void
qosd_mqttship_main(const void *conf, const char *name, const char *spooldir,
    int sock, int verbose)
{
	struct ship	sh;

	memset(&sh, 0, sizeof(sh));
	log_init(1, verbose, "qosd");
	sh.c = conf;
	sh.name = name;
	read_secret(&sh);
	init(&sh, conf, name, spooldir, sock);
	for (;;) {
		if (stop_due(&sh))
			break;
		if (!segs_turn(&sh)) {
			/* Stopping with ready/ empty: all is published. */
			if (sh.stopping)
				break;
			wait_events(&sh, POLL_MS);
			continue;
		}
		if (sh.link == LINK_DOWN) {
			if (sh.stopping && sh.gave_up)
				break;
			if (clock_mono_us() >= sh.next_try &&
			    connect_broker(&sh) == -1)
				continue;
		}
		if (publish(&sh) == -1)
			continue;
		/* Both all published: a turn reads the next. */
		if (seg_complete(&sh.seg[sh.cur]))
			continue;
		wait_events(&sh, wait_ms(&sh));
	}
	leave(&sh);
}
