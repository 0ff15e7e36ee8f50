/*
 * payload.c: a point as one JSON object (see payload.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/lp.h"
#include "sinks/mqttship/payload.h"

static int
put_str(struct buf *b, const char *s)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		c;
	int			r = buf_addc(b, '"');

	for (; *s != '\0' && r == 0; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			if ((r = buf_addc(b, '\\')) == 0)
				r = buf_addc(b, (char)c);
		} else if (c == '\n')
			r = buf_adds(b, "\\n");
		else if (c == '\r')
			r = buf_adds(b, "\\r");
		else if (c == '\t')
			r = buf_adds(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = buf_addf(b, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		else
			r = buf_addc(b, (char)c);
	}
	return r == 0 ? buf_addc(b, '"') : -1;
}

/* The fewest digits that read back to v, as lib/lp_enc.c writes it. */
static int
put_float(struct buf *b, double v)
{
	char	 s[48];
	int	 prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (memcmp(&(double){ strtod(s, NULL) }, &v, sizeof(v)) == 0)
			break;
	}
	if (prec == 17)
		snprintf(s, sizeof(s), "%.17g", v);
	if (strpbrk(s, ".e") == NULL)
		strcat(s, ".0");
	return buf_adds(b, s);
}

static int
put_field(struct buf *b, const struct lp_field *f)
{
	if (put_str(b, f->key) == -1 || buf_addc(b, ':') == -1)
		return -1;
	switch (f->type) {
	case LP_FLOAT:
		return put_float(b, f->v.f);
	case LP_INT:
		return buf_addf(b, "%" PRId64, f->v.i);
	case LP_UINT:
		return buf_addf(b, "%" PRIu64, f->v.u);
	case LP_BOOL:
		return buf_adds(b, f->v.b ? "true" : "false");
	case LP_STRING:
		return put_str(b, f->v.s);
	}
	return -1;
}

int
mqtt_payload_json(const struct lp_point *p, struct buf *out)
{
	size_t	start = out->len, i;
	int	r;

	r = buf_adds(out, "{\"measurement\":");
	if (r == 0)
		r = put_str(out, p->measurement);
	if (r == 0)
		r = buf_adds(out, ",\"tags\":{");
	for (i = 0; i < p->ntags && r == 0; i++) {
		if (i > 0)
			r = buf_addc(out, ',');
		if (r == 0)
			r = put_str(out, p->tags[i].key);
		if (r == 0)
			r = buf_addc(out, ':');
		if (r == 0)
			r = put_str(out, p->tags[i].value);
	}
	if (r == 0)
		r = buf_adds(out, "},\"fields\":{");
	for (i = 0; i < p->nfields && r == 0; i++) {
		if (i > 0)
			r = buf_addc(out, ',');
		if (r == 0)
			r = put_field(out, &p->fields[i]);
	}
	if (r == 0)
		r = buf_addc(out, '}');
	if (r == 0 && p->has_time)
		r = buf_addf(out, ",\"time\":%" PRId64, p->time);
	if (r == 0)
		r = buf_addc(out, '}');
	if (r == -1)
		buf_truncate(out, start);
	return r;
}
