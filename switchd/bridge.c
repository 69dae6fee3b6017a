#include <config.h>

#include "bridge.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config-edit.h"
#include "config-index.h"
#include "eth-addr.h"
#include "flow-table.h"
#include "hash.h"
#include "hmap.h"
#include "headers.h"
#include "inet.h"
#include "link-monitor.h"
#include "list.h"
#include "log.h"
#include "packet.h"
#include "port.h"
#include "port-closer.h"
#include "request.h"
#include "xmalloc.h"

/* Enough buffers for a batch in flight on every port and then some; a
 * buffer holds a 64 KB frame, but only the pages a frame touches count. */
#define BRIDGE_POOL_PACKETS 4096

struct bridge_port {
    struct list node;           /* In bridge's 'ports'. */
    struct hmap_node name_node; /* In bridge's 'by_name'. */
    struct hmap_node no_node;   /* In bridge's 'by_no'. */
    struct list round_node;     /* In bridge's 'round'. */
    struct list wait_node;      /* In bridge's 'waiting' if 'waiting'. */
    struct list group_node;     /* In bridge's 'group_ports' if its class
                                 * joins groups, else itself. */
    bool waiting;               /* Down, and opened again at link events. */
    struct bridge *bridge;
    uint32_t port_no;
    const struct port_class *class;
    Vswitch__PortConfig *config;        /* What the port was built from. */
    struct port *port;          /* NULL while down. */
    char *error;                /* Why it is down; NULL if up. */
    uint64_t tx_while_down;     /* Frames for it while it was down. */
    struct port_stats closed;   /* What its devices counted, once closed. */
    int tunnel_error;           /* Last answer to its tunnel settings. */
    size_t groups_failed;       /* Multicast groups it could not join at
                                 * the last try (which tries again). */

    /* Input: a poll handle on the open device's descriptor and an idle
     * handle that runs while input may remain where the descriptor does
     * not show it: always for a port that has none (pcap), and after a
     * full batch for the others, whose port may hold frames it already
     * read (a train of datagrams).  The idle handle lives as long as the
     * port; its close callback frees the port. */
    uv_poll_t *poll;            /* NULL unless polling. */
    unsigned int poll_errors;   /* Error wakeups in a row. */
    uv_idle_t idle;
    bool idling;
    struct list taps;           /* Of struct bridge_tap. */
};

/* Where "ip netns" names namespaces: a TAP port attached through one of
 * these names lets go when it goes (port-tap.c). */
#define BRIDGE_NETNS_DIR "/run/netns"

struct bridge {
    uv_loop_t *loop;
    const char *owner;          /* Marks the devices this daemon makes. */
    const struct port_files *files;     /* How ports open files. */
    struct link_monitor *links; /* NULL if link events are not to be had. */
    uv_fs_event_t *netns_watch; /* NULL unless watching BRIDGE_NETNS_DIR. */
    struct packet_pool *pool;
    struct dp *dp;
    struct list ports;
    struct hmap by_name;        /* The ports by name, */
    struct hmap by_no;          /* and by datapath number. */
    struct list waiting;        /* Ports down that link events retry. */
    struct list group_ports;    /* Ports that join groups (VXLAN): a few
                                 * among thousands, asked per VNI. */

    /* Housekeeping checks every port once a BRIDGE_RUN_INTERVAL, a slice
     * of BRIDGE_RUN_SLICE_NS at a time: each check costs system calls,
     * and thousands of them at once would hold forwarding up.  The ports
     * go round: those checked move to the back. */
    struct list round;
    size_t round_left;          /* Ports this round has still to check. */
    long long next_round;       /* When the next one starts (ms). */
    uv_timer_t *round_timer;    /* Runs the round's next slice. */
    bool groups_dirty;          /* VNIs or ports changed: sync groups. */
    struct list reserved;       /* Of port_reservation. */
    unsigned int names_held;    /* bridge_hold_port_names() calls. */
    uint32_t next_port_no;
    const Vswitch__Config *config;      /* In effect: 'owned', or a step
                                         * its caller keeps. */
    Vswitch__Config *owned;     /* NULL while a step is in effect. */
    bridge_observer_cb *observer;       /* NULL: nobody listens. */
    void *observer_aux;
    struct port_closer *closer; /* Deleted ports, closed off the loop. */
    struct list after_closes;   /* Of struct closes_waiter. */
};

/* bridge_after_closes(). */
struct closes_waiter {
    struct list node;
    void (*cb)(void *aux);
    void *aux;
};

void
bridge_set_observer(struct bridge *b, bridge_observer_cb *cb, void *aux)
{
    b->observer = cb;
    b->observer_aux = aux;
}

static void
observe(const struct bridge *b, enum bridge_event event, const char *name,
        const char *type, uint32_t vni)
{
    if (b->observer) {
        struct bridge_event_info info = { event, name, type, vni };

        b->observer(b->observer_aux, &info);
    }
}

static void
observe_port(const struct bridge_port *port, enum bridge_event event)
{
    observe(port->bridge, event, port->config->name, port->config->type, 0);
}

/* A datapath number kept for the name of a port that does not exist, which
 * flow rules name: a port added under the name takes the number, so that
 * the rules apply to it. */
struct port_reservation {
    struct list node;           /* In bridge's 'reserved'. */
    char *name;
    uint32_t port_no;
};

/* The datapath sends every batch through this lookup: a walk over the
 * ports would cost forwarding the number of ports. */
static struct bridge_port *
find_port_no(const struct bridge *b, uint32_t port_no)
{
    struct bridge_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, no_node, hash_uint32(port_no),
                             &b->by_no) {
        if (port->port_no == port_no) {
            return port;
        }
    }
    return NULL;
}

/* Keeps the list of ports that link events open again up to date with
 * whether 'port' is down and of a class that waits for its device. */
