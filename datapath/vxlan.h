#ifndef DATAPATH_VXLAN_H
#define DATAPATH_VXLAN_H 1

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "byte-order.h"
#include "eth-addr.h"
#include "headers.h"
#include "csum.h"
#include "inet.h"
#include "packet.h"


/* VXLAN encapsulation and decapsulation of one frame (RFC 7348).  These
 * functions only rewrite headers; which VNIs exist and where frames go is
 * the datapath's business (dp.h). */

/* The most source ports a VTEP may restrict itself to, such as those its
 * sender has sockets bound to (udp-gso.h). */
#define VXLAN_SRC_PORTS_MAX 256

/* How this VTEP builds outer headers. */
struct vxlan_encap_params {
    struct in6_addr local;      /* Outer source; IPv4-mapped for IPv4. */
    struct eth_addr eth_src;    /* Outer Ethernet source. */
    be16 dst_port;              /* Usually VXLAN_DST_PORT. */
    uint16_t src_port_min;      /* UDP source ports, inclusive range. */
    uint16_t src_port_max;
    uint8_t ttl;                /* 0: 64 for unicast, 1 for multicast. */
    uint8_t tos;
    bool df;                    /* Set DF in the outer IPv4 header. */
    bool udp_csum;              /* IPv4 only: IPv6 always sums (RFC 6935). */
    uint16_t n_src_ports;       /* If nonzero, the only source ports are */
    uint16_t src_ports[VXLAN_SRC_PORTS_MAX];  /* these, in the range. */
};

/* Outer TTLs when the port sets none. */
#define VXLAN_TTL_UNICAST 64
#define VXLAN_TTL_MULTICAST 1   /* Keep flooding inside the local segment. */

#define VXLAN_SRC_PORT_MIN 49152
#define VXLAN_SRC_PORT_MAX 65535

/* Returns the UDP source port for an inner flow with 'hash': spread over the
 * range, or over the ports of 'src_ports' if there are any, so that
 * underlay ECMP spreads flows, the same for every frame of a flow.
 * Inline: vxlan_encap() asks it for every frame. */
static inline uint16_t
vxlan_src_port(const struct vxlan_encap_params *params, uint32_t hash)
{
    uint32_t range = (uint32_t) params->src_port_max - params->src_port_min
                     + 1;

    /* Multiply-shift maps the hash onto the range, or onto the table,
     * without a division. */
    if (params->n_src_ports) {
        return params->src_ports[((uint64_t) hash * params->n_src_ports)
                                 >> 32];
    }
    return (uint16_t) (params->src_port_min
                       + (uint32_t) (((uint64_t) hash * range) >> 32));
}

/* Returns the bytes of outer headers that go in front of a frame sent to
 * 'dst': 50 over IPv4, 70 over IPv6.  Inline: asked several times per
 * frame. */
static inline unsigned int
vxlan_overhead(const struct in6_addr *dst)
{
    return inet_is_ipv4(dst) ? VXLAN_IPV4_OVERHEAD : VXLAN_IPV6_OVERHEAD;
}

/* Writes the VXLAN header for 'vni' at 'vx'. */
static inline void
vxlan_put_header(struct vxlan_header *vx, uint32_t vni)
{
    be32_16_put(&vx->vx_flags, htonl(VXLAN_FLAG_I));
    be32_16_put(&vx->vx_vni, htonl(vni << 8));
}

/* Encapsulation is split between the datapath and whoever sends, so that
 * every outer header is built once, by the one that sends it: the VXLAN
 * port's UDP GSO sockets send the UDP payload as it is and the kernel
 * builds the outer IP and UDP headers; only what leaves through its raw
 * socket gets them from vxlan_push_outer().  No outer Ethernet header is
 * built: the kernel routes and resolves the next hop either way. */

