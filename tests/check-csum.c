#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "util.h"

/* Outer header offsets in the kernel captures (tests/data/README.md). */
#define CAP_IPV4_OFS ETH_HEADER_LEN
#define CAP_UDP4_OFS (ETH_HEADER_LEN + IPV4_HEADER_LEN)
#define CAP_UDP6_OFS (ETH_HEADER_LEN + IPV6_HEADER_LEN)

/* Returns the 16-bit big-endian value at 'p'. */
static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}

/* Folds a partial sum to 16 bits, uncomplemented, in host order, so that
 * a test can compare it with the sums that RFC 1071 prints. */
static uint16_t
folded_sum(uint32_t sum)
{
    return ntohs((be16) ~csum_finish(sum));
}

START_TEST(test_rfc1071_example)
{
    /* RFC 1071 section 3: these bytes sum to 0xddf2. */
    static const uint8_t data[] = {
        0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7
    };
    uint32_t sum = csum_add_bytes(0, data, sizeof data);

    ck_assert_uint_eq(folded_sum(sum), 0xddf2);
    ck_assert_uint_eq(ntohs(csum_finish(sum)), 0x220d);

    /* Data that carries its own checksum sums to all ones, so checking a
     * received header gives zero. */
    uint8_t with_csum[sizeof data + 2];
    be16 csum = csum_finish(sum);

    memcpy(with_csum, data, sizeof data);
    memcpy(with_csum + sizeof data, &csum, 2);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(0, with_csum,
                                                 sizeof with_csum)), 0);
}
END_TEST

START_TEST(test_end_around_carry)
{
    /* 0xffff + 0xffff + 0x0001 carries twice: 0x1ffff folds to 0x0001 via
     * 0xffff, so the checksum is 0xfffe. */
    static const uint8_t data[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x01 };

    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, data, sizeof data)), 1);
    ck_assert_uint_eq(ntohs(csum_finish(csum_add_bytes(0, data,
                                                       sizeof data))),
                      0xfffe);

    /* A whole maximal frame of 0xff bytes: 32768 words of 0xffff, whose
     * ones' complement sum is 0xffff, must not lose a carry in the
     * accumulator. */
    size_t n = 65536;
    uint8_t *ones = malloc(n);

    ck_assert_ptr_nonnull(ones);
    memset(ones, 0xff, n);
    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, ones, n)), 0xffff);

    /* Starting from a partial sum with every bit set is the same as adding
     * four more 0xff bytes. */
    ck_assert_uint_eq(folded_sum(csum_add_bytes(0xffffffff, data,
                                                sizeof data)),
                      folded_sum(csum_add_bytes(csum_add_bytes(0, ones, 4),
                                                data, sizeof data)));
    free(ones);
}
END_TEST

START_TEST(test_odd_length_padded)
{
    /* 0x0102 + 0x0300 = 0x0402. */
    static const uint8_t three[] = { 0x01, 0x02, 0x03 };
    static const uint8_t four[] = { 0x01, 0x02, 0x03, 0x00 };
    static const uint8_t one[] = { 0xab };
    /* 0x0102 + 0x0304 + 0x0500: an odd tail after a 4-byte word. */
    static const uint8_t five[] = { 0x01, 0x02, 0x03, 0x04, 0x05 };
    /* 0x1234 + 0x5678 + 0x9abc + 0xde00 = 0x1e168, which folds to
     * 0xe169. */
    static const uint8_t seven[] = {
        0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde
    };

    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, three, sizeof three)),
                      0x0402);
    ck_assert_uint_eq(ntohs(csum_finish(csum_add_bytes(0, three,
                                                       sizeof three))),
                      0xfbfd);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(0, three, sizeof three)),
                      csum_finish(csum_add_bytes(0, four, sizeof four)));
    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, one, sizeof one)),
                      0xab00);
    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, five, sizeof five)),
                      0x0906);
    ck_assert_uint_eq(folded_sum(csum_add_bytes(0, seven, sizeof seven)),
                      0xe169);

    /* An odd last piece after an even one. */
    ck_assert_uint_eq(folded_sum(csum_add_bytes(csum_add_bytes(0, seven, 2),
                                                seven + 2, 5)), 0xe169);
}
END_TEST

