#include <config.h>

#include "flow.h"

#include <stdbool.h>
#include <string.h>

#include "csum.h"
#include "hash.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "util.h"

/* No padding: every byte of a key is a field, so whole-word hashing and
 * comparing see only fields. */
BUILD_ASSERT(sizeof(struct flow_key) == 112);
BUILD_ASSERT(sizeof(struct flow_key) % 8 == 0);

/* Extension headers a parser walks before it gives up. */
#define IPV6_MAX_EXT_HEADERS 8

/* Parses the Ethernet header and up to two VLAN tags.  Returns the offset of
 * the L3 header, or 0 if the frame ends first. */
static size_t
parse_l2(const struct packet *p, struct flow_key *key)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);

    if (!eth) {
        key->error = FLOW_ERR_TRUNCATED;
        return 0;
    }
    key->dl_dst = eth->eth_dst;
    key->dl_src = eth->eth_src;
    key->layers = FLOW_LAYER_L2;

    size_t ofs = ETH_HEADER_LEN;
    be16 type = eth->eth_type;

    for (int tags = 0; tags < 2 && (type == htons(ETH_TYPE_VLAN)
                                    || type == htons(ETH_TYPE_VLAN_QINQ));
         tags++) {
        const struct vlan_header *vlan = packet_at(p, ofs, VLAN_HEADER_LEN);

        if (!vlan) {
            key->dl_type = type;
            key->error = FLOW_ERR_TRUNCATED;
            return 0;
        }
        if (!tags) {
            key->vlan_tci = vlan->vlan_tci | htons(FLOW_VLAN_PRESENT);
        }
        type = vlan->vlan_next_type;
        ofs += VLAN_HEADER_LEN;
    }
    key->dl_type = ntohs(type) >= ETH_TYPE_MIN ? type
                   : htons(FLOW_DL_TYPE_NONE);
    return ofs;
}

static void
parse_arp(struct packet *p, size_t ofs, struct flow_key *key)
{
    const struct arp_eth_header *arp = packet_at(p, ofs, ARP_ETH_HEADER_LEN);

    if (!arp) {
        key->error = FLOW_ERR_TRUNCATED;
        return;
    }
    if (arp->ar_hrd != htons(ARP_HTYPE_ETHERNET)
        || arp->ar_pro != htons(ETH_TYPE_IPV4)
        || arp->ar_hln != ETH_ADDR_LEN || arp->ar_pln != 4) {
        key->error = FLOW_ERR_BAD_L3;
        return;
    }
    if (ntohs(arp->ar_op) <= 0xff) {
        key->nw_proto = (uint8_t) ntohs(arp->ar_op);
    }
    key->nw_src = inet_from_ipv4(be32_16_get(&arp->ar_spa));
    key->nw_dst = inet_from_ipv4(be32_16_get(&arp->ar_tpa));
    key->arp_sha = arp->ar_sha;
    key->arp_tha = arp->ar_tha;
    key->layers = FLOW_LAYER_L3;
    p->md.l3_ofs = (uint16_t) ofs;
}

/* Parses an IPv4 header at 'ofs'.  Returns the end of the IP datagram within
 * the frame and sets '*l4_ofs', or returns 0 if there is no L4 to parse. */
