/*
 * log.c: logging to stderr (with journal priority prefixes) or syslog.
 * Modelled on OpenBSD ntpd's log.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static int	 log_to_stderr;
static int	 log_prefix;
static int	 log_verbose;

/*
 * JOURNAL_STREAM is "DEV:INO" of the stream systemd connected; it names
 * stderr only if fd 2 still is that stream.
 */
static int
stderr_is_journal(void)
{
	const char	*js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat	 st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int foreground, int verbose, const char *ident)
{
	int journal = stderr_is_journal();

	log_to_stderr = foreground || journal;
	log_prefix = journal;
	log_verbose = verbose;
	if (!log_to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	tzset();
}

void
log_to_parent(void)
{
	log_to_stderr = 1;
	log_prefix = 1;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

int
log_getverbose(void)
{
	return log_verbose;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 line[2048];
	int	 saved_errno = errno;

	if (pri == LOG_DEBUG && !log_verbose) {
		errno = saved_errno;
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_stderr) {
		if (log_prefix)
			fprintf(stderr, "<%d>%s\n", pri, line);
		else
			fprintf(stderr, "%s\n", line);
		fflush(stderr);
	} else
		syslog(pri, "%s", line);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

#define LOG_FN(fn, pri)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	vlog(pri, fmt, ap);					\
	va_end(ap);						\
}

LOG_FN(log_err, LOG_ERR)
LOG_FN(log_warning, LOG_WARNING)
LOG_FN(log_notice, LOG_NOTICE)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
