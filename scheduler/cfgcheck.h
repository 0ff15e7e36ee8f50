/*
 * cfgcheck.h: the checks every section of the configuration shares
 * (config.c): known setting names with a "did you mean", groups and lists
 * of groups, names, where an earlier setting was written.  Errors read
 * "FILE:LINE: PATH: what is wrong" (qosd_cfg_error()).
 */
#ifndef SCHEDULER_CFGCHECK_H
#define SCHEDULER_CFGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#define CFGC_NAME_MAX	64	/* job and sink names */

/* strdup() and calloc() that fatal() on ENOMEM. */
char	*cfgc_strdup(const char *s);
void	*cfgc_calloc(size_t n, size_t size);
/* Seconds to microseconds, rounded. */
uint64_t cfgc_us(double seconds);
/* Whether s is in the NULL-terminated list (NULL: never). */
int	cfgc_in_list(const char *s, const char *const *list);
/*
 * Every member of group g is in known or known2 (either may be NULL),
 * else -1 with an error that names the closest known name and lists both,
 * calling them what and what2 ("ping", "common job").  0 when all known.
 */
int	cfgc_known(const config_setting_t *g, const char *what,
	    const char *const *known, const char *what2,
	    const char *const *known2, char *err, size_t errlen);
/*
 * Member name of parent: 1 with *g when it is a group (a list of groups
 * for cfgc_list(), an empty array will do), 0 when absent (*g NULL), -1
 * with an error that shows example when it is something else.
 */
int	cfgc_group(const config_setting_t *parent, const char *name,
	    const char *example, const config_setting_t **g, char *err,
	    size_t errlen);
int	cfgc_list(const config_setting_t *parent, const char *name,
	    const char *example, const config_setting_t **l, char *err,
	    size_t errlen);
/*
 * Where setting s was written, for a message about a later setting near:
 * "line N" in the same file, else "FILE:LINE".  Into buf, returned.
 */
const char *cfgc_where(const config_setting_t *s,
	    const config_setting_t *near, char *buf, size_t len);
/* Whether s is a valid job or sink name. */
int	cfgc_valid_name(const char *s);
/*
 * The member "name" of g, a name of a what ("job", "sink"): 1 valid (*v
 * borrowed from the tree), 0 absent, -1 with an error.
 */
int	cfgc_name(const config_setting_t *g, const char *what, const char **v,
	    char *err, size_t errlen);

#endif /* SCHEDULER_CFGCHECK_H */
