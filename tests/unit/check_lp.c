/*
 * check_lp.c: the line protocol: the point model and its rules (lp.c),
 * the encoder (lp_enc.c) and the parser (lp_parse.c).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/lp_enc.h"
#include "lib/lp_parse.h"
#include "tests/unit/suites.h"

#define ROUNDS		100000
#define ERRLEN		256

/* Printable and unambiguous enough to compare in a fixture. */
static void
dump_str(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_addc(b, '[');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			buf_addf(b, "\\x%02x", *p);
		else
			buf_addc(b, (char)*p);
	}
	buf_addc(b, ']');
}

static void
dump(const struct lp_point *p, struct buf *b)
{
	const struct lp_field *f;
	size_t	 i;

	buf_reset(b);
	buf_adds(b, "m");
	dump_str(b, p->measurement);
	for (i = 0; i < p->ntags; i++) {
		buf_adds(b, " tag");
		dump_str(b, p->tags[i].key);
		buf_addc(b, '=');
		dump_str(b, p->tags[i].value);
	}
	for (i = 0; i < p->nfields; i++) {
		f = &p->fields[i];
		buf_addc(b, ' ');
		switch (f->type) {
		case LP_FLOAT:
			buf_adds(b, "float");
			dump_str(b, f->key);
			buf_addf(b, "=%.17g", f->v.f);
			break;
		case LP_INT:
			buf_adds(b, "int");
			dump_str(b, f->key);
			buf_addf(b, "=%" PRId64, f->v.i);
			break;
		case LP_UINT:
			buf_adds(b, "uint");
			dump_str(b, f->key);
			buf_addf(b, "=%" PRIu64, f->v.u);
			break;
		case LP_BOOL:
			buf_adds(b, "bool");
			dump_str(b, f->key);
			buf_adds(b, f->v.b ? "=true" : "=false");
			break;
		case LP_STRING:
			buf_adds(b, "str");
			dump_str(b, f->key);
			buf_addc(b, '=');
			dump_str(b, f->v.s);
			break;
		}
	}
	if (p->has_time)
		buf_addf(b, " time=%" PRId64, p->time);
}

/* Parse exactly len bytes from a copy of that size, so ASan sees overreads. */
static int
parse_exact(const char *line, size_t len, struct lp_point *p, char *err)
{
	char	*copy;
	int	 rc;

	copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, line, len);
	rc = lp_parse(copy, len, p, err, ERRLEN);
	free(copy);
	return rc;
}

/* Compare every member; floats bit for bit.  NULL when equal. */
static const char *
point_diff(const struct lp_point *a, const struct lp_point *b)
{
	size_t	 i;

	if (strcmp(a->measurement, b->measurement) != 0)
		return "measurement";
	if (a->ntags != b->ntags)
		return "number of tags";
	for (i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i].key, b->tags[i].key) != 0 ||
		    strcmp(a->tags[i].value, b->tags[i].value) != 0)
			return "tag";
	if (a->nfields != b->nfields)
		return "number of fields";
	for (i = 0; i < a->nfields; i++) {
		const struct lp_field *x = &a->fields[i], *y = &b->fields[i];

		if (strcmp(x->key, y->key) != 0 || x->type != y->type)
			return "field key or type";
		switch (x->type) {
		case LP_FLOAT:
			if (memcmp(&x->v.f, &y->v.f, sizeof(double)) != 0)
				return "float value";
			break;
		case LP_INT:
			if (x->v.i != y->v.i)
				return "int value";
			break;
		case LP_UINT:
			if (x->v.u != y->v.u)
				return "uint value";
			break;
		case LP_BOOL:
			if (x->v.b != y->v.b)
				return "bool value";
			break;
		case LP_STRING:
			if (strcmp(x->v.s, y->v.s) != 0)
				return "string value";
			break;
		}
	}
	if (a->has_time != b->has_time || (a->has_time && a->time != b->time))
		return "time";
	return NULL;
}

/*
 * Fixture records: comment lines start with "##", blank lines between
 * records are skipped; what a record holds depends on the file.
 */
struct fixture {
	FILE	*fp;
	char	*line;
	size_t	 cap;
	ssize_t	 len;
	int	 lineno;
};

static void
fixture_open(struct fixture *fx, const char *name)
{
	char	 path[256];

	snprintf(path, sizeof(path), "%s/lp/%s", FIXTURES, name);
	memset(fx, 0, sizeof(*fx));
	fx->fp = fopen(path, "r");
	ck_assert_msg(fx->fp != NULL, "cannot open %s", path);
}

/* The next line without its '\n'; raw is 0 to skip comments and blanks. */
static int
fixture_next(struct fixture *fx, int raw)
{
	for (;;) {
		fx->len = getline(&fx->line, &fx->cap, fx->fp);
		if (fx->len == -1)
			return 0;
		fx->lineno++;
		if (fx->len > 0 && fx->line[fx->len - 1] == '\n')
			fx->line[--fx->len] = '\0';
		if (raw)
			return 1;
		if (fx->len > 0 && strncmp(fx->line, "##", 2) != 0)
			return 1;
	}
}

