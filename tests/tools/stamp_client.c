/*
 * stamp_client.c: a small STAMP Session-Sender (RFC 8762) and UDP echo
 * client for the tests and the bench, until the udp collector exists.
 * It uses proto/stamp (the codec under test); tests/tools/stamp_mini.c
 * is a reflector written without it, so that the two cross-check.
 *
 *   stamp_client [--echo] [--count N] [--interval MS] [--timeout MS]
 *       [--size BYTES] [--bind ADDR] [--ptp] HOST PORT
 *   stamp_client --flood [--count N] [--timeout MS] ... HOST PORT
 *   stamp_client --load SECONDS [--window N] [--echo] ... HOST PORT
 *   stamp_client --tcp [--count N] [--bind ADDR] HOST PORT
 *
 * Probe mode (default) sends count probes interval ms apart and prints one
 * line per reply, then a summary:
 *
 *   reply seq=R sseq=S t1=NS t2=NS t3=NS t4=NS ttl=T ee=0xEEEE
 *       sender_ee=0xEEEE fwd_us=F bwd_us=B rtt_us=X refl_us=Y len=L
 *   (echo: reply seq=S rtt_us=X len=L)
 *   summary sent=N received=M lost=K duplicates=D bad=E
 *
 * t1 is read just before send(), t4 is the kernel's receive timestamp
 * (SO_TIMESTAMPNS), t2 and t3 are the reflector's; all in ns since the
 * epoch.  --skip-every K leaves out every K-th probe (sequence numbers
 * K-1, 2K-1, ...: a forward loss the reflector never sees).  --ptp sends
 * truncated PTPv2 timestamps (CLOCK_TAI).  --flood sends count probes at
 * once, as fast as it can, then waits timeout ms and prints the summary.
 * --load keeps window probes in flight for SECONDS and prints "load
 * replies=N seconds=S pps=P stalls=K" (K: times 20 ms passed without an
 * answer, the window given up as lost and sent again).  --tcp sends count lines over one TCP
 * connection and reads them back: "tcp sent=N echoed=M same=yes|no".
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/stamp.h"

#define MAX_COUNT	1000000
#define MAX_SIZE	9000
#define BATCH		64

static int	 echo_mode, ptp, size = STAMP_LEN;
static long	 count = 10, timeout_ms = 1000;
static double	 interval_ms = 10;
static uint64_t	*t1s;		/* ns, per sequence number */
static uint32_t	*seen;		/* replies per sequence number */
static long	 received, duplicates, bad, skip_every;
static int64_t	 tai_ns;	/* CLOCK_TAI - CLOCK_REALTIME */

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A timestamp as CLOCK_REALTIME ns (PTP ones are on CLOCK_TAI). */
static int64_t
ts_ns(uint64_t v, int is_ptp)
{
	struct timespec	ts;

	if (is_ptp) {
		if (stamp_ptp_to_timespec(v, &ts) == -1)
			return 0;
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - tai_ns;
	}
	stamp_ntp_to_timespec(v, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
measure_tai(void)
{
	struct timespec	real, tai;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_TAI, &tai);
	tai_ns = ((int64_t)(tai.tv_sec - real.tv_sec) * 1000000000 +
	    tai.tv_nsec - real.tv_nsec + 500000000) / 1000000000 * 1000000000;
}

static int
open_socket(const char *host, const char *port, const char *bindaddr)
{
	struct addrinfo	 hints, *res, *b = NULL;
	int		 fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "stamp_client: %s port %s: bad address\n",
		    host, port);
		exit(2);
	}
	fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		exit(2);
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bindaddr != NULL) {
		hints.ai_family = res->ai_family;
		if (getaddrinfo(bindaddr, "0", &hints, &b) != 0 ||
		    bind(fd, b->ai_addr, b->ai_addrlen) == -1) {
			perror("stamp_client: bind");
			exit(2);
		}
		freeaddrinfo(b);
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		perror("stamp_client: connect");
		exit(2);
	}
	freeaddrinfo(res);
	return fd;
}

/* Probe seq: STAMP test packet or echo payload (seq in the first 4). */
static size_t
make_probe(uint8_t *pkt, uint32_t seq)
{
	struct stamp_test	t;
	struct timespec		ts;
	int64_t			ns = now_ns(), wire = ptp ? ns + tai_ns : ns;

	ts.tv_sec = wire / 1000000000;
	ts.tv_nsec = wire % 1000000000;
	t.seq = seq;
	t.ts = ptp ? stamp_ptp_from_timespec(&ts) : stamp_ntp_from_timespec(&ts);
	t.ee = stamp_ee_make(0, ptp, 1000);
	stamp_test_encode(&t, pkt, (size_t)size);
	if (seq < (uint32_t)count)
		t1s[seq] = (uint64_t)ns;
	return (size_t)size;
}

