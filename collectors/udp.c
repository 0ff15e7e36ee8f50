/*
 * udp.c: the udp collector.  UDP probes to many targets: STAMP (RFC 8762,
 * the unauthenticated Session-Sender, to qosd-reflector or any conforming
 * reflector, stateful or stateless) or UDP echo (RFC 862), with one `udp`
 * point per target (and, with samples, one `udp_sample` per answer).
 *
 *   { name = "wan"; collector = "udp"; targets = [ "192.0.2.1" ];
 *     count = 100; probe_interval = 0.05; probe_timeout = 1.0; }
 *   { name = "echo"; collector = "udp"; mode = "echo"; port = 7;
 *     targets = [ "192.0.2.1" ]; }
 *
 * Every probe has its own send time (start + k * probe_interval) and its
 * own timeout, as in ping and tcp, so that a target that does not answer
 * never changes what another measures.  Each probe is timed at three
 * layers (the application around sendto() and recvmmsg(), the kernel's
 * software timestamps, and the network card's where it gives them), and
 * a STAMP answer adds the reflector's receive and send times (T2, T3):
 * so the RTT splits into the host's own stack time, the network's time
 * each way, and the reflector's.  A stateful reflector's numbering tells
 * a probe lost on the way there from an answer lost on the way back.
 *
 * This file is the collector: settings, the schedule, the points.  The
 * sockets and what comes back are collectors/udp/sock.c's, the figures
 * collectors/udp/acct.c's, hardware timestamps collectors/udp/hwts.c's.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/timex.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/probe/conf.h"
#include "collectors/probe/latstats.h"
#include "collectors/probe/target.h"
#include "collectors/udp/acct.h"
#include "collectors/udp/hwts.h"
#include "collectors/udp/sock.h"
#include "proto/stamp.h"
#include "qosd/cfg.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "qosd/log.h"
#include "qosd/point.h"

#define UDP_DRAIN	32		/* sends between two drains */
#define UDP_MAX_PROBES	1000000		/* targets x count, a run */
#define UDP_CLOCK_ERR	1000000ULL	/* ns, when the clock says none */

enum { CLK_AUTO, CLK_SYNCED, CLK_UNSYNCED };
enum { TS_AUTO, TS_HARDWARE, TS_SOFTWARE, TS_APPLICATION };

struct udp_conf {
	struct probe_conf	pc;		/* first: probe_job_new() */
	long long		port;
	int			mode;		/* enum udp_mode */
	int			ts;		/* TS_* */
	int			refl;		/* enum udp_refl */
	int			clock;		/* CLK_* */
	int			samples;
};

static const char *const udp_settings[] = {
	"targets", "port", "mode", "count", "probe_interval", "probe_timeout",
	"size", "dscp", "ttl", "source", "device", "family", "timestamping",
	"reflector", "clock", "samples", NULL
};
static const char *const udp_modes[] = { "stamp", "echo", NULL };
static const char *const udp_ts[] = {
	"auto", "hardware", "software", "application", NULL
};
static const char *const udp_refls[] = {
	"auto", "stateful", "stateless", NULL
};
static const char *const udp_clocks[] = {
	"auto", "synced", "unsynced", NULL
};
static const char *const udp_layers[] = {
	"application", "software", "hardware"
};

static const struct probe_spec udp_spec = {
	.name = "udp",
	.targets_hint = "hosts to probe",
	.interval = "probe_interval",
	.timeout = "probe_timeout",
	.size_min = UDP_ECHO_HDR,	/* UDP payload octets */
	.size_max = 9000,
	.size_def = STAMP_LEN,
	.opts = PROBE_TTL | PROBE_DEVICE,
};

