#include <config.h>

#include "vxlan.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "csum.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"

struct eth_addr
vxlan_multicast_eth(const struct in6_addr *group)
{
    struct eth_addr ea;

    if (inet_is_ipv4(group)) {
        ea = (struct eth_addr) {{ 0x01, 0x00, 0x5e, group->s6_addr[13] & 0x7f,
                                  group->s6_addr[14], group->s6_addr[15] }};
    } else {
        ea = (struct eth_addr) {{ 0x33, 0x33, group->s6_addr[12],
                                  group->s6_addr[13], group->s6_addr[14],
                                  group->s6_addr[15] }};
    }
    return ea;
}

BUILD_ASSERT(offsetof(struct vxlan_outer_ipv4, udp) == IPV4_HEADER_LEN);

/* The TTL of frames to 'dst' under 'params'. */
static uint8_t
outer_ttl(const struct vxlan_encap_params *params, bool multicast)
{
    return params->ttl ? params->ttl
           : multicast ? VXLAN_TTL_MULTICAST : VXLAN_TTL_UNICAST;
}

/* The sum of the IPv4 header at 'ip', folded to 16 bits so that adding
 * a frame's words to it cannot carry out of 32. */
static uint32_t
header_sum(const struct ipv4_header *ip)
{
    return (uint16_t) ~csum_finish(csum_add_bytes(0, ip, IPV4_HEADER_LEN));
}

void
vxlan_outer_ipv4_init(struct vxlan_outer_ipv4 *t,
                      const struct vxlan_encap_params *params)
{
    memset(t, 0, sizeof *t);
    t->ip.ip_ihl_ver = IPV4_VERSION << 4 | IPV4_HEADER_LEN / 4;
    t->ip.ip_tos = params->tos;
    t->ip.ip_frag_off = params->df ? htons(IPV4_DF) : 0;
    t->ip.ip_ttl = outer_ttl(params, false);
    t->ip.ip_proto = IP_PROTO_UDP;
    be32_16_put(&t->ip.ip_src, inet_to_ipv4(&params->local));
    t->sum = header_sum(&t->ip);
    t->ttl_multicast = outer_ttl(params, true);
    t->ip.ip_ttl = t->ttl_multicast;
    t->sum_multicast = header_sum(&t->ip);
    t->ip.ip_ttl = outer_ttl(params, false);
}

/* Sets the UDP checksum of the datagram of 'udp_len' bytes at 'udp' that
 * starts from pseudo-header sum 'pseudo'. */
static void
put_udp_csum(struct udp_header *udp, uint32_t pseudo, size_t udp_len)
{
    be16 csum = csum_finish(csum_add_bytes(pseudo, udp, udp_len));

    /* Zero means "no checksum"; a real zero is sent as all ones. */
    udp->udp_csum = csum ? csum : 0xffff;
}

void
vxlan_put_udp_csum_ipv4(struct udp_header *udp,
                        const struct vxlan_encap_params *params, be32 dst,
                        size_t udp_len)
{
    put_udp_csum(udp, csum_pseudo_ipv4(inet_to_ipv4(&params->local), dst,
                                       IP_PROTO_UDP, (uint16_t) udp_len),
                 udp_len);
}

static void
put_ipv6(struct ipv6_header *ip6, const struct vxlan_encap_params *params,
         const struct in6_addr *dst, uint16_t plen, uint8_t hlim)
{
    be32_16_put(&ip6->ip6_vtc_flow,
                htonl((uint32_t) IPV6_VERSION << 28
                      | (uint32_t) params->tos << 20));
    ip6->ip6_plen = htons(plen);
    ip6->ip6_nxt = IP_PROTO_UDP;
    ip6->ip6_hlim = hlim;
    memcpy(ip6->ip6_src, &params->local, 16);
    memcpy(ip6->ip6_dst, dst, 16);
}

void
vxlan_push_outer(struct packet *p, const struct vxlan_encap_params *params,
                 uint16_t ip_id)
{
    const struct in6_addr *dst = &p->md.tun_dst;

    if (inet_is_ipv4(dst)) {
        struct vxlan_outer_ipv4 t;

        vxlan_outer_ipv4_init(&t, params);
        vxlan_push_outer_ipv4(p, params, &t, ip_id);
        return;
    }

    size_t udp_len = UDP_HEADER_LEN + packet_size(p);
    uint8_t *outer = packet_push(p, IPV6_HEADER_LEN + UDP_HEADER_LEN);
    struct udp_header *udp = (void *) (outer + IPV6_HEADER_LEN);

    udp->udp_src = htons(p->md.tun_udp_src);
    udp->udp_dst = p->md.tun_udp_dst;
    udp->udp_len = htons((uint16_t) udp_len);
    udp->udp_csum = 0;
    put_ipv6((void *) outer, params, dst, (uint16_t) udp_len,
             outer_ttl(params, inet_is_multicast(dst)));
    put_udp_csum(udp, csum_pseudo_ipv6(&params->local, dst, IP_PROTO_UDP,
                                       (uint32_t) udp_len),
                 udp_len);
}

/* Checks the UDP checksum against the outer addresses in p->md. */
static enum vxlan_error
check_udp_csum(const struct packet *p, size_t udp_ofs, uint16_t udp_len)
{
    const struct in6_addr *src = &p->md.tun_src;
    const struct in6_addr *dst = &p->md.tun_dst;
    uint32_t sum = inet_is_ipv4(src)
                   ? csum_pseudo_ipv4(inet_to_ipv4(src), inet_to_ipv4(dst),
                                      IP_PROTO_UDP, udp_len)
                   : csum_pseudo_ipv6(src, dst, IP_PROTO_UDP, udp_len);

    sum = csum_add_bytes(sum, packet_at(p, udp_ofs, udp_len), udp_len);
    return csum_finish(sum) ? VXLAN_ERR_BAD_CSUM : VXLAN_OK;
}