static void
fixture_close(struct fixture *fx)
{
	free(fx->line);
	fclose(fx->fp);
}

START_TEST(test_lp_parses_good_fixtures_to_expected_points)
{
	struct fixture	 fx;
	struct lp_point	 p, q;
	struct buf	 b, d;
	char		 err[ERRLEN], *line;
	size_t		 len;
	int		 n = 0;

	lp_point_init(&p);
	lp_point_init(&q);
	buf_init(&b, 2 * LP_MAX_LINE);
	buf_init(&d, 2 * LP_MAX_LINE);
	fixture_open(&fx, "good.txt");
	while (fixture_next(&fx, 0)) {
		line = strndup(fx.line, (size_t)fx.len);
		len = (size_t)fx.len;
		ck_assert_msg(fixture_next(&fx, 1) &&
		    strncmp(fx.line, "=> ", 3) == 0,
		    "good.txt:%d: no '=> ' line", fx.lineno);
		ck_assert_msg(parse_exact(line, len, &p, err) == 0,
		    "good.txt:%d: refused: %s", fx.lineno - 1, err);
		dump(&p, &d);
		ck_assert_msg(strcmp(buf_str(&d), fx.line + 3) == 0,
		    "good.txt:%d: got %s", fx.lineno, buf_str(&d));
		buf_reset(&b);
		ck_assert_msg(lp_encode(&p, &b, err, sizeof(err)) == 0,
		    "good.txt:%d: encode: %s", fx.lineno, err);
		ck_assert_msg(parse_exact(b.data, b.len - 1, &q, err) == 0,
		    "good.txt:%d: re-parse of %s: %s", fx.lineno, b.data, err);
		ck_assert_msg(point_diff(&p, &q) == NULL,
		    "good.txt:%d: round trip differs in %s", fx.lineno,
		    point_diff(&p, &q));
		free(line);
		n++;
	}
	fixture_close(&fx);
	ck_assert_int_gt(n, 10);
	lp_point_cleanup(&p);
	lp_point_cleanup(&q);
	buf_cleanup(&b);
	buf_cleanup(&d);
}
END_TEST

START_TEST(test_lp_rejects_bad_fixtures_with_reason)
{
	struct fixture	 fx;
	struct lp_point	 p;
	char		 err[ERRLEN], *want;
	int		 n = 0;

	lp_point_init(&p);
	fixture_open(&fx, "bad.txt");
	while (fixture_next(&fx, 0)) {
		ck_assert_msg(strncmp(fx.line, "!! ", 3) == 0,
		    "bad.txt:%d: expected '!! reason'", fx.lineno);
		want = strdup(fx.line + 3);
		ck_assert_msg(fixture_next(&fx, 1), "bad.txt: truncated");
		err[0] = '\0';
		ck_assert_msg(parse_exact(fx.line, (size_t)fx.len, &p,
		    err) == -1, "bad.txt:%d: accepted", fx.lineno);
		ck_assert_msg(strstr(err, want) != NULL,
		    "bad.txt:%d: reason '%s', want '%s'", fx.lineno, err, want);
		ck_assert_uint_eq(p.ntags, 0);
		ck_assert_uint_eq(p.nfields, 0);
		free(want);
		n++;
	}
	fixture_close(&fx);
	ck_assert_int_gt(n, 10);
	lp_point_cleanup(&p);
}
END_TEST

START_TEST(test_lp_rejects_unescaped_space)
{
	struct lp_point	 p;
	char		 err[ERRLEN];

	lp_point_init(&p);
	ck_assert_int_eq(lp_parse("m,t=a b f=1", 11, &p, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "unescaped space in tag value"));
	lp_point_cleanup(&p);
}
END_TEST

