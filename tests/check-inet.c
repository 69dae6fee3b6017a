#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "inet.h"
#include "util.h"

static struct in6_addr
must_parse(const char *s)
{
    struct in6_addr a;

    ck_assert_msg(inet_parse(s, &a), "%s does not parse", s);
    return a;
}

START_TEST(test_parses_and_formats_both_families)
{
    static const char *const addrs[] = {
        "172.31.250.1", "0.0.0.0", "255.255.255.255", "239.1.1.1",
        "fd00:250::1", "::", "ff0e::1:2:3:4", "2001:db8::ffff:1",
    };

    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        struct in6_addr a = must_parse(addrs[i]);
        char buf[INET_ADDR_STRLEN];

        ck_assert_str_eq(inet_format(&a, buf), addrs[i]);
        ck_assert(inet_is_ipv4(&a) == (strchr(addrs[i], ':') == NULL));
    }
}
END_TEST

START_TEST(test_rejects_what_is_not_an_address)
{
    static const char *const bad[] = {
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4",
        "fd00:::1", "fd00::g", "example.com", "1.2.3.4/24",
    };
    struct in6_addr a;

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ck_assert_msg(!inet_parse(bad[i], &a), "'%s' parsed", bad[i]);
    }
}
END_TEST

START_TEST(test_maps_ipv4_both_ways)
{
    struct in6_addr want, got;
    struct in6_addr v6 = must_parse("fd00:250::1");

    ck_assert_int_eq(inet_pton(AF_INET6, "::ffff:172.31.250.1", &want), 1);
    got = inet_from_ipv4(htonl(0xac1ffa01));
    ck_assert_mem_eq(&got, &want, sizeof want);
    ck_assert_uint_eq(ntohl(inet_to_ipv4(&got)), 0xac1ffa01);
    ck_assert(inet_is_ipv4(&got));
    ck_assert(!inet_is_ipv4(&v6));
    ck_assert(inet_equals(&got, &want));
    ck_assert(!inet_equals(&got, &v6));
}
END_TEST

START_TEST(test_classifies_multicast)
{
    static const struct {
        const char *addr;
        bool multicast;
    } cases[] = {
        { "224.0.0.0", true },
        { "239.1.1.1", true },
        { "239.255.255.255", true },
        { "223.255.255.255", false },
        { "240.0.0.0", false },
        { "172.31.250.2", false },
        { "ff00::", true },
        { "ff02::1", true },
        { "fe80::1", false },
        /* An IPv6 address whose last 4 bytes look like 224/4. */
        { "fd00::e000:1", false },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct in6_addr a = must_parse(cases[i].addr);

        ck_assert_msg(inet_is_multicast(&a) == cases[i].multicast, "%s",
                      cases[i].addr);
    }
}
END_TEST

START_TEST(test_classifies_unspecified)
{
    struct in6_addr zero;
    struct in6_addr any4 = must_parse("0.0.0.0");
    struct in6_addr any6 = must_parse("::");
    struct in6_addr one = must_parse("0.0.0.1");

    memset(&zero, 0, sizeof zero);
    ck_assert(inet_is_unspecified(&zero));
    ck_assert(inet_is_unspecified(&any4));
    ck_assert(inet_is_unspecified(&any6));
    ck_assert(!inet_is_unspecified(&one));
}
END_TEST

static Suite *
inet_suite(void)
{
    Suite *s = suite_create("inet");

    fixture_add_case(s, "parses and formats both families",
                     test_parses_and_formats_both_families, NULL, NULL);
    fixture_add_case(s, "rejects what is not an address",
                     test_rejects_what_is_not_an_address, NULL, NULL);
    fixture_add_case(s, "maps IPv4 both ways", test_maps_ipv4_both_ways,
                     NULL, NULL);
    fixture_add_case(s, "classifies multicast", test_classifies_multicast,
                     NULL, NULL);
    fixture_add_case(s, "classifies unspecified",
                     test_classifies_unspecified, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(inet_suite());
}
