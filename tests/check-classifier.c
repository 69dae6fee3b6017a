#include <config.h>

#include "fixture.h"
#include "classifier.h"
#include "classifier-ref.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "headers.h"
#include "inet.h"
#include "util.h"

/* A rule as the flow table will embed one. */
struct test_rule {
    struct cls_rule cls;
    bool inserted;
};

static struct classifier cls;

static void
setup(void)
{
    classifier_init(&cls);
}

static void
teardown(void)
{
    classifier_destroy(&cls);
}

/* Matches IPv4 from 'src'/'prefix_len'. */
static struct match
nw_src_match(const char *src, unsigned int prefix_len)
{
    struct match m;

    match_init_catchall(&m);
    m.key.dl_type = htons(ETH_TYPE_IPV4);
    m.mask.dl_type = htons(0xffff);
    m.key.nw_src = fixture_ip(src);
    m.mask.nw_src = inet_from_ipv4(prefix_len
                                   ? htonl(UINT32_MAX << (32 - prefix_len))
                                   : 0);
    return m;
}

static void
insert(struct test_rule *r, const struct match *m, uint16_t priority)
{
    cls_rule_init(&r->cls, m, priority);
    ck_assert_int_eq(classifier_insert(&cls, &r->cls), 0);
    r->inserted = true;
}

static const struct cls_rule *
lookup(const char *src, uint16_t tp_dst)
{
    struct flow_key key = fixture_tcp4_key(src, tp_dst);

    return classifier_lookup(&cls, &key);
}

START_TEST(test_insert_lookup_remove)
{
    struct test_rule ssh, web;
    struct match m_ssh = fixture_tcp4_match(22);
    struct match m_web = fixture_tcp4_match(80);

    ck_assert_ptr_null(lookup("10.0.0.1", 22));
    insert(&ssh, &m_ssh, 100);
    insert(&web, &m_web, 100);
    ck_assert_uint_eq(classifier_count(&cls), 2);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &ssh.cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 80), &web.cls);
    ck_assert_ptr_null(lookup("10.0.0.1", 23));
    ck_assert_ptr_eq(ssh.cls.subtable, web.cls.subtable);

    classifier_remove(&cls, &ssh.cls);
    ck_assert_uint_eq(classifier_count(&cls), 1);
    ck_assert_ptr_null(lookup("10.0.0.1", 22));
    ck_assert_ptr_eq(lookup("10.0.0.1", 80), &web.cls);
    classifier_remove(&cls, &web.cls);
    ck_assert_uint_eq(classifier_count(&cls), 0);
    ck_assert_uint_eq(cls.n_subtables, 0);
    ck_assert_ptr_null(lookup("10.0.0.1", 80));
}
END_TEST

START_TEST(test_insert_normalizes)
{
    struct test_rule r;
    struct match m = fixture_tcp4_match(22);

    /* Bits outside the mask, and the never-matched fields, go. */
    m.key.tp_src = htons(1234);
    m.key.layers = FLOW_LAYER_L4;
    m.mask.layers = 0xff;
    m.mask.error = 0xff;
    insert(&r, &m, 7);
    ck_assert_uint_eq(r.cls.match.key.tp_src, 0);
    ck_assert_uint_eq(r.cls.match.key.layers, 0);
    ck_assert_uint_eq(r.cls.match.mask.layers, 0);
    ck_assert_uint_eq(r.cls.match.mask.error, 0);
    ck_assert_uint_eq(r.cls.priority, 7);
    ck_assert_ptr_eq(lookup("10.0.0.9", 22), &r.cls);
}
END_TEST

START_TEST(test_insert_existing_is_eexist)
{
    struct test_rule a, b, c;
    struct match m = fixture_tcp4_match(22);
    struct match unnormalized = m;

    insert(&a, &m, 100);
    unnormalized.key.tp_src = htons(99);
    cls_rule_init(&b.cls, &unnormalized, 100);
    ck_assert_int_eq(classifier_insert(&cls, &b.cls), EEXIST);
    ck_assert_uint_eq(classifier_count(&cls), 1);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &a.cls);

    /* The same match at another priority is another rule. */
    insert(&c, &m, 101);
    ck_assert_uint_eq(classifier_count(&cls), 2);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &c.cls);
}
END_TEST

