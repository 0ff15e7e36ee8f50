/*
 * log.h: the logging of every qosd process.  The levels are declared in
 * qosd/log.h (plugins use them too); this adds the set-up and fatal().
 *
 * Messages go to stderr, one line each, when running in the foreground or
 * when stderr is the journal (JOURNAL_STREAM names stderr); then each line
 * carries a "<N>" priority prefix if and only if stderr is the journal.
 * Otherwise they go to syslog(3) with LOG_DAEMON.  Format strings carry no
 * timestamp and no trailing newline; "%m" is strerror(errno).  Every
 * function preserves errno.
 */
#ifndef LIB_LOG_H
#define LIB_LOG_H

#include <stdarg.h>

#include "qosd/log.h"

/*
 * Set up logging.  foreground: log to stderr even when it is not the
 * journal.  verbose: also emit debug messages.  ident: the syslog ident.
 */
void	log_init(int foreground, int verbose, const char *ident);
/*
 * From now on, every message goes to stderr with a "<N>" priority prefix:
 * for a process whose stderr its parent reads and logs (a run).
 */
void	log_to_parent(void);
/* Change verbosity after log_init(). */
void	log_setverbose(int verbose);
/* Whether debug messages are emitted. */
int	log_getverbose(void);
/* Log at priority pri (a LOG_* value). */
void	logit(int pri, const char *, ...) __attribute__((format(printf, 2, 3)));
/* Same as logit() with a va_list. */
void	vlog(int pri, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/*
 * Log at crit and exit(1): start-up errors, allocation failure and
 * broken invariants only.
 */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LIB_LOG_H */
