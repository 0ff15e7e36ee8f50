/*
 * secret.h: the one reader of a secret (an InfluxDB token or password),
 * shared by the process that sends it (the shipper, with its own copy of
 * lib/) and by --check-config, and the check the daemon makes without
 * reading it.
 *
 * A secret is a regular file's first line: at most SECRET_MAX bytes, not
 * empty, no control character in it (a CR, a NUL, a tab, DEL: a CR LF in
 * a token once became an extra HTTP header), and the file may not be
 * readable by others (0640 root:qosd, or a systemd credential).  What
 * follows the first line is ignored.  Messages never quote the secret.
 */
#ifndef LIB_SECRET_H
#define LIB_SECRET_H

#include <stddef.h>

#define SECRET_MAX	4096		/* bytes of a secret's line */

enum secret_src {
	SECRET_NONE,
	SECRET_FILE,			/* a path */
	SECRET_CRED			/* $CREDENTIALS_DIRECTORY/NAME */
};

/*
 * The file holding the secret: arg itself (SECRET_FILE), or arg in the
 * service's credentials directory (SECRET_CRED), into path.  0, or -1
 * with why (no $CREDENTIALS_DIRECTORY, or too long).
 */
int	secret_path(enum secret_src src, const char *arg, char *path,
	    size_t pathlen, char *why, size_t whylen);
/*
 * Whether path would do, without reading it: it opens for reading, is a
 * regular file, not empty and not readable by others.  0, or -1 with why
 * ("cannot open \"PATH\": ...", "\"PATH\" is empty", ...).
 */
int	secret_check(const char *path, char *why, size_t whylen);
/*
 * Read the secret in path: *out is a malloc()ed string, to be released
 * with secret_free().  Every buffer it went through is wiped.  0, or -1
 * with why (what secret_check() says, or a control character, or a line
 * longer than SECRET_MAX: where, never what).
 */
int	secret_read(const char *path, char **out, char *why, size_t whylen);
/* Wipe and free a secret from secret_read().  NULL is fine. */
void	secret_free(char *s);

#endif /* LIB_SECRET_H */
