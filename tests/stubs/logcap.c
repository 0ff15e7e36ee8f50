/*
 * logcap.c: lib/log.h's functions, keeping messages in memory (see
 * logcap.h).  fatal() records and exits(1), as the real one does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "lib/log.h"
#include "tests/stubs/logcap.h"

#define CAP	512

struct entry {
	int	 pri;
	char	 text[512];
};

static struct entry	log_v[CAP];
static size_t		log_n;
static int		verbose;
static char		all[CAP * 80];

void
log_init(int foreground, int v, const char *ident)
{
	(void)foreground;
	(void)ident;
	verbose = v;
}

void
log_to_parent(void)
{
}

void
log_setverbose(int v)
{
	verbose = v;
}

int
log_getverbose(void)
{
	return verbose;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	struct entry	*e;

	if (log_n == CAP)
		memmove(log_v, log_v + 1, (CAP - 1) * sizeof(*log_v));
	else
		log_n++;
	e = &log_v[log_n - 1];
	e->pri = pri;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
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
	fprintf(stderr, "fatal: %s\n", log_v[log_n - 1].text);
	exit(1);
}

void
logcap_reset(void)
{
	log_n = 0;
}

size_t
logcap_count(int pri, const char *needle)
{
	size_t	i, n = 0;

	for (i = 0; i < log_n; i++)
		if ((pri == -1 || log_v[i].pri == pri) &&
		    strstr(log_v[i].text, needle) != NULL)
			n++;
	return n;
}

const char *
logcap_last(int *pri)
{
	if (log_n == 0) {
		if (pri != NULL)
			*pri = -1;
		return "";
	}
	if (pri != NULL)
		*pri = log_v[log_n - 1].pri;
	return log_v[log_n - 1].text;
}

const char *
logcap_all(void)
{
	size_t	i, len = 0;

	all[0] = '\0';
	for (i = 0; i < log_n && len < sizeof(all) - 1; i++)
		len += (size_t)snprintf(all + len, sizeof(all) - len, "<%d>%s\n",
		    log_v[i].pri, log_v[i].text);
	return all;
}
