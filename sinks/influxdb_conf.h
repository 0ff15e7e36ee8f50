/*
 * influxdb_conf.h: the influxdb sink's settings, validated in the parent
 * at configure() time (no I/O but a stat(2) of the config file, to refuse
 * an inline secret everybody can read), and its secret, read at start.
 *
 * Secrets (password_file, token_file, a systemd credential) are read at
 * start(), not at configure(): a credential exists only in the service's
 * environment, where start() runs; a missing or empty secret file fails
 * the start or the reload just the same.
 */
#ifndef SINKS_INFLUXDB_CONF_H
#define SINKS_INFLUXDB_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "sinks/shipper/shipper.h"

enum secret_src { SECRET_NONE, SECRET_INLINE, SECRET_FILE, SECRET_CRED };

/* A configured sink, the state of struct sink_type. */
struct influx_conf {
	struct shipper_conf sc;		/* sc.secret unset: read at start */
	enum secret_src	 src;
	char		*secret_arg;	/* the value, path or credential */
	const char	*secret_key;	/* "token" or "password", for logs */
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
 * The secret of ic for sink name, read now (malloc()ed: free it with
 * influx_conf_cleanup() as part of a shipper_conf), or NULL with err set.
 * Call it only if ic->src is not SECRET_NONE.
 */
char	*influx_conf_secret(const struct influx_conf *ic, const char *name,
	    char *err, size_t errlen);
/* The spool directory of sink name (malloc()ed). */
char	*influx_conf_spool_dir(const struct influx_conf *ic,
	    const char *name);
/* A deep copy of s into d, for a running sink to keep. */
void	influx_conf_copy(struct shipper_conf *d, const struct shipper_conf *s);
/* Free what a copy holds, the secret wiped first. */
void	influx_conf_cleanup(struct shipper_conf *c);

#endif /* SINKS_INFLUXDB_CONF_H */
