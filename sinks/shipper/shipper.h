/*
 * shipper.h: the process that posts an influxdb sink's ready segments to
 * InfluxDB, oldest first, and deletes each one only once it is delivered.
 *
 * The parent forks it with shipper_start(); it reports its figures as
 * struct shipper_msg records on a pipe.  The delivery rules (what each
 * HTTP status means, how a refused batch is split) are influx_classify()
 * and influx_deliver(), separate from HTTP so that they can be tested.
 */
#ifndef SINKS_SHIPPER_SHIPPER_H
#define SINKS_SHIPPER_SHIPPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
	char		*secret;	/* password (v1), token (v2), NULL */
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

/* What a response (or its absence) means for the batch. */
enum influx_verdict {
	INFLUX_OK,		/* 2xx: delivered */
	INFLUX_REJECT,		/* 400, 422: some line is refused: split */
	INFLUX_SPLIT,		/* 413: too large: split */
	INFLUX_FIX,		/* 401, 403, 404: keep, back off, say why */
	INFLUX_WAIT,		/* 429, 503: after Retry-After */
	INFLUX_RETRY		/* other 5xx, other codes, network errors */
};

/* The verdict on HTTP status (0: no response at all). */
enum influx_verdict influx_classify(long status);
/* "ok", "rejected", ... for logs. */
const char *influx_verdict_str(enum influx_verdict);
/*
 * The write URL for base (a malloc()ed string the caller frees): the v1
 * or v2 path and query, values percent-encoded, precision ns.
 */
char	*influx_write_url(const struct shipper_conf *, const char *base);

struct influx_ops {
	/* Post len bytes of complete lines; *retry_after (s) for WAIT. */
	enum influx_verdict (*post)(void *arg, const char *body, size_t len,
		    double *retry_after);
	/* A line (with its '\n') that InfluxDB will not take. */
	void	(*reject)(void *arg, const char *line, size_t len);
	/*
	 * Wait before retrying after verdict v, the attempt-th failure of
	 * this batch (from 0).  0, or -1 to give up delivering.
	 */
	int	(*wait)(void *arg, enum influx_verdict v, unsigned int attempt,
		    double retry_after);
};

struct influx_tally {
	uint64_t	 sent;		/* lines delivered */
	uint64_t	 rejected;	/* lines refused */
	uint64_t	 retries;	/* failed requests retried */
	uint64_t	 requests;
};

/*
 * Deliver the complete lines of data (a torn last line is ignored) in
 * requests of at most max_lines lines and max_bytes bytes (one line
 * always goes), splitting a refused or too large request in halves down
 * to the single lines InfluxDB refuses, which go to ops->reject.  Counts
 * into *t.  0 when every line is delivered or rejected; -1 when wait()
 * gave up (some lines were not delivered).
 */
int	influx_deliver(const struct influx_ops *, void *arg, const char *data,
	    size_t len, unsigned long max_lines, size_t max_bytes,
	    struct influx_tally *t);

/* What the shipper tells the parent: figures since its last message. */
struct shipper_msg {
	uint64_t	 sent;
	uint64_t	 retries;
	uint64_t	 rejected;
	uint32_t	 has_error;
	uint32_t	 ok;		/* delivering works again */
	char		 error[232];	/* the latest error, if has_error */
};

/*
 * The shipper process's main loop, the one symbol shipper.so exports for
 * shipper_start() (shipstart.h), which calls it in the forked process:
 * it reports on msgfd.  shipper.so has its own copy of lib/ (log.c among
 * it): verbose is the daemon's log_getverbose().  Never returns.
 */
void	qosd_shipper_main(const struct shipper_conf *, const char *name,
	    const char *spooldir, int msgfd, int verbose)
	    __attribute__((noreturn, visibility("default")));

#endif /* SINKS_SHIPPER_SHIPPER_H */
