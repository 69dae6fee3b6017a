#ifndef DATAPATH_HMAP_H
#define DATAPATH_HMAP_H 1

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Intrusive hash map with chaining.  The caller computes the hash and
 * compares keys; the map only files nodes by hash.  Destroying a map frees
 * its bucket array, never its elements. */
struct hmap_node {
    uint32_t hash;
    struct hmap_node *next;
};

struct hmap {
    struct hmap_node **buckets;
    size_t mask;                /* Number of buckets minus one. */
    size_t count;
};

void hmap_init(struct hmap *);
void hmap_destroy(struct hmap *);

/* Inserts 'node' with 'hash'; grows the bucket array when the map gets
 * denser than one node per bucket.  Returns ENOMEM, leaving the map as it
 * was, if growing fails. */
int hmap_insert(struct hmap *, struct hmap_node *, uint32_t hash);
void hmap_remove(struct hmap *, struct hmap_node *);

/* Grows the bucket array at once to one bucket per node for 'n' nodes (a
 * power of two, as every growth), so that inserting up to 'n' moves no
 * node again.  Returns 0, or ENOMEM leaving the map as it was. */
int hmap_reserve(struct hmap *, size_t n);

static inline size_t
hmap_count(const struct hmap *map)
{
    return map->count;
}

static inline struct hmap_node *
hmap_first_with_hash(const struct hmap *map, uint32_t hash)
{
    struct hmap_node *node = map->buckets[hash & map->mask];

    while (node && node->hash != hash) {
        node = node->next;
    }
    return node;
}

static inline struct hmap_node *
hmap_next_with_hash(const struct hmap_node *node)
{
    uint32_t hash = node->hash;

    for (node = node->next; node && node->hash != hash; node = node->next) {
        continue;
    }
    return (struct hmap_node *) node;
}

/* Returns the first node in bucket order at or after bucket '*pos', and
 * leaves '*pos' where the next call should continue.  Used by iteration. */
struct hmap_node *hmap_at(const struct hmap *, size_t *bucket,
                          const struct hmap_node *prev);

#define HMAP_FOR_EACH_WITH_HASH(ITER, MEMBER, HASH, MAP)                    \
    for (struct hmap_node *ITER##_node_ = hmap_first_with_hash(MAP, HASH);  \
         ITER##_node_                                                       \
         && ((ITER) = CONTAINER_OF(ITER##_node_, __typeof__(*(ITER)),       \
                                   MEMBER), 1);                             \
         ITER##_node_ = hmap_next_with_hash(ITER##_node_))

/* Iterates over every node; the body may remove 'ITER' itself. */
#define HMAP_FOR_EACH_SAFE(ITER, MEMBER, MAP)                               \
    for (size_t ITER##_pos_ = 0, ITER##_once_ = 1; ITER##_once_;            \
         ITER##_once_ = 0)                                                  \
        for (struct hmap_node *ITER##_node_ = hmap_at(MAP, &ITER##_pos_,    \
                                                      NULL),                \
                              *ITER##_next_ = NULL;                         \
             ITER##_node_                                                   \
             && (ITER##_next_ = hmap_at(MAP, &ITER##_pos_, ITER##_node_),   \
                 (ITER) = CONTAINER_OF(ITER##_node_, __typeof__(*(ITER)),   \
                                       MEMBER), 1);                         \
             ITER##_node_ = ITER##_next_)

#define HMAP_FOR_EACH(ITER, MEMBER, MAP) HMAP_FOR_EACH_SAFE(ITER, MEMBER, MAP)

#endif /* datapath/hmap.h */
