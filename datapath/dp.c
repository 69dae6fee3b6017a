#include <config.h>

#include "dp.h"
#include "dp-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "csum.h"
#include "emc.h"
#include "flow.h"
#include "flow-exec.h"
#include "flow-table.h"
#include "gro.h"
#include "hash.h"
#include "headers.h"
#include "hmap.h"
#include "inet.h"
#include "list.h"
#include "packet.h"
#include "tunnel-tap.h"
#include "tso.h"
#include "util.h"


static const char *const drop_reason_names[DP_DROP_N_REASONS] = {
    [DP_DROP_RUNT] = "runt",
    [DP_DROP_NO_VNI] = "no_vni",
    [DP_DROP_UNKNOWN_VNI] = "unknown_vni",
    [DP_DROP_NO_I_FLAG] = "no_i_flag",
    [DP_DROP_BAD_OUTER] = "bad_outer",
    [DP_DROP_BAD_CSUM] = "bad_csum",
    [DP_DROP_BAD_INNER] = "bad_inner",
    [DP_DROP_TOO_BIG] = "too_big",
    [DP_DROP_NO_TUNNEL] = "no_tunnel",
    [DP_DROP_NO_BUFFER] = "no_buffer",
    [DP_DROP_SAME_PORT] = "same_port",
    [DP_DROP_SPLIT_HORIZON] = "split_horizon",
    [DP_DROP_BAD_DEST] = "bad_dest",
    [DP_DROP_BAD_SRC] = "bad_src",
    [DP_DROP_LOOPED] = "looped",
    [DP_DROP_FAMILY] = "family",
    [DP_DROP_BAD_GSO] = "bad_gso",
    [DP_DROP_BAD_REMOTE] = "bad_remote",
    [DP_DROP_NO_MATCH] = "no_match",
    [DP_DROP_FLOW_DROP] = "flow_drop",
    [DP_DROP_TOO_DEEP] = "too_deep",
    [DP_DROP_NO_TUN_DST] = "no_tun_dst",
};

const char *
dp_drop_reason_name(enum dp_drop_reason reason)
{
    return reason < DP_DROP_N_REASONS && drop_reason_names[reason]
           ? drop_reason_names[reason] : "unknown";
}

static uint32_t
hash_u32(uint32_t x)
{
    return hash_finish(hash_add64(0, x));
}

static struct dp_port *
find_port(const struct dp *dp, uint32_t port_no)
{
    struct dp_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, hash_u32(port_no), &dp->ports) {
        if (port->port_no == port_no) {
            return port;
        }
    }
    return NULL;
}

static struct dp_vni *
find_vni(const struct dp *dp, uint32_t vni)
{
    struct dp_vni *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_u32(vni), &dp->vnis) {
        if (v->vni == vni) {
            return v;
        }
    }
    return NULL;
}

struct dp_vni *
dp_find_vni(const struct dp *dp, uint32_t vni)
{
    return find_vni(dp, vni);
}

/* find_port() and find_vni() for the packet path, through the cache. */
static struct dp_port *
lookup_port(struct dp *dp, uint32_t port_no)
{
    if (!dp->hot_port || dp->hot_port->port_no != port_no) {
        struct dp_port *port = find_port(dp, port_no);

        if (!port) {
            return NULL;
        }
        dp->hot_port = port;
    }
    return dp->hot_port;
}

static struct dp_vni *
lookup_vni(struct dp *dp, uint32_t vni)
{
    if (!dp->hot_vni || dp->hot_vni->vni != vni) {
        struct dp_vni *v = find_vni(dp, vni);

        if (!v) {
            return NULL;
        }
        dp->hot_vni = v;
    }
    return dp->hot_vni;
}

struct dp *
dp_create(struct packet_pool *pool, size_t max_macs,
          const struct dp_callbacks *cb)
{
    struct dp *dp = calloc(1, sizeof *dp);

    if (!dp) {
        return NULL;
    }
    dp->macs = mac_table_create(max_macs);
    dp->flows = flow_table_create(0);
    dp->emc = emc_create();
    if (!dp->macs || !dp->flows || !dp->emc
        || flow_table_add_default(dp->flows, 0)) {
        mac_table_destroy(dp->macs);
        flow_table_destroy(dp->flows);
        emc_destroy(dp->emc);
        free(dp);
        return NULL;
    }
    dp->pool = pool;
    hmap_init(&dp->ports);
    hmap_init(&dp->vnis);
    list_init(&dp->pending);
    dp->cb = *cb;
    return dp;
}

static void
free_vni(struct dp_vni *v)
{
    free(v->flood_list);
    free(v->oper_flood);
    free(v->evpn_vteps);
    free(v);
}

void
dp_destroy(struct dp *dp)
{
    if (!dp) {
        return;
    }

    struct dp_port *port;
    struct dp_vni *v;

    HMAP_FOR_EACH_SAFE (port, node, &dp->ports) {
        packet_batch_free(&port->tx);
        free(port);
    }
    HMAP_FOR_EACH_SAFE (v, node, &dp->vnis) {
        free_vni(v);
    }
    hmap_destroy(&dp->ports);
    hmap_destroy(&dp->vnis);
    mac_table_destroy(dp->macs);
    flow_table_destroy(dp->flows);
    emc_destroy(dp->emc);
    free(dp);
}

struct mac_table *
dp_mac_table(struct dp *dp)
{
    return dp->macs;
}

struct flow_table *
dp_flow_table(struct dp *dp)
{
    return dp->flows;
}

int
dp_port_add(struct dp *dp, uint32_t port_no, enum dp_port_kind kind)
{
    if (!port_no || (kind != DP_PORT_LOCAL && kind != DP_PORT_TUNNEL)) {
        return EINVAL;
    }
    if (find_port(dp, port_no) || (kind == DP_PORT_TUNNEL && dp->tunnel)) {
        return EEXIST;
    }

    struct dp_port *port = calloc(1, sizeof *port);

    if (!port) {
        return ENOMEM;
    }
    if (hmap_insert(&dp->ports, &port->node, hash_u32(port_no))) {
        free(port);
        return ENOMEM;
    }
    port->port_no = port_no;
    port->kind = kind;
    list_init(&port->vni_node);
    list_init(&port->pending_node);
    packet_batch_init(&port->tx);
    if (kind == DP_PORT_TUNNEL) {
        port->tunnel = (struct dp_tunnel_config) {
            .encap = {
                .dst_port = htons(VXLAN_DST_PORT),
                .src_port_min = VXLAN_SRC_PORT_MIN,
                .src_port_max = VXLAN_SRC_PORT_MAX,
            },
            .mtu = 1500,
        };
        dp->tunnel = port;
    }
    return 0;
}

