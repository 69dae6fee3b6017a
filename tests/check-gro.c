#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "gro.h"
#include "port-offload.h"

/* Every offload: the port takes any super frame. */
#define ALL PORT_OFFLOAD_ALL
#include "tso.h"
#include "util.h"

#define TCP_FIN 0x001
#define TCP_SYN 0x002
#define TCP_PSH 0x008
#define TCP_ACK 0x010

static struct packet_pool *pool;

static void
setup(void)
{
    pool = packet_pool_create(128);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* Cuts the frame that 't' describes into segments of 'mss' with tso.h;
 * the whole frame goes in 'frame', its length in '*len'. */
static void
cut(const struct fixture_tcp *t, uint16_t mss, uint8_t *frame, size_t *len,
    struct fixture_segments *segs)
{
    struct packet *p;

    *len = fixture_tcp_frame(frame, t);
    p = fixture_packet(pool, frame, *len);
    p->md.gso_size = mss;
    p->md.gso_udp = t->udp;
    segs->n = 0;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment, segs), 0);
    packet_free(p);
}

/* Merges every segment into the first and asserts that the result is the
 * frame they were cut from, once its checksum is finished. */
static void
expect_round_trip(const struct fixture_tcp *t, uint16_t mss, size_t want_n)
{
    static uint8_t frame[65536];
    struct fixture_segments segs;
    struct packet *head;
    size_t len;

    cut(t, mss, frame, &len, &segs);
    ck_assert_uint_eq(segs.n, want_n);
    head = segs.seg[0];
    for (size_t i = 1; i < segs.n; i++) {
        ck_assert_msg(gro_merge(head, segs.seg[i], ALL), "segment %zu", i);
        packet_free(segs.seg[i]);
    }
    ck_assert_uint_eq(packet_size(head), len);
    ck_assert_uint_eq(head->md.gso_size, want_n > 1 ? mss : 0);
    if (want_n > 1) {
        ck_assert(head->md.csum_partial);
        ck_assert(head->md.gso_udp == t->udp);
        ck_assert_uint_eq(head->md.csum_start, head->md.l4_ofs);
        ck_assert_uint_eq(head->md.csum_offset, t->udp ? 6 : 16);
    }
    csum_complete_partial(head);
    ck_assert_mem_eq(packet_data(head), frame, len);
    packet_free(head);
}

START_TEST(test_merges_a_run_back_into_its_super_frame)
{
    struct fixture_tcp t = { .payload_len = 3500, .seq = 0xfffff000,
                             .flags = TCP_ACK | TCP_PSH };

    expect_round_trip(&t, 1000, 4);
}
END_TEST

START_TEST(test_merges_ipv6_and_vlan_tagged_runs)
{
    struct fixture_tcp t6 = { .ipv6 = true, .payload_len = 4000,
                              .flags = TCP_ACK };
    struct fixture_tcp tagged = { .vlan = true, .payload_len = 60000,
                                  .flags = TCP_ACK | TCP_PSH };

    expect_round_trip(&t6, 1400, 3);
    expect_round_trip(&tagged, 1398, 43);
}
END_TEST

START_TEST(test_joins_udp_datagrams_of_one_flow)
{
    struct fixture_tcp u4 = { .udp = true, .payload_len = 3500 };
    struct fixture_tcp u6 = { .udp = true, .ipv6 = true,
                              .payload_len = 64 * 18 };

    expect_round_trip(&u4, 1000, 4);
    expect_round_trip(&u6, 18, 64);
}
END_TEST

/* Cuts a UDP datagram of 3 x 100 bytes into 'segs' (IPv4, with
 * checksums). */
static void
cut_udp(struct fixture_segments *segs)
{
    struct fixture_tcp u = { .udp = true, .payload_len = 300 };
    static uint8_t frame[1024];
    size_t len;

    cut(&u, 100, frame, &len, segs);
    ck_assert_uint_eq(segs->n, 3);
}

START_TEST(test_joins_udp_only_for_a_port_with_uso)
{
    struct fixture_tcp t = { .payload_len = 2000, .flags = TCP_ACK };
    static uint8_t frame[4096];
    struct fixture_segments segs, tcp;
    size_t len;

    cut_udp(&segs);
    ck_assert(!gro_merge(segs.seg[0], segs.seg[1],
                         PORT_OFFLOAD_TSO4 | PORT_OFFLOAD_TSO6));
    ck_assert_uint_eq(segs.seg[0]->md.gso_size, 0);
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], PORT_OFFLOAD_USO));
    ck_assert(segs.seg[0]->md.gso_udp);

    /* And TCP only for one with TSO. */
    cut(&t, 1000, frame, &len, &tcp);
    ck_assert(!gro_merge(tcp.seg[0], tcp.seg[1], PORT_OFFLOAD_USO));
    ck_assert(!gro_merge(tcp.seg[0], tcp.seg[1], PORT_OFFLOAD_TSO6));
    ck_assert(gro_merge(tcp.seg[0], tcp.seg[1], PORT_OFFLOAD_TSO4));
    fixture_free_segments(&segs, 0);
    fixture_free_segments(&tcp, 0);
}
END_TEST

