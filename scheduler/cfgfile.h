/*
 * cfgfile.h: reading configuration files for config.c, safely.
 *
 * libconfig's own @include follows whatever the path names: a directory
 * made its scanner call exit(2), a FIFO hung the reader, and a relative
 * path was taken from the working directory ("/" under systemd).  So
 * qosd reads the files itself: @include "PATH" (alone on its line) is
 * resolved relative to the directory of the file that includes it, must
 * name a regular file (checked before it is read, without blocking), and
 * is expanded in place, at most CFGFILE_DEPTH deep and never in a cycle;
 * a NUL byte in a file is an error.  The text goes to libconfig whole,
 * and every setting's file and line are then set back to where it was
 * written, so that errors read "FILE:LINE:" in the right file.
 *
 * Drop-ins: every regular file named *.conf in the directory conf.d
 * beside the main file, in name order (see qosd.conf(5)).
 */
#ifndef SCHEDULER_CFGFILE_H
#define SCHEDULER_CFGFILE_H

#include <stddef.h>

#include <libconfig.h>

#define CFGFILE_DEPTH	8		/* includes within includes */
#define CFGFILE_MAX	(64 << 20)	/* bytes of a file and its includes */

struct cfgfile;

/*
 * Read path and its includes into a libconfig tree.  NULL with the whole
 * message ("FILE:LINE: what is wrong") in err.
 */
struct cfgfile	*cfgfile_read(const char *path, char *err, size_t errlen);
/* The tree's root; it lives as long as f. */
config_setting_t *cfgfile_root(struct cfgfile *f);
/* The file read. */
const char	*cfgfile_path(const struct cfgfile *f);
/* Free the tree and the file names its settings point to.  NULL is fine. */
void		 cfgfile_free(struct cfgfile *f);
/*
 * The drop-ins of the configuration file main: *paths (malloc()ed, each
 * and the array) holds *n paths in name order, none if the directory is
 * absent.  0, or -1 with err (it exists but cannot be read).
 */
int		 cfgfile_dropins(const char *main, char ***paths, size_t *n,
		    char *err, size_t errlen);

#endif /* SCHEDULER_CFGFILE_H */
