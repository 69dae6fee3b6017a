#include <config.h>

#include "config-edit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-store.h"
#include "eth-addr.h"
#include "inet.h"
#include "port.h"
#include "request.h"

#define OK VSWITCH__STATUS__STATUS_OK

static Vswitch__Status fail(struct config_edit *, Vswitch__Status,
                            const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static Vswitch__Status
fail(struct config_edit *e, Vswitch__Status status, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(e->error, e->error_size, format, args);
    va_end(args);
    return status;
}

static Vswitch__Status
out_of_memory(struct config_edit *e)
{
    return fail(e, VSWITCH__STATUS__STATUS_FAILED, "out of memory");
}

void *
config_clone(const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(size ? size : 1);
    void *copy = NULL;

    if (buf) {
        protobuf_c_message_pack(msg, buf);
        copy = protobuf_c_message_unpack(msg->descriptor, NULL, size, buf);
        free(buf);
    }
    return copy;
}

bool
config_same_options(const Vswitch__PortConfig *a,
                    const Vswitch__PortConfig *b)
{
    if (a->n_options != b->n_options) {
        return false;
    }
    for (size_t i = 0; i < a->n_options; i++) {
        if (strcmp(a->options[i]->key, b->options[i]->key)
            || strcmp(a->options[i]->value, b->options[i]->value)) {
            return false;
        }
    }
    return true;
}

bool
config_port_args(const Vswitch__PortConfig *pc, struct port_args *args)
{
    const char **keys = calloc(pc->n_options + 1, sizeof *keys);
    const char **values = calloc(pc->n_options + 1, sizeof *values);

    if (!keys || !values) {
        free(keys);
        free(values);
        return false;
    }
    for (size_t i = 0; i < pc->n_options; i++) {
        keys[i] = pc->options[i]->key;
        values[i] = pc->options[i]->value;
    }
    *args = (struct port_args) {
        .name = pc->name, .keys = keys, .values = values,
        .n_options = pc->n_options,
    };
    return true;
}

void
config_free_port_args(struct port_args *args)
{
    free((void *) args->keys);
    free((void *) args->values);
}

bool
config_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t size = protobuf_c_message_get_packed_size(a);
    bool equal = false;

    if (size == protobuf_c_message_get_packed_size(b)) {
        uint8_t *x = malloc(size ? size : 1);
        uint8_t *y = malloc(size ? size : 1);

        if (x && y) {
            protobuf_c_message_pack(a, x);
            protobuf_c_message_pack(b, y);
            equal = !memcmp(x, y, size);
        }
        free(x);
        free(y);
    }
    return equal;
}

/* Appends 'elem' to the repeated field '*array' of '*n' pointers. */
static bool
append(void *array_, size_t *n, void *elem)
{
    void ***array = array_;
    void **grown = realloc(*array, (*n + 1) * sizeof **array);

    if (!grown) {
        return false;
    }
    grown[(*n)++] = elem;
    *array = grown;
    return true;
}

/* Removes element 'i' of '*n' from 'array'; the caller frees it. */
static void
remove_at(void *array_, size_t *n, size_t i)
{
    void **array = array_;

    memmove(&array[i], &array[i + 1], (*n - i - 1) * sizeof *array);
    (*n)--;
}

