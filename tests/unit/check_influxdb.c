/*
 * check_influxdb.c: the influxdb sink's settings (including where secrets
 * may come from), what each HTTP status means, the write URLs, and how a
 * batch is cut into requests and split when InfluxDB refuses a line or
 * finds a request too large.
 */
#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>
#include <systemd/sd-event.h>

#include "scheduler/config.h"
#include "lib/buf.h"
#include "sinks/influxdb.h"
#include "sinks/shipper/batch.h"
#include "sinks/shipper/deliver.h"
#include "sinks/shipper/http.h"
#include "sinks/shipper/shipper.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static char	conf[256];
static char	err[2048];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_influx.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(conf, sizeof(conf), "%s/qosd.conf", tmp);
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

/* Write a config whose one sink has settings, with mode; load it. */
static struct cfg *
load(const char *settings, mode_t mode)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "daemon: { state_dir = \"%s/state\"; };\n"
	    "sinks = (\n  { type = \"influxdb\"; name = \"influx\";\n"
	    "    %s\n  }\n);\n", tmp, settings);
	fclose(f);
	ck_assert_int_eq(chmod(conf, mode), 0);
	err[0] = '\0';
	return cfg_load(conf, err, sizeof(err));
}

static void
expect_error(const char *settings, mode_t mode, const char *want)
{
	struct cfg	*c = load(settings, mode);

	if (c != NULL) {
		cfg_free(c);
		ck_abort_msg("loaded: %s", settings);
	}
	ck_assert_msg(strstr(err, want) != NULL, "%s\n  want: %s\n  got:  %s",
	    settings, want, err);
	ck_assert_msg(strncmp(err, conf, strlen(conf)) == 0, "no FILE:LINE: "
	    "%s", err);
}

static void
expect_ok(const char *settings, mode_t mode)
{
	struct cfg	*c = load(settings, mode);

	ck_assert_msg(c != NULL, "%s: %s", settings, err);
	ck_assert_uint_eq(c->nsinks, 1);
	ck_assert_ptr_eq(c->sinks[0].type, &sink_influxdb_type);
	cfg_free(c);
}

START_TEST(test_influx_accepts_v1_and_v2_settings)
{
	expect_ok("url = \"http://127.0.0.1:8086\"; database = \"qos\";",
	    0644);
	expect_ok("url = [ \"https://a:8086/\", \"http://b:8086/influx\" ]; "
	    "api = 1; database = \"qos\"; retention_policy = \"autogen\"; "
	    "username = \"u\"; password_file = \"/etc/qosd/pw\"; "
	    "batch_size = 100; batch_bytes = \"1M\"; flush_interval = 0.5; "
	    "fsync = false; gzip = false; tls_verify = true; "
	    "ca_file = \"/etc/ssl/ca.pem\"; connect_timeout = 2; "
	    "timeout = 10; backoff_max = 30; spool_dir = \"/var/tmp/s\"; "
	    "spool_max = \"1G\"; rejected_max = \"1M\";", 0644);
	expect_ok("api = 2; url = \"https://eu-central-1-1.aws.cloud2."
	    "influxdata.com\"; org = \"lab\"; bucket = \"qos\"; "
	    "token_credential = \"influx-token\";", 0644);
	expect_ok("api = 2; url = \"http://h:8086\"; org = \"lab\"; "
	    "bucket = \"qos\"; token_file = \"/etc/qosd/t\";", 0600);
}
END_TEST

