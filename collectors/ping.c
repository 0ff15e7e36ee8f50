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
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/probe/latstats.h"
#include "collectors/probe/resolve.h"
#include "qosd/cfg.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
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
#define PING_HDR	16		/* our payload header: see struct */
#define PING_BATCH	64		/* datagrams per recvmmsg() */
#define PING_DRAIN	32		/* sends between two receive drains */
#define PING_RCVBUF	(4 * 1024 * 1024)
#define PING_PKT_MAX	65536

enum { FAM_ANY, FAM_V4, FAM_V6 };

struct ping_conf {
	char		**targets;
	size_t		  ntargets;
	long long	  count;
	double		  interval;	/* seconds between rounds */
	double		  timeout;	/* seconds each probe waits */
	long long	  ttl;
	long long	  size;		/* ICMP payload bytes */
	int		  dscp;
	char		 *source;	/* numeric address or NULL */
	char		 *device;	/* interface name or NULL */
	int		  family;	/* FAM_* */
	int		  samples;
};

/* Our part of the echo payload, in network byte order. */
struct ping_payload {
	uint32_t	magic;
	uint32_t	target;
	uint64_t	cookie;
};

struct probe {
	uint64_t	tx_us;		/* monotonic send time, 0 unsent */
	int64_t		tx_ns;		/* CLOCK_REALTIME send time */
	double		rtt_ms;		/* < 0: no reply (yet) */
};

struct ptarget {
	const char		*name;
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	int			 fi;		/* 0 IPv4, 1 IPv6, -1 none */
	char			 addr[INET6_ADDRSTRLEN];
	const char		*fail;		/* result when not measured */
	struct probe		*p;		/* count probes */
	unsigned long		 sent, received, unreach;
	unsigned long		 answered;	/* by a reply or an error */
	int			 ttl;		/* of the last reply, -1 none */
	int			 emitted;
};

struct ping_run {
	const struct ping_conf	*c;
	struct qosd_out		*out;
	struct ptarget		*t;
	size_t			 nt;
	int			 fd[2];		/* IPv4, IPv6 */
	int			 dgram[2];	/* SOCK_DGRAM ICMP */
	uint16_t		 ident;
	uint64_t		 cookie;
	unsigned char		*pkt;		/* outgoing echo */
	size_t			 pktlen;
	unsigned long		 outstanding;	/* sent, unanswered */
	uint64_t		 last_tx_us;
	size_t			*ready;		/* targets all answered */
	size_t			 nready;
	double			*rtt, *tmp;	/* scratch for emit() */
};

static const char *const ping_settings[] = {
	"targets", "count", "ping_interval", "ping_timeout", "ttl", "size",
	"dscp", "source", "device", "family", "samples", NULL
};
static const char *const ping_families[] = { "any", "ipv4", "ipv6", NULL };

static void
ping_release(void *state)
{
	struct ping_conf	*c = state;
	size_t			 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ntargets; i++)
		free(c->targets[i]);
	free(c->targets);
	free(c->source);
	free(c->device);
	free(c);
}

