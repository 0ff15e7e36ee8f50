/*
 * writer.h: a sink's disk I/O, in a process of its own.
 *
 * write(2) to a file can wait for a page under writeback and fsync(2) for
 * the disk: milliseconds the scheduler's loop does not have (measured: a
 * 4.4 ms stall in write(), 6 ms per fsync).  So a sink that writes to disk
 * opens its target in the parent, where errors show at start, and hands
 * it to a writer process.  The parent queues lines and seal requests on a
 * socket and never blocks; the writer appends, seals and reports back how
 * far it got.  The parent keeps what the writer has not confirmed, so a
 * writer that dies is restarted and given it again: nothing is lost (a
 * line may be written twice, which InfluxDB takes as one point).
 */
#ifndef SINKS_WRITER_H
#define SINKS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

/* What a writer reports, cumulative since its target was opened. */
struct writer_figs {
	uint64_t	consumed;	/* bytes of the stream done with */
	uint64_t	lines;		/* lines written */
	uint64_t	dropped;	/* lines lost: write errors, a cap */
	uint64_t	bytes;		/* on disk, if the target counts it */
	uint64_t	segments;	/* likewise */
};

struct writer_ops {
	/* In the parent: open the target.  NULL with a reason in err. */
	void	*(*open)(void *arg, char *err, size_t errlen);
	/* In the parent, once forked: let go of its copy, no I/O. */
	void	 (*forget)(void *t);
	/* In the writer: the descriptor it must keep, or -1. */
	int	 (*keep_fd)(void *t);
	/* In the writer: write nlines complete lines; count them in f. */
	void	 (*append)(void *t, const char *p, size_t len,
		    unsigned long nlines, struct writer_figs *f);
	/* In the writer: make what was written durable, update f. */
	void	 (*seal)(void *t, struct writer_figs *f);
	/* In the writer, at the end: seal and close. */
	void	 (*close)(void *t, struct writer_figs *f);
};

struct writer;

/*
 * Open the target and fork its writer.  max_queue bounds the bytes the
 * parent holds for it; beyond that, lines are dropped and counted.
 */
struct writer	*writer_start(const char *name, sd_event *ev,
		    const struct writer_ops *ops, void *arg, size_t max_queue,
		    char *err, size_t errlen);
/* Queue complete lines.  0, or -1 if they were dropped (queue full). */
int		 writer_write(struct writer *, const char *lines, size_t len);
/* Send what is queued, as far as the socket takes it now. */
void		 writer_flush(struct writer *);
/* Wait, at most timeout_us, until the writer has written all queued. */
void		 writer_sync(struct writer *, uint64_t timeout_us);
/* Ask for what was written so far to be made durable (a spool seals). */
void		 writer_seal(struct writer *);
/*
 * The writer's figures as last reported, with the lines the queue dropped
 * added to dropped; queued, the bytes not yet confirmed.
 */
void		 writer_figs(const struct writer *, struct writer_figs *,
		    uint64_t *queued);
/*
 * Hand over everything queued, let the writer finish and wait for it, at
 * most timeout_us; then it is killed.  A writer that died with lines left
 * (its restart not due yet, or as it was stopped) is replaced once for
 * them.  NULL is fine.
 */
void		 writer_stop(struct writer *, uint64_t timeout_us);

#endif /* SINKS_WRITER_H */
