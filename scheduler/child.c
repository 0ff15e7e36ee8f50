/*
 * child.c: collector runs as child processes: the spawner that forks them,
 * the parent's side that reads their pipes, enforces their limits and
 * learns how they ended.  Structure after collectd's exec plugin
 * (fork_child) and relayd's check_script; the Linux-only calls
 * (close_range, prctl, capset, signalfd, SCM_RIGHTS) live here and nowhere
 * else.
 *
 * Parent and spawner talk over a stream socket pair in fixed-size frames
 * (a datagram socket would block both sides at net.unix.max_dgram_qlen,
 * as low as 10 messages):
 *   parent -> spawner: struct spawn_req with the pipe's write end attached
 *   spawner -> parent: struct spawn_msg SPAWN_STARTED (pid, fork time),
 *                      SPAWN_EXITED (wait status, peak RSS) or
 *                      SPAWN_FAILED (errno of fork)
 * Messages are ordered, so a run's STARTED always precedes its EXITED.
 * The parent never blocks on the socket: a request the spawner cannot take
 * right now fails that run.
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/lp.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "qosd/collector.h"
#include "qosd/point.h"
#include "scheduler/child.h"
#include "scheduler/spawner/point.h"

#define CHILD_FD	3		/* the pipe's write end in a run */
#define READ_CHUNK	65536
#define DRAIN_US	1000000		/* wait for EOF after the exit */

enum spawn_type { SPAWN_STARTED = 1, SPAWN_EXITED, SPAWN_FAILED };

struct spawn_req {
	uint64_t		 id;
	uint64_t		 deadline_us;
	const struct qosd_collector *plugin;	/* valid in the spawner */
	void			*state;
	char			 job[128];
};

struct spawn_msg {
	int			 type;
	uint64_t		 id;
	pid_t			 pid;
	int			 wstatus;	/* EXITED */
	int			 err;		/* FAILED */
	uint64_t		 start_us;	/* STARTED */
	uint64_t		 maxrss_bytes;	/* EXITED */
};

struct spawner {
	pid_t		 pid;
	int		 fd;
	sd_event_source	*io;
	size_t		 runs;		/* asked for and not yet exited */
	char		 in[64 * sizeof(struct spawn_msg)];
	size_t		 inlen;
	int		 retiring;
	struct spawner	*next;
};

struct child {
	uint64_t	 id;
	pid_t		 pid;		/* 0 until the spawner says */
	struct spawner	*sp;
	char		*job;		/* "collector[job]", for logs */
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

static struct child	*children;
static size_t		 nchildren;
static struct spawner	*spawners;	/* the first is the current one */
static uint64_t		 next_id = 1;
static void		(*lost_cb)(void *);
static void		*lost_arg;

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
			child_signal(c, SIGKILL);
			child_close_pipe(c);
			child_maybe_finish(c);
			return 0;
		}
		if (buf_add(&c->in, chunk, (size_t)n) == -1)
			fatal("%s: buffer: %m", c->job);
		child_lines(c);
	}
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
	if (c->exited) {
		/* Exited, but something still holds the pipe: give up on it. */
		log_err("%s: output pipe still open %d ms after exit: closed",
		    c->job, DRAIN_US / 1000);
		child_close_pipe(c);
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
	if (c->fd != -1) {
		sd_event_source_set_time(c->timer, clock_mono_us() + DRAIN_US);
		sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	}
	child_maybe_finish(c);
}

/* A run, in the process the spawner forked. */

static void __attribute__((noreturn))
run_exec(const struct spawn_req *rq, int wfd)
{
	struct rlimit	 rl = { 0, 0 };
	struct qosd_out	*out;
	sigset_t	 none;
	int		 fd, rc;

	/* The spawner may be real-time or at Nice=-5; a run never is. */
	proc_normal();
	setpgid(0, 0);
	/*
	 * What the spawner ignores, a run gets back; other handlers (a
	 * sanitizer's) stay.
	 */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

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
	if (proc_drop_caps(rq->plugin->flags & QOSD_COLLECTOR_NET_RAW) ==
	    -1)
		log_err("%s[%s]: dropping capabilities: %m", rq->plugin->name,
		    rq->job);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

	if ((out = point_out_new(wfd, rq->job, rq->deadline_us)) == NULL)
		_exit(127);
	rc = rq->plugin->run(rq->state, out);
	if (point_out_flush(out) == -1)
		rc = -1;
	_exit(rc == 0 ? 0 : 1);
}

