#include <config.h>

#include "match.h"

#include <stddef.h>
#include <string.h>

void
match_init_catchall(struct match *m)
{
    memset(m, 0, sizeof *m);
}

void
match_normalize(struct match *m)
{
    m->mask.layers = 0;
    m->mask.error = 0;

    flow_u64 *key = (flow_u64 *) &m->key;
    const flow_u64 *mask = flow_key_u64s(&m->mask);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        key[i] &= mask[i];
    }
}

bool
match_matches(const struct match *m, const struct flow_key *key)
{
    const flow_u64 *want = flow_key_u64s(&m->key);
    const flow_u64 *mask = flow_key_u64s(&m->mask);
    const flow_u64 *have = flow_key_u64s(key);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        if ((have[i] & mask[i]) != want[i]) {
            return false;
        }
    }
    return true;
}

bool
match_equal(const struct match *a, const struct match *b)
{
    return !memcmp(a, b, sizeof *a);
}

bool
match_is_catchall(const struct match *m)
{
    const flow_u64 *mask = flow_key_u64s(&m->mask);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        if (mask[i]) {
            return false;
        }
    }
    return true;
}

bool
match_is_subset_of(const struct match *rule, const struct match *filter)
{
    const flow_u64 *rkey = flow_key_u64s(&rule->key);
    const flow_u64 *rmask = flow_key_u64s(&rule->mask);
    const flow_u64 *fkey = flow_key_u64s(&filter->key);
    const flow_u64 *fmask = flow_key_u64s(&filter->mask);

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        if ((fmask[i] & ~rmask[i]) || (rkey[i] & fmask[i]) != fkey[i]) {
            return false;
        }
    }
    return true;
}