START_TEST(test_influx_refuses_bad_settings_with_file_line_setting)
{
	expect_error("database = \"qos\";", 0644, ":3: sinks.influx: url: "
	    "missing");
	expect_error("url = \"ftp://h\"; database = \"qos\";", 0644,
	    ":4: sinks.influx.url: \"ftp://h\" is not an http:// or https://");
	expect_error("url = \"http://h/write?db=x\"; database = \"qos\";",
	    0644, "without a query");
	expect_error("url = \"http://u:pw@h:8086\"; database = \"q\";",
	    0644, "sinks.influx.url: a URL with credentials in it");
	expect_error("url = \"http://h\";", 0644, "database: missing");
	expect_error("url = \"http://h\"; database = \"q\"; org = \"o\";",
	    0644, "sinks.influx.org: is for api = 2");
	expect_error("api = 2; url = \"http://h\"; org = \"o\"; "
	    "bucket = \"b\"; database = \"q\";", 0644,
	    "sinks.influx.database: is for api = 1");
	expect_error("api = 2; url = \"http://h\"; org = \"o\";", 0644,
	    "bucket: missing");
	expect_error("api = 3; url = \"http://h\";", 0644, "sinks.influx.api");
	expect_error("url = \"http://h\"; database = \"q\"; "
	    "password_file = \"/p\";", 0644, "username: missing");
	expect_error("url = \"http://h\"; database = \"q\"; username = \"u\"; "
	    "password_file = \"p\";", 0644, "\"p\" is not an absolute path");
	expect_error("url = \"http://h\"; database = \"q\"; batch_size = 0;",
	    0644, "sinks.influx.batch_size");
	expect_error("url = \"http://h\"; database = \"q\"; timeout = 1; "
	    "connect_timeout = 5;", 0644, "shorter than connect_timeout");
	expect_error("url = \"http://h\"; database = \"q\"; "
	    "spool_max = \"1K\";", 0644, "sinks.influx.spool_max");
	expect_error("url = \"http://h\"; database = \"q\"; precision = "
	    "\"s\";", 0644, "precision");
}
END_TEST

/* Write path with mode (content may hold a NUL: len bytes). */
static void
put_secret(const char *path, const char *content, size_t len, mode_t mode)
{
	int	fd;

	unlink(path);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode),
	    -1);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/*
 * An inline secret is refused wherever the configuration is, world
 * readable or not (it was accepted in a file others could not read: it
 * stayed in the daemon's memory, and in every process it forked); so is a
 * secret file others may read, by --check-config (check()) and at start.
 */
START_TEST(test_influx_refuses_inline_secrets_and_ones_others_can_read)
{
	struct cfg	*c;
	sd_event	*ev;
	char		 want[1024], settings[1024], path[256];

	snprintf(want, sizeof(want), "%s:5: sinks.influx.token: an inline "
	    "token would stay in the memory of qosd and of every process it "
	    "starts: put it in a file, root:qosd mode 0640, and give "
	    "token_file = \"/etc/qosd/influxdb-token\"; or in "
	    "/etc/credstore/influxdb-token (root, mode 0600; qosd.service "
	    "has LoadCredential=influxdb-token) and give token_credential = "
	    "\"influxdb-token\"", conf);
	expect_error("api = 2; url = \"http://h\"; org = \"o\"; bucket = "
	    "\"b\";\n    token = \"s3cr3t\";", 0644, want);
	ck_assert_msg(strcmp(err, want) == 0, "got %s", err);
	ck_assert(strstr(err, "s3cr3t") == NULL);
	/* Not readable by others: refused all the same. */
	expect_error("api = 2; url = \"http://h\"; org = \"o\"; bucket = "
	    "\"b\";\n    token = \"s3cr3t\";", 0600, want);
	ck_assert(strstr(err, "s3cr3t") == NULL);
	expect_error("url = \"http://h\"; database = \"q\"; username = \"u\";"
	    " password = \"pw\";", 0640, "sinks.influx.password: an inline "
	    "password would stay in the memory of qosd");
	ck_assert_msg(strstr(err, "password_file = \"/etc/qosd/influxdb-"
	    "password\"") != NULL && strstr(err, "LoadCredential=influxdb-"
	    "password") != NULL, "%s", err);
	expect_error("api = 2; url = \"http://h\"; org = \"o\"; bucket = "
	    "\"b\"; token_file = \"/t\"; token_credential = \"t\";", 0600,
	    "give the token one way only");
	expect_error("api = 2; url = \"http://h\"; org = \"o\"; bucket = "
	    "\"b\"; token_credential = \"../t\";", 0600,
	    "is not a credential name (NAME as in the unit's "
	    "LoadCredential=NAME, the secret in /etc/credstore/NAME)");

	/* A token file others may read. */
	snprintf(path, sizeof(path), "%s/token", tmp);
	put_secret(path, "s3cr3t\n", 7, 0644);
	snprintf(settings, sizeof(settings), "api = 2; url = \"http://h\"; "
	    "org = \"o\";\n    bucket = \"b\"; token_file = \"%s\";", path);
	ck_assert_ptr_nonnull(c = load(settings, 0600));
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: sinks.influx.token_file: \"%s\" "
	    "may be read by others (mode 0644): chmod o-r it (root:qosd 0640 "
	    "under the unit)", conf, path);
	ck_assert_msg(strcmp(err, want) == 0, "got %s\nwant %s", err, want);
	ck_assert_int_ge(sd_event_new(&ev), 0);
	ck_assert_ptr_null(sink_influxdb_type.start(c->sinks[0].state,
	    "influx", ev, err, sizeof(err)));
	ck_assert_msg(strstr(err, "sink influx: token_file: \"") != NULL &&
	    strstr(err, "may be read by others") != NULL, "%s", err);
	ck_assert(strstr(err, "s3cr3t") == NULL);
	put_secret(path, "s3cr3t\n", 7, 0640);
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), 0);
	cfg_free(c);
	sd_event_unref(ev);
}
END_TEST

