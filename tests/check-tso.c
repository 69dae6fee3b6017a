#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "tso.h"
#include "util.h"

#define TCP_FIN 0x001
#define TCP_PSH 0x008
#define TCP_ACK 0x010
#define TCP_CWR 0x080

/* Headers of fixture_tcp_frame(): TCP with 12 bytes of options. */
#define TCP_LEN (TCP_HEADER_LEN + 12)

static struct packet_pool *pool;

static void
setup(void)
{
    pool = packet_pool_create(64);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* Builds the super frame 't' describes with segment size 'mss'. */
static struct packet *
super_frame(const struct fixture_tcp *t, uint16_t mss)
{
    static uint8_t buf[65536];
    struct packet *p = fixture_packet(pool, buf, fixture_tcp_frame(buf, t));

    p->md.gso_size = mss;
    return p;
}

/* Asserts that 'seg' is segment 'i' of the super frame that 't' and 'mss'
 * describe: lengths, identification, sequence number, flags, payload and
 * checksums. */
static void
expect_segment(const struct packet *seg, const struct fixture_tcp *t,
               size_t mss, size_t i, size_t n)
{
    size_t l3 = ETH_HEADER_LEN + (t->vlan ? VLAN_HEADER_LEN : 0);
    size_t l4 = l3 + (t->ipv6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN);
    size_t ofs = i * mss;
    size_t len = MIN(mss, t->payload_len - ofs);
    const uint8_t *data = packet_data(seg);
    struct tcp_header tcp;
    uint16_t flags;
    uint32_t pseudo;

    ck_assert_uint_eq(packet_size(seg), l4 + TCP_LEN + len);
    ck_assert_uint_eq(seg->md.gso_size, 0);
    ck_assert(!seg->md.csum_partial);
    if (t->ipv6) {
        struct ipv6_header ip6;
        struct in6_addr src, dst;

        memcpy(&ip6, data + l3, sizeof ip6);
        ck_assert_uint_eq(ntohs(ip6.ip6_plen), TCP_LEN + len);
        memcpy(&src, ip6.ip6_src, 16);
        memcpy(&dst, ip6.ip6_dst, 16);
        pseudo = csum_pseudo_ipv6(&src, &dst, IP_PROTO_TCP,
                                  (uint32_t) (TCP_LEN + len));
    } else {
        struct ipv4_header ip;

        memcpy(&ip, data + l3, sizeof ip);
        ck_assert_uint_eq(ntohs(ip.ip_tot_len),
                          IPV4_HEADER_LEN + TCP_LEN + len);
        ck_assert_uint_eq(ntohs(ip.ip_id), 0x1234 + i);
        ck_assert_uint_eq(ntohs(ip.ip_frag_off), IPV4_DF);
        ck_assert_uint_eq(csum_finish(csum_add_bytes(0, data + l3,
                                                     IPV4_HEADER_LEN)), 0);
        pseudo = csum_pseudo_ipv4(be32_16_get(&ip.ip_src),
                                  be32_16_get(&ip.ip_dst), IP_PROTO_TCP,
                                  (uint16_t) (TCP_LEN + len));
    }
    memcpy(&tcp, data + l4, sizeof tcp);
    ck_assert_uint_eq(ntohl(be32_16_get(&tcp.tcp_seq)),
                      (uint32_t) (t->seq + ofs));
    ck_assert_uint_eq(ntohs(tcp.tcp_ctl) >> 12, TCP_LEN / 4);
    flags = ntohs(tcp.tcp_ctl) & 0x1ff;
    ck_assert_uint_eq(flags & TCP_ACK, t->flags & TCP_ACK);
    ck_assert_uint_eq(flags & (TCP_FIN | TCP_PSH),
                      i + 1 == n ? t->flags & (TCP_FIN | TCP_PSH) : 0);
    ck_assert_uint_eq(flags & TCP_CWR, i == 0 ? t->flags & TCP_CWR : 0);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, data + l4,
                                                 TCP_LEN + len)), 0);
    for (size_t k = 0; k < len; k++) {
        ck_assert_uint_eq(data[l4 + TCP_LEN + k], (uint8_t) ((ofs + k) * 7));
    }
}

