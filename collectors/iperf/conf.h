/*
 * conf.h: the iperf collector's settings, checked and kept in a struct
 * iperf_conf: the iperf3 server, and the test as iperf3's options give it.
 */
#ifndef COLLECTORS_IPERF_CONF_H
#define COLLECTORS_IPERF_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

/* Which way the bytes go: upload is iperf3's default, download its -R. */
enum iperf_dir {
	IPERF_UPLOAD,
	IPERF_DOWNLOAD,
	IPERF_BOTH
};

struct iperf_conf {
	char		*server;
	char		*bind;		/* or NULL */
	char		 port_str[8];
	int		 port;
	int		 duration;	/* s */
	int		 omit;		/* s */
	int		 udp;
	int		 dir;		/* enum iperf_dir */
	int		 streams;
	uint64_t	 rate;		/* bits/s, 0 unlimited */
	int		 blksize;	/* bytes, 0 as iperf3 picks */
	int		 dscp;		/* -1 unset */
	int		 connect_ms;
	int		 retries;	/* after a busy answer */
};

/*
 * Read the settings of job into a new *c, for configure(): iperf3's
 * defaults for what is not given, and a job timeout, when given, long
 * enough for the tests.  0, or -1 with "FILE:LINE: SETTING: what is
 * wrong" (or "out of memory") in err and *c NULL.  Free it with
 * iperf_conf_free().
 */
int	iperf_conf_read(const config_setting_t *job, struct iperf_conf **c,
	    char *err, size_t errlen);
/* Free c and all it holds; NULL is fine. */
void	iperf_conf_free(struct iperf_conf *c);

#endif /* COLLECTORS_IPERF_CONF_H */
