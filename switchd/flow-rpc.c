#include <config.h>

#include "flow-rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "config-edit.h"
#include "config-store.h"
#include "dp.h"
#include "dstring.h"
#include "flow-store.h"
#include "flow-table.h"
#include "flow-text.h"
#include "hash.h"
#include "hmap.h"
#include "log.h"
#include "xmalloc.h"

#define OK VSWITCH__STATUS__STATUS_OK
#define INVALID VSWITCH__STATUS__STATUS_INVALID
#define FAILED VSWITCH__STATUS__STATUS_FAILED

enum change_kind {
    CHANGE_ADD,
    CHANGE_MODIFY,
    CHANGE_DELETE,
    CHANGE_REPLACE,
};

struct flow_change {
    enum change_kind kind;
    struct bridge *bridge;
    struct flow_store *store;
    char *db_path;
    struct flow_spec *adds;     /* ADD, REPLACE: rules to add, in order;
                                 * MODIFY: the one spec. */
    size_t n_adds;
    struct flow_spec *dels;     /* REPLACE: rules to delete, by identity;
                                 * DELETE: the filter, if any. */
    size_t n_dels;
    bool strict;
    struct flow_store_txn *txn;
    Vswitch__Config *config;    /* To save, recording that rules were
                                 * written; NULL if it does already. */
};

/* The identities of rules, as text, for telling which lines of a file
 * name the same rule, and which rules of the tables a file names. */
struct id_node {
    struct hmap_node node;
    char *id;
    size_t index;               /* Of the last line with this identity. */
};

static struct flow_table *
table_of(const struct bridge *b)
{
    return dp_flow_table(bridge_dp(b));
}

static bool
is_permanent(uint16_t idle_timeout, uint16_t hard_timeout)
{
    return !idle_timeout && !hard_timeout;
}

/* Returns the identity of a rule (table, priority, match) as text, which
 * the caller frees. */
static char *
identity(int table, uint16_t priority, const struct match *m,
         const struct flow_text_ports *ports)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    ds_put_format(&ds, "table=%d,priority=%u,", table, priority);
    flow_text_format_match(&ds, m, FLOW_TEXT_DEFAULT_PRIORITY, ports);
    return ds_steal_cstr(&ds);
}

static char *
spec_identity(const struct flow_spec *s, const struct flow_text_ports *ports)
{
    return identity(s->table < 0 ? 0 : s->table, s->priority, &s->match,
                    ports);
}

static char *
rule_identity(const struct flow_rule *r, const struct flow_text_ports *ports)
{
    return identity(r->table_id, r->cr.priority, &r->cr.match, ports);
}

static char *
spec_text(const struct flow_spec *s, const struct flow_text_ports *ports)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    flow_text_format_spec(&ds, s, ports);
    return ds_steal_cstr(&ds);
}

static char *
rule_text(const struct flow_rule *r, const struct flow_text_ports *ports)
{
    struct flow_spec view;

    flow_rule_to_spec(r, &view);
    return spec_text(&view, ports);
}

static struct id_node *
find_id(const struct hmap *ids, const char *id)
{
    struct id_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_bytes(id, strlen(id), 0), ids) {
        if (!strcmp(n->id, id)) {
            return n;
        }
    }
    return NULL;
}

/* Files 'id' (taken) for line 'index'.  Returns true if it was new. */
static bool
add_id(struct hmap *ids, char *id, size_t index)
{
    struct id_node *n = find_id(ids, id);

    if (n) {
        n->index = index;
        free(id);
        return false;
    }
    n = xmalloc(sizeof *n);
    n->id = id;
    n->index = index;
    if (hmap_insert(ids, &n->node, hash_bytes(id, strlen(id), 0))) {
        fprintf(stderr, "vswitchd: out of memory\n");
        abort();
    }
    return true;
}

