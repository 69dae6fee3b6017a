#include <config.h>

#include "evpn-batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config-edit.h"
#include "util.h"
#include "dp.h"
#include "eth-addr.h"
#include "inet.h"
#include "mac-table.h"
#include "request.h"

/* One EVPN command, its strings parsed. */
struct op {
    Vswitch__Request__CommandCase kind;
    uint32_t vni;
    struct eth_addr mac;        /* evpn-mac-*. */
    struct in6_addr remote;     /* evpn-mac-*, evpn-vtep-*. */
    uint32_t seq;               /* evpn-mac-add. */
};

static void
parse_op(const Vswitch__Request *req, struct op *op)
{
    const Vswitch__EvpnMac *m = NULL;
    const Vswitch__EvpnVtep *v = NULL;

    memset(op, 0, sizeof *op);
    op->kind = req->command_case;
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        m = req->evpn_mac_add;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        m = req->evpn_mac_del;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
        v = req->evpn_vtep_add;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
        v = req->evpn_vtep_del;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        op->vni = req->evpn_flush->vni;
        break;
    default:
        break;
    }
    if (m) {
        op->vni = m->vni;
        eth_addr_parse(m->mac, &op->mac);
        inet_parse(m->remote, &op->remote);
        op->seq = m->has_seq ? m->seq : 0;
    } else if (v) {
        op->vni = v->vni;
        inet_parse(v->remote, &op->remote);
    }
}

static bool
is_mac_op(const struct op *op)
{
    return op->kind == VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD
           || op->kind == VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL;
}

int
evpn_batch_apply_one(struct dp *dp, const Vswitch__Request *req, size_t *n)
{
    struct op op;

    parse_op(req, &op);
    switch (op.kind) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        return dp_evpn_mac_add(dp, op.vni, &op.mac, &op.remote, op.seq);
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        return dp_evpn_mac_del(dp, op.vni, &op.mac, &op.remote);
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
        return dp_evpn_vtep_add(dp, op.vni, &op.remote);
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
        return dp_evpn_vtep_del(dp, op.vni, &op.remote);
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        return dp_evpn_flush(dp, op.vni, n);
    default:
        return EINVAL;
    }
}

bool
evpn_batch_tolerated(int error, bool may_exist, bool if_exists,
                     bool vni_exists)
{
    return !error || (error == EEXIST && may_exist)
           || (error == ENOENT && if_exists && vni_exists);
}

/* What the batch would leave of a VNI, as far as its commands go. */
struct vni_state {
    uint32_t vni;
    bool exists, evpn;
    size_t n_vteps;             /* Its EVPN VTEPs. */
    unsigned int flushes;       /* evpn-flush commands so far. */
    bool vteps_change;          /* An evpn-vtep-* or evpn-flush names it. */
};

/* ... of a MAC that a command names. */
enum mac_kind { MAC_ABSENT, MAC_STATIC, MAC_LEARNED, MAC_EVPN };

struct mac_state {
    uint32_t vni;
    struct eth_addr mac;
    enum mac_kind kind;
    struct in6_addr remote;     /* MAC_EVPN. */
    uint32_t seq;               /* MAC_EVPN. */
    unsigned int flushes;       /* Its VNI's 'flushes' when last seen. */
};

/* ... and of a VTEP that a command names. */
struct vtep_state {
    uint32_t vni;
    struct in6_addr addr;
    bool listed;
    unsigned int flushes;       /* Its VNI's 'flushes' when last seen. */
};

static int
compare_vni(const void *a_, const void *b_)
{
    const struct vni_state *a = a_, *b = b_;

    return a->vni < b->vni ? -1 : a->vni > b->vni;
}

static int
compare_mac(const void *a_, const void *b_)
{
    const struct mac_state *a = a_, *b = b_;

    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return memcmp(a->mac.ea, b->mac.ea, sizeof a->mac.ea);
}

static int
compare_addr(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct in6_addr));
}

static int
compare_vtep(const void *a_, const void *b_)
{
    const struct vtep_state *a = a_, *b = b_;

    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return compare_addr(&a->addr, &b->addr);
}

struct check {
    struct vni_state *vnis;
    size_t n_vnis;
    struct mac_state *macs;
    size_t n_macs;
    struct vtep_state *vteps;
    size_t n_vteps;
};

