/*
 * client.c: one request to the control API (see client.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl/client.h"
#include "lib/buf.h"

#define ANSWER_MAX	(64 << 20)

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;

	if (buf_add(b, p, size * n) == -1)
		return 0;
	return size * n;
}

/* What the connection's failure means, for the exit status. */
static int
cause(CURLcode rc, long oserr)
{
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return ETIMEDOUT;
	if (rc == CURLE_COULDNT_CONNECT && oserr != 0)
		return (int)oserr;
	return rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : EPROTO;
}

int
client_call(const struct client *cl, const char *method, const char *path,
    const char *body, json_t **out, int *errnop, char *err, size_t errlen)
{
	CURL			*c;
	CURLcode		 rc;
	struct curl_slist	*hdr = NULL;
	struct buf		 b;
	char			 url[1024], cerr[CURL_ERROR_SIZE] = "";
	long			 status = -1, oserr = 0;
	json_error_t		 je;

	*out = NULL;
	*errnop = 0;
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		*errnop = ENOMEM;
		return -1;
	}
	buf_init(&b, ANSWER_MAX);
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cl->socket);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cl->timeout_s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body != NULL) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		*errnop = cause(rc, oserr);
		snprintf(err, errlen, "%s: %s", cl->socket, cerr[0] != '\0' ?
		    cerr : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if ((*out = json_loadb(b.data != NULL ? b.data : "", b.len, 0,
	    &je)) == NULL || !json_is_object(*out)) {
		snprintf(err, errlen, "%s: HTTP %ld with an answer that is not "
		    "a JSON object: %s", cl->socket, status, je.text);
		json_decref(*out);
		*out = NULL;
		*errnop = EPROTO;
		status = -1;
	}
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	buf_cleanup(&b);
	return (int)status;
}
