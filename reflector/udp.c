/*
 * udp.c: STAMP and UDP echo, answered in batches with kernel timestamps.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "proto/stamp.h"
#include "reflector/refl.h"
#include "reflector/udp.h"

#define MAX_ROUNDS	8	/* batches per call: fairness between sockets */
#define CTL_IN		256
#define CTL_OUT		64

/* What the kernel said about one datagram. */
struct rxinfo {
	struct timespec	 ts;
	int		 have_ts;
	int		 ttl;
	int		 dst_family;	/* AF_INET, AF_INET6 or 0: unknown */
	struct in_addr	 dst4;
	struct in6_addr	 dst6;
};

union ctlbuf {
	struct cmsghdr	 align;
	uint8_t		 in[CTL_IN];
};

union octlbuf {
	struct cmsghdr	 align;
	uint8_t		 out[CTL_OUT];
};

struct udp_batch {
	struct mmsghdr		 in[UDP_BATCH];
	struct mmsghdr		 out[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct iovec		 oiov[UDP_BATCH];
	struct sockaddr_in6	 names[UDP_BATCH];
	union ctlbuf		 ctl[UDP_BATCH];
	union octlbuf		 octl[UDP_BATCH];
	uint8_t			 buf[UDP_BATCH][UDP_MAX_DGRAM];
};

/* The format of an answer's Timestamp: none (echo), NTP or PTP. */
enum { FMT_NONE, FMT_NTP, FMT_PTP };

static int
set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static enum udp_tsmode
enable_timestamps(int fd)
{
	int	flags = SOF_TIMESTAMPING_RX_SOFTWARE |
	    SOF_TIMESTAMPING_SOFTWARE;

	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, flags) == 0)
		return UDP_TS_TIMESTAMPING;
	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0)
		return UDP_TS_TIMESTAMPNS;
	return UDP_TS_APP;
}

/*
 * On a wildcard socket, the destination address of every datagram
 * (IPV6_PKTINFO also names the IPv4 ones of a dual-stack socket,
 * IPv4-mapped), for the answer to leave from it; a socket bound to one
 * address (--listen) answers from that one without it, and sends its
 * answers without a control message.  For STAMP, its TTL or hop limit.
 * Each control message fewer, received and sent, is cheaper.
 */
static int
enable_rxinfo(int fd, int family, int wildcard, int stamp)
{
	if (wildcard && family == AF_INET &&
	    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) == -1)
		return -1;
	if (wildcard && family == AF_INET6 &&
	    set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == -1)
		return -1;
	if (!stamp)
		return 0;
	if (set_int(fd, IPPROTO_IP, IP_RECVTTL, 1) == -1)
		return -1;
	if (family == AF_INET6 &&
	    set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) == -1)
		return -1;
	return 0;
}

/* addr:port as a socket address; NULL addr: the IPv6 or IPv4 wildcard. */
static int
make_addr(const char *addr, uint16_t port, int family,
    struct sockaddr_in6 *sin6, struct sockaddr_in *sin)
{
	memset(sin6, 0, sizeof(*sin6));
	memset(sin, 0, sizeof(*sin));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (addr == NULL)
		return family;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1)
		return AF_INET6;
	return -1;
}

int
udp_open(const char *addr, uint16_t port, int stamp, enum udp_tsmode *tsmode)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	int			 fd, family = AF_INET6;
	const char		*what = addr != NULL ? addr : "*";

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 && addr == NULL && errno == EAFNOSUPPORT)
		family = AF_INET;	/* no IPv6 here: the IPv4 wildcard */
	else if (fd != -1)
		close(fd);
	family = make_addr(addr, port, family, &sin6, &sin);
	if (family == -1) {
		log_err("listen address \"%s\": not a numeric address", addr);
		return -1;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_err("udp %s port %u: socket: %m", what, port);
		return -1;
	}
	if ((family == AF_INET6 && addr == NULL &&
	    set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) == -1) ||
	    enable_rxinfo(fd, family, addr == NULL, stamp) == -1) {
		log_err("udp %s port %u: setsockopt: %m", what, port);
		close(fd);
		return -1;
	}
	if (bind(fd, family == AF_INET6 ? (struct sockaddr *)&sin6 :
	    (struct sockaddr *)&sin, family == AF_INET6 ? sizeof(sin6) :
	    sizeof(sin)) == -1) {
		log_err("udp %s port %u: bind: %m", what, port);
		close(fd);
		return -1;
	}
	/* Bursts from many senders: best effort, up to net.core.rmem_max. */
	set_int(fd, SOL_SOCKET, SO_RCVBUF, UDP_RCVBUF);
	*tsmode = stamp ? enable_timestamps(fd) : UDP_TS_APP;
	return fd;
}