/* Names InfluxDB knows carry no control character. */
START_TEST(test_influx_refuses_control_characters_in_names)
{
	static const char *const v1[] = { "database", "retention_policy",
	    "username" };
	static const char *const v2[] = { "org", "bucket" };
	char	settings[512], want[256];
	size_t	i;

	for (i = 0; i < 3; i++) {
		snprintf(settings, sizeof(settings), "url = \"http://h\"; "
		    "%s = \"q\"; %s = \"u\";\n    %s = \"a\\r\\nb\";",
		    v1[(i + 1) % 3], v1[(i + 2) % 3], v1[i]);
		snprintf(want, sizeof(want), ":5: sinks.influx.%s: a control "
		    "character (0x0d) at byte 2", v1[i]);
		expect_error(settings, 0600, want);
	}
	for (i = 0; i < 2; i++) {
		snprintf(settings, sizeof(settings), "api = 2; url = "
		    "\"http://h\";\n    %s = \"x\\ty\"; %s = \"b\";", v2[i],
		    i == 0 ? "bucket" : "org");
		snprintf(want, sizeof(want), ":5: sinks.influx.%s: a control "
		    "character (0x09) at byte 2", v2[i]);
		expect_error(settings, 0600, want);
	}
	expect_ok("api = 2; url = \"http://h\"; org = \"Ünïcode org\"; "
	    "bucket = \"qos/a b\";", 0600);
}
END_TEST

/*
 * start() checks the secret without reading it: a missing or empty file,
 * or a credential that is not there, is a start error; what is in it is
 * for check() (--check-config) and the shipper to read.
 */
