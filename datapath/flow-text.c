#include <config.h>

#include "flow-text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actions-text.h"
#include "flow-scan.h"
#include "headers.h"
#include "inet.h"
#include "util.h"

/* How a match field's value is written. */
enum kind {
    K_INT,          /* A number, 'width' bytes, host or network order. */
    K_IN_PORT,      /* A port name or number. */
    K_MAC,          /* xx:xx:xx:xx:xx:xx[/mask]. */
    K_IPV4,         /* IPv4 only, in the last 4 bytes of an in6_addr. */
    K_IPV6,         /* IPv6 only. */
    K_TUN_IP,       /* Either family, IPv4-mapped. */
    K_VLAN_VID,     /* 0-4095, or 0xffff for "no tag". */
    K_VLAN_PCP,     /* 0-7; implies a tag. */
    K_TOS,          /* nw_tos: the DSCP bits of the TOS byte. */
    K_DSCP,         /* ip_dscp: nw_tos >> 2. */
    K_TCP_FLAGS,    /* Numbers or +flag-flag. */
};

/* What a field needs the rest of the match to say. */
enum prereq {
    P_NONE, P_IP, P_IPV4, P_IPV4_ARP, P_IP_ARP, P_IPV6, P_ARP, P_TCP_UDP,
    P_TCP, P_ICMP, P_NEVER, N_PREREQS
};

/* What a field stores into: two names for one place (nw_src and arp_spa)
 * share a slot, so that giving both is a duplicate.  The rule's own
 * settings have slots too. */
enum slot {
    S_IN_PORT, S_TUN_ID, S_TUN_SRC, S_TUN_DST, S_DL_SRC, S_DL_DST,
    S_DL_TYPE, S_VLAN_VID, S_VLAN_PCP, S_NW_SRC, S_NW_DST, S_NW_PROTO,
    S_NW_TOS, S_NW_TTL, S_TP_SRC, S_TP_DST, S_TCP_FLAGS, S_ARP_SHA,
    S_ARP_THA, S_TABLE, S_PRIORITY, S_COOKIE, S_IDLE, S_HARD, N_SLOTS
};

struct field {
    const char *name;
    enum kind kind;
    enum slot slot;
    enum prereq prereq;
    uint16_t offset;            /* Within struct flow_key. */
    uint8_t width;              /* K_INT: 1, 2 or 4 bytes. */
    bool be;                    /* K_INT: network order. */
    bool maskable;
    bool hex;                   /* K_INT: printed in hex. */
    uint32_t max;               /* K_INT: the largest value. */
    enum prereq print_if;       /* Of the names of one slot, the one
                                 * printed. */
};

#define OFS(MEMBER) offsetof(struct flow_key, MEMBER)
#define INT(NAME, SLOT, PREREQ, MEMBER, BE, MASKABLE, HEX, MAX, PRINT)  \
    { NAME, K_INT, SLOT, PREREQ, OFS(MEMBER),                           \
      sizeof ((struct flow_key *) 0)->MEMBER, BE, MASKABLE, HEX, MAX,   \
      PRINT }
#define OTHER(NAME, KIND, SLOT, PREREQ, MEMBER, MASKABLE, PRINT)        \
    { NAME, KIND, SLOT, PREREQ, OFS(MEMBER),                            \
      sizeof ((struct flow_key *) 0)->MEMBER, false, MASKABLE, false, 0, \
      PRINT }