static void
set_waiting(struct bridge_port *port, bool waiting)
{
    waiting = waiting && port->class->retry_on_link;
    if (waiting != port->waiting) {
        if (waiting) {
            list_push_back(&port->bridge->waiting, &port->wait_node);
        } else {
            list_remove(&port->wait_node);
        }
        port->waiting = waiting;
    }
}

/* Shows 'batch' of 'port' to its taps. */
static void
tap_batch(const struct bridge_port *port, const struct packet_batch *batch,
          bool out)
{
    struct bridge_tap *tap;

    LIST_FOR_EACH (tap, node, &port->taps) {
        if (tap->frames) {
            tap->frames(tap->aux, batch, out);
        }
    }
}

static void
send_to_port(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    struct bridge_port *port = find_port_no(aux, port_no);

    if (port && port->port) {
        if (!list_is_empty(&port->taps)) {
            tap_batch(port, batch, true);
        }
        port->class->send(port->port, batch);
    } else {
        if (port) {
            port->tx_while_down += batch->count;
        }
        packet_batch_free(batch);
    }
}

static void on_link_event(void *bridge, const char *name, bool exists);
static void on_closed_off_loop(const char *name, void *bridge);
static void watch_netns(struct bridge *);

struct bridge *
bridge_create(uv_loop_t *loop, const char *owner)
{
    struct bridge *b = calloc(1, sizeof *b);
    struct dp_callbacks cb = { .send = send_to_port };

    if (!b) {
        return NULL;
    }
    cb.aux = b;
    b->loop = loop;
    b->owner = owner;
    b->pool = packet_pool_create(BRIDGE_POOL_PACKETS);
    b->dp = b->pool ? dp_create(b->pool, 0, &cb) : NULL;
    b->config = b->owned = malloc(sizeof *b->owned);
    if (!b->dp || !b->owned) {
        bridge_destroy(b);
        return NULL;
    }
    vswitch__config__init(b->owned);
    b->owned->end_marker = true;
    list_init(&b->ports);
    hmap_init(&b->by_name);
    hmap_init(&b->by_no);
    list_init(&b->waiting);
    list_init(&b->group_ports);
    list_init(&b->round);
    b->round_timer = xmalloc(sizeof *b->round_timer);
    uv_timer_init(loop, b->round_timer);
    b->round_timer->data = b;
    list_init(&b->reserved);
    list_init(&b->after_closes);
    b->closer = port_closer_create(loop, on_closed_off_loop, b);
    b->next_port_no = 1;

    /* Without link events, ports notice a device that goes or comes back
     * only at housekeeping, once a second. */
    int error = link_monitor_create(loop, on_link_event, b, &b->links);

    if (error) {
        LOG_WARN("bridge", "cannot follow link events (%s): ports follow "
                 "their devices once a second", strerror(error));
    }
    watch_netns(b);
    return b;
}

static void
on_port_closed(uv_handle_t *handle)
{
    struct bridge_port *port = handle->data;

    protobuf_c_message_free_unpacked(&port->config->base, NULL);
    free(port->error);
    free(port);
}

static void
free_handle(uv_handle_t *handle)
{
    free(handle);
}

/* Adds what the device of 'port' counted to 'stats'. */
static void
add_device_stats(const struct bridge_port *port, struct port_stats *stats)
{
    stats->rx_errors += port->port->stats.rx_errors;
    stats->tx_errors += port->port->stats.tx_errors;
}

/* Stops reading from 'port' and closes its device; 'reason' (if not NULL)
 * says why it is now down.  'remove' also removes what the port created in
 * the system, for a port being deleted. */
static void
port_down(struct bridge_port *port, const char *reason, bool remove)
{
    if (port->port && reason) {
        observe_port(port, BRIDGE_PORT_DOWN);
    }
    if (port->poll) {
        /* Stopped before the descriptor closes, as libuv asks. */
        uv_poll_stop(port->poll);
        uv_close((uv_handle_t *) port->poll, free_handle);
        port->poll = NULL;
    }
    if (port->idling) {
        uv_idle_stop(&port->idle);
        port->idling = false;
    }
    if (port->port) {
        add_device_stats(port, &port->closed);
        if (remove) {
            port_closer_close(port->bridge->closer, port->config->name,
                              port->port, true);
        } else {
            port_close(port->port);
        }
        port->port = NULL;
    }
    set_waiting(port, true);
    if (reason) {
        free(port->error);
        port->error = xstrdup(reason);
    }
}

/* Takes 'port' out of the bridge; its memory goes once libuv has closed
 * its handles. */
static void reserve(struct bridge *, const char *name, uint32_t port_no);
static void free_reservation(struct port_reservation *);
static bool rules_use_port(const struct bridge *, uint32_t port_no);

static void
free_port(struct bridge *b, struct bridge_port *port, bool remove)
{
    struct bridge_tap *tap;

    LIST_FOR_EACH_SAFE (tap, node, &port->taps) {
        bridge_tap_detach(tap);
        tap->gone(tap->aux);
    }
    port_down(port, NULL, remove);
    set_waiting(port, false);
    dp_port_del(b->dp, port->port_no);
    if (remove && rules_use_port(b, port->port_no)) {
        /* The rules that name it apply again to a port of that name. */
        reserve(b, port->config->name, port->port_no);
    }
    list_remove(&port->node);
    list_remove(&port->group_node);
    list_remove(&port->round_node);
    hmap_remove(&b->by_name, &port->name_node);
    hmap_remove(&b->by_no, &port->no_node);
    if (b->round_left) {
        /* Which ports are left in the round is a guess now; the next
         * round checks them all. */
        b->round_left--;
    }
    uv_close((uv_handle_t *) &port->idle, on_port_closed);
}

