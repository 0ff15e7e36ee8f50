/*
 * batch.h: the shipper's batches: the oldest ready segments of a spool,
 * several small ones up to a batch, each locked (spool.h) while the
 * shipper holds it, and their lines read, compressed once if asked.
 */
#ifndef SINKS_SHIPPER_BATCH_H
#define SINKS_SHIPPER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "sinks/spool.h"

#define BATCH_SEGMENTS	256		/* coalesced into one batch */

struct batch_seg {
	char		 name[SPOOL_NAME_MAX];
	int		 fd;		/* holds the segment's lock */
};

struct batch {
	struct batch_seg segs[BATCH_SEGMENTS];
	size_t		 nsegs;
	struct buf	 lines;		/* the segments' complete lines */
	struct buf	 gz;		/* lines compressed, if gz_ok */
	int		 gz_ok;
};

void	batch_init(struct batch *);
/* Let go of the segments and free the buffers. */
void	batch_cleanup(struct batch *);
/*
 * Lock and read the oldest segments of ready/ (the directory rfd) after
 * the name after (NULL: from the oldest) into b, which is released first,
 * up to max_lines lines and max_bytes bytes (at least one segment).  A
 * segment someone else removed is skipped; so is one that is not a
 * regular file of ours (spool_file_open(): logged, rate-limited, left
 * alone, never sent); a signal ends the gathering.  name is the sink's,
 * for logs.  The number of segments.
 */
size_t	batch_gather(struct batch *b, int rfd, const char *after,
	    unsigned long max_lines, uint64_t max_bytes, const char *name);
/* Let a batch go: unlock its segments, forget its lines. */
void	batch_release(struct batch *);
/* Remove the batch's segments from ready/, rfd (delivered), release. */
void	batch_remove(struct batch *, int rfd, const char *name);
/*
 * Compress len bytes of data with gzip (level 1) into out, replacing what
 * it held.  0, or -1 if it failed (no memory for the compressor).
 */
int	batch_gzip(struct buf *out, const char *data, size_t len);

#endif /* SINKS_SHIPPER_BATCH_H */
