/*
 * bus.h: the bus, the process that holds qosd's NATS connection
 * (docs/nats.md): it publishes the daemon's heartbeats, the state and
 * results of requests (and keeps them in a JetStream key/value bucket),
 * and takes requests (run a job, an ad-hoc probe) that it hands to the
 * daemon, whose control core (scheduler/control.h) answers them as it
 * answers the HTTP API.  Its code is bus.so, loaded only in the bus
 * process (scheduler/ctlbus.h forks it): libnats starts threads of its
 * own and talks to the network, and the daemon does neither.
 *
 *   bus.c	the process: its loop, the channel to the daemon, what
 *		waits while NATS is away, requests waiting for answers
 *   conn.c	the NATS connection: options, secrets, TLS, reconnects
 *   kv.c	the bucket: bound (made if missing), puts
 *
 * It talks with the daemon over a stream socket in lib/msg.h frames:
 *
 *   bus -> daemon	BUS_REQUEST	struct bus_req, then the request's
 *					JSON (1 to max_request bytes)
 *			BUS_FIGS	struct bus_figs: how it goes
 *   daemon -> bus	BUS_REPLY	struct bus_reply, then the answer's
 *					JSON
 *			BUS_HEARTBEAT	the heartbeat's JSON
 *			BUS_STATE	a request's JSON (GET /v1/results/ID's),
 *					at each change of its state
 *			BUS_STOP	none: stop now
 *			BUS_POINTS	complete lines of line protocol, 1 byte
 *					to BUS_POINTS_MAX (nats.points)
 *
 * SIGTERM (the parent-death signal) and the end of the channel stop it
 * too.  Nothing the daemon sends waits for NATS: while it is away the
 * bus keeps the last heartbeat and up to BUS_QUEUE_MAX states (the
 * oldest dropped, counted) and sends them when it is back.
 */
#ifndef BUS_BUS_H
#define BUS_BUS_H

#include <stddef.h>
#include <stdint.h>

/* Where a secret is: a file, or a systemd credential (lib/secret.h). */
struct bus_secret {
	int		 src;		/* enum secret_src */
	char		*arg;		/* a path, or a credential's name */
};

struct bus_conf {
	char		**servers;	/* nats:// or tls:// URLs */
	size_t		 nservers;
	char		*agent;		/* the agent id: a subject token */
	char		*prefix;	/* subject_prefix */
	struct bus_secret creds;	/* a .creds file (JWT and seed) */
	char		*nkey;		/* the public NKey of nkey_file */
	struct bus_secret nkey_seed;
	char		*user;		/* with password */
	struct bus_secret password;
	struct bus_secret token;
	int		 tls;		/* tls { } given */
	char		*ca_file;
	char		*cert_file;
	struct bus_secret key;		/* the client certificate's key */
	char		*server_name;
	int		 tls_verify;
	double		 heartbeat_s;
	char		*bucket;
	double		 kv_ttl_s;
	uint32_t	 max_request;	/* bytes of a request */
	unsigned int	 max_per_minute;	/* requests */
	double		 reconnect_min_s, reconnect_max_s;
	int		 points;	/* PREFIX.points.AGENT.MEASUREMENT */
	char		*points_stream;	/* their JetStream stream, or NULL */
};

enum bus_msg_type {
	BUS_REQUEST = 1,
	BUS_FIGS,
	BUS_REPLY,
	BUS_HEARTBEAT,
	BUS_STATE,
	BUS_STOP,
	BUS_POINTS
};

enum bus_req_kind {
	BUS_RUN = 1,			/* {"job": NAME, "id": ID} */
	BUS_PROBE			/* POST /v1/probes's body */
};

#define BUS_JSON_MAX	(1 << 20)	/* a JSON payload of the channel */
#define BUS_QUEUE_MAX	1024		/* states kept while NATS is away */
#define BUS_PENDING_MAX	256		/* requests awaiting the daemon */
#define BUS_POINTS_MAX	(256 * 1024)	/* bytes of lines in a BUS_POINTS */
#define BUS_POINTS_QUEUE (16 << 20)	/* bytes of lines kept while away */

struct bus_req {
	uint32_t	 tag;		/* the bus's, for the reply */
	uint32_t	 kind;		/* enum bus_req_kind */
};

struct bus_reply {
	uint32_t	 tag;
	uint32_t	 code;		/* enum ctl_code: 202, 403, ... */
};

/* How the bus goes, since it started. */
struct bus_figs {
	uint32_t	 connected;	/* 1 while NATS is there */
	uint32_t	 kv;		/* 1 once the bucket is bound */
	uint64_t	 published;	/* messages published */
	uint64_t	 dropped;	/* states and heartbeats let go */
	uint64_t	 requests;	/* requests taken */
	uint64_t	 refused;	/* by the bus: too large, too many */
	uint64_t	 reconnects;
	uint64_t	 kv_errors;	/* puts that failed */
	uint64_t	 points_sent;	/* lines published (nats.points) */
	uint64_t	 points_dropped;	/* lines let go: queue full */
};

/*
 * The bus process's main loop, the one symbol bus.so exports, called in
 * the forked process (scheduler/ctlbus.c): c is its settings, sock its
 * end of the channel, verbose the daemon's log_getverbose().  Never
 * returns.
 */
void	qosd_bus_main(const struct bus_conf *c, int sock, int verbose)
	    __attribute__((noreturn, visibility("default")));

#endif /* BUS_BUS_H */
