/*
 * spool.c: segment files on disk, appended by the parent, sealed into
 * ready/ and capped.  Locks are POSIX record locks (fcntl F_SETLK) on the
 * whole file: the shipper holds one on the segment it posts.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/io.h"
#include "lib/log.h"
#include "sinks/spool.h"

#define SEG_FMT		"%016llu-%lld.lp"
#define READ_CHUNK	65536

struct spool {
	char		*dir;
	char		*ready;		/* dir/ready */
	char		*name;		/* the sink's, for logs */
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

int
spool_oldest(const char *readydir, const char *after, char *name)
{
	DIR		*d;
	struct dirent	*e;
	int		 found = 0;

	if ((d = opendir(readydir)) == NULL)
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

static int
mkdir_p(const char *path, char *err, size_t errlen)
{
	char	*p, *s, c;

	if ((p = strdup(path)) == NULL)
		fatal("spool: %m");
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

static int
fsync_dir(const char *dir)
{
	int	fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
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
 * torn the last one) and move it to ready/.
 */
static int
recover(struct spool *sp, const char *seg, char *err, size_t errlen)
{
	char		*from = io_path_join(sp->dir, seg);
	char		*to = io_path_join(sp->ready, seg);
	char		 buf[READ_CHUNK];
	struct stat	 st;
	off_t		 keep = 0, off = 0;
	ssize_t		 n, i;
	int		 fd, rc = -1;

	if ((fd = open(from, O_RDWR | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "cannot open \"%s\": %s", from,
		    strerror(errno));
		goto out;
	}
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = n - 1; i >= 0; i--)
			if (buf[i] == '\n') {
				keep = off + i + 1;
				break;
			}
		off += n;
	}
	if (n == -1) {
		snprintf(err, errlen, "cannot read \"%s\": %s", from,
		    strerror(errno));
		goto out;
	}
	if (keep < st.st_size) {
		log_err("sink %s: segment \"%s\" ends in a torn line: cut "
		    "%lld bytes", sp->name, seg,
		    (long long)(st.st_size - keep));
		if (ftruncate(fd, keep) == -1) {
			snprintf(err, errlen, "cannot truncate \"%s\": %s",
			    from, strerror(errno));
			goto out;
		}
	}
	if (keep == 0) {
		unlink(from);
		rc = 0;
		goto out;
	}
	if ((sp->do_fsync && fsync(fd) == -1) || rename(from, to) == -1) {
		snprintf(err, errlen, "cannot move \"%s\" to ready/: %s", from,
		    strerror(errno));
		goto out;
	}
	log_notice("sink %s: segment \"%s\" of a previous run queued",
	    sp->name, seg);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(from);
	free(to);
	return rc;
}

struct spool *
spool_open(const char *dir, const char *name, uint64_t max_bytes,
    int do_fsync, char *err, size_t errlen)
{
	struct spool	*sp;
	DIR		*d;
	struct dirent	*e;
	char		*rej, seg[SPOOL_NAME_MAX];

	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->dir = strdup(dir)) == NULL ||
	    (sp->name = strdup(name)) == NULL)
		fatal("spool: %m");
	sp->ready = io_path_join(dir, SPOOL_READY);
	sp->max_bytes = max_bytes;
	sp->do_fsync = do_fsync;
	sp->fd = -1;
	rej = io_path_join(dir, SPOOL_REJECTED);
	if (mkdir_p(sp->ready, err, errlen) == -1 ||
	    mkdir_p(rej, err, errlen) == -1) {
		free(rej);
		spool_close(sp);
		return NULL;
	}
	free(rej);
	if ((d = opendir(sp->ready)) != NULL) {
		while ((e = readdir(d)) != NULL)
			note_seq(sp, e->d_name);
		closedir(d);
	}
	/* Leftover open segments, oldest first. */
	while (spool_oldest(dir, NULL, seg) == 1) {
		note_seq(sp, seg);
		if (recover(sp, seg, err, errlen) == -1) {
			spool_close(sp);
			return NULL;
		}
	}
	if (sp->do_fsync)
		fsync_dir(sp->ready);
	spool_usage(sp, &sp->ready_est, NULL);
	return sp;
}

static int
seg_create(struct spool *sp)
{
	char	*p;

	snprintf(sp->seg, sizeof(sp->seg), SEG_FMT, sp->seq,
	    (long long)time(NULL));
	p = io_path_join(sp->dir, sp->seg);
	sp->fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
	    0640);
	free(p);
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

/* Drop the oldest ready segment nobody holds; 0, or -1 if none could go. */
static int
drop_oldest(struct spool *sp, uint64_t *total)
{
	char		 seg[SPOOL_NAME_MAX], after[SPOOL_NAME_MAX];
	char		*p, buf[READ_CHUNK];
	struct flock	 fl;
	struct stat	 st;
	unsigned long	 lines = 0;
	ssize_t		 n;
	int		 fd;

	after[0] = '\0';
	while (spool_oldest(sp->ready, after[0] ? after : NULL, seg) == 1) {
		snprintf(after, sizeof(after), "%s", seg);
		p = io_path_join(sp->ready, seg);
		if ((fd = open(p, O_RDWR | O_CLOEXEC)) == -1) {
			free(p);
			continue;
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == -1 || fstat(fd, &st) == -1 ||
		    st.st_nlink == 0) {
			/* The shipper is on it, or it just went. */
			close(fd);
			free(p);
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			lines += spool_count_lines(buf, (size_t)n);
		if (unlink(p) == -1) {
			log_err("sink %s: cannot drop \"%s\": %m", sp->name, p);
			close(fd);
			free(p);
			return -1;
		}
		close(fd);
		free(p);
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
	char	*from, *to;
	int	 rc = 0;

	if (sp->fd == -1)
		return 0;
	if (sp->bytes == 0)
		goto capped;
	if (sp->do_fsync && fsync(sp->fd) == -1) {
		log_err("sink %s: fsync \"%s\": %m", sp->name, sp->seg);
		return -1;
	}
	from = io_path_join(sp->dir, sp->seg);
	to = io_path_join(sp->ready, sp->seg);
	/*
	 * ENOENT: a new instance of the sink (a reload) found the segment
	 * open and queued it already (and it may be delivered by now).
	 */
	if (rename(from, to) == -1 && errno != ENOENT) {
		log_err("sink %s: cannot move \"%s\" into ready/: %m", sp->name,
		    from);
		rc = -1;
	}
	free(from);
	free(to);
	if (rc == -1)
		return -1;
	if (sp->do_fsync && fsync_dir(sp->ready) == -1)
		log_err("sink %s: fsync \"%s\": %m", sp->name, sp->ready);
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

int
spool_fd(const struct spool *sp)
{
	return sp->fd;
}

uint64_t
spool_dir_usage(const char *dir, unsigned long *count, char *oldest)
{
	DIR		*d;
	struct dirent	*e;
	struct stat	 st;
	uint64_t	 total = 0;
	unsigned long	 n = 0;

	if (oldest != NULL)
		oldest[0] = '\0';
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (!spool_is_segment(e->d_name) ||
			    fstatat(dirfd(d), e->d_name, &st, 0) == -1)
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
	uint64_t	ready_bytes = spool_dir_usage(sp->ready, ready, NULL);

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
	free(sp->dir);
	free(sp->ready);
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
