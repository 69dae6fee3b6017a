#include <config.h>

#include "dp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "flow.h"
#include "hash.h"
#include "headers.h"
#include "hmap.h"
#include "inet.h"
#include "list.h"
#include "packet.h"
#include "tcp-gro.h"
#include "tso.h"
#include "util.h"

struct dp_vni {
    struct hmap_node node;      /* In dp's 'vnis'. */
    uint32_t vni;
    bool has_group;
    struct in6_addr group;
    struct in6_addr *flood_list;
    size_t n_flood;
    struct list ports;          /* Bound local ports: dp_port's 'vni_node'. */
    struct dp_counters counters;
};

struct dp_port {
    struct hmap_node node;      /* In dp's 'ports'. */
    uint32_t port_no;
    enum dp_port_kind kind;
    bool takes_gso;             /* Takes TCP super frames whole. */
    struct dp_vni *vni;         /* Local ports: the bound VNI, or NULL. */
    struct list vni_node;       /* In the VNI's 'ports' if bound. */
    struct packet_batch tx;     /* Frames waiting for the send callback. */
    struct list pending_node;   /* In dp's 'pending' while 'tx' has any. */
    struct dp_counters counters;

    /* Tunnel port only. */
    struct dp_tunnel_config tunnel;
};

struct dp {
    struct packet_pool *pool;
    struct mac_table *macs;
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
};

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
    if (!dp->macs) {
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
        free(v->flood_list);
        free(v);
    }
    hmap_destroy(&dp->ports);
    hmap_destroy(&dp->vnis);
    mac_table_destroy(dp->macs);
    free(dp);
}