/* In the order they are printed. */
static const struct field fields[] = {
    INT("tun_id", S_TUN_ID, P_NONE, vni, false, true, true, 0xffffff,
        P_NONE),
    OTHER("tun_src", K_TUN_IP, S_TUN_SRC, P_NONE, tun_src, true, P_NONE),
    OTHER("tun_dst", K_TUN_IP, S_TUN_DST, P_NONE, tun_dst, true, P_NONE),
    OTHER("in_port", K_IN_PORT, S_IN_PORT, P_NONE, in_port, false, P_NONE),
    OTHER("dl_vlan", K_VLAN_VID, S_VLAN_VID, P_NONE, vlan_tci, false,
          P_NONE),
    OTHER("dl_vlan_pcp", K_VLAN_PCP, S_VLAN_PCP, P_NONE, vlan_tci, false,
          P_NONE),
    OTHER("dl_src", K_MAC, S_DL_SRC, P_NONE, dl_src, true, P_NONE),
    OTHER("dl_dst", K_MAC, S_DL_DST, P_NONE, dl_dst, true, P_NONE),
    INT("dl_type", S_DL_TYPE, P_NONE, dl_type, true, false, true, 0xffff,
        P_NONE),
    OTHER("nw_src", K_IPV4, S_NW_SRC, P_IPV4_ARP, nw_src, true, P_IPV4),
    OTHER("arp_spa", K_IPV4, S_NW_SRC, P_ARP, nw_src, true, P_ARP),
    OTHER("nw_dst", K_IPV4, S_NW_DST, P_IPV4_ARP, nw_dst, true, P_IPV4),
    OTHER("arp_tpa", K_IPV4, S_NW_DST, P_ARP, nw_dst, true, P_ARP),
    OTHER("ipv6_src", K_IPV6, S_NW_SRC, P_IPV6, nw_src, true, P_IPV6),
    OTHER("ipv6_dst", K_IPV6, S_NW_DST, P_IPV6, nw_dst, true, P_IPV6),
    INT("nw_proto", S_NW_PROTO, P_IP_ARP, nw_proto, false, false, false,
        0xff, P_IP),
    INT("arp_op", S_NW_PROTO, P_ARP, nw_proto, false, false, false, 0xff,
        P_ARP),
    OTHER("arp_sha", K_MAC, S_ARP_SHA, P_ARP, arp_sha, true, P_NONE),
    OTHER("arp_tha", K_MAC, S_ARP_THA, P_ARP, arp_tha, true, P_NONE),
    OTHER("nw_tos", K_TOS, S_NW_TOS, P_IP, nw_tos, false, P_NONE),
    OTHER("ip_dscp", K_DSCP, S_NW_TOS, P_IP, nw_tos, false, P_NEVER),
    INT("nw_ttl", S_NW_TTL, P_IP, nw_ttl, false, false, false, 0xff,
        P_NONE),
    INT("tp_src", S_TP_SRC, P_TCP_UDP, tp_src, true, true, false, 0xffff,
        P_TCP_UDP),
    INT("tp_dst", S_TP_DST, P_TCP_UDP, tp_dst, true, true, false, 0xffff,
        P_TCP_UDP),
    INT("icmp_type", S_TP_SRC, P_ICMP, tp_src, true, false, false, 0xff,
        P_ICMP),
    INT("icmp_code", S_TP_DST, P_ICMP, tp_dst, true, false, false, 0xff,
        P_ICMP),
    OTHER("tcp_flags", K_TCP_FLAGS, S_TCP_FLAGS, P_TCP, tcp_flags, true,
          P_NONE),
};

