/*
 * unit_filter: run a command under the system call filter qosd.service
 * puts on it, so tests and the bench see what a daemon under the unit
 * sees without booting systemd:
 *
 *	SystemCallFilter=~@resources ...	the set, as
 *		`systemd-analyze syscall-filter @resources` lists it, fails
 *		with EPERM (SystemCallErrorNumber=EPERM) ...
 *	SystemCallFilter=sched_setscheduler setpriority
 *		... but for these two, which the unit allows again, and
 *	RestrictRealtime=yes
 *		sched_setscheduler() to any policy but SCHED_OTHER, SCHED_BATCH
 *		or SCHED_IDLE fails with EPERM.
 *
 * The filter is inherited by everything the command forks, as under the
 * unit.
 *
 *	unit_filter [-a] command [argument ...]
 *	unit_filter -l
 *
 * -a denies all of @resources (a unit that does not allow the two again);
 * -l lists the calls denied by default, one per line.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH	AUDIT_ARCH_AARCH64
#else
#error "unit_filter: no audit architecture for this machine"
#endif

#define CALL(n)	{ SYS_##n, #n }

static const struct call {
	int		 nr;
	const char	*name;
} resources[] = {
	CALL(ioprio_set), CALL(mbind), CALL(migrate_pages), CALL(move_pages),
#ifdef SYS_nice
	CALL(nice),
#endif
	CALL(sched_setaffinity), CALL(sched_setattr), CALL(sched_setparam),
	CALL(sched_setscheduler), CALL(set_mempolicy),
#ifdef SYS_set_mempolicy_home_node
	CALL(set_mempolicy_home_node),
#endif
	CALL(setpriority), CALL(setrlimit),
};
#define NRES	(sizeof(resources) / sizeof(resources[0]))

/* Allowed again by the unit, unless -a. */
static int
allowed_again(int nr)
{
	return nr == SYS_sched_setscheduler || nr == SYS_setpriority;
}

#define STMT(c, k)	((struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, t, f) ((struct sock_filter)BPF_JUMP((c), (k), (t), (f)))
#define DENY		STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
#define ALLOW		STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int
main(int argc, char *argv[])
{
	struct sock_filter	f[4 + 2 * NRES + 7];
	struct sock_fprog	prog;
	size_t			i, n = 0;
	int			all = 0;

	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		for (i = 0; i < NRES; i++)
			if (!allowed_again(resources[i].nr))
				printf("%s\n", resources[i].name);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "-a") == 0) {
		all = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: unit_filter [-a] command [argument ...]"
		    "\n       unit_filter -l\n");
		return 2;
	}
	/* Another architecture's calls: killed, as systemd does. */
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	f[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < NRES; i++) {
		if (!all && allowed_again(resources[i].nr))
			continue;
		f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned int)resources[i].nr, 0, 1);
		f[n++] = DENY;
	}
	/* RestrictRealtime=yes: no policy but these (the low word). */
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_setscheduler, 0, 5);
	f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, args[1]));
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0 /* SCHED_OTHER */, 3, 0);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3 /* SCHED_BATCH */, 2, 0);
	f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 5 /* SCHED_IDLE */, 1, 0);
	f[n++] = DENY;
	f[n++] = ALLOW;
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		fprintf(stderr, "unit_filter: seccomp: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "unit_filter: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
