/*
 * notify_listen.c: stand in for systemd's notification socket.
 *
 *	notify_listen PATH SECONDS
 *
 * Binds an AF_UNIX datagram socket at PATH and prints every message it
 * receives, newlines turned into spaces, one per line, for SECONDS.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un	 sun;
	struct timespec		 t0, t;
	struct pollfd		 pfd;
	char			 msg[4096];
	double			 secs;
	ssize_t			 n, i;
	int			 fd;

	if (argc != 3) {
		fprintf(stderr, "usage: notify_listen PATH SECONDS\n");
		return 64;
	}
	secs = atof(argv[2]);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path))
		return 64;
	strcpy(sun.sun_path, argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		perror("notify_listen");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) +
		    (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if ((n = recv(fd, msg, sizeof(msg) - 1, 0)) <= 0)
			continue;
		for (i = 0; i < n; i++)
			if (msg[i] == '\n')
				msg[i] = ' ';
		msg[n] = '\0';
		printf("%s\n", msg);
	}
	unlink(argv[1]);
	return 0;
}
