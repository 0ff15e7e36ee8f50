/*
 * qosctl.c: ask a running qosd through its control API (docs/api.md):
 * status, jobs, run a job now, an ad-hoc probe, a result by id, reload;
 * or, with --nats, the fleet on a NATS bus (docs/nats.md): the agents
 * and their heartbeats, a run or probe on one of them, a result by id
 * from the bus's key/value bucket.
 * Tables for people by default, the daemon's JSON with --json.  The exit
 * status tells a measurement that failed from a command that failed
 * (qosctl(8), EXIT STATUS).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl/client.h"
#include "ctl/natsctl.h"
#include "ctl/show.h"

#define DEFAULT_SOCKET	"/run/qosd/control"
#define EXIT_FAILED	1	/* the run failed */
#define EXIT_NOT_OK	2	/* measured, a result not "ok" */

struct opts {
	struct client	 cl;
	int		 json;
	int		 wait;
	const char	*id;
	double		 wait_s;
	struct natsctl_opts nats;	/* url NULL: the control socket */
	struct natsctl	*nc;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: qosctl [--socket PATH] [--json] COMMAND\n"
"  status                         the daemon: runs, lag, sinks\n"
"  jobs [NAME]                    the jobs, their last runs, next times\n"
"  run JOB [--id ID] [--wait]     run JOB now; its id (with --wait, its\n"
"                                 result)\n"
"  probe COLLECTOR KEY=VALUE... [--id ID] [--wait]\n"
"                                 an ad-hoc probe (VALUE: JSON, or a string)\n"
"  result ID                      a run's or probe's state and points\n"
"  reload                         reload the configuration, say how it went\n"
"usage: qosctl --nats URL [--json] COMMAND\n"
"  agents                         every agent: alive, last seen, version\n"
"  run AGENT JOB [--id ID] [--wait]\n"
"  probe AGENT COLLECTOR KEY=VALUE... [--id ID] [--wait]\n"
"  result ID                      from the bus's bucket\n"
"\n"
"  -s, --socket PATH  the control socket (default " DEFAULT_SOCKET ",\n"
"                     or $QOSD_CONTROL)\n"
"  -j, --json         print the daemon's JSON\n"
"  -w, --wait         wait for the result (run, probe)\n"
"  -t, --timeout S    give up waiting after S seconds (default 300)\n"
"  -i, --id ID        the request's id (default: the daemon makes one)\n"
"  -n, --nats URL     the NATS server (nats://HOST:PORT, or $QOSD_NATS)\n"
"      --creds FILE   NATS credentials (a .creds file)\n"
"      --ca FILE      CA certificates to verify the NATS server with (TLS)\n"
"      --prefix P     the agents' subject_prefix (default qosd)\n"
"      --bucket B     the agents' kv_bucket (default qosd_results)\n"
"exit status: 0 ok; 1 the run failed; 2 measured, a result not ok;\n"
"64 usage; 65 the daemon refused the request; 69 no daemon; 75 too many\n"
"requests; 77 permission denied; 78 the new configuration was refused;\n"
"70 anything else\n");
}

/* An HTTP status (or -1 with errno-like cause) as an exit status. */
static int
exit_for(int status, int cause)
{
	if (status == -1)
		return cause == EACCES || cause == EPERM ? EX_NOPERM :
		    cause == EPROTO ? EX_SOFTWARE : EX_UNAVAILABLE;
	if (status < 300)
		return EX_OK;
	switch (status) {
	case 403:
		return EX_NOPERM;
	case 429:
		return EX_TEMPFAIL;
	case 503:
		return EX_UNAVAILABLE;
	}
	return status < 500 ? EX_DATAERR : EX_SOFTWARE;
}

