#include <config.h>

#include "fixture.h"
#include "match.h"

#include <check.h>
#include <string.h>

#include "headers.h"
#include "inet.h"

static void
set_nw_src(struct match *m, const char *addr, unsigned int prefix_len)
{
    m->key.nw_src = fixture_ip(addr);
    m->mask.nw_src = inet_from_ipv4(htonl(UINT32_MAX << (32 - prefix_len)));
}

START_TEST(test_catchall)
{
    struct match m;
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);

    memset(&m, 0xa5, sizeof m);
    match_init_catchall(&m);
    ck_assert(match_is_catchall(&m));
    ck_assert(match_matches(&m, &key));
    ck_assert_uint_eq(m.key.in_port, 0);
    ck_assert_uint_eq(m.key.tcp_flags, 0);

    m.mask.tcp_flags = htons(0x0002);
    ck_assert(!match_is_catchall(&m));
    m.mask.tcp_flags = 0;
    m.mask.in_port = 1;
    ck_assert(!match_is_catchall(&m));
}
END_TEST

START_TEST(test_normalize)
{
    struct match m = fixture_tcp4_match(22);

    m.key.tp_src = htons(1000);         /* Not in the mask. */
    m.key.nw_src = fixture_ip("10.1.2.3");
    m.mask.nw_src = inet_from_ipv4(htonl(0xffff0000));
    m.mask.layers = 0xff;               /* Never matched. */
    m.mask.error = 0xff;
    m.key.layers = FLOW_LAYER_L4;
    match_normalize(&m);

    struct in6_addr net = fixture_ip("10.1.0.0");

    ck_assert_uint_eq(m.key.tp_src, 0);
    ck_assert_uint_eq(m.key.tp_dst, htons(22));
    ck_assert_uint_eq(m.key.dl_type, htons(ETH_TYPE_IPV4));
    ck_assert(!memcmp(&m.key.nw_src, &net, sizeof net));
    ck_assert_uint_eq(m.mask.layers, 0);
    ck_assert_uint_eq(m.mask.error, 0);
    ck_assert_uint_eq(m.key.layers, 0);

    /* Two spellings of one match are equal once normalized. */
    struct match other = fixture_tcp4_match(22);

    set_nw_src(&other, "10.1.0.0", 16);
    ck_assert(match_equal(&m, &other));
    other.key.tp_src = htons(1);
    ck_assert(!match_equal(&m, &other));
    match_normalize(&other);
    ck_assert(match_equal(&m, &other));
}
END_TEST

START_TEST(test_matches)
{
    struct match m = fixture_tcp4_match(22);
    struct flow_key key = fixture_tcp4_key("10.1.2.3", 22);

    set_nw_src(&m, "10.1.0.0", 16);
    match_normalize(&m);
    ck_assert(match_matches(&m, &key));

    /* Fields outside the mask do not count, layers and error included. */
    key.tp_src = htons(1);
    key.layers = FLOW_LAYER_L3;
    key.error = FLOW_ERR_BAD_L3;
    key.nw_src = fixture_ip("10.1.255.255");
    ck_assert(match_matches(&m, &key));

    key.nw_src = fixture_ip("10.2.0.1");
    ck_assert(!match_matches(&m, &key));
    key = fixture_tcp4_key("10.1.2.3", 23);
    ck_assert(!match_matches(&m, &key));
    key = fixture_tcp4_key("10.1.2.3", 22);
    key.nw_proto = IP_PROTO_UDP;
    ck_assert(!match_matches(&m, &key));
    key = fixture_tcp4_key("10.1.2.3", 22);
    key.dl_type = htons(ETH_TYPE_IPV6);
    ck_assert(!match_matches(&m, &key));

    /* A partial mask on one bit of a field. */
    struct match syn;

    match_init_catchall(&syn);
    syn.key.tcp_flags = htons(0x0002);
    syn.mask.tcp_flags = htons(0x0002);
    key.tcp_flags = htons(0x0012);
    ck_assert(match_matches(&syn, &key));
    key.tcp_flags = htons(0x0010);
    ck_assert(!match_matches(&syn, &key));
}
END_TEST

START_TEST(test_equal)
{
    struct match a = fixture_tcp4_match(22);
    struct match b = fixture_tcp4_match(22);

    ck_assert(match_equal(&a, &b));
    b.mask.tp_src = htons(0xffff);      /* Looks at tp_src == 0 too. */
    ck_assert(!match_equal(&a, &b));
    b = fixture_tcp4_match(80);
    ck_assert(!match_equal(&a, &b));
    b = fixture_tcp4_match(22);
    b.mask.tp_dst = htons(0xff00);
    match_normalize(&b);
    ck_assert(!match_equal(&a, &b));
}
END_TEST

START_TEST(test_is_subset_of)
{
    struct match tcp = fixture_tcp4_match(0);
    struct match ssh = fixture_tcp4_match(22);
    struct match web = fixture_tcp4_match(80);
    struct match all;
    struct match ssh_net = fixture_tcp4_match(22);
    struct match net8 = fixture_tcp4_match(0);
    struct match net16 = fixture_tcp4_match(0);
    struct match other16 = fixture_tcp4_match(0);

    match_init_catchall(&all);
    set_nw_src(&ssh_net, "10.1.0.0", 16);
    set_nw_src(&net8, "10.0.0.0", 8);
    set_nw_src(&net16, "10.1.0.0", 16);
    set_nw_src(&other16, "11.1.0.0", 16);

    /* A rule is selected by a filter that is less or as specific. */
    ck_assert(match_is_subset_of(&ssh, &tcp));
    ck_assert(match_is_subset_of(&ssh, &ssh));
    ck_assert(match_is_subset_of(&ssh, &all));
    ck_assert(match_is_subset_of(&all, &all));
    ck_assert(match_is_subset_of(&ssh_net, &ssh));
    ck_assert(match_is_subset_of(&net16, &net8));

    /* Not by a more specific one, nor by one that disagrees. */
    ck_assert(!match_is_subset_of(&tcp, &ssh));
    ck_assert(!match_is_subset_of(&all, &tcp));
    ck_assert(!match_is_subset_of(&ssh, &web));
    ck_assert(!match_is_subset_of(&net8, &net16));
    ck_assert(!match_is_subset_of(&other16, &net8));
    ck_assert(!match_is_subset_of(&ssh, &ssh_net));

    /* A rule that ignores tp_dst has zero there, but is not selected by a
     * filter that wants port 0. */
    struct match port0 = fixture_tcp4_match(0);

    port0.mask.tp_dst = htons(0xffff);
    ck_assert(!match_is_subset_of(&tcp, &port0));
    ck_assert(match_is_subset_of(&port0, &port0));
}
END_TEST

static Suite *
match_suite(void)
{
    Suite *s = suite_create("match");

    fixture_add_case(s, "catchall matches every frame", test_catchall,
                     NULL, NULL);
    fixture_add_case(s, "normalize clears what the mask ignores",
                     test_normalize, NULL, NULL);
    fixture_add_case(s, "matches looks only under the mask", test_matches,
                     NULL, NULL);
    fixture_add_case(s, "equal compares key and mask", test_equal, NULL,
                     NULL);
    fixture_add_case(s, "is_subset_of: at least as specific and agreeing",
                     test_is_subset_of, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(match_suite());
}
