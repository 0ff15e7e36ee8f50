/*
 * lp_parse.c: InfluxDB line protocol, the strict parser: a line read into
 * a point that obeys the rules of the model (lp.c, which says how InfluxDB
 * reads escapes), or the first problem of the line named.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lp.h"
#include "lib/lp_parse.h"

struct scan {
	const char	*s;
	size_t		 n;
	size_t		 i;
	char		*err;
	size_t		 errlen;
};

/* Whether s[i] is escaped: the byte before it is a backslash. */
static int
escaped(const struct scan *sc, size_t i)
{
	return i > 0 && sc->s[i - 1] == '\\';
}

/* Copy s[from, to) undoing "\,", "\ " and "\=". */
static char *
unescape_name(const char *s, size_t from, size_t to)
{
	char	*d, *out;
	size_t	 i;

	if ((out = malloc(to - from + 1)) == NULL)
		return NULL;
	for (d = out, i = from; i < to; i++) {
		if (s[i] == '\\' && i + 1 < to &&
		    (s[i + 1] == ',' || s[i + 1] == ' ' || s[i + 1] == '='))
			i++;
		*d++ = s[i];
	}
	*d = '\0';
	return out;
}

/* A key as error messages quote it, written only when one does. */
struct quoted {
	const char	*s;
	size_t		 n;
	char		 buf[LP_QUOTE_MAX + 8];
};

static const char *
qk(struct quoted *k)
{
	return lp_quote(k->buf, sizeof(k->buf), k->s, k->n);
}

/* Whether strchr(set, c) would find c: c is in set, or is its NUL. */
static int
in_set(const char *set, char c)
{
	for (; *set != '\0'; set++)
		if (*set == c)
			return 1;
	return c == '\0';
}

/*
 * Scan a name starting at sc->i up to the first unescaped byte of stop;
 * an unescaped byte of bad first is an error.  Returns the stop byte, '\0'
 * at the end of the line, or -1.
 */
static int
scan_name(struct scan *sc, const char *stop, const char *bad, size_t *end)
{
	const char	*p;
	size_t		 i;
	unsigned char	 top = 0;

	/* A byte above every byte of stop and bad is neither. */
	for (p = stop; *p != '\0'; p++)
		top = (unsigned char)*p > top ? (unsigned char)*p : top;
	for (p = bad; p != NULL && *p != '\0'; p++)
		top = (unsigned char)*p > top ? (unsigned char)*p : top;
	for (i = sc->i; i < sc->n; i++) {
		if ((unsigned char)sc->s[i] > top)
			continue;
		if (escaped(sc, i))
			continue;
		if (in_set(stop, sc->s[i])) {
			*end = i;
			return (unsigned char)sc->s[i];
		}
		if (bad != NULL && in_set(bad, sc->s[i])) {
			*end = i;
			return -1;
		}
	}
	*end = sc->n;
	return '\0';
}

static const char *
char_name(char c)
{
	switch (c) {
	case ' ':
		return "space";
	case ',':
		return "comma";
	case '=':
		return "'='";
	default:
		return "character";
	}
}