static void
free_ids(struct hmap *ids)
{
    struct id_node *n;

    HMAP_FOR_EACH_SAFE (n, node, ids) {
        hmap_remove(ids, &n->node);
        free(n->id);
        free(n);
    }
    hmap_destroy(ids);
}

static void
free_specs(struct flow_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        flow_spec_uninit(&specs[i]);
    }
    free(specs);
}

/* Parses the lines of 'f' for 'mode' into a new array of specs.  Returns
 * 0, or EINVAL with the first bad line's number and fault in 'error'. */
static int
parse_lines(const Vswitch__FlowLines *f, enum flow_text_mode mode,
            const struct flow_text_ports *ports, struct flow_spec **specsp,
            char *error, size_t error_size)
{
    struct flow_spec *specs = xcalloc(f->n_lines, sizeof *specs);
    struct ds why = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < f->n_lines; i++) {
        int err = flow_text_parse(f->lines[i], mode, ports, &specs[i], &why);

        if (err) {
            snprintf(error, error_size, "line %u: %s",
                     f->n_line_numbers ? f->line_numbers[i]
                                       : (unsigned int) i + 1,
                     err == EINVAL ? ds_cstr(&why) : strerror(err));
            ds_destroy(&why);
            free_specs(specs, i);
            return err;
        }
        if (specs[i].table < 0) {
            specs[i].table = 0;
        }
    }
    ds_destroy(&why);
    *specsp = specs;
    return 0;
}

int
flow_rpc_parse(const char *text, enum flow_text_mode mode,
               const struct flow_text_ports *ports, struct flow_spec *spec,
               char *error, size_t error_size)
{
    struct ds why = DS_EMPTY_INITIALIZER;
    int err = flow_text_parse(text, mode, ports, spec, &why);

    if (err) {
        snprintf(error, error_size, "%s",
                 err == EINVAL ? ds_cstr(&why) : strerror(err));
    }
    ds_destroy(&why);
    return err;
}

/* What adding 'spec' does to the saved rules; 'ids' holds the identities
 * of the earlier lines of the change. */
static void
save_add(struct flow_change *c, const struct flow_spec *spec, const char *id,
         const struct hmap *ids, const struct flow_text_ports *ports)
{
    if (is_permanent(spec->idle_timeout, spec->hard_timeout)) {
        char *text = spec_text(spec, ports);

        flow_store_txn_set(c->txn, id, text);
        free(text);
    } else if (flow_store_find(c->store, id) || find_id(ids, id)) {
        /* A timed rule replaces a saved one, or one an earlier line of
         * this change would save. */
        flow_store_txn_remove(c->txn, id);
    }
}

static void
save_delete(struct flow_change *c, const char *id)
{
    if (flow_store_find(c->store, id)) {
        flow_store_txn_remove(c->txn, id);
    }
}

static Vswitch__Status
check_room(const struct flow_change *c, size_t n_new, size_t n_gone,
           char *error, size_t error_size)
{
    const struct flow_table *ft = table_of(c->bridge);
    size_t max = flow_table_max_rules(ft);

    if (flow_table_count(ft) - n_gone + n_new > max) {
        snprintf(error, error_size, "flow table full (%zu rules)", max);
        return FAILED;
    }
    return OK;
}

static Vswitch__Status
prepare_add(struct flow_change *c, const Vswitch__FlowLines *f,
            const struct flow_text_ports *ports, char *error,
            size_t error_size)
{
    const struct flow_table *ft = table_of(c->bridge);
    struct hmap ids;
    size_t n_new = 0;

    if (parse_lines(f, FLOW_TEXT_ADD, ports, &c->adds, error, error_size)) {
        return INVALID;
    }
    c->n_adds = f->n_lines;
    hmap_init(&ids);
    for (size_t i = 0; i < c->n_adds; i++) {
        char *id = spec_identity(&c->adds[i], ports);

        save_add(c, &c->adds[i], id, &ids, ports);
        if (add_id(&ids, id, i) && !flow_table_find(ft, &c->adds[i])) {
            n_new++;
        }
    }
    free_ids(&ids);
    return check_room(c, n_new, 0, error, error_size);
}