static void
free_msg(void *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

Vswitch__PortConfig *
config_find_port(const Vswitch__Config *c, const char *name)
{
    for (size_t i = 0; i < c->n_ports; i++) {
        if (!strcmp(c->ports[i]->name, name)) {
            return c->ports[i];
        }
    }
    return NULL;
}

Vswitch__VniConfig *
config_find_vni(const Vswitch__Config *c, uint32_t vni)
{
    for (size_t i = 0; i < c->n_vnis; i++) {
        if (c->vnis[i]->vni == vni) {
            return c->vnis[i];
        }
    }
    return NULL;
}

const char *
config_port_option(const Vswitch__PortConfig *port, const char *key)
{
    for (size_t i = 0; i < port->n_options; i++) {
        if (!strcmp(port->options[i]->key, key)) {
            return port->options[i]->value;
        }
    }
    return NULL;
}

static const struct port_class *
class_of(const Vswitch__PortConfig *port)
{
    /* Ports in a configuration passed request_check(), so the type is
     * known. */
    return port_class_find(port->type);
}

/* Replaces the string '*s' by 'canonical'.  Returns false if memory is
 * short, leaving '*s' as it was. */
static bool
replace_string(char **s, const char *canonical)
{
    char *copy = strdup(canonical);

    if (!copy) {
        return false;
    }
    free(*s);
    *s = copy;
    return true;
}

/* Addresses and MACs are kept in one canonical form, so that one address
 * written two ways is one address to every comparison.  A string that does
 * not parse is left alone (request_check() refuses it elsewhere). */
static bool
canonical_ip(char **s)
{
    struct in6_addr addr;
    char buf[INET_ADDR_STRLEN];

    return !inet_parse(*s, &addr) || replace_string(s, inet_format(&addr,
                                                                   buf));
}

static bool
canonical_mac(char **s)
{
    struct eth_addr ea;
    char buf[ETH_ADDR_STRLEN];

    return !eth_addr_parse(*s, &ea) || replace_string(s, eth_addr_format(&ea,
                                                                        buf));
}

static bool
canonical_prefix(char **s)
{
    struct inet_prefix prefix;
    char buf[INET_PREFIX_STRLEN];

    return !inet_prefix_parse(*s, &prefix)
           || replace_string(s, inet_prefix_format(&prefix, buf));
}

static bool
canonical_vni(Vswitch__VniConfig *v)
{
    bool ok = (!v->group || canonical_ip(&v->group))
              && (!v->learn_prefix || canonical_prefix(&v->learn_prefix));

    for (size_t i = 0; ok && i < v->n_flood; i++) {
        ok = canonical_ip(&v->flood[i]);
    }
    return ok;
}

static int
compare_options(const void *a_, const void *b_)
{
    const Vswitch__Option *a = *(const Vswitch__Option *const *) a_;
    const Vswitch__Option *b = *(const Vswitch__Option *const *) b_;

    return strcmp(a->key, b->key);
}

/* Options are kept sorted by key, so that one port written two ways is one
 * configuration to every comparison. */
static void
sort_options(Vswitch__PortConfig *port)
{
    if (port->n_options > 1) {
        qsort(port->options, port->n_options, sizeof *port->options,
              compare_options);
    }
}

Vswitch__Status
config_edit_add_port(struct config_edit *e, const Vswitch__PortConfig *req)
{
    Vswitch__Config *c = e->config;
    Vswitch__PortConfig *old = config_find_port(c, req->name);

    if (old) {
        Vswitch__PortConfig *sorted = config_clone(&req->base);
        bool same;

        if (!sorted) {
            return out_of_memory(e);
        }
        sort_options(sorted);
        same = config_equal(&old->base, &sorted->base);
        free_msg(sorted);
        if (e->may_exist && same) {
            return OK;
        }
        return fail(e, VSWITCH__STATUS__STATUS_EXISTS,
                    e->may_exist ? "port %s exists with other settings"
                                 : "port %s exists", req->name);
    }

    const struct port_class *class = port_class_find(req->type);

    if (class->dp_kind == DP_PORT_TUNNEL) {
        for (size_t i = 0; i < c->n_ports; i++) {
            if (class_of(c->ports[i])->dp_kind == DP_PORT_TUNNEL) {
                return fail(e, VSWITCH__STATUS__STATUS_EXISTS,
                            "only one vxlan port: %s exists",
                            c->ports[i]->name);
            }
        }
    }
    if (req->has_vni && !config_find_vni(c, req->vni)) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                    "VNI %u does not exist", req->vni);
    }

    Vswitch__PortConfig *port = config_clone(&req->base);

    if (!port || !append(&c->ports, &c->n_ports, port)) {
        free_msg(port);
        return out_of_memory(e);
    }
    sort_options(port);
    e->changed = true;
    return OK;
}

static void
remove_static_macs(Vswitch__Config *c, const char *port, uint32_t vni)
{
    for (size_t i = 0; i < c->n_static_macs;) {
        Vswitch__StaticMac *m = c->static_macs[i];

        if ((port && m->port && !strcmp(m->port, port))
            || (vni && m->vni == vni)) {
            remove_at(c->static_macs, &c->n_static_macs, i);
            free_msg(m);
        } else {
            i++;
        }
    }
}

