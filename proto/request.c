#include <config.h>

#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "eth-addr.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "port.h"

bool
request_parse_vni(const char *s, uint32_t *vni)
{
    unsigned int n;

    if (!port_option_parse_uint(s, 1, VXLAN_VNI_MAX, &n)) {
        return false;
    }
    *vni = n;
    return true;
}

bool
request_check_vni(uint32_t vni, char *error, size_t size)
{
    if (vni < 1 || vni > VXLAN_VNI_MAX) {
        snprintf(error, size, "VNI %u is out of range 1-%u", vni,
                 VXLAN_VNI_MAX);
        return false;
    }
    return true;
}

bool
request_check_port_name(const char *name, char *error, size_t size)
{
    /* Port names become interface names for TAP ports, so every port name
     * follows the kernel's rules. */
    if (!port_option_is_ifname(name)) {
        snprintf(error, size, "'%s' is not a valid port name (1-15 "
                 "characters, no '/', ':' or spaces)", name);
        return false;
    }
    return true;
}

bool
request_check_port_config(const Vswitch__PortConfig *port, char *error,
                          size_t size)
{
    if (!request_check_port_name(port->name, error, size)) {
        return false;
    }

    const struct port_class *class = port_class_find(port->type);

    if (!class) {
        snprintf(error, size, "unknown port type '%s' (tap, system, vxlan "
                 "or pcap)", port->type);
        return false;
    }
    if (port->has_vni) {
        if (class->dp_kind != DP_PORT_LOCAL) {
            snprintf(error, size, "a %s port cannot be bound to a VNI",
                     class->type);
            return false;
        }
        if (!request_check_vni(port->vni, error, size)) {
            return false;
        }
    }

    const char **keys = calloc(port->n_options + 1, sizeof *keys);
    const char **values = calloc(port->n_options + 1, sizeof *values);
    bool ok = keys && values;

    if (!ok) {
        snprintf(error, size, "out of memory");
    }
    for (size_t i = 0; ok && i < port->n_options; i++) {
        keys[i] = port->options[i]->key;
        values[i] = port->options[i]->value;
    }
    ok = ok && port_class_check_options(class, keys, values,
                                        port->n_options, error, size);
    free(keys);
    free(values);
    return ok;
}

static bool
check_address(const char *what, const char *s, bool want_multicast,
              struct in6_addr *addr, char *error, size_t size)
{
    if (!inet_parse(s, addr)) {
        snprintf(error, size, "%s: '%s' is not an IPv4 or IPv6 address",
                 what, s);
        return false;
    }
    if (inet_is_multicast(addr) != want_multicast
        || inet_is_unspecified(addr)) {
        snprintf(error, size, "%s: %s is not a %s address", what, s,
                 want_multicast ? "multicast" : "unicast");
        return false;
    }
    return true;
}

static bool
check_evpn_group(const Vswitch__VniConfig *c, char *error, size_t size)
{
    if (request_vni_is_evpn(c) && c->group && *c->group) {
        snprintf(error, size, "VNI %u: an EVPN VNI floods to the VTEPs of "
                 "its routes and its flood= list, not to a group", c->vni);
        return false;
    }
    return true;
}

