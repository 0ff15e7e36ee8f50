/*
 * stamp.c: STAMP (RFC 8762) unauthenticated test packets, timestamps
 * and error estimates.  Offsets are those of the packet figures of
 * sections 4.2.1 and 4.3.1, as listed in stamp.h.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "proto/stamp.h"

/* Section 4.2.1: the Session-Sender test packet. */
#define TEST_SEQ	0
#define TEST_TS		4
#define TEST_EE		12
#define TEST_MBZ	14	/* 30 octets */

/* Section 4.3.1: the Session-Reflector test packet. */
#define REPLY_SEQ	0
#define REPLY_TS	4
#define REPLY_EE	12
#define REPLY_MBZ1	14	/* 2 octets */
#define REPLY_RX_TS	16
#define REPLY_S_SEQ	24
#define REPLY_S_TS	28
#define REPLY_S_EE	36
#define REPLY_MBZ2	38	/* 2 octets */
#define REPLY_S_TTL	40
#define REPLY_MBZ3	41	/* 3 octets */

/* Seconds from the NTP epoch (1900) to the Unix epoch (RFC 5905). */
#define NTP_UNIX	2208988800ULL
#define NS		1000000000ULL

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int
stamp_test_encode(const struct stamp_test *t, void *buf, size_t len)
{
	uint8_t	*p = buf;

	if (len < STAMP_LEN)
		return -1;
	memset(p, 0, len);
	put32(p + TEST_SEQ, t->seq);
	put64(p + TEST_TS, t->ts);
	put16(p + TEST_EE, t->ee);
	return 0;
}

int
stamp_test_decode(const void *buf, size_t len, struct stamp_test *t)
{
	const uint8_t	*p = buf;

	if (len < STAMP_LEN)
		return -1;
	t->seq = get32(p + TEST_SEQ);
	t->ts = get64(p + TEST_TS);
	t->ee = get16(p + TEST_EE);
	return 0;
}

int
stamp_reply_encode(const struct stamp_reply *r, void *buf, size_t len)
{
	uint8_t	*p = buf;

	if (len < STAMP_LEN)
		return -1;
	memset(p, 0, len);
	put32(p + REPLY_SEQ, r->seq);
	put64(p + REPLY_TS, r->ts);
	put16(p + REPLY_EE, r->ee);
	put64(p + REPLY_RX_TS, r->rx_ts);
	put32(p + REPLY_S_SEQ, r->sender_seq);
	put64(p + REPLY_S_TS, r->sender_ts);
	put16(p + REPLY_S_EE, r->sender_ee);
	p[REPLY_S_TTL] = r->sender_ttl;
	return 0;
}

int
stamp_reply_decode(const void *buf, size_t len, struct stamp_reply *r)
{
	const uint8_t	*p = buf;

	if (len < STAMP_LEN)
		return -1;
	r->seq = get32(p + REPLY_SEQ);
	r->ts = get64(p + REPLY_TS);
	r->ee = get16(p + REPLY_EE);
	r->rx_ts = get64(p + REPLY_RX_TS);
	r->sender_seq = get32(p + REPLY_S_SEQ);
	r->sender_ts = get64(p + REPLY_S_TS);
	r->sender_ee = get16(p + REPLY_S_EE);
	r->sender_ttl = p[REPLY_S_TTL];
	return 0;
}

int
stamp_reflect(void *pkt, size_t len, uint32_t seq, uint64_t rx_ts,
    uint16_t ee, uint8_t ttl)
{
	struct stamp_test	 t;
	uint8_t			*p = pkt;

	if (stamp_test_decode(pkt, len, &t) == -1)
		return -1;
	/* Octets 14 to 43 were the sender's MBZ; all are rewritten. */
	put32(p + REPLY_SEQ, seq);
	put16(p + REPLY_EE, ee);
	memset(p + REPLY_MBZ1, 0, 2);
	put64(p + REPLY_RX_TS, rx_ts);
	put32(p + REPLY_S_SEQ, t.seq);
	put64(p + REPLY_S_TS, t.ts);
	put16(p + REPLY_S_EE, t.ee);
	memset(p + REPLY_MBZ2, 0, 2);
	p[REPLY_S_TTL] = ttl;
	memset(p + REPLY_MBZ3, 0, 3);
	return 0;
}