int
dp_port_set_offloads(struct dp *dp, uint32_t port_no, uint32_t offloads)
{
    struct dp_port *port = find_port(dp, port_no);

    if (!port || port->kind != DP_PORT_LOCAL) {
        return port ? EINVAL : ENOENT;
    }
    port->offloads = offloads;
    return 0;
}

static void
unbind(struct dp *dp, struct dp_port *port)
{
    if (port->vni) {
        struct mac_dest dest = { .type = MAC_DEST_PORT,
                                 .port_no = port->port_no };

        mac_table_flush(dp->macs, port->vni->vni, &dest);
        list_remove(&port->vni_node);
        port->vni = NULL;
    }
}

int
dp_port_del(struct dp *dp, uint32_t port_no)
{
    struct dp_port *port = find_port(dp, port_no);

    if (!port) {
        return ENOENT;
    }
    unbind(dp, port);
    if (port == dp->tunnel) {
        dp->tunnel = NULL;
    }
    if (dp->hot_port == port) {
        dp->hot_port = NULL;
    }
    packet_batch_free(&port->tx);
    list_remove(&port->pending_node);
    hmap_remove(&dp->ports, &port->node);
    free(port);
    return 0;
}

int
dp_port_bind(struct dp *dp, uint32_t port_no, uint32_t vni)
{
    struct dp_port *port = find_port(dp, port_no);
    struct dp_vni *v = NULL;

    if (!port || (vni && !(v = find_vni(dp, vni)))) {
        return ENOENT;
    }
    if (port->kind != DP_PORT_LOCAL) {
        return EINVAL;
    }
    if (port->vni != v) {
        unbind(dp, port);
        if (v) {
            port->vni = v;
            list_push_back(&v->ports, &port->vni_node);
        }
    }
    return 0;
}

int
dp_tunnel_configure(struct dp *dp, uint32_t port_no,
                    const struct dp_tunnel_config *config)
{
    struct dp_port *port = find_port(dp, port_no);

    if (!port || port->kind != DP_PORT_TUNNEL) {
        return ENOENT;
    }
    if (config->encap.src_port_min > config->encap.src_port_max
        || config->encap.n_src_ports > VXLAN_SRC_PORTS_MAX
        || config->mtu < IPV6_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN
                         + ETH_HEADER_LEN) {
        return EINVAL;
    }
    port->tunnel = *config;
    port->has_local = !inet_is_unspecified(&config->encap.local);
    port->local_ipv4 = inet_is_ipv4(&config->encap.local);
    return 0;
}

static int
check_vni_config(uint32_t vni, const struct dp_vni_config *c)
{
    if (!vni || vni > VXLAN_VNI_MAX || c->n_flood > DP_VNI_MAX_FLOOD
        || c->learn_prefix.len > 128) {
        return EINVAL;
    }
    if (!inet_is_unspecified(&c->group)
        && (c->n_flood || c->evpn || !inet_is_multicast(&c->group))) {
        return EINVAL;
    }
    for (size_t i = 0; i < c->n_flood; i++) {
        if (inet_is_multicast(&c->flood_list[i])
            || inet_is_unspecified(&c->flood_list[i])) {
            return EINVAL;
        }
    }
    return 0;
}

int
dp_vni_set(struct dp *dp, uint32_t vni, const struct dp_vni_config *c)
{
    int error = check_vni_config(vni, c);

    if (error) {
        return error;
    }

    struct in6_addr *list = NULL;

    if (c->n_flood) {
        list = malloc(c->n_flood * sizeof *list);
        if (!list) {
            return ENOMEM;
        }
        memcpy(list, c->flood_list, c->n_flood * sizeof *list);
    }

    struct dp_vni *v = find_vni(dp, vni);
    bool is_new = !v;

    if (is_new) {
        v = calloc(1, sizeof *v);
        if (!v || hmap_insert(&dp->vnis, &v->node, hash_u32(vni))) {
            free(v);
            free(list);
            return ENOMEM;
        }
        v->vni = vni;
        list_init(&v->ports);
    }
    struct mac_learn_policy policy = {
        .no_remotes = c->evpn,
        .listed_only = c->learn_listed_only,
        .remotes = c->flood_list,
        .n_remotes = c->n_flood,
        .prefix = c->learn_prefix,
    };

    error = mac_table_set_vni(dp->macs, vni, c->ageing_s, c->mac_limit);
    if (!error) {
        error = mac_table_set_learning(dp->macs, vni, &policy);
    }
    if (error) {
        if (is_new) {
            mac_table_del_vni(dp->macs, vni);
            hmap_remove(&dp->vnis, &v->node);
            free(v);
        }
        free(list);
        return error;
    }
    free(v->oper_flood);
    v->oper_flood = list;
    v->n_oper_flood = c->n_flood;
    if (v->evpn && !c->evpn) {
        dp_evpn_forget(dp->macs, v);
    }
    v->evpn = c->evpn;
    v->has_group = !inet_is_unspecified(&c->group);
    v->group = c->group;
    /* Short of memory, the floods go where they went before. */
    return dp_evpn_merge_flood(v);
}

int
dp_vni_del(struct dp *dp, uint32_t vni)
{
    struct dp_vni *v = find_vni(dp, vni);
    struct dp_port *port;

    if (!v) {
        return ENOENT;
    }
    LIST_FOR_EACH_SAFE (port, vni_node, &v->ports) {
        list_remove(&port->vni_node);
        port->vni = NULL;
    }
    if (dp->hot_vni == v) {
        dp->hot_vni = NULL;
    }
    mac_table_del_vni(dp->macs, vni);
    hmap_remove(&dp->vnis, &v->node);
    free_vni(v);
    return 0;
}

/* Output. */

