/*
 * qosd/clock.h: the clocks a collector measures with, in the units qosd
 * uses.  CLOCK_MONOTONIC for deadlines and durations, CLOCK_REALTIME only
 * to stamp points.  These read the kernel's clocks directly: a
 * measurement is never made on a clock a test has set (the daemon's
 * settable clock is lib/clock.h).
 */
#ifndef QOSD_CLOCK_H
#define QOSD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in microseconds. */
static inline uint64_t
qosd_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* CLOCK_REALTIME in nanoseconds since the epoch: a point's timestamp. */
static inline int64_t
qosd_real_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif /* QOSD_CLOCK_H */