uint32_t
stamp_seq(const void *pkt)
{
	return get32(pkt);
}

void
stamp_set_ts(void *pkt, uint64_t ts)
{
	put64((uint8_t *)pkt + TEST_TS, ts);
}

uint64_t
stamp_ntp_from_timespec(const struct timespec *ts)
{
	uint64_t	sec, frac;

	/* Modulo 2^32: era 1 begins in 2036 (RFC 5905 section 6). */
	sec = (uint64_t)((int64_t)ts->tv_sec + (int64_t)NTP_UNIX) &
	    0xffffffffULL;
	frac = (((uint64_t)ts->tv_nsec << 32) + NS / 2) / NS;
	return sec << 32 | frac;
}

void
stamp_ntp_to_timespec(uint64_t v, struct timespec *ts)
{
	uint64_t	sec = v >> 32, frac = v & 0xffffffffULL;

	if (sec < 0x80000000ULL)
		sec += 0x100000000ULL;
	ts->tv_sec = (time_t)((int64_t)sec - (int64_t)NTP_UNIX);
	/* At most 999999999: (2^32 - 1) * 10^9 + 2^31 < 10^9 * 2^32. */
	ts->tv_nsec = (long)((frac * NS + 0x80000000ULL) >> 32);
}

uint64_t
stamp_ptp_from_timespec(const struct timespec *ts)
{
	return ((uint64_t)ts->tv_sec & 0xffffffffULL) << 32 |
	    (uint64_t)ts->tv_nsec;
}

int
stamp_ptp_to_timespec(uint64_t v, struct timespec *ts)
{
	if ((v & 0xffffffffULL) >= NS)
		return -1;
	ts->tv_sec = (time_t)(v >> 32);
	ts->tv_nsec = (long)(v & 0xffffffffULL);
	return 0;
}

int64_t
stamp_ts_diff_ns(uint64_t a, uint64_t b, int ptp)
{
	uint64_t	d, m, ns;
	int		neg;

	if (ptp) {
		int64_t	s = (int32_t)(uint32_t)((a >> 32) - (b >> 32));

		return s * (int64_t)NS + (int64_t)(a & 0xffffffffULL) -
		    (int64_t)(b & 0xffffffffULL);
	}
	/* 32.32 fixed point: the difference wraps across an era. */
	d = a - b;
	neg = (int64_t)d < 0;
	m = neg ? ~d + 1 : d;
	ns = (m >> 32) * NS +
	    (((m & 0xffffffffULL) * NS + 0x80000000ULL) >> 32);
	return neg ? -(int64_t)ns : (int64_t)ns;
}

uint16_t
stamp_ee_make(int sync, int ptp, uint64_t err_ns)
{
	double		 units = ceil((double)err_ns * 4.294967296);
	unsigned	 scale = 0;
	uint16_t	 ee;

	/*
	 * Units of 2^(scale - 32) s: halve until the multiplier fits (by
	 * scale 59 for the longest err_ns).
	 */
	while (units > 255) {
		units = ceil(units / 2);
		scale++;
	}
	if (units < 1)
		units = 1;
	ee = (uint16_t)(scale << 8 | (unsigned)units);
	if (sync)
		ee |= STAMP_EE_S;
	if (ptp)
		ee |= STAMP_EE_Z;
	return ee;
}

uint64_t
stamp_ee_ns(uint16_t ee)
{
	double	ns = ceil(ldexp((double)STAMP_EE_MULT(ee) * 1e9,
	    (int)STAMP_EE_SCALE(ee) - 32));

	return ns >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)ns;
}

int
stamp_ee_valid(uint16_t ee)
{
	return STAMP_EE_MULT(ee) != 0;
}