START_TEST(test_refuses_a_udp_datagram_that_fails_its_checksum)
{
    const size_t udp_ofs = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    struct fixture_segments segs;
    size_t size;

    cut_udp(&segs);
    size = packet_size(segs.seg[0]);
    packet_data(segs.seg[1])[packet_size(segs.seg[1]) - 1] ^= 0x10;
    ck_assert(!gro_merge(segs.seg[0], segs.seg[1], ALL));
    ck_assert_uint_eq(packet_size(segs.seg[0]), size);
    ck_assert_uint_eq(segs.seg[0]->md.gso_size, 0);

    /* Without a checksum (IPv4 allows none) there is nothing to verify;
     * the joined frame gets one. */
    memset(packet_data(segs.seg[1]) + udp_ofs + 6, 0, 2);
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], ALL));
    ck_assert(segs.seg[0]->md.csum_partial);
    fixture_free_segments(&segs, 0);
}
END_TEST

START_TEST(test_a_shorter_datagram_ends_the_udp_run)
{
    struct fixture_tcp u = { .udp = true, .payload_len = 250 };
    static uint8_t frame[1024];
    struct fixture_segments segs, more;
    size_t len;

    cut(&u, 100, frame, &len, &segs);
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], ALL));
    ck_assert(gro_merge(segs.seg[0], segs.seg[2], ALL));
    cut_udp(&more);
    ck_assert(!gro_merge(segs.seg[0], more.seg[0], ALL));
    ck_assert_uint_eq(segs.seg[0]->md.gso_size, 100);
    fixture_free_segments(&segs, 0);
    fixture_free_segments(&more, 0);
}
END_TEST

/* Cuts a 4-segment frame and asserts that segment 1, changed at byte 'ofs'
 * (XOR with 'mask'), is refused by segment 0.  Unless 'verify', segment 1
 * claims a checksum left to offload, which is trusted, and a change to its
 * IPv4 header (but to the header checksum itself) gets a fresh header
 * checksum: only the field changed can refuse it. */
static void
expect_refused(size_t ofs, uint8_t mask, bool verify, const char *what)
{
    const size_t ip = ETH_HEADER_LEN, ip_csum = ip + 10;
    struct fixture_tcp t = { .payload_len = 4000, .flags = TCP_ACK };
    static uint8_t frame[8192];
    struct fixture_segments segs;
    size_t len;

    cut(&t, 1000, frame, &len, &segs);
    packet_data(segs.seg[1])[ofs] ^= mask;
    if (!verify && ofs >= ip && ofs < ip + IPV4_HEADER_LEN
        && ofs != ip_csum && ofs != ip_csum + 1) {
        struct ipv4_header *iph = packet_at_rw(segs.seg[1], ip,
                                               IPV4_HEADER_LEN);

        iph->ip_csum = 0;
        iph->ip_csum = csum_ipv4_header(iph);
    }
    segs.seg[1]->md.csum_partial = !verify;
    ck_assert_msg(!gro_merge(segs.seg[0], segs.seg[1], ALL), "%s", what);
    ck_assert_uint_eq(packet_size(segs.seg[0]), len - 3000);
    ck_assert_uint_eq(segs.seg[0]->md.gso_size, 0);
    fixture_free_segments(&segs, 0);
}

START_TEST(test_refuses_a_segment_of_another_run)
{
    const size_t ip = ETH_HEADER_LEN, tcp = ip + IPV4_HEADER_LEN;

    expect_refused(0, 0x01, false, "Ethernet destination");
    expect_refused(ip + 1, 0x04, false, "TOS");
    expect_refused(ip + 1, 0x03, false, "ECN: congestion experienced");
    expect_refused(ip + 8, 0x01, false, "TTL");
    expect_refused(ip + 15, 0x01, false, "source address");
    expect_refused(ip + 19, 0x01, false, "destination address");
    expect_refused(tcp + 1, 0x01, false, "source port");
    expect_refused(tcp + 3, 0x01, false, "destination port");
    expect_refused(tcp + 7, 0x01, false, "sequence number");
    expect_refused(tcp + 11, 0x01, false, "acknowledgment");
    expect_refused(tcp + 13, TCP_SYN, false, "SYN");
    expect_refused(tcp + 13, TCP_FIN, false, "FIN");
    expect_refused(tcp + 23, 0x01, false, "option");
    expect_refused(tcp + 40, 0x01, true, "payload: a bad checksum");
    expect_refused(ip + 10, 0x01, true, "a bad IPv4 header checksum");
    expect_refused(ip + 5, 0x02, false, "an identification out of turn");
}
END_TEST

