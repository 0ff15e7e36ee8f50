/*
 * exec.c: the exec collector.  Runs an external program (argv, no shell)
 * whose standard output is line protocol; the daemon validates every line
 * and stamps lines that carry no timestamp with the time it read them.
 *
 *   { name = "probe"; collector = "exec";
 *     command = [ "/usr/lib/qosd/probe.sh", "--fast" ];
 *     env = [ "LANG=C" ]; }
 *
 * Without env the program inherits the daemon's environment; with it, the
 * environment is exactly the strings given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/probe/strv.h"
#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"

struct exec_state {
	char	**argv;		/* NULL-terminated, owned */
	char	**envp;		/* NULL-terminated, owned, or NULL */
};

static const char *const exec_settings[] = { "command", "env", NULL };

static void
exec_release(void *state)
{
	struct exec_state	*st = state;

	if (st == NULL)
		return;
	strv_free(st->argv);
	strv_free(st->envp);
	free(st);
}

static int
exec_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct exec_state	*st;
	const char		**cmd = NULL, **env = NULL;
	size_t			 ncmd = 0, nenv = 0, i;
	int			 r;

	if ((r = qosd_cfg_strings(job, "command", &cmd, &ncmd, err,
	    errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(job, err, errlen, "command: missing: "
		    "give the program and its arguments, e.g. command = "
		    "[ \"/usr/lib/qosd/probe.sh\", \"--fast\" ]");
	if (cmd[0][0] != '/') {
		qosd_cfg_error(config_setting_get_member(job, "command"), err,
		    errlen, "\"%s\" is not an absolute path: the program is "
		    "run without a shell or PATH search", cmd[0]);
		free(cmd);
		return -1;
	}
	if ((r = qosd_cfg_strings(job, "env", &env, &nenv, err,
	    errlen)) == -1) {
		free(cmd);
		return -1;
	}
	for (i = 0; i < nenv; i++)
		if (strchr(env[i], '=') == NULL || env[i][0] == '=') {
			qosd_cfg_error(config_setting_get_member(job, "env"),
			    err, errlen, "\"%s\" is not NAME=value", env[i]);
			free(cmd);
			free(env);
			return -1;
		}
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (st->argv = strv_dup(cmd, ncmd)) == NULL ||
	    (env != NULL && (st->envp = strv_dup(env, nenv)) == NULL)) {
		exec_release(st);
		free(cmd);
		free(env);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(cmd);
	free(env);
	*state = st;
	return 0;
}

static int
exec_run(void *state, struct qosd_out *out)
{
	struct exec_state	*st = state;

	return qosd_out_exec(out, st->argv, st->envp);
}

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "exec",
	.settings = exec_settings,
	.configure = exec_configure,
	.run = exec_run,
	.release = exec_release,
	/* No target: an exec probe runs a command (control.collectors). */
	.targets = NULL,
};
