#include <config.h>

#include "tcp-gro.h"

#include <string.h>

#include "csum.h"
#include "headers.h"
#include "packet.h"
#include "tso.h"
#include "util.h"

#define TCP_FLAG_MASK 0x1ff
#define TCP_ACK 0x010
#define TCP_PSH 0x008

/* Where a TCP segment's headers are, as tso_header_len() found them. */
struct segment {
    size_t l3;
    size_t l4;
    size_t hdr_len;
    size_t payload;
    bool ipv4;
};

/* Fills 's' for frame 'p'.  Returns false unless 'p' is TCP over IPv4
 * without options or IPv6 without extension headers, its length what the
 * IP header says (no padding), and its flags ACK with at most PSH. */
static bool
parse(struct packet *p, struct segment *s)
{
    const uint8_t *version;
    const struct tcp_header *tcp;
    size_t ip_len;

    s->hdr_len = tso_header_len(p);
    if (!s->hdr_len) {
        return false;
    }
    s->l3 = p->md.l3_ofs;
    s->l4 = p->md.l4_ofs;
    s->payload = packet_size(p) - s->hdr_len;
    version = packet_at(p, s->l3, 1);
    s->ipv4 = *version >> 4 == IPV4_VERSION;
    if (s->ipv4) {
        const struct ipv4_header *ip = packet_at(p, s->l3, IPV4_HEADER_LEN);

        ip_len = ntohs(ip->ip_tot_len);
        if (s->l4 - s->l3 != IPV4_HEADER_LEN) {
            return false;
        }
    } else {
        const struct ipv6_header *ip6 = packet_at(p, s->l3,
                                                  IPV6_HEADER_LEN);

        ip_len = IPV6_HEADER_LEN + (size_t) ntohs(ip6->ip6_plen);
        if (s->l4 - s->l3 != IPV6_HEADER_LEN) {
            return false;
        }
    }
    tcp = packet_at(p, s->l4, TCP_HEADER_LEN);
    return ip_len == packet_size(p) - s->l3
           && (ntohs(tcp->tcp_ctl) & TCP_FLAG_MASK & ~TCP_PSH) == TCP_ACK;
}

/* Returns the sum the TCP checksum of 'p' starts from. */
static uint32_t
pseudo_sum(const struct packet *p, const struct segment *s)
{
    uint32_t tcp_len = (uint32_t) (packet_size(p) - s->l4);

    if (s->ipv4) {
        const struct ipv4_header *ip = packet_at(p, s->l3, IPV4_HEADER_LEN);

        return csum_pseudo_ipv4(be32_16_get(&ip->ip_src),
                                be32_16_get(&ip->ip_dst), IP_PROTO_TCP,
                                (uint16_t) tcp_len);
    } else {
        const struct ipv6_header *ip6 = packet_at(p, s->l3,
                                                  IPV6_HEADER_LEN);
        struct in6_addr src, dst;

        memcpy(&src, ip6->ip6_src, sizeof src);
        memcpy(&dst, ip6->ip6_dst, sizeof dst);
        return csum_pseudo_ipv6(&src, &dst, IP_PROTO_TCP, tcp_len);
    }
}

/* Returns true if the checksums of 'p' can be trusted: left to finish by
 * a sender on this host, or verified, the IPv4 header's as well as TCP's,
 * since the merged frame gets a fresh one. */
static bool
checksum_ok(const struct packet *p, const struct segment *s)
{
    return p->md.csum_partial
           || ((!s->ipv4 || !csum_ipv4_header(packet_data(p) + s->l3))
               && !csum_finish(csum_add_bytes(pseudo_sum(p, s),
                                              packet_data(p) + s->l4,
                                              packet_size(p) - s->l4)));
}

/* Returns true if the IPv4 identification of 'seg' may follow a run of
 * 'n' segments that starts with 'head': the next number, as Linux's GRO
 * asks, or with DF the same one (a sender that does not count). */
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
    const struct tcp_header *ta = packet_at(head, h->l4, TCP_HEADER_LEN);
    const struct tcp_header *tb = packet_at(seg, s->l4, TCP_HEADER_LEN);

    if (h->l3 != s->l3 || h->hdr_len != s->hdr_len || h->ipv4 != s->ipv4
        || memcmp(a, b, h->l3)) {
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
    /* Ports, acknowledgment and options agree; data offset too, since the
     * header lengths do. */
    return ta->tcp_src == tb->tcp_src && ta->tcp_dst == tb->tcp_dst
           && !memcmp(&ta->tcp_ack, &tb->tcp_ack, 4)
           && !memcmp(a + h->l4 + TCP_HEADER_LEN, b + s->l4 + TCP_HEADER_LEN,
                      h->hdr_len - h->l4 - TCP_HEADER_LEN);
}

/* Turns 'head', whose headers 'h' describes, into a super frame of
 * segments of 'mss' bytes that ends with what it now holds. */
static void
finish_head(struct packet *head, const struct segment *h, size_t mss,
            bool push)
{
    struct tcp_header *tcp = packet_at_rw(head, h->l4, TCP_HEADER_LEN);
    be16 folded;

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
    if (push) {
        tcp->tcp_ctl = htons(ntohs(tcp->tcp_ctl) | TCP_PSH);
    }
    /* The field holds the pseudo-header sum, as a sender leaving the
     * checksum to offload does; the VM's stack finishes it per segment if
     * it ever sends the frame on. */
    folded = (be16) ~csum_finish(pseudo_sum(head, h));
    tcp->tcp_csum = folded;
    head->md.csum_partial = true;
    head->md.csum_start = (uint16_t) h->l4;
    head->md.csum_offset = 16;
    head->md.gso_size = (uint16_t) mss;
}

bool
tcp_gro_merge(struct packet *head, struct packet *seg)
{
    struct segment h, s;
    const struct tcp_header *th, *ts;
    uint32_t next_seq;
    size_t mss;

    /* The new frame first: most frames that are not TCP data stop here. */
    if (seg->md.gso_size || !parse(seg, &s) || !s.payload
        || !parse(head, &h) || !h.payload || !same_flow(head, &h, seg, &s)) {
        return false;
    }
    th = packet_at(head, h.l4, TCP_HEADER_LEN);
    ts = packet_at(seg, s.l4, TCP_HEADER_LEN);
    mss = head->md.gso_size ? head->md.gso_size : h.payload;
    next_seq = ntohl(be32_16_get(&th->tcp_seq)) + (uint32_t) h.payload;

    /* The run so far must end with a whole segment and no PSH; the new
     * one must follow on and be no longer; and the whole must stay a
     * valid IP packet in one buffer. */
    if (h.payload % mss || ntohs(th->tcp_ctl) & TCP_PSH || s.payload > mss
        || ntohl(be32_16_get(&ts->tcp_seq)) != next_seq
        || packet_size(head) - h.l3 + s.payload > UINT16_MAX
        || packet_tailroom(head) < s.payload) {
        return false;
    }
    if ((h.ipv4 && !ip_id_follows(head, seg, &h, h.payload / mss))
        || !checksum_ok(seg, &s) || !checksum_ok(head, &h)) {
        return false;
    }
    memcpy(packet_put_uninit(head, s.payload),
           packet_data(seg) + s.hdr_len, s.payload);
    finish_head(head, &h, mss, ntohs(ts->tcp_ctl) & TCP_PSH);
    return true;
}
