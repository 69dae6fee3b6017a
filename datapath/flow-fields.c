#include <config.h>

#include "flow-fields.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "headers.h"
#include "util.h"

/* The table below names slots, prerequisites and kinds without their
 * prefixes, to stay readable. */
#define OFS(MEMBER) offsetof(struct flow_key, MEMBER)
#define WIDTH(MEMBER) sizeof ((struct flow_key *) 0)->MEMBER
#define INT(NAME, SLOT, PREREQ, MEMBER, BE, MASKABLE, HEX, MAX, PRINT)  \
    { NAME, FLOW_FIELD_INT, FLOW_SLOT_##SLOT, FLOW_PREREQ_##PREREQ,     \
      OFS(MEMBER), WIDTH(MEMBER), BE, MASKABLE, HEX, MAX,               \
      FLOW_PREREQ_##PRINT }
#define OTHER(NAME, KIND, SLOT, PREREQ, MEMBER, MASKABLE, PRINT)        \
    { NAME, FLOW_FIELD_##KIND, FLOW_SLOT_##SLOT, FLOW_PREREQ_##PREREQ,  \
      OFS(MEMBER), WIDTH(MEMBER), false, MASKABLE, false, 0,            \
      FLOW_PREREQ_##PRINT }

const struct flow_field flow_fields[] = {
    INT("tun_id", TUN_ID, NONE, vni, false, true, true, 0xffffff, NONE),
    OTHER("tun_src", TUN_IP, TUN_SRC, NONE, tun_src, true, NONE),
    OTHER("tun_dst", TUN_IP, TUN_DST, NONE, tun_dst, true, NONE),
    OTHER("in_port", IN_PORT, IN_PORT, NONE, in_port, false, NONE),
    OTHER("dl_vlan", VLAN_VID, VLAN_VID, NONE, vlan_tci, false, NONE),
    OTHER("dl_vlan_pcp", VLAN_PCP, VLAN_PCP, NONE, vlan_tci, false, NONE),
    OTHER("dl_src", MAC, DL_SRC, NONE, dl_src, true, NONE),
    OTHER("dl_dst", MAC, DL_DST, NONE, dl_dst, true, NONE),
    INT("dl_type", DL_TYPE, NONE, dl_type, true, false, true, 0xffff, NONE),
    OTHER("nw_src", IPV4, NW_SRC, IPV4_ARP, nw_src, true, IPV4),
    OTHER("arp_spa", IPV4, NW_SRC, ARP, nw_src, true, ARP),
    OTHER("nw_dst", IPV4, NW_DST, IPV4_ARP, nw_dst, true, IPV4),
    OTHER("arp_tpa", IPV4, NW_DST, ARP, nw_dst, true, ARP),
    OTHER("ipv6_src", IPV6, NW_SRC, IPV6, nw_src, true, IPV6),
    OTHER("ipv6_dst", IPV6, NW_DST, IPV6, nw_dst, true, IPV6),
    INT("nw_proto", NW_PROTO, IP_ARP, nw_proto, false, false, false, 0xff,
        IP),
    INT("arp_op", NW_PROTO, ARP, nw_proto, false, false, false, 0xff, ARP),
    OTHER("arp_sha", MAC, ARP_SHA, ARP, arp_sha, true, NONE),
    OTHER("arp_tha", MAC, ARP_THA, ARP, arp_tha, true, NONE),
    OTHER("nw_tos", TOS, NW_TOS, IP, nw_tos, false, NONE),
    OTHER("ip_dscp", DSCP, NW_TOS, IP, nw_tos, false, NEVER),
    INT("nw_ttl", NW_TTL, IP, nw_ttl, false, false, false, 0xff, NONE),
    INT("tp_src", TP_SRC, TCP_UDP, tp_src, true, true, false, 0xffff,
        TCP_UDP),
    INT("tp_dst", TP_DST, TCP_UDP, tp_dst, true, true, false, 0xffff,
        TCP_UDP),
    INT("icmp_type", TP_SRC, ICMP, tp_src, true, false, false, 0xff, ICMP),
    INT("icmp_code", TP_DST, ICMP, tp_dst, true, false, false, 0xff, ICMP),
    OTHER("tcp_flags", TCP_FLAGS, TCP_FLAGS, TCP, tcp_flags, true, NONE),
};

const struct flow_shorthand flow_fields_shorthands[] = {
    { "tcp", ETH_TYPE_IPV4, IPPROTO_TCP },
    { "udp", ETH_TYPE_IPV4, IPPROTO_UDP },
    { "icmp", ETH_TYPE_IPV4, IPPROTO_ICMP },
    { "tcp6", ETH_TYPE_IPV6, IPPROTO_TCP },
    { "udp6", ETH_TYPE_IPV6, IPPROTO_UDP },
    { "icmp6", ETH_TYPE_IPV6, IPPROTO_ICMPV6 },
    { "ip", ETH_TYPE_IPV4, -1 },
    { "ipv6", ETH_TYPE_IPV6, -1 },
    { "arp", ETH_TYPE_ARP, -1 },
};

const char *const flow_fields_tcp_flag_names[] = {
    "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
    "[200]", "[400]", "[800]",
};

BUILD_ASSERT(ARRAY_SIZE(flow_fields) == FLOW_FIELDS_N);
BUILD_ASSERT(ARRAY_SIZE(flow_fields_shorthands) == FLOW_FIELDS_N_SHORTHANDS);
BUILD_ASSERT(ARRAY_SIZE(flow_fields_tcp_flag_names)
             == FLOW_FIELDS_N_TCP_FLAGS);

uint8_t *
flow_fields_bytes(struct flow_key *k, const struct flow_field *f)
{
    return (uint8_t *) k + f->offset;
}

const uint8_t *
flow_fields_cbytes(const struct flow_key *k, const struct flow_field *f)
{
    return (const uint8_t *) k + f->offset;
}

uint32_t
flow_fields_get_int(const struct flow_key *k, const struct flow_field *f)
{
    const uint8_t *b = flow_fields_cbytes(k, f);
    uint16_t v16;
    uint32_t v32;

    switch (f->width) {
    case 1:
        return *b;
    case 2:
        memcpy(&v16, b, sizeof v16);
        return f->be ? ntohs(v16) : v16;
    default:
        memcpy(&v32, b, sizeof v32);
        return f->be ? ntohl(v32) : v32;
    }
}

void
flow_fields_put_int(struct flow_key *k, const struct flow_field *f, uint32_t v)
{
    uint8_t *b = flow_fields_bytes(k, f);
    uint16_t v16 = f->be ? htons((uint16_t) v) : (uint16_t) v;
    uint32_t v32 = f->be ? htonl(v) : v;

    switch (f->width) {
    case 1:
        *b = (uint8_t) v;
        break;
    case 2:
        memcpy(b, &v16, sizeof v16);
        break;
    default:
        memcpy(b, &v32, sizeof v32);
        break;
    }
}

uint32_t
flow_fields_full_mask(const struct flow_field *f)
{
    return f->maskable ? f->max : (uint32_t) (UINT64_C(1) << (8 * f->width))
                                  - 1;
}

uint16_t
flow_fields_tci(const struct flow_key *k)
{
    return ntohs(k->vlan_tci);
}

bool
flow_fields_no_tag(const struct match *m)
{
    return flow_fields_tci(&m->mask) == 0xffff && !flow_fields_tci(&m->key);
}

bool
flow_fields_dl_type_is(const struct match *m, uint16_t dl_type)
{
    return m->mask.dl_type == htons(0xffff)
           && m->key.dl_type == htons(dl_type);
}

bool
flow_fields_nw_proto_is(const struct match *m, uint8_t nw_proto)
{
    return m->mask.nw_proto == 0xff && m->key.nw_proto == nw_proto;
}

bool
flow_fields_prereq_ok(const struct match *m, enum flow_prereq prereq)
{
    bool ip4 = flow_fields_dl_type_is(m, ETH_TYPE_IPV4);
    bool ip6 = flow_fields_dl_type_is(m, ETH_TYPE_IPV6);
    bool arp = flow_fields_dl_type_is(m, ETH_TYPE_ARP);

    switch (prereq) {
    case FLOW_PREREQ_NONE:
        return true;
    case FLOW_PREREQ_IP:
        return ip4 || ip6;
    case FLOW_PREREQ_IPV4:
        return ip4;
    case FLOW_PREREQ_IPV4_ARP:
        return ip4 || arp;
    case FLOW_PREREQ_IP_ARP:
        return ip4 || ip6 || arp;
    case FLOW_PREREQ_IPV6:
        return ip6;
    case FLOW_PREREQ_ARP:
        return arp;
    case FLOW_PREREQ_TCP_UDP:
        return (ip4 || ip6) && (flow_fields_nw_proto_is(m, IPPROTO_TCP)
                                || flow_fields_nw_proto_is(m, IPPROTO_UDP));
    case FLOW_PREREQ_TCP:
        return (ip4 || ip6) && flow_fields_nw_proto_is(m, IPPROTO_TCP);
    case FLOW_PREREQ_ICMP:
        return (ip4 && flow_fields_nw_proto_is(m, IPPROTO_ICMP))
               || (ip6 && flow_fields_nw_proto_is(m, IPPROTO_ICMPV6));
    case FLOW_PREREQ_NEVER:
    case FLOW_PREREQ_N:
    default:
        return false;
    }
}

const char *
flow_fields_prereq_text(enum flow_prereq prereq)
{
    static const char *const texts[FLOW_PREREQ_N] = {
        [FLOW_PREREQ_IP] = "ip or ipv6",
        [FLOW_PREREQ_IPV4] = "ip",
        [FLOW_PREREQ_IPV4_ARP] = "ip or arp",
        [FLOW_PREREQ_IP_ARP] = "ip, ipv6 or arp",
        [FLOW_PREREQ_IPV6] = "ipv6",
        [FLOW_PREREQ_ARP] = "arp",
        [FLOW_PREREQ_TCP_UDP] = "tcp, udp, tcp6 or udp6",
        [FLOW_PREREQ_TCP] = "tcp or tcp6",
        [FLOW_PREREQ_ICMP] = "icmp or icmp6",
    };

    return prereq < FLOW_PREREQ_N && texts[prereq] ? texts[prereq] : "?";
}
