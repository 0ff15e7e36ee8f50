/*
 * ping.c: the ping collector.  ICMP echo to many targets, IPv4 and IPv6,
 * with one `ping` point per target (and, with samples, one `ping_sample`
 * point per reply).
 *
 *   { name = "gw"; collector = "ping"; targets = [ "192.0.2.1", "::1" ];
 *     count = 5; ping_interval = 0.2; ping_timeout = 1.0; }
 *
 * The ICMP engine is our own, over one raw socket per address family and
 * poll(), not liboping: ping_send() sends one echo per host and blocks
 * until every host has answered or the timeout has passed, so one dead
 * host stretches every round and shifts the pacing, and so the figures, of
 * the hosts that answer; and it matches each reply by walking the host
 * list, which does not scale to 10,000 targets.  Here every probe has a
 * fixed send time (start + round * ping_interval) and its own timeout, so
 * what one target does never changes what another target measures.
 * Replies are matched by identifier, sequence (the round), and a payload
 * that names the target and carries a per-run cookie.
 *
 * Without CAP_NET_RAW the collector falls back to unprivileged ICMP
 * sockets (SOCK_DGRAM, allowed by net.ipv4.ping_group_range).
 *
 * This file is the collector: its settings, the schedule of the probes,
 * and the points.  The sockets, the echo requests and the matching of what
 * comes back are collectors/ping/icmp.c's; the settings ping shares with
 * the other probe collectors, and their resolution, collectors/probe/'s.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/ping/icmp.h"
#include "collectors/probe/conf.h"
#include "collectors/probe/latstats.h"
#include "collectors/probe/target.h"
#include "qosd/cfg.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "qosd/log.h"
#include "qosd/point.h"

#define PING_DRAIN	32		/* sends between two receive drains */
#define PING_THREAD_MIN	128		/* targets for a thread that emits */

struct ping_conf {
	struct probe_conf	pc;		/* first: probe_job_new() */
	int			samples;
};

static const struct probe_spec ping_spec = {
	.name = "ping",
	.targets_hint = "hosts to ping",
	.interval = "ping_interval",
	.timeout = "ping_timeout",
	.size_min = PING_HDR,		/* ICMP payload bytes */
	.size_max = 65000,
	.size_def = 56,
	.opts = PROBE_TTL | PROBE_DEVICE,
};

static const char *const ping_settings[] = {
	"targets", "count", "ping_interval", "ping_timeout", "ttl", "size",
	"dscp", "source", "device", "family", "samples", NULL
};

static int
ping_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct ping_conf	*c;

	*state = NULL;
	if ((c = probe_job_new(sizeof(*c), &ping_spec, job, err,
	    errlen)) == NULL)
		return -1;
	if (qosd_cfg_bool(job, "samples", &c->samples, err, errlen) == -1) {
		probe_job_free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static void
drain_all(struct ping_run *r)
{
	if (r->fd[0] != -1)
		icmp_drain(r, 0);
	if (r->fd[1] != -1)
		icmp_drain(r, 1);
}

static void
emit(struct ping_run *r, struct ping_target *t, double *rtt, double *tmp)
{
	struct qosd_out	*out = r->out;
	struct latstats	 st;
	const char	*result;
	size_t		 n = 0;
	long long	 k;

	for (k = 0; k < r->pc->count; k++)
		if (t->p != NULL && t->p[k].rtt_ms >= 0)
			rtt[n++] = t->p[k].rtt_ms;
	latstats_compute(&st, rtt, n, t->sent, tmp);
	if (t->pt->fail != NULL)
		result = t->pt->fail;
	else if (st.received > 0)
		result = "ok";
	else if (t->unreach > 0)
		result = "unreachable";
	else
		result = "timeout";

	qosd_point_begin(out, "ping");
	qosd_point_tag(out, "target", t->pt->name);
	if (t->fi != -1)
		qosd_point_tag(out, "address", t->pt->addr);
	if (t->pt->fail == NULL) {
		qosd_point_int(out, "sent", (int64_t)st.sent);
		qosd_point_int(out, "received", (int64_t)st.received);
		qosd_point_float(out, "loss_pct", latstats_round(st.loss_pct));
	}
	latstats_emit(out, &st);
	if (t->ttl >= 0)
		qosd_point_int(out, "ttl", t->ttl);
	qosd_point_str(out, "result", result);
	if (t->p != NULL && t->p[0].tx_ns != 0)
		qosd_point_time(out, t->p[0].tx_ns);
	qosd_point_end(out);
}

static void
emit_samples(struct ping_run *r, struct ping_target *t)
{
	struct qosd_out	*out = r->out;
	long long	 k;

	for (k = 0; k < r->pc->count; k++) {
		if (t->p[k].rtt_ms < 0)
			continue;
		qosd_point_begin(out, "ping_sample");
		qosd_point_tag(out, "target", t->pt->name);
		qosd_point_tag(out, "address", t->pt->addr);
		qosd_point_float(out, "rtt_ms", latstats_round(t->p[k].rtt_ms));
		qosd_point_time(out, t->p[k].tx_ns);
		qosd_point_end(out);
	}
}

static void
emit_target(const struct ping_conf *c, struct ping_run *r,
    struct ping_target *t)
{
	if (t->emitted)
		return;
	t->emitted = 1;
	emit(r, t, r->rtt, r->tmp);
	if (c->samples && t->pt->fail == NULL)
		emit_samples(r, t);
}

/*
 * The points of targets whose every probe is answered are written while
 * the run goes on, not at its end: the daemon reads them meanwhile.  With
 * many targets a thread of the run writes them, so that encoding points
 * and sending probes take a core each (the encoding took about as long as
 * the sends, and delayed them): the engine appends to r->ready and
 * publishes how far it got; the thread writes those points.  A target in
 * r->ready is no longer touched by the engine (its every probe is
 * answered), so the thread may read it once published under the lock.
 * Only the thread uses r->out, r->rtt and r->tmp until it is joined.
 */
struct emitter {
	const struct ping_conf	*c;
	struct ping_run		*r;
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	size_t			 pub;	/* r->ready[0 .. pub - 1] are out */
	size_t			 next;	/* the next one to write */
	int			 done;	/* no more will come */
	int			 on;	/* the thread runs */
};

static void *
emitter_main(void *arg)
{
	struct emitter	*e = arg;
	size_t		 pub;
	int		 done;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		while (e->pub == e->next && !e->done)
			pthread_cond_wait(&e->cv, &e->mu);
		pub = e->pub;
		done = e->done;
		pthread_mutex_unlock(&e->mu);
		for (; e->next < pub; e->next++)
			emit_target(e->c, e->r, &e->r->t[e->r->ready[e->next]]);
		if (done && e->next == pub)
			return NULL;
		pthread_mutex_lock(&e->mu);
	}
}

