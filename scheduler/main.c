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
"  -t, --check-config    validate the configuration, print nothing on\n"
"                        success, exit 0; or print FILE:LINE: errors, exit 78\n"
"  -1, --once            run each job once, print its line protocol to\n"
"                        standard output and exit\n"
"  -j, --job NAME        with --once: run only job NAME\n"
"  -p, --plugin-dir DIR  load collector plugins from DIR\n"
"  -v, --verbose         log debug messages too\n"
"  -V, --version         print the version and exit\n"
"  -h, --help            print this help and exit\n");
}

int
main(int argc, char *argv[])
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
	struct sched_opts	 opts;
	struct cfg		*cfg;
	char			 err[4096];
	int			 ch, check = 0, verbose = 0;

	memset(&opts, 0, sizeof(opts));
	opts.config_file = CFG_DEFAULT_FILE;
	while ((ch = getopt_long(argc, argv, "c:t1j:p:vVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			opts.config_file = optarg;
			break;
		case 't':
			check = 1;
			break;
		case '1':
			opts.once = 1;
			break;
		case 'j':
			opts.only_job = optarg;
			break;
		case 'p':
			plugin_set_dir(optarg);
			break;
		case 'v':
			verbose = 1;
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
	if (opts.only_job != NULL && !opts.once) {
		fprintf(stderr, "qosd: --job needs --once\n");
		return EX_USAGE;
	}
	if (check && opts.once) {
		fprintf(stderr, "qosd: --check-config and --once exclude "
		    "each other\n");
		return EX_USAGE;
	}

	/* The daemon logs to stderr: systemd runs it in the foreground. */
	log_init(1, verbose, "qosd");

	if ((cfg = cfg_load(opts.config_file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (opts.only_job != NULL && cfg_job_find(cfg, opts.only_job) ==
	    NULL) {
		fprintf(stderr, "%s: no job named \"%s\"\n", cfg->file,
		    opts.only_job);
		cfg_free(cfg);
		return EX_CONFIG;
	}
	if (check) {
		cfg_free(cfg);
		plugin_unload_all();
		return EX_OK;
	}
	return sched_main(cfg, &opts);
}
