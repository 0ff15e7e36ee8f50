/*
 * sock.c: the udp collector's sockets: probes out, and answers,
 * transmit timestamps and ICMP errors in.  Linux: SO_TIMESTAMPING,
 * MSG_ERRQUEUE, recvmmsg().
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/probe/conf.h"
#include "collectors/probe/sock.h"
#include "collectors/probe/target.h"
#include "collectors/udp/acct.h"
#include "collectors/udp/sock.h"
#include "proto/stamp.h"
#include "qosd/log.h"

#define UDP_BATCH	64		/* datagrams per recvmmsg() */
#define UDP_CTL		256		/* control bytes per datagram */
#define UDP_RCVBUF	(1024 * 1024)
#define ECHO_MAGIC	0x514f5355U	/* "QOSU" */

static int64_t
ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* An address and port as a peer key: IPv4 as IPv4-mapped IPv6. */
static void
peer_key(const struct sockaddr_storage *sa, unsigned char *key)
{
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)sa;

	memset(key, 0, 18);
	if (sa->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &s4->sin_addr, 4);
		memcpy(key + 16, &s4->sin_port, 2);
	} else {
		memcpy(key, &s6->sin6_addr, 16);
		memcpy(key + 16, &s6->sin6_port, 2);
	}
}

static int
cmp_peer(const void *a, const void *b)
{
	return memcmp(((const struct udp_peer *)a)->key,
	    ((const struct udp_peer *)b)->key, 18);
}

/* The target socket si knows at sa, or -1. */
static long
peer_of(const struct udp_sock *s, const struct sockaddr_storage *sa)
{
	struct udp_peer	 want;
	struct udp_peer	*p;

	if (sa->ss_family != s->af)
		return -1;
	peer_key(sa, want.key);
	p = bsearch(&want, s->peers, s->npeers, sizeof(*p), cmp_peer);
	return p == NULL ? -1 : (long)p->target;
}

static int
set_options(int fd, const struct udp_run *r, int af)
{
	int	one = 1, buf = UDP_RCVBUF, v6 = af == AF_INET6, f;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_RECVHOPLIMIT : IP_RECVTTL, &one, sizeof(one)) == -1 ||
	    setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
	    v6 ? IPV6_RECVTCLASS : IP_RECVTOS, &one, sizeof(one)) == -1)
		return -1;
	if (r->tsmode == UDP_TSM_APP)
		return 0;
	f = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
	    SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
	    SOF_TIMESTAMPING_OPT_TSONLY;
	if (r->hw)
		f |= SOF_TIMESTAMPING_TX_HARDWARE |
		    SOF_TIMESTAMPING_RX_HARDWARE |
		    SOF_TIMESTAMPING_RAW_HARDWARE |
		    SOF_TIMESTAMPING_OPT_TX_SWHW;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &f, sizeof(f)) == -1)
		log_warning("udp[%s]: SO_TIMESTAMPING: %m: application "
		    "timestamps only", r->job);
	return 0;
}

