/*
 * client.h: one iperf3 client test in a process of its own.
 *
 * libiperf keeps process-global state (i_errno, its timer list, the CPU
 * counters) that a second test in one process inherits, prints to stdout,
 * lets SIGPIPE kill the process and has no receive timeout in 3.12.  So
 * each test runs in a process forked for it, which pipes a report (struct
 * iperf_report) and iperf3's JSON back; the caller's time limit is
 * enforced here, and a test that stalls is killed.
 */
#ifndef COLLECTORS_IPERF_CLIENT_H
#define COLLECTORS_IPERF_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/iperf/result.h"

struct iperf_conf;

/*
 * Run one test of c, download if reverse, killed at the CLOCK_MONOTONIC
 * time limit_us.  Returns its result; r is filled for IPERF_RES_OK, msg
 * says why for the others.
 */
enum iperf_res iperf_client_run(const struct iperf_conf *c, int reverse,
	    uint64_t limit_us, struct iperf_result *r, char *msg,
	    size_t msglen);

#endif /* COLLECTORS_IPERF_CLIENT_H */
