/*
 * check_udp.c: the udp collector: its settings (configure), the account
 * of a target's probes fed synthetic answers (sequence, loss per
 * direction, reordering, duplicates, the closing packet), the figures
 * from known timestamps, RFC 3550 jitter on known inputs, and runs on
 * loopback against a forked UDP echo server and a closed port.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "collectors/udp/acct.h"
#include "proto/stamp.h"
#include "tests/unit/collector_util.h"
#include "tests/unit/suites.h"

static const struct {
	const char	*settings;
	const char	*error;		/* NULL: valid */
} cases[] = {
	{ "targets = [ \"127.0.0.1\" ];", NULL },
	{ "targets = \"::1\"; mode = \"echo\"; port = 7; count = 10000; "
	  "probe_interval = 0.001; probe_timeout = 3600; size = 16; "
	  "dscp = \"ef\"; ttl = 1; family = \"ipv6\"; source = \"::1\"; "
	  "device = \"lo\"; timestamping = \"application\"; "
	  "samples = true;", NULL },
	{ "targets = [ \"a\", \"b\" ]; port = 862; size = 9000; "
	  "timestamping = \"hardware\"; reflector = \"stateful\"; "
	  "clock = \"synced\";", NULL },
	{ "targets = [ \"a\" ]; reflector = \"stateless\"; "
	  "clock = \"unsynced\"; timestamping = \"software\";", NULL },
	{ "count = 5;", "targets: missing" },
	{ "targets = [ \"x y\" ];", "is not a host name" },
	{ "targets = [ \"x\" ]; port = 0;", "port" },
	{ "targets = [ \"x\" ]; port = 65536;", "port" },
	{ "targets = [ \"x\" ]; mode = \"twamp\";",
	  "one of \"stamp\", \"echo\"" },
	{ "targets = [ \"x\" ]; size = 43;",
	  "43 octets are less than a STAMP test packet (44)" },
	{ "targets = [ \"x\" ]; mode = \"echo\"; size = 15;", "size" },
	{ "targets = [ \"x\" ]; size = 9001;", "size" },
	{ "targets = [ \"x\" ]; mode = \"echo\"; reflector = \"stateful\";",
	  "reflector: only for mode = \"stamp\"" },
	{ "targets = [ \"x\" ]; mode = \"echo\"; clock = \"synced\";",
	  "clock: only for mode = \"stamp\"" },
	{ "targets = [ \"x\" ]; timestamping = \"kernel\";", "timestamping" },
	{ "targets = [ \"x\" ]; reflector = \"maybe\";", "reflector" },
	{ "targets = [ \"x\" ]; clock = \"ntp\";", "clock" },
	{ "targets = [ \"x\" ]; samples = 1;", "samples" },
	{ "targets = [ \"x\" ]; ttl = 0;", "ttl" },
	{ "targets = [ \"x\" ]; dscp = 64;", "dscp" },
	{ "targets = [ \"x\" ]; count = 0;", "count" },
	{ "targets = [ \"x\" ]; probe_interval = 0;", "probe_interval" },
	{ "targets = [ \"x\" ]; probe_timeout = -1;", "probe_timeout" },
	{ "targets = [ \"x\" ]; family = \"ipv6\"; source = \"127.0.0.1\";",
	  "is not of the family \"ipv6\"" },
	{ "targets = [ \"x\" ]; device = \"an-interface-name\";",
	  "longer than an interface name" },
	{ "targets = [ \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", "
	  "\"h\", \"i\", \"j\", \"k\", \"l\", \"m\", \"n\", \"o\", \"p\", "
	  "\"q\", \"r\", \"s\", \"t\", \"u\", \"v\", \"w\", \"x\", \"y\", "
	  "\"z\", \"aa\", \"ab\", \"ac\", \"ad\", \"ae\", \"af\", \"ag\", "
	  "\"ah\", \"ai\", \"aj\", \"ak\", \"al\", \"am\", \"an\", \"ao\", "
	  "\"ap\", \"aq\", \"ar\", \"as\", \"at\", \"au\", \"av\", \"aw\", "
	  "\"ax\", \"ay\", \"az\", \"ba\", \"bb\", \"bc\", \"bd\", \"be\", "
	  "\"bf\", \"bg\", \"bh\", \"bi\", \"bj\", \"bk\", \"bl\", \"bm\", "
	  "\"bn\", \"bo\", \"bp\", \"bq\", \"br\", \"bs\", \"bt\", \"bu\", "
	  "\"bv\", \"bw\", \"bx\", \"by\", \"bz\", \"ca\", \"cb\", \"cc\", "
	  "\"cd\", \"ce\", \"cf\", \"cg\", \"ch\", \"ci\", \"cj\", \"ck\", "
	  "\"cl\", \"cm\", \"cn\", \"co\", \"cp\", \"cq\", \"cr\", \"cs\", "
	  "\"ct\", \"cu\", \"cv\", \"cw\" ]; count = 10000; "
	  "probe_interval = 0.001;", "probes a run, more than 1000000" },
};

