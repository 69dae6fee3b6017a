#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "vxlan.h"

/* Offsets into an outer frame, as laid out in tests/data/README.md.  The
 * UDP header moves with the IP header, so udp_ofs() finds it. */
#define OFS_ETH_SRC 6
#define OFS_ETH_TYPE 12
#define OFS_IP 14
#define OFS_IP4_TOS 15
#define OFS_IP4_TOT_LEN 16
#define OFS_IP4_ID 18
#define OFS_IP4_FRAG 20
#define OFS_IP4_TTL 22
#define OFS_IP4_PROTO 23
#define OFS_IP4_CSUM 24
#define OFS_IP4_SRC 26
#define OFS_IP4_DST 30
#define OFS_IP6_PLEN 18
#define OFS_IP6_NXT 20
#define OFS_IP6_HLIM 21
#define OFS_IP6_SRC 22
#define OFS_IP6_DST 38

/* Offsets from the start of the UDP header. */
#define UDP_SPORT 0
#define UDP_DPORT 2
#define UDP_LEN 4
#define UDP_CSUM 6
#define UDP_VX_FLAGS 8
#define UDP_VX_VNI 12
#define UDP_INNER (UDP_HEADER_LEN + VXLAN_HEADER_LEN)

/* Every capture holds an ARP request, an ARP reply, an ICMP echo request
 * and an ICMP echo reply, in that order. */
#define FRAME_ARP_REQUEST 0
#define FRAME_ICMP_REQUEST 2

#define IPV4_CAPTURE "kernel-vxlan-ipv4.pcap"
#define IPV6_CAPTURE "kernel-vxlan-ipv6.pcap"
#define MCAST_CAPTURE "kernel-vxlan-mcast.pcap"

static const char *const captures[] = {
    IPV4_CAPTURE, IPV6_CAPTURE, MCAST_CAPTURE,
};
static const uint32_t capture_vnis[] = { 5000, 6000, 7000 };
#define N_CAPTURES (sizeof captures / sizeof captures[0])

/* Room for the largest captured frame plus some padding. */
#define FRAME_BUF 256

static struct packet_pool *pool;

/* A pool of exactly one buffer, whose end is the end of its allocation:
 * edge_packet() puts a frame there, so that reading one byte past it is an
 * invalid read that valgrind reports. */
static struct packet_pool *edge_pool;

static void
setup(void)
{
    pool = packet_pool_create(4);
    edge_pool = packet_pool_create(1);
    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(edge_pool);
}

static void
teardown(void)
{
    packet_pool_destroy(pool);
    packet_pool_destroy(edge_pool);
}

static uint16_t
get16(const uint8_t *b)
{
    return (uint16_t) (b[0] << 8 | b[1]);
}

static void
put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t) (v >> 8);
    b[1] = (uint8_t) v;
}

static uint32_t
get24(const uint8_t *b)
{
    return (uint32_t) b[0] << 16 | (uint32_t) b[1] << 8 | b[2];
}

static bool
frame_is_ipv6(const uint8_t *f)
{
    return get16(f + OFS_ETH_TYPE) == ETH_TYPE_IPV6;
}

static size_t
udp_ofs(const uint8_t *f)
{
    return frame_is_ipv6(f) ? OFS_IP + IPV6_HEADER_LEN
                            : OFS_IP + (size_t) (f[OFS_IP] & 0x0f) * 4;
}

static size_t
inner_ofs(const uint8_t *f)
{
    return udp_ofs(f) + UDP_INNER;
}

/* The IPv4-mapped address of the 4 bytes at 'v4', built by hand rather than
 * with inet_from_ipv4(), which is tested separately. */
static struct in6_addr
mapped(const uint8_t *v4)
{
    struct in6_addr a;

    memset(&a, 0, sizeof a);
    a.s6_addr[10] = 0xff;
    a.s6_addr[11] = 0xff;
    memcpy(&a.s6_addr[12], v4, 4);
    return a;
}

static struct in6_addr
frame_src(const uint8_t *f)
{
    struct in6_addr a;

    if (!frame_is_ipv6(f)) {
        return mapped(f + OFS_IP4_SRC);
    }
    memcpy(&a, f + OFS_IP6_SRC, sizeof a);
    return a;
}

static struct in6_addr
frame_dst(const uint8_t *f)
{
    struct in6_addr a;

    if (!frame_is_ipv6(f)) {
        return mapped(f + OFS_IP4_DST);
    }
    memcpy(&a, f + OFS_IP6_DST, sizeof a);
    return a;
}

/* Parses an address in text form; IPv4 comes back IPv4-mapped. */
static struct in6_addr
addr(const char *s)
{
    struct in6_addr a;
    uint8_t v4[4];

    if (inet_pton(AF_INET, s, v4) == 1) {
        return mapped(v4);
    }
    ck_assert_msg(inet_pton(AF_INET6, s, &a) == 1, "bad address %s", s);
    return a;
}

/* Copies frame 'idx' of capture 'name' into 'buf' and returns its length. */
static size_t
kernel_frame(const char *name, size_t idx, uint8_t buf[FRAME_BUF])
{
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read(name, &frames);
    size_t len;

    ck_assert_uint_gt(n, idx);
    len = frames[idx].len;
    ck_assert_uint_le(len, FRAME_BUF);
    memcpy(buf, frames[idx].data, len);
    fixture_frames_free(frames, n);
    return len;
}

static void
fix_ip4_csum(uint8_t *f)
{
    size_t ihl = (size_t) (f[OFS_IP] & 0x0f) * 4;
    be16 csum;

    put16(f + OFS_IP4_CSUM, 0);
    csum = csum_finish(csum_add_bytes(0, f + OFS_IP, ihl));
    memcpy(f + OFS_IP4_CSUM, &csum, sizeof csum);
}

/* Returns the outer UDP checksum of 'f' computed from scratch (as if its
 * field were zero), before zero is replaced by 0xffff. */
static be16
udp_csum_raw(const uint8_t *f)
{
    struct in6_addr src = frame_src(f);
    struct in6_addr dst = frame_dst(f);
    size_t udp = udp_ofs(f);
    uint16_t udp_len = get16(f + udp + UDP_LEN);
    static const be16 zero;
    uint32_t sum;
    be32 src4, dst4;

    if (frame_is_ipv6(f)) {
        sum = csum_pseudo_ipv6(&src, &dst, IP_PROTO_UDP, udp_len);
    } else {
        memcpy(&src4, &src.s6_addr[12], 4);
        memcpy(&dst4, &dst.s6_addr[12], 4);
        sum = csum_pseudo_ipv4(src4, dst4, IP_PROTO_UDP, udp_len);
    }
    sum = csum_add_bytes(sum, f + udp, UDP_CSUM);
    sum = csum_add_bytes(sum, &zero, sizeof zero);
    sum = csum_add_bytes(sum, f + udp + UDP_HEADER_LEN,
                         udp_len - UDP_HEADER_LEN);
    return csum_finish(sum);
}

/* Recomputes the outer UDP checksum of 'f' after a test edited it, so that
 * the edit, not the checksum, is what decapsulation sees. */
static void
fix_udp_csum(uint8_t *f)
{
    be16 csum = udp_csum_raw(f);

    memcpy(f + udp_ofs(f) + UDP_CSUM, &csum, sizeof csum);
    if (!csum) {
        put16(f + udp_ofs(f) + UDP_CSUM, 0xffff);
    }
}

/* Asserts that the 'got_len' bytes at 'got' are the 'want_len' bytes at
 * 'want', naming the first byte that differs, so that a failure says which
 * header field is wrong. */
