#include <config.h>

#include "fixture.h"
#include "hmap.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hash.h"

/* An element as a user of the map would write it: the node lives inside,
 * and the key is compared by the caller because the map only knows hashes.
 * 'visits' counts how often an iteration reached the element. */
struct element {
    struct hmap_node node;
    int key;
    int visits;
};

static uint32_t
hash_key(int key)
{
    return hash_finish(hash_add64(0, (uint64_t) key));
}

/* Returns 'n' elements keyed 0 to n - 1, owned by the caller. */
static struct element *
make_elements(size_t n)
{
    struct element *elements = calloc(n, sizeof *elements);

    ck_assert_ptr_nonnull(elements);
    for (size_t i = 0; i < n; i++) {
        elements[i].key = (int) i;
    }
    return elements;
}

static void
insert_all(struct hmap *map, struct element *elements, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(hmap_insert(map, &elements[i].node,
                                     hash_key(elements[i].key)), 0);
    }
}

static struct element *
find(const struct hmap *map, int key, uint32_t hash)
{
    struct element *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash, map) {
        if (e->key == key) {
            return e;
        }
    }
    return NULL;
}

START_TEST(test_insert_find_remove_across_resizes)
{
    enum { N = 10000 };
    struct element *elements = make_elements(N);
    struct hmap map;

    hmap_init(&map);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(hmap_insert(&map, &elements[i].node,
                                     hash_key(elements[i].key)), 0);
        ck_assert_uint_eq(hmap_count(&map), i + 1);
        /* The header promises no more than one node per bucket, which is
         * what keeps lookups short; 10,000 nodes force many resizes. */
        ck_assert_uint_ge(map.mask + 1, hmap_count(&map));
    }
    for (int key = 0; key < N; key++) {
        ck_assert_ptr_eq(find(&map, key, hash_key(key)), &elements[key]);
    }
    ck_assert_ptr_null(find(&map, N, hash_key(N)));

    /* Removing the odd keys must leave the even ones reachable. */
    for (int key = 1; key < N; key += 2) {
        hmap_remove(&map, &elements[key].node);
    }
    ck_assert_uint_eq(hmap_count(&map), N / 2);
    for (int key = 0; key < N; key++) {
        struct element *e = find(&map, key, hash_key(key));

        ck_assert_ptr_eq(e, key % 2 ? NULL : &elements[key]);
    }

    for (int key = 0; key < N; key += 2) {
        hmap_remove(&map, &elements[key].node);
    }
    ck_assert_uint_eq(hmap_count(&map), 0);
    ck_assert_ptr_null(find(&map, 0, hash_key(0)));
    hmap_destroy(&map);
    free(elements);
}
END_TEST

START_TEST(test_same_hash_different_keys)
{
    enum { N = 100 };
    const uint32_t hash = 42;
    struct element *elements = make_elements(N + 1);
    struct element *other = &elements[N];
    struct hmap map;

    hmap_init(&map);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(hmap_insert(&map, &elements[i].node, hash), 0);
    }
    /* A different hash with the same low bits lands in the same bucket as
     * the others at every table size up to 2^20 buckets, so the lookup must
     * tell it apart by hash, not by bucket. */
    other->key = 0;
    ck_assert_int_eq(hmap_insert(&map, &other->node, hash | 1u << 20), 0);

    struct element *e;
    size_t n = 0;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &map) {
        ck_assert_ptr_ne(e, other);
        e->visits++;
        n++;
    }
    ck_assert_uint_eq(n, N);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(elements[i].visits, 1);
    }

    /* Key 0 exists under both hashes: each hash must give its own. */
    ck_assert_ptr_eq(find(&map, 0, hash), &elements[0]);
    ck_assert_ptr_eq(find(&map, 0, hash | 1u << 20), other);

    /* Removing one node from the middle of the chain keeps the rest. */
    hmap_remove(&map, &elements[N / 2].node);
    ck_assert_ptr_null(find(&map, N / 2, hash));
    for (int key = 0; key < N; key++) {
        if (key != N / 2) {
            ck_assert_ptr_eq(find(&map, key, hash), &elements[key]);
        }
    }
    ck_assert_uint_eq(hmap_count(&map), N);
    hmap_destroy(&map);
    free(elements);
}
END_TEST

START_TEST(test_for_each_visits_every_node_once)
{
    enum { N = 1000 };
    struct element *elements = make_elements(N);
    struct element *e;
    struct hmap map;
    size_t n = 0;

    hmap_init(&map);
    insert_all(&map, elements, N);
    HMAP_FOR_EACH (e, node, &map) {
        e->visits++;
        n++;
    }
    ck_assert_uint_eq(n, N);
    for (size_t i = 0; i < N; i++) {
        ck_assert_int_eq(elements[i].visits, 1);
    }
    hmap_destroy(&map);
    free(elements);
}
END_TEST

