#include <config.h>

#include "classifier.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

/* The rules that share one mask.  Hashing and comparing touch only the mask
 * words that are not zero, kept in 'words' with their values in 'mask', so
 * that a rule on two fields costs two words rather than fourteen. */
struct cls_subtable {
    struct hmap_node node;      /* In classifier's 'subtables', by mask. */
    struct hmap rules;          /* cls_rule's, by masked key. */
    size_t n_rules;
    size_t pos;                 /* Index in the classifier's 'order'. */
    uint16_t max_priority;      /* Highest priority of its rules... */
    size_t max_count;           /* ...and how many rules have it. */
    size_t n_words;
    uint8_t words[FLOW_KEY_U64S]; /* Indexes of the nonzero mask words. */
    flow_u64 mask[FLOW_KEY_U64S]; /* The mask, word i at index words[i]. */
    struct flow_key full_mask;  /* The whole mask, to find the subtable. */
};

static uint32_t
hash_mask(const struct flow_key *mask, uint64_t basis)
{
    const flow_u64 *m = flow_key_u64s(mask);
    uint64_t h = basis;

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        h = hash_add64(h, m[i]);
    }
    return hash_finish(h);
}

/* Hashes 'key' under the subtable's mask.  A rule's key is normalized, so
 * the same function serves rules and frames. */
static inline uint32_t
subtable_hash(const struct cls_subtable *st, const flow_u64 *key,
              uint64_t basis)
{
    uint64_t h = basis;

    for (size_t i = 0; i < st->n_words; i++) {
        h = hash_add64(h, key[st->words[i]] & st->mask[i]);
    }
    return hash_finish(h);
}

static inline bool
subtable_matches(const struct cls_subtable *st, const struct cls_rule *rule,
                 const flow_u64 *key)
{
    const flow_u64 *want = flow_key_u64s(&rule->match.key);

    for (size_t i = 0; i < st->n_words; i++) {
        size_t w = st->words[i];

        if ((key[w] & st->mask[i]) != want[w]) {
            return false;
        }
    }
    return true;
}

/* Says whether 'a' wins over 'b' (which may be NULL). */
static inline bool
rule_beats(const struct cls_rule *a, const struct cls_rule *b)
{
    return !b || a->priority > b->priority
           || (a->priority == b->priority && a->seq < b->seq);
}

/* Returns the best rule of 'st' that matches 'key'.  Rules with the same
 * masked key but other priorities share the hash, so the chain is walked
 * to its end. */
static inline const struct cls_rule *
subtable_lookup(const struct cls_subtable *st, const flow_u64 *key,
                uint64_t basis)
{
    const struct cls_rule *best = NULL;
    const struct cls_rule *rule;

    HMAP_FOR_EACH_WITH_HASH (rule, node, subtable_hash(st, key, basis),
                             &st->rules) {
        if (subtable_matches(st, rule, key) && rule_beats(rule, best)) {
            best = rule;
        }
    }
    return best;
}

static struct cls_subtable *
find_subtable(const struct classifier *cls, const struct flow_key *mask)
{
    struct cls_subtable *st;

    HMAP_FOR_EACH_WITH_HASH (st, node, hash_mask(mask, cls->basis),
                             &cls->subtables) {
        if (!memcmp(&st->full_mask, mask, sizeof *mask)) {
            return st;
        }
    }
    return NULL;
}

/* Returns the rule of 'st' with exactly 'key' (normalized) and 'priority'. */
static struct cls_rule *
subtable_find(const struct classifier *cls, const struct cls_subtable *st,
              const struct flow_key *key, uint16_t priority)
{
    const flow_u64 *k = flow_key_u64s(key);
    struct cls_rule *rule;

    HMAP_FOR_EACH_WITH_HASH (rule, node, subtable_hash(st, k, cls->basis),
                             &st->rules) {
        if (rule->priority == priority && subtable_matches(st, rule, k)) {
            return rule;
        }
    }
    return NULL;
}

/* Moves 'st' within the classifier's 'order' after its max priority
 * changed, so that 'order' stays sorted by max priority, descending. */
static void
reposition(struct classifier *cls, struct cls_subtable *st)
{
    struct cls_subtable **order = cls->order;
    size_t pos = st->pos;

    while (pos > 0 && order[pos - 1]->max_priority < st->max_priority) {
        order[pos] = order[pos - 1];
        order[pos]->pos = pos;
        pos--;
    }
    while (pos + 1 < cls->n_subtables
           && order[pos + 1]->max_priority > st->max_priority) {
        order[pos] = order[pos + 1];
        order[pos]->pos = pos;
        pos++;
    }
    order[pos] = st;
    st->pos = pos;
}

/* Creates an empty subtable for 'mask' and files it last in 'order' (the
 * first rule's insertion puts it in place).  Returns NULL if out of
 * memory. */
