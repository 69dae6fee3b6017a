#include <config.h>

#include "flow-dump.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "dp.h"
#include "dstring.h"
#include "flow-rpc.h"
#include "flow-table.h"
#include "flow-text.h"
#include "hash.h"
#include "hmap.h"
#include "xmalloc.h"

#define OK VSWITCH__STATUS__STATUS_OK
#define INVALID VSWITCH__STATUS__STATUS_INVALID

/* A dump that saw the rules change under it this many times copies the
 * rest in one go. */
#define FLOW_DUMP_MAX_RESTARTS 3

static struct flow_table *
table_of(const struct bridge *b)
{
    return dp_flow_table(bridge_dp(b));
}

/* One rule as copied: what the answer says of it. */
struct dumped_rule {
    uint8_t table;
    uint16_t priority;
    uint16_t idle_timeout, hard_timeout;
    uint64_t cookie;
    uint64_t n_packets, n_bytes;
    uint64_t duration_ms, idle_age_ms;
    struct match match;
    struct flow_actions *actions;       /* A copy. */
};

/* The names of the ports and of the numbers kept for rules, copied so
 * that the worker formats without reading the bridge. */
struct dumped_name {
    uint32_t port_no;
    char *name;
};

struct flow_dump {
    struct bridge *bridge;
    struct flow_spec filter;
    bool has_filter, strict;
    struct flow_rule **rules;   /* The table's, while copying. */
    size_t n_rules;
    uint64_t generation;        /* Of the tables when 'rules' was made. */
    int restarts;
    struct dumped_rule *copies;
    size_t n_copies;
    struct dumped_name *names;
    size_t n_names, names_cap;

    /* diff-flows: the file's rules (NULL for a dump), and whether port
     * numbers are kept for them. */
    struct flow_spec *specs;
    size_t n_specs;
    bool holds_names;
};

static void
free_copies(struct flow_dump *d)
{
    for (size_t i = 0; i < d->n_copies; i++) {
        free(d->copies[i].actions);
    }
    free(d->copies);
    d->copies = NULL;
    d->n_copies = 0;
}

static void
select_rules(struct flow_dump *d)
{
    const struct flow_table *ft = table_of(d->bridge);

    free(d->rules);
    free_copies(d);
    d->rules = flow_table_select(ft, d->has_filter ? &d->filter : NULL,
                                 d->strict, &d->n_rules);
    d->generation = flow_table_generation(ft);
    d->copies = xcalloc(d->n_rules + 1, sizeof *d->copies);
}

Vswitch__Status
flow_dump_start(struct bridge *b, const Vswitch__FlowFilter *f,
                struct flow_dump **dumpp, char *error, size_t error_size)
{
    struct flow_dump *d = xcalloc(1, sizeof *d);
    struct flow_text_ports ports;
    int err;

    d->bridge = b;
    d->strict = f->has_strict && f->strict;
    if (f->flow) {
        bridge_flow_ports(b, &ports);
        err = flow_rpc_parse(f->flow, FLOW_TEXT_FILTER, &ports, &d->filter,
                             error, error_size);

        /* A name of no port selects nothing, and keeps no number. */
        bridge_reclaim_port_names(b);
        if (err) {
            free(d);
            return INVALID;
        }
        d->has_filter = true;
    }
    select_rules(d);
    *dumpp = d;
    return OK;
}

static const char *
find_name(const struct flow_dump *d, uint32_t port_no)
{
    for (size_t i = 0; i < d->n_names; i++) {
        if (d->names[i].port_no == port_no) {
            return d->names[i].name;
        }
    }
    return NULL;
}

/* Copies the name of 'port_no', if it has one and it is not copied. */
static void
copy_name(struct flow_dump *d, const struct flow_text_ports *ports,
          uint32_t port_no)
{
    const char *name;

    if (find_name(d, port_no)) {
        return;
    }
    name = ports->port_name(ports->aux, port_no);
    if (name) {
        if (d->n_names == d->names_cap) {
            d->names_cap = d->names_cap ? 2 * d->names_cap : 16;
            d->names = xrealloc(d->names, d->names_cap * sizeof *d->names);
        }
        d->names[d->n_names++] = (struct dumped_name) { port_no,
                                                        xstrdup(name) };
    }
}

/* Copies the names of the ports 'm' and 'a' name. */
static void
copy_names_of(struct flow_dump *d, const struct flow_text_ports *ports,
              const struct match *m, const struct flow_actions *a)
{
    if (m->mask.in_port) {
        copy_name(d, ports, m->key.in_port);
    }
    for (size_t i = 0; a && i < a->n; i++) {
        if (a->acts[i].type == FLOW_ACTION_OUTPUT) {
            copy_name(d, ports, a->acts[i].port);
        } else if (a->acts[i].type == FLOW_ACTION_RESUBMIT) {
            copy_name(d, ports, a->acts[i].resubmit.port);
        }
    }
}

