/*
 * promstore.c: the prometheus sink's series and their exposition (see
 * promstore.h).
 */
#define _GNU_SOURCE

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/strmap.h"
#include "sinks/promstore.h"

#define NAME_MAX_LEN	200
#define LABELS_MAX	(64 * 1024)
#define PENDING_MAX	(4 << 20)
#define PREFETCH	8	/* series ahead, in an exposition */

struct family;

struct series {
	char		*key;		/* name \1 labels (without result) */
	char		*labels;	/* "{k=\"v\",...}", or "" */
	size_t		 labels_len;
	char		*job;		/* its job label, or NULL */
	double		 value;
	int		 dead;		/* gone with its job (promstore_jobs) */
	struct family	*f;
};

struct family {
	char		*name;
	size_t		 name_len;
	char		*help;
	int		 counter;
	struct series	**v;
	size_t		 n, alloc, live;
};

struct promstore {
	struct family	**fam;
	size_t		  nfam, famalloc;
	struct strmap	 *fmap;		/* name -> family */
	struct strmap	 *smap;		/* key -> series (dead ones too) */
	size_t		  nseries, max;
	uint64_t	  refused;
	int		  scrapes;	/* going: no compaction meanwhile */
	int		  dirty;	/* dead series to free */
	struct complain	  full;
	struct strmap	 *jobset;	/* the jobs there are; NULL: all */
	char		**jobnames;	/* its keys, owned */
	size_t		  njobnames;
};

struct promscrape {
	struct promstore *s;
	size_t		  fi, si;	/* the cursor: family, series */
	int		  header;	/* the family's HELP/TYPE written */
	struct buf	  out;		/* generated, not yet read */
};

/* Units converted to Prometheus's base units, by field suffix. */
static const struct unit {
	const char	*suffix, *to, *what;
	double		 scale;
} units[] = {
	{ "_ms", "_seconds", "milliseconds", 1e-3 },
	{ "_us", "_seconds", "microseconds", 1e-6 },
	{ "_s", "_seconds", NULL, 1 },
	{ "_pct", "_ratio", "percent", 1e-2 },
	{ "_bps", "_bytes_per_second", "bits per second", 0.125 },
	{ NULL, NULL, NULL, 0 }
};

static const char *const qosd_counters[] = {
	"lines_rejected", "cpu_user_s", "cpu_system_s", NULL
};
static const char *const sink_counters[] = {
	"sent", "dropped", "spooled", "retries", "rejected",
	"shipper_restarts", NULL
};

static void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n, size)) == NULL)
		fatal("prometheus: %m");
	return p;
}

static char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("prometheus: %m");
	return p;
}

static int
in_list(const char *s, const char *const *l)
{
	for (; *l != NULL; l++)
		if (strcmp(s, *l) == 0)
			return 1;
	return 0;
}

/* [a-zA-Z0-9_:] kept, anything else '_'; not starting with a digit. */
static void
sanitize(char *s, int colon_ok)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' ||
		    (colon_ok && *p == ':')))
			*p = '_';
	if (*s >= '0' && *s <= '9')
		*s = '_';
}

static int
reserved_suffix(const char *name)
{
	static const char *const sfx[] = { "_count", "_sum", "_bucket",
	    "_total", NULL };
	size_t	i, nl = strlen(name), sl;

	for (i = 0; sfx[i] != NULL; i++)
		if (nl > (sl = strlen(sfx[i])) &&
		    strcmp(name + nl - sl, sfx[i]) == 0)
			return 1;
	return 0;
}

/* The metric of field f of measurement m: name, scale, counter. */
static void
metric_name(const char *m, const char *f, char *name, size_t len,
    const struct unit **unit, int *counter)
{
	const struct unit	*u;
	size_t			 fl = strlen(f), sl;
	char			 field[NAME_MAX_LEN];
	int			 n;

	*unit = NULL;
	*counter = (strcmp(m, "qosd") == 0 && (strncmp(f, "runs_", 5) == 0 ||
	    in_list(f, qosd_counters))) || (strcmp(m, "qosd_sink") == 0 &&
	    in_list(f, sink_counters));
	snprintf(field, sizeof(field), "%s", f);
	for (u = units; u->suffix != NULL; u++) {
		sl = strlen(u->suffix);
		if (fl > sl && strcmp(f + fl - sl, u->suffix) == 0) {
			if (snprintf(field, sizeof(field), "%.*s%s",
			    (int)(fl - sl), f, u->to) >= (int)sizeof(field))
				field[sizeof(field) - 1] = '\0';
			*unit = u;
			break;
		}
	}
	if (strcmp(m, "qosd") == 0)
		n = snprintf(name, len, "qosd_%s%s", field, *counter ?
		    "_total" : "");
	else
		n = snprintf(name, len, "%s%s_%s%s", strncmp(m, "qosd_",
		    5) == 0 ? "" : "qosd_", m, field, *counter ? "_total" :
		    "");
	/* Cut: still a valid name, whatever collides with it. */
	if (n < 0 || (size_t)n >= len)
		name[len - 1] = '\0';
	sanitize(name, 1);
	/* Suffixes Prometheus keeps for histograms, summaries, counters. */
	if (!*counter && reserved_suffix(name) && strlen(name) + 7 <= len)
		strcat(name, "_value");
}