Vswitch__Status
config_edit_del_port(struct config_edit *e, const char *name)
{
    Vswitch__Config *c = e->config;

    for (size_t i = 0; i < c->n_ports; i++) {
        if (!strcmp(c->ports[i]->name, name)) {
            Vswitch__PortConfig *port = c->ports[i];

            remove_at(c->ports, &c->n_ports, i);
            free_msg(port);
            remove_static_macs(c, name, 0);
            e->changed = true;
            return OK;
        }
    }
    return e->if_exists ? OK : fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                                    "no port %s", name);
}

Vswitch__Status
config_edit_set_port(struct config_edit *e, const Vswitch__SetPort *req)
{
    Vswitch__PortConfig *port = config_find_port(e->config, req->name);

    if (!port) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND, "no port %s",
                    req->name);
    }

    /* Merge into a copy, check the whole result, then swap it in. */
    Vswitch__PortConfig *merged = config_clone(&port->base);

    if (!merged) {
        return out_of_memory(e);
    }
    for (size_t i = 0; i < req->n_options; i++) {
        const Vswitch__Option *o = req->options[i];
        Vswitch__Option *copy = config_clone(&o->base);
        size_t j;

        if (!copy) {
            free_msg(merged);
            return out_of_memory(e);
        }
        for (j = 0; j < merged->n_options; j++) {
            if (!strcmp(merged->options[j]->key, o->key)) {
                free_msg(merged->options[j]);
                merged->options[j] = copy;
                break;
            }
        }
        if (j == merged->n_options
            && !append(&merged->options, &merged->n_options, copy)) {
            free_msg(copy);
            free_msg(merged);
            return out_of_memory(e);
        }
    }

    sort_options(merged);

    struct port_args args;
    Vswitch__Status status = OK;

    if (!config_port_args(merged, &args)) {
        status = out_of_memory(e);
    } else {
        if (!port_class_check_options(class_of(merged), args.keys,
                                      args.values, args.n_options,
                                      e->error, e->error_size)) {
            status = VSWITCH__STATUS__STATUS_INVALID;
        }
        config_free_port_args(&args);
    }
    if (status != OK) {
        free_msg(merged);
        return status;
    }
    for (size_t i = 0; i < e->config->n_ports; i++) {
        if (e->config->ports[i] == port) {
            e->changed = !config_equal(&port->base, &merged->base);
            e->config->ports[i] = merged;
            free_msg(port);
            break;
        }
    }
    return OK;
}

/* Removes the string '*s' if it is empty: an empty value given to a key
 * means "none". */
static void
drop_empty(char **s)
{
    if (*s && !**s) {
        free(*s);
        *s = NULL;
    }
}

/* Gives 'to' the control plane 'from' names, if it names one.  The
 * default, flood-and-learn, is stored as no mode at all, so that a VNI
 * added with control=flood-and-learn is the same as one added without. */
static void
set_control(Vswitch__VniConfig *to, const Vswitch__VniConfig *from)
{
    if (from->has_control) {
        to->has_control = request_vni_is_evpn(from);
        to->control = to->has_control ? VSWITCH__CONTROL__CONTROL_EVPN : 0;
    }
}

Vswitch__Status
config_edit_add_vni(struct config_edit *e, const Vswitch__VniConfig *req)
{
    Vswitch__Config *c = e->config;
    Vswitch__VniConfig *vni = config_clone(&req->base);

    if (!vni || !canonical_vni(vni)) {
        free_msg(vni);
        return out_of_memory(e);
    }
    drop_empty(&vni->group);
    drop_empty(&vni->learn_prefix);
    set_control(vni, vni);

    char error[REQUEST_ERROR_SIZE];

    if (!request_check_vni_whole(vni, error, sizeof error)) {
        free_msg(vni);
        return fail(e, VSWITCH__STATUS__STATUS_INVALID, "%s", error);
    }

    Vswitch__VniConfig *old = config_find_vni(c, req->vni);

    if (old) {
        bool same = config_equal(&old->base, &vni->base);

        free_msg(vni);
        if (e->may_exist && same) {
            return OK;
        }
        return fail(e, VSWITCH__STATUS__STATUS_EXISTS,
                    e->may_exist ? "VNI %u exists with other settings"
                                 : "VNI %u exists", req->vni);
    }
    if (!append(&c->vnis, &c->n_vnis, vni)) {
        free_msg(vni);
        return out_of_memory(e);
    }
    e->changed = true;
    return OK;
}

