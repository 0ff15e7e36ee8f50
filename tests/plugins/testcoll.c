/*
 * testcoll.c: a collector for the config and scheduler tests.  Its modes
 * make a run behave the way a test needs (succeed, crash, hang, ...).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"

enum tc_mode {
	TC_OK,
	TC_CRASH,
	TC_SLEEP,
	TC_FLOOD,
	TC_GARBAGE,
	TC_GRANDCHILD
};

struct testcoll {
	int		  mode;
	long long	  count;
	double		  sleep;
	char		**targets;
	size_t		  ntargets;
};

static const char *const tc_modes[] = {
	"ok", "crash", "sleep", "flood", "garbage", "grandchild", NULL
};
static const char *const tc_settings[] = {
	"mode", "count", "sleep", "targets", NULL
};

static void
tc_release(void *state)
{
	struct testcoll	*tc = state;
	size_t		 i;

	if (tc == NULL)
		return;
	for (i = 0; i < tc->ntargets; i++)
		free(tc->targets[i]);
	free(tc->targets);
	free(tc);
}

static int
tc_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct testcoll	 *tc;
	const char	**list = NULL;
	size_t		  n = 0, i;
	int		  mode = TC_OK;
	long long	  count = 1;
	double		  sleep = 0;

	if (qosd_cfg_enum(job, "mode", tc_modes, &mode, err, errlen) == -1 ||
	    qosd_cfg_int(job, "count", 1, 1000, &count, err, errlen) == -1 ||
	    qosd_cfg_float(job, "sleep", 0, 3600, &sleep, err, errlen) == -1 ||
	    qosd_cfg_strings(job, "targets", &list, &n, err, errlen) == -1)
		return -1;
	if (mode == TC_SLEEP && sleep == 0) {
		free(list);
		return qosd_cfg_error(config_setting_get_member(job, "mode"),
		    err, errlen, "mode \"sleep\" needs a sleep of more than "
		    "0 seconds");
	}
	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (n > 0 && (tc->targets = calloc(n, sizeof(char *))) == NULL))
		goto nomem;
	for (i = 0; i < n; i++) {
		if ((tc->targets[i] = strdup(list[i])) == NULL)
			goto nomem;
		tc->ntargets++;
	}
	free(list);
	tc->mode = mode;
	tc->count = count;
	tc->sleep = sleep;
	*state = tc;
	return 0;
nomem:
	free(list);
	tc_release(tc);
	return qosd_cfg_error(job, err, errlen, "out of memory");
}

static int
tc_emit(struct qosd_out *out, const char *target, long long count)
{
	qosd_point_begin(out, "testcoll");
	if (target != NULL)
		qosd_point_tag(out, "target", target);
	qosd_point_int(out, "count", count);
	qosd_point_str(out, "result", "ok");
	return qosd_point_end(out);
}

static int
tc_run(void *state, struct qosd_out *out)
{
	struct testcoll	*tc = state;
	struct timespec	 ts;
	size_t		 i;
	int		 rc = 0;

	switch (tc->mode) {
	case TC_CRASH:
		raise(SIGSEGV);
		return -1;
	case TC_SLEEP:
		ts.tv_sec = (time_t)tc->sleep;
		ts.tv_nsec = (long)((tc->sleep - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		break;
	case TC_OK:
		break;
	case TC_FLOOD:
		/* About 100 MB of points, until the daemon cuts the pipe. */
		for (i = 0; i < 2000000; i++)
			if (tc_emit(out, "flood", (long long)i) == -1)
				return -1;
		return 0;
	case TC_GARBAGE: {
		static char *const argv[] = { (char *)"/usr/bin/printf",
		    (char *)"testcoll count=1i\\nnot line protocol\\n"
		    "testcoll count=2i\\n", NULL };

		return qosd_out_exec(out, argv, NULL);
	}
	case TC_GRANDCHILD:
		if (fork() == 0)
			for (;;)
				pause();
		break;
	}
	if (tc->ntargets == 0)
		return tc_emit(out, NULL, tc->count);
	for (i = 0; i < tc->ntargets; i++)
		if (tc_emit(out, tc->targets[i], tc->count) == -1)
			rc = -1;
	return rc;
}

static const char *const tc_targets[] = { "targets", NULL };

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "testcoll",
	.settings = tc_settings,
	.configure = tc_configure,
	.run = tc_run,
	.release = tc_release,
	.targets = tc_targets,
};
