/*
 * check_stamp.c: proto/stamp against the byte layouts of RFC 8762
 * (Session-Sender test packet, section 4.2.1; Session-Reflector test
 * packet, section 4.3.1), the NTP timestamp format (RFC 5905 section 6),
 * the truncated PTPv2 format (RFC 8186 section 2.3) and the Error
 * Estimate (RFC 4656 section 4.1.2).  The expected bytes are written out
 * by hand from the RFCs' figures, one 32-bit row of a figure per line.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "proto/stamp.h"
#include "tests/unit/suites.h"

/* Section 4.2.1: seq 0x01020304, T1 0x1112131415161718, S=1 scale 1 mult 1. */
static const uint8_t test_pkt[STAMP_LEN] = {
	0x01, 0x02, 0x03, 0x04,		/* Sequence Number */
	0x11, 0x12, 0x13, 0x14,		/* Timestamp */
	0x15, 0x16, 0x17, 0x18,
	0x81, 0x01, 0x00, 0x00,		/* Error Estimate | MBZ */
	0, 0, 0, 0, 0, 0, 0, 0,		/* MBZ (30 octets in all) */
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0,
};

/* Section 4.3.1, every field distinct. */
static const uint8_t reply_pkt[STAMP_LEN] = {
	0xa0, 0xa1, 0xa2, 0xa3,		/* Sequence Number */
	0xb0, 0xb1, 0xb2, 0xb3,		/* Timestamp (T3) */
	0xb4, 0xb5, 0xb6, 0xb7,
	0x40, 0x05, 0x00, 0x00,		/* Error Estimate (Z) | MBZ */
	0xc0, 0xc1, 0xc2, 0xc3,		/* Receive Timestamp (T2) */
	0xc4, 0xc5, 0xc6, 0xc7,
	0x01, 0x02, 0x03, 0x04,		/* Session-Sender Sequence Number */
	0x11, 0x12, 0x13, 0x14,		/* Session-Sender Timestamp (T1) */
	0x15, 0x16, 0x17, 0x18,
	0x81, 0x01, 0x00, 0x00,		/* Session-Sender Error Estimate | MBZ */
	0x3f, 0x00, 0x00, 0x00,		/* Ses-Sender TTL | MBZ */
};

