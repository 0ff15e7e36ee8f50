/*
 * mqttship.h: the mqtt sink's sending process.  It publishes the ready
 * segments of the sink's spool to an MQTT broker, a message per point,
 * oldest first, and deletes a segment only once every message of it is
 * acknowledged (QoS 1: PUBACK; QoS 0: written to the socket).  Its code
 * is mqttship.so, loaded only in that process (sinks/shipctl.h forks it,
 * as it forks the influxdb shipper): the daemon never maps libmosquitto.
 *
 *   mqttship.c	the process: its loop, the broker, the channel, stopping
 *   payload.h	a point as a message: line protocol or one JSON object
 *   sinks/mqtt_topic.h  the topic template (shared with the daemon, which
 *		checks it)
 *
 * It speaks the influxdb shipper's protocol with the daemon
 * (sinks/shipper/shipper.h: SHIP_STOP in, SHIP_FIGS out, the latest
 * error as text) and stops by its rules: with drain it publishes what is
 * ready within the budget, else it stops at once; what is not
 * acknowledged stays in the spool for the next start.
 *
 * At least once: a segment cut short (a broker outage, a kill -9, a
 * stop) is published again from its first message not acknowledged, or
 * after a restart of the process from its first message: a subscriber
 * may see a message twice, never miss one.
 *
 * Its secret (password_file or password_credential) is read at its start
 * with lib/secret.h and given to libmosquitto; no other process of qosd
 * reads it.  A secret it cannot read makes it exit (78).
 */
#ifndef SINKS_MQTTSHIP_MQTTSHIP_H
#define SINKS_MQTTSHIP_MQTTSHIP_H

#include <stddef.h>
#include <stdint.h>

enum mqtt_payload {
	MQTT_PAYLOAD_LP,		/* the line, without its '\n' */
	MQTT_PAYLOAD_JSON		/* payload.h's object */
};

struct mqttship_conf {
	char		*host;
	int		 port;
	char		*topic;		/* the template, checked */
	char		*agent;		/* {agent} */
	char		*client_id;
	int		 payload;	/* enum mqtt_payload */
	int		 qos;		/* 0 or 1 */
	int		 retain;
	int		 keepalive;	/* s */
	int		 tls;		/* a tls group was given */
	char		*ca_file;	/* or NULL: ca_path */
	char		*ca_path;
	char		*cert_file;
	char		*key_file;
	int		 tls_verify;
	char		*username;	/* or NULL */
	int		 secret_src;	/* enum secret_src: none, file, cred */
	char		*secret_arg;	/* its path, or its credential's name */
	unsigned long	 batch_size;	/* lines per segment (the daemon's) */
	uint64_t	 batch_bytes;
	unsigned int	 max_inflight;	/* messages not yet acknowledged */
	double		 connect_timeout;	/* s, for the CONNACK */
	double		 backoff_max;	/* s */
};

/*
 * The process's main loop, the one symbol mqttship.so exports, called in
 * the forked process (sinks/shipctl.c): conf is its struct mqttship_conf,
 * name the sink's, spooldir its spool, sock its end of the channel,
 * verbose the daemon's log_getverbose().  Never returns.
 */
void	qosd_mqttship_main(const void *conf, const char *name,
	    const char *spooldir, int sock, int verbose)
	    __attribute__((noreturn, visibility("default")));

#endif /* SINKS_MQTTSHIP_MQTTSHIP_H */