static void
assert_bytes_eq(const uint8_t *got, size_t got_len, const uint8_t *want,
                size_t want_len, const char *what, size_t idx)
{
    size_t i;

    ck_assert_msg(got_len == want_len, "%s frame %zu: %zu bytes, want %zu",
                  what, idx, got_len, want_len);
    for (i = 0; i < want_len && got[i] == want[i]; i++) {
        continue;
    }
    ck_assert_msg(i == want_len,
                  "%s frame %zu: first difference at offset %zu: "
                  "0x%02x, want 0x%02x", what, idx, i,
                  i < want_len ? got[i] : 0, i < want_len ? want[i] : 0);
    ck_assert_mem_eq(got, want, want_len);
}

static void
assert_packet_eq(const struct packet *p, const uint8_t *want,
                 size_t want_len, const char *what, size_t idx)
{
    assert_bytes_eq(packet_data(p), packet_size(p), want, want_len, what,
                    idx);
}

/* Returns a packet from 'edge_pool' holding a copy of 'len' bytes at
 * 'data', placed so that the frame ends where the buffer's memory does and
 * any read past it is caught.  An odd-length frame ends one byte short of
 * that, because frames start at even addresses (see packet.h). */
static struct packet *
edge_packet(const void *data, size_t len)
{
    struct packet *p = packet_alloc(edge_pool);
    size_t slack = len & 1;
    size_t gap = PACKET_MAX_FRAME - len - slack;
    uint8_t *frame;

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(packet_put_uninit(p, gap));
    ck_assert_ptr_nonnull(packet_pull(p, gap));
    frame = packet_put_uninit(p, len);
    ck_assert_ptr_nonnull(frame);
    memcpy(frame, data, len);
    ck_assert_uint_eq(packet_tailroom(p), slack);
    return p;
}

/* Decapsulates a copy of 'f' and asserts that it fails, leaving the packet
 * (bytes, position and metadata) exactly as it was.  Returns the reason. */
static enum vxlan_error
decap_failure(const uint8_t *f, size_t len, uint16_t port, bool csum_partial)
{
    struct packet *p = edge_packet(f, len);
    struct packet_meta md;
    uint32_t data_ofs;
    enum vxlan_error error;
    uint32_t vni;

    /* Metadata a failed decap must not disturb, the tunnel addresses in
     * particular, which the parser fills in on its way. */
    p->md.csum_partial = csum_partial;
    p->md.vni = 77;
    p->md.tun_src = addr("fd00::77");
    p->md.tun_dst = addr("192.0.2.77");
    p->md.hash = 0x1234;
    p->md.hash_valid = true;
    md = p->md;
    data_ofs = p->data_ofs;

    error = vxlan_decap_frame(p, htons(port), &vni);
    ck_assert_msg(error != VXLAN_OK, "decap of %zu bytes succeeded", len);
    ck_assert_uint_eq(p->data_ofs, data_ofs);
    ck_assert_uint_eq(packet_size(p), len);
    if (len) {
        ck_assert_mem_eq(packet_data(p), f, len);
    }
    ck_assert_mem_eq(&p->md, &md, sizeof md);
    packet_free(p);
    return error;
}

/* Decapsulates a copy of 'f' that must succeed and returns the packet, which
 * the caller frees. */
static struct packet *
decap_success(const uint8_t *f, size_t len, bool csum_partial,
              uint32_t *vni)
{
    struct packet *p = edge_packet(f, len);

    p->md.csum_partial = csum_partial;
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), vni),
                     VXLAN_OK);
    return p;
}

/* The arguments that make vxlan_encap() and the outer headers of
 * fixture_vxlan_wire() rebuild a captured frame. */
struct kernel_encap {
    struct vxlan_encap_params params;
    struct in6_addr dst;
    struct eth_addr eth_dst;
    uint32_t vni;
    uint16_t ip_id;
    uint32_t hash;
};

static void
kernel_encap_init(const uint8_t *f, struct kernel_encap *k)
{
    size_t udp = udp_ofs(f);
    uint16_t sport = get16(f + udp + UDP_SPORT);

    memset(k, 0, sizeof *k);
    k->params.local = frame_src(f);
    memcpy(&k->params.eth_src, f + OFS_ETH_SRC, ETH_ADDR_LEN);
    k->params.dst_port = htons(VXLAN_DST_PORT);
    k->params.udp_csum = true;
    k->dst = frame_dst(f);
    memcpy(&k->eth_dst, f, ETH_ADDR_LEN);
    k->vni = get24(f + udp + UDP_VX_VNI);
    k->ip_id = frame_is_ipv6(f) ? 0 : get16(f + OFS_IP4_ID);

    /* The kernel's source port is a seeded hash we cannot recompute.  A
     * port inside our default range is reached through that range: each
     * port owns 2^18 consecutive hashes, and the last of them must still
     * map to it.  A port below it gets a range of one port. */
    if (sport >= VXLAN_SRC_PORT_MIN) {
        k->params.src_port_min = VXLAN_SRC_PORT_MIN;
        k->params.src_port_max = VXLAN_SRC_PORT_MAX;
        k->hash = (uint32_t) (sport - VXLAN_SRC_PORT_MIN) << 18 | 0x3ffff;
    } else {
        k->params.src_port_min = sport;
        k->params.src_port_max = sport;
        k->hash = 0x9e3779b9;
    }
}

/* Encapsulates the inner frame of captured frame 'f' with 'k' and returns
 * the packet, which the caller frees. */
static struct packet *
encap_inner(const uint8_t *f, size_t len, const struct kernel_encap *k)
{
    size_t inner = inner_ofs(f);
    struct packet *p = fixture_packet(pool, f + inner, len - inner);

    p->md.hash = k->hash;
    p->md.hash_valid = true;
    ck_assert_int_eq(fixture_vxlan_wire(p, &k->params, k->vni, &k->dst,
                                        &k->eth_dst, k->ip_id), 0);
    return p;
}

/* Builds the inner Ethernet/IPv4/UDP frame used where no capture fits, with
 * an odd payload so that the last checksum word is padded. */
static size_t
inner_udp_frame(uint8_t buf[FRAME_BUF])
{
    struct eth_addr dst = fixture_mac(2);
    struct eth_addr src = fixture_mac(1);

    return fixture_udp4_frame(buf, &dst, &src, 0x0a000001, 0x0a000002,
                              1234, 5678, 37);
}

/* The pseudo-header sum of the inner UDP datagram of inner_udp_frame(). */
static uint32_t
inner_udp_pseudo(const uint8_t *f)
{
    be32 src, dst;

    memcpy(&src, f + OFS_IP4_SRC, 4);
    memcpy(&dst, f + OFS_IP4_DST, 4);
    return csum_pseudo_ipv4(src, dst, IP_PROTO_UDP,
                            get16(f + OFS_IP + IPV4_HEADER_LEN + UDP_LEN));
}

START_TEST(test_encap_matches_kernel)
{
    const char *name = captures[_i];
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read(name, &frames);

    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *f = frames[i].data;
        struct kernel_encap k;
        struct packet *p;

        kernel_encap_init(f, &k);
        p = encap_inner(f, frames[i].len, &k);
        ck_assert_uint_eq(packet_size(p), frames[i].len - inner_ofs(f)
                                          + vxlan_overhead(&k.dst));
        assert_packet_eq(p, f, frames[i].len, name, i);
        packet_free(p);
    }
    fixture_frames_free(frames, n);
}
END_TEST