START_TEST(test_stamp_test_encode_matches_rfc_layout)
{
	struct stamp_test	 t = { 0x01020304, 0x1112131415161718ULL,
				    STAMP_EE_S | 0x0101 };
	uint8_t			 buf[60], want[60];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(stamp_test_encode(&t, buf, STAMP_LEN), 0);
	ck_assert_mem_eq(buf, test_pkt, STAMP_LEN);
	ck_assert_uint_eq(buf[STAMP_LEN], 0xee);	/* wrote only len */

	/* Padding to 60 octets is zeroes. */
	memset(want, 0, sizeof(want));
	memcpy(want, test_pkt, STAMP_LEN);
	ck_assert_int_eq(stamp_test_encode(&t, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(stamp_test_encode(&t, buf, STAMP_LEN - 1), -1);
}
END_TEST

START_TEST(test_stamp_test_decode_reads_fields_ignores_mbz)
{
	struct stamp_test	 t;
	uint8_t			 buf[STAMP_LEN + 8];

	memcpy(buf, test_pkt, STAMP_LEN);
	memset(buf + 16, 0x5a, sizeof(buf) - 16);	/* RFC 8972 SSID, TLVs */
	ck_assert_int_eq(stamp_test_decode(buf, sizeof(buf), &t), 0);
	ck_assert_uint_eq(t.seq, 0x01020304);
	ck_assert_uint_eq(t.ts, 0x1112131415161718ULL);
	ck_assert_uint_eq(t.ee, 0x8101);
	ck_assert_int_eq(stamp_test_decode(buf, STAMP_LEN - 1, &t), -1);
	ck_assert_int_eq(stamp_test_decode(buf, 0, &t), -1);
}
END_TEST

START_TEST(test_stamp_reply_encode_decode_match_rfc_layout)
{
	struct stamp_reply	 r = {
		.seq = 0xa0a1a2a3, .ts = 0xb0b1b2b3b4b5b6b7ULL,
		.ee = STAMP_EE_Z | 0x0005, .rx_ts = 0xc0c1c2c3c4c5c6c7ULL,
		.sender_seq = 0x01020304,
		.sender_ts = 0x1112131415161718ULL, .sender_ee = 0x8101,
		.sender_ttl = 63,
	}, d;
	uint8_t			 buf[STAMP_LEN];

	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(stamp_reply_encode(&r, buf, sizeof(buf)), 0);
	ck_assert_mem_eq(buf, reply_pkt, STAMP_LEN);
	ck_assert_int_eq(stamp_reply_encode(&r, buf, STAMP_LEN - 1), -1);

	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(stamp_reply_decode(reply_pkt, STAMP_LEN, &d), 0);
	ck_assert_uint_eq(d.seq, r.seq);
	ck_assert_uint_eq(d.ts, r.ts);
	ck_assert_uint_eq(d.ee, r.ee);
	ck_assert_uint_eq(d.rx_ts, r.rx_ts);
	ck_assert_uint_eq(d.sender_seq, r.sender_seq);
	ck_assert_uint_eq(d.sender_ts, r.sender_ts);
	ck_assert_uint_eq(d.sender_ee, r.sender_ee);
	ck_assert_uint_eq(d.sender_ttl, 63);
	ck_assert_int_eq(stamp_reply_decode(reply_pkt, STAMP_LEN - 1, &d), -1);
}
END_TEST

START_TEST(test_stamp_reflect_in_place_keeps_size_and_padding)
{
	uint8_t	 pkt[STAMP_LEN + 4], want[STAMP_LEN + 4];

	/* A sender packet with non-zero MBZ (as RFC 8972 fills it). */
	memcpy(pkt, test_pkt, STAMP_LEN);
	memset(pkt + 14, 0x77, STAMP_LEN - 14);
	memcpy(pkt + STAMP_LEN, "\xde\xad\xbe\xef", 4);	/* padding */
	ck_assert_int_eq(stamp_reflect(pkt, sizeof(pkt), 0xa0a1a2a3,
	    0xc0c1c2c3c4c5c6c7ULL, STAMP_EE_Z | 0x0005, 63), 0);
	stamp_set_ts(pkt, 0xb0b1b2b3b4b5b6b7ULL);
	memcpy(want, reply_pkt, STAMP_LEN);
	memcpy(want + STAMP_LEN, "\xde\xad\xbe\xef", 4);
	ck_assert_mem_eq(pkt, want, sizeof(want));
	ck_assert_uint_eq(stamp_seq(pkt), 0xa0a1a2a3);

	ck_assert_int_eq(stamp_reflect(pkt, STAMP_LEN - 1, 0, 0, 1, 0), -1);
	ck_assert_mem_eq(pkt, want, sizeof(want));	/* untouched */
}
END_TEST

START_TEST(test_stamp_set_ts_writes_timestamp_field)
{
	uint8_t	 pkt[STAMP_LEN];

	memcpy(pkt, test_pkt, STAMP_LEN);
	stamp_set_ts(pkt, 0x0102030405060708ULL);
	ck_assert_mem_eq(pkt + 4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	ck_assert_mem_eq(pkt, test_pkt, 4);
	ck_assert_mem_eq(pkt + 12, test_pkt + 12, STAMP_LEN - 12);
}
END_TEST

START_TEST(test_stamp_ntp_known_instants)
{
	struct timespec	 ts = { 0, 0 }, back;

	/* The Unix epoch is NTP second 2208988800 = 0x83aa7e80. */
	ck_assert_uint_eq(stamp_ntp_from_timespec(&ts), 0x83aa7e8000000000ULL);
	/* Half a second is a fraction of 2^31. */
	ts.tv_nsec = 500000000;
	ck_assert_uint_eq(stamp_ntp_from_timespec(&ts), 0x83aa7e8080000000ULL);
	/* Era 1 begins at 2036-02-07 06:28:16 UTC, Unix 2085978496. */
	ts.tv_sec = 2085978496;
	ts.tv_nsec = 0;
	ck_assert_uint_eq(stamp_ntp_from_timespec(&ts), 0);
	stamp_ntp_to_timespec(0, &back);
	ck_assert_int_eq(back.tv_sec, 2085978496);
	/* NTP second 2^31 is the earliest read as era 0: 1968-01-20. */
	stamp_ntp_to_timespec(0x8000000000000000ULL, &back);
	ck_assert_int_eq(back.tv_sec, 2147483648LL - 2208988800LL);
	ck_assert_int_eq(back.tv_nsec, 0);
}
END_TEST

START_TEST(test_stamp_ntp_round_trip_to_the_nanosecond)
{
	struct timespec	 ts, back;
	long		 ns;

	for (ns = 0; ns < 1000000000L; ns += 999983) {
		ts.tv_sec = 1767225600 + ns % 7;	/* 2026 */
		ts.tv_nsec = ns;
		stamp_ntp_to_timespec(stamp_ntp_from_timespec(&ts), &back);
		ck_assert_int_eq(back.tv_sec, ts.tv_sec);
		ck_assert_int_eq(back.tv_nsec, ts.tv_nsec);
	}
	ts.tv_nsec = 999999999;
	stamp_ntp_to_timespec(stamp_ntp_from_timespec(&ts), &back);
	ck_assert_int_eq(back.tv_sec, ts.tv_sec);
	ck_assert_int_eq(back.tv_nsec, 999999999);
}
END_TEST

START_TEST(test_stamp_ts_diff_ns_ntp_and_ptp)
{
	struct timespec	 a = { 1767225600, 1500000 }, b = { 1767225600, 0 };
	uint64_t	 na, nb;

	na = stamp_ntp_from_timespec(&a);
	nb = stamp_ntp_from_timespec(&b);
	ck_assert_int_eq(stamp_ts_diff_ns(na, nb, 0), 1500000);
	ck_assert_int_eq(stamp_ts_diff_ns(nb, na, 0), -1500000);
	/* Across the era boundary: second 1 of era 1 minus the last of 0. */
	ck_assert_int_eq(stamp_ts_diff_ns(0x0000000100000000ULL,
	    0xffffffff00000000ULL, 0), 2000000000LL);
	ck_assert_int_eq(stamp_ts_diff_ns(stamp_ptp_from_timespec(&a),
	    stamp_ptp_from_timespec(&b), 1), 1500000);
	a.tv_sec++;
	a.tv_nsec = 0;
	b.tv_nsec = 999999999;
	ck_assert_int_eq(stamp_ts_diff_ns(stamp_ptp_from_timespec(&a),
	    stamp_ptp_from_timespec(&b), 1), 1);
}
END_TEST

START_TEST(test_stamp_ptp_layout_and_bad_nanoseconds)
{
	struct timespec	 ts = { 0x01020304, 0x05060708 }, back;

	/* RFC 8186 section 2.3: 32-bit seconds, then 32-bit nanoseconds. */
	ck_assert_uint_eq(stamp_ptp_from_timespec(&ts), 0x0102030405060708ULL);
	ck_assert_int_eq(stamp_ptp_to_timespec(0x0102030405060708ULL, &back),
	    0);
	ck_assert_int_eq(back.tv_sec, 0x01020304);
	ck_assert_int_eq(back.tv_nsec, 0x05060708);
	ck_assert_int_eq(stamp_ptp_to_timespec(0x000000003b9aca00ULL, &back),
	    -1);	/* 10^9 ns */
}
END_TEST

START_TEST(test_stamp_error_estimate_bits)
{
	uint16_t	ee;

	/* |S|Z| Scale (6) | Multiplier (8) |, RFC 4656 section 4.1.2. */
	ee = stamp_ee_make(1, 0, 0);
	ck_assert_uint_eq(ee, 0x8001);		/* the least: one unit */
	ck_assert_uint_eq(stamp_ee_make(0, 1, 0), 0x4001);
	/* 1 us is 4294.97 units of 2^-32 s: scale 5, multiplier 135. */
	ee = stamp_ee_make(0, 0, 1000);
	ck_assert_uint_eq(ee, 0x0587);
	ck_assert_uint_eq(STAMP_EE_SCALE(ee), 5);
	ck_assert_uint_eq(STAMP_EE_MULT(ee), 135);
	ck_assert_uint_eq(stamp_ee_ns(ee), 1006);	/* covers, barely */
	ck_assert_uint_lt(stamp_ee_ns(0x0586), 1000);	/* one less does not */
	/* 1 s: 2^32 units = 128 * 2^25. */
	ck_assert_uint_eq(stamp_ee_make(1, 1, 1000000000ULL), 0xd980);
	ck_assert_uint_eq(stamp_ee_ns(0xd980), 1000000000ULL);
	/* The longest error in ns (584 years): 138 * 2^(59 - 32) s. */
	ck_assert_uint_eq(stamp_ee_make(0, 0, UINT64_MAX), 0x3b8a);
	/* Longer than that is read as the longest. */
	ck_assert_uint_eq(stamp_ee_ns(0x3fff), UINT64_MAX);
	ck_assert(stamp_ee_valid(0x8001));
	ck_assert(!stamp_ee_valid(0x8000));	/* multiplier 0 */
}
END_TEST

static Suite *
stamp_suite(void)
{
	Suite	*s = suite_create("stamp");
	TCase	*tc = tcase_create("stamp");

	tcase_add_test(tc, test_stamp_test_encode_matches_rfc_layout);
	tcase_add_test(tc, test_stamp_test_decode_reads_fields_ignores_mbz);
	tcase_add_test(tc, test_stamp_reply_encode_decode_match_rfc_layout);
	tcase_add_test(tc, test_stamp_reflect_in_place_keeps_size_and_padding);
	tcase_add_test(tc, test_stamp_set_ts_writes_timestamp_field);
	tcase_add_test(tc, test_stamp_ntp_known_instants);
	tcase_add_test(tc, test_stamp_ntp_round_trip_to_the_nanosecond);
	tcase_add_test(tc, test_stamp_ts_diff_ns_ntp_and_ptp);
	tcase_add_test(tc, test_stamp_ptp_layout_and_bad_nanoseconds);
	tcase_add_test(tc, test_stamp_error_estimate_bits);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(stamp)
