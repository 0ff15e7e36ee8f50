/*
 * qosd/point.h: the point API, for a collector's run(), exported by the
 * qosd executable.  What run() measures leaves through these functions
 * only: they own escaping, validation and timestamps.
 */
#ifndef QOSD_POINT_H
#define QOSD_POINT_H

#include <stdint.h>

struct qosd_out;

/*
 * The point API, for run().  A point is begun, given tags and fields, and
 * ended; qosd_point_end() encodes it and writes it to the daemon.  Tags are
 * sorted and escaped for you; the daemon adds the agent, job and configured
 * tags.  A point without an explicit time is stamped at qosd_point_end()
 * with CLOCK_REALTIME.  Control characters in string values are replaced by
 * spaces.  Each function returns 0, or -1 after logging why (the point is
 * then dropped at qosd_point_end(), which also returns -1).
 */
int	qosd_point_begin(struct qosd_out *, const char *measurement);
int	qosd_point_tag(struct qosd_out *, const char *key, const char *value);
int	qosd_point_float(struct qosd_out *, const char *key, double);
int	qosd_point_int(struct qosd_out *, const char *key, int64_t);
int	qosd_point_bool(struct qosd_out *, const char *key, int);
int	qosd_point_str(struct qosd_out *, const char *key, const char *);
/* Stamp the point being built, in nanoseconds since the epoch. */
int	qosd_point_time(struct qosd_out *, int64_t ns);
int	qosd_point_end(struct qosd_out *);
/* The job's name, for log messages. */
const char *qosd_out_job(const struct qosd_out *);
/*
 * The CLOCK_MONOTONIC time in microseconds at which the daemon will stop
 * this run; a collector sizes its own waits to finish before it.
 */
uint64_t qosd_out_deadline_us(const struct qosd_out *);
/*
 * Replace the run's process with the program argv[0] (a path, no shell)
 * whose standard output is the daemon's pipe: every line it prints is read
 * as line protocol.  envp NULL keeps the environment.  Returns only on
 * failure: -1 after logging why.
 */
int	qosd_out_exec(struct qosd_out *, char *const argv[],
	    char *const envp[]);

#endif /* QOSD_POINT_H */
