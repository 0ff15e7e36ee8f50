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
 * The settings of job, for configure(): iperf3's defaults for what is not
 * given, and a job timeout, when given, long enough for the tests.  A new
 * struct iperf_conf to free with iperf_conf_free(), or NULL with
 * "FILE:LINE: SETTING: what is wrong" (or "out of memory") in err.
 */
struct iperf_conf *iperf_conf_new(const config_setting_t *job, char *err,
	    size_t errlen);
/*
 * Free c, a struct iperf_conf, and all it holds; NULL is fine.  The
 * collector's release().
 */
void	iperf_conf_free(void *c);

#endif /* COLLECTORS_IPERF_CONF_H */
