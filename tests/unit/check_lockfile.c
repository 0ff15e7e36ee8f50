/*
 * check_lockfile.c: lib/lockfile, one process (and the children it gives
 * the descriptor to) per directory: a second taker fails naming the
 * holder's pid; the lock outlives its taker while a child keeps the
 * descriptor (a daemon killed with SIGKILL, its writer finishing), and a
 * new taker waits for that child; the lock file is never a symlink or
 * another user's file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "lib/lockfile.h"
#include "tests/unit/suites.h"

static char	tmp[64];
static int	dfd = -1;
static char	why[512];

static void
setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_lockfile.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_ne(dfd = open(tmp, O_RDONLY | O_DIRECTORY), -1);
}

static void
teardown(void)
{
	char	cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
}

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In a child: try to take the lock; its exit says what happened. */
static int
try_in_child(int wait_ms, pid_t want_holder)
{
	pid_t	pid, holder;
	int	st, fd;

	if ((pid = fork()) == 0) {
		fd = lockfile_take(dfd, "lock", wait_ms, &holder, why,
		    sizeof(why));
		if (fd != -1)
			_exit(0);
		if (errno == EWOULDBLOCK && holder == want_holder &&
		    strstr(why, "in use by") != NULL)
			_exit(1);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_lockfile_one_taker_names_the_holder)
{
	char	buf[32];
	pid_t	holder;
	int	fd, r;

	fd = lockfile_take(dfd, "lock", 0, &holder, why, sizeof(why));
	ck_assert_msg(fd != -1, "%s", why);
	ck_assert_int_eq(holder, 0);
	ck_assert_int_gt(r = (int)pread(fd, buf, sizeof(buf) - 1, 0), 0);
	buf[r] = '\0';
	ck_assert_int_eq(atol(buf), getpid());
	ck_assert_int_eq(try_in_child(0, getpid()), 1);
	/* Alive: no waiting even if asked to. */
	ck_assert_int_eq(try_in_child(2000, getpid()), 1);
	close(fd);
	ck_assert_int_eq(try_in_child(0, 0), 0);
}
END_TEST

/*
 * The taker forks a child that keeps the descriptor and exits at once
 * (SIGKILLed, say): the lock stays while the child lives; a new taker
 * fails at once with wait_ms 0, and with a wait gets it once the child
 * is gone.
 */
START_TEST(test_lockfile_outlives_its_taker_while_a_child_keeps_it)
{
	pid_t	taker, holder;
	int	p[2], st, fd;
	char	c;
	double	t0;

	ck_assert_int_eq(pipe(p), 0);
	if ((taker = fork()) == 0) {
		if ((fd = lockfile_take(dfd, "lock", 0, &holder, why,
		    sizeof(why))) == -1)
			_exit(1);
		if (fork() == 0) {
			/* The writer: finishes 1 s after its parent died. */
			close(p[0]);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			poll(NULL, 0, 1000);
			_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(waitpid(taker, &st, 0), taker);
	ck_assert_int_eq(st, 0);
	ck_assert_int_eq(try_in_child(0, taker), 1);
	t0 = now_s();
	fd = lockfile_take(dfd, "lock", 10000, &holder, why, sizeof(why));
	ck_assert_msg(fd != -1, "%s", why);
	ck_assert_msg(now_s() - t0 > 0.5, "did not wait: %.3f s",
	    now_s() - t0);
	close(fd);
	close(p[0]);
}
END_TEST

START_TEST(test_lockfile_is_never_a_symlink_or_anothers)
{
	char	path[128];
	pid_t	holder;
	int	fd;

	snprintf(path, sizeof(path), "%s/lock", tmp);
	ck_assert_int_eq(symlink("/etc/passwd", path), 0);
	ck_assert_int_eq(lockfile_take(dfd, "lock", 0, &holder, why,
	    sizeof(why)), -1);
	ck_assert_msg(strstr(why, "a symbolic link, not followed") != NULL,
	    "%s", why);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(lockfile_take(dfd, "lock", 0, &holder, why,
	    sizeof(why)), -1);
	ck_assert_msg(strstr(why, "is not a regular file") != NULL, "%s",
	    why);
	ck_assert_int_eq(unlink(path), 0);
	if (geteuid() == 0) {
		ck_assert_int_ne(fd = open(path, O_CREAT | O_WRONLY, 0600),
		    -1);
		ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
		close(fd);
		ck_assert_int_eq(lockfile_take(dfd, "lock", 0, &holder, why,
		    sizeof(why)), -1);
		ck_assert_msg(strstr(why, "owned by uid 0") != NULL, "%s",
		    why);
	}
}
END_TEST

static Suite *
lockfile_suite(void)
{
	Suite	*s = suite_create("lockfile");
	TCase	*tc;

	tc = tcase_create("lock");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_lockfile_one_taker_names_the_holder);
	tcase_add_test(tc,
	    test_lockfile_outlives_its_taker_while_a_child_keeps_it);
	tcase_add_test(tc, test_lockfile_is_never_a_symlink_or_anothers);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(lockfile)
