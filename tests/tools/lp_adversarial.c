/*
 * lp_adversarial.c: adversarial points for tests/integration/lp_influxdb.sh.
 *
 *   lp_adversarial lines            the accepted points, encoded by lp_enc.c
 *   lp_adversarial refused DIR      for each value lp.c refuses: asserts
 *                                   the refusal, then writes DIR/NN.lp, the
 *                                   line a naive encoder would write, and
 *                                   DIR/NN.expect, the HTTP status influxd
 *                                   answers (204 if it takes and mangles)
 *   lp_adversarial check ADV ADVF MEAS MANGLED
 *                                   compare /query answers (JSON, epoch=ns)
 *                                   with what was encoded, byte for byte
 *
 * Exit 0 when all is as expected, 1 otherwise, saying what differs.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/lp_enc.h"

#define NS	1000000000LL

static const char *const values[] = {
	"plain", "a b", "a,b", "a=b", "\"quoted\"", "back\\slash", "x\\ ",
	"\\,", "\\=", "\\ ", " lead", "trail ", "  ", "\xc3\xa9\xe2\x82\xac"
	"\xf0\x9f\x98\x80", "tab\there", "#hash", "\\\\", "a\\\\,b", "\\x",
	"'single'", "{}[]", "ctl\x01\x7f", "=", ",", " ", "\"", "\\\"", ""
};
#define NVALUES	(sizeof(values) / sizeof(values[0]))

static int	 failures;

static void fail(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fputs("lp_adversarial: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

/* The ~10 KB value, every kind of special byte repeated. */
static const char *
long_value(void)
{
	static char	 s[10 * 1024 + 1];
	static const char pat[] = "a b,c=d\"e\\f\xc3\xa9 ";
	size_t		 i;

	if (s[0] == '\0') {
		for (i = 0; i + sizeof(pat) - 1 < sizeof(s) - 1;
		    i += sizeof(pat) - 1)
			memcpy(s + i, pat, sizeof(pat) - 1);
		s[i] = 'z';
		s[i + 1] = '\0';
	}
	return s;
}

static const char *
value(size_t i)
{
	return i == NVALUES ? long_value() : values[i];
}

static double
float_value(size_t i)
{
	static const double f[] = { 0.0, -0.0, 0.1, 1.0 / 3.0, 1e21, 1e-7,
	    DBL_MIN, DBL_MAX, -DBL_MAX, DBL_TRUE_MIN, -DBL_TRUE_MIN,
	    2.2250738585072009e-308, 123456789.123456789, 9007199254740993.0,
	    1e300, 5e-324 * 3, -1.5e-310 };
	uint64_t u = 0x9e3779b97f4a7c15ULL * (i + 1);
	double	 d;

	if (i < sizeof(f) / sizeof(f[0]))
		return f[i];
	/* A spread of bit patterns, finite ones only. */
	u ^= u >> 29;
	memcpy(&d, &u, sizeof(d));
	return isfinite(d) ? d : (double)i;
}
#define NFLOATS	200

static int
key_ok(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && s[n - 1] != '\\';
}

/*
 * Point i of measurement "adv": tag id, tag t and tag key "k"+v, string
 * field s and field key "f"+v.  Fields ints and bools on some.
 */
static void
adv_point(struct lp_point *p, size_t i)
{
	char	 err[256], id[32], *k;
	const char *v = value(i);
	size_t	 n;

	lp_point_reset(p);
	lp_point_set_measurement(p, "adv", err, sizeof(err));
	snprintf(id, sizeof(id), "%zu", i);
	lp_point_tag(p, "id", id, 1, err, sizeof(err));
	n = strlen(v) + 2;
	k = malloc(n);
	if (key_ok(v)) {
		lp_point_tag(p, "t", v, 1, err, sizeof(err));
		snprintf(k, n, "k%s", v);
		lp_point_tag(p, k, "v", 1, err, sizeof(err));
		snprintf(k, n, "f%s", v);
		if (i != NVALUES)
			lp_point_field_bool(p, k, (int)(i & 1), err,
			    sizeof(err));
	}
	free(k);
	lp_point_field_str(p, "s", v, err, sizeof(err));
	lp_point_field_int(p, "i", i & 1 ? INT64_MIN : INT64_MAX, err,
	    sizeof(err));
	lp_point_set_time(p, (int64_t)(i + 1) * NS);
}

static void
advf_point(struct lp_point *p, size_t i)
{
	char	 err[256];

	lp_point_reset(p);
	lp_point_set_measurement(p, "advf", err, sizeof(err));
	lp_point_field_float(p, "x", float_value(i), err, sizeof(err));
	lp_point_set_time(p, (int64_t)(i + 1) * NS);
}

