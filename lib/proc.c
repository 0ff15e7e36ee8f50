/*
 * proc.c: the start-up of every process qosd forks (see proc.h).  The
 * Linux-only calls of it (prctl, capset, close_range) live here.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hide.h"
#include "lib/log.h"
#include "lib/prio.h"
#include "lib/proc.h"


/* Only the daemon talks to systemd. */
static const char *const daemon_env[] = { "NOTIFY_SOCKET", "WATCHDOG_PID",
	"WATCHDOG_USEC", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", NULL };

int
proc_drop_caps(int keep_net_raw)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];
	uint32_t			 keep = 0;

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	if (keep_net_raw && (data[0].permitted & (1U << CAP_NET_RAW)))
		keep = 1U << CAP_NET_RAW;
	/* Nothing to hand on through an exec(2). */
	if (!keep && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0,
	    0) == -1 && errno != EINVAL)
		return -1;
	if (data[0].permitted == keep && data[1].permitted == 0 &&
	    data[0].effective == keep)
		return 0;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = keep;
	return syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0;
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every descriptor from 3 up but those in the profile. */
static void
close_others(const struct proc_profile *p)
{
	int	keep[PROC_MAX_FDS], n = 0, i, from = 3;

	for (i = 0; i < PROC_MAX_FDS && p->fds[i] != -1; i++)
		keep[n++] = p->fds[i];
	qsort(keep, (size_t)n, sizeof(int), cmp_int);
	for (i = 0; i < n; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_range((unsigned int)from,
			    (unsigned int)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range((unsigned int)from, ~0U, 0);
}

static void
set_signals(const struct proc_profile *p)
{
	sigset_t	none;
	int		sig;

	/* Every handler back to its default, a sanitizer's too. */
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	for (sig = 1; sig < (int)(sizeof(p->ignore) * 8) && sig < NSIG; sig++)
		if (p->ignore & (1UL << sig))
			signal(sig, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
set_stdio(const struct proc_profile *p)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	dup2(fd, STDIN_FILENO);
	if (p->flags & PROC_F_NULL_STDOUT)
		dup2(fd, STDOUT_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

static void
scrub_env(const struct proc_profile *p)
{
	const char *const	*e;
	const char		*creds = getenv("CREDENTIALS_DIRECTORY");

	for (e = daemon_env; *e != NULL; e++)
		unsetenv(*e);
	if ((p->flags & PROC_F_HIDE_CREDS) && creds != NULL &&
	    hide_dir(creds) == -1)
		log_warning("%s: cannot hide %s from itself and its children "
		    "(%m): they could read the service's credentials",
		    p->name, creds);
	if (!(p->flags & PROC_F_CREDENTIALS))
		unsetenv("CREDENTIALS_DIRECTORY");
}

int
proc_enter(const struct proc_profile *p, pid_t parent)
{
	struct rlimit	rl = { 0, 0 };

	set_signals(p);
	if (p->deathsig != 0) {
		prctl(PR_SET_PDEATHSIG, p->deathsig, 0, 0, 0);
		if (getppid() != parent)
			_exit(0);
	}
	if (p->flags & PROC_F_PGRP)
		setpgid(0, 0);
	prctl(PR_SET_NAME, p->name, 0, 0, 0);
	if (!(p->flags & PROC_F_KEEP_SCHED))
		prio_normal();
	if (set_stdio(p) == -1)
		return -1;
	close_others(p);
	setrlimit(RLIMIT_CORE, &rl);
	scrub_env(p);
	if (proc_drop_caps(p->flags & PROC_F_NET_RAW) == -1) {
		log_err("%s: cannot drop its capabilities (%m): not started; "
		    "a system call filter that denies capset(2) must allow it",
		    p->name);
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}

pid_t
proc_start(const struct proc_profile *p, int (*fn)(void *), void *arg)
{
	sigset_t	 all, old;
	pid_t		 parent = getpid(), pid;
	int		 saved;

	/* No handler of the parent's may run in the child before reset. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == 0) {
		if (proc_enter(p, parent) == -1)
			_exit(127);
		_exit(fn(arg));
	}
	saved = errno;
	if (pid > 0 && (p->flags & PROC_F_PGRP))
		/* Both sides: kill(-pid) works at once. */
		setpgid(pid, pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}
