/*
 * points.h: nats.points (docs/nats.md): every line the daemon gives the
 * sinks, published on PREFIX.points.AGENT.MEASUREMENT (consecutive lines
 * of one measurement in one message), and, with nats.points_stream,
 * into a JetStream stream of PREFIX.points.> (made if missing), each
 * message acknowledged by the server.  While NATS is away, or a publish
 * fails, lines wait, up to BUS_POINTS_QUEUE bytes; more are counted and
 * let go (the sinks have them).  At least once: a publish whose
 * acknowledgement was lost is sent again.
 */
#ifndef BUS_POINTS_H
#define BUS_POINTS_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

struct bus_conf;
struct points;

/* The points of c on nc. */
struct points	*points_new(const struct bus_conf *c, natsConnection *nc);
void		 points_free(struct points *);
/* Lines from the daemon (len bytes, complete lines). */
void		 points_take(struct points *, int up, const char *lines,
		    size_t len);
/* NATS is there: what waits goes, oldest first. */
void		 points_resume(struct points *);
/* Lines published, and let go, since the start. */
void		 points_figs(const struct points *, uint64_t *sent,
		    uint64_t *dropped);

#endif /* BUS_POINTS_H */
