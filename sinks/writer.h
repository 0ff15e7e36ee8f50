/*
 * writer.h: the daemon's side of a sink's writer, the process that does
 * the sink's disk I/O (sinks/writer/writer.h).
 *
 * write(2) to a file can wait for a page under writeback and fsync(2) for
 * the disk: milliseconds the scheduler's loop does not have (measured: a
 * 4.4 ms stall in write(), 6 ms per fsync).  So a sink that writes to disk
 * opens its target in the daemon, where errors show at start, and hands
 * it to a writer process.  The daemon queues lines and seal requests for
 * it, up to WRITER_QUEUE_MAX, and never blocks: what does not fit is
 * counted as dropped and logged (rate-limited).  It keeps every byte the
 * writer has not confirmed, so a writer that dies is restarted (lib/super
 * backoff, 1 s doubling to 60 s) and given it again: nothing is lost (a
 * line may be written twice, which InfluxDB takes as one point).
 */
#ifndef SINKS_WRITER_H
#define SINKS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "sinks/writer/writer.h"

#define WRITER_QUEUE_MAX	(64 * 1024 * 1024)	/* bytes held */
#define WRITER_STOP_US		5000000	/* writer_sync(), writer_stop() */

struct writer;

/*
 * Open the target with ops->open(arg) and start its writer on ev, for the
 * sink called name.  NULL with a reason in err if the target cannot be
 * opened.
 */
struct writer	*writer_start(const char *name, sd_event *ev,
		    const struct writer_ops *ops, void *arg, char *err,
		    size_t errlen);
/*
 * Queue complete lines (each ends in '\n', none is empty, len at most
 * WRITER_DATA_MAX).  0, or -1 if they were dropped (the queue is full).
 */
int		 writer_write(struct writer *, const char *lines, size_t len);
/* Send what is queued, as far as the writer takes it now. */
void		 writer_flush(struct writer *);
/*
 * Wait, at most WRITER_STOP_US, until the writer has written all queued
 * (before a reload starts new sinks on the same files).
 */
void		 writer_sync(struct writer *);
/* Ask for what was written so far to be made durable (a spool seals). */
void		 writer_seal(struct writer *);
/*
 * The writer's figures as last reported, with the lines the queue dropped
 * added to dropped; *queued, the bytes not yet confirmed.
 */
void		 writer_figs(const struct writer *, struct writer_figs *,
		    uint64_t *queued);
/*
 * Hand over everything queued, let the writer finish (a spool seals its
 * open segment) and reap it, within WRITER_STOP_US; then it is killed.  A
 * writer that died with lines left (its restart not due yet, or as it was
 * stopped) is replaced once for them.  Frees the writer; NULL is fine.
 */
void		 writer_stop(struct writer *);
/* How full the queue is, in percent of its cap. */
unsigned int	 writer_fill(const struct writer *);

#endif /* SINKS_WRITER_H */
