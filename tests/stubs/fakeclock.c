/*
 * fakeclock.c: a settable clock for tests (see fakeclock.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"
#include "tests/stubs/fakeclock.h"

static uint64_t	mono, real;

static uint64_t
fake_mono(void)
{
	return mono;
}

static uint64_t
fake_real(void)
{
	return real;
}

void
fakeclock_install(uint64_t mono_us, uint64_t real_us)
{
	mono = mono_us;
	real = real_us;
	clock_set(fake_mono, fake_real);
}

void
fakeclock_advance(uint64_t us)
{
	mono += us;
	real += us;
}

void
fakeclock_set_mono(uint64_t mono_us)
{
	if (mono_us > mono)
		fakeclock_advance(mono_us - mono);
}

void
fakeclock_remove(void)
{
	clock_set(NULL, NULL);
}
