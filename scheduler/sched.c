/*
 * sched.c: placeholder until the scheduler lands (issue 3).
 */
#include <sysexits.h>

#include "config.h"
#include "log.h"
#include "sched.h"

int
sched_main(struct cfg *cfg, const struct sched_opts *opts)
{
	(void)opts;
	cfg_free(cfg);
	log_warnx("the scheduler is not built yet");
	return EX_SOFTWARE;
}
