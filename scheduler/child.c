/*
 * child.c: forking a collector run, reading its pipe, enforcing its limits
 * and reaping it.  Structure after collectd's exec plugin (fork_child) and
 * relayd's check_script; the Linux-only calls (close_range, prctl, capset)
 * live here and nowhere else.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "buf.h"
#include "child.h"
#include "collector.h"
#include "log.h"
#include "lp.h"
#include "point.h"

#define CHILD_FD	3		/* the pipe's write end in the child */
#define READ_CHUNK	65536
#define DRAIN_US	1000000		/* wait for EOF after the exit */

struct child {
	pid_t		 pid;
	char		*job;
	int		 fd;		/* read end, -1 once closed */
	sd_event_source	*io;
	sd_event_source	*timer;
	struct buf	 in;
	int		 skipping;	/* inside an over-long line */
	int		 exited;
	int		 wstatus;
	int		 timed_out;
	int		 killed;
	int		 overflow;
	uint64_t	 start_us;
	uint64_t	 grace_us;
	uint64_t	 max_output;
	struct child_result res;
	struct child_cb	 cb;
	void		*arg;
	struct child	*next;
};

struct watch {
	pid_t		 pid;
	void		(*cb)(void *, int);
	void		*arg;
	struct watch	*next;
};

static struct child	*children;
static size_t		 nchildren;
static struct watch	*watches;

static uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

size_t
child_count(void)
{
	return nchildren;
}

const char *
child_status_str(enum child_status s)
{
	switch (s) {
	case CHILD_OK:
		return "ok";
	case CHILD_FAILED:
		return "failed";
	case CHILD_TIMEOUT:
		return "timeout";
	case CHILD_CRASHED:
		return "crashed";
	case CHILD_OVERFLOW:
		return "overflow";
	case CHILD_SPAWN_ERROR:
		return "error";
	}
	return "error";
}

static void
child_close_pipe(struct child *c)
{
	c->io = sd_event_source_disable_unref(c->io);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
child_unlink(struct child *c)
{
	struct child	**pp;

	for (pp = &children; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			nchildren--;
			break;
		}
}

static void
child_free(struct child *c)
{
	child_unlink(c);
	child_close_pipe(c);
	c->timer = sd_event_source_disable_unref(c->timer);
	buf_cleanup(&c->in);
	free(c->job);
	free(c);
}

/* Done when the process is reaped and its pipe has reached EOF. */
static void
child_maybe_finish(struct child *c)
{
	struct child_result	*r = &c->res;

	if (!c->exited || c->fd != -1)
		return;
	if (c->overflow)
		r->status = CHILD_OVERFLOW;
	else if (c->timed_out || c->killed)
		r->status = CHILD_TIMEOUT;
	else if (WIFSIGNALED(c->wstatus))
		r->status = CHILD_CRASHED;
	else if (WEXITSTATUS(c->wstatus) != 0)
		r->status = CHILD_FAILED;
	else
		r->status = CHILD_OK;
	r->code = WIFSIGNALED(c->wstatus) ? WTERMSIG(c->wstatus) :
	    WEXITSTATUS(c->wstatus);
	/* Not counted any more when done() looks: its slot is free. */
	child_unlink(c);
	c->cb.done(c->arg, r);
	child_free(c);
}

static void
child_lines(struct child *c)
{
	char	*nl, *p = c->in.data;
	size_t	 left = c->in.len;

	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		size_t	len = (size_t)(nl - p);

		if (c->skipping)
			c->skipping = 0;
		else if (len > LP_MAX_LINE)
			c->cb.line(c->arg, p, LP_MAX_LINE, 1);
		else {
			c->res.lines++;
			c->cb.line(c->arg, p, len, 0);
		}
		p = nl + 1;
		left -= len + 1;
	}
	buf_consume(&c->in, c->in.len - left);
	if (c->in.len > LP_MAX_LINE) {
		if (!c->skipping)
			c->cb.line(c->arg, c->in.data, LP_MAX_LINE, 1);
		c->skipping = 1;
		buf_reset(&c->in);
	}
}