bool
request_check_vni_config(const Vswitch__VniConfig *c, char *error,
                         size_t size)
{
    struct in6_addr addr;

    if (!request_check_vni(c->vni, error, size)) {
        return false;
    }
    if (c->group && c->n_flood) {
        snprintf(error, size, "give group= or flood=, not both");
        return false;
    }
    if (c->group && *c->group
        && !check_address("group", c->group, true, &addr, error, size)) {
        return false;
    }
    if (c->n_flood > DP_VNI_MAX_FLOOD) {
        snprintf(error, size, "flood: at most %d addresses",
                 DP_VNI_MAX_FLOOD);
        return false;
    }
    for (size_t i = 0; i < c->n_flood; i++) {
        struct in6_addr other;

        if (!check_address("flood", c->flood[i], false, &addr, error,
                           size)) {
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            inet_parse(c->flood[j], &other);
            if (inet_equals(&addr, &other)) {
                snprintf(error, size, "flood: %s given twice", c->flood[i]);
                return false;
            }
        }
    }
    if (c->has_ageing && (c->ageing < 1 || c->ageing > 1000000)) {
        snprintf(error, size, "ageing: %u is outside 1-1000000 seconds",
                 c->ageing);
        return false;
    }
    if (c->has_learn && c->learn != VSWITCH__LEARN__LEARN_ANY
        && c->learn != VSWITCH__LEARN__LEARN_LIST) {
        snprintf(error, size, "learn: unknown mode %d", (int) c->learn);
        return false;
    }
    if (c->has_learn && c->learn == VSWITCH__LEARN__LEARN_LIST
        && c->group && *c->group) {
        snprintf(error, size, "learn=list learns from the flood= list, and "
                 "a VNI with group= has none");
        return false;
    }

    if (c->has_control && c->control != VSWITCH__CONTROL__CONTROL_EVPN
        && c->control != VSWITCH__CONTROL__CONTROL_FLOOD_AND_LEARN) {
        snprintf(error, size, "control: unknown mode %d", (int) c->control);
        return false;
    }
    if (!check_evpn_group(c, error, size)) {
        return false;
    }

    struct inet_prefix prefix;

    if (c->learn_prefix && *c->learn_prefix
        && !inet_prefix_parse(c->learn_prefix, &prefix)) {
        snprintf(error, size, "learn-prefix: '%s' is not a prefix such as "
                 "172.31.0.0/16 (no bits set past its length)",
                 c->learn_prefix);
        return false;
    }
    return true;
}

bool
request_check_vni_whole(const Vswitch__VniConfig *c, char *error,
                        size_t size)
{
    if (!check_evpn_group(c, error, size)) {
        return false;
    }
    if (c->has_learn && c->learn == VSWITCH__LEARN__LEARN_LIST
        && !c->n_flood) {
        snprintf(error, size, "VNI %u: learn=list needs a flood= list",
                 c->vni);
        return false;
    }
    return true;
}

bool
request_vni_is_evpn(const Vswitch__VniConfig *c)
{
    return c->has_control && c->control == VSWITCH__CONTROL__CONTROL_EVPN;
}

bool
request_vni_learns_from_list(const Vswitch__VniConfig *c)
{
    return c->has_learn ? c->learn == VSWITCH__LEARN__LEARN_LIST
                        : c->n_flood > 0;
}

bool
request_check_static_mac(uint32_t vni, const char *mac, const char *port,
                         const char *remote, char *error, size_t size)
{
    struct eth_addr ea;
    struct in6_addr addr;

    if (!request_check_vni(vni, error, size)) {
        return false;
    }
    if (!eth_addr_parse(mac, &ea)) {
        snprintf(error, size, "'%s' is not a MAC address "
                 "(xx:xx:xx:xx:xx:xx)", mac);
        return false;
    }
    if (eth_addr_is_multicast(&ea) || eth_addr_is_zero(&ea)) {
        snprintf(error, size, "%s is not a unicast MAC address", mac);
        return false;
    }
    if (!port == !remote) {
        snprintf(error, size, "give a port or remote=IP");
        return false;
    }
    if (port) {
        return request_check_port_name(port, error, size);
    }
    return check_address("remote", remote, false, &addr, error, size);
}

bool
request_check_flow_lines(const Vswitch__FlowLines *f, char *error,
                         size_t size)
{
    if (f->n_line_numbers && f->n_line_numbers != f->n_lines) {
        snprintf(error, size, "%zu line numbers for %zu flow lines",
                 f->n_line_numbers, f->n_lines);
        return false;
    }
    return true;
}

bool
request_check_trace(const Vswitch__Trace *t, char *error, size_t size)
{
    if (!t->flow == !t->has_frame) {
        snprintf(error, size, "trace needs a flow or a frame, not both");
        return false;
    }
    if (t->has_frame) {
        if (t->frame.len < ETH_HEADER_LEN
            || t->frame.len > PACKET_MAX_FRAME) {
            snprintf(error, size, "a frame of %zu bytes cannot be traced "
                     "(%d-%d)", t->frame.len, ETH_HEADER_LEN,
                     PACKET_MAX_FRAME);
            return false;
        }
        if (!t->in_port) {
            snprintf(error, size, "tracing a frame needs in_port=PORT");
            return false;
        }
        return request_check_port_name(t->in_port, error, size);
    }
    if (t->in_port) {
        snprintf(error, size, "give the input port inside the flow");
        return false;
    }
    return true;
}

