#ifndef DATAPATH_ACTIONS_H
#define DATAPATH_ACTIONS_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte-order.h"
#include "eth-addr.h"

/* A rule's actions: a flat list that one loop executes in order, as Open
 * vSwitch's ofpacts are.  An empty list drops the frame.
 *
 * Some actions have two spellings with one effect (set_tunnel:5 and
 * set_field:5->tun_id); each spelling has its own type so that a rule
 * prints back as it was written, and the executor treats them alike. */

enum flow_action_type {
    FLOW_ACTION_NORMAL,         /* The learning switch of the frame's VNI. */
    FLOW_ACTION_FLOOD,          /* Every port of the VNI but the input, and
                                 * the VNI's flood target. */
    FLOW_ACTION_OUTPUT,         /* output:PORT ('port'). */
    FLOW_ACTION_SET_TUN_ID,     /* set_field:V->tun_id ('vni'). */
    FLOW_ACTION_SET_TUNNEL,     /* set_tunnel:V ('vni'). */
    FLOW_ACTION_SET_TUN_DST,    /* set_field:IP->tun_dst ('addr'). */
    FLOW_ACTION_SET_ETH_SRC,    /* set_field:MAC->eth_src ('mac'). */
    FLOW_ACTION_SET_ETH_DST,    /* set_field:MAC->eth_dst ('mac'). */
    FLOW_ACTION_MOD_DL_SRC,     /* mod_dl_src:MAC ('mac'). */
    FLOW_ACTION_MOD_DL_DST,     /* mod_dl_dst:MAC ('mac'). */
    FLOW_ACTION_SET_VLAN_VID,   /* set_field:V->vlan_vid ('vid'): changes
                                 * the tag of a tagged frame only. */
    FLOW_ACTION_MOD_VLAN_VID,   /* mod_vlan_vid:V ('vid'): pushes a tag
                                 * (PCP 0) if there is none. */
    FLOW_ACTION_PUSH_VLAN,      /* push_vlan:ETHERTYPE ('tpid'), VID 0. */
    FLOW_ACTION_STRIP_VLAN,     /* strip_vlan (also pop_vlan). */
    FLOW_ACTION_GOTO_TABLE,     /* goto_table:T ('table'), a later table;
                                 * ends the list. */
    FLOW_ACTION_RESUBMIT,       /* resubmit(PORT,T) ('resubmit'). */
    FLOW_ACTION_OUTPUT_IN_PORT, /* in_port (also output:in_port): out of
                                 * the port the frame came in on, which
                                 * output:PORT never sends to. */
    FLOW_ACTION_N_TYPES
};

/* resubmit()'s port when none is given: the frame's own in_port. */
#define FLOW_ACTION_IN_PORT UINT32_MAX
/* resubmit()'s table when none is given: the current table. */
#define FLOW_ACTION_TABLE_SAME 255

/* Resubmits nested deeper than this, or more of them in all for one frame
 * (a tree of resubmits may branch), drop the frame (counted), as Open
 * vSwitch limits both. */
#define FLOW_ACTION_MAX_DEPTH 64
#define FLOW_ACTION_MAX_RESUBMITS 4096

/* The most actions one rule may have. */
#define FLOW_ACTIONS_MAX 256

struct flow_action {
    uint8_t type;               /* enum flow_action_type. */
    union {
        uint32_t port;          /* OUTPUT: a port number. */
        uint32_t vni;           /* SET_TUN_ID, SET_TUNNEL: 24 bits. */
        struct in6_addr addr;   /* SET_TUN_DST: IPv4-mapped for IPv4. */
        struct eth_addr mac;    /* SET_ETH_*, MOD_DL_*. */
        uint16_t vid;           /* SET_VLAN_VID, MOD_VLAN_VID: 12 bits. */
        be16 tpid;              /* PUSH_VLAN: 0x8100 or 0x88a8. */
        uint8_t table;          /* GOTO_TABLE. */
        struct {
            uint32_t port;      /* FLOW_ACTION_IN_PORT for none. */
            uint8_t table;      /* FLOW_ACTION_TABLE_SAME for none. */
        } resubmit;
    };
};

/* An immutable list, allocated in one piece. */
struct flow_actions {
    size_t n;
    struct flow_action acts[];
};

/* Returns a new list holding copies of the 'n' actions of 'acts', or NULL
 * if memory is short.  The caller frees it with free(). */
struct flow_actions *flow_actions_create(const struct flow_action *acts,
                                         size_t n);

/* Returns a copy of 'a' (which may be NULL: a copy of an empty list), or
 * NULL if memory is short. */
struct flow_actions *flow_actions_clone(const struct flow_actions *a);

/* Says whether the two lists are the same, action by action and spelling
 * by spelling.  NULL equals an empty list. */
bool flow_actions_equal(const struct flow_actions *a,
                        const struct flow_actions *b);

/* Says whether 'a' outputs to, or resubmits from, port 'port_no'. */
bool flow_actions_use_port(const struct flow_actions *a, uint32_t port_no);

#endif /* datapath/actions.h */