/* Asserts that super frame 'p' is refused with bytes after the end of its
 * IP packet, and with an IP packet longer than the frame; frees 'p'. */
static void
expect_ip_length_ends_the_frame(struct packet *p)
{
    struct fixture_segments segs = { 0 };

    memset(packet_put_uninit(p, 100), 0xee, 100);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    p->size -= 101;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    ck_assert_uint_eq(segs.n, 0);
    packet_free(p);
}

/* Cuts the super frame of 't' with 'mss' and checks every segment. */
static void
expect_cut(const struct fixture_tcp *t, uint16_t mss, size_t want_n)
{
    struct packet *p = super_frame(t, mss);
    struct fixture_segments segs = { 0 };

    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), 0);
    ck_assert_uint_eq(segs.n, want_n);
    for (size_t i = 0; i < segs.n; i++) {
        expect_segment(segs.seg[i], t, mss, i, segs.n);
    }
    fixture_free_segments(&segs, 0);
    packet_free(p);
}

START_TEST(test_cuts_an_ipv4_super_frame_into_segments)
{
    struct fixture_tcp t = { .payload_len = 3000, .seq = 0xfffffc00,
                             .flags = TCP_ACK | TCP_PSH | TCP_FIN
                                      | TCP_CWR };

    /* The sequence number wraps in the last segment. */
    expect_cut(&t, 1000, 3);
}
END_TEST

START_TEST(test_ends_with_a_short_segment)
{
    struct fixture_tcp t = { .payload_len = 2501, .seq = 1,
                             .flags = TCP_ACK | TCP_PSH };

    expect_cut(&t, 1000, 3);
}
END_TEST

START_TEST(test_cuts_ipv6_and_vlan_tagged_frames)
{
    struct fixture_tcp t6 = { .ipv6 = true, .payload_len = 4000, .seq = 9,
                              .flags = TCP_ACK };
    struct fixture_tcp tagged = { .vlan = true, .payload_len = 1400,
                                  .seq = 9, .flags = TCP_ACK };
    struct fixture_tcp both = { .ipv6 = true, .vlan = true,
                                .payload_len = 60000, .seq = 9,
                                .flags = TCP_ACK | TCP_PSH };

    expect_cut(&t6, 1440, 3);
    expect_cut(&tagged, 700, 2);
    expect_cut(&both, 1400, 43);
}
END_TEST

/* A VM's super frame arrives with the checksum left to offload: the field
 * holds anything, and every segment still gets a finished one. */
START_TEST(test_finishes_checksums_left_to_offload)
{
    struct fixture_tcp t = { .payload_len = 2000, .flags = TCP_ACK };
    struct packet *p = super_frame(&t, 1000);
    struct fixture_segments segs = { 0 };

    memset(packet_data(p) + ETH_HEADER_LEN + IPV4_HEADER_LEN + 16, 0xab, 2);
    p->md.csum_partial = true;
    p->md.csum_start = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    p->md.csum_offset = 16;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), 0);
    ck_assert_uint_eq(segs.n, 2);
    for (size_t i = 0; i < segs.n; i++) {
        expect_segment(segs.seg[i], &t, 1000, i, segs.n);
    }
    fixture_free_segments(&segs, 0);
    packet_free(p);
}
END_TEST

/* The IPv6 frame of 't' with an 8-byte hop-by-hop header before TCP, as
 * a super frame of 1000-byte segments. */