START_TEST(test_influx_start_checks_secrets_check_reads_them)
{
	struct cfg	*c;
	sd_event	*ev;
	void		*sink;
	char		 settings[1024], path[256];
	int		 status;

	ck_assert_int_ge(sd_event_new(&ev), 0);
	snprintf(settings, sizeof(settings), "api = 2; url = "
	    "\"http://127.0.0.1:9\"; org = \"o\";\n    bucket = \"b\"; "
	    "token_file = \"%s/token\";", tmp);
	ck_assert_ptr_nonnull(c = load(settings, 0644));
	sink = sink_influxdb_type.start(c->sinks[0].state, "influx", ev, err,
	    sizeof(err));
	ck_assert_ptr_null(sink);
	ck_assert_msg(strstr(err, "sink influx: token_file: cannot open \"")
	    != NULL && strstr(err, "No such file") != NULL, "%s", err);
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, conf, strlen(conf)) == 0 &&
	    strstr(err, ":5: sinks.influx.token_file: cannot open") != NULL,
	    "%s", err);
	snprintf(path, sizeof(path), "%s/token", tmp);
	put_secret(path, "", 0, 0600);
	ck_assert_ptr_null(sink_influxdb_type.start(c->sinks[0].state,
	    "influx", ev, err, sizeof(err)));
	ck_assert_msg(strstr(err, "is empty") != NULL, "%s", err);
	/* A CR LF in it: start() does not read it, check() does. */
	put_secret(path, "s3cr3t\r\nX-Evil: 1\n", 18, 0600);
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":5: sinks.influx.token_file: \"") != NULL &&
	    strstr(err, "holds a control character (CR) at byte 7") != NULL,
	    "%s", err);
	ck_assert(strstr(err, "s3cr3t") == NULL);
	sink = sink_influxdb_type.start(c->sinks[0].state, "influx", ev, err,
	    sizeof(err));
	ck_assert_msg(sink != NULL, "%s", err);
	sink_influxdb_type.stop(sink);
	cfg_free(c);

	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_ptr_nonnull(c = load("api = 2; url = \"http://127.0.0.1:9\";"
	    " org = \"o\"; bucket = \"b\"; token_credential = \"tok\";",
	    0644));
	ck_assert_ptr_null(sink_influxdb_type.start(c->sinks[0].state,
	    "influx", ev, err, sizeof(err)));
	ck_assert_msg(strstr(err, "sink influx: token_credential \"tok\": "
	    "$CREDENTIALS_DIRECTORY is not set") != NULL &&
	    strstr(err, "LoadCredential=tok (the secret in "
	    "/etc/credstore/tok") != NULL, "%s", err);
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":4: sinks.influx.token_credential: "
	    "$CREDENTIALS_DIRECTORY is not set") != NULL, "%s", err);
	setenv("CREDENTIALS_DIRECTORY", tmp, 1);
	snprintf(path, sizeof(path), "%s/tok", tmp);
	put_secret(path, "abc\n", 4, 0400);
	ck_assert_int_eq(sink_influxdb_type.check(c->sinks[0].state, "influx",
	    err, sizeof(err)), 0);
	sink = sink_influxdb_type.start(c->sinks[0].state, "influx", ev, err,
	    sizeof(err));
	ck_assert_msg(sink != NULL, "%s", err);
	/* The spool is in place under state_dir. */
	snprintf(path, sizeof(path), "%s/state/spool/influx/ready", tmp);
	ck_assert_int_eq(access(path, F_OK), 0);
	sink_influxdb_type.stop(sink);
	/* stop() reaped the writer and the shipper: no child is left. */
	ck_assert_int_eq(wait(&status), -1);
	ck_assert_int_eq(errno, ECHILD);
	unsetenv("CREDENTIALS_DIRECTORY");
	cfg_free(c);
	sd_event_unref(ev);
}
END_TEST

/* A spool under state_dir makes the daemon lock state_dir; one elsewhere not. */
START_TEST(test_influx_spool_in_state_dir_is_noted)
{
	struct cfg	*c;
	char		 settings[512];

	ck_assert_ptr_nonnull(c = load("url = \"http://h\"; database = "
	    "\"q\";", 0600));
	ck_assert_int_eq(c->state_used, 1);
	cfg_free(c);
	snprintf(settings, sizeof(settings), "url = \"http://h\"; database = "
	    "\"q\"; spool_dir = \"%s/state//spool/x/\";", tmp);
	ck_assert_ptr_nonnull(c = load(settings, 0600));
	ck_assert_int_eq(c->state_used, 1);
	cfg_free(c);
	snprintf(settings, sizeof(settings), "url = \"http://h\"; database = "
	    "\"q\"; spool_dir = \"%s/state2/spool\";", tmp);
	ck_assert_ptr_nonnull(c = load(settings, 0600));
	ck_assert_int_eq(c->state_used, 0);
	cfg_free(c);
}
END_TEST

START_TEST(test_influx_same_tells_changes)
{
	struct cfg	*a, *b;

	ck_assert_ptr_nonnull(a = load("url = \"http://h\"; database = "
	    "\"q\";", 0644));
	ck_assert_ptr_nonnull(b = load("url = \"http://h\"; database = "
	    "\"q\";", 0644));
	ck_assert(sink_influxdb_type.same(a->sinks[0].state,
	    b->sinks[0].state));
	cfg_free(b);
	ck_assert_ptr_nonnull(b = load("url = \"http://h\"; database = "
	    "\"q\"; batch_size = 10;", 0644));
	ck_assert(!sink_influxdb_type.same(a->sinks[0].state,
	    b->sinks[0].state));
	cfg_free(a);
	cfg_free(b);
}
END_TEST

