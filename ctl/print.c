#include <config.h>

#include "print.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eth-addr.h"
#include "request.h"

/* Which counters become table columns; in JSON every counter is printed
 * inside a "counters" object. */
enum counter_columns {
    COUNTERS_JSON_ONLY,         /* None: the VNIs table. */
    COUNTERS_PACKETS,           /* Packets and drops: the ports table. */
    COUNTERS_ALL,               /* Bytes too: the stats table. */
};

/* A sum of counters that a garbled response cannot wrap around. */
static uint64_t
add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Returns 'prefix' followed by the 'n' 'items' separated by commas, in a
 * string the caller frees; NULL if memory is short. */
static char *
join(const char *prefix, char *const *items, size_t n)
{
    size_t len = strlen(prefix) + 1;
    char *s;

    for (size_t i = 0; i < n; i++) {
        len += strlen(items[i]) + 1;
    }
    s = malloc(len);
    if (s) {
        strcpy(s, prefix);
        for (size_t i = 0; i < n; i++) {
            if (i) {
                strcat(s, ",");
            }
            strcat(s, items[i]);
        }
    }
    return s;
}

/* Prints a string built by join(), which owns it; '?' stands in if memory
 * ran short, so that a row keeps its shape. */
static void
print_joined(struct output *out, const char *column, char *text)
{
    output_string(out, NULL, column, text ? text : "?");
    free(text);
}

static void
print_counters(struct output *out, const Vswitch__Counters *c,
               enum counter_columns columns)
{
    bool packets = columns != COUNTERS_JSON_ONLY;
    bool bytes = columns == COUNTERS_ALL;
    uint64_t drops = 0;

    output_begin_object(out, "counters", NULL);
    output_uint(out, "rx_packets", packets ? "RX_PACKETS" : NULL,
                c->rx_packets);
    output_uint(out, "rx_bytes", bytes ? "RX_BYTES" : NULL, c->rx_bytes);
    output_uint(out, "tx_packets", packets ? "TX_PACKETS" : NULL,
                c->tx_packets);
    output_uint(out, "tx_bytes", bytes ? "TX_BYTES" : NULL, c->tx_bytes);
    output_begin_object(out, "drops", NULL);
    for (size_t i = 0; i < c->n_drops; i++) {
        const Vswitch__Drop *d = c->drops[i];

        if (d->count) {
            output_uint(out, d->reason, NULL, d->count);
            drops = add_saturating(drops, d->count);
        }
    }
    output_end_object(out);
    output_end_object(out);
    if (packets) {
        output_uint(out, NULL, "DROPS", drops);
    }
}

static void
print_port(struct output *out, const Vswitch__PortStatus *p)
{
    const Vswitch__PortConfig *c = p->config;

    output_begin_row(out);
    output_string(out, "name", "NAME", c->name);
    output_string(out, "type", "TYPE", c->type);
    if (c->has_vni) {
        output_uint(out, "vni", "VNI", c->vni);
    } else {
        output_null(out, "vni", "VNI");
    }
    output_string(out, "state", "STATE", p->state);
    if (p->error) {
        output_string(out, "error", NULL, p->error);
    } else {
        output_null(out, "error", NULL);
    }
    output_begin_object(out, "options", "OPTIONS");
    for (size_t i = 0; i < c->n_options; i++) {
        output_string(out, c->options[i]->key, NULL, c->options[i]->value);
    }
    output_end_object(out);
    print_counters(out, p->counters, COUNTERS_PACKETS);
    output_begin_list(out, "offloads", "OFFLOADS");
    for (size_t i = 0; i < p->n_offloads; i++) {
        output_string(out, NULL, NULL, p->offloads[i]);
    }
    output_end_list(out);
    if (p->offload_note) {
        output_string(out, "offload_note", NULL, p->offload_note);
    }
    if (p->has_captures && p->captures) {
        output_uint(out, "capturing", NULL, p->captures);
    }
    if (p->has_groups_joined) {
        output_uint(out, "groups_joined", NULL, p->groups_joined);
        output_uint(out, "groups_not_joined", NULL, p->groups_not_joined);
    }
    output_end_row(out);
}

static void
print_port_table(struct output *out, Vswitch__PortStatus *const *ports,
                 size_t n)
{
    static const char *const columns[] = {
        "NAME", "TYPE", "VNI", "STATE", "RX_PACKETS", "TX_PACKETS", "DROPS",
        "OFFLOADS", "OPTIONS", NULL,
    };

    output_begin_table(out, "ports", columns);
    for (size_t i = 0; i < n; i++) {
        print_port(out, ports[i]);
    }
    output_end_table(out);
    /* Rare, so under the table rather than in a column of its own. */
    for (size_t i = 0; i < n; i++) {
        if (ports[i]->has_captures && ports[i]->captures) {
            output_text(out, "%s: capturing: %u\n", ports[i]->config->name,
                        ports[i]->captures);
        }
        if (ports[i]->has_groups_joined
            && (ports[i]->groups_joined || ports[i]->groups_not_joined)) {
            output_text(out, "%s: multicast groups: %u joined, %u not "
                        "joined\n", ports[i]->config->name,
                        ports[i]->groups_joined,
                        ports[i]->groups_not_joined);
        }
    }
}

