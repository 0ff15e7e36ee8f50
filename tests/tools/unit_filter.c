/*
 * unit_filter: run a command with the system calls of systemd's
 * @resources set failing with EPERM, as qosd.service's
 * SystemCallFilter=~@resources and SystemCallErrorNumber=EPERM make them
 * (the set as `systemd-analyze syscall-filter @resources` lists it).  The
 * filter is inherited by everything the command forks, as under the unit.
 *
 *	unit_filter command [argument ...]
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

static const int denied[] = {
	SYS_ioprio_set, SYS_mbind, SYS_migrate_pages, SYS_move_pages,
#ifdef SYS_nice
	SYS_nice,
#endif
	SYS_sched_setaffinity, SYS_sched_setattr, SYS_sched_setparam,
	SYS_sched_setscheduler, SYS_set_mempolicy,
#ifdef SYS_set_mempolicy_home_node
	SYS_set_mempolicy_home_node,
#endif
	SYS_setpriority, SYS_setrlimit,
};
#define NDENIED	(sizeof(denied) / sizeof(denied[0]))

int
main(int argc, char *argv[])
{
	struct sock_filter	f[4 + 2 * NDENIED + 1];
	struct sock_fprog	prog;
	size_t			i, n = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: unit_filter command [argument ...]\n");
		return 2;
	}
	/* Another architecture's calls: killed, as systemd does. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH,
	    1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (i = 0; i < NDENIED; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned int)denied[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
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