START_TEST(test_encap_ipv4_without_udp_csum_sends_zero)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);
    struct kernel_encap k;
    struct packet *p;

    kernel_encap_init(f, &k);
    k.params.udp_csum = false;
    p = encap_inner(f, len, &k);
    ck_assert_uint_ne(get16(f + udp + UDP_CSUM), 0);
    put16(f + udp + UDP_CSUM, 0);
    assert_packet_eq(p, f, len, "no udpcsum", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_ipv6_sums_even_without_udp_csum)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV6_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct kernel_encap k;
    struct packet *p;

    kernel_encap_init(f, &k);
    k.params.udp_csum = false;
    p = encap_inner(f, len, &k);
    assert_packet_eq(p, f, len, "ipv6 no udpcsum", 0);
    packet_free(p);
}
END_TEST

/* A checksum that computes to zero must go out as 0xffff, since zero means
 * "no checksum".  Adding the first encap's checksum C to one inner word
 * brings the datagram's folded sum to 0xffff, whose complement is zero. */
START_TEST(test_encap_sends_zero_csum_as_ffff)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);
    size_t word = len - 8;
    uint32_t sum;
    struct kernel_encap k;
    struct packet *p;
    uint32_t vni;

    kernel_encap_init(f, &k);
    ck_assert_uint_eq((word - udp) % 2, 0);
    sum = (uint32_t) get16(f + word) + get16(f + udp + UDP_CSUM);
    put16(f + word, (uint16_t) ((sum & 0xffff) + (sum >> 16)));

    p = encap_inner(f, len, &k);
    ck_assert_uint_eq(get16(packet_data(p) + udp + UDP_CSUM), 0xffff);

    /* The datagram summed from scratch gives 0, the value the rule
     * replaces, and 0xffff verifies on receive. */
    ck_assert_uint_eq(udp_csum_raw(packet_data(p)), 0);
    put16(f + udp + UDP_CSUM, 0xffff);
    assert_packet_eq(p, f, len, "zero csum", 0);
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni),
                     VXLAN_OK);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_uses_configured_dst_port)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct kernel_encap k;
    struct packet *p;
    uint32_t vni;

    kernel_encap_init(f, &k);
    k.params.dst_port = htons(VXLAN_DST_PORT_LEGACY);
    p = encap_inner(f, len, &k);
    put16(f + udp_ofs(f) + UDP_DPORT, VXLAN_DST_PORT_LEGACY);
    fix_udp_csum(f);
    assert_packet_eq(p, f, len, "legacy port", 0);
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT_LEGACY),
                                       &vni), VXLAN_OK);
    ck_assert_uint_eq(vni, 5000);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_sets_df_and_tos)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct kernel_encap k;
    struct packet *p;

    kernel_encap_init(f, &k);
    k.params.df = true;
    k.params.tos = 0xb8;
    p = encap_inner(f, len, &k);

    /* Neither field is in the UDP pseudo-header, so only the IPv4 header
     * checksum moves with them. */
    f[OFS_IP4_TOS] = 0xb8;
    put16(f + OFS_IP4_FRAG, IPV4_DF);
    fix_ip4_csum(f);
    assert_packet_eq(p, f, len, "df tos", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_ipv6_puts_tos_in_traffic_class)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV6_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct kernel_encap k;
    struct packet *p;

    kernel_encap_init(f, &k);
    k.params.tos = 0xb8;
    k.params.df = true;         /* IPv6 has no DF bit: no effect. */
    p = encap_inner(f, len, &k);

    /* Version 6, traffic class 0xb8, flow label 0. */
    f[OFS_IP] = 0x6b;
    f[OFS_IP + 1] = 0x80;
    assert_packet_eq(p, f, len, "ipv6 tos", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_explicit_ttl_overrides_auto)
{
    static const struct {
        const char *capture;
        uint8_t ttl;
    } cases[] = {
        { MCAST_CAPTURE, 5 },   /* Multicast would default to 1. */
        { IPV4_CAPTURE, 200 },  /* Unicast would default to 64. */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t f[FRAME_BUF];
        size_t len = kernel_frame(cases[i].capture, FRAME_ARP_REQUEST, f);
        struct kernel_encap k;
        struct packet *p;

        kernel_encap_init(f, &k);
        k.params.ttl = cases[i].ttl;
        p = encap_inner(f, len, &k);
        f[OFS_IP4_TTL] = cases[i].ttl;
        fix_ip4_csum(f);
        assert_packet_eq(p, f, len, cases[i].capture, i);
        packet_free(p);
    }

    uint8_t f6[FRAME_BUF];
    size_t len6 = kernel_frame(IPV6_CAPTURE, FRAME_ARP_REQUEST, f6);
    struct kernel_encap k6;
    struct packet *p6;

    kernel_encap_init(f6, &k6);
    k6.params.ttl = 9;
    p6 = encap_inner(f6, len6, &k6);
    f6[OFS_IP6_HLIM] = 9;
    assert_packet_eq(p6, f6, len6, "ipv6 hop limit", 0);
    packet_free(p6);
}
END_TEST

START_TEST(test_encap_ipv6_multicast_uses_hop_limit_1)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV6_CAPTURE, FRAME_ARP_REQUEST, f);
    static const uint8_t eth_dst[] = { 0x33, 0x33, 0x00, 0x03, 0x00, 0x04 };
    struct kernel_encap k;
    struct packet *p;
    uint32_t vni;

    kernel_encap_init(f, &k);
    k.dst = addr("ff0e::1:2:3:4");
    k.eth_dst = vxlan_multicast_eth(&k.dst);
    p = encap_inner(f, len, &k);

    ck_assert_uint_eq(packet_size(p), len);
    ck_assert_mem_eq(packet_data(p), eth_dst, sizeof eth_dst);
    ck_assert_uint_eq(packet_data(p)[OFS_IP6_HLIM], 1);
    ck_assert_mem_eq(packet_data(p) + OFS_IP6_DST, &k.dst, sizeof k.dst);

    /* Everything else is the unicast frame, with the checksum redone for
     * the new destination. */
    memcpy(f, eth_dst, sizeof eth_dst);
    f[OFS_IP6_HLIM] = 1;
    memcpy(f + OFS_IP6_DST, &k.dst, sizeof k.dst);
    fix_udp_csum(f);
    assert_packet_eq(p, f, len, "ipv6 multicast", 0);
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni),
                     VXLAN_OK);
    packet_free(p);
}
END_TEST

START_TEST(test_encap_vni_keeps_reserved_bits_zero)
{
    static const struct {
        uint32_t vni;
        uint8_t header[VXLAN_HEADER_LEN];
    } cases[] = {
        { 1, { 0x08, 0, 0, 0, 0x00, 0x00, 0x01, 0 } },
        { 0xffffff, { 0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0 } },
        { 0x123456, { 0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0 } },
    };
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct kernel_encap k;
        struct packet *p;
        uint32_t vni = 0;

        kernel_encap_init(f, &k);
        k.vni = cases[i].vni;
        p = encap_inner(f, len, &k);
        assert_bytes_eq(packet_data(p) + udp + UDP_HEADER_LEN,
                        VXLAN_HEADER_LEN, cases[i].header,
                        VXLAN_HEADER_LEN, "vxlan header", i);
        ck_assert_uint_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni),
                          VXLAN_OK);
        ck_assert_uint_eq(vni, cases[i].vni);
        packet_free(p);
    }
}
END_TEST

/* With one byte too little headroom encap fails and touches nothing, not
 * even the partial inner checksum; with exactly enough it succeeds. */
