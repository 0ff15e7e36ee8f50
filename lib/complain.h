/*
 * complain.h: rate-limited reports of a repeating failure, after collectd's
 * utils_complain.  The first failure is reported at once; while it goes on,
 * reports are spaced by an interval that doubles from one minute up to a
 * day; the first success after failures is reported once.
 */
#ifndef LIB_COMPLAIN_H
#define LIB_COMPLAIN_H

#include <stdint.h>

struct complain {
	uint64_t	 next_us;	/* no report before this */
	uint64_t	 interval_us;	/* 0: not failing */
	unsigned long	 failures;	/* since the last success */
};

/* A failure now: 1 if it should be reported, 0 if it stays quiet. */
int	complain_fail(struct complain *, uint64_t now_us);
/* A success: the failures it ends (report a recovery if > 0), or 0. */
unsigned long complain_ok(struct complain *);

#endif /* LIB_COMPLAIN_H */
