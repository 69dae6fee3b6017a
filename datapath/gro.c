#include <config.h>

#include "gro.h"

#include <string.h>

#include "csum.h"
#include "headers.h"
#include "packet.h"
#include "port-offload.h"
#include "tso.h"
#include "util.h"

#define TCP_FLAG_MASK 0x1ff
#define TCP_ACK 0x010
#define TCP_PSH 0x008

/* Where a segment's headers are, as tso_header_len() or
 * tso_udp_header_len() found them. */
struct segment {
    size_t l3;
    size_t l4;
    size_t hdr_len;
    size_t payload;
    bool ipv4;
    bool udp;
};

/* Fills 's' for frame 'p'.  Returns false unless 'p' is TCP or UDP over
 * IPv4 without options or IPv6 without extension headers, its length what
 * the IP header (and UDP's) says (no padding), with a payload, and for TCP
 * its flags ACK with at most PSH. */
static bool
parse(struct packet *p, struct segment *s)
{
    const uint8_t *version;

    s->hdr_len = tso_header_len(p);
    s->udp = !s->hdr_len;
    if (s->udp) {
        s->hdr_len = tso_udp_header_len(p);
        if (!s->hdr_len) {
            return false;
        }
    }
    s->l3 = p->md.l3_ofs;
    s->l4 = p->md.l4_ofs;
    s->payload = packet_size(p) - s->hdr_len;
    version = packet_at(p, s->l3, 1);
    s->ipv4 = *version >> 4 == IPV4_VERSION;
    if (!s->payload || s->l4 - s->l3 != (s->ipv4 ? IPV4_HEADER_LEN
                                                 : IPV6_HEADER_LEN)) {
        return false;
    }
    if (s->udp) {
        const struct udp_header *udp = packet_at(p, s->l4, UDP_HEADER_LEN);

        return ntohs(udp->udp_len) == packet_size(p) - s->l4;
    } else {
        const struct tcp_header *tcp = packet_at(p, s->l4, TCP_HEADER_LEN);

        return (ntohs(tcp->tcp_ctl) & TCP_FLAG_MASK & ~TCP_PSH) == TCP_ACK;
    }
}

/* Says whether a port whose device takes 'offloads' takes super frames
 * of the kind of 's'. */
static bool
offloaded(uint32_t offloads, const struct segment *s)
{
    uint32_t flag = s->udp ? PORT_OFFLOAD_USO
                    : s->ipv4 ? PORT_OFFLOAD_TSO4 : PORT_OFFLOAD_TSO6;

    return (offloads & flag) != 0;
}

/* Returns the sum the L4 checksum of 'p' starts from. */
static uint32_t
pseudo_sum(const struct packet *p, const struct segment *s)
{
    uint32_t l4_len = (uint32_t) (packet_size(p) - s->l4);
    uint8_t proto = s->udp ? IP_PROTO_UDP : IP_PROTO_TCP;

    if (s->ipv4) {
        const struct ipv4_header *ip = packet_at(p, s->l3, IPV4_HEADER_LEN);

        return csum_pseudo_ipv4(be32_16_get(&ip->ip_src),
                                be32_16_get(&ip->ip_dst), proto,
                                (uint16_t) l4_len);
    } else {
        const struct ipv6_header *ip6 = packet_at(p, s->l3,
                                                  IPV6_HEADER_LEN);
        struct in6_addr src, dst;

        memcpy(&src, ip6->ip6_src, sizeof src);
        memcpy(&dst, ip6->ip6_dst, sizeof dst);
        return csum_pseudo_ipv6(&src, &dst, proto, l4_len);
    }
}

/* Says whether the L4 checksum of 'p' need not be verified: left to
 * finish by a sender on this host, or absent (UDP over IPv4 may do
 * without), which merging cannot make any worse. */
static bool
checksum_trusted(const struct packet *p, const struct segment *s)
{
    const struct udp_header *udp;

    if (p->md.csum_partial) {
        return true;
    }
    udp = s->udp && s->ipv4 ? packet_at(p, s->l4, UDP_HEADER_LEN) : NULL;
    return udp && !udp->udp_csum;
}

/* Copies the payload of 'seg' to 'dst' and returns true if its checksums
 * (the IPv4 header's and L4's, since the merged frame gets fresh ones)
 * verify, summing the payload in the same pass as the copy.  'dst' may be
 * written even if they do not. */
