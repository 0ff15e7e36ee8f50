/*
 * httpd.c: libmicrohttpd on the caller's sd-event loop (see httpd.h).
 * SO_PEERCRED is Linux's: it lives here.
 *
 * libmicrohttpd is loaded (dlopen) at the first connection, not at the
 * start: it brings GnuTLS and its eight libraries (about 2.4 MB of
 * resident pages once relocated), which an agent whose API nobody asks
 * need never map.  Until then the listening socket is watched here.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <systemd/sd-event.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/httpd.h"
#include "lib/log.h"

#define STREAM_BLOCK	(16 * 1024)	/* a scrape's ~230 series */
/*
 * The server's sources come after every other pending source of the loop
 * (sd-event dispatches the lowest number first): a job's timer, a run's
 * pipe or the spawner's answer never wait behind a request.
 */
#define HTTPD_PRIORITY	(SD_EVENT_PRIORITY_NORMAL + 10)
/*
 * What one pass of the loop gives streamed replies: past it, a stream's
 * connection waits (suspended) for the next pass, so that many long
 * replies at once never hold the loop longer than this.
 */
#define PASS_US		200
/*
 * A body over the cap is still read, up to this much more, and thrown
 * away before the 413 goes out.  A server that answers and closes while
 * the client is still sending resets the connection, and the client sees
 * the reset, not the answer (curl: "Send failure: Broken pipe", status
 * 000): a client that never sends "Expect: 100-continue", or one that
 * sent it and gave up waiting (curl waits 1 s; on a loaded machine that
 * happens).  A larger body announced by Content-Length is refused at once
 * (a client that waits for "100 Continue" then reads the 413 and sends
 * nothing); one that grows past it unannounced has its connection closed.
 */
#define DISCARD_MAX	(1024 * 1024)

enum req_state {
	R_RECEIVING,		/* headers and body coming */
	R_WAITING,		/* given to the handler, suspended */
	R_REPLIED,		/* a response is ready to queue */
	R_DONE			/* queued */
};

struct httpd_req {
	struct httpd		*h;
	struct MHD_Connection	*conn;
	char			*method;
	char			*path;
	struct buf		 body;
	int			 too_big;
	uint64_t		 dropped;	/* bytes read past the cap */
	enum req_state		 state;
	int			 gone;		/* MHD completed it */
	int			 in_handler;
	struct MHD_Response	*resp;
	unsigned int		 status;
	struct httpd_req	*prev, *next;	/* h->reqs */
};

/* A streamed reply (httpd_reply_stream()). */
struct stream {
	httpd_reader	 rd;
	void		(*done)(void *);
	void		*arg;
	struct httpd	*h;
	struct MHD_Connection *conn;
	int		 paused;
	struct stream	*next_paused;
};

struct httpd {
	sd_event		*ev;
	uint64_t		 pass_start;	/* this MHD_run()'s start */
	struct stream		*paused;	/* to resume at the next pass */
	struct MHD_Daemon	*mhd;		/* NULL until a connection */
	int			 fd;		/* the listening socket */
	sd_event_source		*listen;	/* watches it until then */
	sd_event_source		*io;
	sd_event_source		*timer;
	httpd_handler		 handler;
	void			*arg;
	struct httpd_opts	 o;
	char			*name;
	struct httpd_req	*reqs;
	int			 stopping;
};

static void	update_timer(struct httpd *);

/* libmicrohttpd's functions, once loaded (mhd_load()). */
#define MHD_SONAME	"libmicrohttpd.so.12"
#define MHD_FN(f)	__typeof__(&MHD_##f) f
static struct {
	void	*dl;
	MHD_FN(add_response_header);
	MHD_FN(create_response_from_buffer);
	MHD_FN(create_response_from_callback);
	MHD_FN(destroy_response);
	MHD_FN(get_connection_info);
	MHD_FN(get_daemon_info);
	MHD_FN(get_timeout);
	MHD_FN(lookup_connection_value);
	MHD_FN(queue_response);
	MHD_FN(quiesce_daemon);
	MHD_FN(resume_connection);
	MHD_FN(run);
	MHD_FN(start_daemon);
	MHD_FN(stop_daemon);
	MHD_FN(suspend_connection);
} M;

