/*
 * collector_util.h: helpers for the suites of collector plugins (ping,
 * tcp): load a built plugin, configure it from a string, run it into a
 * pipe and collect its line protocol.  Only included by check_*.c.
 */
#ifndef TESTS_UNIT_COLLECTOR_UTIL_H
#define TESTS_UNIT_COLLECTOR_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <libconfig.h>

#include "qosd/cfg.h"
#include "qosd/collector.h"
#include "qosd/point.h"
#include "scheduler/plugin.h"
#include "scheduler/spawner/point.h"

/* The plugins are built into BUILD/collectors, beside BUILD/tests. */
static inline const struct qosd_collector *
cu_plugin(const char *name)
{
	const struct qosd_collector	*p;
	char				 exe[PATH_MAX], dir[PATH_MAX + 16];
	char				 err[256], *slash;
	ssize_t				 n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_ptr_nonnull(slash = strrchr(exe, '/'));
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../collectors", exe);
	plugin_set_dir(dir);
	p = plugin_get(name, err, sizeof(err));
	ck_assert_msg(p != NULL, "%s", err);
	return p;
}

/*
 * Configure plugin p with the settings text (the inside of a job group);
 * returns what configure() returned, with the reason in err.
 */
static inline int
cu_configure(const struct qosd_collector *p, const char *settings,
    void **state, char *err, size_t errlen)
{
	config_t	 cfg;
	char		 text[8192];
	int		 r;

	snprintf(text, sizeof(text), "job = { %s };", settings);
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text) == CONFIG_TRUE,
	    "%s: %s", text, config_error_text(&cfg));
	*state = NULL;
	err[0] = '\0';
	r = p->configure(config_lookup(&cfg, "job"), state, err, errlen);
	config_destroy(&cfg);
	return r;
}

/*
 * Run state with p and return its line protocol (malloc'd) and its
 * return value in *rc.  The run gets 20 s.
 */
static inline char *
cu_run(const struct qosd_collector *p, void *state, int *rc)
{
	struct qosd_out	*out;
	struct timespec	 ts;
	uint64_t	 now;
	char		*buf;
	size_t		 len = 0, cap = 1 << 20;
	ssize_t		 n;
	int		 fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	ck_assert_ptr_nonnull(out = point_out_new(fds[1], "t",
	    now + 20000000));
	*rc = p->run(state, out);
	point_out_free(out);
	close(fds[1]);
	ck_assert_ptr_nonnull(buf = malloc(cap));
	while (len < cap - 1 && (n = read(fds[0], buf + len,
	    cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fds[0]);
	return buf;
}

/* The line of out whose tags contain needle, or NULL; static storage. */
static inline const char *
cu_line(const char *out, const char *needle)
{
	static char	 line[4096];
	const char	*p = out, *e;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) < sizeof(line)) {
			memcpy(line, p, (size_t)(e - p));
			line[e - p] = '\0';
			if (strstr(line, needle) != NULL)
				return line;
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

#endif /* TESTS_UNIT_COLLECTOR_UTIL_H */