/* The spawner process. */

struct spawned {
	pid_t		 pid;
	uint64_t	 id;
};

static void
spawner_send(int sock, const struct spawn_msg *m)
{
	const char	*p = (const char *)m;
	size_t		 left = sizeof(*m);
	ssize_t		 n;

	while (left > 0) {
		if ((n = send(sock, p, left, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		left -= (size_t)n;
	}
}

static int
spawner_recv(int sock, struct spawn_req *rq, int *fd)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec	 iov = { rq, sizeof(*rq) };
	struct msghdr	 mh;
	struct cmsghdr	*cm;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	*fd = -1;
	if ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL)) <= 0)
		return n == -1 && errno == EINTR ? 0 : -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if ((size_t)n != sizeof(*rq) || *fd == -1) {
		if (*fd != -1)
			close(*fd);
		return 0;
	}
	return 1;
}

static void __attribute__((noreturn))
spawner_main(int sock)
{
	struct spawned	*runs = NULL;
	size_t		 nruns = 0, cap = 0, i;
	struct pollfd	 pfd[2];
	sigset_t	 chld;
	int		 sfd, fd, r;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(0);
	for (r = 1; r < NSIG; r++)
		if (r != SIGCHLD)
			signal(r, SIG_DFL);
	/* The daemon decides when runs end; a signal to the group does not. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		_exit(1);
	/* Keep stdio, the socket and the signalfd; the loop's fds go. */
	proc_close_except(sock, sfd);
	if (proc_drop_caps(1) == -1)
		log_err("spawner: dropping capabilities: %m");
	prctl(PR_SET_NAME, "qosd-spawner", 0, 0, 0);

	pfd[0].fd = sock;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	/*
	 * The parent closes its end once this spawner's runs are over (or it
	 * died, and PR_SET_PDEATHSIG ends us): EOF means done.
	 */
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo	si;
			struct rusage		ru;
			struct spawn_msg	m;
			pid_t			pid;
			int			ws;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = wait4(-1, &ws, WNOHANG, &ru)) > 0) {
				memset(&m, 0, sizeof(m));
				m.type = SPAWN_EXITED;
				m.pid = pid;
				m.wstatus = ws;
				m.maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024;
				for (i = 0; i < nruns; i++)
					if (runs[i].pid == pid) {
						m.id = runs[i].id;
						runs[i] = runs[--nruns];
						break;
					}
				spawner_send(sock, &m);
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct spawn_req	rq;
			struct spawn_msg	m;

			if ((r = spawner_recv(sock, &rq, &fd)) == -1)
				break;
			if (r == 0)
				continue;
			memset(&m, 0, sizeof(m));
			m.id = rq.id;
			m.start_us = clock_mono_us();
			if ((m.pid = fork()) == 0) {
				close(sock);
				close(sfd);
				run_exec(&rq, fd);
			}
			close(fd);
			if (m.pid == -1) {
				m.type = SPAWN_FAILED;
				m.err = errno;
			} else {
				/* Both sides: kill(-pid) works at once. */
				setpgid(m.pid, m.pid);
				m.type = SPAWN_STARTED;
				if (nruns == cap) {
					size_t	 ncap = cap ? cap * 2 : 64;
					void	*p = reallocarray(runs, ncap,
					    sizeof(*runs));

					if (p == NULL)
						_exit(1);
					runs = p;
					cap = ncap;
				}
				runs[nruns].pid = m.pid;
				runs[nruns++].id = m.id;
			}
			spawner_send(sock, &m);
		}
	}
	_exit(0);
}

