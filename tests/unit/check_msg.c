/*
 * check_msg.c: the message layer: frames whole and in pieces, descriptors
 * that arrive with their frames, and every malformed frame refused with
 * a reason instead of being read as a struct.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "lib/msg.h"
#include "tests/unit/suites.h"

enum { T_SMALL = 1, T_VAR, T_FD, T_BIG, T_TWO };

struct small {
	uint64_t	 id;
	uint32_t	 a, b;
};

static const struct msg_type types[] = {
	{ T_SMALL, "small", sizeof(struct small), sizeof(struct small), 0 },
	{ T_VAR, "var", 0, 4096, 0 },
	{ T_FD, "fd", sizeof(uint64_t), sizeof(uint64_t), 1 },
	{ T_BIG, "big", 0, MSG_MAX_LEN, 0 },
	{ T_TWO, "two", 0, 16, 2 },
};
#define NTYPES	(sizeof(types) / sizeof(types[0]))

static struct msgchan	tx, rx;

static void
pair(size_t max_out)
{
	int	sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	msgchan_init(&tx, sv[0], types, NTYPES, max_out);
	msgchan_init(&rx, sv[1], types, NTYPES, max_out);
}

static void
unpair(void)
{
	msgchan_cleanup(&tx);
	msgchan_cleanup(&rx);
}

/* Read until a message is complete (or the peer has said all). */
static int
next(struct msgchan *c, struct msg *m)
{
	int	r, i;

	for (i = 0; i < 1000; i++) {
		if ((r = msg_get(c, m)) != 0)
			return r;
		if (msg_read(c) <= 0 && errno != EAGAIN)
			return msg_get(c, m);
		if (errno == EAGAIN) {
			struct timespec	ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

/* Write raw bytes as a peer that does not use this layer would. */
static void
raw(const void *p, size_t n)
{
	ck_assert_int_eq(write(tx.sock, p, n), (ssize_t)n);
}

static void
raw_hdr(uint16_t type, uint8_t version, uint8_t flags, uint32_t len)
{
	struct msg_hdr	h = { type, version, flags, len };

	raw(&h, sizeof(h));
}

START_TEST(test_msg_header_is_eight_bytes)
{
	ck_assert_uint_eq(sizeof(struct msg_hdr), MSG_HDR_LEN);
}
END_TEST

START_TEST(test_msg_round_trip_in_order)
{
	struct small	 s, got;
	struct msg	 m;
	char		 text[100];
	int		 i;

	pair(1 << 20);
	for (i = 0; i < 50; i++) {
		s.id = (uint64_t)i;
		s.a = (uint32_t)i * 3;
		s.b = 7;
		ck_assert_int_eq(msg_send(&tx, T_SMALL, &s, sizeof(s), -1), 0);
		snprintf(text, sizeof(text), "message %d", i);
		ck_assert_int_eq(msg_send(&tx, T_VAR, text, strlen(text), -1),
		    0);
	}
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(next(&rx, &m), 1);
		ck_assert_uint_eq(m.type, T_SMALL);
		ck_assert_uint_eq(m.len, sizeof(got));
		ck_assert_int_eq(m.fd, -1);
		memcpy(&got, m.data, sizeof(got));
		ck_assert_uint_eq(got.id, (uint64_t)i);
		ck_assert_uint_eq(got.a, (uint32_t)i * 3);
		ck_assert_int_eq(next(&rx, &m), 1);
		ck_assert_uint_eq(m.type, T_VAR);
		snprintf(text, sizeof(text), "message %d", i);
		ck_assert_uint_eq(m.len, strlen(text));
		ck_assert(memcmp(m.data, text, m.len) == 0);
	}
	ck_assert_int_eq(msg_get(&rx, &m), 0);
	unpair();
}
END_TEST

START_TEST(test_msg_reassembles_a_frame_sent_byte_by_byte)
{
	struct small	 s = { 42, 1, 2 }, got;
	struct msg_hdr	 h = { T_SMALL, MSG_VERSION, 0, sizeof(s) };
	unsigned char	 frame[sizeof(h) + sizeof(s)];
	struct msg	 m;
	size_t		 i;

	pair(1 << 20);
	memcpy(frame, &h, sizeof(h));
	memcpy(frame + sizeof(h), &s, sizeof(s));
	for (i = 0; i < sizeof(frame); i++) {
		ck_assert_int_eq(msg_get(&rx, &m), 0);
		raw(frame + i, 1);
		ck_assert_int_eq(msg_read(&rx), 1);
	}
	ck_assert_int_eq(msg_get(&rx, &m), 1);
	memcpy(&got, m.data, sizeof(got));
	ck_assert_uint_eq(got.id, 42);
	unpair();
}
END_TEST

START_TEST(test_msg_refuses_a_length_outside_the_type)
{
	struct msg	m;
	char		zero[64] = { 0 };

	pair(1 << 20);
	raw_hdr(T_SMALL, MSG_VERSION, 0, sizeof(struct small) - 1);
	raw(zero, sizeof(struct small) - 1);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_str_eq(msg_error(&rx), "small: 15 bytes, expected 16 to 16");
	unpair();
}
END_TEST

START_TEST(test_msg_refuses_a_huge_length_before_reading_it)
{
	struct msg	m;

	pair(1 << 20);
	raw_hdr(T_VAR, MSG_VERSION, 0, 0xffffffffU);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx),
	    "var: 4294967295 bytes, expected 0 to 4096");
	unpair();
}
END_TEST

