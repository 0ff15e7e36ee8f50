/*
 * natsname.h: the names qosd uses on a NATS bus (docs/nats.md), shared
 * by the daemon's configuration check, the bus process (bus/) and
 * qosctl: what a subject token, a subject prefix and a key/value bucket
 * may be, and the keys of the bucket:
 *
 *	agent.AGENT		an agent's last heartbeat
 *	result.ENCODED-ID	a request's state, then its result
 *
 * A request id may hold characters a key may not (':'), and '.' splits
 * a key's tokens, so an id is encoded: every byte but A-Z a-z 0-9 _ -
 * becomes =XX (two hex digits, upper case).
 */
#ifndef LIB_NATSNAME_H
#define LIB_NATSNAME_H

#include <stddef.h>

#define NATSNAME_AGENT_MAX	64	/* bytes of an agent id on the bus */
#define NATSNAME_PREFIX_MAX	128	/* bytes of a subject prefix */
#define NATSNAME_BUCKET_MAX	64	/* bytes of a bucket's name */
#define NATSNAME_KEY_MAX	256	/* a key of the bucket, with its NUL */
#define NATSNAME_SUBJECT_MAX	512	/* a subject qosd makes, with its NUL */

/*
 * Whether s may be an agent id on the bus: 1 to NATSNAME_AGENT_MAX of
 * A-Z a-z 0-9 _ - (a subject token and a key token: no dot, no space, no
 * wildcard).  0, or -1 with why.
 */
int	natsname_agent_ok(const char *s, char *why, size_t whylen);
/*
 * Whether s may be a subject prefix: tokens of A-Z a-z 0-9 _ - separated
 * by single dots, no wildcard, at most NATSNAME_PREFIX_MAX bytes.
 */
int	natsname_prefix_ok(const char *s, char *why, size_t whylen);
/* Whether s may be a bucket's name: 1 to 64 of A-Z a-z 0-9 _ -. */
int	natsname_bucket_ok(const char *s, char *why, size_t whylen);
/*
 * The bucket's key of request id into key (NATSNAME_KEY_MAX bytes):
 * "result." and the id encoded.  0, or -1 when it does not fit.
 */
int	natsname_result_key(const char *id, char *key, size_t keylen);
/* The bucket's key of agent's heartbeat: "agent.AGENT".  0 or -1. */
int	natsname_agent_key(const char *agent, char *key, size_t keylen);
/*
 * The subject PREFIX.WHAT.AGENT (what: "heartbeat", "state", "result")
 * or, with verb, PREFIX.agent.AGENT.VERB (verb: "run", "probe").  0, or
 * -1 when it does not fit.
 */
int	natsname_subject(char *subj, size_t len, const char *prefix,
	    const char *what, const char *agent, const char *verb);

/*
 * The subject of points: PREFIX.points.AGENT.MEASUREMENT, the
 * measurement's mlen bytes (as in a line, escapes and all) encoded as a
 * result key's id is, so that it stays one token.  0, or -1 when it
 * does not fit.
 */
int	natsname_points_subject(char *subj, size_t len, const char *prefix,
	    const char *agent, const char *meas, size_t mlen);

#endif /* LIB_NATSNAME_H */