START_TEST(test_encap_fails_on_short_headroom)
{
    static const char *const dsts[] = { "172.31.250.2", "fd00:250::2" };

    for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
        struct in6_addr dst = addr(dsts[i]);
        struct vxlan_encap_params params = {
            .local = addr(i ? "fd00:250::1" : "172.31.250.1"),
            .eth_src = fixture_mac(1),
            .dst_port = htons(VXLAN_DST_PORT),
            .src_port_min = VXLAN_SRC_PORT_MIN,
            .src_port_max = VXLAN_SRC_PORT_MAX,
            .udp_csum = true,
        };
        struct eth_addr eth_dst = fixture_mac(2);
        unsigned int overhead = vxlan_overhead(&dst);
        size_t pushed = PACKET_HEADROOM - (overhead - 1);
        uint8_t inner[FRAME_BUF];
        size_t inner_len = inner_udp_frame(inner);
        uint8_t before[2 * FRAME_BUF];
        struct packet_meta md;
        struct packet *p = fixture_packet(pool, inner, inner_len);
        uint8_t *front = packet_push(p, pushed);
        uint32_t size;

        ck_assert_ptr_nonnull(front);
        memset(front, 0x5a, pushed);
        put16(packet_data(p) + pushed + OFS_IP + IPV4_HEADER_LEN + UDP_CSUM,
              0x1234);
        p->md.csum_partial = true;
        p->md.csum_start = (uint16_t) (pushed + OFS_IP + IPV4_HEADER_LEN);
        p->md.csum_offset = UDP_CSUM;
        p->md.hash = 7;
        p->md.hash_valid = true;
        ck_assert_uint_eq(packet_headroom(p), overhead - 1);
        size = packet_size(p);
        ck_assert_uint_le(size, sizeof before);
        memcpy(before, packet_data(p), size);
        md = p->md;

        ck_assert_int_eq(fixture_vxlan_wire(p, &params, 5000, &dst,
                                            &eth_dst, 1), EMSGSIZE);
        ck_assert_uint_eq(packet_headroom(p), overhead - 1);
        ck_assert_uint_eq(packet_size(p), size);
        ck_assert_mem_eq(packet_data(p), before, size);
        ck_assert_mem_eq(&p->md, &md, sizeof md);

        ck_assert_ptr_nonnull(packet_pull(p, 1));
        ck_assert_int_eq(fixture_vxlan_wire(p, &params, 5000, &dst,
                                            &eth_dst, 1), 0);
        ck_assert_uint_eq(packet_headroom(p), 0);
        ck_assert_uint_eq(packet_size(p), size - 1 + overhead);
        packet_free(p);
    }
}
END_TEST

/* The outer IPv4 total length is 16 bits: 65499 inner bytes fill it
 * exactly, one more does not fit. */
START_TEST(test_encap_fails_when_ipv4_total_length_overflows)
{
    struct in6_addr dst = addr("172.31.250.2");
    struct vxlan_encap_params params = {
        .local = addr("172.31.250.1"),
        .eth_src = fixture_mac(1),
        .dst_port = htons(VXLAN_DST_PORT),
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
        .udp_csum = true,
    };
    struct eth_addr eth_dst = fixture_mac(2);
    size_t fits = 65535 - IPV4_HEADER_LEN - UDP_INNER;
    struct packet *p = packet_alloc(pool);
    uint8_t *d;
    uint32_t vni;

    ck_assert_ptr_nonnull(p);
    d = packet_put_uninit(p, fits);
    ck_assert_ptr_nonnull(d);
    memset(d, 0xa5, fits);
    p->md.hash_valid = true;
    ck_assert_int_eq(fixture_vxlan_wire(p, &params, 5000, &dst, &eth_dst,
                                        1), 0);
    ck_assert_uint_eq(packet_size(p), fits + VXLAN_IPV4_OVERHEAD);
    ck_assert_uint_eq(get16(packet_data(p) + OFS_IP4_TOT_LEN), 65535);
    ck_assert_uint_eq(get16(packet_data(p) + OFS_IP + IPV4_HEADER_LEN
                            + UDP_LEN), 65515);
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni),
                     VXLAN_OK);
    ck_assert_uint_eq(packet_size(p), fits);

    ck_assert_ptr_nonnull(packet_put_uninit(p, 1));
    packet_data(p)[fits] = 0xa5;
    ck_assert_int_eq(fixture_vxlan_wire(p, &params, 5000, &dst, &eth_dst,
                                        1), EMSGSIZE);
    ck_assert_uint_eq(packet_size(p), fits + 1);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    for (size_t i = 0; i < fits + 1; i++) {
        ck_assert_uint_eq(packet_data(p)[i], 0xa5);
    }
    packet_free(p);
}
END_TEST

/* A sender that left its UDP checksum to offload stores the folded
 * pseudo-header sum in the field, as Linux does for CHECKSUM_PARTIAL; encap
 * must finish it, and the outer checksum must cover the finished value. */
START_TEST(test_encap_completes_partial_inner_csum)
{
    uint8_t inner[FRAME_BUF];
    size_t inner_len = inner_udp_frame(inner);
    size_t l4 = OFS_IP + IPV4_HEADER_LEN;
    uint16_t udp_len = get16(inner + l4 + UDP_LEN);
    uint32_t pseudo = inner_udp_pseudo(inner);
    be16 want = csum_finish(csum_add_bytes(pseudo, inner + l4, udp_len));
    be16 partial = (be16) ~csum_finish(pseudo);
    struct kernel_encap k;
    struct packet *p;
    uint8_t *out;
    uint32_t vni;

    ck_assert_uint_eq(get16(inner + l4 + UDP_CSUM), 0);
    ck_assert_uint_ne(want, 0);
    memcpy(inner + l4 + UDP_CSUM, &partial, sizeof partial);

    memset(&k, 0, sizeof k);
    k.params.local = addr("172.31.250.1");
    k.params.eth_src = fixture_mac(1);
    k.params.dst_port = htons(VXLAN_DST_PORT);
    k.params.src_port_min = VXLAN_SRC_PORT_MIN;
    k.params.src_port_max = VXLAN_SRC_PORT_MAX;
    k.params.udp_csum = true;
    k.dst = addr("172.31.250.2");
    k.eth_dst = fixture_mac(2);

    p = fixture_packet(pool, inner, inner_len);
    p->md.csum_partial = true;
    p->md.csum_start = (uint16_t) l4;
    p->md.csum_offset = UDP_CSUM;
    p->md.hash_valid = true;
    ck_assert_int_eq(fixture_vxlan_wire(p, &k.params, 5000, &k.dst,
                                        &k.eth_dst, 1), 0);
    ck_assert(!p->md.csum_partial);

    out = packet_data(p) + VXLAN_IPV4_OVERHEAD;
    ck_assert_mem_eq(out + l4 + UDP_CSUM, &want, sizeof want);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, out + l4, udp_len)),
                      0);
    ck_assert_mem_eq(out, inner, l4 + UDP_CSUM);
    ck_assert_mem_eq(out + l4 + UDP_HEADER_LEN, inner + l4 + UDP_HEADER_LEN,
                     inner_len - l4 - UDP_HEADER_LEN);

    /* Decap verifies the outer checksum, so it must have been computed over
     * the completed inner checksum. */
    ck_assert_int_eq(vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni),
                     VXLAN_OK);
    ck_assert_uint_eq(packet_size(p), inner_len);
    packet_free(p);
}
END_TEST

/* Outer headers built from one template for many frames, unicast and
 * multicast in turn, are those vxlan_push_outer() builds for each: with
 * and without the UDP checksum, the auto and a set TTL, DF and TOS. */