START_TEST(test_lp_parser_stops_at_given_length)
{
	struct lp_point	 p;
	char		 err[ERRLEN];
	const char	*s = "m f=1 123456";

	lp_point_init(&p);
	ck_assert_int_eq(lp_parse(s, 5, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.has_time, 0);
	ck_assert_int_eq(lp_parse(s, 8, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(p.time, 12);
	ck_assert_int_eq(lp_parse(s, 0, &p, err, sizeof(err)), -1);
	lp_point_cleanup(&p);
}
END_TEST

/* Build a point with the builders, encode it, compare with want. */
static void
check_encoding(const char *m, const char *tk, const char *tv,
    const char *fk, const char *fs, const char *want)
{
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN];

	lp_point_init(&p);
	buf_init(&b, LP_MAX_LINE);
	ck_assert_msg(lp_point_set_measurement(&p, m, err, sizeof(err)) == 0,
	    "%s", err);
	if (tk != NULL)
		ck_assert_msg(lp_point_tag(&p, tk, tv, 0, err,
		    sizeof(err)) == 0, "%s", err);
	if (fs != NULL)
		ck_assert_msg(lp_point_field_str(&p, fk, fs, err,
		    sizeof(err)) == 0, "%s", err);
	else
		ck_assert_msg(lp_point_field_int(&p, fk, 1, err,
		    sizeof(err)) == 0, "%s", err);
	ck_assert_msg(lp_encode(&p, &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(buf_str(&b), want);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}

START_TEST(test_lp_escapes_each_part_by_its_own_rules)
{
	check_encoding("a b,c=d", NULL, NULL, "f", NULL, "a\\ b\\,c=d f=1i\n");
	check_encoding("m\\x", NULL, NULL, "f", NULL, "m\\x f=1i\n");
	check_encoding(" m ", NULL, NULL, "f", NULL, "\\ m\\  f=1i\n");
	check_encoding("m", "k ,=", "v ,=\"", "f", NULL,
	    "m,k\\ \\,\\==v\\ \\,\\=\" f=1i\n");
	check_encoding("m", "k", "a\\b\\,c", "f", NULL,
	    "m,k=a\\b\\\\,c f=1i\n");
	check_encoding("m", NULL, NULL, "f ,=\"", NULL,
	    "m f\\ \\,\\=\"=1i\n");
	check_encoding("m", NULL, NULL, "s", "a \"b\" \\c\\ ,=",
	    "m s=\"a \\\"b\\\" \\\\c\\\\ ,=\"\n");
	check_encoding("m", NULL, NULL, "s", "", "m s=\"\"\n");
	check_encoding("\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "f",
	    NULL, "\xc3\xa9,\xe2\x82\xac=\xf0\x9f\x98\x80 f=1i\n");
	check_encoding("m", "t", "", "f", NULL, "m f=1i\n");
}
END_TEST

START_TEST(test_lp_writes_every_field_type)
{
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN];

	lp_point_init(&p);
	buf_init(&b, 1024);
	ck_assert_int_eq(lp_point_set_measurement(&p, "m", err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_field_int(&p, "i", INT64_MIN, err, ERRLEN),
	    0);
	ck_assert_int_eq(lp_point_field_uint(&p, "u", UINT64_MAX, err,
	    ERRLEN), 0);
	ck_assert_int_eq(lp_point_field_bool(&p, "t", 7, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_field_bool(&p, "f", 0, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_field_float(&p, "x", 0.1, err, ERRLEN), 0);
	lp_point_set_time(&p, -1);
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
	ck_assert_str_eq(buf_str(&b), "m i=-9223372036854775808i,"
	    "u=18446744073709551615u,t=true,f=false,x=0.1 -1\n");
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}
END_TEST

static void
check_float(double v, const char *want)
{
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN], got[64];

	lp_point_init(&p);
	buf_init(&b, 1024);
	lp_point_set_measurement(&p, "m", err, ERRLEN);
	ck_assert_int_eq(lp_point_field_float(&p, "x", v, err, ERRLEN), 0);
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
	snprintf(got, sizeof(got), "%.*s", (int)(b.len - 5), b.data + 4);
	ck_assert_str_eq(got, want);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}

START_TEST(test_lp_writes_floats_with_fewest_exact_digits)
{
	check_float(0.1, "0.1");
	check_float(0.1 + 0.2, "0.30000000000000004");
	check_float(1.0 / 3.0, "0.3333333333333333");
	check_float(100, "100");
	check_float(-0.0, "-0");
	check_float(1e21, "1e+21");
	check_float(1e-5, "1e-05");
	check_float(DBL_MAX, "1.7976931348623157e+308");
	check_float(-DBL_MAX, "-1.7976931348623157e+308");
	check_float(DBL_MIN, "2.2250738585072014e-308");
	check_float(DBL_TRUE_MIN, "4.94065645841247e-324");
	check_float(9007199254740993.0, "9007199254740992");
	check_float(123456789.123456789, "123456789.12345679");
}
END_TEST

START_TEST(test_lp_refuses_what_influxdb_would_mangle)
{
	static const struct {
		const char *m, *tk, *tv, *fk, *fs;
		const char *why;
	} c[] = {
		{ "m\\", "t", "v", "f", NULL, "ends in a backslash" },
		{ "m", "t\\", "v", "f", NULL, "ends in a backslash" },
		{ "m", "t", "v\\", "f", NULL, "ends in a backslash" },
		{ "m", "t", "v", "f\\", NULL, "ends in a backslash" },
		{ "m\\,x", "t", "v", "f", NULL, "backslash before" },
		{ "m\\=x", "t", "v", "f", NULL, "backslash before" },
		{ "m", "t", "v", "f\\ x", NULL, "backslash before" },
		{ "#m", "t", "v", "f", NULL, "comment" },
		{ "\tm", "t", "v", "f", NULL, "tab" },
		{ "m", "time", "v", "f", NULL, "'time' is not allowed" },
		{ "m", "t", "v", "time", NULL, "'time' is not allowed" },
		{ "m", "t", "\xff", "f", NULL, "not valid UTF-8" },
		{ "m", "t", "v", "f", "\xc0\xaf", "not valid UTF-8" },
		{ "m", "t", "a\nb", "f", NULL, "newline" },
		{ "m", "t", "v", "f", "a\rb", "newline" },
		{ "", "t", "v", "f", NULL, "empty measurement" },
		{ "m", "", "v", "f", NULL, "empty tag key" },
		{ "m", "t", "v", "", NULL, "empty field key" },
	};
	struct lp_point	 p;
	char		 err[ERRLEN];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		lp_point_init(&p);
		err[0] = '\0';
		rc = lp_point_set_measurement(&p, c[i].m, err, ERRLEN);
		if (rc == 0)
			rc = lp_point_tag(&p, c[i].tk, c[i].tv, 0, err, ERRLEN);
		if (rc == 0 && c[i].fs != NULL)
			rc = lp_point_field_str(&p, c[i].fk, c[i].fs, err,
			    ERRLEN);
		else if (rc == 0)
			rc = lp_point_field_int(&p, c[i].fk, 1, err, ERRLEN);
		ck_assert_msg(rc == -1, "case %zu accepted", i);
		ck_assert_msg(strstr(err, c[i].why) != NULL,
		    "case %zu: '%s', want '%s'", i, err, c[i].why);
		lp_point_cleanup(&p);
	}
}
END_TEST

/*
 * lp_check_name() is the check the builders and the parser apply: a tag
 * key or value it refuses is refused by lp_point_tag() and lp_parse()
 * with the same reason, and one it takes goes through both.
 */
/* Each rule's reason, and when a name breaks several, the first rule's. */
START_TEST(test_lp_check_name_gives_the_first_broken_rule)
{
	static const struct {
		enum lp_name	 kind;
		const char	*s;
		const char	*why;		/* NULL: valid */
	} c[] = {
		{ LP_MEASUREMENT, "m", NULL },
		{ LP_MEASUREMENT, "a=b\\x", NULL },
		{ LP_FIELD_KEY, "timex", NULL },
		{ LP_TAG_VALUE, "time", NULL },
		{ LP_TAG_VALUE, "a\\,b", NULL },
		{ LP_TAG_VALUE, "0123456789abcdef\xc3\xa9", NULL },
		{ LP_MEASUREMENT, "", "empty measurement" },
		{ LP_MEASUREMENT, "#\xff\n\\", "measurement contains a newline" },
		{ LP_FIELD_KEY, "0123456789abcdef\xff\\", "field key is not "
		  "valid UTF-8" },
		{ LP_TAG_KEY, "\xc3", "tag key is not valid UTF-8" },
		{ LP_MEASUREMENT, "#a\\ b\\", "measurement ends in a backslash" },
		{ LP_MEASUREMENT, "#a\\ b", "measurement has a backslash before" },
		{ LP_FIELD_KEY, "a\\\"", "field key has a backslash before" },
		{ LP_TAG_KEY, "a\\ b", NULL },
		{ LP_MEASUREMENT, "#\tm", "measurement starts with '#'" },
		{ LP_MEASUREMENT, "\tm", "measurement starts with a tab" },
		{ LP_FIELD_KEY, "time", "field key 'time' is not allowed" },
		{ LP_TAG_KEY, "time", "tag key 'time' is not allowed" },
	};
	char	 err[ERRLEN];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = '\0';
		rc = lp_check_name(c[i].kind, c[i].s, err, ERRLEN);
		if (c[i].why == NULL) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
			continue;
		}
		ck_assert_msg(rc == -1, "case %zu accepted", i);
		ck_assert_msg(strstr(err, c[i].why) == err,
		    "case %zu: '%s', want '%s'", i, err, c[i].why);
	}
}
END_TEST

START_TEST(test_lp_check_name_is_the_builders_rule)
{
	static const struct {
		const char	*k, *v;
		const char	*why;		/* NULL: valid */
	} c[] = {
		{ "t", "v", NULL },
		{ "a b", "c,d=e", NULL },
		{ "t", "tab\there", NULL },
		{ "t", "\xc3\xa9t\xc3\xa9", NULL },
		{ "t", "v\\", "tag value ends in a backslash, which would "
		    "escape the delimiter after it" },
		{ "t\\", "v", "tag key ends in a backslash" },
		{ "t", "\xff", "tag value is not valid UTF-8" },
		{ "t", "a\nb", "tag value contains a newline" },
		{ "t", "a\rb", "tag value contains a newline" },
		{ "t", "", "empty tag value" },
		{ "", "v", "empty tag key" },
		{ "time", "v", "tag key 'time' is not allowed" },
	};
	struct lp_point	 p;
	char		 err[ERRLEN], err2[ERRLEN], line[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		err[0] = '\0';
		rc = lp_check_name(LP_TAG_KEY, c[i].k, err, ERRLEN);
		if (rc == 0)
			rc = lp_check_name(LP_TAG_VALUE, c[i].v, err, ERRLEN);
		if (c[i].why == NULL) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, err);
			continue;
		}
		ck_assert_msg(rc == -1, "case %zu accepted", i);
		ck_assert_msg(strstr(err, c[i].why) != NULL,
		    "case %zu: '%s', want '%s'", i, err, c[i].why);
		if (c[i].v[0] == '\0')
			continue;	/* the builder omits an empty tag */
		lp_point_init(&p);
		err2[0] = '\0';
		ck_assert_int_eq(lp_point_tag(&p, c[i].k, c[i].v, 0, err2,
		    ERRLEN), -1);
		ck_assert_str_eq(err2, err);
		snprintf(line, sizeof(line), "m,%s=%s f=1", c[i].k, c[i].v);
		if (strpbrk(c[i].k, ",= ") == NULL &&
		    strpbrk(c[i].v, ",= ") == NULL && c[i].k[0] != '\0')
			ck_assert_int_eq(lp_parse(line, strlen(line), &p, err2,
			    ERRLEN), -1);
		lp_point_cleanup(&p);
	}
}
END_TEST