/* One request; on failure prints why and returns the exit status. */
static int
call(const struct opts *o, const char *method, const char *path,
    const char *body, json_t **out)
{
	char	err[1024];
	int	status, cause, rc;

	status = client_call(&o->cl, method, path, body, out, &cause, err,
	    sizeof(err));
	if (status == -1) {
		fprintf(stderr, "qosctl: %s\n", err);
		return exit_for(-1, cause);
	}
	if ((rc = exit_for(status, 0)) != EX_OK) {
		if (o->json)
			show_json(*out);
		else
			fprintf(stderr, "qosctl: %s (HTTP %d)\n",
			    json_string_value(json_object_get(*out,
			    "error")) ?: "refused", status);
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* A result's exit status: failed run 1, a result not "ok" 2, else 0. */
static int
result_exit(const json_t *res)
{
	const char	*st = json_string_value(json_object_get(res, "state"));
	const json_t	*p, *r;
	size_t		 i;

	if (st != NULL && strcmp(st, "failed") == 0)
		return EXIT_FAILED;
	json_array_foreach(json_object_get(res, "points"), i, p) {
		r = json_object_get(json_object_get(p, "fields"), "result");
		if (json_is_string(r) && strcmp(json_string_value(r),
		    "ok") != 0)
			return EXIT_NOT_OK;
	}
	return EX_OK;
}

static int
cmd_result(const struct opts *o, const char *id)
{
	json_t	*out;
	char	 path[256];
	int	 rc;

	snprintf(path, sizeof(path), "/v1/results/%s", id);
	if ((rc = call(o, "GET", path, NULL, &out)) != EX_OK)
		return rc;
	o->json ? show_json(out) : show_result(out);
	rc = result_exit(out);
	json_decref(out);
	return rc;
}

/* Poll the result of id until it is over (or the wait is). */
static int
wait_result(const struct opts *o, const char *id)
{
	struct timespec	 ts = { 0, 100000000 };
	json_t		*out;
	const char	*st;
	char		 path[256];
	double		 waited = 0;
	int		 rc;

	snprintf(path, sizeof(path), "/v1/results/%s", id);
	for (;;) {
		if ((rc = call(o, "GET", path, NULL, &out)) != EX_OK)
			return rc;
		st = json_string_value(json_object_get(out, "state"));
		if (st != NULL && (strcmp(st, "done") == 0 ||
		    strcmp(st, "failed") == 0))
			break;
		json_decref(out);
		if (waited >= o->wait_s) {
			fprintf(stderr, "qosctl: %s still %s after %g s\n", id,
			    st, o->wait_s);
			return EX_TEMPFAIL;
		}
		nanosleep(&ts, NULL);
		waited += 0.1;
	}
	o->json ? show_json(out) : show_result(out);
	rc = result_exit(out);
	json_decref(out);
	return rc;
}

/* A run or probe asked: its id, or (--wait) its result. */
static int
asked(const struct opts *o, const char *path, json_t *req)
{
	json_t	*out;
	char	*body, id[128];
	int	 rc;

	if (o->id != NULL)
		json_object_set_new(req, "id", json_string(o->id));
	body = json_dumps(req, JSON_COMPACT);
	rc = call(o, "POST", path, body, &out);
	free(body);
	if (rc != EX_OK)
		return rc;
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out,
	    "id")) ?: "");
	if (!o->wait)
		o->json ? show_json(out) : (void)printf("%s\n", id);
	json_decref(out);
	return o->wait ? wait_result(o, id) : EX_OK;
}

/* KEY=VALUE: VALUE as JSON when it reads as JSON, else a string. */
static int
add_setting(json_t *settings, const char *arg)
{
	const char	*eq = strchr(arg, '=');
	char		 key[128];
	json_t		*v;

	if (eq == NULL || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
		fprintf(stderr, "qosctl: \"%s\": expected KEY=VALUE\n", arg);
		return -1;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - arg), arg);
	if ((v = json_loads(eq + 1, JSON_DECODE_ANY, NULL)) == NULL)
		v = json_string(eq + 1);
	json_object_set_new(settings, key, v);
	return 0;
}

static int
cmd_probe(const struct opts *o, int argc, char **argv)
{
	json_t	*req, *settings = json_object();
	int	 i, rc;

	for (i = 1; i < argc; i++)
		if (add_setting(settings, argv[i]) == -1) {
			json_decref(settings);
			return EX_USAGE;
		}
	req = json_pack("{s:s, s:o}", "collector", argv[0], "settings",
	    settings);
	rc = asked(o, "/v1/probes", req);
	json_decref(req);
	return rc;
}

static int
cmd_run(const struct opts *o, const char *job)
{
	json_t	*req = json_object();
	char	*esc, path[512];
	int	 rc;

	if ((esc = curl_easy_escape(NULL, job, 0)) == NULL)
		return EX_SOFTWARE;
	snprintf(path, sizeof(path), "/v1/jobs/%s/run", esc);
	curl_free(esc);
	rc = asked(o, path, req);
	json_decref(req);
	return rc;
}

static int
cmd_get(const struct opts *o, const char *path,
    void (*show)(const json_t *))
{
	json_t	*out;
	int	 rc;

	if ((rc = call(o, "GET", path, NULL, &out)) != EX_OK)
		return rc;
	o->json ? show_json(out) : show(out);
	json_decref(out);
	return EX_OK;
}