static size_t
parse_ipv4(struct packet *p, size_t ofs, struct flow_key *key,
           size_t *l4_ofs)
{
    const struct ipv4_header *ip = packet_at(p, ofs, IPV4_HEADER_LEN);

    if (!ip) {
        key->error = FLOW_ERR_TRUNCATED;
        return 0;
    }

    size_t ihl = (size_t) (ip->ip_ihl_ver & 0x0f) * 4;
    size_t tot_len = ntohs(ip->ip_tot_len);

    if (ip->ip_ihl_ver >> 4 != IPV4_VERSION || ihl < IPV4_HEADER_LEN
        || tot_len < ihl) {
        key->error = FLOW_ERR_BAD_L3;
        return 0;
    }
    if (!packet_at(p, ofs, ihl)) {
        key->error = FLOW_ERR_TRUNCATED;
        return 0;
    }
    key->nw_src = inet_from_ipv4(be32_16_get(&ip->ip_src));
    key->nw_dst = inet_from_ipv4(be32_16_get(&ip->ip_dst));
    key->nw_proto = ip->ip_proto;
    key->nw_tos = ip->ip_tos;
    key->nw_ttl = ip->ip_ttl;
    key->layers = FLOW_LAYER_L3;
    p->md.l3_ofs = (uint16_t) ofs;

    uint16_t frag = ntohs(ip->ip_frag_off);

    if (frag & (IPV4_MF | IPV4_FRAG_OFF_MASK)) {
        key->nw_frag = FLOW_NW_FRAG_ANY;
        if (frag & IPV4_FRAG_OFF_MASK) {
            key->nw_frag |= FLOW_NW_FRAG_LATER;
            return 0;
        }
    }
    *l4_ofs = ofs + ihl;
    /* Ethernet padding may follow the datagram; a short capture may cut it. */
    return MIN(ofs + tot_len, packet_size(p));
}

static bool
is_ipv6_ext_header(uint8_t nxt)
{
    return nxt == IPV6_PROTO_HOPOPTS || nxt == IPV6_PROTO_ROUTING
           || nxt == IPV6_PROTO_DSTOPTS || nxt == IPV6_PROTO_FRAGMENT;
}

/* IPv6 counterpart of parse_ipv4(), walking the extension headers. */
static size_t
parse_ipv6(struct packet *p, size_t ofs, struct flow_key *key,
           size_t *l4_ofs)
{
    const struct ipv6_header *ip6 = packet_at(p, ofs, IPV6_HEADER_LEN);

    if (!ip6) {
        key->error = FLOW_ERR_TRUNCATED;
        return 0;
    }

    uint32_t vtc_flow = ntohl(be32_16_get(&ip6->ip6_vtc_flow));

    if (vtc_flow >> 28 != IPV6_VERSION) {
        key->error = FLOW_ERR_BAD_L3;
        return 0;
    }
    memcpy(&key->nw_src, ip6->ip6_src, sizeof key->nw_src);
    memcpy(&key->nw_dst, ip6->ip6_dst, sizeof key->nw_dst);
    key->nw_tos = (uint8_t) (vtc_flow >> 20);
    key->nw_ttl = ip6->ip6_hlim;
    key->layers = FLOW_LAYER_L3;
    p->md.l3_ofs = (uint16_t) ofs;

    size_t end = MIN(ofs + IPV6_HEADER_LEN + ntohs(ip6->ip6_plen),
                     packet_size(p));
    uint8_t nxt = ip6->ip6_nxt;

    ofs += IPV6_HEADER_LEN;
    for (int i = 0; is_ipv6_ext_header(nxt); i++) {
        if (i == IPV6_MAX_EXT_HEADERS) {
            key->error = FLOW_ERR_BAD_L3;
            return 0;
        }
        if (nxt == IPV6_PROTO_FRAGMENT) {
            const struct ipv6_frag_header *frag
                = packet_at(p, ofs, IPV6_FRAG_HEADER_LEN);

            if (!frag) {
                key->error = FLOW_ERR_TRUNCATED;
                return 0;
            }
            key->nw_frag = FLOW_NW_FRAG_ANY;
            if (ntohs(frag->ip6f_offlg) & IPV6_FRAG_OFF_MASK) {
                key->nw_frag |= FLOW_NW_FRAG_LATER;
                key->nw_proto = frag->ip6f_nxt;
                return 0;
            }
            nxt = frag->ip6f_nxt;
            ofs += IPV6_FRAG_HEADER_LEN;
        } else {
            const struct ipv6_ext_header *ext
                = packet_at(p, ofs, IPV6_EXT_HEADER_LEN);

            if (!ext) {
                key->error = FLOW_ERR_TRUNCATED;
                return 0;
            }
            nxt = ext->ip6e_nxt;
            ofs += ((size_t) ext->ip6e_len + 1) * 8;
        }
    }
    key->nw_proto = nxt;
    *l4_ofs = ofs;
    return end;
}