START_TEST(test_lp_refuses_nan_inf_and_bad_time)
{
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN];

	lp_point_init(&p);
	buf_init(&b, 1024);
	lp_point_set_measurement(&p, "m", err, ERRLEN);
	ck_assert_int_eq(lp_point_field_float(&p, "x", NAN, err, ERRLEN), -1);
	ck_assert_ptr_nonnull(strstr(err, "NaN"));
	ck_assert_int_eq(lp_point_field_float(&p, "x", -INFINITY, err,
	    ERRLEN), -1);
	ck_assert_ptr_nonnull(strstr(err, "infinity"));
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), -1);
	ck_assert_str_eq(err, "no fields");
	ck_assert_int_eq(lp_point_field_float(&p, "x", 1, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_field_float(&p, "x", 2, err, ERRLEN), -1);
	ck_assert_ptr_nonnull(strstr(err, "duplicate field 'x'"));
	lp_point_set_time(&p, INT64_MAX);
	buf_adds(&b, "keep");
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), -1);
	ck_assert_str_eq(err, "timestamp out of range");
	ck_assert_str_eq(buf_str(&b), "keep");
	lp_point_set_time(&p, INT64_MIN + 2);
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
	ck_assert_str_eq(buf_str(&b), "keepm x=1 -9223372036854775806\n");
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}
END_TEST

