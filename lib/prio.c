/*
 * prio.c: CPU priorities of qosd's processes.
 */
#define _GNU_SOURCE

#include <sys/resource.h>

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "lib/prio.h"

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
prio_resets_on_fork(void)
{
	int	p = get_policy();

	return p != -1 && (p & SCHED_RESET_ON_FORK) != 0;
}

/* A change of policy keeps a reset-on-fork flag qosd was started with. */
int
prio_realtime(void)
{
	return set_policy(SCHED_FIFO |
	    (prio_resets_on_fork() ? SCHED_RESET_ON_FORK : 0), 1);
}

int
prio_fair(void)
{
	return set_policy(SCHED_OTHER |
	    (prio_resets_on_fork() ? SCHED_RESET_ON_FORK : 0), 0);
}

int
prio_is_realtime(void)
{
	int	p = get_policy();

	if (p == -1)
		return 0;
	p &= ~SCHED_RESET_ON_FORK;
	return p == SCHED_FIFO || p == SCHED_RR;
}

void
prio_normal(void)
{
	struct rlimit	rl = { 0, 0 };

	/* Going down to SCHED_OTHER needs no privilege. */
	if (prio_is_realtime())
		set_policy(SCHED_OTHER, 0);
	errno = 0;
	if (getpriority(PRIO_PROCESS, 0) < 0 && errno == 0)
		setpriority(PRIO_PROCESS, 0, 0);
	setrlimit(RLIMIT_RTPRIO, &rl);
}