/* dlsym()'s answer into a function pointer: POSIX's own idiom. */
#define MHD_SYM(f) \
	(*(void **)(&M.f) = dlsym(M.dl, "MHD_" #f)) == NULL ? "MHD_" #f :

static int
mhd_load(char *err, size_t errlen)
{
	const char	*missing;

	if (M.dl != NULL)
		return 0;
	if ((M.dl = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "cannot load %s: %s", MHD_SONAME,
		    dlerror());
		return -1;
	}
	missing =
	    MHD_SYM(add_response_header)
	    MHD_SYM(create_response_from_buffer)
	    MHD_SYM(create_response_from_callback)
	    MHD_SYM(destroy_response)
	    MHD_SYM(get_connection_info)
	    MHD_SYM(get_daemon_info)
	    MHD_SYM(get_timeout)
	    MHD_SYM(lookup_connection_value)
	    MHD_SYM(queue_response)
	    MHD_SYM(quiesce_daemon)
	    MHD_SYM(resume_connection)
	    MHD_SYM(run)
	    MHD_SYM(start_daemon)
	    MHD_SYM(stop_daemon)
	    MHD_SYM(suspend_connection)
	    NULL;
	if (missing != NULL) {
		snprintf(err, errlen, "%s has no %s", MHD_SONAME, missing);
		dlclose(M.dl);
		M.dl = NULL;
		return -1;
	}
	return 0;
}

static void
req_unlink(struct httpd_req *r)
{
	struct httpd	*h = r->h;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (h->reqs == r)
		h->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void
req_free(struct httpd_req *r)
{
	if (r == NULL)
		return;
	req_unlink(r);
	if (r->resp != NULL)
		M.destroy_response(r->resp);
	buf_cleanup(&r->body);
	free(r->method);
	free(r->path);
	free(r);
}

static enum MHD_Result
queue(struct httpd_req *r)
{
	enum MHD_Result	ret;

	ret = M.queue_response(r->conn, r->status, r->resp);
	M.destroy_response(r->resp);
	r->resp = NULL;
	r->state = R_DONE;
	return ret;
}

static enum MHD_Result
answer_now(struct httpd_req *r, unsigned int status, const char *msg)
{
	char	body[256];
	int	n;

	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);
	if (httpd_reply(r, status, "application/json", body,
	    (size_t)n) == -1)
		return MHD_NO;
	return queue(r);
}

static struct httpd_req *
req_new(struct httpd *h, struct MHD_Connection *conn, const char *url,
    const char *method)
{
	struct httpd_req	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->method = strdup(method)) == NULL ||
	    (r->path = strdup(url)) == NULL) {
		if (r != NULL)
			free(r->method);
		free(r);
		return NULL;
	}
	r->h = h;
	r->conn = conn;
	buf_init(&r->body, h->o.max_body);
	r->next = h->reqs;
	if (h->reqs != NULL)
		h->reqs->prev = r;
	h->reqs = r;
	return r;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **con_cls)
{
	struct httpd		*h = cls;
	struct httpd_req	*r = *con_cls;
	const char		*cl;
	unsigned long long	 len;

	(void)version;
	if (r == NULL) {
		if ((r = req_new(h, conn, url, method)) == NULL)
			return MHD_NO;
		*con_cls = r;
		cl = M.lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && (len = strtoull(cl, NULL, 10)) >
		    h->o.max_body) {
			if (len - h->o.max_body > DISCARD_MAX)
				return answer_now(r, 413,
				    "request body too large");
			r->too_big = 1;		/* read, dropped, then 413 */
		}
		return MHD_YES;
	}
	if (h->stopping)
		return MHD_NO;
	if (*size > 0) {
		if (!r->too_big && buf_add(&r->body, data, *size) == -1)
			r->too_big = 1;
		if (r->too_big && (r->dropped += *size) > DISCARD_MAX)
			return MHD_NO;		/* closed */
		*size = 0;
		return MHD_YES;
	}
	if (r->state == R_RECEIVING) {
		if (r->too_big)
			return answer_now(r, 413,
			    "request body too large");
		r->state = R_WAITING;
		r->in_handler = 1;
		h->handler(h->arg, r);
		r->in_handler = 0;
		if (r->state == R_WAITING) {
			M.suspend_connection(conn);
			return MHD_YES;
		}
	}
	if (r->state == R_REPLIED)
		return queue(r);
	return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_req	*r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	*con_cls = NULL;
	/* Still the handler's: freed when it answers. */
	if (r->state == R_WAITING) {
		r->gone = 1;
		return;
	}
	req_free(r);
}

