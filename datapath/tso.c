#include <config.h>

#include "tso.h"

#include <errno.h>
#include <string.h>

#include "csum.h"
#include "flow.h"
#include "headers.h"
#include "packet.h"

#define TCP_FIN 0x001
#define TCP_PSH 0x008
#define TCP_CWR 0x080

/* Returns the length of the headers of 'p' to the end of its transport
 * header of protocol 'proto' (TCP or UDP), if it is a frame of that
 * protocol that can be cut, else 0 (see tso_header_len()). */
static size_t
header_len(struct packet *p, uint8_t proto)
{
    const uint8_t *version;
    size_t l4_len, ip_len;

    flow_parse(p);
    if (p->md.l4_proto != proto) {
        return 0;
    }
    /* IPv6 extension headers are refused: a routing header would change
     * the destination that the checksum covers. */
    version = packet_at(p, p->md.l3_ofs, 1);
    if (*version >> 4 == IPV4_VERSION) {
        const struct ipv4_header *ip = packet_at(p, p->md.l3_ofs,
                                                 IPV4_HEADER_LEN);

        ip_len = ntohs(ip->ip_tot_len);
    } else {
        const struct ipv6_header *ip6 = packet_at(p, p->md.l3_ofs,
                                                  IPV6_HEADER_LEN);

        if (p->md.l4_ofs - p->md.l3_ofs != IPV6_HEADER_LEN) {
            return 0;
        }
        ip_len = IPV6_HEADER_LEN + (size_t) ntohs(ip6->ip6_plen);
    }
    /* The IP length must end the frame: bytes after it are not stream
     * data, and a frame shorter than it is cut short. */
    if (p->md.l3_ofs + ip_len != packet_size(p)) {
        return 0;
    }
    if (proto == IP_PROTO_UDP) {
        l4_len = UDP_HEADER_LEN;
    } else {
        const struct tcp_header *tcp = packet_at(p, p->md.l4_ofs,
                                                 TCP_HEADER_LEN);

        if (!tcp) {
            return 0;
        }
        l4_len = (size_t) (ntohs(tcp->tcp_ctl) >> 12) * 4;
        if (l4_len < TCP_HEADER_LEN) {
            return 0;
        }
    }
    return packet_at(p, p->md.l4_ofs, l4_len) ? p->md.l4_ofs + l4_len : 0;
}

size_t
tso_header_len(struct packet *p)
{
    return header_len(p, IP_PROTO_TCP);
}

size_t
tso_udp_header_len(struct packet *p)
{
    return header_len(p, IP_PROTO_UDP);
}

size_t
tso_super_header_len(struct packet *p)
{
    size_t seg = p->md.gso_size;
    size_t hdr_len;

    if (!p->md.gso_udp) {
        return seg >= TSO_MIN_SEGMENT ? tso_header_len(p) : 0;
    }
    hdr_len = seg ? header_len(p, IP_PROTO_UDP) : 0;
    return hdr_len && packet_size(p) - hdr_len <= seg * TSO_MAX_UDP_SEGMENTS
           ? hdr_len : 0;
}

/* Fixes the IP header of 'seg', segment 'i' of its super frame, for its
 * length, and returns the pseudo-header sum its transport checksum starts
 * from. */