START_TEST(test_find_exactly)
{
    struct test_rule a, b;
    struct match m22 = fixture_tcp4_match(22);
    struct match m80 = fixture_tcp4_match(80);
    struct match net = nw_src_match("10.0.0.0", 8);

    insert(&a, &m22, 100);
    insert(&b, &net, 100);
    ck_assert_ptr_eq(classifier_find_exactly(&cls, &m22, 100), &a.cls);
    ck_assert_ptr_eq(classifier_find_exactly(&cls, &net, 100), &b.cls);
    ck_assert_ptr_null(classifier_find_exactly(&cls, &m22, 99));
    ck_assert_ptr_null(classifier_find_exactly(&cls, &m80, 100));

    struct match net16 = nw_src_match("10.0.0.0", 16);

    ck_assert_ptr_null(classifier_find_exactly(&cls, &net16, 100));
    classifier_remove(&cls, &a.cls);
    ck_assert_ptr_null(classifier_find_exactly(&cls, &m22, 100));
    ck_assert_ptr_eq(classifier_find_exactly(&cls, &net, 100), &b.cls);
}
END_TEST

START_TEST(test_needs_key)
{
    struct test_rule all, all_low, ssh;
    struct match catchall;
    struct match m = fixture_tcp4_match(22);

    match_init_catchall(&catchall);
    ck_assert(!classifier_needs_key(&cls));
    insert(&all, &catchall, 0);
    ck_assert(!classifier_needs_key(&cls));
    insert(&all_low, &catchall, 5);
    ck_assert(!classifier_needs_key(&cls));
    ck_assert_ptr_eq(lookup("1.2.3.4", 1), &all_low.cls);
    insert(&ssh, &m, 100);
    ck_assert(classifier_needs_key(&cls));
    classifier_remove(&cls, &all.cls);
    classifier_remove(&cls, &all_low.cls);
    ck_assert(classifier_needs_key(&cls));
    classifier_remove(&cls, &ssh.cls);
    ck_assert(!classifier_needs_key(&cls));
    insert(&ssh, &m, 100);
    ck_assert(classifier_needs_key(&cls));
}
END_TEST

/* The highest priority wins whatever the order of insertion, also when a
 * subtable's highest priority rises after others were filed before it. */
START_TEST(test_priority_order)
{
    struct test_rule low_net, mid_ssh, high_net, all;
    struct match net = nw_src_match("10.0.0.0", 8);
    struct match net_other = nw_src_match("11.0.0.0", 8);
    struct match ssh = fixture_tcp4_match(22);
    struct match catchall;

    match_init_catchall(&catchall);
    /* Subtables made out of priority order must be sorted. */
    insert(&mid_ssh, &ssh, 50);
    insert(&all, &catchall, 0);
    insert(&low_net, &net, 10);
    ck_assert_ptr_eq(lookup("10.1.2.3", 22), &mid_ssh.cls);
    ck_assert_ptr_eq(lookup("10.1.2.3", 23), &low_net.cls);
    ck_assert_ptr_eq(lookup("12.1.2.3", 23), &all.cls);

    /* Raises the /8 subtable's highest priority above the ssh one's: it
     * must now be searched first. */
    insert(&high_net, &net_other, 100);
    ck_assert_ptr_eq(low_net.cls.subtable, high_net.cls.subtable);
    ck_assert_ptr_eq(lookup("11.1.2.3", 22), &high_net.cls);
    ck_assert_ptr_eq(lookup("10.1.2.3", 22), &mid_ssh.cls);

    classifier_remove(&cls, &high_net.cls);
    ck_assert_ptr_eq(lookup("11.1.2.3", 22), &mid_ssh.cls);
    classifier_remove(&cls, &mid_ssh.cls);
    ck_assert_ptr_eq(lookup("10.1.2.3", 22), &low_net.cls);
    classifier_remove(&cls, &low_net.cls);
    ck_assert_ptr_eq(lookup("10.1.2.3", 22), &all.cls);
}
END_TEST

/* Rules on one masked key at several priorities share a hash chain; the
 * best one answers, and the next takes over when it goes. */
START_TEST(test_same_key_priorities)
{
    struct test_rule r[4];
    struct match m = fixture_tcp4_match(22);
    static const uint16_t prios[4] = { 10, 300, 20, 200 };

    for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
        insert(&r[i], &m, prios[i]);
    }
    ck_assert_uint_eq(cls.n_subtables, 1);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &r[1].cls);
    classifier_remove(&cls, &r[1].cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &r[3].cls);
    classifier_remove(&cls, &r[3].cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &r[2].cls);
}
END_TEST

/* Among equal priorities the rule inserted first wins, whichever subtable
 * holds it and in whichever order the subtables were made. */