/* Pushes the VXLAN header for 'vni' in front of the frame in 'p' and
 * records in p->md where the datagram goes: the VNI, tun_src (the local
 * address), tun_dst ('dst'), and the UDP ports tun_udp_dst (the params')
 * and tun_udp_src, taken from p->md.hash, which must be valid.  Completes
 * any partial inner checksum first, since the receiver cannot, but not
 * that of a super frame, whoever cuts it finishes each segment's.  The
 * parsed offsets are reset, since they described the inner frame.
 * Returns 0, or EMSGSIZE (frame unchanged) if the outer IP packet would be
 * too long or the headroom is short of every outer header,
 * vxlan_overhead(dst) bytes, so that vxlan_push_outer() and anyone adding
 * an outer Ethernet header find room.  Inline, as the datapath's steps
 * every frame takes. */
static inline int
vxlan_encap(struct packet *p, const struct vxlan_encap_params *params,
            uint32_t vni, const struct in6_addr *dst)
{
    bool ipv4 = inet_is_ipv4(dst);
    size_t ip_len = ipv4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN;
    size_t udp_len = UDP_HEADER_LEN + VXLAN_HEADER_LEN + packet_size(p);

    if (udp_len > UINT16_MAX - ip_len
        || packet_headroom(p) < (ipv4 ? VXLAN_IPV4_OVERHEAD
                                      : VXLAN_IPV6_OVERHEAD)) {
        return EMSGSIZE;
    }
    /* The receiving VTEP hands the inner frame to a host that expects a
     * finished checksum.  A super frame that goes whole keeps it for
     * whoever cuts it (tunnel-tap.h). */
    if (p->md.csum_partial && !p->md.gso_size) {
        csum_complete_partial(p);
    }
    vxlan_put_header(packet_push(p, VXLAN_HEADER_LEN), vni);

    p->md.vni = vni;
    p->md.tun_src = params->local;
    p->md.tun_dst = *dst;
    p->md.tun_udp_src = vxlan_src_port(params, p->md.hash);
    p->md.tun_udp_dst = params->dst_port;
    packet_reset_offsets(p);
    return 0;
}

/* Pushes the outer IP and UDP headers in front of 'p', which
 * vxlan_encap() made (with the same 'params'), from p->md and 'params':
 * IPv4 with identification 'ip_id' and a header checksum, and the UDP
 * checksum where 'params' or IPv6 ask for it.  The headroom that
 * vxlan_encap() checked is enough. */
void vxlan_push_outer(struct packet *p, const struct vxlan_encap_params *,
                      uint16_t ip_id);

/* The outer IPv4 and UDP headers of 'params' with only the fields that
 * are the same for every frame filled in, and the TTL for multicast
 * destinations: whoever sends many frames builds it once and copies it
 * in front of each (vxlan_push_outer_ipv4()). */
struct vxlan_outer_ipv4 {
    struct ipv4_header ip;
    struct udp_header udp;
    uint8_t ttl_multicast;
    uint32_t sum;               /* Partial checksum of 'ip' as it is. */
    uint32_t sum_multicast;     /* The same with 'ttl_multicast'. */
};

void vxlan_outer_ipv4_init(struct vxlan_outer_ipv4 *,
                           const struct vxlan_encap_params *);

/* Sets the UDP checksum of the datagram of 'udp_len' bytes at 'udp' from
 * 'params' to 'dst'.  Not inline: over IPv4 the checksum is the
 * exception, and the registers it needs would cost every frame. */
void vxlan_put_udp_csum_ipv4(struct udp_header *udp,
                             const struct vxlan_encap_params *params,
                             be32 dst, size_t udp_len);

/* vxlan_push_outer() for a frame to an IPv4 address, from the headers
 * that vxlan_outer_ipv4_init() built for the same 'params'.  Inline:
 * every frame the VXLAN port sends through its raw socket over IPv4
 * comes this way. */
