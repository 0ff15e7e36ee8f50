/*
 * writer.c: the daemon's side of a sink's writer (see writer.h).
 *
 * The queue is the stream the writer has not confirmed: complete lines,
 * and an empty line (never line protocol) where a seal was asked.  It
 * goes to the writer as WRITER_DATA messages of complete lines, a
 * WRITER_SEAL for each empty line; the writer's figures say how much of
 * it is done with (a seal counting one byte), which is cut from the
 * queue.  A new writer gets the queue from its start.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
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
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "sinks/spool.h"
#include "sinks/writer.h"
#include "sinks/writer/writer.h"

#define SEND_AT		65536		/* queued bytes that start a send */
#define QUEUE_KEEP	(1 << 20)	/* queue storage kept when empty */
#define SOCK_BUF	(1 << 20)	/* asked for; the kernel may cap it */
#define WINDOW		(2 * WRITER_DATA_MAX)	/* framed, not yet sent */
#define OUT_MAX		(WINDOW + WRITER_DATA_MAX + 2 * MSG_HDR_LEN)
#define RESTART_MIN	1.0		/* s, backoff after a writer died */
#define RESTART_MAX	60.0
#define REAP_POLL_MS	10		/* its exit, with its channel gone */

static const struct msg_type to_daemon[] = {
	{ WRITER_FIGS, "figures", sizeof(struct writer_figs),
	    sizeof(struct writer_figs), 0 },
};

struct writer {
	char			*name;		/* the sink's */
	const struct writer_ops	*ops;
	void			*arg;
	sd_event		*ev;
	struct super		*sv;
	void			*first;		/* opened by writer_start() */
	struct msgchan		 ch;		/* sock -1: no writer */
	sd_event_source		*io;
	struct buf		 q;		/* not yet confirmed */
	size_t			 sent;		/* of q, to this writer */
	uint64_t		 done;		/* its consumed, cut from q */
	uint64_t		 qdropped;	/* lines q could not take */
	struct complain		 full;
	struct writer_figs	 figs;		/* the current writer's */
	struct writer_figs	 past;		/* writers before it, summed */
	int			 shut;		/* at stop: the stream ended */
};

static void
want_out(struct writer *w, int on)
{
	if (w->io != NULL)
		sd_event_source_set_io_events(w->io,
		    EPOLLIN | (on ? EPOLLOUT : 0));
}

static void
disconnect(struct writer *w)
{
	w->io = sd_event_source_disable_unref(w->io);
	msgchan_cleanup(&w->ch);
}

/* Frame what is queued and not yet sent, up to a window, and send it. */
static void
push(struct writer *w)
{
	const char	*p, *e;
	size_t		 left, len;
	int		 r = 0;

	while (w->ch.sock != -1 && w->sent < w->q.len &&
	    msg_queued(&w->ch) < WINDOW) {
		p = w->q.data + w->sent;
		left = w->q.len - w->sent;
		if (*p == '\n') {
			r = msg_send(&w->ch, WRITER_SEAL, NULL, 0, -1);
			len = 1;
		} else {
			/* Lines up to a seal, or whole lines that fit. */
			if (left > WRITER_DATA_MAX)
				left = WRITER_DATA_MAX;
			if ((e = memmem(p, left, "\n\n", 2)) == NULL)
				e = memrchr(p, '\n', left);
			len = (size_t)(e - p) + 1;
			r = msg_send(&w->ch, WRITER_DATA, p, len, -1);
		}
		if (r == -1)
			break;
		w->sent += len;
	}
	if (r == -1 && errno != E2BIG) {
		/* The writer is gone: its exit restarts it. */
		disconnect(w);
		return;
	}
	want_out(w, msg_queued(&w->ch) > 0);
}

/* A WRITER_FIGS: cut what the writer is done with from the queue. */
static void
on_figs(void *arg, const struct msg *m)
{
	struct writer		*w = arg;
	struct writer_figs	 f;
	uint64_t		 cut;

	memcpy(&f, m->data, sizeof(f));
	cut = f.consumed - w->done;
	if (f.consumed < w->done || cut > w->sent) {
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
	w->done = f.consumed;
	w->figs = f;
}

/* Read the writer's figures: 0, or -1 once its channel is gone. */
static int
hear(struct writer *w)
{
	int	r;

	if ((r = msg_receive(&w->ch, on_figs, w)) == 1)
		return 0;
	if (r == -1 && errno == EPROTO)
		log_err("sink %s: the writer: %s", w->name,
		    msg_error(&w->ch));
	disconnect(w);
	return -1;
}

static int
on_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct writer	*w = arg;

	(void)src;
	(void)fd;
	/* Gone: its exit restarts it; broken: EOF makes it go. */
	if (hear(w) == -1)
		return 0;
	if ((revents & EPOLLOUT) && msg_flush(&w->ch) == -1) {
		disconnect(w);
		return 0;
	}
	push(w);
	return 0;
}

