/*
 * check_ping.c: the ping collector: its settings (configure) and a run
 * against loopback (needs CAP_NET_RAW or unprivileged ICMP; without
 * either the run must fail with result=error for every target).
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/unit/collector_util.h"
#include "tests/unit/suites.h"

static const struct {
	const char	*settings;
	const char	*error;		/* NULL: valid */
} cases[] = {
	{ "targets = [ \"127.0.0.1\" ];", NULL },
	{ "targets = \"::1\"; count = 10000; ping_interval = 0.001; "
	  "ping_timeout = 3600; ttl = 255; size = 16; dscp = 63; "
	  "family = \"ipv6\"; source = \"::1\"; device = \"lo\"; "
	  "samples = true;", NULL },
	{ "count = 5;", "targets: missing" },
	{ "targets = [ ];", "targets" },
	{ "targets = [ \"a b\" ];", "\"a b\" is not a host name or address" },
	/* A target is a tag value: what the encoder refuses, refused here. */
	{ "targets = [ \"back\\\\\" ];", "targets: not a tag value line "
	  "protocol can carry: tag value ends in a backslash" },
	{ "targets = [ \"caf\\xe9\" ];", "tag value is not valid UTF-8" },
	{ "targets = [ \"x\" ]; count = 0;", "count" },
	{ "targets = [ \"x\" ]; count = 10001;", "count" },
	{ "targets = [ \"x\" ]; ping_interval = 0;", "ping_interval" },
	{ "targets = [ \"x\" ]; ping_timeout = \"1\";", "ping_timeout" },
	{ "targets = [ \"x\" ]; ttl = 0;", "ttl" },
	{ "targets = [ \"x\" ]; size = 15;", "size" },
	{ "targets = [ \"x\" ]; dscp = 64;", "dscp" },
	{ "targets = [ \"x\" ]; family = \"ipx\";", "family" },
	{ "targets = [ \"x\" ]; samples = 1;", "samples" },
	{ "targets = [ \"x\" ]; source = \"gw.example\";",
	  "\"gw.example\" is not an IPv4 or IPv6 address" },
	{ "targets = [ \"x\" ]; source = \"::1\"; family = \"ipv4\";",
	  "is not of the family \"ipv4\"" },
	{ "targets = [ \"x\" ]; device = \"a-very-long-ifname\";",
	  "longer than an interface name" },
};

START_TEST(test_ping_configure_accepts_and_refuses)
{
	const struct qosd_collector	*p = cu_plugin("ping");
	void				*st;
	char				 err[512];
	int				 r;

	ck_assert_uint_eq(p->flags & QOSD_COLLECTOR_NET_RAW,
	    QOSD_COLLECTOR_NET_RAW);
	r = cu_configure(p, cases[_i].settings, &st, err, sizeof(err));
	if (cases[_i].error == NULL) {
		ck_assert_msg(r == 0, "%s: %s", cases[_i].settings, err);
		ck_assert_ptr_nonnull(st);
	} else {
		ck_assert_msg(r == -1, "accepted: %s", cases[_i].settings);
		ck_assert_msg(strstr(err, cases[_i].error) != NULL,
		    "%s: \"%s\" lacks \"%s\"", cases[_i].settings, err,
		    cases[_i].error);
		ck_assert_ptr_null(st);
	}
	p->release(st);
	plugin_unload_all();
}
END_TEST

START_TEST(test_ping_loopback_run_emits_a_point_per_target)
{
	const struct qosd_collector	*p = cu_plugin("ping");
	const char			*l;
	void				*st;
	const char			*q;
	char				 err[512], *out;
	int				 rc, n;

	ck_assert_int_eq(cu_configure(p, "targets = [ \"127.0.0.1\", "
	    "\"::1\", \"127.0.0.1\", \"localhost\" ]; count = 10; "
	    "ping_interval = 0.01; "
	    "ping_timeout = 1; samples = true;", &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	if (rc == -1) {
		/* No ICMP socket here: every target says so. */
		ck_assert_ptr_nonnull(l = cu_line(out, "target=::1 "));
		ck_assert_ptr_nonnull(strstr(l, "result=\"error\""));
	} else {
		ck_assert_ptr_nonnull(l = cu_line(out, "ping,address=::1,"));
		ck_assert_ptr_nonnull(strstr(l, "sent=10i,received=10i,"
		    "loss_pct=0,"));
		ck_assert_ptr_nonnull(strstr(l, "rtt_p99_ms="));
		ck_assert_ptr_nonnull(strstr(l, "mos="));
		ck_assert_ptr_nonnull(strstr(l, "result=\"ok\""));
		/* The same address twice: each target gets its own replies. */
		for (n = 0, q = out; (q = strstr(q, "target=127.0.0.1 "
		    "sent=10i,received=10i,")) != NULL; q++)
			n++;
		ck_assert_int_eq(n, 2);
		/* A name, from /etc/hosts. */
		ck_assert_ptr_nonnull(l = cu_line(out, "target=localhost "));
		ck_assert_ptr_nonnull(strstr(l, "received=10i,"));
		ck_assert_ptr_nonnull(l = cu_line(out, "ping_sample,"));
		ck_assert_ptr_nonnull(strstr(l, " rtt_ms="));
	}
	free(out);
	p->release(st);
	plugin_unload_all();
}
END_TEST

static Suite *
ping_suite(void)
{
	Suite	*s = suite_create("ping");
	TCase	*tc = tcase_create("configure");
	TCase	*run = tcase_create("run");

	tcase_add_loop_test(tc, test_ping_configure_accepts_and_refuses, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	tcase_set_timeout(run, 30);
	tcase_add_test(run, test_ping_loopback_run_emits_a_point_per_target);
	suite_add_tcase(s, run);
	return s;
}

QOSD_SUITE(ping)