void
bridge_destroy(struct bridge *b)
{
    if (!b) {
        return;
    }
    link_monitor_destroy(b->links);
    if (b->round_timer) {
        uv_timer_stop(b->round_timer);
        uv_close((uv_handle_t *) b->round_timer, free_handle);
    }
    if (b->netns_watch) {
        uv_fs_event_stop(b->netns_watch);
        uv_close((uv_handle_t *) b->netns_watch, free_handle);
    }
    if (b->dp) {
        struct bridge_port *port;

        /* Shutting down, not deleting: TAP devices stay for the next
         * start. */
        LIST_FOR_EACH_SAFE (port, node, &b->ports) {
            free_port(b, port, false);
        }
    }
    if (b->reserved.next) {     /* Not if bridge_create() failed early. */
        struct port_reservation *r;
        struct closes_waiter *w;

        LIST_FOR_EACH_SAFE (r, node, &b->reserved) {
            free_reservation(r);
        }
        LIST_FOR_EACH_SAFE (w, node, &b->after_closes) {
            free(w);
        }
    }
    port_closer_destroy(b->closer);
    hmap_destroy(&b->by_name);
    hmap_destroy(&b->by_no);
    dp_destroy(b->dp);
    packet_pool_destroy(b->pool);
    if (b->owned) {
        protobuf_c_message_free_unpacked(&b->owned->base, NULL);
    }
    free(b);
}

void
bridge_set_files(struct bridge *b, const struct port_files *files)
{
    b->files = files;
}

const Vswitch__Config *
bridge_config(const struct bridge *b)
{
    return b->config;
}

struct packet_pool *
bridge_packet_pool(const struct bridge *b)
{
    return b->pool;
}

struct dp *
bridge_dp(const struct bridge *b)
{
    return b->dp;
}

static struct bridge_port *
find_port(const struct bridge *b, const char *name)
{
    struct bridge_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, name_node, hash_string(name, 0),
                             &b->by_name) {
        if (!strcmp(port->config->name, name)) {
            return port;
        }
    }
    return NULL;
}

static void
vni_config_to_dp(const Vswitch__VniConfig *v, struct dp_vni_config *dc,
                 struct in6_addr *flood)
{
    memset(dc, 0, sizeof *dc);
    if (v->group) {
        inet_parse(v->group, &dc->group);
    }
    for (size_t i = 0; i < v->n_flood; i++) {
        inet_parse(v->flood[i], &flood[i]);
    }
    dc->flood_list = flood;
    dc->n_flood = v->n_flood;
    dc->ageing_s = v->has_ageing ? v->ageing : 0;
    dc->mac_limit = v->has_mac_limit ? v->mac_limit : 0;
    dc->learn_listed_only = request_vni_learns_from_list(v);
    dc->evpn = request_vni_is_evpn(v);
    if (v->learn_prefix) {
        inet_prefix_parse(v->learn_prefix, &dc->learn_prefix);
    }
}

static void
apply_vnis(struct bridge *b, const Vswitch__Config *old,
           const struct config_index *old_idx, const Vswitch__Config *new,
           const struct config_index *new_idx)
{
    for (size_t i = 0; i < old->n_vnis; i++) {
        if (!config_index_vni(new_idx, old->vnis[i]->vni)) {
            dp_vni_del(b->dp, old->vnis[i]->vni);
            observe(b, BRIDGE_VNI_REMOVED, NULL, NULL, old->vnis[i]->vni);
            b->groups_dirty = true;
        }
    }
    for (size_t i = 0; i < new->n_vnis; i++) {
        const Vswitch__VniConfig *v = new->vnis[i];
        const Vswitch__VniConfig *was = config_index_vni(old_idx, v->vni);
        struct in6_addr flood[DP_VNI_MAX_FLOOD];
        struct dp_vni_config dc;
        int error;

        /* Steps of a batch share the target's VNIs. */
        if (was && (was == v || config_equal(&was->base, &v->base))) {
            continue;
        }
        vni_config_to_dp(v, &dc, flood);
        error = dp_vni_set(b->dp, v->vni, &dc);
        b->groups_dirty = true;
        observe(b, was ? BRIDGE_VNI_CHANGED : BRIDGE_VNI_ADDED, NULL, NULL,
                v->vni);
        if (error) {
            LOG_ERR("bridge", "VNI %u: cannot configure: %s", v->vni,
                    strerror(error));
        }
    }
}

static void on_idle(uv_idle_t *);

/* A device that flaps takes its port down and up as often as it likes. */
static struct log_rate_limit flap_rl = LOG_RATE_LIMIT_INIT(30, 10);

/* Reports 'port' down for 'reason' (words). */
static void
report_down(struct bridge_port *port, const char *reason)
{
    LOG_WARN_RL(&flap_rl, "bridge", "port %s: %s", port->config->name,
                reason);
    port_down(port, reason, false);
}

/* Reports 'port' down because reading its device failed with 'error'. */
static void
device_broke(struct bridge_port *port, int error)
{
    bool deleted = port_error_is_device_gone(error);
    char reason[256];

    snprintf(reason, sizeof reason, "device gone: %s",
             deleted ? "interface deleted" : strerror(error));
    report_down(port, reason);
}

/* Asks the class of 'port', if up, whether its device is still there,
 * and reports it down if not.  Returns true if it is still up. */
static bool
check_port(struct bridge_port *port)
{
    char reason[PATH_MAX + 128];        /* A capture file's name, for one. */

    if (port->port && port->class->check
        && port->class->check(port->port, reason, sizeof reason)) {
        report_down(port, reason);
    }
    return port->port != NULL;
}

/* Has the loop call port_input() for 'port' on every iteration until it
 * finds nothing to read. */
static void
start_idling(struct bridge_port *port)
{
    if (!port->idling) {
        uv_idle_start(&port->idle, on_idle);
        port->idling = true;
    }
}

