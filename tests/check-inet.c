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

START_TEST(test_classifies_unicast)
{
    static const struct {
        const char *addr;
        bool unicast;
    } cases[] = {
        { "172.31.0.1", true }, { "127.0.0.1", true },
        { "255.255.255.254", true }, { "fd00::1", true }, { "::1", true },
        { "0.0.0.0", false }, { "::", false }, { "224.0.0.1", false },
        { "239.1.1.1", false }, { "255.255.255.255", false },
        { "ff02::1", false }, { "ff0e::1", false },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct in6_addr a = fixture_ip(cases[i].addr);

        ck_assert_msg(inet_is_unicast(&a) == cases[i].unicast, "%s",
                      cases[i].addr);
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
    fixture_add_case(s, "classifies unicast", test_classifies_unicast,
                     NULL, NULL);
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