START_TEST(test_lp_keeps_tags_sorted_and_unique)
{
	struct lp_point	 p;
	char		 err[ERRLEN];

	lp_point_init(&p);
	ck_assert_int_eq(lp_point_tag(&p, "c", "3", 0, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_tag(&p, "a", "1", 0, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_tag(&p, "b", "2", 0, err, ERRLEN), 0);
	ck_assert_int_eq(lp_point_tag(&p, "a", "x", 0, err, ERRLEN), 0);
	ck_assert_str_eq(lp_point_get_tag(&p, "a"), "1");
	ck_assert_int_eq(lp_point_tag(&p, "a", "y", 1, err, ERRLEN), 0);
	ck_assert_str_eq(lp_point_get_tag(&p, "a"), "y");
	ck_assert_uint_eq(p.ntags, 3);
	ck_assert_str_eq(p.tags[0].key, "a");
	ck_assert_str_eq(p.tags[1].key, "b");
	ck_assert_str_eq(p.tags[2].key, "c");
	ck_assert_int_eq(lp_point_tag(&p, "b", "", 1, err, ERRLEN), 0);
	ck_assert_ptr_null(lp_point_get_tag(&p, "b"));
	ck_assert_uint_eq(p.ntags, 2);
	ck_assert_ptr_null(lp_point_get_field(&p, "a"));
	lp_point_cleanup(&p);
	lp_point_cleanup(&p);
}
END_TEST

START_TEST(test_lp_handles_lines_up_to_the_maximum)
{
	struct lp_point	 p, q;
	struct buf	 b;
	char		 err[ERRLEN], *s;
	size_t		 n = LP_MAX_LINE - 10;

	lp_point_init(&p);
	lp_point_init(&q);
	buf_init(&b, 2 * LP_MAX_LINE);
	s = malloc(n + 1);
	memset(s, '"', n);
	s[n] = '\0';
	lp_point_set_measurement(&p, "m", err, ERRLEN);
	ck_assert_int_eq(lp_point_field_str(&p, "s", s + n / 2, err, ERRLEN),
	    0);
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
	ck_assert_int_eq(lp_parse(b.data, b.len - 1, &q, err, ERRLEN), 0);
	ck_assert_ptr_null(point_diff(&p, &q));
	buf_reset(&b);
	lp_point_reset(&p);
	lp_point_set_measurement(&p, "m", err, ERRLEN);
	ck_assert_int_eq(lp_point_field_str(&p, "s", s, err, ERRLEN), 0);
	buf_adds(&b, "x");
	ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), -1);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	ck_assert_str_eq(buf_str(&b), "x");
	free(s);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
	lp_point_cleanup(&q);
}
END_TEST

/* Randomized round trip. */

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