static void
port_input(struct bridge_port *port)
{
    struct bridge *b = port->bridge;
    struct packet_batch batch;
    int error;

    packet_batch_init(&batch);
    error = port->class->recv(port->port, b->pool, &batch);
    if (!error) {
        port->poll_errors = 0;
        if (packet_batch_is_full(&batch)) {
            start_idling(port);
        }
        if (!list_is_empty(&port->taps)) {
            tap_batch(port, &batch, false);
        }
        dp_receive(b->dp, port->port_no, &batch, (long long) uv_now(b->loop));
    } else if (error == EAGAIN) {
        if (port->idling) {
            uv_idle_stop(&port->idle);
            port->idling = false;
        }
    } else {
        device_broke(port, error);
    }
}

/* How many error wakeups in a row a port may have, with nothing read and
 * no socket error to take, before its descriptor is given up as broken. */
#define BRIDGE_MAX_POLL_ERRORS 1000

/* Takes the pending error off socket 'fd'.  Returns true if there was
 * one. */
static bool
take_socket_error(int fd)
{
    int error = 0;
    socklen_t len = sizeof error;

    return !getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) && error;
}

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    struct bridge_port *port = poll->data;

    (void) events;
    if (status >= 0) {
        port->poll_errors = 0;
        port_input(port);
        return;
    }

    /* libuv reports a socket error (POLLERR) as UV_EBADF and stops the
     * handle.  The error is often passing, such as ENETDOWN while an
     * interface bounces: it is taken off the socket, so that it does not
     * wake the loop again, and polling goes on.  Whether the device is
     * gone, the port's recv and check tell.  A descriptor that keeps
     * failing with no error to take off is given up. */
    if (!take_socket_error(port->class->fd(port->port))
        && ++port->poll_errors > BRIDGE_MAX_POLL_ERRORS) {
        port_down(port, uv_strerror(status), false);
        return;
    }
    port_input(port);
    if (port->poll == poll) {
        uv_poll_start(poll, UV_READABLE, on_readable);
    }
}

static void
on_idle(uv_idle_t *idle)
{
    port_input(idle->data);
}

/* Starts taking input from 'port': from its descriptor when readable, or
 * on every loop iteration while a port without one has input left. */
static void
start_input(struct bridge_port *port)
{
    int fd = port->class->fd(port->port);

    if (fd >= 0) {
        port->poll_errors = 0;
        port->poll = xmalloc(sizeof *port->poll);
        uv_poll_init(port->bridge->loop, port->poll, fd);
        port->poll->data = port;
        uv_poll_start(port->poll, UV_READABLE, on_readable);
    } else {
        start_idling(port);
    }
}

/* Gives the datapath the tunnel port's settings 'tc', which include the
 * MTU of its underlay device as it is now. */
static void
configure_tunnel(struct bridge *b, struct bridge_port *port,
                 const struct dp_tunnel_config *tc)
{
    int error = dp_tunnel_configure(b->dp, port->port_no, tc);

    /* This runs every second: say it once, when it starts or stops. */
    if (error != port->tunnel_error) {
        if (error) {
            LOG_ERR("bridge", "port %s: tunnel settings refused (MTU %u): "
                    "%s", port->config->name, tc->mtu, strerror(error));
        } else {
            LOG_INFO("bridge", "port %s: tunnel settings accepted",
                     port->config->name);
        }
        port->tunnel_error = error;
    }
}

/* Fills in 'args' from the configuration of 'port'; free with
 * config_free_port_args(). */
static void
make_args(const struct bridge *b, const struct bridge_port *port,
          struct port_args *args)
{
    if (!config_port_args(port->config, args)) {
        out_of_memory();
    }
    args->owner = b->owner;
    args->files = b->files;
}

/* Tells the datapath what the open 'port' takes, as its device has it
 * now. */
static void
port_settings_to_dp(struct bridge *b, struct bridge_port *port)
{
    struct dp_tunnel_config tc;

    if (port_tunnel_config(port->port, &tc)) {
        configure_tunnel(b, port, &tc);
    } else {
        dp_port_set_offloads(b->dp, port->port_no, port->port->offloads);
    }
}

/* Opens the device of 'port', which is down.  Returns true if it is up.
 * A failed 'retry' leaves the reason the port went down as it was: a
 * device deleted a moment ago is still "gone" rather than "missing". */
static bool
open_port(struct bridge *b, struct bridge_port *port, bool retry)
{
    struct port_args args;
    char error[256];
    int err;

    if (port_closer_busy(b->closer, port->config->name)) {
        /* Its device may still be there; on_closed_off_loop() opens the
         * port once it is not. */
        free(port->error);
        port->error = xstrdup("the device of the port deleted before it "
                              "is being closed");
        set_waiting(port, true);
        return false;
    }
    make_args(b, port, &args);
    err = port->class->open(&args, &port->port, error, sizeof error);
    config_free_port_args(&args);
    if (err) {
        /* Tried again at each link event: say it once. */
        if (!port->error || (!retry && strcmp(port->error, error))) {
            LOG_WARN("bridge", "port %s: %s", port->config->name, error);
            free(port->error);
            port->error = xstrdup(error);
        }
        set_waiting(port, true);
        return false;
    }
    set_waiting(port, false);
    free(port->error);
    port->error = NULL;
    if (port->port->offload_note[0]) {
        LOG_INFO("bridge", "port %s: %s", port->config->name,
                 port->port->offload_note);
    }
    port_settings_to_dp(b, port);
    start_input(port);
    return true;
}

static struct port_reservation *
find_reservation(const struct bridge *b, const char *name)
{
    struct port_reservation *r;

    LIST_FOR_EACH (r, node, &b->reserved) {
        if (!strcmp(r->name, name)) {
            return r;
        }
    }
    return NULL;
}

