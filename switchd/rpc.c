#include <config.h>

#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "capture-path.h"
#include "config-edit.h"
#include "config-store.h"
#include "eth-addr.h"
#include "frame.h"
#include "inet.h"
#include "log.h"
#include "mac-table.h"
#include "request.h"
#include "xmalloc.h"

#define OK VSWITCH__STATUS__STATUS_OK

/* One request being handled. */
struct rpc_call {
    const struct rpc_context *ctx;
    const struct rpc_peer *peer;
    const Vswitch__Request *req;
    Vswitch__Response *resp;
    struct config_edit edit;
    char error[REQUEST_ERROR_SIZE + 128];
};

typedef Vswitch__Status rpc_handler(struct rpc_call *);

/* Reply building.  Every piece is allocated on its own, so that the whole
 * reply is freed by vswitch__response__free_unpacked(). */

static void
add_drop(Vswitch__Counters *m, const char *reason, uint64_t count)
{
    if (count) {
        Vswitch__Drop *d = xmalloc(sizeof *d);

        vswitch__drop__init(d);
        d->reason = xstrdup(reason);
        d->count = count;
        m->drops[m->n_drops++] = d;
    }
}

/* The counters of 'c' and, for a port, of its device ('state' may be
 * NULL): what the device lost counts as drops beside the datapath's. */
static Vswitch__Counters *
counters_msg(const struct dp_counters *c,
             const struct bridge_port_state *state)
{
    Vswitch__Counters *m = xmalloc(sizeof *m);

    vswitch__counters__init(m);
    m->rx_packets = c->rx_packets;
    m->rx_bytes = c->rx_bytes;
    m->tx_packets = c->tx_packets;
    m->tx_bytes = c->tx_bytes;
    m->drops = xcalloc(DP_DROP_N_REASONS + 3, sizeof *m->drops);
    for (int r = 0; r < DP_DROP_N_REASONS; r++) {
        add_drop(m, dp_drop_reason_name(r), c->drops[r]);
    }
    if (state) {
        add_drop(m, "rx_error", state->device.rx_errors);
        add_drop(m, "tx_error", state->device.tx_errors);
        add_drop(m, "port_down", state->tx_while_down);
    }
    return m;
}

static void *
clone_or_die(const ProtobufCMessage *msg)
{
    void *copy = config_clone(msg);

    if (!copy) {
        fprintf(stderr, "vswitchd: out of memory\n");
        abort();
    }
    return copy;
}

static Vswitch__PortStatus *
port_status_msg(const struct bridge *b, const Vswitch__PortConfig *pc)
{
    Vswitch__PortStatus *m = xmalloc(sizeof *m);
    struct bridge_port_state state;

    vswitch__port_status__init(m);
    if (!bridge_port_state(b, pc->name, &state)) {
        memset(&state, 0, sizeof state);
    }
    m->config = clone_or_die(&pc->base);
    m->state = xstrdup(state.up ? "up" : "down");
    m->error = state.error ? xstrdup(state.error) : NULL;
    m->counters = counters_msg(&state.counters, &state);
    return m;
}

static Vswitch__VniStatus *
vni_status_msg(const struct bridge *b, const Vswitch__VniConfig *vc)
{
    const Vswitch__Config *c = bridge_config(b);
    Vswitch__VniStatus *m = xmalloc(sizeof *m);
    struct dp_counters counters;
    unsigned int ageing = 0;
    size_t limit = 0, n_dynamic = 0, n_static = 0;

    vswitch__vni_status__init(m);
    m->config = clone_or_die(&vc->base);
    m->ports = xcalloc(c->n_ports, sizeof *m->ports);
    for (size_t i = 0; i < c->n_ports; i++) {
        if (c->ports[i]->has_vni && c->ports[i]->vni == vc->vni) {
            m->ports[m->n_ports++] = xstrdup(c->ports[i]->name);
        }
    }
    mac_table_get_vni(dp_mac_table(bridge_dp(b)), vc->vni, &ageing, &limit,
                      &n_dynamic, &n_static);
    m->ageing = ageing;
    m->mac_limit = limit;
    m->dynamic_macs = n_dynamic;
    m->static_macs = n_static;
    if (!dp_vni_get_counters(bridge_dp(b), vc->vni, &counters)) {
        memset(&counters, 0, sizeof counters);
    }
    m->counters = counters_msg(&counters, NULL);
    return m;
}