static struct vni_state *
find_vni(const struct check *c, uint32_t vni)
{
    struct vni_state key = { .vni = vni };

    return bsearch(&key, c->vnis, c->n_vnis, sizeof key, compare_vni);
}

static struct mac_state *
find_mac(const struct check *c, uint32_t vni, const struct eth_addr *mac)
{
    struct mac_state key = { .vni = vni, .mac = *mac };

    return bsearch(&key, c->macs, c->n_macs, sizeof key, compare_mac);
}

static struct vtep_state *
find_vtep(const struct check *c, uint32_t vni, const struct in6_addr *addr)
{
    struct vtep_state key = { .vni = vni, .addr = *addr };

    return bsearch(&key, c->vteps, c->n_vteps, sizeof key, compare_vtep);
}

/* Sorts 'n' elements of 'size' at 'array' and drops the duplicates;
 * returns how many stay. */
static size_t
sort_unique(void *array, size_t n, size_t size,
            int (*compare)(const void *, const void *))
{
    char *a = array;
    size_t kept = 0;

    qsort(a, n, size, compare);
    for (size_t i = 0; i < n; i++) {
        if (!kept || compare(a + (kept - 1) * size, a + i * size)) {
            memmove(a + kept++ * size, a + i * size, size);
        }
    }
    return kept;
}

static bool
is_vtep_op(const struct op *op)
{
    return op->kind == VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD
           || op->kind == VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL;
}

/* Fills 'c' with the VNIs, MACs and VTEPs that 'ops' name, sorted, each
 * once: no more than the text of the batch. */
static int
collect_keys(struct check *c, const struct op *ops, size_t n)
{
    c->vnis = calloc(n + 1, sizeof *c->vnis);
    c->macs = calloc(n + 1, sizeof *c->macs);
    c->vteps = calloc(n + 1, sizeof *c->vteps);
    if (!c->vnis || !c->macs || !c->vteps) {
        return ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        c->vnis[c->n_vnis++].vni = ops[i].vni;
        if (is_mac_op(&ops[i])) {
            c->macs[c->n_macs].vni = ops[i].vni;
            c->macs[c->n_macs++].mac = ops[i].mac;
        } else if (is_vtep_op(&ops[i])) {
            c->vteps[c->n_vteps].vni = ops[i].vni;
            c->vteps[c->n_vteps++].addr = ops[i].remote;
        }
    }
    c->n_vnis = sort_unique(c->vnis, c->n_vnis, sizeof *c->vnis,
                            compare_vni);
    c->n_macs = sort_unique(c->macs, c->n_macs, sizeof *c->macs,
                            compare_mac);
    c->n_vteps = sort_unique(c->vteps, c->n_vteps, sizeof *c->vteps,
                             compare_vtep);
    return 0;
}

/* Fills in the state of each key of 'c' from 'dp' and 'config': a lookup
 * each, whatever the size of the tables. */
static void
load(struct check *c, struct dp *dp, const Vswitch__Config *config)
{
    const struct mac_table *table = dp_mac_table(dp);

    for (size_t i = 0; i < c->n_vnis; i++) {
        struct vni_state *v = &c->vnis[i];
        const Vswitch__VniConfig *vc = config_find_vni(config, v->vni);

        v->exists = vc != NULL;
        v->evpn = vc && request_vni_is_evpn(vc);
        if (v->evpn) {
            dp_evpn_vteps(dp, v->vni, &v->n_vteps);
        }
    }
    for (size_t i = 0; i < c->n_macs; i++) {
        struct mac_state *m = &c->macs[i];
        struct mac_table_entry_info e;

        if (mac_table_get_entry(table, m->vni, &m->mac, 0, &e)) {
            m->kind = e.is_evpn ? MAC_EVPN
                      : e.is_static ? MAC_STATIC : MAC_LEARNED;
            m->remote = e.dest.remote;
            m->seq = e.evpn_seq;
        }
    }
    for (size_t i = 0; i < c->n_vteps; i++) {
        struct vtep_state *t = &c->vteps[i];
        size_t n_listed;
        const struct in6_addr *listed = dp_evpn_vteps(dp, t->vni, &n_listed);

        t->listed = n_listed && bsearch(&t->addr, listed, n_listed,
                                        sizeof *listed, compare_addr);
    }
}