static struct packet *
ipv6_with_hop_by_hop(const struct fixture_tcp *t)
{
    static const uint8_t hbh[8] = { IP_PROTO_TCP, 0, 1, 4, 0, 0, 0, 0 };
    struct fixture_tcp t6 = *t;
    static uint8_t plain[8192], buf[8192];
    size_t l3 = ETH_HEADER_LEN, l4 = l3 + IPV6_HEADER_LEN;
    size_t len;
    struct ipv6_header ip6;
    struct packet *p;

    t6.ipv6 = true;
    len = fixture_tcp_frame(plain, &t6);
    memcpy(buf, plain, l4);
    memcpy(buf + l4, hbh, sizeof hbh);
    memcpy(buf + l4 + sizeof hbh, plain + l4, len - l4);
    memcpy(&ip6, buf + l3, sizeof ip6);
    ip6.ip6_nxt = 0;
    ip6.ip6_plen = htons((uint16_t) (ntohs(ip6.ip6_plen) + sizeof hbh));
    memcpy(buf + l3, &ip6, sizeof ip6);
    p = fixture_packet(pool, buf, len + sizeof hbh);
    p->md.gso_size = 1000;
    return p;
}

START_TEST(test_refuses_what_it_cannot_cut)
{
    struct fixture_tcp t = { .payload_len = 2000, .flags = TCP_ACK };
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct fixture_segments segs = { 0 };
    struct packet *p;
    uint8_t buf[2048];

    /* No segment size. */
    p = super_frame(&t, 0);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    /* UDP. */
    p = fixture_packet(pool, buf, fixture_udp4_frame(buf, &b, &a, 1, 2, 3,
                                                     4, 1500));
    p->md.gso_size = 500;
    ck_assert_uint_eq(tso_header_len(p), 0);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    /* TCP whose options run past the frame. */
    p = super_frame(&t, 1000);
    p->size = ETH_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN + 4;
    ck_assert_uint_eq(tso_header_len(p), 0);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    expect_ip_length_ends_the_frame(super_frame(&t, 1000));

    /* A segment size under TCP's smallest. */
    p = super_frame(&t, TSO_MIN_SEGMENT - 1);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    p->md.gso_size = TSO_MIN_SEGMENT;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), 0);
    ck_assert_uint_eq(segs.n, (2000 + TSO_MIN_SEGMENT - 1) / TSO_MIN_SEGMENT);
    fixture_free_segments(&segs, 0);
    packet_free(p);

    /* IPv6 with an extension header (hop-by-hop, padding only). */
    p = ipv6_with_hop_by_hop(&t);
    ck_assert_uint_eq(tso_header_len(p), 0);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    /* A data offset under 5 words. */
    p = super_frame(&t, 1000);
    packet_data(p)[ETH_HEADER_LEN + IPV4_HEADER_LEN + 12] = 0x40;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);
    ck_assert_uint_eq(segs.n, 0);
}
END_TEST

/* Builds the UDP super frame that 't' describes with segment size
 * 'seg', its checksum left to finish (and the field spoiled), as a
 * sender's UDP_SEGMENT hands it over. */
static struct packet *
udp_super_frame(const struct fixture_tcp *t, uint16_t seg)
{
    struct fixture_tcp u = *t;
    struct packet *p;
    size_t l4;

    u.udp = true;
    p = super_frame(&u, seg);
    p->md.gso_udp = true;
    l4 = ETH_HEADER_LEN + (t->vlan ? VLAN_HEADER_LEN : 0)
         + (t->ipv6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN);
    memset(packet_data(p) + l4 + 6, 0xab, 2);
    p->md.csum_partial = true;
    p->md.csum_start = (uint16_t) l4;
    p->md.csum_offset = 6;
    return p;
}

/* Asserts that 'seg' is datagram 'i' of the UDP super frame that 't' and
 * 'mss' describe: lengths, identification, payload and checksums, summed
 * here from the bytes with csum_add_bytes() alone. */
