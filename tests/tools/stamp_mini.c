/*
 * stamp_mini.c: a minimal stateless STAMP Session-Reflector, written
 * straight from RFC 8762's packet layouts and independent of
 * proto/stamp.c, so that the two cross-check each other in the tests.
 *
 *   stamp_mini PORT [ADDR]
 *
 * Unauthenticated, stateless (section 4): each test packet of at least
 * 44 octets is answered with a packet of the same size whose fields sit
 * where section 4.3.1's figure puts them; shorter ones are ignored.  T2
 * is the kernel's receive timestamp (SO_TIMESTAMPNS), T3 the clock just
 * before sendmsg(); both in the NTP format (RFC 5905 section 6), the
 * error estimate unsynchronized, 1 ms.  At SIGTERM or SIGINT it prints
 * "received=N answered=N" and exits.
 */
#define _GNU_SOURCE
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t	stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* RFC 5905: seconds since 1900 and a 32-bit binary fraction, big endian. */
static void
put_ntp(uint8_t *p, const struct timespec *ts)
{
	uint32_t	sec = (uint32_t)(ts->tv_sec + 2208988800LL);
	uint32_t	frac = (uint32_t)(((uint64_t)ts->tv_nsec << 32) /
			    1000000000ULL);
	uint32_t	be[2] = { htonl(sec), htonl(frac) };

	memcpy(p, be, 8);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in6	 sa, peer;
	struct sigaction	 act;
	struct timespec		 t2, t3;
	struct cmsghdr		*c;
	struct msghdr		 m;
	struct iovec		 iov;
	uint8_t			 in[9216], out[9216], ctl[256];
	unsigned long		 nin = 0, nout = 0;
	ssize_t			 n;
	int			 fd, one = 1, zero = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: stamp_mini PORT [ADDR]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)atoi(argv[1]));
	if (argc > 2 && inet_pton(AF_INET6, argv[2], &sa.sin6_addr) != 1) {
		/* An IPv4 address, as IPv4-mapped. */
		sa.sin6_addr.s6_addr[10] = sa.sin6_addr.s6_addr[11] = 0xff;
		if (inet_pton(AF_INET, argv[2], &sa.sin6_addr.s6_addr[12]) != 1)
			return 2;
	}
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("stamp_mini: bind");
		return 1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term;	/* no SA_RESTART: recvmsg returns */
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	while (!stop) {
		int	ttl = 0;

		iov.iov_base = in;
		iov.iov_len = sizeof(in);
		memset(&m, 0, sizeof(m));
		m.msg_name = &peer;
		m.msg_namelen = sizeof(peer);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		if ((n = recvmsg(fd, &m, 0)) < 0)
			continue;
		nin++;
		clock_gettime(CLOCK_REALTIME, &t2);
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SO_TIMESTAMPNS)
				memcpy(&t2, CMSG_DATA(c), sizeof(t2));
			else if ((c->cmsg_level == IPPROTO_IP &&
			    c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			    c->cmsg_type == IPV6_HOPLIMIT))
				memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		}
		if (n < 44)
			continue;
		/* Section 4.3.1, octet by octet; padding is copied. */
		memcpy(out, in, (size_t)n);
		memcpy(out + 0, in + 0, 4);	/* Sequence Number: the sender's */
		memset(out + 12, 0, 4);		/* Error Estimate, MBZ */
		out[12] = 0x0f;			/* S=0 Z=0, scale 15 */
		out[13] = 0x84;			/* multiplier 132: ~1 ms */
		put_ntp(out + 16, &t2);		/* Receive Timestamp */
		memcpy(out + 24, in + 0, 4);	/* Session-Sender Seq. Number */
		memcpy(out + 28, in + 4, 8);	/* Session-Sender Timestamp */
		memcpy(out + 36, in + 12, 2);	/* Session-Sender Error Est. */
		memset(out + 38, 0, 2);		/* MBZ */
		out[40] = (uint8_t)ttl;		/* Ses-Sender TTL */
		memset(out + 41, 0, 3);		/* MBZ */
		clock_gettime(CLOCK_REALTIME, &t3);
		put_ntp(out + 4, &t3);		/* Timestamp */
		if (sendto(fd, out, (size_t)n, 0, (struct sockaddr *)&peer,
		    m.msg_namelen) == n)
			nout++;
	}
	printf("received=%lu answered=%lu\n", nin, nout);
	return 0;
}