START_TEST(test_even_pieces_chain)
{
    uint8_t data[64];

    /* A pattern with high bytes so that pieces carry. */
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t) (0xf7 - i * 13);
    }

    /* Cuts at 2 mod 4 as well as 0 mod 4 move the 16-bit halves within the
     * 32-bit words the sum is taken in. */
    static const size_t cuts[][4] = {
        { 2, 64, 64, 64 },
        { 4, 64, 64, 64 },
        { 6, 64, 64, 64 },
        { 2, 4, 6, 64 },
        { 10, 30, 42, 64 },
        { 62, 64, 64, 64 },
        { 0, 0, 64, 64 },
    };

    for (size_t odd = 0; odd <= 1; odd++) {
        size_t n = sizeof data - odd;
        be16 whole = csum_finish(csum_add_bytes(0, data, n));

        for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
            uint32_t sum = 0;
            size_t start = 0;

            for (size_t j = 0; j < ARRAY_SIZE(cuts[i]); j++) {
                size_t end = MIN(cuts[i][j], n);

                sum = csum_add_bytes(sum, data + start, end - start);
                start = end;
            }
            ck_assert_msg(csum_finish(sum) == whole,
                          "length %zu, cuts %zu: %#x != %#x", n, i,
                          csum_finish(sum), whole);
        }
    }
}
END_TEST

/* Returns the folded 16-bit sum of 'n' bytes at 'data' after 'start', the
 * slow way of RFC 1071 (big-endian 16-bit words, an odd last byte padded
 * with zero), to check csum_copy() against something it does not share. */
static uint16_t
reference_sum(uint16_t start, const uint8_t *data, size_t n)
{
    uint32_t sum = start;

    for (size_t i = 0; i < n; i += 2) {
        sum += i + 1 < n ? get16(data + i) : (uint32_t) data[i] << 8;
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) sum;
}

START_TEST(test_copy_sums_what_it_copies)
{
    static uint8_t src[65536 + 8], dst[65536 + 8];
    static const uint8_t head[6] = { 0xf0, 0x0f, 0xff, 0xff, 0x12, 0x34 };
    uint32_t start = csum_add_bytes(0, head, sizeof head);

    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t) (0xf7 - i * 13 + (i >> 8));
    }

    /* Every length through several 8-byte steps and a tail, from and to
     * addresses off any alignment, after a sum already started. */
    for (size_t n = 0; n <= 70; n++) {
        for (size_t ofs = 0; ofs < 8; ofs++) {
            uint32_t sum;

            memset(dst, 0xa5, sizeof dst);
            sum = csum_copy(start, dst + (7 - ofs), src + ofs, n);
            ck_assert_msg(!memcmp(dst + (7 - ofs), src + ofs, n),
                          "length %zu, offset %zu: copy differs", n, ofs);
            ck_assert_uint_eq(dst[7 - ofs + n], 0xa5);
            ck_assert_msg(folded_sum(sum)
                          == reference_sum(folded_sum(start), src + ofs, n),
                          "length %zu, offset %zu: %#x != %#x", n, ofs,
                          folded_sum(sum),
                          reference_sum(folded_sum(start), src + ofs, n));
        }
    }

    /* 64 KB of all ones: the accumulator carries on every word. */
    memset(src, 0xff, sizeof src);
    ck_assert_uint_eq(folded_sum(csum_copy(0xffffffff, dst, src, 65536)),
                      0xffff);
    ck_assert(!memcmp(dst, src, 65536));
    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = (uint8_t) (i * 7);
    }
    ck_assert_uint_eq(folded_sum(csum_copy(0, dst, src, 65535)),
                      reference_sum(0, src, 65535));
}
END_TEST

/* Stored checksums of the captured frames, as tests/data/README.md lists
 * them, so that a test reading the wrong bytes cannot pass. */
struct capture {
    const char *name;
    uint16_t ip_csum[4];        /* IPv4 header checksums; 0 for IPv6. */
    uint16_t udp_csum[4];
};

static const struct capture ipv4_captures[] = {
    { "kernel-vxlan-ipv4.pcap",
      { 0xf841, 0x9127, 0xf808, 0x90ee },
      { 0x3dab, 0x35a6, 0x1988, 0x1988 } },
    { "kernel-vxlan-mcast.pcap",
      { 0xba53, 0x90b3, 0xf77a, 0x907a },
      { 0x17bf, 0x4f9a, 0x52d8, 0x52d8 } },
};

static const struct capture ipv6_capture = {
    "kernel-vxlan-ipv6.pcap", { 0 },
    { 0x9944, 0x893f, 0xbd5b, 0xbd5b },
};

