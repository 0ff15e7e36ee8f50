/*
 * writer/writer.h: the writer, the process that does a sink's disk I/O
 * (sinks/writer.h is the daemon's side of it), and the messages it
 * exchanges with the daemon in lib/msg.h frames on a stream socket:
 *
 *   daemon -> writer	WRITER_DATA	complete lines, 1 to WRITER_DATA_MAX
 *					bytes: append them
 *			WRITER_SEAL	(empty) make what was written durable
 *					(a spool seals its open segment)
 *   writer -> daemon	WRITER_FIGS	struct writer_figs, whenever the
 *					writer has caught up
 *
 * The end of the stream (the daemon shuts its end) asks the writer to
 * finish: it closes its target (a spool seals the open segment), reports
 * its last figures and exits.
 */
#ifndef SINKS_WRITER_WRITER_H
#define SINKS_WRITER_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define WRITER_DATA_MAX	(256 * 1024)	/* longer than any line */

enum writer_msg_type {
	WRITER_DATA = 1,
	WRITER_SEAL,
	WRITER_FIGS
};

/* What a writer reports, cumulative since its target was opened. */
struct writer_figs {
	uint64_t	consumed;	/* of the stream: DATA bytes, and one
					   for each SEAL, done with */
	uint64_t	lines;		/* lines written */
	uint64_t	dropped;	/* lines lost: write errors, a cap */
	uint64_t	bytes;		/* on disk, if the target counts it */
	uint64_t	segments;	/* likewise */
};

/* A target: what a sink writes to.  open and forget run in the daemon. */
struct writer_ops {
	/* In the daemon: open the target.  NULL with a reason in err. */
	void	*(*open)(void *arg, char *err, size_t errlen);
	/* In the daemon, once forked: let go of its copy, no I/O. */
	void	 (*forget)(void *t);
	/*
	 * The descriptors the writer must keep into fds, at most max (arg
	 * as for open, t the target): how many.  Every other one is closed
	 * in the writer (lib/proc.h).
	 */
	size_t	 (*keep_fds)(void *arg, void *t, int *fds, size_t max);
	/* In the writer: write nlines complete lines; count them in f. */
	void	 (*append)(void *t, const char *p, size_t len,
		    unsigned long nlines, struct writer_figs *f);
	/* In the writer: make what was written durable, update f. */
	void	 (*seal)(void *t, struct writer_figs *f);
	/* In the writer, at the end: seal and close. */
	void	 (*close)(void *t, struct writer_figs *f);
};

/*
 * The writer process of sink name: serve the stream on sock (its end of
 * the channel) into target t until the stream ends, then close t and
 * exit.
 */
void	writer_main(const char *name, const struct writer_ops *ops, void *t,
	    int sock) __attribute__((noreturn));

#endif /* SINKS_WRITER_WRITER_H */
