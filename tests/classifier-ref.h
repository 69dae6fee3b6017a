#ifndef TESTS_CLASSIFIER_REF_H
#define TESTS_CLASSIFIER_REF_H 1

#include <stdbool.h>
#include <stddef.h>

#include "classifier.h"

/* What the classifier's unit test and fuzz target share: the plain linear
 * scan they check it against, and the fields they make random rules of.
 *
 * 'rules' holds the 'n' rules in, in the order they went in, so that the
 * first of equal priority is the oldest.  Written for obviousness, not
 * speed. */

static inline const struct cls_rule *
classifier_ref_lookup(struct cls_rule *const *rules, size_t n,
                      const struct flow_key *key)
{
    const struct cls_rule *best = NULL;

    for (size_t i = 0; i < n; i++) {
        if (match_matches(&rules[i]->match, key)
            && (!best || rules[i]->priority > best->priority)) {
            best = rules[i];
        }
    }
    return best;
}

static inline const struct cls_rule *
classifier_ref_find(struct cls_rule *const *rules, size_t n,
                    const struct match *match, uint16_t priority)
{
    for (size_t i = 0; i < n; i++) {
        if (rules[i]->priority == priority
            && match_equal(&rules[i]->match, match)) {
            return rules[i];
        }
    }
    return NULL;
}

static inline bool
classifier_ref_needs_key(struct cls_rule *const *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!match_is_catchall(&rules[i]->match)) {
            return true;
        }
    }
    return false;
}

/* Takes 'rule' out of 'rules', keeping the order of the rest.  Returns
 * the new count. */
static inline size_t
classifier_ref_remove(struct cls_rule **rules, size_t n,
                      const struct cls_rule *rule)
{
    size_t j = 0;

    for (size_t i = 0; i < n; i++) {
        if (rules[i] != rule) {
            rules[j++] = rules[i];
        }
    }
    return j;
}

/* The matchable fields, by place in a flow_key, for building random masks
 * and keys. */
struct classifier_ref_field {
    size_t ofs;
    size_t len;
};

#define CLASSIFIER_REF_FIELD(NAME) \
    { offsetof(struct flow_key, NAME), sizeof ((struct flow_key *) 0)->NAME }

static const struct classifier_ref_field classifier_ref_fields[] = {
    CLASSIFIER_REF_FIELD(in_port), CLASSIFIER_REF_FIELD(vni),
    CLASSIFIER_REF_FIELD(tun_src), CLASSIFIER_REF_FIELD(tun_dst),
    CLASSIFIER_REF_FIELD(dl_dst), CLASSIFIER_REF_FIELD(dl_src),
    CLASSIFIER_REF_FIELD(dl_type), CLASSIFIER_REF_FIELD(vlan_tci),
    CLASSIFIER_REF_FIELD(nw_src), CLASSIFIER_REF_FIELD(nw_dst),
    CLASSIFIER_REF_FIELD(nw_proto), CLASSIFIER_REF_FIELD(nw_tos),
    CLASSIFIER_REF_FIELD(nw_ttl), CLASSIFIER_REF_FIELD(nw_frag),
    CLASSIFIER_REF_FIELD(tp_src), CLASSIFIER_REF_FIELD(tp_dst),
    CLASSIFIER_REF_FIELD(arp_sha), CLASSIFIER_REF_FIELD(arp_tha),
    CLASSIFIER_REF_FIELD(tcp_flags),
};

#define CLASSIFIER_REF_N_FIELDS \
    (sizeof classifier_ref_fields / sizeof classifier_ref_fields[0])

#endif /* tests/classifier-ref.h */