/* Returns what applying 'op' to the state in 'c' would return, and
 * changes the state as it would. */
static int
step(struct check *c, const struct op *op)
{
    struct vni_state *v = find_vni(c, op->vni);
    struct mac_state *m = is_mac_op(op) ? find_mac(c, op->vni, &op->mac)
                                        : NULL;
    struct vtep_state *t = is_vtep_op(op)
                           ? find_vtep(c, op->vni, &op->remote) : NULL;

    if (!v->exists) {
        return ENOENT;
    }
    if (!v->evpn) {
        return EINVAL;
    }
    if (m && m->flushes != v->flushes) {
        m->kind = m->kind == MAC_EVPN ? MAC_ABSENT : m->kind;
        m->flushes = v->flushes;
    }
    if (t && t->flushes != v->flushes) {
        t->listed = false;
        t->flushes = v->flushes;
    }
    switch (op->kind) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        if (eth_addr_is_multicast(&op->mac) || eth_addr_is_zero(&op->mac)
            || !inet_is_unicast(&op->remote)) {
            return EINVAL;
        }
        if (m->kind == MAC_STATIC) {
            return EEXIST;
        }
        if (m->kind == MAC_EVPN
            && (inet_equals(&m->remote, &op->remote) ? op->seq < m->seq
                                                      : op->seq <= m->seq)) {
            return ESTALE;
        }
        m->kind = MAC_EVPN;
        m->remote = op->remote;
        m->seq = op->seq;
        return 0;
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        if (m->kind != MAC_EVPN || !inet_equals(&m->remote, &op->remote)) {
            return ENOENT;
        }
        m->kind = MAC_ABSENT;
        return 0;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
        if (!inet_is_unicast(&op->remote)) {
            return EINVAL;
        }
        if (t->listed) {
            return EEXIST;
        }
        if (v->n_vteps >= DP_EVPN_MAX_VTEPS) {
            return ENOSPC;
        }
        t->listed = true;
        v->n_vteps++;
        v->vteps_change = true;
        return 0;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
        if (!t->listed) {
            return ENOENT;
        }
        t->listed = false;
        v->n_vteps--;
        v->vteps_change = true;
        return 0;
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        v->n_vteps = 0;
        v->flushes++;
        v->vteps_change = true;
        return 0;
    default:
        return EINVAL;
    }
}

/* The VTEPs a VNI is left with. */
struct vni_vteps {
    uint32_t vni;
    struct in6_addr *vteps;     /* Sorted. */
    size_t n;
};

struct evpn_batch {
    struct op *ops;
    size_t n_ops;
    size_t next;                /* The first op not applied yet. */
    struct check c;             /* Until checked. */
    bool checked;
    struct vni_vteps *vnis;     /* Those whose VTEPs change. */
    size_t n_vnis;
};

/* Fills 'out' with the VTEPs VNI 'v' is left with after the batch: those
 * of 'dp' that no command named (none after an evpn-flush), and those of
 * the 'n_named' states at 'named' (all of the VNI's) listed at the end. */
static int
final_vteps(const struct check *c, struct dp *dp, const struct vni_state *v,
            const struct vtep_state *named, size_t n_named,
            struct vni_vteps *out)
{
    size_t n_now = 0;
    const struct in6_addr *now = dp_evpn_vteps(dp, v->vni, &n_now);
    size_t n = 0;

    out->vni = v->vni;
    out->vteps = malloc((v->n_vteps + 1) * sizeof *out->vteps);
    if (!out->vteps) {
        return ENOMEM;
    }
    for (size_t i = 0; !v->flushes && i < n_now; i++) {
        if (!find_vtep(c, v->vni, &now[i]) && n < v->n_vteps) {
            out->vteps[n++] = now[i];
        }
    }
    for (size_t i = 0; i < n_named; i++) {
        if (named[i].listed && named[i].flushes == v->flushes
            && n < v->n_vteps) {
            out->vteps[n++] = named[i].addr;
        }
    }
    qsort(out->vteps, n, sizeof *out->vteps, compare_addr);
    out->n = n;
    return 0;
}

static void
free_check(struct check *c)
{
    free(c->vnis);
    free(c->macs);
    free(c->vteps);
    memset(c, 0, sizeof *c);
}

/* Fills in the VTEPs each VNI whose VTEPs change is left with, from the
 * state 'plan''s check left. */