START_TEST(test_push_outer_template_reused)
{
    static const uint32_t dsts[] = {
        0xc0000207, 0xef010101, 0xc0000208, 0xe0000001, 0xc0000209,
    };
    uint8_t inner[FRAME_BUF];
    size_t inner_len = inner_udp_frame(inner);

    for (int variant = 0; variant < 4; variant++) {
        struct vxlan_encap_params params = {
            .local = inet_from_ipv4(htonl(0xc0000201)),
            .dst_port = htons(VXLAN_DST_PORT),
            .src_port_min = VXLAN_SRC_PORT_MIN,
            .src_port_max = VXLAN_SRC_PORT_MAX,
            .ttl = variant & 1 ? 7 : 0,
            .udp_csum = variant & 2,
            .df = variant == 3,
            .tos = variant == 3 ? 0xb8 : 0,
        };
        struct vxlan_outer_ipv4 t;

        vxlan_outer_ipv4_init(&t, &params);
        for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
            struct in6_addr dst = inet_from_ipv4(htonl(dsts[i]));
            struct packet *a = fixture_packet(pool, inner, inner_len);
            struct packet *b;
            uint16_t id = (uint16_t) (0xfff0 + i * 7);

            a->md.hash = (uint32_t) (i * 0x9e3779b9);
            a->md.hash_valid = true;
            ck_assert_int_eq(vxlan_encap(a, &params, 5000, &dst), 0);
            b = packet_clone(a);
            ck_assert_ptr_nonnull(b);
            vxlan_push_outer(a, &params, id);
            vxlan_push_outer_ipv4(b, &params, &t, id);
            ck_assert_uint_eq(packet_size(a), packet_size(b));
            ck_assert_mem_eq(packet_data(a), packet_data(b), packet_size(a));
            ck_assert_uint_eq(packet_data(b)[8],
                              params.ttl ? params.ttl
                              : (dsts[i] >> 28) == 0xe ? 1 : 64);
            ck_assert_uint_eq(csum_finish(csum_add_bytes(0, packet_data(b),
                                                         IPV4_HEADER_LEN)),
                              0);
            packet_free(a);
            packet_free(b);
        }
    }
}
END_TEST

START_TEST(test_src_port_stays_in_range)
{
    struct vxlan_encap_params params = {
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
    };
    uint32_t hash = 1;
    uint16_t lo = UINT16_MAX, hi = 0;

    for (int i = 0; i < 100000; i++) {
        uint16_t port = vxlan_src_port(&params, hash);

        ck_assert_uint_ge(port, VXLAN_SRC_PORT_MIN);
        ck_assert_uint_le(port, VXLAN_SRC_PORT_MAX);
        ck_assert_uint_eq(vxlan_src_port(&params, hash), port);
        lo = port < lo ? port : lo;
        hi = port > hi ? port : hi;
        hash = hash * 1664525 + 1013904223;
    }
    /* 100000 spread hashes land within a few ports of both ends. */
    ck_assert_uint_le(lo, VXLAN_SRC_PORT_MIN + 8);
    ck_assert_uint_ge(hi, VXLAN_SRC_PORT_MAX - 8);
}
END_TEST

START_TEST(test_src_port_covers_range_ends)
{
    struct vxlan_encap_params params = {
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
    };

    ck_assert_uint_eq(vxlan_src_port(&params, 0), VXLAN_SRC_PORT_MIN);
    ck_assert_uint_eq(vxlan_src_port(&params, 0xffffffff),
                      VXLAN_SRC_PORT_MAX);

    /* 16384 ports share the hash space evenly: 2^18 hashes each. */
    for (uint32_t i = 0; i < 16384; i++) {
        ck_assert_uint_eq(vxlan_src_port(&params, i << 18),
                          VXLAN_SRC_PORT_MIN + i);
        ck_assert_uint_eq(vxlan_src_port(&params, i << 18 | 0x3ffff),
                          VXLAN_SRC_PORT_MIN + i);
    }

    params.src_port_min = 0;
    params.src_port_max = 65535;
    ck_assert_uint_eq(vxlan_src_port(&params, 0), 0);
    ck_assert_uint_eq(vxlan_src_port(&params, 0x80000000), 32768);
    ck_assert_uint_eq(vxlan_src_port(&params, 0xffffffff), 65535);

    params.src_port_min = 1000;
    params.src_port_max = 1001;
    ck_assert_uint_eq(vxlan_src_port(&params, 0x7fffffff), 1000);
    ck_assert_uint_eq(vxlan_src_port(&params, 0x80000000), 1001);
}
END_TEST

START_TEST(test_src_port_single_port_range)
{
    static const uint32_t hashes[] = { 0, 1, 0x80000000, 0xdeadbeef,
                                       0xffffffff };
    struct vxlan_encap_params params = {
        .src_port_min = 41149,
        .src_port_max = 41149,
    };

    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
        ck_assert_uint_eq(vxlan_src_port(&params, hashes[i]), 41149);
    }
}
END_TEST

START_TEST(test_multicast_eth_ipv4)
{
    static const struct {
        const char *group;
        uint8_t eth[ETH_ADDR_LEN];
    } cases[] = {
        { "239.1.1.1", { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01 } },
        /* Only the low 23 bits are mapped (RFC 1112). */
        { "224.129.2.3", { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 } },
        { "239.255.255.255", { 0x01, 0x00, 0x5e, 0x7f, 0xff, 0xff } },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct in6_addr group = addr(cases[i].group);
        struct eth_addr ea = vxlan_multicast_eth(&group);

        ck_assert_mem_eq(ea.ea, cases[i].eth, ETH_ADDR_LEN);
    }
}
END_TEST

START_TEST(test_multicast_eth_ipv6)
{
    static const struct {
        const char *group;
        uint8_t eth[ETH_ADDR_LEN];
    } cases[] = {
        /* 33:33 and the last 4 bytes of the group (RFC 2464). */
        { "ff0e::1:2:3:4", { 0x33, 0x33, 0x00, 0x03, 0x00, 0x04 } },
        { "ff02::1", { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } },
        { "ff02::1:ff00:1234", { 0x33, 0x33, 0xff, 0x00, 0x12, 0x34 } },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct in6_addr group = addr(cases[i].group);
        struct eth_addr ea = vxlan_multicast_eth(&group);

        ck_assert_mem_eq(ea.ea, cases[i].eth, ETH_ADDR_LEN);
    }
}
END_TEST

/* The kernel's multicast frame came from vxlan_multicast_eth()'s address
 * and TTL 1 with ttl auto; the byte-exact test covers the rest. */
START_TEST(test_multicast_capture_uses_group_mac_and_ttl_1)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(MCAST_CAPTURE, FRAME_ARP_REQUEST, f);
    struct in6_addr group = addr("239.1.1.1");
    struct eth_addr ea = vxlan_multicast_eth(&group);
    struct kernel_encap k;
    struct packet *p;

    kernel_encap_init(f, &k);
    ck_assert_mem_eq(&k.dst, &group, sizeof group);
    ck_assert_mem_eq(f, ea.ea, ETH_ADDR_LEN);
    k.eth_dst = ea;
    p = encap_inner(f, len, &k);
    ck_assert_uint_eq(packet_data(p)[OFS_IP4_TTL], 1);
    assert_packet_eq(p, f, len, MCAST_CAPTURE, 0);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_kernel_frames)
{
    const char *name = captures[_i];
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read(name, &frames);

    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *f = frames[i].data;
        size_t inner = inner_ofs(f);
        struct in6_addr src = frame_src(f);
        struct in6_addr dst = frame_dst(f);
        uint32_t want_vni = capture_vnis[_i];
        uint32_t vni = 0;
        struct packet *p = decap_success(f, frames[i].len, false, &vni);

        ck_assert_uint_eq(inner, frame_is_ipv6(f) ? 70 : 50);
        ck_assert_uint_eq(vni, want_vni);
        ck_assert_uint_eq(p->md.vni, want_vni);
        assert_packet_eq(p, f + inner, frames[i].len - inner, name, i);
        ck_assert_mem_eq(&p->md.tun_src, &src, sizeof src);
        ck_assert_mem_eq(&p->md.tun_dst, &dst, sizeof dst);
        packet_free(p);
    }
    fixture_frames_free(frames, n);
}
END_TEST