static void
flush_port(struct dp *dp, struct dp_port *port)
{
    list_remove(&port->pending_node);
    if (port->tx.count) {
        dp->cb.send(dp->cb.aux, port->port_no, &port->tx);
        packet_batch_init(&port->tx);
    }
}

static void
count_drop(struct dp *dp, struct dp_port *in, struct dp_vni *v,
           enum dp_drop_reason reason)
{
    if (UNLIKELY(dp->trace)) {
        dp_trace_drop(dp, reason);
        return;
    }
    in->counters.drops[reason]++;
    if (v) {
        v->counters.drops[reason]++;
    }
}

static void
drop(struct dp *dp, struct dp_port *in, struct dp_vni *v, struct packet *p,
     enum dp_drop_reason reason)
{
    count_drop(dp, in, v, reason);
    packet_free(p);
}

/* Returns true if 'out' takes super frame 'p' whole: its device has TSO
 * for the frame's IP version, or USO for a UDP one. */
static inline bool
takes_whole(const struct dp_port *out, const struct packet *p)
{
    uint32_t tso = out->offloads & (PORT_OFFLOAD_TSO4 | PORT_OFFLOAD_TSO6);
    const uint8_t *ip;

    if (p->md.gso_udp) {
        return (out->offloads & PORT_OFFLOAD_USO) != 0;
    }
    if (!tso || tso == (PORT_OFFLOAD_TSO4 | PORT_OFFLOAD_TSO6)) {
        return tso != 0;
    }
    ip = p->md.parsed && p->md.l3_ofs != PACKET_OFS_NONE
         ? packet_at(p, p->md.l3_ofs, 1) : NULL;
    return ip && tso == (*ip >> 4 == 6 ? PORT_OFFLOAD_TSO6
                                       : PORT_OFFLOAD_TSO4);
}

/* Queues 'p' for 'out'; sends a full batch at once.  A port that takes
 * super frames gets a TCP segment or UDP datagram appended to the one
 * queued before it, where the two make a run (gro.h).  'v' (counted) may be
 * NULL.  Inlined, as the other steps every frame takes: a call per step
 * costs more than many of them. */
static inline __attribute__((always_inline)) void
enqueue(struct dp *dp, struct dp_port *out, struct dp_vni *v,
        struct packet *p)
{
    if (UNLIKELY(dp->trace)) {
        dp_trace_local_output(dp, out, p);
        return;
    }

    /* The tunnel port counts the whole outer frame, as it goes on the
     * wire, though the port builds the outer headers after this.  What
     * reaches it is of its family (output_remote()). */
    size_t bytes = packet_size(p)
                   + (out->kind != DP_PORT_TUNNEL ? 0
                      : out->local_ipv4 ? VXLAN_IPV4_OVERHEAD
                                          - VXLAN_HEADER_LEN
                      : VXLAN_IPV6_OVERHEAD - VXLAN_HEADER_LEN);

    out->counters.tx_packets++;
    out->counters.tx_bytes += bytes;
    if (v) {
        v->counters.tx_packets++;
        v->counters.tx_bytes += bytes;
    }
    if (out->tx.count && out->offloads & GRO_OFFLOADS
        && gro_merge(out->tx.packets[out->tx.count - 1], p, out->offloads)) {
        packet_free(p);
        return;
    }
    if (!out->tx.count) {
        list_push_back(&dp->pending, &out->pending_node);
    }
    packet_batch_add(&out->tx, p);
    if (packet_batch_is_full(&out->tx)) {
        flush_port(dp, out);
    }
}

/* Where the segments of a super frame go: to 'out', or encapsulated with
 * 'vni' to 'dst' if 'out' is NULL. */
struct segment_output {
    struct dp *dp;
    struct dp_port *in;
    struct dp_vni *v;
    struct dp_port *out;
    const struct in6_addr *dst;
    uint32_t vni;
};

static inline void encap_and_enqueue(struct dp *, struct dp_port *in,
                              struct dp_vni *, uint32_t vni,
                              struct packet *, const struct in6_addr *dst);

static void
emit_segment(void *so_, struct packet *seg)
{
    struct segment_output *so = so_;

    if (so->out) {
        enqueue(so->dp, so->out, so->v, seg);
    } else {
        encap_and_enqueue(so->dp, so->in, so->v, so->vni, seg, so->dst);
    }
}

/* Cuts super frame 'p' into segments for 'so' and frees it. */
static void
segment(struct segment_output *so, struct packet *p)
{
    int error = tso_segment(p, so->dp->pool, emit_segment, so);

    if (error) {
        count_drop(so->dp, so->in, so->v,
                   error == ENOBUFS ? DP_DROP_NO_BUFFER : DP_DROP_BAD_GSO);
    }
    packet_free(p);
}

/* Sends 'p' out of local port 'out', cut into segments first if it is a
 * super frame that 'out' does not take whole.  Inlined (see enqueue()). */
static inline __attribute__((always_inline)) void
output(struct dp *dp, struct dp_port *in, struct dp_port *out,
       struct dp_vni *v, struct packet *p)
{
    if (p->md.gso_size && !takes_whole(out, p)) {
        struct segment_output so = { dp, in, v, out, NULL, 0 };

        segment(&so, p);
    } else {
        enqueue(dp, out, v, p);
    }
}

/* Extracts the key of 'p' into 'key', the caller's storage, and records
 * in p->md its header offsets (flow_extract()) and its flow hash, so that
 * every stage after it (a flow lookup, the MAC lookup, the UDP source
 * port of encapsulation, segmentation, GRO, checksum offload) shares this
 * one parse.  Call it once per frame, before anything else parses. */
static void
extract_key(struct packet *p, struct flow_key *key)
{
    flow_extract_hashed(p, key);
}

/* Returns the flow hash of 'p', parsing it if no stage before did: with
 * no flow table in front, only encapsulation needs it, and a frame that a
 * port parsed on receive (a TAP's super frame) has it already.  The
 * question whether it has is asked here, where it costs no call. */
static inline uint32_t
inner_hash(struct packet *p)
{
    return p->md.hash_valid ? p->md.hash : flow_hash(p);
}

