/*
 * check_iperf.c: the iperf collector: its settings and the JSON of real
 * iperf3 3.12 runs (tests/fixtures/iperf), how failures are named
 * (collectors/iperf/conf.h and result.h, linked in), and whole runs of the
 * built plugin against loopback peers that refuse or never answer.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <iperf_api.h>
#include <libconfig.h>

#include "collectors/iperf/conf.h"
#include "collectors/iperf/result.h"
#include "qosd/clock.h"
#include "scheduler/spawner/point.h"
#include "tests/unit/collector_util.h"
#include "tests/unit/suites.h"

#define IPERF_DIR	FIXTURES "/iperf"

static char	 err[1024];
static config_t	 tree;
static char	 tree_file[64];
static int	 tree_fd = -1;

static void
setup_tree(void)
{
	config_init(&tree);
	config_set_options(&tree, 0);
	tree_fd = -1;
	err[0] = '\0';
}

static void
teardown_tree(void)
{
	config_destroy(&tree);
	if (tree_fd != -1) {
		close(tree_fd);
		unlink(tree_file);
		tree_fd = -1;
	}
}

/* The job group of "jobs = ( { name = "bw"; collector = "iperf"; BODY } )". */
static const config_setting_t *
job_of(const char *body)
{
	char	 text[2048];
	int	 n;

	snprintf(tree_file, sizeof(tree_file), "/tmp/check_iperf.XXXXXX");
	ck_assert_int_ne(tree_fd = mkstemp(tree_file), -1);
	n = snprintf(text, sizeof(text), "jobs = ( { name = \"bw\"; "
	    "collector = \"iperf\"; %s } );\n", body);
	ck_assert_int_eq(write(tree_fd, text, (size_t)n), n);
	ck_assert_msg(config_read_file(&tree, tree_file) == CONFIG_TRUE,
	    "%s: %s", body, config_error_text(&tree));
	return config_setting_get_elem(config_lookup(&tree, "jobs"), 0);
}

static struct iperf_conf *
configure_ok(const char *body)
{
	struct iperf_conf	*state;

	state = iperf_conf_new(job_of(body), err, sizeof(err));
	ck_assert_msg(state != NULL, "%s: %s", body, err);
	ck_assert_ptr_nonnull(state);
	return state;
}

START_TEST(test_iperf_defaults_are_iperf3s)
{
	struct iperf_conf	*st;

	st = configure_ok("server = \"192.0.2.1\";");
	ck_assert_str_eq(st->server, "192.0.2.1");
	ck_assert_int_eq(st->port, 5201);
	ck_assert_str_eq(st->port_str, "5201");
	ck_assert_int_eq(st->duration, 10);
	ck_assert_int_eq(st->omit, 0);
	ck_assert_int_eq(st->udp, 0);
	ck_assert_int_eq(st->dir, IPERF_UPLOAD);
	ck_assert_int_eq(st->streams, 1);
	ck_assert(st->rate == 0);
	ck_assert_int_eq(st->blksize, 0);
	ck_assert_int_eq(st->dscp, -1);
	ck_assert_ptr_null(st->bind);
	ck_assert_int_eq(st->connect_ms, 5000);
	ck_assert_int_eq(st->retries, 3);
	iperf_conf_free(st);

	/* iperf3 -u without -b sends 1 Mbit/s, not unlimited. */
	st = configure_ok("server = \"x\"; protocol = \"udp\";");
	ck_assert_int_eq(st->udp, 1);
	ck_assert(st->rate == 1024 * 1024);
	iperf_conf_free(st);
}
END_TEST