static void
ports_msg(const struct bridge *b, const char *only,
          Vswitch__PortStatus ***ports, size_t *n)
{
    const Vswitch__Config *c = bridge_config(b);

    *ports = xcalloc(c->n_ports, sizeof **ports);
    *n = 0;
    for (size_t i = 0; i < c->n_ports; i++) {
        if (!only || !strcmp(only, c->ports[i]->name)) {
            (*ports)[(*n)++] = port_status_msg(b, c->ports[i]);
        }
    }
}

static void
vnis_msg(const struct bridge *b, Vswitch__VniStatus ***vnis, size_t *n)
{
    const Vswitch__Config *c = bridge_config(b);

    *vnis = xcalloc(c->n_vnis, sizeof **vnis);
    *n = c->n_vnis;
    for (size_t i = 0; i < c->n_vnis; i++) {
        (*vnis)[i] = vni_status_msg(b, c->vnis[i]);
    }
}

/* Read-only commands. */

static Vswitch__Status
do_ping(struct rpc_call *call)
{
    (void) call;
    return OK;
}

static Vswitch__Status
do_version(struct rpc_call *call)
{
    Vswitch__VersionReply *m = xmalloc(sizeof *m);

    vswitch__version_reply__init(m);
    m->version = xstrdup(PACKAGE_VERSION);
    m->protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_VERSION;
    call->resp->version = m;
    return OK;
}

static Vswitch__Status
do_show(struct rpc_call *call)
{
    Vswitch__ShowReply *m = xmalloc(sizeof *m);

    vswitch__show_reply__init(m);
    ports_msg(call->ctx->bridge, NULL, &m->ports, &m->n_ports);
    vnis_msg(call->ctx->bridge, &m->vnis, &m->n_vnis);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_SHOW;
    call->resp->show = m;
    return OK;
}

static Vswitch__Status
do_list_ports(struct rpc_call *call)
{
    Vswitch__PortList *m = xmalloc(sizeof *m);

    vswitch__port_list__init(m);
    ports_msg(call->ctx->bridge, NULL, &m->ports, &m->n_ports);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_PORTS;
    call->resp->ports = m;
    return OK;
}

static Vswitch__Status
do_stats(struct rpc_call *call)
{
    const char *only = call->req->stats->name;

    if (only && !config_find_port(bridge_config(call->ctx->bridge), only)) {
        snprintf(call->error, sizeof call->error, "no port %s", only);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }

    Vswitch__PortList *m = xmalloc(sizeof *m);

    vswitch__port_list__init(m);
    ports_msg(call->ctx->bridge, only, &m->ports, &m->n_ports);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_PORTS;
    call->resp->ports = m;
    return OK;
}

static Vswitch__Status
do_list_vnis(struct rpc_call *call)
{
    Vswitch__VniList *m = xmalloc(sizeof *m);

    vswitch__vni_list__init(m);
    vnis_msg(call->ctx->bridge, &m->vnis, &m->n_vnis);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_VNIS;
    call->resp->vnis = m;
    return OK;
}

struct fdb_dump {
    const struct bridge *bridge;
    Vswitch__FdbList *list;
    size_t allocated;
};

static void
collect_entry(const struct mac_table_entry_info *info, void *aux)
{
    struct fdb_dump *d = aux;
    Vswitch__FdbEntry *e = xmalloc(sizeof *e);
    char buf[INET_ADDR_STRLEN];

    vswitch__fdb_entry__init(e);
    e->vni = info->vni;
    e->mac = xstrdup(eth_addr_format(&info->mac, buf));
    if (info->dest.type == MAC_DEST_PORT) {
        const char *name = bridge_port_name(d->bridge, info->dest.port_no);

        e->port = xstrdup(name ? name : "?");
    } else {
        e->remote = xstrdup(inet_format(&info->dest.remote, buf));
    }
    e->static_ = info->is_static;
    e->age_ms = (uint64_t) info->age_ms;
    if (d->list->n_entries == d->allocated) {
        d->allocated = d->allocated ? 2 * d->allocated : 64;
        d->list->entries = xrealloc(d->list->entries,
                                    d->allocated * sizeof *d->list->entries);
    }
    d->list->entries[d->list->n_entries++] = e;
}

static int
compare_entries(const void *a_, const void *b_)
{
    const Vswitch__FdbEntry *a = *(const Vswitch__FdbEntry *const *) a_;
    const Vswitch__FdbEntry *b = *(const Vswitch__FdbEntry *const *) b_;

    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return strcmp(a->mac, b->mac);
}

