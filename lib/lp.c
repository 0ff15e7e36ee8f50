/*
 * lp.c: InfluxDB line protocol, encoder and strict parser.
 *
 * The escaping rules follow what InfluxDB 1.6.7 (Debian "influxdb") does,
 * established by writing lines to a real influxd and reading them back
 * through /query (tests/integration/lp_influxdb.sh keeps checking it):
 *
 * - In the measurement, tag keys, tag values and field keys, a ',', ' ' or
 *   '=' counts as escaped when the byte just before it is a backslash, and
 *   the pairs "\,", "\ " and "\=" read back as the bare character (this
 *   holds for "\=" in the measurement too).  Any other backslash is kept
 *   as it is, so "\\" stays two backslashes: a backslash is written bare.
 * - Hence a name ending in a backslash cannot be written: the backslash
 *   escapes the delimiter after it ("invalid tag format").  Refused.
 * - In the measurement and in field keys a backslash before a ',', ' ', '='
 *   or '"' cannot be written either: field keys are scanned in escape
 *   pairs, so "f\\,=1" is "invalid field format"; "m\\,x" reads back as
 *   "m,x", "m\=x" as "m=x", and "m\"" and "f\"=1" lose their backslash.
 *   Refused.  In tag keys and values all of these read back unchanged
 *   ("t=a\\,b" is "a\,b", "t=\"" is "\"").
 * - An unescaped '=' in a tag value is refused by influxd, so '=' is
 *   escaped in keys and tag values; in the measurement it is written bare.
 * - A line whose first byte is '#' is a comment and silently dropped, and
 *   "\#" reads back with its backslash: a measurement starting with '#' is
 *   refused.  Leading spaces and tabs of a line are trimmed: a leading
 *   space is escaped, a measurement starting with a tab is refused.
 * - String fields: "\\" and "\"" are escapes; the encoder escapes every
 *   backslash and double quote.
 * - Invalid UTF-8 is stored, but /query returns U+FFFD in its place: every
 *   string must be valid UTF-8.  Other bytes, controls included, survive.
 * - Empty tag values are refused ("missing tag value"): such a tag is not
 *   stored.  A tag key or field key "time" is dropped ("partial write").
 * - Timestamps must lie in [INT64_MIN + 2, INT64_MAX - 1].
 * - InfluxDB 1.x refuses unsigned integers ("5u": "invalid number"); 2.x
 *   takes them.  They are encoded as "u" all the same; see
 *   docs/line-protocol.md.
 * - Floats are read with Go's ParseFloat: "1e-05", ".5", "1." and "-0"
 *   read back exactly; "+1", "inf" and "NaN" are refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"

#define LP_TIME_MIN	(INT64_MIN + 2)
#define LP_TIME_MAX	(INT64_MAX - 1)
#define LP_QUOTE_MAX	40	/* bytes of input quoted in a reason */

enum name_kind {
	NAME_MEASUREMENT,
	NAME_TAG_KEY,
	NAME_TAG_VALUE,
	NAME_FIELD_KEY
};

static const char *const name_what[] = {
	"measurement", "tag key", "tag value", "field key"
};

