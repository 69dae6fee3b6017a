#ifndef DATAPATH_FLOW_TABLE_H
#define DATAPATH_FLOW_TABLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "classifier.h"
#include "flow-text.h"
#include "list.h"

/* The OpenFlow-like tables: 255 tables (0-254) of rules, each a match, a
 * priority, a cookie, actions, timeouts and counters.  A rule is identified
 * by its table, priority and match, as in OpenFlow: adding a rule with the
 * identity of one that exists replaces it.
 *
 * The module keeps rules and answers lookups; executing actions is the
 * datapath's business (dp.c).  Every change bumps a generation number, so
 * that caches in front of the tables know when to forget. */

#define FLOW_TABLE_N_TABLES 255
#define FLOW_TABLE_DEFAULT_MAX_RULES 65536

struct flow_rule {
    struct cls_rule cr;         /* Match and priority. */
    struct list node;           /* In the flow_table's 'rules'. */
    struct list timed_node;     /* In 'timed' if it has a timeout. */
    uint8_t table_id;
    uint64_t cookie;
    uint16_t idle_timeout;      /* Seconds, 0 for none. */
    uint16_t hard_timeout;
    long long created_ms;
    long long used_ms;          /* Last frame, or creation. */
    uint64_t n_packets;
    uint64_t n_bytes;
    struct flow_actions *actions; /* Owned; never NULL. */
};

struct flow_table;

/* Returns new tables holding no rules and taking at most 'max_rules' (0:
 * FLOW_TABLE_DEFAULT_MAX_RULES), or NULL if memory is short.
 * flow_table_destroy() frees every rule and accepts NULL. */
struct flow_table *flow_table_create(size_t max_rules);
void flow_table_destroy(struct flow_table *);

void flow_table_set_max_rules(struct flow_table *, size_t max_rules);
size_t flow_table_max_rules(const struct flow_table *);
size_t flow_table_count(const struct flow_table *);

/* Bumped by every change; caches compare it with the one they saw. */
uint64_t flow_table_generation(const struct flow_table *);

/* Adds the default rule of a new bridge, table=0,priority=0,
 * actions=normal.  Returns 0 or ENOMEM. */
int flow_table_add_default(struct flow_table *, long long now_ms);

/* Returns the best rule of table 'table_id' for 'key', or NULL for a
 * miss.  'key' may be NULL while flow_table_is_trivial(). */
struct flow_rule *flow_table_lookup(const struct flow_table *,
                                    uint8_t table_id,
                                    const struct flow_key *key);

/* Says whether any table but 0 has rules, or table 0 has a rule that
 * looks at the frame: if not, every frame meets the same rule and no
 * cache is worth its lookup. */
bool flow_table_is_trivial(const struct flow_table *);

/* Adds the rule 'spec' describes (FLOW_TEXT_ADD; a missing table is 0),
 * replacing one with its identity, whose counters go with it, as
 * OpenFlow's add does.  Returns 0, ENOSPC if the tables hold their maximum
 * already, EINVAL (a goto_table not to a later table) or ENOMEM.  If
 * 'replaced' is not NULL, it says whether a rule was replaced. */
int flow_table_add(struct flow_table *, const struct flow_spec *spec,
                   long long now_ms, bool *replaced);

/* Says which rules a filter selects: the table (all if -1), cookie under
 * cookie_mask, and the match: with 'strict', an equal match and priority;
 * without, every rule at least as specific as the filter's match. */
bool flow_rule_is_selected(const struct flow_rule *,
                           const struct flow_spec *filter, bool strict);

/* Replaces the actions of every selected rule with spec's; cookie,
 * counters and timeouts stay, as OpenFlow 1.1's modify does.  Selecting
 * no rule is not an error.  Sets '*n_changed'.  Returns 0 or ENOMEM (no
 * rule changed). */
int flow_table_modify(struct flow_table *, const struct flow_spec *spec,
                      bool strict, size_t *n_changed);

/* Deletes every selected rule ('filter' NULL: every rule).  Sets
 * '*n_deleted' if not NULL.  'deleted', if not NULL, is called with each
 * rule before it goes. */
void flow_table_delete(struct flow_table *, const struct flow_spec *filter,
                       bool strict, size_t *n_deleted,
                       void (*deleted)(const struct flow_rule *, void *aux),
                       void *aux);

/* Returns the selected rules ('filter' NULL: all), sorted by table, then
 * priority from the highest, then age, in a new array of '*n' that the
 * caller frees; the rules stay the table's and are valid until the next
 * change.  Returns NULL with '*n' 0 if there are none or memory is
 * short. */
struct flow_rule **flow_table_select(const struct flow_table *,
                                     const struct flow_spec *filter,
                                     bool strict, size_t *n);

/* Finds the rule with the identity of 'spec' (table, priority, match). */
struct flow_rule *flow_table_find(const struct flow_table *,
                                  const struct flow_spec *spec);

/* Says whether rule 'r' is what 'spec' would add: same cookie, timeouts
 * and actions (its identity is assumed equal). */
bool flow_rule_equals_spec(const struct flow_rule *r,
                           const struct flow_spec *spec);

/* Fills 'spec' with a view of 'r' as flow_text_parse() would give it for
 * FLOW_TEXT_ADD (its actions stay the rule's: do not uninit the spec). */
void flow_rule_to_spec(const struct flow_rule *r, struct flow_spec *spec);

/* Counts 'n_packets' frames of 'n_bytes' against 'r' at 'now_ms'.  The
 * datapath calls it once per rule per batch. */
static inline void
flow_rule_account(struct flow_rule *r, uint64_t n_packets, uint64_t n_bytes,
                  long long now_ms)
{
    r->n_packets += n_packets;
    r->n_bytes += n_bytes;
    r->used_ms = now_ms;
}

/* Removes the rules whose idle or hard timeout has passed at 'now_ms',
 * calling 'expired' with each first (if not NULL).  Returns when it next
 * needs to run, or LLONG_MAX if no rule has a timeout. */
long long flow_table_expire(struct flow_table *, long long now_ms,
                            void (*expired)(const struct flow_rule *,
                                            void *aux),
                            void *aux);

/* Observing: each rule added, replaced or given new actions (modified),
 * deleted (removed) or timed out (expired), as it happens, for the event
 * stream of vswitch-ctl monitor.  A rule that goes is reported before it
 * does.  The callback must not change the tables.  'cb' NULL: none. */
enum flow_table_event {
    FLOW_EVENT_ADDED,
    FLOW_EVENT_MODIFIED,
    FLOW_EVENT_REMOVED,
    FLOW_EVENT_EXPIRED,
};

typedef void flow_table_observer_cb(void *aux, enum flow_table_event,
                                    const struct flow_rule *);

void flow_table_set_observer(struct flow_table *, flow_table_observer_cb *cb,
                             void *aux);

#endif /* datapath/flow-table.h */
