#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "bridge.h"
#include "config-edit.h"
#include "config-store.h"
#include "fixture.h"
#include "flow-dump.h"
#include "flow-rpc.h"
#include "flow-store.h"
#include "flow-trace.h"
#include "flow-table.h"
#include "flow-text.h"
#include "util.h"

/* Each test has a bridge on a loop of its own, with pcap ports whose
 * files are in a directory of its own, and a flow store beside a
 * configuration file there. */
static char dir[64];
static char db[128];
static uv_loop_t loop;
static struct bridge *bridge;
static struct flow_store *store;

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check-flow-rpc-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/conf.db", dir);
    uv_loop_init(&loop);
    bridge = bridge_create(&loop, "check-flow-rpc");
    ck_assert_ptr_nonnull(bridge);
    bridge_reconfigure(bridge, config_store_empty());
    store = flow_store_create(db);
}

static void
stop_bridge(void)
{
    bridge_destroy(bridge);
    uv_run(&loop, UV_RUN_NOWAIT);
    bridge = NULL;
}

static void
teardown(void)
{
    stop_bridge();
    flow_store_destroy(store);
    uv_loop_close(&loop);
    fixture_remove_tree(dir);
}

static struct flow_table *
table(void)
{
    return dp_flow_table(bridge_dp(bridge));
}

/* Adds pcap port 'name', which writes to a file in the test's
 * directory. */
static void
add_port(const char *name)
{
    Vswitch__PortConfig pc = VSWITCH__PORT_CONFIG__INIT;
    Vswitch__Option opt = VSWITCH__OPTION__INIT;
    Vswitch__Option *opts[] = { &opt };
    char path[256], error[256];
    struct config_edit e = { .error = error, .error_size = sizeof error };

    snprintf(path, sizeof path, "%s/%s.pcap", dir, name);
    opt.key = "tx";
    opt.value = path;
    pc.name = (char *) name;
    pc.type = "pcap";
    pc.options = opts;
    pc.n_options = 1;
    e.config = config_clone(&bridge_config(bridge)->base);
    ck_assert_int_eq(config_edit_add_port(&e, &pc), 0);
    bridge_reconfigure(bridge, e.config);
}

static void
del_port(const char *name)
{
    char error[256];
    struct config_edit e = { .error = error, .error_size = sizeof error };

    e.config = config_clone(&bridge_config(bridge)->base);
    ck_assert_int_eq(config_edit_del_port(&e, name), 0);
    bridge_reconfigure(bridge, e.config);
}

/* Runs the change 'req' through its three steps.  Returns its status;
 * the error, if any, is in 'error'; the counts in '*counts' if not NULL. */
static Vswitch__Status
run_change(const Vswitch__Request *req, char *error, size_t size,
           Vswitch__FlowChange *counts)
{
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    struct flow_change *c;
    Vswitch__Status status = flow_change_prepare(bridge, store, db, req, &c,
                                                 error, size);

    if (status) {
        return status;
    }
    ck_assert_int_eq(flow_change_save(c, error, size), 0);
    flow_change_apply(c, 0, &resp);
    flow_change_destroy(c);
    ck_assert_int_eq(resp.payload_case,
                     VSWITCH__RESPONSE__PAYLOAD_FLOW_CHANGE);
    if (counts) {
        *counts = *resp.flow_change;
    }
    free(resp.flow_change);
    return status;
}

/* A request of 'command' for the 'n' lines of 'lines'. */
struct lines_request {
    Vswitch__Request req;
    Vswitch__FlowLines f;
};

static const Vswitch__Request *
lines_request(struct lines_request *r, Vswitch__Request__CommandCase command,
              char **lines, size_t n)
{
    static const Vswitch__Request req = VSWITCH__REQUEST__INIT;
    static const Vswitch__FlowLines f = VSWITCH__FLOW_LINES__INIT;

    r->req = req;
    r->f = f;
    r->f.lines = lines;
    r->f.n_lines = n;
    r->req.command_case = command;
    if (command == VSWITCH__REQUEST__COMMAND_ADD_FLOWS) {
        r->req.add_flows = &r->f;
    } else if (command == VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS) {
        r->req.replace_flows = &r->f;
    } else {
        r->req.diff_flows = &r->f;
    }
    return &r->req;
}