/* Parses the transport header at 'ofs', which must end by 'end'. */
static void
parse_l4(struct packet *p, size_t ofs, size_t end, struct flow_key *key)
{
    size_t need;

    switch (key->nw_proto) {
    case IP_PROTO_TCP:
        need = TCP_HEADER_LEN;
        break;
    case IP_PROTO_UDP:
        need = UDP_HEADER_LEN;
        break;
    case IP_PROTO_ICMP:
    case IP_PROTO_ICMPV6:
        need = ICMP_HEADER_LEN;
        break;
    default:
        return;
    }
    if (ofs > end || need > end - ofs || !packet_at(p, ofs, need)) {
        key->error = FLOW_ERR_TRUNCATED;
        return;
    }

    const uint8_t *l4 = packet_at(p, ofs, need);

    if (need == ICMP_HEADER_LEN) {
        const struct icmp_header *icmp = (const void *) l4;

        key->tp_src = htons(icmp->icmp_type);
        key->tp_dst = htons(icmp->icmp_code);
    } else {
        /* TCP and UDP both start with the two ports. */
        memcpy(&key->tp_src, l4, sizeof key->tp_src);
        memcpy(&key->tp_dst, l4 + 2, sizeof key->tp_dst);
        if (need == TCP_HEADER_LEN) {
            const struct tcp_header *tcp = (const void *) l4;

            key->tcp_flags = tcp->tcp_ctl & htons(0x0fff);
        }
    }
    key->layers = FLOW_LAYER_L4;
    p->md.l4_ofs = (uint16_t) ofs;
}

/* The frame most traffic is: untagged Ethernet, IPv4 that is not a
 * fragment, and a whole TCP or UDP header.  Where its headers are. */
struct fast_frame {
    const struct eth_header *eth;
    const struct ipv4_header *ip;
    const uint8_t *l4;
    size_t l4_ofs;
    uint8_t proto;
};

/* Fills 'f' and returns true if 'p' holds such a frame, which the full
 * parser would take apart the same way; returns false for any other. */
static inline __attribute__((always_inline)) bool
find_fast_frame(const struct packet *p, struct fast_frame *f)
{
    const struct eth_header *eth
        = packet_at(p, 0, ETH_HEADER_LEN + IPV4_HEADER_LEN);

    if (!eth || eth->eth_type != htons(ETH_TYPE_IPV4)) {
        return false;
    }

    const struct ipv4_header *ip = (const void *) (eth + 1);
    size_t ihl = (size_t) (ip->ip_ihl_ver & 0x0f) * 4;
    size_t tot_len = ntohs(ip->ip_tot_len);
    uint8_t proto = ip->ip_proto;
    size_t need = proto == IP_PROTO_TCP ? TCP_HEADER_LEN
                  : proto == IP_PROTO_UDP ? UDP_HEADER_LEN : 0;
    size_t l4_ofs = ETH_HEADER_LEN + ihl;
    size_t end = MIN(ETH_HEADER_LEN + tot_len, packet_size(p));

    if (ip->ip_ihl_ver >> 4 != IPV4_VERSION || ihl < IPV4_HEADER_LEN
        || tot_len < ihl || !need
        || ip->ip_frag_off & htons(IPV4_MF | IPV4_FRAG_OFF_MASK)
        || l4_ofs > end || need > end - l4_ofs) {
        return false;
    }
    f->eth = eth;
    f->ip = ip;
    f->l4 = packet_data(p) + l4_ofs;
    f->l4_ofs = l4_ofs;
    f->proto = proto;
    return true;
}

/* Records in p->md the headers of fast frame 'f', as the full parser
 * would. */