START_TEST(test_udp_configure_accepts_and_refuses)
{
	const struct qosd_collector	*p = cu_plugin("udp");
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
		/* Every refusal names the setting's path (no file here). */
		ck_assert_msg(strncmp(err, "job", 3) == 0, "%s", err);
	}
	p->release(st);
	plugin_unload_all();
}
END_TEST

/*
 * The probes of a synthetic run: count probes sent 10 ms apart from t0
 * (T1 on the real-time clock; the monotonic clock 1e9 ns behind it).
 */
#define NP	8
#define T0	1700000000000000000LL
static struct udp_probe	probes[NP];
static struct udp_acct	acct;

static void
sent(uint32_t count)
{
	struct timespec	ts;
	uint32_t	k;

	udp_acct_init(&acct, probes, count, 1000000000ULL);
	for (k = 0; k < count; k++) {
		probes[k].t1 = T0 + (int64_t)k * 10000000;
		probes[k].tx_mono = (uint64_t)(probes[k].t1 - 1000000000);
		ts.tv_sec = probes[k].t1 / 1000000000;
		ts.tv_nsec = probes[k].t1 % 1000000000;
		probes[k].t1_wire = stamp_ntp_from_timespec(&ts);
		probes[k].state = UDP_P_SENT;
		acct.sent++;
	}
}

/*
 * The answer to probe sseq numbered rseq by the reflector, at rtt_us
 * after its send; returns what udp_acct_reply() did.
 */
static int
answer(uint32_t sseq, uint32_t rseq, int64_t rtt_us)
{
	struct udp_reply	r;
	const struct udp_probe	*p = &probes[sseq < NP ? sseq : 0];

	memset(&r, 0, sizeof(r));
	r.sseq = sseq;
	r.stamp = 1;
	r.rseq = rseq;
	r.sender_ts = p->t1_wire;
	r.t2 = p->t1 + rtt_us * 500;
	r.t3 = r.t2;
	r.ree = stamp_ee_make(1, 0, 1000);
	r.fwd_ttl = r.ttl = 64;
	r.tos = 0;
	r.rx_mono = p->tx_mono + (uint64_t)rtt_us * 1000;
	r.rx_real = p->t1 + rtt_us * 1000;
	return udp_acct_reply(&acct, &r);
}

START_TEST(test_udp_acct_counts_answers_copies_and_strangers)
{
	struct udp_reply	r;

	sent(4);
	ck_assert_int_eq(answer(0, 0, 100), 0);
	ck_assert_int_eq(answer(1, 1, 100), 0);
	/* A copy sent back twice: the same reflector number. */
	ck_assert_int_eq(answer(1, 1, 120), 1);
	/* A probe the reflector got twice: numbered anew. */
	ck_assert_int_eq(answer(1, 2, 130), 1);
	ck_assert_uint_eq(acct.received, 2);
	ck_assert_uint_eq(acct.duplicates, 2);
	ck_assert_uint_eq(acct.fwd_dups, 1);
	/* Not ours: an unknown number, another sender timestamp. */
	ck_assert_int_eq(answer(9, 9, 100), -1);
	memset(&r, 0, sizeof(r));
	r.sseq = 2;
	r.stamp = 1;
	r.sender_ts = probes[2].t1_wire + 1;
	ck_assert_int_eq(udp_acct_reply(&acct, &r), -1);
	/* After its timeout (1 s): lost, but its number counts. */
	ck_assert_int_eq(answer(3, 4, 1500000), 2);
	ck_assert_uint_eq(acct.late, 1);
	ck_assert_int_eq(acct.max_rseq, 4);
	ck_assert_uint_eq(acct.received, 2);
}
END_TEST