START_TEST(test_tie_first_inserted_wins)
{
    struct test_rule ssh, net, other_net, net2;
    struct match m_ssh = fixture_tcp4_match(22);
    struct match m_net = nw_src_match("10.0.0.0", 8);
    struct match m_other_net = nw_src_match("12.0.0.0", 8);
    struct match m_net2 = nw_src_match("10.0.0.0", 24);

    insert(&net, &m_net, 100);
    insert(&ssh, &m_ssh, 100);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &net.cls);

    /* Re-inserted, the /8 rule is now the younger one. */
    classifier_remove(&cls, &net.cls);
    insert(&net, &m_net, 100);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &ssh.cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 23), &net.cls);
    classifier_remove(&cls, &net.cls);
    classifier_remove(&cls, &ssh.cls);

    /* The /8 subtable is made first, by a rule that does not match, so
     * the matching rule it gets later is searched before an older one in
     * a subtable of the same highest priority: that one must still be
     * looked at. */
    insert(&other_net, &m_other_net, 100);
    insert(&ssh, &m_ssh, 100);
    insert(&net2, &m_net2, 100);
    insert(&net, &m_net, 100);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &ssh.cls);
    classifier_remove(&cls, &ssh.cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &net2.cls);
    classifier_remove(&cls, &net2.cls);
    ck_assert_ptr_eq(lookup("10.0.0.1", 22), &net.cls);
}
END_TEST

/* The differential test: random rule sets against a linear scan. */

static const struct classifier_ref_field *const fields
    = classifier_ref_fields;

#define N_MASKS 20
#define N_VALUES 3              /* Values per field. */
#define MAX_RULES 256
#define N_ROUNDS 20
#define LOOKUPS_PER_ROUND 6000

struct world {
    uint64_t rng;
    struct flow_key masks[N_MASKS];
    uint8_t values[CLASSIFIER_REF_N_FIELDS][N_VALUES][16];
    struct test_rule rules[MAX_RULES];
    struct cls_rule *live[MAX_RULES]; /* The rules in, oldest first. */
    size_t n_live;
    size_t n_lookups;
    size_t n_hits;
    size_t n_eexist;
};

static uint32_t
rnd(struct world *w, uint32_t n)
{
    /* xorshift64*: reproducible from the round's seed. */
    w->rng ^= w->rng >> 12;
    w->rng ^= w->rng << 25;
    w->rng ^= w->rng >> 27;
    return (uint32_t) ((w->rng * UINT64_C(0x2545f4914f6cdd1d)) >> 32) % n;
}

/* Masks of one to four fields, each whole or a prefix; in every other
 * round the first is the catch-all, which then makes every lookup hit. */
static void
make_masks(struct world *w, bool catchall)
{
    memset(w->masks, 0, sizeof w->masks);
    for (size_t i = catchall; i < N_MASKS; i++) {
        size_t n = 1 + rnd(w, 4);

        for (size_t j = 0; j < n; j++) {
            const struct classifier_ref_field *f
                = &fields[rnd(w, CLASSIFIER_REF_N_FIELDS)];
            uint8_t *m = (uint8_t *) &w->masks[i] + f->ofs;
            size_t bits = rnd(w, 3) ? f->len * 8 : 1 + rnd(w, f->len * 8);

            for (size_t b = 0; b < bits; b++) {
                m[b / 8] |= (uint8_t) (0x80 >> (b % 8));
            }
        }
    }
}

static void
make_values(struct world *w)
{
    for (size_t f = 0; f < CLASSIFIER_REF_N_FIELDS; f++) {
        for (size_t v = 0; v < N_VALUES; v++) {
            for (size_t b = 0; b < sizeof w->values[f][v]; b++) {
                w->values[f][v][b] = (uint8_t) rnd(w, 256);
            }
        }
    }
}

/* A key whose every field comes from the value pools. */
static void
random_key(struct world *w, struct flow_key *key)
{
    memset(key, 0, sizeof *key);
    for (size_t f = 0; f < CLASSIFIER_REF_N_FIELDS; f++) {
        memcpy((uint8_t *) key + fields[f].ofs,
               w->values[f][rnd(w, N_VALUES)], fields[f].len);
    }
    key->layers = (uint8_t) rnd(w, 4);
    key->error = (uint8_t) rnd(w, 3);
}

static uint16_t
random_priority(struct world *w)
{
    static const uint16_t common[] = { 0, 1, 100, 100, 32768, 65535 };

    return rnd(w, 4) ? common[rnd(w, ARRAY_SIZE(common))]
                     : (uint16_t) rnd(w, 200);
}

static void
random_insert(struct world *w, size_t i, uint32_t seed)
{
    struct test_rule *r = &w->rules[i];
    struct match m;

    random_key(w, &m.key);
    m.mask = w->masks[rnd(w, N_MASKS)];
    cls_rule_init(&r->cls, &m, random_priority(w));

    const struct cls_rule *old = classifier_ref_find(w->live, w->n_live,
                                                     &r->cls.match,
                                                     r->cls.priority);
    int error = classifier_insert(&cls, &r->cls);

    if (old) {
        ck_assert_msg(error == EEXIST, "seed %u: insert gave %d", seed,
                      error);
        ck_assert_ptr_eq(classifier_find_exactly(&cls, &r->cls.match,
                                                 r->cls.priority),
                         old);
        w->n_eexist++;
        return;
    }
    ck_assert_msg(!error, "seed %u: insert gave %d", seed, error);
    r->inserted = true;
    w->live[w->n_live++] = &r->cls;
}