static void
expect_datagram(const struct packet *seg, const struct fixture_tcp *t,
                size_t mss, size_t i)
{
    size_t l3 = ETH_HEADER_LEN + (t->vlan ? VLAN_HEADER_LEN : 0);
    size_t l4 = l3 + (t->ipv6 ? IPV6_HEADER_LEN : IPV4_HEADER_LEN);
    size_t ofs = i * mss;
    size_t len = MIN(mss, t->payload_len - ofs);
    size_t udp_len = UDP_HEADER_LEN + len;
    const uint8_t *data = packet_data(seg);
    struct udp_header udp;
    uint32_t pseudo;

    ck_assert_uint_eq(packet_size(seg), l4 + udp_len);
    ck_assert_uint_eq(seg->md.gso_size, 0);
    ck_assert(!seg->md.gso_udp);
    ck_assert(!seg->md.csum_partial);
    if (t->ipv6) {
        struct ipv6_header ip6;
        struct in6_addr src, dst;

        memcpy(&ip6, data + l3, sizeof ip6);
        ck_assert_uint_eq(ntohs(ip6.ip6_plen), udp_len);
        ck_assert_uint_eq(ip6.ip6_nxt, IP_PROTO_UDP);
        memcpy(&src, ip6.ip6_src, 16);
        memcpy(&dst, ip6.ip6_dst, 16);
        pseudo = csum_pseudo_ipv6(&src, &dst, IP_PROTO_UDP,
                                  (uint32_t) udp_len);
    } else {
        struct ipv4_header ip;

        memcpy(&ip, data + l3, sizeof ip);
        ck_assert_uint_eq(ntohs(ip.ip_tot_len), IPV4_HEADER_LEN + udp_len);
        ck_assert_uint_eq(ntohs(ip.ip_id), 0x1234 + i);
        ck_assert_uint_eq(csum_finish(csum_add_bytes(0, data + l3,
                                                     IPV4_HEADER_LEN)), 0);
        pseudo = csum_pseudo_ipv4(be32_16_get(&ip.ip_src),
                                  be32_16_get(&ip.ip_dst), IP_PROTO_UDP,
                                  (uint16_t) udp_len);
    }
    memcpy(&udp, data + l4, sizeof udp);
    ck_assert_uint_eq(ntohs(udp.udp_src), 1000);
    ck_assert_uint_eq(ntohs(udp.udp_dst), 80);
    ck_assert_uint_eq(ntohs(udp.udp_len), udp_len);
    ck_assert_uint_ne(udp.udp_csum, 0);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, data + l4,
                                                 udp_len)), 0);
    for (size_t k = 0; k < len; k++) {
        ck_assert_uint_eq(data[l4 + UDP_HEADER_LEN + k],
                          (uint8_t) ((ofs + k) * 7));
    }
}

/* Cuts the UDP super frame of 't' with 'mss' into 'want_n' datagrams and
 * checks every one. */
static void
expect_udp_cut(const struct fixture_tcp *t, uint16_t mss, size_t want_n)
{
    struct packet *p = udp_super_frame(t, mss);
    struct fixture_segments segs = { 0 };
    size_t hdr_len = tso_super_header_len(p);

    ck_assert_uint_eq(hdr_len, p->md.l4_ofs + UDP_HEADER_LEN);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), 0);
    ck_assert_uint_eq(segs.n, want_n);
    for (size_t i = 0; i < segs.n; i++) {
        expect_datagram(segs.seg[i], t, mss, i);
    }
    fixture_free_segments(&segs, 0);
    packet_free(p);
}

START_TEST(test_cuts_a_udp_super_frame_into_datagrams)
{
    struct fixture_tcp t4 = { .payload_len = 3000 };
    struct fixture_tcp t6 = { .ipv6 = true, .vlan = true,
                              .payload_len = 40000 };
    struct fixture_tcp exact = { .payload_len = 2800 };
    struct fixture_tcp odd = { .ipv6 = true, .payload_len = 4001 };

    /* The last datagram is short (200 bytes; 40000 = 28 * 1400 + 800). */
    expect_udp_cut(&t4, 1400, 3);
    expect_udp_cut(&t6, 1400, 29);
    expect_udp_cut(&exact, 1400, 2);
    expect_udp_cut(&odd, 999, 5);
}
END_TEST

START_TEST(test_refuses_udp_it_cannot_cut)
{
    struct fixture_tcp t = { .payload_len = 2000 };
    struct fixture_segments segs = { 0 };
    struct packet *p;

    /* No segment size. */
    p = udp_super_frame(&t, 0);
    ck_assert_uint_eq(tso_super_header_len(p), 0);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    /* More datagrams than a UDP sender may make of one, and just as
     * many. */
    p = udp_super_frame(&t, 15);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    p->md.gso_size = 16;
    ck_assert_uint_eq(tso_super_header_len(p),
                      ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN);
    packet_free(p);

    /* Not UDP: a TCP frame marked as a UDP super frame. */
    p = super_frame(&t, 1000);
    p->md.gso_udp = true;
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), EINVAL);
    packet_free(p);

    expect_ip_length_ends_the_frame(udp_super_frame(&t, 1000));
    ck_assert_uint_eq(segs.n, 0);
}
END_TEST

