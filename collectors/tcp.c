/*
 * tcp.c: the tcp collector.  Connect time to host:port (a TCP "ping"),
 * or an echo test over one persistent connection per target.
 *
 *   { name = "web"; collector = "tcp"; targets = [ "192.0.2.1" ];
 *     port = 443; mode = "connect"; count = 5; }
 *   { name = "echo"; collector = "tcp"; targets = [ "192.0.2.1" ];
 *     port = 7; mode = "echo"; count = 100; probe_interval = 0.2; }
 *
 * Every target runs on its own schedule in one poll() loop: attempt or
 * probe k goes at start + k * probe_interval and has its own timeout, so a
 * dead target never changes another target's figures.
 *
 * Echo probes are messages of `size` bytes: a header (magic "QOSE",
 * sequence, length, send time), then filler.  The peer echoes every byte;
 * a test responder can drop whole probes because the header says where
 * each one ends.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/probe/conf.h"
#include "collectors/probe/latstats.h"
#include "collectors/probe/sock.h"
#include "collectors/probe/target.h"
#include "qosd/cfg.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "qosd/log.h"
#include "qosd/point.h"

#define ECHO_MAGIC	0x514f5345U	/* "QOSE" */
#define ECHO_HDR	24

enum { MODE_CONNECT, MODE_ECHO };

struct tcp_conf {
	struct probe_conf	pc;		/* first: probe_job_new() */
	long long		port;
	int			mode;
};

struct ttarget {
	struct probe_target	*pt;		/* name, address, fail */
	int			 fd;
	int			 done;
	unsigned int		 k;		/* next attempt or probe */
	uint64_t		 t0;		/* schedule origin */
	uint64_t		 op_us;		/* connect started */
	int64_t			 first_ns;	/* real time of the first try */
	double			 connect_ms;	/* echo: < 0 not connected */
	uint64_t		*tx;		/* per attempt, 0 unsent */
	double			*rtt;		/* < 0 no answer */
	unsigned long		 sent, received;
	unsigned long		 refused, unreach, timeouts, errors;
	unsigned char		*in;		/* echo: partial reply */
	size_t			 inlen;
	unsigned char		*outq;		/* echo: unsent bytes */
	size_t			 outlen;
	uint64_t		 last_tx;
};

static const char *const tcp_settings[] = {
	"targets", "port", "mode", "count", "probe_interval", "probe_timeout",
	"size", "dscp", "source", "family", NULL
};
static const char *const tcp_modes[] = { "connect", "echo", NULL };

static const struct probe_spec tcp_spec = {
	.name = "tcp",
	.targets_hint = "hosts to connect to",
	.interval = "probe_interval",
	.timeout = "probe_timeout",
	.size_min = ECHO_HDR,		/* bytes of an echo probe */
	.size_max = 65536,
	.size_def = 64,
	.opts = 0,
};

static int
tcp_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct tcp_conf	*c;
	int		 r;

	*state = NULL;
	if ((c = probe_job_new(sizeof(*c), &tcp_spec, job, err,
	    errlen)) == NULL)
		return -1;
	c->mode = MODE_CONNECT;
	if ((r = qosd_cfg_int(job, "port", 1, 65535, &c->port, err,
	    errlen)) == -1)
		goto fail;
	if (r == 0) {
		qosd_cfg_error(job, err, errlen, "port: missing: give the TCP "
		    "port to connect to, e.g. port = 7");
		goto fail;
	}
	if (qosd_cfg_enum(job, "mode", tcp_modes, &c->mode, err, errlen) == -1)
		goto fail;
	*state = c;
	return 0;
fail:
	probe_job_free(c);
	return -1;
}