START_TEST(test_udp_acct_reordering_rfc4737)
{
	sent(6);
	/* Arrival order 0 2 1 3 5 4: 1 and 4 came after a later one. */
	answer(0, 0, 100);
	answer(2, 1, 100);
	answer(1, 2, 100);
	answer(3, 3, 100);
	answer(5, 4, 100);
	answer(4, 5, 100);
	ck_assert_uint_eq(acct.reordered, 2);
	ck_assert_uint_eq(probes[1].arrival, 2);
	ck_assert_uint_eq(probes[4].arrival, 5);
	ck_assert(acct.stateful);
}
END_TEST

START_TEST(test_udp_acct_split_stateful)
{
	uint32_t	f, b;

	/*
	 * Six probes: 2 lost on the way there (the reflector numbers 0 1 3
	 * 4 5 as 0 1 2 3 4), the answer to 4 (its number 3) lost on the
	 * way back.
	 */
	sent(6);
	answer(0, 0, 100);
	answer(1, 1, 100);
	answer(3, 2, 100);
	answer(5, 4, 100);
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 1);
	ck_assert_uint_eq(f, 1);
	ck_assert_uint_eq(b, 1);
	ck_assert(!udp_acct_need_closing(&acct));
	/* Nothing lost: nothing each way, whatever the reflector. */
	sent(2);
	answer(0, 0, 100);
	answer(1, 1, 100);
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 1);
	ck_assert_uint_eq(f + b, 0);
}
END_TEST

START_TEST(test_udp_acct_split_needs_the_closing_packet)
{
	struct udp_reply	r;
	uint32_t		f, b;

	/* Nothing came back: the closing packet's answer would not either. */
	sent(3);
	ck_assert(!udp_acct_need_closing(&acct));
	/* The last probe lost: there, or its answer on the way back? */
	sent(4);
	answer(0, 0, 100);
	answer(1, 1, 100);
	answer(2, 2, 100);
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 0);
	ck_assert(udp_acct_need_closing(&acct));
	/* The closing packet (number 4) is answered as the reflector's 4th. */
	acct.closing_wire = 0x1234;
	memset(&r, 0, sizeof(r));
	r.sseq = 4;
	r.stamp = 1;
	r.rseq = 4;
	r.sender_ts = 0x1234;
	ck_assert_int_eq(udp_acct_reply(&acct, &r), 3);
	ck_assert_int_eq(udp_acct_reply(&acct, &r), 1);
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 1);
	ck_assert_uint_eq(f, 0);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(acct.sent, 4);
	ck_assert_uint_eq(acct.received, 3);
	/* Numbered 3: the reflector never got the last probe. */
	acct.closing_rseq = 3;
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 1);
	ck_assert_uint_eq(f, 1);
	ck_assert_uint_eq(b, 0);
}
END_TEST

START_TEST(test_udp_acct_split_refuses_numbers_that_do_not_add_up)
{
	struct udp_figures	fig;
	double			scratch[3 * NP];
	uint32_t		f, b;

	/* One session numbered for two senders: more than we sent. */
	sent(3);
	answer(0, 1, 100);
	answer(2, 5, 100);
	ck_assert_int_eq(udp_acct_split(&acct, &f, &b), 0);
	/* A stateless reflector (its numbers are ours): no split claimed. */
	sent(3);
	answer(0, 0, 100);
	answer(2, 2, 100);
	udp_acct_figures(&acct, UDP_REFL_AUTO, stamp_ee_make(1, 0, 1000),
	    scratch, &fig);
	ck_assert(!fig.has_split);
	udp_acct_figures(&acct, UDP_REFL_STATEFUL, stamp_ee_make(1, 0, 1000),
	    scratch, &fig);
	ck_assert(fig.has_split);
	ck_assert_uint_eq(fig.fwd_lost, 0);
	ck_assert_uint_eq(fig.bwd_lost, 1);
	udp_acct_figures(&acct, UDP_REFL_STATELESS, 0, scratch, &fig);
	ck_assert(!fig.has_split);
}
END_TEST

