/*
 * owndir.c: directories that are qosd's alone (see owndir.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/owndir.h"

static int
mkdir_p(const char *path, char *err, size_t errlen)
{
	char	*p, *s, c;

	if ((p = strdup(path)) == NULL)
		fatal("mkdir: %m");
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		c = *s;
		*s = '\0';
		if (mkdir(p, 0750) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create \"%s\": %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		if ((*s = c) == '\0')
			break;
	}
	free(p);
	return 0;
}

/* Whether the directory fd (shown as path) is ours alone: 0, or -1. */
static int
check_dir(int fd, const char *path, const char *alt, char *err,
    size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot stat \"%s\": %s", path,
		    strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "\"%s\" is owned by uid %u, not by the "
		    "user qosd runs as (uid %u): chown -R it to that user%s%s",
		    path, (unsigned int)st.st_uid, (unsigned int)geteuid(),
		    alt != NULL ? ", or " : "", alt != NULL ? alt : "");
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "\"%s\" may be written by its group or "
		    "others (mode %04o): chmod go-w \"%s\"", path,
		    (unsigned int)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

int
owndir_open(int atfd, const char *name, const char *path, const char *alt,
    char *err, size_t errlen)
{
	int	fd, flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

	if ((fd = openat(atfd, name, flags)) == -1 && errno == ENOENT &&
	    (mkdirat(atfd, name, 0750) == 0 || errno == EEXIST))
		fd = openat(atfd, name, flags);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open \"%s\": %s%s", path,
		    strerror(errno), errno == ELOOP || errno == ENOTDIR ?
		    " (a symbolic link is not followed: give the real "
		    "directory)" : "");
		return -1;
	}
	if (check_dir(fd, path, alt, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
owndir_open_path(const char *path, const char *alt, char *err,
    size_t errlen)
{
	if (mkdir_p(path, err, errlen) == -1)
		return -1;
	return owndir_open(AT_FDCWD, path, path, alt, err, errlen);
}