/* Shorthands for an Ethernet type and, for some, an IP protocol. */
static const struct shorthand {
    const char *name;
    uint16_t dl_type;
    int nw_proto;               /* -1 for none. */
} shorthands[] = {
    /* Those with a protocol first, which the printer prefers. */
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

/* The TCP flags by bit, as ovs-ofctl names them. */
static const char *const tcp_flag_names[] = {
    "fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
    "[200]", "[400]", "[800]",
};
#define TCP_FLAGS_MASK 0xfff

#define VLAN_VID_MASK 0x0fff
#define VLAN_PCP_MASK 0xe000
#define VLAN_PCP_SHIFT 13
#define VLAN_NO_TAG 0xffff      /* dl_vlan's value for "no tag". */
#define TOS_DSCP_MASK 0xfc

/* What flow_text_parse() keeps while it reads one line. */
struct parser {
    enum flow_text_mode mode;
    const struct flow_text_ports *ports;
    struct flow_spec *spec;
    struct ds *error;
    const char *given[N_SLOTS];         /* Who set each slot, or NULL. */
    bool no_tag;                        /* dl_vlan=0xffff. */
    bool field_given[ARRAY_SIZE(fields)];
};

/* Appends "NAME: MESSAGE" to the parse's error and returns false. */
#define bad(PARSE, ...) flow_scan_error((PARSE)->error, __VA_ARGS__)

static const char *
mode_name(enum flow_text_mode mode)
{
    switch (mode) {
    case FLOW_TEXT_ADD:
        return "a rule to add";
    case FLOW_TEXT_MODIFY:
        return "mod-flows";
    case FLOW_TEXT_FILTER:
        return "a filter (del-flows, dump-flows)";
    case FLOW_TEXT_TRACE:
    default:
        return "a trace";
    }
}

/* Marks 'slot' as set by 'name', refusing a second setting. */
static bool
claim(struct parser *p, enum slot slot, const char *name)
{
    const char *by = p->given[slot];

    if (by) {
        return !strcmp(by, name) ? bad(p, name, "given twice")
                                 : bad(p, name, "sets the same field as %s",
                                       by);
    }
    p->given[slot] = name;
    return true;
}

static uint8_t *
field_bytes(struct flow_key *k, const struct field *f)
{
    return (uint8_t *) k + f->offset;
}

static const uint8_t *
field_cbytes(const struct flow_key *k, const struct field *f)
{
    return (const uint8_t *) k + f->offset;
}

static uint32_t
int_get(const struct flow_key *k, const struct field *f)
{
    const uint8_t *b = field_cbytes(k, f);
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

static void
int_put(struct flow_key *k, const struct field *f, uint32_t v)
{
    uint8_t *b = field_bytes(k, f);
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

/* The mask of a field given without one: all of its bits. */
static uint32_t
int_full_mask(const struct field *f)
{
    return f->maskable ? f->max : (uint32_t) (UINT64_C(1) << (8 * f->width))
                                  - 1;
}

static uint16_t
tci_get(const struct flow_key *k)
{
    return ntohs(k->vlan_tci);
}

/* Says whether 'm' asks for frames without a VLAN tag (dl_vlan=0xffff). */
static bool
match_no_tag(const struct match *m)
{
    return tci_get(&m->mask) == 0xffff && !tci_get(&m->key);
}

static bool
dl_type_is(const struct match *m, uint16_t dl_type)
{
    return m->mask.dl_type == htons(0xffff)
           && m->key.dl_type == htons(dl_type);
}

static bool
nw_proto_is(const struct match *m, uint8_t nw_proto)
{
    return m->mask.nw_proto == 0xff && m->key.nw_proto == nw_proto;
}

static bool
prereq_ok(const struct match *m, enum prereq prereq)
{
    bool ip4 = dl_type_is(m, ETH_TYPE_IPV4);
    bool ip6 = dl_type_is(m, ETH_TYPE_IPV6);
    bool arp = dl_type_is(m, ETH_TYPE_ARP);

    switch (prereq) {
    case P_NONE:
        return true;
    case P_IP:
        return ip4 || ip6;
    case P_IPV4:
        return ip4;
    case P_IPV4_ARP:
        return ip4 || arp;
    case P_IP_ARP:
        return ip4 || ip6 || arp;
    case P_IPV6:
        return ip6;
    case P_ARP:
        return arp;
    case P_TCP_UDP:
        return (ip4 || ip6) && (nw_proto_is(m, IPPROTO_TCP)
                                || nw_proto_is(m, IPPROTO_UDP));
    case P_TCP:
        return (ip4 || ip6) && nw_proto_is(m, IPPROTO_TCP);
    case P_ICMP:
        return (ip4 && nw_proto_is(m, IPPROTO_ICMP))
               || (ip6 && nw_proto_is(m, IPPROTO_ICMPV6));
    case P_NEVER:
    case N_PREREQS:
    default:
        return false;
    }
}

static const char *
prereq_text(enum prereq prereq)
{
    static const char *const texts[N_PREREQS] = {
        [P_IP] = "ip or ipv6",
        [P_IPV4] = "ip",
        [P_IPV4_ARP] = "ip or arp",
        [P_IP_ARP] = "ip, ipv6 or arp",
        [P_IPV6] = "ipv6",
        [P_ARP] = "arp",
        [P_TCP_UDP] = "tcp, udp, tcp6 or udp6",
        [P_TCP] = "tcp or tcp6",
        [P_ICMP] = "icmp or icmp6",
    };

    return prereq < N_PREREQS && texts[prereq] ? texts[prereq] : "?";
}

/* Sets the first 'len' bits of the 'n' bytes of 'mask'. */
static void
prefix_to_mask(uint8_t *mask, size_t n, unsigned int len)
{
    for (size_t i = 0; i < n; i++, len = len > 8 ? len - 8 : 0) {
        mask[i] = len >= 8 ? 0xff : (uint8_t) (0xff00 >> len);
    }
}

/* Returns the prefix length of the 'n' bytes of 'mask', or -1 if its ones
 * are not a prefix. */
static int
mask_to_prefix(const uint8_t *mask, size_t n)
{
    int len = 0;
    size_t i = 0;

    for (; i < n && mask[i] == 0xff; i++) {
        len += 8;
    }
    if (i < n) {
        uint8_t b = mask[i++];

        while (b & 0x80) {
            b = (uint8_t) (b << 1);
            len++;
        }
        if (b) {
            return -1;
        }
    }
    for (; i < n; i++) {
        if (mask[i]) {
            return -1;
        }
    }
    return len;
}

static bool
all_ones(const uint8_t *b, size_t n)
{
    return mask_to_prefix(b, n) == (int) (8 * n);
}

static bool
all_zeros(const uint8_t *b, size_t n)
{
    return !mask_to_prefix(b, n) && (!n || !b[0]);
}

/* Splits "VALUE/MASK" at the slash; returns the mask or NULL. */
static char *
split_mask(char *value)
{
    char *slash = strchr(value, '/');

    if (slash) {
        *slash++ = '\0';
    }
    return slash;
}

static bool
parse_int(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    char *mask = split_mask(value);
    uint64_t v, mk = int_full_mask(f);

    if (!flow_scan_uint(value, f->max, &v)) {
        return bad(p, f->name, f->hex ? "'%s' is not a number from 0 to %#x"
                                      : "'%s' is not a number from 0 to %u",
                   value, f->max);
    }
    if (mask && !flow_scan_uint(mask, f->max, &mk)) {
        return bad(p, f->name, "'%s' is not a mask from 0 to %#x", mask,
                   f->max);
    }
    int_put(&m->key, f, (uint32_t) v);
    int_put(&m->mask, f, (uint32_t) mk);
    return true;
}

static bool
parse_mac(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    struct eth_addr *key = (struct eth_addr *) field_bytes(&m->key, f);
    struct eth_addr *mk = (struct eth_addr *) field_bytes(&m->mask, f);
    char *mask = split_mask(value);

    if (!eth_addr_parse(value, key)) {
        return bad(p, f->name, "'%s' is not a MAC address", value);
    }
    if (!mask) {
        memset(mk, 0xff, sizeof *mk);
    } else if (!eth_addr_parse(mask, mk)) {
        return bad(p, f->name, "'%s' is not a MAC mask", mask);
    }
    return true;
}

/* Parses "ADDRESS[/LENGTH|/MASK]" of 'family' into the 4 or 16 bytes of
 * 'key' and 'mask'. */
static bool
parse_ip(struct parser *p, const struct field *f, char *value, int family,
         uint8_t *key, uint8_t *mask)
{
    size_t n = family == AF_INET ? 4 : 16;
    char *slash = split_mask(value);
    uint64_t len;

    if (inet_pton(family, value, key) != 1) {
        return bad(p, f->name, "'%s' is not an %s address", value,
                   family == AF_INET ? "IPv4" : "IPv6");
    }
    if (!slash) {
        memset(mask, 0xff, n);
    } else if (flow_scan_uint(slash, 8 * n, &len)) {
        prefix_to_mask(mask, n, (unsigned int) len);
    } else if (inet_pton(family, slash, mask) != 1) {
        return bad(p, f->name, "'%s' is not a prefix length (0 to %zu) nor "
                   "an %s mask", slash, 8 * n,
                   family == AF_INET ? "IPv4" : "IPv6");
    }
    return true;
}

static bool
parse_addr(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint8_t *key = field_bytes(&m->key, f);
    uint8_t *mask = field_bytes(&m->mask, f);
    bool v4 = (f->kind == K_IPV4
               || (f->kind == K_TUN_IP && !strchr(value, ':')));

    if (!v4) {
        return parse_ip(p, f, value, AF_INET6, key, mask);
    }
    if (f->kind == K_TUN_IP) {
        /* Tunnel addresses of either family share the field: the IPv4
         * ones are told apart by their mapped prefix.  nw_src needs no
         * prefix, since dl_type says which family it holds. */
        memset(mask, 0xff, 12);
        key[10] = key[11] = 0xff;
    }
    return parse_ip(p, f, value, AF_INET, key + 12, mask + 12);
}

static bool
parse_in_port(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;

    if (!flow_scan_port(value, p->ports, &m->key.in_port)) {
        return bad(p, f->name, "'%s' is no port", value);
    }
    m->mask.in_port = UINT32_MAX;
    return true;
}

static void
tci_or(struct flow_key *k, uint16_t bits)
{
    k->vlan_tci = htons(tci_get(k) | bits);
}

static bool
parse_vlan(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint64_t v;

    if (f->kind == K_VLAN_PCP) {
        if (!flow_scan_uint(value, 7, &v)) {
            return bad(p, f->name, "'%s' is not a priority from 0 to 7",
                       value);
        }
        tci_or(&m->key, (uint16_t) (v << VLAN_PCP_SHIFT) | FLOW_VLAN_PRESENT);
        tci_or(&m->mask, VLAN_PCP_MASK | FLOW_VLAN_PRESENT);
        return true;
    }
    if (!flow_scan_uint(value, 0xffff, &v)
        || (v > VLAN_VID_MASK && v != VLAN_NO_TAG)) {
        return bad(p, f->name, "'%s' is not a VLAN ID from 0 to 4095 (or "
                   "0xffff for no tag)", value);
    }
    if (v == VLAN_NO_TAG) {
        p->no_tag = true;
        m->mask.vlan_tci = htons(0xffff);
    } else {
        tci_or(&m->key, (uint16_t) v | FLOW_VLAN_PRESENT);
        tci_or(&m->mask, VLAN_VID_MASK | FLOW_VLAN_PRESENT);
    }
    return true;
}

static bool
parse_tos(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint64_t v;

    if (f->kind == K_DSCP) {
        if (!flow_scan_uint(value, 63, &v)) {
            return bad(p, f->name, "'%s' is not a number from 0 to 63",
                       value);
        }
        v <<= 2;
    } else if (!flow_scan_uint(value, 0xff, &v)) {
        return bad(p, f->name, "'%s' is not a number from 0 to 255", value);
    } else if (v & ~TOS_DSCP_MASK) {
        return bad(p, f->name, "%s has ECN bits (the low 2) set", value);
    }
    m->key.nw_tos = (uint8_t) v;
    m->mask.nw_tos = TOS_DSCP_MASK;
    return true;
}

/* Returns the bit of TCP flag 'name' (of 'len' bytes), or 0. */
static uint16_t
tcp_flag_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(tcp_flag_names); i++) {
        if (strlen(tcp_flag_names[i]) == len
            && !strncmp(tcp_flag_names[i], name, len)) {
            return (uint16_t) (1u << i);
        }
    }
    return 0;
}

static bool
parse_tcp_flags_number(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    char *mask = split_mask(value);
    uint64_t v, mk = TCP_FLAGS_MASK;

    if (!flow_scan_uint(value, TCP_FLAGS_MASK, &v)
        || (mask && !flow_scan_uint(mask, TCP_FLAGS_MASK, &mk))) {
        return bad(p, f->name, "'%s%s%s' is not VALUE[/MASK] of at most "
                   "0xfff", value, mask ? "/" : "", mask ? mask : "");
    }
    m->key.tcp_flags = htons((uint16_t) v);
    m->mask.tcp_flags = htons((uint16_t) mk);
    return true;
}

/* "+syn-ack": each flag named is matched, set (+) or not (-).
 * "syn|ack" (or a number): exactly these flags are set. */
static bool
parse_tcp_flags(struct parser *p, const struct field *f, char *value)
{
    struct match *m = &p->spec->match;
    bool masked = value[0] == '+' || value[0] == '-';
    uint16_t flags = 0, mask = masked ? 0 : TCP_FLAGS_MASK;
    const char *s = value;

    if (isdigit((unsigned char) value[0])) {
        return parse_tcp_flags_number(p, f, value);
    }
    if (!*value) {
        return bad(p, f->name, "'' is not VALUE[/MASK] nor flags");
    }
    if (masked && p->mode == FLOW_TEXT_TRACE) {
        return bad(p, f->name, "no mask in %s", mode_name(p->mode));
    }
    while (*s) {
        bool set = *s != '-';
        size_t len;
        uint16_t bit;

        s += masked;
        len = strcspn(s, masked ? "+-" : "|");
        bit = tcp_flag_bit(s, len);
        if (!bit) {
            return bad(p, f->name, "unknown flag '%.*s' (fin, syn, rst, psh, "
                       "ack, urg, ece, cwr, ns)", (int) len, s);
        }
        if ((masked ? mask : flags) & bit) {
            return bad(p, f->name, "flag '%.*s' given twice", (int) len, s);
        }
        flags |= set ? bit : 0;
        mask |= bit;
        s += len;
        if (!masked && *s == '|' && *++s == '\0') {
            return bad(p, f->name, "'%s' ends with '|'", value);
        }
        if (masked && *s && *s != '+' && *s != '-') {
            return bad(p, f->name, "'%s' is not +FLAG-FLAG...", value);
        }
    }
    m->key.tcp_flags = htons(flags);
    m->mask.tcp_flags = htons(mask);
    return true;
}

static bool
parse_field(struct parser *p, const struct field *f, char *value)
{
    if (!claim(p, f->slot, f->name)) {
        return false;
    }
    p->field_given[f - fields] = true;
    if (strchr(value, '/')) {
        if (p->mode == FLOW_TEXT_TRACE) {
            return bad(p, f->name, "no mask in %s", mode_name(p->mode));
        }
        if (!f->maskable) {
            return bad(p, f->name, "cannot be masked");
        }
    }
    switch (f->kind) {
    case K_INT:
        return parse_int(p, f, value);
    case K_IN_PORT:
        return parse_in_port(p, f, value);
    case K_MAC:
        return parse_mac(p, f, value);
    case K_IPV4:
    case K_IPV6:
    case K_TUN_IP:
        return parse_addr(p, f, value);
    case K_VLAN_VID:
    case K_VLAN_PCP:
        return parse_vlan(p, f, value);
    case K_TOS:
    case K_DSCP:
        return parse_tos(p, f, value);
    case K_TCP_FLAGS:
    default:
        return parse_tcp_flags(p, f, value);
    }
}

static bool
parse_shorthand(struct parser *p, const char *name)
{
    struct match *m = &p->spec->match;

    for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
        const struct shorthand *sh = &shorthands[i];

        if (strcmp(name, sh->name)) {
            continue;
        }
        if (!claim(p, S_DL_TYPE, sh->name)
            || (sh->nw_proto >= 0 && !claim(p, S_NW_PROTO, sh->name))) {
            return false;
        }
        m->key.dl_type = htons(sh->dl_type);
        m->mask.dl_type = htons(0xffff);
        if (sh->nw_proto >= 0) {
            m->key.nw_proto = (uint8_t) sh->nw_proto;
            m->mask.nw_proto = 0xff;
        }
        return true;
    }
    return flow_scan_unknown(p->error, "field", name, strlen(name));
}