static int
open_one(struct udp_run *r, struct udp_sock *s)
{
	int	fd, e;

	if ((fd = socket(s->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (set_options(fd, r, s->af) == -1 ||
	    probe_sock_setup(fd, s->af, r->pc) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* A target to place on a socket. */
struct slot {
	unsigned char	 key[18];
	int		 af;
	uint32_t	 ti;
};

static int
cmp_slot(const void *x, const void *y)
{
	const struct slot	*a = x, *b = y;
	int			 c;

	if (a->af != b->af)
		return a->af < b->af ? -1 : 1;
	if ((c = memcmp(a->key, b->key, 18)) != 0)
		return c;
	return (a->ti > b->ti) - (a->ti < b->ti);
}

/* The n-th socket of family af, made when it does not exist yet. */
static size_t
sock_for(struct udp_run *r, int af, size_t n)
{
	size_t	j;

	for (j = 0; j < r->ns; j++)
		if (r->s[j].af == af && n-- == 0)
			return j;
	memset(&r->s[j], 0, sizeof(r->s[j]));
	r->s[j].af = af;
	r->s[j].fd = -1;
	r->ns++;
	return j;
}

/*
 * Place each measured target on a socket: of its family, and the n-th
 * of that family for the n-th target at the same address and port.
 * Fills t->sock and each socket's peers, sorted.  -1 when out of memory.
 */
static int
assign(struct udp_run *r, struct slot *sl)
{
	size_t	i, n = 0, dup = 0, j;

	for (i = 0; i < r->nt; i++) {
		r->t[i].sock = -1;
		if (r->t[i].pt->fail != NULL)
			continue;
		peer_key(&r->t[i].pt->sa, sl[n].key);
		sl[n].af = r->t[i].pt->sa.ss_family;
		sl[n++].ti = (uint32_t)i;
	}
	qsort(sl, n, sizeof(*sl), cmp_slot);
	for (i = 0; i < n; i++) {
		dup = i > 0 && sl[i].af == sl[i - 1].af &&
		    memcmp(sl[i].key, sl[i - 1].key, 18) == 0 ? dup + 1 : 0;
		j = sock_for(r, sl[i].af, dup);
		r->t[sl[i].ti].sock = (int)j;
		r->s[j].npeers++;
	}
	for (j = 0; j < r->ns; j++) {
		if ((r->s[j].peers = calloc(r->s[j].npeers,
		    sizeof(*r->s[j].peers))) == NULL ||
		    (r->s[j].ring = calloc(UDP_RING,
		    sizeof(*r->s[j].ring))) == NULL)
			return -1;
		r->s[j].npeers = 0;
		for (i = 0; i < UDP_RING; i++)
			r->s[j].ring[i].target = UINT32_MAX;
	}
	for (i = 0; i < n; i++) {
		struct udp_sock	*s = &r->s[r->t[sl[i].ti].sock];

		memcpy(s->peers[s->npeers].key, sl[i].key, 18);
		s->peers[s->npeers++].target = sl[i].ti;
	}
	return 0;
}

int
udp_socks_open(struct udp_run *r)
{
	struct slot	*sl;
	size_t		 i, j;
	int		 rc;

	r->ns = 0;
	if ((r->s = calloc(2 * r->nt + 2, sizeof(*r->s))) == NULL ||
	    (sl = calloc(r->nt + 1, sizeof(*sl))) == NULL) {
		log_err("udp[%s]: out of memory", r->job);
		return -1;
	}
	rc = assign(r, sl);
	free(sl);
	if (rc == -1) {
		log_err("udp[%s]: out of memory", r->job);
		return -1;
	}
	for (j = 0; j < r->ns; j++) {
		if ((r->s[j].fd = open_one(r, &r->s[j])) != -1)
			continue;
		log_err("udp[%s]: %s socket: %m", r->job,
		    r->s[j].af == AF_INET6 ? "IPv6" : "IPv4");
		for (i = 0; i < r->nt; i++)
			if (r->t[i].sock == (int)j) {
				r->t[i].pt->fail = "error";
				r->t[i].sock = -1;
			}
	}
	return 0;
}

void
udp_socks_close(struct udp_run *r)
{
	size_t	j;

	for (j = 0; j < r->ns; j++) {
		if (r->s[j].fd != -1)
			close(r->s[j].fd);
		free(r->s[j].peers);
		free(r->s[j].ring);
	}
	free(r->s);
	r->s = NULL;
	r->ns = 0;
}

/* Count a probe that could not go, or an ICMP error, on its target. */
static void
count_error(struct udp_run *r, struct udp_target *t, int e)
{
	switch (e) {
	case ECONNREFUSED:
		t->refused++;
		break;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		t->unreach++;
		break;
	default:
		log_debug("udp[%s]: %s: %s", r->job, t->pt->addr, strerror(e));
		t->other++;
	}
}

/* An error a previous datagram left on the socket (an ICMP error). */
static int
pending(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH ||
	    e == EHOSTDOWN || e == ENETDOWN || e == EPROTO || e == EMSGSIZE;
}

/* The probe's packet, its times read just before it is sent. */
static void
stamp_now(struct udp_run *r, uint32_t k, struct udp_probe *p)
{
	struct timespec	mono, real;
	uint32_t	w = htonl(k);

	memcpy(r->pkt, &w, 4);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	p->tx_mono = (uint64_t)ts_ns(&mono);
	p->t1 = ts_ns(&real);
	if (r->mode == UDP_STAMP) {
		p->t1_wire = stamp_ntp_from_timespec(&real);
		stamp_set_ts(r->pkt, p->t1_wire);
	} else {
		w = htonl(ECHO_MAGIC);
		memcpy(r->pkt, &w, 4);
		w = htonl(k);
		memcpy(r->pkt + 4, &w, 4);
		memcpy(r->pkt + 8, &r->cookie, 8);
	}
}

void
udp_send(struct udp_run *r, size_t ti, uint32_t k)
{
	struct udp_target	*t = &r->t[ti];
	struct udp_sock		*s = &r->s[t->sock];
	struct udp_probe	*p = &t->a.p[k];
	struct udp_txid		*e;
	ssize_t			 n = -1;
	int			 tries;

	for (tries = 0; tries < 2; tries++) {
		stamp_now(r, k, p);
		n = sendto(s->fd, r->pkt, r->pktlen, 0,
		    (const struct sockaddr *)&t->pt->sa, t->pt->salen);
		/* Once more when it was an earlier datagram's error. */
		if (n != -1 || !pending(errno))
			break;
	}
	t->a.sent++;
	if (n == -1) {
		p->state = UDP_P_ERROR;
		t->a.errors++;
		count_error(r, t, errno);
		return;
	}
	p->state = UDP_P_SENT;
	r->outstanding++;
	if (r->tsmode != UDP_TSM_APP)
		s->txq++;
	r->last_tx = p->tx_mono;
	e = &s->ring[s->next_id % UDP_RING];
	e->id = s->next_id++;
	e->target = (uint32_t)ti;
	e->k = k;
}

void
udp_send_closing(struct udp_run *r, size_t ti)
{
	struct udp_target	*t = &r->t[ti];
	struct udp_probe	 p;

	stamp_now(r, t->a.count, &p);
	if (sendto(r->s[t->sock].fd, r->pkt, r->pktlen, 0,
	    (const struct sockaddr *)&t->pt->sa, t->pt->salen) == -1)
		return;
	/* Its transmit timestamp is not ours to match: no ring entry. */
	r->s[t->sock].next_id++;
	t->a.closing_wire = p.t1_wire;
	r->closing++;
}

/* A transmit timestamp from the error queue: datagram id of socket s. */
static void
tx_stamp(struct udp_run *r, struct udp_sock *s, uint32_t id,
    const struct scm_timestamping *tss)
{
	const struct udp_txid	*e = &s->ring[id % UDP_RING];
	struct udp_probe	*p;
	int64_t			 v;

	if (e->id != id || e->target >= r->nt)
		return;
	p = &r->t[e->target].a.p[e->k];
	if (tss->ts[2].tv_sec != 0 || tss->ts[2].tv_nsec != 0)
		p->t1_hw = ts_ns(&tss->ts[2]);
	v = ts_ns(&tss->ts[0]);
	/* Read after T1 on the same clock, within a second of it. */
	if (v != 0 && v >= p->t1 && v - p->t1 < 1000000000)
		p->t1_sw = v;
}

/* An ICMP error about a probe of ours sent to sa. */
static void
icmp_error(struct udp_run *r, struct udp_sock *s,
    const struct sockaddr_storage *sa, const struct sock_extended_err *ee,
    const unsigned char *b, size_t n)
{
	struct udp_target	*t;
	struct udp_probe	*p;
	long			 ti;
	uint32_t		 w, k = UINT32_MAX;

	if ((ti = peer_of(s, sa)) == -1)
		return;
	t = &r->t[ti];
	count_error(r, t, (int)ee->ee_errno);
	/* The quoted datagram begins with our probe's number. */
	if (r->mode == UDP_STAMP && n >= 4) {
		memcpy(&w, b, 4);
		k = ntohl(w);
	} else if (r->mode == UDP_ECHO && n >= 8) {
		memcpy(&w, b + 4, 4);
		k = ntohl(w);
	}
	if (k >= t->a.count || (p = &t->a.p[k])->state != UDP_P_SENT)
		return;
	p->state = UDP_P_ERROR;
	t->a.errors++;
	r->outstanding--;
}

/* The error queue message m of socket s: a timestamp or an ICMP error. */
static void
errq_one(struct udp_run *r, struct udp_sock *s, struct msghdr *m, size_t n)
{
	const struct scm_timestamping	*tss = NULL;
	const struct sock_extended_err	*ee = NULL;
	struct cmsghdr			*cm;

	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPING)
			tss = (const void *)CMSG_DATA(cm);
		else if ((cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_RECVERR) ||
		    (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_RECVERR))
			ee = (const void *)CMSG_DATA(cm);
	}
	if (ee == NULL)
		return;
	if (ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
		if (tss != NULL && ee->ee_info == SCM_TSTAMP_SND)
			tx_stamp(r, s, ee->ee_data, tss);
	} else if (ee->ee_origin == SO_EE_ORIGIN_ICMP ||
	    ee->ee_origin == SO_EE_ORIGIN_ICMP6)
		icmp_error(r, s, m->msg_name, ee, m->msg_iov->iov_base, n);
}

/* A batch of datagrams for recvmmsg(). */
struct batch {
	struct mmsghdr		 m[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	unsigned char		 ctl[UDP_BATCH][UDP_CTL];
};

static int
batch_read(struct udp_run *r, int fd, struct batch *b, int flags)
{
	int	i;

	memset(b->m, 0, sizeof(b->m));
	for (i = 0; i < UDP_BATCH; i++) {
		b->iov[i].iov_base = r->bufs + (size_t)i * r->buflen;
		b->iov[i].iov_len = r->buflen;
		b->m[i].msg_hdr.msg_iov = &b->iov[i];
		b->m[i].msg_hdr.msg_iovlen = 1;
		b->m[i].msg_hdr.msg_name = &b->from[i];
		b->m[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
		b->m[i].msg_hdr.msg_control = b->ctl[i];
		b->m[i].msg_hdr.msg_controllen = UDP_CTL;
	}
	return recvmmsg(fd, b->m, UDP_BATCH, flags | MSG_DONTWAIT, NULL);
}

/* A reflector's timestamp as CLOCK_REALTIME ns; 0 when there is none. */
static int64_t
refl_ns(const struct udp_run *r, uint64_t v, uint16_t ee)
{
	struct timespec	ts;

	if (v == 0)
		return 0;
	if (ee & STAMP_EE_Z)
		return stamp_ptp_to_timespec(v, &ts) == -1 ? 0 :
		    ts_ns(&ts) - r->tai_ns;
	stamp_ntp_to_timespec(v, &ts);
	return ts_ns(&ts);
}

/* What an answer of n octets at b says; -1 when it is not an answer. */
static int
parse(const struct udp_run *r, const unsigned char *b, size_t n,
    struct udp_reply *rep)
{
	struct stamp_reply	sr;
	uint32_t		w;

	if (r->mode == UDP_ECHO) {
		if (n < UDP_ECHO_HDR)
			return -1;
		memcpy(&w, b, 4);
		if (ntohl(w) != ECHO_MAGIC || memcmp(b + 8, &r->cookie, 8) != 0)
			return -1;
		memcpy(&w, b + 4, 4);
		rep->sseq = ntohl(w);
		return 0;
	}
	if (stamp_reply_decode(b, n, &sr) == -1)
		return -1;
	rep->stamp = 1;
	rep->sseq = sr.sender_seq;
	rep->rseq = sr.seq;
	rep->sender_ts = sr.sender_ts;
	rep->ree = sr.ee;
	rep->fwd_ttl = sr.sender_ttl == 0 ? -1 : sr.sender_ttl;
	rep->t2 = refl_ns(r, sr.rx_ts, sr.ee);
	rep->t3 = refl_ns(r, sr.ts, sr.ee);
	return 0;
}

/* Kernel timestamps, TTL and traffic class of an answer. */
static void
rx_info(struct msghdr *m, struct udp_reply *rep)
{
	const struct scm_timestamping	*tss;
	struct cmsghdr			*cm;
	int				 v;

	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPING) {
			tss = (const void *)CMSG_DATA(cm);
			rep->t4_sw = ts_ns(&tss->ts[0]);
			rep->t4_hw = ts_ns(&tss->ts[2]);
			if (rep->t4_sw > rep->rx_real)
				rep->t4_sw = 0;
		} else if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_TOS)
			rep->tos = *(const unsigned char *)CMSG_DATA(cm);
		else if ((cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			rep->ttl = v;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_TCLASS) {
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			rep->tos = v;
		}
	}
}

/* An answer of n octets, read at mono and real. */
static void
answer(struct udp_run *r, struct udp_sock *s, struct msghdr *m, size_t n,
    uint64_t mono, int64_t real)
{
	struct udp_reply	 rep;
	struct udp_target	*t;
	long			 ti;
	int			 was;

	if ((ti = peer_of(s, m->msg_name)) == -1)
		return;
	t = &r->t[ti];
	memset(&rep, 0, sizeof(rep));
	rep.rx_mono = mono;
	rep.rx_real = real;
	rep.ttl = rep.tos = rep.fwd_ttl = -1;
	if (parse(r, m->msg_iov->iov_base, n, &rep) == -1)
		return;
	rx_info(m, &rep);
	was = rep.sseq < t->a.count ? t->a.p[rep.sseq].state : -1;
	switch (udp_acct_reply(&t->a, &rep)) {
	case -1:
		break;
	case 3:
		r->closing--;
		break;
	default:
		if (was == UDP_P_SENT)
			r->outstanding--;
	}
}

static void
drain_errq(struct udp_run *r, struct udp_sock *s, struct batch *b)
{
	int	n, i, rounds;

	s->txq = 0;
	for (rounds = 0; rounds < 64; rounds++) {
		if ((n = batch_read(r, s->fd, b, MSG_ERRQUEUE)) <= 0)
			return;
		for (i = 0; i < n; i++)
			errq_one(r, s, &b->m[i].msg_hdr,
			    b->m[i].msg_len < r->buflen ? b->m[i].msg_len :
			    r->buflen);
		if (n < UDP_BATCH)
			return;
	}
}

void
udp_drain(struct udp_run *r, size_t si, int what)
{
	static struct batch	 b;
	struct udp_sock		*s = &r->s[si];
	struct timespec		 mono, real;
	int			 n, i, rounds;

	if (s->fd == -1)
		return;
	if ((what & UDP_ERRQ) || s->txq > 0)
		drain_errq(r, s, &b);
	/* Bounded: a flood of datagrams must not hold the schedule. */
	for (rounds = 0; (what & UDP_RX) && rounds < 256; rounds++) {
		n = batch_read(r, s->fd, &b, 0);
		if (n == -1 && pending(errno)) {
			/* An ICMP error: its details are in the queue. */
			drain_errq(r, s, &b);
			continue;
		}
		if (n <= 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		clock_gettime(CLOCK_REALTIME, &real);
		for (i = 0; i < n; i++)
			answer(r, s, &b.m[i].msg_hdr,
			    b.m[i].msg_len < r->buflen ? b.m[i].msg_len :
			    r->buflen, (uint64_t)ts_ns(&mono), ts_ns(&real));
		if (n < UDP_BATCH)
			return;
	}
}