START_TEST(test_udp_jitter_rfc3550)
{
	const double	alt[] = { 0, 10, 0, 10 };
	const double	flat[] = { 5, 5, 5, 5, 5 };
	const double	ramp[] = { 1, 2, 3 };

	/* J = J + (|D| - J) / 16: 10/16, then 1.2109375, 1.76025390625. */
	ck_assert_double_eq_tol(udp_jitter_3550(alt, 2), 0.625, 1e-12);
	ck_assert_double_eq_tol(udp_jitter_3550(alt, 3), 1.2109375, 1e-12);
	ck_assert_double_eq_tol(udp_jitter_3550(alt, 4), 1.76025390625,
	    1e-12);
	ck_assert_double_eq(udp_jitter_3550(flat, 5), 0);
	ck_assert_double_eq_tol(udp_jitter_3550(ramp, 3),
	    1.0 / 16 + (1 - 1.0 / 16) / 16, 1e-12);
	ck_assert_double_eq(udp_jitter_3550(alt, 1), 0);
}
END_TEST

/*
 * One probe's timestamps: sent at T1 (kernel 5 us later), at the
 * reflector from T1 + fwd_us to + fwd_us + refl_us, back at the kernel
 * bwd_us later and read 7 us after that.
 */
static void
timed(uint32_t k, int64_t fwd_us, int64_t refl_us, int64_t bwd_us, int hw)
{
	struct udp_probe	*p = &probes[k];

	p->state = UDP_P_ANSWERED;
	p->arrival = acct.received++;
	p->t1_sw = p->t1 + 5000;
	p->t2 = p->t1_sw + fwd_us * 1000;
	p->t3 = p->t2 + refl_us * 1000;
	p->t4_sw = p->t3 + bwd_us * 1000;
	p->t4 = p->t4_sw + 7000;
	p->rx_mono = p->tx_mono + (uint64_t)(p->t4 - p->t1);
	p->ree = stamp_ee_make(1, 0, 500000);
	if (hw) {
		p->t1_hw = 42000 + 6000;
		p->t4_hw = 42000 + (p->t4_sw - p->t1) - 1000;
	}
}

START_TEST(test_udp_figures_from_known_timestamps)
{
	struct udp_figures	f;
	struct udp_sample	s;
	double			scratch[3 * NP];

	sent(3);
	acct.received = 0;
	timed(0, 1000, 100, 2000, 0);
	timed(1, 3000, 300, 2000, 0);
	timed(2, 2000, 200, 2000, 0);
	udp_acct_figures(&acct, UDP_REFL_AUTO, stamp_ee_make(0, 0, 1000000),
	    scratch, &f);
	ck_assert_int_eq(f.layer, UDP_TS_SW);
	/* Application: kernel RTT + 5 us out + 7 us in. */
	ck_assert_double_eq_tol(f.app.min, 3.112, 1e-9);
	ck_assert_double_eq_tol(f.kern.min, 3.1, 1e-9);
	ck_assert_double_eq_tol(f.kern.max, 5.3, 1e-9);
	ck_assert_double_eq_tol(f.kern.avg, 4.2, 1e-9);
	ck_assert_double_eq_tol(f.stack_avg, 0.012, 1e-9);
	ck_assert_double_eq_tol(f.refl_avg, 0.2, 1e-9);
	ck_assert_double_eq_tol(f.refl_max, 0.3, 1e-9);
	ck_assert_double_eq_tol(f.net_avg, 4.0, 1e-9);
	ck_assert_double_eq_tol(f.net_min, 3.0, 1e-9);
	ck_assert_double_eq_tol(f.fwd_avg, 2.0, 1e-9);
	ck_assert_double_eq_tol(f.fwd_min, 1.0, 1e-9);
	ck_assert_double_eq_tol(f.fwd_max, 3.0, 1e-9);
	ck_assert_double_eq_tol(f.bwd_avg, 2.0, 1e-9);
	/* Forward transits 1, 3, 2 ms: 2/16, then + (1 - 2/16) / 16. */
	ck_assert_double_eq_tol(f.fwd_jitter, 0.1796875, 1e-9);
	ck_assert_double_eq_tol(f.bwd_jitter, 0, 1e-9);
	/* Our clock unsynchronized: so are the one-way delays. */
	ck_assert(!f.synced);
	ck_assert_double_eq_tol(f.clock_err_ms, 1.5, 0.02);
	udp_acct_figures(&acct, UDP_REFL_AUTO, stamp_ee_make(1, 0, 1000),
	    scratch, &f);
	ck_assert(f.synced);
	ck_assert_int_eq(udp_acct_sample(&acct, 1, f.layer, &s), 0);
	ck_assert(s.has_kernel && s.has_stamp);
	ck_assert_double_eq_tol(s.rtt_kernel, 5.3, 1e-9);
	ck_assert_double_eq_tol(s.stack, 0.012, 1e-9);
	ck_assert_double_eq_tol(s.fwd, 3.0, 1e-9);
	ck_assert(s.rtt_kernel <= s.rtt_app);
	ck_assert_int_eq(udp_acct_sample(&acct, 5, f.layer, &s), -1);
}
END_TEST

