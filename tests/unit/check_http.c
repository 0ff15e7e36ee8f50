/*
 * check_http.c: the http collector's settings, its result mapping, its
 * status rules (collectors/http/conf.h, collectors/http/xfer.h, linked
 * in), and runs of the built plugin against a closed port that write a
 * refused point with no made-up timings.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <libconfig.h>

#include "collectors/http/conf.h"
#include "collectors/http/xfer.h"
#include "qosd/clock.h"
#include "scheduler/spawner/point.h"
#include "tests/unit/collector_util.h"
#include "tests/unit/suites.h"

static config_t			 cfg;
static char			 err[1024];
static struct http_conf		*state;

/* The job "j" with settings, in cfg. */
static const config_setting_t *
job_of(const char *settings)
{
	char	text[4096];

	snprintf(text, sizeof(text), "jobs = ( { name = \"j\"; "
	    "collector = \"http\"; %s } );", settings);
	config_destroy(&cfg);
	config_init(&cfg);
	ck_assert_msg(config_read_string(&cfg, text) == CONFIG_TRUE,
	    "%s: %s", text, config_error_text(&cfg));
	return config_setting_get_elem(config_lookup(&cfg, "jobs"), 0);
}

/* Read the settings of one job "j" into state. */
static int
configure(const char *settings)
{
	const config_setting_t	*job = job_of(settings);

	http_conf_free(state);
	err[0] = '\0';
	state = http_conf_new(job, err, sizeof(err));
	return state == NULL ? -1 : 0;
}

static void
fx_setup(void)
{
	config_init(&cfg);
	state = NULL;
}

static void
fx_teardown(void)
{
	http_conf_free(state);
	state = NULL;
	config_destroy(&cfg);
}

/*
 * Run the built plugin on the job "j" with settings, its deadline in_us
 * from now, into line (the first len - 1 bytes it writes).  Returns the
 * number of points written.
 */
static unsigned long
run_plugin(const char *settings, uint64_t in_us, char *line, size_t len)
{
	const struct qosd_collector	*p = cu_plugin("http");
	struct qosd_out			*out;
	void				*st = NULL;
	unsigned long			 n;
	int				 fds[2];
	ssize_t				 r;

	ck_assert_msg(p->configure(job_of(settings), &st, err,
	    sizeof(err)) == 0, "%s: %s", settings, err);
	ck_assert_int_eq(pipe(fds), 0);
	out = point_out_new(fds[1], "j", qosd_mono_us() + in_us);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(p->run(st, out), 0);
	n = point_out_count(out);
	point_out_free(out);
	p->release(st);
	plugin_unload_all();
	close(fds[1]);
	r = read(fds[0], line, len - 1);
	close(fds[0]);
	ck_assert_int_gt(r, 0);
	line[r] = '\0';
	return n;
}

START_TEST(test_http_defaults)
{
	struct http_conf	*st;

	ck_assert_int_eq(configure("url = \"http://127.0.0.1:8080/x\";"), 0);
	st = state;
	ck_assert_str_eq(st->url[HTTP_GET], "http://127.0.0.1:8080/x");
	ck_assert_str_eq(st->host[HTTP_GET], "127.0.0.1");
	ck_assert_ptr_null(st->url[HTTP_DOWNLOAD]);
	ck_assert_ptr_null(st->url[HTTP_UPLOAD]);
	ck_assert_uint_eq(st->upload_bytes, 102400);
	ck_assert(st->timeout == 10.0);
	ck_assert_int_eq(st->max_redirects, 5);
	ck_assert_int_eq(st->tls_verify, 1);
	ck_assert_uint_eq(st->max_bytes, 1024ULL * 1024 * 1024);
	ck_assert_int_eq(st->dscp, -1);
	ck_assert_int_eq(st->family, 0);
	ck_assert_ptr_null(st->proxy);
	ck_assert_uint_eq(st->nexpect, 0);
}
END_TEST