/* A goto_table must go to a later table than the rule's own, which a
 * rule of a later table than the flow of mod-flows named may not be. */
static Vswitch__Status
check_goto(const struct flow_actions *a, uint8_t table, char *error,
           size_t error_size)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->acts[i].type == FLOW_ACTION_GOTO_TABLE
            && a->acts[i].table <= table) {
            snprintf(error, error_size, "goto_table:%u is not a later table "
                     "than table %u of a rule selected", a->acts[i].table,
                     table);
            return INVALID;
        }
    }
    return OK;
}

static Vswitch__Status
prepare_modify(struct flow_change *c, const Vswitch__FlowMod *m,
               const struct flow_text_ports *ports, char *error,
               size_t error_size)
{
    Vswitch__Status status = OK;
    struct flow_rule **rules;
    size_t n;

    c->adds = xcalloc(1, sizeof *c->adds);
    if (flow_rpc_parse(m->flow, FLOW_TEXT_MODIFY, ports, c->adds, error,
                       error_size)) {
        return INVALID;
    }
    c->n_adds = 1;
    c->strict = m->has_strict && m->strict;

    /* The saved rules get the new actions, as flow_table_modify() gives
     * them; cookies, timeouts and counters stay. */
    rules = flow_table_select(table_of(c->bridge), c->adds, c->strict, &n);
    for (size_t i = 0; i < n && !status; i++) {
        char *id = rule_identity(rules[i], ports);

        status = check_goto(c->adds->actions, rules[i]->table_id, error,
                            error_size);
        if (!status && flow_store_find(c->store, id)) {
            struct flow_spec view;
            char *text;

            flow_rule_to_spec(rules[i], &view);
            view.actions = c->adds->actions;
            text = spec_text(&view, ports);
            flow_store_txn_set(c->txn, id, text);
            free(text);
        }
        free(id);
    }
    free(rules);
    return status;
}

static Vswitch__Status
prepare_delete(struct flow_change *c, const Vswitch__FlowFilter *f,
               const struct flow_text_ports *ports, char *error,
               size_t error_size)
{
    struct flow_rule **rules;
    size_t n;

    c->strict = f->has_strict && f->strict;
    if (!f->flow) {
        if (flow_store_count(c->store)) {
            flow_store_txn_clear(c->txn);
        }
        return OK;
    }
    c->dels = xcalloc(1, sizeof *c->dels);
    if (flow_rpc_parse(f->flow, FLOW_TEXT_FILTER, ports, c->dels, error,
                       error_size)) {
        return INVALID;
    }
    c->n_dels = 1;
    rules = flow_table_select(table_of(c->bridge), c->dels, c->strict, &n);
    for (size_t i = 0; i < n; i++) {
        char *id = rule_identity(rules[i], ports);

        save_delete(c, id);
        free(id);
    }
    free(rules);
    return OK;
}

/* Fills 'filter' to select rule 'r' alone (with 'strict'). */
static void
identity_filter(const struct flow_rule *r, struct flow_spec *filter)
{
    memset(filter, 0, sizeof *filter);
    filter->table = r->table_id;
    filter->has_priority = true;
    filter->priority = r->cr.priority;
    filter->match = r->cr.match;
}

