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

struct ship_args {
	const struct shipper_conf *c;
	const char		*name;
	const char		*spooldir;
	int			 msgfd;
	int			 verbose;
};

/* In the new process: load shipper.so and hand over to it. */
static int
shipper_proc(void *arg)
{
	struct ship_args	*a = arg;
	void			(*main_fn)(const struct shipper_conf *,
				    const char *, const char *, int, int);
	void			*h;

	if ((h = dlopen(shipper_so_path(), RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_err("sink %s: cannot load the shipper: %s", a->name,
		    dlerror());
		return 127;
	}
	*(void **)&main_fn = dlsym(h, "qosd_shipper_main");
	if (main_fn == NULL) {
		log_err("sink %s: %s has no qosd_shipper_main", a->name,
		    shipper_so_path());
		return 127;
	}
	main_fn(a->c, a->name, a->spooldir, a->msgfd, a->verbose);
	return 0;
}

pid_t
shipper_start(const struct shipper_conf *c, const char *name,
    const char *spooldir, int *rfd)
{
	struct proc_profile	 prof = { "qosd-shipper", SIGTERM,
				    PROC_F_NULL_STDOUT, 1UL << SIGPIPE,
				    { -1, -1, -1, -1, -1, -1, -1, -1 } };
	struct ship_args	 a = { c, name, spooldir, -1,
				    log_getverbose() };
	pid_t			 pid;
	int			 p[2];

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_err("sink %s: pipe: %m", name);
		return -1;
	}
	prof.fds[0] = a.msgfd = p[1];
	pid = proc_start(&prof, shipper_proc, &a);
	close(p[1]);
	if (pid == -1) {
		log_err("sink %s: cannot fork the shipper: %m", name);
		close(p[0]);
		return -1;
	}
	*rfd = p[0];
	return pid;
}

void
shipper_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