/* Encapsulates 'p', which fits the underlay, with 'vni' and queues it to
 * the tunnel port for underlay address 'dst'.  Only the VXLAN header goes
 * on here: the port builds the outer headers, or has the kernel build them
 * (vxlan.h).  Inlined: every frame to the underlay comes this way. */
static inline __attribute__((always_inline)) void
encap_and_enqueue(struct dp *dp, struct dp_port *in, struct dp_vni *v,
                  uint32_t vni, struct packet *p, const struct in6_addr *dst)
{
    struct dp_port *tunnel = dp->tunnel;

    if (UNLIKELY(dp->trace)) {
        dp_trace_remote_output(dp, vni, dst, p);
        return;
    }
    if (vxlan_encap(p, &tunnel->tunnel.encap, vni, dst)) {
        drop(dp, in, v, p, DP_DROP_TOO_BIG);
        return;
    }
    enqueue(dp, tunnel, v, p);
}

/* Encapsulates 'p' with 'vni' (of 'v', which may be NULL for a VNI that is
 * not configured) and queues it to the underlay address 'dst'; a super
 * frame is cut into segments first, each of which must fit.  Inlined
 * (see enqueue()). */
static inline __attribute__((always_inline)) void
output_remote(struct dp *dp, struct dp_port *in, struct dp_vni *v,
              uint32_t vni, struct packet *p, const struct in6_addr *dst)
{
    struct dp_port *tunnel = dp->tunnel;

    if (!tunnel || !tunnel->has_local) {
        drop(dp, in, v, p, DP_DROP_NO_TUNNEL);
        return;
    }
    if (inet_is_ipv4(dst) != tunnel->local_ipv4) {
        drop(dp, in, v, p, DP_DROP_FAMILY);
        return;
    }

    /* The hash goes first, so that segmentation finds the headers parsed.
     * The underlay MTU bounds the outer IP packet: the whole inner frame
     * (for a super frame, its largest segment) plus the outer headers
     * after the outer Ethernet header. */
    size_t wire_len = packet_size(p);

    inner_hash(p);

    if (p->md.gso_size) {
        size_t hdr_len = tso_super_header_len(p);

        if (!hdr_len) {
            drop(dp, in, v, p, DP_DROP_BAD_GSO);
            return;
        }
        wire_len = MIN(wire_len, hdr_len + p->md.gso_size);
    }
    if (wire_len + (tunnel->local_ipv4 ? VXLAN_IPV4_OVERHEAD
                                       : VXLAN_IPV6_OVERHEAD)
        - ETH_HEADER_LEN > tunnel->tunnel.mtu) {
        drop(dp, in, v, p, DP_DROP_TOO_BIG);
        return;
    }
    if (p->md.gso_size && !(tunnel->tunnel.takes_super_frames
                            && tunnel_tap_takes(p, dst))) {
        struct segment_output so = { dp, in, v, NULL, dst, vni };

        segment(&so, p);
    } else {
        encap_and_enqueue(dp, in, v, vni, p, dst);
    }
}

/* Sends 'p' to every port of 'v' but 'in' and, if 'to_underlay', to the
 * VNI's flood target.  Each destination gets its own copy, because
 * encapsulation rewrites the buffer. */
static void
flood(struct dp *dp, struct dp_port *in, struct dp_vni *v, struct packet *p,
      bool to_underlay)
{
    size_t n_remote = !to_underlay ? 0 : v->has_group ? 1 : v->n_flood;
    size_t n_targets = n_remote;
    struct dp_port *port;

    LIST_FOR_EACH (port, vni_node, &v->ports) {
        n_targets += port != in;
    }
    if (UNLIKELY(dp->trace)) {
        dp_trace_note(dp, "flooded in VNI %"PRIu32" to %zu port(s) and %zu "
                   "remote VTEP(s)", v->vni, n_targets - n_remote, n_remote);
    }
    if (!n_targets) {
        packet_free(p);
        return;
    }
    /* Every copy to the underlay needs the hash: one parse serves all. */
    if (n_remote) {
        inner_hash(p);
    }

    size_t left = n_targets;

    LIST_FOR_EACH (port, vni_node, &v->ports) {
        if (port != in) {
            struct packet *copy = --left ? packet_clone(p) : p;

            if (copy) {
                output(dp, in, port, v, copy);
            } else {
                count_drop(dp, in, v, DP_DROP_NO_BUFFER);
            }
        }
    }
    for (size_t i = 0; i < n_remote; i++) {
        struct packet *copy = --left ? packet_clone(p) : p;
        const struct in6_addr *dst = v->has_group ? &v->group
                                                  : &v->flood_list[i];

        if (copy) {
            output_remote(dp, in, v, v->vni, copy, dst);
        } else {
            count_drop(dp, in, v, DP_DROP_NO_BUFFER);
        }
    }
}

/* Sends 'p', whose source has been learned at 'src', where its destination
 * is.  'dst_hash', if not NULL, is the MAC table's hash of the destination,
 * from the batch's prefetch. */
static void
forward(struct dp *dp, struct dp_port *in, struct dp_vni *v,
        struct packet *p, const struct mac_dest *src,
        const uint32_t *dst_hash)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);
    bool from_underlay = in->kind == DP_PORT_TUNNEL;
    const struct mac_dest *entry = NULL;
    struct mac_dest copy;
    const struct mac_dest *dest = NULL;

    if (UNLIKELY(dp->trace)
        && eth_addr_equals(&eth->eth_dst, &eth->eth_src)
        && mac_table_would_learn(dp->macs, v->vni, &eth->eth_src, src)) {
        /* Forwarding would find the source it just learned. */
        entry = src;
    } else if (!eth_addr_is_multicast(&eth->eth_dst)) {
        entry = dst_hash
                ? mac_table_lookup_hashed(dp->macs, v->vni, &eth->eth_dst,
                                          *dst_hash)
                : mac_table_lookup(dp->macs, v->vni, &eth->eth_dst);
    }
    if (entry) {
        /* The entry may go while the frame is on its way (a callback may
         * change the table); the frame keeps its own copy. */
        copy = *entry;
        dest = &copy;
    }
    if (UNLIKELY(dp->trace)) {
        dp_trace_mac_entry(dp, eth, dest);
    }
    if (!dest) {
        /* Split horizon: the sending VTEP flooded to the others itself. */
        flood(dp, in, v, p, !from_underlay);
    } else if (dest->type == MAC_DEST_REMOTE) {
        if (from_underlay) {
            drop(dp, in, v, p, DP_DROP_SPLIT_HORIZON);
        } else {
            output_remote(dp, in, v, v->vni, p, &dest->remote);
        }
    } else if (dest->port_no == in->port_no) {
        drop(dp, in, v, p, DP_DROP_SAME_PORT);
    } else {
        struct dp_port *out = lookup_port(dp, dest->port_no);

        if (out && out->vni == v) {
            output(dp, in, out, v, p);
        } else {
            drop(dp, in, v, p, DP_DROP_BAD_DEST);
        }
    }
}

