/*
 * groupcoll.c: a collector whose jobs belong to an exclusive group unless
 * they say otherwise (struct qosd_collector.default_exclusive), for the
 * config tests.
 */
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"

static int
gc_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	(void)job;
	(void)err;
	(void)errlen;
	*state = NULL;
	return 0;
}

static int
gc_run(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	return 0;
}

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "groupcoll",
	.settings = NULL,
	.configure = gc_configure,
	.run = gc_run,
	.release = NULL,
	.default_exclusive = "grouped",
};
