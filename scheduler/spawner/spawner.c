/*
 * spawner.c: the spawner process (see spawner.h).  One poll(2) loop over
 * the daemon's socket and a signalfd for SIGCHLD: it forks each run it
 * is asked for, with the run's start-up (lib/proc.h), and reports starts
 * and exits.  The signalfd and wait4() are Linux's; they live here.
 */
#define _GNU_SOURCE

#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"
#include "qosd/collector.h"
#include "scheduler/plugin.h"
#include "scheduler/probecfg.h"
#include "scheduler/spawner/run.h"
#include "scheduler/spawner/spawner.h"

/* Reports wait in the queue while the daemon is busy: room for many. */
#define OUT_MAX		(8 << 20)

const struct msg_type spawn_to_spawner[] = {
	{ SPAWN_RUN, "run", sizeof(struct spawn_run),
	    sizeof(struct spawn_run), 2 },
	{ SPAWN_PROBE, "probe", sizeof(struct spawn_probe),
	    sizeof(struct spawn_probe) + SPAWN_PROBE_TEXT_MAX, 2 },
};
const size_t spawn_to_spawner_n = 2;

const struct msg_type spawn_to_daemon[] = {
	{ SPAWN_STARTED, "started", sizeof(struct spawn_started),
	    sizeof(struct spawn_started), 0 },
	{ SPAWN_EXITED, "exited", sizeof(struct spawn_exited),
	    sizeof(struct spawn_exited), 0 },
	{ SPAWN_FAILED, "failed", sizeof(struct spawn_failed),
	    sizeof(struct spawn_failed), 0 },
	{ SPAWN_REFUSED, "refused", sizeof(struct spawn_refused),
	    sizeof(struct spawn_refused), 0 },
};
const size_t spawn_to_daemon_n = 4;

struct spawned {
	pid_t		 pid;
	uint64_t	 id;
};

struct spawner {
	const struct spawner_args *a;
	unsigned char	*mine;		/* per job: this spawner runs it */
	struct msgchan	 ch;
	struct spawned	*runs;
	size_t		 nruns, cap;
	int		 gone;		/* the daemon: stop */
};

static void
send_msg(struct spawner *sp, uint16_t type, const void *p, size_t len)
{
	if (msg_send(&sp->ch, type, p, len, -1) == -1) {
		if (errno != EPIPE)
			log_err("spawner: report to the daemon: %m");
		sp->gone = 1;
	}
}

static void
remember(struct spawner *sp, pid_t pid, uint64_t id)
{
	size_t	 ncap;
	void	*p;

	if (sp->nruns == sp->cap) {
		ncap = sp->cap ? sp->cap * 2 : 64;
		if ((p = reallocarray(sp->runs, ncap, sizeof(*sp->runs))) ==
		    NULL)
			fatal("spawner: %m");
		sp->runs = p;
		sp->cap = ncap;
	}
	sp->runs[sp->nruns].pid = pid;
	sp->runs[sp->nruns++].id = id;
}

/* Fork run id of plugin with state, named name, to stop at deadline. */
static void
fork_one(struct spawner *sp, const struct qosd_collector *plugin,
    void *state, const char *name, uint64_t id, uint64_t due_us,
    uint64_t deadline_us, int fd, int efd)
{
	/* The run leaves this priority once due (run_main()). */
	struct proc_profile	 prof = { "qosd-run", SIGKILL, PROC_F_PGRP |
				    PROC_F_NULL_STDOUT | PROC_F_KEEP_SCHED, 0,
				    { -1, -1, -1, -1, -1, -1, -1, -1 } };
	struct run_args		 ra;
	struct spawn_started	 st;
	struct spawn_failed	 f;

	ra.plugin = plugin;
	ra.state = state;
	ra.job = name;
	ra.due_us = due_us;
	ra.deadline_us = deadline_us;
	ra.fd = fd;
	ra.efd = efd;
	prof.name = plugin->name;
	prof.fds[0] = fd;
	prof.fds[1] = efd;
	if (plugin->flags & QOSD_COLLECTOR_NET_RAW)
		prof.flags |= PROC_F_NET_RAW;
	memset(&st, 0, sizeof(st));
	st.id = id;
	st.start_us = clock_mono_us();
	if ((st.pid = proc_start(&prof, run_main, &ra)) == -1) {
		memset(&f, 0, sizeof(f));
		f.id = id;
		f.err = errno;
		send_msg(sp, SPAWN_FAILED, &f, sizeof(f));
		return;
	}
	remember(sp, st.pid, id);
	send_msg(sp, SPAWN_STARTED, &st, sizeof(st));
}

