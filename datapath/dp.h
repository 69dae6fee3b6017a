#ifndef DATAPATH_DP_H
#define DATAPATH_DP_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dstring.h"
#include "flow-text.h"
#include "mac-table.h"
#include "port-offload.h"
#include "vxlan.h"

struct flow_rule;
struct flow_table;
struct packet;
struct packet_batch;
struct packet_pool;

/* The datapath: local ports, one VXLAN tunnel port, the VNIs, the MAC table
 * and the forwarding decision that ties them together.
 *
 * The owner (the daemon, a test, the benchmark) feeds received batches to
 * dp_receive() and gets the frames to send through the 'send' callback, one
 * batch per output port.  The datapath does no I/O and keeps no clock: time
 * is passed in. */

enum dp_port_kind {
    DP_PORT_LOCAL,              /* TAP, system or pcap: plain Ethernet. */
    DP_PORT_TUNNEL,             /* The VTEP's underlay side. */
};

/* Why a frame was dropped.  Keep dp_drop_reason_name() in step. */
enum dp_drop_reason {
    DP_DROP_RUNT,               /* Shorter than an Ethernet header. */
    DP_DROP_NO_VNI,             /* Local port not bound to a VNI. */
    DP_DROP_UNKNOWN_VNI,        /* Decapsulated VNI not configured. */
    DP_DROP_NO_I_FLAG,          /* VXLAN header without the I flag. */
    DP_DROP_BAD_OUTER,          /* Outer headers short or not VXLAN. */
    DP_DROP_BAD_CSUM,           /* Outer UDP checksum wrong. */
    DP_DROP_BAD_INNER,          /* Inner frame shorter than Ethernet. */
    DP_DROP_TOO_BIG,            /* Over the underlay MTU once encapsulated. */
    DP_DROP_NO_TUNNEL,          /* Needs the VTEP but it is not there or
                                 * has no address. */
    DP_DROP_NO_BUFFER,          /* Packet pool empty while copying. */
    DP_DROP_SAME_PORT,          /* Destination is the port it came in on. */
    DP_DROP_SPLIT_HORIZON,      /* From a VTEP and destined to a VTEP. */
    DP_DROP_BAD_DEST,           /* Static entry to a port not in the VNI,
                                 * or output: to a port not there. */
    DP_DROP_BAD_SRC,            /* Multicast or zero source MAC. */
    DP_DROP_LOOPED,             /* Our own VXLAN frame came back to us. */
    DP_DROP_FAMILY,             /* Remote VTEP of the other IP family. */
    DP_DROP_BAD_GSO,            /* Super frame that cannot be segmented. */
    DP_DROP_BAD_REMOTE,         /* Outer source not a unicast address. */
    DP_DROP_NO_MATCH,           /* No rule of table 0 or of a goto_table
                                 * target matched. */
    DP_DROP_FLOW_DROP,          /* The actions sent the frame nowhere
                                 * (actions=drop, say). */
    DP_DROP_TOO_DEEP,           /* Resubmits nested past
                                 * FLOW_ACTION_MAX_DEPTH, or more than
                                 * FLOW_ACTION_MAX_RESUBMITS in all. */
    DP_DROP_NO_TUN_DST,         /* output: to the VTEP with no tun_dst. */
    DP_DROP_N_REASONS
};

const char *dp_drop_reason_name(enum dp_drop_reason);

struct dp_counters {
    uint64_t rx_packets;
    uint64_t rx_bytes;
    uint64_t tx_packets;
    uint64_t tx_bytes;
    uint64_t drops[DP_DROP_N_REASONS];
};

/* Gives 'batch' (never empty) to the owner for sending out of 'port_no'.
 * The callee takes the packets; the batch itself is the caller's. */
typedef void dp_send_cb(void *aux, uint32_t port_no,
                        struct packet_batch *batch);

/* Encapsulated frames leave through the kernel's IP stack, which resolves
 * the next hop: they carry no outer Ethernet header (vxlan.h). */
struct dp_callbacks {
    dp_send_cb *send;
    void *aux;
};

struct dp;

/* Creates a datapath that copies frames (for flooding) from 'pool' and
 * learns into a MAC table of at most 'max_macs' entries (0 for the
 * default).  The pool stays the caller's.  Returns NULL if memory is
 * short. */
struct dp *dp_create(struct packet_pool *pool, size_t max_macs,
                     const struct dp_callbacks *);
void dp_destroy(struct dp *);

/* The MAC table, for static entries, dumps and flushes.  Remove entries
 * through it only; VNIs come and go with dp_vni_add()/dp_vni_del(). */