static Vswitch__Status
do_fdb_show(struct rpc_call *call)
{
    const Vswitch__VniFilter *f = call->req->fdb_show;
    struct bridge *b = call->ctx->bridge;

    if (f->has_vni && !config_find_vni(bridge_config(b), f->vni)) {
        snprintf(call->error, sizeof call->error, "VNI %u does not exist",
                 f->vni);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }

    struct fdb_dump dump = { .bridge = b };

    dump.list = xmalloc(sizeof *dump.list);
    vswitch__fdb_list__init(dump.list);
    mac_table_dump(dp_mac_table(bridge_dp(b)), f->has_vni ? f->vni : 0,
                   call->ctx->now_ms, collect_entry, &dump);
    if (dump.list->n_entries > 1) {
        qsort(dump.list->entries, dump.list->n_entries,
              sizeof *dump.list->entries, compare_entries);
    }
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FDB;
    call->resp->fdb = dump.list;
    return OK;
}

static Vswitch__Status
do_fdb_stats(struct rpc_call *call)
{
    Vswitch__FdbStats *m = xmalloc(sizeof *m);
    struct mac_table_stats s;

    mac_table_get_stats(dp_mac_table(bridge_dp(call->ctx->bridge)), &s);
    vswitch__fdb_stats__init(m);
    m->dynamic_macs = s.n_dynamic;
    m->static_macs = s.n_static;
    m->max_macs = s.max_entries;
    m->learned = s.learned;
    m->moves = s.moves;
    m->expired = s.expired;
    m->evicted = s.evicted;
    m->static_kept = s.static_kept;
    m->multicast_ignored = s.multicast_ignored;
    m->learn_refused = s.learn_refused;
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FDB_STATS;
    call->resp->fdb_stats = m;
    return OK;
}

/* Changes.  begin_edit() starts from a copy of the configuration in effect;
 * commit() saves the edited copy and puts it into effect, or drops it. */

static struct config_edit *
begin_edit(struct rpc_call *call)
{
    struct config_edit *e = &call->edit;

    e->config = clone_or_die(&bridge_config(call->ctx->bridge)->base);
    e->may_exist = call->req->has_may_exist && call->req->may_exist;
    e->if_exists = call->req->has_if_exists && call->req->if_exists;
    e->changed = false;
    e->error = call->error;
    e->error_size = sizeof call->error;
    return e;
}

static Vswitch__Status
commit(struct rpc_call *call, Vswitch__Status status)
{
    struct config_edit *e = &call->edit;

    if (status == OK && e->changed) {
        status = capture_path_check_config(call->ctx->capture,
                                           call->peer->uid,
                                           bridge_config(call->ctx->bridge),
                                           e->config, call->error,
                                           sizeof call->error);
    }
    if (status == OK && e->changed) {
        if (config_store_save(call->ctx->db_path, e->config, call->error,
                              sizeof call->error)) {
            LOG_ERR("rpc", "%s", call->error);
            status = VSWITCH__STATUS__STATUS_FAILED;
        } else {
            bridge_reconfigure(call->ctx->bridge, e->config);
            e->config = NULL;
        }
    }
    if (e->config) {
        protobuf_c_message_free_unpacked(&e->config->base, NULL);
        e->config = NULL;
    }
    return status;
}

static Vswitch__Status
do_add_port(struct rpc_call *call)
{
    Vswitch__Status status = commit(call, config_edit_add_port(
                                        begin_edit(call),
                                        call->req->add_port));

    /* Adding what exists (--may-exist) makes again a device that went
     * away underneath the port. */
    if (status == OK) {
        bridge_port_revive(call->ctx->bridge, call->req->add_port->name);
    }
    return status;
}

static Vswitch__Status
do_del_port(struct rpc_call *call)
{
    return commit(call, config_edit_del_port(begin_edit(call),
                                             call->req->del_port->name));
}

static Vswitch__Status
do_set_port(struct rpc_call *call)
{
    return commit(call, config_edit_set_port(begin_edit(call),
                                             call->req->set_port));
}

static Vswitch__Status
do_add_vni(struct rpc_call *call)
{
    return commit(call, config_edit_add_vni(begin_edit(call),
                                            call->req->add_vni));
}

static Vswitch__Status
do_set_vni(struct rpc_call *call)
{
    return commit(call, config_edit_set_vni(begin_edit(call),
                                            call->req->set_vni));
}