static int
cmd_reload(const struct opts *o)
{
	json_t	*out;
	char	 err[1024];
	int	 status, cause;

	status = client_call(&o->cl, "POST", "/v1/reload", NULL, &out, &cause,
	    err, sizeof(err));
	if (status == -1) {
		fprintf(stderr, "qosctl: %s\n", err);
		return exit_for(-1, cause);
	}
	if (o->json)
		show_json(out);
	else if (status == 200)
		printf("reloaded: %lld jobs, %lld sinks\n",
		    (long long)json_integer_value(json_object_get(out, "jobs")),
		    (long long)json_integer_value(json_object_get(out,
		    "sinks")));
	else
		fprintf(stderr, "qosctl: reload refused: %s\n",
		    json_string_value(json_object_get(out, "error")) ?: "?");
	json_decref(out);
	if (status == 422)
		return EX_CONFIG;
	return exit_for(status, 0);
}

/* An answer over NATS: its code as an exit status, why on stderr. */
static int
nats_refused(const struct opts *o, int code, json_t *out, const char *err)
{
	if (code == -1) {
		fprintf(stderr, "qosctl: %s\n", err);
		return EX_UNAVAILABLE;
	}
	if (o->json && out != NULL)
		show_json(out);
	else
		fprintf(stderr, "qosctl: %s (%d)\n", out != NULL ?
		    json_string_value(json_object_get(out, "error")) ?: err :
		    err, code);
	json_decref(out);
	return exit_for(code, 0);
}

static int
nats_result(const struct opts *o, const char *id)
{
	json_t	*out = NULL;
	char	 err[1024];
	int	 code, rc;

	if ((code = natsctl_result(o->nc, id, &out, err, sizeof(err))) != 200)
		return nats_refused(o, code, NULL, err);
	o->json ? show_json(out) : show_result(out);
	rc = result_exit(out);
	json_decref(out);
	return rc;
}

/* Poll the bucket for the result of id until it is over. */
static int
nats_wait(const struct opts *o, const char *id)
{
	struct timespec	 ts = { 0, 100000000 };
	json_t		*out = NULL;
	const char	*st = NULL;
	char		 err[1024];
	double		 waited = 0;
	int		 code, rc;

	for (;;) {
		code = natsctl_result(o->nc, id, &out, err, sizeof(err));
		if (code == -1)
			return nats_refused(o, code, NULL, err);
		if (code == 200) {
			st = json_string_value(json_object_get(out, "state"));
			if (st != NULL && (strcmp(st, "done") == 0 ||
			    strcmp(st, "failed") == 0))
				break;
			json_decref(out);
			out = NULL;
		}
		if (waited >= o->wait_s) {
			fprintf(stderr, "qosctl: %s still %s after %g s\n", id,
			    st != NULL ? st : "not in the bucket", o->wait_s);
			return EX_TEMPFAIL;
		}
		nanosleep(&ts, NULL);
		waited += 0.1;
	}
	o->json ? show_json(out) : show_result(out);
	rc = result_exit(out);
	json_decref(out);
	return rc;
}

static int
nats_ask(const struct opts *o, const char *agent, const char *verb,
    json_t *req)
{
	json_t	*out = NULL;
	char	 err[1024], id[128];
	int	 code;

	if (o->id != NULL)
		json_object_set_new(req, "id", json_string(o->id));
	code = natsctl_request(o->nc, agent, verb, req, &out, err,
	    sizeof(err));
	if (code == -1 || code >= 300)
		return nats_refused(o, code, out, err);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(out,
	    "id")) ?: "");
	if (!o->wait)
		o->json ? show_json(out) : (void)printf("%s\n", id);
	json_decref(out);
	return o->wait ? nats_wait(o, id) : EX_OK;
}

static int
nats_agents(const struct opts *o)
{
	json_t		*out, *a;
	char		 err[1024];
	size_t		 i;

	if (natsctl_agents(o->nc, &out, err, sizeof(err)) == -1)
		return nats_refused(o, -1, NULL, err);
	if (o->json)
		show_json(out);
	else
		json_array_foreach(json_object_get(out, "agents"), i, a)
			show_agent(a);
	json_decref(out);
	return EX_OK;
}