struct udp_batch *
udp_batch_new(void)
{
	struct udp_batch	*b;
	size_t			 i;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	for (i = 0; i < UDP_BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = UDP_MAX_DGRAM;
		b->in[i].msg_hdr.msg_iov = &b->iov[i];
		b->in[i].msg_hdr.msg_iovlen = 1;
		b->in[i].msg_hdr.msg_name = &b->names[i];
		b->in[i].msg_hdr.msg_control = b->ctl[i].in;
	}
	return b;
}

void
udp_batch_free(struct udp_batch *b)
{
	free(b);
}

static void
parse_cmsgs(struct msghdr *m, struct rxinfo *rx)
{
	struct cmsghdr	*c;

	memset(rx, 0, sizeof(*rx));
	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    (c->cmsg_type == SO_TIMESTAMPING ||
		    c->cmsg_type == SO_TIMESTAMPNS)) {
			/* scm_timestamping's ts[0] is the software stamp. */
			memcpy(&rx->ts, CMSG_DATA(c), sizeof(rx->ts));
			rx->have_ts = rx->ts.tv_sec != 0;
		} else if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_TTL)
			memcpy(&rx->ttl, CMSG_DATA(c), sizeof(int));
		else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&rx->ttl, CMSG_DATA(c), sizeof(int));
		else if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo	pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rx->dst4 = pi.ipi_addr;
			rx->dst_family = AF_INET;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo	pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rx->dst6 = pi.ipi6_addr;
			rx->dst_family = AF_INET6;
		}
	}
}

/*
 * The answer leaves from the address the request came to.  The length
 * given is the message's own, without trailing padding: the kernel copies
 * up to 36 octets of control data on its stack and allocates for more,
 * and IPV6_PKTINFO with its padding is 40.
 */
static socklen_t
source_cmsg(union octlbuf *o, const struct rxinfo *rx)
{
	struct cmsghdr		*c = &o->align;
	struct in_pktinfo	 p4;
	struct in6_pktinfo	 p6;

	memset(o, 0, sizeof(*o));
	if (rx->dst_family == AF_INET6) {
		memset(&p6, 0, sizeof(p6));
		p6.ipi6_addr = rx->dst6;
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(p6));
		memcpy(CMSG_DATA(c), &p6, sizeof(p6));
		return CMSG_LEN(sizeof(p6));
	}
	if (rx->dst_family == AF_INET) {
		memset(&p4, 0, sizeof(p4));
		p4.ipi_spec_dst = rx->dst4;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(p4));
		memcpy(CMSG_DATA(c), &p4, sizeof(p4));
		return CMSG_LEN(sizeof(p4));
	}
	return 0;
}

/* The reflector's Sequence Number: its own per session, or the sender's. */
static uint32_t
reply_seq(struct refl *r, const uint8_t *pkt, const struct in6_addr *src,
    uint16_t sport, uint16_t lport, uint64_t now_us)
{
	struct table_entry	*e;
	uint8_t			 key[TABLE_KEY];
	int			 fresh;

	if (!r->stateful)
		return stamp_seq(pkt);
	memcpy(key, src, 16);
	memcpy(key + 16, &sport, 2);
	memcpy(key + 18, &lport, 2);
	e = table_get(&r->sessions, key, now_us, &fresh);
	return (uint32_t)e->val++;
}

/*
 * Turn request i into its answer in place: the format of its Timestamp
 * (FMT_*) to send it, or -1 if it is dropped (and counted).
 */
