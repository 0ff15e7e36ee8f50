/*
 * conf.c: the iperf collector's settings.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/iperf/conf.h"
#include "qosd/cfg.h"

#define DEF_PORT	5201
#define DEF_DURATION	10
#define DEF_UDP_RATE	(1024 * 1024)	/* iperf3 -u without -b */
#define DEF_CONNECT	5.0		/* seconds */
#define DEF_RETRIES	3
#define MAX_STREAMS	128		/* iperf3's limit */
#define MAX_TCP_BLOCK	(1024 * 1024)	/* iperf3's limit */
#define MIN_UDP_BLOCK	64
#define MAX_UDP_BLOCK	65507
#define MAX_RATE	1e12		/* bits/s */

static const char *const protocols[] = { "tcp", "udp", NULL };
static const char *const directions[] = {
	"upload", "download", "both", NULL
};

/* bandwidth: bits/s, a number or a string such as "50M" (powers of 1000). */
static int
cfg_rate(const config_setting_t *job, uint64_t *v, char *err, size_t errlen)
{
	const config_setting_t	*s;
	const char		*str;
	char			*end;
	double			 d;

	if ((s = config_setting_get_member(job, "bandwidth")) == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		d = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		d = config_setting_get_float(s);
		break;
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		errno = 0;
		d = strtod(str, &end);
		if (end == str || errno != 0)
			goto bad;
		switch (*end) {
		case 'k': case 'K':
			d *= 1e3;
			end++;
			break;
		case 'm': case 'M':
			d *= 1e6;
			end++;
			break;
		case 'g': case 'G':
			d *= 1e9;
			end++;
			break;
		}
		if (*end != '\0')
			goto bad;
		break;
	default:
		goto bad;
	}
	if (!(d >= 0 && d <= MAX_RATE))
		goto bad;
	*v = (uint64_t)llround(d);
	return 1;
bad:
	return qosd_cfg_error(s, err, errlen, "expected bits per second from "
	    "0 (unlimited) to %g, as a number or a string with a K, M or G "
	    "suffix (powers of 1000) such as \"50M\"", MAX_RATE);
}

static int
cfg_address(const config_setting_t *job, const char *name, char **v,
    char *err, size_t errlen)
{
	const char	*str;
	unsigned char	 a[16];
	int		 r;

	if ((r = qosd_cfg_string(job, name, 0, &str, err, errlen)) != 1)
		return r;
	if (inet_pton(AF_INET, str, a) != 1 &&
	    inet_pton(AF_INET6, str, a) != 1)
		return qosd_cfg_error(config_setting_get_member(job, name), err,
		    errlen, "\"%s\" is not an IPv4 or IPv6 address", str);
	if ((*v = strdup(str)) == NULL)
		return qosd_cfg_error(job, err, errlen, "out of memory");
	return 1;
}

/* An explicit job timeout must leave room for the tests. */
static int
check_timeout(const config_setting_t *job, const struct iperf_conf *st,
    char *err, size_t errlen)
{
	const config_setting_t	*own = config_setting_get_member(job,
				    "timeout");
	double			 timeout, need;
	int			 ntests = st->dir == IPERF_BOTH ? 2 : 1;
	uint64_t		 run = qosd_cfg_run_timeout_us(job);

	/* The timeout the run gets, its own or inherited. */
	if (run != 0)
		timeout = (double)run / 1e6;
	else if (qosd_cfg_float(job, "timeout", 0.001, 86400, &timeout, err,
	    errlen) != 1)
		return 0;
	need = ntests * (st->omit + st->duration + 2.0);
	if (timeout >= need)
		return 0;
	return qosd_cfg_error(own != NULL ? own : job, err, errlen, "%g s%s "
	    "is too short for %d test%s of omit + duration = %d s: give at "
	    "least %g s", timeout, own != NULL ? "" : " (the timeout "
	    "it inherits)", ntests, ntests > 1 ? "s" : "",
	    st->omit + st->duration, need);
}

/* An integer setting into an int, which holds the default. */
static int
cfg_small(const config_setting_t *job, const char *name, long long min,
    long long max, int *v, char *err, size_t errlen)
{
	long long	n = *v;

	if (qosd_cfg_int(job, name, min, max, &n, err, errlen) == -1)
		return -1;
	*v = (int)n;
	return 0;
}

static int
read_server(struct iperf_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	const char	*server;
	int		 r;

	if ((r = qosd_cfg_string(job, "server", 0, &server, err,
	    errlen)) == -1)
		return -1;
	if (r == 0)
		return qosd_cfg_error(job, err, errlen, "server: missing: give "
		    "the iperf3 server's name or address, e.g. server = "
		    "\"iperf.example\"");
	/* The server is the value of the tag target. */
	if (qosd_cfg_tag(config_setting_get_member(job, "server"), NULL,
	    server, err, errlen) == -1)
		return -1;
	if ((st->server = strdup(server)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* block_size, within what iperf3 takes for the protocol. */
static int
read_block(struct iperf_conf *st, const config_setting_t *job, char *err,
    size_t errlen)
{
	uint64_t	blk = 0;
	int		r;

	if (st->udp)
		r = qosd_cfg_size(job, "block_size", MIN_UDP_BLOCK,
		    MAX_UDP_BLOCK, &blk, err, errlen);
	else
		r = qosd_cfg_size(job, "block_size", 1, MAX_TCP_BLOCK, &blk,
		    err, errlen);
	/* 0: TCP's 128K, UDP's the control connection's MSS (iperf3's). */
	st->blksize = (int)blk;
	return r == -1 ? -1 : 0;
}

struct iperf_conf *
iperf_conf_new(const config_setting_t *job, char *err, size_t errlen)
{
	struct iperf_conf	*st;
	double			 ct = DEF_CONNECT;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->port = DEF_PORT;
	st->duration = DEF_DURATION;
	st->streams = 1;
	st->dscp = -1;
	st->retries = DEF_RETRIES;
	if (read_server(st, job, err, errlen) == -1 ||
	    cfg_small(job, "port", 1, 65535, &st->port, err, errlen) == -1)
		goto fail;
	snprintf(st->port_str, sizeof(st->port_str), "%d", st->port);
	if (cfg_small(job, "duration", 1, 3600, &st->duration, err,
	    errlen) == -1 ||
	    cfg_small(job, "omit", 0, 600, &st->omit, err, errlen) == -1 ||
	    cfg_small(job, "streams", 1, MAX_STREAMS, &st->streams, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "protocol", protocols, &st->udp, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "direction", directions, &st->dir, err,
	    errlen) == -1)
		goto fail;
	st->rate = st->udp ? DEF_UDP_RATE : 0;
	if (cfg_rate(job, &st->rate, err, errlen) == -1 ||
	    read_block(st, job, err, errlen) == -1 ||
	    cfg_address(job, "bind", &st->bind, err, errlen) == -1 ||
	    qosd_cfg_dscp(job, "dscp", &st->dscp, err, errlen) == -1 ||
	    qosd_cfg_float(job, "connect_timeout", 0.1, 60, &ct, err,
	    errlen) == -1)
		goto fail;
	st->connect_ms = (int)lround(ct * 1000);
	if (cfg_small(job, "busy_retries", 0, 10, &st->retries, err,
	    errlen) == -1 ||
	    check_timeout(job, st, err, errlen) == -1)
		goto fail;
	return st;
fail:
	iperf_conf_free(st);
	return NULL;
}

void
iperf_conf_free(void *state)
{
	struct iperf_conf	*c = state;

	if (c == NULL)
		return;
	free(c->server);
	free(c->bind);
	free(c);
}