static void
free_reservation(struct port_reservation *r)
{
    list_remove(&r->node);
    free(r->name);
    free(r);
}

static void
reserve(struct bridge *b, const char *name, uint32_t port_no)
{
    struct port_reservation *r = xmalloc(sizeof *r);

    r->name = xstrdup(name);
    r->port_no = port_no;
    list_push_back(&b->reserved, &r->node);
}

/* Returns the number for a new port called 'name': the one kept for it,
 * or a new one. */
static uint32_t
take_reservation(struct bridge *b, const char *name)
{
    struct port_reservation *r = find_reservation(b, name);
    uint32_t port_no;

    if (!r) {
        return b->next_port_no++;
    }
    port_no = r->port_no;
    free_reservation(r);
    return port_no;
}

static bool
rule_uses_port(const struct flow_rule *rule, uint32_t port_no)
{
    const struct match *m = &rule->cr.match;

    return (m->mask.in_port && m->key.in_port == port_no)
           || flow_actions_use_port(rule->actions, port_no);
}

static bool
rules_use_port(const struct bridge *b, uint32_t port_no)
{
    size_t n;
    struct flow_rule **rules = flow_table_select(dp_flow_table(b->dp), NULL,
                                                 false, &n);
    bool used = false;

    for (size_t i = 0; i < n && !used; i++) {
        used = rule_uses_port(rules[i], port_no);
    }
    free(rules);
    return used;
}

static void
add_port(struct bridge *b, const Vswitch__PortConfig *pc)
{
    struct bridge_port *port = xcalloc(1, sizeof *port);

    port->config = config_clone(&pc->base);
    if (!port->config) {
        LOG_ERR("bridge", "port %s: out of memory", pc->name);
        free(port);
        return;
    }
    port->bridge = b;
    port->class = port_class_find(pc->type);
    port->port_no = take_reservation(b, pc->name);
    uv_idle_init(b->loop, &port->idle);
    port->idle.data = port;
    list_init(&port->taps);

    int error = dp_port_add(b->dp, port->port_no, port->class->dp_kind);

    if (error) {
        LOG_ERR("bridge", "port %s: %s", pc->name, strerror(error));
    }
    list_push_back(&b->ports, &port->node);
    list_push_back(&b->round, &port->round_node);
    list_init(&port->group_node);
    if (port_class_joins_groups(port->class)) {
        list_push_back(&b->group_ports, &port->group_node);
    }
    /* Buckets grow by doubling, a copy of pointers only. */
    if (hmap_insert(&b->by_name, &port->name_node,
                    hash_string(pc->name, 0))
        || hmap_insert(&b->by_no, &port->no_node,
                       hash_uint32(port->port_no))) {
        out_of_memory();
    }
    b->groups_dirty = true;
    observe_port(port, BRIDGE_PORT_ADDED);
    open_port(b, port, false);
    LOG_INFO("bridge", "port %s: added (%s)%s%s", pc->name, pc->type,
             port->error ? ", down: " : "", port->error ? port->error : "");
}

/* Puts the new options 'pc' of 'port' into effect without removing its
 * device, which only deleting the port does: in place where its class
 * can, else by closing it and opening it again.  Its number, and so the
 * MACs learned on it, stay. */
static void
update_port(struct bridge *b, struct bridge_port *port,
            const Vswitch__PortConfig *pc)
{
    Vswitch__PortConfig *config = config_clone(&pc->base);

    if (!config) {
        LOG_ERR("bridge", "port %s: out of memory", pc->name);
        return;
    }
    protobuf_c_message_free_unpacked(&port->config->base, NULL);
    port->config = config;
    if (port->port && port->class->update) {
        struct port_args args;
        char error[256];
        int err;

        make_args(b, port, &args);
        err = port->class->update(port->port, &args, error, sizeof error);
        config_free_port_args(&args);
        if (err) {
            /* Opening it again could make a new device where the old one
             * is out of reach (moved into a VM's namespace). */
            LOG_WARN("bridge", "port %s: %s", pc->name, error);
            port_down(port, error, false);
        } else {
            port_settings_to_dp(b, port);
            LOG_INFO("bridge", "port %s: options changed in place",
                     pc->name);
        }
        return;
    }
    port_down(port, NULL, false);
    open_port(b, port, false);
    b->groups_dirty = true;
    LOG_INFO("bridge", "port %s: opened again with new options%s%s",
             pc->name, port->error ? ", down: " : "",
             port->error ? port->error : "");
}

/* Makes existing 'port' what 'pc' says, NULL meaning removed, but for
 * its VNI (put_port()): a port of another type is another port. */
static void
reconcile_port(struct bridge *b, struct bridge_port *port,
               const Vswitch__PortConfig *pc)
{
    if (!pc || strcmp(pc->type, port->config->type)) {
        LOG_INFO("bridge", "port %s: removed", port->config->name);
        observe_port(port, BRIDGE_PORT_REMOVED);
        free_port(b, port, true);
    } else if (!config_same_options(pc, port->config)) {
        update_port(b, port, pc);
    }
}

/* Adds port 'pc' if there is none of its name, and binds it to its VNI. */
static void
put_port(struct bridge *b, const Vswitch__PortConfig *pc)
{
    struct bridge_port *port = find_port(b, pc->name);

    if (!port) {
        add_port(b, pc);
        port = find_port(b, pc->name);
    }
    if (port && port->class->dp_kind == DP_PORT_LOCAL) {
        dp_port_bind(b->dp, port->port_no, pc->has_vni ? pc->vni : 0);
        port->config->has_vni = pc->has_vni;
        port->config->vni = pc->vni;
    }
}