static int
plan_vteps(struct evpn_batch *plan, struct dp *dp)
{
    const struct check *c = &plan->c;
    size_t j = 0;

    plan->vnis = calloc(c->n_vnis + 1, sizeof *plan->vnis);
    if (!plan->vnis) {
        return ENOMEM;
    }
    /* Both sorted by VNI: one walk finds each VNI's named VTEPs. */
    for (size_t i = 0; i < c->n_vnis; i++) {
        const struct vni_state *v = &c->vnis[i];
        size_t from;

        while (j < c->n_vteps && c->vteps[j].vni < v->vni) {
            j++;
        }
        from = j;
        while (j < c->n_vteps && c->vteps[j].vni == v->vni) {
            j++;
        }
        if (v->vteps_change
            && final_vteps(c, dp, v, &c->vteps[from], j - from,
                           &plan->vnis[plan->n_vnis++])) {
            return ENOMEM;
        }
    }
    return 0;
}

void
evpn_batch_destroy(struct evpn_batch *plan)
{
    if (plan) {
        for (size_t i = 0; i < plan->n_vnis; i++) {
            free(plan->vnis[i].vteps);
        }
        free(plan->vnis);
        free_check(&plan->c);
        free(plan->ops);
        free(plan);
    }
}

struct evpn_batch *
evpn_batch_parse(const Vswitch__Batch *batch)
{
    size_t n = batch->n_commands;
    struct evpn_batch *plan = calloc(1, sizeof *plan);

    if (!plan || !(plan->ops = calloc(n + 1, sizeof *plan->ops))) {
        free(plan);
        return NULL;
    }
    plan->n_ops = n;
    for (size_t i = 0; i < n; i++) {
        Vswitch__Request req;

        request_from_batch_command(batch->commands[i], &req);
        parse_op(&req, &plan->ops[i]);
    }
    if (collect_keys(&plan->c, plan->ops, n)) {
        evpn_batch_destroy(plan);
        return NULL;
    }
    return plan;
}

int
evpn_batch_check(struct dp *dp, const Vswitch__Config *config,
                 const Vswitch__Batch *batch, bool may_exist,
                 bool if_exists, struct evpn_batch *plan, size_t *bad)
{
    struct check *c = &plan->c;
    int error = 0;

    *bad = 0;
    if (plan->checked) {
        return EALREADY;
    }
    plan->checked = true;
    load(c, dp, config);
    for (size_t i = 0; !error && i < plan->n_ops; i++) {
        const Vswitch__BatchCommand *cmd = batch->commands[i];
        const struct op *op = &plan->ops[i];
        int e = step(c, op);

        if (!evpn_batch_tolerated(e, may_exist || cmd->may_exist,
                                  if_exists || cmd->if_exists,
                                  find_vni(c, op->vni)->exists)) {
            error = e;
            *bad = i;
        }
    }
    error = error ? error : plan_vteps(plan, dp);
    free_check(c);
    return error;
}

size_t
evpn_batch_pending(const struct evpn_batch *plan)
{
    return plan->n_ops - plan->next;
}

/* Puts one op into effect.  Checked: only memory short (ENOMEM) could
 * fail, and the table makes room by eviction first; what --may-exist and
 * --if-exists forgave changes nothing.  VTEP ops are in the VNIs' final
 * sets. */
static void
apply_op(struct dp *dp, const struct op *op)
{
    switch (op->kind) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        dp_evpn_mac_add(dp, op->vni, &op->mac, &op->remote, op->seq);
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        dp_evpn_mac_del(dp, op->vni, &op->mac, &op->remote);
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        dp_evpn_flush(dp, op->vni, NULL);
        break;
    default:
        break;
    }
}

bool
evpn_batch_apply_some(struct dp *dp, struct evpn_batch *plan, size_t max)
{
    size_t end = plan->next + MIN(max, evpn_batch_pending(plan));

    for (; plan->next < end; plan->next++) {
        apply_op(dp, &plan->ops[plan->next]);
    }
    if (plan->next < plan->n_ops) {
        return false;
    }
    for (size_t i = 0; i < plan->n_vnis; i++) {
        const struct vni_vteps *v = &plan->vnis[i];

        dp_evpn_set_vteps(dp, v->vni, v->vteps, v->n);
    }
    return true;
}