/* The parent's side of a spawner. */

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
spawner_free(struct spawner *sp)
{
	struct spawner	**pp;

	for (pp = &spawners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	sp->io = sd_event_source_disable_unref(sp->io);
	if (sp->fd != -1)
		close(sp->fd);
	free(sp);
}

static void
spawner_reaped(void *arg, int wstatus)
{
	pid_t	pid = (pid_t)(intptr_t)arg;

	if (WIFSIGNALED(wstatus))
		log_err("spawner %ld killed by %s", (long)pid,
		    strsignal(WTERMSIG(wstatus)));
	else
		log_debug("spawner %ld exited", (long)pid);
}

static void
spawner_run_done(struct spawner *sp)
{
	if (sp->runs > 0)
		sp->runs--;
}

static void
spawner_msg(struct spawner *sp, struct child *c, const struct spawn_msg *m)
{
	switch (m->type) {
	case SPAWN_STARTED:
		c->pid = m->pid;
		if (c->timed_out || c->killed || c->overflow)
			kill(-c->pid, c->killed || c->overflow ? SIGKILL :
			    SIGTERM);
		if (c->cb.started != NULL)
			c->cb.started(c->arg, m->start_us);
		break;
	case SPAWN_FAILED:
		errno = m->err;
		log_err("%s: fork: %m", c->job);
		c->sp = NULL;
		spawner_run_done(sp);
		c->res.status = CHILD_SPAWN_ERROR;
		child_close_pipe(c);
		child_unlink(c);
		c->cb.done(c->arg, &c->res);
		child_free(c);
		break;
	case SPAWN_EXITED:
		c->sp = NULL;
		spawner_run_done(sp);
		child_exited(c, m->wstatus, m->maxrss_bytes);
		break;
	}
}

static void
spawner_lost(struct spawner *sp)
{
	struct child	*c, *next;
	int		 current = sp == spawners && !sp->retiring;

	log_err("spawner %ld is gone: its %zu runs count as killed",
	    (long)sp->pid, sp->runs);
	sp->retiring = 1;
	if (current && lost_cb != NULL)
		lost_cb(lost_arg);
	for (c = children; c != NULL; c = next) {
		next = c->next;
		if (c->sp != sp || c->exited)
			continue;
		c->sp = NULL;
		c->killed = 1;
		child_exited(c, SIGKILL, 0);
	}
	spawner_free(sp);
}

static int
spawner_on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct spawner		*sp = arg;
	struct spawn_msg	 m;
	struct child		*c;
	ssize_t			 n;
	size_t			 off;

	(void)s;
	(void)revents;
	for (;;) {
		n = recv(fd, sp->in + sp->inlen, sizeof(sp->in) - sp->inlen,
		    MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0) {
			spawner_lost(sp);
			return 0;
		}
		sp->inlen += (size_t)n;
		for (off = 0; sp->inlen - off >= sizeof(m); off += sizeof(m)) {
			memcpy(&m, sp->in + off, sizeof(m));
			if ((c = child_by_id(m.id)) == NULL || c->sp != sp)
				continue;
			spawner_msg(sp, c, &m);
		}
		memmove(sp->in, sp->in + off, sp->inlen - off);
		sp->inlen -= off;
	}
	if (sp->retiring && sp->runs == 0)
		/* Its runs are over: EOF tells it to go. */
		spawner_free(sp);
	return 0;
}

int
child_spawner_start(sd_event *ev)
{
	struct spawner	*sp, *old;
	int		 sv[2], r;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_err("spawner: socketpair: %m");
		return -1;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		fatal("spawner: %m");
	fflush(NULL);
	if ((sp->pid = fork()) == -1) {
		log_err("spawner: fork: %m");
		close(sv[0]);
		close(sv[1]);
		free(sp);
		return -1;
	}
	if (sp->pid == 0) {
		close(sv[0]);
		spawner_main(sv[1]);
	}
	close(sv[1]);
	sp->fd = sv[0];
	if (fcntl(sp->fd, F_SETFL, O_NONBLOCK) == -1)
		fatal("spawner: O_NONBLOCK: %m");
	if (super_watch(sp->pid, spawner_reaped,
	    (void *)(intptr_t)sp->pid) == -1 ||
	    (r = sd_event_add_io(ev, &sp->io, sp->fd, EPOLLIN,
	    spawner_on_io, sp)) < 0)
		fatal("spawner: cannot watch it");
	for (old = spawners; old != NULL; old = old->next)
		old->retiring = 1;
	sp->next = spawners;
	spawners = sp;
	return 0;
}

