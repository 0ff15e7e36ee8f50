/*
 * deliver.c: the delivery rules (see deliver.h): verdicts, requests of
 * whole lines, splitting.
 */
#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "sinks/shipper/deliver.h"

enum influx_verdict
influx_classify(long status)
{
	if (status >= 200 && status < 300)
		return INFLUX_OK;
	switch (status) {
	case 400:
	case 422:
		return INFLUX_REJECT;
	case 413:
		return INFLUX_SPLIT;
	case 401:
	case 403:
	case 404:
		return INFLUX_FIX;
	case 429:
	case 503:
		return INFLUX_WAIT;
	default:
		return INFLUX_RETRY;
	}
}

const char *
influx_verdict_str(enum influx_verdict v)
{
	switch (v) {
	case INFLUX_OK:
		return "ok";
	case INFLUX_REJECT:
		return "rejected";
	case INFLUX_SPLIT:
		return "too large";
	case INFLUX_FIX:
		return "refused";
	case INFLUX_WAIT:
		return "busy";
	case INFLUX_RETRY:
		return "failed";
	}
	return "?";
}

struct lines {
	const char	*data;
	size_t		*off;		/* start of line i; off[n]: end */
	size_t		 n;
};

static int
deliver_range(const struct influx_ops *ops, void *arg,
    const struct lines *l, size_t lo, size_t hi, struct influx_tally *t)
{
	enum influx_verdict	 v;
	unsigned int		 attempt = 0;
	double			 ra;
	size_t			 mid;
	const char		*body = l->data + l->off[lo];
	size_t			 len = l->off[hi] - l->off[lo];

	for (;;) {
		ra = -1;
		t->requests++;
		v = ops->post(arg, body, len, &ra);
		switch (v) {
		case INFLUX_OK:
			t->sent += hi - lo;
			return 0;
		case INFLUX_REJECT:
		case INFLUX_SPLIT:
			if (hi - lo == 1) {
				ops->reject(arg, body, len);
				t->rejected++;
				return 0;
			}
			mid = lo + (hi - lo) / 2;
			if (deliver_range(ops, arg, l, lo, mid, t) == -1)
				return -1;
			return deliver_range(ops, arg, l, mid, hi, t);
		case INFLUX_FIX:
		case INFLUX_WAIT:
		case INFLUX_RETRY:
			t->retries++;
			if (ops->wait(arg, v, attempt++, ra) == -1)
				return -1;
			break;
		}
	}
}

int
influx_deliver(const struct influx_ops *ops, void *arg, const char *data,
    size_t len, unsigned long max_lines, size_t max_bytes,
    struct influx_tally *t)
{
	struct lines	 l;
	const char	*p = data, *nl;
	size_t		 n, cap = 0, lo, hi;
	int		 rc = 0;

	l.data = data;
	l.off = NULL;
	l.n = 0;
	/* The line index, then requests of whole lines. */
	while ((nl = memchr(p, '\n', len - (size_t)(p - data))) != NULL) {
		if (l.n + 2 > cap) {
			cap = cap ? cap * 2 : 1024;
			if ((l.off = reallocarray(l.off, cap,
			    sizeof(*l.off))) == NULL)
				fatal("influx_deliver: %m");
		}
		l.off[l.n++] = (size_t)(p - data);
		p = nl + 1;
	}
	if (l.n == 0) {
		free(l.off);
		return 0;
	}
	l.off[l.n] = (size_t)(p - data);
	for (lo = 0; lo < l.n && rc == 0; lo = hi) {
		for (hi = lo + 1, n = 1; hi < l.n && n < max_lines &&
		    l.off[hi + 1] - l.off[lo] <= max_bytes; hi++, n++)
			;
		rc = deliver_range(ops, arg, &l, lo, hi, t);
	}
	free(l.off);
	return rc;
}