static enum dp_drop_reason
vxlan_error_to_drop(enum vxlan_error error)
{
    switch (error) {
    case VXLAN_ERR_NO_I_FLAG:
        return DP_DROP_NO_I_FLAG;
    case VXLAN_ERR_BAD_CSUM:
        return DP_DROP_BAD_CSUM;
    case VXLAN_ERR_BAD_INNER:
        return DP_DROP_BAD_INNER;
    case VXLAN_OK:
    case VXLAN_ERR_SHORT:
    case VXLAN_ERR_NOT_VXLAN:
    default:
        return DP_DROP_BAD_OUTER;
    }
}

/* Learns where the source of 'p' is, then forwards it.  A multicast or zero
 * source is no host's address: such frames are dropped, as the Linux
 * bridge and Open vSwitch do.  A frame from a remote VTEP that the VNI does
 * not learn from is still forwarded, as the Linux vxlan driver forwards
 * frames it does not learn from ("nolearning").  'hashes' are the MAC
 * table's hashes of its source and destination, or NULL. */
static void
learn_and_forward(struct dp *dp, struct dp_port *in, struct dp_vni *v,
                  struct packet *p, const struct mac_dest *src,
                  const uint32_t *hashes)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);
    bool bad_src;

    if (dp->trace) {
        bad_src = eth_addr_is_multicast(&eth->eth_src)
                  || eth_addr_is_zero(&eth->eth_src);
    } else if (hashes) {
        bad_src = mac_table_learn_hashed(dp->macs, v->vni, &eth->eth_src,
                                         hashes[0], src, dp->now_ms)
                  == MAC_LEARN_MULTICAST;
    } else {
        bad_src = mac_table_learn(dp->macs, v->vni, &eth->eth_src, src,
                                  dp->now_ms) == MAC_LEARN_MULTICAST;
    }
    if (bad_src) {
        drop(dp, in, v, p, DP_DROP_BAD_SRC);
        return;
    }
    forward(dp, in, v, p, src, hashes ? &hashes[1] : NULL);
}

/* The flow tables' side of a frame: where it came from, and the VNI it
 * had when it reached them. */
struct xlate {
    struct dp *dp;
    struct dp_port *in;
    struct dp_vni *v;           /* VNI of p->md.vni when received, or
                                 * NULL. */
};

/* Returns the configured VNI 'vni', or NULL. */
static struct dp_vni *
xlate_vni(const struct xlate *xl, uint32_t vni)
{
    return xl->v && xl->v->vni == vni ? xl->v
           : vni ? lookup_vni(xl->dp, vni) : NULL;
}

static void
flush_hits(struct dp *dp)
{
    for (size_t i = 0; i < dp->n_hits; i++) {
        flow_rule_account(dp->hits[i].rule, dp->hits[i].n_packets,
                          dp->hits[i].n_bytes, dp->now_ms);
    }
    dp->n_hits = 0;
    if (dp->trivial_rule && dp->trivial_packets) {
        flow_rule_account(dp->trivial_rule, dp->trivial_packets,
                          dp->trivial_bytes, dp->now_ms);
    }
    dp->trivial_packets = dp->trivial_bytes = 0;
}

static void
count_hit(struct dp *dp, struct flow_rule *rule, const struct packet *p)
{
    struct rule_hit *h = dp->n_hits ? &dp->hits[dp->n_hits - 1] : NULL;

    /* Most frames of a batch meet the rule the one before met. */
    if (!h || h->rule != rule) {
        h = NULL;
        for (size_t i = 0; i < dp->n_hits; i++) {
            if (dp->hits[i].rule == rule) {
                h = &dp->hits[i];
                break;
            }
        }
        if (!h) {
            if (dp->n_hits == DP_MAX_HITS) {
                flush_hits(dp);
            }
            h = &dp->hits[dp->n_hits++];
            *h = (struct rule_hit) { .rule = rule };
        }
    }
    h->n_packets++;
    h->n_bytes += packet_size(p);
}

static struct flow_rule *
xlate_lookup(void *xl_, uint8_t table_id, const struct flow_key *key,
             unsigned int depth, const struct packet *p)
{
    struct xlate *xl = xl_;
    struct dp *dp = xl->dp;
    struct flow_rule *rule;

    if (dp->trace || dp->trivial) {
        rule = flow_table_lookup(dp->flows, table_id, key);
    } else {
        uint64_t generation = dp->generation;
        uint32_t hash = emc_hash(dp->emc, table_id, key, p->md.hash);

        rule = emc_lookup(dp->emc, table_id, key, hash, generation);
        if (!rule) {
            rule = flow_table_lookup(dp->flows, table_id, key);
            if (rule) {
                emc_insert(dp->emc, table_id, key, hash, generation, rule);
            }
        }
    }
    if (dp->trace) {
        dp_trace_lookup(dp, table_id, depth, rule);
    } else if (rule) {
        count_hit(dp, rule, p);
    }
    return rule;
}

