/*
 * lp.h: InfluxDB line protocol: the point model and the rules it obeys.
 * The encoder is lib/lp_enc.h, the strict parser lib/lp_parse.h.
 *
 * A point is a measurement, tags (kept sorted by key, unique), typed fields
 * (in insertion order, unique) and an optional timestamp in nanoseconds.
 * lp_encode() writes exactly one line that InfluxDB 1.x and 2.x read back
 * to the same values; lp_parse() accepts exactly the lines lp_encode() can
 * produce (plus the other spellings of line protocol, such as booleans
 * written "t" or "True") and names the first problem of any other line.
 *
 * Rules enforced on both sides: a non-empty measurement, keys and tag values
 * non-empty, no '\n' or '\r' anywhere (the pipe from a collector is line
 * based), no key named "time", at least one field, finite floats only,
 * integers in range.  A tag with an empty value is omitted by the encoder
 * (InfluxDB stores no empty tag values; a query reads it back as empty).
 */
#ifndef LIB_LP_H
#define LIB_LP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The encoder and the parser have their own headers; they are included
 * here so that callers from before the split (scheduler/, sinks/, which
 * name only lib/lp.h) still build.  New code includes what it uses.
 */
#include "lib/lp_enc.h"
#include "lib/lp_parse.h"

#define LP_MAX_TAGS	256	/* per point, parser and builder */
#define LP_MAX_FIELDS	256
#define LP_MAX_LINE	(64 * 1024)	/* longest line the parser takes */

enum lp_type {
	LP_FLOAT,
	LP_INT,		/* "123i" */
	LP_UINT,	/* "123u" */
	LP_BOOL,
	LP_STRING
};

struct lp_tag {
	char		*key;
	char		*value;
};

struct lp_field {
	char		*key;
	enum lp_type	 type;
	union {
		double	 f;
		int64_t	 i;
		uint64_t u;
		int	 b;
		char	*s;
	} v;
};

struct lp_point {
	char		*measurement;
	struct lp_tag	*tags;		/* sorted by key (strcmp), unique */
	size_t		 ntags;
	struct lp_field	*fields;	/* in insertion order, unique keys */
	size_t		 nfields;
	int64_t		 time;		/* ns since the epoch, if has_time */
	int		 has_time;
	size_t		 tags_alloc;	/* private */
	size_t		 fields_alloc;	/* private */
};

/* Initialise an empty point. */
void	lp_point_init(struct lp_point *);
/* Free everything the point holds; it is then empty and reusable. */
void	lp_point_cleanup(struct lp_point *);
/* Empty the point but keep its arrays for reuse. */
void	lp_point_reset(struct lp_point *);

/*
 * Builders.  Strings are copied.  They check the rules above and return 0,
 * or -1 with a reason in err (no errno).  A tag key already present is
 * replaced when replace is non-zero and left alone otherwise (returns 0).
 * A field key already present is an error.
 */
int	lp_point_set_measurement(struct lp_point *, const char *,
	    char *err, size_t errlen);
int	lp_point_tag(struct lp_point *, const char *key, const char *value,
	    int replace, char *err, size_t errlen);
int	lp_point_field_float(struct lp_point *, const char *key, double,
	    char *err, size_t errlen);
int	lp_point_field_int(struct lp_point *, const char *key, int64_t,
	    char *err, size_t errlen);
int	lp_point_field_uint(struct lp_point *, const char *key, uint64_t,
	    char *err, size_t errlen);
int	lp_point_field_bool(struct lp_point *, const char *key, int,
	    char *err, size_t errlen);
int	lp_point_field_str(struct lp_point *, const char *key, const char *,
	    char *err, size_t errlen);
/* Set the timestamp in nanoseconds since the epoch. */
void	lp_point_set_time(struct lp_point *, int64_t ns);
/* The tag value for key, or NULL. */
const char *lp_point_get_tag(const struct lp_point *, const char *key);
/* The field for key, or NULL. */
const struct lp_field *lp_point_get_field(const struct lp_point *,
	    const char *key);

/* What a name is, for lp_check_name(). */
enum lp_name {
	LP_MEASUREMENT,
	LP_TAG_KEY,
	LP_TAG_VALUE,
	LP_FIELD_KEY
};

/*
 * Whether s may be a measurement, a tag key, a tag value or a field key:
 * the rules above, the same the builders, the encoder and the parser
 * apply (not empty, valid UTF-8 without '\n' or '\r', no final backslash,
 * and so on; an empty tag value is refused here, though the builders
 * take it to mean "no such tag").  0, or -1 with the reason in err, such
 * as "tag value ends in a backslash, which would escape the delimiter
 * after it".  For a configured tag: lp_check_name(LP_TAG_KEY, key, ...)
 * and lp_check_name(LP_TAG_VALUE, value, ...).
 */
int	lp_check_name(enum lp_name, const char *s, char *err, size_t errlen);

/*
 * Append finite v as the shortest decimal that reads back the same (what
 * lp_encode() writes for a float field, without its suffix): short
 * decimals in integer arithmetic, the rest through %.15g to %.17g.  0, or
 * -1 when b is full.
 */
int	lp_put_float(struct buf *b, double v);

/*
 * For the encoder and the parser (lp_enc.c, lp_parse.c): the rest of the
 * rules, and builders that take what the parser has already allocated.
 */

#define LP_TIME_MIN	(INT64_MIN + 2)	/* the timestamps InfluxDB takes */
#define LP_TIME_MAX	(INT64_MAX - 1)
#define LP_QUOTE_MAX	40	/* bytes of input quoted in a reason */

/* Whether field f obeys the rules: its key, a finite float, UTF-8 text. */
int	lp_check_field(const struct lp_field *f, char *err, size_t errlen);
/*
 * As lp_point_set_measurement(), lp_point_tag() and the field builders,
 * taking ownership of s, of key and value, and of f->key and f->v.s for a
 * string (all heap; freed on failure, and whatever is not kept).  With
 * dup non-NULL a tag key already present is reported through *dup.
 */
int	lp_point_take_measurement(struct lp_point *, char *s, char *err,
	    size_t errlen);
int	lp_point_take_tag(struct lp_point *, char *key, char *value,
	    int replace, int *dup, char *err, size_t errlen);
int	lp_point_take_field(struct lp_point *, struct lp_field *f, char *err,
	    size_t errlen);
/* The offset of the first byte of s[0..n-1] that is not UTF-8, or n. */
size_t	lp_utf8_invalid(const char *s, size_t n);
/*
 * A printable copy of untrusted bytes s[0..n-1] for a reason, at most
 * LP_QUOTE_MAX of them (then "..."), in dst; returns dst.
 */
const char *lp_quote(char *dst, size_t dstlen, const char *s, size_t n);
/* snprintf() into err, when err is not NULL and errlen not 0. */
void	lp_seterr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif /* LIB_LP_H */