static inline void
record_fast_frame(struct packet *p, const struct fast_frame *f)
{
    p->md.l3_ofs = ETH_HEADER_LEN;
    p->md.l4_ofs = (uint16_t) f->l4_ofs;
    p->md.l4_proto = f->proto;
    p->md.parsed = true;
}

/* flow_extract()'s work for a fast frame 'f', on a key zeroed but for
 * the metadata. */
static inline void
extract_fast_frame(struct packet *p, const struct fast_frame *f,
                   struct flow_key *key)
{
    key->dl_dst = f->eth->eth_dst;
    key->dl_src = f->eth->eth_src;
    key->dl_type = f->eth->eth_type;
    key->nw_src = inet_from_ipv4(be32_16_get(&f->ip->ip_src));
    key->nw_dst = inet_from_ipv4(be32_16_get(&f->ip->ip_dst));
    key->nw_proto = f->proto;
    key->nw_tos = f->ip->ip_tos;
    key->nw_ttl = f->ip->ip_ttl;
    /* TCP and UDP both start with the two ports. */
    memcpy(&key->tp_src, f->l4, sizeof key->tp_src);
    memcpy(&key->tp_dst, f->l4 + 2, sizeof key->tp_dst);
    if (f->proto == IP_PROTO_TCP) {
        const struct tcp_header *tcp = (const void *) f->l4;

        key->tcp_flags = tcp->tcp_ctl & htons(0x0fff);
    }
    key->layers = FLOW_LAYER_L4;
    record_fast_frame(p, f);
}

/* flow_extract()'s start: 'key' zeroed but for what p->md says. */
static inline void
init_key(const struct packet *p, struct flow_key *key)
{
    memset(key, 0, sizeof *key);
    key->in_port = p->md.in_port;
    key->vni = p->md.vni;
    key->tun_src = p->md.tun_src;
    key->tun_dst = p->md.tun_dst;
}

enum flow_layer
flow_extract(struct packet *p, struct flow_key *key)
{
    struct fast_frame f;

    init_key(p, key);
    if (find_fast_frame(p, &f)) {
        extract_fast_frame(p, &f, key);
        return FLOW_LAYER_L4;
    }
    p->md.l3_ofs = PACKET_OFS_NONE;
    p->md.l4_ofs = PACKET_OFS_NONE;
    p->md.l4_proto = 0;
    p->md.parsed = true;

    size_t l3_ofs = parse_l2(p, key);

    if (!l3_ofs) {
        return key->layers;
    }

    size_t l4_ofs = 0;
    size_t end = 0;

    if (key->dl_type == htons(ETH_TYPE_ARP)) {
        parse_arp(p, l3_ofs, key);
    } else if (key->dl_type == htons(ETH_TYPE_IPV4)) {
        end = parse_ipv4(p, l3_ofs, key, &l4_ofs);
    } else if (key->dl_type == htons(ETH_TYPE_IPV6)) {
        end = parse_ipv6(p, l3_ofs, key, &l4_ofs);
    }
    if (end) {
        parse_l4(p, l4_ofs, end, key);
    }
    if (key->layers == FLOW_LAYER_L4 && !key->nw_frag) {
        p->md.l4_proto = key->nw_proto;
    }
    return key->layers;
}

/* The basis of the flow hashes that flow_extract_hashed() records: one per
 * process, chosen at random, since the hash only spreads flows over UDP
 * source ports. */
static uint64_t
hash_basis(void)
{
    static uint64_t basis;
    static bool ready;

    if (!ready) {
        basis = hash_random_seed();
        ready = true;
    }
    return basis;
}

static inline bool parse_hash_fast(struct packet *);
static void extract_hashed_alone(struct packet *);

void
flow_parse(struct packet *p)
{
    if (!p->md.parsed && !parse_hash_fast(p)) {
        extract_hashed_alone(p);
    }
}

static inline uint64_t
mix_word(uint64_t w, uint64_t k)
{
    return (w ^ (w >> 29)) * k;
}

