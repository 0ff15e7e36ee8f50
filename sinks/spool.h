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
 *
 * The spool trusts nothing on disk.  Its directories are opened once
 * (O_NOFOLLOW | O_DIRECTORY) and must be owned by the effective uid and
 * writable by no one else; every file in them is opened relative to
 * those descriptors, never through a symbolic link, and used only if
 * fstat(2) says it is a regular file owned by the effective uid.  A file
 * that is not (a planted symlink as a leftover segment, in ready/ or in
 * rejected/) is refused, logged and left alone: never truncated, moved,
 * shipped or appended to.
 */
#ifndef SINKS_SPOOL_H
#define SINKS_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_READY	"ready"
#define SPOOL_REJECTED	"rejected"
#define SPOOL_LOCK	"lock"
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
/*
 * The descriptors a process working on the spool keeps (the directories,
 * the open segment) into fds, at most max: how many.
 */
size_t	spool_fds(const struct spool *, int *fds, size_t max);
/* Free the spool without sealing (its writer process has its copy). */
void	spool_forget(struct spool *);

/*
 * Helpers the shipper and the daemon share.
 *
 * spool_dirs(): open the spool directory dir and its ready/ and
 * rejected/, each created if missing, never through a symbolic link,
 * and checked: a directory owned by the effective uid that neither its
 * group nor others may write.  The descriptors (O_CLOEXEC) into *dfd,
 * *rfd, *jfd (a NULL pointer: closed, not kept).  0, or -1 with err
 * saying what to fix.
 */
int	spool_dirs(const char *dir, int *dfd, int *rfd, int *jfd, char *err,
	    size_t errlen);
/*
 * Open segment (or rejected/ file) name of directory dir_fd with flags
 * (and mode, with O_CREAT), never through a symbolic link, and only if
 * it is a regular file owned by the effective uid.  The descriptor
 * (O_CLOEXEC), or -1 with errno (ENOENT: no such file; EPERM: refused,
 * why says what it is).
 */
int	spool_file_open(int dir_fd, const char *name, int flags, mode_t mode,
	    char *why, size_t whylen);
/*
 * The name of the oldest segment in directory dir_fd (at most
 * SPOOL_NAME_MAX bytes with the NUL) after skip (a name, or NULL for
 * none): 1, 0 if there is none, -1 on error (errno set).
 */
int	spool_oldest(int dir_fd, const char *after, char *name);
/*
 * The bytes of the segments in directory dir_fd (regular files of the
 * effective uid only); *count (if not NULL) their number, oldest (if not
 * NULL, SPOOL_NAME_MAX bytes) the oldest one's name, "" if none.
 */
uint64_t spool_dir_usage(int dir_fd, unsigned long *count, char *oldest);
/* Whether name looks like a segment name. */
int	spool_is_segment(const char *name);
/* The number of '\n' in len bytes at p. */
unsigned long spool_count_lines(const char *p, size_t len);

#endif /* SINKS_SPOOL_H */
