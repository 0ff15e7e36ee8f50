/*
 * qosd/cfg.h: typed readers of libconfig settings, for configure(), with
 * errors that read "FILE:LINE: SETTING: what is wrong".  Exported by the
 * qosd executable; the sinks use them too.
 */
#ifndef QOSD_CFG_H
#define QOSD_CFG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

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

/*
 * The timeout the daemon gives each run of job (its own timeout, or the
 * one it inherits from defaults, within its interval), in microseconds;
 * 0 when job was not read by the daemon (a test's).  A collector that
 * knows how long its run takes refuses settings that cannot fit, so that
 * a job that can never finish fails at --check-config.
 */
uint64_t qosd_cfg_run_timeout_us(const config_setting_t *job);

/* The longest tag key or value a configuration may give. */
#define QOSD_CFG_TAG_MAX	256

/*
 * A tag a collector will put on its points (a target's name, say): key
 * (NULL: not checked) and value must be what line protocol can carry (not
 * empty, valid UTF-8, no line break, no trailing backslash, at most
 * QOSD_CFG_TAG_MAX bytes) — the rules the encoder applies, checked here
 * so that a bad value fails at --check-config instead of losing points.
 * 0, or -1 with err "FILE:LINE: PATH: reason" for setting s.
 */
int	qosd_cfg_tag(const config_setting_t *s, const char *key,
	    const char *value, char *err, size_t errlen);

#endif /* QOSD_CFG_H */