struct mac_table *
dp_mac_table(struct dp *dp)
{
    return dp->macs;
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
dp_port_set_gso(struct dp *dp, uint32_t port_no, bool takes_gso)
{
    struct dp_port *port = find_port(dp, port_no);

    if (!port || port->kind != DP_PORT_LOCAL) {
        return port ? EINVAL : ENOENT;
    }
    port->takes_gso = takes_gso;
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
        || config->mtu < IPV6_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN
                         + ETH_HEADER_LEN) {
        return EINVAL;
    }
    port->tunnel = *config;
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
        && (c->n_flood || !inet_is_multicast(&c->group))) {
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
    free(v->flood_list);
    v->flood_list = list;
    v->n_flood = c->n_flood;
    v->has_group = !inet_is_unspecified(&c->group);
    v->group = c->group;
    return 0;
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
    free(v->flood_list);
    free(v);
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
count_drop(struct dp_port *in, struct dp_vni *v, enum dp_drop_reason reason)
{
    in->counters.drops[reason]++;
    if (v) {
        v->counters.drops[reason]++;
    }
}

static void
drop(struct dp_port *in, struct dp_vni *v, struct packet *p,
     enum dp_drop_reason reason)
{
    count_drop(in, v, reason);
    packet_free(p);
}

/* Queues 'p' for 'out'; sends a full batch at once.  A port that takes
 * super frames gets a TCP segment appended to the one queued before it,
 * where the two make a run (tcp-gro.h). */
static void
enqueue(struct dp *dp, struct dp_port *out, struct dp_vni *v,
        struct packet *p)
{
    /* The tunnel port counts the whole outer frame, as it goes on the
     * wire, though the port builds the outer headers after this. */
    size_t bytes = packet_size(p)
                   + (out->kind == DP_PORT_TUNNEL
                      ? vxlan_overhead(&p->md.tun_dst) - VXLAN_HEADER_LEN
                      : 0);

    out->counters.tx_packets++;
    out->counters.tx_bytes += bytes;
    v->counters.tx_packets++;
    v->counters.tx_bytes += bytes;
    if (out->takes_gso && out->tx.count
        && tcp_gro_merge(out->tx.packets[out->tx.count - 1], p)) {
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

/* Where the segments of a super frame go: to 'out', or encapsulated to
 * 'dst' if 'out' is NULL. */
struct segment_output {
    struct dp *dp;
    struct dp_port *in;
    struct dp_vni *v;
    struct dp_port *out;
    const struct in6_addr *dst;
};

static void encap_and_enqueue(struct dp *, struct dp_port *in,
                              struct dp_vni *, struct packet *,
                              const struct in6_addr *dst);

static void
emit_segment(void *so_, struct packet *seg)
{
    struct segment_output *so = so_;

    if (so->out) {
        enqueue(so->dp, so->out, so->v, seg);
    } else {
        encap_and_enqueue(so->dp, so->in, so->v, seg, so->dst);
    }
}

/* Cuts super frame 'p' into segments for 'so' and frees it. */
static void
segment(struct segment_output *so, struct packet *p)
{
    int error = tso_segment(p, so->dp->pool, emit_segment, so);

    if (error) {
        count_drop(so->in, so->v, error == ENOBUFS ? DP_DROP_NO_BUFFER
                                                   : DP_DROP_BAD_GSO);
    }
    packet_free(p);
}

/* Sends 'p' out of local port 'out', cut into segments first if it is a
 * super frame that 'out' does not take whole. */
static void
output(struct dp *dp, struct dp_port *in, struct dp_port *out,
       struct dp_vni *v, struct packet *p)
{
    if (p->md.gso_size && !out->takes_gso) {
        struct segment_output so = { dp, in, v, out, NULL };

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

/* Returns the flow hash of 'p', extracting its key if no stage before did:
 * with no flow table in front, only encapsulation needs one, and a frame
 * that a port parsed on receive (a TAP's super frame) has it already. */
static uint32_t
inner_hash(struct packet *p)
{
    if (!p->md.hash_valid) {
        struct flow_key key;

        extract_key(p, &key);
    }
    return p->md.hash;
}

/* Encapsulates 'p', which fits the underlay, for 'v' and queues it to the
 * tunnel port for underlay address 'dst'.  Only the VXLAN header goes on
 * here: the port builds the outer headers, or has the kernel build them
 * (vxlan.h). */
static void
encap_and_enqueue(struct dp *dp, struct dp_port *in, struct dp_vni *v,
                  struct packet *p, const struct in6_addr *dst)
{
    struct dp_port *tunnel = dp->tunnel;

    if (vxlan_encap(p, &tunnel->tunnel.encap, v->vni, dst)) {
        drop(in, v, p, DP_DROP_TOO_BIG);
        return;
    }
    enqueue(dp, tunnel, v, p);
}

/* Encapsulates 'p' for 'v' and queues it to the underlay address 'dst'; a
 * super frame is cut into segments first, each of which must fit. */
static void
output_remote(struct dp *dp, struct dp_port *in, struct dp_vni *v,
              struct packet *p, const struct in6_addr *dst)
{
    struct dp_port *tunnel = dp->tunnel;

    /* A tunnel port without an address is one whose device never opened. */
    if (!tunnel || inet_is_unspecified(&tunnel->tunnel.encap.local)) {
        drop(in, v, p, DP_DROP_NO_TUNNEL);
        return;
    }
    if (inet_is_ipv4(dst) != inet_is_ipv4(&tunnel->tunnel.encap.local)) {
        drop(in, v, p, DP_DROP_FAMILY);
        return;
    }

    /* The hash goes first, so that segmentation finds the headers parsed.
     * The underlay MTU bounds the outer IP packet: the whole inner frame
     * (for a super frame, its largest segment) plus the outer headers
     * after the outer Ethernet header. */
    size_t wire_len = packet_size(p);

    inner_hash(p);

    if (p->md.gso_size) {
        size_t hdr_len = tso_header_len(p);

        if (!hdr_len) {
            drop(in, v, p, DP_DROP_BAD_GSO);
            return;
        }
        wire_len = MIN(wire_len, hdr_len + p->md.gso_size);
    }
    if (wire_len + vxlan_overhead(dst) - ETH_HEADER_LEN
        > tunnel->tunnel.mtu) {
        drop(in, v, p, DP_DROP_TOO_BIG);
        return;
    }
    if (p->md.gso_size) {
        struct segment_output so = { dp, in, v, NULL, dst };

        segment(&so, p);
    } else {
        encap_and_enqueue(dp, in, v, p, dst);
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
                count_drop(in, v, DP_DROP_NO_BUFFER);
            }
        }
    }
    for (size_t i = 0; i < n_remote; i++) {
        struct packet *copy = --left ? packet_clone(p) : p;
        const struct in6_addr *dst = v->has_group ? &v->group
                                                  : &v->flood_list[i];

        if (copy) {
            output_remote(dp, in, v, copy, dst);
        } else {
            count_drop(in, v, DP_DROP_NO_BUFFER);
        }
    }
}

/* Sends 'p', whose source has been learned, where its destination is. */
static void
forward(struct dp *dp, struct dp_port *in, struct dp_vni *v,
        struct packet *p)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);
    bool from_underlay = in->kind == DP_PORT_TUNNEL;
    const struct mac_dest *entry = NULL;
    struct mac_dest copy;
    const struct mac_dest *dest = NULL;

    if (!eth_addr_is_multicast(&eth->eth_dst)) {
        entry = mac_table_lookup(dp->macs, v->vni, &eth->eth_dst);
    }
    if (entry) {
        /* The entry may go while the frame is on its way (a callback may
         * change the table); the frame keeps its own copy. */
        copy = *entry;
        dest = &copy;
    }
    if (!dest) {
        /* Split horizon: the sending VTEP flooded to the others itself. */
        flood(dp, in, v, p, !from_underlay);
    } else if (dest->type == MAC_DEST_REMOTE) {
        if (from_underlay) {
            drop(in, v, p, DP_DROP_SPLIT_HORIZON);
        } else {
            output_remote(dp, in, v, p, &dest->remote);
        }
    } else if (dest->port_no == in->port_no) {
        drop(in, v, p, DP_DROP_SAME_PORT);
    } else {
        struct dp_port *out = lookup_port(dp, dest->port_no);

        if (out && out->vni == v) {
            output(dp, in, out, v, p);
        } else {
            drop(in, v, p, DP_DROP_BAD_DEST);
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
 * frames it does not learn from ("nolearning"). */
static void
learn_and_forward(struct dp *dp, struct dp_port *in, struct dp_vni *v,
                  struct packet *p, const struct mac_dest *src,
                  long long now_ms)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);

    if (mac_table_learn(dp->macs, v->vni, &eth->eth_src, src, now_ms)
        == MAC_LEARN_MULTICAST) {
        drop(in, v, p, DP_DROP_BAD_SRC);
        return;
    }
    forward(dp, in, v, p);
}

static void
receive_local(struct dp *dp, struct dp_port *in, struct packet *p,
              long long now_ms)
{
    struct dp_vni *v = in->vni;

    if (!v) {
        drop(in, NULL, p, DP_DROP_NO_VNI);
        return;
    }
    if (packet_size(p) < ETH_HEADER_LEN) {
        drop(in, v, p, DP_DROP_RUNT);
        return;
    }
    v->counters.rx_packets++;
    v->counters.rx_bytes += packet_size(p);
    p->md.in_port = in->port_no;
    p->md.vni = v->vni;

    struct mac_dest src = { .type = MAC_DEST_PORT, .port_no = in->port_no };

    learn_and_forward(dp, in, v, p, &src, now_ms);
}

/* Frames from the tunnel port are UDP payloads (VXLAN header first) with
 * the outer addresses in p->md, as the VTEP's socket delivers them. */
/* A kernel vxlan device on this host hands its TCP segmentation offload
 * frames across a veth whole, and the UDP socket passes them on whole, up
 * to 64 KB of inner frame with no word of the segment size.  Such a frame,
 * longer than any the underlay MTU lets through and with its checksum
 * left to finish (which is how it shows it came from this host's stack),
 * is marked as a super frame of the largest segments that would have fit,
 * so that each output cuts it (or, a TAP, takes it whole) as it would a
 * VM's.  A long frame with a finished checksum (a peer with a larger MTU)
 * is left as it is: cutting it would give damaged data fresh checksums. */
static void
mark_super_frame(const struct dp_port *tunnel, struct packet *p)
{
    size_t max_frame = tunnel->tunnel.mtu + ETH_HEADER_LEN
                       - vxlan_overhead(&p->md.tun_src);
    size_t hdr_len;

    if (packet_size(p) > max_frame && p->md.csum_partial && !p->md.gso_size
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
 * or stack. */
static bool
from_this_host(const struct packet *p)
{
    return inet_is_loopback(&p->md.tun_src)
           || (inet_is_ipv4(&p->md.tun_src)
               && inet_equals(&p->md.tun_src, &p->md.tun_dst));
}

static void
receive_tunnel(struct dp *dp, struct dp_port *in, struct packet *p,
               long long now_ms)
{
    uint32_t vni;
    enum vxlan_error error = vxlan_decap_payload(p, &vni);

    if (error) {
        drop(in, NULL, p, vxlan_error_to_drop(error));
        return;
    }

    struct dp_vni *v = lookup_vni(dp, vni);

    if (!v) {
        drop(in, NULL, p, DP_DROP_UNKNOWN_VNI);
        return;
    }
    /* Multicast loopback or a misconfigured peer list: learning from it
     * would move local MACs onto ourselves. */
    if (inet_equals(&p->md.tun_src, &in->tunnel.encap.local)) {
        drop(in, v, p, DP_DROP_LOOPED);
        return;
    }
    /* No VTEP sends from these, and the kernel's IP stack drops such
     * "martian" sources before its own vxlan driver sees them. */
    if (!inet_is_unicast(&p->md.tun_src)) {
        drop(in, v, p, DP_DROP_BAD_REMOTE);
        return;
    }
    v->counters.rx_packets++;
    v->counters.rx_bytes += packet_size(p);
    p->md.in_port = in->port_no;
    /* A peer on this host may have left the inner checksum to offload;
     * whoever sends the frame on finishes it.  From anywhere else, a field
     * that looks so is what the sender chose, and taking it at its word
     * would give data damaged on the way a fresh checksum: such a frame
     * goes on as it came, for its receiver to check, as the kernel's
     * vxlan driver passes a frame it does not verify. */
    if (from_this_host(p)) {
        struct flow_key key;

        extract_key(p, &key);
        csum_detect_partial(p);
    }
    mark_super_frame(in, p);

    struct mac_dest src = { .type = MAC_DEST_REMOTE,
                            .remote = p->md.tun_src };

    learn_and_forward(dp, in, v, p, &src, now_ms);
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
 * batch's entries at once lets those misses overlap. */
static void
prefetch_macs(const struct dp *dp, const struct dp_port *in,
              const struct packet_batch *batch)
{
    struct mac_key keys[2 * PACKET_BATCH_MAX];
    const struct packet *p;
    size_t n = 0;

    BUILD_ASSERT(2 * PACKET_BATCH_MAX <= MAC_TABLE_PREFETCH_MAX);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        uint32_t vni;
        const struct eth_header *eth = peek_eth(in, p, &vni);

        if (eth) {
            keys[n++] = (struct mac_key) { vni, eth->eth_src };
            keys[n++] = (struct mac_key) { vni, eth->eth_dst };
        }
    }
    mac_table_prefetch(dp->macs, keys, n);
}

void
dp_receive(struct dp *dp, uint32_t in_port, struct packet_batch *batch,
           long long now_ms)
{
    struct dp_port *in = find_port(dp, in_port);
    struct packet *p;

    if (!in) {
        packet_batch_free(batch);
        return;
    }
    prefetch_macs(dp, in, batch);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        in->counters.rx_packets++;
        in->counters.rx_bytes += packet_size(p);
        if (in->kind == DP_PORT_TUNNEL) {
            receive_tunnel(dp, in, p, now_ms);
        } else {
            receive_local(dp, in, p, now_ms);
        }
    }
    packet_batch_init(batch);

    while (!list_is_empty(&dp->pending)) {
        flush_port(dp, CONTAINER_OF(list_front(&dp->pending),
                                    struct dp_port, pending_node));
    }
}

long long
dp_run_ageing(struct dp *dp, long long now_ms)
{
    return mac_table_expire(dp->macs, now_ms);
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
