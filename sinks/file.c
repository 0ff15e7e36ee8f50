/*
 * file.c: the file sink, line protocol to a path (appended) or stdout.
 *
 * A path is written by a writer process (writer.h): a disk that stalls
 * never stalls the scheduler.  Standard output, for --once and pipelines,
 * is written directly at the end of each run.
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
#include "lib/lp.h"
#include "qosd/cfg.h"
#include "sinks/file.h"
#include "sinks/sink.h"
#include "sinks/spool.h"
#include "sinks/writer.h"

#define FILE_BUF_MAX	(4 * 1024 * 1024)

struct file_conf {
	char	*path;		/* "-" is stdout */
};

struct file_sink {
	char		*name;
	char		*path;
	int		 fd;		/* stdout */
	struct writer	*w;		/* or a writer, for a path */
	struct buf	 out;
	uint64_t	 written;	/* lines */
	uint64_t	 dropped;	/* lines */
	unsigned long	 pending;	/* lines in out */
	int		 failing;
};

static const char *const file_settings[] = { "path", NULL };
static struct file_conf	 stdout_conf = { (char *)"-" };
const void *const	 sink_file_stdout = &stdout_conf;

static int
file_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	struct file_conf	*fc;
	const char		*path = "-";

	if (qosd_cfg_string(s, "path", 0, &path, err, errlen) == -1)
		return -1;
	if (strcmp(path, "-") != 0 && path[0] != '/')
		return qosd_cfg_error(config_setting_get_member(s, "path"),
		    err, errlen, "\"%s\" is not an absolute path: give one, "
		    "or \"-\" for standard output", path);
	if ((fc = calloc(1, sizeof(*fc))) == NULL ||
	    (fc->path = strdup(path)) == NULL) {
		free(fc);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*state = fc;
	return 0;
}

static void
file_release(void *state)
{
	struct file_conf	*fc = state;

	if (fc != NULL)
		free(fc->path);
	free(fc);
}

static int
file_same(const void *a, const void *b)
{
	const struct file_conf	*x = a, *y = b;

	return strcmp(x->path, y->path) == 0;
}

/* The target of a writer: the file, opened in the parent. */
struct file_target {
	int		 fd;
	const char	*name;		/* the sink's, the path: the parent's */
	const char	*path;		/* copies, which the fork keeps */
	int		 failing;
};

static void *
target_open(void *arg, char *err, size_t errlen)
{
	struct file_sink	*f = arg;
	struct file_target	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("file sink: %m");
	t->name = f->name;
	t->path = f->path;
	/* O_NONBLOCK: a FIFO nobody reads is an error, not a hang. */
	if ((t->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NONBLOCK, 0640)) == -1 || fcntl(t->fd, F_SETFL, O_APPEND) == -1) {
		snprintf(err, errlen, "sink %s: cannot open \"%s\": %s%s",
		    f->name, f->path, strerror(errno), errno == ENXIO ?
		    " (a FIFO nobody reads)" : "");
		if (t->fd != -1)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static void
target_forget(void *arg)
{
	struct file_target	*t = arg;

	close(t->fd);
	free(t);
}

static size_t
target_fds(void *arg, void *t, int *fds, size_t max)
{
	(void)arg;
	if (max == 0)
		return 0;
	fds[0] = ((struct file_target *)t)->fd;
	return 1;
}

static void
target_append(void *arg, const char *p, size_t len, unsigned long nlines,
    struct writer_figs *fg)
{
	struct file_target	*t = arg;

	if (io_write_all(t->fd, p, len) == -1) {
		if (!t->failing)
			log_err("sink %s: write to \"%s\" failed, %lu lines "
			    "lost: %m", t->name, t->path, nlines);
		t->failing = 1;
		fg->dropped += nlines;
		return;
	}
	if (t->failing)
		log_notice("sink %s: writing to \"%s\" again", t->name,
		    t->path);
	t->failing = 0;
	fg->lines += nlines;
}

static void
target_seal(void *arg, struct writer_figs *fg)
{
	(void)arg;
	(void)fg;
}

static void
target_close(void *arg, struct writer_figs *fg)
{
	(void)fg;
	target_forget(arg);
}

static const struct writer_ops file_ops = {
	target_open, target_forget, target_fds, target_append, target_seal,
	target_close
};

static void *
file_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct file_conf	*fc = state;
	struct file_sink	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(name)) == NULL ||
	    (f->path = strdup(fc->path)) == NULL)
		fatal("file_start: %m");
	buf_init(&f->out, FILE_BUF_MAX);
	f->fd = STDOUT_FILENO;
	if (strcmp(fc->path, "-") == 0 || (f->w = writer_start(name, ev,
	    &file_ops, f, err, errlen)) != NULL)
		return f;
	buf_cleanup(&f->out);
	free(f->path);
	free(f->name);
	free(f);
	return NULL;
}

static void
file_flush(void *sink)
{
	struct file_sink	*f = sink;
	ssize_t			 n;
	size_t			 off = 0;

	if (f->w != NULL) {
		writer_flush(f->w);
		return;
	}
	while (off < f->out.len) {
		n = write(f->fd, f->out.data + off, f->out.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (!f->failing)
				log_err("sink %s: write to \"%s\" failed, "
				    "%lu lines lost: %m", f->name, f->path,
				    f->pending);
			f->failing = 1;
			f->dropped += f->pending;
			buf_reset(&f->out);
			f->pending = 0;
			return;
		}
		off += (size_t)n;
	}
	if (f->failing)
		log_notice("sink %s: writing to \"%s\" again", f->name,
		    f->path);
	f->failing = 0;
	f->written += f->pending;
	f->pending = 0;
	buf_reset(&f->out);
}

static int
file_write(void *sink, const char *lines, size_t len)
{
	struct file_sink	*f = sink;

	if (f->w != NULL)
		return writer_write(f->w, lines, len);
	if (buf_add(&f->out, lines, len) == -1) {
		file_flush(f);
		if (buf_add(&f->out, lines, len) == -1) {
			f->dropped += spool_count_lines(lines, len);
			return -1;
		}
	}
	f->pending += spool_count_lines(lines, len);
	return 0;
}

static unsigned int
file_fill(void *sink)
{
	struct file_sink	*f = sink;

	/* Standard output is written at once: it blocks, never fills. */
	return f->w != NULL ? writer_fill(f->w) : 0;
}

static void
file_stop(void *sink)
{
	struct file_sink	*f = sink;

	if (f == NULL)
		return;
	if (f->w != NULL)
		writer_stop(f->w);
	else
		file_flush(f);
	buf_cleanup(&f->out);
	free(f->path);
	free(f->name);
	free(f);
}

static void
file_stats(void *sink, struct lp_point *p)
{
	struct file_sink	*f = sink;
	struct writer_figs	 fg;
	uint64_t		 queued = 0;
	char			 err[128];

	if (f->w != NULL) {
		writer_figs(f->w, &fg, &queued);
		f->written = fg.lines;
		f->dropped = fg.dropped;
	}
	lp_point_field_int(p, "sent", (int64_t)f->written, err, sizeof(err));
	lp_point_field_int(p, "dropped", (int64_t)f->dropped, err,
	    sizeof(err));
	lp_point_field_int(p, "queued_bytes", (int64_t)queued, err,
	    sizeof(err));
}

const struct sink_type sink_file_type = {
	"file", file_settings, file_configure, file_release, file_same,
	file_start, file_write, file_flush, NULL, file_stats, file_stop,
	.fill = file_fill
};
