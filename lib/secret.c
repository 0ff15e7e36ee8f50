/*
 * secret.c: reading and checking a secret (see secret.h).
 */
#define _GNU_SOURCE

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/secret.h"

int
secret_path(enum secret_src src, const char *arg, char *path,
    size_t pathlen, char *why, size_t whylen)
{
	const char	*dir;
	int		 n;

	if (src == SECRET_FILE)
		n = snprintf(path, pathlen, "%s", arg);
	else if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL ||
	    *dir == '\0') {
		snprintf(why, whylen, "$CREDENTIALS_DIRECTORY is not set: "
		    "systemd sets it for the unit's ExecStart= and "
		    "ExecReload= from LoadCredential=%s (the secret in "
		    "/etc/credstore/%s; qosd.service loads influxdb-token and "
		    "influxdb-password)", arg, arg);
		return -1;
	} else
		n = snprintf(path, pathlen, "%s/%s", dir, arg);
	if (n < 0 || (size_t)n >= pathlen) {
		snprintf(why, whylen, "the path of \"%s\" is too long", arg);
		return -1;
	}
	return 0;
}

/* Open path for reading and check what fstat(2) tells: fd, or -1. */
static int
open_checked(const char *path, char *why, size_t whylen)
{
	struct stat	st;
	int		fd;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		snprintf(why, whylen, "cannot open \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "cannot stat \"%s\": %s", path,
		    strerror(errno));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "\"%s\" is not a regular file", path);
		goto bad;
	}
	if (st.st_size == 0) {
		snprintf(why, whylen, "\"%s\" is empty", path);
		goto bad;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(why, whylen, "\"%s\" may be read by others (mode "
		    "%04o): chmod o-r it (root:qosd 0640 under the unit)",
		    path, (unsigned int)(st.st_mode & 07777));
		goto bad;
	}
	return fd;
bad:
	close(fd);
	return -1;
}

int
secret_check(const char *path, char *why, size_t whylen)
{
	int	fd;

	if ((fd = open_checked(path, why, whylen)) == -1)
		return -1;
	close(fd);
	return 0;
}

/* The name of control character c, for a message. */
static const char *
ctl_name(unsigned char c, char *buf, size_t len)
{
	switch (c) {
	case '\0':
		return "NUL";
	case '\t':
		return "TAB";
	case '\r':
		return "CR";
	case 0x1b:
		return "ESC";
	case 0x7f:
		return "DEL";
	}
	snprintf(buf, len, "0x%02x", c);
	return buf;
}

/*
 * Read up to the first newline (or SECRET_MAX + 1 bytes, or the end) of
 * fd into buf: the bytes read, or -1.
 */
static ssize_t
read_line(int fd, char *buf)
{
	size_t	len = 0;
	ssize_t	n;

	while (len < SECRET_MAX + 1 && memchr(buf, '\n', len) == NULL) {
		n = read(fd, buf + len, SECRET_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

/* Whether the len bytes of line are a secret: 0, or -1 with why. */
static int
check_line(const char *path, const char *line, size_t len, int cut,
    char *why, size_t whylen)
{
	char	name[8];
	size_t	i;

	if (cut) {
		snprintf(why, whylen, "the first line of \"%s\" is longer "
		    "than %d bytes", path, SECRET_MAX);
		return -1;
	}
	if (len == 0) {
		snprintf(why, whylen, "the first line of \"%s\" is empty",
		    path);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] >= 0x20 && line[i] != 0x7f)
			continue;
		snprintf(why, whylen, "\"%s\" holds a control character (%s) "
		    "at byte %zu of its first line: write the secret alone "
		    "on one line, ended by a newline (LF) only", path,
		    ctl_name((unsigned char)line[i], name, sizeof(name)),
		    i + 1);
		return -1;
	}
	return 0;
}

int
secret_read(const char *path, char **out, char *why, size_t whylen)
{
	char	 buf[SECRET_MAX + 1], *nl;
	ssize_t	 n;
	size_t	 len;
	int	 fd, rc = -1;

	*out = NULL;
	if ((fd = open_checked(path, why, whylen)) == -1)
		return -1;
	if ((n = read_line(fd, buf)) == -1) {
		snprintf(why, whylen, "cannot read \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	len = (size_t)n;
	if ((nl = memchr(buf, '\n', len)) != NULL)
		len = (size_t)(nl - buf);
	if (check_line(path, buf, len, len > SECRET_MAX, why, whylen) == -1)
		goto out;
	if ((*out = malloc(len + 1)) == NULL) {
		snprintf(why, whylen, "cannot read \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	memcpy(*out, buf, len);
	(*out)[len] = '\0';
	rc = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