START_TEST(test_decap_rejects_missing_i_flag)
{
    static const uint8_t flags[] = { 0x00, 0xf7 };
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);

    for (size_t i = 0; i < sizeof flags; i++) {
        f[udp + UDP_VX_FLAGS] = flags[i];
        fix_udp_csum(f);
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_NO_I_FLAG);
    }
}
END_TEST

/* RFC 7348 asks receivers to ignore the reserved bits. */
START_TEST(test_decap_ignores_reserved_bits)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);
    size_t inner = inner_ofs(f);
    uint8_t want[FRAME_BUF];
    struct packet *p;
    uint32_t vni = 0;

    memcpy(want, f + inner, len - inner);
    memset(f + udp + UDP_VX_FLAGS, 0xff, 4);
    f[udp + UDP_VX_VNI + 3] = 0xff;
    fix_udp_csum(f);
    p = decap_success(f, len, false, &vni);
    ck_assert_uint_eq(vni, 5000);
    assert_packet_eq(p, want, len - inner, "reserved bits", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_rejects_other_udp_port)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t udp = udp_ofs(f);

    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT_LEGACY, false),
                     VXLAN_ERR_NOT_VXLAN);
    put16(f + udp + UDP_DPORT, VXLAN_DST_PORT + 1);
    fix_udp_csum(f);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);
}
END_TEST

START_TEST(test_decap_rejects_non_udp)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);

    f[OFS_IP4_PROTO] = IP_PROTO_TCP;
    fix_ip4_csum(f);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);

    /* IPv6: another protocol, or an extension header before UDP. */
    static const uint8_t nexts[] = { IP_PROTO_TCP, IPV6_PROTO_HOPOPTS };

    len = kernel_frame(IPV6_CAPTURE, FRAME_ICMP_REQUEST, f);
    for (size_t i = 0; i < sizeof nexts; i++) {
        f[OFS_IP6_NXT] = nexts[i];
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_NOT_VXLAN);
    }
}
END_TEST

START_TEST(test_decap_rejects_non_ip)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct eth_addr src = fixture_mac(1);

    put16(f + OFS_ETH_TYPE, ETH_TYPE_ARP);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);

    len = fixture_arp_request(f, &src, 0x0a000001, 0x0a000002);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);

    /* The EtherType and the IP version must agree. */
    len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    f[OFS_IP] = 0x65;
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);
    len = kernel_frame(IPV6_CAPTURE, FRAME_ICMP_REQUEST, f);
    f[OFS_IP] = 0x45;
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);

    /* An IPv4 header length below 20 bytes is no header, even where the
     * bytes after those 16 would read as VXLAN: here the destination
     * address is cut out and the datagram, unsummed, follows the source. */
    len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    memmove(f + OFS_IP4_DST, f + OFS_IP4_DST + 4, len - OFS_IP4_DST - 4);
    len -= 4;
    f[OFS_IP] = 0x44;
    put16(f + OFS_IP4_TOT_LEN, (uint16_t) (len - OFS_IP));
    put16(f + udp_ofs(f) + UDP_CSUM, 0);
    fix_ip4_csum(f);
    ck_assert_uint_eq(udp_ofs(f), OFS_IP4_DST);
    ck_assert_uint_eq(get16(f + udp_ofs(f) + UDP_DPORT), VXLAN_DST_PORT);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_NOT_VXLAN);
}
END_TEST

START_TEST(test_decap_rejects_ipv4_fragments)
{
    static const uint16_t frags[] = {
        IPV4_MF, 1, IPV4_FRAG_OFF_MASK, IPV4_MF | 1, IPV4_DF | 1,
    };
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    struct packet *p;
    uint32_t vni;

    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        put16(f + OFS_IP4_FRAG, frags[i]);
        fix_ip4_csum(f);
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_NOT_VXLAN);
    }

    /* DF alone is no fragment. */
    put16(f + OFS_IP4_FRAG, IPV4_DF);
    fix_ip4_csum(f);
    p = decap_success(f, len, false, &vni);
    ck_assert_uint_eq(packet_size(p), len - VXLAN_IPV4_OVERHEAD);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_rejects_bad_udp_csum)
{
    for (size_t c = 0; c < 2; c++) {
        uint8_t f[FRAME_BUF];
        size_t len = kernel_frame(c ? IPV6_CAPTURE : IPV4_CAPTURE,
                                  FRAME_ICMP_REQUEST, f);
        size_t udp = udp_ofs(f);
        size_t inner = inner_ofs(f);
        struct packet *p;
        uint32_t vni = 0;

        f[len - 1] ^= 0x01;
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_BAD_CSUM);

        /* A checksum offload already vouched for the frame.  The flag was
         * about the outer datagram: left set, it would have the inner
         * frame's finished checksum "completed" again. */
        p = decap_success(f, len, true, &vni);
        assert_packet_eq(p, f + inner, len - inner, "csum_partial", c);
        ck_assert(!p->md.csum_partial);
        packet_free(p);

        f[len - 1] ^= 0x01;
        put16(f + udp + UDP_CSUM, get16(f + udp + UDP_CSUM) + 1);
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_BAD_CSUM);
    }
}
END_TEST

START_TEST(test_decap_accepts_ipv4_zero_udp_csum)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t inner = inner_ofs(f);
    struct packet *p;
    uint32_t vni = 0;

    /* Zero means the sender did not sum, so nothing can be checked. */
    put16(f + udp_ofs(f) + UDP_CSUM, 0);
    f[len - 1] ^= 0x01;
    p = decap_success(f, len, false, &vni);
    ck_assert_uint_eq(vni, 5000);
    assert_packet_eq(p, f + inner, len - inner, "zero csum", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_rejects_lengths_beyond_frame)
{
    for (size_t c = 0; c < 2; c++) {
        uint8_t f[FRAME_BUF];
        const char *name = c ? IPV6_CAPTURE : IPV4_CAPTURE;
        size_t len = kernel_frame(name, FRAME_ICMP_REQUEST, f);
        size_t udp = udp_ofs(f);
        size_t ip_len = c ? OFS_IP6_PLEN : OFS_IP4_TOT_LEN;
        uint16_t udp_len = get16(f + udp + UDP_LEN);

        /* UDP longer than the IP payload. */
        put16(f + udp + UDP_LEN, udp_len + 1);
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_SHORT);
        /* UDP shorter than its own header. */
        put16(f + udp + UDP_LEN, UDP_HEADER_LEN - 1);
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_SHORT);
        put16(f + udp + UDP_LEN, udp_len);

        /* IP longer than the frame. */
        put16(f + ip_len, get16(f + ip_len) + 1);
        if (!c) {
            fix_ip4_csum(f);
        }
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_SHORT);

        /* IP payload too short for a UDP header, the rest of the frame
         * being padding. */
        put16(f + ip_len, (uint16_t) (udp - (c ? udp : OFS_IP)
                                      + UDP_HEADER_LEN - 1));
        if (!c) {
            fix_ip4_csum(f);
        }
        ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_ERR_SHORT);
    }
}
END_TEST

/* An IPv4 total length shorter than the IPv4 header itself must not put the
 * end of the datagram in front of its start. */
