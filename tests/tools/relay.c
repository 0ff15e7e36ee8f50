/*
 * relay.c: a userspace UDP relay that adds a known delay, loss and
 * reordering per direction, for ground-truth tests (this kernel has no
 * netem).  It can listen in one network namespace and forward from
 * another, so that it sits between two namespaces:
 *
 *   relay --listen ADDR:PORT [--listen-netns NAME] --to ADDR:PORT
 *       [--to-netns NAME] [--fwd-delay MS] [--fwd-jitter MS]
 *       [--fwd-drop FRACTION] [--fwd-reorder N] [--bwd-delay MS] ...
 *       [--reorder-extra MS] [--seed N] [--duration S] [--summary FILE]
 *       [--log FILE]
 *
 * Forward is what a client sends to ADDR:PORT of --listen, relayed to
 * --to from a socket of the client's own; backward is what comes back on
 * that socket, relayed to the client.  Each datagram is dropped with the
 * direction's probability, else sent delay + uniform(-jitter, +jitter) ms
 * after the kernel received it (SO_TIMESTAMPNS); every N-th one kept
 * (--*-reorder N) waits reorder-extra ms more, so that later ones overtake
 * it.  Fates come from one seeded generator per direction.
 *
 * What it did is the truth a test compares with: at exit (SIGTERM,
 * SIGINT or --duration, default 300 s) it prints, and writes to the
 * summary file, per direction (fwd_, bwd_): received, dropped, sent,
 * pending (still held at exit), reordered (sent after a datagram of the same client that arrived
 * later: RFC 4737's definition), and the delay it actually held the sent
 * ones (delay_avg_ms, delay_min_ms, delay_max_ms, from the kernel's
 * receive timestamp to just before sendto()).  --log writes a line per
 * datagram: "fwd|bwd SEQ drop" or "fwd|bwd SEQ hold_us=H", SEQ the first
 * four octets (a STAMP or stamp_client sequence number) in decimal.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS	64
#define MAX_PENDING	65536
#define DGRAM		9216

enum { FWD, BWD };

struct dir {
	double		 delay_ms, jitter_ms, drop;
	long		 reorder;		/* every N-th kept: extra wait */
	uint64_t	 rng;
	unsigned long	 received, dropped, sent, reordered, kept;
	double		 hold_sum, hold_min, hold_max;	/* ms */
};

struct client {
	struct sockaddr_in6	 addr;		/* on the listen side */
	socklen_t		 addrlen;
	int			 fd;		/* to the target */
	unsigned long		 arrived[2];	/* arrival index, per dir */
	unsigned long		 emitted_max[2];	/* + 1; 0: none yet */
};

struct pending {
	int64_t		 due_ns;	/* CLOCK_REALTIME */
	int64_t		 rx_ns;
	int		 dir, client;
	unsigned long	 index;		/* arrival index */
	size_t		 len;
	uint8_t		*data;
};

