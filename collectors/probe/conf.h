/*
 * conf.h: the settings every probe collector shares (ping, tcp, and udp
 * to come): which hosts, how many probes how often, and how the probes
 * leave this host.  A collector says in a struct probe_spec which of them
 * it takes and how it names them, and its configure() makes its job state
 * (a struct whose first member is a struct probe_conf) with one
 * probe_job_new() that reads them all; it then reads only its own.
 *
 *   struct udp_conf { struct probe_conf pc; long long port; };
 *   c = probe_job_new(sizeof(*c), &udp_spec, job, err, errlen);
 *
 *   targets    a host name or address, or a list of them (required)
 *   count      probes per target and run, 1 to 10000 (5)
 *   INTERVAL   seconds from one probe of a target to the next, 0.001 to
 *              3600 (0.2); spec->interval names it ("probe_interval")
 *   TIMEOUT    seconds a probe waits for its answer, 0.001 to 3600 (1.0);
 *              spec->timeout names it ("probe_timeout")
 *   size       bytes of a probe, spec->size_min to size_max (size_def)
 *   dscp       the DSCP code point of the probes (0: the system's)
 *   family     "any", "ipv4" or "ipv6": what the targets resolve to
 *   source     the numeric address probes are sent from; it sets the
 *              family, and a family given too must match it
 *   ttl        IP TTL or IPv6 hop limit, 1 to 255 (64)  [PROBE_TTL]
 *   device     the interface the probes leave by        [PROBE_DEVICE]
 *
 * The collector lists these names in its descriptor's settings too (the
 * daemon refuses any setting a collector does not list).
 */
#ifndef COLLECTORS_PROBE_CONF_H
#define COLLECTORS_PROBE_CONF_H

#include <sys/socket.h>

#include <stddef.h>

#include <libconfig.h>

#define PROBE_TTL	0x1	/* the collector takes `ttl` */
#define PROBE_DEVICE	0x2	/* the collector takes `device` */

/* What a collector takes of the common settings; static, never freed. */
struct probe_spec {
	const char	*name;		/* the collector: "ping", for logs */
	const char	*targets_hint;	/* "hosts to ping": what targets are */
	const char	*interval;	/* the setting names of INTERVAL */
	const char	*timeout;	/* and of TIMEOUT */
	long long	 size_min, size_max, size_def;
	unsigned int	 opts;		/* PROBE_TTL, PROBE_DEVICE */
};

/* The common settings of one job, as read; embedded in the job's state. */
struct probe_conf {
	const struct probe_spec	*spec;
	char			**targets;	/* ntargets names, owned */
	size_t			  ntargets;
	long long		  count;
	double			  interval;	/* seconds */
	double			  timeout;	/* seconds */
	long long		  size;		/* bytes */
	long long		  ttl;		/* with PROBE_TTL */
	int			  dscp;		/* 0 to 63 */
	int			  family;	/* AF_UNSPEC, AF_INET(6) */
	struct sockaddr_storage	  source;	/* AF_UNSPEC: none given */
	char			 *device;	/* or NULL; owned */
};

/*
 * Read the common settings of job into pc, as spec says, for configure():
 * no I/O.  Returns 0, or -1 with "FILE:LINE: SETTING: what is wrong" (or
 * "out of memory") in err and pc holding nothing.  Either way
 * probe_conf_cleanup() may be called.
 */
int	probe_conf_read(struct probe_conf *pc, const struct probe_spec *spec,
	    const config_setting_t *job, char *err, size_t errlen);
/* Free what pc holds; it then holds nothing (a second call is harmless). */
void	probe_conf_cleanup(struct probe_conf *pc);

/*
 * A collector's job state in one call: a new zeroed object of size bytes
 * whose first member is a struct probe_conf, read as probe_conf_read()
 * does.  NULL with the reason in err.  Free it with probe_job_free(),
 * which is the release() of a collector whose state holds nothing else.
 */
void	*probe_job_new(size_t size, const struct probe_spec *spec,
	    const config_setting_t *job, char *err, size_t errlen);
/* Free a state made by probe_job_new(), and its probe_conf; NULL is fine. */
void	probe_job_free(void *state);

#endif /* COLLECTORS_PROBE_CONF_H */