static bool
copy_verified(uint8_t *dst, const struct packet *seg, const struct segment *s)
{
    const uint8_t *data = packet_data(seg);
    uint32_t sum;

    if (s->ipv4 && csum_ipv4_header(data + s->l3)) {
        return false;
    }
    if (checksum_trusted(seg, s)) {
        memcpy(dst, data + s->hdr_len, s->payload);
        return true;
    }
    sum = csum_add_bytes(pseudo_sum(seg, s), data + s->l4,
                         s->hdr_len - s->l4);
    sum = csum_copy(sum, dst, data + s->hdr_len, s->payload);
    return !csum_finish(sum);
}

/* The same for the head of a run, which is not copied: its payload is
 * summed in place, once (a head that took a segment is left to finish). */
static bool
head_verified(const struct packet *p, const struct segment *s)
{
    const uint8_t *data = packet_data(p);

    if (s->ipv4 && csum_ipv4_header(data + s->l3)) {
        return false;
    }
    return checksum_trusted(p, s)
           || !csum_finish(csum_add_bytes(pseudo_sum(p, s), data + s->l4,
                                          packet_size(p) - s->l4));
}

/* Returns true if the IPv4 identification of 'seg' may follow a run of
 * 'n' segments that starts with 'head': the next number, as Linux's GRO
 * asks, or with DF the same one (a sender that does not count, as Linux
 * does for datagrams of an unconnected UDP socket). */
static bool
ip_id_follows(const struct packet *head, const struct packet *seg,
              const struct segment *h, size_t n)
{
    const struct ipv4_header *a = packet_at(head, h->l3, IPV4_HEADER_LEN);
    const struct ipv4_header *b = packet_at(seg, h->l3, IPV4_HEADER_LEN);
    uint16_t next = (uint16_t) (ntohs(a->ip_id) + n);

    return ntohs(b->ip_id) == next
           || (ntohs(a->ip_frag_off) & IPV4_DF && a->ip_id == b->ip_id);
}

/* Returns true if the headers of 'seg' match those of 'head' wherever a
 * run of segments must agree. */
static bool
same_flow(const struct packet *head, const struct segment *h,
          const struct packet *seg, const struct segment *s)
{
    const uint8_t *a = packet_data(head), *b = packet_data(seg);

    if (h->l3 != s->l3 || h->hdr_len != s->hdr_len || h->ipv4 != s->ipv4
        || h->udp != s->udp || memcmp(a, b, h->l3)) {
        return false;
    }
    if (h->ipv4) {
        const struct ipv4_header *ia = packet_at(head, h->l3,
                                                 IPV4_HEADER_LEN);
        const struct ipv4_header *ib = packet_at(seg, s->l3,
                                                 IPV4_HEADER_LEN);

        /* Version, TOS, flags (no fragments), TTL, protocol, addresses. */
        if (ia->ip_ihl_ver != ib->ip_ihl_ver || ia->ip_tos != ib->ip_tos
            || ia->ip_frag_off != ib->ip_frag_off
            || ntohs(ia->ip_frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK)
            || ia->ip_ttl != ib->ip_ttl
            || memcmp(&ia->ip_src, &ib->ip_src, 8)) {
            return false;
        }
    } else {
        const struct ipv6_header *ia = packet_at(head, h->l3,
                                                 IPV6_HEADER_LEN);
        const struct ipv6_header *ib = packet_at(seg, s->l3,
                                                 IPV6_HEADER_LEN);

        if (memcmp(&ia->ip6_vtc_flow, &ib->ip6_vtc_flow, 4)
            || ia->ip6_hlim != ib->ip6_hlim
            || memcmp(ia->ip6_src, ib->ip6_src, 32)) {
            return false;
        }
    }
    if (h->udp) {
        /* Ports; lengths and checksums may differ. */
        return !memcmp(a + h->l4, b + s->l4, 4);
    }

    /* Ports, acknowledgment and options agree; data offset too, since the
     * header lengths do. */
    const struct tcp_header *ta = packet_at(head, h->l4, TCP_HEADER_LEN);
    const struct tcp_header *tb = packet_at(seg, s->l4, TCP_HEADER_LEN);

    return ta->tcp_src == tb->tcp_src && ta->tcp_dst == tb->tcp_dst
           && !memcmp(&ta->tcp_ack, &tb->tcp_ack, 4)
           && !memcmp(a + h->l4 + TCP_HEADER_LEN, b + s->l4 + TCP_HEADER_LEN,
                      h->hdr_len - h->l4 - TCP_HEADER_LEN);
}