static void
print_stamp(const uint8_t *pkt, size_t len, int64_t t4)
{
	struct stamp_reply	r;
	int64_t			t1, t2, t3;
	int			z;

	if (stamp_reply_decode(pkt, len, &r) == -1 || r.sender_seq >= count ||
	    len != (size_t)size) {
		bad++;
		return;
	}
	if (seen[r.sender_seq]++ > 0) {
		duplicates++;
		return;
	}
	received++;
	z = (r.ee & STAMP_EE_Z) != 0;
	t1 = (int64_t)t1s[r.sender_seq];
	t2 = ts_ns(r.rx_ts, z);
	t3 = ts_ns(r.ts, z);
	printf("reply seq=%u sseq=%u t1=%lld t2=%lld t3=%lld t4=%lld ttl=%u "
	    "ee=0x%04x sender_ee=0x%04x fwd_us=%.3f bwd_us=%.3f rtt_us=%.3f "
	    "refl_us=%.3f len=%zu\n", r.seq, r.sender_seq, (long long)t1,
	    (long long)t2, (long long)t3, (long long)t4, r.sender_ttl, r.ee,
	    r.sender_ee, (t2 - t1) / 1e3, (t4 - t3) / 1e3, (t4 - t1) / 1e3,
	    (t3 - t2) / 1e3, len);
}

static void
print_echo(const uint8_t *pkt, size_t len, int64_t t4)
{
	uint32_t	seq;

	if (len != (size_t)size || (seq = stamp_seq(pkt)) >= count) {
		bad++;
		return;
	}
	if (seen[seq]++ > 0) {
		duplicates++;
		return;
	}
	received++;
	printf("reply seq=%u rtt_us=%.3f len=%zu\n", seq,
	    (t4 - (int64_t)t1s[seq]) / 1e3, len);
}

/* Read every reply queued now. */
static void
read_replies(int fd, int quiet)
{
	uint8_t		 pkt[MAX_SIZE + 1];
	union {
		struct cmsghdr	 h;
		uint8_t		 b[128];
	}		 ctl;
	struct iovec	 iov = { pkt, sizeof(pkt) };
	struct msghdr	 m;
	struct cmsghdr	*c;
	struct timespec	 ts;
	int64_t		 t4;
	ssize_t		 n;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl.b;
		m.msg_controllen = sizeof(ctl.b);
		if ((n = recvmsg(fd, &m, MSG_DONTWAIT)) == -1)
			return;
		t4 = now_ns();
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SO_TIMESTAMPNS) {
				memcpy(&ts, CMSG_DATA(c), sizeof(ts));
				t4 = (int64_t)ts.tv_sec * 1000000000 +
				    ts.tv_nsec;
			}
		if (quiet) {
			if ((size_t)n == (size_t)size &&
			    stamp_seq(pkt) < (uint32_t)count &&
			    seen[stamp_seq(pkt)]++ == 0)
				received++;
			continue;
		}
		if (echo_mode)
			print_echo(pkt, (size_t)n, t4);
		else
			print_stamp(pkt, (size_t)n, t4);
	}
}

static void
wait_replies(int fd, int64_t until_mono, int quiet)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	int64_t		left;

	while ((left = until_mono - mono_ns()) > 0 && received < count) {
		if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) > 0)
			read_replies(fd, quiet);
	}
}

static void
probe(int fd, int flood)
{
	uint8_t	 pkt[MAX_SIZE];
	int64_t	 start = mono_ns();
	long	 i, sent = 0;

	for (i = 0; i < count; i++) {
		if (!flood)
			wait_replies(fd, start + (int64_t)(i * interval_ms *
			    1e6), 0);
		if (skip_every > 0 && i % skip_every == skip_every - 1)
			continue;
		if (send(fd, pkt, make_probe(pkt, (uint32_t)i), 0) != -1)
			sent++;
		if (flood && i % 64 == 63)
			read_replies(fd, 1);
	}
	wait_replies(fd, mono_ns() + timeout_ms * 1000000, flood);
	read_replies(fd, flood);
	printf("summary sent=%ld received=%ld lost=%ld duplicates=%ld "
	    "bad=%ld\n", sent, received, sent - received, duplicates, bad);
}

/*
 * Keep window probes in flight for secs seconds; report replies/s.  It
 * never sleeps: it reads without waiting, so that the server's answers
 * wake no one and the client is as cheap as it can be per packet (it
 * has a CPU of its own in the bench).
 */
