/*
 * spool_bench: what the spool costs the parent.  Appends each file given
 * (a batch of lines) to a spool in DIR the way the influxdb sink does, one
 * write per line, and seals it (fsync and rename into ready/ when -f);
 * prints the mean microseconds per batch.
 *
 *   spool_bench [-f] DIR FILE...
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sinks/spool.h"

static double
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	struct spool	*sp;
	struct stat	 st;
	char		 err[512], *data, *p, *nl;
	double		 total = 0, t0;
	int		 i, fd, do_fsync = 0, first = 1;

	if (argc > 1 && strcmp(argv[1], "-f") == 0) {
		do_fsync = 1;
		first = 2;
	}
	if (argc - first < 2) {
		fprintf(stderr, "usage: spool_bench [-f] DIR FILE...\n");
		return 64;
	}
	if ((sp = spool_open(argv[first], "bench", (uint64_t)1 << 40,
	    do_fsync, err, sizeof(err))) == NULL) {
		fprintf(stderr, "spool_bench: %s\n", err);
		return 1;
	}
	for (i = first + 1; i < argc; i++) {
		if ((fd = open(argv[i], O_RDONLY)) == -1 ||
		    fstat(fd, &st) == -1 ||
		    (data = malloc((size_t)st.st_size + 1)) == NULL ||
		    read(fd, data, (size_t)st.st_size) != st.st_size) {
			perror(argv[i]);
			return 1;
		}
		close(fd);
		data[st.st_size] = '\0';
		t0 = now_us();
		for (p = data; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			if (spool_append(sp, p, (size_t)(nl - p) + 1, 1) == -1)
				return 1;
		if (spool_seal(sp) == -1)
			return 1;
		total += now_us() - t0;
		free(data);
	}
	spool_close(sp);
	printf("%.0f\n", total / (argc - first - 1));
	return 0;
}
