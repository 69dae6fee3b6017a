#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "inet.h"
#include "util.h"

START_TEST(test_parses_and_formats_both_families)
{
    static const char *const addrs[] = {
        "172.31.250.1", "0.0.0.0", "255.255.255.255", "239.1.1.1",
        "fd00:250::1", "::", "ff0e::1:2:3:4", "2001:db8::ffff:1",
    };

    for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
        struct in6_addr a = fixture_ip(addrs[i]);
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
    struct in6_addr v6 = fixture_ip("fd00:250::1");

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
        struct in6_addr a = fixture_ip(cases[i].addr);

        ck_assert_msg(inet_is_multicast(&a) == cases[i].multicast, "%s",
                      cases[i].addr);
    }
}
END_TEST

START_TEST(test_classifies_unspecified)
{
    struct in6_addr zero;
    struct in6_addr any4 = fixture_ip("0.0.0.0");
    struct in6_addr any6 = fixture_ip("::");
    struct in6_addr one = fixture_ip("0.0.0.1");

    memset(&zero, 0, sizeof zero);
    ck_assert(inet_is_unspecified(&zero));
    ck_assert(inet_is_unspecified(&any4));
    ck_assert(inet_is_unspecified(&any6));
    ck_assert(!inet_is_unspecified(&one));
}
END_TEST

START_TEST(test_classifies_unicast_and_loopback)
{
    static const struct {
        const char *s;
        bool unicast;
        bool loopback;
    } cases[] = {
        { "172.31.0.1", true, false }, { "127.0.0.1", true, true },
        { "127.9.9.9", true, true }, { "::1", true, true },
        { "fd00::1", true, false }, { "0.0.0.0", false, false },
        { "::", false, false }, { "255.255.255.255", false, false },
        { "224.0.0.1", false, false }, { "ff02::1", false, false },
        { "172.31.255.255", true, false },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct in6_addr a;

        ck_assert(inet_parse(cases[i].s, &a));
        ck_assert_msg(inet_is_unicast(&a) == cases[i].unicast, "%s",
                      cases[i].s);
        ck_assert_msg(inet_is_loopback(&a) == cases[i].loopback, "%s",
                      cases[i].s);
    }
}
END_TEST

START_TEST(test_parses_formats_and_matches_prefixes)
{
    static const struct {
        const char *s;
        const char *formatted;      /* NULL: refused. */
        const char *inside;
        const char *outside;
    } cases[] = {
        { "172.31.0.0/16", "172.31.0.0/16", "172.31.255.1", "172.32.0.1" },
        { "10.0.0.128/25", "10.0.0.128/25", "10.0.0.200", "10.0.0.127" },
        { "0.0.0.0/0", "0.0.0.0/0", "192.0.2.1", "fd00::1" },
        { "192.0.2.7/32", "192.0.2.7/32", "192.0.2.7", "192.0.2.6" },
        { "FD00::/8", "fd00::/8", "fd12::1", "fe80::1" },
        { "::/0", "::/0", "fd00::1", NULL },
        { "172.31.0.1/16", NULL, NULL, NULL },
        { "172.31.0.0/33", NULL, NULL, NULL },
        { "fd00::/129", NULL, NULL, NULL },
        { "172.31.0.0", NULL, NULL, NULL },
        { "172.31.0.0/", NULL, NULL, NULL },
        { "172.31.0.0/+8", NULL, NULL, NULL },
        { "/8", NULL, NULL, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct inet_prefix prefix;
        char buf[INET_PREFIX_STRLEN];
        struct in6_addr a;

        if (!cases[i].formatted) {
            ck_assert_msg(!inet_prefix_parse(cases[i].s, &prefix), "%s",
                          cases[i].s);
            continue;
        }
        ck_assert_msg(inet_prefix_parse(cases[i].s, &prefix), "%s",
                      cases[i].s);
        ck_assert_str_eq(inet_prefix_format(&prefix, buf),
                         cases[i].formatted);
        ck_assert(inet_parse(cases[i].inside, &a));
        ck_assert_msg(inet_prefix_contains(&prefix, &a), "%s in %s",
                      cases[i].inside, cases[i].s);
        if (cases[i].outside) {
            ck_assert(inet_parse(cases[i].outside, &a));
            ck_assert_msg(!inet_prefix_contains(&prefix, &a), "%s not in %s",
                          cases[i].outside, cases[i].s);
        }
    }
}
END_TEST

START_TEST(test_makes_and_reads_socket_addresses)
{
    static const struct {
        const char *addr;
        int family;
        socklen_t len;
        uint32_t scope;         /* For ifindex 7. */
    } cases[] = {
        { "172.31.250.1", AF_INET, sizeof(struct sockaddr_in), 0 },
        { "fd00:250::1", AF_INET6, sizeof(struct sockaddr_in6), 0 },
        { "fe80::1", AF_INET6, sizeof(struct sockaddr_in6), 7 },
        { "ff02::1:2", AF_INET6, sizeof(struct sockaddr_in6), 7 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct in6_addr a = fixture_ip(cases[i].addr), back;
        union inet_sockaddr sa;
        socklen_t len = inet_sockaddr_make(cases[i].family, &a, 4789, 7,
                                           &sa);

        ck_assert_int_eq(len, cases[i].len);
        ck_assert_int_eq(sa.sa.sa_family, cases[i].family);
        ck_assert_uint_eq(ntohs(cases[i].family == AF_INET
                                ? sa.sin.sin_port : sa.sin6.sin6_port),
                          4789);
        if (cases[i].family == AF_INET6) {
            ck_assert_uint_eq(sa.sin6.sin6_scope_id, cases[i].scope);
        }
        ck_assert(inet_sockaddr_get(&sa, len, &back));
        ck_assert(inet_equals(&back, &a));
        ck_assert(!inet_sockaddr_get(&sa, len - 1, &back));
    }
}
END_TEST

START_TEST(test_reads_no_address_of_another_family)
{
    union inet_sockaddr sa;
    struct in6_addr a;

    memset(&sa, 0, sizeof sa);
    sa.sa.sa_family = AF_UNIX;
    ck_assert(!inet_sockaddr_get(&sa, sizeof sa, &a));
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
    fixture_add_case(s, "classifies unicast and loopback",
                     test_classifies_unicast_and_loopback, NULL, NULL);
    fixture_add_case(s, "parses, formats and matches prefixes",
                     test_parses_formats_and_matches_prefixes, NULL, NULL);
    fixture_add_case(s, "makes and reads socket addresses",
                     test_makes_and_reads_socket_addresses, NULL, NULL);
    fixture_add_case(s, "reads no address of another family",
                     test_reads_no_address_of_another_family, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(inet_suite());
}
