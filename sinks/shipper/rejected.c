/*
 * rejected.c: refused lines kept in rejected/ (see rejected.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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
	char		 old[SPOOL_NAME_MAX], fwhy[128];
	uint64_t	 total;
	int		 fd, n = 0, ok = 0;

	total = spool_dir_usage(r->dfd, NULL, old);
	while (old[0] != '\0' && total + lines->len > r->max &&
	    n++ < DROP_MAX) {
		unlinkat(r->dfd, old, 0);
		total = spool_dir_usage(r->dfd, NULL, old);
	}
	if ((fd = spool_file_open(r->dfd, seg, O_WRONLY | O_CREAT |
	    O_APPEND, 0640, fwhy, sizeof(fwhy))) != -1) {
		ok = io_write_all(fd, lines->data, lines->len) == 0;
		if (!ok)
			snprintf(fwhy, sizeof(fwhy), "%s", strerror(errno));
		close(fd);
	}
	if (ok)
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", kept in \"%s/%s\"%s: %s", r->sink,
		    (unsigned long long)nrej, seg, r->dir, seg, cut ?
		    " (those within rejected_max)" : "", why);
	else
		log_err("sink %s: influxdb refused %llu lines of segment "
		    "\"%s\", not kept: \"%s/%s\": %s: %s", r->sink,
		    (unsigned long long)nrej, seg, r->dir, seg, fwhy, why);
}
