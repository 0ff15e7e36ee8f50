/*
 * responder.c: a test peer with a known delay, jitter and loss, for the
 * ping and tcp tests.  Run it in a network namespace whose kernel does not
 * answer echo itself (net.ipv4.icmp_echo_ignore_all=1,
 * net.ipv6.icmp.echo_ignore_all=1).
 *
 *   responder [--icmp] [--tcp PORT] [--delay MS] [--jitter MS]
 *       [--drop FRACTION] [--seed N] [--duration S] [--summary FILE]
 *
 * --icmp answers ICMP and ICMPv6 echo requests read on raw sockets; --tcp
 * echoes qosd's echo probes (24-byte header: magic "QOSE", sequence,
 * length, ...) on PORT, IPv4 and IPv6, and other bytes as they come.
 * Each request or probe is answered after delay + uniform(-jitter,
 * +jitter) ms, or dropped with probability FRACTION, from a seeded
 * generator.  At exit (SIGTERM, SIGINT or after --duration seconds,
 * default 300) it writes what it did, one "key=value" a line, to the
 * summary file and to standard output, so a test can compare a
 * collector's figures with the truth; also the TOS (traffic class) and TTL
 * (hop limit) of the last request, and the TOS of the last TCP segment to
 * PORT (IPv4), to check dscp and ttl settings on the wire.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PENDING	65536
#define MAX_CLIENTS	64
#define MSG_MAX		65536
#define ECHO_MAGIC	0x514f5345U

struct pending {
	uint64_t		 due;
	int			 fd;		/* socket to send on */
	int			 client;	/* tcp: client index, else -1 */
	struct sockaddr_in6	 to;
	socklen_t		 tolen;
	size_t			 len;
	unsigned char		*data;
};

struct client {
	int		 fd;
	unsigned char	 buf[MSG_MAX];
	size_t		 len;
};

static struct pending	pend[MAX_PENDING];
static size_t		npend;
static struct client	clients[MAX_CLIENTS];
static double		delay_ms, jitter_ms, drop;
/*
 * One generator per stream (ICMP, ICMPv6, TCP), so that the n-th request
 * of a stream meets the same fate whatever the interleaving of streams.
 */
enum { RNG_ICMP4, RNG_ICMP6, RNG_TCP, RNG_N };
static uint64_t		rng[RNG_N];
static volatile sig_atomic_t stop;
static unsigned long	icmp_req, icmp_rep, icmp_drop;
static unsigned long	tcp_probes, tcp_echoed, tcp_dropped, tcp_conns;
/* What the last request carried: TOS/traffic class and TTL/hop limit. */
static int		icmp_tos = -1, icmp_ttl = -1, icmp6_tclass = -1;
static int		icmp6_hops = -1, tcp_tos = -1;
static int		tcp_port;

