#ifndef DATAPATH_DP_PRIVATE_H
#define DATAPATH_DP_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp.h"
#include "hmap.h"
#include "list.h"
#include "packet.h"

/* The datapath's own structures, shared by dp.c (forwarding) and
 * dp-trace.c (what dp_trace() records); nothing outside them includes
 * this. */

struct emc;
struct eth_header;
struct flow_table;

struct dp_vni {
    struct hmap_node node;      /* In dp's 'vnis'. */
    uint32_t vni;
    bool has_group;
    struct in6_addr group;
    struct in6_addr *flood_list;    /* In use: 'oper_flood' and
                                     * 'evpn_vteps' together. */
    size_t n_flood;
    struct in6_addr *oper_flood;    /* The configuration's flood list. */
    size_t n_oper_flood;
    bool evpn;                      /* Its control plane is EVPN. */
    struct in6_addr *evpn_vteps;    /* From EVPN, sorted (dp-evpn.c). */
    size_t n_evpn_vteps;
    struct list ports;          /* Bound local ports: dp_port's 'vni_node'. */
    struct dp_counters counters;
};

struct dp_port {
    struct hmap_node node;      /* In dp's 'ports'. */
    uint32_t port_no;
    enum dp_port_kind kind;
    uint32_t offloads;          /* PORT_OFFLOAD_*: what it takes. */
    struct dp_vni *vni;         /* Local ports: the bound VNI, or NULL. */
    struct list vni_node;       /* In the VNI's 'ports' if bound. */
    struct packet_batch tx;     /* Frames waiting for the send callback. */
    struct list pending_node;   /* In dp's 'pending' while 'tx' has any. */
    struct dp_counters counters;

    /* Tunnel port only. */
    struct dp_tunnel_config tunnel;
    bool has_local;             /* tunnel.encap.local is an address: a port
                                 * without one is one whose device never
                                 * opened. */
    bool local_ipv4;            /* Of that address. */
};

/* Frames that met a rule in this batch, counted against it once the
 * batch is done. */
struct rule_hit {
    struct flow_rule *rule;
    uint64_t n_packets;
    uint64_t n_bytes;
};

#define DP_MAX_HITS 16

/* The MAC table's hashes of a batch's addresses: source and destination
 * of frame i at hashes[slot[i]] and the next, or slot[i] is
 * MAC_HASH_NONE. */
struct mac_hashes {
    uint32_t hashes[2 * PACKET_BATCH_MAX];
    struct mac_key keys[2 * PACKET_BATCH_MAX];
    uint8_t slot[PACKET_BATCH_MAX];
};

#define MAC_HASH_NONE UINT8_MAX

struct dp {
    struct packet_pool *pool;
    struct mac_table *macs;
    struct flow_table *flows;
    struct emc *emc;
    struct rule_hit hits[DP_MAX_HITS];
    size_t n_hits;
    long long now_ms;           /* Of the batch being processed. */

    /* While a batch is processed: whether no rule looks at frames, and if
     * so the rule every frame meets (NULL if none). */
    bool trivial;
    struct flow_rule *trivial_rule;
    bool trivial_normal;        /* That rule's actions are just normal. */
    uint64_t generation;        /* The flow tables'. */
    uint64_t trivial_packets;   /* Frames and bytes that met it. */
    uint64_t trivial_bytes;
    struct dp_trace *trace;     /* Set while dp_trace() runs: nothing is
                                 * learned, counted or sent. */
    const struct flow_text_ports *trace_ports;
    struct hmap ports;
    struct hmap vnis;
    struct dp_port *tunnel;
    struct list pending;        /* Ports with frames in 'tx'. */
    struct dp_callbacks cb;

    /* The port and the VNI that frames were last forwarded to or came in
     * with: consecutive frames mostly share them, so these save a hash
     * lookup each per frame.  Cleared when what they point to goes. */
    struct dp_port *hot_port;
    struct dp_vni *hot_vni;

    /* The MAC table's hashes of the source and destination of the frame
     * being received, from the batch's prefetch, or NULL: valid only
     * until something may have changed its addresses or VNI. */
    const uint32_t *frame_mac_hashes;
    const struct mac_hashes *frame_macs;  /* Where they are, with the
                                           * keys they are hashes of. */
};

/* Returns VNI 'vni', or NULL. */
struct dp_vni *dp_find_vni(const struct dp *, uint32_t vni);

/* EVPN (dp-evpn.c). */

/* Makes 'v''s flood list the union of its 'oper_flood' and 'evpn_vteps'.
 * Returns 0 or ENOMEM (and then leaves it as it was). */
int dp_evpn_merge_flood(struct dp_vni *v);

/* Forgets the EVPN state of 'v' (its MACs in 'macs' and its VTEPs), as
 * when it stops being an EVPN VNI; returns how many of both went. */
size_t dp_evpn_forget(struct mac_table *macs, struct dp_vni *v);

/* Trace.  While dp->trace is set, the packet path records what it would
 * do with these instead of doing it (dp-trace.c). */

/* Appends a line to the notes of the table step being traced. */
void dp_trace_note(struct dp *, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Records a lookup of 'table_id', at resubmit depth 'depth', that found
 * 'rule' (NULL: a miss). */
void dp_trace_lookup(struct dp *, uint8_t table_id, unsigned int depth,
                     const struct flow_rule *rule);

/* Records what normal's MAC table said of the destination of 'eth':
 * 'dest', or NULL for unknown or multicast. */
void dp_trace_mac_entry(struct dp *, const struct eth_header *eth,
                        const struct mac_dest *dest);

/* Record that 'p' would leave through local port 'out', or be
 * encapsulated with 'vni' to 'dst', and free it.  Out of line: the packet
 * path only tests for them. */
void dp_trace_local_output(struct dp *, const struct dp_port *out,
                           struct packet *p) __attribute__((noinline));
void dp_trace_remote_output(struct dp *, uint32_t vni,
                            const struct in6_addr *dst, struct packet *p)
    __attribute__((noinline));

/* Records the first reason to drop. */
void dp_trace_drop(struct dp *, enum dp_drop_reason)
    __attribute__((noinline));

#endif /* datapath/dp-private.h */