bool
request_check_capture(const Vswitch__Capture *c, char *error, size_t size)
{
    if (c->filter && strlen(c->filter) > REQUEST_CAPTURE_FILTER_MAX) {
        snprintf(error, size, "a capture filter of %zu bytes is too long "
                 "(at most %d)", strlen(c->filter),
                 REQUEST_CAPTURE_FILTER_MAX);
        return false;
    }
    if (c->has_count && !c->count) {
        snprintf(error, size, "a capture count must be 1 or more");
        return false;
    }
    if (c->has_duration
        && (!c->duration || c->duration > REQUEST_CAPTURE_DURATION_MAX)) {
        snprintf(error, size, "a capture duration of %u s is out of range "
                 "(1-%d)", c->duration, REQUEST_CAPTURE_DURATION_MAX);
        return false;
    }
    if (c->has_direction
        && c->direction != VSWITCH__CAPTURE_DIRECTION__CAPTURE_BOTH
        && c->direction != VSWITCH__CAPTURE_DIRECTION__CAPTURE_IN
        && c->direction != VSWITCH__CAPTURE_DIRECTION__CAPTURE_OUT) {
        snprintf(error, size, "unknown capture direction %d",
                 (int) c->direction);
        return false;
    }
    return request_check_port_name(c->port, error, size);
}

/* The commands a batch may hold: the Request's and the BatchCommand's
 * names of each. */
#define BATCH_COMMANDS \
    X(ADD_PORT, add_port) X(DEL_PORT, del_port) X(SET_PORT, set_port) \
    X(ADD_VNI, add_vni) X(DEL_VNI, del_vni) X(SET_VNI, set_vni) \
    X(BIND_VNI, bind_vni) X(UNBIND_VNI, unbind_vni) \
    X(FDB_ADD, fdb_add) X(FDB_DEL, fdb_del) \
    X(EVPN_MAC_ADD, evpn_mac_add) X(EVPN_MAC_DEL, evpn_mac_del) \
    X(EVPN_VTEP_ADD, evpn_vtep_add) X(EVPN_VTEP_DEL, evpn_vtep_del) \
    X(EVPN_FLUSH, evpn_flush)

bool
request_from_batch_command(const Vswitch__BatchCommand *cmd,
                           Vswitch__Request *req)
{
    vswitch__request__init(req);
    req->protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    req->has_may_exist = cmd->has_may_exist;
    req->may_exist = cmd->may_exist;
    req->has_if_exists = cmd->has_if_exists;
    req->if_exists = cmd->if_exists;
    switch (cmd->command_case) {
#define X(CASE, field)                                          \
    case VSWITCH__BATCH_COMMAND__COMMAND_##CASE:                \
        req->command_case = VSWITCH__REQUEST__COMMAND_##CASE;   \
        req->field = cmd->field;                                \
        return true;
    BATCH_COMMANDS
#undef X
    case VSWITCH__BATCH_COMMAND__COMMAND__NOT_SET:
    default:
        return false;
    }
}

bool
request_to_batch_command(const Vswitch__Request *req,
                         Vswitch__BatchCommand *cmd)
{
    vswitch__batch_command__init(cmd);
    cmd->has_may_exist = req->has_may_exist;
    cmd->may_exist = req->may_exist;
    cmd->has_if_exists = req->has_if_exists;
    cmd->if_exists = req->if_exists;
    switch (req->command_case) {
#define X(CASE, field)                                              \
    case VSWITCH__REQUEST__COMMAND_##CASE:                          \
        cmd->command_case = VSWITCH__BATCH_COMMAND__COMMAND_##CASE; \
        cmd->field = req->field;                                    \
        return true;
    BATCH_COMMANDS
#undef X
    default:
        return false;
    }
}