static void
xlate_output(void *xl_, struct packet *p, const struct flow_key *key,
             uint32_t port_no)
{
    struct xlate *xl = xl_;
    struct dp *dp = xl->dp;
    bool to_in_port = port_no == FLOW_ACTION_IN_PORT;
    struct dp_port *out = to_in_port ? xl->in : lookup_port(dp, port_no);
    struct dp_vni *v = xlate_vni(xl, key->vni);

    /* Only the in_port action sends a frame back where it came from, as
     * in OpenFlow: a VTEP may relay between peers that way. */
    if (!out) {
        drop(dp, xl->in, v, p, DP_DROP_BAD_DEST);
    } else if (out == xl->in && !to_in_port) {
        drop(dp, xl->in, v, p, DP_DROP_SAME_PORT);
    } else if (out->kind != DP_PORT_TUNNEL) {
        output(dp, xl->in, out, v, p);
    } else if (inet_is_unspecified(&p->md.tun_dst) || !key->vni) {
        drop(dp, xl->in, v, p, DP_DROP_NO_TUN_DST);
    } else {
        output_remote(dp, xl->in, v, key->vni, p, &p->md.tun_dst);
    }
}

/* The VNI that normal and flood switch 'p' in, or NULL after counting the
 * drop: a local port bound to none, or a VNI that is not configured. */
static struct dp_vni *
switching_vni(struct xlate *xl, struct packet *p, uint32_t vni)
{
    struct dp_vni *v = xlate_vni(xl, vni);

    if (!v) {
        drop(xl->dp, xl->in, NULL, p, xl->in->kind == DP_PORT_TUNNEL
                                      ? DP_DROP_UNKNOWN_VNI
                                      : DP_DROP_NO_VNI);
    }
    return v;
}

/* The learning switch, for 'p' in VNI 'vni'.  'mac_hashes' are the MAC
 * table's hashes of its addresses in 'vni', or NULL. */
static void
normal(struct xlate *xl, struct packet *p, uint32_t vni,
       const uint32_t *mac_hashes)
{
    struct dp_vni *v = switching_vni(xl, p, vni);
    struct mac_dest src;

    if (!v) {
        return;
    }
    if (xl->in->kind == DP_PORT_TUNNEL) {
        src = (struct mac_dest) { .type = MAC_DEST_REMOTE,
                                  .remote = p->md.tun_src };
    } else {
        src = (struct mac_dest) { .type = MAC_DEST_PORT,
                                  .port_no = xl->in->port_no };
    }
    learn_and_forward(xl->dp, xl->in, v, p, &src, mac_hashes);
}

static void
xlate_normal(void *xl_, struct packet *p, const struct flow_key *key)
{
    struct xlate *xl = xl_;
    const uint32_t *hashes = xl->dp->frame_mac_hashes;
    const struct mac_hashes *mh = xl->dp->frame_macs;
    const struct mac_key *keys = hashes ? &mh->keys[hashes - mh->hashes]
                                        : NULL;

    /* The prefetch's hashes serve while the actions left the addresses
     * and the VNI as they were. */
    if (hashes && (keys[0].vni != key->vni
                   || !eth_addr_equals(&keys[0].mac, &key->dl_src)
                   || !eth_addr_equals(&keys[1].mac, &key->dl_dst))) {
        hashes = NULL;
    }
    normal(xl, p, key->vni, hashes);
}

static void
xlate_flood(void *xl_, struct packet *p, const struct flow_key *key)
{
    struct xlate *xl = xl_;
    struct dp_vni *v = switching_vni(xl, p, key->vni);

    if (v) {
        flood(xl->dp, xl->in, v, p, xl->in->kind != DP_PORT_TUNNEL);
    }
}

static void
xlate_drop(void *xl_, enum flow_exec_drop why)
{
    static const enum dp_drop_reason reasons[] = {
        [FLOW_EXEC_NO_MATCH] = DP_DROP_NO_MATCH,
        [FLOW_EXEC_FLOW_DROP] = DP_DROP_FLOW_DROP,
        [FLOW_EXEC_TOO_DEEP] = DP_DROP_TOO_DEEP,
        [FLOW_EXEC_NO_BUFFER] = DP_DROP_NO_BUFFER,
    };
    struct xlate *xl = xl_;

    count_drop(xl->dp, xl->in, xl->v, reasons[why]);
}

static const struct flow_exec_ops xlate_ops = {
    .lookup = xlate_lookup,
    .output = xlate_output,
    .normal = xlate_normal,
    .flood = xlate_flood,
    .drop = xlate_drop,
};

/* Returns the longest frame from tunnel port 'tunnel' that the underlay
 * MTU lets through, for 'p''s family. */
static inline __attribute__((always_inline)) size_t
underlay_max_frame(const struct dp_port *tunnel, const struct packet *p)
{
    return tunnel->tunnel.mtu + ETH_HEADER_LEN
           - vxlan_overhead(&p->md.tun_src);
}

/* Says whether 'p', decapsulated on tunnel port 'tunnel', is longer than
 * any frame the underlay MTU lets through: a super frame that a sender on
 * this host handed over whole (a kernel vxlan device's, or a VTEP's
 * through a TAP with UDP-tunnel GSO, tunnel-tap.h), since no wire carries
 * one, unless it came in fragments that the kernel put together (which
 * did cross a wire).  Like a frame from this host's stack it may carry an
 * inner checksum left to offload.  The MTU is the underlay device's when
 * the port names one ('dev'), read again every second.  Inlined (see
 * enqueue()). */
static inline __attribute__((always_inline)) bool
beyond_underlay_mtu(const struct dp_port *tunnel, const struct packet *p)
{
    return packet_size(p) > underlay_max_frame(tunnel, p)
           && !p->md.tun_fragmented;
}

/* A kernel vxlan device on this host hands its TCP segmentation offload
 * frames across a veth whole, and the UDP socket passes them on whole, up
 * to 64 KB of inner frame with no word of the segment size.  Such a frame,
 * longer than any the underlay MTU lets through and with its checksum
 * left to finish (which is how it shows it came from this host's stack),
 * is marked as a super frame of the largest segments that would have fit,
 * so that each output cuts it (or, a TAP, takes it whole) as it would a
 * VM's.  A long frame with a finished checksum (a peer with a larger MTU)
 * is left as it is: cutting it would give damaged data fresh checksums.
 * Inlined (see enqueue()). */
