/*
 * logcap.h: a link-time stand-in for lib/log.c that keeps every message
 * in memory for a test to look at (after collectd's plugin_mock): a suite
 * linked with logcap.o instead of the library's log.o asserts what was
 * logged, and at which level, instead of scraping stderr.
 */
#ifndef TESTS_STUBS_LOGCAP_H
#define TESTS_STUBS_LOGCAP_H

#include <stddef.h>

/* Forget what was logged. */
void	logcap_reset(void);
/* How many messages at priority pri (LOG_*; -1: any) contain needle. */
size_t	logcap_count(int pri, const char *needle);
/* The last message ("" if none), and its priority in *pri if not NULL. */
const char *logcap_last(int *pri);
/* Every message so far, one per line, for a failing assertion's text. */
const char *logcap_all(void);

#endif /* TESTS_STUBS_LOGCAP_H */