/* Validates the outer IPv4 header at 'ofs' and finds the UDP header. */
static enum vxlan_error
parse_outer_ipv4(struct packet *p, size_t ofs, size_t *udp_ofs,
                 size_t *ip_end)
{
    const struct ipv4_header *ip = packet_at(p, ofs, IPV4_HEADER_LEN);

    if (!ip) {
        return VXLAN_ERR_SHORT;
    }

    size_t ihl = (size_t) (ip->ip_ihl_ver & 0x0f) * 4;
    size_t tot_len = ntohs(ip->ip_tot_len);

    if (ip->ip_ihl_ver >> 4 != IPV4_VERSION || ihl < IPV4_HEADER_LEN
        || tot_len < ihl || ip->ip_proto != IP_PROTO_UDP
        || ntohs(ip->ip_frag_off) & (IPV4_MF | IPV4_FRAG_OFF_MASK)) {
        return VXLAN_ERR_NOT_VXLAN;
    }
    if (!packet_at(p, ofs, tot_len)) {
        return VXLAN_ERR_SHORT;
    }
    if (csum_finish(csum_add_bytes(0, ip, ihl))) {
        return VXLAN_ERR_BAD_CSUM;
    }
    p->md.tun_src = inet_from_ipv4(be32_16_get(&ip->ip_src));
    p->md.tun_dst = inet_from_ipv4(be32_16_get(&ip->ip_dst));
    *udp_ofs = ofs + ihl;
    *ip_end = ofs + tot_len;
    return VXLAN_OK;
}

/* The outer IPv6 header must be followed directly by UDP: a VTEP sends no
 * extension headers, and anything else is not for us. */
static enum vxlan_error
parse_outer_ipv6(struct packet *p, size_t ofs, size_t *udp_ofs,
                 size_t *ip_end)
{
    const struct ipv6_header *ip6 = packet_at(p, ofs, IPV6_HEADER_LEN);

    if (!ip6) {
        return VXLAN_ERR_SHORT;
    }

    size_t plen = ntohs(ip6->ip6_plen);

    if (ntohl(be32_16_get(&ip6->ip6_vtc_flow)) >> 28 != IPV6_VERSION
        || ip6->ip6_nxt != IP_PROTO_UDP) {
        return VXLAN_ERR_NOT_VXLAN;
    }
    if (!packet_at(p, ofs + IPV6_HEADER_LEN, plen)) {
        return VXLAN_ERR_SHORT;
    }
    memcpy(&p->md.tun_src, ip6->ip6_src, 16);
    memcpy(&p->md.tun_dst, ip6->ip6_dst, 16);
    *udp_ofs = ofs + IPV6_HEADER_LEN;
    *ip_end = *udp_ofs + plen;
    return VXLAN_OK;
}

enum vxlan_error
vxlan_decap_frame(struct packet *p, be16 dst_port, uint32_t *vni)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);
    struct in6_addr saved_src = p->md.tun_src;
    struct in6_addr saved_dst = p->md.tun_dst;
    size_t udp_ofs, ip_end;
    enum vxlan_error error;

    if (!eth) {
        return VXLAN_ERR_SHORT;
    }
    if (eth->eth_type == htons(ETH_TYPE_IPV4)) {
        error = parse_outer_ipv4(p, ETH_HEADER_LEN, &udp_ofs, &ip_end);
    } else if (eth->eth_type == htons(ETH_TYPE_IPV6)) {
        error = parse_outer_ipv6(p, ETH_HEADER_LEN, &udp_ofs, &ip_end);
    } else {
        error = VXLAN_ERR_NOT_VXLAN;
    }

    const struct udp_header *udp = NULL;

    if (!error) {
        udp = packet_at(p, udp_ofs, UDP_HEADER_LEN);
        if (!udp || udp_ofs + UDP_HEADER_LEN > ip_end) {
            error = VXLAN_ERR_SHORT;
        } else if (udp->udp_dst != dst_port) {
            error = VXLAN_ERR_NOT_VXLAN;
        } else if (ntohs(udp->udp_len) < UDP_HEADER_LEN
                   || ntohs(udp->udp_len) > ip_end - udp_ofs) {
            error = VXLAN_ERR_SHORT;
        } else if (p->md.csum_partial) {
            /* The sender's own stack still owes the checksum. */
        } else if (udp->udp_csum) {
            error = check_udp_csum(p, udp_ofs, ntohs(udp->udp_len));
        } else if (eth->eth_type == htons(ETH_TYPE_IPV6)) {
            /* IPv6 allows a zero UDP checksum only where configured for
             * it (RFC 6936); the Linux driver refuses it by default. */
            error = VXLAN_ERR_BAD_CSUM;
        }
    }
    if (!error) {
        size_t end = udp_ofs + ntohs(udp->udp_len);
        uint32_t saved_ofs = p->data_ofs;
        uint32_t saved_size = p->size;

        /* Drop Ethernet padding after the datagram, then the headers. */
        p->size = (uint32_t) end;
        packet_pull(p, udp_ofs + UDP_HEADER_LEN);
        error = vxlan_decap_payload(p, vni);
        if (error) {
            p->data_ofs = saved_ofs;
            p->size = saved_size;
        }
    }
    if (error) {
        p->md.tun_src = saved_src;
        p->md.tun_dst = saved_dst;
    }
    return error;
}

