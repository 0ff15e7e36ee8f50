/*
 * lp_enc.c: InfluxDB line protocol, the encoder: a point checked against
 * the rules of the model (lp.c, which says how InfluxDB reads escapes)
 * and written as one line.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/lp_enc.h"

/* Append s, a backslash before each byte of esc in it. */
static int
put_escaped(struct buf *b, const char *s, const char *esc)
{
	size_t	 n;

	for (;;) {
		n = strcspn(s, esc);
		if (n > 0 && buf_add(b, s, n) == -1)
			return -1;
		if (s[n] == '\0')
			return 0;
		if (buf_addc(b, '\\') == -1 || buf_addc(b, s[n]) == -1)
			return -1;
		s += n + 1;
	}
}

static int
put_name(struct buf *b, enum lp_name kind, const char *s)
{
	return put_escaped(b, s, kind == LP_MEASUREMENT ? ", " : ", =");
}

static int
put_string(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1 || put_escaped(b, s, "\"\\") == -1)
		return -1;
	return buf_addc(b, '"');
}

/* Powers of ten, each a double exactly. */
static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9 };

/*
 * Append u in decimal, with a minus sign when neg, and a decimal point
 * before its last k digits.
 */
static int
put_digits(struct buf *b, uint64_t u, int neg, int k)
{
	char	 s[32], *p = s + sizeof(s);
	int	 i = 0;

	do {
		if (i++ == k && k > 0)
			*--p = '.';
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0 || i <= k);
	if (neg)
		*--p = '-';
	return buf_add(b, p, (size_t)(s + sizeof(s) - p));
}

/*
 * The fast case of lp_put_float(), for a short decimal (the collectors round
 * to 4 places), in integer arithmetic: 1 when v is not one.  A decimal
 * m / 10^k of at most 15 digits whose correctly rounded quotient is v is
 * what strtod() reads back as v, and what %.15g prints for v: v is within
 * half an ulp of it, far less than half a unit in its 15th digit.  With the
 * least such k it ends in no zero.  Fixed notation only: %g writes an
 * exponent below 1e-4 and from 1e15 on.  And +0 (-0 is "-0").
 */
static int
put_short_float(struct buf *b, double v)
{
	double		a = v < 0 ? -v : v, x;
	uint64_t	m;
	size_t		k;

	if (v == 0 && !signbit(v))
		return buf_addc(b, '0');
	if (!(a >= 1e-4 && a < 1e15))
		return 1;
	for (k = 0; k < sizeof(p10) / sizeof(p10[0]); k++) {
		if ((x = a * p10[k]) >= 1e15)
			return 1;
		m = (uint64_t)(x + 0.5);
		if ((double)m / p10[k] == a)
			return put_digits(b, m, v < 0, (int)k);
	}
	return 1;
}

int
lp_put_float(struct buf *b, double v)
{
	char	 s[40];
	int	 prec, r;

	if ((r = put_short_float(b, v)) != 1)
		return r;
	for (prec = 15; prec < 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (memcmp(&(double){ strtod(s, NULL) }, &v, sizeof(v)) == 0)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof(s), "%.17g", v);
	return buf_adds(b, s);
}

/* Append v in decimal, then suffix unless it is NUL. */
static int
put_int(struct buf *b, int64_t v, char suffix)
{
	uint64_t	u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	if (put_digits(b, u, v < 0, 0) == -1)
		return -1;
	return suffix != '\0' ? buf_addc(b, suffix) : 0;
}

static int
put_field(struct buf *b, const struct lp_field *f)
{
	if (put_name(b, LP_FIELD_KEY, f->key) == -1 ||
	    buf_addc(b, '=') == -1)
		return -1;
	switch (f->type) {
	case LP_FLOAT:
		return lp_put_float(b, f->v.f);
	case LP_INT:
		return put_int(b, f->v.i, 'i');
	case LP_UINT:
		return put_digits(b, f->v.u, 0, 0) == -1 ? -1 :
		    buf_addc(b, 'u');
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
		lp_seterr(err, errlen, "no measurement");
		return -1;
	}
	if (lp_check_name(LP_MEASUREMENT, p->measurement, err, errlen) == -1)
		return -1;
	for (i = 0; i < p->ntags; i++) {
		if (lp_check_name(LP_TAG_KEY, p->tags[i].key, err,
		    errlen) == -1)
			return -1;
		if (p->tags[i].value[0] != '\0' &&
		    lp_check_name(LP_TAG_VALUE, p->tags[i].value, err,
		    errlen) == -1)
			return -1;
		if (i > 0 && strcmp(p->tags[i - 1].key, p->tags[i].key) >= 0) {
			lp_seterr(err, errlen, "tags not sorted or not unique");
			return -1;
		}
	}
	if (p->nfields == 0) {
		lp_seterr(err, errlen, "no fields");
		return -1;
	}
	for (i = 0; i < p->nfields; i++)
		if (lp_check_field(&p->fields[i], err, errlen) == -1)
			return -1;
	if (p->has_time && (p->time < LP_TIME_MIN || p->time > LP_TIME_MAX)) {
		lp_seterr(err, errlen, "timestamp out of range");
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
	if (put_name(out, LP_MEASUREMENT, p->measurement) == -1)
		goto full;
	for (i = 0; i < p->ntags; i++) {
		if (p->tags[i].value[0] == '\0')
			continue;
		if (buf_addc(out, ',') == -1 ||
		    put_name(out, LP_TAG_KEY, p->tags[i].key) == -1 ||
		    buf_addc(out, '=') == -1 ||
		    put_name(out, LP_TAG_VALUE, p->tags[i].value) == -1)
			goto full;
	}
	for (i = 0; i < p->nfields; i++)
		if (buf_addc(out, i == 0 ? ' ' : ',') == -1 ||
		    put_field(out, &p->fields[i]) == -1)
			goto full;
	if (p->has_time && (buf_addc(out, ' ') == -1 ||
	    put_int(out, p->time, '\0') == -1))
		goto full;
	if (out->len - start > LP_MAX_LINE) {
		lp_seterr(err, errlen, "line longer than %d bytes",
		    LP_MAX_LINE);
		goto done;
	}
	if (buf_addc(out, '\n') == -1)
		goto full;
	return 0;
full:
	lp_seterr(err, errlen, "output buffer: %s", strerror(errno));
done:
	buf_truncate(out, start);
	return rc;
}
