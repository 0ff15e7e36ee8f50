/*
 * control.c: the status socket of a running reflector, and its client.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/io.h"
#include "lib/log.h"
#include "reflector/control.h"

#define QUERY_TIMEOUT_MS	5000

const char *
control_default_path(void)
{
	static char	 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char	*dir = getenv("RUNTIME_DIRECTORY");

	/* systemd may list several directories, separated by ':'. */
	if (dir != NULL && *dir != '\0')
		snprintf(path, sizeof(path), "%.*s/control",
		    (int)strcspn(dir, ":"), dir);
	else
		snprintf(path, sizeof(path), "/run/qosd-reflector/control");
	return path;
}

static int
make_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if (make_addr(path, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
control_listen(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if (make_addr(path, &sun) == -1) {
		log_err("control socket \"%s\": %m", path);
		return -1;
	}
	if ((fd = connect_to(path)) != -1) {
		close(fd);
		log_err("control socket \"%s\": another reflector answers "
		    "there", path);
		return -1;
	}
	if (errno == ECONNREFUSED)
		unlink(path);	/* a dead reflector's */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, 16) == -1) {
		log_err("control socket \"%s\": %m", path);
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

void
control_answer(int lfd, const struct buf *status)
{
	int	fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    != -1) {
		/* A few KB into an empty socket buffer: one write. */
		if (send(fd, buf_str(status), status->len, MSG_NOSIGNAL) !=
		    (ssize_t)status->len)
			log_debug("control: a client got less than all: %m");
		close(fd);
	}
}

void
control_close(int lfd, const char *path)
{
	if (lfd == -1)
		return;
	close(lfd);
	unlink(path);
}

int
control_query(const char *path)
{
	struct pollfd	 pfd;
	char		 b[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = connect_to(path)) == -1) {
		fprintf(stderr, "qosd-reflector: no reflector answers on "
		    "\"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, QUERY_TIMEOUT_MS) != 1) {
			fprintf(stderr, "qosd-reflector: \"%s\": no answer\n",
			    path);
			break;
		}
		if ((n = read(fd, b, sizeof(b))) <= 0) {
			close(fd);
			return n == 0 ? 0 : -1;
		}
		if (io_write_all(STDOUT_FILENO, b, (size_t)n) == -1)
			break;
	}
	close(fd);
	return -1;
}
