/*
 * wrongabi.c: a collector built for another plugin ABI; loading it must
 * fail with a message that says so.
 */
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"

static int
wa_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	(void)job;
	(void)err;
	(void)errlen;
	*state = NULL;
	return 0;
}

static int
wa_run(void *state, struct qosd_out *out)
{
	(void)state;
	(void)out;
	return 0;
}

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI + 1,
	.name = "wrongabi",
	.settings = NULL,
	.configure = wa_configure,
	.run = wa_run,
	.release = NULL,
};