START_TEST(test_influx_classify_statuses)
{
	static const struct {
		long			status;
		enum influx_verdict	v;
	} t[] = {
		{ 200, INFLUX_OK }, { 204, INFLUX_OK },
		{ 400, INFLUX_REJECT }, { 422, INFLUX_REJECT },
		{ 413, INFLUX_SPLIT },
		{ 401, INFLUX_FIX }, { 403, INFLUX_FIX }, { 404, INFLUX_FIX },
		{ 429, INFLUX_WAIT }, { 503, INFLUX_WAIT },
		{ 500, INFLUX_RETRY }, { 502, INFLUX_RETRY },
		{ 504, INFLUX_RETRY }, { 0, INFLUX_RETRY },
		{ 301, INFLUX_RETRY }, { 408, INFLUX_RETRY },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(influx_classify(t[i].status) == t[i].v,
		    "status %ld: %s", t[i].status,
		    influx_verdict_str(influx_classify(t[i].status)));
}
END_TEST

START_TEST(test_influx_write_urls)
{
	struct shipper_conf	c;
	char			*u;

	memset(&c, 0, sizeof(c));
	c.api = INFLUX_API_V1;
	c.database = (char *)"qos db";
	u = influx_write_url(&c, "http://h:8086/");
	ck_assert_str_eq(u, "http://h:8086/write?db=qos%20db&precision=ns");
	free(u);
	c.rp = (char *)"a&b";
	u = influx_write_url(&c, "http://h:8086/influx");
	ck_assert_str_eq(u, "http://h:8086/influx/write?db=qos%20db&rp=a%26b"
	    "&precision=ns");
	free(u);
	c.api = INFLUX_API_V2;
	c.org = (char *)"my org";
	c.bucket = (char *)"qos/autogen";
	u = influx_write_url(&c, "https://eu.cloud");
	ck_assert_str_eq(u, "https://eu.cloud/api/v2/write?org=my%20org&"
	    "bucket=qos%2Fautogen&precision=ns");
	free(u);
}
END_TEST

/* A fake InfluxDB for influx_deliver(). */
struct fake {
	int		 mode;		/* 0: refuse BAD (v2), 1: max lines */
	unsigned long	 max;
	int		 fail_first;	/* RETRY this many times */
	int		 give_up;	/* wait() returns -1 */
	char		 sent[8192];
	char		 rejected[1024];
	unsigned long	 requests, biggest, waits;
	unsigned int	 attempts[8];
};

static enum influx_verdict
fake_post(void *arg, const char *body, size_t len, double *ra)
{
	struct fake	*f = arg;
	unsigned long	 n = 0;
	size_t		 i;

	(void)ra;
	f->requests++;
	if (f->fail_first > 0) {
		f->fail_first--;
		return INFLUX_RETRY;
	}
	for (i = 0; i < len; i++)
		n += body[i] == '\n';
	ck_assert(len > 0 && body[len - 1] == '\n');
	if (f->mode == 0 && memmem(body, len, "BAD", 3) != NULL)
		return INFLUX_REJECT;
	if (f->mode == 1 && n > f->max)
		return INFLUX_SPLIT;
	if (n > f->biggest)
		f->biggest = n;
	strncat(f->sent, body, len);
	return INFLUX_OK;
}

static void
fake_reject(void *arg, const char *line, size_t len)
{
	struct fake	*f = arg;

	strncat(f->rejected, line, len);
}

static int
fake_wait(void *arg, enum influx_verdict v, unsigned int attempt, double ra)
{
	struct fake	*f = arg;

	(void)v;
	(void)ra;
	if (f->waits < 8)
		f->attempts[f->waits] = attempt;
	f->waits++;
	return f->give_up ? -1 : 0;
}

static const struct influx_ops fake_ops = { fake_post, fake_reject,
    fake_wait };

static const char LINES16[] =
    "m v=1\nm v=2\nm v=3\nm,t=BAD v=4\nm v=5\nm v=6\nm v=7\nm v=8\n"
    "m v=9\nm v=10\nm v=11\nm,t=BAD v=12\nm v=13\nm v=14\nm v=15\n"
    "m v=16\n";

START_TEST(test_influx_split_delivers_every_good_line)
{
	struct fake		f;
	struct influx_tally	t;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, LINES16,
	    strlen(LINES16), 5000, 1 << 20, &t), 0);
	ck_assert_str_eq(f.sent, "m v=1\nm v=2\nm v=3\nm v=5\nm v=6\nm v=7\n"
	    "m v=8\nm v=9\nm v=10\nm v=11\nm v=13\nm v=14\nm v=15\nm v=16\n");
	ck_assert_str_eq(f.rejected, "m,t=BAD v=4\nm,t=BAD v=12\n");
	ck_assert_uint_eq(t.sent, 14);
	ck_assert_uint_eq(t.rejected, 2);
	ck_assert_uint_eq(t.retries, 0);
	/* A binary split: at most 2 requests per level per bad line. */
	ck_assert_uint_le(f.requests, 1 + 2 * 2 * 4);
	ck_assert_uint_eq(t.requests, f.requests);
}
END_TEST