static void seterr(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A printable, bounded copy of untrusted bytes for an error message. */
static const char *
quote(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t	 i, j;

	for (i = j = 0; i < n && j + 4 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[j++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		if (i + 1 == LP_QUOTE_MAX && n > LP_QUOTE_MAX) {
			memcpy(dst + j, "...", 3);
			j += 3;
			break;
		}
	}
	dst[j] = '\0';
	return dst;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char	 c = s[0];
	size_t		 len, i;
	uint32_t	 cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Offset of the first byte that is not valid UTF-8, or n. */
static size_t
utf8_invalid(const char *s, size_t n)
{
	size_t	 i = 0, k;

	while (i < n) {
		if ((k = utf8_seq((const unsigned char *)s + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

/* realloc() for n elements of size bytes, checking the product. */
static void *
grow_array(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

static int
check_text(const char *what, const char *s, char *err, size_t errlen)
{
	size_t	 n = strlen(s);

	if (strpbrk(s, "\n\r") != NULL) {
		seterr(err, errlen, "%s contains a newline", what);
		return -1;
	}
	if (utf8_invalid(s, n) != n) {
		seterr(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

/* Whether a backslash comes right before a ',', ' ', '=' or '"'. */
static int
backslash_before_special(const char *s)
{
	for (; *s != '\0'; s++)
		if (s[0] == '\\' && s[1] != '\0' &&
		    strchr(",= \"", s[1]) != NULL)
			return 1;
	return 0;
}

/* The rules every measurement, key and tag value obeys. */
static int
check_name(enum name_kind kind, const char *s, char *err, size_t errlen)
{
	const char	*what = name_what[kind];
	size_t		 n = strlen(s);

	if (n == 0) {
		seterr(err, errlen, "empty %s", what);
		return -1;
	}
	if (check_text(what, s, err, errlen) == -1)
		return -1;
	if (s[n - 1] == '\\') {
		seterr(err, errlen, "%s ends in a backslash, which would "
		    "escape the delimiter after it", what);
		return -1;
	}
	if ((kind == NAME_MEASUREMENT || kind == NAME_FIELD_KEY) &&
	    backslash_before_special(s)) {
		seterr(err, errlen, "%s has a backslash before ',', ' ', '=' "
		    "or '\"', which InfluxDB does not read back", what);
		return -1;
	}
	if (kind == NAME_MEASUREMENT && s[0] == '#') {
		seterr(err, errlen, "measurement starts with '#' (a comment "
		    "line)");
		return -1;
	}
	if (kind == NAME_MEASUREMENT && s[0] == '\t') {
		seterr(err, errlen, "measurement starts with a tab (leading "
		    "whitespace is trimmed)");
		return -1;
	}
	if ((kind == NAME_TAG_KEY || kind == NAME_FIELD_KEY) &&
	    strcmp(s, "time") == 0) {
		seterr(err, errlen, "%s 'time' is not allowed", what);
		return -1;
	}
	return 0;
}

static int
check_field(const struct lp_field *f, char *err, size_t errlen)
{
	char	 what[64], q[LP_QUOTE_MAX + 8];

	if (check_name(NAME_FIELD_KEY, f->key, err, errlen) == -1)
		return -1;
	if (f->type == LP_FLOAT && !isfinite(f->v.f)) {
		seterr(err, errlen, "field '%s': %s is not allowed",
		    quote(q, sizeof(q), f->key, strlen(f->key)),
		    isnan(f->v.f) ? "NaN" : "infinity");
		return -1;
	}
	if (f->type == LP_STRING) {
		snprintf(what, sizeof(what), "field '%s'",
		    quote(q, sizeof(q), f->key, strlen(f->key)));
		return check_text(what, f->v.s, err, errlen);
	}
	return 0;
}

void
lp_point_init(struct lp_point *p)
{
	memset(p, 0, sizeof(*p));
}

void
lp_point_reset(struct lp_point *p)
{
	size_t	 i;

	free(p->measurement);
	p->measurement = NULL;
	for (i = 0; i < p->ntags; i++) {
		free(p->tags[i].key);
		free(p->tags[i].value);
	}
	p->ntags = 0;
	for (i = 0; i < p->nfields; i++) {
		free(p->fields[i].key);
		if (p->fields[i].type == LP_STRING)
			free(p->fields[i].v.s);
	}
	p->nfields = 0;
	p->time = 0;
	p->has_time = 0;
}

void
lp_point_cleanup(struct lp_point *p)
{
	if (p == NULL)
		return;
	lp_point_reset(p);
	free(p->tags);
	free(p->fields);
	lp_point_init(p);
}

/* Take ownership of s (heap) as the measurement. */
static int
set_measurement_take(struct lp_point *p, char *s, char *err, size_t errlen)
{
	if (check_name(NAME_MEASUREMENT, s, err, errlen) == -1) {
		free(s);
		return -1;
	}
	free(p->measurement);
	p->measurement = s;
	return 0;
}

int
lp_point_set_measurement(struct lp_point *p, const char *m, char *err,
    size_t errlen)
{
	char	*s;

	if ((s = strdup(m)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return set_measurement_take(p, s, err, errlen);
}

/* Index of key in the sorted tags, or where it would go (*found = 0). */
static size_t
tag_find(const struct lp_point *p, const char *key, int *found)
{
	size_t	 lo = 0, hi = p->ntags, mid;
	int	 c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(p->tags[mid].key, key);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

/*
 * Insert a tag, taking ownership of key and value (both heap).  With dup
 * non-NULL a key already present is reported through *dup and nothing
 * changes.
 */
static int
tag_take(struct lp_point *p, char *key, char *value, int replace, int *dup,
    char *err, size_t errlen)
{
	struct lp_tag	*t;
	size_t		 i, n;
	int		 found;

	if (dup != NULL)
		*dup = 0;
	i = tag_find(p, key, &found);
	if (found) {
		if (dup != NULL)
			*dup = 1;
		if (replace) {
			free(p->tags[i].value);
			p->tags[i].value = value;
			free(key);
		} else {
			free(key);
			free(value);
		}
		return 0;
	}
	if (p->ntags >= LP_MAX_TAGS) {
		seterr(err, errlen, "more than %d tags", LP_MAX_TAGS);
		goto fail;
	}
	if (p->ntags == p->tags_alloc) {
		n = p->tags_alloc ? p->tags_alloc * 2 : 8;
		if ((t = grow_array(p->tags, n, sizeof(*t))) == NULL) {
			seterr(err, errlen, "out of memory");
			goto fail;
		}
		p->tags = t;
		p->tags_alloc = n;
	}
	memmove(p->tags + i + 1, p->tags + i,
	    (p->ntags - i) * sizeof(*p->tags));
	p->tags[i].key = key;
	p->tags[i].value = value;
	p->ntags++;
	return 0;
fail:
	free(key);
	free(value);
	return -1;
}

static void
tag_remove(struct lp_point *p, const char *key)
{
	size_t	 i;
	int	 found;

	i = tag_find(p, key, &found);
	if (!found)
		return;
	free(p->tags[i].key);
	free(p->tags[i].value);
	memmove(p->tags + i, p->tags + i + 1,
	    (p->ntags - i - 1) * sizeof(*p->tags));
	p->ntags--;
}

int
lp_point_tag(struct lp_point *p, const char *key, const char *value,
    int replace, char *err, size_t errlen)
{
	char	*k, *v;

	if (check_name(NAME_TAG_KEY, key, err, errlen) == -1)
		return -1;
	/* InfluxDB stores no empty tag value: such a tag is simply absent. */
	if (value[0] == '\0') {
		if (replace)
			tag_remove(p, key);
		return 0;
	}
	if (check_name(NAME_TAG_VALUE, value, err, errlen) == -1)
		return -1;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return tag_take(p, k, v, replace, NULL, err, errlen);
}

const char *
lp_point_get_tag(const struct lp_point *p, const char *key)
{
	size_t	 i;
	int	 found;

	i = tag_find(p, key, &found);
	return found ? p->tags[i].value : NULL;
}

const struct lp_field *
lp_point_get_field(const struct lp_point *p, const char *key)
{
	size_t	 i;

	for (i = 0; i < p->nfields; i++)
		if (strcmp(p->fields[i].key, key) == 0)
			return &p->fields[i];
	return NULL;
}

/*
 * Append a field, taking ownership of f->key and of f->v.s for a string,
 * which are freed on failure.
 */
static int
field_take(struct lp_point *p, struct lp_field *f, char *err, size_t errlen)
{
	struct lp_field	*nf;
	size_t		 n;
	char		 q[LP_QUOTE_MAX + 8];

	if (check_field(f, err, errlen) == -1)
		goto fail;
	if (lp_point_get_field(p, f->key) != NULL) {
		seterr(err, errlen, "duplicate field '%s'",
		    quote(q, sizeof(q), f->key, strlen(f->key)));
		goto fail;
	}
	if (p->nfields >= LP_MAX_FIELDS) {
		seterr(err, errlen, "more than %d fields", LP_MAX_FIELDS);
		goto fail;
	}
	if (p->nfields == p->fields_alloc) {
		n = p->fields_alloc ? p->fields_alloc * 2 : 8;
		if ((nf = grow_array(p->fields, n, sizeof(*nf))) == NULL) {
			seterr(err, errlen, "out of memory");
			goto fail;
		}
		p->fields = nf;
		p->fields_alloc = n;
	}
	p->fields[p->nfields++] = *f;
	return 0;
fail:
	free(f->key);
	if (f->type == LP_STRING)
		free(f->v.s);
	return -1;
}

static int
field_add(struct lp_point *p, struct lp_field *f, const char *key,
    char *err, size_t errlen)
{
	if ((f->key = strdup(key)) == NULL) {
		if (f->type == LP_STRING)
			free(f->v.s);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return field_take(p, f, err, errlen);
}

int
lp_point_field_float(struct lp_point *p, const char *key, double v,
    char *err, size_t errlen)
{
	struct lp_field	 f = { .type = LP_FLOAT, .v.f = v };

	return field_add(p, &f, key, err, errlen);
}

int
lp_point_field_int(struct lp_point *p, const char *key, int64_t v,
    char *err, size_t errlen)
{
	struct lp_field	 f = { .type = LP_INT, .v.i = v };

	return field_add(p, &f, key, err, errlen);
}

int
lp_point_field_uint(struct lp_point *p, const char *key, uint64_t v,
    char *err, size_t errlen)
{
	struct lp_field	 f = { .type = LP_UINT, .v.u = v };

	return field_add(p, &f, key, err, errlen);
}

int
lp_point_field_bool(struct lp_point *p, const char *key, int v,
    char *err, size_t errlen)
{
	struct lp_field	 f = { .type = LP_BOOL, .v.b = v != 0 };

	return field_add(p, &f, key, err, errlen);
}

int
lp_point_field_str(struct lp_point *p, const char *key, const char *v,
    char *err, size_t errlen)
{
	struct lp_field	 f = { .type = LP_STRING };

	if ((f.v.s = strdup(v)) == NULL) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return field_add(p, &f, key, err, errlen);
}

void
lp_point_set_time(struct lp_point *p, int64_t ns)
{
	p->time = ns;
	p->has_time = 1;
}

/* Encoder. */

static int
put_name(struct buf *b, enum name_kind kind, const char *s)
{
	const char	*p;
	int		 esc;

	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case ',':
		case ' ':
			esc = 1;
			break;
		case '=':
			esc = kind != NAME_MEASUREMENT;
			break;
		default:
			esc = 0;
			break;
		}
		if (esc && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *p) == -1)
			return -1;
	}
	return 0;
}

static int
put_string(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *s) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

static int
put_float(struct buf *b, double v)
{
	char	 s[40];
	int	 prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (memcmp(&(double){ strtod(s, NULL) }, &v, sizeof(v)) == 0)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof(s), "%.17g", v);
	return buf_adds(b, s);
}

static int
put_field(struct buf *b, const struct lp_field *f)
{
	if (put_name(b, NAME_FIELD_KEY, f->key) == -1 ||
	    buf_addc(b, '=') == -1)
		return -1;
	switch (f->type) {
	case LP_FLOAT:
		return put_float(b, f->v.f);
	case LP_INT:
		return buf_addf(b, "%" PRId64 "i", f->v.i);
	case LP_UINT:
		return buf_addf(b, "%" PRIu64 "u", f->v.u);
	case LP_BOOL:
		return buf_adds(b, f->v.b ? "true" : "false");
	case LP_STRING:
		return put_string(b, f->v.s);
	}
	return -1;
}

static int
check_point(const struct lp_point *p, char *err, size_t errlen)
{
	size_t	 i;

	if (p->measurement == NULL) {
		seterr(err, errlen, "no measurement");
		return -1;
	}
	if (check_name(NAME_MEASUREMENT, p->measurement, err, errlen) == -1)
		return -1;
	for (i = 0; i < p->ntags; i++) {
		if (check_name(NAME_TAG_KEY, p->tags[i].key, err,
		    errlen) == -1)
			return -1;
		if (p->tags[i].value[0] != '\0' &&
		    check_name(NAME_TAG_VALUE, p->tags[i].value, err,
		    errlen) == -1)
			return -1;
		if (i > 0 && strcmp(p->tags[i - 1].key, p->tags[i].key) >= 0) {
			seterr(err, errlen, "tags not sorted or not unique");
			return -1;
		}
	}
	if (p->nfields == 0) {
		seterr(err, errlen, "no fields");
		return -1;
	}
	for (i = 0; i < p->nfields; i++)
		if (check_field(&p->fields[i], err, errlen) == -1)
			return -1;
	if (p->has_time && (p->time < LP_TIME_MIN || p->time > LP_TIME_MAX)) {
		seterr(err, errlen, "timestamp out of range");
		return -1;
	}
	return 0;
}

int
lp_encode(const struct lp_point *p, struct buf *out, char *err,
    size_t errlen)
{
	size_t	 start = out->len, i;
	int	 rc = -1;

	if (check_point(p, err, errlen) == -1)
		return -1;
	if (put_name(out, NAME_MEASUREMENT, p->measurement) == -1)
		goto full;
	for (i = 0; i < p->ntags; i++) {
		if (p->tags[i].value[0] == '\0')
			continue;
		if (buf_addc(out, ',') == -1 ||
		    put_name(out, NAME_TAG_KEY, p->tags[i].key) == -1 ||
		    buf_addc(out, '=') == -1 ||
		    put_name(out, NAME_TAG_VALUE, p->tags[i].value) == -1)
			goto full;
	}
	for (i = 0; i < p->nfields; i++)
		if (buf_addc(out, i == 0 ? ' ' : ',') == -1 ||
		    put_field(out, &p->fields[i]) == -1)
			goto full;
	if (p->has_time && buf_addf(out, " %" PRId64, p->time) == -1)
		goto full;
	if (out->len - start > LP_MAX_LINE) {
		seterr(err, errlen, "line longer than %d bytes", LP_MAX_LINE);
		goto done;
	}
	if (buf_addc(out, '\n') == -1)
		goto full;
	return 0;
full:
	seterr(err, errlen, "output buffer: %s", strerror(errno));
done:
	buf_truncate(out, start);
	return rc;
}

/* Parser. */

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

/*
 * Scan a name starting at sc->i up to the first unescaped byte of stop;
 * an unescaped byte of bad first is an error.  Returns the stop byte, '\0'
 * at the end of the line, or -1.
 */
static int
scan_name(struct scan *sc, const char *stop, const char *bad, size_t *end)
{
	size_t	 i;

	for (i = sc->i; i < sc->n; i++) {
		if (escaped(sc, i))
			continue;
		if (strchr(stop, sc->s[i]) != NULL) {
			*end = i;
			return (unsigned char)sc->s[i];
		}
		if (bad != NULL && strchr(bad, sc->s[i]) != NULL) {
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
		seterr(sc->err, sc->errlen, "missing measurement");
		return -1;
	}
	if (c == '\0') {
		seterr(sc->err, sc->errlen, "no fields");
		return -1;
	}
	if ((m = unescape_name(sc->s, sc->i, end)) == NULL) {
		seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	if (set_measurement_take(p, m, sc->err, sc->errlen) == -1)
		return -1;
	sc->i = end;
	return 0;
}

static int
parse_tag(struct scan *sc, struct lp_point *p)
{
	size_t	 kstart = sc->i, kend, vend;
	int	 c, dup;
	char	*k, *v, q[LP_QUOTE_MAX + 8];

	c = scan_name(sc, "=", ", ", &kend);
	if (kend == kstart) {
		seterr(sc->err, sc->errlen, "missing tag key");
		return -1;
	}
	quote(q, sizeof(q), sc->s + kstart, kend - kstart);
	if (c == '\0') {
		seterr(sc->err, sc->errlen, "tag '%s': no value and no fields",
		    q);
		return -1;
	}
	if (c != '=') {
		seterr(sc->err, sc->errlen, "tag '%s': unescaped %s in tag key "
		    "or missing '='", q, char_name(sc->s[kend]));
		return -1;
	}
	sc->i = kend + 1;
	c = scan_name(sc, ", ", "=", &vend);
	if (c == -1) {
		seterr(sc->err, sc->errlen, "tag '%s': unescaped '=' in tag "
		    "value", q);
		return -1;
	}
	if (vend == sc->i) {
		seterr(sc->err, sc->errlen, "tag '%s': missing tag value", q);
		return -1;
	}
	if (c == '\0') {
		seterr(sc->err, sc->errlen, "no fields");
		return -1;
	}
	k = unescape_name(sc->s, kstart, kend);
	v = unescape_name(sc->s, sc->i, vend);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	if (check_name(NAME_TAG_KEY, k, sc->err, sc->errlen) == -1 ||
	    check_name(NAME_TAG_VALUE, v, sc->err, sc->errlen) == -1) {
		free(k);
		free(v);
		return -1;
	}
	if (tag_take(p, k, v, 0, &dup, sc->err, sc->errlen) == -1)
		return -1;
	if (dup) {
		seterr(sc->err, sc->errlen, "duplicate tag '%s'", q);
		return -1;
	}
	sc->i = vend;
	return 0;
}

/* A string value from the opening quote at sc->i; sc->i ends past it. */
static int
parse_string(struct scan *sc, const char *q, char **out)
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
		seterr(sc->err, sc->errlen, "field '%s': unterminated string",
		    q);
		return -1;
	}
	if (j + 1 < sc->n && sc->s[j + 1] != ',' && sc->s[j + 1] != ' ') {
		seterr(sc->err, sc->errlen, "field '%s': characters after the "
		    "closing quote", q);
		return -1;
	}
	if ((*out = d = malloc(j - sc->i)) == NULL) {
		seterr(sc->err, sc->errlen, "out of memory");
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

static int
parse_number(struct scan *sc, const char *q, const char *t, size_t n,
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
	quote(qv, sizeof(qv), t, n);
	if (n == 0) {
		seterr(sc->err, sc->errlen, "field '%s': missing value", q);
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
		else if ((tmp = strndup(t, n)) == NULL) {
			seterr(sc->err, sc->errlen, "out of memory");
			return -1;
		} else {
			f->v.f = strtod(tmp, NULL);
			free(tmp);
			rc = isinf(f->v.f) ? -2 : 0;
		}
	}
	if (rc == -1)
		seterr(sc->err, sc->errlen, "field '%s': invalid number '%s'",
		    q, qv);
	else if (rc == -2)
		seterr(sc->err, sc->errlen, "field '%s': number out of range "
		    "'%s'", q, qv);
	return rc == 0 ? 0 : -1;
}

static int
parse_field(struct scan *sc, struct lp_point *p)
{
	struct lp_field	 f;
	size_t		 kstart = sc->i, kend, vend;
	int		 c;
	char		 q[LP_QUOTE_MAX + 8];

	memset(&f, 0, sizeof(f));
	c = scan_name(sc, "=", ", ", &kend);
	quote(q, sizeof(q), sc->s + kstart, kend - kstart);
	if (kend == kstart) {
		seterr(sc->err, sc->errlen, "missing field key");
		return -1;
	}
	if (c == -1 && sc->s[kend] == ' ' && p->nfields == 0) {
		if (p->ntags > 0)
			seterr(sc->err, sc->errlen, "unescaped space in tag "
			    "value '%s' or field key",
			    p->tags[p->ntags - 1].value);
		else
			seterr(sc->err, sc->errlen, "unescaped space in "
			    "measurement or field key");
		return -1;
	}
	if (c == -1) {
		seterr(sc->err, sc->errlen, "field '%s': unescaped %s in field "
		    "key or missing '='", q, char_name(sc->s[kend]));
		return -1;
	}
	if (c == '\0') {
		seterr(sc->err, sc->errlen, "field '%s': missing '=' and "
		    "value", q);
		return -1;
	}
	sc->i = kend + 1;
	if (sc->i < sc->n && sc->s[sc->i] == '"') {
		f.type = LP_STRING;
		if (parse_string(sc, q, &f.v.s) == -1)
			return -1;
	} else {
		for (vend = sc->i; vend < sc->n && sc->s[vend] != ',' &&
		    sc->s[vend] != ' '; vend++)
			;
		if (parse_number(sc, q, sc->s + sc->i, vend - sc->i,
		    &f) == -1)
			return -1;
		sc->i = vend;
	}
	if ((f.key = unescape_name(sc->s, kstart, kend)) == NULL) {
		if (f.type == LP_STRING)
			free(f.v.s);
		seterr(sc->err, sc->errlen, "out of memory");
		return -1;
	}
	return field_take(p, &f, sc->err, sc->errlen);
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
		seterr(sc->err, sc->errlen, "trailing space");
		return -1;
	}
	switch (to_i64(t, n, LP_TIME_MIN, LP_TIME_MAX, &p->time)) {
	case -1:
		seterr(sc->err, sc->errlen, "invalid timestamp '%s'",
		    quote(q, sizeof(q), t, n));
		return -1;
	case -2:
		seterr(sc->err, sc->errlen, "timestamp out of range '%s'",
		    quote(q, sizeof(q), t, n));
		return -1;
	}
	p->has_time = 1;
	if (sc->i + n < sc->n) {
		seterr(sc->err, sc->errlen, "trailing characters after "
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
		seterr(sc->err, sc->errlen, "empty line");
		return -1;
	}
	if (sc->n > LP_MAX_LINE) {
		seterr(sc->err, sc->errlen, "line longer than %d bytes",
		    LP_MAX_LINE);
		return -1;
	}
	if (memchr(sc->s, '\0', sc->n) != NULL) {
		seterr(sc->err, sc->errlen, "NUL byte in line");
		return -1;
	}
	if (memchr(sc->s, '\n', sc->n) != NULL ||
	    memchr(sc->s, '\r', sc->n) != NULL) {
		seterr(sc->err, sc->errlen, "carriage return or newline in "
		    "line");
		return -1;
	}
	if ((bad = utf8_invalid(sc->s, sc->n)) != sc->n) {
		seterr(sc->err, sc->errlen, "invalid UTF-8 at byte %zu", bad);
		return -1;
	}
	if (sc->s[0] == '#') {
		seterr(sc->err, sc->errlen, "comment line");
		return -1;
	}
	if (sc->s[0] == ' ' || sc->s[0] == '\t') {
		seterr(sc->err, sc->errlen, "leading whitespace");
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
		seterr(sc->err, sc->errlen, "no fields");
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
