#include <config.h>

#include "classifier.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

/* The rules that share one mask.  Hashing and comparing touch only the mask
 * words that are not zero, kept in 'words' with their values in 'mask', so
 * that a rule on two fields costs two words rather than fourteen.
 *
 * Of the rules with one masked key (which differ in priority), only the
 * best is in 'rules': a lookup stops at the first rule that matches, however
 * many priorities a match is written at.  The others wait in 'shadowed'
 * until the one in front goes. */
struct cls_subtable {
    struct hmap_node node;      /* In classifier's 'subtables', by mask. */
    struct hmap rules;          /* Best cls_rule per masked key. */
    struct hmap shadowed;       /* The other cls_rule's, by masked key. */
    size_t n_rules;
    size_t pos;                 /* Index in the classifier's 'order'. */
    uint16_t max_priority;      /* Highest priority of its rules... */
    size_t max_count;           /* ...and how many rules have it. */
    size_t n_words;
    uint8_t words[FLOW_KEY_U64S]; /* Indexes of the nonzero mask words. */
    flow_u64 mask[FLOW_KEY_U64S]; /* The mask, word i at index words[i]. */
    uint64_t mul[FLOW_KEY_U64S];  /* Odd multipliers from the seed. */
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
 * the same function serves rules and frames.
 *
 * This runs once per subtable per lookup, so it is multilinear: the
 * products are independent and run side by side, and one mixing round at
 * the end spreads their sum, where a chain of hash_add64() would pay a
 * whole round per word. */
static inline uint32_t
subtable_hash(const struct cls_subtable *st, const flow_u64 *key,
              uint64_t basis)
{
    uint64_t h = 0;

    for (size_t i = 0; i < st->n_words; i++) {
        h += (key[st->words[i]] & st->mask[i]) * st->mul[i];
    }
    return hash_finish(hash_add64(basis, h));
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

/* Returns the rule of 'st' that matches 'key'.  Within a subtable a frame
 * has one masked key, and 'rules' holds one rule per masked key. */
static inline const struct cls_rule *
subtable_lookup(const struct cls_subtable *st, const flow_u64 *key,
                uint64_t basis)
{
    const struct cls_rule *rule;

    HMAP_FOR_EACH_WITH_HASH (rule, node, subtable_hash(st, key, basis),
                             &st->rules) {
        if (subtable_matches(st, rule, key)) {
            return rule;
        }
    }
    return NULL;
}

/* Returns the rule of highest priority in 'map', one of the maps of 'st',
 * with masked key 'key' (whose hash is 'hash') and, unless it is
 * negative, with 'priority'. */
static struct cls_rule *
find_key(const struct cls_subtable *st, const struct hmap *map,
         const flow_u64 *key, uint32_t hash, int priority)
{
    struct cls_rule *best = NULL;
    struct cls_rule *rule;

    HMAP_FOR_EACH_WITH_HASH (rule, node, hash, map) {
        if ((priority < 0 || rule->priority == priority)
            && subtable_matches(st, rule, key)
            && (!best || rule->priority > best->priority)) {
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
    uint32_t hash = subtable_hash(st, k, cls->basis);
    struct cls_rule *head = find_key(st, &st->rules, k, hash, -1);

    return !head || head->priority == priority ? head
           : find_key(st, &st->shadowed, k, hash, priority);
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
    hmap_init(&st->shadowed);
    st->full_mask = *mask;

    const flow_u64 *m = flow_key_u64s(mask);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        if (m[i]) {
            st->words[st->n_words] = (uint8_t) i;
            st->mask[st->n_words] = m[i];
            st->mul[st->n_words] = hash_add64(cls->basis, i) | 1;
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
    hmap_destroy(&st->shadowed);
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
        hmap_destroy(&cls->order[i]->shadowed);
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

/* Files 'rule' in 'map' of 'st' just after a rule left that map, which
 * leaves room: unlike hmap_insert() in general, this cannot fail. */
static void
refile(struct hmap *map, struct cls_rule *rule, uint32_t hash)
{
    int error = hmap_insert(map, &rule->node, hash);

    assert(!error);
    (void) error;
}

/* Files 'rule', with masked-key hash 'hash', in 'st', where 'head' is the
 * rule in front for the same masked key, if any.  Returns 0 or ENOMEM,
 * leaving 'st' as it was. */
static int
file_rule(struct cls_subtable *st, struct cls_rule *head,
          struct cls_rule *rule, uint32_t hash)
{
    if (!head) {
        return hmap_insert(&st->rules, &rule->node, hash);
    }
    if (rule->priority < head->priority) {
        return hmap_insert(&st->shadowed, &rule->node, hash);
    }
    hmap_remove(&st->rules, &head->node);
    if (hmap_insert(&st->shadowed, &head->node, hash)) {
        refile(&st->rules, head, hash);
        return ENOMEM;
    }
    refile(&st->rules, rule, hash);
    return 0;
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
    }

    const flow_u64 *k = flow_key_u64s(&rule->match.key);
    uint32_t hash = subtable_hash(st, k, cls->basis);
    struct cls_rule *head = find_key(st, &st->rules, k, hash, -1);

    if (head && (head->priority == rule->priority
                 || find_key(st, &st->shadowed, k, hash, rule->priority))) {
        return EEXIST;
    }
    if (file_rule(st, head, rule, hash)) {
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
 * highest priority went.  Linear, but only when that last one goes; the
 * shadowed rules are behind better ones, so 'rules' is enough. */
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

/* Takes 'rule' out of its subtable's maps; the next best rule of its
 * masked key, if any, steps in front. */
static void
unfile_rule(struct cls_subtable *st, struct cls_rule *rule)
{
    const flow_u64 *k = flow_key_u64s(&rule->match.key);
    uint32_t hash = rule->node.hash;

    if (find_key(st, &st->rules, k, hash, -1) != rule) {
        hmap_remove(&st->shadowed, &rule->node);
        return;
    }
    hmap_remove(&st->rules, &rule->node);

    struct cls_rule *next = find_key(st, &st->shadowed, k, hash, -1);

    if (next) {
        hmap_remove(&st->shadowed, &next->node);
        refile(&st->rules, next, hash);
    }
}

void
classifier_remove(struct classifier *cls, struct cls_rule *rule)
{
    struct cls_subtable *st = rule->subtable;

    unfile_rule(st, rule);
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