static uint32_t
fix_ip(struct packet *seg, size_t i)
{
    size_t l3 = seg->md.l3_ofs;
    size_t l4_len = packet_size(seg) - seg->md.l4_ofs;
    uint8_t proto = seg->md.l4_proto;
    uint8_t *version = packet_at_rw(seg, l3, 1);

    if (*version >> 4 == IPV4_VERSION) {
        struct ipv4_header *ip = packet_at_rw(seg, l3, IPV4_HEADER_LEN);
        size_t ihl = seg->md.l4_ofs - l3;

        ip->ip_tot_len = htons((uint16_t) (packet_size(seg) - l3));
        ip->ip_id = htons((uint16_t) (ntohs(ip->ip_id) + i));
        ip->ip_csum = 0;
        ip->ip_csum = csum_finish(csum_add_bytes(0, ip, ihl));
        return csum_pseudo_ipv4(be32_16_get(&ip->ip_src),
                                be32_16_get(&ip->ip_dst), proto,
                                (uint16_t) l4_len);
    } else {
        struct ipv6_header *ip6 = packet_at_rw(seg, l3, IPV6_HEADER_LEN);
        struct in6_addr src, dst;

        ip6->ip6_plen = htons((uint16_t) (packet_size(seg) - l3
                                          - IPV6_HEADER_LEN));
        memcpy(&src, ip6->ip6_src, sizeof src);
        memcpy(&dst, ip6->ip6_dst, sizeof dst);
        return csum_pseudo_ipv6(&src, &dst, proto, (uint32_t) l4_len);
    }
}

/* Fixes the TCP header of 'seg', which starts 'ofs' payload bytes into the
 * super frame's stream, and returns where its checksum goes. */
static be16 *
fix_tcp(struct packet *seg, size_t ofs, bool first, bool last)
{
    struct tcp_header *tcp = packet_at_rw(seg, seg->md.l4_ofs,
                                          TCP_HEADER_LEN);
    uint16_t ctl = ntohs(tcp->tcp_ctl);

    be32_16_put(&tcp->tcp_seq,
                htonl(ntohl(be32_16_get(&tcp->tcp_seq)) + (uint32_t) ofs));
    if (!last) {
        ctl &= (uint16_t) ~(TCP_FIN | TCP_PSH);
    }
    if (!first) {
        ctl &= (uint16_t) ~TCP_CWR;
    }
    tcp->tcp_ctl = htons(ctl);
    return &tcp->tcp_csum;
}

/* Fixes the UDP header of 'seg' for its length and returns where its
 * checksum goes. */
static be16 *
fix_udp(struct packet *seg)
{
    struct udp_header *udp = packet_at_rw(seg, seg->md.l4_ofs,
                                          UDP_HEADER_LEN);

    udp->udp_len = htons((uint16_t) (packet_size(seg) - seg->md.l4_ofs));
    return &udp->udp_csum;
}

int
tso_segment(struct packet *p, struct packet_pool *pool, tso_emit_cb *emit,
            void *aux)
{
    size_t mss = p->md.gso_size;
    size_t hdr_len = tso_super_header_len(p);
    size_t payload, ofs = 0;

    if (!hdr_len) {
        return EINVAL;
    }
    payload = packet_size(p) - hdr_len;
    for (size_t i = 0; ofs < payload || (!payload && !i); i++) {
        size_t len = payload - ofs < mss ? payload - ofs : mss;
        struct packet *seg = packet_alloc(pool);
        uint8_t *data;
        uint32_t sum;
        be16 *csum, value;

        if (!seg) {
            return ENOBUFS;
        }
        packet_set_frame(seg, packet_data(p), hdr_len);
        data = packet_put_uninit(seg, len);
        seg->md = p->md;
        seg->md.gso_size = 0;
        seg->md.gso_ecn = false;
        seg->md.gso_udp = false;
        seg->md.csum_partial = false;

        /* The headers are fixed first, so that the checksum can take the
         * payload in the one pass that copies it. */
        sum = fix_ip(seg, i);
        csum = p->md.gso_udp ? fix_udp(seg)
                             : fix_tcp(seg, ofs, !i, ofs + len >= payload);
        *csum = 0;
        sum = csum_add_bytes(sum, packet_data(seg) + seg->md.l4_ofs,
                             hdr_len - seg->md.l4_ofs);
        value = csum_finish(csum_copy(sum, data,
                                      packet_data(p) + hdr_len + ofs, len));

        /* For UDP a zero means "no checksum"; all ones is the same sum. */
        *csum = value || !p->md.gso_udp ? value : 0xffff;
        ofs += len;
        emit(aux, seg);
    }
    return 0;
}