START_TEST(test_a_short_or_pushed_segment_ends_the_run)
{
    struct fixture_tcp t = { .payload_len = 2500, .flags = TCP_ACK };
    struct fixture_tcp pushed = { .payload_len = 3000,
                                  .flags = TCP_ACK | TCP_PSH };
    static uint8_t frame[8192];
    struct fixture_segments segs, more;
    size_t len;

    /* 1000, 1000, 500: the short one joins, and then nothing does. */
    cut(&t, 1000, frame, &len, &segs);
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], ALL));
    ck_assert(gro_merge(segs.seg[0], segs.seg[2], ALL));
    t.seq = 2500;
    cut(&t, 1000, frame, &len, &more);
    ck_assert(!gro_merge(segs.seg[0], more.seg[0], ALL));
    fixture_free_segments(&more, 0);
    fixture_free_segments(&segs, 0);

    /* A longer segment after a shorter one does not join. */
    cut(&t, 1000, frame, &len, &segs);
    ck_assert(!gro_merge(segs.seg[2], segs.seg[1], ALL));
    fixture_free_segments(&segs, 0);

    /* PSH on the last of 1000, 1000, 1000: after it, nothing joins. */
    cut(&pushed, 1000, frame, &len, &segs);
    ck_assert(gro_merge(segs.seg[1], segs.seg[2], ALL));
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], ALL) == false);
    fixture_free_segments(&segs, 0);
}
END_TEST

START_TEST(test_refuses_what_is_not_a_plain_tcp_segment)
{
    struct fixture_tcp t = { .payload_len = 2000, .flags = TCP_ACK };
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    static uint8_t frame[8192];
    struct fixture_segments segs;
    struct packet *udp;
    size_t len;

    cut(&t, 1000, frame, &len, &segs);

    /* UDP. */
    udp = fixture_packet(pool, frame, fixture_udp4_frame(frame, &b, &a, 1, 2,
                                                         3, 4, 1000));
    ck_assert(!gro_merge(segs.seg[0], udp, ALL));
    ck_assert(!gro_merge(udp, segs.seg[0], ALL));
    packet_free(udp);

    /* A super frame is not merged into anything. */
    segs.seg[1]->md.gso_size = 1000;
    ck_assert(!gro_merge(segs.seg[0], segs.seg[1], ALL));
    segs.seg[1]->md.gso_size = 0;

    /* Ethernet padding past the IP length. */
    memset(packet_put_uninit(segs.seg[1], 2), 0, 2);
    ck_assert(!gro_merge(segs.seg[0], segs.seg[1], ALL));
    fixture_free_segments(&segs, 0);
}
END_TEST

/* Gives IPv4 segment 'p' identification 'id', with its header checksum. */
static void
set_ip_id(struct packet *p, uint16_t id)
{
    struct ipv4_header *ip = packet_at_rw(p, ETH_HEADER_LEN,
                                          IPV4_HEADER_LEN);

    ip->ip_id = htons(id);
    ip->ip_csum = 0;
    ip->ip_csum = csum_finish(csum_add_bytes(0, ip, IPV4_HEADER_LEN));
}

/* A super frame that says nothing of its checksum is verified like any
 * segment before it takes more: a damaged one stays as it is. */
START_TEST(test_verifies_a_super_frame_head)
{
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    static uint8_t frame[8192];
    struct fixture_segments segs;
    struct packet *head;
    size_t len;

    cut(&t, 1000, frame, &len, &segs);
    ck_assert(gro_merge(segs.seg[0], segs.seg[1], ALL));
    head = segs.seg[0];
    csum_complete_partial(head);
    packet_data(head)[len - 1500] ^= 0x01;
    ck_assert(!gro_merge(head, segs.seg[2], ALL));
    packet_data(head)[len - 1500] ^= 0x01;
    ck_assert(gro_merge(head, segs.seg[2], ALL));
    fixture_free_segments(&segs, 0);
}
END_TEST

