/*
 * ctlbus.h: the daemon's side of the bus (bus/bus.h, docs/nats.md):
 * forking the bus process and keeping it running (lib/super's backoff),
 * its channel on the event loop, and what goes through it: requests
 * from NATS to the control core (control.h), the same functions the
 * HTTP API calls, with the same checks, behind a rate limit of its own
 * (nats.max_per_minute); the answers back; a heartbeat every
 * nats.heartbeat_interval; each change of a request's state.
 *
 * Nothing here waits for the bus: its channel queues up to
 * CTLBUS_OUT_MAX bytes, and a heartbeat or state that does not fit is
 * dropped and counted (the result stays in the control core's ring).
 */
#ifndef SCHEDULER_CTLBUS_H
#define SCHEDULER_CTLBUS_H

#include <jansson.h>
#include <systemd/sd-event.h>

#define CTLBUS_OUT_MAX	(8 << 20)	/* bytes queued to the bus */
#define CTLBUS_STOP_US	2000000		/* for the bus to go at a stop */

struct bus_conf;
struct control;
struct ctlbus;

/* The bus of control c on ev: none runs until ctlbus_configure(). */
struct ctlbus	*ctlbus_new(struct control *c, sd_event *ev);
/*
 * Run the bus with conf (copied), or none (NULL).  A bus that runs with
 * other settings is stopped and a new one started; heartbeat_interval
 * and max_per_minute apply at once.
 */
void		 ctlbus_configure(struct ctlbus *, const struct bus_conf *conf);
/* Stop the bus (waiting at most CTLBUS_STOP_US) and free.  NULL is fine. */
void		 ctlbus_free(struct ctlbus *);
/*
 * nats.points: complete lines (len bytes) for the bus to publish,
 * gathered up to BUS_POINTS_MAX; flush() hands them over (at the end of
 * a run).  Lines that find no bus, or its channel full, are counted and
 * let go: the sinks have them.  Nothing when points are off.
 */
void		 ctlbus_points(struct ctlbus *, const char *lines, size_t len);
void		 ctlbus_points_flush(struct ctlbus *);
/* How the bus goes, for the status: a new reference, or NULL if off. */
json_t		*ctlbus_json(const struct ctlbus *);
/* The bus.so to load: beside the binary in a build tree, or installed. */
const char	*ctlbus_so_path(void);

#endif /* SCHEDULER_CTLBUS_H */
