/*
 * conn.h: the bus's NATS connection (see bus.h): its options from the
 * configuration (servers, credentials read here and nowhere else, TLS
 * verified unless told otherwise, reconnects for ever with a backoff
 * that doubles from reconnect_min to reconnect_max, with jitter), and
 * word of its changes through a descriptor the bus's loop polls.
 */
#ifndef BUS_CONN_H
#define BUS_CONN_H

#include <stddef.h>

#include <nats/nats.h>

struct bus_conf;

/*
 * Connect with c's settings: *nc is the connection, which keeps trying
 * in the background when no server answers yet.  Each change of its
 * state (connected, lost, back, closed) writes to the eventfd wakefd.
 * 0, or -1 with why in err (a secret that cannot be read, a bad TLS
 * file): nothing to retry until the configuration is fixed.
 */
int	conn_open(const struct bus_conf *c, int wakefd, natsConnection **nc,
	    char *err, size_t errlen);
/* Whether nc is connected now. */
int	conn_up(natsConnection *nc);
/* Times it came back since conn_open(). */
unsigned long conn_reconnects(void);

#endif /* BUS_CONN_H */
