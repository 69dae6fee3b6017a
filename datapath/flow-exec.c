#include <config.h>

#include "flow-exec.h"

#include <string.h>

#include "actions.h"
#include "flow-table.h"
#include "headers.h"
#include "packet.h"
#include "util.h"

struct exec {
    const struct flow_exec_ops *ops;
    void *aux;
    struct packet *p;           /* NULL once the last action took it. */
    struct flow_key *key;
    bool stopped;               /* Too deep: nothing more happens. */
    unsigned int n_resubmits;   /* So far, for this frame. */
    bool sent;                  /* An action sent the frame or a copy. */
    bool dropped;               /* A drop was counted. */
};

static void
exec_drop(struct exec *x, enum flow_exec_drop why)
{
    x->ops->drop(x->aux, why);
    x->dropped = true;
}

bool
flow_exec_push_vlan(struct packet *p, struct flow_key *key, be16 tpid)
{
    if (packet_size(p) < ETH_HEADER_LEN || !packet_push(p, VLAN_HEADER_LEN)) {
        return false;
    }

    uint8_t *frame = packet_data(p);
    /* The tag goes between the addresses and the old type field. */
    be16 tci = htons(FLOW_VLAN_PRESENT);

    memmove(frame, frame + VLAN_HEADER_LEN, 2 * ETH_ADDR_LEN);
    memcpy(frame + 2 * ETH_ADDR_LEN, &tpid, sizeof tpid);
    memset(frame + 2 * ETH_ADDR_LEN + 2, 0, 2);
    packet_shift_offsets(p, VLAN_HEADER_LEN);
    key->vlan_tci = tci;
    return true;
}

/* Returns the outer tag of 'p', or NULL if it has none. */
static struct vlan_header *
outer_tag(struct packet *p)
{
    const struct eth_header *eth = packet_at(p, 0, ETH_HEADER_LEN);

    if (!eth || (eth->eth_type != htons(ETH_TYPE_VLAN)
                 && eth->eth_type != htons(ETH_TYPE_VLAN_QINQ))) {
        return NULL;
    }
    return packet_at_rw(p, ETH_HEADER_LEN, VLAN_HEADER_LEN);
}

bool
flow_exec_strip_vlan(struct packet *p, struct flow_key *key)
{
    if (!outer_tag(p)) {
        return false;
    }

    uint8_t *frame = packet_data(p);

    memmove(frame + VLAN_HEADER_LEN, frame, 2 * ETH_ADDR_LEN);
    packet_pull(p, VLAN_HEADER_LEN);
    packet_shift_offsets(p, -VLAN_HEADER_LEN);

    /* An inner tag, if any, is the frame's tag now. */
    struct vlan_header *inner = outer_tag(p);

    key->vlan_tci = inner ? inner->vlan_tci | htons(FLOW_VLAN_PRESENT) : 0;
    return true;
}

bool
flow_exec_set_vlan_vid(struct packet *p, struct flow_key *key, uint16_t vid)
{
    struct vlan_header *tag = outer_tag(p);

    if (!tag) {
        return false;
    }
    tag->vlan_tci = htons((ntohs(tag->vlan_tci) & ~VLAN_VID_MASK)
                          | (vid & VLAN_VID_MASK));
    key->vlan_tci = tag->vlan_tci | htons(FLOW_VLAN_PRESENT);
    return true;
}

static void
set_eth(struct packet *p, struct flow_key *key, const struct eth_addr *mac,
        bool source)
{
    struct eth_header *eth = packet_at_rw(p, 0, ETH_HEADER_LEN);

    if (eth) {
        if (source) {
            eth->eth_src = *mac;
            key->dl_src = *mac;
        } else {
            eth->eth_dst = *mac;
            key->dl_dst = *mac;
        }
    }
}

static void run_list(struct exec *, const struct flow_actions *,
                     uint8_t table_id, unsigned int depth, bool tail);

/* Returns the frame for an action that sends it: the frame itself if the
 * action is the last thing that will happen to it, else a copy. */
static inline struct packet *
frame_to_send(struct exec *x, bool last)
{
    struct packet *p;

    if (last) {
        p = x->p;
        x->p = NULL;
    } else {
        p = packet_clone(x->p);
        if (!p) {
            exec_drop(x, FLOW_EXEC_NO_BUFFER);
        }
    }
    x->sent |= p != NULL;
    return p;
}

static void
resubmit(struct exec *x, const struct flow_action *a, uint8_t table_id,
         unsigned int depth, bool last)
{
    uint8_t table = a->resubmit.table == FLOW_ACTION_TABLE_SAME
                    ? table_id : a->resubmit.table;
    uint32_t saved_port = x->key->in_port;

    if (depth + 1 > FLOW_ACTION_MAX_DEPTH
        || ++x->n_resubmits > FLOW_ACTION_MAX_RESUBMITS) {
        exec_drop(x, FLOW_EXEC_TOO_DEEP);
        x->stopped = true;
        return;
    }
    if (a->resubmit.port != FLOW_ACTION_IN_PORT) {
        x->key->in_port = a->resubmit.port;
    }

    struct flow_rule *rule = x->ops->lookup(x->aux, table, x->key,
                                            depth + 1, x->p);

    x->key->in_port = saved_port;
    /* A miss inside a resubmit does nothing, as in Open vSwitch. */
    if (rule) {
        run_list(x, rule->actions, table, depth + 1, last);
    }
}