struct mac_table *dp_mac_table(struct dp *);

/* The flow tables, for adding, changing, deleting and dumping rules.  A
 * new datapath's tables hold the default rule (table=0,priority=0,
 * actions=normal).  Port numbers in rules are the owner's. */
struct flow_table *dp_flow_table(struct dp *);

/* Ports.  Port numbers are the owner's; 0 is reserved.  Returns 0, EEXIST,
 * ENOENT, EINVAL or ENOMEM. */
int dp_port_add(struct dp *, uint32_t port_no, enum dp_port_kind);
int dp_port_del(struct dp *, uint32_t port_no);

/* Says what the device of local port 'port_no' takes: 'offloads' is a set
 * of PORT_OFFLOAD_* flags (port-offload.h).  A TCP super frame
 * (p->md.gso_size set) leaves whole through a port with TSO for its IP
 * version, and a UDP one (p->md.gso_udp too) through a port with USO, as
 * through a TAP device with offloads; the datapath cuts it into segments
 * for every other output (tso.h).  None when a port is
 * added.  Returns 0, ENOENT, or EINVAL for the tunnel port, whose
 * configuration says which super frames it takes (dp_tunnel_config's
 * 'takes_super_frames'). */
int dp_port_set_offloads(struct dp *, uint32_t port_no, uint32_t offloads);

/* Binds local port 'port_no' to 'vni' (0 unbinds).  Entries learned on the
 * port are forgotten, since they belonged to the old VNI. */
int dp_port_bind(struct dp *, uint32_t port_no, uint32_t vni);

struct dp_tunnel_config {
    struct vxlan_encap_params encap;
    unsigned int mtu;           /* Underlay MTU (IP packet size). */

    /* The port takes TCP super frames whole, encapsulated, where
     * tunnel_tap_takes() says so (tunnel-tap.h). */
    bool takes_super_frames;
};

/* Sets the tunnel port's configuration.  Returns ENOENT if 'port_no' is not
 * a tunnel port. */
int dp_tunnel_configure(struct dp *, uint32_t port_no,
                        const struct dp_tunnel_config *);

struct dp_vni_config {
    /* Where broadcast, unknown unicast and multicast go in the underlay: a
     * multicast group, or every address of a head-end replication list, or
     * (neither) nowhere. */
    struct in6_addr group;      /* Unspecified (all zero) if none. */
    const struct in6_addr *flood_list;
    size_t n_flood;
    unsigned int ageing_s;      /* 0: MAC_TABLE_DEFAULT_AGEING. */
    size_t mac_limit;           /* 0: only the table's bound. */

    /* Which remote VTEPs it learns from: with 'learn_listed_only' only the
     * flood list's, and of those only the ones within 'learn_prefix'
     * (length 0: any).  Frames from the others are forwarded, not
     * learned. */
    bool learn_listed_only;
    struct inet_prefix learn_prefix;

    /* BGP EVPN is its control plane: nothing is learned from the
     * underlay, remote MACs and the VTEPs that want floods are given by
     * the dp_evpn_*() functions, and floods go to those VTEPs and to
     * 'flood_list' both (head-end replication; no group). */
    bool evpn;
};

#define DP_VNI_MAX_FLOOD 256

/* Adds 'vni' or, if it exists, changes its configuration.  Returns 0,
 * EINVAL (VNI out of range, both group and list, a group that is not
 * multicast, a list that is too long or holds a multicast address, a
 * prefix longer than 128 bits) or ENOMEM. */
int dp_vni_set(struct dp *, uint32_t vni, const struct dp_vni_config *);

/* Removes 'vni', its entries, and its bindings (the ports stay, unbound).
 * Returns 0 or ENOENT. */
int dp_vni_del(struct dp *, uint32_t vni);

/* EVPN VNIs.  What these set is not configuration: an agent that follows
 * the BGP routes sets it, and it goes with the VNI, or when the VNI stops
 * being an EVPN one.  Each returns 0, ENOENT (no such VNI; for the _del
 * functions also no such entry), EINVAL (not an EVPN VNI, or an address
 * that is not unicast), or as said. */

/* At most this many VTEPs receive an EVPN VNI's floods. */
#define DP_EVPN_MAX_VTEPS 4096

/* Adds a remote MAC (mac_table_add_evpn(): also EEXIST, ESTALE,
 * ENOMEM). */
int dp_evpn_mac_add(struct dp *, uint32_t vni, const struct eth_addr *mac,
                    const struct in6_addr *remote, uint32_t seq);
