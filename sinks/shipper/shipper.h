/*
 * shipper.h: the shipper, the process that posts an influxdb sink's ready
 * segments to InfluxDB, oldest first, and deletes each one only once it
 * is delivered.  Its code is shipper.so, loaded only in the shipper
 * process (sinks/shipctl.h forks it): the daemon never maps libcurl.
 *
 *   shipper.c	the process: its loop, its channel to the daemon, stopping
 *   deliver.h	the delivery rules: verdicts, requests, splitting
 *   http.h	the POST with libcurl
 *   batch.h	ready segments, locked and read, gzip
 *   rejected.h	refused lines kept in rejected/
 *
 * It talks with the daemon over a stream socket in lib/msg.h frames:
 *
 *   daemon -> shipper	SHIP_STOP	struct ship_stop: stop (below)
 *   shipper -> daemon	SHIP_FIGS	struct ship_figs, then the latest
 *					error as text (0 to SHIP_ERROR_MAX
 *					bytes, no NUL; none: no new error)
 *
 * Its secret: the shipper reads it at its start (secret_src and
 * secret_arg of its settings, lib/secret.h), and only there: the daemon,
 * its writers and its spawners never hold it.  A secret it cannot read
 * is logged and the shipper exits (78); it reads it again as it is
 * restarted.
 *
 * Stopping: on SHIP_STOP the shipper starts no new request once the
 * budget is spent or, without drain, at once; with drain it first
 * delivers what is in ready/ (at the daemon's exit, once the writer has
 * sealed the last segment).  A request under way when the budget runs
 * out is cut (the batch stays in the spool: sent again, never lost).
 * It does not back off while stopping: a batch that fails stays in the
 * spool for the next start, and the shipper exits.  SIGTERM (the
 * parent-death signal) and the end of its channel are a stop with
 * SHIP_TERM_MS and no drain.
 */
#ifndef SINKS_SHIPPER_SHIPPER_H
#define SINKS_SHIPPER_SHIPPER_H

#include <stddef.h>
#include <stdint.h>

enum influx_api {
	INFLUX_API_V1 = 1,	/* /write?db=&rp=, user and password */
	INFLUX_API_V2 = 2	/* /api/v2/write?org=&bucket=, token */
};

struct shipper_conf {
	char		**urls;		/* base URLs, in failover order */
	size_t		 nurls;
	int		 api;		/* enum influx_api */
	char		*database;	/* v1 */
	char		*rp;		/* v1, or NULL */
	char		*username;	/* v1, or NULL */
	char		*org;		/* v2 */
	char		*bucket;	/* v2 */
	/*
	 * The password (v1) or token (v2): where it is, read by the shipper
	 * alone, at its start (lib/secret.h); never by the daemon.
	 */
	int		 secret_src;	/* enum secret_src: none, file, cred */
	char		*secret_arg;	/* its path, or its credential's name */
	const char	*secret_key;	/* "token" or "password", for logs */
	char		*secret;	/* in the shipper only, once read */
	unsigned long	 batch_size;	/* lines per request */
	uint64_t	 batch_bytes;	/* bytes per request (uncompressed) */
	int		 gzip;
	int		 tls_verify;
	char		*ca_file;	/* or NULL */
	uint64_t	 connect_timeout_ms;
	uint64_t	 timeout_ms;
	uint64_t	 rejected_max;	/* bytes kept in rejected/ */
	double		 backoff_max;	/* seconds */
};

enum ship_msg_type {
	SHIP_STOP = 1,
	SHIP_FIGS
};

#define SHIP_ERROR_MAX	256		/* bytes of error text in SHIP_FIGS */
#define SHIP_TERM_MS	1000		/* the budget after SIGTERM or EOF */

struct ship_stop {
	uint32_t	 budget_ms;	/* from now on, at most */
	uint32_t	 drain;		/* 1: deliver what is ready first */
};

/* The shipper's figures since its previous SHIP_FIGS. */
struct ship_figs {
	uint64_t	 sent;		/* lines delivered */
	uint64_t	 retries;	/* failed requests */
	uint64_t	 rejected;	/* lines InfluxDB refused */
};

/*
 * The shipper process's main loop, the one symbol shipper.so exports,
 * called in the forked process (sinks/shipctl.c): conf is its settings
 * (a struct shipper_conf),
 * name the sink's, spooldir its spool, sock its end of the channel.
 * shipper.so has its own copy of lib/ (log.c among it): verbose is the
 * daemon's log_getverbose().  Never returns.
 */
void	qosd_shipper_main(const void *conf, const char *name,
	    const char *spooldir, int sock, int verbose)
	    __attribute__((noreturn, visibility("default")));

#endif /* SINKS_SHIPPER_SHIPPER_H */
