/*
 * bus.c: the bus process (see bus.h): one thread of its own (libnats
 * runs others) polling the daemon's channel and an eventfd that
 * libnats's threads write when a request comes or the connection
 * changes.  Requests are handed to the daemon and answered when it
 * answers; heartbeats and states are published, and kept in the bucket.
 */
#define _GNU_SOURCE

#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <nats/nats.h>

#include "bus/bus.h"
#include "bus/conn.h"
#include "bus/kv.h"
#include "bus/points.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/natsname.h"

#define OUT_MAX		(4 << 20)	/* to the daemon: requests */
#define IN_MAX		1024		/* requests not yet taken */
#define TICK_MS		200
#define FIGS_US		1000000ULL	/* figures at most this often */
#define PENDING_US	120000000ULL	/* a request the daemon forgot */
#define FLUSH_MS	1000		/* at exit, for what is published */
#define SUBJ		NATSNAME_SUBJECT_MAX

static const struct msg_type to_bus[] = {
	{ BUS_REPLY, "reply", sizeof(struct bus_reply),
	    sizeof(struct bus_reply) + BUS_JSON_MAX, 0 },
	{ BUS_HEARTBEAT, "heartbeat", 2, BUS_JSON_MAX, 0 },
	{ BUS_STATE, "state", 2, BUS_JSON_MAX, 0 },
	{ BUS_STOP, "stop", 0, 0, 0 },
	{ BUS_POINTS, "points", 1, BUS_POINTS_MAX, 0 },
};

static volatile sig_atomic_t term;

static void
on_term(int sig)
{
	(void)sig;
	term = 1;
}

struct inreq {				/* from libnats's threads */
	natsMsg		*m;
	uint32_t	 kind;
};

struct pending {			/* waiting for the daemon */
	uint32_t	 tag;		/* 0: free */
	char		*reply;		/* the asker's inbox */
	uint64_t	 since;
};

struct item {
	char		*json;
	size_t		 len;
};

struct bus {
	const struct bus_conf *c;
	struct msgchan	 ch;		/* sock -1: the daemon is gone */
	int		 wakefd;
	natsConnection	*nc;
	natsSubscription *sub[2];
	struct kv	*kv;
	struct points	*pts;
	pthread_mutex_t	 lock;		/* in, nin */
	struct inreq	 in[IN_MAX];
	size_t		 nin;
	uint64_t	 in_refused;	/* under lock: in was full */
	struct pending	 pend[BUS_PENDING_MAX];
	uint32_t	 next_tag;
	struct item	 hb;		/* the heartbeat NATS has not had */
	struct item	 q[BUS_QUEUE_MAX];	/* likewise, states */
	size_t		 qhead, qn;
	int		 up;
	int		 stop;
	struct bus_figs	 figs;
	uint64_t	 figs_at;
	struct complain	 away;		/* NATS not reached, for the log */
	char		 s_hb[SUBJ], s_state[SUBJ], s_result[SUBJ];
	char		 agent_key[NATSNAME_KEY_MAX];
};

static struct bus	*the_bus;	/* for libnats's callbacks */

static void
wake(struct bus *b)
{
	uint64_t	one = 1;

	if (write(b->wakefd, &one, sizeof(one)) == -1)
		return;
}

/* Publish: 0, or -1 (NATS went away meanwhile). */
static int
publish(struct bus *b, const char *subj, const char *data, size_t len)
{
	if (natsConnection_Publish(b->nc, subj, data, (int)len) != NATS_OK)
		return -1;
	b->figs.published++;
	return 0;
}

/* An answer the bus gives itself: {"code": N, "error": why}. */
static void
refuse(struct bus *b, const char *reply, int code, const char *why)
{
	json_t	*o = json_pack("{s:i, s:s}", "code", code, "error", why);
	char	*s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	b->figs.refused++;
	if (s != NULL && reply != NULL)
		publish(b, reply, s, strlen(s));
	free(s);
}