int dp_evpn_mac_del(struct dp *, uint32_t vni, const struct eth_addr *mac,
                    const struct in6_addr *remote);

/* Adds a VTEP to the VNI's floods: also EEXIST, ENOSPC past
 * DP_EVPN_MAX_VTEPS, ENOMEM. */
int dp_evpn_vtep_add(struct dp *, uint32_t vni, const struct in6_addr *);
int dp_evpn_vtep_del(struct dp *, uint32_t vni, const struct in6_addr *);

/* Makes the 'n' VTEPs of 'vteps' (unicast, sorted, no two the same) all
 * that the VNI floods to by EVPN, its flood list rebuilt once: what many
 * dp_evpn_vtep_add() and dp_evpn_vtep_del() calls would leave.  Also
 * ENOSPC past DP_EVPN_MAX_VTEPS and ENOMEM, which change nothing. */
int dp_evpn_set_vteps(struct dp *, uint32_t vni,
                      const struct in6_addr *vteps, size_t n);

/* Removes every EVPN MAC and VTEP of 'vni', and says how many went in
 * '*n' (may be NULL). */
int dp_evpn_flush(struct dp *, uint32_t vni, size_t *n);

/* Returns the VTEPs the EVPN VNI 'vni' floods to by EVPN, sorted, or NULL
 * with '*n' 0.  Valid until they next change. */
const struct in6_addr *dp_evpn_vteps(const struct dp *, uint32_t vni,
                                     size_t *n);

/* Processes every frame of 'batch', received on 'in_port', at time
 * 'now_ms': learns, decides, encapsulates or decapsulates, and hands the
 * results to the send callback before it returns.  Takes the packets; the
 * batch is left empty. */
void dp_receive(struct dp *, uint32_t in_port, struct packet_batch *batch,
                long long now_ms);

/* What dp_trace() found: the tables a frame visited, where it would go,
 * and why it would be dropped. */
struct dp_trace_step {
    uint8_t table;
    unsigned int depth;         /* Resubmit nesting, 0 at the start. */
    const struct flow_rule *rule; /* NULL for a miss; the table's. */
    struct ds notes;            /* What the actions did, one line each
                                 * (normal: what the MAC table said). */
};

struct dp_trace_output {
    uint32_t port_no;           /* A local port, or the VTEP's. */
    bool remote;                /* Encapsulated to 'addr' with 'vni'. */
    struct in6_addr addr;
    uint32_t vni;
};

struct dp_trace {
    struct dp_trace_step *steps;
    size_t n_steps;
    struct dp_trace_output *outputs;
    size_t n_outputs;
    int drop;                   /* enum dp_drop_reason of the first drop,
                                 * or -1 if nothing was dropped. */
};

/* Runs frame 'p' (which it takes) as if it had been received on 'in_port'
 * at 'now_ms', through the same lookups and actions as dp_receive(), with
 * every side effect off: nothing is learned, counted or sent.  'ports'
 * names ports in the notes (may be NULL).  The caller frees the result
 * with dp_trace_uninit() while the rules it points to still exist.
 * Returns 0, ENOENT (no such port) or ENOMEM. */
int dp_trace(struct dp *, uint32_t in_port, struct packet *p,
             long long now_ms, const struct flow_text_ports *ports,
             struct dp_trace *trace);
void dp_trace_uninit(struct dp_trace *);

/* dp_trace() for a frame as a capture of the port's device shows it: on a
 * local port the same, on the tunnel port the whole outer frame (outer
 * Ethernet, IP, UDP and VXLAN headers, as on the underlay), which is
 * decapsulated first as the VTEP's socket and dp_receive() would; an
 * outer frame that does not decapsulate is traced as dropped, for the
 * reason dp_receive() would count. */
int dp_trace_wire(struct dp *, uint32_t in_port, struct packet *p,
                  long long now_ms, const struct flow_text_ports *ports,
                  struct dp_trace *trace);

/* Runs MAC ageing and rule timeouts; returns when it next needs to
 * run.  It ages DP_AGEING_SLICE MAC entries at most, and returns
 * 'now_ms' if more are due, so that a million entries falling due
 * together do not hold forwarding up for the time it takes to remove
 * them all. */
#define DP_AGEING_SLICE 8192
long long dp_run_ageing(struct dp *, long long now_ms);

/* Counters of a port or a VNI.  Return false if there is no such one. */
bool dp_port_get_counters(const struct dp *, uint32_t port_no,
                          struct dp_counters *);
bool dp_vni_get_counters(const struct dp *, uint32_t vni,
                         struct dp_counters *);

#endif /* datapath/dp.h */
