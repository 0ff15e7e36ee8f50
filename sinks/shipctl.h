/*
 * shipctl.h: the daemon's side of an influxdb sink's shipper
 * (sinks/shipper/shipper.h): forking it, keeping it running (restarted
 * with lib/super's backoff when it dies), reading its figures from its
 * channel on the event loop, and stopping it in order.
 *
 * The shipper's code, with libcurl and zlib, is a shared object of its
 * own (shipper.so) that only the forked process loads: the daemon, which
 * schedules and forks runs, never maps those libraries.
 *
 * Another sink that ships its spool from a process of its own (mqtt:
 * mqttship.so, libmosquitto) is another struct shipctl_kind: its code,
 * its name in ps, its settings; the channel (SHIP_STOP, SHIP_FIGS of
 * sinks/shipper/shipper.h), the supervision and the stop are the same.
 */
#ifndef SINKS_SHIPCTL_H
#define SINKS_SHIPCTL_H

#include <stdint.h>

#include <systemd/sd-event.h>

struct shipper_conf;
struct shipctl;

/* Stop budgets (see shipctl_stop()), in milliseconds. */
#define SHIPCTL_STOP_MS		5000	/* at exit: deliver what is ready */
#define SHIPCTL_RELOAD_MS	1000	/* a reload: the request under way */
#define SHIPCTL_KILL_MS		1000	/* after the budget, before SIGKILL */

/* A shipper's figures since it was first started. */
struct shipctl_figs {
	uint64_t	 sent;		/* lines delivered */
	uint64_t	 retries;	/* failed requests */
	uint64_t	 rejected;	/* lines refused */
	unsigned long	 restarts;
	const char	*last_error;	/* "" if none; valid until next call */
};

/*
 * A kind of shipping process: the shared object only it loads and the
 * entry point there, called in the forked process as
 * entry(conf, name, spooldir, sock, verbose) and never returning.
 */
struct shipctl_kind {
	const char	*title;		/* in ps: "qosd-shipper" */
	const char	*env;		/* names its .so's path if set */
	const char	*built;		/* beside the binary */
	const char	*installed;	/* the installed path */
	const char	*entry;		/* "qosd_shipper_main" */
};

/* The influxdb sink's shipper (shipper.so). */
extern const struct shipctl_kind shipctl_influx;

/*
 * Start the shipper of sink name for the spool in spooldir, on ev, and
 * keep it running.  c is borrowed for the shipctl's life; lockfd, the
 * spool's lock (spoollock.h), is kept open by every shipper.  A start
 * that fails is logged and tried again after the backoff.
 */
struct shipctl	*shipctl_start(sd_event *ev, const char *name,
		    const struct shipper_conf *c, const char *spooldir,
		    int lockfd);
/*
 * The same for a process of kind k (borrowed, static), conf its settings
 * (borrowed for the shipctl's life) as its entry point takes them.
 */
struct shipctl	*shipctl_start_kind(const struct shipctl_kind *k,
		    sd_event *ev, const char *name, const void *conf,
		    const char *spooldir, int lockfd);
/* The figures as last reported. */
void		 shipctl_figs(const struct shipctl *, struct shipctl_figs *);
/*
 * Stop the shipper and wait for it: with drain (the daemon exits, the
 * writer has sealed the last segment), it delivers what is ready within
 * SHIPCTL_STOP_MS; without (a reload: the sink's successor delivers the
 * rest), it finishes the request under way within SHIPCTL_RELOAD_MS.  A
 * shipper still there SHIPCTL_KILL_MS after its budget is killed.  The
 * process is reaped before this returns; then the shipctl is freed.
 * NULL is fine.
 */
void		 shipctl_stop(struct shipctl *, int drain);
/*
 * The shared object of kind k to load: $ENV if set, else beside the binary
 * in a build tree, else installed.  Valid until the next call.
 */
const char	*shipctl_so_path(const struct shipctl_kind *k);

#endif /* SINKS_SHIPCTL_H */