/* Start the thread when there are enough targets; else e->on is 0. */
static void
emitter_start(struct emitter *e, const struct ping_conf *c,
    struct ping_run *r)
{
	sigset_t	all, old;

	memset(e, 0, sizeof(*e));
	e->c = c;
	e->r = r;
	if (r->nt < PING_THREAD_MIN)
		return;
	if (pthread_mutex_init(&e->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&e->cv, NULL) != 0) {
		pthread_mutex_destroy(&e->mu);
		return;
	}
	/* Signals are the engine's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e->on = pthread_create(&e->th, NULL, emitter_main, e) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!e->on) {
		pthread_cond_destroy(&e->cv);
		pthread_mutex_destroy(&e->mu);
	}
}

/* Hand what r->ready holds to the thread, or write it here. */
static void
emit_ready(struct emitter *e)
{
	if (!e->on) {
		for (; e->next < e->r->nready; e->next++)
			emit_target(e->c, e->r,
			    &e->r->t[e->r->ready[e->next]]);
		return;
	}
	pthread_mutex_lock(&e->mu);
	if (e->pub != e->r->nready) {
		e->pub = e->r->nready;
		pthread_cond_signal(&e->cv);
	}
	pthread_mutex_unlock(&e->mu);
}

/* The last hand-over: the thread writes what is ready, and ends. */
static void
emitter_stop(struct emitter *e)
{
	if (!e->on) {
		emit_ready(e);
		return;
	}
	pthread_mutex_lock(&e->mu);
	e->pub = e->r->nready;
	e->done = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->th, NULL);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	e->on = 0;
}

/*
 * Send round k to every target at start + k * interval, each probe with
 * its own timeout, until every probe is answered or timed out, or the
 * run's deadline comes.
 */
static void
engine(const struct ping_conf *c, struct ping_run *r, struct emitter *e,
    uint64_t stop_us)
{
	const struct probe_conf	*pc = &c->pc;
	struct pollfd		 pfd[2];
	uint64_t		 start, now, due, wake, ivl, to;
	unsigned int		 k = 0, sends = 0;
	size_t			 ti = 0;
	int			 npfd, ms;

	ivl = (uint64_t)(pc->interval * 1e6);
	to = (uint64_t)(pc->timeout * 1e6);
	start = qosd_mono_us();
	for (;;) {
		now = qosd_mono_us();
		/* Send what is due, draining replies as we go. */
		while (k < pc->count && start + k * ivl <= now &&
		    now < stop_us) {
			if (r->t[ti].fi != -1 && r->fd[r->t[ti].fi] != -1) {
				icmp_send(r, ti, k);
				if (++sends % PING_DRAIN == 0) {
					drain_all(r);
					emit_ready(e);
				}
			}
			if (++ti == r->nt) {
				ti = 0;
				k++;
				now = qosd_mono_us();
			}
		}
		drain_all(r);
		emit_ready(e);
		now = qosd_mono_us();
		if (now >= stop_us)
			break;
		if (k >= pc->count && (r->outstanding == 0 ||
		    now >= r->last_tx_us + to))
			break;
		wake = k < pc->count ? start + k * ivl : r->last_tx_us + to;
		if (wake > stop_us)
			wake = stop_us;
		due = wake > now ? wake - now : 0;
		ms = (int)((due + 999) / 1000);
		npfd = 0;
		if (r->fd[0] != -1) {
			pfd[npfd].fd = r->fd[0];
			pfd[npfd++].events = POLLIN;
		}
		if (r->fd[1] != -1) {
			pfd[npfd].fd = r->fd[1];
			pfd[npfd++].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)npfd, ms) == -1 && errno != EINTR)
			break;
	}
}