static int
child_on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct child	*c = arg;
	char		 chunk[READ_CHUNK];
	ssize_t		 n;

	(void)s;
	(void)revents;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			break;
		c->res.bytes += (uint64_t)n;
		if (c->res.bytes > c->max_output) {
			log_debug("%s: run printed more than %llu bytes: "
			    "killed", c->job,
			    (unsigned long long)c->max_output);
			c->overflow = 1;
			kill(-c->pid, SIGKILL);
			child_close_pipe(c);
			child_maybe_finish(c);
			return 0;
		}
		if (buf_add(&c->in, chunk, (size_t)n) == -1)
			fatal("%s: buffer", c->job);
		child_lines(c);
	}
	if (n == -1)
		log_warn("%s: read from run", c->job);
	/* An unterminated last line still counts. */
	if (c->in.len > 0 && !c->skipping && buf_addc(&c->in, '\n') == 0)
		child_lines(c);
	child_close_pipe(c);
	child_maybe_finish(c);
	return 0;
}

static int
child_on_timer(sd_event_source *s, uint64_t usec, void *arg)
{
	struct child	*c = arg;

	(void)usec;
	if (c->exited) {
		/* Exited, but something still holds the pipe: give up on it. */
		log_warnx("%s: output pipe still open %d ms after exit: closed",
		    c->job, DRAIN_US / 1000);
		child_close_pipe(c);
		child_maybe_finish(c);
		return 0;
	}
	if (!c->timed_out) {
		log_debug("%s: run timed out after %.1f s: terminated",
		    c->job, (double)(now_us() - c->start_us) / 1e6);
		c->timed_out = 1;
		kill(-c->pid, SIGTERM);
		sd_event_source_set_time(s, now_us() + c->grace_us);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	} else {
		log_debug("%s: run still alive %.1f s after SIGTERM: killed",
		    c->job, (double)c->grace_us / 1e6);
		kill(-c->pid, SIGKILL);
	}
	return 0;
}

static void
child_reaped(struct child *c, int wstatus, const struct rusage *ru)
{
	c->exited = 1;
	c->wstatus = wstatus;
	c->res.duration_us = now_us() - c->start_us;
	c->res.maxrss_bytes = (uint64_t)ru->ru_maxrss * 1024;
	/* A grandchild left behind dies with the group. */
	kill(-c->pid, SIGKILL);
	if (c->fd != -1) {
		sd_event_source_set_time(c->timer, now_us() + DRAIN_US);
		sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	}
	child_maybe_finish(c);
}

int
child_watch(pid_t pid, void (*cb)(void *, int), void *arg)
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
child_unwatch(pid_t pid)
{
	struct watch	**pp, *w;

	for (pp = &watches; (w = *pp) != NULL; pp = &w->next)
		if (w->pid == pid) {
			*pp = w->next;
			free(w);
			return;
		}
}

static int
watch_reaped(pid_t pid, int wstatus)
{
	struct watch	*w;
	void		(*cb)(void *, int);
	void		*arg;

	for (w = watches; w != NULL; w = w->next)
		if (w->pid == pid)
			break;
	if (w == NULL)
		return 0;
	cb = w->cb;
	arg = w->arg;
	child_unwatch(pid);
	cb(arg, wstatus);
	return 1;
}

static int
child_on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si,
    void *arg)
{
	struct child	*c;
	struct rusage	 ru;
	pid_t		 pid;
	int		 wstatus;

	(void)s;
	(void)si;
	(void)arg;
	while ((pid = wait4(-1, &wstatus, WNOHANG, &ru)) > 0) {
		for (c = children; c != NULL; c = c->next)
			if (c->pid == pid && !c->exited)
				break;
		if (c != NULL)
			child_reaped(c, wstatus, &ru);
		else if (!watch_reaped(pid, wstatus))
			log_debug("reaped unknown child %ld", (long)pid);
	}
	return 0;
}

