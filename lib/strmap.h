/*
 * strmap.h: a map from strings to pointers (open addressing, FNV-1a),
 * for lookups by name that must not grow with the square of the names:
 * 20,000 jobs are checked for duplicates and found again at a reload in
 * linear time.
 */
#ifndef LIB_STRMAP_H
#define LIB_STRMAP_H

#include <stddef.h>

struct strmap;

/* An empty map sized for about hint keys.  fatal() on ENOMEM. */
struct strmap	*strmap_new(size_t hint);
/* Free the map (not the keys or values).  NULL is fine. */
void		 strmap_free(struct strmap *);
/*
 * Map key (borrowed: it must outlive the map) to value (not NULL).  If
 * key is there already, nothing changes and its value is returned; else
 * NULL.
 */
void		*strmap_put(struct strmap *, const char *key, void *value);
/* The value of key, or NULL. */
void		*strmap_get(const struct strmap *, const char *key);
/* The number of keys. */
size_t		 strmap_count(const struct strmap *);

#endif /* LIB_STRMAP_H */
