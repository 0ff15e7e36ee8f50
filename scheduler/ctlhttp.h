/*
 * ctlhttp.h: the control API over HTTP/1.1 and JSON on a Unix socket
 * (lib/httpd.h), a thin layer over the control core (control.h): routes
 * to its functions, JSON in and out, its codes as HTTP statuses.  The
 * endpoints are in docs/api.md.
 */
#ifndef SCHEDULER_CTLHTTP_H
#define SCHEDULER_CTLHTTP_H

#include <systemd/sd-event.h>

struct cfg_control;
struct control;
struct ctlhttp;

/*
 * Serve c on ev at cc->socket (its mode and group, limits).  NULL after
 * logging why (a missing directory: a notice; else an error).
 */
struct ctlhttp	*ctlhttp_new(struct control *c, sd_event *ev,
		    const struct cfg_control *cc);
/* Close it; requests still waiting are dropped.  NULL is fine. */
void		 ctlhttp_free(struct ctlhttp *);

#endif /* SCHEDULER_CTLHTTP_H */