static void
apply_ports(struct bridge *b, const Vswitch__Config *new,
            const struct config_index *new_idx)
{
    struct bridge_port *port;

    LIST_FOR_EACH_SAFE (port, node, &b->ports) {
        reconcile_port(b, port, config_index_port(new_idx,
                                                  port->config->name));
    }
    for (size_t i = 0; i < new->n_ports; i++) {
        put_port(b, new->ports[i]);
    }
}

static bool
static_mac_dest(const struct bridge *b, const Vswitch__StaticMac *m,
                struct eth_addr *mac, struct mac_dest *dest)
{
    memset(dest, 0, sizeof *dest);
    if (!eth_addr_parse(m->mac, mac)) {
        return false;
    }
    if (m->port) {
        dest->type = MAC_DEST_PORT;
        dest->port_no = bridge_port_no(b, m->port);
        return dest->port_no != 0;
    }
    dest->type = MAC_DEST_REMOTE;
    return m->remote && inet_parse(m->remote, &dest->remote);
}

static void
remove_stale_statics(struct bridge *b, const Vswitch__Config *old,
                     const struct config_index *new_idx)
{
    struct mac_table *macs = dp_mac_table(b->dp);

    for (size_t i = 0; i < old->n_static_macs; i++) {
        const Vswitch__StaticMac *m = old->static_macs[i];
        struct eth_addr mac;

        if (!config_index_has_static(new_idx, m)
            && eth_addr_parse(m->mac, &mac)) {
            mac_table_del(macs, m->vni, &mac);
        }
    }
}

static void
add_static(struct bridge *b, const Vswitch__StaticMac *m)
{
    struct mac_dest dest;
    struct eth_addr mac;

    if (!static_mac_dest(b, m, &mac, &dest)
        || mac_table_add_static(dp_mac_table(b->dp), m->vni, &mac, &dest)) {
        LOG_WARN("bridge", "static entry %s in VNI %u not installed",
                 m->mac, m->vni);
    }
}

static void
add_statics(struct bridge *b, const Vswitch__Config *new)
{
    for (size_t i = 0; i < new->n_static_macs; i++) {
        add_static(b, new->static_macs[i]);
    }
}

/* Makes the open 'port' a member of the groups the VNIs of 'config' flood
 * to, if its type joins groups (a VXLAN port).  What it could not join it
 * says once, when that changes; each VNI shows its own group's state. */
static void
sync_port_groups(struct bridge_port *port, const Vswitch__Config *config)
{
    struct in6_addr *groups;
    size_t n = 0, joined, failed;
    int error;

    if (!port_class_joins_groups(port->class)) {
        return;
    }
    groups = xcalloc(config->n_vnis + 1, sizeof *groups);
    for (size_t i = 0; i < config->n_vnis; i++) {
        const char *group = config->vnis[i]->group;

        if (group && inet_parse(group, &groups[n])) {
            n++;
        }
    }
    error = port_set_groups(port->port, groups, n);
    free(groups);
    port_group_counts(port->port, &joined, &failed);
    if (failed != port->groups_failed && failed) {
        LOG_WARN("bridge", "port %s: %zu of %zu multicast groups not "
                 "joined (%s); trying again every %d ms",
                 port->config->name, failed, joined + failed,
                 strerror(error), BRIDGE_RUN_INTERVAL);
    } else if (failed != port->groups_failed) {
        LOG_INFO("bridge", "port %s: all %zu multicast groups joined",
                 port->config->name, joined);
    }
    port->groups_failed = failed;
}

/* Makes every open port a member of the groups it should be in. */
static void
sync_groups(struct bridge *b, const Vswitch__Config *config)
{
    struct bridge_port *port;

    LIST_FOR_EACH (port, group_node, &b->group_ports) {
        if (port->port) {
            sync_port_groups(port, config);
        }
    }
}

/* Makes 'config' (the caller's if 'owned' is NULL, else 'owned' itself)
 * the configuration in effect, after the rest is done. */
static void
take_config(struct bridge *b, const Vswitch__Config *config,
            Vswitch__Config *owned)
{
    /* The groups change only with the VNIs or with a port (re)opened. */
    if (b->groups_dirty) {
        sync_groups(b, config);
        b->groups_dirty = false;
    }
    if (b->owned) {
        protobuf_c_message_free_unpacked(&b->owned->base, NULL);
    }
    b->config = config;
    b->owned = owned;
}

/* Every lookup from one configuration into the other goes through a hash
 * index: a batch puts thousands of ports into effect in steps, each a
 * reconfiguration, and linear lookups made each step cost the square of
 * the configuration's size. */
static void
reconfigure(struct bridge *b, const Vswitch__Config *config,
            Vswitch__Config *owned)
{
    const Vswitch__Config *old = b->config;
    struct config_index old_idx, new_idx;

    config_index_init(&old_idx, old);
    config_index_init(&new_idx, config);
    /* Statics go first, while the ports they name still exist, and come
     * back last, once the ports they name do. */
    remove_stale_statics(b, old, &new_idx);
    apply_vnis(b, old, &old_idx, config, &new_idx);
    apply_ports(b, config, &new_idx);
    add_statics(b, config);
    config_index_destroy(&old_idx);
    config_index_destroy(&new_idx);
    take_config(b, config, owned);
}

void
bridge_reconfigure(struct bridge *b, Vswitch__Config *config)
{
    reconfigure(b, config, config);
}

void
bridge_reconfigure_step(struct bridge *b, const Vswitch__Config *step)
{
    reconfigure(b, step, NULL);
}

void
bridge_adopt_config(struct bridge *b, Vswitch__Config *config)
{
    take_config(b, config, config);
}