START_TEST(test_for_each_safe_removes_every_node)
{
    enum { N = 1000 };
    struct element *elements = make_elements(N);
    struct element *e;
    struct hmap map;
    size_t n = 0;

    hmap_init(&map);
    insert_all(&map, elements, N);
    HMAP_FOR_EACH_SAFE (e, node, &map) {
        hmap_remove(&map, &e->node);
        e->visits++;
        n++;
    }
    ck_assert_uint_eq(n, N);
    ck_assert_uint_eq(hmap_count(&map), 0);
    for (int key = 0; key < N; key++) {
        ck_assert_int_eq(elements[key].visits, 1);
        ck_assert_ptr_null(find(&map, key, hash_key(key)));
    }
    HMAP_FOR_EACH (e, node, &map) {
        ck_abort_msg("an emptied map still yields key %d", e->key);
    }
    hmap_destroy(&map);
    free(elements);
}
END_TEST

START_TEST(test_for_each_safe_removes_some_nodes)
{
    enum { N = 1000 };
    struct element *elements = make_elements(N);
    struct element *e;
    struct hmap map;

    hmap_init(&map);
    insert_all(&map, elements, N);
    HMAP_FOR_EACH_SAFE (e, node, &map) {
        e->visits++;
        if (e->key % 3 == 0) {
            hmap_remove(&map, &e->node);
        }
    }
    ck_assert_uint_eq(hmap_count(&map), N - (N + 2) / 3);

    /* A second pass must see exactly the survivors. */
    HMAP_FOR_EACH (e, node, &map) {
        e->visits++;
    }
    for (int key = 0; key < N; key++) {
        ck_assert_int_eq(elements[key].visits, key % 3 == 0 ? 1 : 2);
    }
    hmap_destroy(&map);
    free(elements);
}
END_TEST

START_TEST(test_destroy_never_used_map)
{
    struct element *e;
    struct hmap map;

    hmap_init(&map);
    ck_assert_uint_eq(hmap_count(&map), 0);
    ck_assert_ptr_null(hmap_first_with_hash(&map, 0));
    ck_assert_ptr_null(hmap_first_with_hash(&map, 0xffffffff));
    HMAP_FOR_EACH (e, node, &map) {
        ck_abort_msg("a new map yields key %d", e->key);
    }
    /* The map never allocated: destroying must not free the shared empty
     * bucket, which valgrind or a crash would show. */
    hmap_destroy(&map);
    hmap_destroy(NULL);
}
END_TEST

START_TEST(test_destroy_emptied_map)
{
    struct element element = { .key = 7 };
    struct hmap map;

    hmap_init(&map);
    ck_assert_int_eq(hmap_insert(&map, &element.node, hash_key(7)), 0);
    hmap_remove(&map, &element.node);
    ck_assert_uint_eq(hmap_count(&map), 0);
    ck_assert_ptr_null(find(&map, 7, hash_key(7)));

    /* Reinserting after the map went empty must work on the same buckets. */
    ck_assert_int_eq(hmap_insert(&map, &element.node, hash_key(7)), 0);
    ck_assert_ptr_eq(find(&map, 7, hash_key(7)), &element);
    hmap_remove(&map, &element.node);

    /* Destroying frees the bucket array (the leak check sees it) and never
     * the element, which lives on the stack here. */
    hmap_destroy(&map);
    ck_assert_int_eq(element.key, 7);
}
END_TEST

/* Reserving grows the buckets at once to a power of two that holds 'n'
 * nodes, keeps what the map held, and no insert up to 'n' grows it
 * again; reserving less than it has changes nothing. */
START_TEST(test_reserve_grows_once)
{
    enum { N = 3000 };
    struct element *elements = make_elements(N);
    struct hmap map;

    hmap_init(&map);
    insert_all(&map, elements, 100);
    ck_assert_int_eq(hmap_reserve(&map, N), 0);
    ck_assert_uint_eq(map.mask + 1, 4096);

    struct hmap_node **buckets = map.buckets;

    insert_all(&map, elements + 100, N - 100);
    ck_assert_ptr_eq(map.buckets, buckets);
    ck_assert_int_eq(hmap_reserve(&map, 10), 0);
    ck_assert_ptr_eq(map.buckets, buckets);
    for (int key = 0; key < N; key++) {
        ck_assert_ptr_eq(find(&map, key, hash_key(key)), &elements[key]);
    }
    hmap_destroy(&map);
    free(elements);
}
END_TEST

static Suite *
hmap_suite(void)
{
    Suite *s = suite_create("hmap");

    fixture_add_case(s, "reserve grows the buckets once",
                     test_reserve_grows_once, NULL, NULL);
    fixture_add_case(s, "inserts, finds and removes across resizes",
                     test_insert_find_remove_across_resizes, NULL, NULL);
    fixture_add_case(s, "keeps nodes with the same hash apart by key",
                     test_same_hash_different_keys, NULL, NULL);
    fixture_add_case(s, "for-each visits every node once",
                     test_for_each_visits_every_node_once, NULL, NULL);
    fixture_add_case(s, "for-each-safe removes every node while iterating",
                     test_for_each_safe_removes_every_node, NULL, NULL);
    fixture_add_case(s, "for-each-safe removes some nodes while iterating",
                     test_for_each_safe_removes_some_nodes, NULL, NULL);
    fixture_add_case(s, "destroys a map that was never used",
                     test_destroy_never_used_map, NULL, NULL);
    fixture_add_case(s, "destroys a map that was emptied",
                     test_destroy_emptied_map, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(hmap_suite());
}
