/*
 * point.h: the daemon side of the point API of collector.h, used in a
 * forked child to hand a run's points to the parent through a pipe.
 */
#ifndef SCHEDULER_SPAWNER_POINT_H
#define SCHEDULER_SPAWNER_POINT_H

#include <stdint.h>

struct qosd_out;

/*
 * A new output writing to fd (borrowed) for job (copied), whose run ends
 * at deadline_us (CLOCK_MONOTONIC).  NULL on allocation failure.
 */
struct qosd_out *point_out_new(int fd, const char *job, uint64_t deadline_us);
/*
 * The run began at begin_us (CLOCK_MONOTONIC): "#begin US\n" first in
 * the batch, written with the first points (child.h).
 */
void	point_out_begin(struct qosd_out *, uint64_t begin_us);
/*
 * Name the collector: the output's own log lines then read
 * "collector[job]: ..." (until then, "job: ...").
 */
void	point_out_name(struct qosd_out *, const char *collector);
/* Write the batch to the daemon now.  0, or -1 after logging why. */
int	point_out_flush(struct qosd_out *);
/* The number of points written so far. */
unsigned long point_out_count(const struct qosd_out *);
/* Write what is batched, then free it; NULL is fine. */
void	point_out_free(struct qosd_out *);

#endif /* SCHEDULER_SPAWNER_POINT_H */
