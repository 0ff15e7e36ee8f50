/*
 * xfer.h: one request of the http collector under way, as libcurl sees
 * it: the callbacks that count the body it receives (up to max_bytes),
 * generate the body it uploads, and set the traffic class of its
 * connections; and the result a finished request reads as.
 */
#ifndef COLLECTORS_HTTP_XFER_H
#define COLLECTORS_HTTP_XFER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

struct xfer {
	uint64_t	 max_bytes;
	uint64_t	 received;	/* response body bytes */
	int		 too_big;	/* past max_bytes: stopped */
	uint64_t	 to_send, sent;	/* upload body */
	int		 dscp;		/* -1: the system's */
	char		 sockerr[128];	/* why a socket could not be set */
};

/*
 * Make the upload pattern: a fixed pseudo-random sequence, nothing kept.
 * Once per process, before the first upload.
 */
void	xfer_pattern_init(void);
/*
 * CURLOPT_WRITEFUNCTION, arg a struct xfer: count the body and throw it
 * away; past max_bytes stop the transfer (too_big).
 */
size_t	xfer_write(char *ptr, size_t size, size_t nmemb, void *arg);
/* CURLOPT_READFUNCTION: the next bytes of the pattern, to_send in all. */
size_t	xfer_read(char *buf, size_t size, size_t nitems, void *arg);
/* CURLOPT_SEEKFUNCTION: a redirect or a retry starts the upload again. */
int	xfer_seek(void *arg, curl_off_t offset, int origin);
/*
 * CURLOPT_SOCKOPTFUNCTION: the DSCP on every connection; a failure stops
 * the transfer with the reason in sockerr.
 */
int	xfer_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose);
/*
 * The result of a finished transfer from curl's code, and for a refused
 * connection the system's error, before the status code is looked at:
 * "ok", "dns_error", "refused", "unreachable", "timeout", "tls_error",
 * "http_error" or "error".
 */
const char *xfer_result(CURLcode rc, long oserr);

#endif /* COLLECTORS_HTTP_XFER_H */
