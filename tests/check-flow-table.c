#include <config.h>

#include "fixture.h"
#include "flow-table.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static struct flow_table *ft;

static void
setup(void)
{
    ft = flow_table_create(0);
    ck_assert_ptr_nonnull(ft);
}

static void
teardown(void)
{
    flow_table_destroy(ft);
}

/* Adds a rule outputting to 'port' (0: an empty list, drop) and returns
 * it. */
static struct flow_rule *
add_rule(int table, uint16_t priority, const struct match *m,
         uint64_t cookie, uint32_t port)
{
    struct flow_spec spec = fixture_spec(table, priority, m,
                                         port ? FIXTURE_ACTIONS(
                                             { .type = FLOW_ACTION_OUTPUT,
                                               .port = port })
                                              : FIXTURE_NO_ACTIONS);
    struct flow_rule *r;

    spec.cookie = cookie;
    spec.cookie_mask = UINT64_MAX;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), 0);
    r = flow_table_find(ft, &spec);
    ck_assert_ptr_nonnull(r);
    free(spec.actions);
    return r;
}

/* The port rule 'r' outputs to, 0 for a rule that drops. */
static uint32_t
out_port(const struct flow_rule *r)
{
    if (!r->actions->n) {
        return 0;
    }
    ck_assert_uint_eq(r->actions->n, 1);
    ck_assert_uint_eq(r->actions->acts[0].type, FLOW_ACTION_OUTPUT);
    return r->actions->acts[0].port;
}

START_TEST(test_add_replaces_same_identity)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_rule *r = add_rule(0, 100, &tcp22, 0x5, 1);
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);
    bool replaced = true;

    flow_rule_account(r, 3, 300, 2000);

    struct flow_spec spec = fixture_spec(0, 100, &tcp22, FIXTURE_ACTIONS(
                                  { .type = FLOW_ACTION_OUTPUT,
                                    .port = 2 }));

    ck_assert_int_eq(flow_table_add(ft, &spec, 3000, &replaced), 0);
    ck_assert(replaced);
    ck_assert_uint_eq(flow_table_count(ft), 1);
    r = flow_table_lookup(ft, 0, &key);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(out_port(r), 2);
    /* The old rule's counters and cookie went with it. */
    ck_assert_uint_eq(r->n_packets, 0);
    ck_assert_uint_eq(r->n_bytes, 0);
    ck_assert_uint_eq(r->cookie, 0);
    ck_assert_int_eq(r->created_ms, 3000);

    /* Another priority or another table is another rule. */
    spec.priority = 200;
    ck_assert_int_eq(flow_table_add(ft, &spec, 3000, &replaced), 0);
    ck_assert(!replaced);
    spec.priority = 100;
    spec.table = 1;
    ck_assert_int_eq(flow_table_add(ft, &spec, 3000, &replaced), 0);
    ck_assert(!replaced);
    /* And so is another match. */
    spec.table = -1;
    spec.match = fixture_tcp4_match(23);
    ck_assert_int_eq(flow_table_add(ft, &spec, 3000, &replaced), 0);
    ck_assert(!replaced);
    ck_assert_uint_eq(flow_table_count(ft), 4);
    free(spec.actions);
}
END_TEST

START_TEST(test_limit_refuses_new_rules_not_replacements)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp80 = fixture_tcp4_match(80);
    bool replaced = false;

    flow_table_set_max_rules(ft, 2);
    ck_assert_uint_eq(flow_table_max_rules(ft), 2);
    add_rule(0, 100, &tcp22, 0, 1);
    add_rule(0, 100, &tcp80, 0, 1);

    struct flow_spec spec = fixture_spec(0, 100, NULL, FIXTURE_NO_ACTIONS);
    uint64_t gen = flow_table_generation(ft);

    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, &replaced), ENOSPC);
    ck_assert_uint_eq(flow_table_count(ft), 2);
    ck_assert_ptr_null(flow_table_find(ft, &spec));
    ck_assert_uint_eq(flow_table_generation(ft), gen);

    spec.match = tcp80;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, &replaced), 0);
    ck_assert(replaced);
    ck_assert_uint_eq(flow_table_count(ft), 2);
    ck_assert_uint_eq(out_port(flow_table_find(ft, &spec)), 0);
    free(spec.actions);
}
END_TEST