/* Parses 'value' of a setting of the rule itself ('name' in 'slot'),
 * which is a number up to 'max' that 'mode' may hold. */
static bool
parse_setting(struct parser *p, enum slot slot, const char *name,
              const char *value, uint64_t max, uint64_t *v)
{
    bool allowed = (p->mode == FLOW_TEXT_TRACE ? false
                    : slot == S_IDLE || slot == S_HARD
                    ? p->mode == FLOW_TEXT_ADD : true);

    if (!claim(p, slot, name)) {
        return false;
    }
    if (!allowed) {
        return bad(p, name, "not allowed in %s", mode_name(p->mode));
    }
    if (!flow_scan_uint(value, max, v)) {
        return bad(p, name, "'%s' is not a number from 0 to %"PRIu64, value,
                   max);
    }
    return true;
}

static bool
parse_cookie(struct parser *p, char *value)
{
    struct flow_spec *spec = p->spec;
    char *mask = split_mask(value);

    if (!parse_setting(p, S_COOKIE, "cookie", value, UINT64_MAX,
                       &spec->cookie)) {
        return false;
    }
    spec->cookie_mask = UINT64_MAX;
    if (!mask) {
        return true;
    }
    if (p->mode == FLOW_TEXT_ADD) {
        return bad(p, "cookie", "a mask selects rules; not allowed in %s",
                   mode_name(p->mode));
    }
    if (strcmp(mask, "-1")
        && !flow_scan_uint(mask, UINT64_MAX, &spec->cookie_mask)) {
        return bad(p, "cookie", "'%s' is not a 64-bit mask", mask);
    }
    spec->cookie &= spec->cookie_mask;
    return true;
}