START_TEST(test_http_all_settings)
{
	struct http_conf	*st;

	ck_assert_int_eq(configure(
	    "url = \"https://user:secret@[2001:db8::5]:8443/a?b=c\";"
	    "download_url = \"http://h.example/f.bin\";"
	    "upload_url = \"http://h.example/up\"; upload_bytes = \"1M\";"
	    "method = \"HEAD\"; upload_method = \"PUT\";"
	    "headers = [ \"X-A: 1\", \"Accept:\", \"X-Empty;\" ];"
	    "request_timeout = 2.5; max_redirects = 0;"
	    "expect_status = ( 204, \"300-399\" );"
	    "ca_file = \"/etc/ssl/ca.pem\"; tls_verify = false;"
	    "max_bytes = \"8M\"; proxy = \"http://127.0.0.1:3128\";"
	    "family = \"ipv6\"; dscp = \"AF41\";"
	    "low_speed_limit = 1000; low_speed_time = 3;"), 0);
	st = state;
	ck_assert_str_eq(st->host[HTTP_GET], "2001:db8::5");
	ck_assert_ptr_null(strstr(st->url_tag[HTTP_GET], "secret"));
	ck_assert_ptr_null(strstr(st->url_tag[HTTP_GET], "user"));
	ck_assert_ptr_nonnull(strstr(st->url[HTTP_GET], "secret"));
	ck_assert_str_eq(st->host[HTTP_DOWNLOAD], "h.example");
	ck_assert_uint_eq(st->upload_bytes, 1048576);
	ck_assert_str_eq(http_method(st, HTTP_GET), "HEAD");
	ck_assert_str_eq(http_method(st, HTTP_DOWNLOAD), "GET");
	ck_assert_str_eq(http_method(st, HTTP_UPLOAD), "PUT");
	ck_assert_str_eq(st->headers[2], "X-Empty;");
	ck_assert_ptr_null(st->headers[3]);
	ck_assert(st->timeout == 2.5);
	ck_assert_int_eq(st->max_redirects, 0);
	ck_assert_uint_eq(st->nexpect, 2);
	ck_assert_int_eq(st->tls_verify, 0);
	ck_assert_uint_eq(st->max_bytes, 8 * 1048576);
	ck_assert_str_eq(st->proxy, "http://127.0.0.1:3128");
	ck_assert_int_eq(st->family, 2);
	ck_assert_int_eq(st->dscp, 34);
	ck_assert_int_eq(st->low_speed_limit, 1000);
	ck_assert_int_eq(st->low_speed_time, 3);
}
END_TEST

static const struct {
	const char	*settings;
	const char	*error;		/* a part of the message */
} bad[] = {
	{ "", "jobs.j: url, download_url or upload_url: give at least one" },
	{ "url = \"\";", "jobs.j.url: " },
	{ "url = 5;", "jobs.j.url: " },
	{ "url = \"ftp://h/\";", "jobs.j.url: \"ftp://h/\": only http://" },
	{ "url = \"http://\";", "jobs.j.url: \"http://\" is not a URL" },
	{ "url = \"not a url\";", "jobs.j.url: \"not a url\" is not a URL" },
	{ "download_url = \"file:///etc/passwd\";",
	    "jobs.j.download_url: " },
	{ "url = \"http://h/\"; upload_bytes = -1;", "jobs.j.upload_bytes: " },
	{ "url = \"http://h/\"; upload_bytes = \"2T\";",
	    "jobs.j.upload_bytes: " },
	{ "url = \"http://h/\"; method = \"POST\";", "jobs.j.method: " },
	{ "url = \"http://h/\"; upload_method = \"GET\";",
	    "jobs.j.upload_method: " },
	{ "url = \"http://h/\"; headers = [ \"no colon\" ];",
	    "jobs.j.headers: \"no colon\" is not a header line" },
	{ "url = \"http://h/\"; headers = [ \": v\" ];",
	    "jobs.j.headers: \": v\" is not a header line" },
	{ "url = \"http://h/\"; headers = [ \"X-A: 1\\r\\nX-B: 2\" ];",
	    "jobs.j.headers: " },
	{ "url = \"http://h/\"; headers = [ \"X;y\" ];", "jobs.j.headers: " },
	{ "url = \"http://h/\"; request_timeout = 0;",
	    "jobs.j.request_timeout: " },
	{ "url = \"http://h/\"; max_redirects = 51;",
	    "jobs.j.max_redirects: " },
	{ "url = \"http://h/\"; expect_status = 99;",
	    "jobs.j.expect_status: status codes are 100 to 599" },
	{ "url = \"http://h/\"; expect_status = \"299-200\";",
	    "jobs.j.expect_status: status codes are 100 to 599" },
	{ "url = \"http://h/\"; expect_status = \"2xx\";",
	    "jobs.j.expect_status: \"2xx\" is not a status code" },
	{ "url = \"http://h/\"; expect_status = ( 200, 1.5 );",
	    "jobs.j.expect_status.1: expected a status code" },
	{ "url = \"http://h/\"; expect_status = [ ];",
	    "jobs.j.expect_status: expected a status code, a range" },
	{ "url = \"http://h/\"; ca_file = \"ca.pem\";",
	    "jobs.j.ca_file: \"ca.pem\" is not an absolute path" },
	{ "url = \"http://h/\"; tls_verify = 1;", "jobs.j.tls_verify: " },
	{ "url = \"http://h/\"; max_bytes = 0;", "jobs.j.max_bytes: " },
	{ "url = \"http://h/\"; proxy = \"\";", "jobs.j.proxy: " },
	{ "url = \"http://h/\"; family = \"ipv5\";", "jobs.j.family: " },
	{ "url = \"http://h/\"; dscp = 64;",
	    "jobs.j.dscp: expected an integer from 0 to 63, got 64" },
	{ "url = \"http://h/\"; dscp = \"af44\";",
	    "jobs.j.dscp: unknown DSCP name \"af44\": give a code point from 0 to 63 or a name" },
	{ "url = \"http://h/\"; low_speed_limit = -1;",
	    "jobs.j.low_speed_limit: " },
	{ "url = \"http://h/\"; low_speed_time = 0;",
	    "jobs.j.low_speed_time: " },
};

