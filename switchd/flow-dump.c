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
    if (c->match.mask.in_port) {
        copy_name(d, ports, c->match.key.in_port);
    }
    for (size_t i = 0; i < a->n; i++) {
        if (a->acts[i].type == FLOW_ACTION_OUTPUT) {
            copy_name(d, ports, a->acts[i].port);
        } else if (a->acts[i].type == FLOW_ACTION_RESUBMIT) {
            copy_name(d, ports, a->acts[i].resubmit.port);
        }
    }
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
    return d->n_copies == d->n_rules;
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

void
flow_dump_destroy(struct flow_dump *d)
{
    if (d) {
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