static const char *const measurements[] = {
	"adv m", "adv,m", "adv=m", "\\#adv", " adv", "adv ",
	"adv\"m", "adv\\x", "\xc3\xa9" "adv", "adv\\x\\y"
};
#define NMEAS	(sizeof(measurements) / sizeof(measurements[0]))

static void
meas_point(struct lp_point *p, size_t i)
{
	char	 err[256];

	lp_point_reset(p);
	lp_point_set_measurement(p, measurements[i], err, sizeof(err));
	lp_point_field_int(p, "x", 1, err, sizeof(err));
	lp_point_set_time(p, NS);
}

static void
emit(const struct lp_point *p, struct buf *b)
{
	char	 err[256];

	buf_reset(b);
	if (lp_encode(p, b, err, sizeof(err)) == -1) {
		fail("encode: %s", err);
		return;
	}
	fwrite(b->data, 1, b->len, stdout);
}

static int
cmd_lines(void)
{
	struct lp_point	 p;
	struct buf	 b;
	size_t		 i;

	lp_point_init(&p);
	buf_init(&b, LP_MAX_LINE + 1);
	for (i = 0; i <= NVALUES; i++) {
		adv_point(&p, i);
		emit(&p, &b);
	}
	for (i = 0; i < NFLOATS; i++) {
		advf_point(&p, i);
		emit(&p, &b);
	}
	for (i = 0; i < NMEAS; i++) {
		meas_point(&p, i);
		emit(&p, &b);
	}
	buf_cleanup(&b);
	lp_point_cleanup(&p);
	return failures ? 1 : 0;
}

/*
 * Values lp.c refuses, each with the line a naive encoder would write and
 * what influxd answers.  build() must fail.
 */
struct refusal {
	const char	*line;
	const char	*expect;	/* HTTP status */
	int		 kind;		/* which builder refuses it */
	const char	*a, *b;
};

enum { R_MEAS, R_TAG, R_FIELD_KEY, R_STR, R_FLOAT, R_UINT, R_TIME };

static const struct refusal refusals[] = {
	{ "ref,t=v\\ x=1i 1000000000", "400", R_TAG, "t", "v\\" },
	{ "ref,t\\=v x=1i 1000000000", "400", R_TAG, "t\\", "v" },
	{ "ref x\\=1i 1000000000", "400", R_FIELD_KEY, "x\\", NULL },
	{ "ref f\\\\,=1i 1000000000", "400", R_FIELD_KEY, "f\\,", NULL },
	{ "mangled\\\\,m x=1i 1000000000", "204", R_MEAS, "mangled\\,m",
	    NULL },
	{ "mangled\\\"q x=1i 1000000000", "204", R_MEAS, "mangled\\\"q",
	    NULL },
	{ "ref\\ x=1i 1000000000", "400", R_MEAS, "ref\\", NULL },
	{ "ref,t= x=1i 1000000000", "400", R_TAG, "t", NULL },
	{ "ref,time=a x=1i 1000000000", "400", R_TAG, "time", "a" },
	{ "ref time=1i 1000000000", "400", R_FIELD_KEY, "time", NULL },
	{ "ref x=1u 1000000000", "400", R_UINT, NULL, NULL },
	{ "ref x=NaN 1000000000", "400", R_FLOAT, NULL, NULL },
	{ "ref x=1 9223372036854775807", "400", R_TIME, NULL, NULL },
	/* Taken, but read back differently: see cmd_check(). */
	{ "#mangled_comment x=1i 1000000000", "204", R_MEAS,
	    "#mangled_comment", NULL },
	{ "\tmangled_tab x=1i 1000000000", "204", R_MEAS, "\tmangled_tab",
	    NULL },
	{ "mangled_utf8 s=\"\xff\xfe\" 1000000000", "204", R_STR, "\xff\xfe",
	    NULL },
	{ "mangled_utf8,t=\xc0\xaf x=1i 2000000000", "204", R_TAG, "t",
	    "\xc0\xaf" },
};
#define NREFUSALS	(sizeof(refusals) / sizeof(refusals[0]))

