/*
 * runlog.c: a run's standard error, logged by the daemon (see runlog.h).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "scheduler/runlog.h"

/* The bucket all runs share: RUNLOG_RATE lines a second. */
static struct {
	uint64_t	 second;	/* CLOCK_MONOTONIC, whole seconds */
	unsigned long	 used;
	unsigned long	 held;		/* in that second, all runs */
} bucket;

static int
take_token(void)
{
	uint64_t	now = clock_mono_us() / 1000000;

	if (now != bucket.second) {
		if (bucket.held > 0)
			log_warning("%lu lines from runs' stderr suppressed in "
			    "one second (at most %d a second are logged)",
			    bucket.held, RUNLOG_RATE);
		bucket.second = now;
		bucket.used = 0;
		bucket.held = 0;
	}
	if (bucket.used >= RUNLOG_RATE) {
		bucket.held++;
		return 0;
	}
	bucket.used++;
	return 1;
}

/* A "<N>" prefix: its priority, never above err; text after it. */
static int
priority(const char **p, size_t *n)
{
	int	pri;

	if (*n >= 3 && (*p)[0] == '<' && (*p)[1] >= '0' && (*p)[1] <= '7' &&
	    (*p)[2] == '>') {
		pri = (*p)[1] - '0';
		*p += 3;
		*n -= 3;
		return pri < LOG_ERR ? LOG_ERR : pri;
	}
	return LOG_WARNING;
}

static void
log_line(struct runlog *rl, const char *p, size_t n)
{
	char		 text[RUNLOG_WIDTH * 4 + 8];
	size_t		 i, k = 0, wl = strlen(rl->who);
	int		 pri;
	unsigned char	 ch;

	pri = priority(&p, &n);
	if (pri == LOG_DEBUG && !log_getverbose())
		return;
	if (rl->lines >= RUNLOG_LINES || !take_token()) {
		rl->held++;
		return;
	}
	rl->lines++;
	for (i = 0; i < n && i < RUNLOG_WIDTH; i++) {
		ch = (unsigned char)p[i];
		if (ch < 0x20 || ch == 0x7f)
			k += (size_t)snprintf(text + k, sizeof(text) - k,
			    "\\x%02x", ch);
		else
			text[k++] = (char)ch;
	}
	text[k] = '\0';
	if (n > RUNLOG_WIDTH)
		snprintf(text + k, sizeof(text) - k, "...");
	/* A run's own log lines are already "collector[job]: ...". */
	if (n > wl && strncmp(p, rl->who, wl) == 0 && p[wl] == ':')
		logit(pri, "%s", text);
	else
		logit(pri, "%s: %s", rl->who, text);
}

void
runlog_init(struct runlog *rl, const char *who)
{
	memset(rl, 0, sizeof(*rl));
	rl->who = who;
	buf_init(&rl->in, RUNLOG_WIDTH);
}

void
runlog_feed(struct runlog *rl, const char *p, size_t n)
{
	const char	*nl, *end = p + n;
	size_t		 len;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		len = (size_t)(nl - p);
		if (rl->skipping)
			rl->skipping = 0;
		else if (rl->in.len > 0) {
			buf_add(&rl->in, p, len < RUNLOG_WIDTH -
			    rl->in.len ? len : RUNLOG_WIDTH - rl->in.len);
			log_line(rl, rl->in.data, rl->in.len);
		} else
			log_line(rl, p, len);
		buf_reset(&rl->in);
		p = nl + 1;
	}
	if (p == end || rl->skipping)
		return;
	/* Keep the start of an incomplete line; log it once full. */
	len = (size_t)(end - p);
	if (rl->in.len + len >= RUNLOG_WIDTH) {
		buf_add(&rl->in, p, RUNLOG_WIDTH - rl->in.len);
		log_line(rl, rl->in.data, RUNLOG_WIDTH + 1);
		buf_reset(&rl->in);
		rl->skipping = 1;
	} else
		buf_add(&rl->in, p, len);
}

void
runlog_end(struct runlog *rl)
{
	if (rl->in.len > 0 && !rl->skipping)
		log_line(rl, rl->in.data, rl->in.len);
	if (rl->held > 0)
		log_warning("%s: %lu more lines on stderr suppressed", rl->who,
		    rl->held);
	buf_cleanup(&rl->in);
	rl->held = 0;
}