START_TEST(test_msg_refuses_an_unknown_type)
{
	struct msg	m;

	pair(1 << 20);
	raw_hdr(99, MSG_VERSION, 0, 0);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "unknown message type 99");
	unpair();
}
END_TEST

START_TEST(test_msg_refuses_another_version)
{
	struct msg	m;

	pair(1 << 20);
	raw_hdr(T_VAR, MSG_VERSION + 1, 0, 0);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "message version 2, expected 1");
	unpair();
}
END_TEST

START_TEST(test_msg_refuses_a_frame_without_its_descriptor)
{
	struct msg	m;
	uint64_t	v = 1;

	pair(1 << 20);
	/* Flagged as carrying one, yet none was attached. */
	raw_hdr(T_FD, MSG_VERSION, MSG_F_FD, sizeof(v));
	raw(&v, sizeof(v));
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "fd: its descriptor did not arrive");
	unpair();
	pair(1 << 20);
	/* A type that needs one, sent without. */
	raw_hdr(T_FD, MSG_VERSION, 0, sizeof(v));
	raw(&v, sizeof(v));
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "fd: no descriptor with it");
	unpair();
	pair(1 << 20);
	/* A descriptor with a type that takes none. */
	ck_assert_int_eq(msg_send(&tx, T_VAR, "x", 1, STDERR_FILENO), 0);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "var: an unexpected descriptor");
	unpair();
}
END_TEST

/*
 * Each frame's descriptor is the one sent with it, among frames without
 * any and across reads that bring several frames at once.
 */