/* Says whether 'seg' may follow the run in 'head' at all, apart from its
 * headers and checksums: the run so far ends with a whole segment (and,
 * for TCP, no PSH), the new one is no longer and (TCP) follows on in
 * sequence, and the whole stays a valid IP packet, of no more UDP
 * datagrams than a stack cuts one into, or TCP segments of no fewer
 * than TSO_MIN_SEGMENT bytes, in one buffer. */
static bool
run_continues(const struct packet *head, const struct segment *h,
              const struct packet *seg, const struct segment *s, size_t mss)
{
    if (h->payload % mss || s->payload > mss
        || packet_size(head) - h->l3 + s->payload > UINT16_MAX
        || packet_tailroom(head) < s->payload) {
        return false;
    }
    if (h->udp) {
        return h->payload / mss < TSO_MAX_UDP_SEGMENTS;
    }
    /* Smaller segments would make a super frame that tso.h refuses, and
     * that no TAP would take as one. */
    if (mss < TSO_MIN_SEGMENT) {
        return false;
    }

    const struct tcp_header *th = packet_at(head, h->l4, TCP_HEADER_LEN);
    const struct tcp_header *ts = packet_at(seg, s->l4, TCP_HEADER_LEN);
    uint32_t next_seq = ntohl(be32_16_get(&th->tcp_seq))
                        + (uint32_t) h->payload;

    return !(ntohs(th->tcp_ctl) & TCP_PSH)
           && ntohl(be32_16_get(&ts->tcp_seq)) == next_seq;
}

/* Turns 'head', whose headers 'h' describes, into a super frame of
 * segments of 'mss' bytes that ends with what it now holds; 'seg' is the
 * segment just appended. */
static void
finish_head(struct packet *head, const struct segment *h, size_t mss,
            const struct packet *seg, const struct segment *s)
{
    be16 *csum;

    if (h->ipv4) {
        struct ipv4_header *ip = packet_at_rw(head, h->l3, IPV4_HEADER_LEN);

        ip->ip_tot_len = htons((uint16_t) (packet_size(head) - h->l3));
        ip->ip_csum = 0;
        ip->ip_csum = csum_ipv4_header(ip);
    } else {
        struct ipv6_header *ip6 = packet_at_rw(head, h->l3,
                                               IPV6_HEADER_LEN);

        ip6->ip6_plen = htons((uint16_t) (packet_size(head) - h->l4));
    }
    if (h->udp) {
        struct udp_header *udp = packet_at_rw(head, h->l4, UDP_HEADER_LEN);

        udp->udp_len = htons((uint16_t) (packet_size(head) - h->l4));
        csum = &udp->udp_csum;
        head->md.csum_offset = 6;
    } else {
        struct tcp_header *tcp = packet_at_rw(head, h->l4, TCP_HEADER_LEN);
        const struct tcp_header *ts = packet_at(seg, s->l4, TCP_HEADER_LEN);

        tcp->tcp_ctl = htons(ntohs(tcp->tcp_ctl)
                             | (ntohs(ts->tcp_ctl) & TCP_PSH));
        csum = &tcp->tcp_csum;
        head->md.csum_offset = 16;
    }
    /* The field holds the pseudo-header sum, as a sender leaving the
     * checksum to offload does; the VM's stack finishes it per segment if
     * it ever sends the frame on. */
    *csum = (be16) ~csum_finish(pseudo_sum(head, h));
    head->md.csum_partial = true;
    head->md.csum_start = (uint16_t) h->l4;
    head->md.gso_size = (uint16_t) mss;
    head->md.gso_udp = h->udp;
}

bool
gro_merge(struct packet *head, struct packet *seg, uint32_t offloads)
{
    struct segment h, s;
    size_t mss;

    /* The new frame first: most frames that are neither TCP data nor UDP
     * stop here. */
    if (seg->md.gso_size || !parse(seg, &s) || !offloaded(offloads, &s)
        || !parse(head, &h) || !same_flow(head, &h, seg, &s)) {
        return false;
    }
    mss = head->md.gso_size ? head->md.gso_size : h.payload;
    if (!run_continues(head, &h, seg, &s, mss)
        || (h.ipv4 && !ip_id_follows(head, seg, &h, h.payload / mss))
        || !head_verified(head, &h)
        || !copy_verified(packet_data(head) + packet_size(head), seg, &s)) {
        return false;
    }
    packet_put_uninit(head, s.payload);
    finish_head(head, &h, mss, seg, &s);
    return true;
}