static void
add(char *line)
{
    struct lines_request r;
    char error[256] = "";

    ck_assert_msg(!run_change(lines_request(&r,
                                            VSWITCH__REQUEST__COMMAND_ADD_FLOWS,
                                            &line, 1),
                              error, sizeof error, NULL),
                  "%s: %s", line, error);
}

static void
del_all(void)
{
    Vswitch__Request req = VSWITCH__REQUEST__INIT;
    Vswitch__FlowFilter f = VSWITCH__FLOW_FILTER__INIT;
    char error[256];

    req.command_case = VSWITCH__REQUEST__COMMAND_DEL_FLOWS;
    req.del_flows = &f;
    ck_assert_int_eq(run_change(&req, error, sizeof error, NULL), 0);
}

/* The rules, "MATCH actions=ACTIONS" each, joined by '\n', through a
 * dump copied a rule at a time. */
static char *
dump(void)
{
    Vswitch__FlowFilter f = VSWITCH__FLOW_FILTER__INIT;
    struct flow_dump *d;
    char error[256];
    Vswitch__FlowList *l;
    size_t len = 1;
    char *text;

    ck_assert_int_eq(flow_dump_start(bridge, &f, &d, error, sizeof error), 0);
    while (!flow_dump_copy(d, 0, 1)) {
        continue;
    }
    l = flow_dump_build(d);
    flow_dump_destroy(d);
    for (size_t i = 0; i < l->n_flows; i++) {
        len += strlen(l->flows[i]->match) + strlen(l->flows[i]->actions)
               + 10;
    }
    text = calloc(len, 1);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < l->n_flows; i++) {
        sprintf(text + strlen(text), "%s%s actions=%s", i ? "\n" : "",
                l->flows[i]->match, l->flows[i]->actions);
    }
    vswitch__flow_list__free_unpacked(l, NULL);
    return text;
}

static void
expect_dump(const char *want)
{
    char *got = dump();

    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_add_flows_is_all_or_nothing_and_names_the_line)
{
    char *lines[] = { "priority=5,ip,actions=normal",
                      "priority=6,arp,actions=drop",
                      "priority=7,tcp,tp_dst=99999,actions=drop" };
    uint32_t numbers[] = { 2, 5, 9 };
    struct lines_request r;
    char error[256] = "";

    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 3);
    r.f.line_numbers = numbers;
    r.f.n_line_numbers = 3;
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL),
                     VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_msg(!strncmp(error, "line 9: ", 8), "%s", error);
    ck_assert_msg(strstr(error, "tp_dst"), "%s", error);
    expect_dump("priority=0 actions=normal");
}
END_TEST

START_TEST(test_the_bound_refuses_the_whole_change)
{
    char *lines[] = { "priority=5,ip,actions=normal",
                      "priority=6,arp,actions=drop" };
    struct lines_request r;
    char error[256] = "";

    flow_table_set_max_rules(table(), 2);
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 2);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL),
                     VSWITCH__STATUS__STATUS_FAILED);
    ck_assert_str_eq(error, "flow table full (2 rules)");
    expect_dump("priority=0 actions=normal");

    /* The same rule twice, and a rule replaced, take no more room. */
    lines[1] = lines[0];
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL), 0);
    add("priority=5,ip,actions=drop");
    ck_assert_uint_eq(flow_table_count(table()), 2);
}
END_TEST

START_TEST(test_replace_flows_leaves_equal_rules_and_counters_alone)
{
    char *lines[] = { "priority=10,udp,actions=drop",
                      "priority=30,arp,actions=flood" };
    struct lines_request r;
    struct flow_spec spec;
    struct flow_rule *rule;
    Vswitch__FlowChange counts;
    char error[256] = "";
    struct ds why = DS_EMPTY_INITIALIZER;

    del_all();
    add("priority=10,udp,actions=drop");
    add("priority=20,tcp,actions=drop");
    ck_assert_int_eq(flow_text_parse(lines[0], FLOW_TEXT_ADD, NULL, &spec,
                                     &why), 0);
    rule = flow_table_find(table(), &spec);
    flow_spec_uninit(&spec);
    ck_assert_ptr_nonnull(rule);
    flow_rule_account(rule, 7, 700, 5);

    lines_request(&r, VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS, lines, 2);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, &counts), 0);
    ck_assert_uint_eq(counts.added, 1);
    ck_assert_uint_eq(counts.modified, 0);
    ck_assert_uint_eq(counts.deleted, 1);
    expect_dump("priority=30,arp actions=flood\n"
                "priority=10,udp actions=drop");
    ck_assert_ptr_eq(flow_table_find(table(), &(struct flow_spec) {
                         .table = 0, .priority = 10,
                         .match = rule->cr.match }), rule);
    ck_assert_uint_eq(rule->n_packets, 7);

    /* Again: nothing to do. */
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, &counts), 0);
    ck_assert_uint_eq(counts.added + counts.modified + counts.deleted, 0);
    ck_assert_uint_eq(rule->n_packets, 7);
    ds_destroy(&why);
}
END_TEST