START_TEST(test_decap_rejects_ipv4_total_length_below_header)
{
    static const uint16_t tot_lens[] = { 0, 1, IPV4_HEADER_LEN - 1 };
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);

    for (size_t i = 0; i < sizeof tot_lens / sizeof tot_lens[0]; i++) {
        put16(f + OFS_IP4_TOT_LEN, tot_lens[i]);
        fix_ip4_csum(f);
        ck_assert_int_ne(decap_failure(f, len, VXLAN_DST_PORT, false),
                         VXLAN_OK);
    }
}
END_TEST

/* An inner frame of 14 bytes is the shortest Ethernet header; 13 bytes and
 * an empty VXLAN payload are not frames. */
START_TEST(test_decap_rejects_inner_shorter_than_ethernet)
{
    static const size_t inner_lens[] = { 0, 1, 13, 14 };
    uint8_t orig[FRAME_BUF];
    size_t orig_len = kernel_frame(IPV4_CAPTURE, FRAME_ARP_REQUEST, orig);

    ck_assert_uint_eq(orig_len, 92);
    for (size_t i = 0; i < sizeof inner_lens / sizeof inner_lens[0]; i++) {
        uint8_t f[FRAME_BUF];
        size_t inner_len = inner_lens[i];
        size_t len = VXLAN_IPV4_OVERHEAD + inner_len;

        memcpy(f, orig, len);
        put16(f + OFS_IP4_TOT_LEN, (uint16_t) (len - OFS_IP));
        put16(f + udp_ofs(f) + UDP_LEN, (uint16_t) (UDP_INNER + inner_len));
        fix_ip4_csum(f);
        fix_udp_csum(f);
        if (inner_len < ETH_HEADER_LEN) {
            ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                             VXLAN_ERR_BAD_INNER);
        } else {
            uint32_t vni = 0;
            struct packet *p = decap_success(f, len, false, &vni);

            assert_packet_eq(p, orig + VXLAN_IPV4_OVERHEAD, inner_len,
                             "14-byte inner", i);
            packet_free(p);
        }
    }
}
END_TEST

/* Each packet ends where its memory does, so an out-of-bounds read is a
 * valgrind error rather than a silent read of stale bytes. */
START_TEST(test_decap_rejects_every_truncation)
{
    const char *name = captures[_i];
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read(name, &frames);

    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        for (size_t len = 0; len < frames[i].len; len++) {
            enum vxlan_error error;

            error = decap_failure(frames[i].data, len, VXLAN_DST_PORT,
                                  false);
            ck_assert_msg(error == VXLAN_ERR_SHORT,
                          "%s frame %zu cut to %zu bytes: error %d",
                          name, i, len, (int) error);
        }
    }
    fixture_frames_free(frames, n);
}
END_TEST

START_TEST(test_decap_strips_ethernet_padding)
{
    for (size_t c = 0; c < 2; c++) {
        uint8_t f[FRAME_BUF];
        size_t len = kernel_frame(c ? IPV6_CAPTURE : IPV4_CAPTURE,
                                  FRAME_ARP_REQUEST, f);
        size_t inner = inner_ofs(f);
        uint16_t udp_len = get16(f + udp_ofs(f) + UDP_LEN);
        struct packet *p;
        uint32_t vni = 0;

        memset(f + len, 0, 10);
        p = decap_success(f, len + 10, false, &vni);
        ck_assert_uint_eq(packet_size(p), udp_len - UDP_INNER);
        assert_packet_eq(p, f + inner, len - inner, "padding", c);
        packet_free(p);
    }
}
END_TEST

/* Outer headers may carry IPv4 options; UDP starts after them. */
START_TEST(test_decap_skips_ipv4_options)
{
    uint8_t orig[FRAME_BUF];
    size_t orig_len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, orig);
    uint8_t f[FRAME_BUF];
    size_t len = orig_len + 4;
    size_t inner = VXLAN_IPV4_OVERHEAD + 4;
    struct packet *p;
    uint32_t vni = 0;

    memcpy(f, orig, OFS_IP + IPV4_HEADER_LEN);
    memset(f + OFS_IP + IPV4_HEADER_LEN, 0x01, 4);  /* Four NOPs. */
    memcpy(f + OFS_IP + IPV4_HEADER_LEN + 4, orig + OFS_IP + IPV4_HEADER_LEN,
           orig_len - OFS_IP - IPV4_HEADER_LEN);
    f[OFS_IP] = 0x46;
    put16(f + OFS_IP4_TOT_LEN, get16(f + OFS_IP4_TOT_LEN) + 4);
    fix_ip4_csum(f);

    p = decap_success(f, len, false, &vni);
    ck_assert_uint_eq(vni, 5000);
    assert_packet_eq(p, f + inner, len - inner, "ipv4 options", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_payload_of_socket)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t payload = udp_ofs(f) + UDP_HEADER_LEN;
    size_t inner = inner_ofs(f);
    struct packet *p = edge_packet(f + payload, len - payload);
    uint32_t vni = 0;

    ck_assert_int_eq(vxlan_decap_payload(p, &vni), VXLAN_OK);
    ck_assert_uint_eq(vni, 5000);
    ck_assert_uint_eq(p->md.vni, 5000);
    assert_packet_eq(p, f + inner, len - inner, "payload", 0);
    packet_free(p);

    /* Reserved bits are ignored here too. */
    memset(f + payload, 0xff, 4);
    f[payload + 7] = 0xff;
    p = edge_packet(f + payload, len - payload);
    ck_assert_int_eq(vxlan_decap_payload(p, &vni), VXLAN_OK);
    ck_assert_uint_eq(vni, 5000);
    assert_packet_eq(p, f + inner, len - inner, "payload reserved", 0);
    packet_free(p);
}
END_TEST

START_TEST(test_decap_payload_rejects_malformed)
{
    static const struct {
        size_t len;
        uint8_t flags;
        enum vxlan_error error;
    } cases[] = {
        { 0, 0x08, VXLAN_ERR_SHORT },
        { VXLAN_HEADER_LEN - 1, 0x08, VXLAN_ERR_SHORT },
        { VXLAN_HEADER_LEN, 0x08, VXLAN_ERR_BAD_INNER },
        { VXLAN_HEADER_LEN + ETH_HEADER_LEN - 1, 0x08, VXLAN_ERR_BAD_INNER },
        { 106, 0x00, VXLAN_ERR_NO_I_FLAG },
        { 106, 0xf7, VXLAN_ERR_NO_I_FLAG },
    };
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);
    size_t payload = udp_ofs(f) + UDP_HEADER_LEN;

    ck_assert_uint_eq(len - payload, 106);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t bare[FRAME_BUF];
        struct packet *p;
        struct packet_meta md;
        uint32_t data_ofs;
        uint32_t vni;

        memcpy(bare, f + payload, cases[i].len);
        if (cases[i].len) {
            bare[0] = cases[i].flags;
        }
        p = edge_packet(bare, cases[i].len);
        p->md.vni = 77;
        md = p->md;
        data_ofs = p->data_ofs;
        ck_assert_int_eq(vxlan_decap_payload(p, &vni), cases[i].error);
        ck_assert_uint_eq(p->data_ofs, data_ofs);
        ck_assert_uint_eq(packet_size(p), cases[i].len);
        if (cases[i].len) {
            ck_assert_mem_eq(packet_data(p), bare, cases[i].len);
        }
        ck_assert_mem_eq(&p->md, &md, sizeof md);
        packet_free(p);
    }
}
END_TEST

