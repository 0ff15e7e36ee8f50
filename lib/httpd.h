/*
 * httpd.h: an HTTP/1.1 server on the caller's sd-event loop, for the
 * daemon's control API (a Unix socket) and the prometheus sink (TCP).
 *
 * libmicrohttpd does the protocol, in its external-event mode with
 * epoll: its epoll descriptor is an io source of the loop, MHD_run()
 * runs when it is readable and when MHD_get_timeout() says, and nothing
 * ever blocks or runs in another thread.  The listening socket is made
 * by the caller (httpd_listen_unix(), httpd_listen_tcp()), so that its
 * path, mode and group are the caller's choice before a client can
 * connect.
 *
 * Every request, its body read in full (at most max_body bytes, else 413
 * without calling the handler: see DISCARD_MAX in httpd.c), goes to the
 * handler once.  The handler answers at once with httpd_reply() or
 * httpd_reply_stream(), or later: the connection is then suspended (it
 * costs the loop nothing) until the reply comes.  A request whose
 * connection is gone is still valid until it is answered; the answer is
 * then dropped.
 */
#ifndef LIB_HTTPD_H
#define LIB_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct httpd;
struct httpd_req;

struct httpd_opts {
	unsigned int	 max_conns;	/* connections at once */
	unsigned int	 timeout_s;	/* idle connection, 0: none */
	size_t		 max_body;	/* request body cap, bytes */
	const char	*name;		/* for logs: "control API" */
};

/* A request has come: answer it now or later (see above). */
typedef void	(*httpd_handler)(void *arg, struct httpd_req *);
/*
 * A streamed reply's body: write at most max bytes into buf; the bytes
 * written, 0 when there is no more.  -1 aborts the connection.
 */
typedef ssize_t	(*httpd_reader)(void *arg, char *buf, size_t max);

/*
 * Serve the listening socket fd (adopted: closed by httpd_free()) on ev.
 * NULL with a reason in err.
 */
struct httpd	*httpd_new(sd_event *ev, int fd, const struct httpd_opts *o,
		    httpd_handler h, void *arg, char *err, size_t errlen);
/*
 * Close every connection and the socket; requests not answered yet are
 * freed (their owner must not answer them afterwards).  NULL is fine.
 */
void		 httpd_free(struct httpd *);

/* The request's method ("GET"), path ("/v1/status", no query). */
const char	*httpd_method(const struct httpd_req *);
const char	*httpd_path(const struct httpd_req *);
/* The body (NUL-terminated; "" if none) and its length. */
const char	*httpd_body(const struct httpd_req *, size_t *len);
/* A query argument or a header's value, or NULL. */
const char	*httpd_query(const struct httpd_req *, const char *key);
const char	*httpd_header(const struct httpd_req *, const char *name);
/* The peer's credentials on a Unix socket (SO_PEERCRED); -1 if none. */
uid_t		 httpd_peer_uid(const struct httpd_req *);

/*
 * Answer with status and a copy of body (len bytes) of type ctype.  The
 * request is gone afterwards.  0, or -1 (it could not be queued: the
 * connection is closed).
 */
int		 httpd_reply(struct httpd_req *, unsigned int status,
		    const char *ctype, const char *body, size_t len);
/* The same with a header besides Content-Type (name NULL: none). */
int		 httpd_reply_hdr(struct httpd_req *, unsigned int status,
		    const char *ctype, const char *body, size_t len,
		    const char *name, const char *value);
/*
 * Answer with status and a body of unknown length (chunked) that rd
 * writes as the peer takes it, a piece per pass of the loop; done(arg)
 * is called once the reply is over (sent or not).
 */
int		 httpd_reply_stream(struct httpd_req *, unsigned int status,
		    const char *ctype, httpd_reader rd, void (*done)(void *),
		    void *arg);

/*
 * A listening Unix stream socket at path (a stale socket file there is
 * replaced; a live one is an error), with mode (e.g. 0660) and group gid
 * (-1: the process's).  The descriptor, or -1 with err.
 */
int		 httpd_listen_unix(const char *path, mode_t mode, gid_t gid,
		    char *err, size_t errlen);
/*
 * A listening TCP socket on addr, "HOST:PORT" or "[V6]:PORT" (HOST an
 * address).  The descriptor, or -1 with err.
 */
int		 httpd_listen_tcp(const char *addr, char *err, size_t errlen);

#endif /* LIB_HTTPD_H */
