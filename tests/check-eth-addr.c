#include <config.h>

#include <check.h>
#include <stdlib.h>

#include "fixture.h"
#include "eth-addr.h"
#include "util.h"

START_TEST(test_format_parse_round_trip)
{
    static const struct {
        struct eth_addr addr;
        const char *text;
    } cases[] = {
        { {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }}, "00:00:00:00:00:00" },
        { {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }}, "ff:ff:ff:ff:ff:ff" },
        { {{ 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 }}, "02:00:00:00:0a:01" },
        { {{ 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f }}, "0a:1b:2c:3d:4e:5f" },
        { {{ 0x01, 0x00, 0x5e, 0x7f, 0x80, 0x90 }}, "01:00:5e:7f:80:90" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char buf[ETH_ADDR_STRLEN];
        struct eth_addr parsed;

        ck_assert_ptr_eq(eth_addr_format(&cases[i].addr, buf), buf);
        ck_assert_str_eq(buf, cases[i].text);
        ck_assert(eth_addr_parse(buf, &parsed));
        ck_assert_mem_eq(parsed.ea, cases[i].addr.ea, ETH_ADDR_LEN);
    }
}
END_TEST

START_TEST(test_parse_either_case)
{
    static const uint8_t expected[ETH_ADDR_LEN] = {
        0xaa, 0xbb, 0xcc, 0xdd, 0x0f, 0xf0
    };
    static const char *const spellings[] = {
        "aa:bb:cc:dd:0f:f0",
        "AA:BB:CC:DD:0F:F0",
        "Aa:bB:Cc:dD:0f:F0",
    };

    for (size_t i = 0; i < ARRAY_SIZE(spellings); i++) {
        struct eth_addr a;

        memset(&a, 0, sizeof a);
        ck_assert_msg(eth_addr_parse(spellings[i], &a), "%s", spellings[i]);
        ck_assert_mem_eq(a.ea, expected, ETH_ADDR_LEN);
    }
}
END_TEST

START_TEST(test_parse_rejects_malformed)
{
    static const char *const bad[] = {
        "",
        ":",
        "00:11:22:33:44",
        "00:11:22:33:44:",
        "00:11:22:33:44:5",
        "00:11:22:33:44:55:",
        "00:11:22:33:44:55:66",
        "0:11:22:33:44:55",
        "000:11:22:33:44:55",
        "00-11-22-33-44-55",
        "00.11.22.33.44.55",
        "001122334455",
        "gg:11:22:33:44:55",
        "00:11:22:33:44:5g",
        "0x:11:22:33:44:55",
        "00:11:22:33:44:55x",
        "00:11:22:33:44:55 ",
        " 00:11:22:33:44:55",
        "00:11:22:33:44:55\n",
        "+0:11:22:33:44:55",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct eth_addr a;

        ck_assert_msg(!eth_addr_parse(bad[i], &a), "accepted \"%s\"",
                      bad[i]);
    }
}
END_TEST

START_TEST(test_classify)
{
    static const struct {
        struct eth_addr addr;
        bool multicast;
        bool broadcast;
        bool zero;
    } cases[] = {
        { {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }}, true, true, false },
        { {{ 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 }}, true, false, false },
        { {{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }}, true, false, false },
        { {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }}, true, false, false },
        { {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }}, false, false, true },
        { {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 }}, false, false, false },
        { {{ 0x80, 0x00, 0x00, 0x00, 0x00, 0x00 }}, false, false, false },
        { {{ 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 }}, false, false, false },
        { {{ 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff }}, false, false, false },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct eth_addr *a = &cases[i].addr;

        ck_assert_msg(eth_addr_is_multicast(a) == cases[i].multicast,
                      "case %zu multicast", i);
        ck_assert_msg(eth_addr_is_broadcast(a) == cases[i].broadcast,
                      "case %zu broadcast", i);
        ck_assert_msg(eth_addr_is_zero(a) == cases[i].zero,
                      "case %zu zero", i);
    }
}
END_TEST

START_TEST(test_equals_compares_every_byte)
{
    static const struct eth_addr a = {{ 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }};

    ck_assert(eth_addr_equals(&a, &a));
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        struct eth_addr b = a;

        b.ea[i] ^= 0x80;
        ck_assert_msg(!eth_addr_equals(&a, &b), "byte %d ignored", i);
    }
}
END_TEST

START_TEST(test_to_u64_first_byte_most_significant)
{
    static const struct {
        struct eth_addr addr;
        uint64_t value;
    } cases[] = {
        { {{ 0x01, 0x02, 0x03, 0x04, 0x05, 0x06 }}, UINT64_C(0x010203040506) },
        { {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }}, UINT64_C(0xffffffffffff) },
        { {{ 0x80, 0x00, 0x00, 0x00, 0x00, 0x00 }}, UINT64_C(0x800000000000) },
        { {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 }}, UINT64_C(0x000000000001) },
        { {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }}, 0 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        ck_assert_uint_eq(eth_addr_to_u64(&cases[i].addr), cases[i].value);
    }
}
END_TEST

static Suite *
eth_addr_suite(void)
{
    /* Not static: Check's test handles are variables, not constants. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "formats and parses back", test_format_parse_round_trip },
        { "parses hex digits in either case", test_parse_either_case },
        { "rejects malformed strings", test_parse_rejects_malformed },
        { "classifies multicast, broadcast and zero", test_classify },
        { "compares every byte", test_equals_compares_every_byte },
        { "converts to an integer first byte most significant",
          test_to_u64_first_byte_most_significant },
    };
    Suite *s = suite_create("eth-addr");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, NULL, NULL);
    }
    return s;
}

int
main(void)
{
    return fixture_run(eth_addr_suite());
}
