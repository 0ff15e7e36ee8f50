/*
 * spool.c: segment files on disk, appended by the parent, sealed into
 * ready/ and capped.  Locks are POSIX record locks (fcntl F_SETLK) on the
 * whole file: the shipper holds one on the segment it posts.  Every file
 * is opened relative to the spool's directory descriptors, never through
 * a symbolic link, and used only if it is a regular file of ours.
 */
#define _GNU_SOURCE

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/owndir.h"
#include "sinks/spool.h"

#define SEG_FMT		"%016llu-%lld.lp"
#define READ_CHUNK	65536

struct spool {
	char		*dir;		/* for logs */
	char		*name;		/* the sink's, for logs */
	int		 dfd;		/* the spool directory */
	int		 rfd;		/* ready/ */
	struct complain	 refused;	/* files of ready/ refused */
	uint64_t	 max_bytes;
	int		 do_fsync;
	unsigned long long seq;		/* the next segment's */
	int		 fd;		/* the open segment, or -1 */
	char		 seg[SPOOL_NAME_MAX];
	unsigned long	 lines;		/* in the open segment */
	uint64_t	 bytes;
	uint64_t	 ready_est;	/* ready/ bytes, an upper bound */
	uint64_t	 dropped;
	int		 failing;
};

unsigned long
spool_count_lines(const char *p, size_t len)
{
	unsigned long	 n = 0;
	const char	*nl;

	while (len > 0 && (nl = memchr(p, '\n', len)) != NULL) {
		n++;
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return n;
}

int
spool_is_segment(const char *name)
{
	size_t	n = strlen(name);

	return n > 20 && n < SPOOL_NAME_MAX && name[16] == '-' &&
	    strspn(name, "0123456789") == 16 &&
	    strcmp(name + n - 3, ".lp") == 0;
}

/* A DIR for the entries of dir_fd, on a descriptor of its own. */
static DIR *
open_entries(int dir_fd)
{
	DIR	*d;
	int	 fd;

	if ((fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

int
spool_oldest(int dir_fd, const char *after, char *name)
{
	DIR		*d;
	struct dirent	*e;
	int		 found = 0;

	if ((d = open_entries(dir_fd)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!spool_is_segment(e->d_name))
			continue;
		if (after != NULL && strcmp(e->d_name, after) <= 0)
			continue;
		if (found && strcmp(e->d_name, name) >= 0)
			continue;
		/* spool_is_segment() bounds its length. */
		memcpy(name, e->d_name, strlen(e->d_name) + 1);
		found = 1;
	}
	closedir(d);
	return found;
}

/* Open subdirectory sub of the spool dfd (dir), or close what is open. */
static int
open_sub(int dfd, const char *dir, const char *sub, int *fd, char *err,
    size_t errlen)
{
	char	*path = io_path_join(dir, sub);
	int	 r;

	r = (*fd = owndir_open(dfd, sub, path, NULL, err,
	    errlen)) == -1 ? -1 : 0;
	free(path);
	return r;
}

int
spool_dirs(const char *dir, int *dfd, int *rfd, int *jfd, char *err,
    size_t errlen)
{
	int	d, r = -1, j = -1;

	if ((d = owndir_open_path(dir, "give the sink another spool_dir",
	    err, errlen)) == -1)
		return -1;
	if (open_sub(d, dir, SPOOL_READY, &r, err, errlen) == -1 ||
	    open_sub(d, dir, SPOOL_REJECTED, &j, err, errlen) == -1) {
		if (r != -1)
			close(r);
		close(d);
		return -1;
	}
	*dfd = d;
	if (rfd != NULL)
		*rfd = r;
	else
		close(r);
	if (jfd != NULL)
		*jfd = j;
	else
		close(j);
	return 0;
}

int
spool_file_open(int dir_fd, const char *name, int flags, mode_t mode,
    char *why, size_t whylen)
{
	struct stat	st;
	int		fd;

	/* O_NONBLOCK: a FIFO is refused below, not waited on. */
	if ((fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, mode)) == -1) {
		if (errno == ELOOP) {
			snprintf(why, whylen, "a symbolic link");
			errno = EPERM;
		} else
			snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		if (!S_ISREG(st.st_mode))
			snprintf(why, whylen, "not a regular file");
		else
			snprintf(why, whylen, "owned by uid %u, not %u",
			    (unsigned int)st.st_uid, (unsigned int)geteuid());
		close(fd);
		errno = EPERM;
		return -1;
	}
	/* Appends and reads block as they always do on a regular file. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void
note_seq(struct spool *sp, const char *name)
{
	unsigned long long	seq;

	if (!spool_is_segment(name))
		return;
	seq = strtoull(name, NULL, 10);
	if (seq >= sp->seq)
		sp->seq = seq + 1;
}

/*
 * A segment of a previous run: keep its complete lines (a crash may have
 * torn the last one) and move it to ready/.  One that is not a regular
 * file of ours is refused, logged and left alone.
 */
static int
recover(struct spool *sp, const char *seg, char *err, size_t errlen)
{
	char		 buf[READ_CHUNK], why[128];
	struct stat	 st;
	off_t		 keep = 0, off = 0;
	ssize_t		 n, i;
	int		 fd, rc = -1;

	if ((fd = spool_file_open(sp->dfd, seg, O_RDWR, 0, why,
	    sizeof(why))) == -1) {
		if (errno == ENOENT)
			return 0;
		if (errno == EPERM) {
			log_err("sink %s: \"%s/%s\" is refused as a segment of "
			    "a previous run: %s; left alone", sp->name,
			    sp->dir, seg, why);
			return 0;
		}
		snprintf(err, errlen, "cannot open \"%s/%s\": %s", sp->dir,
		    seg, why);
		return -1;
	}
	if (fstat(fd, &st) == -1)
		goto bad;
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = n - 1; i >= 0; i--)
			if (buf[i] == '\n') {
				keep = off + i + 1;
				break;
			}
		off += n;
	}
	if (n == -1)
		goto bad;
	if (keep < st.st_size) {
		log_err("sink %s: segment \"%s\" ends in a torn line: cut "
		    "%lld bytes", sp->name, seg,
		    (long long)(st.st_size - keep));
		if (ftruncate(fd, keep) == -1)
			goto bad;
	}
	if (keep == 0) {
		unlinkat(sp->dfd, seg, 0);
		rc = 0;
		goto out;
	}
	if ((sp->do_fsync && fsync(fd) == -1) ||
	    renameat(sp->dfd, seg, sp->rfd, seg) == -1)
		goto bad;
	log_notice("sink %s: segment \"%s\" of a previous run queued",
	    sp->name, seg);
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "cannot recover \"%s/%s\": %s", sp->dir, seg,
	    strerror(errno));
out:
	close(fd);
	return rc;
}

struct spool *
spool_open(const char *dir, const char *name, uint64_t max_bytes,
    int do_fsync, char *err, size_t errlen)
{
	struct spool	*sp;
	DIR		*d;
	struct dirent	*e;
	char		 seg[SPOOL_NAME_MAX], after[SPOOL_NAME_MAX] = "";

	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL ||
	    (sp->name = strdup(name)) == NULL)
		fatal("spool: %m");
	sp->max_bytes = max_bytes;
	sp->do_fsync = do_fsync;
	sp->fd = sp->dfd = sp->rfd = -1;
	if (spool_dirs(dir, &sp->dfd, &sp->rfd, NULL, err, errlen) == -1) {
		spool_close(sp);
		return NULL;
	}
	if ((d = open_entries(sp->rfd)) != NULL) {
		while ((e = readdir(d)) != NULL)
			note_seq(sp, e->d_name);
		closedir(d);
	}
	/* Leftover open segments, oldest first. */
	while (spool_oldest(sp->dfd, after[0] ? after : NULL, seg) == 1) {
		memcpy(after, seg, sizeof(after));
		note_seq(sp, seg);
		if (recover(sp, seg, err, errlen) == -1) {
			spool_close(sp);
			return NULL;
		}
	}
	if (sp->do_fsync)
		fsync(sp->rfd);
	spool_usage(sp, &sp->ready_est, NULL);
	return sp;
}

