/*
 * fakeclock.h: a clock a test sets and moves (through lib/clock.h's
 * clock_set()), so that timers and deadlines are tested without sleeping.
 */
#ifndef TESTS_STUBS_FAKECLOCK_H
#define TESTS_STUBS_FAKECLOCK_H

#include <stdint.h>

/*
 * The daemon's clocks read mono_us (CLOCK_MONOTONIC) and real_us
 * (CLOCK_REALTIME) from now on, both in microseconds.
 */
void	fakeclock_install(uint64_t mono_us, uint64_t real_us);
/* Both clocks move forward by us. */
void	fakeclock_advance(uint64_t us);
/* Set the monotonic clock to mono_us (forward), the wall clock with it. */
void	fakeclock_set_mono(uint64_t mono_us);
/* Back to the kernel's clocks. */
void	fakeclock_remove(void);

#endif /* TESTS_STUBS_FAKECLOCK_H */
