/*
 * collector.h: the collector plugin ABI of qosd.
 *
 * A collector is a shared object in the plugin directory that exports one
 * symbol, QOSD_COLLECTOR_SYMBOL, a struct qosd_collector.  The daemon
 * dlopen()s it when a job names it, checks abi, and then:
 *
 *   configure()  in the parent, at start and at each reload, once per job:
 *                validate the job's own settings (those listed in
 *                `settings`; the daemon has already refused any setting
 *                that is neither common nor listed) and build a typed
 *                state.  No I/O.  Strings from the config tree die with it:
 *                copy what you keep.  On failure return -1 with one reason
 *                in err, made with qosd_cfg_error() so that it reads
 *                "FILE:LINE: SETTING: what is wrong".
 *   run()        in a forked child, once per scheduled run: measure, and
 *                emit points through the point API below.  Emit at least
 *                one point per target, also on failure, with a `result`
 *                string field.  Return 0 when the run itself worked (even
 *                if targets failed), -1 when it could not run at all.
 *                Never call exit(); the daemon's timeout kills a run that
 *                does not return in time.
 *   release()    in the parent, when the job goes away; NULL state is fine.
 *
 * The functions below, and the logging functions of scheduler/log.h
 * (log_warnx() and friends, for messages shaped "collector[job]: ..."),
 * are exported by the qosd executable; a plugin links against nothing of
 * qosd.  Collector-specific libraries (liboping, libcurl,
 * libiperf) are linked into the plugin itself.
 */
#ifndef COLLECTORS_COLLECTOR_H
#define COLLECTORS_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#define QOSD_COLLECTOR_ABI	1
#define QOSD_COLLECTOR_SYMBOL	"qosd_collector"

struct qosd_out;

struct qosd_collector {
	int		 abi;		/* QOSD_COLLECTOR_ABI */
	const char	*name;		/* equals the file name without .so */
	const char *const *settings;	/* its job settings, NULL-terminated */
	int		(*configure)(const config_setting_t *job, void **state,
			    char *err, size_t errlen);
	int		(*run)(void *state, struct qosd_out *out);
	void		(*release)(void *state);
	unsigned int	 flags;		/* QOSD_COLLECTOR_* below */
	/*
	 * The exclusive group of the collector's jobs that set none (a job
	 * leaves every group with exclusive = false), or NULL for none.
	 */
	const char	*default_exclusive;
};

/* The collector's child keeps CAP_NET_RAW (ICMP); all others drop it. */
#define QOSD_COLLECTOR_NET_RAW	0x1

/*
 * The point API, for run().  A point is begun, given tags and fields, and
 * ended; qosd_point_end() encodes it and writes it to the daemon.  Tags are
 * sorted and escaped for you; the daemon adds the agent, job and configured
 * tags.  A point without an explicit time is stamped at qosd_point_end()
 * with CLOCK_REALTIME.  Control characters in string values are replaced by
 * spaces.  Each function returns 0, or -1 after logging why (the point is
 * then dropped at qosd_point_end(), which also returns -1).
 */
int	qosd_point_begin(struct qosd_out *, const char *measurement);
int	qosd_point_tag(struct qosd_out *, const char *key, const char *value);
int	qosd_point_float(struct qosd_out *, const char *key, double);
int	qosd_point_int(struct qosd_out *, const char *key, int64_t);
int	qosd_point_bool(struct qosd_out *, const char *key, int);
int	qosd_point_str(struct qosd_out *, const char *key, const char *);
/* Stamp the point being built, in nanoseconds since the epoch. */
int	qosd_point_time(struct qosd_out *, int64_t ns);
int	qosd_point_end(struct qosd_out *);
/* The job's name, for log messages. */
const char *qosd_out_job(const struct qosd_out *);
/*
 * The CLOCK_MONOTONIC time in microseconds at which the daemon will stop
 * this run; a collector sizes its own waits to finish before it.
 */
uint64_t qosd_out_deadline_us(const struct qosd_out *);
/*
 * Replace the run's process with the program argv[0] (a path, no shell)
 * whose standard output is the daemon's pipe: every line it prints is read
 * as line protocol.  envp NULL keeps the environment.  Returns only on
 * failure: -1 after logging why.
 */
int	qosd_out_exec(struct qosd_out *, char *const argv[],
	    char *const envp[]);

/*
 * Config helpers, for configure().  Each reads the named member of group g.
 * They return 1 when the setting is present and valid (*v set), 0 when it
 * is absent (*v untouched, so preset the default), and -1 when it is
 * present but wrong, with err set to "FILE:LINE: PATH: reason".  Strings
 * returned are borrowed from the config tree.
 */
int	qosd_cfg_int(const config_setting_t *g, const char *name,
	    long long min, long long max, long long *v, char *err,
	    size_t errlen);
/* A number (integer or float) within [min, max]. */
int	qosd_cfg_float(const config_setting_t *g, const char *name,
	    double min, double max, double *v, char *err, size_t errlen);
int	qosd_cfg_bool(const config_setting_t *g, const char *name, int *v,
	    char *err, size_t errlen);
/* A non-empty string (allow_empty = 0) or any string. */
int	qosd_cfg_string(const config_setting_t *g, const char *name,
	    int allow_empty, const char **v, char *err, size_t errlen);
/* A string that must be one of choices (NULL-terminated); *v its index. */
int	qosd_cfg_enum(const config_setting_t *g, const char *name,
	    const char *const *choices, int *v, char *err, size_t errlen);
/*
 * A DSCP code point, the same `dscp` setting in every collector: an
 * integer from 0 to 63, or a name (cs0 to cs7, af11 to af43, ef, va, le;
 * any case).  The traffic class byte is *v << 2.
 */
int	qosd_cfg_dscp(const config_setting_t *g, const char *name, int *v,
	    char *err, size_t errlen);
/*
 * A byte size: an integer, or a string with a K, M, G or T suffix (powers
 * of 1024) such as "512M", within [min, max].
 */
int	qosd_cfg_size(const config_setting_t *g, const char *name,
	    uint64_t min, uint64_t max, uint64_t *v, char *err, size_t errlen);
/*
 * A list of non-empty strings, given as one string, an array or a list:
 * *list is a NULL-terminated array of borrowed strings that the caller
 * free()s (not the strings), *n its length (at least 1).
 */
int	qosd_cfg_strings(const config_setting_t *g, const char *name,
	    const char ***list, size_t *n, char *err, size_t errlen);
/*
 * Write "FILE:LINE: PATH: message" for setting s into err.  PATH reads like
 * "jobs.gw.count" (list members are named by their `name` setting, else by
 * their index).  Returns -1, so that `return qosd_cfg_error(...)` works.
 */
int	qosd_cfg_error(const config_setting_t *s, char *err, size_t errlen,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* COLLECTORS_COLLECTOR_H */