static struct cls_subtable *
create_subtable(struct classifier *cls, const struct flow_key *mask)
{
    struct cls_subtable *st = calloc(1, sizeof *st);
    struct cls_subtable **order = realloc(cls->order, (cls->n_subtables + 1)
                                                      * sizeof *order);

    if (order) {
        cls->order = order;
    }
    if (!st || !order
        || hmap_insert(&cls->subtables, &st->node,
                       hash_mask(mask, cls->basis))) {
        free(st);
        return NULL;
    }
    hmap_init(&st->rules);
    st->full_mask = *mask;

    const flow_u64 *m = flow_key_u64s(mask);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        if (m[i]) {
            st->words[st->n_words] = (uint8_t) i;
            st->mask[st->n_words] = m[i];
            st->n_words++;
        }
    }
    st->pos = cls->n_subtables;
    cls->order[cls->n_subtables++] = st;
    return st;
}

static void
destroy_subtable(struct classifier *cls, struct cls_subtable *st)
{
    memmove(&cls->order[st->pos], &cls->order[st->pos + 1],
            (cls->n_subtables - st->pos - 1) * sizeof *cls->order);
    cls->n_subtables--;
    for (size_t i = st->pos; i < cls->n_subtables; i++) {
        cls->order[i]->pos = i;
    }
    hmap_remove(&cls->subtables, &st->node);
    hmap_destroy(&st->rules);
    free(st);
}

void
classifier_init(struct classifier *cls)
{
    hmap_init(&cls->subtables);
    cls->order = NULL;
    cls->n_subtables = 0;
    cls->n_rules = 0;
    cls->next_seq = 0;
    cls->basis = hash_random_seed();
}

void
classifier_destroy(struct classifier *cls)
{
    if (!cls) {
        return;
    }
    for (size_t i = 0; i < cls->n_subtables; i++) {
        hmap_destroy(&cls->order[i]->rules);
        free(cls->order[i]);
    }
    free(cls->order);
    hmap_destroy(&cls->subtables);
}

void
cls_rule_init(struct cls_rule *rule, const struct match *match,
              uint16_t priority)
{
    memset(rule, 0, sizeof *rule);
    rule->match = *match;
    match_normalize(&rule->match);
    rule->priority = priority;
}

int
classifier_insert(struct classifier *cls, struct cls_rule *rule)
{
    struct cls_subtable *st = find_subtable(cls, &rule->match.mask);

    if (!st) {
        st = create_subtable(cls, &rule->match.mask);
        if (!st) {
            return ENOMEM;
        }
    } else if (subtable_find(cls, st, &rule->match.key, rule->priority)) {
        return EEXIST;
    }

    uint32_t hash = subtable_hash(st, flow_key_u64s(&rule->match.key),
                                  cls->basis);

    if (hmap_insert(&st->rules, &rule->node, hash)) {
        if (!st->n_rules) {
            destroy_subtable(cls, st);
        }
        return ENOMEM;
    }
    rule->subtable = st;
    rule->seq = cls->next_seq++;
    cls->n_rules++;
    if (!st->n_rules++ || rule->priority > st->max_priority) {
        st->max_priority = rule->priority;
        st->max_count = 1;
        reposition(cls, st);
    } else if (rule->priority == st->max_priority) {
        st->max_count++;
    }
    return 0;
}

/* Finds the highest priority left in 'st' after its last rule of the old
 * highest priority went.  Linear, but only when that last one goes. */
static void
recompute_max(struct cls_subtable *st)
{
    const struct cls_rule *rule;

    st->max_priority = 0;
    st->max_count = 0;
    HMAP_FOR_EACH (rule, node, &st->rules) {
        if (!st->max_count || rule->priority > st->max_priority) {
            st->max_priority = rule->priority;
            st->max_count = 1;
        } else if (rule->priority == st->max_priority) {
            st->max_count++;
        }
    }
}

void
classifier_remove(struct classifier *cls, struct cls_rule *rule)
{
    struct cls_subtable *st = rule->subtable;

    hmap_remove(&st->rules, &rule->node);
    rule->subtable = NULL;
    cls->n_rules--;
    if (!--st->n_rules) {
        destroy_subtable(cls, st);
    } else if (rule->priority == st->max_priority && !--st->max_count) {
        recompute_max(st);
        reposition(cls, st);
    }
}

const struct cls_rule *
classifier_lookup(const struct classifier *cls, const struct flow_key *key)
{
    const flow_u64 *k = flow_key_u64s(key);
    const struct cls_rule *best = NULL;

    for (size_t i = 0; i < cls->n_subtables; i++) {
        const struct cls_subtable *st = cls->order[i];

        /* On equal priority a later subtable may still hold an older
         * rule, so only a strictly lower one ends the search. */
        if (best && st->max_priority < best->priority) {
            break;
        }

        const struct cls_rule *rule = subtable_lookup(st, k, cls->basis);

        if (rule && rule_beats(rule, best)) {
            best = rule;
        }
    }
    return best;
}

struct cls_rule *
classifier_find_exactly(const struct classifier *cls,
                        const struct match *match, uint16_t priority)
{
    const struct cls_subtable *st = find_subtable(cls, &match->mask);

    return st ? subtable_find(cls, st, &match->key, priority) : NULL;
}

bool
classifier_needs_key(const struct classifier *cls)
{
    /* Empty subtables are freed and only one mask is all zeros, so any
     * second subtable, or a single one with a word, looks at the key. */
    return cls->n_subtables > 1
           || (cls->n_subtables == 1 && cls->order[0]->n_words > 0);
}