/* The settings only STAMP has; given with mode = "echo", they are wrong. */
static int
stamp_only(const struct udp_conf *c, const config_setting_t *job,
    char *err, size_t errlen)
{
	static const char *const names[] = { "reflector", "clock", NULL };
	const config_setting_t	*s;
	int			 i;

	if (c->mode == UDP_STAMP) {
		s = config_setting_get_member(job, "size");
		if (c->pc.size < STAMP_LEN)
			return qosd_cfg_error(s, err, errlen, "%lld octets "
			    "are less than a STAMP test packet (%d): give at "
			    "least %d, or mode = \"echo\"", c->pc.size,
			    STAMP_LEN, STAMP_LEN);
		return 0;
	}
	for (i = 0; names[i] != NULL; i++)
		if ((s = config_setting_get_member(job, names[i])) != NULL)
			return qosd_cfg_error(s, err, errlen, "only for "
			    "mode = \"stamp\"");
	return 0;
}

/* Every probe of a run is kept until its point is written. */
static int
not_too_many(const struct udp_conf *c, const config_setting_t *job,
    char *err, size_t errlen)
{
	double	n = (double)c->pc.ntargets * (double)c->pc.count;

	if (n <= UDP_MAX_PROBES)
		return 0;
	return qosd_cfg_error(job, err, errlen, "%zu targets x count %lld "
	    "= %.0f probes a run, more than %d: lower count, or split the "
	    "targets into several jobs", c->pc.ntargets, c->pc.count, n,
	    UDP_MAX_PROBES);
}

static int
udp_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct udp_conf	*c;

	*state = NULL;
	if ((c = probe_job_new(sizeof(*c), &udp_spec, job, err,
	    errlen)) == NULL)
		return -1;
	c->mode = UDP_STAMP;
	if (qosd_cfg_enum(job, "mode", udp_modes, &c->mode, err, errlen) == -1)
		goto fail;
	c->port = c->mode == UDP_STAMP ? STAMP_PORT : 7;
	if (qosd_cfg_int(job, "port", 1, 65535, &c->port, err, errlen) == -1 ||
	    qosd_cfg_enum(job, "timestamping", udp_ts, &c->ts, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "reflector", udp_refls, &c->refl, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "clock", udp_clocks, &c->clock, err,
	    errlen) == -1 ||
	    qosd_cfg_bool(job, "samples", &c->samples, err, errlen) == -1 ||
	    stamp_only(c, job, err, errlen) == -1 ||
	    not_too_many(c, job, err, errlen) == -1)
		goto fail;
	*state = c;
	return 0;
fail:
	probe_job_free(c);
	return -1;
}

/*
 * Our error estimate: the S bit from adjtimex(2) (denied under the
 * unit's ProtectClock: unsynchronized) unless clock says, the error its
 * estimate; and CLOCK_TAI - CLOCK_REALTIME for PTP timestamps.
 */
static void
clock_state(const struct udp_conf *c, struct udp_run *r)
{
	struct timex	tx;
	struct timespec	real, tai;
	uint64_t	err_ns = UDP_CLOCK_ERR;
	int		synced = 0, st;

	memset(&tx, 0, sizeof(tx));
	if (c->clock != CLK_AUTO)
		synced = c->clock == CLK_SYNCED;
	else if ((st = adjtimex(&tx)) == -1)
		log_debug("udp[%s]: adjtimex: %m: the clock counts as not "
		    "synchronized (see clock)", r->job);
	else {
		synced = st != TIME_ERROR && !(tx.status & STA_UNSYNC);
		if (synced && tx.esterror > 0)
			err_ns = (uint64_t)tx.esterror * 1000;
	}
	r->ee = stamp_ee_make(synced, 0, err_ns);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_TAI, &tai);
	r->tai_ns = ((int64_t)tai.tv_sec - (int64_t)real.tv_sec) *
	    1000000000 + tai.tv_nsec - real.tv_nsec;
}

static void
drain_all(struct udp_run *r)
{
	size_t	i;

	for (i = 0; i < r->ns; i++)
		udp_drain(r, i, UDP_RX);
}

/* Read what poll() said each socket has. */
static void
drain_ready(struct udp_run *r, const struct pollfd *pfd)
{
	size_t	i;

	for (i = 0; i < r->ns; i++)
		if (pfd[i].revents != 0)
			udp_drain(r, i, ((pfd[i].revents & POLLIN) ? UDP_RX :
			    0) | ((pfd[i].revents & POLLERR) ? UDP_ERRQ : 0));
}