Vswitch__Status
config_edit_set_vni(struct config_edit *e, const Vswitch__VniConfig *req)
{
    Vswitch__VniConfig *vni = config_find_vni(e->config, req->vni);

    if (!vni) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                    "VNI %u does not exist", req->vni);
    }
    if (!req->group && !req->n_flood && !req->has_ageing
        && !req->has_mac_limit && !req->has_learn && !req->learn_prefix
        && !req->has_control) {
        return fail(e, VSWITCH__STATUS__STATUS_INVALID,
                    "set-vni needs group=, flood=, ageing=, mac-limit=, "
                    "learn=, learn-prefix= or control=");
    }

    Vswitch__VniConfig *merged = config_clone(&vni->base);
    Vswitch__VniConfig *given = config_clone(&req->base);

    if (!merged || !given || !canonical_vni(given)) {
        free_msg(merged);
        free_msg(given);
        return out_of_memory(e);
    }
    if (given->group || given->n_flood) {
        /* A new flood target replaces the old one, of either kind. */
        free(merged->group);
        merged->group = NULL;
        if (given->group && *given->group) {
            /* Moved, not copied; an empty group stays in 'given' to be
             * freed with it. */
            merged->group = given->group;
            given->group = NULL;
        }
        for (size_t i = 0; i < merged->n_flood; i++) {
            free(merged->flood[i]);
        }
        free(merged->flood);
        merged->flood = given->flood;
        merged->n_flood = given->n_flood;
        given->flood = NULL;
        given->n_flood = 0;
    }
    if (given->has_ageing) {
        merged->has_ageing = true;
        merged->ageing = given->ageing;
    }
    if (given->has_mac_limit) {
        merged->has_mac_limit = true;
        merged->mac_limit = given->mac_limit;
    }
    if (given->has_learn) {
        merged->has_learn = true;
        merged->learn = given->learn;
    }
    set_control(merged, given);
    if (given->learn_prefix) {
        /* Moved, not copied; an empty one removes the prefix. */
        free(merged->learn_prefix);
        merged->learn_prefix = given->learn_prefix;
        given->learn_prefix = NULL;
        drop_empty(&merged->learn_prefix);
    }
    free_msg(given);

    char error[REQUEST_ERROR_SIZE];

    if (!request_check_vni_whole(merged, error, sizeof error)) {
        free_msg(merged);
        return fail(e, VSWITCH__STATUS__STATUS_INVALID, "%s", error);
    }
    for (size_t i = 0; i < e->config->n_vnis; i++) {
        if (e->config->vnis[i] == vni) {
            e->changed = !config_equal(&vni->base, &merged->base);
            e->config->vnis[i] = merged;
            free_msg(vni);
            break;
        }
    }
    return OK;
}

Vswitch__Status
config_edit_del_vni(struct config_edit *e, uint32_t vni)
{
    Vswitch__Config *c = e->config;

    for (size_t i = 0; i < c->n_vnis; i++) {
        if (c->vnis[i]->vni == vni) {
            Vswitch__VniConfig *v = c->vnis[i];

            remove_at(c->vnis, &c->n_vnis, i);
            free_msg(v);
            for (size_t j = 0; j < c->n_ports; j++) {
                if (c->ports[j]->has_vni && c->ports[j]->vni == vni) {
                    c->ports[j]->has_vni = false;
                    c->ports[j]->vni = 0;
                }
            }
            remove_static_macs(c, NULL, vni);
            e->changed = true;
            return OK;
        }
    }
    return e->if_exists ? OK : fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                                    "VNI %u does not exist", vni);
}

/* Finds local port 'name' for a binding. */
static Vswitch__Status
find_local_port(struct config_edit *e, const char *name,
                Vswitch__PortConfig **portp)
{
    Vswitch__PortConfig *port = config_find_port(e->config, name);

    if (!port) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND, "no port %s",
                    name);
    }
    if (class_of(port)->dp_kind != DP_PORT_LOCAL) {
        return fail(e, VSWITCH__STATUS__STATUS_INVALID,
                    "a %s port cannot be bound to a VNI", port->type);
    }
    *portp = port;
    return OK;
}