/* Parses "key=value" other than actions=. */
static bool
parse_key_value(struct parser *p, const char *key, char *value)
{
    static const char *const ignored[] = {
        /* dump-flows prints these; they may come back in a flow file. */
        "duration", "n_packets", "n_bytes", "idle_age", "hard_age",
    };
    struct flow_spec *spec = p->spec;
    uint64_t v;

    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (!strcmp(key, fields[i].name)) {
            return parse_field(p, &fields[i], value);
        }
    }
    if (!strcmp(key, "table")) {
        if (!parse_setting(p, S_TABLE, key, value, FLOW_TEXT_MAX_TABLE, &v)) {
            return false;
        }
        spec->table = (int) v;
    } else if (!strcmp(key, "priority")) {
        if (!parse_setting(p, S_PRIORITY, key, value, UINT16_MAX, &v)) {
            return false;
        }
        spec->priority = (uint16_t) v;
        spec->has_priority = true;
    } else if (!strcmp(key, "cookie")) {
        return parse_cookie(p, value);
    } else if (!strcmp(key, "idle_timeout") || !strcmp(key, "hard_timeout")) {
        bool idle = key[0] == 'i';

        if (!parse_setting(p, idle ? S_IDLE : S_HARD, key, value,
                           UINT16_MAX, &v)) {
            return false;
        }
        *(idle ? &spec->idle_timeout : &spec->hard_timeout) = (uint16_t) v;
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(ignored); i++) {
            if (!strcmp(key, ignored[i])) {
                return true;
            }
        }
        return flow_scan_unknown(p->error, "field", key, strlen(key));
    }
    return true;
}

