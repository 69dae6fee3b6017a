#include <config.h>

#include "hmap.h"

#include <errno.h>
#include <stdlib.h>

/* An empty map shares this one null bucket, so that lookups in a map that
 * never held anything need no special case and init cannot fail. */
static struct hmap_node *empty_bucket;

void
hmap_init(struct hmap *map)
{
    map->buckets = &empty_bucket;
    map->mask = 0;
    map->count = 0;
}

void
hmap_destroy(struct hmap *map)
{
    if (map && map->buckets != &empty_bucket) {
        free(map->buckets);
    }
}

static int
resize(struct hmap *map, size_t n_buckets)
{
    struct hmap_node **buckets = calloc(n_buckets, sizeof *buckets);

    if (!buckets) {
        return ENOMEM;
    }
    for (size_t i = 0; i <= map->mask; i++) {
        struct hmap_node *node = map->buckets[i];

        while (node) {
            struct hmap_node *next = node->next;
            struct hmap_node **slot = &buckets[node->hash & (n_buckets - 1)];

            node->next = *slot;
            *slot = node;
            node = next;
        }
    }
    hmap_destroy(map);
    map->buckets = buckets;
    map->mask = n_buckets - 1;
    return 0;
}

int
hmap_insert(struct hmap *map, struct hmap_node *node, uint32_t hash)
{
    if (map->count >= map->mask + 1 || map->buckets == &empty_bucket) {
        size_t n = map->buckets == &empty_bucket ? 8 : (map->mask + 1) * 2;
        int error = resize(map, n);

        if (error) {
            return error;
        }
    }

    struct hmap_node **slot = &map->buckets[hash & map->mask];

    node->hash = hash;
    node->next = *slot;
    *slot = node;
    map->count++;
    return 0;
}

int
hmap_reserve(struct hmap *map, size_t n)
{
    size_t n_buckets = 8;

    while (n_buckets < n) {
        n_buckets *= 2;
    }
    return n_buckets > map->mask + 1 || map->buckets == &empty_bucket
           ? resize(map, n_buckets) : 0;
}

void
hmap_remove(struct hmap *map, struct hmap_node *node)
{
    struct hmap_node **slot = &map->buckets[node->hash & map->mask];

    while (*slot != node) {
        slot = &(*slot)->next;
    }
    *slot = node->next;
    map->count--;
}

struct hmap_node *
hmap_at(const struct hmap *map, size_t *bucket, const struct hmap_node *prev)
{
    if (prev && prev->next) {
        return prev->next;
    }
    for (size_t i = prev ? *bucket + 1 : *bucket; i <= map->mask; i++) {
        if (map->buckets[i]) {
            *bucket = i;
            return map->buckets[i];
        }
    }
    *bucket = map->mask + 1;
    return NULL;
}