static int
parse_measurement(struct scan *sc, struct lp_point *p)
{
	size_t	 end;
	int	 c;
	char	*m;

	c = scan_name(sc, ", ", NULL, &end);
	if (end == sc->i) {
		lp_seterr(sc->err, sc->errlen, "missing measurement");
		return -1;
	}
	if (c == '\0') {
		lp_seterr(sc->err, sc->errlen, "no fields");
		return -1;
	}
	if ((m = unescape_name(sc->s, sc->i, end)) == NULL) {
		lp_seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	if (lp_point_take_measurement(p, m, sc->err, sc->errlen) == -1)
		return -1;
	sc->i = end;
	return 0;
}

static int
parse_tag(struct scan *sc, struct lp_point *p)
{
	struct quoted	 q;
	size_t		 kstart = sc->i, kend, vend;
	int		 c, dup;
	char		*k, *v;

	c = scan_name(sc, "=", ", ", &kend);
	if (kend == kstart) {
		lp_seterr(sc->err, sc->errlen, "missing tag key");
		return -1;
	}
	q.s = sc->s + kstart;
	q.n = kend - kstart;
	if (c == '\0') {
		lp_seterr(sc->err, sc->errlen, "tag '%s': no value and no "
		    "fields", qk(&q));
		return -1;
	}
	if (c != '=') {
		lp_seterr(sc->err, sc->errlen, "tag '%s': unescaped %s in tag "
		    "key or missing '='", qk(&q), char_name(sc->s[kend]));
		return -1;
	}
	sc->i = kend + 1;
	c = scan_name(sc, ", ", "=", &vend);
	if (c == -1) {
		lp_seterr(sc->err, sc->errlen, "tag '%s': unescaped '=' in tag "
		    "value", qk(&q));
		return -1;
	}
	if (vend == sc->i) {
		lp_seterr(sc->err, sc->errlen, "tag '%s': missing tag value",
		    qk(&q));
		return -1;
	}
	if (c == '\0') {
		lp_seterr(sc->err, sc->errlen, "no fields");
		return -1;
	}
	k = unescape_name(sc->s, kstart, kend);
	v = unescape_name(sc->s, sc->i, vend);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		lp_seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	if (lp_check_name(LP_TAG_KEY, k, sc->err, sc->errlen) == -1 ||
	    lp_check_name(LP_TAG_VALUE, v, sc->err, sc->errlen) == -1) {
		free(k);
		free(v);
		return -1;
	}
	if (lp_point_take_tag(p, k, v, 0, &dup, sc->err, sc->errlen) == -1)
		return -1;
	if (dup) {
		lp_seterr(sc->err, sc->errlen, "duplicate tag '%s'", qk(&q));
		return -1;
	}
	sc->i = vend;
	return 0;
}

/* A string value from the opening quote at sc->i; sc->i ends past it. */
static int
parse_string(struct scan *sc, struct quoted *q, char **out)
{
	size_t	 j;
	char	*d;

	for (j = sc->i + 1; j < sc->n; j++) {
		if (sc->s[j] == '\\' && j + 1 < sc->n &&
		    (sc->s[j + 1] == '"' || sc->s[j + 1] == '\\'))
			j++;
		else if (sc->s[j] == '"')
			break;
	}
	if (j >= sc->n) {
		lp_seterr(sc->err, sc->errlen, "field '%s': unterminated "
		    "string", qk(q));
		return -1;
	}
	if (j + 1 < sc->n && sc->s[j + 1] != ',' && sc->s[j + 1] != ' ') {
		lp_seterr(sc->err, sc->errlen, "field '%s': characters after "
		    "the closing quote", qk(q));
		return -1;
	}
	if ((*out = d = malloc(j - sc->i)) == NULL) {
		lp_seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	for (sc->i++; sc->i < j; sc->i++) {
		if (sc->s[sc->i] == '\\' &&
		    (sc->s[sc->i + 1] == '"' || sc->s[sc->i + 1] == '\\'))
			sc->i++;
		*d++ = sc->s[sc->i];
	}
	*d = '\0';
	sc->i = j + 1;
	return 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Decimal digits to uint64; -1 on overflow. */
static int
to_u64(const char *s, size_t n, uint64_t *v)
{
	size_t	 i;
	uint64_t d;

	*v = 0;
	for (i = 0; i < n; i++) {
		d = (uint64_t)(s[i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

/* "-?digits" to int64 within [min, max]: 0, -1 syntax, -2 range. */
static int
to_i64(const char *s, size_t n, int64_t min, int64_t max, int64_t *v)
{
	uint64_t u;
	int	 neg = n > 0 && s[0] == '-';

	if (!all_digits(s + neg, n - neg))
		return -1;
	if (to_u64(s + neg, n - neg, &u) == -1)
		return -2;
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return -2;
		*v = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return -2;
		*v = (int64_t)u;
	}
	return *v < min || *v > max ? -2 : 0;
}

/* Go's ParseFloat syntax as InfluxDB's scanner lets it through. */
static int
float_syntax(const char *s, size_t n)
{
	size_t	 i = 0, d = 0;

	if (i < n && s[i] == '-')
		i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		d++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			d++;
	if (d == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!all_digits(s + i, n - i))
			return 0;
		i = n;
	}
	return i == n;
}

/* Powers of ten, each a double exactly. */
static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22 };

/*
 * The value of t[0 .. n - 1], a number float_syntax() accepted, when it
 * has no exponent and at most 15 significant digits: then m / 10^k (m its
 * digits, k those after the point) divides two exact doubles, and the
 * quotient, correctly rounded, is what strtod() returns (Clinger's fast
 * path), without its copy and its general case.  0 when t is not one.
 */
static int
short_decimal(const char *t, size_t n, double *v)
{
	uint64_t	m = 0;
	size_t		i = 0, digits = 0, k = 0;
	int		frac = 0;

	if (n > 0 && t[0] == '-')
		i = 1;
	for (; i < n; i++) {
		if (t[i] == '.') {
			frac = 1;
			continue;
		}
		if (t[i] < '0' || t[i] > '9')
			return 0;
		if (frac)
			k++;
		if (m == 0 && t[i] == '0')
			continue;
		if (++digits > 15)
			return 0;
		m = m * 10 + (uint64_t)(t[i] - '0');
	}
	if (k >= sizeof(p10) / sizeof(p10[0]))
		return 0;
	*v = (double)m / p10[k];
	if (t[0] == '-')
		*v = -*v;
	return 1;
}

static int
parse_number(struct scan *sc, struct quoted *q, const char *t, size_t n,
    struct lp_field *f)
{
	static const char *const truth[] = { "t", "T", "true", "True",
	    "TRUE" };
	static const char *const lies[] = { "f", "F", "false", "False",
	    "FALSE" };
	char	 qv[LP_QUOTE_MAX + 8], *tmp;
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(truth) / sizeof(truth[0]); i++) {
		if (strlen(truth[i]) == n && memcmp(truth[i], t, n) == 0) {
			f->type = LP_BOOL;
			f->v.b = 1;
			return 0;
		}
		if (strlen(lies[i]) == n && memcmp(lies[i], t, n) == 0) {
			f->type = LP_BOOL;
			f->v.b = 0;
			return 0;
		}
	}
	if (n == 0) {
		lp_seterr(sc->err, sc->errlen, "field '%s': missing value",
		    qk(q));
		return -1;
	}
	if (t[n - 1] == 'i') {
		f->type = LP_INT;
		rc = to_i64(t, n - 1, INT64_MIN, INT64_MAX, &f->v.i);
	} else if (t[n - 1] == 'u') {
		f->type = LP_UINT;
		rc = all_digits(t, n - 1) ? to_u64(t, n - 1, &f->v.u) * 2 : -1;
	} else {
		f->type = LP_FLOAT;
		if (!float_syntax(t, n))
			rc = -1;
		else if (short_decimal(t, n, &f->v.f))
			rc = 0;
		else if ((tmp = strndup(t, n)) == NULL) {
			lp_seterr(sc->err, sc->errlen, "out of memory");
			return -1;
		} else {
			f->v.f = strtod(tmp, NULL);
			free(tmp);
			rc = isinf(f->v.f) ? -2 : 0;
		}
	}
	if (rc == -1)
		lp_seterr(sc->err, sc->errlen, "field '%s': invalid number "
		    "'%s'", qk(q), lp_quote(qv, sizeof(qv), t, n));
	else if (rc == -2)
		lp_seterr(sc->err, sc->errlen, "field '%s': number out of "
		    "range '%s'", qk(q), lp_quote(qv, sizeof(qv), t, n));
	return rc == 0 ? 0 : -1;
}

static int
parse_field(struct scan *sc, struct lp_point *p)
{
	struct lp_field	 f;
	size_t		 kstart = sc->i, kend, vend;
	int		 c;
	struct quoted	 q;

	memset(&f, 0, sizeof(f));
	c = scan_name(sc, "=", ", ", &kend);
	q.s = sc->s + kstart;
	q.n = kend - kstart;
	if (kend == kstart) {
		lp_seterr(sc->err, sc->errlen, "missing field key");
		return -1;
	}
	if (c == -1 && sc->s[kend] == ' ' && p->nfields == 0) {
		if (p->ntags > 0)
			lp_seterr(sc->err, sc->errlen, "unescaped space in tag "
			    "value '%s' or field key",
			    p->tags[p->ntags - 1].value);
		else
			lp_seterr(sc->err, sc->errlen, "unescaped space in "
			    "measurement or field key");
		return -1;
	}
	if (c == -1) {
		lp_seterr(sc->err, sc->errlen, "field '%s': unescaped %s in "
		    "field key or missing '='", qk(&q), char_name(sc->s[kend]));
		return -1;
	}
	if (c == '\0') {
		lp_seterr(sc->err, sc->errlen, "field '%s': missing '=' and "
		    "value", qk(&q));
		return -1;
	}
	sc->i = kend + 1;
	if (sc->i < sc->n && sc->s[sc->i] == '"') {
		f.type = LP_STRING;
		if (parse_string(sc, &q, &f.v.s) == -1)
			return -1;
	} else {
		for (vend = sc->i; vend < sc->n && sc->s[vend] != ',' &&
		    sc->s[vend] != ' '; vend++)
			;
		if (parse_number(sc, &q, sc->s + sc->i, vend - sc->i,
		    &f) == -1)
			return -1;
		sc->i = vend;
	}
	if ((f.key = unescape_name(sc->s, kstart, kend)) == NULL) {
		if (f.type == LP_STRING)
			free(f.v.s);
		lp_seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	return lp_point_take_field(p, &f, sc->err, sc->errlen);
}

static int
parse_time(struct scan *sc, struct lp_point *p)
{
	const char	*t = sc->s + sc->i;
	size_t		 n;
	char		 q[LP_QUOTE_MAX + 8];

	for (n = 0; sc->i + n < sc->n && t[n] != ' '; n++)
		;
	if (n == 0) {
		lp_seterr(sc->err, sc->errlen, "trailing space");
		return -1;
	}
	switch (to_i64(t, n, LP_TIME_MIN, LP_TIME_MAX, &p->time)) {
	case -1:
		lp_seterr(sc->err, sc->errlen, "invalid timestamp '%s'",
		    lp_quote(q, sizeof(q), t, n));
		return -1;
	case -2:
		lp_seterr(sc->err, sc->errlen, "timestamp out of range '%s'",
		    lp_quote(q, sizeof(q), t, n));
		return -1;
	}
	p->has_time = 1;
	if (sc->i + n < sc->n) {
		lp_seterr(sc->err, sc->errlen, "trailing characters after "
		    "timestamp");
		return -1;
	}
	return 0;
}

static void
skip_spaces(struct scan *sc)
{
	while (sc->i < sc->n && sc->s[sc->i] == ' ')
		sc->i++;
}

static int
parse_line(struct scan *sc, struct lp_point *p)
{
	size_t	 bad;

	if (sc->n == 0) {
		lp_seterr(sc->err, sc->errlen, "empty line");
		return -1;
	}
	if (sc->n > LP_MAX_LINE) {
		lp_seterr(sc->err, sc->errlen, "line longer than %d bytes",
		    LP_MAX_LINE);
		return -1;
	}
	if (memchr(sc->s, '\0', sc->n) != NULL) {
		lp_seterr(sc->err, sc->errlen, "NUL byte in line");
		return -1;
	}
	if (memchr(sc->s, '\n', sc->n) != NULL ||
	    memchr(sc->s, '\r', sc->n) != NULL) {
		lp_seterr(sc->err, sc->errlen, "carriage return or newline in "
		    "line");
		return -1;
	}
	if ((bad = lp_utf8_invalid(sc->s, sc->n)) != sc->n) {
		lp_seterr(sc->err, sc->errlen, "invalid UTF-8 at byte %zu",
		    bad);
		return -1;
	}
	if (sc->s[0] == '#') {
		lp_seterr(sc->err, sc->errlen, "comment line");
		return -1;
	}
	if (sc->s[0] == ' ' || sc->s[0] == '\t') {
		lp_seterr(sc->err, sc->errlen, "leading whitespace");
		return -1;
	}
	if (parse_measurement(sc, p) == -1)
		return -1;
	while (sc->s[sc->i] == ',') {
		sc->i++;
		if (parse_tag(sc, p) == -1)
			return -1;
	}
	skip_spaces(sc);
	if (sc->i == sc->n) {
		lp_seterr(sc->err, sc->errlen, "no fields");
		return -1;
	}
	for (;;) {
		if (parse_field(sc, p) == -1)
			return -1;
		if (sc->i == sc->n)
			return 0;
		if (sc->s[sc->i] == ' ')
			break;
		sc->i++;
	}
	skip_spaces(sc);
	return parse_time(sc, p);
}

int
lp_parse(const char *line, size_t len, struct lp_point *p, char *err,
    size_t errlen)
{
	struct scan	 sc = { line, len, 0, err, errlen };

	lp_point_reset(p);
	if (parse_line(&sc, p) == -1) {
		lp_point_reset(p);
		return -1;
	}
	return 0;
}