START_TEST(test_influx_413_splits_until_it_fits)
{
	struct fake		f;
	struct influx_tally	t;
	const char		*nobad = "a v=1\nb v=2\nc v=3\nd v=4\ne v=5\n"
	    "f v=6\ng v=7\n";

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.mode = 1;
	f.max = 2;
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, nobad, strlen(nobad),
	    5000, 1 << 20, &t), 0);
	ck_assert_str_eq(f.sent, nobad);
	ck_assert_uint_eq(t.sent, 7);
	ck_assert_uint_eq(t.rejected, 0);
	ck_assert_uint_le(f.biggest, 2);
	/* One line too large on its own is refused. */
	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.mode = 1;
	f.max = 0;
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "a v=1\n", 6, 10,
	    1 << 20, &t), 0);
	ck_assert_str_eq(f.rejected, "a v=1\n");
}
END_TEST

START_TEST(test_influx_batches_by_lines_and_bytes)
{
	struct fake		f;
	struct influx_tally	t;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.mode = 1;
	f.max = 1000;
	/* 16 lines, 5 a request: 4 requests. */
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "a\nb\nc\nd\ne\nf\n"
	    "g\nh\ni\nj\nk\nl\nm\nn\no\np\n", 32, 5, 1 << 20, &t), 0);
	ck_assert_uint_eq(t.requests, 4);
	ck_assert_uint_eq(f.biggest, 5);
	/* 12 bytes a request: 3 lines of 4 bytes. */
	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.mode = 1;
	f.max = 1000;
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "aaa\nbbb\nccc\nddd\n"
	    "eee\n", 20, 100, 12, &t), 0);
	ck_assert_uint_eq(t.requests, 2);
	ck_assert_uint_eq(f.biggest, 3);
	ck_assert_str_eq(f.sent, "aaa\nbbb\nccc\nddd\neee\n");
	/* A torn last line is not sent; nothing at all is no request. */
	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "a v=1\nb v=", 10, 10,
	    1 << 20, &t), 0);
	ck_assert_str_eq(f.sent, "a v=1\n");
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "torn", 4, 10, 1 << 20,
	    &t), 0);
	ck_assert_uint_eq(t.requests, 1);
}
END_TEST

START_TEST(test_influx_retries_until_delivered_or_given_up)
{
	struct fake		f;
	struct influx_tally	t;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.fail_first = 3;
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "a v=1\n", 6, 10,
	    1 << 20, &t), 0);
	ck_assert_uint_eq(t.retries, 3);
	ck_assert_uint_eq(f.waits, 3);
	ck_assert_uint_eq(f.attempts[0], 0);
	ck_assert_uint_eq(f.attempts[2], 2);
	ck_assert_uint_eq(t.sent, 1);
	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	f.fail_first = 1;
	f.give_up = 1;
	ck_assert_int_eq(influx_deliver(&fake_ops, &f, "a v=1\n", 6, 10,
	    1 << 20, &t), -1);
	ck_assert_uint_eq(t.sent, 0);
}
END_TEST