START_TEST(test_iperf_reads_every_setting)
{
	struct iperf_conf	*st;

	st = configure_ok("server = \"iperf.example\"; port = 5202; "
	    "duration = 5; omit = 1; protocol = \"udp\"; direction = \"both\"; "
	    "streams = 4; bandwidth = \"50M\"; block_size = 1400; "
	    "bind = \"2001:db8::1\"; dscp = \"EF\"; connect_timeout = 1.5; "
	    "busy_retries = 0; timeout = 20;");
	ck_assert_str_eq(st->server, "iperf.example");
	ck_assert_int_eq(st->port, 5202);
	ck_assert_int_eq(st->duration, 5);
	ck_assert_int_eq(st->omit, 1);
	ck_assert_int_eq(st->udp, 1);
	ck_assert_int_eq(st->dir, IPERF_BOTH);
	ck_assert_int_eq(st->streams, 4);
	ck_assert(st->rate == 50000000);
	ck_assert_int_eq(st->blksize, 1400);
	ck_assert_str_eq(st->bind, "2001:db8::1");
	ck_assert_int_eq(st->dscp, 46);
	ck_assert_int_eq(st->connect_ms, 1500);
	ck_assert_int_eq(st->retries, 0);
	iperf_conf_free(st);

	st = configure_ok("server = \"x\"; bandwidth = 2500000; dscp = 10; "
	    "direction = \"download\";");
	ck_assert(st->rate == 2500000);
	ck_assert_int_eq(st->dscp, 10);
	ck_assert_int_eq(st->dir, IPERF_DOWNLOAD);
	iperf_conf_free(st);

	st = configure_ok("server = \"x\"; bandwidth = \"1.5G\"; "
	    "dscp = \"af41\";");
	ck_assert(st->rate == 1500000000);
	ck_assert_int_eq(st->dscp, 34);
	iperf_conf_free(st);
}
END_TEST

static const struct {
	const char	*body;
	const char	*want;
} bad[] = {
	{ "port = 5201;", "bw: server: missing" },
	{ "server = \"\";", "jobs.bw.server: expected a non-empty string" },
	{ "server = \"x\"; port = 0;", "jobs.bw.port: expected an integer "
	    "from 1 to 65535" },
	{ "server = \"x\"; duration = 0;", "jobs.bw.duration:" },
	{ "server = \"x\"; omit = 601;", "jobs.bw.omit:" },
	{ "server = \"x\"; protocol = \"sctp\";", "jobs.bw.protocol:" },
	{ "server = \"x\"; direction = \"up\";", "jobs.bw.direction:" },
	{ "server = \"x\"; streams = 129;", "jobs.bw.streams: expected an "
	    "integer from 1 to 128" },
	{ "server = \"x\"; bandwidth = \"fast\";", "jobs.bw.bandwidth: "
	    "expected bits per second" },
	{ "server = \"x\"; bandwidth = \"10X\";", "jobs.bw.bandwidth:" },
	{ "server = \"x\"; bandwidth = -1;", "jobs.bw.bandwidth:" },
	{ "server = \"x\"; protocol = \"udp\"; block_size = \"128K\";",
	    "jobs.bw.block_size:" },
	{ "server = \"x\"; block_size = \"2M\";", "jobs.bw.block_size:" },
	{ "server = \"x\"; bind = \"lan0\";", "jobs.bw.bind: \"lan0\" is not "
	    "an IPv4 or IPv6 address" },
	{ "server = \"x\"; dscp = 64;", "jobs.bw.dscp: expected an integer "
	    "from 0 to 63" },
	{ "server = \"x\"; dscp = \"gold\";", "jobs.bw.dscp: unknown DSCP "
	    "name \"gold\"" },
	{ "server = \"x\"; connect_timeout = 0;", "jobs.bw.connect_timeout:" },
	{ "server = \"x\"; busy_retries = 11;", "jobs.bw.busy_retries:" },
	{ "server = \"x\"; direction = \"both\"; duration = 10; timeout = 15;",
	    "jobs.bw.timeout: 15 s is too short for 2 tests of omit + "
	    "duration = 10 s: give at least 24 s" },
};