void
bridge_reconfigure_delta(struct bridge *b, const Vswitch__Config *step,
                         const Vswitch__PortConfig *const *ports,
                         size_t n_ports,
                         const Vswitch__StaticMac *const *macs,
                         size_t n_macs)
{
    for (size_t i = 0; i < n_ports; i++) {
        struct bridge_port *port = find_port(b, ports[i]->name);

        if (port) {
            reconcile_port(b, port, ports[i]);
        }
        put_port(b, ports[i]);
    }
    for (size_t i = 0; i < n_macs; i++) {
        add_static(b, macs[i]);
    }
    take_config(b, step, NULL);
}

bool
bridge_port_state(const struct bridge *b, const char *name,
                  struct bridge_port_state *state)
{
    const struct bridge_port *port = find_port(b, name);
    const struct bridge_tap *tap;

    if (!port) {
        return false;
    }
    memset(state, 0, sizeof *state);
    state->up = port->port != NULL;
    state->error = port->error;
    dp_port_get_counters(b->dp, port->port_no, &state->counters);
    /* The errors that took a port down stay counted once it is. */
    state->device = port->closed;
    if (port->port) {
        add_device_stats(port, &state->device);
        state->offloads = port->port->offloads;
        state->offload_note = port->port->offload_note;
        if (port_class_joins_groups(port->class)) {
            state->has_groups = true;
            port_group_counts(port->port, &state->groups_joined,
                              &state->groups_failed);
        }
    }
    state->tx_while_down = port->tx_while_down;
    LIST_FOR_EACH (tap, node, &port->taps) {
        state->n_taps++;
    }
    return true;
}

int
bridge_group_state(const struct bridge *b, const struct in6_addr *group,
                   char *reason, size_t reason_size)
{
    const struct bridge_port *port;

    LIST_FOR_EACH (port, group_node, &b->group_ports) {
        if (!port->port) {
            snprintf(reason, reason_size, "port %s is down",
                     port->config->name);
            return ENETDOWN;
        }
        return port_group_state(port->port, group, reason, reason_size);
    }
    snprintf(reason, reason_size, "no port joins groups");
    return ENODEV;
}

int
bridge_tap_attach(struct bridge *b, const char *name,
                  struct bridge_tap *tap)
{
    struct bridge_port *port = find_port(b, name);

    if (!port) {
        return ENOENT;
    }
    list_push_back(&port->taps, &tap->node);
    return 0;
}

void
bridge_tap_detach(struct bridge_tap *tap)
{
    list_remove(&tap->node);    /* A detached node points at itself. */
}

int
bridge_port_replay(struct bridge *b, const char *name, char *error,
                   size_t error_size)
{
    struct bridge_port *port = find_port(b, name);
    int err;

    if (!port || !port->port) {
        snprintf(error, error_size, port ? "port %s is down" : "no port %s",
                 name);
        return port ? ENETDOWN : ENOENT;
    }
    err = port_replay(port->port, error, error_size);
    if (!err) {
        start_idling(port);
    }
    return err;
}

const char *
bridge_port_name(const struct bridge *b, uint32_t port_no)
{
    const struct bridge_port *port = find_port_no(b, port_no);

    return port ? port->config->name : NULL;
}

uint32_t
bridge_port_no(const struct bridge *b, const char *name)
{
    const struct bridge_port *port = find_port(b, name);

    return port ? port->port_no : 0;
}

static uint32_t
flow_port_no(void *bridge, const char *name)
{
    struct bridge *b = bridge;
    struct port_reservation *r;
    uint32_t port_no = bridge_port_no(b, name);

    if (port_no || !port_option_is_ifname(name)) {
        return port_no;
    }
    r = find_reservation(b, name);
    if (!r) {
        reserve(b, name, b->next_port_no++);
        r = find_reservation(b, name);
    }
    return r->port_no;
}

static const char *
flow_port_name(void *bridge, uint32_t port_no)
{
    const struct bridge *b = bridge;
    const char *name = bridge_port_name(b, port_no);
    struct port_reservation *r;

    if (!name) {
        LIST_FOR_EACH (r, node, &b->reserved) {
            if (r->port_no == port_no) {
                return r->name;
            }
        }
    }
    return name;
}

void
bridge_flow_ports(struct bridge *b, struct flow_text_ports *ports)
{
    ports->port_no = flow_port_no;
    ports->port_name = flow_port_name;
    ports->aux = b;
}

void
bridge_hold_port_names(struct bridge *b)
{
    b->names_held++;
}

void
bridge_release_port_names(struct bridge *b)
{
    b->names_held--;
}

void
bridge_reclaim_port_names(struct bridge *b)
{
    struct port_reservation *r;
    struct flow_rule **rules;
    size_t n;

    if (list_is_empty(&b->reserved) || b->names_held) {
        return;
    }
    rules = flow_table_select(dp_flow_table(b->dp), NULL, false, &n);
    LIST_FOR_EACH_SAFE (r, node, &b->reserved) {
        bool used = false;

        for (size_t i = 0; i < n && !used; i++) {
            used = rule_uses_port(rules[i], r->port_no);
        }
        if (!used) {
            free_reservation(r);
        }
    }
    free(rules);
}

/* Opens 'port' again if it is down, 'retry' as open_port() takes it. */
static void
revive(struct bridge *b, struct bridge_port *port, bool retry)
{
    if (!port->port && open_port(b, port, retry)) {
        LOG_INFO_RL(&flap_rl, "bridge", "port %s: up again",
                    port->config->name);
        observe_port(port, BRIDGE_PORT_UP);
        sync_port_groups(port, b->config);
    }
}

