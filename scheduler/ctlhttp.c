/*
 * ctlhttp.c: the control API's HTTP/JSON layer (see ctlhttp.h).
 */
#define _GNU_SOURCE

#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "lib/httpd.h"
#include "lib/log.h"
#include "scheduler/config.h"
#include "scheduler/control.h"
#include "scheduler/ctlhttp.h"

#define JSON_TYPE	"application/json"

#define JOBS_PAGE	10		/* jobs per piece of GET /v1/jobs */

struct ctlhttp {
	struct control	*c;
	struct httpd	*h;
};

/* GET /v1/jobs, written a page of jobs at a time. */
struct jobs_stream {
	struct control	*c;
	size_t		 next;		/* the next job to write */
	int		 state;		/* 0 head, 1 pages, 2 tail, 3 done */
	char		*pending;	/* written, not yet taken */
	size_t		 len, off;
};

/* Answer r with code and body (a reference taken). */
static void
reply(struct httpd_req *r, int code, json_t *body)
{
	char	*s;

	if (body == NULL)
		body = json_object();
	if ((s = json_dumps(body, JSON_COMPACT)) == NULL)
		fatal("control API: json_dumps");
	json_decref(body);
	/* One line, as curl users and jq like it. */
	s = realloc(s, strlen(s) + 2);
	if (s == NULL)
		fatal("control API: %m");
	strcat(s, "\n");
	httpd_reply(r, (unsigned int)code, JSON_TYPE, s, strlen(s));
	free(s);
}

static void
reply_error(struct httpd_req *r, int code, const char *msg)
{
	reply(r, code, json_pack("{s:s}", "error", msg));
}

/* A later answer (a probe, a reload). */
static void
done(void *arg, int code, json_t *body)
{
	reply(arg, code, body);
}

static void
method_not_allowed(struct httpd_req *r, const char *allow)
{
	char	msg[128];

	snprintf(msg, sizeof(msg), "{\"error\":\"method %s not allowed: "
	    "%s\"}\n", httpd_method(r), allow);
	httpd_reply_hdr(r, 405, JSON_TYPE, msg, strlen(msg), "Allow", allow);
}