/* One round: a fresh classifier, a fresh mask and value pool, and a mix
 * of insertions, removals and lookups with the rule count swinging
 * between empty and full. */
static void
run_round(struct world *w, uint32_t seed)
{
    memset(w->rules, 0, sizeof w->rules);
    w->n_live = 0;
    w->rng = UINT64_C(0x9e3779b97f4a7c15) * (seed + 1);
    make_masks(w, seed % 2);
    make_values(w);

    size_t target = 1 + rnd(w, MAX_RULES);

    for (size_t n = 0; n < LOOKUPS_PER_ROUND; ) {
        uint32_t op = rnd(w, 10);
        size_t i = rnd(w, MAX_RULES);
        struct test_rule *r = &w->rules[i];

        if (op == 0) {
            /* Swings the size: sometimes down to nearly empty. */
            target = rnd(w, 4) ? 1 + rnd(w, MAX_RULES) : rnd(w, 4);
        } else if (op < 4 && !r->inserted && w->n_live < target) {
            random_insert(w, i, seed);
        } else if (op < 4 && r->inserted && w->n_live > target / 2) {
            classifier_remove(&cls, &r->cls);
            r->inserted = false;
            w->n_live = classifier_ref_remove(w->live, w->n_live, &r->cls);
        } else {
            struct flow_key key;

            random_key(w, &key);
            /* Most keys are made to hit some rule, by taking its values
             * where it looks. */
            if (r->inserted && rnd(w, 4)) {
                const flow_u64 *want = flow_key_u64s(&r->cls.match.key);
                const flow_u64 *mask = flow_key_u64s(&r->cls.match.mask);
                flow_u64 *k = (flow_u64 *) &key;

                for (size_t j = 0; j < FLOW_KEY_U64S; j++) {
                    k[j] = (k[j] & ~mask[j]) | want[j];
                }
            }

            const struct cls_rule *want
                = classifier_ref_lookup(w->live, w->n_live, &key);
            const struct cls_rule *got = classifier_lookup(&cls, &key);

            if (got != want) {
                ck_abort_msg("seed %u, lookup %zu: got rule %td (priority "
                             "%d), want rule %td (priority %d)", seed, n,
                             got ? (struct test_rule *) got - w->rules : -1,
                             got ? got->priority : -1,
                             want ? (struct test_rule *) want - w->rules : -1,
                             want ? want->priority : -1);
            }
            w->n_hits += want != NULL;
            w->n_lookups++;
            n++;
        }
        ck_assert_uint_eq(classifier_count(&cls), w->n_live);
        ck_assert_int_eq(classifier_needs_key(&cls),
                         classifier_ref_needs_key(w->live, w->n_live));
    }
    for (size_t i = 0; i < MAX_RULES; i++) {
        if (w->rules[i].inserted) {
            classifier_remove(&cls, &w->rules[i].cls);
        }
    }
    ck_assert_uint_eq(cls.n_subtables, 0);
}

START_TEST(test_matches_linear_scan)
{
    static struct world w;

    for (uint32_t seed = 0; seed < N_ROUNDS; seed++) {
        run_round(&w, seed);
    }
    ck_assert_uint_ge(w.n_lookups, 100000);
    /* The pools are small so that lookups hit, ties included; some miss
     * every rule. */
    ck_assert_uint_ge(w.n_hits, w.n_lookups / 2);
    ck_assert_uint_lt(w.n_hits, w.n_lookups);
    ck_assert_uint_gt(w.n_eexist, 0);
}
END_TEST

static Suite *
classifier_suite(void)
{
    Suite *s = suite_create("classifier");

    fixture_add_case(s, "insert, lookup and remove",
                     test_insert_lookup_remove, setup, teardown);
    fixture_add_case(s, "insert normalizes the match",
                     test_insert_normalizes, setup, teardown);
    fixture_add_case(s, "an equal match and priority is EEXIST",
                     test_insert_existing_is_eexist, setup, teardown);
    fixture_add_case(s, "find_exactly wants match and priority",
                     test_find_exactly, setup, teardown);
    fixture_add_case(s, "needs_key only for a rule that looks",
                     test_needs_key, setup, teardown);
    fixture_add_case(s, "highest priority wins", test_priority_order,
                     setup, teardown);
    fixture_add_case(s, "one masked key at several priorities",
                     test_same_key_priorities, setup, teardown);
    fixture_add_case(s, "equal priority: first inserted wins",
                     test_tie_first_inserted_wins, setup, teardown);
    fixture_add_case(s, "agrees with a linear scan",
                     test_matches_linear_scan, setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(classifier_suite());
}