/* A writer is gone: the next one starts the stream again. */
static void
gone(struct writer *w)
{
	disconnect(w);
	/* Its target was opened afresh for it: its figures add up. */
	w->past.lines += w->figs.lines;
	w->past.dropped += w->figs.dropped;
	w->figs.lines = w->figs.dropped = w->figs.consumed = 0;
	w->done = 0;
	w->sent = 0;
}

struct writer_args {
	const char		*name;
	const struct writer_ops	*ops;
	void			*t;
	int			 sock;
};

/* The writer process, after its start-up (lib/proc.h). */
static int
writer_proc(void *arg)
{
	struct writer_args	*a = arg;

	writer_main(a->name, a->ops, a->t, a->sock);
}

/*
 * Fork a writer for target t (the daemon's copy is let go of) on a new
 * channel.  Its pid, or -1 with err.
 */
static pid_t
spawn(struct writer *w, void *t, char *err, size_t errlen)
{
	/* It never needs the service's credentials: hidden (lib/hide.h). */
	struct proc_profile	 prof = { "qosd-writer", 0, PROC_F_NULL_STDOUT |
				    PROC_F_HIDE_CREDS, (1UL << SIGPIPE) |
				    (1UL << SIGHUP) | (1UL << SIGINT), { -1, -1,
				    -1, -1, -1, -1, -1, -1 } };
	struct writer_args	 a = { w->name, w->ops, t, -1 };
	int			 sv[2], sz = SOCK_BUF;
	pid_t			 pid;

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
	prof.fds[0] = a.sock = sv[1];
	w->ops->keep_fds(w->arg, t, prof.fds + 1, PROC_MAX_FDS - 1);
	pid = proc_start(&prof, writer_proc, &a);
	close(sv[1]);
	w->ops->forget(t);
	if (pid == -1) {
		snprintf(err, errlen, "sink %s: cannot fork its writer: %s",
		    w->name, strerror(errno));
		close(sv[0]);
		return -1;
	}
	disconnect(w);
	msgchan_init(&w->ch, sv[0], to_daemon, 1, OUT_MAX);
	return pid;
}

/* struct super_ops: open the target (once more) and fork a writer. */
static pid_t
start(void *arg)
{
	struct writer	*w = arg;
	char		 err[512];
	void		*t;
	pid_t		 pid;

	if ((t = w->first) != NULL)
		w->first = NULL;
	else if ((t = w->ops->open(w->arg, err, sizeof(err))) == NULL) {
		log_warning("%s", err);
		return -1;
	}
	if ((pid = spawn(w, t, err, sizeof(err))) == -1) {
		log_warning("%s", err);
		return -1;
	}
	if (sd_event_add_io(w->ev, &w->io, w->ch.sock, EPOLLIN, on_io,
	    w) < 0)
		fatal("sink %s: cannot watch the writer", w->name);
	push(w);
	return pid;
}

/* struct super_ops: it exited (logged by lib/super); restarted later. */
static void
exited(void *arg, int wstatus)
{
	(void)wstatus;
	gone(arg);
}

static const struct super_ops writer_super = { start, exited };

struct writer *
writer_start(const char *name, sd_event *ev, const struct writer_ops *ops,
    void *arg, char *err, size_t errlen)
{
	struct writer	*w;
	char		 what[256];

	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->name = strdup(name)) == NULL)
		fatal("writer_start: %m");
	if ((w->first = ops->open(arg, err, errlen)) == NULL) {
		free(w->name);
		free(w);
		return NULL;
	}
	w->ops = ops;
	w->arg = arg;
	w->ev = sd_event_ref(ev);
	buf_init(&w->q, WRITER_QUEUE_MAX);
	msgchan_init(&w->ch, -1, to_daemon, 1, OUT_MAX);
	snprintf(what, sizeof(what), "sink %s: the writer", name);
	w->sv = super_new(ev, what, &writer_super, w, RESTART_MIN,
	    RESTART_MAX);
	super_start(w->sv);
	return w;
}