/* Runs the actions of 'rule', which table 'table' gave, or counts the
 * miss. */
static void
run_rule(struct exec *x, const struct flow_rule *rule, uint8_t table,
         unsigned int depth, bool last)
{
    if (!rule) {
        exec_drop(x, FLOW_EXEC_NO_MATCH);
    } else {
        run_list(x, rule->actions, table, depth, last);
    }
}

static void
goto_table(struct exec *x, uint8_t table, unsigned int depth, bool last)
{
    run_rule(x, x->ops->lookup(x->aux, table, x->key, depth, x->p), table,
             depth, last);
}

/* Inlined into run_list(), its one caller, which the nesting of resubmit
 * and goto_table goes through. */
static inline __attribute__((always_inline)) void
run_action(struct exec *x, const struct flow_action *a, uint8_t table_id,
           unsigned int depth, bool last)
{
    struct packet *p;

    switch ((enum flow_action_type) a->type) {
    case FLOW_ACTION_NORMAL:
    case FLOW_ACTION_FLOOD:
    case FLOW_ACTION_OUTPUT:
    case FLOW_ACTION_OUTPUT_IN_PORT:
        p = frame_to_send(x, last);
        if (!p) {
            break;
        }
        if (a->type == FLOW_ACTION_NORMAL) {
            x->ops->normal(x->aux, p, x->key);
        } else if (a->type == FLOW_ACTION_FLOOD) {
            x->ops->flood(x->aux, p, x->key);
        } else {
            x->ops->output(x->aux, p, x->key,
                           a->type == FLOW_ACTION_OUTPUT_IN_PORT
                           ? FLOW_ACTION_IN_PORT : a->port);
        }
        break;
    case FLOW_ACTION_SET_TUN_ID:
    case FLOW_ACTION_SET_TUNNEL:
        x->key->vni = a->vni;
        x->p->md.vni = a->vni;
        break;
    case FLOW_ACTION_SET_TUN_DST:
        x->key->tun_dst = a->addr;
        x->p->md.tun_dst = a->addr;
        break;
    case FLOW_ACTION_SET_ETH_SRC:
    case FLOW_ACTION_MOD_DL_SRC:
        set_eth(x->p, x->key, &a->mac, true);
        break;
    case FLOW_ACTION_SET_ETH_DST:
    case FLOW_ACTION_MOD_DL_DST:
        set_eth(x->p, x->key, &a->mac, false);
        break;
    case FLOW_ACTION_SET_VLAN_VID:
        flow_exec_set_vlan_vid(x->p, x->key, a->vid);
        break;
    case FLOW_ACTION_MOD_VLAN_VID:
        if (!outer_tag(x->p)) {
            flow_exec_push_vlan(x->p, x->key, htons(ETH_TYPE_VLAN));
        }
        flow_exec_set_vlan_vid(x->p, x->key, a->vid);
        break;
    case FLOW_ACTION_PUSH_VLAN:
        flow_exec_push_vlan(x->p, x->key, a->tpid);
        break;
    case FLOW_ACTION_STRIP_VLAN:
        flow_exec_strip_vlan(x->p, x->key);
        break;
    case FLOW_ACTION_GOTO_TABLE:
        goto_table(x, a->table, depth, last);
        break;
    case FLOW_ACTION_RESUBMIT:
        resubmit(x, a, table_id, depth, last);
        break;
    case FLOW_ACTION_N_TYPES:
    default:
        break;
    }
}

/* Runs list 'a' of a rule of 'table_id'.  'tail' says that nothing follows
 * the list, so that its last action may take the frame itself. */
static void
run_list(struct exec *x, const struct flow_actions *a, uint8_t table_id,
         unsigned int depth, bool tail)
{
    for (size_t i = 0; i < a->n && x->p && !x->stopped; i++) {
        run_action(x, &a->acts[i], table_id, depth, tail && i == a->n - 1);
    }
}

/* Counts a frame that the actions sent nowhere as dropped, as an empty
 * list does, and frees what is left. */
static void
finish(struct exec *x)
{
    if (!x->sent && !x->dropped) {
        exec_drop(x, FLOW_EXEC_FLOW_DROP);
    }
    packet_free(x->p);
}

void
flow_exec_run(const struct flow_exec_ops *ops, void *aux, struct packet *p,
              struct flow_key *key)
{
    flow_exec_rule(ops, aux, p, key, ops->lookup(aux, 0, key, 0, p));
}

void
flow_exec_rule(const struct flow_exec_ops *ops, void *aux, struct packet *p,
               struct flow_key *key, const struct flow_rule *rule)
{
    struct exec x = { .ops = ops, .aux = aux, .p = p, .key = key };

    run_rule(&x, rule, 0, 0, true);
    finish(&x);
}