static struct dir	 dirs[2];
static struct client	 clients[MAX_CLIENTS];
static int		 nclients, listen_fd = -1;
static struct pending	*heap[MAX_PENDING];
static size_t		 nheap;
static double		 reorder_extra_ms = 15;
static struct sockaddr_in6 target;
static socklen_t	 targetlen;
static const char	*to_netns;
static FILE		*logfile;
static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t
real_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: in [0, 1). */
static double
rnd(struct dir *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return (double)((d->rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* "1.2.3.4:5" or "[::1]:5" as an IPv6 (or IPv4-mapped) address. */
static int
parse_addr(const char *s, struct sockaddr_in6 *sa, socklen_t *len)
{
	char		 host[INET6_ADDRSTRLEN + 2];
	const char	*colon = strrchr(s, ':');
	size_t		 hl;

	if (colon == NULL || (hl = (size_t)(colon - s)) >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = htons((uint16_t)atoi(colon + 1));
	*len = sizeof(*sa);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		return inet_pton(AF_INET6, host + 1, &sa->sin6_addr) == 1 ?
		    0 : -1;
	}
	sa->sin6_addr.s6_addr[10] = sa->sin6_addr.s6_addr[11] = 0xff;
	return inet_pton(AF_INET, host, &sa->sin6_addr.s6_addr[12]) == 1 ?
	    0 : -1;
}

/* A dual-stack datagram socket, in network namespace ns (NULL: ours). */
static int
socket_in(const char *ns)
{
	char	path[256];
	int	self = -1, nsfd, fd, one = 1, zero = 0;

	if (ns != NULL) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (self == -1 || nsfd == -1 || setns(nsfd, CLONE_NEWNET) == -1) {
			fprintf(stderr, "relay: netns %s: %s\n", ns,
			    strerror(errno));
			exit(1);
		}
		close(nsfd);
	}
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (self != -1) {
		if (setns(self, CLONE_NEWNET) == -1)
			exit(1);
		close(self);
	}
	if (fd == -1)
		exit(1);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return fd;
}

static void
heap_push(struct pending *p)
{
	size_t	i = nheap++, parent;

	while (i > 0 && heap[parent = (i - 1) / 2]->due_ns > p->due_ns) {
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = p;
}

static struct pending *
heap_pop(void)
{
	struct pending	*top = heap[0], *last = heap[--nheap];
	size_t		 i = 0, c;

	while ((c = 2 * i + 1) < nheap) {
		if (c + 1 < nheap && heap[c + 1]->due_ns < heap[c]->due_ns)
			c++;
		if (heap[c]->due_ns >= last->due_ns)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap > 0)
		heap[i] = last;
	return top;
}

static unsigned long
seq_of(const uint8_t *p, size_t len)
{
	return len >= 4 ? (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	    (unsigned long)p[2] << 8 | p[3] : 0;
}

/* A datagram received in direction dir for client c: drop or queue. */
static void
arrive(int dir, int c, const uint8_t *data, size_t len, int64_t rx_ns)
{
	struct dir	*d = &dirs[dir];
	struct pending	*p;
	double		 ms;

	d->received++;
	clients[c].arrived[dir]++;
	if (rnd(d) < d->drop || nheap == MAX_PENDING) {
		d->dropped++;
		if (logfile != NULL)
			fprintf(logfile, "%s %lu drop\n", dir == FWD ? "fwd" :
			    "bwd", seq_of(data, len));
		return;
	}
	ms = d->delay_ms + d->jitter_ms * (2 * rnd(d) - 1);
	if (d->reorder > 0 && ++d->kept % (unsigned long)d->reorder == 0)
		ms += reorder_extra_ms;
	if (ms < 0)
		ms = 0;
	if ((p = malloc(sizeof(*p) + len)) == NULL)
		exit(1);
	p->data = (uint8_t *)(p + 1);
	memcpy(p->data, data, len);
	p->len = len;
	p->dir = dir;
	p->client = c;
	p->index = clients[c].arrived[dir];
	p->rx_ns = rx_ns;
	p->due_ns = rx_ns + (int64_t)(ms * 1e6);
	heap_push(p);
}

static void
emit(struct pending *p)
{
	struct client	*c = &clients[p->client];
	struct dir	*d = &dirs[p->dir];
	double		 hold;
	ssize_t		 n;

	hold = (real_ns() - p->rx_ns) / 1e6;
	if (p->dir == FWD)
		n = send(c->fd, p->data, p->len, 0);
	else
		n = sendto(listen_fd, p->data, p->len, 0,
		    (struct sockaddr *)&c->addr, c->addrlen);
	if (n == (ssize_t)p->len) {
		d->sent++;
		if (p->index < c->emitted_max[p->dir])
			d->reordered++;
		else
			c->emitted_max[p->dir] = p->index;
		d->hold_sum += hold;
		if (d->sent == 1 || hold < d->hold_min)
			d->hold_min = hold;
		if (hold > d->hold_max)
			d->hold_max = hold;
		if (logfile != NULL)
			fprintf(logfile, "%s %lu hold_us=%.1f\n", p->dir == FWD ?
			    "fwd" : "bwd", seq_of(p->data, p->len), hold * 1e3);
	}
	free(p);
}

/* The client for a listen-side source address, created on first sight. */
static int
client_of(const struct sockaddr_in6 *from, socklen_t len)
{
	int	i;

	for (i = 0; i < nclients; i++)
		if (memcmp(&clients[i].addr, from, sizeof(*from)) == 0)
			return i;
	if (nclients == MAX_CLIENTS)
		return -1;
	clients[i].addr = *from;
	clients[i].addrlen = len;
	clients[i].fd = socket_in(to_netns);
	if (connect(clients[i].fd, (struct sockaddr *)&target, targetlen) ==
	    -1) {
		perror("relay: connect");
		exit(1);
	}
	return nclients++;
}

/* Read what fd has; c: the client whose upstream socket it is, or -1. */
static void
drain(int fd, int c)
{
	uint8_t			 buf[DGRAM];
	union {
		struct cmsghdr	 h;
		uint8_t		 b[64];
	}			 ctl;
	struct sockaddr_in6	 from;
	struct iovec		 iov = { buf, sizeof(buf) };
	struct msghdr		 m;
	struct cmsghdr		*cm;
	struct timespec		 ts;
	int64_t			 rx;
	ssize_t			 n;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		if ((n = recvmsg(fd, &m, 0)) == -1)
			return;
		rx = real_ns();
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SO_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				rx = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			}
		if (c == -1) {
			int	k = client_of(&from, m.msg_namelen);

			if (k != -1)
				arrive(FWD, k, buf, (size_t)n, rx);
		} else
			arrive(BWD, c, buf, (size_t)n, rx);
	}
}

static void
summary(FILE *f)
{
	static const char	*name[2] = { "fwd", "bwd" };
	unsigned long		 pending[2] = { 0, 0 };
	size_t			 k;
	int			 i;

	for (k = 0; k < nheap; k++)
		pending[heap[k]->dir]++;
	for (i = 0; i < 2; i++) {
		struct dir	*d = &dirs[i];

		fprintf(f, "%s_received=%lu\n%s_dropped=%lu\n%s_sent=%lu\n"
		    "%s_pending=%lu\n%s_reordered=%lu\n%s_delay_avg_ms=%.4f\n"
		    "%s_delay_min_ms=%.4f\n%s_delay_max_ms=%.4f\n",
		    name[i], d->received, name[i], d->dropped, name[i],
		    d->sent, name[i], pending[i], name[i], d->reordered, name[i],
		    d->sent ? d->hold_sum / (double)d->sent : 0, name[i],
		    d->hold_min, name[i], d->hold_max);
	}
	fflush(f);
}

static void
run(double duration_s)
{
	struct pollfd	 pfd[1 + MAX_CLIENTS];
	struct timespec	 tmo;
	int64_t		 end = real_ns() + (int64_t)(duration_s * 1e9), wait;
	int		 i, n;

	while (!stop && real_ns() < end) {
		while (nheap > 0 && heap[0]->due_ns <= real_ns())
			emit(heap_pop());
		wait = nheap > 0 ? heap[0]->due_ns - real_ns() : 100000000;
		if (wait > 100000000)
			wait = 100000000;
		if (wait < 0)
			wait = 0;
		tmo.tv_sec = wait / 1000000000;
		tmo.tv_nsec = wait % 1000000000;
		pfd[0].fd = listen_fd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nclients; i++) {
			pfd[1 + i].fd = clients[i].fd;
			pfd[1 + i].events = POLLIN;
		}
		n = ppoll(pfd, (nfds_t)(1 + nclients), &tmo, NULL);
		if (n <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			drain(listen_fd, -1);
		for (i = 0; i < nclients && 1 + i < (int)(1 + MAX_CLIENTS); i++)
			if (pfd[1 + i].revents & POLLIN)
				drain(clients[i].fd, i);
	}
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", 1, NULL, 'l' }, { "listen-netns", 1, NULL, 'L' },
		{ "to", 1, NULL, 't' }, { "to-netns", 1, NULL, 'T' },
		{ "fwd-delay", 1, NULL, 'd' }, { "fwd-jitter", 1, NULL, 'j' },
		{ "fwd-drop", 1, NULL, 'x' }, { "fwd-reorder", 1, NULL, 'r' },
		{ "bwd-delay", 1, NULL, 'D' }, { "bwd-jitter", 1, NULL, 'J' },
		{ "bwd-drop", 1, NULL, 'X' }, { "bwd-reorder", 1, NULL, 'R' },
		{ "reorder-extra", 1, NULL, 'e' }, { "seed", 1, NULL, 's' },
		{ "duration", 1, NULL, 'u' }, { "summary", 1, NULL, 'S' },
		{ "log", 1, NULL, 'o' }, { NULL, 0, NULL, 0 }
	};
	struct sockaddr_in6	 la;
	struct sigaction	 act;
	socklen_t		 lalen;
	const char		*listen_s = NULL, *to_s = NULL, *listen_ns = NULL;
	const char		*sumpath = NULL;
	double			 duration = 300;
	uint64_t		 seed = 1;
	FILE			*f;
	int			 c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'l': listen_s = optarg; break;
		case 'L': listen_ns = optarg; break;
		case 't': to_s = optarg; break;
		case 'T': to_netns = optarg; break;
		case 'd': dirs[FWD].delay_ms = atof(optarg); break;
		case 'j': dirs[FWD].jitter_ms = atof(optarg); break;
		case 'x': dirs[FWD].drop = atof(optarg); break;
		case 'r': dirs[FWD].reorder = atol(optarg); break;
		case 'D': dirs[BWD].delay_ms = atof(optarg); break;
		case 'J': dirs[BWD].jitter_ms = atof(optarg); break;
		case 'X': dirs[BWD].drop = atof(optarg); break;
		case 'R': dirs[BWD].reorder = atol(optarg); break;
		case 'e': reorder_extra_ms = atof(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'u': duration = atof(optarg); break;
		case 'S': sumpath = optarg; break;
		case 'o':
			if ((logfile = fopen(optarg, "w")) == NULL)
				return 1;
			break;
		default: return 2;
		}
	}
	if (listen_s == NULL || to_s == NULL ||
	    parse_addr(listen_s, &la, &lalen) == -1 ||
	    parse_addr(to_s, &target, &targetlen) == -1 || duration > 3600) {
		fprintf(stderr, "usage: relay --listen ADDR:PORT --to ADDR:PORT "
		    "[options] (see the source)\n");
		return 2;
	}
	dirs[FWD].rng = seed * 2654435761ULL + 1;
	dirs[BWD].rng = seed * 40503ULL + 7;
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);	/* wake on time, to the ns */
	listen_fd = socket_in(listen_ns);
	if (bind(listen_fd, (struct sockaddr *)&la, lalen) == -1) {
		perror("relay: bind");
		return 1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	printf("ready\n");
	fflush(stdout);
	run(duration);
	summary(stdout);
	if (sumpath != NULL && (f = fopen(sumpath, "w")) != NULL) {
		summary(f);
		fclose(f);
	}
	if (logfile != NULL)
		fclose(logfile);
	return 0;
}