/* HELP text: backslash and line break escaped. */
static char *
help_text(const char *m, const char *f, const struct unit *u)
{
	struct buf	 b;
	const char	*p;
	char		 raw[512];

	snprintf(raw, sizeof(raw), "qosd measurement %s, field %s%s%s", m, f,
	    u != NULL && u->what != NULL ? ", converted from " : "",
	    u != NULL && u->what != NULL ? u->what : "");
	buf_init(&b, 2048);
	for (p = raw; *p != '\0'; p++)
		if (*p == '\\')
			buf_adds(&b, "\\\\");
		else if (*p == '\n')
			buf_adds(&b, "\\n");
		else
			buf_addc(&b, *p);
	return buf_take(&b, NULL) ?: xstrdup("");
}

static struct family *
family_get(struct promstore *s, const char *name, const char *m,
    const char *f, const struct unit *u, int counter)
{
	struct family	*fa;

	if ((fa = strmap_get(s->fmap, name)) != NULL)
		return fa;
	fa = xcalloc(1, sizeof(*fa));
	fa->name = xstrdup(name);
	fa->name_len = strlen(name);
	fa->help = help_text(m, f, u);
	fa->counter = counter;
	if (s->nfam == s->famalloc) {
		s->famalloc = s->famalloc ? s->famalloc * 2 : 64;
		if ((s->fam = realloc(s->fam, s->famalloc *
		    sizeof(*s->fam))) == NULL)
			fatal("prometheus: %m");
	}
	s->fam[s->nfam++] = fa;
	strmap_put(s->fmap, fa->name, fa);
	return fa;
}

/* The labels of p's tags: {k="v",...}, values escaped. */
static void
labels_of(const struct lp_point *p, struct buf *b)
{
	char		 key[NAME_MAX_LEN];
	const char	*v;
	size_t		 i;

	buf_reset(b);
	for (i = 0; i < p->ntags; i++) {
		snprintf(key, sizeof(key), "%s%s", strncmp(p->tags[i].key,
		    "__", 2) == 0 ? "tag" : "", p->tags[i].key);
		sanitize(key, 0);
		buf_addf(b, "%s%s=\"", i == 0 ? "{" : ",", key);
		for (v = p->tags[i].value; *v != '\0'; v++)
			if (*v == '\\' || *v == '"')
				buf_addf(b, "\\%c", *v);
			else if (*v == '\n')
				buf_adds(b, "\\n");
			else
				buf_addc(b, *v);
		buf_addc(b, '"');
	}
	if (p->ntags > 0)
		buf_addc(b, '}');
}

static struct series *
series_new(struct promstore *s, struct family *fa, const char *key,
    const char *job)
{
	struct series	*se;

	if (s->nseries >= s->max) {
		s->refused++;
		if (complain_fail(&s->full, clock_mono_us()))
			log_warning("prometheus: %zu series, the most "
			    "max_series allows: new series left out (%llu so "
			    "far)", s->nseries, (unsigned long long)s->refused);
		return NULL;
	}
	se = xcalloc(1, sizeof(*se));
	se->key = xstrdup(key);
	se->job = job != NULL ? xstrdup(job) : NULL;
	se->f = fa;
	if (fa->n == fa->alloc) {
		fa->alloc = fa->alloc ? fa->alloc * 2 : 8;
		if ((fa->v = realloc(fa->v, fa->alloc * sizeof(*fa->v))) ==
		    NULL)
			fatal("prometheus: %m");
	}
	fa->v[fa->n++] = se;
	fa->live++;
	s->nseries++;
	strmap_put(s->smap, se->key, se);
	return se;
}

