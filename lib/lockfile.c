/*
 * lockfile.c: a lock file per directory (see lockfile.h).
 */
#define _GNU_SOURCE

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lockfile.h"

#define RETRY_MS	50

/* The pid recorded in the lock file, or 0. */
static pid_t
recorded(int fd)
{
	char	buf[32];
	ssize_t	n;
	long	pid;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid == (pid_t)pid ? (pid_t)pid : 0;
}

static int
alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Open name in dirfd for the lock, and check what it is.  fd, or -1. */
static int
open_file(int dirfd, const char *name, char *why, size_t whylen)
{
	struct stat	st;
	int		fd;

	if ((fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, 0640)) == -1) {
		snprintf(why, whylen, "cannot open its lock file \"%s\": %s%s",
		    name, strerror(errno), errno == ELOOP ?
		    " (a symbolic link, not followed)" : "");
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid()) {
		snprintf(why, whylen, "its lock file \"%s\" is not a regular "
		    "file owned by uid %u: remove it", name,
		    (unsigned int)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

int
lockfile_take(int dirfd, const char *name, int wait_ms, pid_t *holder,
    char *why, size_t whylen)
{
	char	buf[32];
	int	fd, waited = 0, n;

	*holder = 0;
	if ((fd = open_file(dirfd, name, why, whylen)) == -1)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			snprintf(why, whylen, "cannot lock \"%s\": %s", name,
			    strerror(errno));
			goto bad;
		}
		*holder = recorded(fd);
		if (alive(*holder) || waited >= wait_ms) {
			if (alive(*holder))
				snprintf(why, whylen, "in use by qosd, pid %ld",
				    (long)*holder);
			else if (*holder > 0)
				snprintf(why, whylen, "in use by what is left "
				    "of qosd, pid %ld (its writer or shipper, "
				    "still finishing)", (long)*holder);
			else
				snprintf(why, whylen, "in use by another "
				    "process");
			errno = EWOULDBLOCK;
			goto bad;
		}
		poll(NULL, 0, RETRY_MS);
		waited += RETRY_MS;
	}
	*holder = 0;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(why, whylen, "cannot write \"%s\": %s", name,
		    strerror(errno));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}