static int
answer(struct refl *r, struct refl_service *s, struct udp_batch *b,
    size_t i, const struct timespec *app_ts, uint64_t now_us)
{
	struct msghdr	*m = &b->in[i].msg_hdr;
	size_t		 len = b->in[i].msg_len;
	struct stamp_test t;
	struct rxinfo	 rx;
	struct in6_addr	 src;
	uint16_t	 sport, ee;
	uint64_t	 t2;
	int		 ptp = 0;

	s->udp.received++;
	if ((m->msg_flags & MSG_TRUNC) ||
	    (s->kind == REFL_STAMP && len < STAMP_LEN) ||
	    acl_addr(m->msg_name, &src, &sport) == -1) {
		s->udp.dropped_bad++;
		return -1;
	}
	if (!acl_allows(&r->acl, &src)) {
		s->udp.dropped_acl++;
		return -1;
	}
	if (!limit_take(&r->limit, &src, now_us)) {
		s->udp.dropped_rate++;
		return -1;
	}
	parse_cmsgs(m, &rx);
	if (s->kind == REFL_STAMP) {
		if (!rx.have_ts) {
			rx.ts = *app_ts;
			s->udp.app_timestamps++;
		}
		/* Answer in the format the sender uses (the Z bit). */
		stamp_test_decode(b->buf[i], len, &t);
		ptp = (t.ee & STAMP_EE_Z) != 0;
		ee = r->ee | (ptp ? STAMP_EE_Z : 0);
		if (ptp)
			rx.ts.tv_sec += r->tai_s;
		t2 = ptp ? stamp_ptp_from_timespec(&rx.ts) :
		    stamp_ntp_from_timespec(&rx.ts);
		stamp_reflect(b->buf[i], len, reply_seq(r, b->buf[i], &src,
		    sport, s->port, now_us), t2, ee, (uint8_t)rx.ttl);
	}
	b->oiov[i].iov_base = b->buf[i];
	b->oiov[i].iov_len = len;
	memset(&b->out[i], 0, sizeof(b->out[i]));
	b->out[i].msg_hdr.msg_name = m->msg_name;
	b->out[i].msg_hdr.msg_namelen = m->msg_namelen;
	b->out[i].msg_hdr.msg_iov = &b->oiov[i];
	b->out[i].msg_hdr.msg_iovlen = 1;
	b->out[i].msg_hdr.msg_control = b->octl[i].out;
	b->out[i].msg_hdr.msg_controllen = source_cmsg(&b->octl[i], &rx);
	if (b->out[i].msg_hdr.msg_controllen == 0)
		b->out[i].msg_hdr.msg_control = NULL;
	if (s->kind != REFL_STAMP)
		return FMT_NONE;
	return ptp ? FMT_PTP : FMT_NTP;
}

/* T3, as late as possible, then send the n answers gathered at out. */
static void
send_answers(struct refl *r, struct refl_service *s, int fd,
    struct mmsghdr *out, const int *fmt, size_t n)
{
	struct timespec	 now, tai;
	uint64_t	 ntp, ptp;
	size_t		 i, off = 0;
	int		 rv;

	clock_gettime(CLOCK_REALTIME, &now);
	tai = now;
	tai.tv_sec += r->tai_s;
	ntp = stamp_ntp_from_timespec(&now);
	ptp = stamp_ptp_from_timespec(&tai);
	for (i = 0; i < n; i++)
		if (fmt[i] != FMT_NONE)
			stamp_set_ts(out[i].msg_hdr.msg_iov->iov_base,
			    fmt[i] == FMT_PTP ? ptp : ntp);
	while (off < n) {
		rv = sendmmsg(fd, out + off, (unsigned)(n - off), MSG_DONTWAIT);
		if (rv > 0) {
			s->udp.reflected += (uint64_t)rv;
			off += (size_t)rv;
			continue;
		}
		if (s->udp.send_failed++ == 0 || log_getverbose())
			log_warning("%s port %u: sendmmsg: %m (counted as "
			    "send_failed; logged once)",
			    refl_kind_name(s->kind), s->port);
		off++;
	}
}

/* One batch: 1 if it read anything (more may have come), else 0. */
static int
serve_batch(struct refl *r, struct refl_service *s, int fd)
{
	struct udp_batch	*b = r->batch;
	struct timespec		 app_ts;
	int			 fmt[UDP_BATCH];
	uint64_t		 now_us;
	size_t			 i, k = 0;
	int			 n, f;

	for (i = 0; i < UDP_BATCH; i++) {
		b->in[i].msg_hdr.msg_namelen = sizeof(b->names[i]);
		b->in[i].msg_hdr.msg_controllen = CTL_IN;
		b->in[i].msg_hdr.msg_flags = 0;
	}
	n = recvmmsg(fd, b->in, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			log_warning("%s port %u: recvmmsg: %m",
			    refl_kind_name(s->kind), s->port);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &app_ts);
	now_us = clock_mono_us();
	for (i = 0; i < (size_t)n; i++) {
		if ((f = answer(r, s, b, i, &app_ts, now_us)) == -1)
			continue;
		/* Gather the answers at the front, in order. */
		if (k != i) {
			b->out[k] = b->out[i];
			b->oiov[k] = b->oiov[i];
			b->out[k].msg_hdr.msg_iov = &b->oiov[k];
		}
		fmt[k++] = f;
	}
	if (k > 0)
		send_answers(r, s, fd, b->out, fmt, k);
	return 1;
}

/*
 * Batches until the socket is empty (what came while the last one was
 * answered is read at once, without a trip through epoll), or MAX_ROUNDS.
 */
void
udp_serve(struct refl *r, struct refl_service *s, int fd)
{
	int	round;

	for (round = 0; round < MAX_ROUNDS; round++)
		if (!serve_batch(r, s, fd))
			break;
}
