/*
 * natsctl.h: qosctl's side of the bus (docs/nats.md): the agents'
 * heartbeats and the results kept in the JetStream key/value bucket,
 * and requests (run a job, an ad-hoc probe) by NATS request/reply to
 * one agent.  libnats, in qosctl only.
 */
#ifndef CTL_NATSCTL_H
#define CTL_NATSCTL_H

#include <stddef.h>

#include <jansson.h>

struct natsctl;

struct natsctl_opts {
	const char	*url;		/* nats://HOST:PORT[,...] */
	const char	*creds;		/* a .creds file, or NULL */
	const char	*ca;		/* CA certificates for TLS, or NULL */
	const char	*prefix;	/* subject_prefix, "qosd" */
	const char	*bucket;	/* kv_bucket, "qosd_results" */
	double		 timeout_s;	/* connect, one request */
};

/* Connect: a handle, or NULL with why in err. */
struct natsctl	*natsctl_open(const struct natsctl_opts *, char *err,
		    size_t errlen);
/* Close and free.  NULL is fine. */
void		 natsctl_close(struct natsctl *);
/*
 * Every agent's last heartbeat in the bucket: *out {"agents": [ {agent,
 * alive, last_seen, age_s, version, heartbeat}, ... ]} sorted by agent;
 * alive when the last one is younger than 3 heartbeat intervals.  0, or
 * -1 with err.
 */
int		 natsctl_agents(struct natsctl *, json_t **out, char *err,
		    size_t errlen);
/*
 * Ask agent for verb ("run", "probe") with body: the agent's code (202,
 * 403, ...) with *out its answer, or -1 with err (no answer: the agent
 * is not there, or a timeout).
 */
int		 natsctl_request(struct natsctl *, const char *agent,
		    const char *verb, const json_t *body, json_t **out,
		    char *err, size_t errlen);
/* The result of request id from the bucket: 200 with *out, 404, or -1. */
int		 natsctl_result(struct natsctl *, const char *id, json_t **out,
		    char *err, size_t errlen);

#endif /* CTL_NATSCTL_H */