/* The words flow_hash_5tuple() hashes, wherever they come from: the
 * addresses (addr_word()), the protocol and ports (ports_word()), and the
 * Ethernet addresses and type (eth_word()).  Inlined, so that the word an
 * IPv4 frame leaves zero costs nothing. */
static inline __attribute__((always_inline)) uint32_t
hash_words(const uint64_t w[4], uint64_t basis)
{
    /* Multilinear: the products are independent, so they run side by side
     * instead of as a chain of mixing rounds; one final mix spreads the
     * bits.  Good enough to spread flows, which is all this is for. */
    static const uint64_t k[4] = {
        UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xc2b2ae3d27d4eb4f),
        UINT64_C(0x165667b19e3779f9), UINT64_C(0xd6e8feb86659fd93),
    };

    /* Written out: a loop over 'k' is not unrolled at -O2. */
    uint64_t h = mix_word(w[0], k[0]) + mix_word(w[1], k[1])
                 + mix_word(w[2], k[2]) + mix_word(w[3], k[3]);

    /* A bit of the sum moves only the bits above it: the high half,
     * folded onto the low one, moves all of the product's high half,
     * which is what the hash is. */
    h ^= basis;
    h ^= h >> 32;
    return (uint32_t) ((h * UINT64_C(0xbf58476d1ce4e5b9)) >> 32);
}

static inline uint64_t
load64(const void *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof w);
    return w;
}

/* Swaps the two 4-byte halves of 'w' as it lies in memory, whatever the
 * byte order. */
static inline uint64_t
swap_halves(uint64_t w)
{
    return w << 32 | w >> 32;
}

/* The word of hash_words() for 8 bytes of the source address at 'src' and
 * the same 8 of the destination at 'dst', which fold into one: the source
 * bytes with their halves swapped, XORed with the destination bytes.  So
 * for IPv4-mapped addresses, whose last 8 bytes are ::ffff:S and
 * ::ffff:D, the word is the 8 bytes S D as they lie in the IPv4 header,
 * XORed with the constant ipv4_addrs_mask(). */
static inline uint64_t
addr_word(const uint8_t *src, const uint8_t *dst)
{
    return swap_halves(load64(src)) ^ load64(dst);
}

/* What addr_word() XORs into the two IPv4 addresses of an IPv4-mapped
 * pair: 0:0:ff:ff in each half. */
static inline uint64_t
ipv4_addrs_mask(void)
{
    static const uint8_t bytes[8] = { 0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff };

    return load64(bytes);
}

/* The word of hash_words() for the Ethernet header in 'eth' (14 bytes:
 * destination, source, type): its first 8 bytes XORed with the last 8,
 * halves swapped, so that frames without L3 still spread by their
 * addresses. */
static inline uint64_t
eth_word(const uint8_t *eth)
{
    return load64(eth) ^ swap_halves(load64(eth + 6));
}

/* The word of hash_words() for 'nw_proto' and the 4 bytes of transport
 * ports at 'ports', source then destination, as on the wire. */
static inline uint64_t
ports_word(uint8_t nw_proto, const void *ports)
{
    uint32_t both;

    memcpy(&both, ports, sizeof both);
    return (uint64_t) nw_proto << 32 | both;
}

/* The key keeps the Ethernet header's fields in its order, and the ports
 * side by side, so that the words are loads, as from the frame. */
BUILD_ASSERT(offsetof(struct flow_key, dl_src)
             == offsetof(struct flow_key, dl_dst) + ETH_ADDR_LEN);
BUILD_ASSERT(offsetof(struct flow_key, dl_type)
             == offsetof(struct flow_key, dl_src) + ETH_ADDR_LEN);
BUILD_ASSERT(offsetof(struct flow_key, tp_dst)
             == offsetof(struct flow_key, tp_src) + 2);

