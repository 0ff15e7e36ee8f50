/*
 * proc.c: priorities, capabilities and descriptors of the daemon's
 * processes.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <sched.h>
#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib/proc.h"

static int
set_policy(int policy, int prio)
{
	struct sched_param	sp;

	memset(&sp, 0, sizeof(sp));
	sp.sched_priority = prio;
	return sched_setscheduler(0, policy, &sp);
}

/* The policy, with SCHED_RESET_ON_FORK if set; -1 on error. */
static int
get_policy(void)
{
	return sched_getscheduler(0);
}

int
proc_resets_on_fork(void)
{
	int	p = get_policy();

	return p != -1 && (p & SCHED_RESET_ON_FORK) != 0;
}

/* A change of policy keeps a reset-on-fork flag qosd was started with. */
int
proc_realtime(void)
{
	return set_policy(SCHED_FIFO |
	    (proc_resets_on_fork() ? SCHED_RESET_ON_FORK : 0), 1);
}

int
proc_fair(void)
{
	return set_policy(SCHED_OTHER |
	    (proc_resets_on_fork() ? SCHED_RESET_ON_FORK : 0), 0);
}

int
proc_is_realtime(void)
{
	int	p = get_policy();

	if (p == -1)
		return 0;
	p &= ~SCHED_RESET_ON_FORK;
	return p == SCHED_FIFO || p == SCHED_RR;
}

void
proc_normal(void)
{
	struct rlimit	rl = { 0, 0 };

	/* Going down to SCHED_OTHER needs no privilege. */
	if (proc_is_realtime())
		set_policy(SCHED_OTHER, 0);
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) < 0 && errno == 0)
		setpriority(PRIO_PROCESS, 0, 0);
	setrlimit(RLIMIT_RTPRIO, &rl);
}

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
	if (data[0].permitted == keep && data[1].permitted == 0 &&
	    data[0].effective == keep)
		return 0;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = keep;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	return syscall(SYS_capset, &hdr, data) == -1 ? -1 : 0;
}

void
proc_close_except(int a, int b)
{
	int	keep[2], i, from = 3;

	keep[0] = a < b ? a : b;
	keep[1] = a < b ? b : a;
	for (i = 0; i < 2; i++) {
		if (keep[i] < from)
			continue;
		if (keep[i] > from)
			close_range((unsigned int)from,
			    (unsigned int)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range((unsigned int)from, ~0U, 0);
}
