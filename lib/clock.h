/*
 * clock.h: the daemon's clocks, in the units qosd uses: CLOCK_MONOTONIC
 * for deadlines and durations, CLOCK_REALTIME only to stamp points and to
 * place a job's phase on the wall clock.
 *
 * Both read through one settable source, after redis's monotime: a test
 * sets them (clock_set()) and drives timers without sleeping.  Collectors
 * measure with qosd/clock.h, which always reads the kernel.
 */
#ifndef LIB_CLOCK_H
#define LIB_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
uint64_t clock_mono_us(void);
/* CLOCK_REALTIME in microseconds since the epoch. */
uint64_t clock_real_us(void);
/* CLOCK_REALTIME in nanoseconds since the epoch: a point's timestamp. */
int64_t	clock_real_ns(void);
/*
 * Read the clocks from mono_us() and real_us() from now on (for tests);
 * NULL for either goes back to the kernel's clock.
 */
void	clock_set(uint64_t (*mono_us)(void), uint64_t (*real_us)(void));

#endif /* LIB_CLOCK_H */