START_TEST(test_ipv4_header_from_capture)
{
    for (size_t c = 0; c < ARRAY_SIZE(ipv4_captures); c++) {
        const struct capture *cap = &ipv4_captures[c];
        struct fixture_frame *frames;
        size_t n = fixture_pcap_read(cap->name, &frames);

        ck_assert_uint_eq(n, 4);
        for (size_t i = 0; i < n; i++) {
            uint8_t ip[IPV4_HEADER_LEN];
            size_t csum_ofs = offsetof(struct ipv4_header, ip_csum);

            ck_assert_uint_ge(frames[i].len, CAP_IPV4_OFS + sizeof ip);
            memcpy(ip, frames[i].data + CAP_IPV4_OFS, sizeof ip);
            ck_assert_uint_eq(get16(ip + csum_ofs), cap->ip_csum[i]);

            /* A received header, checksum included, checks as zero. */
            ck_assert_uint_eq(csum_finish(csum_add_bytes(0, ip, sizeof ip)),
                              0);
            ck_assert_uint_eq(csum_ipv4_header(ip), 0);

            be16 stored;

            memcpy(&stored, ip + csum_ofs, 2);
            memset(ip + csum_ofs, 0, 2);
            ck_assert_msg(csum_finish(csum_add_bytes(0, ip, sizeof ip))
                          == stored, "%s frame %zu", cap->name, i + 1);
            ck_assert_msg(csum_ipv4_header(ip) == stored, "%s frame %zu",
                          cap->name, i + 1);
        }
        fixture_frames_free(frames, n);
    }
}
END_TEST

/* Recomputes the UDP checksum of the datagram at 'udp_ofs' in 'frame'
 * starting from the pseudo-header sum 'pseudo', with the checksum field
 * zeroed, and checks it against the stored one and 'expected'. */
static void
check_udp_csum(const struct fixture_frame *frame, size_t udp_ofs,
               uint32_t pseudo, uint16_t expected, size_t udp_len)
{
    const size_t csum_ofs = offsetof(struct udp_header, udp_csum);
    uint8_t *udp = malloc(udp_len);
    be16 stored;

    ck_assert_ptr_nonnull(udp);
    memcpy(udp, frame->data + udp_ofs, udp_len);
    memcpy(&stored, udp + csum_ofs, 2);
    ck_assert_uint_eq(ntohs(stored), expected);

    /* Verification over the received datagram gives zero. */
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, udp, udp_len)), 0);

    memset(udp + csum_ofs, 0, 2);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, udp, udp_len)),
                      stored);
    free(udp);
}

START_TEST(test_udp_ipv4_from_capture)
{
    for (size_t c = 0; c < ARRAY_SIZE(ipv4_captures); c++) {
        const struct capture *cap = &ipv4_captures[c];
        struct fixture_frame *frames;
        size_t n = fixture_pcap_read(cap->name, &frames);

        ck_assert_uint_eq(n, 4);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *ip = frames[i].data + CAP_IPV4_OFS;
            const uint8_t *udp = frames[i].data + CAP_UDP4_OFS;
            size_t udp_len = get16(udp + 4);
            be32 src, dst;

            ck_assert_uint_eq(ip[9], IP_PROTO_UDP);
            ck_assert_uint_eq(CAP_UDP4_OFS + udp_len, frames[i].len);
            memcpy(&src, ip + 12, 4);
            memcpy(&dst, ip + 16, 4);
            check_udp_csum(&frames[i], CAP_UDP4_OFS,
                           csum_pseudo_ipv4(src, dst, IP_PROTO_UDP,
                                            (uint16_t) udp_len),
                           cap->udp_csum[i], udp_len);
        }
        fixture_frames_free(frames, n);
    }
}
END_TEST

START_TEST(test_udp_ipv6_from_capture)
{
    const struct capture *cap = &ipv6_capture;
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read(cap->name, &frames);

    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ip6 = frames[i].data + ETH_HEADER_LEN;
        const uint8_t *udp = frames[i].data + CAP_UDP6_OFS;
        size_t udp_len = get16(udp + 4);
        struct in6_addr src, dst;

        ck_assert_uint_eq(ip6[6], IP_PROTO_UDP);
        ck_assert_uint_eq(CAP_UDP6_OFS + udp_len, frames[i].len);
        memcpy(&src, ip6 + 8, 16);
        memcpy(&dst, ip6 + 24, 16);
        check_udp_csum(&frames[i], CAP_UDP6_OFS,
                       csum_pseudo_ipv6(&src, &dst, IP_PROTO_UDP,
                                        (uint32_t) udp_len),
                       cap->udp_csum[i], udp_len);
    }
    fixture_frames_free(frames, n);
}
END_TEST

