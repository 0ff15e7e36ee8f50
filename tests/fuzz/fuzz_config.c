/*
 * fuzz_config.c: libFuzzer harness for the configuration loader: the
 * input is a configuration file, read with its includes and drop-ins,
 * validated whole, every job through its collector's own configure() (the
 * real plugins, built instrumented beside the harness) and every sink
 * through its type's; then freed.  A load may fail with a message; it
 * must never crash, leak, hang or call exit().
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "scheduler/config.h"
#include "scheduler/plugin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

static char	path[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 exe[PATH_MAX], dir[PATH_MAX + 32], tmp[] = "/tmp/qosd-fuzz-XXXXXX";
	char	*slash;
	ssize_t	 n;

	(void)argc;
	(void)argv;
	log_init(1, 0, "fuzz");
	/* The plugins built with the harness: BUILD/collectors. */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		abort();
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		abort();
	*slash = '\0';
	snprintf(dir, sizeof(dir), "%s/../collectors", exe);
	plugin_set_dir(dir);
	/* A directory of its own: no drop-ins but those an input makes. */
	if (mkdtemp(tmp) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/qosd.conf", tmp);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cfg	*cfg;
	char		 err[4096];
	FILE		*f;

	if ((f = fopen(path, "w")) == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
	if ((cfg = cfg_load(path, err, sizeof(err))) != NULL)
		cfg_free(cfg);
	else if (err[0] == '\0' || strchr(err, '\n') != NULL)
		/* Every refusal says why, on one line. */
		abort();
	return 0;
}
