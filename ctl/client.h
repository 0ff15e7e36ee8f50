/*
 * client.h: qosctl's side of the control API: one HTTP request over the
 * daemon's Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH), its answer
 * as JSON (jansson).
 */
#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

struct client {
	const char	*socket;	/* the daemon's control socket */
	long		 timeout_s;	/* for one request */
};

/*
 * method (GET, POST) path with body (JSON text, or NULL).  The HTTP
 * status, with *out the answer (a new reference; an object), or -1 when
 * the daemon could not be asked (why in err; *errnop the errno-like
 * cause: EACCES, ENOENT, ECONNREFUSED, ETIMEDOUT, EPROTO).
 */
int	client_call(const struct client *, const char *method, const char *path,
	    const char *body, json_t **out, int *errnop, char *err,
	    size_t errlen);

#endif /* CTL_CLIENT_H */