static inline __attribute__((always_inline)) void
mark_super_frame(const struct dp_port *tunnel, struct packet *p)
{
    /* Only a frame from this host's stack can be one: most are not. */
    if (!p->md.csum_partial || p->md.gso_size) {
        return;
    }

    size_t max_frame = underlay_max_frame(tunnel, p);
    size_t hdr_len;

    if (beyond_underlay_mtu(tunnel, p)
        && (hdr_len = tso_header_len(p)) != 0 && hdr_len < max_frame) {
        p->md.gso_size = (uint16_t) MAX(max_frame - hdr_len,
                                        TSO_MIN_SEGMENT);
    }
}

/* Says whether 'p' came from this host's own IP stack: its outer source is
 * a loopback address, which the kernel accepts only from its loopback
 * device, or over IPv4 the very address it was sent to, which IPv4 drops
 * as the source of a datagram from outside (unless accept_local is set);
 * IPv6 has no such rule, so there its own address proves nothing.  Only
 * such a frame can carry an inner checksum left to offload: a frame that
 * crossed a wire had it finished before it left, by the sender's device
 * or stack.  Inlined (see enqueue()). */
static inline __attribute__((always_inline)) bool
from_this_host(const struct packet *p)
{
    return inet_is_loopback(&p->md.tun_src)
           || (inet_is_ipv4(&p->md.tun_src)
               && inet_equals(&p->md.tun_src, &p->md.tun_dst));
}

/* Drops 'p', decapsulated on 'in' in 'v' (which may be NULL), if its
 * outer source is one no peer VTEP sends from; says whether it did.
 * Inlined (see enqueue()). */
static inline __attribute__((always_inline)) bool
drop_bad_remote(struct dp *dp, struct dp_port *in, struct dp_vni *v,
                struct packet *p)
{
    /* Multicast loopback or a misconfigured peer list: learning from it
     * would move local MACs onto ourselves. */
    if (inet_equals(&p->md.tun_src, &in->tunnel.encap.local)) {
        drop(dp, in, v, p, DP_DROP_LOOPED);
        return true;
    }
    /* No VTEP sends from these, and the kernel's IP stack drops such
     * "martian" sources before its own vxlan driver sees them. */
    if (!inet_is_unicast(&p->md.tun_src)) {
        drop(dp, in, v, p, DP_DROP_BAD_REMOTE);
        return true;
    }
    return false;
}

/* Runs 'p', received on 'in' and past the checks on the frame itself,
 * through the flow tables.  'v' is its VNI if that is configured.  This
 * is where a frame is parsed, once, if anything needs it: a table that
 * looks at frames, or a decapsulated frame from this host's own stack,
 * whose offloads need its headers.  Inlined
 * (see enqueue()). */
static inline __attribute__((always_inline)) void
process(struct dp *dp, struct dp_port *in, struct dp_vni *v,
        struct packet *p)
{
    struct xlate xl = { dp, in, v };
    bool trivial = dp->trivial && !dp->trace;
    bool from_tunnel = in->kind == DP_PORT_TUNNEL;
    bool offloaded = from_tunnel && (from_this_host(p)
                                     || beyond_underlay_mtu(in, p));
    struct flow_key key;

    if (!trivial || offloaded) {
        extract_key(p, &key);
    }
    if (from_tunnel) {
        /* A peer on this host may have left the inner checksum to
         * offload; whoever sends the frame on finishes it.  From anywhere
         * else, a field that looks so is what the sender chose, and taking
         * it at its word would give data damaged on the way a fresh
         * checksum: such a frame goes on as it came, for its receiver to
         * check, as the kernel's vxlan driver passes a frame it does not
         * verify. */
        if (offloaded) {
            csum_detect_partial(p);
        }
        mark_super_frame(in, p);
    }
    if (v && !dp->trace) {
        v->counters.rx_packets++;
        v->counters.rx_bytes += packet_size(p);
    }
    if (!trivial) {
        /* flow_exec_run(), with table 0's lookup made here, where it needs
         * no indirect call. */
        flow_exec_rule(&xlate_ops, &xl, p, &key,
                       xlate_lookup(&xl, 0, &key, 0, p));
        return;
    }

    /* Every frame meets the same rule: no need to look it up again, and
     * for the default rule no need to interpret its one action either. */
    dp->trivial_packets++;
    dp->trivial_bytes += packet_size(p);
    if (dp->trivial_normal) {
        /* Nothing changed the frame or its VNI since the prefetch. */
        normal(&xl, p, p->md.vni, dp->frame_mac_hashes);
        return;
    }
    if (!offloaded) {
        memset(&key, 0, sizeof key);
        key.in_port = p->md.in_port;
        key.vni = p->md.vni;
    }
    flow_exec_rule(&xlate_ops, &xl, p, &key, dp->trivial_rule);
}

static void
receive_local(struct dp *dp, struct dp_port *in, struct packet *p)
{
    struct dp_vni *v = in->vni;

    if (packet_size(p) < ETH_HEADER_LEN) {
        drop(dp, in, v, p, DP_DROP_RUNT);
        return;
    }
    p->md.in_port = in->port_no;
    p->md.vni = v ? v->vni : 0;
    process(dp, in, v, p);
}

static void
receive_tunnel(struct dp *dp, struct dp_port *in, struct packet *p)
{
    uint32_t vni;
    enum vxlan_error error = vxlan_decap_payload(p, &vni);

    if (error) {
        drop(dp, in, NULL, p, vxlan_error_to_drop(error));
        return;
    }

    /* Not configured: a flow may still take it; normal drops it. */
    struct dp_vni *v = lookup_vni(dp, vni);

    if (drop_bad_remote(dp, in, v, p)) {
        return;
    }
    p->md.in_port = in->port_no;
    p->md.vni = vni;
    process(dp, in, v, p);
}

/* Returns the (inner) Ethernet header of 'p' and its VNI as far as they can
 * be seen without validating anything, or NULL.  For prefetching only. */
static const struct eth_header *
peek_eth(const struct dp_port *in, const struct packet *p, uint32_t *vni)
{
    if (in->kind == DP_PORT_TUNNEL) {
        const struct vxlan_header *vx
            = packet_at(p, 0, VXLAN_HEADER_LEN + ETH_HEADER_LEN);

        if (!vx) {
            return NULL;
        }
        *vni = ntohl(be32_16_get(&vx->vx_vni)) >> 8;
        return packet_at(p, VXLAN_HEADER_LEN, ETH_HEADER_LEN);
    }
    if (!in->vni) {
        return NULL;
    }
    *vni = in->vni->vni;
    return packet_at(p, 0, ETH_HEADER_LEN);
}