START_TEST(test_diff_flows_names_each_difference)
{
    char *lines[] = { "priority=10,udp,actions=normal",
                      "priority=30,arp,actions=flood",
                      "priority=5,ip,actions=drop" };
    struct lines_request r;
    char error[256];
    Vswitch__FlowDiff *d;
    struct flow_dump *dump;
    size_t n_steps = 0;

    del_all();
    add("priority=10,udp,actions=drop");
    add("cookie=0x9,priority=20,tcp,actions=drop");
    add("priority=5,ip,actions=drop");
    lines_request(&r, VSWITCH__REQUEST__COMMAND_DIFF_FLOWS, lines, 3);
    ck_assert_int_eq(flow_dump_start_diff(bridge, &r.f, &dump, error,
                                          sizeof error), 0);
    ck_assert(flow_dump_is_diff(dump));
    /* The tables are copied a rule per step here, as a loop turn would
     * copy a slice of them. */
    while (!flow_dump_copy(dump, 0, 1)) {
        n_steps++;
    }
    ck_assert_uint_eq(n_steps, 2);
    d = flow_dump_build_diff(dump);
    flow_dump_destroy(dump);
    ck_assert_uint_eq(d->n_lines, 4);
    ck_assert_str_eq(d->lines[0],
                     "-table=0,cookie=0x9,priority=20,tcp actions=drop");
    ck_assert_str_eq(d->lines[1], "-table=0,priority=10,udp actions=drop");
    ck_assert_str_eq(d->lines[2], "+table=0,priority=10,udp actions=normal");
    ck_assert_str_eq(d->lines[3], "+table=0,priority=30,arp actions=flood");
    vswitch__flow_diff__free_unpacked(d, NULL);

    /* A port that does not exist keeps its name while the tables are
     * copied, whatever readers reclaim between the steps. */
    char *later[] = { "priority=40,in_port=later,actions=drop" };

    lines_request(&r, VSWITCH__REQUEST__COMMAND_DIFF_FLOWS, later, 1);
    ck_assert_int_eq(flow_dump_start_diff(bridge, &r.f, &dump, error,
                                          sizeof error), 0);
    while (!flow_dump_copy(dump, 0, 1)) {
        bridge_reclaim_port_names(bridge);
    }
    d = flow_dump_build_diff(dump);
    flow_dump_destroy(dump);
    ck_assert_uint_eq(d->n_lines, 4);
    ck_assert_str_eq(d->lines[3],
                     "+table=0,priority=40,in_port=later actions=drop");
    vswitch__flow_diff__free_unpacked(d, NULL);

    /* A bad line fails the start and names the line. */
    char *bad[] = { "priority=1,actions=drop", "priority=2,bogus=1" };

    lines_request(&r, VSWITCH__REQUEST__COMMAND_DIFF_FLOWS, bad, 2);
    ck_assert_int_eq(flow_dump_start_diff(bridge, &r.f, &dump, error,
                                          sizeof error),
                     VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_ptr_nonnull(strstr(error, "line 2: "));
}
END_TEST

/* A rule may name ports that do not exist: they get numbers kept for
 * their names, which the ports take when they come. */
START_TEST(test_a_rule_naming_missing_ports_applies_once_they_exist)
{
    struct flow_rule **rules;
    uint32_t in_port, out_port;
    size_t n;

    add("priority=30,in_port=later0,actions=output:later1");
    expect_dump("priority=30,in_port=later0 actions=output:later1\n"
                "priority=0 actions=normal");
    rules = flow_table_select(table(), NULL, false, &n);
    ck_assert_uint_eq(n, 2);
    in_port = rules[0]->cr.match.key.in_port;
    out_port = rules[0]->actions->acts[0].port;
    free(rules);
    ck_assert_uint_ne(in_port, 0);
    ck_assert_uint_ne(out_port, 0);
    ck_assert_uint_ne(in_port, out_port);
    add_port("later1");
    add_port("later0");
    ck_assert_uint_eq(bridge_port_no(bridge, "later0"), in_port);
    ck_assert_uint_eq(bridge_port_no(bridge, "later1"), out_port);

    /* A port deleted while rules name it keeps its number for them. */
    del_port("later0");
    expect_dump("priority=30,in_port=later0 actions=output:later1\n"
                "priority=0 actions=normal");
    add_port("later0");
    ck_assert_uint_eq(bridge_port_no(bridge, "later0"), in_port);
}
END_TEST

/* Names that only a refused change or deleted rules gave numbers to are
 * forgotten: a port of that name later gets a new number. */
START_TEST(test_numbers_no_rule_names_are_forgotten)
{
    char *lines[] = { "priority=1,in_port=ghost0,actions=drop",
                      "priority=2,bad_field=1,actions=drop" };
    Vswitch__FlowFilter filter = VSWITCH__FLOW_FILTER__INIT;
    struct lines_request r;
    struct flow_dump *d;
    char error[256];
    uint32_t first;

    filter.flow = "in_port=ghost2";
    add_port("p0");
    first = bridge_port_no(bridge, "p0");
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 2);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL),
                     VSWITCH__STATUS__STATUS_INVALID);
    add("priority=3,in_port=ghost1,actions=drop");
    del_all();
    add_port("ghost0");
    add_port("ghost1");
    /* ghost0 and ghost1 had first + 1 and first + 2 kept for them. */
    ck_assert_uint_eq(bridge_port_no(bridge, "ghost0"), first + 3);
    ck_assert_uint_eq(bridge_port_no(bridge, "ghost1"), first + 4);

    /* Nor does a dump's filter keep one. */
    ck_assert_int_eq(flow_dump_start(bridge, &filter, &d, error,
                                     sizeof error), 0);
    flow_dump_destroy(d);
    add_port("ghost2");
    ck_assert_uint_eq(bridge_port_no(bridge, "ghost2"), first + 6);
}
END_TEST