void
child_spawner_commit(void)
{
	struct spawner	*sp, *next;

	/* Idle ones go now, busy ones when their runs are done. */
	for (sp = spawners != NULL ? spawners->next : NULL; sp != NULL;
	    sp = next) {
		next = sp->next;
		if (sp->runs == 0)
			spawner_free(sp);
	}
}

void
child_spawner_abandon(void)
{
	struct spawner	*sp = spawners;

	if (sp == NULL)
		return;
	if (sp->next != NULL)
		sp->next->retiring = 0;
	sp->retiring = 1;
	if (sp->runs == 0)
		spawner_free(sp);
}

void
child_on_spawner_lost(void (*cb)(void *), void *arg)
{
	lost_cb = cb;
	lost_arg = arg;
}

void
child_spawner_stop(void)
{
	struct spawner	*sp, *next;

	for (sp = spawners; sp != NULL; sp = next) {
		next = sp->next;
		sp->retiring = 1;
		if (sp->runs == 0)
			spawner_free(sp);
	}
}

struct child *
child_start(sd_event *ev, const struct child_spec *spec,
    const struct child_cb *cb, void *arg)
{
	struct spawner		*sp = spawners;
	struct spawn_req	 rq;
	struct child		*c;
	char			 cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec		 iov = { &rq, sizeof(rq) };
	struct msghdr		 mh;
	struct cmsghdr		*cm;
	int			 fds[2] = { -1, -1 }, r;
	uint64_t		 start = clock_mono_us();

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    asprintf(&c->job, "%s[%s]", spec->collector, spec->job) == -1)
		fatal("child_start: %m");
	c->id = next_id++;
	c->fd = -1;
	c->start_us = start;
	c->grace_us = spec->grace_us;
	c->max_output = spec->max_output;
	c->cb = *cb;
	c->arg = arg;
	buf_init(&c->in, LP_MAX_LINE + READ_CHUNK + 1);
	if (sp == NULL || sp->retiring) {
		log_err("%s: no spawner to start the run", c->job);
		goto fail;
	}

	memset(&rq, 0, sizeof(rq));
	rq.id = c->id;
	rq.deadline_us = start + spec->timeout_us;
	rq.plugin = spec->plugin;
	rq.state = spec->state;
	snprintf(rq.job, sizeof(rq.job), "%s", spec->job);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_err("%s: pipe: %m", c->job);
		goto fail;
	}
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fds[1], sizeof(int));
	while ((r = (int)sendmsg(sp->fd, &mh, MSG_NOSIGNAL)) == -1 &&
	    errno == EINTR)
		;
	close(fds[1]);
	if (r == -1 && errno == EAGAIN) {
		log_err("%s: the spawner is not keeping up: run not started",
		    c->job);
		goto fail;
	}
	if (r == -1) {
		log_err("%s: asking the spawner: %m", c->job);
		goto fail;
	}
	/* A stream socket: a frame goes whole or, when full, not at all. */
	if ((size_t)r != sizeof(rq))
		fatal("%s: short write to the spawner", c->job);
	c->fd = fds[0];
	c->sp = sp;
	sp->runs++;
	c->next = children;
	children = c;
	nchildren++;
	if (fcntl(c->fd, F_SETFL, O_NONBLOCK) == -1 ||
	    sd_event_add_io(ev, &c->io, c->fd, EPOLLIN, child_on_io, c) < 0 ||
	    sd_event_add_time(ev, &c->timer, CLOCK_MONOTONIC,
	    start + spec->timeout_us, 1000, child_on_timer, c) < 0)
		fatal("%s: cannot watch the run", c->job);
	return c;
fail:
	if (fds[0] != -1)
		close(fds[0]);
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
child_kill_all(void)
{
	struct child	*c;

	for (c = children; c != NULL; c = c->next)
		child_kill(c);
}
