#include <config.h>

#include "actions.h"

#include <stdlib.h>
#include <string.h>

struct flow_actions *
flow_actions_create(const struct flow_action *acts, size_t n)
{
    struct flow_actions *a = malloc(sizeof *a + n * sizeof a->acts[0]);

    if (a) {
        a->n = n;
        if (n) {
            memcpy(a->acts, acts, n * sizeof a->acts[0]);
        }
    }
    return a;
}

struct flow_actions *
flow_actions_clone(const struct flow_actions *a)
{
    return a ? flow_actions_create(a->acts, a->n)
             : flow_actions_create(NULL, 0);
}

/* Compares one action's meaningful bytes: the union's unused bytes are
 * whatever the creator left there. */
static bool
action_equal(const struct flow_action *a, const struct flow_action *b)
{
    if (a->type != b->type) {
        return false;
    }
    switch ((enum flow_action_type) a->type) {
    case FLOW_ACTION_OUTPUT:
        return a->port == b->port;
    case FLOW_ACTION_SET_TUN_ID:
    case FLOW_ACTION_SET_TUNNEL:
        return a->vni == b->vni;
    case FLOW_ACTION_SET_TUN_DST:
        return !memcmp(&a->addr, &b->addr, sizeof a->addr);
    case FLOW_ACTION_SET_ETH_SRC:
    case FLOW_ACTION_SET_ETH_DST:
    case FLOW_ACTION_MOD_DL_SRC:
    case FLOW_ACTION_MOD_DL_DST:
        return eth_addr_equals(&a->mac, &b->mac);
    case FLOW_ACTION_SET_VLAN_VID:
    case FLOW_ACTION_MOD_VLAN_VID:
        return a->vid == b->vid;
    case FLOW_ACTION_PUSH_VLAN:
        return a->tpid == b->tpid;
    case FLOW_ACTION_GOTO_TABLE:
        return a->table == b->table;
    case FLOW_ACTION_RESUBMIT:
        return a->resubmit.port == b->resubmit.port
               && a->resubmit.table == b->resubmit.table;
    case FLOW_ACTION_NORMAL:
    case FLOW_ACTION_FLOOD:
    case FLOW_ACTION_STRIP_VLAN:
    case FLOW_ACTION_N_TYPES:
    default:
        return true;
    }
}

bool
flow_actions_equal(const struct flow_actions *a,
                   const struct flow_actions *b)
{
    size_t na = a ? a->n : 0;
    size_t nb = b ? b->n : 0;

    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (!action_equal(&a->acts[i], &b->acts[i])) {
            return false;
        }
    }
    return true;
}

bool
flow_actions_use_port(const struct flow_actions *a, uint32_t port_no)
{
    for (size_t i = 0; a && i < a->n; i++) {
        const struct flow_action *act = &a->acts[i];

        if ((act->type == FLOW_ACTION_OUTPUT && act->port == port_no)
            || (act->type == FLOW_ACTION_RESUBMIT
                && act->resubmit.port == port_no)) {
            return true;
        }
    }
    return false;
}