static double
p10_of(uint64_t k)
{
	double	p = 1;

	while (k-- > 0)
		p *= 10;
	return p;
}

static const char *const pieces[] = {
	" ", ",", "=", "\"", "\\", "\\", "a", "b", "Z", "0", "9", "-", ".",
	"#", "\t", "'", "\x01", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
	"\xf0\x9f\x98\x80", "time", "t", "i", "u", "\\ ", "\\,", "\\="
};

static char *
rnd_str(char *s, size_t cap)
{
	size_t	 n, len = 0, k, i;
	const char *pc;

	n = rnd() % 8 == 0 ? rnd() % 40 : rnd() % 6;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		pc = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
		k = strlen(pc);
		if (len + k >= cap)
			break;
		memcpy(s + len, pc, k + 1);
		len += k;
	}
	return s;
}

static double
rnd_double(void)
{
	static const double special[] = { 0.0, -0.0, DBL_MIN, DBL_MAX,
	    -DBL_MAX, DBL_TRUE_MIN, -DBL_TRUE_MIN, 1.0, 0.1, 1e21, 1e-7 };
	uint64_t u;
	double	 d;

	switch (rnd() % 4) {
	case 0:
		return special[rnd() % (sizeof(special) / sizeof(special[0]))];
	case 1:
		/* subnormals */
		u = rnd() & 0x800fffffffffffffULL;
		break;
	case 2:
		return (double)(int64_t)rnd() / (double)(rnd() % 1000 + 1);
	default:
		u = rnd();
		break;
	}
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* The encoder's text for a float before its fast case: %g, fewest digits. */
static void
slow_float(char *s, size_t len, double v)
{
	int	prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(s, len, "%.*g", prec, v);
		if (memcmp(&(double){ strtod(s, NULL) }, &v, sizeof(v)) == 0)
			return;
	}
	snprintf(s, len, "%.17g", v);
}

/*
 * The short decimals written in integer arithmetic (what the collectors
 * send: rounded to 4 places) come out as %g wrote them, digit for digit,
 * and so do the values around that fast case's bounds.
 */
START_TEST(test_lp_writes_short_floats_as_g_did)
{
	static const double edge[] = { 1e-4, 0.99999e-4, 1.00001e-4,
	    999999999999999.0, 1e15, 1e15 - 0.125, 99999999999999.9,
	    0.30000000000000004, 0.1 + 0.2, 123456.789012, 0.00010000000000001,
	    4.4044, 92.9491, 0.037, 1, 10, 0.5, 2.5e-4, 9007199254740993.0, 0.0,
	    -0.0 };
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN], got[64], want[64];
	uint64_t	 u;
	double		 v;
	int		 i, n = 0;

	rng = 0x9e3779b97f4a7c15ULL;
	lp_point_init(&p);
	buf_init(&b, 1024);
	for (i = 0; i < 200000; i++) {
		if (i < (int)(sizeof(edge) / sizeof(edge[0])))
			v = edge[i];
		else switch (i % 5) {
		case 0:		/* what latstats_round() gives */
			v = round((double)(rnd() % 100000000) / 1000.0 *
			    1e4) / 1e4;
			break;
		case 1:
			v = (double)(int64_t)(rnd() % 2000000000000000ULL) /
			    p10_of(rnd() % 12);
			break;
		case 2:
			v = (double)(rnd() % 1000000) / 1e4 * (rnd() % 2 ?
			    1 : -1);
			break;
		case 3:
			v = rnd_double();
			break;
		default:
			u = rnd();
			memcpy(&v, &u, sizeof(v));
			break;
		}
		if (!isfinite(v))
			continue;
		lp_point_reset(&p);
		lp_point_set_measurement(&p, "m", err, ERRLEN);
		ck_assert_int_eq(lp_point_field_float(&p, "x", v, err,
		    ERRLEN), 0);
		buf_reset(&b);
		ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
		snprintf(got, sizeof(got), "%.*s", (int)(b.len - 5),
		    b.data + 4);
		slow_float(want, sizeof(want), v);
		ck_assert_msg(strcmp(got, want) == 0, "%a: \"%s\", want \"%s\"",
		    v, got, want);
		n++;
	}
	ck_assert_int_gt(n, 150000);
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}
END_TEST

/*
 * A float read from a line is the double strtod() makes of its text, bit
 * for bit: short decimals (read without strtod()), long ones, exponents,
 * leading and trailing zeros, signs.
 */
