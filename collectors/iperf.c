/*
 * iperf.c: the iperf collector.  Throughput, and for UDP jitter and loss,
 * toward an iperf3 server, measured by libiperf (iperf3 itself) and read
 * from its JSON result with jansson.
 *
 *   { name = "bw"; collector = "iperf"; server = "iperf.example";
 *     direction = "both"; duration = 10; }
 *
 * libiperf keeps process-global state (i_errno, its timer list, the CPU
 * counters) that a second test in one process inherits, prints to stdout,
 * lets SIGPIPE kill the process and has no receive timeout in 3.12.  So
 * each test runs in a process of its own, forked from the run, which pipes
 * a small report and the JSON back; the run enforces the test's time limit
 * and kills a test that stalls.  A grandchild left behind dies with the
 * run's process group.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <iperf_api.h>
#include <jansson.h>

#include "qosd/cfg.h"
#include "qosd/clock.h"
#include "qosd/collector.h"
#include "qosd/point.h"

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
#define MAX_JSON	(32u << 20)	/* bytes of JSON read from a test */
#define RESERVE_US	500000		/* before the deadline, to report */
#define SLACK_US	3000000		/* setup and result exchange */
#define BACKOFF_US	500000		/* first busy backoff, doubled */
#define MSG_LEN		256

enum iperf_dir {
	DIR_UPLOAD,
	DIR_DOWNLOAD,
	DIR_BOTH
};

/* What a run reports for one test, as the metrics call it. */
enum iperf_res {
	RES_OK,
	RES_TIMEOUT,
	RES_UNREACHABLE,
	RES_DNS,
	RES_REFUSED,
	RES_BUSY,
	RES_ERROR
};

/* The test process's report, written before the JSON. */
enum test_status {
	TEST_RAN,		/* iperf_run_client() returned */
	TEST_DNS,		/* the server's name did not resolve */
	TEST_SETUP		/* no test could be made */
};

/*
 * iperf_run_client() in 3.12 returns 0 after some failures (a refused
 * connection) with i_errno set and an "error" in the JSON: both count.
 */
struct test_report {
	int		 status;	/* enum test_status */
	int		 rc;		/* iperf_run_client()'s */
	int		 ierr;		/* i_errno */
	int		 syserr;	/* errno when it returned */
	int		 json;		/* JSON follows */
	char		 msg[MSG_LEN];	/* iperf_strerror(ierr) */
};

struct iperf_state {
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
	unsigned int	 has;		/* HAS_* */
};

#define HAS_RETRANSMITS	0x01
#define HAS_UDP		0x02		/* jitter, lost_pct, lost_packets */
#define HAS_CPU		0x04
#define HAS_DURATION	0x08
#define HAS_STREAMS	0x10

static const char *const iperf_settings[] = {
	"server", "port", "duration", "omit", "protocol", "direction",
	"streams", "bandwidth", "block_size", "bind", "dscp",
	"connect_timeout", "busy_retries", NULL
};
static const char *const protocols[] = { "tcp", "udp", NULL };
static const char *const directions[] = {
	"upload", "download", "both", NULL
};
static const char *const results[] = {
	"ok", "timeout", "unreachable", "dns_error", "refused", "busy",
	"error"
};

/* DSCP names (RFC 2474, 2597, 3246) and their code points. */
static void
iperf_release(void *state)
{
	struct iperf_state	*st = state;

	if (st == NULL)
		return;
	free(st->server);
	free(st->bind);
	free(st);
}

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
check_timeout(const config_setting_t *job, const struct iperf_state *st,
    char *err, size_t errlen)
{
	double	timeout, need;
	int	ntests = st->dir == DIR_BOTH ? 2 : 1;

	if (qosd_cfg_float(job, "timeout", 0.001, 86400, &timeout, err,
	    errlen) != 1)
		return 0;
	need = ntests * (st->omit + st->duration + 2.0);
	if (timeout >= need)
		return 0;
	return qosd_cfg_error(config_setting_get_member(job, "timeout"), err,
	    errlen, "%g s is too short for %d test%s of omit + duration = "
	    "%d s: give at least %g s", timeout, ntests, ntests > 1 ? "s" : "",
	    st->omit + st->duration, need);
}