START_TEST(test_iperf_refuses_bad_settings)
{
	const struct qosd_collector	*p = cu_plugin("iperf");
	void				*state = NULL;

	ck_assert_int_eq(p->configure(job_of(bad[_i].body), &state, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(state);
	plugin_unload_all();
	ck_assert_msg(strstr(err, bad[_i].want) != NULL, "%s:\n  expected: "
	    "%s\n  got:      %s", bad[_i].body, bad[_i].want, err);
	ck_assert_msg(strncmp(err, tree_file, strlen(tree_file)) == 0,
	    "no FILE:LINE: %s", err);
}
END_TEST

START_TEST(test_iperf_jobs_are_in_the_bandwidth_group)
{
	const struct qosd_collector	*p = cu_plugin("iperf");

	ck_assert_str_eq(p->default_exclusive, "bandwidth");
	ck_assert_int_eq(p->abi, QOSD_COLLECTOR_ABI);
	ck_assert_str_eq(p->name, "iperf");
	ck_assert_int_eq(p->flags, 0);
	plugin_unload_all();
}
END_TEST

static char *
slurp(const char *name, size_t *len)
{
	char	 path[256];
	FILE	*f;
	char	*data;
	long	 n;

	snprintf(path, sizeof(path), "%s/%s", IPERF_DIR, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_gt(n = ftell(f), 0);
	rewind(f);
	ck_assert_ptr_nonnull(data = malloc((size_t)n));
	ck_assert_int_eq(fread(data, 1, (size_t)n, f), n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* What the fixture files hold (python3 -m json.tool agrees). */
static const struct {
	const char	*file;
	int		 udp;
	double		 sent, received, cpu_local, cpu_remote, seconds;
	int64_t		 retransmits, streams;
	double		 jitter, lost_pct;
	int64_t		 lost_packets;
} good[] = {
	{ "tcp.json", 0, 37218721276.6234, 37218237445.8264,
	    97.98055015115388, 73.90342204220566, 2.000052, 2, 1, 0, 0, 0 },
	{ "tcp-reverse.json", 0, 35983332078.46572, 35982771669.5275,
	    68.5596049659143, 99.53460165921582, 2.000009, 0, 1, 0, 0, 0 },
	{ "tcp-2streams.json", 0, 41579384872.29922, 41564983080.9208,
	    98.4457194887088, 83.36794502513783, 2.000759, 1, 2, 0, 0, 0 },
	{ "udp.json", 1, 10092241.232763017, 10091888.027278228,
	    0.9970654845299403, 0.05594599986100993, 2.00013, 0, 1,
	    0.005595214147257196, 0, 0 },
	{ "udp-reverse.json", 1, 10090546.071877768, 10092175.6355893,
	    0.06941612493103366, 0.977599592083623, 2.000073, 0, 1,
	    0.004642118030716883, 0, 0 },
	{ "udp-loss.json", 1, 1720368275.9489646, 1494678639.6690862,
	    94.5364640547113, 56.17113050155527, 1.000139, 0, 1,
	    0.004484824745594329, 13.10756090256891, 20134 },
};

#define ck_assert_close(a, b)						\
	ck_assert_msg(fabs((a) - (b)) <= fabs(b) * 1e-12,		\
	    "%s = %.17g, expected %.17g", #a, (double)(a), (double)(b))

START_TEST(test_iperf_parses_iperf3_json)
{
	struct iperf_result	 r;
	char			*json, msg[IPERF_MSG_LEN];
	size_t			 len;

	json = slurp(good[_i].file, &len);
	ck_assert_msg(iperf_result_parse(json, len, good[_i].udp, &r, msg,
	    sizeof(msg)) == 0, "%s: %s", good[_i].file, msg);
	free(json);
	ck_assert_close(r.sent_bps, good[_i].sent);
	ck_assert_close(r.received_bps, good[_i].received);
	ck_assert(r.has & IPERF_HAS_CPU);
	ck_assert_close(r.cpu_local_pct, good[_i].cpu_local);
	ck_assert_close(r.cpu_remote_pct, good[_i].cpu_remote);
	ck_assert(r.has & IPERF_HAS_DURATION);
	ck_assert_close(r.duration_s, good[_i].seconds);
	ck_assert(r.has & IPERF_HAS_STREAMS);
	ck_assert_int_eq(r.streams, good[_i].streams);
	if (good[_i].udp) {
		ck_assert(!(r.has & IPERF_HAS_RETRANSMITS));
		ck_assert(r.has & IPERF_HAS_UDP);
		ck_assert_close(r.jitter_ms, good[_i].jitter);
		ck_assert_close(r.lost_pct, good[_i].lost_pct);
		ck_assert_int_eq(r.lost_packets, good[_i].lost_packets);
	} else {
		ck_assert(!(r.has & IPERF_HAS_UDP));
		ck_assert(r.has & IPERF_HAS_RETRANSMITS);
		ck_assert_int_eq(r.retransmits, good[_i].retransmits);
	}
}
END_TEST

START_TEST(test_iperf_json_errors_are_reported)
{
	const char		*bare = "{\"end\":{\"sum_sent\":{"
	    "\"bits_per_second\":1},\"sum_received\":{\"bits_per_second\":"
	    "2}}}";
	struct iperf_result	 r;
	char			*json, msg[IPERF_MSG_LEN];
	size_t			 len;

	json = slurp("busy.json", &len);
	ck_assert_int_eq(iperf_result_parse(json, len, 0, &r, msg,
	    sizeof(msg)), 1);
	ck_assert_str_eq(msg, "the server is busy running a test. try again "
	    "later");
	free(json);

	json = slurp("refused.json", &len);
	ck_assert_int_eq(iperf_result_parse(json, len, 0, &r, msg,
	    sizeof(msg)), 1);
	ck_assert_str_eq(msg, "unable to connect to server: Connection "
	    "refused");
	free(json);

	json = slurp("truncated.json", &len);
	ck_assert_int_eq(iperf_result_parse(json, len, 0, &r, msg, sizeof(msg)),
	    -1);
	ck_assert_msg(strstr(msg, "does not parse") != NULL, "%s", msg);
	free(json);

	ck_assert_int_eq(iperf_result_parse("[1]", 3, 0, &r, msg,
	    sizeof(msg)), -1);
	ck_assert_int_eq(iperf_result_parse("{\"end\":{}}", 10, 0, &r, msg,
	    sizeof(msg)), -1);
	ck_assert_msg(strstr(msg, "no end.sum_sent") != NULL, "%s", msg);
	/* A TCP result needs no cpu or streams to count. */
	ck_assert_int_eq(iperf_result_parse(bare, strlen(bare), 0, &r, msg,
	    sizeof(msg)), 0);
	ck_assert(r.sent_bps == 1 && r.received_bps == 2 && r.has == 0);
}
END_TEST

START_TEST(test_iperf_names_failures)
{
	struct iperf_report	 rep;
	struct iperf_result	 r;
	char			*json, msg[IPERF_MSG_LEN];
	size_t			 len;

	memset(&rep, 0, sizeof(rep));
	rep.status = IPERF_TEST_RAN;
	snprintf(rep.msg, sizeof(rep.msg), "libiperf's text");
	/* 3.12 returns 0 from a refused connection: i_errno decides. */
	rep.ierr = IECONNECT;
	rep.syserr = ECONNREFUSED;
	rep.json = 1;
	json = slurp("refused.json", &len);
	ck_assert_int_eq(iperf_result_of(&rep, json, len, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_REFUSED);
	ck_assert_str_eq(msg, "libiperf's text");
	free(json);
	rep.json = 0;
	rep.syserr = ETIMEDOUT;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_TIMEOUT);
	rep.syserr = EHOSTUNREACH;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_UNREACHABLE);
	rep.syserr = EPERM;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_ERROR);
	rep.ierr = IEACCESSDENIED;
	rep.rc = -1;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_BUSY);
	rep.ierr = IENOMSG;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_TIMEOUT);

	/* Whatever libiperf says, a result only counts with its JSON. */
	rep.ierr = IENONE;
	rep.rc = 0;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_ERROR);
	ck_assert_str_eq(msg, "the test failed without saying why");
	json = slurp("tcp.json", &len);
	rep.json = 1;
	ck_assert_int_eq(iperf_result_of(&rep, json, len, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_OK);
	rep.rc = -1;
	ck_assert_int_eq(iperf_result_of(&rep, json, len, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_ERROR);
	free(json);

	rep.status = IPERF_TEST_DNS;
	snprintf(rep.msg, sizeof(rep.msg), "cannot resolve");
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_DNS);
	ck_assert_str_eq(msg, "cannot resolve");
	rep.status = IPERF_TEST_SETUP;
	ck_assert_int_eq(iperf_result_of(&rep, NULL, 0, 0, &r, msg,
	    sizeof(msg)), IPERF_RES_ERROR);
}
END_TEST

/*
 * A run of the built plugin on the job with body, its deadline in_us from
 * now; its output in buf.
 */
static void
run_into(const char *body, uint64_t in_us, char *buf, size_t len)
{
	const struct qosd_collector	*p = cu_plugin("iperf");
	struct qosd_out			*out;
	void				*st = NULL;
	int				 fds[2];
	ssize_t				 n;

	ck_assert_msg(p->configure(job_of(body), &st, err, sizeof(err)) == 0,
	    "%s: %s", body, err);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_ptr_nonnull(out = point_out_new(fds[1], "bw",
	    qosd_mono_us() + in_us));
	ck_assert_int_eq(p->run(st, out), 0);
	point_out_free(out);
	p->release(st);
	plugin_unload_all();
	close(fds[1]);
	n = read(fds[0], buf, len - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fds[0]);
}

/* A TCP socket on 127.0.0.1 that listens (or, with listening 0, not). */
static int
loopback_socket(int listening, int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	if (listening)
		ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

START_TEST(test_iperf_run_refused_is_refused)
{
	char	body[256], buf[4096];
	int	fd, port;

	/* Bound, not listening: connections to it are refused. */
	fd = loopback_socket(0, &port);
	snprintf(body, sizeof(body), "server = \"127.0.0.1\"; port = %d; "
	    "duration = 1; direction = \"both\";", port);
	run_into(body, 10000000, buf, sizeof(buf));
	close(fd);
	ck_assert_msg(strstr(buf, "iperf,direction=upload,port=") == buf &&
	    strstr(buf, "result=\"refused\",error=\"unable to connect to "
	    "server: Connection refused\"") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "\niperf,direction=download,port=") !=
	    NULL, "%s", buf);
}
END_TEST

START_TEST(test_iperf_run_silent_server_times_out)
{
	char	body[256], buf[4096];
	int	fd, port;

	/* Listening, never accepting: the test connects and waits. */
	fd = loopback_socket(1, &port);
	snprintf(body, sizeof(body), "server = \"127.0.0.1\"; port = %d; "
	    "duration = 1;", port);
	run_into(body, 3000000, buf, sizeof(buf));
	close(fd);
	ck_assert_msg(strstr(buf, "result=\"timeout\",error=\"no result "
	    "after") != NULL, "%s", buf);
}
END_TEST

START_TEST(test_iperf_run_without_time_does_not_start)
{
	char	buf[4096];

	run_into("server = \"127.0.0.1\"; port = 9; duration = 5;", 2000000,
	    buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "result=\"timeout\",error=\"not started: ")
	    != NULL, "%s", buf);
}
END_TEST

static Suite *
iperf_suite(void)
{
	Suite	*s = suite_create("iperf");
	TCase	*tc;

	tc = tcase_create("settings");
	tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
	tcase_add_test(tc, test_iperf_defaults_are_iperf3s);
	tcase_add_test(tc, test_iperf_reads_every_setting);
	tcase_add_loop_test(tc, test_iperf_refuses_bad_settings, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_iperf_jobs_are_in_the_bandwidth_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("results");
	tcase_add_loop_test(tc, test_iperf_parses_iperf3_json, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_test(tc, test_iperf_json_errors_are_reported);
	tcase_add_test(tc, test_iperf_names_failures);
	suite_add_tcase(s, tc);

	tc = tcase_create("runs");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup_tree, teardown_tree);
	tcase_add_test(tc, test_iperf_run_refused_is_refused);
	tcase_add_test(tc, test_iperf_run_silent_server_times_out);
	tcase_add_test(tc, test_iperf_run_without_time_does_not_start);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(iperf)
