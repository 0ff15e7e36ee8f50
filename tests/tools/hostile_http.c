/*
 * hostile_http.c: an HTTP server that misbehaves on purpose, for the http
 * collector's tests.  It listens on 127.0.0.1:PORT (0: any free port),
 * prints the port on standard output, and serves each connection in a
 * forked process that behaves as the request's path says:
 *
 *   /silent     reads the request, never answers
 *   /stall      sends headers announcing 1 MB, then nothing
 *   /trickle    sends headers announcing 100 kB, then one byte a second
 *   /endless    sends headers without a length, then a body forever
 *   /badstatus  answers with an invalid status line
 *   /loop       redirects to itself, for ever
 *   /ok         200, body "ok"
 *   else        404
 *
 * A connection's process ends when the client goes away, at the latest
 * after 60 s, or when this server dies (PR_SET_PDEATHSIG).
 *
 *   hostile_http PORT
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIFETIME	60	/* seconds, per connection */

static int
send_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		if ((w = send(fd, c, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
send_str(int fd, const char *s)
{
	return send_all(fd, s, strlen(s));
}

/* Read and drop everything until the client closes. */
static void
drain(int fd)
{
	char	buf[4096];
	ssize_t	n;

	while ((n = read(fd, buf, sizeof(buf))) != 0)
		if (n == -1 && errno != EINTR)
			return;
}

/* The request's path, from its head (up to the blank line). */
static int
read_request(int fd, char *path, size_t pathlen)
{
	char	buf[16384];
	size_t	len = 0;
	ssize_t	n;
	char	*sp, *end;

	while (len < sizeof(buf) - 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if ((sp = strchr(buf, ' ')) == NULL ||
	    (end = strchr(sp + 1, ' ')) == NULL ||
	    (size_t)(end - sp - 1) >= pathlen)
		return -1;
	memcpy(path, sp + 1, (size_t)(end - sp - 1));
	path[end - sp - 1] = '\0';
	return 0;
}

static void
serve(int fd)
{
	char	path[256], chunk[65536];

	if (read_request(fd, path, sizeof(path)) == -1)
		return;
	if (strcmp(path, "/silent") == 0) {
		drain(fd);
	} else if (strcmp(path, "/stall") == 0) {
		if (send_str(fd, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 1000000\r\n\r\n") == 0)
			drain(fd);
	} else if (strcmp(path, "/trickle") == 0) {
		if (send_str(fd, "HTTP/1.1 200 OK\r\n"
		    "Content-Length: 100000\r\n\r\n") == -1)
			return;
		while (send_str(fd, "x") == 0)
			sleep(1);
	} else if (strcmp(path, "/endless") == 0) {
		memset(chunk, 'x', sizeof(chunk));
		if (send_str(fd, "HTTP/1.1 200 OK\r\n"
		    "Connection: close\r\n\r\n") == -1)
			return;
		while (send_all(fd, chunk, sizeof(chunk)) == 0)
			;
	} else if (strcmp(path, "/badstatus") == 0) {
		send_str(fd, "HTTP/1.1 OK twice\r\nContent-Length: 0\r\n\r\n");
	} else if (strcmp(path, "/loop") == 0) {
		send_str(fd, "HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	} else if (strcmp(path, "/ok") == 0) {
		send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		    "Connection: close\r\n\r\nok");
	} else {
		send_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	pid_t			 parent = getpid();
	int			 s, c, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: hostile_http PORT\n");
		return 64;
	}
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 64) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		perror("hostile_http: listen");
		return 1;
	}
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("hostile_http: accept");
			return 1;
		}
		switch (fork()) {
		case -1:
			perror("hostile_http: fork");
			break;
		case 0:
			close(s);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			alarm(LIFETIME);
			serve(c);
			close(c);
			_exit(0);
		}
		close(c);
	}
}
