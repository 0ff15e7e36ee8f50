/*
 * lp_enc.c: InfluxDB line protocol, the encoder: a point checked against
 * the rules of the model (lp.c, which says how InfluxDB reads escapes)
 * and written as one line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "lib/lp_enc.h"

static int
put_name(struct buf *b, enum lp_name kind, const char *s)
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
			esc = kind != LP_MEASUREMENT;
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
	if (put_name(b, LP_FIELD_KEY, f->key) == -1 ||
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
	if (p->has_time && buf_addf(out, " %" PRId64, p->time) == -1)
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