static int
ping_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct ping_conf	 *c;
	const config_setting_t	 *s;
	const char		**list = NULL, *src = NULL, *dev = NULL;
	struct in6_addr		  a6;
	size_t			  n = 0, i;
	int			  r, fam = FAM_ANY;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->count = 5;
	c->interval = 0.2;
	c->timeout = 1.0;
	c->ttl = 64;
	c->size = 56;
	if ((r = qosd_cfg_strings(job, "targets", &list, &n, err,
	    errlen)) == -1)
		goto fail;
	if (r == 0) {
		qosd_cfg_error(job, err, errlen, "targets: missing: give the "
		    "hosts to ping, e.g. targets = [ \"192.0.2.1\" ]");
		goto fail;
	}
	s = config_setting_get_member(job, "targets");
	for (i = 0; i < n; i++)
		if (strpbrk(list[i], " \t\r\n") != NULL ||
		    strlen(list[i]) > 253) {
			qosd_cfg_error(s, err, errlen, "\"%s\" is not a host "
			    "name or address", list[i]);
			goto fail;
		}
	if (qosd_cfg_int(job, "count", 1, 10000, &c->count, err,
	    errlen) == -1 ||
	    qosd_cfg_float(job, "ping_interval", 0.001, 3600, &c->interval,
	    err, errlen) == -1 ||
	    qosd_cfg_float(job, "ping_timeout", 0.001, 3600, &c->timeout,
	    err, errlen) == -1 ||
	    qosd_cfg_int(job, "ttl", 1, 255, &c->ttl, err, errlen) == -1 ||
	    qosd_cfg_int(job, "size", PING_HDR, 65000, &c->size, err,
	    errlen) == -1 ||
	    qosd_cfg_dscp(job, "dscp", &c->dscp, err, errlen) == -1 ||
	    qosd_cfg_enum(job, "family", ping_families, &fam, err,
	    errlen) == -1 ||
	    qosd_cfg_bool(job, "samples", &c->samples, err, errlen) == -1 ||
	    qosd_cfg_string(job, "source", 0, &src, err, errlen) == -1 ||
	    qosd_cfg_string(job, "device", 0, &dev, err, errlen) == -1)
		goto fail;
	c->family = fam;
	if (src != NULL) {
		s = config_setting_get_member(job, "source");
		if (inet_pton(AF_INET, src, &a6) == 1)
			r = FAM_V4;
		else if (inet_pton(AF_INET6, src, &a6) == 1)
			r = FAM_V6;
		else {
			qosd_cfg_error(s, err, errlen, "\"%s\" is not an IPv4 "
			    "or IPv6 address", src);
			goto fail;
		}
		if (c->family != FAM_ANY && c->family != r) {
			qosd_cfg_error(s, err, errlen, "\"%s\" is not of the "
			    "family \"%s\"", src, ping_families[c->family]);
			goto fail;
		}
		c->family = r;
	}
	if (dev != NULL && strlen(dev) >= IFNAMSIZ) {
		qosd_cfg_error(config_setting_get_member(job, "device"), err,
		    errlen, "\"%s\" is longer than an interface name (%d)",
		    dev, IFNAMSIZ - 1);
		goto fail;
	}
	if ((c->targets = calloc(n, sizeof(char *))) == NULL ||
	    (src != NULL && (c->source = strdup(src)) == NULL) ||
	    (dev != NULL && (c->device = strdup(dev)) == NULL))
		goto nomem;
	for (i = 0; i < n; i++) {
		if ((c->targets[i] = strdup(list[i])) == NULL)
			goto nomem;
		c->ntargets++;
	}
	free(list);
	*state = c;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(list);
	ping_release(c);
	return -1;
}

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

/* Resolve every target, all at once, until deadline_us. */
static void
resolve(struct ping_run *r, uint64_t deadline_us)
{
	struct resolve_req	*q;
	struct ptarget		*t;
	size_t			 i;
	int			 af;

	af = r->c->family == FAM_V4 ? AF_INET :
	    r->c->family == FAM_V6 ? AF_INET6 : AF_UNSPEC;
	if ((q = calloc(r->nt, sizeof(*q))) == NULL) {
		log_err("ping[%s]: out of memory", qosd_out_job(r->out));
		for (i = 0; i < r->nt; i++)
			r->t[i].fail = "error";
		return;
	}
	for (i = 0; i < r->nt; i++) {
		q[i].name = r->t[i].name;
		q[i].family = af;
	}
	resolve_all(q, r->nt, deadline_us);
	for (i = 0; i < r->nt; i++) {
		t = &r->t[i];
		if (q[i].error != 0) {
			log_debug("ping[%s]: \"%s\": %s", qosd_out_job(r->out),
			    t->name, gai_strerror(q[i].error));
			t->fail = "dns_error";
			continue;
		}
		t->sa = q[i].sa;
		t->salen = q[i].salen;
		t->fi = t->sa.ss_family == AF_INET6;
		inet_ntop(t->sa.ss_family, t->fi ?
		    (void *)&((struct sockaddr_in6 *)&t->sa)->sin6_addr :
		    (void *)&((struct sockaddr_in *)&t->sa)->sin_addr,
		    t->addr, sizeof(t->addr));
	}
	free(q);
}

/* Open and set up the socket of family fi; -1 with errno on failure. */
static int
open_socket(struct ping_run *r, int fi)
{
	const struct ping_conf	*c = r->c;
	struct sockaddr_storage	 ss;
	int			 fd, one = 1, v, af, proto;

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
	v = (int)c->ttl;
	if (fi == 0) {
		if (!r->dgram[0]) {
			struct icmp_filter f;

			f.data = ~((1U << ICMP_ECHOREPLY) |
			    (1U << ICMP_DEST_UNREACH) |
			    (1U << ICMP_TIME_EXCEEDED));
			setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
		} else
			setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one,
			    sizeof(one));
		if (setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)) == -1)
			goto fail;
		v = (int)c->dscp << 2;
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof(v)) == -1)
			goto fail;
	} else {
		struct icmp6_filter f;

		ICMP6_FILTER_SETBLOCKALL(&f);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
		if (!r->dgram[1]) {
			ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
			ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
		}
		setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
		    sizeof(one));
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v,
		    sizeof(v)) == -1)
			goto fail;
		v = (int)c->dscp << 2;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v,
		    sizeof(v)) == -1)
			goto fail;
	}
	if (c->device != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    c->device, (socklen_t)strlen(c->device) + 1) == -1)
		goto fail;
	if (c->source != NULL) {
		memset(&ss, 0, sizeof(ss));
		if (fi == 0) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			inet_pton(AF_INET, c->source, &s4->sin_addr);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, c->source, &s6->sin6_addr);
		}
		if (bind(fd, (struct sockaddr *)&ss, fi ? sizeof(struct
		    sockaddr_in6) : sizeof(struct sockaddr_in)) == -1)
			goto fail;
	}
	return fd;