/* Count lines that could not be queued, and say so (rate-limited). */
static void
dropped(struct writer *w, const char *lines, size_t len)
{
	unsigned long	n = spool_count_lines(lines, len);

	w->qdropped += n;
	if (len > WRITER_DATA_MAX || lines[len - 1] != '\n')
		log_err("sink %s: %zu bytes that are not whole lines of at "
		    "most %d bytes: %lu lines lost", w->name, len,
		    WRITER_DATA_MAX, n);
	else if (complain_fail(&w->full, clock_mono_us()))
		log_err("sink %s: the writer is %zu bytes behind, its queue "
		    "is full: %lu lines lost (%llu in all)", w->name, w->q.len,
		    n, (unsigned long long)w->qdropped);
}

int
writer_write(struct writer *w, const char *lines, size_t len)
{
	if (len == 0)
		return 0;
	if (len > WRITER_DATA_MAX || lines[len - 1] != '\n' ||
	    buf_add(&w->q, lines, len) == -1) {
		dropped(w, lines, len);
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

/*
 * Serve the channel outside the event loop for at most ms: send, read the
 * figures.
 */
static void
serve(struct writer *w, int ms)
{
	struct pollfd	pfd;

	push(w);
	pfd.fd = w->ch.sock;
	pfd.events = POLLIN | (msg_queued(&w->ch) > 0 ? POLLOUT : 0);
	if (w->ch.sock == -1) {
		poll(NULL, 0, ms < REAP_POLL_MS ? ms : REAP_POLL_MS);
		return;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return;
	if ((pfd.revents & POLLOUT) && msg_flush(&w->ch) == -1)
		disconnect(w);
	else if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		hear(w);
}

void
writer_sync(struct writer *w)
{
	uint64_t	end = clock_mono_us() + WRITER_STOP_US, now;

	while (w->ch.sock != -1 && w->q.len > 0 &&
	    (now = clock_mono_us()) < end)
		serve(w, (int)((end - now) / 1000) + 1);
	if (w->q.len > 0)
		log_warning("sink %s: the writer is still %zu bytes behind",
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

/* At stop, while waiting for the writer: end the stream once it has all. */
static void
serve_stop(void *arg, int ms)
{
	struct writer	*w = arg;

	if (!w->shut && w->ch.sock != -1 && w->sent == w->q.len &&
	    msg_queued(&w->ch) == 0) {
		shutdown(w->ch.sock, SHUT_WR);
		w->shut = 1;
	}
	serve(w, ms);
}

/*
 * Hand writer pid the rest, let it finish and reap it, at most until
 * end; kill it then.  1 if it finished by itself, 0 if killed.
 */
static int
finish(struct writer *w, pid_t pid, uint64_t end)
{
	int	killed;

	w->shut = 0;
	super_wait_until(pid, end, serve_stop, w, &killed);
	if (killed)
		log_err("sink %s: the writer did not finish in time: killed",
		    w->name);
	else {
		/* Its last figures, if not read yet. */
		if (w->ch.sock != -1)
			hear(w);
		log_debug("sink %s: the writer stopped", w->name);
	}
	gone(w);
	return !killed;
}

void
writer_stop(struct writer *w)
{
	uint64_t	 end;
	char		 err[512];
	void		*t;
	pid_t		 pid;
	int		 tries, ok;

	if (w == NULL)
		return;
	end = clock_mono_us() + WRITER_STOP_US;
	pid = super_pid(w->sv);
	super_free(w->sv);
	w->io = sd_event_source_disable_unref(w->io);
	for (tries = 0; tries < 2 && w->q.len > 0; tries++) {
		/*
		 * A writer that died (lately, or as we stopped) left lines
		 * unwritten: one more writer, now, rather than give them up.
		 */
		if (pid == -1) {
			if ((t = w->ops->open(w->arg, err,
			    sizeof(err))) == NULL ||
			    (pid = spawn(w, t, err, sizeof(err))) == -1) {
				log_err("%s", err);
				break;
			}
			log_notice("sink %s: a writer for the last %zu bytes",
			    w->name, w->q.len);
		}
		ok = finish(w, pid, end);
		pid = -1;
		if (!ok)
			break;
	}
	if (pid > 0)
		finish(w, pid, end);
	if (w->q.len > 0)
		log_err("sink %s: %zu bytes not written", w->name, w->q.len);
	if (w->first != NULL)
		w->ops->forget(w->first);
	msgchan_cleanup(&w->ch);
	buf_cleanup(&w->q);
	sd_event_unref(w->ev);
	free(w->name);
	free(w);
}

unsigned int
writer_fill(const struct writer *w)
{
	return (unsigned int)(w->q.len * 100 / w->q.cap);
}
