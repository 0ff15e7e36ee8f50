/*
 * table.h: a fixed-size table of recently seen peers, for the reflector's
 * per-source rate limits and its stateful STAMP sessions.
 *
 * Open addressing with a keyed hash (a random seed per table, so that a
 * sender cannot aim at one bucket) and a probe window of TABLE_PROBE
 * slots: a lookup costs at most that many comparisons however many
 * sources send.  A key not present takes an empty or expired slot of its
 * window, or else the least recently seen one (counted as evicted): the
 * memory is fixed at start, whatever arrives.
 */
#ifndef REFLECTOR_TABLE_H
#define REFLECTOR_TABLE_H

#include <stddef.h>
#include <stdint.h>

#define TABLE_KEY	20	/* an IPv6 (or v4-mapped) address, 2 ports */
#define TABLE_PROBE	8

struct table_entry {
	uint8_t		 key[TABLE_KEY];
	int		 used;
	uint64_t	 last_us;	/* last seen, CLOCK_MONOTONIC */
	uint64_t	 val;		/* the user's */
	uint64_t	 val2;
};

struct table {
	struct table_entry *e;
	size_t		 mask;		/* slots - 1 */
	uint64_t	 ttl_us;	/* unseen this long: expired */
	uint64_t	 seed;
	uint64_t	 evicted;	/* live entries pushed out */
};

/*
 * A table of at least slots entries (rounded up to a power of two) whose
 * entries expire after ttl_us.  0, or -1 (ENOMEM).
 */
int	table_init(struct table *, size_t slots, uint64_t ttl_us);
/* Free the entries.  Idempotent. */
void	table_cleanup(struct table *);
/*
 * The entry for key, marked seen at now_us.  *fresh is set to 1 when the
 * entry is new (its values are then 0), else 0.  Never NULL.
 */
struct table_entry *table_get(struct table *, const uint8_t *key,
	    uint64_t now_us, int *fresh);
/* The entries seen within ttl_us of now_us (a scan, for statistics). */
size_t	table_live(const struct table *, uint64_t now_us);

#endif /* REFLECTOR_TABLE_H */