Vswitch__Status
config_edit_bind(struct config_edit *e, const char *name, uint32_t vni)
{
    Vswitch__PortConfig *port;
    Vswitch__Status status = find_local_port(e, name, &port);

    if (status != OK) {
        return status;
    }
    if (!config_find_vni(e->config, vni)) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                    "VNI %u does not exist", vni);
    }
    if (!port->has_vni || port->vni != vni) {
        /* Static entries that sent traffic to this port in its old VNI
         * would now point outside their VNI. */
        if (port->has_vni) {
            remove_static_macs(e->config, name, 0);
        }
        port->has_vni = true;
        port->vni = vni;
        e->changed = true;
    }
    return OK;
}

Vswitch__Status
config_edit_unbind(struct config_edit *e, const char *name)
{
    Vswitch__PortConfig *port;
    Vswitch__Status status = find_local_port(e, name, &port);

    if (status == OK && port->has_vni) {
        remove_static_macs(e->config, name, 0);
        port->has_vni = false;
        port->vni = 0;
        e->changed = true;
    }
    return status;
}

static Vswitch__StaticMac **
find_static(const Vswitch__Config *c, uint32_t vni, const char *mac)
{
    struct eth_addr want, have;

    eth_addr_parse(mac, &want);
    for (size_t i = 0; i < c->n_static_macs; i++) {
        if (c->static_macs[i]->vni == vni
            && eth_addr_parse(c->static_macs[i]->mac, &have)
            && eth_addr_equals(&want, &have)) {
            return &c->static_macs[i];
        }
    }
    return NULL;
}

Vswitch__Status
config_edit_fdb_add(struct config_edit *e, const Vswitch__FdbAdd *req)
{
    Vswitch__Config *c = e->config;

    if (!config_find_vni(c, req->vni)) {
        return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                    "VNI %u does not exist", req->vni);
    }
    if (req->port) {
        Vswitch__PortConfig *port = config_find_port(c, req->port);

        if (!port) {
            return fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND, "no port %s",
                        req->port);
        }
        if (!port->has_vni || port->vni != req->vni) {
            return fail(e, VSWITCH__STATUS__STATUS_INVALID,
                        "port %s is not in VNI %u", req->port, req->vni);
        }
    }

    Vswitch__StaticMac *m = malloc(sizeof *m);

    if (!m) {
        return out_of_memory(e);
    }
    vswitch__static_mac__init(m);
    m->vni = req->vni;
    m->mac = strdup(req->mac);
    m->port = req->port ? strdup(req->port) : NULL;
    m->remote = req->remote ? strdup(req->remote) : NULL;
    if (!m->mac || (req->port && !m->port) || (req->remote && !m->remote)
        || !canonical_mac(&m->mac)
        || (m->remote && !canonical_ip(&m->remote))) {
        free_msg(m);
        return out_of_memory(e);
    }

    Vswitch__StaticMac **old = find_static(c, req->vni, req->mac);

    if (old) {
        e->changed = !config_equal(&(*old)->base, &m->base);
        free_msg(*old);
        *old = m;
    } else if (!append(&c->static_macs, &c->n_static_macs, m)) {
        free_msg(m);
        return out_of_memory(e);
    } else {
        e->changed = true;
    }
    return OK;
}

Vswitch__Status
config_edit_fdb_del(struct config_edit *e, const Vswitch__FdbDel *req)
{
    Vswitch__Config *c = e->config;
    Vswitch__StaticMac **m = find_static(c, req->vni, req->mac);

    if (!m) {
        return e->if_exists ? OK
               : fail(e, VSWITCH__STATUS__STATUS_NOT_FOUND,
                      "no static entry for %s in VNI %u", req->mac,
                      req->vni);
    }

    Vswitch__StaticMac *victim = *m;

    remove_at(c->static_macs, &c->n_static_macs,
              (size_t) (m - c->static_macs));
    free_msg(victim);
    e->changed = true;
    return OK;
}

