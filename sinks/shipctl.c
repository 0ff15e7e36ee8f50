/*
 * shipctl.c: the daemon's side of a shipper (see shipctl.h): forking it
 * and loading its code (shipper.so) in the new process only, its channel,
 * its supervision, and its orderly stop.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/proc.h"
#include "lib/super.h"
#include "sinks/shipctl.h"
#include "sinks/shipper/shipper.h"

#define RESTART_MIN	1.0		/* s, the shipper's restart backoff */
#define RESTART_MAX	60.0
#define OUT_MAX		4096		/* to the shipper: a stop */
#define REAP_POLL_MS	10		/* its exit, with its channel gone */

static const struct msg_type to_daemon[] = {
	{ SHIP_FIGS, "figures", sizeof(struct ship_figs),
	    sizeof(struct ship_figs) + SHIP_ERROR_MAX, 0 },
};

const struct shipctl_kind shipctl_influx = {
	"qosd-shipper", "QOSD_SHIPPER", "sinks/shipper.so", SHIPPER_SO,
	"qosd_shipper_main"
};

struct shipctl {
	const struct shipctl_kind *k;
	char			*name;		/* the sink's */
	char			*spooldir;
	const void		*c;
	int			 lockfd;	/* the spool's, kept */
	sd_event		*ev;
	struct super		*sv;
	struct msgchan		 ch;		/* sock -1: none */
	sd_event_source		*io;
	uint64_t		 sent, retries, rejected;
	char			 last_error[SHIP_ERROR_MAX + 1];
};

const char *
shipctl_so_path(const struct shipctl_kind *k)
{
	static char	 path[PATH_MAX];
	char		 exe[PATH_MAX], *slash;
	const char	*env;
	ssize_t		 n;

	if ((env = getenv(k->env)) != NULL && *env != '\0')
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(path, sizeof(path),
			    "%s/%s", exe, k->built) < sizeof(path) &&
			    access(path, R_OK) == 0)
				return path;
		}
	}
	return k->installed;
}

struct ship_args {
	const struct shipctl	*s;
	int			 sock;
	int			 verbose;
};

/* In the new process: load shipper.so and hand over to it. */
static int
shipper_proc(void *arg)
{
	struct ship_args	*a = arg;
	const struct shipctl_kind *k = a->s->k;
	void			(*main_fn)(const void *, const char *,
				    const char *, int, int);
	void			*h;

	if ((h = dlopen(shipctl_so_path(k), RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_err("sink %s: cannot load %s: %s", a->s->name, k->title,
		    dlerror());
		return 127;
	}
	*(void **)&main_fn = dlsym(h, k->entry);
	if (main_fn == NULL) {
		log_err("sink %s: %s has no %s", a->s->name,
		    shipctl_so_path(k), k->entry);
		return 127;
	}
	main_fn(a->s->c, a->s->name, a->s->spooldir, a->sock, a->verbose);
	return 0;
}

static void
disconnect(struct shipctl *s)
{
	s->io = sd_event_source_disable_unref(s->io);
	msgchan_cleanup(&s->ch);
}

/* A SHIP_FIGS: add the figures up, keep the error text. */
static void
on_figs(void *arg, const struct msg *m)
{
	struct shipctl		*s = arg;
	struct ship_figs	 f;
	size_t			 n = m->len - sizeof(f);

	memcpy(&f, m->data, sizeof(f));
	s->sent += f.sent;
	s->retries += f.retries;
	s->rejected += f.rejected;
	if (n > 0) {
		memcpy(s->last_error, (const char *)m->data + sizeof(f), n);
		s->last_error[n] = '\0';
	}
}

/*
 * Read what the shipper says; once its channel is gone (its end closed,
 * or it broke the protocol) drop ours.
 */
static void
hear(struct shipctl *s)
{
	int	r;

	if ((r = msg_receive(&s->ch, on_figs, s)) == 1)
		return;
	if (r == -1 && errno == EPROTO)
		log_err("sink %s: the shipper: %s", s->name,
		    msg_error(&s->ch));
	disconnect(s);
}

static int
on_io(sd_event_source *src, int fd, uint32_t revents, void *arg)
{
	struct shipctl	*s = arg;

	(void)src;
	(void)fd;
	(void)revents;
	/* Gone: its exit restarts it; broken: EOF makes it go. */
	hear(s);
	return 0;
}

/* struct super_ops: fork a shipper with a fresh channel. */
static pid_t
start(void *arg)
{
	/* It keeps the credentials: it reads its secret there. */
	struct proc_profile	 prof = { NULL, SIGTERM,
				    PROC_F_NULL_STDOUT | PROC_F_CREDENTIALS,
				    (1UL << SIGPIPE) |
				    (1UL << SIGHUP) | (1UL << SIGINT),
				    { -1, -1, -1, -1, -1, -1, -1, -1 } };
	struct shipctl		*s = arg;
	struct ship_args	 a = { s, -1, log_getverbose() };
	pid_t			 pid;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warning("sink %s: the shipper's socketpair: %m", s->name);
		return -1;
	}
	prof.name = s->k->title;
	prof.fds[0] = a.sock = sv[1];
	prof.fds[1] = s->lockfd;
	pid = proc_start(&prof, shipper_proc, &a);
	close(sv[1]);
	if (pid == -1) {
		log_warning("sink %s: cannot fork the shipper: %m", s->name);
		close(sv[0]);
		return -1;
	}
	disconnect(s);
	msgchan_init(&s->ch, sv[0], to_daemon, 1, OUT_MAX);
	if (sd_event_add_io(s->ev, &s->io, s->ch.sock, EPOLLIN, on_io,
	    s) < 0)
		fatal("sink %s: cannot watch the shipper's channel", s->name);
	return pid;
}

/*
 * Its exit is logged by lib/super, its channel's end seen by on_io(); the
 * next start() drops what is left of it.
 */
static const struct super_ops ship_super = { start, NULL };

struct shipctl *
shipctl_start(sd_event *ev, const char *name, const struct shipper_conf *c,
    const char *spooldir, int lockfd)
{
	return shipctl_start_kind(&shipctl_influx, ev, name, c, spooldir,
	    lockfd);
}

struct shipctl *
shipctl_start_kind(const struct shipctl_kind *k, sd_event *ev,
    const char *name, const void *c, const char *spooldir, int lockfd)
{
	struct shipctl	*s;
	char		 what[256];

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->name = strdup(name)) == NULL ||
	    (s->spooldir = strdup(spooldir)) == NULL)
		fatal("sink %s: %m", name);
	s->k = k;
	s->c = c;
	s->lockfd = lockfd;
	s->ev = sd_event_ref(ev);
	msgchan_init(&s->ch, -1, to_daemon, 1, OUT_MAX);
	snprintf(what, sizeof(what), "sink %s: %s", name,
	    k == &shipctl_influx ? "the shipper" : k->title);
	s->sv = super_new(ev, what, &ship_super, s, RESTART_MIN, RESTART_MAX);
	super_start(s->sv);
	return s;
}