/* Wait on every socket until wake (CLOCK_MONOTONIC us) at the latest. */
static int
wait_until(struct udp_run *r, struct pollfd *pfd, uint64_t wake)
{
	struct timespec	ts;
	uint64_t	now = qosd_mono_us(), d;
	size_t		i;

	for (i = 0; i < r->ns; i++) {
		pfd[i].fd = r->s[i].fd;
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	d = wake > now ? wake - now : 0;
	ts.tv_sec = (time_t)(d / 1000000);
	ts.tv_nsec = (long)(d % 1000000) * 1000;
	if (ppoll(pfd, (nfds_t)r->ns, &ts, NULL) == -1 && errno != EINTR)
		return -1;
	return 0;
}

/*
 * After the last probe: a closing packet to each target whose loss it
 * would split by direction, and a wait for their answers (a probe's
 * timeout, or stop).
 */
static void
closing(struct udp_run *r, struct pollfd *pfd, int refl, uint64_t stop)
{
	uint64_t	until;
	size_t		i;

	if (r->mode != UDP_STAMP || refl == UDP_REFL_STATELESS)
		return;
	for (i = 0; i < r->nt; i++)
		if (r->t[i].sock != -1 && udp_acct_need_closing(&r->t[i].a))
			udp_send_closing(r, i);
	until = qosd_mono_us() + (uint64_t)(r->pc->timeout * 1e6);
	if (until > stop)
		until = stop;
	while (r->closing > 0 && qosd_mono_us() < until) {
		if (wait_until(r, pfd, until) == -1)
			break;
		drain_ready(r, pfd);
	}
}

/*
 * Send probe k to every target at start + k * probe_interval, each with
 * its own timeout, until every probe is answered or timed out, or stop
 * (CLOCK_MONOTONIC us) comes.
 */
static void
engine(struct udp_run *r, int refl, uint64_t stop)
{
	const struct probe_conf	*pc = r->pc;
	struct pollfd		*pfd;
	uint64_t		 start, now, wake, ivl, to;
	uint32_t		 k = 0, sends = 0, sent;
	size_t			 ti = 0;

	if ((pfd = calloc(r->ns, sizeof(*pfd))) == NULL) {
		log_err("udp[%s]: out of memory", r->job);
		return;
	}
	ivl = (uint64_t)(pc->interval * 1e6);
	to = (uint64_t)(pc->timeout * 1e6);
	start = qosd_mono_us();
	for (;;) {
		now = qosd_mono_us();
		sent = sends;
		while (k < pc->count && start + k * ivl <= now && now < stop) {
			if (r->t[ti].sock != -1) {
				udp_send(r, ti, k);
				if (++sends % UDP_DRAIN == 0)
					drain_all(r);
			}
			if (++ti == r->nt) {
				ti = 0;
				k++;
				now = qosd_mono_us();
			}
		}
		if (sends != sent)
			drain_all(r);
		now = qosd_mono_us();
		if (now >= stop || (k >= pc->count && (r->outstanding == 0 ||
		    now >= r->last_tx / 1000 + to)))
			break;
		wake = k < pc->count ? start + k * ivl : r->last_tx / 1000 + to;
		if (wait_until(r, pfd, wake < stop ? wake : stop) == -1)
			break;
		drain_ready(r, pfd);
	}
	if (qosd_mono_us() >= stop)
		log_err("udp[%s]: the run's timeout came before the last "
		    "probe's: raise the job's timeout above (count - 1) * "
		    "probe_interval + probe_timeout", r->job);
	else
		closing(r, pfd, refl, stop);
	free(pfd);
}

static const char *
result_of(const struct udp_target *t)
{
	if (t->pt->fail != NULL)
		return t->pt->fail;
	if (t->a.received > 0)
		return "ok";
	if (t->refused > 0)
		return "refused";
	if (t->unreach > 0)
		return "unreachable";
	if (t->other > 0)
		return "error";
	return "timeout";
}

static void	emit_app(struct qosd_out *, const struct latstats *);
static void	emit_kernel(struct qosd_out *, const struct latstats *);
static void	emit_split(struct qosd_out *, const struct udp_figures *);
static void	emit_counts(struct qosd_out *, const struct udp_target *,
		    const struct udp_figures *);
static void	emit_samples(const struct udp_conf *, struct qosd_out *,
		    const struct udp_target *, int);

/*
 * Target t's point: the `udp` measurement (docs/metrics.md), and its
 * samples when asked.
 */
static void
emit(const struct udp_conf *c, struct udp_run *r, struct udp_target *t,
    struct qosd_out *out, double *scratch)
{
	struct udp_figures	f;
	char			 pbuf[8];

	udp_acct_figures(&t->a, c->mode == UDP_STAMP ? c->refl :
	    UDP_REFL_STATELESS, r->ee, scratch, &f);
	snprintf(pbuf, sizeof(pbuf), "%lld", c->port);
	qosd_point_begin(out, "udp");
	qosd_point_tag(out, "target", t->pt->name);
	qosd_point_tag(out, "port", pbuf);
	qosd_point_tag(out, "mode", udp_modes[c->mode]);
	if (t->pt->fail == NULL)
		qosd_point_tag(out, "address", t->pt->addr);
	if (t->a.received > 0)
		qosd_point_tag(out, "timestamping", udp_layers[f.layer]);
	if (t->pt->fail == NULL)
		emit_counts(out, t, &f);
	emit_app(out, &f.app);
	emit_kernel(out, &f.kern);
	if (f.best->has_jitter)
		qosd_point_float(out, "jitter_ms",
		    latstats_round(f.best->jitter));
	if (f.best->received > 0) {
		qosd_point_float(out, "r_factor",
		    latstats_round(f.best->r_factor));
		qosd_point_float(out, "mos", latstats_round(f.best->mos));
	}
	emit_split(out, &f);
	qosd_point_str(out, "result", result_of(t));
	if (t->a.count > 0 && t->a.p[0].t1 != 0)
		qosd_point_time(out, t->a.p[0].t1);
	qosd_point_end(out);
	if (c->samples && t->a.received > 0)
		emit_samples(c, out, t, f.layer);
}

static void
emit_app(struct qosd_out *out, const struct latstats *st)
{
	if (st->received == 0)
		return;
	qosd_point_float(out, "rtt_app_min_ms", latstats_round(st->min));
	qosd_point_float(out, "rtt_app_avg_ms", latstats_round(st->avg));
	qosd_point_float(out, "rtt_app_max_ms", latstats_round(st->max));
	qosd_point_float(out, "rtt_app_mdev_ms", latstats_round(st->mdev));
	if (!st->has_pct)
		return;
	qosd_point_float(out, "rtt_app_p50_ms", latstats_round(st->p50));
	qosd_point_float(out, "rtt_app_p95_ms", latstats_round(st->p95));
	qosd_point_float(out, "rtt_app_p99_ms", latstats_round(st->p99));
}

static void
emit_kernel(struct qosd_out *out, const struct latstats *st)
{
	if (st->received == 0)
		return;
	qosd_point_float(out, "rtt_kernel_min_ms", latstats_round(st->min));
	qosd_point_float(out, "rtt_kernel_avg_ms", latstats_round(st->avg));
	qosd_point_float(out, "rtt_kernel_max_ms", latstats_round(st->max));
	qosd_point_float(out, "rtt_kernel_mdev_ms", latstats_round(st->mdev));
	if (!st->has_pct)
		return;
	qosd_point_float(out, "rtt_kernel_p50_ms", latstats_round(st->p50));
	qosd_point_float(out, "rtt_kernel_p95_ms", latstats_round(st->p95));
	qosd_point_float(out, "rtt_kernel_p99_ms", latstats_round(st->p99));
}

/* The stack's, the reflector's and the network's share, one-way delays. */
static void
emit_split(struct qosd_out *out, const struct udp_figures *f)
{
	if (f->nstack > 0) {
		qosd_point_float(out, "stack_ms", latstats_round(f->stack_avg));
		qosd_point_float(out, "stack_max_ms",
		    latstats_round(f->stack_max));
	}
	if (f->nhalves > 0) {
		qosd_point_float(out, "stack_tx_ms",
		    latstats_round(f->stack_tx_avg));
		qosd_point_float(out, "stack_rx_ms",
		    latstats_round(f->stack_rx_avg));
	}
	if (f->nrefl == 0)
		return;
	qosd_point_float(out, "reflector_ms", latstats_round(f->refl_avg));
	qosd_point_float(out, "reflector_max_ms", latstats_round(f->refl_max));
	qosd_point_float(out, "net_rtt_ms", latstats_round(f->net_avg));
	qosd_point_float(out, "net_rtt_min_ms", latstats_round(f->net_min));
	qosd_point_float(out, "forward_ms", latstats_round(f->fwd_avg));
	qosd_point_float(out, "forward_min_ms", latstats_round(f->fwd_min));
	qosd_point_float(out, "forward_max_ms", latstats_round(f->fwd_max));
	qosd_point_float(out, "backward_ms", latstats_round(f->bwd_avg));
	qosd_point_float(out, "backward_min_ms", latstats_round(f->bwd_min));
	qosd_point_float(out, "backward_max_ms", latstats_round(f->bwd_max));
	if (f->has_jitter) {
		qosd_point_float(out, "forward_jitter_ms",
		    latstats_round(f->fwd_jitter));
		qosd_point_float(out, "backward_jitter_ms",
		    latstats_round(f->bwd_jitter));
	}
	qosd_point_bool(out, "clock_synced", f->synced);
	qosd_point_float(out, "clock_error_ms",
	    latstats_round(f->clock_err_ms));
}

/* Counts: sent, lost each way, reordered, copies; TTLs and DSCP. */
static void
emit_counts(struct qosd_out *out, const struct udp_target *t,
    const struct udp_figures *f)
{
	qosd_point_int(out, "sent", t->a.sent);
	qosd_point_int(out, "received", t->a.received);
	qosd_point_float(out, "loss_pct", latstats_round(f->app.loss_pct));
	if (f->has_split) {
		qosd_point_int(out, "forward_lost", f->fwd_lost);
		qosd_point_int(out, "backward_lost", f->bwd_lost);
	}
	qosd_point_int(out, "reordered", t->a.reordered);
	qosd_point_int(out, "duplicates", t->a.duplicates);
	if (f->fwd_ttl >= 0)
		qosd_point_int(out, "forward_ttl", f->fwd_ttl);
	if (f->ttl >= 0)
		qosd_point_int(out, "backward_ttl", f->ttl);
	if (f->dscp >= 0)
		qosd_point_int(out, "backward_dscp", f->dscp);
}

static void
emit_samples(const struct udp_conf *c, struct qosd_out *out,
    const struct udp_target *t, int layer)
{
	struct udp_sample	s;
	uint32_t		k;

	for (k = 0; k < t->a.count; k++) {
		if (udp_acct_sample(&t->a, k, layer, &s) == -1)
			continue;
		qosd_point_begin(out, "udp_sample");
		qosd_point_tag(out, "target", t->pt->name);
		qosd_point_tag(out, "address", t->pt->addr);
		qosd_point_tag(out, "mode", udp_modes[c->mode]);
		qosd_point_tag(out, "timestamping", udp_layers[layer]);
		qosd_point_int(out, "seq", k);
		qosd_point_float(out, "rtt_app_ms", latstats_round(s.rtt_app));
		if (s.has_kernel) {
			qosd_point_float(out, "rtt_kernel_ms",
			    latstats_round(s.rtt_kernel));
			qosd_point_float(out, "stack_ms",
			    latstats_round(s.stack));
		}
		if (s.has_halves) {
			qosd_point_float(out, "stack_tx_ms",
			    latstats_round(s.stack_tx));
			qosd_point_float(out, "stack_rx_ms",
			    latstats_round(s.stack_rx));
		}
		if (s.has_stamp) {
			qosd_point_float(out, "reflector_ms",
			    latstats_round(s.refl));
			qosd_point_float(out, "forward_ms",
			    latstats_round(s.fwd));
			qosd_point_float(out, "backward_ms",
			    latstats_round(s.bwd));
		}
		qosd_point_time(out, t->a.p[k].t1);
		qosd_point_end(out);
	}
}

/* r for a run of c on out; -1 when out of memory (logged). */
static int
run_init(const struct udp_conf *c, struct udp_run *r, struct qosd_out *out,
    struct udp_probe **probes)
{
	const struct probe_conf	*pc = &c->pc;
	size_t			 i, cnt = (size_t)pc->count;
	struct stamp_test	 st = { 0, 0, 0 };

	memset(r, 0, sizeof(*r));
	r->pc = pc;
	r->job = qosd_out_job(out);
	r->mode = c->mode;
	r->tsmode = c->ts == TS_APPLICATION ? UDP_TSM_APP :
	    c->ts == TS_SOFTWARE ? UDP_TSM_SOFTWARE : UDP_TSM_AUTO;
	r->nt = pc->ntargets;
	r->pktlen = (size_t)pc->size;
	r->buflen = r->pktlen + 64;
	if (c->mode == UDP_STAMP)
		clock_state(c, r);
	r->cookie = ((uint64_t)getpid() << 32) ^ (uint64_t)qosd_real_ns();
	if ((r->t = calloc(r->nt, sizeof(*r->t))) == NULL ||
	    (*probes = calloc(r->nt * cnt, sizeof(**probes))) == NULL ||
	    (r->pkt = calloc(1, r->pktlen)) == NULL ||
	    (r->bufs = calloc(64, r->buflen)) == NULL) {
		log_err("udp[%s]: out of memory", r->job);
		return -1;
	}
	st.ee = r->ee;
	if (c->mode == UDP_STAMP)
		stamp_test_encode(&st, r->pkt, r->pktlen);
	for (i = 0; i < r->nt; i++)
		udp_acct_init(&r->t[i].a, *probes + i * cnt, (uint32_t)cnt,
		    (uint64_t)(pc->timeout * 1e9));
	return 0;
}

static int
udp_run(void *state, struct qosd_out *out)
{
	const struct udp_conf	*c = state;
	const struct probe_conf	*pc = &c->pc;
	struct probe_target	*pt = NULL;
	struct udp_probe	*probes = NULL;
	struct udp_run		 r;
	double			*scratch = NULL;
	uint64_t		 stop, sched, dns;
	size_t			 i;
	int			 rc = -1;

	if (run_init(c, &r, out, &probes) == -1 ||
	    (pt = probe_targets_new(pc)) == NULL ||
	    (scratch = calloc(3 * (size_t)pc->count, sizeof(*scratch))) ==
	    NULL) {
		log_err("udp[%s]: out of memory", qosd_out_job(out));
		goto done;
	}
	sched = (uint64_t)(((double)(pc->count - 1) * pc->interval +
	    pc->timeout) * 1e6);
	probe_deadlines(out, r.nt, sched, &stop, &dns);
	probe_resolve(pc, pt, (uint16_t)c->port, dns, r.job);
	for (i = 0; i < r.nt; i++)
		r.t[i].pt = &pt[i];
	if (r.tsmode == UDP_TSM_AUTO)
		r.hw = udp_hwts_ready(pc->device, c->ts == TS_HARDWARE, r.job);
	if (udp_socks_open(&r) == -1)
		goto done;
	engine(&r, c->refl, stop);
	for (i = 0; i < r.nt; i++)
		emit(c, &r, &r.t[i], out, scratch);
	rc = 0;
done:
	udp_socks_close(&r);
	free(scratch);
	free(pt);
	free(r.bufs);
	free(r.pkt);
	free(probes);
	free(r.t);
	return rc;
}

/* Where an ad-hoc probe names its targets (the control allow-list). */
static const char *const udp_targets[] = { "targets", NULL };

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "udp",
	.settings = udp_settings,
	.configure = udp_configure,
	.run = udp_run,
	.release = probe_job_free,
	.targets = udp_targets,
};
