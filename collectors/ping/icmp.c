/*
 * icmp.c: the wire side of the ping collector's ICMP engine: sockets, echo
 * requests, and the replies and errors matched to their probes.  Linux:
 * recvmmsg(), ICMP_FILTER, SO_TIMESTAMPNS.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/ping/icmp.h"
#include "collectors/probe/conf.h"
#include "collectors/probe/sock.h"
#include "collectors/probe/target.h"
#include "qosd/clock.h"
#include "qosd/log.h"
#include "qosd/point.h"

/* From <linux/icmp.h>, which clashes with <netinet/ip_icmp.h>. */
#ifndef ICMP_FILTER
#define ICMP_FILTER	1
struct icmp_filter {
	uint32_t	data;
};
#endif

#define PING_MAGIC	0x716f7364U	/* "qosd" */
#define PING_BATCH	64		/* datagrams per recvmmsg() */
#define PING_RCVBUF	(4 * 1024 * 1024)

/* Our part of the echo payload, in network byte order. */
struct ping_payload {
	uint32_t	magic;
	uint32_t	target;
	uint64_t	cookie;
};

static uint16_t
in_cksum(const unsigned char *p, size_t len)
{
	uint32_t	sum = 0;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

void
icmp_init(struct ping_run *r)
{
	struct ping_payload	*pl = (struct ping_payload *)(r->pkt + 8);
	size_t			 i;

	r->ident = (uint16_t)getpid();
	r->cookie = (uint64_t)qosd_real_ns() ^ ((uint64_t)getpid() << 32) ^
	    qosd_mono_us();
	for (i = 0; i < r->pktlen - 8; i++)
		r->pkt[8 + i] = (unsigned char)i;
	pl->magic = htonl(PING_MAGIC);
	pl->cookie = r->cookie;
}

/* Let through only what answers an echo: replies and errors. */
static void
set_filter(struct ping_run *r, int fd, int fi)
{
	struct icmp_filter	f4;
	struct icmp6_filter	f6;
	int			one = 1;

	if (fi == 0) {
		if (!r->dgram[0]) {
			f4.data = ~((1U << ICMP_ECHOREPLY) |
			    (1U << ICMP_DEST_UNREACH) |
			    (1U << ICMP_TIME_EXCEEDED));
			setsockopt(fd, SOL_RAW, ICMP_FILTER, &f4, sizeof(f4));
		} else
			setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one,
			    sizeof(one));
		return;
	}
	ICMP6_FILTER_SETBLOCKALL(&f6);
	ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f6);
	if (!r->dgram[1]) {
		ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f6);
		ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f6);
	}
	setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6));
	setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
}

int
icmp_open(struct ping_run *r, int fi)
{
	int	fd, one = 1, v, af, proto;

	af = fi ? AF_INET6 : AF_INET;
	proto = fi ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	r->dgram[fi] = 0;
	if ((fd = socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    proto)) == -1) {
		if (errno != EPERM && errno != EACCES)
			return -1;
		if ((fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    proto)) == -1)
			return -1;
		r->dgram[fi] = 1;
	}
	v = PING_RCVBUF;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	set_filter(r, fd, fi);
	if (probe_sock_setup(fd, af, r->pc) == -1) {
		v = errno;
		close(fd);
		errno = v;
		return -1;
	}
	return fd;
}

void
icmp_send(struct ping_run *r, size_t ti, unsigned int k)
{
	struct ping_target	*t = &r->t[ti];
	struct icmphdr		*h = (struct icmphdr *)r->pkt;
	struct ping_payload	*pl = (struct ping_payload *)(r->pkt + 8);
	struct ping_probe	*p = &t->p[k];
	ssize_t			 n;
	int			 tries;

	h->type = t->fi ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
	h->code = 0;
	h->checksum = 0;
	h->un.echo.id = htons(r->ident);
	h->un.echo.sequence = htons((uint16_t)k);
	pl->target = htonl((uint32_t)ti);
	if (!t->fi)	/* the kernel sums ICMPv6, and DGRAM sockets IPv4 */
		h->checksum = in_cksum(r->pkt, r->pktlen);
	t->sent++;
	p->tx_ns = qosd_real_ns();
	for (tries = 0; tries < 100; tries++) {
		p->tx_us = qosd_mono_us();
		n = sendto(r->fd[t->fi], r->pkt, r->pktlen, 0,
		    (struct sockaddr *)&t->pt->sa, t->pt->salen);
		if (n != -1)
			break;
		if (errno != EAGAIN && errno != ENOBUFS)
			break;
		poll(NULL, 0, 1);
	}
	r->last_tx_us = p->tx_us;
	if (n == -1) {
		if (errno == EHOSTUNREACH || errno == ENETUNREACH)
			t->unreach++;
		else
			log_debug("ping[%s]: sendto %s: %s",
			    qosd_out_job(r->out), t->pt->addr, strerror(errno));
		p->tx_us = 0;
		return;
	}
	r->outstanding++;
}

