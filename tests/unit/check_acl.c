/*
 * check_acl.c: the reflector's allow-list: IPv4 and IPv6 prefixes, hosts,
 * "any", IPv4-mapped peers of dual-stack sockets, and every malformed
 * prefix refused with a reason.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "reflector/acl.h"
#include "tests/unit/suites.h"

static struct acl	acl;
static char		err[160];

static int
allows(const char *ip)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct in6_addr		a;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		ck_assert_int_eq(acl_addr((struct sockaddr *)&sin, &a, NULL),
		    0);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
		sin6.sin6_family = AF_INET6;
		ck_assert_int_eq(acl_addr((struct sockaddr *)&sin6, &a, NULL),
		    0);
	}
	return acl_allows(&acl, &a);
}

START_TEST(test_acl_empty_allows_no_one)
{
	acl_init(&acl);
	ck_assert(!allows("127.0.0.1"));
	ck_assert(!allows("::1"));
}
END_TEST

START_TEST(test_acl_ipv4_prefixes_and_hosts)
{
	acl_init(&acl);
	ck_assert_int_eq(acl_add(&acl, "192.0.2.0/24", err, sizeof(err)), 0);
	ck_assert_int_eq(acl_add(&acl, "198.51.100.7", err, sizeof(err)), 0);
	ck_assert_int_eq(acl_add(&acl, "10.0.0.0/9", err, sizeof(err)), 0);
	ck_assert(allows("192.0.2.0"));
	ck_assert(allows("192.0.2.255"));
	ck_assert(!allows("192.0.3.1"));
	ck_assert(allows("198.51.100.7"));
	ck_assert(!allows("198.51.100.8"));
	ck_assert(allows("10.127.255.255"));	/* /9: the odd bit */
	ck_assert(!allows("10.128.0.0"));
	/* An IPv4 peer of a dual-stack socket arrives IPv4-mapped. */
	ck_assert(allows("::ffff:192.0.2.9"));
	ck_assert(!allows("::ffff:192.0.3.9"));
	ck_assert(!allows("2001:db8::1"));
}
END_TEST

START_TEST(test_acl_ipv6_prefixes_and_any)
{
	acl_init(&acl);
	ck_assert_int_eq(acl_add(&acl, "2001:db8:1::/48", err, sizeof(err)),
	    0);
	ck_assert_int_eq(acl_add(&acl, "::1", err, sizeof(err)), 0);
	ck_assert(allows("2001:db8:1:ffff::1"));
	ck_assert(!allows("2001:db8:2::1"));
	ck_assert(allows("::1"));
	ck_assert(!allows("::2"));
	ck_assert(!allows("127.0.0.1"));
	ck_assert_int_eq(acl_add(&acl, "0.0.0.0/0", err, sizeof(err)), 0);
	ck_assert(allows("203.0.113.1"));	/* every IPv4 address */
	ck_assert(!allows("2001:db8:2::1"));	/* but no more IPv6 */
	ck_assert_int_eq(acl_add(&acl, "any", err, sizeof(err)), 0);
	ck_assert(allows("2001:db8:2::1"));
}
END_TEST

START_TEST(test_acl_refuses_malformed_prefixes)
{
	static const char	*bad[] = {
		"", "/24", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1",
		"192.0.2.0/2x", "2001:db8::/129", "example.org", "192.0.2",
		"::1/", "[::1]/128", "192.0.2.0/24/8",
	};
	size_t			 i;

	acl_init(&acl);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(acl_add(&acl, bad[i], err, sizeof(err)) == -1,
		    "accepted \"%s\"", bad[i]);
		ck_assert_msg(strstr(err, "not an address") != NULL,
		    "\"%s\": %s", bad[i], err);
	}
	ck_assert_int_eq(acl_add(&acl, "192.0.2.1/24", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "\"192.0.2.1/24\": host bits set past /24");
	ck_assert_int_eq(acl_add(&acl, "2001:db8::1/64", err, sizeof(err)),
	    -1);
	ck_assert_uint_eq(acl.n, 0);
}
END_TEST

START_TEST(test_acl_caps_the_list)
{
	char	p[32];
	int	i;

	acl_init(&acl);
	for (i = 0; i < ACL_MAX; i++) {
		snprintf(p, sizeof(p), "10.%d.%d.0/24", i / 256, i % 256);
		ck_assert_int_eq(acl_add(&acl, p, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(acl_add(&acl, "192.0.2.0/24", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 256 prefixes");
	ck_assert(allows("10.0.255.1"));
}
END_TEST

static Suite *
acl_suite(void)
{
	Suite	*s = suite_create("acl");
	TCase	*tc = tcase_create("acl");

	tcase_add_test(tc, test_acl_empty_allows_no_one);
	tcase_add_test(tc, test_acl_ipv4_prefixes_and_hosts);
	tcase_add_test(tc, test_acl_ipv6_prefixes_and_any);
	tcase_add_test(tc, test_acl_refuses_malformed_prefixes);
	tcase_add_test(tc, test_acl_caps_the_list);
	suite_add_tcase(s, tc);
	return s;
}

QOSD_SUITE(acl)
