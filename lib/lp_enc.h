/*
 * lp_enc.h: InfluxDB line protocol, the encoder: a point (lib/lp.h) as one
 * line that InfluxDB 1.x and 2.x read back to the same values.
 */
#ifndef LIB_LP_ENC_H
#define LIB_LP_ENC_H

#include <stddef.h>

struct buf;
struct lp_point;

/*
 * Append the point as one line, with its trailing '\n', to out.  Floats are
 * written with the fewest digits that read back to the same double.
 * The timestamp is written only if has_time.  0, or -1 with a reason in err
 * (the buffer is then unchanged).
 */
int	lp_encode(const struct lp_point *, struct buf *out,
	    char *err, size_t errlen);

#endif /* LIB_LP_ENC_H */
