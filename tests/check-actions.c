#include <config.h>

#include "actions.h"
#include "fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_create_and_clone_copy)
{
    struct flow_action acts[2] = {
        { .type = FLOW_ACTION_SET_TUNNEL, .vni = 77 },
        { .type = FLOW_ACTION_OUTPUT, .port = 4 },
    };
    struct flow_actions *a = flow_actions_create(acts, 2);
    struct flow_actions *b;

    ck_assert_ptr_nonnull(a);
    acts[1].port = 5;
    ck_assert_uint_eq(a->n, 2);
    ck_assert_uint_eq(a->acts[1].port, 4);
    b = flow_actions_clone(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    ck_assert(flow_actions_equal(a, b));
    free(a);
    ck_assert_uint_eq(b->acts[0].vni, 77);
    free(b);

    b = flow_actions_clone(NULL);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b->n, 0);
    free(b);
}
END_TEST

START_TEST(test_equal_ignores_unused_bytes)
{
    struct flow_action x, y;

    memset(&x, 0xaa, sizeof x);
    memset(&y, 0x55, sizeof y);
    x.type = y.type = FLOW_ACTION_OUTPUT;
    x.port = y.port = 3;

    struct flow_actions *a = fixture_actions(&x, 1);
    struct flow_actions *b = fixture_actions(&y, 1);

    ck_assert(flow_actions_equal(a, b));
    b->acts[0].port = 4;
    ck_assert(!flow_actions_equal(a, b));
    free(a);
    free(b);
}
END_TEST

START_TEST(test_equal_compares_spelling_and_arguments)
{
    struct flow_actions *tunnel = FIXTURE_ACTIONS(
        { .type = FLOW_ACTION_SET_TUNNEL, .vni = 5 });
    struct flow_actions *tun_id = FIXTURE_ACTIONS(
        { .type = FLOW_ACTION_SET_TUN_ID, .vni = 5 });
    struct flow_actions *empty = FIXTURE_NO_ACTIONS;
    struct flow_actions *two = FIXTURE_ACTIONS(
        { .type = FLOW_ACTION_SET_TUNNEL, .vni = 5 },
        { .type = FLOW_ACTION_NORMAL });

    ck_assert(!flow_actions_equal(tunnel, tun_id));
    ck_assert(!flow_actions_equal(tunnel, two));
    ck_assert(flow_actions_equal(empty, NULL));
    ck_assert(flow_actions_equal(NULL, empty));
    ck_assert(!flow_actions_equal(NULL, tunnel));

    /* Each kind of argument counts. */
    struct flow_action pairs[][2] = {
        { { .type = FLOW_ACTION_SET_TUN_DST,
            .addr = fixture_ip("10.0.0.1") },
          { .type = FLOW_ACTION_SET_TUN_DST,
            .addr = fixture_ip("10.0.0.2") } },
        { { .type = FLOW_ACTION_MOD_DL_SRC, .mac = fixture_mac(1) },
          { .type = FLOW_ACTION_MOD_DL_SRC, .mac = fixture_mac(2) } },
        { { .type = FLOW_ACTION_SET_VLAN_VID, .vid = 10 },
          { .type = FLOW_ACTION_SET_VLAN_VID, .vid = 11 } },
        { { .type = FLOW_ACTION_PUSH_VLAN, .tpid = htons(0x8100) },
          { .type = FLOW_ACTION_PUSH_VLAN, .tpid = htons(0x88a8) } },
        { { .type = FLOW_ACTION_GOTO_TABLE, .table = 1 },
          { .type = FLOW_ACTION_GOTO_TABLE, .table = 2 } },
        { { .type = FLOW_ACTION_RESUBMIT, .resubmit = { 1, 2 } },
          { .type = FLOW_ACTION_RESUBMIT, .resubmit = { 1, 3 } } },
        { { .type = FLOW_ACTION_RESUBMIT, .resubmit = { 1, 2 } },
          { .type = FLOW_ACTION_RESUBMIT, .resubmit = { 4, 2 } } },
    };

    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        struct flow_actions *a = fixture_actions(&pairs[i][0], 1);
        struct flow_actions *b = fixture_actions(&pairs[i][1], 1);
        struct flow_actions *c = fixture_actions(&pairs[i][0], 1);

        ck_assert_msg(!flow_actions_equal(a, b), "pair %zu", i);
        ck_assert_msg(flow_actions_equal(a, c), "pair %zu", i);
        free(a);
        free(b);
        free(c);
    }
    free(tunnel);
    free(tun_id);
    free(empty);
    free(two);
}
END_TEST

START_TEST(test_use_port)
{
    struct flow_actions *a = FIXTURE_ACTIONS(
        { .type = FLOW_ACTION_SET_TUNNEL, .vni = 7 },
        { .type = FLOW_ACTION_OUTPUT, .port = 4 },
        { .type = FLOW_ACTION_RESUBMIT,
          .resubmit = { 9, FLOW_ACTION_TABLE_SAME } });

    ck_assert(flow_actions_use_port(a, 4));
    ck_assert(flow_actions_use_port(a, 9));
    /* A VNI of 7 is no port 7. */
    ck_assert(!flow_actions_use_port(a, 7));
    ck_assert(!flow_actions_use_port(a, FLOW_ACTION_IN_PORT));
    ck_assert(!flow_actions_use_port(NULL, 4));
    free(a);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("actions");

    fixture_add_case(s, "create and clone copy", test_create_and_clone_copy,
                     NULL, NULL);
    fixture_add_case(s, "equal ignores unused bytes",
                     test_equal_ignores_unused_bytes, NULL, NULL);
    fixture_add_case(s, "equal compares spelling and arguments",
                     test_equal_compares_spelling_and_arguments, NULL,
                     NULL);
    fixture_add_case(s, "use_port sees outputs and resubmits",
                     test_use_port, NULL, NULL);
    return fixture_run(s);
}