/* Applies 'req', one request of a batch, to 'e'. */
static Vswitch__Status
edit_one(struct config_edit *e, const Vswitch__Request *req, bool *unmatched)
{
    Vswitch__Status status;
    bool if_exists = e->if_exists;

    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_ADD_PORT:
        return config_edit_add_port(e, req->add_port);
    case VSWITCH__REQUEST__COMMAND_DEL_PORT:
        return config_edit_del_port(e, req->del_port->name);
    case VSWITCH__REQUEST__COMMAND_SET_PORT:
        return config_edit_set_port(e, req->set_port);
    case VSWITCH__REQUEST__COMMAND_ADD_VNI:
        return config_edit_add_vni(e, req->add_vni);
    case VSWITCH__REQUEST__COMMAND_SET_VNI:
        return config_edit_set_vni(e, req->set_vni);
    case VSWITCH__REQUEST__COMMAND_DEL_VNI:
        return config_edit_del_vni(e, req->del_vni->vni);
    case VSWITCH__REQUEST__COMMAND_BIND_VNI:
        return config_edit_bind(e, req->bind_vni->port, req->bind_vni->vni);
    case VSWITCH__REQUEST__COMMAND_UNBIND_VNI:
        return config_edit_unbind(e, req->unbind_vni->name);
    case VSWITCH__REQUEST__COMMAND_FDB_ADD:
        return config_edit_fdb_add(e, req->fdb_add);
    case VSWITCH__REQUEST__COMMAND_FDB_DEL:
        /* A MAC without a static entry may have a learned one, which only
         * the daemon's table knows: the caller looks. */
        e->if_exists = false;
        status = config_edit_fdb_del(e, req->fdb_del);
        e->if_exists = if_exists;
        if (status == VSWITCH__STATUS__STATUS_NOT_FOUND) {
            *unmatched = true;
            status = OK;
        }
        return status;
    default:
        return fail(e, VSWITCH__STATUS__STATUS_INVALID, "not a change that "
                    "can be in a batch");
    }
}

Vswitch__Status
config_edit_batch(struct config_edit *e, const Vswitch__Batch *batch,
                  bool *unmatched)
{
    bool may_exist = e->may_exist, if_exists = e->if_exists;
    bool changed = false;
    Vswitch__Status status = OK;

    for (size_t i = 0; status == OK && i < batch->n_commands; i++) {
        Vswitch__Request req;

        request_from_batch_command(batch->commands[i], &req);
        e->may_exist = may_exist || (req.has_may_exist && req.may_exist);
        e->if_exists = if_exists || (req.has_if_exists && req.if_exists);
        e->changed = false;
        unmatched[i] = false;
        status = edit_one(e, &req, &unmatched[i]);
        changed |= e->changed;
        if (status != OK) {
            /* The reason moves behind the name of its line. */
            char reason[512];

            snprintf(reason, sizeof reason, "%s", e->error);
            fail(e, status, "%s %u: %s", request_batch_unit(batch),
                 request_batch_line(batch, i), reason);
        }
    }
    e->may_exist = may_exist;
    e->if_exists = if_exists;
    e->changed = changed;
    return status;
}

Vswitch__Status
config_edit_replay(const Vswitch__Config *saved, Vswitch__Config **config,
                   char *error, size_t error_size)
{
    struct config_edit e = {
        .config = config_store_empty(),
        .error = error,
        .error_size = error_size,
    };
    Vswitch__Status status = VSWITCH__STATUS__STATUS_OK;

    *config = NULL;
    if (!e.config) {
        return out_of_memory(&e);
    }
    for (size_t i = 0; !status && i < saved->n_vnis; i++) {
        status = request_check_vni_config(saved->vnis[i], error, error_size)
                 ? config_edit_add_vni(&e, saved->vnis[i])
                 : VSWITCH__STATUS__STATUS_INVALID;
    }
    for (size_t i = 0; !status && i < saved->n_ports; i++) {
        status = request_check_port_config(saved->ports[i], error,
                                           error_size)
                 ? config_edit_add_port(&e, saved->ports[i])
                 : VSWITCH__STATUS__STATUS_INVALID;
    }
    for (size_t i = 0; !status && i < saved->n_static_macs; i++) {
        const Vswitch__StaticMac *m = saved->static_macs[i];
        Vswitch__FdbAdd add = VSWITCH__FDB_ADD__INIT;

        add.vni = m->vni;
        add.mac = m->mac;
        add.port = m->port;
        add.remote = m->remote;
        status = request_check_static_mac(m->vni, m->mac, m->port, m->remote,
                                          error, error_size)
                 ? config_edit_fdb_add(&e, &add)
                 : VSWITCH__STATUS__STATUS_INVALID;
    }
    if (status) {
        vswitch__config__free_unpacked(e.config, NULL);
    } else {
        /* The rules themselves are the flow store's (flow-store.h). */
        e.config->has_flows_written = saved->has_flows_written;
        e.config->flows_written = saved->flows_written;
        *config = e.config;
    }
    return status;
}
