/*
 * strmap.c: strings to pointers, open addressing with linear probing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/strmap.h"

struct slot {
	const char	*key;
	void		*value;
	uint64_t	 hash;
};

struct strmap {
	struct slot	*s;
	size_t		 cap;		/* a power of two */
	size_t		 n;
};

static uint64_t
hash(const char *k)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (; *k != '\0'; k++)
		h = (h ^ (unsigned char)*k) * 0x100000001b3ULL;
	return h;
}

static struct slot *
alloc_slots(size_t cap)
{
	struct slot	*s;

	if (cap > SIZE_MAX / sizeof(*s) ||
	    (s = calloc(cap, sizeof(*s))) == NULL)
		fatal("strmap: %m");
	return s;
}

struct strmap *
strmap_new(size_t hint)
{
	struct strmap	*m;
	size_t		 cap = 16;

	while (cap < hint * 2 && cap < ((size_t)1 << 40))
		cap *= 2;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("strmap: %m");
	m->s = alloc_slots(cap);
	m->cap = cap;
	return m;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->s);
	free(m);
}

/* The slot of key, or the empty one where it would go. */
static struct slot *
find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t	i = (size_t)h & (m->cap - 1);

	while (m->s[i].key != NULL && (m->s[i].hash != h ||
	    strcmp(m->s[i].key, key) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->s[i];
}

static void
grow(struct strmap *m)
{
	struct slot	*old = m->s;
	size_t		 ocap = m->cap, i;

	m->cap *= 2;
	m->s = alloc_slots(m->cap);
	for (i = 0; i < ocap; i++)
		if (old[i].key != NULL)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
}

void *
strmap_put(struct strmap *m, const char *key, void *value)
{
	uint64_t	 h = hash(key);
	struct slot	*s = find(m, key, h);

	if (s->key != NULL)
		return s->value;
	s->key = key;
	s->value = value;
	s->hash = h;
	if (++m->n * 10 > m->cap * 7)
		grow(m);
	return NULL;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	struct slot	*s = find(m, key, hash(key));

	return s->key != NULL ? s->value : NULL;
}

size_t
strmap_count(const struct strmap *m)
{
	return m->n;
}
