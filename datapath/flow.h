#ifndef DATAPATH_FLOW_H
#define DATAPATH_FLOW_H 1

#include <netinet/in.h>
#include <stdint.h>

#include "byte-order.h"
#include "eth-addr.h"

struct packet;

/* The fields of a frame that forwarding and flow rules look at.  Fields of
 * layers the parser did not reach are zero, and 'layers' says how far it
 * got, so that a truncated frame still yields everything that was valid. */

enum flow_layer {
    FLOW_LAYER_NONE = 0,        /* Not even a whole Ethernet header. */
    FLOW_LAYER_L2 = 1,          /* Ethernet (and VLAN) fields are valid. */
    FLOW_LAYER_L3 = 2,          /* Also ARP or IP fields. */
    FLOW_LAYER_L4 = 3,          /* Also transport ports (or ICMP type). */
};

/* Why parsing stopped short of the transport layer, for counters and for
 * debugging; FLOW_OK if nothing was wrong (a frame may have no L4 at all). */
enum flow_error {
    FLOW_OK = 0,
    FLOW_ERR_TRUNCATED,         /* A header ran past the captured length. */
    FLOW_ERR_BAD_L3,            /* An IP header is inconsistent. */
};

/* Set in vlan_tci of a tagged frame, so that a tag of all zeros still
 * differs from no tag (the Open vSwitch convention: the DEI bit is given
 * up for it). */
#define FLOW_VLAN_PRESENT 0x1000

/* dl_type of an 802.3 frame, whose type field is a length. */
#define FLOW_DL_TYPE_NONE 0x05ff

#define FLOW_NW_FRAG_ANY 0x01   /* Any fragment. */
#define FLOW_NW_FRAG_LATER 0x02 /* A fragment with nonzero offset. */

/* Laid out so that it is a whole number of 64-bit words with no padding:
 * the classifier and the exact-match cache hash and compare keys (and
 * masks, which are flow_keys too) a word at a time.  flow_extract() zeroes
 * every byte first. */
struct flow_key {
    uint32_t in_port;
    uint32_t vni;               /* tun_id: the VXLAN header's, or the input
                                 * port's binding. */

    /* Outer addresses of a decapsulated frame (IPv4-mapped), else zero. */
    struct in6_addr tun_src;
    struct in6_addr tun_dst;

    struct eth_addr dl_dst;
    struct eth_addr dl_src;
    be16 dl_type;               /* After VLAN tags; FLOW_DL_TYPE_NONE. */
    be16 vlan_tci;              /* Outer tag | FLOW_VLAN_PRESENT, or 0. */

    /* IPv4 (IPv4-mapped), IPv6, or the ARP sender and target addresses. */
    struct in6_addr nw_src;
    struct in6_addr nw_dst;
    uint8_t nw_proto;           /* IP protocol, or the low byte of ARP op. */
    uint8_t nw_tos;
    uint8_t nw_ttl;
    uint8_t nw_frag;            /* FLOW_NW_FRAG_* bits. */

    be16 tp_src;                /* Transport ports; ICMP type and code. */
    be16 tp_dst;

    struct eth_addr arp_sha;
    struct eth_addr arp_tha;
    be16 tcp_flags;             /* The low 12 bits of TCP's flags word. */

    uint8_t layers;             /* enum flow_layer; never matched on. */
    uint8_t error;              /* enum flow_error; never matched on. */
} __attribute__((aligned(8)));

#define FLOW_KEY_U64S (sizeof (struct flow_key) / 8)

/* Word access to a key or mask, without breaking the aliasing rules. */
typedef uint64_t flow_u64 __attribute__((__may_alias__));

static inline const flow_u64 *
flow_key_u64s(const struct flow_key *key)
{
    return (const flow_u64 *) key;
}

/* Parses the frame in 'p' into 'key', never reading past its size and never
 * trusting a length field beyond it.  Also records in p->md the L3 and L4
 * offsets and the transport protocol, and marks it parsed (packet.h), so
 * that segmentation, GRO and checksum offload find the headers without
 * parsing again.  Returns how far it got. */
enum flow_layer flow_extract(struct packet *p, struct flow_key *key);

/* Replaces the frame in 'p' with one that flow_extract() turns back into
 * 'key' (the frame 'trace' follows: what the key leaves zero is zero in
 * the frame; lengths and checksums are valid), and sets p's in_port, VNI
 * and tunnel addresses from it.  Returns 0 or EMSGSIZE. */
int flow_compose(struct packet *p, const struct flow_key *key);

/* flow_extract(), and records in p->md the flow hash of the key as well,
 * flow_hash_5tuple() with a basis chosen at random once per process, so
 * that whoever parses a frame first leaves its hash (for the UDP source
 * port of encapsulation) with its offsets. */
void flow_extract_hashed(struct packet *p, struct flow_key *key);

/* Makes p->md describe the headers of the frame in 'p' and hold its flow
 * hash: flow_extract_hashed(), with a key of its own that it throws away,
 * unless the frame is already parsed.  For whoever needs the header
 * offsets but not the key (segmentation, GRO, checksum offload, a port
 * checking a super frame on receive); the datapath, which needs the key
 * too, extracts it before anything else needs it. */
void flow_parse(struct packet *p);

/* Returns the flow hash of 'p' (flow_extract_hashed()'s), parsing it
 * first if no one did: for whoever needs the hash and the header offsets
 * but not the key, such as encapsulation with no flow rule looking at
 * frames.  The common frame (untagged IPv4 TCP or UDP) is parsed straight
 * into p->md, without a key. */
uint32_t flow_hash(struct packet *p);

/* Returns a hash of the flow's addresses, protocol and ports (the same in
 * both directions is not promised), mixed with 'basis'. */
uint32_t flow_hash_5tuple(const struct flow_key *key, uint64_t basis);

#endif /* datapath/flow.h */
