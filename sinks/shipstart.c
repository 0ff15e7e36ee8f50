/*
 * shipstart.c: forking a shipper and loading its code (shipper.so) in the
 * new process only.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/proc.h"
#include "sinks/shipper/shipper.h"
#include "sinks/shipstart.h"

const char *
shipper_so_path(void)
{
	static char	 path[PATH_MAX];
	char		 exe[PATH_MAX], *slash;
	const char	*env;
	ssize_t		 n;

	if ((env = getenv("QOSD_SHIPPER")) != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, sizeof(path),
			    "%s/sinks/shipper.so", exe) < sizeof(path) &&
			    access(path, R_OK) == 0)
				return path;
		}
	}
	return SHIPPER_SO;
}

/* In the new process: load shipper.so and hand over to it. */
static void __attribute__((noreturn))
shipper_exec(const struct shipper_conf *c, const char *name,
    const char *spooldir)
{
	void	(*main_fn)(const struct shipper_conf *, const char *,
		    const char *, int);
	void	*h;

	if ((h = dlopen(shipper_so_path(), RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_err("sink %s: cannot load the shipper: %s", name,
		    dlerror());
		_exit(127);
	}
	*(void **)&main_fn = dlsym(h, "qosd_shipper_main");
	if (main_fn == NULL) {
		log_err("sink %s: %s has no qosd_shipper_main", name,
		    shipper_so_path());
		_exit(127);
	}
	main_fn(c, name, spooldir, log_getverbose());
	_exit(0);
}

pid_t
shipper_start(const struct shipper_conf *c, const char *name,
    const char *spooldir, int *rfd)
{
	pid_t		 pid;
	sigset_t	 all, old;
	int		 sig, nfd, p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_err("sink %s: pipe: %m", name);
		return -1;
	}
	/* No handler of the parent's may run in the child before reset. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == -1) {
		log_err("sink %s: cannot fork the shipper: %m", name);
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(p[1]);
		*rfd = p[0];
		return pid;
	}
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if (getppid() == 1)
		_exit(0);
	/* Shipping is no deadline: not real-time, not at Nice=-5. */
	proc_normal();
	if (p[1] != SHIPPER_MSG_FD && dup3(p[1], SHIPPER_MSG_FD,
	    O_CLOEXEC) == -1)
		_exit(127);
	if ((nfd = open("/dev/null", O_RDWR)) == -1)
		_exit(127);
	dup2(nfd, STDIN_FILENO);
	dup2(nfd, STDOUT_FILENO);
	close(nfd);
	close_range(SHIPPER_MSG_FD + 1, ~0U, 0);
	shipper_exec(c, name, spooldir);
}

void
shipper_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