static Vswitch__Status
do_del_vni(struct rpc_call *call)
{
    return commit(call, config_edit_del_vni(begin_edit(call),
                                            call->req->del_vni->vni));
}

static Vswitch__Status
do_bind_vni(struct rpc_call *call)
{
    return commit(call, config_edit_bind(begin_edit(call),
                                         call->req->bind_vni->port,
                                         call->req->bind_vni->vni));
}

static Vswitch__Status
do_unbind_vni(struct rpc_call *call)
{
    return commit(call, config_edit_unbind(begin_edit(call),
                                           call->req->unbind_vni->name));
}

static Vswitch__Status
do_fdb_add(struct rpc_call *call)
{
    return commit(call, config_edit_fdb_add(begin_edit(call),
                                            call->req->fdb_add));
}

/* Deletes a static entry from the configuration or, if there is none, a
 * learned one from the table, as "bridge fdb del" does either. */
static Vswitch__Status
do_fdb_del(struct rpc_call *call)
{
    const Vswitch__FdbDel *req = call->req->fdb_del;
    struct config_edit *e = begin_edit(call);
    bool if_exists = e->if_exists;
    Vswitch__Status status;

    e->if_exists = false;
    status = config_edit_fdb_del(e, req);
    if (status == VSWITCH__STATUS__STATUS_NOT_FOUND) {
        struct mac_table *macs = dp_mac_table(bridge_dp(call->ctx->bridge));
        struct eth_addr mac;

        eth_addr_parse(req->mac, &mac);
        if (!mac_table_del(macs, req->vni, &mac) || if_exists) {
            status = OK;
        } else {
            snprintf(call->error, sizeof call->error,
                     "no entry for %s in VNI %u, static or learned",
                     req->mac, req->vni);
        }
    }
    return commit(call, status);
}

static Vswitch__Status
do_fdb_flush(struct rpc_call *call)
{
    const Vswitch__VniFilter *f = call->req->fdb_flush;
    struct bridge *b = call->ctx->bridge;

    if (f->has_vni && !config_find_vni(bridge_config(b), f->vni)) {
        snprintf(call->error, sizeof call->error, "VNI %u does not exist",
                 f->vni);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }

    Vswitch__FlushReply *m = xmalloc(sizeof *m);

    vswitch__flush_reply__init(m);
    m->removed = mac_table_flush(dp_mac_table(bridge_dp(b)),
                                 f->has_vni ? f->vni : 0, NULL);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLUSHED;
    call->resp->flushed = m;
    return OK;
}

static Vswitch__Status
do_port_replay(struct rpc_call *call)
{
    const char *name = call->req->port_replay->name;
    int error = bridge_port_replay(call->ctx->bridge, name, call->error,
                                   sizeof call->error);

    return !error ? OK
           : error == ENOENT && !config_find_port(
                 bridge_config(call->ctx->bridge), name)
           ? VSWITCH__STATUS__STATUS_NOT_FOUND
           : VSWITCH__STATUS__STATUS_FAILED;
}

struct rpc_command {
    Vswitch__Request__CommandCase command;
    const char *name;           /* For the log. */
    bool read_only;
    rpc_handler *handler;
};

static const struct rpc_command commands[] = {
    { VSWITCH__REQUEST__COMMAND_PING, "ping", true, do_ping },
    { VSWITCH__REQUEST__COMMAND_VERSION, "version", true, do_version },
    { VSWITCH__REQUEST__COMMAND_SHOW, "show", true, do_show },
    { VSWITCH__REQUEST__COMMAND_ADD_PORT, "add-port", false, do_add_port },
    { VSWITCH__REQUEST__COMMAND_DEL_PORT, "del-port", false, do_del_port },
    { VSWITCH__REQUEST__COMMAND_SET_PORT, "set-port", false, do_set_port },
    { VSWITCH__REQUEST__COMMAND_LIST_PORTS, "list-ports", true,
      do_list_ports },
    { VSWITCH__REQUEST__COMMAND_ADD_VNI, "add-vni", false, do_add_vni },
    { VSWITCH__REQUEST__COMMAND_DEL_VNI, "del-vni", false, do_del_vni },
    { VSWITCH__REQUEST__COMMAND_SET_VNI, "set-vni", false, do_set_vni },
    { VSWITCH__REQUEST__COMMAND_LIST_VNIS, "list-vnis", true, do_list_vnis },
    { VSWITCH__REQUEST__COMMAND_BIND_VNI, "bind-vni", false, do_bind_vni },
    { VSWITCH__REQUEST__COMMAND_UNBIND_VNI, "unbind-vni", false,
      do_unbind_vni },
    { VSWITCH__REQUEST__COMMAND_FDB_SHOW, "fdb-show", true, do_fdb_show },
    { VSWITCH__REQUEST__COMMAND_FDB_ADD, "fdb-add", false, do_fdb_add },
    { VSWITCH__REQUEST__COMMAND_FDB_DEL, "fdb-del", false, do_fdb_del },
    { VSWITCH__REQUEST__COMMAND_FDB_FLUSH, "fdb-flush", false,
      do_fdb_flush },
    { VSWITCH__REQUEST__COMMAND_FDB_STATS, "fdb-stats", true,
      do_fdb_stats },
    { VSWITCH__REQUEST__COMMAND_STATS, "stats", true, do_stats },
    { VSWITCH__REQUEST__COMMAND_PORT_REPLAY, "port-replay", false,
      do_port_replay },
};

