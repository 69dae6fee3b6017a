#ifndef DATAPATH_MATCH_H
#define DATAPATH_MATCH_H 1

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

/* A match: the values a rule wants and the bits it looks at.  A 1 bit in
 * 'mask' means the same bit of a frame's key must equal the bit of 'key';
 * 0 means the rule does not care.  A match is kept normalized: every bit
 * of 'key' outside 'mask' is zero, so that two matches that select the same
 * frames compare equal byte for byte.  'layers' and 'error' are never part
 * of a match. */
struct match {
    struct flow_key key;
    struct flow_key mask;
};

/* Makes 'm' match every frame. */
void match_init_catchall(struct match *m);

/* Clears the bits of m->key that m->mask does not cover, and the fields
 * that are never matched. */
void match_normalize(struct match *m);

/* Says whether frame key 'key' satisfies 'm'. */
bool match_matches(const struct match *m, const struct flow_key *key);

bool match_equal(const struct match *a, const struct match *b);
bool match_is_catchall(const struct match *m);

/* Says whether every frame that 'rule' matches is also matched by
 * 'filter': the non-strict selection of del-flows, mod-flows and
 * dump-flows (a rule is selected if it is at least as specific as the
 * filter and agrees with it where the filter looks). */
bool match_is_subset_of(const struct match *rule, const struct match *filter);

#endif /* datapath/match.h */