fail:
	v = errno;
	close(fd);
	errno = v;
	return -1;
}

static void
send_probe(struct ping_run *r, size_t ti, unsigned int k)
{
	struct ptarget		*t = &r->t[ti];
	struct icmphdr		*h = (struct icmphdr *)r->pkt;
	struct ping_payload	*pl = (struct ping_payload *)(r->pkt + 8);
	struct probe		*p = &t->p[k];
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
		    (struct sockaddr *)&t->sa, t->salen);
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
			    qosd_out_job(r->out), t->addr, strerror(errno));
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
static struct ptarget *
match(struct ping_run *r, int fi, const unsigned char *pl, size_t len,
    uint16_t id, uint16_t seq, const void *from)
{
	struct ping_payload	 p;
	struct ptarget		*t;
	uint32_t		 ti;

	if (len < sizeof(p) || (!r->dgram[fi] && id != r->ident))
		return NULL;
	memcpy(&p, pl, sizeof(p));
	if (ntohl(p.magic) != PING_MAGIC || p.cookie != r->cookie)
		return NULL;
	if ((ti = ntohl(p.target)) >= r->nt)
		return NULL;
	t = &r->t[ti];
	if (t->fi != fi || seq >= r->c->count || t->p[seq].tx_us == 0 ||
	    t->p[seq].rtt_ms != -1)
		return NULL;
	if (fi == 0 && memcmp(from, &((struct sockaddr_in *)&t->sa)->sin_addr,
	    4) != 0)
		return NULL;
	if (fi == 1 && memcmp(from,
	    &((struct sockaddr_in6 *)&t->sa)->sin6_addr, 16) != 0)
		return NULL;
	return t;
}

static void
on_reply(struct ping_run *r, struct ptarget *t, uint16_t seq, uint64_t rx_us,
    int ttl)
{
	struct probe	*p = &t->p[seq];
	uint64_t	 to = (uint64_t)(r->c->timeout * 1e6);

	if (rx_us < p->tx_us)
		rx_us = p->tx_us;
	if (rx_us - p->tx_us > to)
		return;			/* too late: lost */
	p->rtt_ms = (double)(rx_us - p->tx_us) / 1000.0;
	t->received++;
	r->outstanding--;
	if (ttl >= 0)
		t->ttl = ttl;
	if (++t->answered == (unsigned long)r->c->count)
		r->ready[r->nready++] = (size_t)(t - r->t);
}

static void
on_error(struct ping_run *r, struct ptarget *t, uint16_t seq)
{
	t->p[seq].rtt_ms = -2;		/* answered by an error: no reply */
	t->unreach++;
	r->outstanding--;
	if (++t->answered == (unsigned long)r->c->count)
		r->ready[r->nready++] = (size_t)(t - r->t);
}