/* The body as JSON: an object, or NULL for none; -1 after answering. */
static int
body_json(struct httpd_req *r, json_t **out)
{
	json_error_t	 e;
	const char	*b;
	size_t		 len;

	*out = NULL;
	b = httpd_body(r, &len);
	if (len == 0)
		return 0;
	if ((*out = json_loadb(b, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		char	msg[256];

		snprintf(msg, sizeof(msg), "the body is not JSON: line %d, "
		    "column %d: %s", e.line, e.column, e.text);
		reply_error(r, 400, msg);
		return -1;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		reply_error(r, 400, "the body is not a JSON object");
		return -1;
	}
	return 0;
}

static void
who(struct httpd_req *r, char *buf, size_t len)
{
	uid_t	uid = httpd_peer_uid(r);

	if (uid == (uid_t)-1)
		snprintf(buf, len, "an unknown peer");
	else
		snprintf(buf, len, "uid %lu", (unsigned long)uid);
}

/* POST /v1/jobs/NAME/run */
static void
job_run(struct ctlhttp *x, struct httpd_req *r, const char *name)
{
	json_t		*body, *out = NULL;
	const char	*id = NULL;
	int		 code;

	if (body_json(r, &body) == -1)
		return;
	if (body != NULL && json_object_get(body, "id") != NULL &&
	    (id = json_string_value(json_object_get(body, "id"))) == NULL) {
		json_decref(body);
		reply_error(r, 400, "\"id\": expected a string");
		return;
	}
	code = control_run(x->c, name, id, &out);
	json_decref(body);
	reply(r, code, out);
}

/* The next piece of the list: its text, malloc()ed, or NULL at the end. */
static char *
jobs_piece(struct jobs_stream *js)
{
	json_t	*a;
	char	*s, *p;
	size_t	 len;

	switch (js->state) {
	case 0:
		js->state = 1;
		return strdup("{\"jobs\":[");
	case 1:
		if (js->next >= control_njobs(js->c)) {
			js->state = 2;
			return strdup("");
		}
		control_jobs_page(js->c, js->next, JOBS_PAGE, &a);
		s = json_dumps(a, JSON_COMPACT);
		json_decref(a);
		if (s == NULL || (len = strlen(s)) < 2) {
			free(s);
			js->state = 2;
			return strdup("");
		}
		/* The array's elements, a comma before all but the first. */
		s[len - 1] = '\0';
		if (asprintf(&p, "%s%s", js->next > 0 ? "," : "", s + 1) == -1)
			p = NULL;
		free(s);
		js->next += JOBS_PAGE;
		return p;
	case 2:
		js->state = 3;
		return strdup("]}\n");
	}
	return NULL;
}

static ssize_t
jobs_read(void *arg, char *buf, size_t max)
{
	struct jobs_stream	*js = arg;
	size_t			 n;

	while (js->pending == NULL || js->off == js->len) {
		free(js->pending);
		if ((js->pending = jobs_piece(js)) == NULL)
			return 0;
		js->len = strlen(js->pending);
		js->off = 0;
	}
	n = js->len - js->off < max ? js->len - js->off : max;
	memcpy(buf, js->pending + js->off, n);
	js->off += n;
	return (ssize_t)n;
}

static void
jobs_done(void *arg)
{
	struct jobs_stream	*js = arg;

	free(js->pending);
	free(js);
}

static void
jobs_list(struct ctlhttp *x, struct httpd_req *r)
{
	struct jobs_stream	*js;

	if ((js = calloc(1, sizeof(*js))) == NULL)
		fatal("control API: %m");
	js->c = x->c;
	httpd_reply_stream(r, 200, JSON_TYPE, jobs_read, jobs_done, js);
}

static void
route_jobs(struct ctlhttp *x, struct httpd_req *r, const char *rest,
    int get)
{
	char		 name[256];
	const char	*slash;
	json_t		*out = NULL;
	int		 code;

	if (*rest == '\0') {
		if (!get) {
			method_not_allowed(r, "GET");
			return;
		}
		jobs_list(x, r);
		return;
	}
	slash = strchr(rest, '/');
	if ((size_t)(slash != NULL ? slash - rest : (long)strlen(rest)) >=
	    sizeof(name)) {
		reply_error(r, 404, "no such job");
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(slash != NULL ?
	    slash - rest : (long)strlen(rest)), rest);
	if (slash == NULL) {
		if (!get) {
			method_not_allowed(r, "GET");
			return;
		}
		code = control_job(x->c, name, &out);
		reply(r, code, out);
	} else if (strcmp(slash, "/run") == 0) {
		if (get)
			method_not_allowed(r, "POST");
		else
			job_run(x, r, name);
	} else
		reply_error(r, 404, "no such endpoint");
}

static void
probe(struct ctlhttp *x, struct httpd_req *r)
{
	json_t	*body;
	char	 w[64];

	if (body_json(r, &body) == -1)
		return;
	if (body == NULL) {
		reply_error(r, 400, "expected {\"collector\": \"NAME\", "
		    "\"settings\": {...}}");
		return;
	}
	who(r, w, sizeof(w));
	control_probe(x->c, body, w, done, r);
	json_decref(body);
}

static void
handle(void *arg, struct httpd_req *r)
{
	struct ctlhttp	*x = arg;
	const char	*path = httpd_path(r), *m = httpd_method(r);
	json_t		*out = NULL;
	int		 get = strcmp(m, "GET") == 0, post;
	int		 code;

	post = strcmp(m, "POST") == 0;
	if (!get && !post) {
		method_not_allowed(r, "GET, POST");
		return;
	}
	if (strcmp(path, "/v1/status") == 0) {
		if (!get) {
			method_not_allowed(r, "GET");
			return;
		}
		code = control_status(x->c, &out);
		reply(r, code, out);
	} else if (strcmp(path, "/v1/jobs") == 0)
		route_jobs(x, r, "", get);
	else if (strncmp(path, "/v1/jobs/", 9) == 0)
		route_jobs(x, r, path + 9, get);
	else if (strncmp(path, "/v1/results/", 12) == 0) {
		if (!get) {
			method_not_allowed(r, "GET");
			return;
		}
		code = control_result(x->c, path + 12, &out);
		reply(r, code, out);
	} else if (strcmp(path, "/v1/probes") == 0) {
		if (!post) {
			method_not_allowed(r, "POST");
			return;
		}
		probe(x, r);
	} else if (strcmp(path, "/v1/reload") == 0) {
		if (!post) {
			method_not_allowed(r, "POST");
			return;
		}
		control_reload(x->c, done, r);
	} else
		reply_error(r, 404, "no such endpoint (see docs/api.md)");
}

/* The socket's group, or -1 (logged) for the daemon's own. */
static gid_t
socket_gid(const char *name)
{
	struct group	*g;

	if (name == NULL)
		return (gid_t)-1;
	errno = 0;
	if ((g = getgrnam(name)) == NULL) {
		log_warning("control API: no group \"%s\" (control."
		    "socket_group): the socket keeps the daemon's group",
		    name);
		return (gid_t)-1;
	}
	return g->gr_gid;
}

struct ctlhttp *
ctlhttp_new(struct control *c, sd_event *ev, const struct cfg_control *cc)
{
	struct httpd_opts	 o;
	struct ctlhttp		*x;
	struct stat		 st;
	char			 dir[PATH_MAX], err[1024], *slash;
	int			 fd;

	snprintf(dir, sizeof(dir), "%s", cc->socket);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (stat(dir, &st) == -1) {
		log_notice("control API off: %s: %m (under systemd the unit's "
		    "RuntimeDirectory=qosd makes it)", dir);
		return NULL;
	}
	if ((fd = httpd_listen_unix(cc->socket, cc->socket_mode,
	    socket_gid(cc->socket_group), err, sizeof(err))) == -1) {
		log_err("control API off: %s", err);
		return NULL;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		fatal("control API: %m");
	x->c = c;
	memset(&o, 0, sizeof(o));
	o.max_conns = cc->max_connections;
	o.timeout_s = cc->connection_timeout_s;
	o.max_body = cc->max_request;
	o.name = "control API";
	if ((x->h = httpd_new(ev, fd, &o, handle, x, err,
	    sizeof(err))) == NULL) {
		log_err("control API off: %s", err);
		free(x);
		return NULL;
	}
	log_info("control API on %s", cc->socket);
	return x;
}

void
ctlhttp_free(struct ctlhttp *x)
{
	if (x == NULL)
		return;
	httpd_free(x->h);
	free(x);
}
