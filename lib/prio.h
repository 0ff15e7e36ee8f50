/*
 * prio.h: CPU priorities of qosd's processes.
 *
 * The daemon asks for SCHED_FIFO at priority 1 when daemon.realtime is
 * on (started by hand; the unit starts it so), and the spawner it forks
 * keeps it: a woken timer then preempts any run at once instead of
 * waiting out the run's time slice (measured: scheduling lag p99
 * 800-1100 us at nice -5, 235-342 us at SCHED_FIFO 1, with 1000 runs a
 * second on 2 cores; 500-560 us with the spawner at SCHED_OTHER).  Every
 * process that measures, ships or writes goes back to SCHED_OTHER at
 * nice 0, with RLIMIT_RTPRIO 0 so that it cannot come back.
 */
#ifndef LIB_PRIO_H
#define LIB_PRIO_H

#include <stddef.h>

/*
 * SCHED_FIFO at priority 1 for the calling process (and what it forks
 * from now on, unless it resets on fork: that flag is kept).  0, or -1
 * with errno (EPERM without CAP_SYS_NICE or an RLIMIT_RTPRIO of at least
 * 1, or under a system call filter).
 */
int	prio_realtime(void);
/* Back to SCHED_OTHER, nice and reset-on-fork kept.  0, or -1 with errno. */
int	prio_fair(void);
/* Whether the calling process runs under a real-time policy. */
int	prio_is_realtime(void);
/*
 * Whether SCHED_RESET_ON_FORK is set (chrt -R, CPUSchedulingResetOnFork=):
 * the kernel then starts every child at SCHED_OTHER and a negative nice
 * value at 0, which a child under a system call filter denying
 * setpriority(2) cannot do itself.
 */
int	prio_resets_on_fork(void);
/* SCHED_OTHER, nice 0, RLIMIT_RTPRIO 0: a process that measures or ships. */
void	prio_normal(void);
#endif /* LIB_PRIO_H */
