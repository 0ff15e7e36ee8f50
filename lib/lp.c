/*
 * lp.c: InfluxDB line protocol: the point model, and the rules that the
 * encoder (lp_enc.c) and the parser (lp_parse.c) both enforce.
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
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lp.h"

static const char *const name_what[] = {
	"measurement", "tag key", "tag value", "field key"
};

void
lp_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
lp_quote(char *dst, size_t dstlen, const char *s, size_t n)
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

size_t
lp_utf8_invalid(const char *s, size_t n)
{
	size_t		 i = 0, k;
	uint64_t	 w;

	while (i < n) {
		/* Eight ASCII bytes at a time. */
		if (n - i >= 8) {
			memcpy(&w, s + i, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				i += 8;
				continue;
			}
		}
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
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
		lp_seterr(err, errlen, "%s contains a newline", what);
		return -1;
	}
	if (lp_utf8_invalid(s, n) != n) {
		lp_seterr(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

/* The bytes lp_check_name() looks at twice: newlines, '\\', non-ASCII. */
static const unsigned char name_special[256] = {
	['\n'] = 1, ['\r'] = 1, ['\\'] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xa0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xb0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xc0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xd0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xe0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xf0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

int
lp_check_name(enum lp_name kind, const char *s, char *err, size_t errlen)
{
	const char	*what = name_what[kind];
	size_t		 n;
	int		 nl = 0, high = 0, bs = 0;
	unsigned char	 c;

	/*
	 * One pass notes what the rules below look for (names are checked
	 * on the way in and again by the encoder, in the run and in the
	 * daemon); the reasons come in the order of the rules.
	 */
	for (n = 0; (c = (unsigned char)s[n]) != '\0'; n++) {
		if (!name_special[c])
			continue;
		if (c >= 0x80)
			high = 1;
		else if (c == '\n' || c == '\r')
			nl = 1;
		else if (s[n + 1] != '\0' && strchr(",= \"", s[n + 1]) != NULL)
			bs = 1;
	}
	if (n == 0) {
		lp_seterr(err, errlen, "empty %s", what);
		return -1;
	}
	if (nl) {
		lp_seterr(err, errlen, "%s contains a newline", what);
		return -1;
	}
	if (high && lp_utf8_invalid(s, n) != n) {
		lp_seterr(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	if (s[n - 1] == '\\') {
		lp_seterr(err, errlen, "%s ends in a backslash, which would "
		    "escape the delimiter after it", what);
		return -1;
	}
	if ((kind == LP_MEASUREMENT || kind == LP_FIELD_KEY) && bs) {
		lp_seterr(err, errlen, "%s has a backslash before ',', ' ', "
		    "'=' or '\"', which InfluxDB does not read back", what);
		return -1;
	}
	if (kind == LP_MEASUREMENT && s[0] == '#') {
		lp_seterr(err, errlen, "measurement starts with '#' (a comment "
		    "line)");
		return -1;
	}
	if (kind == LP_MEASUREMENT && s[0] == '\t') {
		lp_seterr(err, errlen, "measurement starts with a tab (leading "
		    "whitespace is trimmed)");
		return -1;
	}
	if ((kind == LP_TAG_KEY || kind == LP_FIELD_KEY) && n == 4 &&
	    memcmp(s, "time", 4) == 0) {
		lp_seterr(err, errlen, "%s 'time' is not allowed", what);
		return -1;
	}
	return 0;
}

int
lp_check_field(const struct lp_field *f, char *err, size_t errlen)
{
	char	 what[64], q[LP_QUOTE_MAX + 8];

	if (lp_check_name(LP_FIELD_KEY, f->key, err, errlen) == -1)
		return -1;
	if (f->type == LP_FLOAT && !isfinite(f->v.f)) {
		lp_seterr(err, errlen, "field '%s': %s is not allowed",
		    lp_quote(q, sizeof(q), f->key, strlen(f->key)),
		    isnan(f->v.f) ? "NaN" : "infinity");
		return -1;
	}
	/* The name for the error is written only for an error. */
	if (f->type == LP_STRING && check_text("", f->v.s, NULL, 0) == -1) {
		snprintf(what, sizeof(what), "field '%s'",
		    lp_quote(q, sizeof(q), f->key, strlen(f->key)));
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

int
lp_point_take_measurement(struct lp_point *p, char *s, char *err,
    size_t errlen)
{
	if (lp_check_name(LP_MEASUREMENT, s, err, errlen) == -1) {
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
		lp_seterr(err, errlen, "out of memory");
		return -1;
	}
	return lp_point_take_measurement(p, s, err, errlen);
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

int
lp_point_take_tag(struct lp_point *p, char *key, char *value, int replace,
    int *dup, char *err, size_t errlen)
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
		lp_seterr(err, errlen, "more than %d tags", LP_MAX_TAGS);
		goto fail;
	}
	if (p->ntags == p->tags_alloc) {
		n = p->tags_alloc ? p->tags_alloc * 2 : 8;
		if ((t = grow_array(p->tags, n, sizeof(*t))) == NULL) {
			lp_seterr(err, errlen, "out of memory");
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

	if (lp_check_name(LP_TAG_KEY, key, err, errlen) == -1)
		return -1;
	/* InfluxDB stores no empty tag value: such a tag is simply absent. */
	if (value[0] == '\0') {
		if (replace)
			tag_remove(p, key);
		return 0;
	}
	if (lp_check_name(LP_TAG_VALUE, value, err, errlen) == -1)
		return -1;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		lp_seterr(err, errlen, "out of memory");
		return -1;
	}
	return lp_point_take_tag(p, k, v, replace, NULL, err, errlen);
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

	/* The first bytes differ for most: no call for those. */
	for (i = 0; i < p->nfields; i++)
		if (p->fields[i].key[0] == key[0] &&
		    strcmp(p->fields[i].key, key) == 0)
			return &p->fields[i];
	return NULL;
}

int
lp_point_take_field(struct lp_point *p, struct lp_field *f, char *err,
    size_t errlen)
{
	struct lp_field	*nf;
	size_t		 n;
	char		 q[LP_QUOTE_MAX + 8];

	if (lp_check_field(f, err, errlen) == -1)
		goto fail;
	if (lp_point_get_field(p, f->key) != NULL) {
		lp_seterr(err, errlen, "duplicate field '%s'",
		    lp_quote(q, sizeof(q), f->key, strlen(f->key)));
		goto fail;
	}
	if (p->nfields >= LP_MAX_FIELDS) {
		lp_seterr(err, errlen, "more than %d fields", LP_MAX_FIELDS);
		goto fail;
	}
	if (p->nfields == p->fields_alloc) {
		n = p->fields_alloc ? p->fields_alloc * 2 : 8;
		if ((nf = grow_array(p->fields, n, sizeof(*nf))) == NULL) {
			lp_seterr(err, errlen, "out of memory");
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
		lp_seterr(err, errlen, "out of memory");
		return -1;
	}
	return lp_point_take_field(p, f, err, errlen);
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
		lp_seterr(err, errlen, "out of memory");
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
