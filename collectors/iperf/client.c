/*
 * client.c: one iperf3 client test in a process of its own.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iperf_api.h>

#include "collectors/iperf/client.h"
#include "collectors/iperf/conf.h"
#include "collectors/iperf/result.h"
#include "qosd/clock.h"

#define MAX_JSON	(32u << 20)	/* bytes of JSON read from a test */

/*
 * The test process: one libiperf client test, its report and JSON written
 * to fd.  Never returns.
 */
static void __attribute__((noreturn))
test_process(const struct iperf_conf *st, int reverse, int fd)
{
	struct iperf_report	 rep;
	struct addrinfo		 hints, *ai = NULL;
	struct iperf_test	*t;
	const char		*json = NULL;
	FILE			*f;
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
		rep.status = gai == EAI_SYSTEM ? IPERF_TEST_SETUP :
		    IPERF_TEST_DNS;
		snprintf(rep.msg, sizeof(rep.msg), "cannot resolve \"%s\": %s",
		    st->server, gai == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(gai));
		goto report;
	}
	freeaddrinfo(ai);
	if ((t = iperf_new_test()) == NULL || iperf_defaults(t) == -1) {
		rep.status = IPERF_TEST_SETUP;
		snprintf(rep.msg, sizeof(rep.msg), "cannot make a test: %s",
		    iperf_strerror(i_errno));
		goto report;
	}
	iperf_set_test_role(t, 'c');
	iperf_set_test_server_hostname(t, st->server);
	iperf_set_test_server_port(t, st->port);
	if (set_protocol(t, st->udp ? Pudp : Ptcp) == -1) {
		rep.status = IPERF_TEST_SETUP;
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
	rep.status = IPERF_TEST_RAN;
	rep.rc = iperf_run_client(t);
	rep.ierr = i_errno;
	rep.syserr = errno;
	if (rep.ierr != IENONE)
		snprintf(rep.msg, sizeof(rep.msg), "%s",
		    iperf_strerror(rep.ierr));
	json = iperf_get_test_json_output_string(t);
	rep.json = json != NULL;
report:
	/* stdio writes it all, through short writes; fclose() flushes. */
	if ((f = fdopen(fd, "w")) != NULL) {
		if (fwrite(&rep, sizeof(rep), 1, f) == 1 && json != NULL)
			fputs(json, f);
		fclose(f);
	}
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
		if (b->cap >= MAX_JSON + sizeof(struct iperf_report))
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

enum iperf_res
iperf_client_run(const struct iperf_conf *st, int reverse, uint64_t limit_us,
    struct iperf_result *r, char *msg, size_t msglen)
{
	struct iperf_report	 rep;
	struct inbuf		 in = { NULL, 0, 0 };
	struct pollfd		 pfd;
	enum iperf_res		 res = IPERF_RES_ERROR;
	uint64_t		 now, start = qosd_mono_us();
	pid_t			 pid;
	int			 fds[2], n, rc;

	if (pipe(fds) == -1) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return IPERF_RES_ERROR;
	}
	if ((pid = fork()) == -1) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return IPERF_RES_ERROR;
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
			res = IPERF_RES_TIMEOUT;
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
	res = iperf_result_of(&rep, in.data + sizeof(rep), in.len - sizeof(rep),
	    st->udp, r, msg, msglen);
out:
	close(fds[0]);
	free(in.data);
	return res;
}

