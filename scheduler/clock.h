/*
 * clock.h: the two clocks of qosd in the units it uses.  CLOCK_MONOTONIC
 * for deadlines and durations, CLOCK_REALTIME only to stamp points.
 */
#ifndef SCHEDULER_CLOCK_H
#define SCHEDULER_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in microseconds. */
static inline uint64_t
clock_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* CLOCK_REALTIME in microseconds since the epoch. */
static inline uint64_t
clock_real_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* CLOCK_REALTIME in nanoseconds since the epoch: a point's timestamp. */
static inline int64_t
clock_real_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif /* SCHEDULER_CLOCK_H */