/*
 * The probe that payload pl (len bytes, may be short) of an echo with
 * identifier id and sequence seq belongs to, coming from (or, for an
 * error, sent to) address from; NULL when it is not ours.
 */
static struct ping_target *
match(struct ping_run *r, int fi, const unsigned char *pl, size_t len,
    uint16_t id, uint16_t seq, const void *from)
{
	struct ping_payload	 p;
	struct ping_target	*t;
	const void		*sa;
	uint32_t		 ti;

	if (len < sizeof(p) || (!r->dgram[fi] && id != r->ident))
		return NULL;
	memcpy(&p, pl, sizeof(p));
	if (ntohl(p.magic) != PING_MAGIC || p.cookie != r->cookie)
		return NULL;
	if ((ti = ntohl(p.target)) >= r->nt)
		return NULL;
	t = &r->t[ti];
	if (t->fi != fi || seq >= r->pc->count || t->p[seq].tx_us == 0 ||
	    t->p[seq].rtt_ms != -1)
		return NULL;
	sa = &t->pt->sa;
	if (fi == 0 && memcmp(from,
	    &((const struct sockaddr_in *)sa)->sin_addr, 4) != 0)
		return NULL;
	if (fi == 1 && memcmp(from,
	    &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) != 0)
		return NULL;
	return t;
}

static void
on_reply(struct ping_run *r, struct ping_target *t, uint16_t seq,
    uint64_t rx_us, int ttl)
{
	struct ping_probe	*p = &t->p[seq];
	uint64_t		 to = (uint64_t)(r->pc->timeout * 1e6);

	if (rx_us < p->tx_us)
		rx_us = p->tx_us;
	if (rx_us - p->tx_us > to)
		return;			/* too late: lost */
	p->rtt_ms = (double)(rx_us - p->tx_us) / 1000.0;
	t->received++;
	r->outstanding--;
	if (ttl >= 0)
		t->ttl = ttl;
	if (++t->answered == (unsigned long)r->pc->count)
		r->ready[r->nready++] = (size_t)(t - r->t);
}

static void
on_error(struct ping_run *r, struct ping_target *t, uint16_t seq)
{
	t->p[seq].rtt_ms = -2;		/* answered by an error: no reply */
	t->unreach++;
	r->outstanding--;
	if (++t->answered == (unsigned long)r->pc->count)
		r->ready[r->nready++] = (size_t)(t - r->t);
}

static void
parse4(struct ping_run *r, unsigned char *b, size_t n, int ttl,
    const struct sockaddr_in *from, uint64_t rx_us)
{
	const struct icmphdr	*h;
	const struct ip		*ip, *in;
	struct ping_target	*t;
	size_t			 hl, il;

	if (!r->dgram[0]) {
		ip = (const struct ip *)b;
		if (n < sizeof(*ip) || (hl = (size_t)ip->ip_hl * 4) > n)
			return;
		ttl = ip->ip_ttl;
		b += hl;
		n -= hl;
	}
	if (n < 8)
		return;
	h = (const struct icmphdr *)b;
	if (h->type == ICMP_ECHOREPLY) {
		t = match(r, 0, b + 8, n - 8, ntohs(h->un.echo.id),
		    ntohs(h->un.echo.sequence), &from->sin_addr);
		if (t != NULL)
			on_reply(r, t, ntohs(h->un.echo.sequence), rx_us, ttl);
		return;
	}
	if (h->type != ICMP_DEST_UNREACH && h->type != ICMP_TIME_EXCEEDED)
		return;
	in = (const struct ip *)(b + 8);
	if (n < 8 + sizeof(*in) || (il = (size_t)in->ip_hl * 4) + 16 > n - 8)
		return;
	h = (const struct icmphdr *)(b + 8 + il);
	if (h->type != ICMP_ECHO)
		return;
	t = match(r, 0, b + 16 + il, n - 16 - il, ntohs(h->un.echo.id),
	    ntohs(h->un.echo.sequence), &in->ip_dst);
	if (t != NULL)
		on_error(r, t, ntohs(h->un.echo.sequence));
}

