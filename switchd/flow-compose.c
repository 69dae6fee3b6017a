#include <config.h>

#include "flow-compose.h"

#include <arpa/inet.h>
#include <string.h>

#include "csum.h"
#include "flow.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"

#define MIN_FRAME 60
#define DEFAULT_TTL 64

static void *
put(struct packet *p, size_t len)
{
    void *data = packet_put_uninit(p, len);

    memset(data, 0, len);
    return data;
}

static void
put_l4(const struct flow_key *key, struct packet *p)
{
    if (key->nw_proto == IP_PROTO_TCP) {
        struct tcp_header *tcp = put(p, TCP_HEADER_LEN);

        tcp->tcp_src = key->tp_src;
        tcp->tcp_dst = key->tp_dst;
        tcp->tcp_ctl = htons((TCP_HEADER_LEN / 4) << 12
                             | (ntohs(key->tcp_flags) & 0x0fff));
        tcp->tcp_winsz = htons(65535);
    } else if (key->nw_proto == IP_PROTO_UDP) {
        struct udp_header *udp = put(p, UDP_HEADER_LEN);

        udp->udp_src = key->tp_src;
        udp->udp_dst = key->tp_dst;
        udp->udp_len = htons(UDP_HEADER_LEN);
    } else if (key->nw_proto == IP_PROTO_ICMP
               || key->nw_proto == IP_PROTO_ICMPV6) {
        struct icmp_header *icmp = put(p, ICMP_HEADER_LEN);

        icmp->icmp_type = (uint8_t) ntohs(key->tp_src);
        icmp->icmp_code = (uint8_t) ntohs(key->tp_dst);
    }
}

static void
put_ipv4(const struct flow_key *key, struct packet *p)
{
    size_t start = packet_size(p);
    struct ipv4_header *ip = put(p, IPV4_HEADER_LEN);

    ip->ip_ihl_ver = IPV4_VERSION << 4 | IPV4_HEADER_LEN / 4;
    ip->ip_tos = key->nw_tos;
    ip->ip_ttl = key->nw_ttl ? key->nw_ttl : DEFAULT_TTL;
    ip->ip_proto = key->nw_proto;
    be32_16_put(&ip->ip_src, inet_to_ipv4(&key->nw_src));
    be32_16_put(&ip->ip_dst, inet_to_ipv4(&key->nw_dst));
    put_l4(key, p);

    /* The buffer may have moved: find the header again. */
    ip = packet_at_rw(p, start, IPV4_HEADER_LEN);
    ip->ip_tot_len = htons((uint16_t) (packet_size(p) - start));
    ip->ip_csum = csum_finish(csum_add_bytes(0, ip, IPV4_HEADER_LEN));
}

static void
put_ipv6(const struct flow_key *key, struct packet *p)
{
    size_t start = packet_size(p);
    struct ipv6_header *ip = put(p, IPV6_HEADER_LEN);

    be32_16_put(&ip->ip6_vtc_flow, htonl((uint32_t) IPV6_VERSION << 28
                                         | (uint32_t) key->nw_tos << 20));
    ip->ip6_nxt = key->nw_proto;
    ip->ip6_hlim = key->nw_ttl ? key->nw_ttl : DEFAULT_TTL;
    memcpy(ip->ip6_src, &key->nw_src, sizeof ip->ip6_src);
    memcpy(ip->ip6_dst, &key->nw_dst, sizeof ip->ip6_dst);
    put_l4(key, p);
    ip = packet_at_rw(p, start, IPV6_HEADER_LEN);
    ip->ip6_plen = htons((uint16_t) (packet_size(p) - start
                                     - IPV6_HEADER_LEN));
}

static void
put_arp(const struct flow_key *key, struct packet *p)
{
    struct arp_eth_header *arp = put(p, ARP_ETH_HEADER_LEN);

    arp->ar_hrd = htons(ARP_HTYPE_ETHERNET);
    arp->ar_pro = htons(ETH_TYPE_IPV4);
    arp->ar_hln = ETH_ADDR_LEN;
    arp->ar_pln = 4;
    arp->ar_op = htons(key->nw_proto);
    arp->ar_sha = key->arp_sha;
    be32_16_put(&arp->ar_spa, inet_to_ipv4(&key->nw_src));
    arp->ar_tha = key->arp_tha;
    be32_16_put(&arp->ar_tpa, inet_to_ipv4(&key->nw_dst));
}

void
flow_compose(const struct flow_key *key, struct packet *p)
{
    struct eth_header *eth = put(p, ETH_HEADER_LEN);
    uint16_t dl_type = ntohs(key->dl_type);

    eth->eth_dst = key->dl_dst;
    eth->eth_src = key->dl_src;
    if (key->vlan_tci & htons(FLOW_VLAN_PRESENT)) {
        struct vlan_header *vlan;

        eth->eth_type = htons(ETH_TYPE_VLAN);
        vlan = put(p, VLAN_HEADER_LEN);
        vlan->vlan_tci = key->vlan_tci & ~htons(FLOW_VLAN_PRESENT);
        vlan->vlan_next_type = key->dl_type;
    } else {
        eth->eth_type = key->dl_type;
    }
    if (dl_type == ETH_TYPE_IPV4) {
        put_ipv4(key, p);
    } else if (dl_type == ETH_TYPE_IPV6) {
        put_ipv6(key, p);
    } else if (dl_type == ETH_TYPE_ARP) {
        put_arp(key, p);
    }
    if (packet_size(p) < MIN_FRAME) {
        put(p, MIN_FRAME - packet_size(p));
    }
}
