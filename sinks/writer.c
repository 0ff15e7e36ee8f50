/*
 * writer.c: a sink's disk I/O in a process of its own (see writer.h).
 *
 * The stream from the parent is complete lines of line protocol; an empty
 * line, which is never line protocol, asks for a seal.  The writer answers
 * with struct writer_figs whenever it has caught up, consumed counting the
 * bytes it is done with, always up to a line's end.  The parent drops those
 * from its queue; the rest goes again to the next writer if this one dies.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/complain.h"
#include "lib/io.h"
#include "lib/log.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "sinks/spool.h"
#include "sinks/writer.h"

#define SEND_AT		65536		/* queued bytes that start a send */
#define QUEUE_KEEP	(1 << 20)	/* queue storage kept when empty */
#define SOCK_BUF	(1 << 20)	/* asked for; the kernel may cap it */
#define WBUF		(4 << 20)	/* the writer's read buffer */
#define RESTART_MIN	1.0		/* s, backoff after a writer died */
#define RESTART_MAX	60.0
#define STABLE_US	60000000	/* a writer up this long was fine */

struct writer {
	char			*name;		/* the sink's */
	const struct writer_ops	*ops;
	void			*arg;
	sd_event		*ev;
	sd_event_source		*io;
	sd_event_source		*restart;
	int			 fd;		/* our end, or -1 */
	pid_t			 pid;		/* or -1 */
	struct buf		 q;		/* not yet confirmed */
	size_t			 sent;		/* of q, sent to this writer */
	uint64_t		 done;		/* its consumed, cut from q */
	uint64_t		 qdropped;	/* lines q could not take */
	struct complain		 full;
	struct writer_figs	 figs;		/* the current writer's */
	struct writer_figs	 past;		/* writers before it, summed */
	char			 msg[sizeof(struct writer_figs)];
	size_t			 msglen;
	uint64_t		 started_us;
	double			 restart_s;
};

/* The writer process. */

/* Write the complete lines of b[0..len); the bytes done with. */
static size_t
take(const struct writer_ops *ops, void *t, const char *b, size_t len,
    struct writer_figs *f)
{
	const char	*p = b, *end = b + len, *run = b, *nl;
	unsigned long	 n = 0;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (nl == p) {
			/* An empty line: write what came before, then seal. */
			if (p > run)
				ops->append(t, run, (size_t)(p - run), n, f);
			ops->seal(t, f);
			n = 0;
			run = nl + 1;
		} else
			n++;
		p = nl + 1;
	}
	if (p > run)
		ops->append(t, run, (size_t)(p - run), n, f);
	return (size_t)(p - b);
}