uint32_t
flow_hash_5tuple(const struct flow_key *key, uint64_t basis)
{
    static const uint8_t no_ports[4];
    uint64_t w[4];

    w[0] = addr_word(key->nw_src.s6_addr, key->nw_dst.s6_addr);
    w[1] = addr_word(key->nw_src.s6_addr + 8, key->nw_dst.s6_addr + 8);
    /* Later fragments carry no ports, so no fragment hashes them: all the
     * pieces of a datagram take one path. */
    const void *ports = key->nw_frag ? (const void *) no_ports
                                     : (const void *) &key->tp_src;

    w[2] = ports_word(key->nw_proto, ports);
    w[3] = eth_word(key->dl_dst.ea);
    return hash_words(w, basis);
}

/* flow_hash_5tuple() of the key of fast frame 'f', with the basis of
 * flow_extract_hashed(), straight from the frame: the IPv4 addresses lie
 * side by side in their header. */
static inline __attribute__((always_inline)) uint32_t
fast_frame_hash(const struct fast_frame *f)
{
    uint64_t w[4];

    BUILD_ASSERT(offsetof(struct ipv4_header, ip_dst)
                 == offsetof(struct ipv4_header, ip_src) + 4);
    w[0] = 0;
    w[1] = load64(&f->ip->ip_src) ^ ipv4_addrs_mask();
    w[2] = ports_word(f->proto, f->l4);
    w[3] = eth_word((const uint8_t *) f->eth);
    return hash_words(w, hash_basis());
}

/* flow_extract_hashed() without the key, for a fast frame.  Records in
 * p->md what flow_extract_hashed() would and returns true, or returns
 * false with 'p' untouched for any other frame, which the full parser
 * handles. */
static inline __attribute__((always_inline)) bool
parse_hash_fast(struct packet *p)
{
    struct fast_frame f;

    if (!find_fast_frame(p, &f)) {
        return false;
    }

    record_fast_frame(p, &f);
    p->md.hash = fast_frame_hash(&f);
    p->md.hash_valid = true;
    return true;
}

void
flow_extract_hashed(struct packet *p, struct flow_key *key)
{
    struct fast_frame f;

    /* The common frame is hashed from its bytes, as flow_hash() hashes
     * it, which is cheaper than from the key and gives the same. */
    if (find_fast_frame(p, &f)) {
        init_key(p, key);
        extract_fast_frame(p, &f, key);
        p->md.hash = fast_frame_hash(&f);
    } else {
        flow_extract(p, key);
        p->md.hash = flow_hash_5tuple(key, hash_basis());
    }
    p->md.hash_valid = true;
}

/* flow_extract_hashed() with a key of its own.  Not inlined, so that the
 * common frame does not pay for room for a key. */
static void __attribute__((noinline))
extract_hashed_alone(struct packet *p)
{
    struct flow_key key;

    flow_extract_hashed(p, &key);
}

uint32_t
flow_hash(struct packet *p)
{
    if (!p->md.hash_valid && !parse_hash_fast(p)) {
        extract_hashed_alone(p);
    }
    return p->md.hash;
}

/* The longest frame flow_compose() builds: a tag, IPv6 with a fragment
 * header, and TCP. */
#define COMPOSE_MAX (ETH_HEADER_LEN + VLAN_HEADER_LEN + IPV6_HEADER_LEN \
                     + IPV6_FRAG_HEADER_LEN + TCP_HEADER_LEN)

/* What an ICMP header holds after type, code and checksum (identifier and
 * sequence of an echo), so that the message is of a real length. */
#define ICMP_REST_LEN 4

/* Writes the Ethernet header and the tag of 'key' at 'l2'.  Returns their
 * length. */
static size_t
compose_l2(uint8_t *l2, const struct flow_key *key)
{
    struct eth_header *eth = (void *) l2;
    /* An 802.3 frame's type field is its length: nothing follows. */
    be16 type = ntohs(key->dl_type) < ETH_TYPE_MIN ? 0 : key->dl_type;

    eth->eth_dst = key->dl_dst;
    eth->eth_src = key->dl_src;
    if (!(key->vlan_tci & htons(FLOW_VLAN_PRESENT))) {
        eth->eth_type = type;
        return ETH_HEADER_LEN;
    }

    struct vlan_header *vlan = (void *) (l2 + ETH_HEADER_LEN);

    eth->eth_type = htons(ETH_TYPE_VLAN);
    vlan->vlan_tci = key->vlan_tci & ~htons(FLOW_VLAN_PRESENT);
    vlan->vlan_next_type = type;
    return ETH_HEADER_LEN + VLAN_HEADER_LEN;
}

