/*
 * child.c: collector runs as the daemon sees them: asked of the spawner
 * (scheduler/spawnctl.h), their pipes read without blocking and split
 * into lines, their timeouts and output caps enforced, their ends learnt
 * from the spawner's reports.  Structure after collectd's exec plugin
 * (fork_child) and relayd's check_script.
 */
#define _GNU_SOURCE

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "scheduler/child.h"
#include "scheduler/runlog.h"
#include "scheduler/spawnctl.h"

#define READ_CHUNK	65536
#define DRAIN_US	1000000		/* wait for EOF after the exit */

struct child {
	uint64_t	 id;
	pid_t		 pid;		/* 0 until the spawner says */
	struct spawner	*sp;		/* that forks it, NULL once exited */
	char		*job;		/* "collector[job]", for logs */
	int		 fd;		/* read end, -1 once closed */
	sd_event_source	*io;
	int		 efd;		/* its stderr's read end, or -1 */
	sd_event_source	*eio;
	struct runlog	 log;		/* what it prints on stderr */
	sd_event_source	*timer;
	struct buf	 in;
	int		 skipping;	/* inside an over-long line */
	int		 began;		/* its "#begin" line was read */
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

static struct child	*children;
static size_t		 nchildren;
static uint64_t		 next_id = 1;
static int		 held;		/* child_hold() */

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
	case CHILD_STOPPED:
		return "stopped";
	case CHILD_SPAWN_ERROR:
		return "error";
	}
	return "error";
}