/* The checks that need the whole line. */
static bool
check_line(struct parser *p, const char *actions)
{
    const struct match *m = &p->spec->match;
    bool wants_actions = (p->mode == FLOW_TEXT_ADD
                          || p->mode == FLOW_TEXT_MODIFY);

    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct field *f = &fields[i];

        if (p->field_given[i] && !prereq_ok(m, f->prereq)) {
            return bad(p, f->name, "needs %s", prereq_text(f->prereq));
        }
    }
    if (p->given[S_VLAN_PCP] && p->no_tag) {
        return bad(p, "dl_vlan_pcp", "a frame without a tag "
                   "(dl_vlan=0xffff) has no priority");
    }
    if (wants_actions && !actions) {
        return bad(p, "actions", "missing: %s needs actions=",
                   mode_name(p->mode));
    }
    if (!wants_actions && actions) {
        return bad(p, "actions", "not allowed in %s", mode_name(p->mode));
    }
    return true;
}

#define SEPARATORS ", \t\r\n"

/* Parses the line in 'line', which it modifies. */
static int
parse_line(struct parser *p, char *line)
{
    char *s = line, *actions = NULL;

    for (;;) {
        size_t len;
        char *key;

        s += strspn(s, SEPARATORS);
        if (!*s) {
            break;
        }
        key = s;
        len = strcspn(s, "=" SEPARATORS);
        if (s[len] == '=') {
            char *value = s + len + 1;
            size_t vlen;

            key[len] = '\0';
            if (!strcmp(key, "actions")) {
                actions = value;
                break;
            }
            vlen = strcspn(value, SEPARATORS);
            s = value + vlen + (value[vlen] != '\0');
            value[vlen] = '\0';
            if (!parse_key_value(p, key, value)) {
                return EINVAL;
            }
        } else {
            s += len + (s[len] != '\0');
            key[len] = '\0';
            if (!parse_shorthand(p, key)) {
                return EINVAL;
            }
        }
    }
    if (!check_line(p, actions)) {
        return EINVAL;
    }
    match_normalize(&p->spec->match);
    return actions ? actions_text_parse(actions, p->spec->table, p->ports,
                                        &p->spec->actions, p->error)
                   : 0;
}