/* Set the series of family fa with labels (and result) to v. */
static void
series_set(struct promstore *s, struct family *fa, const struct buf *labels,
    const char *result, const char *job, double v)
{
	struct series	*se;
	struct buf	 key;
	int		 n;

	buf_init(&key, NAME_MAX_LEN + LABELS_MAX);
	buf_add(&key, fa->name, fa->name_len);
	buf_addc(&key, '\1');
	buf_add(&key, buf_str(labels), labels->len);
	if ((se = strmap_get(s->smap, key.data)) == NULL &&
	    (se = series_new(s, fa, key.data, job)) == NULL) {
		buf_cleanup(&key);
		return;
	}
	buf_cleanup(&key);
	if (se->dead) {
		se->dead = 0;
		fa->live++;
		s->nseries++;
	}
	se->value = v;
	if (result == NULL) {
		if (se->labels == NULL) {
			se->labels = xstrdup(buf_str(labels));
			se->labels_len = labels->len;
		}
		return;
	}
	free(se->labels);
	if ((n = asprintf(&se->labels, "%.*s%sresult=\"%s\"}",
	    (int)(labels->len > 0 ? labels->len - 1 : 0), buf_str(labels),
	    labels->len > 0 ? "," : "{", result)) == -1)
		fatal("prometheus: %m");
	se->labels_len = (size_t)n;
}

static int
field_number(const struct lp_field *f, double *v)
{
	switch (f->type) {
	case LP_FLOAT:
		*v = f->v.f;
		return 1;
	case LP_INT:
		*v = (double)f->v.i;
		return 1;
	case LP_UINT:
		*v = (double)f->v.u;
		return 1;
	case LP_BOOL:
		*v = f->v.b ? 1 : 0;
		return 1;
	default:
		return 0;
	}
}

void
promstore_point(struct promstore *s, const struct lp_point *p)
{
	const struct unit	*u;
	const struct lp_field	*f;
	struct family		*fa;
	struct buf		 labels;
	const char		*job = lp_point_get_tag(p, "job");
	char			 name[NAME_MAX_LEN];
	double			 v;
	size_t			 i;
	int			 counter;

	if (lp_point_get_tag(p, "request") != NULL)
		return;
	/*
	 * The last run of a job a reload removed ends after it: its points
	 * would bring the job's series back, to stay until the next reload.
	 */
	if (job != NULL && s->jobset != NULL && strmap_get(s->jobset,
	    job) == NULL)
		return;
	buf_init(&labels, LABELS_MAX);
	labels_of(p, &labels);
	for (i = 0; i < p->nfields; i++) {
		f = &p->fields[i];
		if (f->type == LP_STRING) {
			if (strcmp(f->key, "result") != 0 ||
			    strpbrk(f->v.s, "\"\\\n") != NULL)
				continue;
			metric_name(p->measurement, "result", name,
			    sizeof(name), &u, &counter);
			fa = family_get(s, name, p->measurement, "result",
			    NULL, 0);
			series_set(s, fa, &labels, f->v.s, job, 1);
			continue;
		}
		if (!field_number(f, &v))
			continue;
		metric_name(p->measurement, f->key, name, sizeof(name), &u,
		    &counter);
		fa = family_get(s, name, p->measurement, f->key, u, counter);
		series_set(s, fa, &labels, NULL, job, u != NULL ? v * u->scale :
		    v);
	}
	buf_cleanup(&labels);
}

/* Free dead series and index the rest again (no scrape going). */
static void
compact(struct promstore *s)
{
	struct family	*fa;
	size_t		 i, k, n;

	if (!s->dirty || s->scrapes > 0)
		return;
	strmap_free(s->smap);
	s->smap = strmap_new(s->nseries);
	for (i = 0; i < s->nfam; i++) {
		fa = s->fam[i];
		for (k = n = 0; k < fa->n; k++) {
			if (fa->v[k]->dead) {
				free(fa->v[k]->key);
				free(fa->v[k]->labels);
				free(fa->v[k]->job);
				free(fa->v[k]);
				continue;
			}
			fa->v[n++] = fa->v[k];
			strmap_put(s->smap, fa->v[k]->key, fa->v[k]);
		}
		fa->n = n;
	}
	s->dirty = 0;
}

static void
jobset_free(struct promstore *s)
{
	size_t	i;

	strmap_free(s->jobset);
	for (i = 0; i < s->njobnames; i++)
		free(s->jobnames[i]);
	free(s->jobnames);
	s->jobset = NULL;
	s->jobnames = NULL;
	s->njobnames = 0;
}