static void
parse6(struct ping_run *r, unsigned char *b, size_t n, int ttl,
    const struct sockaddr_in6 *from, uint64_t rx_us)
{
	const struct icmp6_hdr	*h;
	struct ping_target	*t;

	if (n < 8)
		return;
	h = (const struct icmp6_hdr *)b;
	if (h->icmp6_type == ICMP6_ECHO_REPLY) {
		t = match(r, 1, b + 8, n - 8, ntohs(h->icmp6_id),
		    ntohs(h->icmp6_seq), &from->sin6_addr);
		if (t != NULL)
			on_reply(r, t, ntohs(h->icmp6_seq), rx_us, ttl);
		return;
	}
	if (h->icmp6_type != ICMP6_DST_UNREACH &&
	    h->icmp6_type != ICMP6_TIME_EXCEEDED)
		return;
	/* 8 bytes of error header, 40 of IPv6 header, then our echo. */
	if (n < 8 + 40 + 8 || b[8 + 6] != IPPROTO_ICMPV6)
		return;
	h = (const struct icmp6_hdr *)(b + 48);
	if (h->icmp6_type != ICMP6_ECHO_REQUEST)
		return;
	t = match(r, 1, b + 56, n - 56, ntohs(h->icmp6_id),
	    ntohs(h->icmp6_seq), b + 8 + 24);
	if (t != NULL)
		on_error(r, t, ntohs(h->icmp6_seq));
}

/* Read everything queued on the socket of family fi without waiting. */
/*
 * The arrival time and TTL (or hop limit, -1 unknown) of a datagram from
 * its control messages; now_us and now_ns are the clocks read after it
 * was received.
 */
static void
rx_info(struct msghdr *m, uint64_t now_us, int64_t now_ns, uint64_t *rx_us,
    int *ttl)
{
	struct cmsghdr	*cm;
	struct timespec	 kts;
	int64_t		 age;
	int		 hop;

	*ttl = -1;
	*rx_us = now_us;
	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS) {
			/*
			 * The kernel stamps arrival on the real-time clock:
			 * take how long the reply waited in the queue off
			 * the monotonic now.
			 */
			memcpy(&kts, CMSG_DATA(cm), sizeof(kts));
			age = now_ns - ((int64_t)kts.tv_sec * 1000000000 +
			    kts.tv_nsec);
			if (age > 0 && age < 1000000000)
				*rx_us = now_us - (uint64_t)(age / 1000);
		} else if ((cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_TTL) ||
		    (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_HOPLIMIT)) {
			memcpy(&hop, CMSG_DATA(cm), sizeof(hop));
			*ttl = hop;
		}
	}
}

void
icmp_drain(struct ping_run *r, int fi)
{
	static unsigned char	bufs[PING_BATCH][1500];
	static char		ctl[PING_BATCH][256];
	struct mmsghdr		msgs[PING_BATCH];
	struct iovec		iov[PING_BATCH];
	struct sockaddr_in6	from[PING_BATCH];
	uint64_t		now_us, rx_us;
	int64_t			now_ns;
	int			n, i, ttl;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < PING_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_control = ctl[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		n = recvmmsg(r->fd[fi], msgs, PING_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now_us = qosd_mono_us();
		now_ns = qosd_real_ns();
		for (i = 0; i < n; i++) {
			rx_info(&msgs[i].msg_hdr, now_us, now_ns, &rx_us, &ttl);
			if (fi == 0)
				parse4(r, bufs[i], msgs[i].msg_len, ttl,
				    (struct sockaddr_in *)&from[i], rx_us);
			else
				parse6(r, bufs[i], msgs[i].msg_len, ttl,
				    &from[i], rx_us);
		}
		if (n < PING_BATCH)
			return;
	}
}
