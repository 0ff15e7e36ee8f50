/*
 * echo_mmsg.c: the least a UDP echo server can do, for the bench (the
 * limit a reflector is compared with) and for the relay's test: recvmmsg()
 * up to 64 datagrams, sendmmsg() them back, nothing else.
 *
 *   echo_mmsg PORT [ADDR]
 *
 * Its receive buffer is 1 MiB, as qosd-reflector's.  At SIGTERM or
 * SIGINT it prints "received=N sent=N" and exits.
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
#include <unistd.h>

#define BATCH	64
#define DGRAM	9216

static volatile sig_atomic_t	stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	static uint8_t		 bufs[BATCH][DGRAM];
	struct mmsghdr		 msgs[BATCH];
	struct iovec		 iov[BATCH];
	struct sockaddr_in6	 sa, names[BATCH];
	struct sigaction	 act;
	unsigned long		 nin = 0, nout = 0;
	int			 fd, i, n, sent, zero = 0, rcvbuf = 1 << 20;

	if (argc < 2) {
		fprintf(stderr, "usage: echo_mmsg PORT [ADDR]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons((uint16_t)atoi(argv[1]));
	if (argc > 2 && inet_pton(AF_INET6, argv[2], &sa.sin6_addr) != 1) {
		sa.sin6_addr.s6_addr[10] = sa.sin6_addr.s6_addr[11] = 0xff;
		if (inet_pton(AF_INET, argv[2], &sa.sin6_addr.s6_addr[12]) != 1)
			return 2;
	}
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("echo_mmsg: bind");
		return 1;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &names[i];
	}
	while (!stop) {
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = DGRAM;
			msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		nin += (unsigned long)n;
		for (i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		for (i = 0; i < n; i += sent) {
			sent = sendmmsg(fd, msgs + i, (unsigned)(n - i), 0);
			if (sent <= 0)
				sent = 1;	/* dropped */
			else
				nout += (unsigned long)sent;
		}
	}
	printf("received=%lu sent=%lu\n", nin, nout);
	return 0;
}