static int
seg_create(struct spool *sp)
{
	snprintf(sp->seg, sizeof(sp->seg), SEG_FMT, sp->seq,
	    (long long)time(NULL));
	sp->fd = openat(sp->dfd, sp->seg, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (sp->fd == -1)
		return -1;
	sp->seq++;
	sp->lines = 0;
	sp->bytes = 0;
	return 0;
}

int
spool_append(struct spool *sp, const char *data, size_t len,
    unsigned long nlines)
{
	size_t	off = 0;
	ssize_t	n;

	if (sp->fd == -1 && seg_create(sp) == -1)
		goto lost;
	while (off < len) {
		n = write(sp->fd, data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto torn;
		off += (size_t)n;
	}
	sp->lines += nlines;
	sp->bytes += len;
	if (sp->failing)
		log_notice("sink %s: spooling again", sp->name);
	sp->failing = 0;
	return 0;
torn:
	/* Cut what part of the lines made it, so no torn line stays. */
	if (off > 0 && ftruncate(sp->fd, (off_t)sp->bytes) == -1)
		log_err("sink %s: cannot cut segment \"%s\": %m", sp->name,
		    sp->seg);
lost:
	if (!sp->failing)
		log_err("sink %s: cannot append to the spool in \"%s\", "
		    "%lu lines lost: %m", sp->name, sp->dir, nlines);
	sp->failing = 1;
	sp->dropped += nlines;
	return -1;
}

/* Open and lock ready segment seg for the cap: fd, or -1 to skip it. */
static int
cap_open(struct spool *sp, const char *seg, struct stat *st)
{
	struct flock	fl;
	char		why[128];
	int		fd;

	if ((fd = spool_file_open(sp->rfd, seg, O_RDWR, 0, why,
	    sizeof(why))) == -1) {
		if (errno == EPERM && complain_fail(&sp->refused,
		    clock_mono_us()))
			log_err("sink %s: \"%s/ready/%s\" is refused: %s; "
			    "left alone", sp->name, sp->dir, seg, why);
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1 || fstat(fd, st) == -1 ||
	    st->st_nlink == 0) {
		/* The shipper is on it, or it just went. */
		close(fd);
		return -1;
	}
	return fd;
}

/* Drop the oldest ready segment nobody holds; 0, or -1 if none could go. */
static int
drop_oldest(struct spool *sp, uint64_t *total)
{
	char		 seg[SPOOL_NAME_MAX], after[SPOOL_NAME_MAX];
	char		 buf[READ_CHUNK];
	struct stat	 st;
	unsigned long	 lines = 0;
	ssize_t		 n;
	int		 fd;

	after[0] = '\0';
	while (spool_oldest(sp->rfd, after[0] ? after : NULL, seg) == 1) {
		snprintf(after, sizeof(after), "%s", seg);
		if ((fd = cap_open(sp, seg, &st)) == -1)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			lines += spool_count_lines(buf, (size_t)n);
		if (unlinkat(sp->rfd, seg, 0) == -1) {
			log_err("sink %s: cannot drop \"%s/ready/%s\": %m",
			    sp->name, sp->dir, seg);
			close(fd);
			return -1;
		}
		close(fd);
		sp->dropped += lines;
		*total -= (uint64_t)st.st_size < *total ?
		    (uint64_t)st.st_size : *total;
		log_err("sink %s: spool over its cap of %llu bytes: dropped "
		    "the oldest segment \"%s\", %lu lines lost", sp->name,
		    (unsigned long long)sp->max_bytes, seg, lines);
		return 0;
	}
	return -1;
}

static void
enforce_cap(struct spool *sp)
{
	uint64_t	total;

	if (sp->ready_est + sp->bytes <= sp->max_bytes)
		return;
	spool_usage(sp, &total, NULL);
	while (total > sp->max_bytes)
		if (drop_oldest(sp, &total) == -1)
			break;
	sp->ready_est = total - sp->bytes;
}

int
spool_seal(struct spool *sp)
{
	if (sp->fd == -1)
		return 0;
	if (sp->bytes == 0)
		goto capped;
	if (sp->do_fsync && fsync(sp->fd) == -1) {
		log_err("sink %s: fsync \"%s\": %m", sp->name, sp->seg);
		return -1;
	}
	/*
	 * ENOENT: a new instance of the sink (a reload) found the segment
	 * open and queued it already (and it may be delivered by now).
	 */
	if (renameat(sp->dfd, sp->seg, sp->rfd, sp->seg) == -1 &&
	    errno != ENOENT) {
		log_err("sink %s: cannot move \"%s/%s\" into ready/: %m",
		    sp->name, sp->dir, sp->seg);
		return -1;
	}
	if (sp->do_fsync && fsync(sp->rfd) == -1)
		log_err("sink %s: fsync \"%s/ready\": %m", sp->name, sp->dir);
	close(sp->fd);
	sp->fd = -1;
	sp->ready_est += sp->bytes;
	sp->lines = 0;
	sp->bytes = 0;
capped:
	enforce_cap(sp);
	return 0;
}

uint64_t
spool_dropped(const struct spool *sp)
{
	return sp->dropped;
}

void
spool_open_size(const struct spool *sp, unsigned long *lines,
    uint64_t *bytes)
{
	if (lines != NULL)
		*lines = sp->lines;
	if (bytes != NULL)
		*bytes = sp->bytes;
}

size_t
spool_fds(const struct spool *sp, int *fds, size_t max)
{
	size_t	n = 0;

	if (n < max && sp->dfd != -1)
		fds[n++] = sp->dfd;
	if (n < max && sp->rfd != -1)
		fds[n++] = sp->rfd;
	if (n < max && sp->fd != -1)
		fds[n++] = sp->fd;
	return n;
}

uint64_t
spool_dir_usage(int dir_fd, unsigned long *count, char *oldest)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	uint64_t	 total = 0;
	unsigned long	 n = 0;

	if (oldest != NULL)
		oldest[0] = '\0';
	if ((d = open_entries(dir_fd)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!spool_is_segment(e->d_name) ||
			    fstatat(dir_fd, e->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == -1 ||
			    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
				continue;
			total += (uint64_t)st.st_size;
			n++;
			/* spool_is_segment() bounds its length. */
			if (oldest != NULL && (oldest[0] == '\0' ||
			    strcmp(e->d_name, oldest) < 0))
				memcpy(oldest, e->d_name,
				    strlen(e->d_name) + 1);
		}
		closedir(d);
	}
	if (count != NULL)
		*count = n;
	return total;
}

void
spool_usage(struct spool *sp, uint64_t *bytes, unsigned long *ready)
{
	uint64_t	ready_bytes = spool_dir_usage(sp->rfd, ready, NULL);

	if (bytes != NULL)
		*bytes = ready_bytes + sp->bytes;
	sp->ready_est = ready_bytes;
}

void
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd != -1) {
		spool_seal(sp);
		if (sp->fd != -1)
			close(sp->fd);
	}
	if (sp->rfd != -1)
		close(sp->rfd);
	if (sp->dfd != -1)
		close(sp->dfd);
	free(sp->dir);
	free(sp->name);
	free(sp);
}

void
spool_forget(struct spool *sp)
{
	if (sp != NULL && sp->fd != -1) {
		close(sp->fd);
		sp->fd = -1;
	}
	spool_close(sp);
}
