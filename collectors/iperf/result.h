/*
 * result.h: what one iperf3 test gave: the report its process writes
 * before the JSON, the figures read from iperf3's JSON, and the result a
 * test reads as (ok, or why not) from both.
 */
#ifndef COLLECTORS_IPERF_RESULT_H
#define COLLECTORS_IPERF_RESULT_H

#include <stddef.h>
#include <stdint.h>

#define IPERF_MSG_LEN	256

/* What a run reports for one test, as the metrics call it. */
enum iperf_res {
	IPERF_RES_OK,
	IPERF_RES_TIMEOUT,
	IPERF_RES_UNREACHABLE,
	IPERF_RES_DNS,
	IPERF_RES_REFUSED,
	IPERF_RES_BUSY,
	IPERF_RES_ERROR
};

/* The test process's report, written before the JSON. */
enum iperf_test_status {
	IPERF_TEST_RAN,		/* iperf_run_client() returned */
	IPERF_TEST_DNS,		/* the server's name did not resolve */
	IPERF_TEST_SETUP	/* no test could be made */
};

/*
 * iperf_run_client() in 3.12 returns 0 after some failures (a refused
 * connection) with i_errno set and an "error" in the JSON: both count.
 */
struct iperf_report {
	int		 status;	/* enum iperf_test_status */
	int		 rc;		/* iperf_run_client()'s */
	int		 ierr;		/* i_errno */
	int		 syserr;	/* errno when it returned */
	int		 json;		/* JSON follows */
	char		 msg[IPERF_MSG_LEN];	/* iperf_strerror(ierr) */
};

/* The figures of one test, from its JSON. */
struct iperf_result {
	double		 sent_bps;
	double		 received_bps;
	double		 jitter_ms;
	double		 lost_pct;
	double		 cpu_local_pct;
	double		 cpu_remote_pct;
	double		 duration_s;
	int64_t		 retransmits;
	int64_t		 lost_packets;
	int64_t		 streams;
	unsigned int	 has;		/* IPERF_HAS_* */
};

#define IPERF_HAS_RETRANSMITS	0x01
#define IPERF_HAS_UDP		0x02	/* jitter, lost_pct, lost_packets */
#define IPERF_HAS_CPU		0x04
#define IPERF_HAS_DURATION	0x08
#define IPERF_HAS_STREAMS	0x10

/* The name of res in the `result` field: "ok", "timeout", ... */
const char *iperf_res_name(enum iperf_res res);

/*
 * Read the figures of a test from iperf3's JSON (text, len bytes) of a
 * UDP test or not.  Returns 0 with r filled, 1 when the JSON reports a
 * failure (its "error" text in msg), -1 when it is not an iperf3 result
 * (the reason in msg).
 */
int	iperf_result_parse(const char *text, size_t len, int udp,
	    struct iperf_result *r, char *msg, size_t msglen);

/*
 * The result of a test from its report and the JSON after it (len
 * bytes): IPERF_RES_OK with r filled, or another result with the reason
 * in msg.
 */
enum iperf_res iperf_result_of(const struct iperf_report *rep,
	    const char *json, size_t len, int udp, struct iperf_result *r,
	    char *msg, size_t msglen);

#endif /* COLLECTORS_IPERF_RESULT_H */
