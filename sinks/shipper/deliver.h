/*
 * deliver.h: the delivery rules of the influxdb sink's shipper, apart from
 * HTTP so that they can be tested: what each HTTP status means, how a
 * batch is cut into requests, and how a refused or too large request is
 * split down to the lines InfluxDB will not take.
 */
#ifndef SINKS_SHIPPER_DELIVER_H
#define SINKS_SHIPPER_DELIVER_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* SINKS_SHIPPER_DELIVER_H */