/* libmicrohttpd's format: checked by the compiler as printf's. */
static void	on_mhd_log(void *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct httpd	*h = cls;
	char		 msg[512];
	size_t		 n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("%s: libmicrohttpd: %s", h->name, msg);
}

/* Streams paused at the last pass go on. */
static void
resume_paused(struct httpd *h)
{
	struct stream	*s;

	while ((s = h->paused) != NULL) {
		h->paused = s->next_paused;
		s->next_paused = NULL;
		s->paused = 0;
		M.resume_connection(s->conn);
	}
}

static void
run_mhd(struct httpd *h)
{
	resume_paused(h);
	h->pass_start = clock_mono_us();
	if (M.run(h->mhd) != MHD_YES)
		log_debug("%s: MHD_run failed", h->name);
	update_timer(h);
	/* Paused streams: the next pass, after the loop's other sources. */
	if (h->paused != NULL) {
		sd_event_source_set_time(h->timer, clock_mono_us());
		sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
	}
}

static int
on_io(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	(void)s;
	(void)fd;
	(void)revents;
	run_mhd(arg);
	return 0;
}

static int
on_timer(sd_event_source *s, uint64_t usec, void *arg)
{
	(void)s;
	(void)usec;
	run_mhd(arg);
	return 0;
}

static void
update_timer(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG	ms;

	if (M.get_timeout(h->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(h->timer, clock_mono_us() + ms * 1000);
	sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT);
}

/*
 * Load libmicrohttpd and give it the listening socket.  0, or -1 with the
 * reason in err.
 */
static int
mhd_start(struct httpd *h, char *err, size_t errlen)
{
	const struct httpd_opts		*o = &h->o;
	const union MHD_DaemonInfo	*info;

	if (mhd_load(err, errlen) == -1)
		return -1;
	h->mhd = M.start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG | MHD_USE_TURBO, 0, NULL, NULL, on_access, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, o->max_conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "libmicrohttpd would not start");
		return -1;
	}
	if ((info = M.get_daemon_info(h->mhd,
	    MHD_DAEMON_INFO_EPOLL_FD)) == NULL) {
		snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
		M.stop_daemon(h->mhd);
		h->mhd = NULL;
		return -1;
	}
	if (sd_event_add_io(h->ev, &h->io, info->epoll_fd, EPOLLIN, on_io,
	    h) < 0 || sd_event_add_time(h->ev, &h->timer, CLOCK_MONOTONIC, 0,
	    1000, on_timer, h) < 0 ||
	    sd_event_source_set_priority(h->io, HTTPD_PRIORITY) < 0 ||
	    sd_event_source_set_priority(h->timer, HTTPD_PRIORITY) < 0)
		fatal("%s: cannot watch the server", h->name);
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	return 0;
}

/* The first connection: the server starts and takes it. */
static int
on_listen(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct httpd	*h = arg;
	char		 err[512];

	(void)s;
	(void)fd;
	(void)revents;
	h->listen = sd_event_source_disable_unref(h->listen);
	if (mhd_start(h, err, sizeof(err)) == -1) {
		/* Nobody could ever be answered: stop listening. */
		log_err("%s: %s: no longer listening", h->name, err);
		close(h->fd);
		h->fd = -1;
		return 0;
	}
	run_mhd(h);
	return 0;
}

