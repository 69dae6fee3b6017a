#include <config.h>

#include "emc.h"
#include "fixture.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

/* The cache only keeps and compares rule pointers: these stand for rules
 * and are never dereferenced. */
static char rule_a, rule_b;
#define RULE_A ((struct flow_rule *) (void *) &rule_a)
#define RULE_B ((struct flow_rule *) (void *) &rule_b)

static struct emc *emc;

static void
setup(void)
{
    emc = emc_create();
    ck_assert_ptr_nonnull(emc);
}

static void
teardown(void)
{
    emc_destroy(emc);
}

/* The hash the datapath gives the cache for 'key' in 'table_id'. */
static uint32_t
hash(uint8_t table_id, const struct flow_key *key)
{
    return emc_hash(emc, table_id, key, flow_hash_5tuple(key, 0));
}

static struct flow_rule *
lookup(uint8_t table_id, const struct flow_key *key, uint64_t generation)
{
    return emc_lookup(emc, table_id, key, hash(table_id, key), generation);
}

static void
insert(uint8_t table_id, const struct flow_key *key, uint64_t generation,
       struct flow_rule *rule)
{
    emc_insert(emc, table_id, key, hash(table_id, key), generation, rule);
}

START_TEST(test_hit_after_insert)
{
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);

    /* Generation 0 is the tables' first: a new cache has nothing in it. */
    ck_assert_ptr_null(lookup(0, &key, 0));
    insert(0, &key, 0, RULE_A);
    ck_assert_ptr_eq(lookup(0, &key, 0), RULE_A);
    ck_assert_ptr_null(lookup(1, &key, 0));
    insert(1, &key, 0, RULE_B);
    ck_assert_ptr_eq(lookup(1, &key, 0), RULE_B);
    ck_assert_ptr_eq(lookup(0, &key, 0), RULE_A);
}
END_TEST

START_TEST(test_miss_for_any_other_word)
{
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);
    struct flow_key other;

    insert(3, &key, 7, RULE_A);
    for (size_t i = 0; i < FLOW_KEY_U64S; i++) {
        for (unsigned int bit = 0; bit < 64; bit += 21) {
            uint64_t w;

            other = key;
            memcpy(&w, (char *) &other + i * 8, 8);
            w ^= UINT64_C(1) << bit;
            memcpy((char *) &other + i * 8, &w, 8);
            ck_assert_msg(lookup(3, &other, 7) == NULL,
                          "word %zu bit %u ignored", i, bit);
            /* Also under the hash of the cached key: the key itself is
             * compared, not only the hash. */
            ck_assert_ptr_null(emc_lookup(emc, 3, &other, hash(3, &key),
                                          7));
        }
    }
    ck_assert_ptr_eq(lookup(3, &key, 7), RULE_A);
}
END_TEST

START_TEST(test_stale_after_generation_change)
{
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);

    insert(0, &key, 5, RULE_A);
    ck_assert_ptr_null(lookup(0, &key, 6));
    insert(0, &key, 6, RULE_B);
    ck_assert_ptr_eq(lookup(0, &key, 6), RULE_B);
    ck_assert_ptr_null(lookup(0, &key, 5));
}
END_TEST

START_TEST(test_two_flows_sharing_a_first_slot_both_stay)
{
    struct flow_key a = fixture_tcp4_key("10.0.0.1", 22);
    struct flow_key b = fixture_tcp4_key("10.0.0.2", 22);
    uint32_t ha = hash(0, &a);
    uint32_t hb = 0;
    uint32_t n;

    /* Find a second key whose first slot is the first key's and whose
     * second slot is not: one in EMC_ENTRIES is, so try many. */
    for (n = 1; n < 64 * EMC_ENTRIES; n++) {
        b.tp_src = htons((uint16_t) n);
        b.tp_dst = htons((uint16_t) (n >> 16));
        hb = hash(0, &b);
        if (hb != ha && !((hb ^ ha) & (EMC_ENTRIES - 1))
            && ((hb >> 16 ^ hb << 3) & (EMC_ENTRIES - 1))
               != ((ha >> 16 ^ ha << 3) & (EMC_ENTRIES - 1))) {
            break;
        }
    }
    ck_assert_uint_lt(n, 64 * EMC_ENTRIES);
    emc_insert(emc, 0, &a, ha, 1, RULE_A);
    emc_insert(emc, 0, &b, hb, 1, RULE_B);
    ck_assert_ptr_eq(emc_lookup(emc, 0, &a, ha, 1), RULE_A);
    ck_assert_ptr_eq(emc_lookup(emc, 0, &b, hb, 1), RULE_B);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("emc");

    fixture_add_case(s, "hit after insert, per table", test_hit_after_insert,
                     setup, teardown);
    fixture_add_case(s, "miss for a key differing in any word",
                     test_miss_for_any_other_word, setup, teardown);
    fixture_add_case(s, "stale after a generation change",
                     test_stale_after_generation_change, setup, teardown);
    fixture_add_case(s, "two flows sharing a first slot both stay",
                     test_two_flows_sharing_a_first_slot_both_stay, setup,
                     teardown);
    return fixture_run(s);
}