static void
copy_rule(struct flow_dump *d, const struct flow_rule *r, long long now_ms,
          const struct flow_text_ports *ports)
{
    struct dumped_rule *c = &d->copies[d->n_copies++];
    const struct flow_actions *a = r->actions;
    size_t size = sizeof *a + a->n * sizeof a->acts[0];

    c->table = r->table_id;
    c->priority = r->cr.priority;
    c->idle_timeout = r->idle_timeout;
    c->hard_timeout = r->hard_timeout;
    c->cookie = r->cookie;
    c->n_packets = r->n_packets;
    c->n_bytes = r->n_bytes;
    c->duration_ms = (uint64_t) (now_ms > r->created_ms
                                 ? now_ms - r->created_ms : 0);
    c->idle_age_ms = (uint64_t) (now_ms > r->used_ms ? now_ms - r->used_ms
                                                     : 0);
    c->match = r->cr.match;
    c->actions = xmalloc(size);
    memcpy(c->actions, a, size);

    /* The port numbers that the formatter will ask names for. */
    copy_names_of(d, ports, &c->match, a);
}

bool
flow_dump_copy(struct flow_dump *d, long long now_ms, size_t max)
{
    const struct flow_table *ft = table_of(d->bridge);
    struct flow_text_ports ports;

    if (flow_table_generation(ft) != d->generation) {
        /* A rule copied, or to copy, may be gone. */
        d->restarts++;
        select_rules(d);
    }
    if (d->restarts >= FLOW_DUMP_MAX_RESTARTS) {
        max = SIZE_MAX;
    }
    bridge_flow_ports(d->bridge, &ports);
    while (max-- && d->n_copies < d->n_rules) {
        copy_rule(d, d->rules[d->n_copies], now_ms, &ports);
    }
    if (d->n_copies < d->n_rules) {
        return false;
    }
    /* The worker needs no more of the bridge; what the lines named and
     * no rule does is forgotten, as after every reader. */
    if (d->holds_names) {
        bridge_release_port_names(d->bridge);
        bridge_reclaim_port_names(d->bridge);
        d->holds_names = false;
    }
    return true;
}

size_t
flow_dump_size(const struct flow_dump *d)
{
    /* The text of a rule is about as long as its match and actions. */
    return d->n_copies * (sizeof(struct dumped_rule)
                          + sizeof(Vswitch__FlowStats) + 64);
}

static const char *
dumped_port_name(void *dump, uint32_t port_no)
{
    return find_name(dump, port_no);
}

static Vswitch__FlowStats *
flow_stats_msg(const struct dumped_rule *c,
               const struct flow_text_ports *ports)
{
    Vswitch__FlowStats *m = xmalloc(sizeof *m);
    struct ds ds = DS_EMPTY_INITIALIZER;

    vswitch__flow_stats__init(m);
    m->table = c->table;
    m->priority = c->priority;
    m->cookie = c->cookie;
    m->duration_ms = c->duration_ms;
    m->n_packets = c->n_packets;
    m->n_bytes = c->n_bytes;
    m->idle_age_ms = c->idle_age_ms;
    m->idle_timeout = c->idle_timeout;
    m->hard_timeout = c->hard_timeout;
    flow_text_format_match(&ds, &c->match, c->priority, ports);
    m->match = ds_steal_cstr(&ds);
    flow_text_format_actions(&ds, c->actions, ports);
    m->actions = ds_steal_cstr(&ds);
    return m;
}

Vswitch__FlowList *
flow_dump_build(struct flow_dump *d)
{
    Vswitch__FlowList *m = xmalloc(sizeof *m);
    struct flow_text_ports ports = { NULL, dumped_port_name, d };

    vswitch__flow_list__init(m);
    m->flows = xcalloc(d->n_copies + 1, sizeof *m->flows);
    for (size_t i = 0; i < d->n_copies; i++) {
        m->flows[m->n_flows++] = flow_stats_msg(&d->copies[i], &ports);
    }
    return m;
}

Vswitch__Status
flow_dump_start_diff(struct bridge *b, const Vswitch__FlowLines *f,
                     struct flow_dump **dumpp, char *error,
                     size_t error_size)
{
    struct flow_dump *d = xcalloc(1, sizeof *d);
    struct flow_text_ports ports;

    d->bridge = b;
    bridge_flow_ports(b, &ports);
    bridge_hold_port_names(b);
    d->holds_names = true;
    if (flow_rpc_parse_lines(f, &ports, &d->specs, error, error_size)) {
        flow_dump_destroy(d);
        return INVALID;
    }
    d->n_specs = f->n_lines;
    for (size_t i = 0; i < d->n_specs; i++) {
        copy_names_of(d, &ports, &d->specs[i].match, d->specs[i].actions);
    }
    select_rules(d);
    *dumpp = d;
    return OK;
}

