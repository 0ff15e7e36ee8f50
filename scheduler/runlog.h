/*
 * runlog.h: what a run prints on its standard error, logged by the daemon
 * for it: one log line per line, prefixed "collector[job]: " (unless the
 * run's own log line already is), control characters escaped as \xNN,
 * long lines cut, at the priority a "<N>" prefix asks for (never above
 * err; plain text is a warning), and rate-limited: at most RUNLOG_LINES
 * lines per run and RUNLOG_RATE per second for all runs, what is held
 * back summed up in one "N lines suppressed" line.
 */
#ifndef SCHEDULER_RUNLOG_H
#define SCHEDULER_RUNLOG_H

#include <stddef.h>

#include "lib/buf.h"

#define RUNLOG_LINES	20	/* per run */
#define RUNLOG_RATE	100	/* per second, all runs */
#define RUNLOG_WIDTH	512	/* bytes of a line logged */

struct runlog {
	const char	*who;		/* "collector[job]", borrowed */
	struct buf	 in;		/* an incomplete line */
	unsigned long	 lines;		/* logged for this run */
	unsigned long	 held;		/* held back for this run */
	int		 skipping;	/* the rest of a long line */
};

/* Start the log of a run called who (borrowed for the run's life). */
void	runlog_init(struct runlog *, const char *who);
/* Take n bytes the run wrote on stderr; log its complete lines. */
void	runlog_feed(struct runlog *, const char *p, size_t n);
/* The run's stderr closed: log its last line and what was held back. */
void	runlog_end(struct runlog *);

#endif /* SCHEDULER_RUNLOG_H */
