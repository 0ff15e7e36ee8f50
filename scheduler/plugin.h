/*
 * plugin.h: finding and loading collector plugins.
 *
 * The plugin directory is, in order: plugin_set_dir(), $QOSD_PLUGIN_DIR,
 * the "collectors" directory beside the running executable when it exists
 * (a binary run from the build tree), else the compiled-in PLUGINDIR.
 * A plugin is loaded once and stays loaded until plugin_unload_all().
 */
#ifndef SCHEDULER_PLUGIN_H
#define SCHEDULER_PLUGIN_H

#include <stddef.h>

struct qosd_collector;

/* Use dir instead of the default; the string is copied. */
void	plugin_set_dir(const char *dir);
/* The directory plugins are loaded from. */
const char *plugin_dir(void);
/*
 * The collector called name, loading DIR/name.so on first use.  NULL with
 * a reason in err ("no collector 'x' in DIR (available: a, b)", a dlopen
 * error, or a wrong ABI version).
 */
const struct qosd_collector *plugin_get(const char *name, char *err,
	    size_t errlen);
/* dlclose() everything; for tests and exit. */
void	plugin_unload_all(void);
/*
 * dlclose() every plugin but the one called keep (NULL: every one), whose
 * collectors' objects must be released first.
 */
void	plugin_unload_except(const char *keep);

#endif /* SCHEDULER_PLUGIN_H */