START_TEST(test_msg_passes_each_descriptor_with_its_frame)
{
	struct msg	 m;
	uint64_t	 id;
	int		 p[8][2], i, k;
	char		 c;

	pair(1 << 20);
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(pipe(p[i]), 0);
		c = (char)('a' + i);
		ck_assert_int_eq(write(p[i][1], &c, 1), 1);
		close(p[i][1]);
		id = (uint64_t)i;
		ck_assert_int_eq(msg_send(&tx, T_VAR, "before", 6, -1), 0);
		ck_assert_int_eq(msg_send(&tx, T_FD, &id, sizeof(id),
		    p[i][0]), 0);
		/* The layer sent a duplicate: ours can go at once. */
		close(p[i][0]);
	}
	for (i = 0; i < 8; i++) {
		ck_assert_int_eq(next(&rx, &m), 1);
		ck_assert_uint_eq(m.type, T_VAR);
		ck_assert_int_eq(next(&rx, &m), 1);
		ck_assert_uint_eq(m.type, T_FD);
		memcpy(&id, m.data, sizeof(id));
		ck_assert_uint_eq(id, (uint64_t)i);
		ck_assert_int_ge(m.fd, 0);
		ck_assert_int_eq(fcntl(m.fd, F_GETFD) & FD_CLOEXEC,
		    FD_CLOEXEC);
		ck_assert_int_eq(read(m.fd, &c, 1), 1);
		ck_assert_int_eq(c, 'a' + i);
		close(m.fd);
	}
	k = msg_get(&rx, &m);
	ck_assert_int_eq(k, 0);
	unpair();
}
END_TEST

/* Two descriptors in one frame, in their order; a count that differs. */
START_TEST(test_msg_passes_two_descriptors_in_order)
{
	struct msg	 m;
	int		 a[2], b[2], fds[2];
	char		 c;

	pair(1 << 20);
	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	ck_assert_int_eq(write(a[1], "A", 1), 1);
	ck_assert_int_eq(write(b[1], "B", 1), 1);
	fds[0] = a[0];
	fds[1] = b[0];
	ck_assert_int_eq(msg_send_fds(&tx, T_TWO, "x", 1, fds, 2), 0);
	ck_assert_int_eq(next(&rx, &m), 1);
	ck_assert_uint_eq(m.nfds, 2);
	ck_assert_int_eq(m.fd, m.fds[0]);
	ck_assert_int_eq(read(m.fds[0], &c, 1), 1);
	ck_assert_int_eq(c, 'A');
	ck_assert_int_eq(read(m.fds[1], &c, 1), 1);
	ck_assert_int_eq(c, 'B');
	close(m.fds[0]);
	close(m.fds[1]);
	/* One where two are expected. */
	ck_assert_int_eq(msg_send(&tx, T_TWO, "y", 1, a[0]), 0);
	ck_assert_int_eq(next(&rx, &m), -1);
	ck_assert_str_eq(msg_error(&rx), "two: 1 descriptors, expected 2");
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	unpair();
}
END_TEST

/*
 * A peer that does not read: the queue fills up to its cap, the next
 * message is refused whole (E2BIG), and once the peer reads everything
 * queued arrives in order.
 */
START_TEST(test_msg_queue_full_refuses_whole_and_loses_nothing)
{
	char		 payload[4000];
	struct msg	 m;
	uint32_t	 sent = 0, i;
	int		 r;

	pair(256 * 1024);
	for (;;) {
		memset(payload, 0, sizeof(payload));
		memcpy(payload, &sent, sizeof(sent));
		r = msg_send(&tx, T_VAR, payload, sizeof(payload), -1);
		if (r == -1)
			break;
		sent++;
		ck_assert_uint_lt(sent, 100000);
	}
	ck_assert_int_eq(errno, E2BIG);
	ck_assert_uint_gt(msg_queued(&tx), 0);
	for (i = 0; i < sent; i++) {
		msg_flush(&tx);
		ck_assert_int_eq(next(&rx, &m), 1);
		ck_assert_uint_eq(m.len, sizeof(payload));
		ck_assert(memcmp(m.data, &i, sizeof(i)) == 0);
	}
	ck_assert_uint_eq(msg_queued(&tx), 0);
	unpair();
}
END_TEST