/* What a daemon saved, another starts with: the rules with no timeout,
 * naming ports by name. */
START_TEST(test_a_new_daemon_replays_the_permanent_rules)
{
    char *lines[] = { "priority=30,in_port=p0,actions=output:p1",
                      "priority=20,idle_timeout=60,tcp,actions=drop",
                      "priority=10,hard_timeout=60,udp,actions=drop",
                      "cookie=0x5,priority=9,arp,actions=flood" };
    struct lines_request r;
    char error[256];
    char *before;

    add_port("p1");
    add_port("p0");
    flow_rpc_start_default(bridge, store, 0);
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 4);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL), 0);
    add("priority=9,arp,actions=drop");
    before = dump();

    stop_bridge();
    flow_store_destroy(store);
    bridge = bridge_create(&loop, "check-flow-rpc");
    bridge_reconfigure(bridge, config_store_empty());
    store = flow_store_create(db);
    /* Other port numbers this time. */
    add_port("p0");
    add_port("p1");
    ck_assert_int_eq(flow_store_load(store, error, sizeof error), 0);
    ck_assert_uint_eq(flow_rpc_replay(bridge, store, 0), 3);
    expect_dump("priority=30,in_port=p0 actions=output:p1\n"
                "priority=9,arp actions=drop\n"
                "priority=0 actions=normal");
    ck_assert_str_ne(before, "");
    free(before);
}
END_TEST

static Vswitch__Status
mod_flows(char *flow, char *error, size_t size)
{
    Vswitch__Request req = VSWITCH__REQUEST__INIT;
    Vswitch__FlowMod m = VSWITCH__FLOW_MOD__INIT;

    req.command_case = VSWITCH__REQUEST__COMMAND_MOD_FLOWS;
    req.mod_flows = &m;
    m.flow = flow;
    return run_change(&req, error, size, NULL);
}

/* mod-flows changes the actions, saved too, and nothing else; actions
 * that would go back a table are refused whole. */