/* Start a non-blocking connect; the socket, or -1 with errno. */
static int
start_connect(const struct tcp_conf *c, struct ttarget *t)
{
	int	fd, e, one = 1, af = t->pt->sa.ss_family;

	if ((fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (probe_sock_setup(fd, af, &c->pc) == -1 ||
	    (connect(fd, (struct sockaddr *)&t->pt->sa, t->pt->salen) == -1 &&
	    errno != EINPROGRESS)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void
count_error(struct ttarget *t, int e, const char *job)
{
	switch (e) {
	case ECONNREFUSED:
		t->refused++;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
		t->unreach++;
		break;
	case ETIMEDOUT:
		t->timeouts++;
		break;
	default:
		log_debug("tcp[%s]: %s: %s", job, t->pt->addr, strerror(e));
		t->errors++;
	}
}

static void
close_fd(struct ttarget *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}

/* Connect mode: attempt k is due; start it. */
static void
connect_attempt(const struct tcp_conf *c, struct ttarget *t, uint64_t now,
    const char *job)
{
	if (t->first_ns == 0)
		t->first_ns = qosd_real_ns();
	t->sent++;
	t->op_us = now;
	t->tx[t->k] = now;
	if ((t->fd = start_connect(c, t)) == -1) {
		count_error(t, errno, job);
		t->k++;
	}
}

/* The connection is up or failed (POLLOUT or POLLERR). */
static int
connect_result(struct ttarget *t)
{
	int		e = 0;
	socklen_t	len = sizeof(e);

	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
		e = errno;
	return e;
}

static void
echo_send(const struct tcp_conf *c, struct ttarget *t, uint64_t now,
    const char *job)
{
	unsigned char	*m;
	uint32_t	 w;
	uint64_t	 ns = now * 1000;
	ssize_t		 n;
	size_t		 len = (size_t)c->pc.size;

	if (t->outlen > 0) {
		/* The previous probe is still queued: this one waits. */
		return;
	}
	m = t->outq;
	memset(m, 0, len);
	w = htonl(ECHO_MAGIC);
	memcpy(m, &w, 4);
	w = htonl(t->k);
	memcpy(m + 4, &w, 4);
	w = htonl((uint32_t)len);
	memcpy(m + 8, &w, 4);
	memcpy(m + 16, &ns, 8);
	t->tx[t->k] = now;
	t->last_tx = now;
	t->sent++;
	t->k++;
	n = send(t->fd, m, len, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno != EAGAIN) {
			count_error(t, errno, job);
			close_fd(t);
			t->done = 1;
			return;
		}
		n = 0;
	}
	if ((size_t)n < len) {
		memmove(m, m + n, len - (size_t)n);
		t->outlen = len - (size_t)n;
	}
}

static void
echo_flush(struct ttarget *t, const char *job)
{
	ssize_t	n;

	if (t->outlen == 0)
		return;
	if ((n = send(t->fd, t->outq, t->outlen, MSG_NOSIGNAL)) == -1) {
		if (errno == EAGAIN)
			return;
		count_error(t, errno, job);
		close_fd(t);
		t->done = 1;
		return;
	}
	memmove(t->outq, t->outq + n, t->outlen - (size_t)n);
	t->outlen -= (size_t)n;
}

static void
echo_read(const struct tcp_conf *c, struct ttarget *t, const char *job)
{
	size_t		 len = (size_t)c->pc.size;
	uint64_t	 now, to = (uint64_t)(c->pc.timeout * 1e6);
	uint32_t	 w, seq;
	ssize_t		 n;

	for (;;) {
		n = recv(t->fd, t->in + t->inlen, len - t->inlen, 0);
		if (n == 0 || (n == -1 && errno != EAGAIN)) {
			if (n == 0)
				log_debug("tcp[%s]: %s closed the connection",
				    job, t->pt->addr);
			else
				count_error(t, errno, job);
			close_fd(t);
			t->done = 1;
			return;
		}
		if (n == -1)
			return;
		t->inlen += (size_t)n;
		if (t->inlen < len)
			continue;
		now = qosd_mono_us();
		t->inlen = 0;
		memcpy(&w, t->in, 4);
		if (ntohl(w) != ECHO_MAGIC)
			continue;
		memcpy(&w, t->in + 4, 4);
		seq = ntohl(w);
		if (seq >= c->pc.count || t->tx[seq] == 0 || t->rtt[seq] >= 0 ||
		    now - t->tx[seq] > to)
			continue;
		t->rtt[seq] = (double)(now - t->tx[seq]) / 1000.0;
		t->received++;
	}
}

/* Connect mode: attempt k on the schedule, each with its own timeout. */
static uint64_t
step_connect(const struct tcp_conf *c, struct ttarget *t, uint64_t now,
    short rev, const char *job)
{
	uint64_t	ivl = (uint64_t)(c->pc.interval * 1e6);
	uint64_t	to = (uint64_t)(c->pc.timeout * 1e6), due;
	int		e;

	if (t->fd != -1 && rev != 0) {
		if ((e = connect_result(t)) == 0) {
			t->rtt[t->k] = (double)(qosd_mono_us() - t->op_us) /
			    1000.0;
			t->received++;
		} else
			count_error(t, e, job);
		close_fd(t);
		t->k++;
	} else if (t->fd != -1 && now >= t->op_us + to) {
		t->timeouts++;
		close_fd(t);
		t->k++;
	}
	if (t->fd != -1)
		return t->op_us + to;
	if (t->k >= c->pc.count) {
		t->done = 1;
		return UINT64_MAX;
	}
	due = t->t0 + t->k * ivl;
	if (due > now)
		return due;
	connect_attempt(c, t, now, job);
	return now;
}

/*
 * Echo mode, until the one connection is up: 0 once it is (*now read
 * again, the schedule starts there), else when t next needs a look.
 */
static uint64_t
echo_connect(const struct tcp_conf *c, struct ttarget *t, uint64_t *now,
    short rev, const char *job)
{
	uint64_t	to = (uint64_t)(c->pc.timeout * 1e6);
	int		e;

	if (t->fd == -1) {
		t->first_ns = qosd_real_ns();
		t->op_us = *now;
		if ((t->fd = start_connect(c, t)) == -1) {
			count_error(t, errno, job);
			t->done = 1;
			return UINT64_MAX;
		}
		return *now + to;
	}
	if (rev == 0) {
		if (*now < t->op_us + to)
			return t->op_us + to;
		t->timeouts++;
		close_fd(t);
		t->done = 1;
		return UINT64_MAX;
	}
	if ((e = connect_result(t)) != 0) {
		count_error(t, e, job);
		close_fd(t);
		t->done = 1;
		return UINT64_MAX;
	}
	*now = qosd_mono_us();
	t->connect_ms = (double)(*now - t->op_us) / 1000.0;
	t->t0 = *now;
	return 0;
}

/* Echo mode: connect once, then probes on the schedule. */
static uint64_t
step_echo(const struct tcp_conf *c, struct ttarget *t, uint64_t now,
    short rev, const char *job)
{
	uint64_t	ivl = (uint64_t)(c->pc.interval * 1e6);
	uint64_t	to = (uint64_t)(c->pc.timeout * 1e6), w;

	if (t->connect_ms < 0) {
		if ((w = echo_connect(c, t, &now, rev, job)) != 0)
			return w;
		rev = 0;
	}
	if (rev & POLLOUT)
		echo_flush(t, job);
	if (t->fd != -1 && (rev & (POLLIN | POLLHUP | POLLERR)))
		echo_read(c, t, job);
	if (t->fd == -1)
		return UINT64_MAX;
	while (t->k < c->pc.count && t->t0 + t->k * ivl <= now &&
	    t->outlen == 0)
		echo_send(c, t, now, job);
	if (t->fd == -1)
		return UINT64_MAX;
	if (t->k < c->pc.count)
		return t->t0 + t->k * ivl;
	if (t->received == t->sent || now >= t->last_tx + to) {
		close_fd(t);
		t->done = 1;
		return UINT64_MAX;
	}
	return t->last_tx + to;
}

/* One step of target t at time now; returns when it next needs a look. */
static uint64_t
step(const struct tcp_conf *c, struct ttarget *t, uint64_t now, short rev,
    const char *job)
{
	if (t->done)
		return UINT64_MAX;
	if (c->mode == MODE_CONNECT)
		return step_connect(c, t, now, rev, job);
	return step_echo(c, t, now, rev, job);
}

static void
engine(const struct tcp_conf *c, struct ttarget *t, size_t nt,
    uint64_t stop, const char *job)
{
	struct pollfd	*pfd;
	size_t		*idx, i, n;
	uint64_t	 now, wake, w;
	int		 ms, left;

	if ((pfd = calloc(nt, sizeof(*pfd))) == NULL ||
	    (idx = calloc(nt, sizeof(*idx))) == NULL) {
		free(pfd);
		log_err("tcp[%s]: out of memory", job);
		return;
	}
	now = qosd_mono_us();
	for (i = 0; i < nt; i++)
		t[i].t0 = now;
	for (;;) {
		now = qosd_mono_us();
		wake = UINT64_MAX;
		left = 0;
		for (i = 0; i < nt; i++) {
			if ((w = step(c, &t[i], now, 0, job)) < wake)
				wake = w;
			left |= !t[i].done;
		}
		if (!left || now >= stop)
			break;
		n = 0;
		for (i = 0; i < nt; i++) {
			if (t[i].fd == -1)
				continue;
			pfd[n].fd = t[i].fd;
			pfd[n].events = POLLIN;
			if (t[i].outlen > 0 || (c->mode == MODE_CONNECT ||
			    t[i].connect_ms < 0))
				pfd[n].events |= POLLOUT;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		if (wake > stop)
			wake = stop;
		ms = wake <= now ? 0 : (int)((wake - now + 999) / 1000);
		if (poll(pfd, (nfds_t)n, ms) == -1 && errno != EINTR)
			break;
		now = qosd_mono_us();
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				step(c, &t[idx[i]], now, pfd[i].revents, job);
	}
	free(idx);
	free(pfd);
}

static const char *
result_of(const struct ttarget *t)
{
	if (t->pt->fail != NULL)
		return t->pt->fail;
	if (t->received > 0)
		return "ok";
	if (t->refused > 0)
		return "refused";
	if (t->unreach > 0)
		return "unreachable";
	if (t->errors > 0)
		return "error";
	return "timeout";
}

/* Begin t's point with the tags of every tcp point; its figures in st. */
static void
emit_begin(const struct tcp_conf *c, struct ttarget *t, struct qosd_out *out,
    const char *port, double *rtt, double *tmp, struct latstats *st)
{
	size_t		n = 0;
	long long	k;

	for (k = 0; k < c->pc.count; k++)
		if (t->rtt[k] >= 0)
			rtt[n++] = t->rtt[k];
	latstats_compute(st, rtt, n, t->sent, tmp);
	qosd_point_begin(out, "tcp");
	qosd_point_tag(out, "target", t->pt->name);
	qosd_point_tag(out, "port", port);
	qosd_point_tag(out, "mode", c->mode == MODE_CONNECT ? "connect" :
	    "echo");
	if (t->pt->fail == NULL)
		qosd_point_tag(out, "address", t->pt->addr);
}

static void
emit_end(struct ttarget *t, struct qosd_out *out)
{
	qosd_point_str(out, "result", result_of(t));
	if (t->first_ns != 0)
		qosd_point_time(out, t->first_ns);
	qosd_point_end(out);
}

static void
emit_connect(const struct tcp_conf *c, struct ttarget *t, struct qosd_out *out,
    double *rtt, const char *port)
{
	struct latstats	st;

	emit_begin(c, t, out, port, rtt, NULL, &st);
	if (t->pt->fail == NULL) {
		qosd_point_int(out, "sent", (int64_t)st.sent);
		qosd_point_int(out, "received", (int64_t)st.received);
		qosd_point_float(out, "loss_pct", latstats_round(st.loss_pct));
	}
	if (st.received > 0) {
		qosd_point_float(out, "connect_ms", latstats_round(st.avg));
		qosd_point_float(out, "connect_min_ms", latstats_round(st.min));
		qosd_point_float(out, "connect_max_ms", latstats_round(st.max));
	}
	if (st.has_jitter)
		qosd_point_float(out, "jitter_ms", latstats_round(st.jitter));
	emit_end(t, out);
}

static void
emit_echo(const struct tcp_conf *c, struct ttarget *t, struct qosd_out *out,
    double *rtt, double *tmp, const char *port)
{
	struct latstats	st;

	emit_begin(c, t, out, port, rtt, tmp, &st);
	if (t->connect_ms >= 0) {
		qosd_point_float(out, "connect_ms",
		    latstats_round(t->connect_ms));
		qosd_point_int(out, "sent", (int64_t)st.sent);
		qosd_point_int(out, "received", (int64_t)st.received);
		qosd_point_float(out, "loss_pct", latstats_round(st.loss_pct));
	}
	latstats_emit(out, &st);
	emit_end(t, out);
}

/*
 * Every target holds a socket at once: raise the soft limit on open files
 * toward the hard one when the targets need more than it allows.
 */
static void
raise_nofile(size_t nt, const char *job)
{
	struct rlimit	rl;
	rlim_t		want = (rlim_t)nt + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		log_err("tcp[%s]: %zu targets, but only %llu open files "
		    "allowed: some will read result=error", job, nt,
		    (unsigned long long)rl.rlim_cur);
}

/* The targets' state: probes in tx and rtt, echo buffers in bufs. */
static void
run_init(const struct tcp_conf *c, struct probe_target *pt,
    struct ttarget *t, uint64_t *tx, double *rtt, unsigned char *bufs)
{
	size_t	i, k, cnt = (size_t)c->pc.count, size = (size_t)c->pc.size;

	for (i = 0; i < c->pc.ntargets; i++) {
		t[i].pt = &pt[i];
		t[i].fd = -1;
		t[i].connect_ms = -1;
		t[i].tx = tx + i * cnt;
		t[i].rtt = rtt + i * cnt;
		for (k = 0; k < cnt; k++)
			t[i].rtt[k] = -1;
		if (bufs != NULL) {
			t[i].in = bufs + i * 2 * size;
			t[i].outq = t[i].in + size;
		}
	}
}

static int
tcp_run(void *state, struct qosd_out *out)
{
	const struct tcp_conf	*c = state;
	const char		*job = qosd_out_job(out);
	struct probe_target	*pt = NULL;
	struct ttarget		*t;
	uint64_t		*tx = NULL, stop, sched, dns;
	double			*rtt = NULL, *tmp;
	unsigned char		*bufs = NULL;
	char			 port[8];
	size_t			 nt = c->pc.ntargets, i, cnt;
	int			 rc = 0;

	cnt = (size_t)c->pc.count;
	raise_nofile(nt, job);
	if ((t = calloc(nt, sizeof(*t))) == NULL ||
	    (tx = calloc(nt * cnt, sizeof(*tx))) == NULL ||
	    (rtt = calloc(nt * cnt + 2 * cnt, sizeof(*rtt))) == NULL ||
	    (pt = probe_targets_new(&c->pc)) == NULL ||
	    (c->mode == MODE_ECHO && (bufs = malloc(nt * 2 *
	    (size_t)c->pc.size)) == NULL)) {
		log_err("tcp[%s]: out of memory", job);
		rc = -1;
		goto done;
	}
	tmp = rtt + nt * cnt + cnt;
	run_init(c, pt, t, tx, rtt, bufs);
	sched = (uint64_t)(((double)c->pc.count * c->pc.interval +
	    2 * c->pc.timeout) * 1e6);
	probe_deadlines(out, nt, sched, &stop, &dns);
	probe_resolve(&c->pc, pt, (uint16_t)c->port, dns, job);
	for (i = 0; i < nt; i++)
		t[i].done = pt[i].fail != NULL;
	engine(c, t, nt, stop, job);
	snprintf(port, sizeof(port), "%lld", c->port);
	for (i = 0; i < nt; i++) {
		close_fd(&t[i]);
		if (c->mode == MODE_CONNECT)
			emit_connect(c, &t[i], out, rtt + nt * cnt, port);
		else
			emit_echo(c, &t[i], out, rtt + nt * cnt, tmp, port);
	}
done:
	free(bufs);
	free(pt);
	free(rtt);
	free(tx);
	free(t);
	return rc;
}

static const char *const tcp_targets[] = { "targets", NULL };

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "tcp",
	.settings = tcp_settings,
	.configure = tcp_configure,
	.run = tcp_run,
	.release = probe_job_free,
	.targets = tcp_targets,
};