START_TEST(test_msg_largest_payload_goes_through)
{
	struct msg	 m;
	char		*big;
	size_t		 n = MSG_MAX_LEN, got = 0;
	int		 r = 0, i;

	ck_assert_ptr_nonnull(big = malloc(n));
	memset(big, 'x', n);
	big[n - 1] = 'y';
	pair(2 * MSG_MAX_LEN);
	ck_assert_int_eq(msg_send(&tx, T_BIG, big, n, -1), 0);
	for (i = 0; i < 100000 && r == 0; i++) {
		msg_flush(&tx);
		msg_read(&rx);
		r = msg_get(&rx, &m);
	}
	ck_assert_int_eq(r, 1);
	got = m.len;
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(((const char *)m.data)[n - 1], 'y');
	errno = 0;
	ck_assert_int_eq(msg_send(&tx, T_BIG, big, n + 1, -1), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	free(big);
	unpair();
}
END_TEST

START_TEST(test_msg_end_of_file_and_a_gone_peer)
{
	struct msg	m;

	pair(1 << 20);
	close(tx.sock);
	tx.sock = -1;
	ck_assert_int_eq(msg_read(&rx), 0);
	ck_assert_int_eq(msg_get(&rx, &m), 0);
	ck_assert_int_eq(msg_send(&rx, T_VAR, "x", 1, -1), -1);
	ck_assert_int_eq(errno, EPIPE);
	unpair();
}
END_TEST

/* msg_receive(): every message the socket has, then why it stopped. */
static void
count_small(void *arg, const struct msg *m)
{
	struct small	s;
	uint64_t	*next_id = arg;

	ck_assert_uint_eq(m->type, T_SMALL);
	memcpy(&s, m->data, sizeof(s));
	ck_assert_uint_eq(s.id, *next_id);
	(*next_id)++;
}

START_TEST(test_msg_receive_takes_all_then_says_why_it_stopped)
{
	struct small	s;
	uint64_t	id = 0;

	pair(1 << 20);
	memset(&s, 0, sizeof(s));
	for (s.id = 0; s.id < 100; s.id++)
		ck_assert_int_eq(msg_send(&tx, T_SMALL, &s, sizeof(s), -1), 0);
	/* Half a frame more: taken later, not before it is whole. */
	raw_hdr(T_SMALL, MSG_VERSION, 0, sizeof(s));
	ck_assert_int_eq(msg_receive(&rx, count_small, &id), 1);
	ck_assert_uint_eq(id, 100);
	raw(&s, sizeof(s));
	close(tx.sock);
	tx.sock = -1;
	ck_assert_int_eq(msg_receive(&rx, count_small, &id), 0);
	ck_assert_uint_eq(id, 101);
	unpair();
	/* A protocol error: -1, EPROTO, and the reason. */
	pair(1 << 20);
	raw_hdr(999, MSG_VERSION, 0, 0);
	ck_assert_int_eq(msg_receive(&rx, count_small, &id), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_ptr_nonnull(strstr(msg_error(&rx), "unknown message type"));
	unpair();
}
END_TEST

static Suite *
msg_suite(void)
{
	Suite	*s = suite_create("msg");
	TCase	*tc = tcase_create("frames");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_msg_header_is_eight_bytes);
	tcase_add_test(tc, test_msg_round_trip_in_order);
	tcase_add_test(tc, test_msg_reassembles_a_frame_sent_byte_by_byte);
	tcase_add_test(tc, test_msg_refuses_a_length_outside_the_type);
	tcase_add_test(tc, test_msg_refuses_a_huge_length_before_reading_it);
	tcase_add_test(tc, test_msg_refuses_an_unknown_type);
	tcase_add_test(tc, test_msg_refuses_another_version);
	tcase_add_test(tc, test_msg_refuses_a_frame_without_its_descriptor);
	tcase_add_test(tc, test_msg_passes_each_descriptor_with_its_frame);
	tcase_add_test(tc, test_msg_passes_two_descriptors_in_order);
	tcase_add_test(tc,
	    test_msg_queue_full_refuses_whole_and_loses_nothing);
	tcase_add_test(tc, test_msg_largest_payload_goes_through);
	tcase_add_test(tc, test_msg_end_of_file_and_a_gone_peer);
	tcase_add_test(tc,
	    test_msg_receive_takes_all_then_says_why_it_stopped);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(msg)
