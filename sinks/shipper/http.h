/*
 * http.h: the shipper's HTTP client: one kept-alive libcurl handle that
 * posts line protocol to InfluxDB's write endpoint, v1 or v2 with its
 * credentials, after collectd's write_http (wh_post_nolock).  It knows
 * nothing of batches or verdicts (deliver.h): it posts and says what came
 * back.
 */
#ifndef SINKS_SHIPPER_HTTP_H
#define SINKS_SHIPPER_HTTP_H

#include <stddef.h>

struct shipper_conf;

/* What a POST brought back. */
struct http_answer {
	long	 status;	/* the HTTP status; 0: no response */
	double	 retry_after;	/* s, from a Retry-After header; -1: none */
	char	 text[256];	/* status 0: why; else the body, one line */
};

/*
 * Called while a request waits for its answer, at once and then after at
 * most the milliseconds it returned, or sooner when *fd (which it sets,
 * -1 for none) is readable.  It returns -1 to abort the request.
 */
typedef int	(*http_idle_fn)(void *arg, int *fd);

struct http;

/*
 * A client for the URLs of c (borrowed for the client's life, but for
 * c->secret, which libcurl copies here: the caller may wipe it after),
 * its requests compressed with gzip if c says so (the caller compresses
 * the bodies, see batch_gzip()).  name is the sink's, for fatal errors.
 * idle(arg) is called while a request waits (NULL: none).
 */
struct http	*http_new(const struct shipper_conf *c, const char *name,
		    http_idle_fn idle, void *arg);
/* Free the client.  NULL is fine. */
void		 http_free(struct http *);
/*
 * POST the len bytes of body to the write URL of c->urls[i]; *a says
 * what came back.
 */
void		 http_post(struct http *, size_t i, const char *body,
		    size_t len, struct http_answer *a);
/*
 * The write URL for base (a malloc()ed string the caller frees): the v1
 * or v2 path and query, values percent-encoded, precision ns.
 */
char		*influx_write_url(const struct shipper_conf *,
		    const char *base);

#endif /* SINKS_SHIPPER_HTTP_H */
