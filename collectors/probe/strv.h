/*
 * strv.h: NULL-terminated arrays of strings that own their strings (an
 * argv, an environment, header lines), for collectors' states.
 */
#ifndef COLLECTORS_PROBE_STRV_H
#define COLLECTORS_PROBE_STRV_H

#include <stddef.h>

/*
 * A copy of the n strings v[0..n-1] as a NULL-terminated array that owns
 * its strings; free it with strv_free().  NULL when out of memory.
 */
char	**strv_dup(const char *const *v, size_t n);
/* Free v and its strings; NULL is fine. */
void	strv_free(char **v);

#endif /* COLLECTORS_PROBE_STRV_H */
