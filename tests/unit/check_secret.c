/*
 * check_secret.c: lib/secret, the one reader of a secret: the first line
 * of a regular file others cannot read, not empty, no control character
 * (CR, NUL, TAB, ESC, DEL...), at most SECRET_MAX bytes; the check that
 * does not read; where a credential is.  Messages never quote a secret.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "lib/secret.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static char	path[256];
static char	why[1024];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_secret.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/s", tmp);
}

static void
teardown(void)
{
	char	cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static void
put(const void *content, size_t len, mode_t mode)
{
	int	fd;

	unlink(path);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode),
	    -1);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* secret_read() must fail saying want, and never quote "s3cr3t". */
static void
refused(const void *content, size_t len, mode_t mode, const char *want)
{
	char	*s = (char *)"unset";

	put(content, len, mode);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), -1);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(why, want) != NULL, "want %s, got %s", want,
	    why);
	ck_assert_msg(strstr(why, "s3cr3t") == NULL, "quoted: %s", why);
}

START_TEST(test_secret_is_the_first_line)
{
	char	*s;

	put("s3cr3t\nsecond line\n", 19, 0600);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), 0);
	ck_assert_str_eq(s, "s3cr3t");
	secret_free(s);
	put("no newline at all", 17, 0640);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), 0);
	ck_assert_str_eq(s, "no newline at all");
	secret_free(s);
	/* UTF-8 and spaces are no control characters. */
	put("pässwörd with spaces\n", 23, 0400);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), 0);
	ck_assert_str_eq(s, "pässwörd with spaces");
	secret_free(s);
	secret_free(NULL);
}
END_TEST

START_TEST(test_secret_refuses_control_characters)
{
	refused("s3cr3t\r\nX-Evil: 1\n", 18, 0600,
	    "holds a control character (CR) at byte 7 of its first line");
	refused("s3cr3t\0tail\n", 12, 0600, "(NUL) at byte 7");
	refused("s3\tcr3t\n", 8, 0600, "(TAB) at byte 3");
	refused("\x1b[2Js3cr3t\n", 11, 0600, "(ESC) at byte 1");
	refused("s3cr3t\x7f\n", 8, 0600, "(DEL) at byte 7");
	refused("s3cr3t\x01\n", 8, 0600, "(0x01) at byte 7");
	refused("s3cr3t\r", 7, 0600, "(CR) at byte 7");
}
END_TEST

START_TEST(test_secret_refuses_empty_long_and_readable_files)
{
	char	big[SECRET_MAX + 2], *s;

	refused("", 0, 0600, "is empty");
	refused("\ns3cr3t\n", 8, 0600, "the first line of");
	refused("s3cr3t\n", 7, 0644, "may be read by others (mode 0644): "
	    "chmod o-r it");
	memset(big, 'x', sizeof(big));
	refused(big, SECRET_MAX + 1, 0600, "is longer than 4096 bytes");
	/* Exactly SECRET_MAX bytes, then a newline: fine. */
	big[SECRET_MAX] = '\n';
	put(big, SECRET_MAX + 2, 0600);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), 0);
	ck_assert_uint_eq(strlen(s), SECRET_MAX);
	secret_free(s);
	ck_assert_int_eq(secret_read(tmp, &s, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "is not a regular file") != NULL, "%s",
	    why);
	unlink(path);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "cannot open \"") != NULL &&
	    strstr(why, "No such file") != NULL, "%s", why);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(secret_read(path, &s, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "is not a regular file") != NULL, "%s",
	    why);
}
END_TEST

/* The daemon's check opens, never reads: what is in it is not its job. */
START_TEST(test_secret_check_does_not_read)
{
	put("s3cr3t\r\nX-Evil: 1\n", 18, 0600);
	ck_assert_int_eq(secret_check(path, why, sizeof(why)), 0);
	put("", 0, 0600);
	ck_assert_int_eq(secret_check(path, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "is empty") != NULL, "%s", why);
	put("s3cr3t\n", 7, 0604);
	ck_assert_int_eq(secret_check(path, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "may be read by others") != NULL, "%s",
	    why);
	/* Unreadable (even root cannot: no file). */
	unlink(path);
	ck_assert_int_eq(secret_check(path, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "cannot open") != NULL, "%s", why);
}
END_TEST

START_TEST(test_secret_paths_of_files_and_credentials)
{
	char	p[256];

	ck_assert_int_eq(secret_path(SECRET_FILE, "/etc/qosd/t", p, sizeof(p),
	    why, sizeof(why)), 0);
	ck_assert_str_eq(p, "/etc/qosd/t");
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_int_eq(secret_path(SECRET_CRED, "influxdb-token", p,
	    sizeof(p), why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "$CREDENTIALS_DIRECTORY is not set") !=
	    NULL && strstr(why, "LoadCredential=influxdb-token (the secret "
	    "in /etc/credstore/influxdb-token") != NULL, "%s", why);
	ck_assert_msg(strstr(why, "LoadCredential=influxdb-token:") == NULL,
	    "a path in LoadCredential=: %s", why);
	setenv("CREDENTIALS_DIRECTORY", "/run/credentials/qosd.service", 1);
	ck_assert_int_eq(secret_path(SECRET_CRED, "influxdb-token", p,
	    sizeof(p), why, sizeof(why)), 0);
	ck_assert_str_eq(p, "/run/credentials/qosd.service/influxdb-token");
	ck_assert_int_eq(secret_path(SECRET_CRED, "influxdb-token", p, 16,
	    why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, "too long") != NULL, "%s", why);
	unsetenv("CREDENTIALS_DIRECTORY");
}
END_TEST

static Suite *
secret_suite(void)
{
	Suite	*s = suite_create("secret");
	TCase	*tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_secret_is_the_first_line);
	tcase_add_test(tc, test_secret_refuses_control_characters);
	tcase_add_test(tc, test_secret_refuses_empty_long_and_readable_files);
	tcase_add_test(tc, test_secret_check_does_not_read);
	tcase_add_test(tc, test_secret_paths_of_files_and_credentials);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(secret)