/* libnats's thread: a request on PREFIX.agent.AGENT.run or .probe. */
static void
on_request(natsConnection *nc, natsSubscription *sub, natsMsg *m,
    void *arg)
{
	struct bus	*b = the_bus;
	int		 full;

	(void)nc;
	(void)sub;
	pthread_mutex_lock(&b->lock);
	if (!(full = b->nin == IN_MAX)) {
		b->in[b->nin].m = m;
		b->in[b->nin++].kind = (uint32_t)(uintptr_t)arg;
	} else
		b->in_refused++;
	pthread_mutex_unlock(&b->lock);
	if (full)
		natsMsg_Destroy(m);
	else
		wake(b);
}

static struct pending *
pending_free_slot(struct bus *b)
{
	uint64_t	now = clock_mono_us();
	size_t		i;

	for (i = 0; i < BUS_PENDING_MAX; i++) {
		if (b->pend[i].tag != 0 && now - b->pend[i].since >
		    PENDING_US) {
			free(b->pend[i].reply);
			b->pend[i].tag = 0;
		}
		if (b->pend[i].tag == 0)
			return &b->pend[i];
	}
	return NULL;
}

/* Hand one request to the daemon, or refuse it. */
static void
forward(struct bus *b, natsMsg *m, uint32_t kind)
{
	const char	*reply = natsMsg_GetReply(m);
	int		 len = natsMsg_GetDataLength(m);
	struct pending	*p;
	struct bus_req	 r;
	char		*frame, why[160];

	b->figs.requests++;
	if (reply == NULL || *reply == '\0') {
		b->figs.refused++;
		return;
	}
	if (len <= 0 || (uint32_t)len > b->c->max_request) {
		snprintf(why, sizeof(why), "the request is %d bytes: expected "
		    "a JSON object of 1 to %u (nats.max_request)", len,
		    b->c->max_request);
		refuse(b, reply, 413, why);
		return;
	}
	if (b->ch.sock == -1 || (p = pending_free_slot(b)) == NULL) {
		refuse(b, reply, 503, "the agent is busy: too many requests "
		    "waiting for an answer");
		return;
	}
	if (++b->next_tag == 0)
		b->next_tag = 1;
	r.tag = b->next_tag;
	r.kind = kind;
	if ((frame = malloc(sizeof(r) + (size_t)len)) == NULL)
		fatal("bus: %m");
	memcpy(frame, &r, sizeof(r));
	memcpy(frame + sizeof(r), natsMsg_GetData(m), (size_t)len);
	if (msg_send(&b->ch, BUS_REQUEST, frame, sizeof(r) + (size_t)len,
	    -1) == -1) {
		free(frame);
		refuse(b, reply, 503, "the agent is busy: its daemon has not "
		    "read the requests before this one");
		return;
	}
	free(frame);
	if ((p->reply = strdup(reply)) == NULL)
		fatal("bus: %m");
	p->tag = r.tag;
	p->since = clock_mono_us();
}

static void
take_requests(struct bus *b)
{
	struct inreq	 in[IN_MAX];
	size_t		 n, i;
	uint64_t	 refused;

	pthread_mutex_lock(&b->lock);
	n = b->nin;
	memcpy(in, b->in, n * sizeof(*in));
	b->nin = 0;
	refused = b->in_refused;
	b->in_refused = 0;
	pthread_mutex_unlock(&b->lock);
	b->figs.requests += refused;
	b->figs.refused += refused;
	for (i = 0; i < n; i++) {
		forward(b, in[i].m, in[i].kind);
		natsMsg_Destroy(in[i].m);
	}
}