static int
refused_by_lp(const struct refusal *r)
{
	struct lp_point	 p;
	struct buf	 b;
	char		 err[256];
	int		 rc;

	lp_point_init(&p);
	buf_init(&b, 1024);
	rc = r->kind == R_MEAS ? lp_point_set_measurement(&p, r->a, err,
	    sizeof(err)) : lp_point_set_measurement(&p, "ref", err,
	    sizeof(err));
	if (rc == 0) {
		switch (r->kind) {
		case R_TAG:
			if (r->b == NULL) {
				/* an empty tag value is left out, not sent */
				lp_point_tag(&p, r->a, "", 0, err,
				    sizeof(err));
				rc = p.ntags == 0 ? -1 : 0;
				snprintf(err, sizeof(err), "empty tag value "
				    "left out");
			} else
				rc = lp_point_tag(&p, r->a, r->b, 0, err,
				    sizeof(err));
			break;
		case R_FIELD_KEY:
			rc = lp_point_field_int(&p, r->a, 1, err, sizeof(err));
			break;
		case R_STR:
			rc = lp_point_field_str(&p, "s", r->a, err,
			    sizeof(err));
			break;
		case R_FLOAT:
			rc = lp_point_field_float(&p, "x", NAN, err,
			    sizeof(err));
			break;
		case R_UINT:
			/* lp.c writes it; InfluxDB 1.x refuses it. */
			rc = -1;
			snprintf(err, sizeof(err), "unsigned: 1.x only");
			break;
		case R_TIME:
			lp_point_field_int(&p, "x", 1, err, sizeof(err));
			lp_point_set_time(&p, INT64_MAX);
			rc = lp_encode(&p, &b, err, sizeof(err));
			break;
		}
	}
	if (rc == 0)
		fail("lp.c accepts what '%s' carries", r->line);
	else
		fprintf(stderr, "refused as expected: %s\n", err);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
	return rc != 0;
}

static int
cmd_refused(const char *dir)
{
	char	 path[4096];
	FILE	*fp;
	size_t	 i;

	for (i = 0; i < NREFUSALS; i++) {
		refused_by_lp(&refusals[i]);
		snprintf(path, sizeof(path), "%s/%02zu.lp", dir, i);
		if ((fp = fopen(path, "w")) == NULL) {
			fail("%s: %s", path, strerror(errno));
			continue;
		}
		fprintf(fp, "%s\n", refusals[i].line);
		fclose(fp);
		snprintf(path, sizeof(path), "%s/%02zu.expect", dir, i);
		if ((fp = fopen(path, "w")) == NULL) {
			fail("%s: %s", path, strerror(errno));
			continue;
		}
		fprintf(fp, "%s\n", refusals[i].expect);
		fclose(fp);
	}
	return failures ? 1 : 0;
}

static json_t *
load(const char *path, size_t flags)
{
	json_error_t	 e;
	json_t		*j;

	if ((j = json_load_file(path, flags, &e)) == NULL)
		fail("%s:%d: %s", path, e.line, e.text);
	return j;
}

/* results[0].series, or NULL. */
static json_t *
series_of(json_t *j)
{
	return json_object_get(json_array_get(json_object_get(j, "results"),
	    0), "series");
}

/* The row of series s whose time is t, or NULL. */
static json_t *
row_at(json_t *s, int64_t t)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(json_object_get(s, "values"), i, row)
		if ((int64_t)json_number_value(json_array_get(row, 0)) == t)
			return row;
	return NULL;
}

/* Column index of name in series s, or -1. */
static int
column(json_t *s, const char *name)
{
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(s, "columns"), i, c)
		if (strcmp(json_string_value(c), name) == 0)
			return (int)i;
	return -1;
}

/* The series whose tags match p's tags exactly (empty ones absent). */
static json_t *
find_series(json_t *all, const struct lp_point *p)
{
	json_t		*s, *tags, *v;
	const char	*k;
	size_t		 i, n;

	json_array_foreach(all, i, s) {
		tags = json_object_get(s, "tags");
		n = 0;
		json_object_foreach(tags, k, v) {
			const char *want = lp_point_get_tag(p, k);

			if (json_string_length(v) == 0)
				continue;
			if (want == NULL || strlen(want) !=
			    json_string_length(v) ||
			    memcmp(want, json_string_value(v),
			    json_string_length(v)) != 0)
				break;
			n++;
		}
		if (k == NULL && n == p->ntags)
			return s;
	}
	return NULL;
}

