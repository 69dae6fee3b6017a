#include <config.h>

#include "flow-rpc.h"

#include <errno.h>
#include <stdint.h>
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

/* A change is prepared in steps, each taking a slice of the lines of the
 * request and then of the rules it selects. */
enum change_step {
    STEP_LINES,                 /* ADD, REPLACE: parsing the lines. */
    STEP_RULES,                 /* The rules of the tables selected. */
    STEP_DONE,
};

/* A change that saw the rules change under it (a timeout) this many times
 * prepares the rest in one go. */
#define FLOW_CHANGE_MAX_RESTARTS 3

struct flow_change {
    enum change_kind kind;
    struct bridge *bridge;
    struct flow_store *store;
    char *db_path;
    const Vswitch__FlowLines *lines;    /* ADD, REPLACE: the caller's. */
    enum change_step step;
    size_t pos;                 /* The next line or rule of 'step'. */
    uint64_t generation;        /* Of the tables when the step began. */
    int restarts;
    struct hmap ids;            /* The lines' identities (id_node). */
    size_t n_new;               /* Identities the tables lack. */
    struct flow_rule **rules;   /* STEP_RULES: the tables'. */
    size_t n_rules;
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

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_string(id, 0), ids) {
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
    if (hmap_insert(ids, &n->node, hash_string(id, 0))) {
        out_of_memory();
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

void
flow_rpc_free_specs(struct flow_spec *specs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        flow_spec_uninit(&specs[i]);
    }
    free(specs);
}

/* Parses line 'i' of 'f' into 'spec' (a missing table is 0).  Returns 0,
 * or an errno value with the line's number and fault in 'error'. */
static int
parse_line(const Vswitch__FlowLines *f, size_t i,
           const struct flow_text_ports *ports, struct flow_spec *spec,
           char *error, size_t error_size)
{
    struct ds why = DS_EMPTY_INITIALIZER;
    int err = flow_text_parse(f->lines[i], FLOW_TEXT_ADD, ports, spec, &why);

    if (err) {
        snprintf(error, error_size, "line %u: %s",
                 f->n_line_numbers ? f->line_numbers[i]
                                   : (unsigned int) i + 1,
                 err == EINVAL ? ds_cstr(&why) : strerror(err));
    } else if (spec->table < 0) {
        spec->table = 0;
    }
    ds_destroy(&why);
    return err;
}

int
flow_rpc_parse_lines(const Vswitch__FlowLines *f,
                     const struct flow_text_ports *ports,
                     struct flow_spec **specsp, char *error,
                     size_t error_size)
{
    struct flow_spec *specs = xcalloc(f->n_lines + 1, sizeof *specs);

    for (size_t i = 0; i < f->n_lines; i++) {
        int err = parse_line(f, i, ports, &specs[i], error, error_size);

        if (err) {
            flow_rpc_free_specs(specs, i);
            return err;
        }
    }
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

/* ADD: what line 'i', parsed into c->adds[i], does. */
static void
add_line_spec(struct flow_change *c, size_t i,
              const struct flow_text_ports *ports)
{
    const struct flow_spec *spec = &c->adds[i];
    char *id = spec_identity(spec, ports);

    save_add(c, spec, id, &c->ids, ports);
    if (add_id(&c->ids, id, i) && !flow_table_find(table_of(c->bridge),
                                                   spec)) {
        c->n_new++;
    }
}

/* REPLACE: what line 'i', parsed into 'spec' (taken), does. */
static void
replace_line_spec(struct flow_change *c, struct flow_spec *spec, size_t i,
                  const struct flow_text_ports *ports)
{
    char *id = spec_identity(spec, ports);
    const struct flow_rule *r = flow_table_find(table_of(c->bridge), spec);

    if (r && !find_id(&c->ids, id) && flow_rule_equals_spec(r, spec)) {
        /* Left alone, with its counters (unless an earlier line of the
         * file replaces it first: then the last line wins). */
        add_id(&c->ids, id, i);
        flow_spec_uninit(spec);
        return;
    }
    save_add(c, spec, id, &c->ids, ports);
    if (add_id(&c->ids, id, i) && !r) {
        c->n_new++;
    }
    c->adds[c->n_adds++] = *spec;
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

/* MODIFY: the saved rules get the new actions, as flow_table_modify()
 * gives them; cookies, timeouts and counters stay. */
static Vswitch__Status
modify_rule(struct flow_change *c, const struct flow_rule *r, const char *id,
            const struct flow_text_ports *ports, char *error,
            size_t error_size)
{
    Vswitch__Status status = check_goto(c->adds->actions, r->table_id,
                                        error, error_size);

    if (!status && flow_store_find(c->store, id)) {
        struct flow_spec view;
        char *text;

        flow_rule_to_spec(r, &view);
        view.actions = c->adds->actions;
        text = spec_text(&view, ports);
        flow_store_txn_set(c->txn, id, text);
        free(text);
    }
    return status;
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

/* What the change does to rule 'r' of the tables, which it selected. */
static Vswitch__Status
change_rule(struct flow_change *c, const struct flow_rule *r,
            const struct flow_text_ports *ports, char *error,
            size_t error_size)
{
    Vswitch__Status status = OK;
    char *id = rule_identity(r, ports);

    if (c->kind == CHANGE_MODIFY) {
        status = modify_rule(c, r, id, ports, error, error_size);
    } else if (c->kind == CHANGE_DELETE) {
        save_delete(c, id);
    } else if (!find_id(&c->ids, id)) {
        /* REPLACE: a rule that no line of the file names goes. */
        identity_filter(r, &c->dels[c->n_dels++]);
        save_delete(c, id);
    }
    free(id);
    return status;
}

/* Forgets what was worked out, and starts again from the first line, or
 * the first rule, on the tables as they are. */
static void
restart(struct flow_change *c)
{
    flow_store_txn_destroy(c->txn);
    c->txn = flow_store_txn_create();
    free_ids(&c->ids);
    hmap_init(&c->ids);
    free(c->rules);
    c->rules = NULL;
    c->n_rules = 0;
    c->pos = 0;
    c->n_new = 0;
    c->generation = flow_table_generation(table_of(c->bridge));
    if (c->lines) {
        flow_rpc_free_specs(c->adds, c->n_adds);
        flow_rpc_free_specs(c->dels, c->n_dels);
        c->adds = xcalloc(c->lines->n_lines + 1, sizeof *c->adds);
        c->n_adds = 0;
        c->dels = NULL;
        c->n_dels = 0;
        c->step = STEP_LINES;
    } else if (c->kind == CHANGE_DELETE && !c->n_dels) {
        if (flow_store_count(c->store)) {
            flow_store_txn_clear(c->txn);
        }
        c->step = STEP_DONE;
    } else {
        c->step = STEP_RULES;
    }
}

/* Takes up to '*max' lines, less what it took. */
static Vswitch__Status
step_lines(struct flow_change *c, size_t *max,
           const struct flow_text_ports *ports, char *error,
           size_t error_size)
{
    for (; *max && c->pos < c->lines->n_lines; (*max)--, c->pos++) {
        struct flow_spec spec;

        if (parse_line(c->lines, c->pos, ports, &spec, error, error_size)) {
            return INVALID;
        }
        if (c->kind == CHANGE_ADD) {
            c->adds[c->n_adds++] = spec;
            add_line_spec(c, c->n_adds - 1, ports);
        } else {
            replace_line_spec(c, &spec, c->pos, ports);
        }
    }
    if (c->pos == c->lines->n_lines) {
        c->step = c->kind == CHANGE_ADD ? STEP_DONE : STEP_RULES;
        c->pos = 0;
    }
    return OK;
}

/* Takes up to '*max' rules of those the change selects, less what it
 * took.  Selecting them (and sorting them, some 10 ms for 65,536 rules)
 * takes the rest of a step. */
static Vswitch__Status
step_rules(struct flow_change *c, size_t *max,
           const struct flow_text_ports *ports, char *error,
           size_t error_size)
{
    if (!c->rules) {
        const struct flow_spec *filter = (c->kind == CHANGE_MODIFY ? c->adds
                                          : c->kind == CHANGE_DELETE
                                          ? c->dels : NULL);

        c->rules = flow_table_select(table_of(c->bridge), filter, c->strict,
                                     &c->n_rules);
        if (c->kind == CHANGE_REPLACE) {
            c->dels = xcalloc(c->n_rules + 1, sizeof *c->dels);
        }
        if (c->n_rules) {
            *max = 0;
            return OK;
        }
    }
    for (; *max && c->pos < c->n_rules; (*max)--, c->pos++) {
        Vswitch__Status status = change_rule(c, c->rules[c->pos], ports,
                                             error, error_size);

        if (status != OK) {
            return status;
        }
    }
    if (c->pos == c->n_rules) {
        c->step = STEP_DONE;
    }
    return OK;
}

/* Once every line and rule is taken: the bound, and the record that rules
 * were written. */
static Vswitch__Status
conclude(struct flow_change *c, char *error, size_t error_size)
{
    Vswitch__Status status = OK;

    if (c->kind == CHANGE_ADD || c->kind == CHANGE_REPLACE) {
        status = check_room(c, c->n_new, c->n_dels, error, error_size);
    }
    if (status == OK && !bridge_config(c->bridge)->flows_written) {
        c->config = config_clone(&bridge_config(c->bridge)->base);
        if (!c->config) {
            snprintf(error, error_size, "out of memory");
            status = FAILED;
        } else {
            c->config->has_flows_written = true;
            c->config->flows_written = true;
        }
    }
    return status;
}

Vswitch__Status
flow_change_start(struct bridge *b, struct flow_store *store,
                  const char *db_path, const Vswitch__Request *req,
                  struct flow_change **changep, char *error,
                  size_t error_size)
{
    struct flow_change *c = xcalloc(1, sizeof *c);
    const Vswitch__FlowFilter *f = req->del_flows;
    struct flow_text_ports ports;
    Vswitch__Status status = OK;

    c->bridge = b;
    c->store = store;
    c->db_path = xstrdup(db_path);
    hmap_init(&c->ids);
    bridge_hold_port_names(b);
    bridge_flow_ports(b, &ports);
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_ADD_FLOWS:
        c->kind = CHANGE_ADD;
        c->lines = req->add_flows;
        break;
    case VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS:
        c->kind = CHANGE_REPLACE;
        c->lines = req->replace_flows;
        break;
    case VSWITCH__REQUEST__COMMAND_MOD_FLOWS:
        c->kind = CHANGE_MODIFY;
        c->strict = req->mod_flows->has_strict && req->mod_flows->strict;
        c->adds = xcalloc(1, sizeof *c->adds);
        if (flow_rpc_parse(req->mod_flows->flow, FLOW_TEXT_MODIFY, &ports,
                           c->adds, error, error_size)) {
            status = INVALID;
        } else {
            c->n_adds = 1;
        }
        break;
    case VSWITCH__REQUEST__COMMAND_DEL_FLOWS:
        c->kind = CHANGE_DELETE;
        c->strict = f->has_strict && f->strict;
        if (!f->flow) {
            break;
        }
        c->dels = xcalloc(1, sizeof *c->dels);
        if (flow_rpc_parse(f->flow, FLOW_TEXT_FILTER, &ports, c->dels,
                           error, error_size)) {
            status = INVALID;
        } else {
            c->n_dels = 1;
        }
        break;
    default:
        snprintf(error, error_size, "not a change of flows");
        status = INVALID;
        break;
    }
    if (status != OK) {
        flow_change_destroy(c);
        return status;
    }
    restart(c);
    *changep = c;
    return OK;
}

bool
flow_change_step(struct flow_change *c, size_t max, Vswitch__Status *status,
                 char *error, size_t error_size)
{
    struct flow_text_ports ports;

    *status = OK;
    if (flow_table_generation(table_of(c->bridge)) != c->generation) {
        /* A rule looked at, or to look at, may be gone: a timeout. */
        c->restarts++;
        restart(c);
    }
    if (c->restarts >= FLOW_CHANGE_MAX_RESTARTS) {
        max = SIZE_MAX;
    }
    bridge_flow_ports(c->bridge, &ports);
    while (c->step != STEP_DONE && max && *status == OK) {
        *status = (c->step == STEP_LINES
                   ? step_lines(c, &max, &ports, error, error_size)
                   : step_rules(c, &max, &ports, error, error_size));
    }
    if (*status == OK && c->step == STEP_DONE) {
        *status = conclude(c, error, error_size);
    }
    return *status != OK || c->step == STEP_DONE;
}

Vswitch__Status
flow_change_prepare(struct bridge *b, struct flow_store *store,
                    const char *db_path, const Vswitch__Request *req,
                    struct flow_change **changep, char *error,
                    size_t error_size)
{
    Vswitch__Status status = flow_change_start(b, store, db_path, req,
                                               changep, error, error_size);

    if (status == OK) {
        while (!flow_change_step(*changep, SIZE_MAX, &status, error,
                                 error_size)) {
            continue;
        }
        if (status != OK) {
            flow_change_destroy(*changep);
            *changep = NULL;
        }
    }
    return status;
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
    if (!err) {
        /* Here rather than on the loop, as it grows with the change:
         * nothing else reads the store while the change has its turn. */
        flow_store_apply(c->store, c->txn);
    }

    /* What only preparing and saving needed is freed here too. */
    flow_store_txn_destroy(c->txn);
    c->txn = NULL;
    free_ids(&c->ids);
    hmap_init(&c->ids);
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
    if (c->config) {
        bridge_reconfigure(c->bridge, c->config);
        c->config = NULL;
    }
    resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOW_CHANGE;
    resp->flow_change = m;
}

void
flow_change_end(struct flow_change *c)
{
    /* Names that only a refused or failed change gave numbers to, or that
     * only deleted rules named, go. */
    bridge_release_port_names(c->bridge);
    bridge_reclaim_port_names(c->bridge);
}

void
flow_change_destroy(struct flow_change *c)
{
    if (c) {
        flow_change_end(c);
        flow_change_free(c);
    }
}

void
flow_change_free(struct flow_change *c)
{
    if (c) {
        flow_rpc_free_specs(c->adds, c->n_adds);
        flow_rpc_free_specs(c->dels, c->n_dels);
        free_ids(&c->ids);
        free(c->rules);
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