int
child_init(sd_event *ev)
{
	int	r;

	if ((r = sd_event_add_signal(ev, NULL, SIGCHLD, child_on_sigchld,
	    NULL)) < 0) {
		errno = -r;
		log_warn("sd_event_add_signal SIGCHLD");
		return -1;
	}
	return 0;
}

/*
 * Keep CAP_NET_RAW in the effective and permitted sets if asked and held,
 * drop everything else; no ambient capabilities, no new privileges.
 */
static int
drop_caps(int keep_net_raw)
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
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = keep;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void __attribute__((noreturn))
child_exec(const struct child_spec *spec, int wfd, uint64_t deadline_us)
{
	struct rlimit	 rl = { 0, 0 };
	struct qosd_out	*out;
	sigset_t	 all;
	int		 fd, sig, rc;

	/* The parent blocks signals for sd-event; a run starts clean. */
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(127);

	if (wfd != CHILD_FD) {
		if (dup3(wfd, CHILD_FD, O_CLOEXEC) == -1)
			_exit(127);
		wfd = CHILD_FD;
	} else
		fcntl(wfd, F_SETFD, FD_CLOEXEC);
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		_exit(127);
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	close_range(CHILD_FD + 1, ~0U, 0);

	setrlimit(RLIMIT_CORE, &rl);
	if (drop_caps(spec->plugin->flags & QOSD_COLLECTOR_NET_RAW) == -1)
		log_warn("%s: dropping capabilities", spec->job);

	if ((out = point_out_new(wfd, spec->job, deadline_us)) == NULL)
		_exit(127);
	rc = spec->plugin->run(spec->state, out);
	_exit(rc == 0 ? 0 : 1);
}

struct child *
child_start(sd_event *ev, const struct child_spec *spec,
    const struct child_cb *cb, void *arg)
{
	struct child	*c;
	int		 fds[2], r;
	uint64_t	 start = now_us();

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    asprintf(&c->job, "%s[%s]", spec->plugin->name, spec->job) == -1)
		fatal("child_start");
	c->fd = -1;
	c->start_us = start;
	c->grace_us = spec->grace_us;
	c->max_output = spec->max_output;
	c->cb = *cb;
	c->arg = arg;
	buf_init(&c->in, LP_MAX_LINE + READ_CHUNK + 1);

	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", c->job);
		goto fail;
	}
	if ((c->pid = fork()) == -1) {
		log_warn("%s: fork", c->job);
		close(fds[0]);
		close(fds[1]);
		goto fail;
	}
	if (c->pid == 0) {
		close(fds[0]);
		setpgid(0, 0);
		child_exec(spec, fds[1], start + spec->timeout_us);
	}
	/* Both sides set the group, so that kill(-pid) works at once. */
	setpgid(c->pid, c->pid);
	close(fds[1]);
	c->fd = fds[0];
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    (r = sd_event_add_io(ev, &c->io, c->fd, EPOLLIN, child_on_io,
	    c)) < 0 ||
	    (r = sd_event_add_time(ev, &c->timer, CLOCK_MONOTONIC,
	    start + spec->timeout_us, 1000, child_on_timer, c)) < 0) {
		log_warnx("%s: cannot watch the run", c->job);
		kill(-c->pid, SIGKILL);
		/* It is reaped, unlisted, by the SIGCHLD handler. */
		goto fail;
	}
	c->next = children;
	children = c;
	nchildren++;
	return c;
fail:
	child_close_pipe(c);
	c->timer = sd_event_source_disable_unref(c->timer);
	buf_cleanup(&c->in);
	free(c->job);
	free(c);
	return NULL;
}

void
child_kill(struct child *c)
{
	c->killed = 1;
	kill(-c->pid, SIGKILL);
}

void
child_kill_all(void)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		child_kill(c);
}