START_TEST(test_lp_reads_floats_as_strtod_does)
{
	static const char *const edge[] = { "0", "-0", "0.0", "-0.0", ".5",
	    "5.", "0.0001", "1.50", "92.9491", "4.4044", "0.037",
	    "999999999999999", "9999999999999999", "0.1234567890123456",
	    "123456789012345.6", "1e5", "-1.5E-3", "0000000000000000000012.5",
	    "0.0000000000000000000001", "0.00000000000000000000001",
	    "9007199254740993", "1.7976931348623157e308" };
	struct lp_point		 p;
	const struct lp_field	*f;
	char			 err[ERRLEN], num[64], line[96];
	double			 want;
	size_t			 len, k;
	int			 i;

	rng = 4242;
	lp_point_init(&p);
	for (i = 0; i < 100000; i++) {
		if (i < (int)(sizeof(edge) / sizeof(edge[0])))
			snprintf(num, sizeof(num), "%s", edge[i]);
		else {
			len = 0;
			if (rnd() % 2)
				num[len++] = '-';
			for (k = rnd() % 4; k > 0; k--)
				num[len++] = '0';
			for (k = rnd() % 19 + 1; k > 0; k--) {
				if (rnd() % 8 == 0 && memchr(num, '.', len) ==
				    NULL)
					num[len++] = '.';
				num[len++] = (char)('0' + rnd() % 10);
			}
			num[len] = '\0';
		}
		snprintf(line, sizeof(line), "m x=%s", num);
		lp_point_reset(&p);
		ck_assert_msg(lp_parse(line, strlen(line), &p, err, ERRLEN) ==
		    0, "%s: %s", line, err);
		ck_assert_ptr_nonnull(f = lp_point_get_field(&p, "x"));
		ck_assert_int_eq(f->type, LP_FLOAT);
		want = strtod(num, NULL);
		ck_assert_msg(memcmp(&f->v.f, &want, sizeof(want)) == 0,
		    "%s: %a, strtod %a", num, f->v.f, want);
	}
	lp_point_cleanup(&p);
}
END_TEST

/* Integers, and the timestamp, in decimal as printf wrote them. */
START_TEST(test_lp_writes_integers_as_printf_did)
{
	static const int64_t edge[] = { 0, 1, -1, 9, 10, -10, INT64_MAX,
	    INT64_MIN, INT64_MIN + 1, 1796149123416234329LL };
	struct lp_point	 p;
	struct buf	 b;
	char		 err[ERRLEN], want[128];
	int64_t		 v;
	int		 i;

	rng = 12345;
	lp_point_init(&p);
	buf_init(&b, 1024);
	for (i = 0; i < 100000; i++) {
		v = i < (int)(sizeof(edge) / sizeof(edge[0])) ? edge[i] :
		    (int64_t)(rnd() >> (rnd() % 64));
		if (i % 2 && v != INT64_MIN)
			v = -v;
		lp_point_reset(&p);
		lp_point_set_measurement(&p, "m", err, ERRLEN);
		ck_assert_int_eq(lp_point_field_int(&p, "i", v, err,
		    ERRLEN), 0);
		ck_assert_int_eq(lp_point_field_uint(&p, "u", (uint64_t)v,
		    err, ERRLEN), 0);
		if (v >= LP_TIME_MIN && v <= LP_TIME_MAX)
			lp_point_set_time(&p, v);
		buf_reset(&b);
		ck_assert_int_eq(lp_encode(&p, &b, err, ERRLEN), 0);
		if (v >= LP_TIME_MIN && v <= LP_TIME_MAX)
			snprintf(want, sizeof(want), "m i=%" PRId64 "i,u=%"
			    PRIu64 "u %" PRId64 "\n", v, (uint64_t)v, v);
		else
			snprintf(want, sizeof(want), "m i=%" PRId64 "i,u=%"
			    PRIu64 "u\n", v, (uint64_t)v);
		ck_assert_str_eq(buf_str(&b), want);
	}
	buf_cleanup(&b);
	lp_point_cleanup(&p);
}
END_TEST

/*
 * Whether the builders must refuse s as a measurement or key; strict for
 * the measurement and field keys.
 */
static int
bad_name(const char *s, int measurement, int key, int strict)
{
	size_t	 n = strlen(s);
	const char	*p;

	for (p = s; strict && *p != '\0'; p++)
		if (p[0] == '\\' && p[1] != '\0' &&
		    strchr(", =\"", p[1]) != NULL)
			return 1;
	return n == 0 || s[n - 1] == '\\' ||
	    (measurement && (s[0] == '#' || s[0] == '\t')) ||
	    (key && strcmp(s, "time") == 0);
}