static void
fork_run(struct spawner *sp, const struct spawn_run *rq, int fd, int efd)
{
	const struct spawn_job	*j;
	struct spawn_failed	 f;
	char			 name[SPAWN_NAME_MAX];

	if (rq->gen != sp->a->gen || rq->job >= sp->a->njobs ||
	    !sp->mine[rq->job]) {
		log_err("spawner: a run of job %u of table %u, which this "
		    "spawner (table %u, %zu jobs, collector %s) does not have",
		    rq->job, rq->gen, sp->a->gen, sp->a->njobs,
		    sp->a->collector != NULL ? sp->a->collector : "any");
		memset(&f, 0, sizeof(f));
		f.id = rq->id;
		f.err = EINVAL;
		send_msg(sp, SPAWN_FAILED, &f, sizeof(f));
		return;
	}
	j = &sp->a->jobs[rq->job];
	memcpy(name, rq->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	fork_one(sp, j->plugin, j->state, name, rq->id, rq->due_us,
	    rq->deadline_us, fd, efd);
}

/*
 * An ad-hoc probe: its collector configures it here (the daemon holds no
 * plugin), then it runs as a job's run does; refused, the daemon hears
 * why.
 */
static void
fork_probe(struct spawner *sp, const struct msg *m, int fd, int efd)
{
	const struct qosd_collector	*plugin;
	struct spawn_probe		 pr;
	struct spawn_refused		 rf;
	void				*state = NULL;

	memcpy(&pr, m->data, sizeof(pr));
	pr.collector[sizeof(pr.collector) - 1] = '\0';
	pr.name[sizeof(pr.name) - 1] = '\0';
	memset(&rf, 0, sizeof(rf));
	rf.id = pr.id;
	if (pr.textlen != m->len - sizeof(pr)) {
		snprintf(rf.err, sizeof(rf.err), "settings: %u bytes said, "
		    "%zu sent", pr.textlen, (size_t)(m->len - sizeof(pr)));
		send_msg(sp, SPAWN_REFUSED, &rf, sizeof(rf));
		return;
	}
	if (probecfg_configure(pr.collector, (const char *)m->data +
	    sizeof(pr), pr.textlen, pr.timeout_us, &plugin, &state, rf.err,
	    sizeof(rf.err)) == -1) {
		send_msg(sp, SPAWN_REFUSED, &rf, sizeof(rf));
		return;
	}
	fork_one(sp, plugin, state, pr.name, pr.id, 0, pr.deadline_us, fd,
	    efd);
	/* The run has its copy. */
	if (plugin->release != NULL)
		plugin->release(state);
}

static void
reap(struct spawner *sp)
{
	struct spawn_exited	 ex;
	struct rusage		 ru;
	pid_t			 pid;
	size_t			 i;
	int			 ws;

	while ((pid = wait4(-1, &ws, WNOHANG, &ru)) > 0) {
		memset(&ex, 0, sizeof(ex));
		ex.pid = pid;
		ex.wstatus = ws;
		ex.maxrss_bytes = (uint64_t)ru.ru_maxrss * 1024;
		for (i = 0; i < sp->nruns; i++)
			if (sp->runs[i].pid == pid) {
				ex.id = sp->runs[i].id;
				sp->runs[i] = sp->runs[--sp->nruns];
				break;
			}
		send_msg(sp, SPAWN_EXITED, &ex, sizeof(ex));
	}
}

/* Requests from the daemon; end of file or a protocol error: stop. */
static void
serve(struct spawner *sp)
{
	struct spawn_run	 rq;
	struct msg		 m;
	ssize_t			 n;
	int			 r;

	while ((n = msg_read(&sp->ch)) > 0) {
		while ((r = msg_get(&sp->ch, &m)) == 1) {
			if (m.type == SPAWN_PROBE)
				fork_probe(sp, &m, m.fds[0], m.fds[1]);
			else {
				memcpy(&rq, m.data, sizeof(rq));
				fork_run(sp, &rq, m.fds[0], m.fds[1]);
			}
			close(m.fds[0]);
			close(m.fds[1]);
		}
		if (r == -1) {
			log_err("spawner: from the daemon: %s",
			    msg_error(&sp->ch));
			sp->gone = 1;
			return;
		}
	}
	if (n == 0 || errno != EAGAIN)
		sp->gone = 1;
}

/*
 * Keep the jobs of this spawner's collector; release the others' states
 * and unload their plugins (their libraries: libcurl and what it links
 * for http, libiperf for iperf), which every fork of a run would copy
 * and tear down again.  Measured with 1,000 testcoll jobs at 1 s and an
 * http and an iperf job beside them, interleaved: one spawner for all
 * had 253 mappings and the machine spent 1,863 to 1,999 us per run; the
 * testcoll spawner alone 103 mappings and 1,517 to 1,689 us.
 */
static void
keep_mine(struct spawner *sp)
{
	const struct spawner_args *a = sp->a;
	const struct spawn_job	*j;
	size_t			 i;

	if ((sp->mine = calloc(a->njobs ? a->njobs : 1, 1)) == NULL)
		fatal("spawner: %m");
	for (i = 0; i < a->njobs; i++) {
		j = &a->jobs[i];
		sp->mine[i] = a->collector == NULL ||
		    strcmp(j->plugin->name, a->collector) == 0;
		if (!sp->mine[i] && j->state != NULL &&
		    j->plugin->release != NULL)
			j->plugin->release(j->state);
	}
	if (a->collector != NULL)
		plugin_unload_except(a->collector);
}

int
spawner_main(void *arg)
{
	struct spawner		 sp;
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	sigset_t		 chld;
	int			 sfd;

	memset(&sp, 0, sizeof(sp));
	sp.a = arg;
	keep_mine(&sp);
	/*
	 * Every run is a fork of this process, and a fork copies the page
	 * table of every touched page: the free pages of the daemon's heap
	 * (its configuration's parse, half the heap with 5,000 jobs) go back
	 * to the system first.  5,000 jobs at 1 s: RssAnon 9.7 -> 4.9 MB,
	 * runs a second 1,150 -> 1,350 with the machine saturated.
	 */
	malloc_trim(0);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1) {
		log_err("spawner: signalfd: %m");
		return 1;
	}
	msgchan_init(&sp.ch, sp.a->sock, spawn_to_spawner,
	    spawn_to_spawner_n, OUT_MAX);
	pfd[0].fd = sp.a->sock;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	/*
	 * The daemon closes its end once this spawner's runs are over (or it
	 * died, and the parent-death signal ends us): end of file is done.
	 */
	while (!sp.gone) {
		pfd[0].events = POLLIN | (msg_queued(&sp.ch) > 0 ? POLLOUT : 0);
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			reap(&sp);
		}
		if (pfd[0].revents & POLLOUT && msg_flush(&sp.ch) == -1)
			break;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			serve(&sp);
	}
	msgchan_cleanup(&sp.ch);
	free(sp.runs);
	free(sp.mine);
	return 0;
}