static void
load(int fd, double secs, int window)
{
	struct mmsghdr	 msgs[BATCH];
	struct iovec	 iov[BATCH];
	static uint8_t	 bufs[BATCH][MAX_SIZE];
	int64_t		 start = mono_ns(), end = start + (int64_t)(secs * 1e9);
	int64_t		 last = start, now;
	long		 replies = 0, inflight = 0, stalls = 0;
	int		 rcvbuf = 1 << 20;
	int		 i, n, k;

	/* A window of answers must fit: a socket buffer overrun stalls it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		make_probe(bufs[i], (uint32_t)count + (uint32_t)i);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = (size_t)size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while ((now = mono_ns()) < end) {
		while (inflight < window) {
			k = window - inflight > BATCH ? BATCH :
			    (int)(window - inflight);
			if ((n = sendmmsg(fd, msgs, (unsigned)k, 0)) <= 0)
				break;
			inflight += n;
		}
		for (i = 0; i < BATCH; i++)
			iov[i].iov_len = MAX_SIZE;
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		for (i = 0; i < BATCH; i++)
			iov[i].iov_len = (size_t)size;
		if (n > 0) {
			replies += n;
			inflight -= n;
			last = now;
		} else if (now - last > 20000000) {
			inflight = 0;	/* 20 ms without: lost, start again */
			last = now;
			stalls++;
		}
	}
	printf("load replies=%ld seconds=%.3f pps=%.0f stalls=%ld\n", replies,
	    (mono_ns() - start) / 1e9, replies / ((mono_ns() - start) / 1e9),
	    stalls);
}

/* count lines over one connection, read back: the same bytes? */
static int
tcp_echo(const char *host, const char *port, const char *bindaddr)
{
	struct addrinfo	 hints, *res, *b;
	char		 out[64 * 1024], in[sizeof(out)];
	size_t		 len = 0, got = 0;
	ssize_t		 n;
	long		 i;
	int		 fd;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return 2;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	hints.ai_family = res->ai_family;
	if (bindaddr != NULL) {
		if (getaddrinfo(bindaddr, "0", &hints, &b) != 0 ||
		    bind(fd, b->ai_addr, b->ai_addrlen) == -1)
			return 2;
		freeaddrinfo(b);
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		perror("stamp_client: connect");
		return 1;
	}
	freeaddrinfo(res);
	for (i = 0; i < count && len + 32 < sizeof(out); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len,
		    "probe %ld\n", i);
	if (send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len)
		perror("stamp_client: send");
	while (got < len && (n = recv(fd, in + got, len - got, 0)) > 0)
		got += (size_t)n;
	printf("tcp sent=%zu echoed=%zu same=%s\n", len, got,
	    got == len && memcmp(in, out, len) == 0 ? "yes" : "no");
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "echo", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "bind", required_argument, NULL, 'b' },
		{ "ptp", no_argument, NULL, 'P' },
		{ "flood", no_argument, NULL, 'f' },
		{ "load", required_argument, NULL, 'L' },
		{ "window", required_argument, NULL, 'w' },
		{ "skip-every", required_argument, NULL, 'k' },
		{ "tcp", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*bindaddr = NULL;
	double		 load_s = 0;
	int		 c, fd, flood = 0, window = 256, tcp = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'e': echo_mode = 1; break;
		case 'c': count = atol(optarg); break;
		case 'i': interval_ms = atof(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'b': bindaddr = optarg; break;
		case 'P': ptp = 1; break;
		case 'f': flood = 1; break;
		case 'L': load_s = atof(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'k': skip_every = atol(optarg); break;
		case 'T': tcp = 1; break;
		default: return 2;
		}
	}
	if (optind + 2 != argc || count < 1 || count > MAX_COUNT ||
	    size < (echo_mode ? 4 : STAMP_LEN) || size > MAX_SIZE ||
	    load_s > 600 || window < 1 || window > 65536) {
		fprintf(stderr, "usage: stamp_client [options] HOST PORT "
		    "(see the source)\n");
		return 2;
	}
	if (tcp)
		return tcp_echo(argv[optind], argv[optind + 1], bindaddr);
	measure_tai();
	t1s = calloc((size_t)count + BATCH, sizeof(*t1s));
	seen = calloc((size_t)count, sizeof(*seen));
	fd = open_socket(argv[optind], argv[optind + 1], bindaddr);
	if (load_s > 0)
		load(fd, load_s, window);
	else
		probe(fd, flood);
	return 0;
}
