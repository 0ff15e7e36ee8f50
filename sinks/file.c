/*
 * file.c: the file sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "file.h"
#include "sink.h"

struct file_conf {
	char	*path;		/* "-" is stdout */
};

static const char *const file_settings[] = { "path", NULL };

static int
file_configure(const config_setting_t *s, void **state, char *err,
    size_t errlen)
{
	struct file_conf	*fc;
	const char		*path = "-";

	if (qosd_cfg_string(s, "path", 0, &path, err, errlen) == -1)
		return -1;
	if (strcmp(path, "-") != 0 && path[0] != '/')
		return qosd_cfg_error(config_setting_get_member(s, "path"),
		    err, errlen, "\"%s\" is not an absolute path: give one, "
		    "or \"-\" for standard output", path);
	if ((fc = calloc(1, sizeof(*fc))) == NULL ||
	    (fc->path = strdup(path)) == NULL) {
		free(fc);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*state = fc;
	return 0;
}

static void
file_release(void *state)
{
	struct file_conf	*fc = state;

	if (fc == NULL)
		return;
	free(fc->path);
	free(fc);
}

const struct sink_type sink_file_type = {
	.name = "file",
	.settings = file_settings,
	.configure = file_configure,
	.release = file_release,
};