bool
request_is_evpn(const Vswitch__Request *req)
{
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        return true;
    default:
        return false;
    }
}

bool
request_batch_is_evpn(const Vswitch__Batch *batch)
{
    Vswitch__Request req;

    return batch->n_commands
           && request_from_batch_command(batch->commands[0], &req)
           && request_is_evpn(&req);
}

unsigned int
request_batch_line(const Vswitch__Batch *batch, size_t i)
{
    return batch->n_lines ? batch->lines[i] : (unsigned int) i + 1;
}

const char *
request_batch_unit(const Vswitch__Batch *batch)
{
    return batch->unit && !strcmp(batch->unit, "command") ? "command"
           : "line";
}

/* Each request of a batch is checked as if it came alone; the first one
 * refused names its line. */
static bool
check_batch(const Vswitch__Batch *batch, char *error, size_t size)
{
    if (!batch->n_commands) {
        snprintf(error, size, "the batch holds no command");
        return false;
    }
    if (batch->n_lines && batch->n_lines != batch->n_commands) {
        snprintf(error, size, "the batch has %zu line numbers for %zu "
                 "commands", batch->n_lines, batch->n_commands);
        return false;
    }
    for (size_t i = 0; i < batch->n_commands; i++) {
        Vswitch__Request req;
        char reason[REQUEST_ERROR_SIZE];

        if (!request_from_batch_command(batch->commands[i], &req)) {
            snprintf(reason, sizeof reason, "names no command");
        } else if (request_is_evpn(&req) != request_batch_is_evpn(batch)) {
            /* EVPN state is not saved: mixed with configuration, one
             * batch would be two changes that cannot fail as one. */
            snprintf(reason, sizeof reason, "EVPN commands and changes of "
                     "the configuration cannot be in one batch");
        } else if (request_check(&req, reason, sizeof reason)) {
            continue;
        }
        snprintf(error, size, "%s %u: %s", request_batch_unit(batch),
                 request_batch_line(batch, i), reason);
        return false;
    }
    return true;
}

/* Checks 'remote', the VTEP of an EVPN route.  check_address() lets the
 * limited broadcast address by, which a saved configuration may hold; the
 * datapath refuses it as a VTEP (EINVAL, which the daemon would report as
 * a VNI that is not an EVPN VNI), so it is refused here by name. */
static bool
check_evpn_remote(const char *remote, char *error, size_t size)
{
    struct in6_addr addr;

    if (!check_address("remote", remote, false, &addr, error, size)) {
        return false;
    }
    if (!inet_is_unicast(&addr)) {
        snprintf(error, size, "remote: %s is not a unicast address", remote);
        return false;
    }
    return true;
}

static bool
request_check_evpn_vtep(const Vswitch__EvpnVtep *v, char *error,
                        size_t size)
{
    return request_check_vni(v->vni, error, size)
           && check_evpn_remote(v->remote, error, size);
}