/* Set up r for a run of pc on out; -1 when out of memory. */
static int
run_init(struct ping_run *r, const struct probe_conf *pc,
    struct qosd_out *out)
{
	size_t	i, k, cnt = (size_t)pc->count;

	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->out = out;
	r->nt = pc->ntargets;
	r->fd[0] = r->fd[1] = -1;
	r->pktlen = 8 + (size_t)pc->size;
	if ((r->t = calloc(r->nt, sizeof(*r->t))) == NULL ||
	    (r->pt = probe_targets_new(pc)) == NULL ||
	    (r->probes = calloc(r->nt * cnt, sizeof(*r->probes))) == NULL ||
	    (r->rtt = calloc(cnt, sizeof(*r->rtt))) == NULL ||
	    (r->tmp = calloc(cnt, sizeof(*r->tmp))) == NULL ||
	    (r->pkt = calloc(1, r->pktlen)) == NULL ||
	    (r->ready = calloc(r->nt, sizeof(*r->ready))) == NULL)
		return -1;
	for (i = 0; i < r->nt; i++) {
		r->t[i].pt = &r->pt[i];
		r->t[i].fi = -1;
		r->t[i].ttl = -1;
		r->t[i].p = r->probes + i * cnt;
		for (k = 0; k < cnt; k++)
			r->t[i].p[k].rtt_ms = -1;
	}
	icmp_init(r);
	return 0;
}

/* Close and free what r holds. */
static void
run_cleanup(struct ping_run *r)
{
	int	fi;

	for (fi = 0; fi < 2; fi++)
		if (r->fd[fi] != -1)
			close(r->fd[fi]);
	free(r->ready);
	free(r->pkt);
	free(r->tmp);
	free(r->rtt);
	free(r->probes);
	free(r->pt);
	free(r->t);
}

/*
 * Open the socket of each family a target resolved to.  A family whose
 * socket fails fails its targets; returns -1 if any did.
 */
static int
open_sockets(struct ping_run *r)
{
	const char	*job = qosd_out_job(r->out);
	size_t		 i;
	int		 fi, need[2] = { 0, 0 }, rc = 0, eperm = 0;

	for (i = 0; i < r->nt; i++)
		if (r->t[i].fi != -1)
			need[r->t[i].fi] = 1;
	for (fi = 0; fi < 2; fi++) {
		if (!need[fi])
			continue;
		if ((r->fd[fi] = icmp_open(r, fi)) != -1)
			continue;
		if (errno == EPERM || errno == EACCES)
			eperm = 1;
		else
			log_err("ping[%s]: %s socket: %m", job,
			    fi ? "ICMPv6" : "ICMP");
		for (i = 0; i < r->nt; i++)
			if (r->t[i].fi == fi)
				r->t[i].pt->fail = "error";
		rc = -1;
	}
	if (eperm)
		log_err("ping[%s]: cannot open an ICMP socket: CAP_NET_RAW "
		    "is missing (give qosd CAP_NET_RAW, or allow "
		    "unprivileged ICMP with sysctl net.ipv4.ping_group_range)",
		    job);
	return rc;
}

static int
ping_run(void *state, struct qosd_out *out)
{
	const struct ping_conf	*c = state;
	const struct probe_conf	*pc = &c->pc;
	struct ping_run		 r;
	struct emitter		 e;
	uint64_t		 stop, sched, dns;
	size_t			 i;
	int			 rc = -1;

	if (run_init(&r, pc, out) == -1) {
		log_err("ping[%s]: out of memory", qosd_out_job(out));
		goto done;
	}
	sched = (uint64_t)(((double)(pc->count - 1) * pc->interval +
	    pc->timeout) * 1e6);
	probe_deadlines(out, r.nt, sched, &stop, &dns);
	probe_resolve(pc, r.pt, 0, dns, qosd_out_job(out));
	for (i = 0; i < r.nt; i++)
		if (r.pt[i].fail == NULL)
			r.t[i].fi = r.pt[i].sa.ss_family == AF_INET6;
	rc = open_sockets(&r);
	if (r.fd[0] != -1 || r.fd[1] != -1) {
		emitter_start(&e, c, &r);
		engine(c, &r, &e, stop);
		emitter_stop(&e);
		if (qosd_mono_us() >= stop)
			log_err("ping[%s]: the run's timeout came before "
			    "the last probe's: raise the job's timeout above "
			    "(count - 1) * ping_interval + ping_timeout",
			    qosd_out_job(out));
	}
	for (i = 0; i < r.nt; i++)
		emit_target(c, &r, &r.t[i]);
done:
	run_cleanup(&r);
	return rc;
}

static const char *const ping_targets[] = { "targets", NULL };

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "ping",
	.settings = ping_settings,
	.configure = ping_configure,
	.run = ping_run,
	.release = probe_job_free,
	.flags = QOSD_COLLECTOR_NET_RAW,
	.targets = ping_targets,
};
