/*
 * lp.h: InfluxDB line protocol, encoder and strict parser.
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

struct buf;

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

/*
 * Append the point as one line, with its trailing '\n', to out.  Floats are
 * written with the fewest digits that read back to the same double.
 * The timestamp is written only if has_time.  0, or -1 with a reason in err
 * (the buffer is then unchanged).
 */
int	lp_encode(const struct lp_point *, struct buf *out,
	    char *err, size_t errlen);

/*
 * Parse one line (len bytes, without its '\n'; a trailing '\r' is an
 * error) into p, which is reset first.  0, or -1 with a reason in err
 * such as "field 'rtt_ms': invalid number '1.2.3'".
 */
int	lp_parse(const char *line, size_t len, struct lp_point *p,
	    char *err, size_t errlen);

#endif /* LIB_LP_H */