START_TEST(test_mod_flows_saves_new_actions_and_refuses_going_back)
{
    struct flow_rule **rules;
    char error[256];
    size_t n;

    del_all();
    add("cookie=0x7,table=0,priority=5,udp,actions=drop");
    add("table=2,priority=5,udp,actions=drop");
    ck_assert_int_eq(mod_flows("udp,actions=goto_table:1", error,
                               sizeof error),
                     VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_msg(strstr(error, "goto_table:1 is not a later table than "
                         "table 2"), "%s", error);
    expect_dump("priority=5,udp actions=drop\n"
                "priority=5,udp actions=drop");
    ck_assert_int_eq(mod_flows("table=0,udp,actions=goto_table:1", error,
                               sizeof error), 0);
    flow_store_destroy(store);
    store = flow_store_create(db);
    ck_assert_int_eq(flow_store_load(store, error, sizeof error), 0);
    ck_assert_uint_eq(flow_rpc_replay(bridge, store, 0), 2);
    expect_dump("priority=5,udp actions=goto_table:1\n"
                "priority=5,udp actions=drop");
    rules = flow_table_select(table(), NULL, false, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(rules[0]->cookie, 7);
    free(rules);
}
END_TEST

/* The last line of a file wins, also in what is saved. */
START_TEST(test_a_timed_rule_after_a_permanent_one_saves_neither)
{
    char *lines[] = { "priority=5,udp,actions=drop",
                      "priority=5,idle_timeout=60,udp,actions=drop",
                      "priority=6,udp,actions=drop",
                      "priority=6,udp,actions=normal" };
    struct lines_request r;
    char error[256];

    flow_rpc_start_default(bridge, store, 0);
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 4);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL), 0);
    flow_store_destroy(store);
    store = flow_store_create(db);
    ck_assert_int_eq(flow_store_load(store, error, sizeof error), 0);
    ck_assert_uint_eq(flow_rpc_replay(bridge, store, 0), 2);
    expect_dump("priority=6,udp actions=normal\n"
                "priority=0 actions=normal");
}
END_TEST

START_TEST(test_deleting_every_rule_saves_none)
{
    char error[256];

    flow_rpc_start_default(bridge, store, 0);
    add("priority=9,arp,actions=drop");
    del_all();
    flow_store_destroy(store);
    store = flow_store_create(db);
    ck_assert_int_eq(flow_store_load(store, error, sizeof error), 0);
    ck_assert_uint_eq(flow_rpc_replay(bridge, store, 0), 0);
    expect_dump("");
}
END_TEST

/* A configuration file that never had rules written starts with the
 * default rule; the first change records that rules were written. */
START_TEST(test_the_first_change_records_that_rules_were_written)
{
    Vswitch__Config *saved;
    char error[256];

    ck_assert(!bridge_config(bridge)->flows_written);
    flow_rpc_start_default(bridge, store, 0);
    expect_dump("priority=0 actions=normal");
    add("priority=9,arp,actions=drop");
    ck_assert(bridge_config(bridge)->flows_written);
    ck_assert_int_eq(config_store_load(db, &saved, error, sizeof error), 0);
    ck_assert(saved->has_flows_written && saved->flows_written);
    vswitch__config__free_unpacked(saved, NULL);
}
END_TEST

/* A dump copies a slice at a time; if the rules change in between, it
 * starts again rather than mix two states of the tables. */
START_TEST(test_a_dump_starts_again_when_the_rules_change)
{
    Vswitch__FlowFilter f = VSWITCH__FLOW_FILTER__INIT;
    struct flow_dump *d;
    Vswitch__FlowList *l;
    char error[256];

    add("priority=1,udp,actions=drop");
    add("priority=2,udp,actions=drop");
    ck_assert_int_eq(flow_dump_start(bridge, &f, &d, error, sizeof error), 0);
    ck_assert(!flow_dump_copy(d, 0, 1));
    del_all();
    add("priority=3,tcp,actions=drop");
    ck_assert(flow_dump_copy(d, 0, 1));
    l = flow_dump_build(d);
    flow_dump_destroy(d);
    ck_assert_uint_eq(l->n_flows, 1);
    ck_assert_str_eq(l->flows[0]->match, "priority=3,tcp");
    vswitch__flow_list__free_unpacked(l, NULL);
}
END_TEST

/* Lines "priority=I,udp,tp_dst=I,actions=drop" for I from 1 to 'n', in
 * 'buf' (n * 64 bytes), with 'prefix' before each. */
static void
numbered_lines(char **lines, char *buf, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        lines[i] = buf + 64 * i;
        snprintf(lines[i], 64, "%spriority=%zu,udp,tp_dst=%zu,actions=drop",
                 prefix, i + 1, i + 1);
    }
}

