/*
 * plugin.c: loading collector plugins with dlopen().
 */
#include <sys/stat.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "qosd/collector.h"
#include "scheduler/plugin.h"

struct plugin {
	char			*name;
	void			*handle;
	const struct qosd_collector *desc;
	struct plugin		*next;
};

static struct plugin	*plugins;
static char		*dir_override;
static char		 dir_auto[PATH_MAX];

void
plugin_set_dir(const char *dir)
{
	free(dir_override);
	dir_override = dir != NULL ? strdup(dir) : NULL;
	if (dir != NULL && dir_override == NULL)
		fatal("strdup: %m");
}

/* "collectors" beside the executable, for a binary run from the tree. */
static const char *
dir_beside_exe(void)
{
	char		 exe[PATH_MAX];
	ssize_t		 n;
	char		*slash;
	struct stat	 st;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return NULL;
	*slash = '\0';
	if ((size_t)snprintf(dir_auto, sizeof(dir_auto), "%s/collectors",
	    exe) >= sizeof(dir_auto))
		return NULL;
	if (stat(dir_auto, &st) == -1 || !S_ISDIR(st.st_mode))
		return NULL;
	return dir_auto;
}

const char *
plugin_dir(void)
{
	const char	*d;

	if (dir_override != NULL)
		return dir_override;
	if ((d = getenv("QOSD_PLUGIN_DIR")) != NULL && *d != '\0')
		return d;
	if ((d = dir_beside_exe()) != NULL)
		return d;
	return PLUGINDIR;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "available: a, b, c": the plugins in dir, sorted, for error messages. */
static void
list_available(const char *dir, struct buf *out)
{
	DIR		*d;
	struct dirent	*de;
	char		*names[256];
	size_t		 len, n = 0, i;

	if ((d = opendir(dir)) == NULL) {
		buf_addf(out, "cannot read it: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && n < 256) {
		len = strlen(de->d_name);
		if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0)
			continue;
		if ((names[n] = strndup(de->d_name, len - 3)) != NULL)
			n++;
	}
	closedir(d);
	if (n == 0) {
		buf_adds(out, "none installed");
		return;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n; i++) {
		buf_addf(out, "%s%s", i ? ", " : "available: ", names[i]);
		free(names[i]);
	}
}

static int
valid_name(const char *name)
{
	const char	*p;

	if (*name == '\0' || strlen(name) > 64)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return 0;
	return 1;
}

const struct qosd_collector *
plugin_get(const char *name, char *err, size_t errlen)
{
	struct plugin	*p;
	const char	*dir;
	char		 path[PATH_MAX];
	void		*h;
	const struct qosd_collector *desc;
	struct buf	 avail;

	for (p = plugins; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p->desc;
	dir = plugin_dir();
	buf_init(&avail, 4096);
	if (!valid_name(name) || (size_t)snprintf(path, sizeof(path),
	    "%s/%s.so", dir, name) >= sizeof(path) || access(path, F_OK)) {
		list_available(dir, &avail);
		snprintf(err, errlen, "unknown collector \"%s\" (%s in %s)",
		    name, buf_str(&avail), dir);
		buf_cleanup(&avail);
		return NULL;
	}
	buf_cleanup(&avail);
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "collector \"%s\": cannot load: %s",
		    name, dlerror());
		return NULL;
	}
	desc = dlsym(h, QOSD_COLLECTOR_SYMBOL);
	if (desc == NULL) {
		snprintf(err, errlen, "collector \"%s\": %s exports no %s "
		    "symbol: not a qosd collector", name, path,
		    QOSD_COLLECTOR_SYMBOL);
		dlclose(h);
		return NULL;
	}
	if (desc->abi != QOSD_COLLECTOR_ABI) {
		snprintf(err, errlen, "collector \"%s\": %s was built for "
		    "collector ABI %d, this qosd needs ABI %d: rebuild or "
		    "reinstall the plugin", name, path, desc->abi,
		    QOSD_COLLECTOR_ABI);
		dlclose(h);
		return NULL;
	}
	if (desc->name == NULL || strcmp(desc->name, name) != 0 ||
	    desc->run == NULL || desc->configure == NULL) {
		snprintf(err, errlen, "collector \"%s\": %s has an incomplete "
		    "descriptor (name \"%s\")", name, path,
		    desc->name ? desc->name : "");
		dlclose(h);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(name)) == NULL)
		fatal("plugin_get: %m");
	p->handle = h;
	p->desc = desc;
	p->next = plugins;
	plugins = p;
	log_debug("collector \"%s\" loaded from %s", name, path);
	return desc;
}

void
plugin_unload_except(const char *keep)
{
	struct plugin	*p, *next, **pp = &plugins;

	for (p = plugins; p != NULL; p = next) {
		next = p->next;
		if (keep != NULL && strcmp(p->name, keep) == 0) {
			pp = &p->next;
			continue;
		}
		*pp = next;
		dlclose(p->handle);
		free(p->name);
		free(p);
	}
}

void
plugin_unload_all(void)
{
	plugin_unload_except(NULL);
}
