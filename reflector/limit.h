/*
 * limit.h: rate limits on what the reflector sends: a token bucket per
 * source address and one for all sources together.  A reflected packet
 * is never larger than the request (STAMP and echo replies are
 * symmetrical), and a forged source address gets at most its bucket's
 * rate: the reflector cannot be used to flood a third party, however
 * many addresses a flood forges (the total bucket).
 *
 * Rates are in packets per second; 0 turns a limit off.  Buckets start
 * full (burst packets) and refill continuously.
 */
#ifndef REFLECTOR_LIMIT_H
#define REFLECTOR_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "reflector/table.h"

struct limit_bucket {
	uint64_t	 rate;		/* packets per second, 0: no limit */
	uint64_t	 burst;		/* packets */
	uint64_t	 tokens;	/* in millionths of a packet */
	uint64_t	 last_us;
};

struct limit {
	struct limit_bucket total;
	uint64_t	 rate, burst;	/* per source */
	struct table	 sources;
};

/*
 * Limits of rate packets per second (burst at once) per source, remembered
 * for up to slots sources, and of total_rate (total_burst) for all.  0, or
 * -1 (ENOMEM).
 */
int	limit_init(struct limit *, uint64_t rate, uint64_t burst, size_t slots,
	    uint64_t total_rate, uint64_t total_burst);
void	limit_cleanup(struct limit *);
/*
 * Take one packet's token for source a at now_us (CLOCK_MONOTONIC): 1 if
 * it may be answered, 0 if a limit says no.
 */
int	limit_take(struct limit *, const struct in6_addr *a, uint64_t now_us);

#endif /* REFLECTOR_LIMIT_H */