void
shipctl_figs(const struct shipctl *s, struct shipctl_figs *f)
{
	f->sent = s->sent;
	f->retries = s->retries;
	f->rejected = s->rejected;
	f->restarts = super_restarts(s->sv);
	f->last_error = s->last_error;
}

/* At stop, while waiting for the shipper: read its last figures. */
static void
serve_stop(void *arg, int ms)
{
	struct shipctl	*s = arg;
	struct pollfd	 pfd;

	pfd.fd = s->ch.sock;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, s->ch.sock == -1 && ms > REAP_POLL_MS ?
	    REAP_POLL_MS : ms) > 0)
		hear(s);
}

/* Wait for the shipper, pid, to stop, at most until end; kill it then. */
static void
reap(struct shipctl *s, pid_t pid, uint64_t end)
{
	int	ws, killed;

	if ((ws = super_wait_until(pid, end, serve_stop, s, &killed)) == -1)
		return;
	if (killed)
		log_err("sink %s: the shipper did not stop in time: killed",
		    s->name);
	else if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		log_debug("sink %s: the shipper stopped", s->name);
	else if (WIFSIGNALED(ws))
		log_err("sink %s: the shipper was killed by signal %d (%s) "
		    "as it stopped", s->name, WTERMSIG(ws),
		    strsignal(WTERMSIG(ws)));
	else if (WIFEXITED(ws))
		log_warning("sink %s: the shipper exited with status %d as "
		    "it stopped", s->name, WEXITSTATUS(ws));
}

void
shipctl_stop(struct shipctl *s, int drain)
{
	struct ship_stop	st;
	pid_t			pid;

	if (s == NULL)
		return;
	pid = super_pid(s->sv);
	super_free(s->sv);
	s->io = sd_event_source_disable_unref(s->io);
	if (pid > 0) {
		st.budget_ms = drain ? SHIPCTL_STOP_MS : SHIPCTL_RELOAD_MS;
		st.drain = drain != 0;
		/* No channel: SIGTERM is a stop too, without drain. */
		if (s->ch.sock == -1 || msg_send(&s->ch, SHIP_STOP, &st,
		    sizeof(st), -1) == -1)
			kill(pid, SIGTERM);
		reap(s, pid, clock_mono_us() +
		    (uint64_t)(st.budget_ms + SHIPCTL_KILL_MS) * 1000);
	}
	disconnect(s);
	sd_event_unref(s->ev);
	free(s->spooldir);
	free(s->name);
	free(s);
}