/* An EVPN VNI floods to its flood= list and the VTEPs of its type-3
 * routes: "evpn" and the addresses of both, in the table. */
static void
print_evpn_flood(struct output *out, const Vswitch__VniStatus *v)
{
    const Vswitch__VniConfig *c = v->config;
    size_t n = c->n_flood + v->n_evpn_vteps;
    char **all = malloc((n ? n : 1) * sizeof *all);

    if (all) {
        for (size_t i = 0; i < c->n_flood; i++) {
            all[i] = c->flood[i];
        }
        for (size_t i = 0; i < v->n_evpn_vteps; i++) {
            all[c->n_flood + i] = v->evpn_vteps[i];
        }
    }
    print_joined(out, "FLOOD", all ? join(n ? "evpn " : "evpn", all, n)
                                   : NULL);
    free(all);
    output_begin_list(out, "evpn_vteps", NULL);
    for (size_t i = 0; i < v->n_evpn_vteps; i++) {
        output_string(out, NULL, NULL, v->evpn_vteps[i]);
    }
    output_end_list(out);
    output_uint(out, "evpn_macs", NULL, v->evpn_macs);
}

/* Which remote VTEPs the VNI learns from: "list" or "any", and the
 * underlay prefix they must be in, if any ("any 172.31.0.0/16"). */
static void
print_learning(struct output *out, const Vswitch__VniConfig *c)
{
    bool list = request_vni_learns_from_list(c);

    output_string(out, "control", NULL,
                  request_vni_is_evpn(c) ? "evpn" : "flood-and-learn");
    if (request_vni_is_evpn(c)) {
        /* Nothing is learned from the underlay: the routes say. */
        output_string(out, "learn", NULL, "evpn");
        output_null(out, "learn_prefix", NULL);
        output_string(out, NULL, "LEARN", "evpn");
        return;
    }

    output_string(out, "learn", NULL, list ? "list" : "any");
    if (c->learn_prefix && *c->learn_prefix) {
        output_string(out, "learn_prefix", NULL, c->learn_prefix);
        print_joined(out, "LEARN", join(list ? "list " : "any ",
                                        &c->learn_prefix, 1));
    } else {
        output_null(out, "learn_prefix", NULL);
        output_string(out, NULL, "LEARN", list ? "list" : "any");
    }
}

/* The VNI's group and whether it is joined: "group 239.1.1.7", or
 * "group 239.1.1.7 (not joined: No buffer space available)".  A daemon
 * that does not say leaves "group_joined" null. */
static void
print_group(struct output *out, const Vswitch__VniStatus *v)
{
    const char *group = v->config->group;
    bool failed = v->has_group_joined && !v->group_joined;
    const char *error = v->group_error ? v->group_error : "unknown";
    char *items[] = { (char *) group, NULL };
    char *note = NULL;

    if (v->has_group_joined) {
        output_bool(out, "group_joined", NULL, v->group_joined);
    } else {
        output_null(out, "group_joined", NULL);
    }
    if (failed) {
        output_string(out, "group_error", NULL, error);
        size_t len = strlen(group) + strlen(error) + sizeof " (not joined: )";

        note = malloc(len);
        if (note) {
            snprintf(note, len, "%s (not joined: %s)", group, error);
            items[0] = note;
        }
    } else {
        output_null(out, "group_error", NULL);
    }
    print_joined(out, "FLOOD", join("group ", items, 1));
    free(note);
}