static void
parse4(struct ping_run *r, unsigned char *b, size_t n, int ttl,
    const struct sockaddr_in *from, uint64_t rx_us)
{
	const struct icmphdr	*h;
	const struct ip		*ip, *in;
	struct ptarget		*t;
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
	struct ptarget		*t;

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
static void
drain(struct ping_run *r, int fi)
{
	static unsigned char	bufs[PING_BATCH][1500];
	static char		ctl[PING_BATCH][256];
	struct mmsghdr		msgs[PING_BATCH];
	struct iovec		iov[PING_BATCH];
	struct sockaddr_in6	from[PING_BATCH];
	struct cmsghdr		*cm;
	struct timespec		 kts;
	uint64_t		 now_us, rx_us;
	int64_t			 now_ns, age;
	int			 n, i, ttl, hop;

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
			ttl = -1;
			rx_us = now_us;
			for (cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm != NULL;
			    cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
				if (cm->cmsg_level == SOL_SOCKET &&
				    cm->cmsg_type == SO_TIMESTAMPNS) {
					/*
					 * The kernel stamps arrival on the
					 * real-time clock: take how long the
					 * reply waited in the queue off the
					 * monotonic now.
					 */
					memcpy(&kts, CMSG_DATA(cm),
					    sizeof(kts));
					age = now_ns - ((int64_t)kts.tv_sec *
					    1000000000 + kts.tv_nsec);
					if (age > 0 && age < 1000000000)
						rx_us = now_us -
						    (uint64_t)(age / 1000);
				} else if ((cm->cmsg_level == IPPROTO_IP &&
				    cm->cmsg_type == IP_TTL) ||
				    (cm->cmsg_level == IPPROTO_IPV6 &&
				    cm->cmsg_type == IPV6_HOPLIMIT)) {
					memcpy(&hop, CMSG_DATA(cm),
					    sizeof(hop));
					ttl = hop;
				}
			}
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

static void
drain_all(struct ping_run *r)
{
	if (r->fd[0] != -1)
		drain(r, 0);
	if (r->fd[1] != -1)
		drain(r, 1);
}

static void
emit(struct ping_run *r, struct ptarget *t, double *rtt, double *tmp)
{
	struct qosd_out	*out = r->out;
	struct latstats	 st;
	const char	*result;
	size_t		 n = 0;
	long long	 k;

	for (k = 0; k < r->c->count; k++)
		if (t->p != NULL && t->p[k].rtt_ms >= 0)
			rtt[n++] = t->p[k].rtt_ms;
	latstats_compute(&st, rtt, n, t->sent, tmp);
	if (t->fail != NULL)
		result = t->fail;
	else if (st.received > 0)
		result = "ok";
	else if (t->unreach > 0)
		result = "unreachable";
	else
		result = "timeout";

	qosd_point_begin(out, "ping");
	qosd_point_tag(out, "target", t->name);
	if (t->fi != -1)
		qosd_point_tag(out, "address", t->addr);
	if (t->fail == NULL) {
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
emit_samples(struct ping_run *r, struct ptarget *t)
{
	struct qosd_out	*out = r->out;
	long long	 k;

	for (k = 0; k < r->c->count; k++) {
		if (t->p[k].rtt_ms < 0)
			continue;
		qosd_point_begin(out, "ping_sample");
		qosd_point_tag(out, "target", t->name);
		qosd_point_tag(out, "address", t->addr);
		qosd_point_float(out, "rtt_ms", latstats_round(t->p[k].rtt_ms));
		qosd_point_time(out, t->p[k].tx_ns);
		qosd_point_end(out);
	}
}

static void
emit_target(struct ping_run *r, struct ptarget *t)
{
	if (t->emitted)
		return;
	t->emitted = 1;
	emit(r, t, r->rtt, r->tmp);
	if (r->c->samples && t->fail == NULL)
		emit_samples(r, t);
}

/*
 * Write the points of targets whose every probe is answered now rather
 * than at the end: the daemon reads them while the run goes on.
 */
static void
emit_ready(struct ping_run *r)
{
	size_t	i;

	for (i = 0; i < r->nready; i++)
		emit_target(r, &r->t[r->ready[i]]);
	r->nready = 0;
}

/*
 * Send round k to every target at start + k * interval, each probe with
 * its own timeout, until every probe is answered or timed out, or the
 * run's deadline comes.
 */
static void
engine(struct ping_run *r, uint64_t stop_us)
{
	const struct ping_conf	*c = r->c;
	struct pollfd		 pfd[2];
	uint64_t		 start, now, due, wake, ivl, to;
	unsigned int		 k = 0, sends = 0;
	size_t			 ti = 0;
	int			 npfd, ms;

	ivl = (uint64_t)(c->interval * 1e6);
	to = (uint64_t)(c->timeout * 1e6);
	start = qosd_mono_us();
	for (;;) {
		now = qosd_mono_us();
		/* Send what is due, draining replies as we go. */
		while (k < c->count && start + k * ivl <= now &&
		    now < stop_us) {
			if (r->t[ti].fi != -1 && r->fd[r->t[ti].fi] != -1) {
				send_probe(r, ti, k);
				if (++sends % PING_DRAIN == 0) {
					drain_all(r);
					emit_ready(r);
				}
			}
			if (++ti == r->nt) {
				ti = 0;
				k++;
				now = qosd_mono_us();
			}
		}
		drain_all(r);
		emit_ready(r);
		now = qosd_mono_us();
		if (now >= stop_us)
			break;
		if (k >= c->count && (r->outstanding == 0 ||
		    now >= r->last_tx_us + to))
			break;
		wake = k < c->count ? start + k * ivl : r->last_tx_us + to;
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

static int
ping_run(void *state, struct qosd_out *out)
{
	const struct ping_conf	*c = state;
	struct ping_run		 r;
	struct probe		*probes = NULL;
	struct ping_payload	*pl;
	double			*rtt = NULL, *tmp = NULL;
	uint64_t		 stop, margin, sched, dns, now;
	size_t			 i, k, np;
	int			 fi, need[2] = { 0, 0 }, rc = 0, eperm = 0;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.out = out;
	r.nt = c->ntargets;
	r.fd[0] = r.fd[1] = -1;
	r.ident = (uint16_t)getpid();
	r.cookie = (uint64_t)qosd_real_ns() ^ ((uint64_t)getpid() << 32) ^
	    qosd_mono_us();
	r.pktlen = 8 + (size_t)c->size;
	np = r.nt * (size_t)c->count;
	if ((r.t = calloc(r.nt, sizeof(*r.t))) == NULL ||
	    (probes = calloc(np, sizeof(*probes))) == NULL ||
	    (rtt = calloc((size_t)c->count, sizeof(*rtt))) == NULL ||
	    (tmp = calloc((size_t)c->count, sizeof(*tmp))) == NULL ||
	    (r.pkt = calloc(1, r.pktlen)) == NULL ||
	    (r.ready = calloc(r.nt, sizeof(*r.ready))) == NULL) {
		log_err("ping[%s]: out of memory", qosd_out_job(out));
		rc = -1;
		goto done;
	}
	for (i = 0; i < r.nt; i++) {
		r.t[i].name = c->targets[i];
		r.t[i].ttl = -1;
		r.t[i].p = probes + i * (size_t)c->count;
		for (k = 0; k < (size_t)c->count; k++)
			r.t[i].p[k].rtt_ms = -1;
	}
	for (i = 0; i < r.pktlen - 8; i++)
		r.pkt[8 + i] = (unsigned char)i;
	r.rtt = rtt;
	r.tmp = tmp;
	pl = (struct ping_payload *)(r.pkt + 8);
	pl->magic = htonl(PING_MAGIC);
	pl->cookie = r.cookie;

	/* Leave time to write the points before the daemon's deadline. */
	margin = 100000 + 20 * (uint64_t)r.nt;
	stop = qosd_out_deadline_us(out);
	now = qosd_mono_us();
	stop = stop > now + margin ? stop - margin : now;
	/* Names get what the probes' schedule leaves, at least a second. */
	sched = (uint64_t)(((double)(c->count - 1) * c->interval +
	    c->timeout) * 1e6);
	dns = stop > qosd_mono_us() + sched + 1000000 ? stop - sched :
	    qosd_mono_us() + 1000000;
	for (i = 0; i < r.nt; i++)
		r.t[i].fi = -1;
	resolve(&r, dns);
	for (i = 0; i < r.nt; i++)
		if (r.t[i].fi != -1)
			need[r.t[i].fi] = 1;
	for (fi = 0; fi < 2; fi++) {
		if (!need[fi])
			continue;
		if ((r.fd[fi] = open_socket(&r, fi)) != -1)
			continue;
		if (errno == EPERM || errno == EACCES)
			eperm = 1;
		else
			log_err("ping[%s]: %s socket: %s", qosd_out_job(out),
			    fi ? "ICMPv6" : "ICMP", strerror(errno));
		for (i = 0; i < r.nt; i++)
			if (r.t[i].fi == fi)
				r.t[i].fail = "error";
		rc = -1;
	}
	if (eperm)
		log_err("ping[%s]: cannot open an ICMP socket: CAP_NET_RAW "
		    "is missing (give qosd CAP_NET_RAW, or allow "
		    "unprivileged ICMP with sysctl net.ipv4.ping_group_range)",
		    qosd_out_job(out));

	if (r.fd[0] != -1 || r.fd[1] != -1) {
		engine(&r, stop);
		if (qosd_mono_us() >= stop)
			log_err("ping[%s]: the run's timeout came before "
			    "the last probe's: raise the job's timeout above "
			    "(count - 1) * ping_interval + ping_timeout",
			    qosd_out_job(out));
	}
	for (i = 0; i < r.nt; i++)
		emit_target(&r, &r.t[i]);
done:
	for (fi = 0; fi < 2; fi++)
		if (r.fd[fi] != -1)
			close(r.fd[fi]);
	free(r.ready);
	free(r.pkt);
	free(tmp);
	free(rtt);
	free(probes);
	free(r.t);
	return rc;
}

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "ping",
	.settings = ping_settings,
	.configure = ping_configure,
	.run = ping_run,
	.release = ping_release,
	.flags = QOSD_COLLECTOR_NET_RAW,
};
