/*
 * cfgfile.c: configuration files read with their includes expanded by
 * qosd, not by libconfig (see cfgfile.h).
 */
#define _GNU_SOURCE		/* reallocarray, asprintf */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "lib/buf.h"
#include "lib/io.h"
#include "lib/log.h"
#include "scheduler/cfgfile.h"

/* From line out_line of the text on, lines come from file's line line. */
struct seg {
	unsigned int	 out_line;
	const char	*file;
	unsigned int	 line;
};

struct cfgfile {
	config_t	 c;
	char		*path;
	char		**files;	/* names settings point to */
	size_t		 nfiles;
	struct seg	*segs;
	size_t		 nsegs;
};

/* The state of one expansion. */
struct expand {
	struct cfgfile	*f;
	struct buf	 text;
	unsigned int	 out_line;	/* the next line of text, from 1 */
	size_t		 segs_alloc;
	struct {
		dev_t	 dev;
		ino_t	 ino;
	}		 stack[CFGFILE_DEPTH + 1];
	int		 depth;
	char		*err;
	size_t		 errlen;
};

static int __attribute__((format(printf, 2, 3)))
fail(struct expand *x, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(x->err, x->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

/*
 * Read the regular file path into b (at most CFGFILE_MAX in all), its
 * identity into st.  O_NONBLOCK: a FIFO is refused, not waited on.
 */
static int
read_regular(const char *path, struct buf *b, struct stat *st, char *why,
    size_t whylen)
{
	char	chunk[65536];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		snprintf(why, whylen, "%s, not a configuration file",
		    kind(st->st_mode));
		close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(b, chunk, (size_t)n) == -1) {
			snprintf(why, whylen, "cannot read: %s", n == -1 ?
			    strerror(errno) : "larger than 64 MiB with what it "
			    "includes");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The line (from 1) of p in text. */
static unsigned int
line_of(const char *text, const char *p)
{
	unsigned int	n = 1;

	for (; text < p; text++)
		n += *text == '\n';
	return n;
}

static void
add_seg(struct expand *x, const char *file, unsigned int line)
{
	struct cfgfile	*f = x->f;
	void		*p;

	if (f->nsegs > 0 && f->segs[f->nsegs - 1].out_line == x->out_line) {
		f->nsegs--;
	} else if (f->nsegs == x->segs_alloc) {
		x->segs_alloc = x->segs_alloc ? x->segs_alloc * 2 : 16;
		if ((p = reallocarray(f->segs, x->segs_alloc,
		    sizeof(*f->segs))) == NULL)
			fatal("config: %m");
		f->segs = p;
	}
	f->segs[f->nsegs].out_line = x->out_line;
	f->segs[f->nsegs].file = file;
	f->segs[f->nsegs++].line = line;
}

static const char *
keep_name(struct cfgfile *f, const char *path)
{
	void	*p;

	if ((p = reallocarray(f->files, f->nfiles + 1,
	    sizeof(*f->files))) == NULL)
		fatal("config: %m");
	f->files = p;
	if ((f->files[f->nfiles] = strdup(path)) == NULL)
		fatal("config: %m");
	return f->files[f->nfiles++];
}

/*
 * Whether line (len bytes) is an @include directive: 1 with the path in
 * *p (*plen bytes), 0 if not one, -1 if malformed.
 */
static int
include_line(const char *line, size_t len, const char **p, size_t *plen)
{
	const char	*s = line, *e = line + len, *q;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if ((size_t)(e - s) < 8 || memcmp(s, "@include", 8) != 0)
		return 0;
	s += 8;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (s == e || *s != '"')
		return -1;
	for (q = ++s; q < e && *q != '"' && *q != '\\'; q++)
		;
	if (q == e || *q != '"' || q == s)
		return -1;
	*p = s;
	*plen = (size_t)(q - s);
	for (q++; q < e && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
		;
	return q == e ? 1 : -1;
}

static int	expand_file(struct expand *, const char *, const char *,
		    unsigned int);

/* The @include of file's line ln: path (plen bytes), resolved and read. */
static int
expand_include(struct expand *x, const char *file, unsigned int ln,
    const char *path, size_t plen)
{
	char		*rel, *full, *slash;
	int		 r;

	if ((rel = strndup(path, plen)) == NULL)
		fatal("config: %m");
	if (rel[0] == '/')
		full = rel;
	else {
		/* Relative to the directory of the file that includes it. */
		if ((slash = strrchr(file, '/')) == NULL)
			full = io_path_join(".", rel);
		else {
			*slash = '\0';
			full = io_path_join(file[0] ? file : "/", rel);
			*slash = '/';
		}
		free(rel);
	}
	if (x->depth == CFGFILE_DEPTH)
		r = fail(x, "%s:%u: @include \"%s\": more than %d files deep",
		    file, ln, full, CFGFILE_DEPTH);
	else
		r = expand_file(x, full, file, ln);
	free(full);
	return r;
}

/* The lines of text (len bytes, from the file name), expanded. */
static int
expand_text(struct expand *x, const char *name, const char *text,
    size_t len)
{
	const char	*p = text, *e = text + len, *nl, *inc;
	unsigned int	 ln = 1;
	size_t		 ll, ilen;
	int		 r;

	add_seg(x, name, 1);
	for (; p < e; p = nl + 1, ln++) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		ll = (size_t)(nl - p);
		if ((r = include_line(p, ll, &inc, &ilen)) == -1)
			return fail(x, "%s:%u: @include: expected @include "
			    "\"PATH\" alone on its line", name, ln);
		if (r == 1) {
			if (expand_include(x, name, ln, inc, ilen) == -1)
				return -1;
			add_seg(x, name, ln + 1);
			continue;
		}
		if (buf_add(&x->text, p, ll) == -1 ||
		    buf_addc(&x->text, '\n') == -1)
			return fail(x, "%s: larger than 64 MiB with what it "
			    "includes", name);
		x->out_line++;
		if (nl == e)
			break;
	}
	return 0;
}

static int
expand_file(struct expand *x, const char *path, const char *from,
    unsigned int from_line)
{
	struct buf	 b;
	struct stat	 st;
	const char	*name, *nul;
	char		 why[256];
	int		 i, r;

	buf_init(&b, CFGFILE_MAX);
	if (read_regular(path, &b, &st, why, sizeof(why)) == -1) {
		buf_cleanup(&b);
		if (from == NULL)
			return fail(x, "%s: %s", path, why);
		return fail(x, "%s:%u: @include \"%s\": %s", from, from_line,
		    path, why);
	}
	for (i = 0; i < x->depth; i++)
		if (x->stack[i].dev == st.st_dev &&
		    x->stack[i].ino == st.st_ino) {
			buf_cleanup(&b);
			return fail(x, "%s:%u: @include \"%s\": it includes "
			    "itself", from, from_line, path);
		}
	if ((nul = memchr(b.data ? b.data : "", '\0', b.len)) != NULL) {
		r = fail(x, "%s:%u: a NUL byte: a configuration file is "
		    "text", path, line_of(b.data, nul));
		buf_cleanup(&b);
		return r;
	}
	x->stack[x->depth].dev = st.st_dev;
	x->stack[x->depth++].ino = st.st_ino;
	name = keep_name(x->f, path);
	r = expand_text(x, name, b.len ? b.data : "", b.len);
	x->depth--;
	buf_cleanup(&b);
	return r;
}

/* Where line out_line of the expanded text was written. */
static void
locate(const struct cfgfile *f, unsigned int out_line, const char **file,
    unsigned int *line)
{
	size_t	lo = 0, hi = f->nsegs, mid;

	/* The last segment that starts at or before out_line. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (f->segs[mid].out_line <= out_line)
			lo = mid;
		else
			hi = mid;
	}
	if (f->nsegs == 0) {
		*file = f->path;
		*line = out_line;
		return;
	}
	*file = f->segs[lo].file;
	*line = f->segs[lo].line + (out_line - f->segs[lo].out_line);
}

/* Every setting's file and line back to where it was written. */
static void
relocate(const struct cfgfile *f, config_setting_t *s)
{
	config_setting_t	*e;
	unsigned int		 i;

	if (s->line > 0)
		locate(f, s->line, &s->file, &s->line);
	for (i = 0; (e = config_setting_get_elem(s, i)) != NULL; i++)
		relocate(f, e);
}

struct cfgfile *
cfgfile_read(const char *path, char *err, size_t errlen)
{
	struct cfgfile	*f;
	struct expand	 x;
	const char	*file;
	unsigned int	 line;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->path = strdup(path)) == NULL)
		fatal("config: %m");
	config_init(&f->c);
	/* No auto-conversion: the readers in cfgval.c accept what fits. */
	config_set_options(&f->c, 0);
	memset(&x, 0, sizeof(x));
	x.f = f;
	x.out_line = 1;
	x.err = err;
	x.errlen = errlen;
	buf_init(&x.text, CFGFILE_MAX);
	if (expand_file(&x, path, NULL, 0) == -1)
		goto bad;
	if (config_read_string(&f->c, x.text.data ? x.text.data : "") !=
	    CONFIG_TRUE) {
		locate(f, (unsigned int)config_error_line(&f->c), &file,
		    &line);
		snprintf(err, errlen, "%s:%u: %s", file, line,
		    config_error_text(&f->c));
		goto bad;
	}
	relocate(f, config_root_setting(&f->c));
	buf_cleanup(&x.text);
	return f;
bad:
	buf_cleanup(&x.text);
	cfgfile_free(f);
	return NULL;
}

config_setting_t *
cfgfile_root(struct cfgfile *f)
{
	return config_root_setting(&f->c);
}

const char *
cfgfile_path(const struct cfgfile *f)
{
	return f->path;
}

void
cfgfile_free(struct cfgfile *f)
{
	size_t	i;

	if (f == NULL)
		return;
	config_destroy(&f->c);
	for (i = 0; i < f->nfiles; i++)
		free(f->files[i]);
	free(f->files);
	free(f->segs);
	free(f->path);
	free(f);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
is_dropin(const char *name)
{
	size_t	n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

int
cfgfile_dropins(const char *main, char ***paths, size_t *n, char *err,
    size_t errlen)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir, *slash, **v = NULL;
	size_t		 k = 0;
	void		*p;

	*paths = NULL;
	*n = 0;
	if ((slash = strrchr(main, '/')) == NULL)
		dir = strdup("conf.d");
	else if (asprintf(&dir, "%.*s/conf.d", (int)(slash - main),
	    main) == -1)
		dir = NULL;
	if (dir == NULL)
		fatal("config: %m");
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT) {
			free(dir);
			return 0;
		}
		snprintf(err, errlen, "%s: cannot read the drop-in directory: "
		    "%s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_dropin(de->d_name))
			continue;
		if ((p = reallocarray(v, k + 1, sizeof(*v))) == NULL)
			fatal("config: %m");
		v = p;
		v[k++] = io_path_join(dir, de->d_name);
	}
	closedir(d);
	free(dir);
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_str);
	*paths = v;
	*n = k;
	return 0;
}