static void
check_fields(json_t *s, const struct lp_point *p, size_t i)
{
	const struct lp_field *f;
	json_t	*row, *v;
	size_t	 j;
	int	 c;
	double	 d;

	if ((row = row_at(s, p->time)) == NULL) {
		fail("point %zu: no row at %" PRId64, i, p->time);
		return;
	}
	for (j = 0; j < p->nfields; j++) {
		f = &p->fields[j];
		if ((c = column(s, f->key)) == -1) {
			fail("point %zu: no column '%s'", i, f->key);
			continue;
		}
		v = json_array_get(row, (size_t)c);
		switch (f->type) {
		case LP_STRING:
			if (!json_is_string(v) ||
			    json_string_length(v) != strlen(f->v.s) ||
			    memcmp(json_string_value(v), f->v.s,
			    strlen(f->v.s)) != 0)
				fail("point %zu: field '%s': string differs",
				    i, f->key);
			break;
		case LP_INT:
			if (!json_is_integer(v) ||
			    json_integer_value(v) != f->v.i)
				fail("point %zu: field '%s': int differs", i,
				    f->key);
			break;
		case LP_BOOL:
			if (!json_is_boolean(v) ||
			    json_is_true(v) != (f->v.b != 0))
				fail("point %zu: field '%s': bool differs", i,
				    f->key);
			break;
		case LP_FLOAT:
			d = json_number_value(v);
			if (!json_is_number(v) ||
			    memcmp(&d, &f->v.f, sizeof(d)) != 0)
				fail("point %zu: field '%s': float %.17g "
				    "read back as %.17g", i, f->key, f->v.f, d);
			break;
		case LP_UINT:
			break;
		}
	}
}

static int
has_measurement(json_t *meas, const char *name)
{
	json_t	*row;
	size_t	 i;

	json_array_foreach(json_object_get(json_array_get(series_of(meas), 0),
	    "values"), i, row)
		if (strcmp(json_string_value(json_array_get(row, 0)),
		    name) == 0)
			return 1;
	return 0;
}

static int
cmd_check(const char *adv_path, const char *advf_path,
    const char *meas_path, const char *mangled_path)
{
	struct lp_point	 p;
	json_t		*adv, *advf, *meas, *mangled, *s, *v;
	size_t		 i, checked = 0;

	lp_point_init(&p);
	adv = load(adv_path, 0);
	/* Go writes large floats as long integers jansson cannot hold. */
	advf = load(advf_path, JSON_DECODE_INT_AS_REAL);
	meas = load(meas_path, 0);
	mangled = load(mangled_path, 0);
	if (failures)
		return 1;
	for (i = 0; i <= NVALUES; i++) {
		adv_point(&p, i);
		if ((s = find_series(series_of(adv), &p)) == NULL) {
			fail("point %zu: no series with its exact tags", i);
			continue;
		}
		check_fields(s, &p, i);
		checked++;
	}
	for (i = 0; i < NFLOATS; i++) {
		advf_point(&p, i);
		check_fields(json_array_get(series_of(advf), 0), &p, i);
		checked++;
	}
	for (i = 0; i < NMEAS; i++) {
		if (!has_measurement(meas, measurements[i]))
			fail("measurement '%s' not read back", measurements[i]);
		checked++;
	}
	/* What influxd took but mangles, as lp.c's refusals predict. */
	if (has_measurement(meas, "#mangled_comment") ||
	    has_measurement(meas, "mangled_comment"))
		fail("a '#' line was not dropped as a comment");
	if (has_measurement(meas, "\tmangled_tab") ||
	    !has_measurement(meas, "mangled_tab"))
		fail("a leading tab was not trimmed");
	if (has_measurement(meas, "mangled\\,m") ||
	    !has_measurement(meas, "mangled,m"))
		fail("measurement 'mangled\\\\,m' was not read back as "
		    "'mangled,m'");
	if (has_measurement(meas, "mangled\\\"q") ||
	    !has_measurement(meas, "mangled\"q"))
		fail("measurement 'mangled\\\\\"q' kept its backslash");
	s = json_array_get(series_of(mangled), 0);
	v = json_array_get(row_at(s, NS), (size_t)column(s, "s"));
	if (!json_is_string(v) || strcmp(json_string_value(v),
	    "\xef\xbf\xbd\xef\xbf\xbd") != 0)
		fail("invalid UTF-8 in a string was not replaced by U+FFFD");
	v = json_array_get(row_at(s, 2 * NS), (size_t)column(s, "t"));
	if (!json_is_string(v) || strchr(json_string_value(v), '\xc0') != NULL)
		fail("invalid UTF-8 in a tag came back unchanged");
	fprintf(stderr, "lp_adversarial: %zu points checked, %d failures\n",
	    checked, failures);
	json_decref(adv);
	json_decref(advf);
	json_decref(meas);
	json_decref(mangled);
	lp_point_cleanup(&p);
	return failures ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "lines") == 0)
		return cmd_lines();
	if (argc == 3 && strcmp(argv[1], "refused") == 0)
		return cmd_refused(argv[2]);
	if (argc == 6 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: lp_adversarial lines | refused DIR | "
	    "check ADV ADVF MEAS MANGLED\n");
	return 2;
}
