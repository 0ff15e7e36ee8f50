/*
 * qosd/log.h: logging, one function per level, exported by the qosd
 * executable to plugins (and used by every process of qosd).
 *
 * One message is one line: no trailing newline, no timestamp, lower case,
 * no final period, user-supplied strings quoted, shaped
 * "collector[job]: what: why".  "%m" in a format is strerror(errno).
 * Every function preserves errno.
 *
 *   log_err()      an error: data lost, a run failed, something to fix
 *   log_warning()  degraded, still retrying
 *   log_notice()   a state change (a reload, a sink that recovered)
 *   log_info()     start-up and shutdown
 *   log_debug()    per-run and per-line detail, only with -v
 */
#ifndef QOSD_LOG_H
#define QOSD_LOG_H

void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warning(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif /* QOSD_LOG_H */
