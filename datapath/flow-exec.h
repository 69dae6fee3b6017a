#ifndef DATAPATH_FLOW_EXEC_H
#define DATAPATH_FLOW_EXEC_H 1

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

struct flow_rule;
struct packet;

/* Runs a frame through the flow tables: looks up table 0, executes the
 * rule's actions in order (rewriting the frame and its key as they say),
 * follows goto_table and resubmit, and hands copies of the frame to
 * whatever the actions send it to.  What a lookup, an output, normal and
 * flood do is the caller's business (the datapath's, or its trace's), which
 * is how forwarding and trace share every step. */

/* Why the tables dropped a frame. */
enum flow_exec_drop {
    FLOW_EXEC_NO_MATCH,         /* Table 0 or a goto_table target missed. */
    FLOW_EXEC_FLOW_DROP,        /* The actions sent the frame nowhere (an
                                 * empty list, say). */
    FLOW_EXEC_TOO_DEEP,         /* Resubmits nested past the limit. */
    FLOW_EXEC_NO_BUFFER,        /* No buffer for a copy. */
};

struct flow_exec_ops {
    /* Returns the rule of 'table_id' for 'key', or NULL for a miss.
     * 'depth' is the resubmit nesting. */
    struct flow_rule *(*lookup)(void *aux, uint8_t table_id,
                                const struct flow_key *key,
                                unsigned int depth, const struct packet *p);

    /* Each takes 'p'.  'key' describes it as the actions left it.
     * output's 'port_no' is FLOW_ACTION_IN_PORT for the in_port action. */
    void (*output)(void *aux, struct packet *p, const struct flow_key *key,
                   uint32_t port_no);
    void (*normal)(void *aux, struct packet *p, const struct flow_key *key);
    void (*flood)(void *aux, struct packet *p, const struct flow_key *key);

    /* Counts a drop (the frame, if it is one, is freed by the caller). */
    void (*drop)(void *aux, enum flow_exec_drop);
};

/* Runs 'p', whose key is 'key', through the tables from table 0, and
 * takes it.  'key' may be rewritten.  If the tables do not look at keys
 * (flow_table_is_trivial()), 'key' need only hold in_port and vni. */
void flow_exec_run(const struct flow_exec_ops *, void *aux, struct packet *p,
                   struct flow_key *key);

/* Does what flow_exec_run() does when table 0's lookup for 'key' gives
 * 'rule' (NULL for a miss), which the caller already knows: when no rule
 * looks at the frame, one lookup serves a whole batch. */
void flow_exec_rule(const struct flow_exec_ops *, void *aux,
                    struct packet *p, struct flow_key *key,
                    const struct flow_rule *rule);

/* Frame rewrites that actions make, exported for their tests.  Each keeps
 * p->md's header offsets and 'key' in step with the frame.  Return false
 * (frame unchanged) if the frame cannot take the change. */
bool flow_exec_push_vlan(struct packet *p, struct flow_key *key, be16 tpid);
bool flow_exec_strip_vlan(struct packet *p, struct flow_key *key);
bool flow_exec_set_vlan_vid(struct packet *p, struct flow_key *key,
                            uint16_t vid);

#endif /* datapath/flow-exec.h */