START_TEST(test_stops_when_the_pool_runs_dry)
{
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    struct packet *held[64];
    struct packet *p = super_frame(&t, 1000);
    struct fixture_segments segs = { 0 };
    size_t n_held = fixture_drain_pool(pool, held, ARRAY_SIZE(held));

    /* Room for two of the three segments. */
    packet_free(held[--n_held]);
    packet_free(held[--n_held]);
    ck_assert_int_eq(tso_segment(p, pool, fixture_collect_segment,
                                 &segs), ENOBUFS);
    ck_assert_uint_eq(segs.n, 2);
    for (size_t i = 0; i < segs.n; i++) {
        expect_segment(segs.seg[i], &t, 1000, i, 3);
    }
    fixture_free_segments(&segs, 0);
    while (n_held) {
        packet_free(held[--n_held]);
    }
    packet_free(p);
}
END_TEST

/* One parse per packet: the offsets and protocol that flow_extract()
 * recorded are used as they are, until whoever changes the headers says
 * so. */
START_TEST(test_reuses_the_recorded_parse)
{
    struct fixture_tcp t = { .payload_len = 2000, .flags = 0x010 };
    struct packet *p = super_frame(&t, 1000);
    uint8_t *proto = packet_at_rw(p, ETH_HEADER_LEN
                                     + offsetof(struct ipv4_header,
                                                ip_proto), 1);
    size_t hdr_len = tso_header_len(p);

    ck_assert_uint_eq(hdr_len, ETH_HEADER_LEN + IPV4_HEADER_LEN + TCP_LEN);
    ck_assert(p->md.parsed);
    ck_assert_uint_eq(p->md.l4_proto, IP_PROTO_TCP);

    /* Not parsed again: a frame whose protocol byte now says UDP is still
     * the TCP frame that was parsed... */
    *proto = IP_PROTO_UDP;
    ck_assert_uint_eq(tso_header_len(p), hdr_len);

    /* ...until the headers are declared changed. */
    packet_reset_offsets(p);
    ck_assert(!p->md.parsed);
    ck_assert_uint_eq(tso_header_len(p), 0);
    ck_assert(p->md.parsed);
    ck_assert_uint_eq(p->md.l4_proto, IP_PROTO_UDP);
    packet_free(p);
}
END_TEST

static Suite *
tso_suite(void)
{
    Suite *s = suite_create("tso");

    fixture_add_case(s, "cuts an IPv4 super frame into segments",
                     test_cuts_an_ipv4_super_frame_into_segments, setup,
                     teardown);
    fixture_add_case(s, "ends with a short segment",
                     test_ends_with_a_short_segment, setup, teardown);
    fixture_add_case(s, "cuts IPv6 and VLAN-tagged frames",
                     test_cuts_ipv6_and_vlan_tagged_frames, setup, teardown);
    fixture_add_case(s, "finishes checksums left to offload",
                     test_finishes_checksums_left_to_offload, setup,
                     teardown);
    fixture_add_case(s, "refuses what it cannot cut",
                     test_refuses_what_it_cannot_cut, setup, teardown);
    fixture_add_case(s, "cuts a UDP super frame into datagrams",
                     test_cuts_a_udp_super_frame_into_datagrams, setup,
                     teardown);
    fixture_add_case(s, "refuses UDP it cannot cut",
                     test_refuses_udp_it_cannot_cut, setup, teardown);
    fixture_add_case(s, "stops when the pool runs dry",
                     test_stops_when_the_pool_runs_dry, setup, teardown);
    fixture_add_case(s, "reuses the recorded parse",
                     test_reuses_the_recorded_parse, setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(tso_suite());
}