/* The IP length field bounds a super frame: 65,535 bytes of IP. */
START_TEST(test_stops_at_the_largest_ip_packet)
{
    struct fixture_tcp first = { .payload_len = 60000, .flags = TCP_ACK };
    struct fixture_tcp then = { .payload_len = 10000, .seq = 60000,
                                .flags = TCP_ACK };
    static uint8_t frame[65536];
    struct fixture_segments a, b;
    size_t len, merged = 0;

    cut(&first, 1000, frame, &len, &a);
    cut(&then, 1000, frame, &len, &b);

    /* The second frame's segments carry on the first's identifications. */
    for (size_t i = 0; i < b.n; i++) {
        set_ip_id(b.seg[i], (uint16_t) (0x1234 + a.n + i));
    }
    for (size_t i = 1; i < a.n; i++) {
        ck_assert(gro_merge(a.seg[0], a.seg[i], ALL));
    }
    while (merged < b.n && gro_merge(a.seg[0], b.seg[merged], ALL)) {
        merged++;
    }
    /* 52 bytes of IP and TCP headers and 65 x 1000 fit; 66 would not. */
    ck_assert_uint_eq(merged, 5);
    ck_assert_uint_eq(packet_size(a.seg[0]) - ETH_HEADER_LEN, 52 + 65000);
    fixture_free_segments(&a, 0);
    fixture_free_segments(&b, 0);
}
END_TEST

/* Segments shorter than any TCP sender's smallest MSS are not joined:
 * the result would be a super frame that tso.h refuses, which the TAP
 * port would then write as one frame over the MTU with no segment size
 * (vnet_hdr_push()). */
START_TEST(test_refuses_tcp_segments_below_the_smallest_mss)
{
    const size_t mss = TSO_MIN_SEGMENT - 1;
    static uint8_t frame[2][256];
    struct packet *p[2];

    for (size_t i = 0; i < 2; i++) {
        struct fixture_tcp t = { .payload_len = mss, .flags = TCP_ACK,
                                 .seq = (uint32_t) (i * mss) };
        size_t len = fixture_tcp_frame(frame[i], &t);

        p[i] = fixture_packet(pool, frame[i], len);
    }
    ck_assert(!gro_merge(p[0], p[1], ALL));
    ck_assert_uint_eq(p[0]->md.gso_size, 0);
    ck_assert_mem_eq(packet_data(p[0]), frame[0], packet_size(p[0]));
    packet_free(p[0]);
    packet_free(p[1]);

    /* One byte more, and they are. */
    for (size_t i = 0; i < 2; i++) {
        struct fixture_tcp t = { .payload_len = mss + 1, .flags = TCP_ACK,
                                 .seq = (uint32_t) (i * (mss + 1)) };
        size_t len = fixture_tcp_frame(frame[i], &t);

        p[i] = fixture_packet(pool, frame[i], len);
    }
    ck_assert(gro_merge(p[0], p[1], ALL));
    ck_assert_uint_eq(tso_super_header_len(p[0]), packet_size(p[0])
                                                  - 2 * (mss + 1));
    packet_free(p[0]);
    packet_free(p[1]);
}
END_TEST

/* A UDP run ends at TSO_MAX_UDP_SEGMENTS datagrams, the most that a
 * receiving stack takes in one super frame (and that tso.h cuts). */
START_TEST(test_a_udp_run_ends_at_the_most_datagrams_a_stack_takes)
{
    struct fixture_tcp u = { .udp = true, .payload_len = 640 };
    static uint8_t frame[2048];
    struct fixture_segments a, b;
    size_t len, merged = 0;

    cut(&u, 10, frame, &len, &a);
    ck_assert_uint_eq(a.n, 64);
    for (size_t i = 1; i < a.n; i++) {
        ck_assert(gro_merge(a.seg[0], a.seg[i], ALL));
        packet_free(a.seg[i]);
    }
    u.payload_len = 650;
    cut(&u, 10, frame, &len, &b);
    ck_assert_uint_eq(b.n, 65);
    for (size_t i = 0; i < b.n; i++) {
        set_ip_id(b.seg[i], (uint16_t) (0x1234 + a.n + i));
    }
    while (merged < b.n && gro_merge(a.seg[0], b.seg[merged], ALL)) {
        merged++;
    }
    ck_assert_uint_eq(merged, TSO_MAX_UDP_SEGMENTS - a.n);
    ck_assert_uint_eq(packet_size(a.seg[0]),
                      ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN
                      + 10 * TSO_MAX_UDP_SEGMENTS);
    ck_assert_uint_ne(tso_super_header_len(a.seg[0]), 0);
    packet_free(a.seg[0]);
    fixture_free_segments(&b, 0);
}
END_TEST