/* inflate (zlib, another implementation) a gzip body into out; its length. */
static size_t
gunzip(const struct buf *gz, char *out, size_t cap)
{
	z_stream	z;
	int		r;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz->data;
	z.avail_in = (uInt)gz->len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	r = inflate(&z, Z_FINISH);
	ck_assert_msg(r == Z_STREAM_END, "inflate: %d (%s)", r,
	    z.msg != NULL ? z.msg : "");
	ck_assert_uint_eq(z.avail_in, 0);
	inflateEnd(&z);
	return (size_t)z.total_out;
}

START_TEST(test_influx_gzip_bodies_inflate_to_the_lines)
{
	struct buf	 gz;
	char		*lines, *back;
	size_t		 n = 0, cap = 1 << 20, i;

	lines = malloc(cap);
	back = malloc(cap + 1);
	ck_assert_ptr_nonnull(lines);
	ck_assert_ptr_nonnull(back);
	for (i = 0; n + 128 < cap; i++)
		n += (size_t)snprintf(lines + n, cap - n, "m,host=h%zu v=%zui,"
		    "x=%zu.5 1600000000%09zu\n", i % 100, i, i % 1000, i);
	buf_init(&gz, 0);
	ck_assert_int_eq(batch_gzip(&gz, lines, n), 0);
	ck_assert_uint_gt(gz.len, 18);
	ck_assert_uint_lt(gz.len, n / 4);
	/* gzip: its magic, deflate. */
	ck_assert_int_eq((unsigned char)gz.data[0], 0x1f);
	ck_assert_int_eq((unsigned char)gz.data[1], 0x8b);
	ck_assert_int_eq(gz.data[2], 8);
	ck_assert_uint_eq(gunzip(&gz, back, cap + 1), n);
	ck_assert_int_eq(memcmp(back, lines, n), 0);
	/* A smaller body replaces what the buffer held. */
	ck_assert_int_eq(batch_gzip(&gz, "m v=1i 1\n", 9), 0);
	ck_assert_uint_eq(gunzip(&gz, back, cap + 1), 9);
	ck_assert_int_eq(memcmp(back, "m v=1i 1\n", 9), 0);
	/* And an empty one is a valid, empty gzip member. */
	ck_assert_int_eq(batch_gzip(&gz, "", 0), 0);
	ck_assert_uint_eq(gunzip(&gz, back, cap + 1), 0);
	buf_cleanup(&gz);
	free(lines);
	free(back);
}
END_TEST

static Suite *
influxdb_suite(void)
{
	Suite	*s = suite_create("influxdb");
	TCase	*tc;

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_influx_accepts_v1_and_v2_settings);
	tcase_add_test(tc, test_influx_refuses_bad_settings_with_file_line_setting);
	tcase_add_test(tc, test_influx_refuses_inline_secrets_and_ones_others_can_read);
	tcase_add_test(tc, test_influx_refuses_control_characters_in_names);
	tcase_add_test(tc, test_influx_start_checks_secrets_check_reads_them);
	tcase_add_test(tc, test_influx_same_tells_changes);
	tcase_add_test(tc, test_influx_spool_in_state_dir_is_noted);
	suite_add_tcase(s, tc);
	tc = tcase_create("delivery");
	tcase_add_test(tc, test_influx_classify_statuses);
	tcase_add_test(tc, test_influx_write_urls);
	tcase_add_test(tc, test_influx_split_delivers_every_good_line);
	tcase_add_test(tc, test_influx_413_splits_until_it_fits);
	tcase_add_test(tc, test_influx_batches_by_lines_and_bytes);
	tcase_add_test(tc, test_influx_retries_until_delivered_or_given_up);
	tcase_add_test(tc, test_influx_gzip_bodies_inflate_to_the_lines);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(influxdb)
