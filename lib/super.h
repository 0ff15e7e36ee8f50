/*
 * super.h: the children of a process: reaping them, and keeping the ones
 * that must run (a sink's writer and shipper, the scheduler's spawner)
 * running, restarted with one backoff.
 *
 * Reaping: one SIGCHLD source on the event loop reaps every child and
 * calls the callback registered for its pid (super_watch()).  Whoever
 * forks a child registers it.
 *
 * Supervising: a struct super starts a child with ops->start() and, when
 * it exits, calls ops->exited() and starts it again after a delay that
 * doubles from min_s up to max_s and falls back to min_s once a child
 * has lived SUPER_STABLE_US.  The restart is logged at warning level
 * ("restarting it in N s"): qosd is degraded, not failed, while it waits.
 */
#ifndef LIB_SUPER_H
#define LIB_SUPER_H

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

/* A child that lived this long was fine: its successor waits min_s. */
#define SUPER_STABLE_US	60000000

/* Reap children on ev from now on.  0, or -1 after logging why. */
int	super_init(sd_event *ev);
/*
 * Call cb(arg, wstatus) once pid has exited and been reaped.  0, or -1
 * (ENOMEM).
 */
int	super_watch(pid_t pid, void (*cb)(void *arg, int wstatus), void *arg);
/* Forget pid: its callback will not be called. */
void	super_unwatch(pid_t pid);
/*
 * Reap pid now, waiting for it (at stop, outside the loop): its callback
 * is not called.  The wait status, or -1.
 */
int	super_wait(pid_t pid);
/*
 * The same, but at most timeout_us: then pid gets SIGKILL (logged with
 * what, as an error) and is reaped.  The wait status, or -1.
 */
int	super_reap(pid_t pid, uint64_t timeout_us, const char *what);
/*
 * The same with a deadline, end_us, and the caller's own report: reap
 * pid (outside the loop, at stop) waiting at most until end_us
 * (CLOCK_MONOTONIC, lib/clock.h), calling serve(arg, ms) meanwhile to do
 * what the wait allows for at most ms, such as reading the child's last
 * messages (NULL: sleep).  A child still there at end_us is killed with
 * SIGKILL and reaped; *killed (if not NULL) says so.  Its callback is not
 * called.  The wait status, or -1.
 */
int	super_wait_until(pid_t pid, uint64_t end_us,
	    void (*serve)(void *arg, int ms), void *arg, int *killed);

/* The backoff alone, for a test or a caller with its own timer. */
struct backoff {
	double		 min_s, max_s;
	double		 next_s;	/* the delay the next failure gets */
	uint64_t	 started_us;	/* CLOCK_MONOTONIC, lib/clock.h */
};

void	backoff_init(struct backoff *, double min_s, double max_s);
/* The child started now. */
void	backoff_started(struct backoff *);
/* The child failed now: the delay before its next start, in seconds. */
double	backoff_failed(struct backoff *);

struct super_ops {
	/*
	 * Start the child: its pid, or -1 after logging why (it is tried
	 * again after the backoff).
	 */
	pid_t	(*start)(void *arg);
	/* It exited with wstatus, before its restart is scheduled. */
	void	(*exited)(void *arg, int wstatus);
};

struct super;

/*
 * A supervisor for the child called what ("sink x: the shipper", for
 * logs; copied).  Nothing starts until super_start().
 */
struct super	*super_new(sd_event *ev, const char *what,
		    const struct super_ops *ops, void *arg, double min_s,
		    double max_s);
/* Start the child now (retried after the backoff if that fails). */
void		 super_start(struct super *);
/* The child's pid, or -1 while there is none. */
pid_t		 super_pid(const struct super *);
/* How many times it was restarted. */
unsigned long	 super_restarts(const struct super *);
/*
 * Stop supervising: no restart, the pid is forgotten (unwatched, not
 * killed or reaped: the caller ends it, then super_wait()s for it).
 * NULL is fine.
 */
void		 super_free(struct super *);

#endif /* LIB_SUPER_H */
