/*
 * influxdb_conf.h: the influxdb sink's settings, validated in the parent
 * at configure() time (no I/O), and where its secret is.
 *
 * Secrets (password_file, token_file, a systemd credential) are read only
 * by the shipper (sinks/shipper/shipper.h), at its start, and by
 * --check-config (influx_conf_check()); the daemon only checks, at each
 * start of the sink, that the file or credential opens and is not empty,
 * without reading it (a credential exists only in the service's
 * environment).  An inline password or token is refused: libconfig's
 * scanner would have copied it into the daemon, and from there into
 * every process it forks.
 */
#ifndef SINKS_INFLUXDB_CONF_H
#define SINKS_INFLUXDB_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "sinks/shipper/shipper.h"

/* A configured sink, the state of struct sink_type. */
struct influx_conf {
	struct shipper_conf sc;		/* where its secret is, never what */
	char		*secret_where;	/* "FILE:LINE: PATH: " of its setting */
	char		*state_dir;
	char		*spool_dir;	/* or NULL: STATE_DIR/spool/NAME */
	uint64_t	 spool_max;
	double		 flush_interval;
	int		 do_fsync;
};

/* The settings of the sink besides type and name. */
extern const char *const influx_conf_settings[];

/* struct sink_type's configure(), release() and same(). */
int	influx_conf_configure(const config_setting_t *s, void **state,
	    char *err, size_t errlen);
void	influx_conf_release(void *state);
int	influx_conf_same(const void *a, const void *b);
/*
 * At the sink's start, in the daemon: whether its secret (if any) opens
 * and is not empty, without reading it.  0, or -1 with err ("sink NAME:
 * token_file: ...").
 */
int	influx_conf_secret_ok(const struct influx_conf *ic, const char *name,
	    char *err, size_t errlen);
/*
 * struct sink_type's check(), for --check-config: read the secret (if
 * any) as the shipper will, and wipe it.  0, or -1 with err "FILE:LINE:
 * sinks.NAME.token_file: why".
 */
int	influx_conf_check(const void *state, const char *name, char *err,
	    size_t errlen);
/* The spool directory of sink name (malloc()ed). */
char	*influx_conf_spool_dir(const struct influx_conf *ic,
	    const char *name);
/* A deep copy of s into d, for a running sink to keep. */
void	influx_conf_copy(struct shipper_conf *d, const struct shipper_conf *s);
/* Free what a copy holds (a secret, in the shipper, wiped first). */
void	influx_conf_cleanup(struct shipper_conf *c);

#endif /* SINKS_INFLUXDB_CONF_H */