/* The daemon's answer to a request: to the asker's inbox. */
static void
on_reply(struct bus *b, const struct msg *m)
{
	struct bus_reply	r;
	size_t			i;

	memcpy(&r, m->data, sizeof(r));
	for (i = 0; i < BUS_PENDING_MAX; i++) {
		if (b->pend[i].tag != r.tag)
			continue;
		if (b->up)
			publish(b, b->pend[i].reply, (const char *)m->data +
			    sizeof(r), m->len - sizeof(r));
		free(b->pend[i].reply);
		b->pend[i].reply = NULL;
		b->pend[i].tag = 0;
		return;
	}
}

static void
heartbeat(struct bus *b, const char *json, size_t len)
{
	if (publish(b, b->s_hb, json, len) == -1)
		b->figs.dropped++;
	if (kv_put(b->kv, b->agent_key, json, len) == -1)
		b->figs.kv_errors++;
}

/*
 * A state: kept in the bucket (without its points if too large for
 * NATS), published in short on PREFIX.state.AGENT, and in full on
 * PREFIX.result.AGENT once it is over.
 */
static void
state(struct bus *b, const char *json, size_t len)
{
	json_t		*o, *slim;
	const char	*id, *st;
	char		 key[NATSNAME_KEY_MAX], *s = NULL;
	int		 over;
	size_t		 max = (size_t)natsConnection_GetMaxPayload(b->nc);

	if ((o = json_loadb(json, len, 0, NULL)) == NULL ||
	    (id = json_string_value(json_object_get(o, "id"))) == NULL ||
	    (st = json_string_value(json_object_get(o, "state"))) == NULL ||
	    natsname_result_key(id, key, sizeof(key)) == -1) {
		json_decref(o);
		return;
	}
	over = strcmp(st, "done") == 0 || strcmp(st, "failed") == 0;
	if (max > 0 && len > max - 512) {
		json_object_del(o, "points");
		json_object_del(o, "line_protocol");
		json_object_set_new(o, "points_omitted", json_string("too "
		    "large for NATS's max_payload: read the result from the "
		    "agent's control API"));
		if ((s = json_dumps(o, JSON_COMPACT)) != NULL) {
			json = s;
			len = strlen(s);
		}
	}
	if (kv_put(b->kv, key, json, len) == -1)
		b->figs.kv_errors++;
	if (over && publish(b, b->s_result, json, len) == -1)
		b->figs.dropped++;
	free(s);
	slim = json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O?, s:O?}", "agent",
	    b->c->agent, "id", id, "state", st, "kind", json_object_get(o,
	    "kind"), "job", json_object_get(o, "job"), "collector",
	    json_object_get(o, "collector"), "error", json_object_get(o,
	    "error"));
	if ((s = json_dumps(slim, JSON_COMPACT)) != NULL &&
	    publish(b, b->s_state, s, strlen(s)) == -1)
		b->figs.dropped++;
	free(s);
	json_decref(slim);
	json_decref(o);
}

static void
item_set(struct item *it, const void *data, size_t len)
{
	free(it->json);
	if ((it->json = malloc(len + 1)) == NULL)
		fatal("bus: %m");
	memcpy(it->json, data, len);
	it->json[len] = '\0';
	it->len = len;
}

/* NATS is away: the oldest state goes when the queue is full. */
static void
queue_state(struct bus *b, const void *data, size_t len)
{
	size_t	at;

	if (b->qn == BUS_QUEUE_MAX) {
		free(b->q[b->qhead].json);
		b->q[b->qhead].json = NULL;
		b->qhead = (b->qhead + 1) % BUS_QUEUE_MAX;
		b->qn--;
		b->figs.dropped++;
	}
	at = (b->qhead + b->qn++) % BUS_QUEUE_MAX;
	b->q[at].json = NULL;
	item_set(&b->q[at], data, len);
}

