#ifndef DATAPATH_HEADERS_H
#define DATAPATH_HEADERS_H 1

#include <stdint.h>

#include "byte-order.h"
#include "eth-addr.h"
#include "util.h"

/* Wire headers.  Each is a plain struct of bytes and network-order fields,
 * with a length constant and a compile-time size check.  32-bit fields are
 * be32_16 because these headers often start at 2 mod 4.  No bit-fields: the
 * sub-byte fields are masked explicitly. */

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_VLAN_QINQ 0x88a8
#define ETH_TYPE_IPV6 0x86dd
#define ETH_TYPE_MIN 0x0600     /* Smaller values are 802.3 lengths. */

#define ETH_HEADER_LEN 14
struct eth_header {
    struct eth_addr eth_dst;
    struct eth_addr eth_src;
    be16 eth_type;
};
BUILD_ASSERT(sizeof(struct eth_header) == ETH_HEADER_LEN);

/* The 802.1Q tag that follows the addresses of a tagged frame. */
#define VLAN_HEADER_LEN 4
struct vlan_header {
    be16 vlan_tci;              /* PCP (3 bits), DEI (1), VID (12). */
    be16 vlan_next_type;
};
BUILD_ASSERT(sizeof(struct vlan_header) == VLAN_HEADER_LEN);

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_SHIFT 13

/* ARP for Ethernet and IPv4, the only kind a switch needs to look into. */
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_ETH_HEADER_LEN 28
struct arp_eth_header {
    be16 ar_hrd;
    be16 ar_pro;
    uint8_t ar_hln;
    uint8_t ar_pln;
    be16 ar_op;
    struct eth_addr ar_sha;
    be32_16 ar_spa;
    struct eth_addr ar_tha;
    be32_16 ar_tpa;
};
BUILD_ASSERT(sizeof(struct arp_eth_header) == ARP_ETH_HEADER_LEN);

#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_ICMPV6 58

#define IPV4_HEADER_LEN 20
struct ipv4_header {
    uint8_t ip_ihl_ver;         /* Version (high 4 bits), IHL in words. */
    uint8_t ip_tos;
    be16 ip_tot_len;
    be16 ip_id;
    be16 ip_frag_off;           /* Flags (high 3 bits), offset in 8 bytes. */
    uint8_t ip_ttl;
    uint8_t ip_proto;
    be16 ip_csum;
    be32_16 ip_src;
    be32_16 ip_dst;
};
BUILD_ASSERT(sizeof(struct ipv4_header) == IPV4_HEADER_LEN);

#define IPV4_VERSION 4
#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_FRAG_OFF_MASK 0x1fff

#define IPV6_HEADER_LEN 40
struct ipv6_header {
    be32_16 ip6_vtc_flow;       /* Version 4, traffic class 8, label 20. */
    be16 ip6_plen;
    uint8_t ip6_nxt;
    uint8_t ip6_hlim;
    uint8_t ip6_src[16];
    uint8_t ip6_dst[16];
};
BUILD_ASSERT(sizeof(struct ipv6_header) == IPV6_HEADER_LEN);

#define IPV6_VERSION 6

/* The generic shape of the IPv6 extension headers a parser walks over
 * (hop-by-hop, routing, destination options): length in 8-byte units, not
 * counting the first 8 bytes. */
#define IPV6_EXT_HEADER_LEN 2
struct ipv6_ext_header {
    uint8_t ip6e_nxt;
    uint8_t ip6e_len;
};
BUILD_ASSERT(sizeof(struct ipv6_ext_header) == IPV6_EXT_HEADER_LEN);

#define IPV6_PROTO_HOPOPTS 0
#define IPV6_PROTO_ROUTING 43
#define IPV6_PROTO_FRAGMENT 44
#define IPV6_PROTO_DSTOPTS 60
#define IPV6_PROTO_NONE 59

#define IPV6_FRAG_HEADER_LEN 8
struct ipv6_frag_header {
    uint8_t ip6f_nxt;
    uint8_t ip6f_reserved;
    be16 ip6f_offlg;            /* Offset (high 13 bits), flags, M bit. */
    be32_16 ip6f_ident;
};
BUILD_ASSERT(sizeof(struct ipv6_frag_header) == IPV6_FRAG_HEADER_LEN);

#define IPV6_FRAG_OFF_MASK 0xfff8
#define IPV6_FRAG_MORE 0x0001

#define UDP_HEADER_LEN 8
struct udp_header {
    be16 udp_src;
    be16 udp_dst;
    be16 udp_len;
    be16 udp_csum;
};
BUILD_ASSERT(sizeof(struct udp_header) == UDP_HEADER_LEN);

#define TCP_HEADER_LEN 20
struct tcp_header {
    be16 tcp_src;
    be16 tcp_dst;
    be32_16 tcp_seq;
    be32_16 tcp_ack;
    be16 tcp_ctl;               /* Data offset (high 4 bits) and flags. */
    be16 tcp_winsz;
    be16 tcp_csum;
    be16 tcp_urg;
};
BUILD_ASSERT(sizeof(struct tcp_header) == TCP_HEADER_LEN);

#define ICMP_HEADER_LEN 4
struct icmp_header {
    uint8_t icmp_type;
    uint8_t icmp_code;
    be16 icmp_csum;
};
BUILD_ASSERT(sizeof(struct icmp_header) == ICMP_HEADER_LEN);

/* RFC 7348 section 5: 8 flag bits (only I is defined), 24 reserved bits,
 * the 24-bit VNI and 8 more reserved bits. */
#define VXLAN_HEADER_LEN 8
struct vxlan_header {
    be32_16 vx_flags;           /* I flag is 0x08000000; the rest reserved. */
    be32_16 vx_vni;             /* VNI in the high 24 bits. */
};
BUILD_ASSERT(sizeof(struct vxlan_header) == VXLAN_HEADER_LEN);

#define VXLAN_FLAG_I 0x08000000
#define VXLAN_VNI_MAX 0xffffff
#define VXLAN_DST_PORT 4789
#define VXLAN_DST_PORT_LEGACY 8472

/* What encapsulation puts in front of an inner frame. */
#define VXLAN_IPV4_OVERHEAD \
    (ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN)
#define VXLAN_IPV6_OVERHEAD \
    (ETH_HEADER_LEN + IPV6_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN)
BUILD_ASSERT(VXLAN_IPV4_OVERHEAD == 50);
BUILD_ASSERT(VXLAN_IPV6_OVERHEAD == 70);

#endif /* datapath/headers.h */
