/*
 * spool.h: a sink's durable queue on disk.
 *
 * A spool is a directory: the open segment (plain line protocol, appended
 * by the parent), ready/ (sealed segments, oldest first in name order,
 * posted and deleted by the shipper) and rejected/ (lines InfluxDB
 * refused).  Segment names are SEQUENCE-UNIXTIME.lp with a zero-padded
 * sequence, so the name order is the order of creation.  Whoever works on
 * a ready segment holds an exclusive flock(2) on it: the cap never drops
 * a segment the shipper is posting.
 */
#ifndef SINKS_SPOOL_H
#define SINKS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_READY	"ready"
#define SPOOL_REJECTED	"rejected"
#define SPOOL_NAME_MAX	64

struct spool;

/*
 * Open the spool in dir (created with its subdirectories if missing).  A
 * segment left open by a previous run is cut after its last complete line
 * and moved to ready/ first.  max_bytes caps ready/ plus the open
 * segment; do_fsync makes each seal durable.  name is the sink's, for
 * logs.  NULL with the reason in err.
 */
struct spool *spool_open(const char *dir, const char *name,
	    uint64_t max_bytes, int do_fsync, char *err, size_t errlen);
/*
 * Append len bytes of complete lines (nlines of them) to the open
 * segment, creating it if needed.  0, or -1 if they were lost (counted
 * as dropped, logged).
 */
int	spool_append(struct spool *, const char *data, size_t len,
	    unsigned long nlines);
/*
 * fsync (if asked), close and move the open segment into ready/, then
 * enforce the cap.  Nothing to do without an open segment.  0, or -1
 * (logged; the segment stays open and is retried at the next seal).
 */
int	spool_seal(struct spool *);
/* The lines and bytes in the open segment (either pointer may be NULL). */
void	spool_open_size(const struct spool *, unsigned long *lines,
	    uint64_t *bytes);
/* Lines dropped since spool_open(): by the cap or by write errors. */
uint64_t spool_dropped(const struct spool *);
/* Bytes and ready segments in the spool now (scans ready/). */
void	spool_usage(struct spool *, uint64_t *bytes, unsigned long *ready);
/* Seal what is open and free the spool.  NULL is fine. */
void	spool_close(struct spool *);
/* The open segment's descriptor, or -1. */
int	spool_fd(const struct spool *);
/* Free the spool without sealing (its writer process has its copy). */
void	spool_forget(struct spool *);

/*
 * Helpers the shipper shares.  spool_oldest(): the name of the oldest
 * ready segment in readydir (at most SPOOL_NAME_MAX bytes with the NUL)
 * after skip (a name, or NULL for none): 1, 0 if there is none, -1 on
 * error (errno set).
 */
int	spool_oldest(const char *readydir, const char *after, char *name);
/*
 * The bytes of the segments in dir; *count (if not NULL) their number,
 * oldest (if not NULL, SPOOL_NAME_MAX bytes) the oldest one's name, ""
 * if none.
 */
uint64_t spool_dir_usage(const char *dir, unsigned long *count, char *oldest);
/* Whether name looks like a segment name. */
int	spool_is_segment(const char *name);
/* The number of '\n' in len bytes at p. */
unsigned long spool_count_lines(const char *p, size_t len);

#endif /* SINKS_SPOOL_H */