/* Fill p at random; keeps only what the builders accept. */
static void
rnd_point(struct lp_point *p)
{
	char	 s[256], t[256], err[ERRLEN];
	size_t	 i, n;
	int	 rc;
	double	 d;

	lp_point_reset(p);
	do {
		rnd_str(s, sizeof(s));
		rc = lp_point_set_measurement(p, s, err, ERRLEN);
		ck_assert_msg((rc == -1) == bad_name(s, 1, 0, 1),
		    "seed %" PRIu64 ": measurement '%s': %s", rng, s, err);
	} while (rc == -1);
	n = rnd() % 6;
	for (i = 0; i < n; i++) {
		rnd_str(s, sizeof(s));
		rnd_str(t, sizeof(t));
		rc = lp_point_tag(p, s, t, (int)(rnd() & 1), err, ERRLEN);
		ck_assert_msg((rc == -1) == (bad_name(s, 0, 1, 0) ||
		    (t[0] != '\0' && bad_name(t, 0, 0, 0))),
		    "tag '%s'='%s': %s", s, t, err);
	}
	n = 1 + rnd() % 6;
	for (i = 0; i < n || p->nfields == 0; i++) {
		rnd_str(s, sizeof(s));
		switch (rnd() % 5) {
		case LP_FLOAT:
			d = rnd_double();
			rc = lp_point_field_float(p, s, d, err, ERRLEN);
			ck_assert(rc == 0 || bad_name(s, 0, 1, 1) || 
			    !isfinite(d) ||
			    lp_point_get_field(p, s) != NULL);
			break;
		case LP_INT:
			rc = lp_point_field_int(p, s, rnd() % 3 == 0 ?
			    (rnd() & 1 ? INT64_MIN : INT64_MAX) :
			    (int64_t)rnd(), err, ERRLEN);
			break;
		case LP_UINT:
			rc = lp_point_field_uint(p, s, rnd() % 3 == 0 ?
			    UINT64_MAX : rnd() >> (rnd() % 64), err, ERRLEN);
			break;
		case LP_BOOL:
			rc = lp_point_field_bool(p, s, (int)(rnd() & 1), err,
			    ERRLEN);
			break;
		default:
			rc = lp_point_field_str(p, s, rnd_str(t, sizeof(t)),
			    err, ERRLEN);
			break;
		}
		(void)rc;
	}
	if (rnd() % 4 != 0) {
		lp_point_set_time(p, (int64_t)rnd());
		if (p->time < INT64_MIN + 2 || p->time > INT64_MAX - 1 ||
		    rnd() % 8 == 0)
			p->time = rnd() & 1 ? INT64_MIN + 2 : INT64_MAX - 1;
	}
}

START_TEST(test_lp_round_trips_random_points_exactly)
{
	struct lp_point	 p, q;
	struct buf	 b;
	char		 err[ERRLEN];
	uint64_t	 seed;
	const char	*diff, *env;
	int		 i;

	env = getenv("LP_SEED");
	seed = env != NULL ? strtoull(env, NULL, 0) :
	    (uint64_t)time(NULL) * 2654435761u + 1;
	rng = seed;
	lp_point_init(&p);
	lp_point_init(&q);
	buf_init(&b, 2 * LP_MAX_LINE);
	for (i = 0; i < ROUNDS; i++) {
		rnd_point(&p);
		buf_reset(&b);
		ck_assert_msg(lp_encode(&p, &b, err, ERRLEN) == 0,
		    "seed %" PRIu64 " round %d: encode: %s", seed, i, err);
		ck_assert_msg(b.len > 0 && b.data[b.len - 1] == '\n' &&
		    memchr(b.data, '\n', b.len - 1) == NULL,
		    "seed %" PRIu64 " round %d: not one line", seed, i);
		ck_assert_msg(lp_parse(b.data, b.len - 1, &q, err,
		    ERRLEN) == 0, "seed %" PRIu64 " round %d: parse '%s': %s",
		    seed, i, b.data, err);
		diff = point_diff(&p, &q);
		ck_assert_msg(diff == NULL, "seed %" PRIu64 " round %d: %s "
		    "differs after encode and parse of '%s'", seed, i, diff,
		    b.data);
	}
	buf_cleanup(&b);
	lp_point_cleanup(&p);
	lp_point_cleanup(&q);
}
END_TEST

static Suite *
lp_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("lp");
	tc = tcase_create("parse");
	tcase_add_test(tc, test_lp_parses_good_fixtures_to_expected_points);
	tcase_add_test(tc, test_lp_rejects_bad_fixtures_with_reason);
	tcase_add_test(tc, test_lp_rejects_unescaped_space);
	tcase_add_test(tc, test_lp_parser_stops_at_given_length);
	suite_add_tcase(s, tc);
	tc = tcase_create("encode");
	tcase_add_test(tc, test_lp_escapes_each_part_by_its_own_rules);
	tcase_add_test(tc, test_lp_writes_every_field_type);
	tcase_add_test(tc, test_lp_writes_floats_with_fewest_exact_digits);
	tcase_add_test(tc, test_lp_refuses_what_influxdb_would_mangle);
	tcase_add_test(tc, test_lp_check_name_is_the_builders_rule);
	tcase_add_test(tc, test_lp_check_name_gives_the_first_broken_rule);
	tcase_add_test(tc, test_lp_refuses_nan_inf_and_bad_time);
	tcase_add_test(tc, test_lp_keeps_tags_sorted_and_unique);
	tcase_add_test(tc, test_lp_handles_lines_up_to_the_maximum);
	suite_add_tcase(s, tc);
	tc = tcase_create("numbers");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lp_writes_short_floats_as_g_did);
	tcase_add_test(tc, test_lp_writes_integers_as_printf_did);
	tcase_add_test(tc, test_lp_reads_floats_as_strtod_does);
	suite_add_tcase(s, tc);
	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lp_round_trips_random_points_exactly);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(lp)