static int __attribute__((noreturn))
writer_main(const struct writer_ops *ops, void *t, int fd)
{
	struct writer_figs	 f;
	struct pollfd		 pfd;
	char			*b;
	size_t			 have = 0, used;
	ssize_t			 n;

	memset(&f, 0, sizeof(f));
	if ((b = malloc(WBUF)) == NULL)
		_exit(1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if ((n = read(fd, b + have, WBUF - have)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		used = take(ops, t, b, have, &f);
		if (used == 0 && have == WBUF) {
			/* Never from the parent, which sends whole lines. */
			f.dropped++;
			used = have;
		}
		f.consumed += used;
		memmove(b, b + used, have - used);
		have -= used;
		/* Caught up: say how far. */
		if (poll(&pfd, 1, 0) == 0)
			io_write_all(fd, &f, sizeof(f));
	}
	ops->close(t, &f);
	io_write_all(fd, &f, sizeof(f));
	_exit(0);
}

/* The parent's side. */

static int	on_io(sd_event_source *, int, uint32_t, void *);
static void	spawn(struct writer *);

static void
want_out(struct writer *w, int on)
{
	if (w->io != NULL)
		sd_event_source_set_io_events(w->io,
		    EPOLLIN | (on ? EPOLLOUT : 0));
}

static void
push(struct writer *w)
{
	ssize_t	n;

	if (w->fd == -1)
		return;
	while (w->sent < w->q.len) {
		n = send(w->fd, w->q.data + w->sent, w->q.len - w->sent,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			/* EAGAIN: later; else the writer is gone. */
			want_out(w, errno == EAGAIN);
			return;
		}
		w->sent += (size_t)n;
	}
	want_out(w, 0);
}

static void
on_figs(struct writer *w, const struct writer_figs *f)
{
	uint64_t	cut = f->consumed - w->done;

	if (f->consumed < w->done || cut > w->sent) {
		log_err("sink %s: the writer reports more than it was sent",
		    w->name);
		return;
	}
	buf_consume(&w->q, (size_t)cut);
	w->sent -= (size_t)cut;
	/* After a burst, give its memory back. */
	if (w->q.len == 0 && w->q.alloc > QUEUE_KEEP) {
		buf_cleanup(&w->q);
		malloc_trim(0);
	}
	w->done = f->consumed;
	w->figs = *f;
}

/* Read the writer's reports; 0 at EOF or error, else 1. */
static int
read_figs(struct writer *w)
{
	struct writer_figs	f;
	ssize_t			n;

	for (;;) {
		n = read(w->fd, w->msg + w->msglen, sizeof(w->msg) - w->msglen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return 0;
		w->msglen += (size_t)n;
		if (w->msglen == sizeof(w->msg)) {
			memcpy(&f, w->msg, sizeof(f));
			on_figs(w, &f);
			w->msglen = 0;
		}
	}
}

static void
disconnect(struct writer *w)
{
	w->io = sd_event_source_disable_unref(w->io);
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
	w->msglen = 0;
}

static int
on_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct writer	*w = arg;

	(void)src;
	(void)fd;
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !read_figs(w)) {
		/* The writer is gone; its exit restarts it. */
		disconnect(w);
		return 0;
	}
	if (revents & EPOLLOUT)
		push(w);
	return 0;
}

static int
on_restart(sd_event_source *src, uint64_t usec, void *arg)
{
	struct writer	*w = arg;

	(void)src;
	(void)usec;
	w->restart = sd_event_source_disable_unref(w->restart);
	spawn(w);
	return 0;
}

static void
schedule_restart(struct writer *w)
{
	if (w->restart != NULL)
		return;
	if (sd_event_add_time_relative(w->ev, &w->restart, CLOCK_MONOTONIC,
	    (uint64_t)(w->restart_s * 1e6), 0, on_restart, w) < 0)
		fatal("sink %s: cannot arm the writer's restart", w->name);
	w->restart_s = w->restart_s * 2 < RESTART_MAX ? w->restart_s * 2 :
	    RESTART_MAX;
}

/* A writer is gone: the next one starts the stream again. */
static void
gone(struct writer *w)
{
	w->pid = -1;
	disconnect(w);
	/* Its target was opened afresh for it: its figures add up. */
	w->past.lines += w->figs.lines;
	w->past.dropped += w->figs.dropped;
	w->figs.lines = w->figs.dropped = w->figs.consumed = 0;
	w->done = 0;
	w->sent = 0;
}

static void
on_exit_status(void *arg, int wstatus)
{
	struct writer	*w = arg;

	gone(w);
	if (clock_mono_us() - w->started_us > STABLE_US)
		w->restart_s = RESTART_MIN;
	if (WIFSIGNALED(wstatus))
		log_err("sink %s: the writer was killed by signal %d: "
		    "restarting it in %g s, %zu bytes to write again", w->name,
		    WTERMSIG(wstatus), w->restart_s, w->q.len);
	else
		log_err("sink %s: the writer exited with status %d: "
		    "restarting it in %g s, %zu bytes to write again", w->name,
		    WEXITSTATUS(wstatus), w->restart_s, w->q.len);
	schedule_restart(w);
}

struct writer_start {
	const struct writer_ops	*ops;
	void			*t;
	int			 fd;
};

/* The writer process, after its start-up (lib/proc.h). */
static int
writer_proc(void *arg)
{
	struct writer_start	*ws = arg;

	writer_main(ws->ops, ws->t, ws->fd);
}

/*
 * Open the target and fork a writer for it; 0, or -1 with err.  Watched,
 * it is served from the event loop; else (at stop) by finish().
 */
static int
try_spawn(struct writer *w, int watched, char *err, size_t errlen)
{
	struct proc_profile	 prof = { "qosd-writer", 0, PROC_F_NULL_STDOUT,
				    (1UL << SIGPIPE) | (1UL << SIGHUP) |
				    (1UL << SIGINT), { -1, -1, -1, -1, -1, -1,
				    -1, -1 } };
	struct writer_start	 ws;
	void			*t;
	int			 sv[2], sz = SOCK_BUF;
	pid_t			 pid;

	if ((t = w->ops->open(w->arg, err, errlen)) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "sink %s: socketpair: %s", w->name,
		    strerror(errno));
		w->ops->forget(t);
		return -1;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/*
	 * No parent-death signal: the daemon's end closing is the writer's
	 * signal to finish what it was given, and then exit.
	 */
	prof.fds[0] = sv[1];
	prof.fds[1] = w->ops->keep_fd(t);
	ws.ops = w->ops;
	ws.t = t;
	ws.fd = sv[1];
	pid = proc_start(&prof, writer_proc, &ws);
	close(sv[1]);
	w->ops->forget(t);
	if (pid == -1) {
		snprintf(err, errlen, "sink %s: cannot fork its writer: %s",
		    w->name, strerror(errno));
		close(sv[0]);
		return -1;
	}
	w->pid = pid;
	w->fd = sv[0];
	w->started_us = clock_mono_us();
	if (fcntl(w->fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("sink %s: the writer's socket: %m", w->name);
	if (watched && (super_watch(pid, on_exit_status, w) == -1 ||
	    sd_event_add_io(w->ev, &w->io, w->fd, EPOLLIN, on_io, w) < 0))
		fatal("sink %s: cannot watch the writer", w->name);
	push(w);
	return 0;
}

static void
spawn(struct writer *w)
{
	char	err[512];

	if (try_spawn(w, 1, err, sizeof(err)) == -1) {
		log_err("%s: trying again in %g s", err, w->restart_s);
		schedule_restart(w);
	}
}

struct writer *
writer_start(const char *name, sd_event *ev, const struct writer_ops *ops,
    void *arg, size_t max_queue, char *err, size_t errlen)
{
	struct writer	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->name = strdup(name)) == NULL)
		fatal("writer_start: %m");
	w->ops = ops;
	w->arg = arg;
	w->ev = sd_event_ref(ev);
	w->fd = -1;
	w->pid = -1;
	w->restart_s = RESTART_MIN;
	buf_init(&w->q, max_queue);
	if (try_spawn(w, 1, err, errlen) == -1) {
		buf_cleanup(&w->q);
		sd_event_unref(w->ev);
		free(w->name);
		free(w);
		return NULL;
	}
	return w;
}

int
writer_write(struct writer *w, const char *lines, size_t len)
{
	unsigned long	n;

	if (buf_add(&w->q, lines, len) == -1) {
		n = spool_count_lines(lines, len);
		w->qdropped += n;
		if (complain_fail(&w->full, clock_mono_us()))
			log_err("sink %s: the writer is %zu bytes behind, "
			    "its queue is full: %lu lines lost (%llu in all)",
			    w->name, w->q.len, n,
			    (unsigned long long)w->qdropped);
		return -1;
	}
	if (w->full.failures > 0 && complain_ok(&w->full) > 0)
		log_notice("sink %s: the writer caught up", w->name);
	if (w->q.len - w->sent >= SEND_AT)
		push(w);
	return 0;
}

void
writer_flush(struct writer *w)
{
	push(w);
}

void
writer_sync(struct writer *w, uint64_t timeout_us)
{
	uint64_t	 end = clock_mono_us() + timeout_us, now;
	struct pollfd	 pfd;

	while (w->fd != -1 && w->q.len > 0 && (now = clock_mono_us()) < end) {
		push(w);
		pfd.fd = w->fd;
		pfd.events = POLLIN | (w->sent < w->q.len ? POLLOUT : 0);
		if (poll(&pfd, 1, (int)((end - now) / 1000) + 1) <= 0)
			continue;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !read_figs(w))
			disconnect(w);
	}
	if (w->q.len > 0)
		log_err("sink %s: the writer is still %zu bytes behind",
		    w->name, w->q.len);
}

