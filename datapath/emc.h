#ifndef DATAPATH_EMC_H
#define DATAPATH_EMC_H 1

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

struct flow_rule;

/* The exact-match cache in front of the classifier: (table, whole frame
 * key) -> rule, for the few thousand flows that carry most of the traffic,
 * so that they cost a hash and a compare instead of a walk over the
 * subtables.  Each key may live in one of two slots; a new entry takes the
 * emptier-looking one.  Entries carry the flow tables' generation number
 * when they were made and count as empty once it changes, so a rule change
 * forgets every entry at once without touching them. */

/* A power of 2.  4.4 MB, touched only as flows come: enough for the
 * 10,000 flows of dp-bench's acl scenario to stay with few collisions. */
#define EMC_ENTRIES 32768

struct emc;

/* Returns a new, empty cache, or NULL if memory is short.  emc_destroy()
 * accepts NULL. */
struct emc *emc_create(void);
void emc_destroy(struct emc *);

/* Returns the hash under which 'key' is cached for table 'table_id', from
 * 'flow_hash', the frame's flow hash (flow_hash_5tuple() of its key, which
 * the datapath computes once per frame anyway), mixed with what that hash
 * leaves out that most often tells flows apart (the input port, the VNI)
 * and the table.  Keys that differ only elsewhere share slots, which costs
 * lookups, never answers: a hit compares the whole key. */
uint32_t emc_hash(const struct emc *, uint8_t table_id,
                  const struct flow_key *key, uint32_t flow_hash);

/* Returns the rule cached for 'key' in 'table_id' under 'hash' at
 * 'generation', or NULL if there is none (which is not a miss of the
 * table: a miss is never cached). */
struct flow_rule *emc_lookup(const struct emc *, uint8_t table_id,
                             const struct flow_key *key, uint32_t hash,
                             uint64_t generation);

/* Caches 'rule' for 'key' in 'table_id'. */
void emc_insert(struct emc *, uint8_t table_id, const struct flow_key *key,
                uint32_t hash, uint64_t generation, struct flow_rule *rule);

#endif /* datapath/emc.h */
