/*
 * log.h: the only logging API of qosd.
 *
 * Messages go to stderr, one line each, when running in the foreground or
 * when stderr is the journal (JOURNAL_STREAM names stderr); then each line
 * carries a "<N>" priority prefix if and only if stderr is the journal.
 * Otherwise they go to syslog(3) with LOG_DAEMON.  Format strings carry no
 * timestamp and no trailing newline.  Every function preserves errno.
 */
#ifndef SCHEDULER_LOG_H
#define SCHEDULER_LOG_H

#include <stdarg.h>

/*
 * Set up logging.  foreground: log to stderr even when it is not the
 * journal.  verbose: also emit debug messages.  ident: the syslog ident.
 */
void	log_init(int foreground, int verbose, const char *ident);
/* Change verbosity after log_init(). */
void	log_setverbose(int verbose);
/* Whether debug messages are emitted. */
int	log_getverbose(void);

/* err level, with ": strerror(errno)" appended. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
/* err level. */
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
/* warning level: degraded, still retrying. */
void	log_warning(const char *, ...) __attribute__((format(printf, 1, 2)));
/* notice level: a state change. */
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
/* info level: startup and shutdown. */
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* debug level, only with -v. */
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log at priority pri (a LOG_* value). */
void	logit(int pri, const char *, ...) __attribute__((format(printf, 2, 3)));
/* Same as logit() with a va_list. */
void	vlog(int pri, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
/* Log at crit with strerror(errno) and exit(1).  Startup errors only. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/* Log at crit and exit(1). */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* SCHEDULER_LOG_H */