/* A port deleted is closed: a new port of its name may open now. */
static void
on_closed_off_loop(const char *name, void *b_)
{
    struct bridge *b = b_;
    struct bridge_port *port = find_port(b, name);
    struct closes_waiter *w;

    if (port && !port->port && open_port(b, port, false)) {
        LOG_INFO("bridge", "port %s: up, the device of the port deleted "
                 "before it gone", name);
        observe_port(port, BRIDGE_PORT_UP);
        sync_port_groups(port, b->config);
    }
    if (!port_closer_n_busy(b->closer)) {
        struct list ready;

        /* A waiter may delete ports again, and wait again. */
        list_init(&ready);
        LIST_FOR_EACH_SAFE (w, node, &b->after_closes) {
            list_move_back(&ready, &w->node);
        }
        while (!list_is_empty(&ready)) {
            w = CONTAINER_OF(list_front(&ready), struct closes_waiter, node);
            list_remove(&w->node);
            w->cb(w->aux);
            free(w);
        }
    }
}

bool
bridge_after_closes(struct bridge *b, void (*cb)(void *aux), void *aux)
{
    struct closes_waiter *w;

    if (!port_closer_n_busy(b->closer)) {
        return false;
    }
    w = xmalloc(sizeof *w);
    w->cb = cb;
    w->aux = aux;
    list_push_back(&b->after_closes, &w->node);
    return true;
}

int
bridge_port_revive(struct bridge *b, const char *name)
{
    struct bridge_port *port = find_port(b, name);

    if (!port) {
        return ENOENT;
    }
    revive(b, port, false);
    return port->port ? 0 : ENODEV;
}

/* One port's part of a link event: checks it if it is up, and opens it
 * again if it is down and 'exists'.  A device deleted and made again at
 * once is another device, which the port must open again. */
static void
link_event_port(struct bridge *b, struct bridge_port *port, bool exists)
{
    if (!check_port(port) && exists && port->class->retry_on_link) {
        revive(b, port, true);
    }
}

/* Checks the port of interface 'name' (NULL: every port) if it is up,
 * and opens again the ports that are down because what they open was
 * missing ('retry_on_link'), now that 'name' exists.  Only the port of
 * that name: opening thousands of ports (a batch) brings as many events,
 * and a check of every port for each would cost the square of their
 * number in system calls; the others wait for housekeeping
 * (bridge_run()), a second at most. */
static void
on_link_event(void *b_, const char *name, bool exists)
{
    struct bridge *b = b_;
    struct bridge_port *port;

    if (!name) {
        LIST_FOR_EACH_SAFE (port, node, &b->ports) {
            link_event_port(b, port, true);
        }
        return;
    }
    port = find_port(b, name);
    if (port) {
        link_event_port(b, port, exists);
    }
    if (exists) {
        LIST_FOR_EACH_SAFE (port, wait_node, &b->waiting) {
            if (strcmp(port->config->name, name)) {
                revive(b, port, true);
            }
        }
    }
}

static void start_round(struct bridge *, long long now_ms);

/* Any namespace made or deleted, by anyone on the host: a round of
 * checks, in slices, rather than a check of every port at once. */
static void
on_netns_change(uv_fs_event_t *handle, const char *filename, int events,
                int status)
{
    struct bridge *b = handle->data;

    (void) filename;
    (void) events;
    (void) status;
    start_round(b, (long long) uv_now(b->loop));
}

/* Watches BRIDGE_NETNS_DIR, so that a port lets go of a namespace as soon
 * as its name is deleted rather than at the next housekeeping. */
static void
watch_netns(struct bridge *b)
{
    uv_fs_event_t *watch = xmalloc(sizeof *watch);

    uv_fs_event_init(b->loop, watch);
    watch->data = b;
    if (uv_fs_event_start(watch, on_netns_change, BRIDGE_NETNS_DIR, 0)) {
        uv_close((uv_handle_t *) watch, free_handle);
        return;
    }
    b->netns_watch = watch;
}

/* Housekeeping of one port: a device can go without its descriptor
 * saying so; an operator who raises the underlay's MTU for jumbo frames
 * expects the VTEP to follow without being told. */
static void
housekeep_port(struct bridge *b, struct bridge_port *port)
{
    if (check_port(port)) {
        port_settings_to_dp(b, port);
    } else if (!port->port && port->class->retry_on_link) {
        /* Link events bring ports back at once; asking as well covers a
         * daemon that cannot have them, and anything the events did not
         * say. */
        revive(b, port, true);
    }
    /* A group that could not be joined may be now: a device came back, a
     * route appeared, the operator raised a limit. */
    if (port->port && port->groups_failed) {
        sync_port_groups(port, b->config);
    }
}

static void on_round_timer(uv_timer_t *);

/* Checks the ports of the round under way for about BRIDGE_RUN_SLICE_NS,
 * and has the rest checked a millisecond later, after the loop has had a
 * turn. */
static void
run_round(struct bridge *b)
{
    uint64_t start = uv_hrtime();

    while (b->round_left && uv_hrtime() - start < BRIDGE_RUN_SLICE_NS) {
        struct bridge_port *port = CONTAINER_OF(list_front(&b->round),
                                                struct bridge_port,
                                                round_node);

        list_remove(&port->round_node);
        list_push_back(&b->round, &port->round_node);
        b->round_left--;
        housekeep_port(b, port);
    }
    if (b->round_left) {
        uv_timer_start(b->round_timer, on_round_timer, 1, 0);
    }
}

static void
on_round_timer(uv_timer_t *timer)
{
    run_round(timer->data);
}

/* Starts a round over every port (again, if one is under way). */
static void
start_round(struct bridge *b, long long now_ms)
{
    b->round_left = hmap_count(&b->by_name);
    b->next_round = now_ms + BRIDGE_RUN_INTERVAL;
    run_round(b);
}

long long
bridge_run(struct bridge *b, long long now_ms)
{
    if (!b->round_left && now_ms >= b->next_round) {
        start_round(b, now_ms);
    }
    /* /run/netns appears with the first "ip netns add" after boot. */
    if (!b->netns_watch) {
        watch_netns(b);
    }
    return MIN(dp_run_ageing(b->dp, now_ms), b->next_round);
}