/* Steps 'c' 'max' at a time to its end, checking before each step that
 * the rules are still 'before'.  Returns the number of steps. */
static int
step_to_end(struct flow_change *c, size_t max, const char *before,
            Vswitch__Status *status, char *error, size_t size)
{
    int steps = 1;

    expect_dump(before);
    while (!flow_change_step(c, max, status, error, size)) {
        expect_dump(before);
        steps++;
    }
    return steps;
}

static Vswitch__FlowChange
save_and_apply(struct flow_change *c, const char *before)
{
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    Vswitch__FlowChange counts;
    char error[256] = "";

    ck_assert_msg(!flow_change_save(c, error, sizeof error), "%s", error);
    expect_dump(before);
    flow_change_apply(c, 0, &resp);
    flow_change_destroy(c);
    counts = *resp.flow_change;
    free(resp.flow_change);
    return counts;
}

/* A change of many lines is prepared a slice at a time, with the rules
 * as they were in between, and applied at once; a bad line late in the
 * file still changes nothing. */
START_TEST(test_a_change_is_prepared_in_steps_and_applied_at_once)
{
    enum { N = 100 };
    static char buf[N * 64];
    char *lines[N];
    struct lines_request r;
    struct flow_change *c;
    Vswitch__FlowChange counts;
    Vswitch__Status status;
    char error[256] = "";
    char *after;

    numbered_lines(lines, buf, N, "");
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, N);
    ck_assert_int_eq(flow_change_start(bridge, store, db, &r.req, &c, error,
                                       sizeof error), 0);
    ck_assert_int_eq(step_to_end(c, 10, "priority=0 actions=normal",
                                 &status, error, sizeof error), 10);
    ck_assert_msg(status == VSWITCH__STATUS__STATUS_OK, "%s", error);
    counts = save_and_apply(c, "priority=0 actions=normal");
    ck_assert_uint_eq(counts.added, N);
    ck_assert_uint_eq(flow_table_count(table()), N + 1);
    after = dump();

    /* replace-flows with line 95 bad: refused after nine steps. */
    lines[94] = "priority=7,tcp,tp_dst=99999,actions=drop";
    lines_request(&r, VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS, lines, N);
    ck_assert_int_eq(flow_change_start(bridge, store, db, &r.req, &c, error,
                                       sizeof error), 0);
    ck_assert_int_eq(step_to_end(c, 10, after, &status, error,
                                 sizeof error), 10);
    ck_assert_int_eq(status, VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_msg(!strncmp(error, "line 95: ", 9), "%s", error);
    flow_change_destroy(c);
    expect_dump(after);

    /* One line changed: the lines, then the rules (selected in a step
     * of their own), a slice at a time; the default rule, which the file
     * lacks, goes. */
    lines[94] = "priority=95,udp,tp_dst=95,actions=normal";
    ck_assert_int_eq(flow_change_start(bridge, store, db, &r.req, &c, error,
                                       sizeof error), 0);
    ck_assert_int_eq(step_to_end(c, 7, after, &status, error,
                                 sizeof error),
                     (N + 6) / 7 + (N + 1 + 6) / 7);
    ck_assert_msg(status == VSWITCH__STATUS__STATUS_OK, "%s", error);
    counts = save_and_apply(c, after);
    ck_assert_uint_eq(counts.added, 0);
    ck_assert_uint_eq(counts.modified, 1);
    ck_assert_uint_eq(counts.deleted, 1);
    ck_assert_uint_eq(flow_table_count(table()), N);
    free(after);

    /* del-flows by a filter, a rule at a time. */
    {
        Vswitch__Request req = VSWITCH__REQUEST__INIT;
        Vswitch__FlowFilter f = VSWITCH__FLOW_FILTER__INIT;

        req.command_case = VSWITCH__REQUEST__COMMAND_DEL_FLOWS;
        req.del_flows = &f;
        f.flow = "udp";
        ck_assert_int_eq(flow_change_start(bridge, store, db, &req, &c,
                                           error, sizeof error), 0);
        after = dump();
        ck_assert_int_eq(step_to_end(c, 1, after, &status, error,
                                     sizeof error), 1 + N);
        counts = save_and_apply(c, after);
        free(after);
        ck_assert_uint_eq(counts.deleted, N);
        expect_dump("");
    }

    /* What was saved is what the tables hold. */
    flow_table_set_max_rules(table(), 1);
    ck_assert_uint_eq(flow_rpc_replay(bridge, store, 0), 0);
}
END_TEST