static int
iperf_configure(const config_setting_t *job, void **state, char *err,
    size_t errlen)
{
	struct iperf_state	*st;
	const char		*server;
	long long		 n;
	double			 ct = DEF_CONNECT;
	uint64_t		 blk = 0;
	int			 r;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	st->port = DEF_PORT;
	st->duration = DEF_DURATION;
	st->streams = 1;
	st->dscp = -1;
	st->retries = DEF_RETRIES;
	if ((r = qosd_cfg_string(job, "server", 0, &server, err,
	    errlen)) == -1)
		goto fail;
	if (r == 0) {
		qosd_cfg_error(job, err, errlen, "server: missing: give the "
		    "iperf3 server's name or address, e.g. server = "
		    "\"iperf.example\"");
		goto fail;
	}
	if ((st->server = strdup(server)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = st->port;
	if (qosd_cfg_int(job, "port", 1, 65535, &n, err, errlen) == -1)
		goto fail;
	st->port = (int)n;
	snprintf(st->port_str, sizeof(st->port_str), "%d", st->port);
	n = st->duration;
	if (qosd_cfg_int(job, "duration", 1, 3600, &n, err, errlen) == -1)
		goto fail;
	st->duration = (int)n;
	n = 0;
	if (qosd_cfg_int(job, "omit", 0, 600, &n, err, errlen) == -1)
		goto fail;
	st->omit = (int)n;
	n = 1;
	if (qosd_cfg_int(job, "streams", 1, MAX_STREAMS, &n, err,
	    errlen) == -1)
		goto fail;
	st->streams = (int)n;
	if (qosd_cfg_enum(job, "protocol", protocols, &st->udp, err,
	    errlen) == -1 ||
	    qosd_cfg_enum(job, "direction", directions, &st->dir, err,
	    errlen) == -1)
		goto fail;
	st->rate = st->udp ? DEF_UDP_RATE : 0;
	if (cfg_rate(job, &st->rate, err, errlen) == -1)
		goto fail;
	if (st->udp)
		r = qosd_cfg_size(job, "block_size", MIN_UDP_BLOCK,
		    MAX_UDP_BLOCK, &blk, err, errlen);
	else
		r = qosd_cfg_size(job, "block_size", 1, MAX_TCP_BLOCK, &blk,
		    err, errlen);
	if (r == -1)
		goto fail;
	/* 0: TCP's 128K, UDP's the control connection's MSS (iperf3's). */
	st->blksize = (int)blk;
	if (cfg_address(job, "bind", &st->bind, err, errlen) == -1 ||
	    qosd_cfg_dscp(job, "dscp", &st->dscp, err, errlen) == -1 ||
	    qosd_cfg_float(job, "connect_timeout", 0.1, 60, &ct, err,
	    errlen) == -1)
		goto fail;
	st->connect_ms = (int)lround(ct * 1000);
	n = st->retries;
	if (qosd_cfg_int(job, "busy_retries", 0, 10, &n, err, errlen) == -1)
		goto fail;
	st->retries = (int)n;
	if (check_timeout(job, st, err, errlen) == -1)
		goto fail;
	*state = st;
	return 0;
fail:
	iperf_release(st);
	return -1;
}

static const json_t *
jpath(const json_t *j, const char *a, const char *b)
{
	if ((j = json_object_get(j, a)) == NULL || b == NULL)
		return j;
	return json_object_get(j, b);
}

static int
jnum(const json_t *obj, const char *key, double *v)
{
	const json_t	*j = json_object_get(obj, key);

	if (!json_is_number(j))
		return 0;
	*v = json_number_value(j);
	return 1;
}

static int
jint(const json_t *obj, const char *key, int64_t *v)
{
	const json_t	*j = json_object_get(obj, key);

	if (json_is_integer(j))
		*v = json_integer_value(j);
	else if (json_is_real(j))
		*v = (int64_t)llround(json_real_value(j));
	else
		return 0;
	return 1;
}

/*
 * Read the figures of a test from iperf3's JSON.  Returns 0 with r filled,
 * 1 when the JSON reports a failure (its "error" text in msg), -1 when it
 * is not an iperf3 result (the reason in msg).
 */
static int
parse_result(const char *text, size_t len, int udp, struct iperf_result *r,
    char *msg, size_t msglen)
{
	json_t		*root;
	json_error_t	 jerr;
	const json_t	*end, *sent, *recv, *cpu, *e;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	if ((root = json_loadb(text, len, 0, &jerr)) == NULL) {
		snprintf(msg, msglen, "iperf3's JSON does not parse: line %d: "
		    "%s", jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		snprintf(msg, msglen, "iperf3's JSON is not an object");
		goto out;
	}
	if ((e = json_object_get(root, "error")) != NULL) {
		snprintf(msg, msglen, "%s", json_is_string(e) ?
		    json_string_value(e) : "iperf3 reported an error");
		rc = 1;
		goto out;
	}
	end = json_object_get(root, "end");
	sent = json_object_get(end, "sum_sent");
	recv = json_object_get(end, "sum_received");
	/* iperf3 before 3.10 sums UDP in end.sum only. */
	if (udp && sent == NULL)
		sent = json_object_get(end, "sum");
	if (udp && recv == NULL)
		recv = json_object_get(end, "sum");
	if (!jnum(sent, "bits_per_second", &r->sent_bps) ||
	    !jnum(recv, "bits_per_second", &r->received_bps)) {
		snprintf(msg, msglen, "iperf3's JSON has no end.sum_sent and "
		    "end.sum_received bits_per_second");
		goto out;
	}
	if (!udp && jint(sent, "retransmits", &r->retransmits))
		r->has |= HAS_RETRANSMITS;
	if (udp && jnum(recv, "jitter_ms", &r->jitter_ms) &&
	    jnum(recv, "lost_percent", &r->lost_pct) &&
	    jint(recv, "lost_packets", &r->lost_packets))
		r->has |= HAS_UDP;
	cpu = json_object_get(end, "cpu_utilization_percent");
	if (jnum(cpu, "host_total", &r->cpu_local_pct) &&
	    jnum(cpu, "remote_total", &r->cpu_remote_pct))
		r->has |= HAS_CPU;
	if (jnum(recv, "seconds", &r->duration_s))
		r->has |= HAS_DURATION;
	if (jint(jpath(root, "start", "test_start"), "num_streams",
	    &r->streams))
		r->has |= HAS_STREAMS;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* The result of a failed test from libiperf's error and errno. */
static enum iperf_res
classify(const struct test_report *rep)
{
	switch (rep->ierr) {
	case IEACCESSDENIED:
		return RES_BUSY;
	case IENOMSG:
		return RES_TIMEOUT;
	case IECONNECT:
	case IESTREAMCONNECT:
		switch (rep->syserr) {
		case ECONNREFUSED:
			return RES_REFUSED;
		case ETIMEDOUT:
		case EINPROGRESS:
			return RES_TIMEOUT;
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
		case ENETDOWN:
			return RES_UNREACHABLE;
		}
		break;
	}
	return RES_ERROR;
}

/*
 * The result of a test from its report and the JSON after it: RES_OK with
 * r filled, or another result with the reason in msg.
 */
static enum iperf_res
test_outcome(const struct test_report *rep, const char *json, size_t len,
    int udp, struct iperf_result *r, char *msg, size_t msglen)
{
	int	rc = -1;

	switch (rep->status) {
	case TEST_RAN:
		break;
	case TEST_DNS:
		snprintf(msg, msglen, "%s", rep->msg);
		return RES_DNS;
	default:
		snprintf(msg, msglen, "%s", rep->msg);
		return RES_ERROR;
	}
	if (rep->json)
		rc = parse_result(json, len, udp, r, msg, msglen);
	if (rc == 0 && rep->rc == 0)
		return RES_OK;
	/* libiperf's own text names the errno; the JSON's may not. */
	if (rep->ierr != IENONE) {
		snprintf(msg, msglen, "%s", rep->msg);
		return classify(rep);
	}
	if (rc != -1 || !rep->json)
		snprintf(msg, msglen, "the test failed without saying why");
	return RES_ERROR;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The test process: one libiperf client test, its report and JSON written
 * to fd.  Never returns.
 */
static void __attribute__((noreturn))
test_process(const struct iperf_state *st, int reverse, int fd)
{
	struct test_report	 rep;
	struct addrinfo		 hints, *ai = NULL;
	struct iperf_test	*t;
	const char		*json = NULL;
	int			 null, gai;

	signal(SIGPIPE, SIG_IGN);
	/* libiperf prints its JSON (and some messages) to stdout. */
	if ((null = open("/dev/null", O_WRONLY)) != -1) {
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	memset(&rep, 0, sizeof(rep));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = st->udp ? SOCK_DGRAM : SOCK_STREAM;
	if ((gai = getaddrinfo(st->server, st->port_str, &hints, &ai)) != 0) {
		rep.status = gai == EAI_SYSTEM ? TEST_SETUP : TEST_DNS;
		snprintf(rep.msg, sizeof(rep.msg), "cannot resolve \"%s\": %s",
		    st->server, gai == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(gai));
		goto report;
	}
	freeaddrinfo(ai);
	if ((t = iperf_new_test()) == NULL || iperf_defaults(t) == -1) {
		rep.status = TEST_SETUP;
		snprintf(rep.msg, sizeof(rep.msg), "cannot make a test: %s",
		    iperf_strerror(i_errno));
		goto report;
	}
	iperf_set_test_role(t, 'c');
	iperf_set_test_server_hostname(t, st->server);
	iperf_set_test_server_port(t, st->port);
	if (set_protocol(t, st->udp ? Pudp : Ptcp) == -1) {
		rep.status = TEST_SETUP;
		snprintf(rep.msg, sizeof(rep.msg), "set_protocol: %s",
		    iperf_strerror(i_errno));
		goto report;
	}
	iperf_set_test_duration(t, st->duration);
	iperf_set_test_omit(t, st->omit);
	iperf_set_test_num_streams(t, st->streams);
	iperf_set_test_reverse(t, reverse);
	/* The API's defaults are not the CLI's: set both every time. */
	iperf_set_test_rate(t, st->rate);
	iperf_set_test_blksize(t, st->blksize != 0 ? st->blksize :
	    st->udp ? 0 : DEFAULT_TCP_BLKSIZE);
	if (st->bind != NULL)
		iperf_set_test_bind_address(t, st->bind);
	if (st->dscp >= 0)
		iperf_set_test_tos(t, st->dscp << 2);
	iperf_set_test_connect_timeout(t, st->connect_ms);
	iperf_set_test_json_output(t, 1);
	rep.status = TEST_RAN;
	rep.rc = iperf_run_client(t);
	rep.ierr = i_errno;
	rep.syserr = errno;
	if (rep.ierr != IENONE)
		snprintf(rep.msg, sizeof(rep.msg), "%s",
		    iperf_strerror(rep.ierr));
	json = iperf_get_test_json_output_string(t);
	rep.json = json != NULL;
report:
	if (write_all(fd, &rep, sizeof(rep)) == 0 && json != NULL)
		write_all(fd, json, strlen(json));
	_exit(0);
}

/* A test's output as it arrives; capped at MAX_JSON. */
struct inbuf {
	char		*data;
	size_t		 len;
	size_t		 cap;
};

static int
inbuf_read(struct inbuf *b, int fd)
{
	size_t	 ncap;
	char	*p;
	ssize_t	 n;

	if (b->cap - b->len < 4096) {
		if (b->cap >= MAX_JSON + sizeof(struct test_report))
			return -2;
		ncap = b->cap == 0 ? 65536 : b->cap * 2;
		if ((p = realloc(b->data, ncap + 1)) == NULL)
			return -1;
		b->data = p;
		b->cap = ncap;
	}
	do
		n = read(fd, b->data + b->len, b->cap - b->len);
	while (n == -1 && errno == EINTR);
	if (n > 0)
		b->len += (size_t)n;
	return (int)(n > 0 ? 1 : n);
}

static void
reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/*
 * One test in a process of its own, killed at limit_us.  Returns its
 * result; r is filled for RES_OK, msg says why for the others.
 */
static enum iperf_res
run_test(const struct iperf_state *st, int reverse, uint64_t limit_us,
    struct iperf_result *r, char *msg, size_t msglen)
{
	struct test_report	 rep;
	struct inbuf		 in = { NULL, 0, 0 };
	struct pollfd		 pfd;
	enum iperf_res		 res = RES_ERROR;
	uint64_t		 now, start = qosd_mono_us();
	pid_t			 pid;
	int			 fds[2], n, rc;

	if (pipe(fds) == -1) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return RES_ERROR;
	}
	if ((pid = fork()) == -1) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return RES_ERROR;
	}
	if (pid == 0) {
		close(fds[0]);
		test_process(st, reverse, fds[1]);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((now = qosd_mono_us()) >= limit_us) {
			kill(pid, SIGKILL);
			reap(pid);
			snprintf(msg, msglen, "no result after %.1f s: the "
			    "server or the path stalled", (double)(now -
			    start) / 1e6);
			res = RES_TIMEOUT;
			goto out;
		}
		n = poll(&pfd, 1, (int)((limit_us - now + 999) / 1000));
		if (n == -1 && errno != EINTR) {
			snprintf(msg, msglen, "poll: %s", strerror(errno));
			kill(pid, SIGKILL);
			reap(pid);
			goto out;
		}
		if (n <= 0)
			continue;
		if ((rc = inbuf_read(&in, fds[0])) == 0)
			break;
		if (rc < 0) {
			if (rc == -2)
				snprintf(msg, msglen, "iperf3's JSON is longer "
				    "than %u bytes", MAX_JSON);
			else
				snprintf(msg, msglen, "read: %s",
				    strerror(errno));
			kill(pid, SIGKILL);
			reap(pid);
			goto out;
		}
	}
	reap(pid);
	if (in.len < sizeof(rep)) {
		snprintf(msg, msglen, "the test process ended without a "
		    "report");
		goto out;
	}
	memcpy(&rep, in.data, sizeof(rep));
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	res = test_outcome(&rep, in.data + sizeof(rep), in.len - sizeof(rep),
	    st->udp, r, msg, msglen);
out:
	close(fds[0]);
	free(in.data);
	return res;
}

/* xorshift64*, for backoff jitter only. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
sleep_us(uint64_t us)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * One direction: a test, retried after a random backoff while the server
 * is busy, as often as allowed and as long as a whole test still fits
 * before limit_us.
 */
static enum iperf_res
measure(const struct iperf_state *st, int reverse, uint64_t limit_us,
    uint64_t *seed, struct iperf_result *r, char *msg, size_t msglen)
{
	uint64_t	test_us, min_us, now, until, backoff;
	enum iperf_res	res;
	int		attempt;

	min_us = (uint64_t)(st->omit + st->duration) * 1000000;
	test_us = min_us + (uint64_t)st->connect_ms * 1000 + SLACK_US +
	    min_us / 10;
	for (attempt = 0;; attempt++) {
		now = qosd_mono_us();
		if (now + min_us > limit_us) {
			snprintf(msg, msglen, "not started: %.1f s left before "
			    "the run's timeout, the test takes %d s",
			    limit_us > now ? (double)(limit_us - now) / 1e6 : 0,
			    st->omit + st->duration);
			return RES_TIMEOUT;
		}
		until = now + test_us < limit_us ? now + test_us : limit_us;
		res = run_test(st, reverse, until, r, msg, msglen);
		if (res != RES_BUSY || attempt >= st->retries)
			return res;
		backoff = (BACKOFF_US << attempt) / 2 +
		    rnd(seed) % (BACKOFF_US << attempt);
		if (qosd_mono_us() + backoff + min_us > limit_us)
			return res;
		sleep_us(backoff);
	}
}

static void
emit(struct qosd_out *out, const struct iperf_state *st, int reverse,
    enum iperf_res res, const struct iperf_result *r, const char *msg)
{
	qosd_point_begin(out, "iperf");
	qosd_point_tag(out, "target", st->server);
	qosd_point_tag(out, "port", st->port_str);
	qosd_point_tag(out, "protocol", st->udp ? "udp" : "tcp");
	qosd_point_tag(out, "direction", reverse ? "download" : "upload");
	qosd_point_str(out, "result", results[res]);
	if (res != RES_OK) {
		qosd_point_str(out, "error", msg);
		qosd_point_end(out);
		return;
	}
	qosd_point_float(out, "sent_bps", r->sent_bps);
	qosd_point_float(out, "received_bps", r->received_bps);
	if (r->has & HAS_RETRANSMITS)
		qosd_point_int(out, "retransmits", r->retransmits);
	if (r->has & HAS_UDP) {
		qosd_point_float(out, "jitter_ms", r->jitter_ms);
		qosd_point_float(out, "lost_pct", r->lost_pct);
		qosd_point_int(out, "lost_packets", r->lost_packets);
	}
	if (r->has & HAS_CPU) {
		qosd_point_float(out, "cpu_local_pct", r->cpu_local_pct);
		qosd_point_float(out, "cpu_remote_pct", r->cpu_remote_pct);
	}
	if (r->has & HAS_DURATION)
		qosd_point_float(out, "duration_s", r->duration_s);
	if (r->has & HAS_STREAMS)
		qosd_point_int(out, "streams", r->streams);
	qosd_point_end(out);
}

static int
iperf_run(void *state, struct qosd_out *out)
{
	const struct iperf_state *st = state;
	struct iperf_result	 r;
	struct timespec		 ts;
	enum iperf_res		 res;
	char			 msg[MSG_LEN];
	uint64_t		 deadline, limit, seed;
	int			 reverse;

	deadline = qosd_out_deadline_us(out);
	limit = deadline > RESERVE_US ? deadline - RESERVE_US : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^
	    0x9e3779b97f4a7c15ULL;
	for (reverse = 0; reverse < 2; reverse++) {
		if ((st->dir == DIR_UPLOAD && reverse) ||
		    (st->dir == DIR_DOWNLOAD && !reverse))
			continue;
		msg[0] = '\0';
		res = measure(st, reverse, limit, &seed, &r, msg,
		    sizeof(msg));
		emit(out, st, reverse, res, &r, msg);
	}
	return 0;
}

QOSD_EXPORT const struct qosd_collector qosd_collector = {
	.abi = QOSD_COLLECTOR_ABI,
	.name = "iperf",
	.settings = iperf_settings,
	.configure = iperf_configure,
	.run = iperf_run,
	.release = iperf_release,
	.default_exclusive = "bandwidth",
};
