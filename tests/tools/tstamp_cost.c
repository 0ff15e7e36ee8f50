/*
 * tstamp_cost.c: what a software transmit timestamp costs the kernel, for
 * the bench: a bare loop that sends N datagrams of 44 octets to a socket
 * of its own on 127.0.0.1 and reads them back, 32 at a time, with or
 * without SO_TIMESTAMPING (software transmit timestamps numbered by
 * SOF_TIMESTAMPING_OPT_ID, without the packet: OPT_TSONLY, read back from
 * the error queue in the same batches), as the udp collector asks for
 * them.
 *
 *	tstamp_cost 0|1 N
 *
 * Prints "cpu_us_per_datagram=C timestamps=T": the process's CPU time
 * (user + system) over N, and the transmit timestamps read.
 */
#define _GNU_SOURCE
#include <sys/resource.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH	64

static double
cpu_us(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
	    (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* Read what fd has (its error queue with MSG_ERRQUEUE); how many. */
static long
drain(int fd, int flags)
{
	static char		bufs[BATCH][64], ctl[BATCH][256];
	static struct sockaddr_in from[BATCH];
	struct mmsghdr		m[BATCH];
	struct iovec		iov[BATCH];
	long			got = 0;
	int			i, n;

	do {
		memset(m, 0, sizeof(m));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &from[i];
			m[i].msg_hdr.msg_namelen = sizeof(from[i]);
			m[i].msg_hdr.msg_control = ctl[i];
			m[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		if ((n = recvmmsg(fd, m, BATCH, flags | MSG_DONTWAIT,
		    NULL)) > 0)
			got += n;
	} while (n == BATCH);
	return got;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	char			pkt[44];
	double			t0;
	long			n, i, stamps = 0;
	int			ts, fd, sink, one = 1, buf = 1 << 20, f;

	if (argc != 3 || (n = atol(argv[2])) <= 0 || n > 100000000) {
		fprintf(stderr, "usage: tstamp_cost 0|1 N\n");
		return 2;
	}
	ts = atoi(argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((sink = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    (fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1 ||
	    bind(sink, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(sink, (struct sockaddr *)&sa, &len) == -1) {
		perror("tstamp_cost");
		return 1;
	}
	setsockopt(sink, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	f = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
	    SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
	    SOF_TIMESTAMPING_OPT_TSONLY;
	if (ts && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &f,
	    sizeof(f)) == -1) {
		perror("tstamp_cost: SO_TIMESTAMPING");
		return 1;
	}
	memset(pkt, 0, sizeof(pkt));
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&sa,
		    sizeof(sa));
		if (i % 32 == 31 || i == n - 1) {
			stamps += drain(fd, MSG_ERRQUEUE);
			drain(sink, 0);
		}
	}
	printf("cpu_us_per_datagram=%.3f timestamps=%ld\n",
	    (cpu_us() - t0) / (double)n, stamps);
	return 0;
}
