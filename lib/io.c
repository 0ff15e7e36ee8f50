/*
 * io.c: small I/O helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/io.h"
#include "lib/log.h"

int
io_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
io_path_join(const char *a, const char *b)
{
	size_t	 n = strlen(a) + strlen(b) + 2;
	char	*p;

	if ((p = malloc(n)) == NULL)
		fatal("path: %m");
	snprintf(p, n, "%s/%s", a, b);
	return p;
}
