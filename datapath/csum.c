#include <config.h>

#include "csum.h"

#include <string.h>

#include "flow.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"

uint32_t
csum_pseudo_ipv4(be32 src, be32 dst, uint8_t proto, uint16_t len)
{
    be16 tail[2] = { htons(proto), htons(len) };
    uint32_t sum = csum_add_bytes(0, &src, 4);

    sum = csum_add_bytes(sum, &dst, 4);
    return csum_add_bytes(sum, tail, sizeof tail);
}

uint32_t
csum_pseudo_ipv6(const struct in6_addr *src, const struct in6_addr *dst,
                 uint8_t proto, uint32_t len)
{
    be32 tail[2] = { htonl(len), htonl(proto) };
    uint32_t sum = csum_add_bytes(0, src, 16);

    sum = csum_add_bytes(sum, dst, 16);
    return csum_add_bytes(sum, tail, sizeof tail);
}

uint32_t
csum_copy(uint32_t sum, void *dst_, const void *src_, size_t n)
{
    const uint8_t *src = src_;
    uint8_t *dst = dst_;
    uint64_t acc = sum;

    /* 32 bytes a step, in four 64-bit words, each summed as two 32-bit
     * halves so that the 64-bit accumulator cannot overflow within a
     * 64 KB frame; then 8 bytes a step. */
    for (; n >= 32; n -= 32, src += 32, dst += 32) {
        uint64_t w[4];

        memcpy(w, src, sizeof w);
        memcpy(dst, w, sizeof w);
        acc += (uint64_t) (uint32_t) w[0] + (w[0] >> 32)
               + (uint32_t) w[1] + (w[1] >> 32)
               + (uint32_t) w[2] + (w[2] >> 32)
               + (uint32_t) w[3] + (w[3] >> 32);
    }
    for (; n >= 8; n -= 8, src += 8, dst += 8) {
        uint64_t word;

        memcpy(&word, src, 8);
        memcpy(dst, &word, 8);
        acc += (uint32_t) word;
        acc += word >> 32;
    }
    memcpy(dst, src, n);
    acc += csum_add_bytes(0, src, n);
    while (acc >> 32) {
        acc = (acc & 0xffffffff) + (acc >> 32);
    }
    return (uint32_t) acc;
}

void
csum_complete_partial(struct packet *p)
{
    uint32_t start = p->md.csum_start;
    uint32_t at = start + p->md.csum_offset;
    be16 *field;

    if (!p->md.csum_partial) {
        return;
    }
    field = packet_at_rw(p, at, sizeof *field);
    if (field && start < packet_size(p)) {
        be16 value = csum_finish(csum_add_bytes(0, packet_data(p) + start,
                                                packet_size(p) - start));

        /* For UDP a zero means "no checksum"; all ones is the same sum in
         * ones' complement, and harmless for TCP. */
        if (!value) {
            value = 0xffff;
        }
        memcpy(field, &value, sizeof value);
    }
    p->md.csum_partial = false;
}

bool
csum_detect_partial(struct packet *p)
{
    uint16_t offset;
    uint32_t len, pseudo;
    const uint8_t *at;
    const uint8_t *version;
    be16 field;

    flow_parse(p);
    if (p->md.l4_proto == IP_PROTO_TCP) {
        offset = 16;
    } else if (p->md.l4_proto == IP_PROTO_UDP) {
        offset = 6;
    } else {
        return false;
    }
    at = packet_at(p, p->md.l4_ofs + offset, sizeof field);
    if (!at) {
        return false;
    }
    memcpy(&field, at, sizeof field);
    if (!field) {
        return false;
    }
    /* The L4 length from the IP header, not the frame, which may carry
     * Ethernet padding. */
    version = packet_at(p, p->md.l3_ofs, 1);
    if (*version >> 4 == IPV4_VERSION) {
        const struct ipv4_header *ip = packet_at(p, p->md.l3_ofs,
                                                 IPV4_HEADER_LEN);

        len = ntohs(ip->ip_tot_len) - (p->md.l4_ofs - p->md.l3_ofs);
        pseudo = csum_pseudo_ipv4(be32_16_get(&ip->ip_src),
                                  be32_16_get(&ip->ip_dst), p->md.l4_proto,
                                  (uint16_t) len);
    } else {
        const struct ipv6_header *ip6 = packet_at(p, p->md.l3_ofs,
                                                  IPV6_HEADER_LEN);
        struct in6_addr src, dst;

        memcpy(&src, ip6->ip6_src, sizeof src);
        memcpy(&dst, ip6->ip6_dst, sizeof dst);
        len = ntohs(ip6->ip6_plen) + IPV6_HEADER_LEN
              - (p->md.l4_ofs - p->md.l3_ofs);
        pseudo = csum_pseudo_ipv6(&src, &dst, p->md.l4_proto, len);
    }
    /* What a sender leaves in the field: the folded pseudo-header sum,
     * which is the complement of the finished pseudo-header checksum. */
    be16 folded = csum_finish(pseudo);

    folded = (be16) ~folded;
    if (field != folded || p->md.l4_ofs + len > packet_size(p)) {
        return false;
    }
    /* Summing stops at the end of the datagram, before any padding. */
    p->size = p->md.l4_ofs + len;
    p->md.csum_partial = true;
    p->md.csum_start = p->md.l4_ofs;
    p->md.csum_offset = offset;
    return true;
}
