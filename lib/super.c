/*
 * super.c: reaping children and restarting the ones that must run.
 */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/super.h"

/*
 * super_wait_until() sleeps between looks: 50 us at first, doubling up to
 * 2 ms.  A child told to go (a spawner at its end of file) is mostly gone
 * within a few hundred us, and qosd --once waited the whole first 2 ms.
 */
#define WAIT_FIRST_US	50
#define WAIT_STEP_US	2000

struct watch {
	pid_t		 pid;
	void		(*cb)(void *, int);
	void		*arg;
	struct watch	*next;
};

struct super {
	char			*what;
	sd_event		*ev;
	const struct super_ops	*ops;
	void			*arg;
	pid_t			 pid;
	sd_event_source		*timer;
	struct backoff		 bo;
	unsigned long		 restarts;
};

static struct watch	*watches;

int
super_watch(pid_t pid, void (*cb)(void *, int), void *arg)
{
	struct watch	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->pid = pid;
	w->cb = cb;
	w->arg = arg;
	w->next = watches;
	watches = w;
	return 0;
}

void
super_unwatch(pid_t pid)
{
	struct watch	**pp, *w;

	for (pp = &watches; (w = *pp) != NULL; pp = &w->next)
		if (w->pid == pid) {
			*pp = w->next;
			free(w);
			return;
		}
}

int
super_wait(pid_t pid)
{
	int	ws;

	super_unwatch(pid);
	while (waitpid(pid, &ws, 0) == -1)
		if (errno != EINTR)
			return -1;
	return ws;
}

int
super_wait_until(pid_t pid, uint64_t end_us, void (*serve)(void *, int),
    void *arg, int *killed)
{
	struct timespec	ts;
	uint64_t	now, step = WAIT_FIRST_US, us;
	pid_t		r;
	int		ws, ms;

	super_unwatch(pid);
	if (killed != NULL)
		*killed = 0;
	while ((r = waitpid(pid, &ws, WNOHANG)) != pid) {
		if (r == -1 && errno != EINTR)
			return -1;
		if ((now = clock_mono_us()) >= end_us) {
			kill(pid, SIGKILL);
			if (killed != NULL)
				*killed = 1;
			return super_wait(pid);
		}
		ms = (int)((end_us - now) / 1000) + 1;
		if (serve != NULL) {
			serve(arg, ms);
			continue;
		}
		us = end_us - now < step ? end_us - now : step;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)us * 1000;
		nanosleep(&ts, NULL);
		step = step * 2 < WAIT_STEP_US ? step * 2 : WAIT_STEP_US;
	}
	return ws;
}

int
super_reap(pid_t pid, uint64_t timeout_us, const char *what)
{
	int	ws, killed;

	ws = super_wait_until(pid, clock_mono_us() + timeout_us, NULL, NULL,
	    &killed);
	if (killed)
		log_err("%s (pid %ld) still there %.1f s after it was told to "
		    "go: killed", what, (long)pid, (double)timeout_us / 1e6);
	return ws;
}

static int
on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *arg)
{
	struct watch	*w;
	void		(*cb)(void *, int);
	void		*cbarg;
	pid_t		 pid;
	int		 wstatus;

	(void)s;
	(void)si;
	(void)arg;
	while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
		for (w = watches; w != NULL; w = w->next)
			if (w->pid == pid)
				break;
		if (w == NULL) {
			log_debug("reaped unknown child %ld", (long)pid);
			continue;
		}
		cb = w->cb;
		cbarg = w->arg;
		super_unwatch(pid);
		cb(cbarg, wstatus);
	}
	return 0;
}

int
super_init(sd_event *ev)
{
	int	r;

	if ((r = sd_event_add_signal(ev, NULL, SIGCHLD, on_sigchld,
	    NULL)) < 0) {
		errno = -r;
		log_err("cannot watch SIGCHLD: %m");
		return -1;
	}
	return 0;
}

/* The backoff. */

void
backoff_init(struct backoff *b, double min_s, double max_s)
{
	b->min_s = min_s;
	b->max_s = max_s;
	b->next_s = min_s;
	b->started_us = clock_mono_us();
}

void
backoff_started(struct backoff *b)
{
	b->started_us = clock_mono_us();
}

double
backoff_failed(struct backoff *b)
{
	double	d;

	if (clock_mono_us() - b->started_us >= SUPER_STABLE_US)
		b->next_s = b->min_s;
	d = b->next_s;
	b->next_s = d * 2 < b->max_s ? d * 2 : b->max_s;
	return d;
}

/* The supervisor. */

static void	super_try(struct super *);

static int
on_timer(sd_event_source *src, uint64_t usec, void *arg)
{
	struct super	*sv = arg;

	(void)src;
	(void)usec;
	sv->timer = sd_event_source_disable_unref(sv->timer);
	sv->restarts++;
	super_try(sv);
	return 0;
}

static void
schedule(struct super *sv, double delay_s)
{
	if (sv->timer != NULL)
		return;
	if (sd_event_add_time_relative(sv->ev, &sv->timer, CLOCK_MONOTONIC,
	    (uint64_t)(delay_s * 1e6), 0, on_timer, sv) < 0)
		fatal("%s: cannot arm the restart timer", sv->what);
}

static void
on_exit_status(void *arg, int wstatus)
{
	struct super	*sv = arg;
	double		 d;

	sv->pid = -1;
	d = backoff_failed(&sv->bo);
	if (WIFSIGNALED(wstatus))
		log_warning("%s was killed by signal %d (%s): restarting it "
		    "in %g s", sv->what, WTERMSIG(wstatus),
		    strsignal(WTERMSIG(wstatus)), d);
	else
		log_warning("%s exited with status %d: restarting it in %g s",
		    sv->what, WEXITSTATUS(wstatus), d);
	if (sv->ops->exited != NULL)
		sv->ops->exited(sv->arg, wstatus);
	schedule(sv, d);
}

static void
super_try(struct super *sv)
{
	double	d;

	backoff_started(&sv->bo);
	if ((sv->pid = sv->ops->start(sv->arg)) == -1) {
		d = backoff_failed(&sv->bo);
		log_warning("%s: trying again in %g s", sv->what, d);
		schedule(sv, d);
		return;
	}
	if (super_watch(sv->pid, on_exit_status, sv) == -1)
		fatal("%s: %m", sv->what);
}

struct super *
super_new(sd_event *ev, const char *what, const struct super_ops *ops,
    void *arg, double min_s, double max_s)
{
	struct super	*sv;

	if ((sv = calloc(1, sizeof(*sv))) == NULL ||
	    (sv->what = strdup(what)) == NULL)
		fatal("super_new: %m");
	sv->ev = sd_event_ref(ev);
	sv->ops = ops;
	sv->arg = arg;
	sv->pid = -1;
	backoff_init(&sv->bo, min_s, max_s);
	return sv;
}

void
super_start(struct super *sv)
{
	sv->timer = sd_event_source_disable_unref(sv->timer);
	if (sv->pid == -1)
		super_try(sv);
}

pid_t
super_pid(const struct super *sv)
{
	return sv->pid;
}

unsigned long
super_restarts(const struct super *sv)
{
	return sv->restarts;
}

void
super_free(struct super *sv)
{
	if (sv == NULL)
		return;
	if (sv->pid > 0)
		super_unwatch(sv->pid);
	sv->timer = sd_event_source_disable_unref(sv->timer);
	sd_event_unref(sv->ev);
	free(sv->what);
	free(sv);
}