static Vswitch__Status
prepare_replace(struct flow_change *c, const Vswitch__FlowLines *f,
                const struct flow_text_ports *ports, char *error,
                size_t error_size)
{
    const struct flow_table *ft = table_of(c->bridge);
    struct flow_spec *specs;
    struct flow_rule **rules;
    struct hmap ids;
    size_t n, n_new = 0;

    if (parse_lines(f, FLOW_TEXT_ADD, ports, &specs, error, error_size)) {
        return INVALID;
    }
    hmap_init(&ids);
    c->adds = xcalloc(f->n_lines, sizeof *c->adds);
    for (size_t i = 0; i < f->n_lines; i++) {
        char *id = spec_identity(&specs[i], ports);
        const struct flow_rule *r = flow_table_find(ft, &specs[i]);

        if (r && !find_id(&ids, id) && flow_rule_equals_spec(r, &specs[i])) {
            /* Left alone, with its counters (unless an earlier line of the
             * file replaces it first: then the last line wins). */
            add_id(&ids, id, i);
            flow_spec_uninit(&specs[i]);
            continue;
        }
        save_add(c, &specs[i], id, &ids, ports);
        if (add_id(&ids, id, i) && !r) {
            n_new++;
        }
        c->adds[c->n_adds++] = specs[i];
    }
    free(specs);

    rules = flow_table_select(ft, NULL, false, &n);
    c->dels = xcalloc(n, sizeof *c->dels);
    for (size_t i = 0; i < n; i++) {
        char *id = rule_identity(rules[i], ports);

        if (!find_id(&ids, id)) {
            identity_filter(rules[i], &c->dels[c->n_dels++]);
            save_delete(c, id);
        }
        free(id);
    }
    free(rules);
    free_ids(&ids);
    return check_room(c, n_new, c->n_dels, error, error_size);
}

Vswitch__Status
flow_change_prepare(struct bridge *b, struct flow_store *store,
                    const char *db_path, const Vswitch__Request *req,
                    struct flow_change **changep, char *error,
                    size_t error_size)
{
    struct flow_change *c = xcalloc(1, sizeof *c);
    struct flow_text_ports ports;
    Vswitch__Status status;

    c->bridge = b;
    c->store = store;
    c->db_path = xstrdup(db_path);
    c->txn = flow_store_txn_create();
    bridge_flow_ports(b, &ports);
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_ADD_FLOWS:
        c->kind = CHANGE_ADD;
        status = prepare_add(c, req->add_flows, &ports, error, error_size);
        break;
    case VSWITCH__REQUEST__COMMAND_MOD_FLOWS:
        c->kind = CHANGE_MODIFY;
        status = prepare_modify(c, req->mod_flows, &ports, error,
                                error_size);
        break;
    case VSWITCH__REQUEST__COMMAND_DEL_FLOWS:
        c->kind = CHANGE_DELETE;
        status = prepare_delete(c, req->del_flows, &ports, error,
                                error_size);
        break;
    case VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS:
        c->kind = CHANGE_REPLACE;
        status = prepare_replace(c, req->replace_flows, &ports, error,
                                 error_size);
        break;
    default:
        snprintf(error, error_size, "not a change of flows");
        status = INVALID;
        break;
    }
    if (status == OK && !bridge_config(b)->flows_written) {
        c->config = config_clone(&bridge_config(b)->base);
        if (!c->config) {
            snprintf(error, error_size, "out of memory");
            status = FAILED;
        } else {
            c->config->has_flows_written = true;
            c->config->flows_written = true;
        }
    }
    if (status != OK) {
        flow_change_destroy(c);
        return status;
    }
    *changep = c;
    return OK;
}

int
flow_change_save(struct flow_change *c, char *error, size_t error_size)
{
    int err = flow_store_save(c->store, c->txn, error, error_size);

    if (!err && c->config) {
        err = config_store_save(c->db_path, c->config, error, error_size);
        if (err) {
            /* The journal holds a change that will not be made. */
            flow_store_set_stale(c->store);
        }
    }
    return err;
}

static void
log_apply_error(const struct flow_spec *spec, int err)
{
    char *text = spec_text(spec, NULL);

    LOG_ERR("flows", "%s: not added after it was saved: %s", text,
            strerror(err));
    free(text);
}

