/*
 * rejected.c: refused lines kept in rejected/ (see rejected.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/io.h"
#include "lib/log.h"
#include "sinks/shipper/rejected.h"
#include "sinks/spool.h"

#define DROP_MAX	10000		/* old files dropped for one batch */

void
rejected_keep(const struct rejected *r, const char *seg,
    const struct buf *lines, uint64_t nrej, int cut, const char *why)
{
	char		 old[SPOOL_NAME_MAX], *p;
	uint64_t	 total;
	int		 fd, n = 0, ok = 0;

	total = spool_dir_usage(r->dir, NULL, old);
	while (old[0] != '\0' && total + lines->len > r->max &&
	    n++ < DROP_MAX) {
		p = io_path_join(r->dir, old);
		unlink(p);
		free(p);
		total = spool_dir_usage(r->dir, NULL, old);
	}
	p = io_path_join(r->dir, seg);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0640)) != -1) {
		ok = io_write_all(fd, lines->data, lines->len) == 0;
		close(fd);
	}
	if (ok)
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", kept in \"%s\"%s: %s", r->sink,
		    (unsigned long long)nrej, seg, p, cut ?
		    " (those within rejected_max)" : "", why);
	else
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", not kept: %s: %s", r->sink,
		    (unsigned long long)nrej, seg, strerror(errno), why);
	free(p);
}