/* NATS is back: what waited goes, oldest first. */
static void
send_waiting(struct bus *b)
{
	struct item	*it;

	while (b->qn > 0 && conn_up(b->nc)) {
		it = &b->q[b->qhead];
		state(b, it->json, it->len);
		free(it->json);
		it->json = NULL;
		b->qhead = (b->qhead + 1) % BUS_QUEUE_MAX;
		b->qn--;
	}
	if (b->hb.json != NULL && conn_up(b->nc)) {
		heartbeat(b, b->hb.json, b->hb.len);
		free(b->hb.json);
		b->hb.json = NULL;
	}
	points_resume(b->pts);
}

static void
on_msg(void *arg, const struct msg *m)
{
	struct bus	*b = arg;
	const char	*data = m->data;

	switch (m->type) {
	case BUS_REPLY:
		on_reply(b, m);
		break;
	case BUS_HEARTBEAT:
		if (b->up && b->qn == 0)
			heartbeat(b, data, m->len);
		else {
			if (b->hb.json != NULL)
				b->figs.dropped++;
			item_set(&b->hb, data, m->len);
		}
		break;
	case BUS_STATE:
		if (b->up && b->qn == 0)
			state(b, data, m->len);
		else
			queue_state(b, data, m->len);
		break;
	case BUS_STOP:
		b->stop = 1;
		break;
	case BUS_POINTS:
		points_take(b->pts, b->up, data, m->len);
		break;
	}
}

/* Read what the daemon said. */
static void
hear(struct bus *b)
{
	int	r;

	if (b->ch.sock == -1)
		return;
	if ((r = msg_receive(&b->ch, on_msg, b)) != 1) {
		if (r == -1 && errno == EPROTO)
			log_err("bus: from the daemon: %s", msg_error(&b->ch));
		msgchan_cleanup(&b->ch);
		b->stop = 1;
	} else if (msg_queued(&b->ch) > 0 && msg_flush(&b->ch) == -1) {
		msgchan_cleanup(&b->ch);
		b->stop = 1;
	}
}

static void
report(struct bus *b)
{
	uint64_t	now = clock_mono_us();

	if (b->ch.sock == -1 || now - b->figs_at < FIGS_US)
		return;
	b->figs_at = now;
	b->figs.connected = (uint32_t)b->up;
	b->figs.kv = (uint32_t)(b->up && kv_ready(b->kv));
	b->figs.reconnects = conn_reconnects();
	points_figs(b->pts, &b->figs.points_sent, &b->figs.points_dropped);
	if (msg_send(&b->ch, BUS_FIGS, &b->figs, sizeof(b->figs), -1) == -1 &&
	    errno != E2BIG)
		b->stop = 1;
}

/*
 * NATS not reached: why, as the connection last said (a refused
 * connection, a certificate that does not verify, an authorization
 * violation), rate-limited.
 */
static void
why_away(struct bus *b)
{
	const char	*txt = NULL;
	natsStatus	 s;

	if (b->nc == NULL || (s = natsConnection_GetLastError(b->nc,
	    &txt)) == NATS_OK)
		return;
	if (complain_fail(&b->away, clock_mono_us()))
		log_warning("bus: NATS not reached (%s): %s: %s; trying "
		    "again", b->c->servers[0], natsStatus_GetText(s),
		    txt != NULL && *txt != '\0' ? txt : "no detail");
}

/* The connection's state, as libnats last said. */
static void
look(struct bus *b)
{
	int	up = conn_up(b->nc);

	if (!up)
		why_away(b);
	if (up == b->up)
		return;
	b->up = up;
	if (up) {
		complain_ok(&b->away);
		log_notice("bus: connected to NATS (%zu states and %s "
		    "heartbeat waiting)", b->qn, b->hb.json != NULL ? "a" :
		    "no");
		kv_ready(b->kv);
		send_waiting(b);
	} else
		log_warning("bus: NATS is away: reconnecting with backoff; "
		    "states wait (up to %d), the last heartbeat is kept",
		    BUS_QUEUE_MAX);
	b->figs_at = 0;
}

