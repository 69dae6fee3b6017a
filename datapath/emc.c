#include <config.h>

#include "emc.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

struct emc_entry {
    struct flow_key key;
    struct flow_rule *rule;
    uint64_t stamp;             /* The tables' generation plus one when it
                                 * was made: 0 never matches, so memory
                                 * fresh from calloc() is empty without
                                 * being touched. */
    uint32_t hash;
    uint8_t table_id;
};

struct emc {
    uint64_t basis;
    uint64_t mult;              /* Random and odd. */
    struct emc_entry entries[EMC_ENTRIES];
};

struct emc *
emc_create(void)
{
    struct emc *emc = calloc(1, sizeof *emc);

    if (emc) {
        emc->basis = hash_random_seed() | 1;
        emc->mult = hash_random_seed() | 1;
    }
    return emc;
}

void
emc_destroy(struct emc *emc)
{
    free(emc);
}

uint32_t
emc_hash(const struct emc *emc, uint8_t table_id, const struct flow_key *key,
         uint32_t flow_hash)
{
    /* The flow hash is mixed already: the rest goes in through a secret
     * multiplier, whose high half spreads every bit of its input. */
    uint64_t x = ((uint64_t) key->in_port << 32 | flow_hash)
                 ^ ((key->vni | (uint64_t) table_id << 24) * emc->mult);

    return (uint32_t) ((x * emc->basis) >> 32);
}

static bool
keys_equal(const struct flow_key *a, const struct flow_key *b)
{
    return !memcmp(a, b, sizeof *a);
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
    uint64_t stamp = generation + 1;

    for (int way = 0; way < 2; way++) {
        const struct emc_entry *e = &emc->entries[slot(hash, way)];

        if (e->hash == hash && e->stamp == stamp
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
    uint64_t stamp = generation + 1;
    struct emc_entry *a = &emc->entries[slot(hash, 0)];
    struct emc_entry *b = &emc->entries[slot(hash, 1)];
    /* A stale slot first; else the second way, so that two flows that
     * share a first slot can both stay. */
    struct emc_entry *e = a->stamp != stamp ? a
                          : b->stamp != stamp ? b
                          : a->hash & 1 ? a : b;

    e->key = *key;
    e->rule = rule;
    e->stamp = stamp;
    e->hash = hash;
    e->table_id = table_id;
}