START_TEST(test_udp_figures_pick_the_layer)
{
	struct udp_figures	f;
	double			scratch[3 * NP];

	/* Hardware on every answer: hardware, 2 us inside software. */
	sent(2);
	acct.received = 0;
	timed(0, 1000, 100, 1000, 1);
	timed(1, 1000, 100, 1000, 1);
	udp_acct_figures(&acct, UDP_REFL_AUTO, 0, scratch, &f);
	ck_assert_int_eq(f.layer, UDP_TS_HW);
	ck_assert_double_eq_tol(f.kern.avg, 2.098, 1e-9);
	/* One answer without: software for all. */
	probes[1].t4_hw = 0;
	udp_acct_figures(&acct, UDP_REFL_AUTO, 0, scratch, &f);
	ck_assert_int_eq(f.layer, UDP_TS_SW);
	ck_assert_double_eq_tol(f.kern.avg, 2.1, 1e-9);
	/* No kernel timestamps at all: the application's. */
	probes[0].t1_sw = probes[1].t1_sw = 0;
	udp_acct_figures(&acct, UDP_REFL_AUTO, 0, scratch, &f);
	ck_assert_int_eq(f.layer, UDP_TS_APP);
	ck_assert_uint_eq(f.kern.received, 0);
	ck_assert_uint_eq(f.nstack, 0);
	ck_assert_ptr_eq(f.best, &f.app);
	/* One-way delays then from the application's clock. */
	ck_assert_double_eq_tol(f.fwd_avg, 1.005, 1e-9);
	ck_assert_double_eq_tol(f.bwd_avg, 1.007, 1e-9);
}
END_TEST

/* A UDP echo server on 127.0.0.1 in a child; its port in *port. */
static pid_t
echo_server(int *port)
{
	struct sockaddr_in	sa, from;
	socklen_t		len = sizeof(sa);
	unsigned char		buf[2048];
	ssize_t			n;
	pid_t			pid;
	int			fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_DGRAM, 0), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		alarm(20);
		for (;;) {
			len = sizeof(from);
			n = recvfrom(fd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &len);
			if (n > 0)
				sendto(fd, buf, (size_t)n, 0,
				    (struct sockaddr *)&from, len);
		}
	}
	close(fd);
	return pid;
}

/* The value of field key in line l (static storage), or NULL. */
static const char *
fv(const char *l, const char *key)
{
	static char	 v[64];
	char		 k[64];
	const char	*p, *e;

	snprintf(k, sizeof(k), "%s=", key);
	for (p = strchr(l, ' '); p != NULL && (p = strstr(p, k)) != NULL;
	    p++)
		if (p[-1] == ' ' || p[-1] == ',') {
			p += strlen(k);
			e = p + strcspn(p, ", ");
			snprintf(v, sizeof(v), "%.*s", (int)(e - p), p);
			return v;
		}
	return NULL;
}