START_TEST(test_http_refuses_bad_settings)
{
	ck_assert_int_eq(configure(bad[_i].settings), -1);
	ck_assert_ptr_null(state);
	ck_assert_msg(strstr(err, bad[_i].error) != NULL,
	    "%s: got \"%s\", want \"%s\"", bad[_i].settings, err,
	    bad[_i].error);
}
END_TEST

static const struct {
	CURLcode	 rc;
	long		 oserr;
	const char	*result;
} results[] = {
	{ CURLE_OK, 0, "ok" },
	{ CURLE_COULDNT_RESOLVE_HOST, 0, "dns_error" },
	{ CURLE_COULDNT_RESOLVE_PROXY, 0, "dns_error" },
	{ CURLE_COULDNT_CONNECT, ECONNREFUSED, "refused" },
	{ CURLE_COULDNT_CONNECT, 0, "refused" },
	{ CURLE_COULDNT_CONNECT, EHOSTUNREACH, "unreachable" },
	{ CURLE_COULDNT_CONNECT, ENETUNREACH, "unreachable" },
	{ CURLE_COULDNT_CONNECT, ETIMEDOUT, "timeout" },
	{ CURLE_OPERATION_TIMEDOUT, 0, "timeout" },
	{ CURLE_SSL_CONNECT_ERROR, 0, "tls_error" },
	{ CURLE_PEER_FAILED_VERIFICATION, 0, "tls_error" },
	{ CURLE_SSL_CACERT_BADFILE, 0, "tls_error" },
	{ CURLE_SSL_CERTPROBLEM, 0, "tls_error" },
	{ CURLE_SSL_CIPHER, 0, "tls_error" },
	{ CURLE_SSL_ISSUER_ERROR, 0, "tls_error" },
	{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, 0, "tls_error" },
	{ CURLE_TOO_MANY_REDIRECTS, 0, "http_error" },
	{ CURLE_WEIRD_SERVER_REPLY, 0, "error" },
	{ CURLE_UNSUPPORTED_PROTOCOL, 0, "error" },
	{ CURLE_GOT_NOTHING, 0, "error" },
	{ CURLE_RECV_ERROR, 0, "error" },
	{ CURLE_PARTIAL_FILE, 0, "error" },
	{ CURLE_WRITE_ERROR, 0, "error" },
	{ CURLE_FILESIZE_EXCEEDED, 0, "error" },
	{ CURLE_ABORTED_BY_CALLBACK, 0, "error" },
};

START_TEST(test_http_result_of_curl_code)
{
	ck_assert_str_eq(xfer_result(results[_i].rc, results[_i].oserr),
	    results[_i].result);
}
END_TEST

