/*
 * complain.c: rate-limited failure reports.
 */
#include "lib/complain.h"

#define COMPLAIN_FIRST_US	60000000ULL
#define COMPLAIN_MAX_US		86400000000ULL

int
complain_fail(struct complain *c, uint64_t now_us)
{
	c->failures++;
	if (c->interval_us == 0) {
		c->interval_us = COMPLAIN_FIRST_US;
		c->next_us = now_us + c->interval_us;
		return 1;
	}
	if (now_us < c->next_us)
		return 0;
	if (c->interval_us < COMPLAIN_MAX_US)
		c->interval_us *= 2;
	c->next_us = now_us + c->interval_us;
	return 1;
}

unsigned long
complain_ok(struct complain *c)
{
	unsigned long	n = c->interval_us != 0 ? c->failures : 0;

	c->interval_us = 0;
	c->next_us = 0;
	c->failures = 0;
	return n;
}
