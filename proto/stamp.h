/*
 * proto/stamp.h: the wire formats of STAMP, the Simple Two-Way Active
 * Measurement Protocol (RFC 8762), unauthenticated mode, shared by the
 * Session-Sender (the udp collector) and the Session-Reflector
 * (qosd-reflector).  No state, no I/O: bytes in, fields out.
 *
 * Both test packets are 44 octets before any padding (RFC 8762 sections
 * 4.2.1 and 4.3.1), all fields in network byte order:
 *
 *   Session-Sender test packet          Session-Reflector test packet
 *    0  Sequence Number (4)              0  Sequence Number (4)
 *    4  Timestamp (8)                    4  Timestamp (8)            T3
 *   12  Error Estimate (2)              12  Error Estimate (2)
 *   14  MBZ (30)                        14  MBZ (2)
 *                                       16  Receive Timestamp (8)    T2
 *                                       24  Session-Sender Seq. (4)
 *                                       28  Session-Sender Timestamp (8) T1
 *                                       36  Session-Sender Error Est. (2)
 *                                       38  MBZ (2)
 *                                       40  Ses-Sender TTL (1)
 *                                       41  MBZ (3)
 *
 * STAMP packets are symmetrical by default (section 4): the reflected
 * packet has the size of the packet received, and a sender pads its
 * packet with zeroes to the size it wants on the wire.  MBZ octets are
 * written as zeroes and ignored on receipt (RFC 8972 places its SSID and
 * TLVs there and beyond; this module neither writes nor reads them).
 *
 * Timestamps travel as 64 bits: by default the NTP format of RFC 5905
 * section 6 (32-bit seconds since 1900, 32-bit binary fraction); with the
 * Z bit of the error estimate, the truncated PTPv2 format of RFC 8186
 * section 2.3 (32-bit seconds since 1970, 32-bit nanoseconds).  This
 * module keeps them as the raw 64-bit value, seconds in the high half,
 * and converts from and to a struct timespec read from CLOCK_REALTIME.
 */
#ifndef PROTO_STAMP_H
#define PROTO_STAMP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STAMP_PORT	862	/* the default destination port, section 4.1 */
#define STAMP_LEN	44	/* both base packets, sections 4.2.1, 4.3.1 */

/*
 * Error Estimate (RFC 4656 section 4.1.2; the Z bit of RFC 8186 section
 * 2.3, as RFC 8762 section 4.2.1 uses it):
 *
 *   |S|Z|   Scale   |   Multiplier  |
 *
 * S: the clock is synchronized to UTC by an external source.  Z: the
 * timestamps are in the PTPv2 truncated format.  The error is
 * Multiplier * 2^(Scale - 32) seconds; a Multiplier of 0 is invalid.
 */
#define STAMP_EE_S		0x8000
#define STAMP_EE_Z		0x4000
#define STAMP_EE_SCALE(ee)	(((ee) >> 8) & 0x3f)
#define STAMP_EE_MULT(ee)	((ee) & 0xff)

/* A Session-Sender test packet (section 4.2.1). */
struct stamp_test {
	uint32_t	 seq;
	uint64_t	 ts;		/* T1, sent */
	uint16_t	 ee;
};

/* A Session-Reflector test packet (section 4.3.1). */
struct stamp_reply {
	uint32_t	 seq;		/* the reflector's, or the sender's */
	uint64_t	 ts;		/* T3, sent by the reflector */
	uint16_t	 ee;
	uint64_t	 rx_ts;		/* T2, received by the reflector */
	uint32_t	 sender_seq;
	uint64_t	 sender_ts;	/* T1 */
	uint16_t	 sender_ee;
	uint8_t		 sender_ttl;	/* TTL or hop limit as received */
};

/*
 * Write a test packet into buf, len octets (at least STAMP_LEN; the rest
 * is zero padding).  0, or -1 if len is too short.
 */
int	stamp_test_encode(const struct stamp_test *, void *buf, size_t len);
/* Read a test packet of len octets.  0, or -1 if shorter than STAMP_LEN. */
int	stamp_test_decode(const void *buf, size_t len, struct stamp_test *);
/*
 * Write a reflected packet into buf, len octets (at least STAMP_LEN; the
 * rest is zero padding).  0, or -1 if len is too short.
 */
int	stamp_reply_encode(const struct stamp_reply *, void *buf, size_t len);
/* Read a reflected packet.  0, or -1 if shorter than STAMP_LEN. */
int	stamp_reply_decode(const void *buf, size_t len, struct stamp_reply *);

/*
 * Turn the test packet in pkt (len octets) into its reflection, in place:
 * the sender's sequence number, timestamp and error estimate move to
 * their Session-Sender fields, seq (the reflector's own in stateful mode,
 * the sender's in stateless mode, section 4), rx_ts (T2), ee and ttl are
 * written, MBZ octets zeroed; octets past STAMP_LEN (padding) stay as
 * they came, so the reply has the size of the request.  The Timestamp
 * (T3) is left for stamp_set_ts(), as late as possible before sending.
 * 0, or -1 if len is shorter than STAMP_LEN.
 */
int	stamp_reflect(void *pkt, size_t len, uint32_t seq, uint64_t rx_ts,
	    uint16_t ee, uint8_t ttl);
/* The Sequence Number of a packet of either kind (len >= 4 is checked). */
uint32_t stamp_seq(const void *pkt);
/* Write the Timestamp field (T1 or T3) of a packet of either kind. */
void	stamp_set_ts(void *pkt, uint64_t ts);

/* A CLOCK_REALTIME time as an NTP timestamp (RFC 5905 section 6). */
uint64_t stamp_ntp_from_timespec(const struct timespec *);
/*
 * An NTP timestamp as CLOCK_REALTIME.  Seconds below 2^31 are read as
 * NTP era 1 (from 2036-02-07), so times from 1968 to 2104 come back.
 */
void	stamp_ntp_to_timespec(uint64_t, struct timespec *);
/* A CLOCK_TAI time as a truncated PTPv2 timestamp (RFC 8186 section 2.3). */
uint64_t stamp_ptp_from_timespec(const struct timespec *);
/* A truncated PTPv2 timestamp as a time; -1 if its nanoseconds overflow. */
int	stamp_ptp_to_timespec(uint64_t, struct timespec *);
/*
 * a - b in nanoseconds, for two timestamps of the same format (ptp: the Z
 * bit); NTP differences are exact to the nanosecond across an era.
 */
int64_t	stamp_ts_diff_ns(uint64_t a, uint64_t b, int ptp);

/*
 * An error estimate: sync (the S bit), ptp (the Z bit) and the smallest
 * Scale and Multiplier that cover err_ns nanoseconds (at least one unit).
 */
uint16_t stamp_ee_make(int sync, int ptp, uint64_t err_ns);
/* The error an estimate names, in nanoseconds (rounded up). */
uint64_t stamp_ee_ns(uint16_t ee);
/* Whether an estimate is valid: a Multiplier of 0 is not (RFC 4656). */
int	stamp_ee_valid(uint16_t ee);

#endif /* PROTO_STAMP_H */
