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
        /* UDP fragmentation offload (UFO), which no kernel hands over
         * now; USO (of a UDP frame) is for the test after. */
        { .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 1000 },
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

/* A packet holding a 3,000-byte UDP datagram (IPv6 if 'ipv6') with its
 * checksum left to finish, as a sender's UDP_SEGMENT makes it. */
static struct packet *
udp_super_frame(bool ipv6)
{
    struct fixture_tcp t = { .ipv6 = ipv6, .payload_len = 3000,
                             .partial = true, .udp = true };
    static uint8_t frame[4096];

    return fixture_packet(pool, frame, fixture_tcp_frame(frame, &t));
}

/* The header a kernel puts before a UDP super frame of 'gso_size' byte
 * datagrams whose UDP header starts at 'l4'. */
static struct virtio_net_hdr
uso_header(uint16_t l4, uint16_t gso_size)
{
    return (struct virtio_net_hdr) {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VNET_HDR_GSO_UDP_L4,
        .hdr_len = (uint16_t) (l4 + UDP_HEADER_LEN),
        .gso_size = gso_size,
        .csum_start = l4,
        .csum_offset = 6,
    };
}

/* A sender's UDP_SEGMENT datagram comes whole and goes whole, marked as
 * UDP; the old code refused it (and counted an rx_error). */
START_TEST(test_carries_udp_super_frames_both_ways)
{
    for (int ipv6 = 0; ipv6 <= 1; ipv6++) {
        uint16_t l4 = ETH_HEADER_LEN + (ipv6 ? IPV6_HEADER_LEN
                                             : IPV4_HEADER_LEN);
        struct virtio_net_hdr h = uso_header(l4, 1400), back;
        struct packet *p = udp_super_frame(ipv6);

        ck_assert_msg(vnet_hdr_apply(&h, p), "ipv6 %d", ipv6);
        ck_assert_uint_eq(p->md.gso_size, 1400);
        ck_assert(p->md.gso_udp);
        ck_assert(!p->md.gso_ecn);
        ck_assert(p->md.csum_partial);
        ck_assert_uint_eq(p->md.l4_proto, IP_PROTO_UDP);
        ck_assert(vnet_hdr_push(p));
        memcpy(&back, packet_data(p), sizeof back);
        ck_assert_int_eq(memcmp(&back, &h, sizeof h), 0);
        packet_free(p);
    }
}
END_TEST

START_TEST(test_refuses_malformed_udp_super_frames)
{
    const uint16_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    struct virtio_net_hdr h;
    struct packet *p;

    /* A sound one first, so that each refusal below is for its flaw. */
    h = uso_header(l4, 1400);
    p = udp_super_frame(false);
    ck_assert(vnet_hdr_apply(&h, p));
    packet_free(p);

    /* No segment size, and one that makes more datagrams than a UDP
     * sender may (3000 bytes in 23-byte pieces is 131). */
    h = uso_header(l4, 0);
    p = udp_super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
    h = uso_header(l4, 23);
    p = udp_super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);

    /* A frame that is not UDP. */
    h = uso_header(l4, 1400);
    p = super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);

    /* An IP length that does not end the frame: bytes after it, or a
     * frame cut short of it. */
    p = udp_super_frame(false);
    memset(packet_put_uninit(p, 10), 0, 10);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
    p = udp_super_frame(false);
    p->size -= 10;
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);

    /* No checksum left to finish, one elsewhere than UDP's, and ECN,
     * none of which the kernel takes back in a UDP super frame. */
    h.flags = 0;
    p = udp_super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
    h = uso_header(l4, 1400);
    h.csum_offset = 16;
    p = udp_super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
    h = uso_header(l4, 1400);
    h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    p = udp_super_frame(false);
    ck_assert(!vnet_hdr_apply(&h, p));
    packet_free(p);
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
    fixture_add_case(s, "carries UDP super frames both ways",
                     test_carries_udp_super_frames_both_ways, setup,
                     teardown);
    fixture_add_case(s, "refuses malformed UDP super frames",
                     test_refuses_malformed_udp_super_frames, setup,
                     teardown);
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