START_TEST(test_pseudo_header_layout)
{
    /* RFC 768 and RFC 8200 section 8.1, written out byte by byte. */
    static const uint8_t v4[] = {
        192, 0, 2, 1,           /* Source. */
        198, 51, 100, 2,        /* Destination. */
        0, IP_PROTO_TCP,        /* Zero, protocol. */
        0x12, 0x34,             /* Length. */
    };
    static const uint8_t v6[] = {
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x02,
        0x00, 0x01, 0x23, 0x45, /* 32-bit length. */
        0, 0, 0, IP_PROTO_UDP,  /* Zero, next header. */
    };
    be32 src4, dst4;
    struct in6_addr src6, dst6;

    memcpy(&src4, v4, 4);
    memcpy(&dst4, v4 + 4, 4);
    ck_assert_uint_eq(csum_finish(csum_pseudo_ipv4(src4, dst4, IP_PROTO_TCP,
                                                   0x1234)),
                      csum_finish(csum_add_bytes(0, v4, sizeof v4)));

    memcpy(&src6, v6, 16);
    memcpy(&dst6, v6 + 16, 16);
    ck_assert_uint_eq(csum_finish(csum_pseudo_ipv6(&src6, &dst6,
                                                   IP_PROTO_UDP, 0x12345)),
                      csum_finish(csum_add_bytes(0, v6, sizeof v6)));
}
END_TEST

/* Builds a UDP/IPv4 frame of 'payload' bytes, padded to 'pad_to' bytes,
 * whose UDP checksum field holds what a Linux sender leaves for offload:
 * the folded pseudo-header sum.  Returns the packet and, in '*want', the
 * finished checksum. */
static struct packet *
partial_udp_frame(struct packet_pool *pool, size_t payload, size_t pad_to,
                  be16 *want)
{
    uint8_t frame[256] = { 0 };
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    size_t len = fixture_udp4_frame(frame, &b, &a, 0x0a000001, 0x0a000002,
                                    1000, 2000, payload);
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    be32 src = htonl(0x0a000001), dst = htonl(0x0a000002);
    uint32_t pseudo = csum_pseudo_ipv4(src, dst, IP_PROTO_UDP,
                                       (uint16_t) (len - l4));
    be16 folded = (be16) ~csum_finish(pseudo);

    *want = csum_finish(csum_add_bytes(pseudo, frame + l4, len - l4));
    memcpy(frame + l4 + 6, &folded, sizeof folded);
    return fixture_packet(pool, frame, MAX(len, pad_to));
}

START_TEST(test_detects_and_finishes_a_partial_checksum)
{
    struct packet_pool *pool = packet_pool_create(4);
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    be16 want, got;
    struct packet *p;

    /* A short datagram in a frame padded to 60 bytes: the padding is not
     * part of the sum, and goes. */
    p = partial_udp_frame(pool, 5, 60, &want);
    ck_assert(csum_detect_partial(p));
    ck_assert(p->md.csum_partial);
    ck_assert_uint_eq(p->md.csum_start, l4);
    ck_assert_uint_eq(p->md.csum_offset, 6);
    ck_assert_uint_eq(packet_size(p), l4 + UDP_HEADER_LEN + 5);
    csum_complete_partial(p);
    memcpy(&got, packet_data(p) + l4 + 6, sizeof got);
    ck_assert_uint_eq(got, want);
    ck_assert(!p->md.csum_partial);

    /* Finished now, it is left alone the second time. */
    ck_assert(!csum_detect_partial(p));
    ck_assert(!p->md.csum_partial);
    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_leaves_finished_and_absent_checksums)
{
    struct packet_pool *pool = packet_pool_create(4);
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    be16 want, zero = 0;
    struct packet *p = partial_udp_frame(pool, 40, 0, &want);
    uint32_t size = packet_size(p);

    memcpy(packet_data(p) + l4 + 6, &want, sizeof want);
    ck_assert(!csum_detect_partial(p));
    ck_assert(!p->md.csum_partial);
    ck_assert_uint_eq(packet_size(p), size);

    /* UDP's "no checksum" stays so. */
    memcpy(packet_data(p) + l4 + 6, &zero, sizeof zero);
    ck_assert(!csum_detect_partial(p));
    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

static Suite *
csum_suite(void)
{
    /* Not static: Check's test handles are variables, not constants. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "sums the RFC 1071 example", test_rfc1071_example },
        { "folds end-around carries", test_end_around_carry },
        { "pads an odd length with a zero byte", test_odd_length_padded },
        { "chains even-length pieces like one call",
          test_even_pieces_chain },
        { "copies and sums in one pass",
          test_copy_sums_what_it_copies },
        { "recomputes captured IPv4 header checksums",
          test_ipv4_header_from_capture },
        { "recomputes captured UDP checksums over IPv4",
          test_udp_ipv4_from_capture },
        { "recomputes captured UDP checksums over IPv6",
          test_udp_ipv6_from_capture },
        { "sums the pseudo-headers as laid out on the wire",
          test_pseudo_header_layout },
        { "detects and finishes a partial checksum",
          test_detects_and_finishes_a_partial_checksum },
        { "leaves finished and absent checksums",
          test_leaves_finished_and_absent_checksums },
    };
    Suite *s = suite_create("csum");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, NULL, NULL);
    }
    return s;
}

int
main(void)
{
    return fixture_run(csum_suite());
}
