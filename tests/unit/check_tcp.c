/*
 * check_tcp.c: the tcp collector: its settings (configure), and runs on
 * loopback against a listening socket (connect), a closed port (refused)
 * and a forked echo server (echo).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "tests/unit/collector_util.h"
#include "tests/unit/suites.h"

static const struct {
	const char	*settings;
	const char	*error;		/* NULL: valid */
} cases[] = {
	{ "targets = [ \"127.0.0.1\" ]; port = 7;", NULL },
	{ "targets = \"::1\"; port = 65535; mode = \"echo\"; count = 10000; "
	  "probe_interval = 0.001; probe_timeout = 3600; size = 24; "
	  "dscp = 46; family = \"ipv6\"; source = \"::1\";", NULL },
	{ "port = 7;", "targets: missing" },
	{ "targets = [ \"x\" ];", "port: missing" },
	{ "targets = [ \"x\" ]; port = 0;", "port" },
	{ "targets = [ \"x\" ]; port = 65536;", "port" },
	{ "targets = [ \"x\" ]; port = 7; mode = \"udp\";", "mode" },
	{ "targets = [ \"x\" ]; port = 7; count = 0;", "count" },
	{ "targets = [ \"x\" ]; port = 7; probe_interval = 0;",
	  "probe_interval" },
	{ "targets = [ \"x\" ]; port = 7; probe_timeout = -1;",
	  "probe_timeout" },
	{ "targets = [ \"x\" ]; port = 7; size = 23;", "size" },
	{ "targets = [ \"x\" ]; port = 7; dscp = 64;", "dscp" },
	{ "targets = [ \"x y\" ]; port = 7;", "is not a host name" },
	{ "targets = [ \"x\" ]; port = 7; source = \"nope\";",
	  "is not an IPv4 or IPv6 address" },
	{ "targets = [ \"x\" ]; port = 7; family = \"ipv6\"; "
	  "source = \"127.0.0.1\";", "is not of the family \"ipv6\"" },
};

START_TEST(test_tcp_configure_accepts_and_refuses)
{
	const struct qosd_collector	*p = cu_plugin("tcp");
	void				*st;
	char				 err[512];
	int				 r;

	ck_assert_uint_eq(p->flags & QOSD_COLLECTOR_NET_RAW, 0);
	r = cu_configure(p, cases[_i].settings, &st, err, sizeof(err));
	if (cases[_i].error == NULL)
		ck_assert_msg(r == 0, "%s: %s", cases[_i].settings, err);
	else {
		ck_assert_msg(r == -1, "accepted: %s", cases[_i].settings);
		ck_assert_msg(strstr(err, cases[_i].error) != NULL,
		    "%s: \"%s\" lacks \"%s\"", cases[_i].settings, err,
		    cases[_i].error);
	}
	p->release(st);
	plugin_unload_all();
}
END_TEST

/* A listening socket on 127.0.0.1; its port in *port. */
static int
listener(int *port)
{
	struct sockaddr_in	sa;
	socklen_t		len = sizeof(sa);
	int			fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

START_TEST(test_tcp_connect_ok_and_refused)
{
	const struct qosd_collector	*p = cu_plugin("tcp");
	const char			*l;
	void				*st;
	char				 err[512], set[256], *out;
	int				 lfd, port, closed, rc;

	lfd = listener(&port);
	close(listener(&closed));	/* a port nobody listens on now */
	snprintf(set, sizeof(set), "targets = [ \"127.0.0.1\" ]; port = %d; "
	    "count = 3; probe_interval = 0.01;", port);
	ck_assert_int_eq(cu_configure(p, set, &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(l = cu_line(out, "mode=connect"));
	ck_assert_ptr_nonnull(strstr(l, "sent=3i,received=3i,loss_pct=0,"
	    "connect_ms="));
	ck_assert_ptr_nonnull(strstr(l, "result=\"ok\""));
	free(out);
	p->release(st);

	snprintf(set, sizeof(set), "targets = [ \"127.0.0.1\" ]; port = %d; "
	    "count = 2; probe_interval = 0.01;", closed);
	ck_assert_int_eq(cu_configure(p, set, &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	ck_assert_ptr_nonnull(l = cu_line(out, "mode=connect"));
	ck_assert_ptr_nonnull(strstr(l, "sent=2i,received=0i,loss_pct=100,"
	    "result=\"refused\""));
	free(out);
	p->release(st);
	close(lfd);
	plugin_unload_all();
}
END_TEST

/* Echo every byte of one connection, for at most 10 s. */
static void
echo_server(int lfd)
{
	struct pollfd	pfd;
	char		buf[4096];
	ssize_t		n;
	int		fd, i;

	alarm(10);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (i = 0; i < 10000 && poll(&pfd, 1, 10000) == 1; i++) {
		if ((n = read(fd, buf, sizeof(buf))) <= 0)
			break;
		if (write(fd, buf, (size_t)n) != n)
			break;
	}
	_exit(0);
}

START_TEST(test_tcp_echo_counts_every_probe)
{
	const struct qosd_collector	*p = cu_plugin("tcp");
	const char			*l;
	void				*st;
	char				 err[512], set[256], *out;
	int				 lfd, port, rc, status;
	pid_t				 pid;

	lfd = listener(&port);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0)
		echo_server(lfd);
	close(lfd);
	snprintf(set, sizeof(set), "targets = [ \"127.0.0.1\" ]; port = %d; "
	    "mode = \"echo\"; count = 20; probe_interval = 0.005; "
	    "size = 100;", port);
	ck_assert_int_eq(cu_configure(p, set, &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(l = cu_line(out, "mode=echo"));
	ck_assert_ptr_nonnull(strstr(l, "sent=20i,received=20i,loss_pct=0,"));
	ck_assert_ptr_nonnull(strstr(l, "rtt_p95_ms="));
	ck_assert_ptr_nonnull(strstr(l, "r_factor="));
	ck_assert_ptr_nonnull(strstr(l, "result=\"ok\""));
	free(out);
	p->release(st);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	plugin_unload_all();
}
END_TEST

static Suite *
tcp_suite(void)
{
	Suite	*s = suite_create("tcp");
	TCase	*tc = tcase_create("configure");
	TCase	*run = tcase_create("run");

	tcase_add_loop_test(tc, test_tcp_configure_accepts_and_refuses, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	tcase_set_timeout(run, 30);
	tcase_add_test(run, test_tcp_connect_ok_and_refused);
	tcase_add_test(run, test_tcp_echo_counts_every_probe);
	suite_add_tcase(s, run);
	return s;
}

QOSD_SUITE(tcp)