START_TEST(test_udp_echo_on_loopback)
{
	const struct qosd_collector	*p = cu_plugin("udp");
	const char			*l, *s;
	void				*st;
	char				 err[512], set[256], *out;
	int				 port, rc, n = 0, missing = 0;
	pid_t				 pid;

	pid = echo_server(&port);
	/* The same address twice: a socket each, each its own answers. */
	snprintf(set, sizeof(set), "targets = [ \"127.0.0.1\", \"127.0.0.1\" ]; "
	    "port = %d; mode = \"echo\"; count = 20; probe_interval = 0.005; "
	    "size = 100; samples = true;", port);
	ck_assert_int_eq(cu_configure(p, set, &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(l = cu_line(out, "udp,"));
	ck_assert_ptr_nonnull(strstr(l, "sent=20i,received=20i,loss_pct=0,"));
	ck_assert_ptr_nonnull(s = strstr(out, "udp,"));
	ck_assert_ptr_nonnull(s = strstr(s + 1, "\nudp,"));
	ck_assert_ptr_nonnull(strstr(s, "sent=20i,received=20i,loss_pct=0,"));
	ck_assert_ptr_nonnull(strstr(l, "timestamping=software"));
	ck_assert_ptr_nonnull(strstr(l, "result=\"ok\""));
	ck_assert_ptr_null(strstr(l, "forward_ms"));
	ck_assert_ptr_null(strstr(l, "forward_lost"));
	/* Every probe: the kernel's RTT within the application's. */
	for (s = out; (s = strstr(s, "udp_sample,")) != NULL; s++) {
		char	line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
		/*
		 * The kernel may give the very first probe of a socket no
		 * timestamps (seen on a loaded machine: no stack_tx_ms nor
		 * stack_rx_ms either); any other probe must have them.
		 */
		if (fv(line, "rtt_kernel_ms") == NULL &&
		    strstr(line, " seq=0i,") != NULL && missing++ < 2) {
			n++;
			continue;
		}
		ck_assert_msg(fv(line, "rtt_kernel_ms") != NULL, "%s", line);
		ck_assert_msg(atof(fv(line, "rtt_kernel_ms")) <=
		    atof(fv(line, "rtt_app_ms")), "%s", line);
		n++;
	}
	ck_assert_int_eq(n, 40);
	free(out);
	p->release(st);
	plugin_unload_all();
}
END_TEST

START_TEST(test_udp_closed_port_is_refused)
{
	const struct qosd_collector	*p = cu_plugin("udp");
	const char			*l;
	void				*st;
	char				 err[512], set[256], *out;
	int				 port, rc;
	pid_t				 pid;

	pid = echo_server(&port);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);		/* its port is closed now */
	snprintf(set, sizeof(set), "targets = [ \"127.0.0.1\" ]; port = %d; "
	    "count = 3; probe_interval = 0.01;", port);
	ck_assert_int_eq(cu_configure(p, set, &st, err, sizeof(err)), 0);
	out = cu_run(p, st, &rc);
	ck_assert_ptr_nonnull(l = cu_line(out, "udp,"));
	ck_assert_ptr_nonnull(strstr(l, "sent=3i,received=0i,loss_pct=100,"));
	ck_assert_ptr_nonnull(strstr(l, "result=\"refused\""));
	free(out);
	p->release(st);
	plugin_unload_all();
}
END_TEST

static Suite *
udp_suite(void)
{
	Suite	*s = suite_create("udp");
	TCase	*tc;

	tc = tcase_create("configure");
	tcase_add_loop_test(tc, test_udp_configure_accepts_and_refuses, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("acct");
	tcase_add_test(tc, test_udp_acct_counts_answers_copies_and_strangers);
	tcase_add_test(tc, test_udp_acct_reordering_rfc4737);
	tcase_add_test(tc, test_udp_acct_split_stateful);
	tcase_add_test(tc, test_udp_acct_split_needs_the_closing_packet);
	tcase_add_test(tc,
	    test_udp_acct_split_refuses_numbers_that_do_not_add_up);
	tcase_add_test(tc, test_udp_jitter_rfc3550);
	tcase_add_test(tc, test_udp_figures_from_known_timestamps);
	tcase_add_test(tc, test_udp_figures_pick_the_layer);
	suite_add_tcase(s, tc);
	tc = tcase_create("loopback");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_udp_echo_on_loopback);
	tcase_add_test(tc, test_udp_closed_port_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(udp)
