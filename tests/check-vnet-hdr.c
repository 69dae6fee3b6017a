#include <config.h>

#include <check.h>
#include <string.h>

#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "tso.h"
#include "util.h"
#include "vnet-hdr.h"

static struct packet_pool *pool;

static void
setup(void)
{
    pool = packet_pool_create(8);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* A packet holding a 3,000-byte TCP super frame (IPv6 if 'ipv6'). */
static struct packet *
super_frame(bool ipv6)
{
    struct fixture_tcp t = { .ipv6 = ipv6, .payload_len = 3000,
                             .flags = 0x010, .partial = true };
    static uint8_t frame[4096];

    return fixture_packet(pool, frame, fixture_tcp_frame(frame, &t));
}

/* Applies header 'h' to a fresh super frame; returns the verdict and the
 * packet in '*pp'. */
static bool
apply(const struct virtio_net_hdr *h, bool ipv6, struct packet **pp)
{
    *pp = super_frame(ipv6);
    return vnet_hdr_apply(h, *pp);
}

START_TEST(test_carries_offloads_both_ways)
{
    static const struct {
        bool ipv6;
        uint8_t gso_type;
        uint16_t gso_size;
    } cases[] = {
        { false, VIRTIO_NET_HDR_GSO_TCPV4, 1000 },
        { true, VIRTIO_NET_HDR_GSO_TCPV6, 1400 },
        { false, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 500 },
        { false, VIRTIO_NET_HDR_GSO_NONE, 0 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool ipv6 = cases[i].ipv6;
        uint16_t l4 = ETH_HEADER_LEN + (ipv6 ? IPV6_HEADER_LEN
                                             : IPV4_HEADER_LEN);
        struct virtio_net_hdr h = {
            .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
            .gso_type = cases[i].gso_type,
            .hdr_len = cases[i].gso_size ? (uint16_t) (l4 + 32) : 0,
            .gso_size = cases[i].gso_size,
            .csum_start = l4,
            .csum_offset = 16,
        };
        struct virtio_net_hdr back;
        struct packet *p;
        uint32_t size;

        ck_assert_msg(apply(&h, ipv6, &p), "case %zu", i);
        ck_assert_uint_eq(p->md.gso_size, cases[i].gso_size);
        ck_assert(p->md.gso_ecn
                  == ((cases[i].gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0));
        ck_assert(p->md.csum_partial);
        ck_assert_uint_eq(p->md.csum_start, l4);
        ck_assert_uint_eq(p->md.csum_offset, 16);

        /* Checking a super frame parsed it, once for everyone after: its
         * offsets and flow hash travel with it. */
        if (cases[i].gso_size) {
            ck_assert(p->md.parsed);
            ck_assert_uint_eq(p->md.l4_proto, IP_PROTO_TCP);
            ck_assert_uint_eq(p->md.l4_ofs, l4);
            ck_assert(p->md.hash_valid);
        }

        /* And back: the same header goes in front of the frame. */
        size = packet_size(p);
        ck_assert(vnet_hdr_push(p));
        ck_assert_uint_eq(packet_size(p), size + VNET_HDR_LEN);
        memcpy(&back, packet_data(p), sizeof back);
        ck_assert_int_eq(memcmp(&back, &h, sizeof h), 0);
        packet_free(p);
    }
}
END_TEST

START_TEST(test_pull_reads_the_header_before_the_frame)
{
    struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
                                .csum_start = 34, .csum_offset = 16 };
    struct packet *p = super_frame(false);
    struct virtio_net_hdr got;

    memcpy(packet_data(p) - VNET_HDR_LEN, &h, sizeof h);
    got = vnet_hdr_pull(p);
    ck_assert_int_eq(memcmp(&got, &h, sizeof h), 0);
    packet_free(p);
}
END_TEST

START_TEST(test_refuses_what_no_port_offers)
{
    const uint16_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    const struct virtio_net_hdr bad[] = {
        /* UDP super frames (UFO, USO). */
        { .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1000 },
        { .gso_type = 5, .gso_size = 1000 },
        /* A checksum field past the end of the frame. */
        { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = l4,
          .csum_offset = 3100 },
        /* A segment size under TCP's smallest, and none at all. */
        { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
          .gso_size = TSO_MIN_SEGMENT - 1 },
        { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct packet *p;

        ck_assert_msg(!apply(&bad[i], false, &p), "case %zu", i);
        packet_free(p);
    }
}
END_TEST

/* A TCP super frame whose frame is not TCP cannot be cut: refused once,
 * where it comes in. */
START_TEST(test_refuses_a_super_frame_that_is_not_tcp)
{
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                .gso_size = 1000 };
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[4096];
    struct packet *p = fixture_packet(pool, frame,
                                      fixture_udp4_frame(frame, &b, &a, 1, 2,
                                                         3, 4, 3000));

    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
}
END_TEST

START_TEST(test_push_needs_headroom)
{
    struct packet *p = super_frame(false);

    /* Leave 8 bytes of headroom, 2 short of the header. */
    ck_assert_ptr_nonnull(packet_push(p, packet_headroom(p) - 8));
    ck_assert(!vnet_hdr_push(p));
    ck_assert_uint_eq(packet_headroom(p), 8);
    packet_free(p);
}
END_TEST

static Suite *
vnet_hdr_suite(void)
{
    Suite *s = suite_create("vnet-hdr");

    fixture_add_case(s, "carries offloads both ways",
                     test_carries_offloads_both_ways, setup, teardown);
    fixture_add_case(s, "pull reads the header before the frame",
                     test_pull_reads_the_header_before_the_frame, setup,
                     teardown);
    fixture_add_case(s, "refuses what no port offers",
                     test_refuses_what_no_port_offers, setup, teardown);
    fixture_add_case(s, "refuses a super frame that is not TCP",
                     test_refuses_a_super_frame_that_is_not_tcp, setup,
                     teardown);
    fixture_add_case(s, "push needs headroom", test_push_needs_headroom,
                     setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(vnet_hdr_suite());
}