/* With many MACs, every lookup misses the cache: asking for the whole
 * batch's entries at once lets those misses overlap.  Their hashes go to
 * 'mh', so that learning and lookup do not hash again. */
static void
prefetch_macs(const struct dp *dp, const struct dp_port *in,
              const struct packet_batch *batch, struct mac_hashes *mh)
{
    struct mac_key *keys = mh->keys;
    const struct packet *p;
    size_t n = 0;

    BUILD_ASSERT(2 * PACKET_BATCH_MAX <= MAC_TABLE_PREFETCH_MAX);
    BUILD_ASSERT(2 * PACKET_BATCH_MAX < MAC_HASH_NONE);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        uint32_t vni;
        const struct eth_header *eth = peek_eth(in, p, &vni);

        if (eth) {
            mh->slot[i] = (uint8_t) n;
            keys[n++] = (struct mac_key) { vni, eth->eth_src };
            keys[n++] = (struct mac_key) { vni, eth->eth_dst };
        } else {
            mh->slot[i] = MAC_HASH_NONE;
        }
    }
    mac_table_prefetch(dp->macs, keys, n, mh->hashes);
}

void
dp_receive(struct dp *dp, uint32_t in_port, struct packet_batch *batch,
           long long now_ms)
{
    struct dp_port *in = find_port(dp, in_port);
    struct mac_hashes mh;
    uint64_t rx_bytes = 0;      /* Counted once for the batch. */
    struct packet *p;

    if (!in) {
        packet_batch_free(batch);
        return;
    }
    dp->now_ms = now_ms;
    dp->trivial = flow_table_is_trivial(dp->flows);
    dp->generation = flow_table_generation(dp->flows);
    dp->trivial_rule = dp->trivial ? flow_table_lookup(dp->flows, 0, NULL)
                                   : NULL;
    dp->trivial_normal = dp->trivial_rule
                         && dp->trivial_rule->actions->n == 1
                         && dp->trivial_rule->actions->acts[0].type
                            == FLOW_ACTION_NORMAL;
    prefetch_macs(dp, in, batch, &mh);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        uint8_t slot = mh.slot[i];

        /* On this stack, not in 'dp': a port's send callback may run
         * another batch through before this one is done. */
        dp->frame_mac_hashes = slot != MAC_HASH_NONE ? &mh.hashes[slot]
                                                     : NULL;
        dp->frame_macs = &mh;
        rx_bytes += packet_size(p);
        if (in->kind == DP_PORT_TUNNEL) {
            receive_tunnel(dp, in, p);
        } else {
            receive_local(dp, in, p);
        }
    }
    dp->frame_mac_hashes = NULL;
    in->counters.rx_packets += batch->count;
    in->counters.rx_bytes += rx_bytes;
    packet_batch_init(batch);
    flush_hits(dp);

    while (!list_is_empty(&dp->pending)) {
        flush_port(dp, CONTAINER_OF(list_front(&dp->pending),
                                    struct dp_port, pending_node));
    }
}

int
dp_trace(struct dp *dp, uint32_t in_port, struct packet *p, long long now_ms,
         const struct flow_text_ports *ports, struct dp_trace *trace)
{
    struct dp_port *in = find_port(dp, in_port);

    memset(trace, 0, sizeof *trace);
    trace->drop = -1;
    if (!in) {
        packet_free(p);
        return ENOENT;
    }
    dp->trace = trace;
    dp->trace_ports = ports;
    dp->now_ms = now_ms;
    p->md.in_port = in->port_no;
    /* The frame a tunnel port traces is the inner one, which
     * dp_receive() would have refused as short after decapsulating. */
    if (packet_size(p) < ETH_HEADER_LEN) {
        drop(dp, in, in->vni, p, in->kind == DP_PORT_TUNNEL
                                 ? DP_DROP_BAD_INNER : DP_DROP_RUNT);
    } else if (in->kind == DP_PORT_TUNNEL) {
        struct dp_vni *v = find_vni(dp, p->md.vni);

        if (!drop_bad_remote(dp, in, v, p)) {
            process(dp, in, v, p);
        }
    } else {
        p->md.vni = in->vni ? in->vni->vni : 0;
        process(dp, in, in->vni, p);
    }
    dp->trace = NULL;
    dp->trace_ports = NULL;
    return 0;
}

int
dp_trace_wire(struct dp *dp, uint32_t in_port, struct packet *p,
              long long now_ms, const struct flow_text_ports *ports,
              struct dp_trace *trace)
{
    struct dp_port *in = find_port(dp, in_port);
    enum vxlan_error error;
    uint32_t vni;

    if (!in || in->kind != DP_PORT_TUNNEL) {
        return dp_trace(dp, in_port, p, now_ms, ports, trace);
    }
    /* The socket delivers only datagrams to our port that passed the
     * kernel's checks; whatever else a capture holds is a bad outer
     * frame. */
    error = vxlan_decap_frame(p, in->tunnel.encap.dst_port, &vni);
    if (error) {
        memset(trace, 0, sizeof *trace);
        trace->drop = vxlan_error_to_drop(error);
        packet_free(p);
        return 0;
    }
    p->md.vni = vni;
    return dp_trace(dp, in_port, p, now_ms, ports, trace);
}

long long
dp_run_ageing(struct dp *dp, long long now_ms)
{
    long long macs = mac_table_expire_some(dp->macs, now_ms,
                                           DP_AGEING_SLICE);
    long long rules = flow_table_expire(dp->flows, now_ms, NULL, NULL);

    return MIN(macs, rules);
}

bool
dp_port_get_counters(const struct dp *dp, uint32_t port_no,
                     struct dp_counters *c)
{
    const struct dp_port *port = find_port(dp, port_no);

    if (port) {
        *c = port->counters;
    }
    return port != NULL;
}

bool
dp_vni_get_counters(const struct dp *dp, uint32_t vni, struct dp_counters *c)
{
    const struct dp_vni *v = find_vni(dp, vni);

    if (v) {
        *c = v->counters;
    }
    return v != NULL;
}