static void
print_vni(struct output *out, const Vswitch__VniStatus *v)
{
    const Vswitch__VniConfig *c = v->config;
    bool group = c->group && *c->group;

    output_begin_row(out);
    output_uint(out, "vni", "VNI", c->vni);
    if (group) {
        output_string(out, "group", NULL, c->group);
        print_group(out, v);
    } else {
        output_null(out, "group", NULL);
        output_null(out, "group_joined", NULL);
        output_null(out, "group_error", NULL);
        if (request_vni_is_evpn(c)) {
            print_evpn_flood(out, v);
        } else if (c->n_flood) {
            print_joined(out, "FLOOD", join("flood ", c->flood, c->n_flood));
        } else {
            output_null(out, NULL, "FLOOD");
        }
    }
    output_begin_list(out, "flood", NULL);
    for (size_t i = 0; i < c->n_flood; i++) {
        output_string(out, NULL, NULL, c->flood[i]);
    }
    output_end_list(out);
    output_begin_list(out, "ports", "PORTS");
    for (size_t i = 0; i < v->n_ports; i++) {
        output_string(out, NULL, NULL, v->ports[i]);
    }
    output_end_list(out);
    output_uint(out, "ageing", "AGEING", v->ageing);
    output_uint(out, "mac_limit", NULL, v->mac_limit);
    if (v->mac_limit) {
        output_uint(out, NULL, "LIMIT", v->mac_limit);
    } else {
        output_null(out, NULL, "LIMIT");
    }
    print_learning(out, c);
    output_uint(out, "dynamic_macs", NULL, v->dynamic_macs);
    output_uint(out, "static_macs", NULL, v->static_macs);
    output_uint(out, NULL, "MACS",
                add_saturating(add_saturating(v->dynamic_macs,
                                              v->static_macs),
                               v->evpn_macs));
    print_counters(out, v->counters, COUNTERS_JSON_ONLY);
    output_end_row(out);
}

static void
print_vni_table(struct output *out, Vswitch__VniStatus *const *vnis,
                size_t n)
{
    static const char *const columns[] = {
        "VNI", "FLOOD", "LEARN", "PORTS", "MACS", "LIMIT", "AGEING", NULL,
    };

    output_begin_table(out, "vnis", columns);
    for (size_t i = 0; i < n; i++) {
        print_vni(out, vnis[i]);
    }
    output_end_table(out);
}

void
print_show(struct output *out, const struct print_context *ctx)
{
    const Vswitch__ShowReply *show = ctx->response->show;

    print_port_table(out, show->ports, show->n_ports);
    print_vni_table(out, show->vnis, show->n_vnis);
}

void
print_ports(struct output *out, const struct print_context *ctx)
{
    const Vswitch__PortList *list = ctx->response->ports;

    print_port_table(out, list->ports, list->n_ports);
}

void
print_vnis(struct output *out, const struct print_context *ctx)
{
    const Vswitch__VniList *list = ctx->response->vnis;

    print_vni_table(out, list->vnis, list->n_vnis);
}

/* Orders FDB entries by VNI, then by MAC address as a number, so that
 * "02:00:00:00:00:0A" and "02:00:00:00:00:0a" sort alike.  A MAC that
 * does not parse sorts by its text, after the ones that do. */
static int
compare_entries(const void *a_, const void *b_)
{
    const Vswitch__FdbEntry *a = *(Vswitch__FdbEntry *const *) a_;
    const Vswitch__FdbEntry *b = *(Vswitch__FdbEntry *const *) b_;
    struct eth_addr ea, eb;
    bool pa, pb;

    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    pa = eth_addr_parse(a->mac, &ea);
    pb = eth_addr_parse(b->mac, &eb);
    if (pa && pb) {
        uint64_t x = eth_addr_to_u64(&ea), y = eth_addr_to_u64(&eb);

        return x < y ? -1 : x > y;
    } else if (pa != pb) {
        return pa ? -1 : 1;
    }
    return strcmp(a->mac, b->mac);
}

static void
print_fdb_entry(struct output *out, const Vswitch__FdbEntry *e)
{
    output_begin_row(out);
    output_uint(out, "vni", "VNI", e->vni);
    output_string(out, "mac", "MAC", e->mac);
    if (e->port) {
        output_string(out, "port", "DEST", e->port);
    } else {
        output_null(out, "port", NULL);
    }
    if (e->remote) {
        output_string(out, "remote", NULL, e->remote);
    } else {
        output_null(out, "remote", NULL);
    }
    if (!e->port && e->remote) {
        print_joined(out, "DEST", join("remote ", &e->remote, 1));
    } else if (!e->port) {
        output_null(out, NULL, "DEST");
    }
    output_string(out, "type", "TYPE", e->static_ ? "static"
                                       : e->evpn ? "evpn" : "dynamic");
    if (e->evpn) {
        output_uint(out, "seq", NULL, e->seq);
    }
    if (e->static_ || e->evpn) {
        output_null(out, "age", "AGE");
    } else {
        output_uint(out, "age", "AGE", e->age_ms / 1000);
    }
    output_end_row(out);
}

void
print_fdb(struct output *out, const struct print_context *ctx)
{
    static const char *const columns[] = {
        "VNI", "MAC", "DEST", "TYPE", "AGE", NULL,
    };
    const Vswitch__FdbList *fdb = ctx->response->fdb;
    size_t n = fdb->n_entries;

    /* Sort a copy of the array: the response belongs to the caller.  If
     * memory is short the entries are printed in the daemon's order. */
    Vswitch__FdbEntry **sorted = malloc((n ? n : 1) * sizeof *sorted);
    Vswitch__FdbEntry *const *entries = fdb->entries;

    if (sorted) {
        if (n) {
            memcpy(sorted, fdb->entries, n * sizeof *sorted);
        }
        qsort(sorted, n, sizeof *sorted, compare_entries);
        entries = sorted;
    }
    output_begin_table(out, "entries", columns);
    for (size_t i = 0; i < n; i++) {
        print_fdb_entry(out, entries[i]);
    }
    output_end_table(out);
    free(sorted);
}