void
flow_change_apply(struct flow_change *c, long long now_ms,
                  Vswitch__Response *resp)
{
    struct flow_table *ft = table_of(c->bridge);
    Vswitch__FlowChange *m = xmalloc(sizeof *m);
    size_t n;

    vswitch__flow_change__init(m);
    for (size_t i = 0; i < c->n_dels; i++) {
        if (c->kind == CHANGE_DELETE) {
            flow_table_delete(ft, &c->dels[i], c->strict, &n, NULL, NULL);
        } else {
            flow_table_delete(ft, &c->dels[i], true, &n, NULL, NULL);
        }
        m->deleted += n;
    }
    if (c->kind == CHANGE_DELETE && !c->n_dels) {
        flow_table_delete(ft, NULL, false, &n, NULL, NULL);
        m->deleted += n;
    }
    if (c->kind == CHANGE_MODIFY) {
        int err = flow_table_modify(ft, c->adds, c->strict, &n);

        if (err) {
            log_apply_error(c->adds, err);
        }
        m->modified = err ? 0 : n;
    } else {
        for (size_t i = 0; i < c->n_adds; i++) {
            bool replaced = false;
            int err = flow_table_add(ft, &c->adds[i], now_ms, &replaced);

            if (err) {
                log_apply_error(&c->adds[i], err);
            } else if (replaced) {
                m->modified++;
            } else {
                m->added++;
            }
        }
    }
    flow_store_apply(c->store, c->txn);
    if (c->config) {
        bridge_reconfigure(c->bridge, c->config);
        c->config = NULL;
    }
    resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOW_CHANGE;
    resp->flow_change = m;
}

void
flow_change_destroy(struct flow_change *c)
{
    if (c) {
        /* Names that only a refused or failed change gave numbers to, or
         * that only deleted rules named, go. */
        bridge_reclaim_port_names(c->bridge);
        free_specs(c->adds, c->n_adds);
        free_specs(c->dels, c->n_dels);
        flow_store_txn_destroy(c->txn);
        if (c->config) {
            protobuf_c_message_free_unpacked(&c->config->base, NULL);
        }
        free(c->db_path);
        free(c);
    }
}

/* Start. */

void
flow_rpc_start_default(struct bridge *b, struct flow_store *store,
                       long long now_ms)
{
    struct flow_table *ft = table_of(b);
    struct flow_text_ports ports;
    struct flow_store_txn *txn = flow_store_txn_create();
    struct flow_rule **rules;
    size_t n;

    bridge_flow_ports(b, &ports);
    flow_table_delete(ft, NULL, false, NULL, NULL, NULL);
    if (flow_table_add_default(ft, now_ms)) {
        LOG_ERR("flows", "cannot add the default rule: out of memory");
    }

    /* What the files hold is not this (they were not read): the next save
     * writes the rules whole, the default rule with them. */
    flow_store_clear(store);
    rules = flow_table_select(ft, NULL, false, &n);
    for (size_t i = 0; i < n; i++) {
        char *id = rule_identity(rules[i], &ports);
        char *text = rule_text(rules[i], &ports);

        flow_store_txn_set(txn, id, text);
        free(id);
        free(text);
    }
    free(rules);
    flow_store_apply(store, txn);
    flow_store_set_stale(store);
    flow_store_txn_destroy(txn);
}

/* A table whose bound was lowered may leave out thousands of saved rules:
 * the log names this many and counts the rest. */
#define REPLAY_ERRORS_LOGGED 10

struct replay {
    struct flow_table *ft;
    const struct flow_text_ports *ports;
    long long now_ms;
    size_t n_added;
    size_t n_left_out;
};

