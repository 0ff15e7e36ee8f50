/*
 * probecfg.h: an ad-hoc probe's settings, from the control API's JSON to
 * its collector's configure().
 *
 * The daemon holds no collector plugin, so a probe crosses to the
 * spawner as text: probecfg_text() turns the request's JSON settings
 * into libconfig text, strictly (names as configuration names are
 * written, strings escaped, only scalars and arrays of scalars, a size
 * cap), and the spawner's probecfg_configure() reads it back and applies
 * what the configuration loader applies to a job: its collector's
 * settings and the common ones a probe may give, nothing else, then the
 * collector's own configure().  Errors name the setting
 * ("settings.count: expected an integer from 1 to 10000, got 0").
 */
#ifndef SCHEDULER_PROBECFG_H
#define SCHEDULER_PROBECFG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libconfig.h>

struct buf;
struct qosd_collector;

#define PROBECFG_MEMBERS_MAX	64	/* settings in one probe */
#define PROBECFG_ELEMS_MAX	1024	/* values in one array */

/* The common settings a probe may give besides its collector's. */
extern const char *const probecfg_common[];

/*
 * Append settings (a JSON object) to out as the libconfig text
 * "settings = { NAME = VALUE; ... };", at most max bytes.  0, or -1 with
 * the reason in err (what the client sent wrong).
 */
int	probecfg_text(const json_t *settings, size_t max, struct buf *out,
	    char *err, size_t errlen);
/*
 * The other way, for the control API's view of a job: the members of
 * the job's group g named in names (its collector's settings, as
 * written) as a JSON object (a new reference); NULL if none is set.
 */
json_t	*probecfg_json(const config_setting_t *g, const char *const *names);
/*
 * In the spawner: load collector, read text (len bytes) and configure a
 * probe of it that the daemon will stop after timeout_us.  0 with
 * *plugin and *state (release it with (*plugin)->release()), or -1 with
 * the reason in err.
 */
int	probecfg_configure(const char *collector, const char *text,
	    size_t len, uint64_t timeout_us,
	    const struct qosd_collector **plugin, void **state, char *err,
	    size_t errlen);

#endif /* SCHEDULER_PROBECFG_H */