START_TEST(test_overhead_by_address_family)
{
    struct in6_addr v4 = addr("172.31.250.2");
    struct in6_addr v4_any = addr("0.0.0.0");
    struct in6_addr v6 = addr("fd00:250::2");
    struct in6_addr v6_any = addr("::");

    ck_assert_uint_eq(vxlan_overhead(&v4), 50);
    ck_assert_uint_eq(vxlan_overhead(&v4_any), 50);
    ck_assert_uint_eq(vxlan_overhead(&v6), 70);
    ck_assert_uint_eq(vxlan_overhead(&v6_any), 70);
}
END_TEST

START_TEST(test_decap_rejects_bad_ipv4_header_csum)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV4_CAPTURE, FRAME_ICMP_REQUEST, f);

    /* A changed IP ID that the header checksum does not cover. */
    put16(f + OFS_IP4_ID, get16(f + OFS_IP4_ID) + 1);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_BAD_CSUM);
    fix_ip4_csum(f);
    packet_free(decap_success(f, len, false, &(uint32_t) { 0 }));
}
END_TEST

START_TEST(test_decap_rejects_ipv6_zero_udp_csum)
{
    uint8_t f[FRAME_BUF];
    size_t len = kernel_frame(IPV6_CAPTURE, FRAME_ICMP_REQUEST, f);
    uint32_t vni = 0;

    /* RFC 6936: zero is no checksum, which IPv6 does not allow by
     * default; only a frame whose checksum is still owed passes. */
    put16(f + udp_ofs(f) + UDP_CSUM, 0);
    ck_assert_int_eq(decap_failure(f, len, VXLAN_DST_PORT, false),
                     VXLAN_ERR_BAD_CSUM);
    packet_free(decap_success(f, len, true, &vni));
    ck_assert_uint_eq(vni, 6000);
}
END_TEST

START_TEST(test_encap_completes_partial_csum_zero_as_ffff)
{
    uint8_t inner[FRAME_BUF];
    size_t inner_len = inner_udp_frame(inner);
    size_t l4 = OFS_IP + IPV4_HEADER_LEN;
    size_t word = OFS_IP + IPV4_HEADER_LEN + UDP_HEADER_LEN;
    uint16_t udp_len = get16(inner + l4 + UDP_LEN);
    uint32_t pseudo = inner_udp_pseudo(inner);
    be16 partial = (be16) ~csum_finish(pseudo);
    struct vxlan_encap_params params = {
        .local = addr("172.31.250.1"),
        .dst_port = htons(VXLAN_DST_PORT),
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
    };
    struct in6_addr dst = addr("172.31.250.2");
    struct eth_addr eth_dst = fixture_mac(2);
    be16 want = csum_finish(csum_add_bytes(pseudo, inner + l4, udp_len));
    uint32_t sum;

    /* Adding the checksum into a payload word makes the sum come out as
     * zero, which UDP must send as all ones. */
    ck_assert_uint_eq((word - l4) % 2, 0);
    sum = (uint32_t) get16(inner + word) + ntohs(want);
    put16(inner + word, (uint16_t) ((sum & 0xffff) + (sum >> 16)));
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, inner + l4,
                                                 udp_len)), 0);
    memcpy(inner + l4 + UDP_CSUM, &partial, sizeof partial);

    struct packet *p = fixture_packet(pool, inner, inner_len);

    p->md.csum_partial = true;
    p->md.csum_start = (uint16_t) l4;
    p->md.csum_offset = UDP_CSUM;
    p->md.hash_valid = true;
    ck_assert_int_eq(fixture_vxlan_wire(p, &params, 5000, &dst, &eth_dst,
                                        1), 0);
    ck_assert_uint_eq(get16(packet_data(p) + VXLAN_IPV4_OVERHEAD + l4
                            + UDP_CSUM), 0xffff);
    packet_free(p);
}
END_TEST

static Suite *
vxlan_suite(void)
{
    Suite *s = suite_create("vxlan");
    TCase *tc;

    tc = tcase_create("encapsulates like the kernel");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_encap_matches_kernel, 0, N_CAPTURES);
    tcase_add_test(tc, test_encap_ipv4_without_udp_csum_sends_zero);
    tcase_add_test(tc, test_encap_ipv6_sums_even_without_udp_csum);
    tcase_add_test(tc, test_encap_sends_zero_csum_as_ffff);
    tcase_add_test(tc, test_encap_uses_configured_dst_port);
    tcase_add_test(tc, test_encap_sets_df_and_tos);
    tcase_add_test(tc, test_encap_ipv6_puts_tos_in_traffic_class);
    tcase_add_test(tc, test_encap_explicit_ttl_overrides_auto);
    tcase_add_test(tc, test_encap_vni_keeps_reserved_bits_zero);
    suite_add_tcase(s, tc);

    tc = tcase_create("refuses what does not fit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_encap_fails_on_short_headroom);
    tcase_add_test(tc, test_encap_fails_when_ipv4_total_length_overflows);
    tcase_add_test(tc, test_encap_completes_partial_inner_csum);
    tcase_add_test(tc, test_encap_completes_partial_csum_zero_as_ffff);
    tcase_add_test(tc, test_push_outer_template_reused);
    suite_add_tcase(s, tc);

    tc = tcase_create("spreads source ports");
    tcase_add_test(tc, test_src_port_stays_in_range);
    tcase_add_test(tc, test_src_port_covers_range_ends);
    tcase_add_test(tc, test_src_port_single_port_range);
    suite_add_tcase(s, tc);

    tc = tcase_create("sends to multicast groups");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_multicast_eth_ipv4);
    tcase_add_test(tc, test_multicast_eth_ipv6);
    tcase_add_test(tc, test_multicast_capture_uses_group_mac_and_ttl_1);
    tcase_add_test(tc, test_encap_ipv6_multicast_uses_hop_limit_1);
    suite_add_tcase(s, tc);

    tc = tcase_create("decapsulates kernel frames");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_decap_kernel_frames, 0, N_CAPTURES);
    tcase_add_test(tc, test_decap_ignores_reserved_bits);
    tcase_add_test(tc, test_decap_accepts_ipv4_zero_udp_csum);
    tcase_add_test(tc, test_decap_strips_ethernet_padding);
    tcase_add_test(tc, test_decap_skips_ipv4_options);
    tcase_add_test(tc, test_decap_payload_of_socket);
    suite_add_tcase(s, tc);

    tc = tcase_create("rejects what is not VXLAN");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_decap_rejects_missing_i_flag);
    tcase_add_test(tc, test_decap_rejects_other_udp_port);
    tcase_add_test(tc, test_decap_rejects_non_udp);
    tcase_add_test(tc, test_decap_rejects_non_ip);
    tcase_add_test(tc, test_decap_rejects_ipv4_fragments);
    tcase_add_test(tc, test_decap_rejects_bad_udp_csum);
    tcase_add_test(tc, test_decap_rejects_bad_ipv4_header_csum);
    tcase_add_test(tc, test_decap_rejects_ipv6_zero_udp_csum);
    tcase_add_test(tc, test_decap_rejects_lengths_beyond_frame);
    tcase_add_test(tc, test_decap_rejects_ipv4_total_length_below_header);
    tcase_add_test(tc, test_decap_rejects_inner_shorter_than_ethernet);
    tcase_add_loop_test(tc, test_decap_rejects_every_truncation, 0,
                        N_CAPTURES);
    tcase_add_test(tc, test_decap_payload_rejects_malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("classifies addresses");
    tcase_add_test(tc, test_overhead_by_address_family);
    suite_add_tcase(s, tc);

    return s;
}

int
main(void)
{
    return fixture_run(vxlan_suite());
}