static void
replay_one(const char *id, const char *text, void *replay_)
{
    struct replay *r = replay_;
    struct flow_spec spec;
    char error[256];
    int err = flow_rpc_parse(text, FLOW_TEXT_ADD, r->ports, &spec, error,
                             sizeof error);

    (void) id;                  /* The text says it again. */
    if (!err) {
        err = flow_table_add(r->ft, &spec, r->now_ms, NULL);
        snprintf(error, sizeof error, "%s", err == ENOSPC
                 ? "the flow table is full" : strerror(err));
        flow_spec_uninit(&spec);
    }
    if (!err) {
        r->n_added++;
    } else if (r->n_left_out++ < REPLAY_ERRORS_LOGGED) {
        LOG_ERR("flows", "saved rule \"%s\" left out: %s", text, error);
    }
}

size_t
flow_rpc_replay(struct bridge *b, struct flow_store *store, long long now_ms)
{
    struct flow_text_ports ports;
    struct replay r = { table_of(b), &ports, now_ms, 0, 0 };

    bridge_flow_ports(b, &ports);
    flow_table_delete(r.ft, NULL, false, NULL, NULL, NULL);
    flow_store_for_each(store, replay_one, &r);
    if (r.n_left_out > REPLAY_ERRORS_LOGGED) {
        LOG_ERR("flows", "%zu saved rules left out in all",
                r.n_left_out);
    }
    bridge_reclaim_port_names(b);
    return r.n_added;
}

/* diff-flows. */

static void
add_line(Vswitch__FlowDiff *d, size_t *cap, char sign, char *text)
{
    if (d->n_lines == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        d->lines = xrealloc(d->lines, *cap * sizeof *d->lines);
    }
    d->lines[d->n_lines] = xmalloc(strlen(text) + 2);
    d->lines[d->n_lines][0] = sign;
    strcpy(d->lines[d->n_lines] + 1, text);
    d->n_lines++;
    free(text);
}

Vswitch__Status
flow_rpc_diff(struct bridge *b, const Vswitch__FlowLines *f,
              Vswitch__Response *resp, char *error, size_t error_size)
{
    const struct flow_table *ft = table_of(b);
    Vswitch__FlowDiff *d = xmalloc(sizeof *d);
    struct flow_text_ports ports;
    struct flow_spec *specs;
    struct flow_rule **rules;
    struct hmap ids;
    bool *in_table;
    size_t n, cap = 0;

    bridge_flow_ports(b, &ports);
    if (parse_lines(f, FLOW_TEXT_ADD, &ports, &specs, error, error_size)) {
        free(d);
        bridge_reclaim_port_names(b);
        return INVALID;
    }
    vswitch__flow_diff__init(d);
    hmap_init(&ids);
    for (size_t i = 0; i < f->n_lines; i++) {
        add_id(&ids, spec_identity(&specs[i], &ports), i);
    }

    /* The rules of the tables, in order, each followed by the file's
     * version if it differs; then the file's rules the tables lack. */
    in_table = xcalloc(f->n_lines + 1, sizeof *in_table);
    rules = flow_table_select(ft, NULL, false, &n);
    for (size_t i = 0; i < n; i++) {
        char *id = rule_identity(rules[i], &ports);
        const struct id_node *in_file = find_id(&ids, id);

        free(id);
        if (in_file) {
            in_table[in_file->index] = true;
            if (flow_rule_equals_spec(rules[i], &specs[in_file->index])) {
                continue;
            }
        }
        add_line(d, &cap, '-', rule_text(rules[i], &ports));
        if (in_file) {
            add_line(d, &cap, '+', spec_text(&specs[in_file->index],
                                             &ports));
        }
    }
    free(rules);
    for (size_t i = 0; i < f->n_lines; i++) {
        char *id = spec_identity(&specs[i], &ports);
        const struct id_node *last = find_id(&ids, id);

        free(id);
        if (last->index == i && !in_table[i]) {
            add_line(d, &cap, '+', spec_text(&specs[i], &ports));
        }
    }
    free(in_table);
    free_ids(&ids);
    free_specs(specs, f->n_lines);
    bridge_reclaim_port_names(b);
    resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOW_DIFF;
    resp->flow_diff = d;
    return OK;
}