static void
print_removed(struct output *out, const struct print_context *ctx,
              const char *what)
{
    uint64_t removed = ctx->response->flushed->removed;

    output_uint(out, "removed", NULL, removed);
    output_text(out, "removed %"PRIu64" %s\n", removed, what);
}

void
print_fdb_flush(struct output *out, const struct print_context *ctx)
{
    print_removed(out, ctx, "dynamic entries");
}

/* evpn-flush counts the MACs and the VTEPs. */
void
print_evpn_flush(struct output *out, const struct print_context *ctx)
{
    print_removed(out, ctx, "EVPN MACs and VTEPs");
}

void
print_fdb_stats(struct output *out, const struct print_context *ctx)
{
    const Vswitch__FdbStats *s = ctx->response->fdb_stats;
    const struct {
        const char *key;
        uint64_t value;
    } stats[] = {
        { "dynamic_macs", s->dynamic_macs },
        { "static_macs", s->static_macs },
        { "max_macs", s->max_macs },
        { "learned", s->learned },
        { "moves", s->moves },
        { "expired", s->expired },
        { "evicted", s->evicted },
        { "static_kept", s->static_kept },
        { "multicast_ignored", s->multicast_ignored },
        { "learn_refused", s->learn_refused },
        { "evpn_macs", s->evpn_macs },
        { "evpn_stale", s->evpn_stale },
    };

    for (size_t i = 0; i < sizeof stats / sizeof *stats; i++) {
        output_uint(out, stats[i].key, stats[i].key, stats[i].value);
    }
}

void
print_stats(struct output *out, const struct print_context *ctx)
{
    static const char *const columns[] = {
        "PORT", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "DROPS",
        NULL,
    };
    static const char *const drop_columns[] = {
        "PORT", "REASON", "COUNT", NULL,
    };
    const Vswitch__PortList *list = ctx->response->ports;
    bool any_drops = false;

    output_begin_table(out, "ports", columns);
    for (size_t i = 0; i < list->n_ports; i++) {
        const Vswitch__PortStatus *p = list->ports[i];

        output_begin_row(out);
        output_string(out, "name", "PORT", p->config->name);
        print_counters(out, p->counters, COUNTERS_ALL);
        output_end_row(out);
        for (size_t j = 0; j < p->counters->n_drops; j++) {
            any_drops = any_drops || p->counters->drops[j]->count;
        }
    }
    output_end_table(out);

    if (!any_drops) {
        return;
    }
    /* The reasons are already inside each port's counters in JSON; only
     * people need them laid out again. */
    output_begin_table(out, NULL, drop_columns);
    for (size_t i = 0; i < list->n_ports; i++) {
        const Vswitch__PortStatus *p = list->ports[i];

        for (size_t j = 0; j < p->counters->n_drops; j++) {
            const Vswitch__Drop *d = p->counters->drops[j];

            if (d->count) {
                output_begin_row(out);
                output_string(out, NULL, "PORT", p->config->name);
                output_string(out, NULL, "REASON", d->reason);
                output_uint(out, NULL, "COUNT", d->count);
                output_end_row(out);
            }
        }
    }
    output_end_table(out);
}

void
print_version(struct output *out, const struct print_context *ctx)
{
    const Vswitch__VersionReply *v = ctx->response->version;

    output_string(out, "ctl_version", NULL, PACKAGE_VERSION);
    output_string(out, "daemon_version", NULL, v->version);
    output_uint(out, "protocol", NULL, v->protocol);
    output_text(out, "vswitch-ctl %s\n", PACKAGE_VERSION);
    output_text(out, "vswitchd %s (protocol %"PRIu32")\n", v->version,
                v->protocol);
}

void
print_log_level(struct output *out, const struct print_context *ctx)
{
    const Vswitch__LogLevelReply *l = ctx->response->log_level;

    output_string(out, "level", NULL, l->level);
    if (l->previous) {
        output_string(out, "previous", NULL, l->previous);
        output_text(out, "log level %s (was %s)\n", l->level, l->previous);
    } else {
        output_text(out, "log level %s\n", l->level);
    }
}

void
print_ping(struct output *out, const struct print_context *ctx)
{
    output_bool(out, "alive", NULL, true);
    output_double(out, "rtt_ms", NULL, ctx->rtt_ms, 2);
    output_text(out, "vswitchd at %s answered in %.2f ms\n", ctx->socket,
                ctx->rtt_ms);
}