START_TEST(test_http_expected_status)
{
	struct http_conf	*st;

	ck_assert_int_eq(configure("url = \"http://h/\";"), 0);
	st = state;
	ck_assert(http_status_expected(st, HTTP_GET, 200));
	ck_assert(http_status_expected(st, HTTP_GET, 301));
	ck_assert(http_status_expected(st, HTTP_GET, 399));
	ck_assert(!http_status_expected(st, HTTP_GET, 199));
	ck_assert(!http_status_expected(st, HTTP_GET, 404));
	ck_assert(http_status_expected(st, HTTP_DOWNLOAD, 204));
	ck_assert(!http_status_expected(st, HTTP_DOWNLOAD, 302));
	ck_assert(!http_status_expected(st, HTTP_UPLOAD, 302));
	ck_assert(!http_status_expected(st, HTTP_UPLOAD, 500));
	ck_assert_int_eq(configure("url = \"http://h/\";"
	    "expect_status = [ \"404\", \"500-503\" ];"), 0);
	st = state;
	ck_assert(http_status_expected(st, HTTP_GET, 404));
	ck_assert(http_status_expected(st, HTTP_UPLOAD, 502));
	ck_assert(!http_status_expected(st, HTTP_GET, 200));
	ck_assert(!http_status_expected(st, HTTP_DOWNLOAD, 504));
}
END_TEST

START_TEST(test_http_upload_generates_exact_bytes)
{
	struct xfer	x;
	char		buf[7000];
	uint64_t	total = 0;
	size_t		n;
	int		i;

	xfer_pattern_init();
	memset(&x, 0, sizeof(x));
	x.to_send = 100000;
	for (i = 0; i < 100 && (n = xfer_read(buf, 1, sizeof(buf), &x)) > 0;
	    i++)
		total += n;
	ck_assert_uint_eq(total, 100000);
	ck_assert_int_eq(xfer_seek(&x, 10, SEEK_SET), CURL_SEEKFUNC_OK);
	ck_assert_uint_eq(xfer_read(buf, 1, sizeof(buf), &x), sizeof(buf));
	ck_assert_int_eq(xfer_seek(&x, 100001, SEEK_SET), CURL_SEEKFUNC_FAIL);
}
END_TEST

START_TEST(test_http_download_stops_past_max_bytes)
{
	struct xfer	x;
	char		buf[100];

	memset(&x, 0, sizeof(x));
	x.max_bytes = 250;
	ck_assert_uint_eq(xfer_write(buf, 1, 100, &x), 100);
	ck_assert_uint_eq(xfer_write(buf, 1, 100, &x), 100);
	ck_assert_uint_eq(xfer_write(buf, 1, 100, &x), 0);
	ck_assert_int_eq(x.too_big, 1);
}
END_TEST

/* A port on 127.0.0.1 that nobody listens on: bound, never listened. */
static int
closed_port(int *fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

START_TEST(test_http_refused_point_has_no_made_up_timings)
{
	char		 settings[256], line[4096];
	int		 sfd, port;

	port = closed_port(&sfd);
	snprintf(settings, sizeof(settings), "download_url = "
	    "\"http://127.0.0.1:%d/f\"; request_timeout = 2;", port);
	ck_assert_uint_eq(run_plugin(settings, 5000000, line, sizeof(line)),
	    1);
	close(sfd);
	ck_assert_msg(strncmp(line, "http,kind=download,method=GET,"
	    "target=127.0.0.1,url=http://127.0.0.1:", 68) == 0, "%s", line);
	ck_assert_msg(strstr(line, " result=\"refused\",error=\"") != NULL,
	    "%s", line);
	ck_assert_msg(strstr(line, "dns_ms=") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "connect_ms") == NULL, "%s", line);
	ck_assert_msg(strstr(line, "total_ms") == NULL, "%s", line);
	ck_assert_msg(strstr(line, "status_code") == NULL, "%s", line);
	ck_assert_msg(strstr(line, "bytes") == NULL, "%s", line);
}
END_TEST

START_TEST(test_http_no_time_left_is_a_timeout)
{
	char		 line[4096];

	/* The run's deadline is within the margin kept for writing. */
	run_plugin("url = \"http://127.0.0.1:9/\";", 100000, line,
	    sizeof(line));
	ck_assert_msg(strstr(line, " result=\"timeout\",error=\"no time "
	    "left") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "_ms=") == NULL, "%s", line);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("settings");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_http_defaults);
	tcase_add_test(tc, test_http_all_settings);
	tcase_add_loop_test(tc, test_http_refuses_bad_settings, 0,
	    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_http_expected_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("results");
	tcase_add_loop_test(tc, test_http_result_of_curl_code, 0,
	    (int)(sizeof(results) / sizeof(results[0])));
	tcase_add_test(tc, test_http_upload_generates_exact_bytes);
	tcase_add_test(tc, test_http_download_stops_past_max_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("run");
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_http_refused_point_has_no_made_up_timings);
	tcase_add_test(tc, test_http_no_time_left_is_a_timeout);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(http)