struct httpd *
httpd_new(sd_event *ev, int fd, const struct httpd_opts *o, httpd_handler hd,
    void *arg, char *err, size_t errlen)
{
	struct httpd		*h;

	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->name = strdup(o->name != NULL ? o->name : "httpd")) == NULL)
		fatal("httpd: %m");
	h->ev = sd_event_ref(ev);
	h->handler = hd;
	h->arg = arg;
	h->o = *o;
	h->fd = fd;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "%s: %s", h->name, strerror(errno));
		close(fd);
		sd_event_unref(h->ev);
		free(h->name);
		free(h);
		return NULL;
	}
	if (sd_event_add_io(ev, &h->listen, fd, EPOLLIN, on_listen, h) < 0 ||
	    sd_event_source_set_priority(h->listen, HTTPD_PRIORITY) < 0)
		fatal("%s: cannot watch the socket", h->name);
	return h;
}

void
httpd_free(struct httpd *h)
{
	struct httpd_req	*r, *next;
	int			 fd;

	if (h == NULL)
		return;
	h->stopping = 1;
	h->listen = sd_event_source_disable_unref(h->listen);
	h->io = sd_event_source_disable_unref(h->io);
	h->timer = sd_event_source_disable_unref(h->timer);
	if (h->mhd == NULL) {
		/* Never asked (or it could not start). */
		if (h->fd != -1)
			close(h->fd);
		goto out;
	}
	resume_paused(h);
	/* Suspended connections are resumed, to be closed. */
	for (r = h->reqs; r != NULL; r = r->next)
		if (r->state == R_WAITING && !r->gone)
			M.resume_connection(r->conn);
	M.run(h->mhd);
	fd = M.quiesce_daemon(h->mhd);
	M.stop_daemon(h->mhd);
	if (fd != -1)
		close(fd);
	for (r = h->reqs; r != NULL; r = next) {
		next = r->next;
		req_free(r);
	}
out:
	sd_event_unref(h->ev);
	free(h->name);
	free(h);
}

const char *
httpd_method(const struct httpd_req *r)
{
	return r->method;
}

const char *
httpd_path(const struct httpd_req *r)
{
	return r->path;
}

const char *
httpd_body(const struct httpd_req *r, size_t *len)
{
	if (len != NULL)
		*len = r->body.len;
	return buf_str(&r->body);
}

