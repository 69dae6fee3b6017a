#ifndef DATAPATH_CLASSIFIER_H
#define DATAPATH_CLASSIFIER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "match.h"

/* The classifier: a set of rules (a match and a priority) that answers
 * "which rule of highest priority matches this frame's key?".  It knows
 * nothing of actions, tables or counters; whoever embeds a cls_rule in a
 * bigger structure gets it back with CONTAINER_OF.
 *
 * Tuple-space search: rules with the same mask share a subtable, a hash
 * table keyed by the masked key.  A lookup visits subtables in order of the
 * highest priority they hold and stops as soon as no subtable left can hold
 * a better rule.  Among rules of equal priority that match the same frame,
 * the one inserted first wins, so that an answer never depends on hash
 * order.
 *
 * A rule is immutable while inserted: to change one, remove it and insert
 * a new one. */

struct cls_subtable;

struct cls_rule {
    struct hmap_node node;      /* In its subtable's rules. */
    struct cls_subtable *subtable;
    uint64_t seq;               /* Insertion order: lower wins a tie. */
    struct match match;         /* Normalized. */
    uint16_t priority;
};

struct classifier {
    struct hmap subtables;      /* cls_subtable's, by mask. */
    struct cls_subtable **order; /* By highest priority, descending. */
    size_t n_subtables;
    size_t n_rules;
    uint64_t next_seq;
    uint64_t basis;             /* Random hash seed. */
};

void classifier_init(struct classifier *);

/* Frees the classifier's own memory; the rules it still holds stay the
 * caller's. */
void classifier_destroy(struct classifier *);

/* Initializes 'rule' from 'match' (normalized on the way in) and
 * 'priority'.  The caller owns 'rule'. */
void cls_rule_init(struct cls_rule *rule, const struct match *match,
                   uint16_t priority);

/* Inserts 'rule'.  Returns 0, EEXIST if a rule with an equal match and
 * priority is in already (the classifier is unchanged), or ENOMEM. */
int classifier_insert(struct classifier *, struct cls_rule *);

/* Removes 'rule', which must be in 'cls'. */
void classifier_remove(struct classifier *, struct cls_rule *);

/* Returns the best rule that matches 'key', or NULL. */
const struct cls_rule *classifier_lookup(const struct classifier *,
                                         const struct flow_key *key);

/* Returns the rule with exactly 'match' (normalized by the caller) and
 * 'priority', or NULL. */
struct cls_rule *classifier_find_exactly(const struct classifier *,
                                         const struct match *match,
                                         uint16_t priority);

static inline size_t
classifier_count(const struct classifier *cls)
{
    return cls->n_rules;
}

/* Says whether a lookup needs the frame's key at all: false when every
 * rule matches every frame (the default table), so the datapath can skip
 * parsing. */
bool classifier_needs_key(const struct classifier *);

#endif /* datapath/classifier.h */
