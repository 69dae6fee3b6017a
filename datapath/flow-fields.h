#ifndef DATAPATH_FLOW_FIELDS_H
#define DATAPATH_FLOW_FIELDS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"

/* The match fields of the flow syntax: each name, where in a flow_key it
 * lives, how its value is written and what the rest of the match must say
 * for it to make sense (tp_dst needs tcp or udp...).  flow-text.c reads
 * fields with this table and flow-text-format.c prints them, so that the
 * two cannot disagree. */

/* How a field's value is written. */
enum flow_field_kind {
    FLOW_FIELD_INT,         /* A number, 'width' bytes, host or network
                             * order. */
    FLOW_FIELD_IN_PORT,     /* A port name or number. */
    FLOW_FIELD_MAC,         /* xx:xx:xx:xx:xx:xx[/mask]. */
    FLOW_FIELD_IPV4,        /* IPv4 only, in the last 4 bytes of an
                             * in6_addr. */
    FLOW_FIELD_IPV6,        /* IPv6 only. */
    FLOW_FIELD_TUN_IP,      /* Either family, IPv4-mapped. */
    FLOW_FIELD_VLAN_VID,    /* 0-4095, or 0xffff for "no tag". */
    FLOW_FIELD_VLAN_PCP,    /* 0-7; implies a tag. */
    FLOW_FIELD_TOS,         /* nw_tos: the DSCP bits of the TOS byte. */
    FLOW_FIELD_DSCP,        /* ip_dscp: nw_tos >> 2. */
    FLOW_FIELD_TCP_FLAGS,   /* Numbers or +flag-flag. */
};

/* What a field needs the rest of the match to say. */
enum flow_prereq {
    FLOW_PREREQ_NONE,
    FLOW_PREREQ_IP,         /* ip or ipv6. */
    FLOW_PREREQ_IPV4,       /* ip. */
    FLOW_PREREQ_IPV4_ARP,   /* ip or arp. */
    FLOW_PREREQ_IP_ARP,     /* ip, ipv6 or arp. */
    FLOW_PREREQ_IPV6,       /* ipv6. */
    FLOW_PREREQ_ARP,        /* arp. */
    FLOW_PREREQ_TCP_UDP,    /* tcp, udp, tcp6 or udp6. */
    FLOW_PREREQ_TCP,        /* tcp or tcp6. */
    FLOW_PREREQ_ICMP,       /* icmp or icmp6. */
    FLOW_PREREQ_NEVER,      /* Never satisfied. */
    FLOW_PREREQ_N
};

/* What a field stores into: two names for one place (nw_src and arp_spa)
 * share a slot, so that giving both is a duplicate.  The rule's own
 * settings have slots too, so that one check refuses every duplicate. */
enum flow_slot {
    FLOW_SLOT_IN_PORT, FLOW_SLOT_TUN_ID, FLOW_SLOT_TUN_SRC, FLOW_SLOT_TUN_DST,
    FLOW_SLOT_DL_SRC, FLOW_SLOT_DL_DST, FLOW_SLOT_DL_TYPE, FLOW_SLOT_VLAN_VID,
    FLOW_SLOT_VLAN_PCP, FLOW_SLOT_NW_SRC, FLOW_SLOT_NW_DST,
    FLOW_SLOT_NW_PROTO, FLOW_SLOT_NW_TOS, FLOW_SLOT_NW_TTL, FLOW_SLOT_TP_SRC,
    FLOW_SLOT_TP_DST, FLOW_SLOT_TCP_FLAGS, FLOW_SLOT_ARP_SHA,
    FLOW_SLOT_ARP_THA, FLOW_SLOT_TABLE, FLOW_SLOT_PRIORITY, FLOW_SLOT_COOKIE,
    FLOW_SLOT_IDLE, FLOW_SLOT_HARD, FLOW_SLOT_N
};

struct flow_field {
    const char *name;
    enum flow_field_kind kind;
    enum flow_slot slot;
    enum flow_prereq prereq;
    uint16_t offset;            /* Within struct flow_key. */
    uint8_t width;              /* Bytes. */
    bool be;                    /* FLOW_FIELD_INT: network order. */
    bool maskable;
    bool hex;                   /* FLOW_FIELD_INT: printed in hex. */
    uint32_t max;               /* FLOW_FIELD_INT: the largest value. */
    enum flow_prereq print_if;  /* Of the names of one slot, the one
                                 * printed is the one whose condition the
                                 * match satisfies. */
};

/* Every field, in the order they are printed. */
#define FLOW_FIELDS_N 27
extern const struct flow_field flow_fields[FLOW_FIELDS_N];

/* Shorthands for an Ethernet type and, for some, an IP protocol; those
 * with a protocol come first, as the printer prefers them. */
struct flow_shorthand {
    const char *name;
    uint16_t dl_type;
    int nw_proto;               /* -1 for none. */
};
#define FLOW_FIELDS_N_SHORTHANDS 9
extern const struct flow_shorthand
    flow_fields_shorthands[FLOW_FIELDS_N_SHORTHANDS];

/* The TCP flags by bit, as ovs-ofctl names them. */
#define FLOW_FIELDS_N_TCP_FLAGS 12
extern const char *const flow_fields_tcp_flag_names[FLOW_FIELDS_N_TCP_FLAGS];
#define FLOW_FIELDS_TCP_FLAGS_MASK 0xfff

/* vlan_tci's parts, and the TOS bits that nw_tos matches. */
#define FLOW_FIELDS_VID_MASK 0x0fff
#define FLOW_FIELDS_PCP_MASK 0xe000
#define FLOW_FIELDS_PCP_SHIFT 13
#define FLOW_FIELDS_NO_TAG 0xffff   /* dl_vlan's value for "no tag". */
#define FLOW_FIELDS_DSCP_MASK 0xfc

/* The bytes of field 'f' in 'k'. */
uint8_t *flow_fields_bytes(struct flow_key *k, const struct flow_field *f);
const uint8_t *flow_fields_cbytes(const struct flow_key *k,
                                  const struct flow_field *f);

/* The value of FLOW_FIELD_INT field 'f' of 'k', in host order, and its
 * setting. */
uint32_t flow_fields_get_int(const struct flow_key *k,
                             const struct flow_field *f);
void flow_fields_put_int(struct flow_key *k, const struct flow_field *f,
                         uint32_t v);

/* The mask of FLOW_FIELD_INT field 'f' given without one. */
uint32_t flow_fields_full_mask(const struct flow_field *f);

/* vlan_tci of 'k' in host order. */
uint16_t flow_fields_tci(const struct flow_key *k);

/* Says whether 'm' asks for frames without a VLAN tag (dl_vlan=0xffff). */
bool flow_fields_no_tag(const struct match *m);

/* Says whether 'm' matches exactly this dl_type, or this nw_proto. */
bool flow_fields_dl_type_is(const struct match *m, uint16_t dl_type);
bool flow_fields_nw_proto_is(const struct match *m, uint8_t nw_proto);

/* Says whether 'm' satisfies 'prereq', and says it in words ("tcp or
 * tcp6"). */
bool flow_fields_prereq_ok(const struct match *m, enum flow_prereq prereq);
const char *flow_fields_prereq_text(enum flow_prereq prereq);

#endif /* datapath/flow-fields.h */
