/*
 * clock.c: the daemon's settable clocks.
 */
#include <stddef.h>
#include <stdint.h>

#include "lib/clock.h"
#include "qosd/clock.h"

static uint64_t	(*mono_src)(void);
static uint64_t	(*real_src)(void);

uint64_t
clock_mono_us(void)
{
	return mono_src != NULL ? mono_src() : qosd_mono_us();
}

uint64_t
clock_real_us(void)
{
	if (real_src != NULL)
		return real_src();
	return (uint64_t)(qosd_real_ns() / 1000);
}

int64_t
clock_real_ns(void)
{
	return real_src != NULL ? (int64_t)real_src() * 1000 : qosd_real_ns();
}

void
clock_set(uint64_t (*mono_us)(void), uint64_t (*real_us)(void))
{
	mono_src = mono_us;
	real_src = real_us;
}