static uint64_t
mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* xorshift64*: in [0, 1). */
static double
rnd(int st)
{
	uint64_t	*x = &rng[st];

	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return (double)((*x * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* Whether to drop this one, and if not, when to answer it. */
static int
decide(int st, uint64_t now, uint64_t *due)
{
	double	d;

	if (rnd(st) < drop)
		return 0;
	d = delay_ms + jitter_ms * (2 * rnd(st) - 1);
	if (d < 0)
		d = 0;
	*due = now + (uint64_t)(d * 1000);
	return 1;
}

static void
queue(uint64_t due, int fd, int client, const void *to, socklen_t tolen,
    const void *data, size_t len)
{
	struct pending	*p;

	if (npend == MAX_PENDING)
		return;
	p = &pend[npend];
	if ((p->data = malloc(len)) == NULL)
		return;
	npend++;
	p->due = due;
	p->fd = fd;
	p->client = client;
	p->tolen = tolen;
	if (tolen > 0)
		memcpy(&p->to, to, tolen);
	memcpy(p->data, data, len);
	p->len = len;
}

static uint16_t
cksum(const unsigned char *p, size_t len)
{
	uint32_t	sum = 0;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void
icmp4_in(int fd)
{
	unsigned char		b[MSG_MAX];
	struct sockaddr_in	from;
	socklen_t		fl = sizeof(from);
	struct ip		*ip = (struct ip *)b;
	struct icmphdr		*h;
	uint64_t		due;
	ssize_t			n;
	size_t			hl;

	if ((n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &fl)) <= 0)
		return;
	if ((size_t)n < sizeof(*ip) || (hl = (size_t)ip->ip_hl * 4) + 8 >
	    (size_t)n)
		return;
	h = (struct icmphdr *)(b + hl);
	if (h->type != ICMP_ECHO)
		return;
	icmp_tos = ip->ip_tos;
	icmp_ttl = ip->ip_ttl;
	icmp_req++;
	if (!decide(RNG_ICMP4, mono_us(), &due)) {
		icmp_drop++;
		return;
	}
	h->type = ICMP_ECHOREPLY;
	h->checksum = 0;
	h->checksum = cksum(b + hl, (size_t)n - hl);
	queue(due, fd, -1, &from, fl, b + hl, (size_t)n - hl);
}

static void
icmp6_in(int fd)
{
	unsigned char		b[MSG_MAX];
	char			ctl[256];
	struct sockaddr_in6	from;
	struct icmp6_hdr	*h = (struct icmp6_hdr *)b;
	struct iovec		iov = { b, sizeof(b) };
	struct msghdr		m;
	struct cmsghdr		*cm;
	uint64_t		due;
	ssize_t			n;
	int			v;

	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	if ((n = recvmsg(fd, &m, MSG_DONTWAIT)) < 8)
		return;
	if (h->icmp6_type != ICMP6_ECHO_REQUEST)
		return;
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != IPPROTO_IPV6)
			continue;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		if (cm->cmsg_type == IPV6_TCLASS)
			icmp6_tclass = v;
		else if (cm->cmsg_type == IPV6_HOPLIMIT)
			icmp6_hops = v;
	}
	icmp_req++;
	if (!decide(RNG_ICMP6, mono_us(), &due)) {
		icmp_drop++;
		return;
	}
	h->icmp6_type = ICMP6_ECHO_REPLY;
	h->icmp6_cksum = 0;		/* the kernel sums ICMPv6 */
	queue(due, fd, -1, &from, m.msg_namelen, b, (size_t)n);
}

/* A copy of an inbound TCP segment (raw socket): note its TOS. */
static void
tcp_sniff(int fd)
{
	unsigned char	 b[2048];
	struct ip	*ip = (struct ip *)b;
	uint16_t	 dport;
	ssize_t		 n;
	size_t		 hl;

	if ((n = recv(fd, b, sizeof(b), MSG_DONTWAIT)) < (ssize_t)sizeof(*ip))
		return;
	hl = (size_t)ip->ip_hl * 4;
	if ((size_t)n < hl + 4)
		return;
	memcpy(&dport, b + hl + 2, 2);
	if (ntohs(dport) == tcp_port)
		tcp_tos = ip->ip_tos;
}

static void
client_close(int ci)
{
	size_t	i;

	close(clients[ci].fd);
	clients[ci].fd = -1;
	for (i = 0; i < npend; i++)
		if (pend[i].client == ci)
			pend[i].client = -2;	/* gone: discard */
}

static void
tcp_in(int ci)
{
	struct client	*c = &clients[ci];
	uint32_t	 w, len;
	uint64_t	 due, now;
	ssize_t		 n;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
	    MSG_DONTWAIT);
	if (n == 0 || (n == -1 && errno != EAGAIN)) {
		client_close(ci);
		return;
	}
	if (n == -1)
		return;
	c->len += (size_t)n;
	now = mono_us();
	while (c->len >= 12) {
		memcpy(&w, c->buf, 4);
		memcpy(&len, c->buf + 8, 4);
		len = ntohl(len);
		if (ntohl(w) != ECHO_MAGIC || len < 12 || len > MSG_MAX) {
			/* Not a probe: plain echo of what came. */
			queue(now + (uint64_t)(delay_ms * 1000), c->fd, ci,
			    NULL, 0, c->buf, c->len);
			c->len = 0;
			return;
		}
		if (c->len < len)
			return;
		tcp_probes++;
		if (decide(RNG_TCP, now, &due))
			queue(due, c->fd, ci, NULL, 0, c->buf, len);
		else
			tcp_dropped++;
		memmove(c->buf, c->buf + len, c->len - len);
		c->len -= len;
	}
}