static size_t
compose_arp(uint8_t *l3, const struct flow_key *key)
{
    struct arp_eth_header *arp = (void *) l3;

    arp->ar_hrd = htons(ARP_HTYPE_ETHERNET);
    arp->ar_pro = htons(ETH_TYPE_IPV4);
    arp->ar_hln = ETH_ADDR_LEN;
    arp->ar_pln = 4;
    arp->ar_op = htons(key->nw_proto);
    arp->ar_sha = key->arp_sha;
    be32_16_put(&arp->ar_spa, inet_to_ipv4(&key->nw_src));
    arp->ar_tha = key->arp_tha;
    be32_16_put(&arp->ar_tpa, inet_to_ipv4(&key->nw_dst));
    return ARP_ETH_HEADER_LEN;
}

/* Writes the transport header of 'key' at 'l4', its checksum left zero.
 * Returns its length, 0 for a protocol the parser does not look into. */
static size_t
compose_l4(uint8_t *l4, const struct flow_key *key)
{
    switch (key->nw_proto) {
    case IP_PROTO_TCP: {
        struct tcp_header *tcp = (void *) l4;

        tcp->tcp_src = key->tp_src;
        tcp->tcp_dst = key->tp_dst;
        tcp->tcp_ctl = htons((TCP_HEADER_LEN / 4) << 12)
                       | (key->tcp_flags & htons(0x0fff));
        return TCP_HEADER_LEN;
    }
    case IP_PROTO_UDP: {
        struct udp_header *udp = (void *) l4;

        udp->udp_src = key->tp_src;
        udp->udp_dst = key->tp_dst;
        udp->udp_len = htons(UDP_HEADER_LEN);
        return UDP_HEADER_LEN;
    }
    case IP_PROTO_ICMP:
    case IP_PROTO_ICMPV6: {
        struct icmp_header *icmp = (void *) l4;

        icmp->icmp_type = (uint8_t) ntohs(key->tp_src);
        icmp->icmp_code = (uint8_t) ntohs(key->tp_dst);
        return ICMP_HEADER_LEN + ICMP_REST_LEN;
    }
    default:
        return 0;
    }
}

/* Fills in the checksum of the transport header of 'len' bytes at 'l4',
 * given its pseudo-header sum (0 for ICMP over IPv4, which has none). */
static void
finish_l4_csum(uint8_t *l4, size_t len, uint8_t proto, uint32_t pseudo)
{
    if (!len) {
        return;
    }

    be16 csum = csum_finish(csum_add_bytes(pseudo, l4, len));
    size_t ofs = proto == IP_PROTO_TCP ? offsetof(struct tcp_header, tcp_csum)
                 : proto == IP_PROTO_UDP
                 ? offsetof(struct udp_header, udp_csum)
                 : offsetof(struct icmp_header, icmp_csum);

    if (proto == IP_PROTO_UDP && !csum) {
        csum = htons(0xffff);   /* Zero would say "no checksum". */
    }
    memcpy(l4 + ofs, &csum, sizeof csum);
}