static inline void
vxlan_push_outer_ipv4(struct packet *p,
                      const struct vxlan_encap_params *params,
                      const struct vxlan_outer_ipv4 *t, uint16_t ip_id)
{
    be32 dst = inet_to_ipv4(&p->md.tun_dst);
    size_t udp_len = UDP_HEADER_LEN + packet_size(p);
    uint8_t *outer = packet_push(p, IPV4_HEADER_LEN + UDP_HEADER_LEN);
    struct ipv4_header *ip = (void *) outer;
    struct udp_header *udp = (void *) (outer + IPV4_HEADER_LEN);

    be16 tot_len = htons((uint16_t) (IPV4_HEADER_LEN + udp_len));
    be16 id = htons(ip_id);
    uint32_t sum = t->sum;

    /* The constant fields at once, then those of this frame, whose words
     * the checksum adds to the template's. */
    memcpy(outer, &t->ip, IPV4_HEADER_LEN + UDP_HEADER_LEN);
    if ((ntohl(dst) & 0xf0000000) == 0xe0000000) {
        ip->ip_ttl = t->ttl_multicast;
        sum = t->sum_multicast;
    }
    ip->ip_tot_len = tot_len;
    ip->ip_id = id;
    be32_16_put(&ip->ip_dst, dst);
    ip->ip_csum = csum_finish(sum + tot_len + id + (dst & 0xffff)
                              + (dst >> 16));
    udp->udp_src = htons(p->md.tun_udp_src);
    udp->udp_dst = p->md.tun_udp_dst;
    udp->udp_len = htons((uint16_t) udp_len);
    if (params->udp_csum) {
        vxlan_put_udp_csum_ipv4(udp, params, dst, udp_len);
    }
}

/* Returns the Ethernet address that IPv4 or IPv6 multicast group 'group'
 * maps to (RFC 1112, RFC 2464). */
struct eth_addr vxlan_multicast_eth(const struct in6_addr *group);

enum vxlan_error {
    VXLAN_OK = 0,
    VXLAN_ERR_SHORT,            /* Shorter than the headers claim. */
    VXLAN_ERR_NOT_VXLAN,        /* Not IP/UDP to our port, or a fragment. */
    VXLAN_ERR_BAD_CSUM,         /* Outer IPv4 or UDP checksum wrong, or a
                                 * zero UDP checksum over IPv6. */
    VXLAN_ERR_NO_I_FLAG,        /* VXLAN header without the I flag. */
    VXLAN_ERR_BAD_INNER,        /* Inner frame shorter than Ethernet. */
};

/* Decapsulates a whole outer frame (Ethernet, IPv4 or IPv6, UDP to
 * 'dst_port', VXLAN): on success, 'p' holds the inner frame, p->md.tun_src
 * and tun_dst the outer addresses, and '*vni' the VNI.  On failure 'p' is
 * unchanged.  Checksums are verified unless p->md.csum_partial says the
 * frame comes from this host's own stack with them still to be filled; on
 * success that flag is cleared, since it described the outer frame. */
enum vxlan_error vxlan_decap_frame(struct packet *p, be16 dst_port,
                                   uint32_t *vni);

/* Decapsulates a UDP payload whose outer headers the kernel's socket has
 * already removed (the caller fills in the outer addresses).  Reserved bits
 * are ignored, as RFC 7348 asks of receivers.  Inline: every datagram the
 * VXLAN port receives comes this way. */
static inline enum vxlan_error
vxlan_decap_payload(struct packet *p, uint32_t *vni)
{
    const struct vxlan_header *vx = packet_at(p, 0, VXLAN_HEADER_LEN);

    if (!vx) {
        return VXLAN_ERR_SHORT;
    }
    if (!(ntohl(be32_16_get(&vx->vx_flags)) & VXLAN_FLAG_I)) {
        return VXLAN_ERR_NO_I_FLAG;
    }
    if (packet_size(p) < VXLAN_HEADER_LEN + ETH_HEADER_LEN) {
        return VXLAN_ERR_BAD_INNER;
    }
    *vni = ntohl(be32_16_get(&vx->vx_vni)) >> 8;
    packet_pull(p, VXLAN_HEADER_LEN);
    p->md.vni = *vni;
    p->md.csum_partial = false;
    packet_reset_offsets(p);
    return VXLAN_OK;
}

#endif /* datapath/vxlan.h */