static void
send_due(uint64_t now)
{
	struct pending	*p;
	size_t		 i = 0, off;
	ssize_t		 n;

	while (i < npend) {
		p = &pend[i];
		if (p->due > now) {
			i++;
			continue;
		}
		if (p->client == -1) {
			if (sendto(p->fd, p->data, p->len, 0,
			    (struct sockaddr *)&p->to, p->tolen) != -1)
				icmp_rep++;
		} else if (p->client >= 0) {
			for (off = 0; off < p->len; off += (size_t)n) {
				n = send(p->fd, p->data + off, p->len - off,
				    MSG_NOSIGNAL);
				if (n == -1 && errno == EAGAIN) {
					poll(NULL, 0, 1);
					n = 0;
				} else if (n == -1)
					break;
			}
			if (off == p->len)
				tcp_echoed++;
		}
		free(p->data);
		*p = pend[--npend];
	}
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
summary(FILE *f)
{
	fprintf(f, "icmp_requests=%lu\nicmp_replied=%lu\nicmp_dropped=%lu\n"
	    "tcp_connections=%lu\ntcp_probes=%lu\ntcp_echoed=%lu\n"
	    "tcp_dropped=%lu\n", icmp_req, icmp_rep, icmp_drop, tcp_conns,
	    tcp_probes, tcp_echoed, tcp_dropped);
	fprintf(f, "icmp_tos=%d\nicmp_ttl=%d\nicmp6_tclass=%d\n"
	    "icmp6_hops=%d\ntcp_tos=%d\n", icmp_tos, icmp_ttl, icmp6_tclass,
	    icmp6_hops, tcp_tos);
}

static int
tcp_listen(int port)
{
	struct sockaddr_in6	sa;
	int			fd, one = 1, zero = 0;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "icmp",	no_argument,		NULL, 'i' },
		{ "tcp",	required_argument,	NULL, 't' },
		{ "delay",	required_argument,	NULL, 'd' },
		{ "jitter",	required_argument,	NULL, 'j' },
		{ "drop",	required_argument,	NULL, 'p' },
		{ "seed",	required_argument,	NULL, 's' },
		{ "duration",	required_argument,	NULL, 'D' },
		{ "summary",	required_argument,	NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	struct pollfd		 pfd[4 + MAX_CLIENTS];
	struct icmp6_filter	 f6;
	const char		*sumfile = NULL;
	struct timespec		 ts;
	uint64_t		 end, now, wake, us, seed;
	double			 duration = 300;
	size_t			 i;
	int			 ch, icmp = 0, port = 0, fd4 = -1, fd6 = -1;
	int			 lfd = -1, n, ci, cfd, base, sfd = -1, one = 1;
	FILE			*f;

	seed = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
		switch (ch) {
		case 'i': icmp = 1; break;
		case 't': port = atoi(optarg); break;
		case 'd': delay_ms = atof(optarg); break;
		case 'j': jitter_ms = atof(optarg); break;
		case 'p': drop = atof(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'D': duration = atof(optarg); break;
		case 'S': sumfile = optarg; break;
		default:
			fprintf(stderr, "usage: responder [--icmp] [--tcp PORT] "
			    "[--delay MS] [--jitter MS] [--drop FRACTION] "
			    "[--seed N] [--duration S] [--summary FILE]\n");
			return 64;
		}
	for (n = 0; n < RNG_N; n++)
		if ((rng[n] = 88172645463325252ULL ^ ((seed + (uint64_t)n +
		    1) * 0x9e3779b97f4a7c15ULL)) == 0)
			rng[n] = 1;
	if (icmp) {
		if ((fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC,
		    IPPROTO_ICMP)) == -1 ||
		    (fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC,
		    IPPROTO_ICMPV6)) == -1) {
			perror("responder: raw socket");
			return 1;
		}
		ICMP6_FILTER_SETBLOCKALL(&f6);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REQUEST, &f6);
		setsockopt(fd6, IPPROTO_ICMPV6, ICMP6_FILTER, &f6, sizeof(f6));
		setsockopt(fd6, IPPROTO_IPV6, IPV6_RECVTCLASS, &one,
		    sizeof(one));
		setsockopt(fd6, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one,
		    sizeof(one));
	}
	if (port > 0 && (lfd = tcp_listen(port)) == -1) {
		perror("responder: tcp listen");
		return 1;
	}
	tcp_port = port;
	if (port > 0)
		sfd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	for (i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);
	end = mono_us() + (uint64_t)(duration * 1e6);
	while (!stop && (now = mono_us()) < end) {
		send_due(now);
		wake = end;
		for (i = 0; i < npend; i++)
			if (pend[i].due < wake)
				wake = pend[i].due;
		us = wake <= now ? 0 : wake - now;
		ts.tv_sec = (time_t)(us / 1000000);
		ts.tv_nsec = (long)(us % 1000000) * 1000;
		n = 0;
		pfd[n].fd = fd4, pfd[n++].events = POLLIN;
		pfd[n].fd = fd6, pfd[n++].events = POLLIN;
		pfd[n].fd = lfd, pfd[n++].events = POLLIN;
		pfd[n].fd = sfd, pfd[n++].events = POLLIN;
		base = n;
		for (ci = 0; ci < MAX_CLIENTS; ci++) {
			pfd[n].fd = clients[ci].fd;
			pfd[n++].events = POLLIN;
		}
		if (ppoll(pfd, (nfds_t)n, &ts, NULL) == -1)
			continue;
		if (pfd[0].revents & POLLIN)
			icmp4_in(fd4);
		if (pfd[1].revents & POLLIN)
			icmp6_in(fd6);
		if (pfd[3].revents & POLLIN)
			tcp_sniff(sfd);
		if (pfd[2].revents & POLLIN &&
		    (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
		    SOCK_NONBLOCK)) != -1) {
			for (ci = 0; ci < MAX_CLIENTS; ci++)
				if (clients[ci].fd == -1)
					break;
			if (ci == MAX_CLIENTS)
				close(cfd);
			else {
				clients[ci].fd = cfd;
				clients[ci].len = 0;
				tcp_conns++;
			}
		}
		for (ci = 0; ci < MAX_CLIENTS; ci++)
			if (clients[ci].fd != -1 && pfd[base + ci].fd != -1 &&
			    (pfd[base + ci].revents & (POLLIN | POLLHUP |
			    POLLERR)))
				tcp_in(ci);
	}
	send_due(mono_us());
	summary(stdout);
	if (sumfile != NULL && (f = fopen(sumfile, "w")) != NULL) {
		summary(f);
		fclose(f);
	}
	return 0;
}