/* Rules that time out while a change is prepared make it start again, so
 * that it never looks at a rule that is gone. */
START_TEST(test_a_change_starts_again_when_rules_time_out)
{
    enum { N = 30 };
    static char buf[N * 64];
    char *lines[N];
    char *file[] = { "priority=1,arp,actions=drop",
                     "priority=2,arp,actions=drop",
                     "priority=3,arp,actions=drop" };
    struct lines_request r;
    struct flow_change *c;
    Vswitch__FlowChange counts;
    Vswitch__Status status;
    char error[256] = "";

    numbered_lines(lines, buf, N, "hard_timeout=1,");
    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, N);
    ck_assert_int_eq(run_change(&r.req, error, sizeof error, NULL), 0);
    ck_assert_uint_eq(flow_table_count(table()), N + 1);

    lines_request(&r, VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS, file, 3);
    ck_assert_int_eq(flow_change_start(bridge, store, db, &r.req, &c, error,
                                       sizeof error), 0);
    ck_assert(!flow_change_step(c, 10, &status, error, sizeof error));
    flow_table_expire(table(), 5000, NULL, NULL);
    ck_assert_uint_eq(flow_table_count(table()), 1);

    /* Three lines and one rule, the default one, from the first again. */
    ck_assert(!flow_change_step(c, 3, &status, error, sizeof error));
    ck_assert(!flow_change_step(c, 1, &status, error, sizeof error));
    ck_assert(flow_change_step(c, 1, &status, error, sizeof error));
    ck_assert_msg(status == VSWITCH__STATUS__STATUS_OK, "%s", error);
    counts = save_and_apply(c, "priority=0 actions=normal");
    ck_assert_uint_eq(counts.added, 3);
    ck_assert_uint_eq(counts.deleted, 1);
    expect_dump("priority=3,arp actions=drop\n"
                "priority=2,arp actions=drop\n"
                "priority=1,arp actions=drop");
}
END_TEST

/* A name that a change being prepared gave a number to keeps it while
 * readers come and go in between, which forget the names no rule uses. */
START_TEST(test_a_change_keeps_its_names_between_steps)
{
    Vswitch__FlowFilter filter = VSWITCH__FLOW_FILTER__INIT;
    char *lines[] = { "priority=5,in_port=later,actions=drop",
                      "priority=6,arp,actions=drop" };
    struct flow_change *c;
    struct flow_dump *d;
    struct lines_request r;
    Vswitch__Status status;
    char error[256] = "";

    lines_request(&r, VSWITCH__REQUEST__COMMAND_ADD_FLOWS, lines, 2);
    ck_assert_int_eq(flow_change_start(bridge, store, db, &r.req, &c, error,
                                       sizeof error), 0);
    ck_assert(!flow_change_step(c, 1, &status, error, sizeof error));
    filter.flow = "in_port=other";
    ck_assert_int_eq(flow_dump_start(bridge, &filter, &d, error,
                                     sizeof error), 0);
    flow_dump_destroy(d);
    ck_assert(flow_change_step(c, 1, &status, error, sizeof error));
    ck_assert_msg(status == VSWITCH__STATUS__STATUS_OK, "%s", error);
    save_and_apply(c, "priority=0 actions=normal");
    add_port("later");
    expect_dump("priority=6,arp actions=drop\n"
                "priority=5,in_port=later actions=drop\n"
                "priority=0 actions=normal");
}
END_TEST

/* trace goes through the tables as forwarding would, and changes
 * nothing. */