static int
dispatch_nats(struct opts *o, int argc, char **argv)
{
	const char	*cmd = argv[0];
	json_t		*req, *settings;
	char		 err[1024];
	int		 i, rc = -1;

	if (!((strcmp(cmd, "agents") == 0 && argc == 1) ||
	    (strcmp(cmd, "run") == 0 && argc == 3) ||
	    (strcmp(cmd, "probe") == 0 && argc >= 3) ||
	    (strcmp(cmd, "result") == 0 && argc == 2))) {
		usage(stderr);
		return EX_USAGE;
	}
	if ((o->nc = natsctl_open(&o->nats, err, sizeof(err))) == NULL) {
		fprintf(stderr, "qosctl: %s\n", err);
		return EX_UNAVAILABLE;
	}
	if (strcmp(cmd, "agents") == 0)
		rc = nats_agents(o);
	else if (strcmp(cmd, "result") == 0)
		rc = nats_result(o, argv[1]);
	else if (strcmp(cmd, "run") == 0) {
		req = json_pack("{s:s}", "job", argv[2]);
		rc = nats_ask(o, argv[1], "run", req);
		json_decref(req);
	} else {
		settings = json_object();
		for (i = 3; i < argc && rc == -1; i++)
			if (add_setting(settings, argv[i]) == -1)
				rc = EX_USAGE;
		req = json_pack("{s:s, s:o}", "collector", argv[2],
		    "settings", settings);
		if (rc == -1)
			rc = nats_ask(o, argv[1], "probe", req);
		json_decref(req);
	}
	natsctl_close(o->nc);
	o->nc = NULL;
	return rc;
}

static int
dispatch(const struct opts *o, int argc, char **argv)
{
	const char	*cmd = argv[0];
	char		 path[512];

	if (strcmp(cmd, "status") == 0 && argc == 1)
		return cmd_get(o, "/v1/status", show_status);
	if (strcmp(cmd, "jobs") == 0 && argc == 1)
		return cmd_get(o, "/v1/jobs", show_jobs);
	if (strcmp(cmd, "jobs") == 0 && argc == 2) {
		snprintf(path, sizeof(path), "/v1/jobs/%s", argv[1]);
		return cmd_get(o, path, show_job);
	}
	if (strcmp(cmd, "run") == 0 && argc == 2)
		return cmd_run(o, argv[1]);
	if (strcmp(cmd, "probe") == 0 && argc >= 2)
		return cmd_probe(o, argc - 1, argv + 1);
	if (strcmp(cmd, "result") == 0 && argc == 2)
		return cmd_result(o, argv[1]);
	if (strcmp(cmd, "reload") == 0 && argc == 1)
		return cmd_reload(o);
	usage(stderr);
	return EX_USAGE;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "socket",	required_argument, NULL, 's' },
		{ "json",	no_argument,	   NULL, 'j' },
		{ "wait",	no_argument,	   NULL, 'w' },
		{ "timeout",	required_argument, NULL, 't' },
		{ "id",		required_argument, NULL, 'i' },
		{ "nats",	required_argument, NULL, 'n' },
		{ "creds",	required_argument, NULL, 'C' },
		{ "ca",		required_argument, NULL, 'A' },
		{ "prefix",	required_argument, NULL, 'P' },
		{ "bucket",	required_argument, NULL, 'B' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL,		0,		   NULL, 0 }
	};
	struct opts	o;
	int		ch, rc;

	memset(&o, 0, sizeof(o));
	o.cl.socket = getenv("QOSD_CONTROL") ?: DEFAULT_SOCKET;
	o.cl.timeout_s = 120;
	o.wait_s = 300;
	o.nats.url = getenv("QOSD_NATS");
	o.nats.prefix = "qosd";
	o.nats.bucket = "qosd_results";
	o.nats.timeout_s = 10;
	while ((ch = getopt_long(argc, argv, "s:jwt:i:n:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			o.cl.socket = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'w':
			o.wait = 1;
			break;
		case 't':
			o.wait_s = atof(optarg);
			break;
		case 'i':
			o.id = optarg;
			break;
		case 'n':
			o.nats.url = optarg;
			break;
		case 'C':
			o.nats.creds = optarg;
			break;
		case 'A':
			o.nats.ca = optarg;
			break;
		case 'P':
			o.nats.prefix = optarg;
			break;
		case 'B':
			o.nats.bucket = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	if (o.nats.url != NULL && *o.nats.url != '\0')
		return dispatch_nats(&o, argc - optind, argv + optind);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = dispatch(&o, argc - optind, argv + optind);
	curl_global_cleanup();
	return rc;
}