START_TEST(test_goto_table_only_forward)
{
    struct flow_spec spec = fixture_spec(1, 100, NULL, FIXTURE_ACTIONS(
                                  { .type = FLOW_ACTION_GOTO_TABLE,
                                    .table = 1 }));
    size_t n;

    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), EINVAL);
    spec.actions->acts[0].table = 0;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), EINVAL);
    spec.actions->acts[0].table = 255;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), EINVAL);
    /* Table 254 is the last. */
    spec.actions->acts[0].table = 2;
    spec.table = FLOW_TABLE_N_TABLES;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), EINVAL);
    spec.table = 1;
    ck_assert_uint_eq(flow_table_count(ft), 0);
    spec.actions->acts[0].table = 2;
    ck_assert_int_eq(flow_table_add(ft, &spec, 1000, NULL), 0);
    ck_assert_uint_eq(flow_table_count(ft), 1);

    /* Modify may not point it back either, and changes nothing then. */
    spec.actions->acts[0].table = 1;
    ck_assert_int_eq(flow_table_modify(ft, &spec, true, &n), EINVAL);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(flow_table_find(ft, &spec)->actions->acts[0].table,
                      2);
    free(spec.actions);
}
END_TEST

START_TEST(test_modify_strict_and_not)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp = fixture_tcp4_match(0);
    struct flow_rule *a = add_rule(0, 100, &tcp22, 0x5, 1);
    struct flow_rule *b = add_rule(0, 200, &tcp22, 0x6, 2);
    struct flow_rule *c = add_rule(1, 100, &tcp, 0x7, 3);
    struct flow_rule *d = add_rule(0, 0, NULL, 0x8, 4);
    size_t n = 99;

    flow_rule_account(a, 4, 400, 2000);

    /* Strict: only the rule of that match and priority. */
    struct flow_spec spec = fixture_spec(-1, 100, &tcp22, FIXTURE_ACTIONS(
                                  { .type = FLOW_ACTION_OUTPUT,
                                    .port = 9 }));
    uint64_t gen = flow_table_generation(ft);

    ck_assert_int_eq(flow_table_modify(ft, &spec, true, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_gt(flow_table_generation(ft), gen);
    ck_assert_uint_eq(out_port(a), 9);
    ck_assert_uint_eq(a->n_packets, 4);
    ck_assert_uint_eq(a->n_bytes, 400);
    ck_assert_uint_eq(a->cookie, 0x5);
    ck_assert_uint_eq(out_port(b), 2);
    ck_assert_uint_eq(out_port(c), 3);

    /* Not strict: every rule at least as specific as "tcp", any table,
     * any priority; the catch-all is less specific. */
    spec.match = tcp;
    spec.actions->acts[0].port = 10;
    ck_assert_int_eq(flow_table_modify(ft, &spec, false, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(out_port(a), 10);
    ck_assert_uint_eq(out_port(b), 10);
    ck_assert_uint_eq(out_port(c), 10);
    ck_assert_uint_eq(out_port(d), 4);
    ck_assert_uint_eq(b->cookie, 0x6);
    ck_assert_uint_eq(a->n_packets, 4);

    /* Selecting nothing is no error. */
    spec.match = fixture_tcp4_match(443);
    ck_assert_int_eq(flow_table_modify(ft, &spec, true, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(flow_table_count(ft), 4);
    free(spec.actions);
}
END_TEST

struct deleted {
    size_t n;
    uint64_t cookies[16];
};

static void
record_deleted(const struct flow_rule *r, void *aux)
{
    struct deleted *d = aux;

    ck_assert_uint_lt(d->n, 16);
    d->cookies[d->n++] = r->cookie;
}

/* Says whether 'd' holds exactly the cookies of bits 'mask'
 * (1 << cookie). */
static void
assert_deleted(const struct deleted *d, unsigned int mask)
{
    unsigned int got = 0;

    for (size_t i = 0; i < d->n; i++) {
        got |= 1u << d->cookies[i];
    }
    ck_assert_uint_eq(got, mask);
    ck_assert_uint_eq(d->n, (size_t) __builtin_popcount(mask));
}

/* Rules 1 to 6: cookie i, of which 5 and 6 are in table 1. */
static void
add_six(void)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp80 = fixture_tcp4_match(80);
    struct match tcp = fixture_tcp4_match(0);

    add_rule(0, 100, &tcp22, 1, 1);
    add_rule(0, 200, &tcp22, 2, 1);
    add_rule(0, 100, &tcp80, 3, 1);
    add_rule(0, 0, NULL, 4, 1);
    add_rule(1, 100, &tcp, 5, 1);
    add_rule(1, 100, &tcp22, 6, 1);
}

static void
delete(const struct flow_spec *filter, bool strict, unsigned int mask)
{
    struct deleted d = { 0 };
    size_t before = flow_table_count(ft);
    size_t n = 99;

    flow_table_delete(ft, filter, strict, &n, record_deleted, &d);
    assert_deleted(&d, mask);
    ck_assert_uint_eq(n, d.n);
    ck_assert_uint_eq(flow_table_count(ft), before - d.n);
}

START_TEST(test_delete_strict)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_spec f = fixture_spec(-1, 100, &tcp22, NULL);

    add_six();
    delete(&f, true, 1u << 1 | 1u << 6);
    ck_assert_ptr_null(flow_table_find(ft, &f));
    f.table = 0;
    f.priority = 200;
    delete(&f, true, 1u << 2);
}
END_TEST

START_TEST(test_delete_not_strict)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_spec f = fixture_spec(-1, 7, &tcp22, NULL);

    add_six();
    /* Priority does not count without strict. */
    delete(&f, false, 1u << 1 | 1u << 2 | 1u << 6);
    f.match = fixture_tcp4_match(0);
    delete(&f, false, 1u << 3 | 1u << 5);
    ck_assert_uint_eq(flow_table_count(ft), 1);
}
END_TEST

START_TEST(test_delete_by_cookie_mask)
{
    struct flow_spec f = fixture_spec(-1, 0, NULL, NULL);

    add_six();
    /* Cookies 4, 5 and 6 have bit 2 set. */
    f.cookie = 0x4;
    f.cookie_mask = 0x4;
    delete(&f, false, 1u << 4 | 1u << 5 | 1u << 6);
    f.cookie = 0x3;
    f.cookie_mask = UINT64_MAX;
    delete(&f, false, 1u << 3);
}
END_TEST

START_TEST(test_delete_by_table_and_all)
{
    struct flow_spec f = fixture_spec(1, 0, NULL, NULL);

    add_six();
    delete(&f, false, 1u << 5 | 1u << 6);
    f.table = 0;
    f.priority = 0;
    /* Strict with the catch-all match: only the catch-all rule. */
    delete(&f, true, 1u << 4);
    delete(NULL, false, 1u << 1 | 1u << 2 | 1u << 3);
    ck_assert_uint_eq(flow_table_count(ft), 0);

    /* With neither count nor callback. */
    add_six();
    flow_table_delete(ft, NULL, false, NULL, NULL, NULL);
    ck_assert_uint_eq(flow_table_count(ft), 0);
}
END_TEST

START_TEST(test_select_sorted_and_filtered)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp80 = fixture_tcp4_match(80);
    struct match tcp = fixture_tcp4_match(0);
    struct flow_rule **rules;
    size_t n;

    add_rule(1, 500, NULL, 1, 1);
    add_rule(0, 10, &tcp22, 2, 1);
    add_rule(0, 20, &tcp22, 3, 1);
    add_rule(0, 10, &tcp80, 4, 1);
    add_rule(0, 10, &tcp, 5, 1);

    rules = flow_table_select(ft, NULL, false, &n);
    ck_assert_uint_eq(n, 5);
    /* Table, then priority from the highest, then age. */
    ck_assert_uint_eq(rules[0]->cookie, 3);
    ck_assert_uint_eq(rules[1]->cookie, 2);
    ck_assert_uint_eq(rules[2]->cookie, 4);
    ck_assert_uint_eq(rules[3]->cookie, 5);
    ck_assert_uint_eq(rules[4]->cookie, 1);
    free(rules);

    /* Replacing a rule makes it the youngest of its priority. */
    add_rule(0, 10, &tcp22, 6, 1);
    rules = flow_table_select(ft, NULL, false, &n);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(rules[1]->cookie, 4);
    ck_assert_uint_eq(rules[2]->cookie, 5);
    ck_assert_uint_eq(rules[3]->cookie, 6);
    free(rules);

    struct flow_spec f = fixture_spec(1, 0, NULL, NULL);

    rules = flow_table_select(ft, &f, false, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rules[0]->cookie, 1);
    free(rules);

    f.table = -1;
    f.match = tcp22;
    rules = flow_table_select(ft, &f, false, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(rules[0]->cookie, 3);
    ck_assert_uint_eq(rules[1]->cookie, 6);
    free(rules);

    f.priority = 20;
    rules = flow_table_select(ft, &f, true, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(rules[0]->cookie, 3);
    free(rules);

    f.match = fixture_tcp4_match(443);
    ck_assert_ptr_null(flow_table_select(ft, &f, false, &n));
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_generation_bumps_on_changes_only)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_key key = fixture_tcp4_key("10.0.0.1", 22);
    uint64_t gen = flow_table_generation(ft);
    size_t n;

    ck_assert_int_eq(flow_table_add_default(ft, 0), 0);
    ck_assert_uint_gt(flow_table_generation(ft), gen);

    struct flow_rule *r = add_rule(0, 100, &tcp22, 0, 1);

    gen = flow_table_generation(ft);
    ck_assert_ptr_eq(flow_table_lookup(ft, 0, &key), r);
    ck_assert_ptr_null(flow_table_lookup(ft, 1, &key));
    free(flow_table_select(ft, NULL, false, &n));
    flow_rule_account(r, 1, 60, 5000);
    ck_assert_int_eq(flow_table_expire(ft, 5000, NULL, NULL), LLONG_MAX);
    ck_assert_uint_eq(flow_table_generation(ft), gen);

    /* Replacing. */
    add_rule(0, 100, &tcp22, 0, 2);
    ck_assert_uint_gt(flow_table_generation(ft), gen);
    gen = flow_table_generation(ft);

    struct flow_spec spec = fixture_spec(0, 100, &tcp22, FIXTURE_ACTIONS(
                                  { .type = FLOW_ACTION_NORMAL }));

    ck_assert_int_eq(flow_table_modify(ft, &spec, true, &n), 0);
    ck_assert_uint_gt(flow_table_generation(ft), gen);
    gen = flow_table_generation(ft);
    flow_table_delete(ft, &spec, true, &n, NULL, NULL);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_gt(flow_table_generation(ft), gen);
    gen = flow_table_generation(ft);

    spec.idle_timeout = 1;
    ck_assert_int_eq(flow_table_add(ft, &spec, 0, NULL), 0);
    gen = flow_table_generation(ft);
    flow_table_expire(ft, 1000, NULL, NULL);
    ck_assert_uint_eq(flow_table_count(ft), 1);
    ck_assert_uint_gt(flow_table_generation(ft), gen);
    free(spec.actions);
}
END_TEST

START_TEST(test_trivial_only_with_catchall_table_0)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_spec f = fixture_spec(-1, 0, &tcp22, NULL);

    ck_assert(flow_table_is_trivial(ft));
    ck_assert_int_eq(flow_table_add_default(ft, 0), 0);
    ck_assert(flow_table_is_trivial(ft));
    ck_assert_ptr_nonnull(flow_table_lookup(ft, 0, NULL));

    add_rule(0, 100, &tcp22, 0, 1);
    ck_assert(!flow_table_is_trivial(ft));
    flow_table_delete(ft, &f, false, NULL, NULL, NULL);
    ck_assert(flow_table_is_trivial(ft));

    /* A catch-all elsewhere still means a second lookup. */
    add_rule(1, 0, NULL, 0, 1);
    ck_assert(!flow_table_is_trivial(ft));
    ck_assert_ptr_null(flow_table_lookup(ft, 255, NULL));
}
END_TEST

struct expired {
    size_t n;
    uint64_t cookie;
};

static void
record_expired(const struct flow_rule *r, void *aux)
{
    struct expired *e = aux;

    e->n++;
    e->cookie = r->cookie;
}

static struct flow_rule *
add_timed(uint16_t tp_dst, uint64_t cookie, uint16_t idle, uint16_t hard,
          long long now_ms)
{
    struct match m = fixture_tcp4_match(tp_dst);
    struct flow_spec spec = fixture_spec(0, 100, &m, FIXTURE_NO_ACTIONS);
    struct flow_rule *r;

    spec.cookie = cookie;
    spec.idle_timeout = idle;
    spec.hard_timeout = hard;
    ck_assert_int_eq(flow_table_add(ft, &spec, now_ms, NULL), 0);
    r = flow_table_find(ft, &spec);
    free(spec.actions);
    return r;
}

START_TEST(test_timeouts_expire_as_the_clock_moves)
{
    struct expired e = { 0 };

    ck_assert_int_eq(flow_table_expire(ft, 0, NULL, NULL), LLONG_MAX);
    add_timed(1, 1, 0, 0, 1000);
    ck_assert_int_eq(flow_table_expire(ft, 1000, NULL, NULL), LLONG_MAX);

    struct flow_rule *idle = add_timed(2, 2, 10, 0, 1000);

    add_timed(3, 3, 0, 30, 1000);
    add_timed(4, 4, 60, 20, 1000);
    ck_assert_int_eq(flow_table_expire(ft, 1000, record_expired, &e),
                     11000);
    ck_assert_uint_eq(e.n, 0);

    /* Traffic keeps the idle rule. */
    flow_rule_account(idle, 1, 60, 8000);
    ck_assert_int_eq(flow_table_expire(ft, 10999, record_expired, &e),
                     18000);
    ck_assert_int_eq(flow_table_expire(ft, 11000, record_expired, &e),
                     18000);
    ck_assert_uint_eq(e.n, 0);
    ck_assert_uint_eq(flow_table_count(ft), 4);

    ck_assert_int_eq(flow_table_expire(ft, 18000, record_expired, &e),
                     21000);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_uint_eq(e.cookie, 2);

    /* Traffic does not keep a rule past its hard timeout. */
    struct match m4 = fixture_tcp4_match(4);
    struct flow_spec s4 = fixture_spec(0, 100, &m4, NULL);

    flow_rule_account(flow_table_find(ft, &s4), 1, 60, 20999);
    ck_assert_int_eq(flow_table_expire(ft, 21000, record_expired, &e),
                     31000);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_uint_eq(e.cookie, 4);
    ck_assert_int_eq(flow_table_expire(ft, 40000, record_expired, &e),
                     LLONG_MAX);
    ck_assert_uint_eq(e.n, 3);
    ck_assert_uint_eq(e.cookie, 3);
    ck_assert_uint_eq(flow_table_count(ft), 1);
}
END_TEST

START_TEST(test_rule_to_spec_and_equals)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_spec spec = fixture_spec(3, 100, &tcp22, FIXTURE_ACTIONS(
                                  { .type = FLOW_ACTION_OUTPUT,
                                    .port = 4 }));
    struct flow_spec view;

    spec.cookie = 0x77;
    spec.idle_timeout = 5;
    ck_assert_int_eq(flow_table_add(ft, &spec, 0, NULL), 0);

    struct flow_rule *r = flow_table_find(ft, &spec);

    ck_assert(flow_rule_equals_spec(r, &spec));
    flow_rule_to_spec(r, &view);
    ck_assert_int_eq(view.table, 3);
    ck_assert_uint_eq(view.priority, 100);
    ck_assert(match_equal(&view.match, &tcp22));
    ck_assert(flow_rule_equals_spec(r, &view));
    spec.hard_timeout = 1;
    ck_assert(!flow_rule_equals_spec(r, &spec));
    spec.hard_timeout = 0;
    spec.actions->acts[0].port = 5;
    ck_assert(!flow_rule_equals_spec(r, &spec));
    free(spec.actions);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("flow-table");

    fixture_add_case(s, "add replaces the rule of the same identity",
                     test_add_replaces_same_identity, setup, teardown);
    fixture_add_case(s, "limit refuses new rules, not replacements",
                     test_limit_refuses_new_rules_not_replacements, setup,
                     teardown);
    fixture_add_case(s, "goto_table only to a later table",
                     test_goto_table_only_forward, setup, teardown);
    fixture_add_case(s, "modify replaces actions, keeps the rest",
                     test_modify_strict_and_not, setup, teardown);
    fixture_add_case(s, "delete strict", test_delete_strict, setup,
                     teardown);
    fixture_add_case(s, "delete not strict", test_delete_not_strict, setup,
                     teardown);
    fixture_add_case(s, "delete by cookie mask", test_delete_by_cookie_mask,
                     setup, teardown);
    fixture_add_case(s, "delete by table and all",
                     test_delete_by_table_and_all, setup, teardown);
    fixture_add_case(s, "select sorts and filters",
                     test_select_sorted_and_filtered, setup, teardown);
    fixture_add_case(s, "generation bumps on changes only",
                     test_generation_bumps_on_changes_only, setup,
                     teardown);
    fixture_add_case(s, "trivial only with a catch-all table 0",
                     test_trivial_only_with_catchall_table_0, setup,
                     teardown);
    fixture_add_case(s, "timeouts expire as the clock moves",
                     test_timeouts_expire_as_the_clock_moves, setup,
                     teardown);
    fixture_add_case(s, "rule to spec and equals",
                     test_rule_to_spec_and_equals, setup, teardown);
    return fixture_run(s);
}
