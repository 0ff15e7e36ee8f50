/*
 * mqtt_conf.h: the mqtt sink's settings, validated in the daemon at
 * configure() time (no I/O), and where its secrets are.
 *
 * As with the influxdb sink (influxdb_conf.h), the password
 * (password_file, password_credential) is read only by the sending
 * process (sinks/mqttship/mqttship.h), at its start, and by
 * --check-config; the daemon only checks at each start of the sink that
 * it opens and is not empty.  An inline password is refused.  A TLS
 * client key (tls.key_file) is a secret too: libmosquitto reads it in the
 * sending process; the daemon checks that others cannot read it.
 */
#ifndef SINKS_MQTT_CONF_H
#define SINKS_MQTT_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "sinks/mqttship/mqttship.h"

/* A configured sink, the state of struct sink_type. */
struct mqtt_conf {
	struct mqttship_conf mc;	/* where its secret is, never what */
	char		*secret_where;	/* "FILE:LINE: PATH: " of its setting */
	char		*key_where;	/* likewise, tls.key_file */
	char		*state_dir;
	char		*spool_dir;	/* or NULL: STATE_DIR/spool/NAME */
	uint64_t	 spool_max;
	double		 flush_interval;
	int		 do_fsync;
	int		 client_id_set;	/* else "qosd-AGENT-NAME" at start */
};

/* The settings of the sink besides type and name. */
extern const char *const mqtt_conf_settings[];

/* struct sink_type's configure(), release() and same(). */
int	mqtt_conf_configure(const config_setting_t *s, void **state,
	    char *err, size_t errlen);
void	mqtt_conf_release(void *state);
int	mqtt_conf_same(const void *a, const void *b);
/*
 * At the sink's start, in the daemon: whether its password (if any) and
 * its TLS key (if any) open, are not empty and not readable by others,
 * without reading them.  0, or -1 with err ("sink NAME: password_file:
 * ...").
 */
int	mqtt_conf_secret_ok(const struct mqtt_conf *mq, const char *name,
	    char *err, size_t errlen);
/*
 * struct sink_type's check(), for --check-config: read the password as
 * the sending process will, and wipe it; check the TLS key.  0, or -1
 * with err "FILE:LINE: sinks.NAME.password_file: why".
 */
int	mqtt_conf_check(const void *state, const char *name, char *err,
	    size_t errlen);
/* The spool directory of sink name (malloc()ed). */
char	*mqtt_conf_spool_dir(const struct mqtt_conf *mq, const char *name);
/*
 * A deep copy of s into d, for a running sink to keep, with the client id
 * "qosd-AGENT-NAME" (cut to 64 bytes) unless one was configured.
 */
void	mqtt_conf_copy(struct mqttship_conf *d, const struct mqttship_conf *s,
	    const char *name, int client_id_set);
/* Free what a copy holds. */
void	mqtt_conf_cleanup(struct mqttship_conf *c);

#endif /* SINKS_MQTT_CONF_H */