/* Cuts a UDP datagram (IPv6 if 'ipv6') of 3 x 100 bytes and asserts that
 * datagram 1, changed at byte 'ofs' (XOR with 'mask') and claiming a
 * checksum left to offload (so that only the field changed can refuse
 * it), is refused by datagram 0. */
static void
expect_udp_refused(bool ipv6, size_t ofs, uint8_t mask, const char *what)
{
    struct fixture_tcp u = { .udp = true, .ipv6 = ipv6, .payload_len = 300 };
    static uint8_t frame[1024];
    struct fixture_segments segs;
    size_t len;

    cut(&u, 100, frame, &len, &segs);
    ck_assert_uint_eq(segs.n, 3);
    segs.seg[1]->md.csum_partial = true;
    ck_assert_msg(gro_merge(segs.seg[0], segs.seg[1], ALL), "%s", what);
    packet_data(segs.seg[2])[ofs] ^= mask;
    segs.seg[2]->md.csum_partial = true;
    if (!ipv6) {
        set_ip_id(segs.seg[2], (uint16_t) (0x1234 + 2));
    }
    ck_assert_msg(!gro_merge(segs.seg[0], segs.seg[2], ALL), "%s", what);
    ck_assert_uint_eq(packet_size(segs.seg[0]), len - 100);
    fixture_free_segments(&segs, 0);
}

START_TEST(test_refuses_a_datagram_of_another_udp_flow)
{
    const size_t ip = ETH_HEADER_LEN;
    const size_t udp4 = ip + IPV4_HEADER_LEN, udp6 = ip + IPV6_HEADER_LEN;

    expect_udp_refused(false, ip + 8, 0x01, "TTL");
    expect_udp_refused(false, ip + 1, 0x01, "ECN");
    expect_udp_refused(false, ip + 12, 0x01, "source address");
    expect_udp_refused(false, udp4 + 1, 0x01, "source port");
    expect_udp_refused(false, udp4 + 3, 0x01, "destination port");
    expect_udp_refused(true, ip, 0x01, "traffic class");
    expect_udp_refused(true, ip + 3, 0x01, "flow label");
    expect_udp_refused(true, ip + 7, 0x01, "hop limit");
    expect_udp_refused(true, ip + 39, 0x01, "destination address");
    expect_udp_refused(true, udp6 + 1, 0x01, "source port");
}
END_TEST

static Suite *
gro_suite(void)
{
    Suite *s = suite_create("gro");

    fixture_add_case(s, "merges a run back into its super frame",
                     test_merges_a_run_back_into_its_super_frame, setup,
                     teardown);
    fixture_add_case(s, "merges IPv6 and VLAN-tagged runs",
                     test_merges_ipv6_and_vlan_tagged_runs, setup, teardown);
    fixture_add_case(s, "refuses a segment of another run",
                     test_refuses_a_segment_of_another_run, setup, teardown);
    fixture_add_case(s, "a short or pushed segment ends the run",
                     test_a_short_or_pushed_segment_ends_the_run, setup,
                     teardown);
    fixture_add_case(s, "refuses what is not a plain TCP segment",
                     test_refuses_what_is_not_a_plain_tcp_segment, setup,
                     teardown);
    fixture_add_case(s, "joins UDP datagrams of one flow",
                     test_joins_udp_datagrams_of_one_flow, setup, teardown);
    fixture_add_case(s, "joins UDP only for a port with USO",
                     test_joins_udp_only_for_a_port_with_uso, setup,
                     teardown);
    fixture_add_case(s, "refuses a UDP datagram that fails its checksum",
                     test_refuses_a_udp_datagram_that_fails_its_checksum,
                     setup, teardown);
    fixture_add_case(s, "a shorter datagram ends the UDP run",
                     test_a_shorter_datagram_ends_the_udp_run, setup,
                     teardown);
    fixture_add_case(s, "verifies a super frame head",
                     test_verifies_a_super_frame_head, setup, teardown);
    fixture_add_case(s, "stops at the largest IP packet",
                     test_stops_at_the_largest_ip_packet, setup, teardown);
    fixture_add_case(s, "refuses a datagram of another UDP flow",
                     test_refuses_a_datagram_of_another_udp_flow, setup,
                     teardown);
    fixture_add_case(s, "a UDP run ends at the most datagrams a stack takes",
                     test_a_udp_run_ends_at_the_most_datagrams_a_stack_takes,
                     setup, teardown);
    fixture_add_case(s, "refuses TCP segments below the smallest MSS",
                     test_refuses_tcp_segments_below_the_smallest_mss, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(gro_suite());
}