static int
subscribe(struct bus *b, int i, const char *verb, uint32_t kind,
    char *err, size_t errlen)
{
	char		subj[SUBJ];
	natsStatus	s;

	if (natsname_subject(subj, sizeof(subj), b->c->prefix, NULL,
	    b->c->agent, verb) == -1) {
		snprintf(err, errlen, "nats: the subject is too long");
		return -1;
	}
	if ((s = natsConnection_Subscribe(&b->sub[i], b->nc, subj, on_request,
	    (void *)(uintptr_t)kind)) != NATS_OK) {
		snprintf(err, errlen, "nats: cannot subscribe to %s: %s", subj,
		    natsStatus_GetText(s));
		return -1;
	}
	natsSubscription_SetPendingLimits(b->sub[i], IN_MAX, 64 << 20);
	return 0;
}

static int
init(struct bus *b, const struct bus_conf *c, int sock, char *err,
    size_t errlen)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	memset(b, 0, sizeof(*b));
	the_bus = b;
	b->c = c;
	pthread_mutex_init(&b->lock, NULL);
	msgchan_init(&b->ch, sock, to_bus, sizeof(to_bus) / sizeof(to_bus[0]),
	    OUT_MAX);
	if ((b->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("bus: eventfd: %m");
	if (natsname_subject(b->s_hb, SUBJ, c->prefix, "heartbeat", c->agent,
	    NULL) == -1 || natsname_subject(b->s_state, SUBJ, c->prefix,
	    "state", c->agent, NULL) == -1 || natsname_subject(b->s_result,
	    SUBJ, c->prefix, "result", c->agent, NULL) == -1 ||
	    natsname_agent_key(c->agent, b->agent_key,
	    sizeof(b->agent_key)) == -1) {
		snprintf(err, errlen, "nats: subjects too long");
		return -1;
	}
	if (conn_open(c, b->wakefd, &b->nc, err, errlen) == -1)
		return -1;
	b->kv = kv_new(c, b->nc);
	b->pts = points_new(c, b->nc);
	if (subscribe(b, 0, "run", BUS_RUN, err, errlen) == -1 ||
	    subscribe(b, 1, "probe", BUS_PROBE, err, errlen) == -1)
		return -1;
	return 0;
}

/* Publish what can be, close, and go. */
static void __attribute__((noreturn))
leave(struct bus *b, int status)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (b->sub[i] != NULL)
			natsSubscription_Destroy(b->sub[i]);
	if (b->nc != NULL) {
		if (conn_up(b->nc))
			natsConnection_FlushTimeout(b->nc, FLUSH_MS);
		kv_free(b->kv);
		points_free(b->pts);
		natsConnection_Destroy(b->nc);
		nats_CloseAndWait(FLUSH_MS);
	}
	_exit(status);
}

void
qosd_bus_main(const struct bus_conf *c, int sock, int verbose)
{
	struct bus	 b;
	struct pollfd	 pfd[2];
	uint64_t	 v;
	char		 err[1024];

	log_init(1, verbose, "qosd");
	if (init(&b, c, sock, err, sizeof(err)) == -1) {
		log_err("bus: %s", err);
		leave(&b, 78);
	}
	log_info("bus: agent \"%s\" on %s%s, subjects %s.*", c->agent,
	    c->servers[0], c->nservers > 1 ? " and others" : "", c->prefix);
	while (!b.stop && !term) {
		pfd[0].fd = b.ch.sock;
		pfd[0].events = POLLIN | (msg_queued(&b.ch) > 0 ? POLLOUT : 0);
		pfd[1].fd = b.wakefd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, TICK_MS) > 0 && (pfd[1].revents & POLLIN))
			while (read(b.wakefd, &v, sizeof(v)) > 0)
				;
		look(&b);
		hear(&b);
		take_requests(&b);
		if (b.up)
			send_waiting(&b);
		report(&b);
	}
	if (b.ch.sock != -1)
		msg_drain(&b.ch, FLUSH_MS);
	leave(&b, 0);
}
