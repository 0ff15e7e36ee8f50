/*
 * strv.c: NULL-terminated arrays of owned strings.
 */
#include <stdlib.h>
#include <string.h>

#include "collectors/probe/strv.h"

char **
strv_dup(const char *const *v, size_t n)
{
	char	**d;
	size_t	  i;

	if ((d = calloc(n + 1, sizeof(*d))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if ((d[i] = strdup(v[i])) == NULL) {
			strv_free(d);
			return NULL;
		}
	return d;
}

void
strv_free(char **v)
{
	char	**p;

	if (v == NULL)
		return;
	for (p = v; *p != NULL; p++)
		free(*p);
	free(v);
}