bool
flow_dump_is_diff(const struct flow_dump *d)
{
    return d->specs != NULL;
}

/* A rule's identity in OpenFlow's terms: table, priority, match. */
struct identity {
    struct hmap_node node;
    size_t index;               /* Of the last line with this identity. */
};

static uint32_t
hash_identity(int table, uint16_t priority, const struct match *m)
{
    return hash_bytes(m, sizeof *m, (uint64_t) table << 16 | priority);
}

static bool
spec_has_identity(const struct flow_spec *s, int table, uint16_t priority,
                  const struct match *m)
{
    return s->table == table && s->priority == priority
           && match_equal(&s->match, m);
}

static struct identity *
find_identity(const struct hmap *ids, const struct flow_spec *specs,
              int table, uint16_t priority, const struct match *m)
{
    struct identity *id;

    HMAP_FOR_EACH_WITH_HASH (id, node, hash_identity(table, priority, m),
                             ids) {
        if (spec_has_identity(&specs[id->index], table, priority, m)) {
            return id;
        }
    }
    return NULL;
}

static void
add_line(Vswitch__FlowDiff *m, size_t *cap, char sign,
         const struct flow_spec *spec, const struct flow_text_ports *ports)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    if (m->n_lines == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        m->lines = xrealloc(m->lines, *cap * sizeof *m->lines);
    }
    ds_put_char(&ds, sign);
    flow_text_format_spec(&ds, spec, ports);
    m->lines[m->n_lines++] = ds_steal_cstr(&ds);
}

/* Views copy 'c' as flow_text_parse() would give its rule. */
static void
copy_to_spec(const struct dumped_rule *c, struct flow_spec *s)
{
    *s = (struct flow_spec) {
        .table = c->table,
        .has_priority = true,
        .priority = c->priority,
        .cookie = c->cookie,
        .cookie_mask = c->cookie ? UINT64_MAX : 0,
        .idle_timeout = c->idle_timeout,
        .hard_timeout = c->hard_timeout,
        .match = c->match,
        .actions = c->actions,
    };
}

Vswitch__FlowDiff *
flow_dump_build_diff(struct flow_dump *d)
{
    Vswitch__FlowDiff *m = xmalloc(sizeof *m);
    struct flow_text_ports ports = { NULL, dumped_port_name, d };
    bool *in_table = xcalloc(d->n_specs + 1, sizeof *in_table);
    struct identity *ids = xcalloc(d->n_specs + 1, sizeof *ids);
    struct hmap map;
    size_t cap = 0;

    vswitch__flow_diff__init(m);
    hmap_init(&map);
    for (size_t i = 0; i < d->n_specs; i++) {
        const struct flow_spec *s = &d->specs[i];
        struct identity *id = find_identity(&map, d->specs, s->table,
                                            s->priority, &s->match);

        if (id) {
            id->index = i;
        } else {
            ids[i].index = i;
            /* Out of memory is fatal here, as for every xmalloc(). */
            if (hmap_insert(&map, &ids[i].node,
                            hash_identity(s->table, s->priority,
                                          &s->match))) {
                abort();
            }
        }
    }

    for (size_t i = 0; i < d->n_copies; i++) {
        const struct dumped_rule *c = &d->copies[i];
        const struct identity *id = find_identity(&map, d->specs, c->table,
                                                  c->priority, &c->match);
        const struct flow_spec *s = id ? &d->specs[id->index] : NULL;
        struct flow_spec view;

        if (s) {
            in_table[id->index] = true;
            if (s->cookie == c->cookie
                && s->idle_timeout == c->idle_timeout
                && s->hard_timeout == c->hard_timeout
                && flow_actions_equal(s->actions, c->actions)) {
                continue;
            }
        }
        copy_to_spec(c, &view);
        add_line(m, &cap, '-', &view, &ports);
        if (s) {
            add_line(m, &cap, '+', s, &ports);
        }
    }
    for (size_t i = 0; i < d->n_specs; i++) {
        const struct flow_spec *s = &d->specs[i];
        const struct identity *id = find_identity(&map, d->specs, s->table,
                                                  s->priority, &s->match);

        if (id->index == i && !in_table[i]) {
            add_line(m, &cap, '+', s, &ports);
        }
    }
    hmap_destroy(&map);
    free(ids);
    free(in_table);
    return m;
}

void
flow_dump_destroy(struct flow_dump *d)
{
    if (d) {
        if (d->holds_names) {
            bridge_release_port_names(d->bridge);
            bridge_reclaim_port_names(d->bridge);
        }
        flow_rpc_free_specs(d->specs, d->n_specs);
        if (d->has_filter) {
            flow_spec_uninit(&d->filter);
        }
        free(d->rules);
        free_copies(d);
        for (size_t i = 0; i < d->n_names; i++) {
            free(d->names[i].name);
        }
        free(d->names);
        free(d);
    }
}