/* Signal a run's process group, once its pid is known. */
static void
child_signal(struct child *c, int sig)
{
	if (c->pid > 0 && !c->exited)
		kill(-c->pid, sig);
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
child_close_err(struct child *c)
{
	c->eio = sd_event_source_disable_unref(c->eio);
	if (c->efd != -1) {
		close(c->efd);
		c->efd = -1;
		runlog_end(&c->log);
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
	child_close_err(c);
	c->timer = sd_event_source_disable_unref(c->timer);
	buf_cleanup(&c->in);
	free(c->job);
	free(c);
}

/* Done when the process is reaped and its pipes have reached EOF. */
static void
child_maybe_finish(struct child *c)
{
	struct child_result	*r = &c->res;

	if (!c->exited || c->fd != -1 || c->efd != -1)
		return;
	if (c->overflow)
		r->status = CHILD_OVERFLOW;
	else if (c->killed)
		r->status = CHILD_STOPPED;
	else if (c->timed_out)
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

/*
 * The run's first "#begin US" line: when it began.  Never a point ('#'
 * starts no line of line protocol), so nothing else is taken.
 */
static int
child_begin(struct child *c, const char *p, size_t len)
{
	char		 num[24], *end;
	unsigned long long v;

	if (len <= 7 || len - 7 >= sizeof(num) || memcmp(p, "#begin ", 7) != 0)
		return 0;
	memcpy(num, p + 7, len - 7);
	num[len - 7] = '\0';
	errno = 0;
	v = strtoull(num, &end, 10);
	if (errno != 0 || *end != '\0' || end == num)
		return 0;
	c->began = 1;
	if (c->cb.began != NULL)
		c->cb.began(c->arg, (uint64_t)v);
	return 1;
}

static void
child_lines(struct child *c)
{
	char	*nl, *p = c->in.data;
	size_t	 left = c->in.len;

	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		size_t	len = (size_t)(nl - p);

		if (!c->began && p[0] == '#' && child_begin(c, p, len)) {
			/* When it began: not a point. */
		} else if (c->skipping)
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

/* Printed more than max_output (stdout and stderr together): killed. */
static void
overflow(struct child *c)
{
	log_debug("%s: run printed more than %llu bytes: killed", c->job,
	    (unsigned long long)c->max_output);
	c->overflow = 1;
	child_signal(c, SIGKILL);
	child_close_pipe(c);
	child_close_err(c);
	child_maybe_finish(c);
}

/*
 * One read of a run's pipe, its bytes counted against max_output: > 0
 * bytes read, 0 at the end, -1 on an error (errno), READ_LATER when
 * there is nothing now or the run was killed for printing too much (then
 * c may be gone: the caller returns at once).
 */
#define READ_LATER	(-2)
static ssize_t
child_read(struct child *c, int fd, char *chunk)
{
	ssize_t	 n;

	do
		n = read(fd, chunk, READ_CHUNK);
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return READ_LATER;
	if (n > 0) {
		c->res.bytes += (uint64_t)n;
		if (c->res.bytes > c->max_output) {
			overflow(c);
			return READ_LATER;
		}
	}
	return n;
}

static int
child_on_eio(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct child	*c = arg;
	char		 chunk[READ_CHUNK];
	ssize_t		 n;

	(void)s;
	(void)revents;
	while ((n = child_read(c, fd, chunk)) > 0)
		runlog_feed(&c->log, chunk, (size_t)n);
	if (n == READ_LATER)
		return 0;
	child_close_err(c);
	child_maybe_finish(c);
	return 0;
}

static int
child_on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct child	*c = arg;
	char		 chunk[READ_CHUNK];
	ssize_t		 n;

	(void)s;
	(void)revents;
	while ((n = child_read(c, fd, chunk)) > 0) {
		if (buf_add(&c->in, chunk, (size_t)n) == -1)
			fatal("%s: buffer: %m", c->job);
		child_lines(c);
		/* A sink is full (child_hold()): the rest waits in the pipe. */
		if (held)
			return 0;
	}
	if (n == READ_LATER)
		return 0;
	if (n == -1)
		log_err("%s: read from run: %m", c->job);
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
	if (c->exited && held && c->fd != -1) {
		/* Its last points wait in the pipe for the sinks. */
		sd_event_source_set_time(s, clock_mono_us() + DRAIN_US);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
		return 0;
	}
	if (c->exited) {
		/* Exited, but something still holds the pipe: give up on it. */
		log_warning("%s: output pipe still open %d ms after exit: "
		    "closed", c->job, DRAIN_US / 1000);
		child_close_pipe(c);
		child_close_err(c);
		child_maybe_finish(c);
		return 0;
	}
	if (!c->timed_out) {
		log_debug("%s: run timed out after %.1f s: terminated",
		    c->job, (double)(clock_mono_us() - c->start_us) / 1e6);
		c->timed_out = 1;
		child_signal(c, SIGTERM);
		sd_event_source_set_time(s, clock_mono_us() + c->grace_us);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	} else {
		log_debug("%s: run still alive %.1f s after SIGTERM: killed",
		    c->job, (double)c->grace_us / 1e6);
		child_signal(c, SIGKILL);
	}
	return 0;
}

static void
child_exited(struct child *c, int wstatus, uint64_t maxrss_bytes)
{
	c->wstatus = wstatus;
	c->res.duration_us = clock_mono_us() - c->start_us;
	c->res.maxrss_bytes = maxrss_bytes;
	/* A grandchild left behind dies with the group. */
	child_signal(c, SIGKILL);
	c->exited = 1;
	if (c->fd != -1 || c->efd != -1) {
		sd_event_source_set_time(c->timer, clock_mono_us() + DRAIN_US);
		sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	}
	child_maybe_finish(c);
}

/* What the spawner reports (scheduler/spawnctl.h). */

static struct child *
child_by_id(uint64_t id)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void
on_started(uint64_t id, pid_t pid, uint64_t start_us)
{
	struct child	*c;

	if ((c = child_by_id(id)) == NULL)
		return;
	c->pid = pid;
	if (c->timed_out || c->killed || c->overflow)
		kill(-c->pid, c->killed || c->overflow ? SIGKILL : SIGTERM);
	if (c->cb.started != NULL)
		c->cb.started(c->arg, start_us);
}

static void
on_exited(uint64_t id, int wstatus, uint64_t maxrss_bytes)
{
	struct child	*c;

	if ((c = child_by_id(id)) == NULL)
		return;
	c->sp = NULL;
	child_exited(c, wstatus, maxrss_bytes);
}

static void
on_failed(uint64_t id, int err)
{
	struct child	*c;

	if ((c = child_by_id(id)) == NULL)
		return;
	errno = err;
	log_err("%s: fork: %m", c->job);
	c->sp = NULL;
	c->res.status = CHILD_SPAWN_ERROR;
	child_close_pipe(c);
	child_close_err(c);
	child_unlink(c);
	c->cb.done(c->arg, &c->res);
	child_free(c);
}

static void
on_refused(uint64_t id, const char *err)
{
	struct child	*c;

	if ((c = child_by_id(id)) == NULL)
		return;
	c->sp = NULL;
	child_close_pipe(c);
	child_close_err(c);
	child_unlink(c);
	if (c->cb.refused != NULL)
		c->cb.refused(c->arg, err);
	child_free(c);
}

static void
on_lost(const struct spawner *sp)
{
	struct child	*c, *next;

	for (c = children; c != NULL; c = next) {
		next = c->next;
		if (c->sp != sp || c->exited)
			continue;
		c->sp = NULL;
		c->killed = 1;
		child_exited(c, SIGKILL, 0);
	}
}

const struct spawnctl_cb child_spawn_cb = {
	on_started, on_exited, on_failed, on_refused, on_lost
};

struct child *
child_start(sd_event *ev, const struct child_spec *spec,
    const struct child_cb *cb, void *arg)
{
	struct child	*c;
	int		 fds[2] = { -1, -1 }, efds[2] = { -1, -1 };
	uint64_t	 start = clock_mono_us(), due = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    asprintf(&c->job, "%s[%s]", spec->collector, spec->job) == -1)
		fatal("child_start: %m");
	if (spec->due_us > start)
		start = due = spec->due_us;
	c->id = next_id++;
	c->fd = -1;
	c->efd = -1;
	c->start_us = start;
	c->grace_us = spec->grace_us;
	c->max_output = spec->max_output;
	c->cb = *cb;
	c->arg = arg;
	buf_init(&c->in, LP_MAX_LINE + READ_CHUNK + 1);
	if (pipe2(fds, O_CLOEXEC) == -1 || pipe2(efds, O_CLOEXEC) == -1) {
		log_err("%s: pipe: %m", c->job);
		goto fail;
	}
	if ((spec->probe_text != NULL ? spawnctl_probe(c->id, start +
	    spec->timeout_us, spec->timeout_us, spec->collector, spec->job,
	    spec->probe_text, spec->probe_len, fds[1], efds[1], &c->sp) :
	    spawnctl_request(c->id, due, start + spec->timeout_us,
	    spec->job_index, spec->job, fds[1], efds[1], &c->sp)) == -1)
		goto fail;
	close(fds[1]);
	close(efds[1]);
	c->fd = fds[0];
	c->efd = efds[0];
	runlog_init(&c->log, c->job);
	c->next = children;
	children = c;
	nchildren++;
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(c->efd, F_SETFL, O_NONBLOCK) == -1 ||
	    sd_event_add_io(ev, &c->io, c->fd, EPOLLIN, child_on_io, c) < 0 ||
	    (held && sd_event_source_set_enabled(c->io, SD_EVENT_OFF) < 0) ||
	    sd_event_add_io(ev, &c->eio, c->efd, EPOLLIN, child_on_eio,
	    c) < 0 ||
	    sd_event_add_time(ev, &c->timer, CLOCK_MONOTONIC,
	    start + spec->timeout_us, 1000, child_on_timer, c) < 0)
		fatal("%s: cannot watch the run", c->job);
	return c;
fail:
	if (fds[0] != -1) {
		close(fds[0]);
		close(fds[1]);
	}
	if (efds[0] != -1) {
		close(efds[0]);
		close(efds[1]);
	}
	buf_cleanup(&c->in);
	free(c->job);
	free(c);
	return NULL;
}

void
child_kill(struct child *c)
{
	c->killed = 1;
	child_signal(c, SIGKILL);
}

void
child_hold(int on)
{
	struct child	*c;

	held = on;
	for (c = children; c != NULL; c = c->next)
		if (c->io != NULL)
			sd_event_source_set_enabled(c->io, on ? SD_EVENT_OFF :
			    SD_EVENT_ON);
}

void
child_kill_all(void)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		child_kill(c);
}