static size_t
compose_ipv4(uint8_t *l3, const struct flow_key *key)
{
    struct ipv4_header *ip = (void *) l3;
    uint8_t *l4 = l3 + IPV4_HEADER_LEN;
    be32 src = inet_to_ipv4(&key->nw_src);
    be32 dst = inet_to_ipv4(&key->nw_dst);
    /* A later fragment carries no transport header. */
    size_t l4_len = key->nw_frag & FLOW_NW_FRAG_LATER ? 0
                    : compose_l4(l4, key);

    ip->ip_ihl_ver = IPV4_VERSION << 4 | IPV4_HEADER_LEN / 4;
    ip->ip_tos = key->nw_tos;
    ip->ip_tot_len = htons((uint16_t) (IPV4_HEADER_LEN + l4_len));
    ip->ip_frag_off = htons(key->nw_frag & FLOW_NW_FRAG_LATER ? 1
                            : key->nw_frag & FLOW_NW_FRAG_ANY ? IPV4_MF : 0);
    ip->ip_ttl = key->nw_ttl;
    ip->ip_proto = key->nw_proto;
    be32_16_put(&ip->ip_src, src);
    be32_16_put(&ip->ip_dst, dst);
    ip->ip_csum = csum_finish(csum_add_bytes(0, ip, IPV4_HEADER_LEN));
    finish_l4_csum(l4, l4_len, key->nw_proto,
                   key->nw_proto == IP_PROTO_ICMP ? 0
                   : csum_pseudo_ipv4(src, dst, key->nw_proto,
                                      (uint16_t) l4_len));
    return IPV4_HEADER_LEN + l4_len;
}

static size_t
compose_ipv6(uint8_t *l3, const struct flow_key *key)
{
    struct ipv6_header *ip6 = (void *) l3;
    size_t ext_len = 0;

    ip6->ip6_nxt = key->nw_proto;
    if (key->nw_frag & FLOW_NW_FRAG_ANY) {
        struct ipv6_frag_header *frag
            = (void *) (l3 + IPV6_HEADER_LEN);

        frag->ip6f_nxt = key->nw_proto;
        /* Offset 1 (8 bytes) for a later fragment; else the first one,
         * with more to come. */
        frag->ip6f_offlg = htons(key->nw_frag & FLOW_NW_FRAG_LATER
                                 ? 1 << 3 : IPV6_FRAG_MORE);
        ip6->ip6_nxt = IPV6_PROTO_FRAGMENT;
        ext_len = IPV6_FRAG_HEADER_LEN;
    }

    uint8_t *l4 = l3 + IPV6_HEADER_LEN + ext_len;
    size_t l4_len = key->nw_frag & FLOW_NW_FRAG_LATER ? 0
                    : compose_l4(l4, key);

    be32_16_put(&ip6->ip6_vtc_flow,
                htonl((uint32_t) IPV6_VERSION << 28
                      | (uint32_t) key->nw_tos << 20));
    ip6->ip6_plen = htons((uint16_t) (ext_len + l4_len));
    ip6->ip6_hlim = key->nw_ttl;
    memcpy(ip6->ip6_src, &key->nw_src, sizeof ip6->ip6_src);
    memcpy(ip6->ip6_dst, &key->nw_dst, sizeof ip6->ip6_dst);
    finish_l4_csum(l4, l4_len, key->nw_proto,
                   csum_pseudo_ipv6(&key->nw_src, &key->nw_dst,
                                    key->nw_proto, (uint32_t) l4_len));
    return IPV6_HEADER_LEN + ext_len + l4_len;
}

int
flow_compose(struct packet *p, const struct flow_key *key)
{
    uint8_t frame[COMPOSE_MAX] __attribute__((aligned(8)));
    size_t len;

    memset(frame, 0, sizeof frame);
    len = compose_l2(frame, key);
    if (key->dl_type == htons(ETH_TYPE_ARP)) {
        len += compose_arp(frame + len, key);
    } else if (key->dl_type == htons(ETH_TYPE_IPV4)) {
        len += compose_ipv4(frame + len, key);
    } else if (key->dl_type == htons(ETH_TYPE_IPV6)) {
        len += compose_ipv6(frame + len, key);
    }

    int error = packet_set_frame(p, frame, len);

    if (!error) {
        p->md.in_port = key->in_port;
        p->md.vni = key->vni;
        p->md.tun_src = key->tun_src;
        p->md.tun_dst = key->tun_dst;
    }
    return error;
}
