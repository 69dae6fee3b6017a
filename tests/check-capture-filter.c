#include <config.h>

#include <check.h>
#include <errno.h>
#include <string.h>

#include "capture-filter.h"
#include "eth-addr.h"
#include "fixture.h"

static const struct eth_addr mac1 = {{ 0x02, 0, 0, 0, 0, 1 }};
static const struct eth_addr mac2 = {{ 0x02, 0, 0, 0, 0, 2 }};

static size_t
udp_frame(uint8_t *buf, uint16_t dport)
{
    return fixture_udp4_frame(buf, &mac2, &mac1, 0x0a000001, 0x0a000002,
                              1000, dport, 20);
}

START_TEST(test_no_expression_matches_every_frame)
{
    struct capture_filter f;
    uint8_t buf[256];
    char error[256];

    ck_assert_int_eq(capture_filter_compile(&f, NULL, error, sizeof error),
                     0);
    ck_assert(capture_filter_match(&f, buf, udp_frame(buf, 53)));
    ck_assert(capture_filter_match(&f, buf, 1));
    capture_filter_free(&f);
    ck_assert_int_eq(capture_filter_compile(&f, "", error, sizeof error), 0);
    ck_assert(capture_filter_match(&f, buf, udp_frame(buf, 53)));
    capture_filter_free(&f);
}
END_TEST

START_TEST(test_selects_frames_as_libpcap_says)
{
    struct capture_filter f;
    uint8_t udp53[256], udp80[256], arp[256];
    size_t n53 = udp_frame(udp53, 53), n80 = udp_frame(udp80, 80);
    size_t narp = fixture_arp_request(arp, &mac1, 0x0a000001, 0x0a000002);
    char error[256];

    ck_assert_int_eq(capture_filter_compile(&f, "udp port 53", error,
                                            sizeof error), 0);
    ck_assert(capture_filter_match(&f, udp53, n53));
    ck_assert(!capture_filter_match(&f, udp80, n80));
    ck_assert(!capture_filter_match(&f, arp, narp));
    capture_filter_free(&f);

    ck_assert_int_eq(capture_filter_compile(&f, "not arp", error,
                                            sizeof error), 0);
    ck_assert(capture_filter_match(&f, udp80, n80));
    ck_assert(!capture_filter_match(&f, arp, narp));
    capture_filter_free(&f);

    ck_assert_int_eq(capture_filter_compile(&f, "ether src 02:00:00:00:00:01"
                                            " and ip dst 10.0.0.2", error,
                                            sizeof error), 0);
    ck_assert(capture_filter_match(&f, udp80, n80));
    ck_assert(!capture_filter_match(&f, arp, narp));
    capture_filter_free(&f);
}
END_TEST

START_TEST(test_a_bad_expression_gets_libpcaps_reason)
{
    struct capture_filter f;
    char error[256] = "";

    ck_assert_int_eq(capture_filter_compile(&f, "icmp and and", error,
                                            sizeof error), EINVAL);
    ck_assert_msg(strstr(error, "bad filter: ") == error, "%s", error);
    ck_assert_msg(strstr(error, "syntax error") != NULL, "%s", error);
    capture_filter_free(&f);
    ck_assert_int_eq(capture_filter_compile(&f, "ether host nonsense", error,
                                            sizeof error), EINVAL);
    capture_filter_free(&f);
}
END_TEST

/* The VXLAN port's capture wraps the user's expression in parentheses
 * after compiling it alone: one that would close them does not compile
 * alone. */
START_TEST(test_an_expression_cannot_close_parentheses)
{
    struct capture_filter f;
    char error[256];

    ck_assert_int_eq(capture_filter_compile(&f, "udp) or (arp", error,
                                            sizeof error), EINVAL);
    capture_filter_free(&f);
    ck_assert_int_eq(capture_filter_compile(&f, "udp)", error,
                                            sizeof error), EINVAL);
    capture_filter_free(&f);
}
END_TEST

START_TEST(test_a_frame_cut_short_does_not_match_beyond_its_end)
{
    struct capture_filter f;
    uint8_t buf[256];
    size_t n = udp_frame(buf, 53);
    char error[256];

    ck_assert_int_eq(capture_filter_compile(&f, "udp[8:4] = 0x00010203",
                                            error, sizeof error), 0);
    ck_assert(capture_filter_match(&f, buf, n));
    ck_assert(!capture_filter_match(&f, buf, n - 20));
    ck_assert(!capture_filter_match(&f, buf, 10));
    capture_filter_free(&f);
}
END_TEST

static Suite *
capture_filter_suite(void)
{
    Suite *s = suite_create("capture-filter");

    fixture_add_case(s, "no expression matches every frame",
                     test_no_expression_matches_every_frame, NULL, NULL);
    fixture_add_case(s, "selects frames as libpcap says",
                     test_selects_frames_as_libpcap_says, NULL, NULL);
    fixture_add_case(s, "a bad expression gets libpcap's reason",
                     test_a_bad_expression_gets_libpcaps_reason, NULL, NULL);
    fixture_add_case(s, "an expression cannot close parentheses it did "
                     "not open", test_an_expression_cannot_close_parentheses,
                     NULL, NULL);
    fixture_add_case(s, "a frame cut short does not match beyond its end",
                     test_a_frame_cut_short_does_not_match_beyond_its_end,
                     NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(capture_filter_suite());
}
