/*
 * lp_parse.h: InfluxDB line protocol, the strict parser: it accepts
 * exactly the lines lp_encode() can produce (plus the other spellings of
 * line protocol, such as booleans written "t" or "True") and names the
 * first problem of any other line.
 */
#ifndef LIB_LP_PARSE_H
#define LIB_LP_PARSE_H

#include <stddef.h>

struct lp_point;

/*
 * Parse one line (len bytes, without its '\n'; a trailing '\r' is an
 * error) into p (lib/lp.h), which is reset first.  0, or -1 with a reason
 * in err such as "field 'rtt_ms': invalid number '1.2.3'".
 */
int	lp_parse(const char *line, size_t len, struct lp_point *p,
	    char *err, size_t errlen);

#endif /* LIB_LP_PARSE_H */
