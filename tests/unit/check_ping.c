/*
 * check_ping.c: the ping collector: its settings (configure) and a run
 * against loopback (needs CAP_NET_RAW or unprivileged ICMP; without
 * either the run must fail with result=error for every target).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "qosd/clock.h"
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

#define MANY	2000

/* The i-th of MANY loopback addresses: octets of one, two and three digits. */
static void
many_addr(char *s, size_t len, int i)
{
	snprintf(s, len, "127.%d.%d.%d", i % 7 * 41, i / 250 * 13,
	    i % 250 + 1);
}

/*
 * Many targets in one run: each target's point carries its own address
 * (the text is ours, not inet_ntop()'s) and the reply that answers it,
 * matched by the index in the payload, among replies that come in bursts.
 */
START_TEST(test_ping_many_targets_each_answered_by_its_own_reply)
{
	const struct qosd_collector	*p = cu_plugin("ping");
	struct qosd_out			*out;
	config_t			 cfg;
	char				 err[512], a[32], want[128], tmpl[] =
					    "/tmp/qosd-check-ping.XXXXXX";
	char				*text, *buf, *e;
	const char			*l;
	void				*st = NULL;
	size_t				 len = 0, cap = MANY * 40 + 256;
	ssize_t				 n;
	int				 i, fd, rc, lines = 0, o[3];
	static unsigned char		 seen[MANY];

	ck_assert_ptr_nonnull(text = malloc(cap));
	len = (size_t)snprintf(text, cap, "job = { count = 1; "
	    "ping_timeout = 5; targets = [ ");
	for (i = 0; i < MANY; i++) {
		many_addr(a, sizeof(a), i);
		len += (size_t)snprintf(text + len, cap - len, "%s\"%s\"",
		    i ? ", " : "", a);
	}
	snprintf(text + len, cap - len, " ]; };");
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text) == CONFIG_TRUE, "%s",
	    config_error_text(&cfg));
	ck_assert_msg(p->configure(config_lookup(&cfg, "job"), &st, err,
	    sizeof(err)) == 0, "%s", err);
	config_destroy(&cfg);
	free(text);

	/* A file, not a pipe: nobody reads while the run writes. */
	ck_assert_int_ne(fd = mkstemp(tmpl), -1);
	unlink(tmpl);
	ck_assert_ptr_nonnull(out = point_out_new(fd, "t",
	    qosd_mono_us() + 20000000));
	rc = p->run(st, out);
	point_out_free(out);
	cap = (size_t)MANY * 512;
	ck_assert_ptr_nonnull(buf = malloc(cap));
	len = 0;
	while (len < cap - 1 && (n = pread(fd, buf + len, cap - 1 - len,
	    (off_t)len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	if (rc == -1) {
		/* No ICMP socket here: every target says so. */
		ck_assert_ptr_nonnull(strstr(buf, "result=\"error\""));
		goto done;
	}
	/* Each line: one target, by its own address, answered once. */
	for (l = buf; (e = strchr(l, '\n')) != NULL; l = e + 1) {
		*e = '\0';
		ck_assert_int_eq(sscanf(l, "ping,address=127.%d.%d.%d,", &o[0],
		    &o[1], &o[2]), 3);
		i = o[1] / 13 * 250 + o[2] - 1;
		ck_assert_msg(i >= 0 && i < MANY, "%s", l);
		many_addr(a, sizeof(a), i);
		snprintf(want, sizeof(want), "ping,address=%s,target=%s "
		    "sent=1i,received=1i,loss_pct=0,", a, a);
		ck_assert_msg(strncmp(l, want, strlen(want)) == 0,
		    "\"%s\" is not \"%s...\"", l, want);
		ck_assert_ptr_nonnull(strstr(l, "result=\"ok\""));
		ck_assert_int_eq(seen[i]++, 0);
		lines++;
	}
	ck_assert_int_eq(lines, MANY);
done:
	free(buf);
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
	tcase_add_test(run,
	    test_ping_many_targets_each_answered_by_its_own_reply);
	suite_add_tcase(s, run);
	return s;
}

QOSD_SUITE(ping)