const char *
httpd_query(const struct httpd_req *r, const char *key)
{
	if (r->gone)
		return NULL;
	return M.lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

const char *
httpd_header(const struct httpd_req *r, const char *name)
{
	if (r->gone)
		return NULL;
	return M.lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

uid_t
httpd_peer_uid(const struct httpd_req *r)
{
	const union MHD_ConnectionInfo	*ci;
	struct ucred			 uc;
	socklen_t			 len = sizeof(uc);

	if (r->gone || (ci = M.get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) == NULL ||
	    getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &uc,
	    &len) == -1)
		return (uid_t)-1;
	return uc.uid;
}

/* The response is ready: queue it now, or wake the connection up. */
static int
ready(struct httpd_req *r, struct MHD_Response *resp, unsigned int status)
{
	int	waiting = r->state == R_WAITING;

	if (resp == NULL) {
		if (r->gone)
			req_free(r);
		return -1;
	}
	if (r->gone) {
		M.destroy_response(resp);
		req_free(r);
		return 0;
	}
	r->resp = resp;
	r->status = status;
	r->state = R_REPLIED;
	/* Called from the handler: on_access() queues it on return. */
	if (waiting && !r->in_handler) {
		M.resume_connection(r->conn);
		/* MHD takes resumed connections back in its next MHD_run(). */
		sd_event_source_set_time(r->h->timer, clock_mono_us());
		sd_event_source_set_enabled(r->h->timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

int
httpd_reply_hdr(struct httpd_req *r, unsigned int status, const char *ctype,
    const char *body, size_t len, const char *name, const char *value)
{
	struct MHD_Response	*resp;

	resp = M.create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp != NULL && ctype != NULL)
		M.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	if (resp != NULL && name != NULL)
		M.add_response_header(resp, name, value);
	return ready(r, resp, status);
}

int
httpd_reply(struct httpd_req *r, unsigned int status, const char *ctype,
    const char *body, size_t len)
{
	return httpd_reply_hdr(r, status, ctype, body, len, NULL, NULL);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream	*s = cls;
	struct httpd	*h = s->h;
	ssize_t		 n;

	(void)pos;
	/* Over this pass's time: wait for the next (MHD's own pattern). */
	if (clock_mono_us() - h->pass_start > PASS_US && !h->stopping) {
		if (!s->paused) {
			s->paused = 1;
			s->next_paused = h->paused;
			h->paused = s;
			M.suspend_connection(s->conn);
		}
		return 0;
	}
	n = s->rd(s->arg, buf, max);
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void
stream_free(void *cls)
{
	struct stream	*s = cls, **pp;

	for (pp = &s->h->paused; *pp != NULL; pp = &(*pp)->next_paused)
		if (*pp == s) {
			*pp = s->next_paused;
			break;
		}
	if (s->done != NULL)
		s->done(s->arg);
	free(s);
}

int
httpd_reply_stream(struct httpd_req *r, unsigned int status,
    const char *ctype, httpd_reader rd, void (*done)(void *), void *arg)
{
	struct MHD_Response	*resp;
	struct stream		*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		fatal("httpd: %m");
	s->rd = rd;
	s->done = done;
	s->arg = arg;
	s->h = r->h;
	s->conn = r->conn;
	resp = M.create_response_from_callback(MHD_SIZE_UNKNOWN,
	    STREAM_BLOCK, stream_read, s, stream_free);
	if (resp == NULL) {
		stream_free(s);
		return ready(r, NULL, status);
	}
	if (ctype != NULL)
		M.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    ctype);
	return ready(r, resp, status);
}

int
httpd_listen_unix(const char *path, mode_t mode, gid_t gid, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 um;
	int			 fd, probe, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
			    path);
			return -1;
		}
		/* A live socket is another daemon's; a stale one goes. */
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) != -1) {
			r = connect(probe, (struct sockaddr *)&sun,
			    sizeof(sun));
			close(probe);
			if (r == 0) {
				snprintf(err, errlen, "%s: another process "
				    "listens on it", path);
				return -1;
			}
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	/* Made 0600, then opened to its mode once its group is right. */
	um = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(um);
	/*
	 * A socket is made with the process's group: chown() only for
	 * another (a unit's filter may deny chown, @privileged).
	 */
	if (r == -1 || (gid != (gid_t)-1 && gid != getegid() &&
	    chown(path, (uid_t)-1, gid) == -1) || chmod(path, mode) == -1 ||
	    listen(fd, SOMAXCONN) == -1)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

int
httpd_listen_tcp(const char *addr, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[256], *port;
	int		 fd = -1, one = 1, r;

	if (snprintf(host, sizeof(host), "%s", addr) >= (int)sizeof(host) ||
	    (port = strrchr(host, ':')) == NULL) {
		snprintf(err, errlen, "\"%s\": expected HOST:PORT", addr);
		return -1;
	}
	*port++ = '\0';
	memmove(host, host + (host[0] == '['), strlen(host) + 1);
	if (host[0] != '\0' && host[strlen(host) - 1] == ']')
		host[strlen(host) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints,
	    &res)) != 0) {
		snprintf(err, errlen, "\"%s\": %s", addr, gai_strerror(r));
		return -1;
	}
	if ((fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) == -1 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "%s: %s", addr, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}