void
promstore_jobs(struct promstore *s, const char *const *names, size_t n)
{
	struct strmap	*set;
	struct series	*se;
	size_t		 i, k;

	jobset_free(s);
	set = s->jobset = strmap_new(n);
	s->jobnames = xcalloc(n ? n : 1, sizeof(*s->jobnames));
	for (i = 0; i < n; i++) {
		s->jobnames[i] = xstrdup(names[i]);
		strmap_put(set, s->jobnames[i], s->jobnames[i]);
	}
	s->njobnames = n;
	for (i = 0; i < s->nfam; i++)
		for (k = 0; k < s->fam[i]->n; k++) {
			se = s->fam[i]->v[k];
			if (se->dead || se->job == NULL ||
			    strmap_get(set, se->job) != NULL)
				continue;
			se->dead = 1;
			se->f->live--;
			s->nseries--;
			s->dirty = 1;
		}
	compact(s);
}

struct promstore *
promstore_new(size_t max_series)
{
	struct promstore	*s = xcalloc(1, sizeof(*s));

	s->max = max_series;
	s->fmap = strmap_new(256);
	s->smap = strmap_new(1024);
	return s;
}

void
promstore_free(struct promstore *s)
{
	size_t	i, k;

	if (s == NULL)
		return;
	for (i = 0; i < s->nfam; i++) {
		for (k = 0; k < s->fam[i]->n; k++) {
			free(s->fam[i]->v[k]->key);
			free(s->fam[i]->v[k]->labels);
			free(s->fam[i]->v[k]->job);
			free(s->fam[i]->v[k]);
		}
		free(s->fam[i]->v);
		free(s->fam[i]->name);
		free(s->fam[i]->help);
		free(s->fam[i]);
	}
	free(s->fam);
	strmap_free(s->fmap);
	strmap_free(s->smap);
	jobset_free(s);
	free(s);
}

size_t
promstore_series(const struct promstore *s)
{
	return s->nseries;
}

uint64_t
promstore_refused(const struct promstore *s)
{
	return s->refused;
}

/* The exposition. */

struct promscrape *
promscrape_new(struct promstore *s)
{
	struct promscrape	*sc = xcalloc(1, sizeof(*sc));

	sc->s = s;
	buf_init(&sc->out, PENDING_MAX);
	s->scrapes++;
	return sc;
}

void
promscrape_free(struct promscrape *sc)
{
	if (sc == NULL)
		return;
	sc->s->scrapes--;
	compact(sc->s);
	buf_cleanup(&sc->out);
	free(sc);
}

/* A value as the shortest text that reads back the same. */
static void
add_value(struct buf *b, double v)
{
	char		 num[40], *p;
	long long	 i;

	if (v == floor(v) && fabs(v) < 1e15) {
		/* Integers, the most values: digits without printf. */
		i = (long long)v;
		p = num + sizeof(num);
		do
			*--p = (char)('0' + (i < 0 ? -(i % 10) : i % 10));
		while ((i /= 10) != 0);
		if (v < 0)
			*--p = '-';
		buf_add(b, p, (size_t)(num + sizeof(num) - p));
		return;
	}
	lp_put_float(b, v);
}

/* Generate until want bytes are waiting, or the end. */
static void
generate(struct promscrape *sc, size_t want)
{
	struct promstore	*s = sc->s;
	struct family		*fa;
	struct series		*se;

	while (sc->out.len < want && sc->fi < s->nfam) {
		fa = s->fam[sc->fi];
		/*
		 * The series are scattered over the heap: ask for the ones
		 * ahead now, so that their cache misses overlap (10,000
		 * series: most of a scrape's time was the wait for each).
		 */
		if (sc->si + PREFETCH < fa->n)
			__builtin_prefetch(fa->v[sc->si + PREFETCH]);
		if (sc->si + PREFETCH / 2 < fa->n)
			__builtin_prefetch(fa->v[sc->si + PREFETCH / 2]->labels);
		if (fa->live == 0 || sc->si >= fa->n) {
			sc->fi++;
			sc->si = 0;
			sc->header = 0;
			continue;
		}
		if (!sc->header) {
			buf_addf(&sc->out, "# HELP %s %s\n# TYPE %s %s\n",
			    fa->name, fa->help, fa->name, fa->counter ?
			    "counter" : "gauge");
			sc->header = 1;
		}
		se = fa->v[sc->si++];
		if (se->dead)
			continue;
		buf_add(&sc->out, fa->name, fa->name_len);
		buf_add(&sc->out, se->labels, se->labels_len);
		buf_addc(&sc->out, ' ');
		add_value(&sc->out, se->value);
		buf_addc(&sc->out, '\n');
	}
}

ssize_t
promscrape_read(struct promscrape *sc, char *buf, size_t max)
{
	size_t	n;

	generate(sc, max);
	n = sc->out.len < max ? sc->out.len : max;
	if (n == 0)
		return 0;
	memcpy(buf, sc->out.data, n);
	buf_consume(&sc->out, n);
	return (ssize_t)n;
}
