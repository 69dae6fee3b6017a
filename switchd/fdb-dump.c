#include <config.h>

#include "fdb-dump.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eth-addr.h"
#include "inet.h"
#include "mac-table.h"
#include "xmalloc.h"

/* 'port' of an entry that points to a remote VTEP. */
#define REMOTE UINT32_MAX

/* About the size of one packed entry: tags and lengths, a formatted MAC,
 * a port name or an address, an age. */
#define PACKED_ENTRY_SIZE 64

/* One entry as copied from the table: small and flat, so that copying a
 * full table costs the loop a few milliseconds. */
struct dump_entry {
    struct in6_addr remote;     /* If 'port' is REMOTE. */
    uint64_t age_ms;
    uint32_t vni;
    uint32_t port;              /* Index in the dump's 'ports'. */
    struct eth_addr mac;
    bool is_static;
    bool is_evpn;
    uint32_t seq;               /* EVPN entries only. */
};

struct dump_port {
    uint32_t port_no;
    char *name;
};

struct fdb_dump {
    uint32_t vni;               /* 0 for all. */
    struct mac_table_cursor cursor;
    struct dump_entry *entries;
    size_t n_entries, allocated;
    size_t n_remote;
    struct dump_port *ports;    /* The ports the entries name. */
    size_t n_ports;
    fdb_dump_port_name_cb *port_name;   /* Only while copying. */
    const void *aux;

    /* The message built from the entries, and what it points to. */
    Vswitch__FdbList list;
    Vswitch__FdbEntry *msgs;
    char (*macs)[ETH_ADDR_STRLEN];
    char (*remotes)[INET_ADDR_STRLEN];
};

/* Returns the index in 'd->ports' of 'port_no', adding it if it is new.
 * A table holds few ports and long runs of one, so a scan is enough. */
static uint32_t
port_index(struct fdb_dump *d, uint32_t port_no)
{
    const char *name;

    for (size_t i = d->n_ports; i-- > 0;) {
        if (d->ports[i].port_no == port_no) {
            return (uint32_t) i;
        }
    }
    name = d->port_name(d->aux, port_no);
    d->ports = xrealloc(d->ports, (d->n_ports + 1) * sizeof *d->ports);
    d->ports[d->n_ports].port_no = port_no;
    d->ports[d->n_ports].name = xstrdup(name ? name : "?");
    return (uint32_t) d->n_ports++;
}

static void
copy_entry(const struct mac_table_entry_info *info, void *d_)
{
    struct fdb_dump *d = d_;
    struct dump_entry *e;

    if (d->n_entries == d->allocated) {
        d->allocated = d->allocated ? 2 * d->allocated : 1024;
        d->entries = xrealloc(d->entries, d->allocated * sizeof *d->entries);
    }
    e = &d->entries[d->n_entries++];
    e->vni = info->vni;
    e->mac = info->mac;
    e->is_static = info->is_static;
    e->is_evpn = info->is_evpn;
    e->seq = info->evpn_seq;
    e->age_ms = (uint64_t) info->age_ms;
    if (info->dest.type == MAC_DEST_PORT) {
        e->port = port_index(d, info->dest.port_no);
    } else {
        e->port = REMOTE;
        e->remote = info->dest.remote;
        d->n_remote++;
    }
}

struct fdb_dump *
fdb_dump_create(uint32_t vni)
{
    struct fdb_dump *d = xcalloc(1, sizeof *d);

    d->vni = vni;
    return d;
}

bool
fdb_dump_copy(struct fdb_dump *d, const struct mac_table *table,
              long long now_ms, size_t max, fdb_dump_port_name_cb *port_name,
              const void *aux)
{
    bool done;

    if (!d->entries) {
        struct mac_table_stats stats;

        /* Room for the whole table at once: growing on the way would copy
         * it again on the loop.  Pages a filtered dump leaves unused are
         * never touched. */
        mac_table_get_stats(table, &stats);
        d->allocated = stats.n_dynamic + stats.n_static;
        d->entries = xmalloc((d->allocated ? d->allocated : 1)
                             * sizeof *d->entries);
    }
    d->port_name = port_name;
    d->aux = aux;
    done = mac_table_dump_slice(table, d->vni, now_ms, &d->cursor, max,
                                copy_entry, d);
    d->port_name = NULL;
    d->aux = NULL;
    return done;
}

size_t
fdb_dump_size(const struct fdb_dump *d)
{
    /* Counted from the room taken at the first copy, so that the whole
     * cost is known from the start. */
    return d->allocated * (sizeof *d->entries + sizeof *d->msgs
                           + sizeof *d->list.entries + sizeof *d->macs
                           + PACKED_ENTRY_SIZE)
           + d->n_remote * sizeof *d->remotes;
}

/* By VNI, then by MAC as its text would sort: the bytes in order. */
static int
compare_entries(const void *a_, const void *b_)
{
    const struct dump_entry *a = a_;
    const struct dump_entry *b = b_;

    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return memcmp(a->mac.ea, b->mac.ea, sizeof a->mac.ea);
}

Vswitch__FdbList *
fdb_dump_build(struct fdb_dump *d)
{
    size_t n = d->n_entries, r = 0;

    if (n > 1) {
        qsort(d->entries, n, sizeof *d->entries, compare_entries);
    }
    vswitch__fdb_list__init(&d->list);
    d->list.entries = xcalloc(n ? n : 1, sizeof *d->list.entries);
    d->msgs = xcalloc(n ? n : 1, sizeof *d->msgs);
    d->macs = xmalloc((n ? n : 1) * sizeof *d->macs);
    d->remotes = xmalloc((d->n_remote ? d->n_remote : 1)
                         * sizeof *d->remotes);
    for (size_t i = 0; i < n; i++) {
        const struct dump_entry *e = &d->entries[i];
        Vswitch__FdbEntry *m = &d->msgs[i];

        vswitch__fdb_entry__init(m);
        m->vni = e->vni;
        m->mac = eth_addr_format(&e->mac, d->macs[i]);
        if (e->port == REMOTE) {
            m->remote = inet_format(&e->remote, d->remotes[r++]);
        } else {
            m->port = d->ports[e->port].name;
        }
        m->static_ = e->is_static;
        m->age_ms = e->age_ms;
        if (e->is_evpn) {
            m->has_evpn = m->evpn = true;
            m->has_seq = true;
            m->seq = e->seq;
        }
        d->list.entries[i] = m;
    }
    d->list.n_entries = n;
    return &d->list;
}

void
fdb_dump_destroy(struct fdb_dump *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < d->n_ports; i++) {
        free(d->ports[i].name);
    }
    free(d->ports);
    free(d->entries);
    free(d->list.entries);
    free(d->msgs);
    free(d->macs);
    free(d->remotes);
    free(d);
}