bool
request_check(const Vswitch__Request *req, char *error, size_t size)
{
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_BATCH:
        return check_batch(req->batch, error, size);
    case VSWITCH__REQUEST__COMMAND_ADD_PORT:
        return request_check_port_config(req->add_port, error, size);
    case VSWITCH__REQUEST__COMMAND_DEL_PORT:
        return request_check_port_name(req->del_port->name, error, size);
    case VSWITCH__REQUEST__COMMAND_UNBIND_VNI:
        return request_check_port_name(req->unbind_vni->name, error, size);
    case VSWITCH__REQUEST__COMMAND_PORT_REPLAY:
        return request_check_port_name(req->port_replay->name, error, size);
    case VSWITCH__REQUEST__COMMAND_SET_PORT:
        if (!req->set_port->n_options) {
            snprintf(error, size, "set-port needs at least one key=value");
            return false;
        }
        return request_check_port_name(req->set_port->name, error, size);
    case VSWITCH__REQUEST__COMMAND_ADD_VNI:
        return request_check_vni_config(req->add_vni, error, size);
    case VSWITCH__REQUEST__COMMAND_SET_VNI:
        return request_check_vni_config(req->set_vni, error, size);
    case VSWITCH__REQUEST__COMMAND_DEL_VNI:
        return request_check_vni(req->del_vni->vni, error, size);
    case VSWITCH__REQUEST__COMMAND_BIND_VNI:
        return request_check_port_name(req->bind_vni->port, error, size)
               && request_check_vni(req->bind_vni->vni, error, size);
    case VSWITCH__REQUEST__COMMAND_FDB_SHOW:
        return !req->fdb_show->has_vni
               || request_check_vni(req->fdb_show->vni, error, size);
    case VSWITCH__REQUEST__COMMAND_FDB_FLUSH:
        return !req->fdb_flush->has_vni
               || request_check_vni(req->fdb_flush->vni, error, size);
    case VSWITCH__REQUEST__COMMAND_FDB_ADD:
        return request_check_static_mac(req->fdb_add->vni,
                                        req->fdb_add->mac,
                                        req->fdb_add->port,
                                        req->fdb_add->remote, error, size);
    case VSWITCH__REQUEST__COMMAND_FDB_DEL: {
        struct eth_addr ea;

        if (!eth_addr_parse(req->fdb_del->mac, &ea)) {
            snprintf(error, size, "'%s' is not a MAC address",
                     req->fdb_del->mac);
            return false;
        }
        return request_check_vni(req->fdb_del->vni, error, size);
    }
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        return request_check_static_mac(req->evpn_mac_add->vni,
                                        req->evpn_mac_add->mac, NULL,
                                        req->evpn_mac_add->remote, error,
                                        size)
               && check_evpn_remote(req->evpn_mac_add->remote, error, size);
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        return request_check_static_mac(req->evpn_mac_del->vni,
                                        req->evpn_mac_del->mac, NULL,
                                        req->evpn_mac_del->remote, error,
                                        size);
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
        return request_check_evpn_vtep(req->evpn_vtep_add, error, size);
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
        return request_check_evpn_vtep(req->evpn_vtep_del, error, size);
    case VSWITCH__REQUEST__COMMAND_EVPN_FLUSH:
        return request_check_vni(req->evpn_flush->vni, error, size);
    case VSWITCH__REQUEST__COMMAND_STATS:
        return !req->stats->name
               || request_check_port_name(req->stats->name, error, size);
    case VSWITCH__REQUEST__COMMAND_ADD_FLOWS:
        return request_check_flow_lines(req->add_flows, error, size);
    case VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS:
        return request_check_flow_lines(req->replace_flows, error, size);
    case VSWITCH__REQUEST__COMMAND_DIFF_FLOWS:
        return request_check_flow_lines(req->diff_flows, error, size);
    case VSWITCH__REQUEST__COMMAND_TRACE:
        return request_check_trace(req->trace, error, size);
    case VSWITCH__REQUEST__COMMAND_CAPTURE:
        return request_check_capture(req->capture, error, size);
    case VSWITCH__REQUEST__COMMAND_MOD_FLOWS:
    case VSWITCH__REQUEST__COMMAND_DEL_FLOWS:
    case VSWITCH__REQUEST__COMMAND_DUMP_FLOWS:
        /* The flow text is the daemon's to read: only it knows the
         * ports' names. */
    case VSWITCH__REQUEST__COMMAND_SET_LOG_LEVEL:
        /* So are the log levels' names (switchd/log.c). */
    case VSWITCH__REQUEST__COMMAND_GET_LOG_LEVEL:
    case VSWITCH__REQUEST__COMMAND_PING:
    case VSWITCH__REQUEST__COMMAND_VERSION:
    case VSWITCH__REQUEST__COMMAND_SHOW:
    case VSWITCH__REQUEST__COMMAND_LIST_PORTS:
    case VSWITCH__REQUEST__COMMAND_LIST_VNIS:
    case VSWITCH__REQUEST__COMMAND_FDB_STATS:
    case VSWITCH__REQUEST__COMMAND_MONITOR:
        return true;
    case VSWITCH__REQUEST__COMMAND__NOT_SET:
    default:
        snprintf(error, size, "request names no command");
        return false;
    }
}
