/*
 * file.c: the file sink, line protocol to a path (appended) or stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "collector.h"
#include "file.h"
#include "log.h"
#include "lp.h"
#include "sink.h"

#define FILE_BUF_MAX	(4 * 1024 * 1024)

struct file_conf {
	char	*path;		/* "-" is stdout */
};

struct file_sink {
	char		*name;
	char		*path;
	int		 fd;
	int		 own_fd;
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

	if (fc == NULL)
		return;
	free(fc->path);
	free(fc);
}

static int
file_same(const void *a, const void *b)
{
	const struct file_conf	*x = a, *y = b;

	return strcmp(x->path, y->path) == 0;
}

static void *
file_start(const void *state, const char *name, sd_event *ev, char *err,
    size_t errlen)
{
	const struct file_conf	*fc = state;
	struct file_sink	*f;

	(void)ev;
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->name = strdup(name)) == NULL ||
	    (f->path = strdup(fc->path)) == NULL)
		fatal("file_start");
	buf_init(&f->out, FILE_BUF_MAX);
	if (strcmp(fc->path, "-") == 0)
		f->fd = STDOUT_FILENO;
	else if ((f->fd = open(fc->path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0640)) == -1) {
		snprintf(err, errlen, "sink %s: cannot open \"%s\": %s", name,
		    fc->path, strerror(errno));
		free(f->path);
		free(f->name);
		free(f);
		return NULL;
	} else
		f->own_fd = 1;
	return f;
}

static void
file_flush(void *sink)
{
	struct file_sink	*f = sink;
	ssize_t			 n;
	size_t			 off = 0;

	while (off < f->out.len) {
		n = write(f->fd, f->out.data + off, f->out.len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			if (!f->failing)
				log_warn("sink %s: write to \"%s\" failed, "
				    "%lu lines lost", f->name, f->path,
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

static unsigned long
count_lines(const char *p, size_t len)
{
	unsigned long	n = 0;

	while (len > 0) {
		const char *nl = memchr(p, '\n', len);

		if (nl == NULL)
			break;
		n++;
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return n;
}

static int
file_write(void *sink, const char *lines, size_t len)
{
	struct file_sink	*f = sink;

	if (buf_add(&f->out, lines, len) == -1) {
		file_flush(f);
		if (buf_add(&f->out, lines, len) == -1) {
			f->dropped += count_lines(lines, len);
			return -1;
		}
	}
	f->pending += count_lines(lines, len);
	return 0;
}

static void
file_stats(void *sink, struct lp_point *p)
{
	struct file_sink	*f = sink;
	char			 err[128];

	lp_point_field_int(p, "sent", (int64_t)f->written, err, sizeof(err));
	lp_point_field_int(p, "dropped", (int64_t)f->dropped, err,
	    sizeof(err));
}

static void
file_stop(void *sink)
{
	struct file_sink	*f = sink;

	if (f == NULL)
		return;
	file_flush(f);
	if (f->own_fd)
		close(f->fd);
	buf_cleanup(&f->out);
	free(f->path);
	free(f->name);
	free(f);
}

const struct sink_type sink_file_type = {
	.name = "file",
	.settings = file_settings,
	.configure = file_configure,
	.release = file_release,
	.same = file_same,
	.start = file_start,
	.write = file_write,
	.flush = file_flush,
	.stats = file_stats,
	.stop = file_stop,
};
