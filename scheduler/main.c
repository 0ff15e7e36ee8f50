/*
 * main.c: qosd's command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/log.h"
#include "scheduler/config.h"
#include "scheduler/plugin.h"
#include "scheduler/sched.h"
#include "sinks/sink.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: qosd [-v] [--config FILE] [--plugin-dir DIR]\n"
"       qosd --check-config [--config FILE]\n"
"       qosd --once [--job NAME] [--config FILE]\n"
"       qosd --version | --help\n"
"\n"
"  -c, --config FILE     configuration file (default " CFG_DEFAULT_FILE ")\n"
"  -t, --check-config    validate the configuration and read the sinks'\n"
"                        secrets, print nothing on success, exit 0; or\n"
"                        print FILE:LINE: errors, exit 78\n"
"  -1, --once            run each job once, print its line protocol to\n"
"                        standard output and exit\n"
"  -j, --job NAME        with --once: run only job NAME\n"
"  -p, --plugin-dir DIR  load collector plugins from DIR\n"
"  -v, --verbose         log debug messages too\n"
"  -V, --version         print the version and exit\n"
"  -h, --help            print this help and exit\n");
}

struct cli {
	struct sched_opts	 opts;
	int			 check;
	int			 verbose;
};

/*
 * Parse the command line into c.  -1 to go on, or an exit status (after
 * --version, --help, or a usage error).
 */
static int
parse(int argc, char *argv[], struct cli *c)
{
	static const struct option longopts[] = {
		{ "config",	  required_argument, NULL, 'c' },
		{ "check-config", no_argument,	     NULL, 't' },
		{ "once",	  no_argument,	     NULL, '1' },
		{ "job",	  required_argument, NULL, 'j' },
		{ "plugin-dir",	  required_argument, NULL, 'p' },
		{ "verbose",	  no_argument,	     NULL, 'v' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ NULL,		  0,		     NULL, 0 }
	};
	int	ch;

	memset(c, 0, sizeof(*c));
	c->opts.config_file = CFG_DEFAULT_FILE;
	while ((ch = getopt_long(argc, argv, "c:t1j:p:vVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->opts.config_file = optarg;
			break;
		case 't':
			c->check = 1;
			break;
		case '1':
			c->opts.once = 1;
			break;
		case 'j':
			c->opts.only_job = optarg;
			break;
		case 'p':
			plugin_set_dir(optarg);
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'V':
			printf("qosd %s\n", QOSD_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qosd: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (c->opts.only_job != NULL && !c->opts.once) {
		fprintf(stderr, "qosd: --job needs --once\n");
		return EX_USAGE;
	}
	if (c->check && c->opts.once) {
		fprintf(stderr, "qosd: --check-config and --once exclude "
		    "each other\n");
		return EX_USAGE;
	}
	return -1;
}

/*
 * --check-config: what each sink needs from outside the configuration
 * (its secret), read as the service will read it.  0, or -1 with err.
 */
static int
check_sinks(const struct cfg *cfg, char *err, size_t errlen)
{
	size_t	i;

	for (i = 0; i < cfg->nsinks; i++)
		if (cfg->sinks[i].type->check != NULL &&
		    cfg->sinks[i].type->check(cfg->sinks[i].state,
		    cfg->sinks[i].name, err, errlen) == -1)
			return -1;
	return cfg_nats_check(cfg->nats, err, errlen);
}

int
main(int argc, char *argv[])
{
	struct cli	 c;
	struct cfg	*cfg;
	char		 err[4096];
	int		 rc;

	if ((rc = parse(argc, argv, &c)) != -1)
		return rc;
	/* The daemon logs to stderr: systemd runs it in the foreground. */
	log_init(1, c.verbose, "qosd");

	if ((cfg = cfg_load(c.opts.config_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (c.opts.only_job != NULL && cfg_job_find(cfg, c.opts.only_job) ==
	    NULL) {
		fprintf(stderr, "%s: no job named \"%s\"\n", cfg->file,
		    c.opts.only_job);
		cfg_free(cfg);
		return EX_CONFIG;
	}
	if (c.check) {
		rc = check_sinks(cfg, err, sizeof(err)) == -1 ? EX_CONFIG :
		    EX_OK;
		if (rc != EX_OK)
			fprintf(stderr, "%s\n", err);
		cfg_free(cfg);
		plugin_unload_all();
		return rc;
	}
	return sched_main(cfg, &c.opts);
}
