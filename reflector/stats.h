/*
 * stats.h: the reflector's counters as InfluxDB line protocol: one line
 * for the reflector, one per service it runs.
 *
 *   qosd_reflector[,TAGS] uptime_s=..,clock_synced=..,sources=..i,
 *       sources_evicted=..i TIME
 *   qosd_reflector,port=862,protocol=stamp[,TAGS] received=..i,
 *       reflected=..i,dropped_acl=..i,dropped_rate=..i,dropped_bad=..i,
 *       send_failed=..i,app_timestamps=..i,stateful=..,sessions=..i,
 *       sessions_evicted=..i TIME
 *   qosd_reflector,port=7,protocol=udp_echo[,TAGS] (as stamp's, without
 *       app_timestamps and the sessions)
 *   qosd_reflector,port=4401,protocol=tcp_echo[,TAGS] accepted=..i,
 *       refused_acl=..i,refused_busy=..i,closed_idle=..i,bytes=..i,
 *       open=..i TIME
 *
 * sources: the sources a rate limit remembers now; sessions: the STAMP
 * sessions of a stateful reflector now.  Counters count from the start.
 * The lines are written every interval to standard output or appended to
 * a file, and are what --status prints.
 */
#ifndef REFLECTOR_STATS_H
#define REFLECTOR_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/complain.h"

struct buf;
struct refl;

#define STATS_MAX_TAGS	16

struct stats {
	const char	*path;		/* "-": standard output; NULL: none */
	int		 fd;
	uint64_t	 interval_us;	/* 0: no periodic output */
	uint64_t	 next_us;
	char		*tags[STATS_MAX_TAGS][2];
	size_t		 ntags;
	struct complain	 failing;	/* writes to the output */
};

/* No output, no tags. */
void	stats_init(struct stats *);
/* Free the tags, close the file.  Idempotent. */
void	stats_cleanup(struct stats *);
/* Add a tag "KEY=VALUE" to every line.  0, or -1 with a reason in err. */
int	stats_add_tag(struct stats *, const char *kv, char *err,
	    size_t errlen);
/* Open (again, after SIGHUP) the output.  0, or -1 after logging why. */
int	stats_open(struct stats *);
/*
 * Append every service's line, stamped now_ns (CLOCK_REALTIME), to out.
 * 0, or -1 after logging why.
 */
int	stats_render(const struct stats *, const struct refl *, int64_t now_ns,
	    struct buf *out);
/* Write the lines if the interval is due at now_us (CLOCK_MONOTONIC). */
void	stats_tick(struct stats *, const struct refl *, uint64_t now_us);
/* Write the lines now (at exit). */
void	stats_write(struct stats *, const struct refl *);

#endif /* REFLECTOR_STATS_H */