int
flow_text_parse(const char *text, enum flow_text_mode mode,
                const struct flow_text_ports *ports,
                struct flow_spec *spec, struct ds *error)
{
    struct parser p = {
        .mode = mode, .ports = ports, .spec = spec, .error = error,
    };
    char *line;
    int err;

    memset(spec, 0, sizeof *spec);
    spec->table = -1;
    spec->priority = FLOW_TEXT_DEFAULT_PRIORITY;
    match_init_catchall(&spec->match);

    line = strdup(text);
    if (!line) {
        return ENOMEM;
    }
    err = parse_line(&p, line);
    free(line);
    if (err) {
        flow_spec_uninit(spec);
    }
    return err;
}

void
flow_spec_uninit(struct flow_spec *spec)
{
    if (spec) {
        free(spec->actions);
        spec->actions = NULL;
    }
}

/* Formatting. */

/* Says whether 'f' is to be printed for 'm': the match looks at its bits,
 * and of the names of one slot 'f' is the one that fits the match. */
static bool
field_shown(const struct field *f, const struct match *m)
{
    uint16_t tci_mask = tci_get(&m->mask);

    if (!prereq_ok(m, f->print_if)) {
        return false;
    }
    switch (f->kind) {
    case K_VLAN_VID:
        return (tci_mask & VLAN_VID_MASK) || match_no_tag(m);
    case K_VLAN_PCP:
        return (tci_mask & VLAN_PCP_MASK) && !match_no_tag(m);
    case K_INT:
    case K_IN_PORT:
    case K_MAC:
    case K_IPV4:
    case K_IPV6:
    case K_TUN_IP:
    case K_TOS:
    case K_DSCP:
    case K_TCP_FLAGS:
    default:
        return !all_zeros(field_cbytes(&m->mask, f), f->width);
    }
}

static void
format_int(struct ds *s, const struct field *f, const struct match *m)
{
    uint32_t v = int_get(&m->key, f);
    uint32_t mask = int_get(&m->mask, f);

    if (mask != int_full_mask(f)) {
        ds_put_format(s, "%#"PRIx32"/%#"PRIx32, v, mask);
    } else if (f->hex) {
        ds_put_format(s, f->width == 2 ? "0x%04"PRIx32 : "%#"PRIx32, v);
    } else {
        ds_put_format(s, "%"PRIu32, v);
    }
}

static void
format_mac(struct ds *s, const struct field *f, const struct match *m)
{
    const struct eth_addr *key = (const void *) field_cbytes(&m->key, f);
    const struct eth_addr *mask = (const void *) field_cbytes(&m->mask, f);
    char buf[ETH_ADDR_STRLEN];

    ds_put_cstr(s, eth_addr_format(key, buf));
    if (!all_ones(mask->ea, ETH_ADDR_LEN)) {
        ds_put_format(s, "/%s", eth_addr_format(mask, buf));
    }
}

/* Appends the 4 or 16 bytes of 'key' and 'mask' of 'family': a prefix as
 * "/LEN", another mask in full. */
static void
format_ip(struct ds *s, int family, const uint8_t *key, const uint8_t *mask)
{
    size_t n = family == AF_INET ? 4 : 16;
    int len = mask_to_prefix(mask, n);
    char buf[INET_ADDR_STRLEN];

    ds_put_cstr(s, inet_ntop(family, key, buf, sizeof buf));
    if (len < 0) {
        ds_put_format(s, "/%s", inet_ntop(family, mask, buf, sizeof buf));
    } else if (len != (int) (8 * n)) {
        ds_put_format(s, "/%d", len);
    }
}

static void
format_addr(struct ds *s, const struct field *f, const struct match *m)
{
    static const uint8_t mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    const uint8_t *key = field_cbytes(&m->key, f);
    const uint8_t *mask = field_cbytes(&m->mask, f);
    bool v4 = (f->kind == K_IPV4
               || (f->kind == K_TUN_IP && all_ones(mask, 12)
                   && !memcmp(key, mapped, sizeof mapped)));

    if (v4) {
        format_ip(s, AF_INET, key + 12, mask + 12);
    } else {
        format_ip(s, AF_INET6, key, mask);
    }
}