void
writer_seal(struct writer *w)
{
	/* An empty line; if even that does not fit, the next seal will. */
	if (buf_addc(&w->q, '\n') == 0)
		push(w);
}

void
writer_figs(const struct writer *w, struct writer_figs *f, uint64_t *queued)
{
	*f = w->figs;
	f->lines += w->past.lines;
	f->dropped += w->past.dropped + w->qdropped;
	if (queued != NULL)
		*queued = w->q.len;
}

/*
 * Hand the writer the rest and wait for it until end; kill it then.  1 if
 * it finished by itself, 0 if killed.
 */
static int
finish(struct writer *w, uint64_t end)
{
	uint64_t	 now;
	struct pollfd	 pfd;
	int		 shut = 0, ws, done = 1;

	w->io = sd_event_source_disable_unref(w->io);
	super_unwatch(w->pid);
	while (w->fd != -1 && (now = clock_mono_us()) < end) {
		if (!shut && w->sent == w->q.len) {
			shutdown(w->fd, SHUT_WR);
			shut = 1;
		}
		pfd.fd = w->fd;
		pfd.events = POLLIN | (shut ? 0 : POLLOUT);
		if (poll(&pfd, 1, (int)((end - now) / 1000) + 1) <= 0)
			continue;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !read_figs(w))
			break;
		if (!shut && (pfd.revents & POLLOUT))
			push(w);
	}
	if (w->fd != -1 && clock_mono_us() >= end) {
		log_err("sink %s: the writer did not finish in time: killed",
		    w->name);
		kill(w->pid, SIGKILL);
		done = 0;
	}
	while (waitpid(w->pid, &ws, 0) == -1 && errno == EINTR)
		;
	gone(w);
	return done;
}

void
writer_stop(struct writer *w, uint64_t timeout_us)
{
	uint64_t	end = clock_mono_us() + timeout_us;
	char		err[512];
	int		tries;

	if (w == NULL)
		return;
	w->restart = sd_event_source_disable_unref(w->restart);
	for (tries = 0; tries < 2 && w->q.len > 0; tries++) {
		/*
		 * A writer that died (lately, or as we stopped) left lines
		 * unwritten: one more writer, now, rather than give them up.
		 */
		if (w->pid == -1) {
			if (try_spawn(w, 0, err, sizeof(err)) == -1) {
				log_err("%s", err);
				break;
			}
			log_notice("sink %s: a writer for the last %zu bytes",
			    w->name, w->q.len);
		}
		if (!finish(w, end))
			break;
	}
	if (w->pid > 0)
		finish(w, end);
	if (w->q.len > 0)
		log_err("sink %s: %zu bytes not written", w->name, w->q.len);
	buf_cleanup(&w->q);
	sd_event_unref(w->ev);
	free(w->name);
	free(w);
}