START_TEST(test_trace_follows_the_rules_and_counts_nothing)
{
    static const uint8_t frame[60] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1,
                                       0x08, 0x06 };
    Vswitch__Trace t = VSWITCH__TRACE__INIT;
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    const Vswitch__TraceReply *r;
    struct flow_rule **rules;
    char error[256] = "";
    size_t n;

    add_port("p0");
    add_port("p1");
    add("priority=100,in_port=p0,tcp,tp_dst=22,actions=drop");
    add("priority=50,in_port=p0,arp,actions=output:p1");
    t.flow = "in_port=p0,tcp,dl_src=02:00:00:00:00:01,tp_dst=22";
    ck_assert_int_eq(flow_trace(bridge, &t, 0, &resp, error, sizeof error),
                     0);
    r = resp.trace;
    ck_assert_uint_eq(r->n_steps, 1);
    ck_assert_str_eq(r->steps[0]->rule, "priority=100,tcp,in_port=p0,"
                     "tp_dst=22");
    ck_assert_str_eq(r->steps[0]->actions, "drop");
    ck_assert_uint_eq(r->n_outputs, 0);
    ck_assert_str_eq(r->drop, "flow_drop");
    vswitch__trace_reply__free_unpacked(resp.trace, NULL);

    /* A frame, as taken from a capture: an ARP request. */
    t.flow = NULL;
    t.has_frame = true;
    t.frame.data = (uint8_t *) frame;
    t.frame.len = sizeof frame;
    t.in_port = "p0";
    ck_assert_int_eq(flow_trace(bridge, &t, 0, &resp, error, sizeof error),
                     0);
    r = resp.trace;
    ck_assert_uint_eq(r->n_outputs, 1);
    ck_assert_str_eq(r->outputs[0]->port, "p1");
    ck_assert_ptr_null(r->drop);
    vswitch__trace_reply__free_unpacked(resp.trace, NULL);

    rules = flow_table_select(table(), NULL, false, &n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(rules[i]->n_packets, 0);
    }
    free(rules);

    t.in_port = "nosuch";
    ck_assert_int_eq(flow_trace(bridge, &t, 0, &resp, error, sizeof error),
                     VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_str_eq(error, "no port nosuch");
    t.has_frame = false;
    t.in_port = NULL;
    t.flow = "tcp";
    ck_assert_int_eq(flow_trace(bridge, &t, 0, &resp, error, sizeof error),
                     VSWITCH__STATUS__STATUS_INVALID);
    ck_assert_msg(strstr(error, "in_port="), "%s", error);
}
END_TEST

static Suite *
flow_rpc_suite(void)
{
    Suite *s = suite_create("flow-rpc");

    fixture_add_case(s, "add-flows is all or nothing and names the line",
                     test_add_flows_is_all_or_nothing_and_names_the_line,
                     setup, teardown);
    fixture_add_case(s, "the bound refuses the whole change",
                     test_the_bound_refuses_the_whole_change, setup,
                     teardown);
    fixture_add_case(s, "replace-flows leaves equal rules and counters "
                     "alone",
                     test_replace_flows_leaves_equal_rules_and_counters_alone,
                     setup, teardown);
    fixture_add_case(s, "diff-flows names each difference",
                     test_diff_flows_names_each_difference, setup, teardown);
    fixture_add_case(s, "a rule naming missing ports applies once they "
                     "exist",
                     test_a_rule_naming_missing_ports_applies_once_they_exist,
                     setup, teardown);
    fixture_add_case(s, "numbers no rule names are forgotten",
                     test_numbers_no_rule_names_are_forgotten, setup,
                     teardown);
    fixture_add_case(s, "a new daemon replays the permanent rules",
                     test_a_new_daemon_replays_the_permanent_rules, setup,
                     teardown);
    fixture_add_case(s, "mod-flows saves new actions and refuses going "
                     "back",
                     test_mod_flows_saves_new_actions_and_refuses_going_back,
                     setup, teardown);
    fixture_add_case(s, "a timed rule after a permanent one saves neither",
                     test_a_timed_rule_after_a_permanent_one_saves_neither,
                     setup, teardown);
    fixture_add_case(s, "deleting every rule saves none",
                     test_deleting_every_rule_saves_none, setup, teardown);
    fixture_add_case(s, "the first change records that rules were written",
                     test_the_first_change_records_that_rules_were_written,
                     setup, teardown);
    fixture_add_case(s, "trace follows the rules and counts nothing",
                     test_trace_follows_the_rules_and_counts_nothing, setup,
                     teardown);
    fixture_add_case(s, "a change is prepared in steps and applied at once",
                     test_a_change_is_prepared_in_steps_and_applied_at_once,
                     setup, teardown);
    fixture_add_case(s, "a change starts again when rules time out",
                     test_a_change_starts_again_when_rules_time_out, setup,
                     teardown);
    fixture_add_case(s, "a change keeps its names between steps",
                     test_a_change_keeps_its_names_between_steps, setup,
                     teardown);
    fixture_add_case(s, "a dump starts again when the rules change",
                     test_a_dump_starts_again_when_the_rules_change, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(flow_rpc_suite());
}