static const struct rpc_command *
find_command(Vswitch__Request__CommandCase command)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (commands[i].command == command) {
            return &commands[i];
        }
    }
    return NULL;
}

/* Used when even the reply cannot be allocated. */
static uint8_t out_of_memory_frame[] = {
    0, 0, 0, 4,
    0x08, VSWITCH__PROTOCOL__PROTOCOL_VERSION,
    0x10, VSWITCH__STATUS__STATUS_FAILED,
};

static uint8_t *
pack_response(const Vswitch__Response *resp, size_t *len)
{
    uint8_t *frame = frame_pack(&resp->base, FRAME_MAX_RESPONSE, len);

    if (!frame) {
        *len = sizeof out_of_memory_frame;
        frame = out_of_memory_frame;
    }
    return frame;
}

void
rpc_frame_free(uint8_t *frame)
{
    if (frame != out_of_memory_frame) {
        free(frame);
    }
}

uint8_t *
rpc_error_frame(Vswitch__Status status, const char *error, size_t *len)
{
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;

    resp.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    resp.status = status;
    resp.error = (char *) error;
    return pack_response(&resp, len);
}

uint8_t *
rpc_handle(const struct rpc_context *ctx, const struct rpc_peer *peer,
           const uint8_t *msg, size_t msg_len, size_t *len)
{
    Vswitch__Request *req = vswitch__request__unpack(NULL, msg_len, msg);
    struct rpc_call call = { .ctx = ctx, .peer = peer, .req = req };
    const struct rpc_command *command;
    Vswitch__Status status;

    if (!req) {
        return rpc_error_frame(VSWITCH__STATUS__STATUS_INVALID,
                               "malformed request: not a vswitch request "
                               "message", len);
    }
    if (req->protocol != VSWITCH__PROTOCOL__PROTOCOL_VERSION) {
        char error[128];

        snprintf(error, sizeof error, "protocol version %u is not "
                 "supported: vswitchd %s speaks version %d", req->protocol,
                 PACKAGE_VERSION, VSWITCH__PROTOCOL__PROTOCOL_VERSION);
        vswitch__request__free_unpacked(req, NULL);
        return rpc_error_frame(VSWITCH__STATUS__STATUS_VERSION, error, len);
    }

    call.resp = xmalloc(sizeof *call.resp);
    vswitch__response__init(call.resp);
    call.resp->protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    command = find_command(req->command_case);
    if (!request_check(req, call.error, sizeof call.error)) {
        status = VSWITCH__STATUS__STATUS_INVALID;
    } else if (!command) {
        snprintf(call.error, sizeof call.error, "unknown command");
        status = VSWITCH__STATUS__STATUS_INVALID;
    } else if (!command->read_only && !peer->may_write) {
        snprintf(call.error, sizeof call.error, "%s", peer->denied);
        status = VSWITCH__STATUS__STATUS_DENIED;
    } else {
        status = command->handler(&call);
    }
    if (command && !command->read_only) {
        if (status == OK) {
            LOG_INFO("rpc", "%s: %s", peer->name, command->name);
        } else {
            LOG_INFO("rpc", "%s: %s refused: %s", peer->name, command->name,
                     call.error);
        }
    }
    call.resp->status = status;
    if (status != OK) {
        call.resp->error = xstrdup(call.error);
    }

    uint8_t *frame = pack_response(call.resp, len);

    vswitch__response__free_unpacked(call.resp, NULL);
    vswitch__request__free_unpacked(req, NULL);
    return frame;
}