static void
format_tcp_flags(struct ds *s, const struct match *m)
{
    uint16_t flags = ntohs(m->key.tcp_flags);
    uint16_t mask = ntohs(m->mask.tcp_flags);

    if (mask == TCP_FLAGS_MASK) {
        ds_put_format(s, "%#"PRIx16, flags);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(tcp_flag_names); i++) {
        if (mask & (1u << i)) {
            ds_put_format(s, "%c%s", flags & (1u << i) ? '+' : '-',
                          tcp_flag_names[i]);
        }
    }
}

static void
format_field(struct ds *s, const struct field *f, const struct match *m,
             const struct flow_text_ports *ports)
{
    uint16_t tci = tci_get(&m->key);

    ds_put_format(s, "%s=", f->name);
    switch (f->kind) {
    case K_INT:
        format_int(s, f, m);
        break;
    case K_IN_PORT:
        actions_text_format_port(s, m->key.in_port, ports);
        break;
    case K_MAC:
        format_mac(s, f, m);
        break;
    case K_IPV4:
    case K_IPV6:
    case K_TUN_IP:
        format_addr(s, f, m);
        break;
    case K_VLAN_VID:
        ds_put_format(s, match_no_tag(m) ? "%#x" : "%d",
                      match_no_tag(m) ? VLAN_NO_TAG : tci & VLAN_VID_MASK);
        break;
    case K_VLAN_PCP:
        ds_put_format(s, "%d", tci >> VLAN_PCP_SHIFT);
        break;
    case K_TOS:
    case K_DSCP:
        ds_put_format(s, "%d", m->key.nw_tos);
        break;
    case K_TCP_FLAGS:
    default:
        format_tcp_flags(s, m);
        break;
    }
}

/* Returns the shorthand that says what 'm' says of dl_type and nw_proto,
 * or NULL. */
static const struct shorthand *
find_shorthand(const struct match *m)
{
    for (size_t i = 0; i < ARRAY_SIZE(shorthands); i++) {
        const struct shorthand *sh = &shorthands[i];

        if (dl_type_is(m, sh->dl_type)
            && (sh->nw_proto < 0
                || nw_proto_is(m, (uint8_t) sh->nw_proto))) {
            return sh;
        }
    }
    return NULL;
}

static void
put_separator(struct ds *s, size_t start)
{
    if (s->length > start) {
        ds_put_char(s, ',');
    }
}

void
flow_text_format_match(struct ds *s, const struct match *m,
                       uint16_t priority,
                       const struct flow_text_ports *ports)
{
    const struct shorthand *sh = find_shorthand(m);
    size_t start = s->length;

    if (priority != FLOW_TEXT_DEFAULT_PRIORITY) {
        ds_put_format(s, "priority=%d", priority);
    }
    if (sh) {
        put_separator(s, start);
        ds_put_cstr(s, sh->name);
    }
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        const struct field *f = &fields[i];

        if (!field_shown(f, m)
            || (sh && f->slot == S_DL_TYPE)
            || (sh && sh->nw_proto >= 0 && f->slot == S_NW_PROTO)) {
            continue;
        }
        put_separator(s, start);
        format_field(s, f, m, ports);
    }
}

void
flow_text_format_actions(struct ds *s, const struct flow_actions *a,
                         const struct flow_text_ports *ports)
{
    actions_text_format(s, a, ports);
}

void
flow_text_format_spec(struct ds *s, const struct flow_spec *spec,
                      const struct flow_text_ports *ports)
{
    size_t start = s->length;
    size_t before, mark;

    if (spec->table >= 0) {
        ds_put_format(s, "table=%d", spec->table);
    }
    if (spec->cookie_mask) {
        put_separator(s, start);
        ds_put_format(s, "cookie=%#"PRIx64, spec->cookie);
        if (spec->cookie_mask != UINT64_MAX) {
            ds_put_format(s, "/%#"PRIx64, spec->cookie_mask);
        }
    }
    if (spec->idle_timeout) {
        put_separator(s, start);
        ds_put_format(s, "idle_timeout=%d", spec->idle_timeout);
    }
    if (spec->hard_timeout) {
        put_separator(s, start);
        ds_put_format(s, "hard_timeout=%d", spec->hard_timeout);
    }
    before = s->length;
    put_separator(s, start);
    mark = s->length;
    flow_text_format_match(s, &spec->match, spec->priority, ports);
    if (s->length == mark) {
        ds_truncate(s, before);
    }
    if (spec->actions) {
        if (s->length > start) {
            ds_put_char(s, ' ');
        }
        ds_put_cstr(s, "actions=");
        flow_text_format_actions(s, spec->actions, ports);
    }
}
