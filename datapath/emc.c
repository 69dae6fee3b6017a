#include <config.h>

#include "emc.h"

#include <stdlib.h>

#include "hash.h"
#include "util.h"

struct emc_entry {
    struct flow_key key;
    struct flow_rule *rule;
    uint64_t generation;
    uint32_t hash;
    uint8_t table_id;
};

struct emc {
    uint64_t basis;
    uint64_t mult[FLOW_KEY_U64S]; /* Random and odd, one per key word. */
    struct emc_entry entries[EMC_ENTRIES];
};

struct emc *
emc_create(void)
{
    struct emc *emc = calloc(1, sizeof *emc);

    if (emc) {
        emc->basis = hash_random_seed();
        for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
            emc->mult[i] = hash_random_seed() | 1;
        }
        /* calloc()'s zero generation is one the tables have at their
         * start: mark every entry as from no generation at all. */
        for (size_t i = 0; i < EMC_ENTRIES; i++) {
            emc->entries[i].generation = UINT64_MAX;
        }
    }
    return emc;
}

void
emc_destroy(struct emc *emc)
{
    free(emc);
}

uint32_t
emc_hash(const struct emc *emc, uint8_t table_id, const struct flow_key *key)
{
    const flow_u64 *w = flow_key_u64s(key);
    uint64_t h = emc->basis ^ table_id;

    /* Multilinear with secret multipliers: the products are independent,
     * so they run side by side, and one final round mixes them.  'layers'
     * and 'error' share the last word with TCP flags; they follow from the
     * frame's bytes like everything else, so they may stay in. */
    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        h += (w[i] ^ (w[i] >> 29)) * emc->mult[i];
    }
    return hash_finish(hash_add64(0, h));
}

static bool
keys_equal(const struct flow_key *a, const struct flow_key *b)
{
    const flow_u64 *x = flow_key_u64s(a);
    const flow_u64 *y = flow_key_u64s(b);
    uint64_t diff = 0;

    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        diff |= x[i] ^ y[i];
    }
    return !diff;
}

/* The two slots 'hash' may use. */
static size_t
slot(uint32_t hash, int way)
{
    return (way ? hash >> 16 ^ hash << 3 : hash) & (EMC_ENTRIES - 1);
}

struct flow_rule *
emc_lookup(const struct emc *emc, uint8_t table_id,
           const struct flow_key *key, uint32_t hash, uint64_t generation)
{
    for (int way = 0; way < 2; way++) {
        const struct emc_entry *e = &emc->entries[slot(hash, way)];

        if (e->hash == hash && e->generation == generation
            && e->table_id == table_id && keys_equal(&e->key, key)) {
            return e->rule;
        }
    }
    return NULL;
}

void
emc_insert(struct emc *emc, uint8_t table_id, const struct flow_key *key,
           uint32_t hash, uint64_t generation, struct flow_rule *rule)
{
    struct emc_entry *a = &emc->entries[slot(hash, 0)];
    struct emc_entry *b = &emc->entries[slot(hash, 1)];
    /* A stale slot first; else the second way, so that two flows that
     * share a first slot can both stay. */
    struct emc_entry *e = a->generation != generation ? a
                          : b->generation != generation ? b
                          : a->hash & 1 ? a : b;

    e->key = *key;
    e->rule = rule;
    e->generation = generation;
    e->hash = hash;
    e->table_id = table_id;
}
