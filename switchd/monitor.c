#include <config.h>

#include "monitor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "bridge.h"
#include "control.h"
#include "dp.h"
#include "dstring.h"
#include "eth-addr.h"
#include "flow-table.h"
#include "flow-text.h"
#include "frame.h"
#include "inet.h"
#include "list.h"
#include "log.h"
#include "mac-table.h"
#include "monitor-queue.h"
#include "xmalloc.h"

struct monitor_set {
    uv_loop_t *loop;
    struct bridge *bridge;
    struct list monitors;
    size_t n;
    uint64_t seq;               /* The last event's. */
    unsigned int observed;      /* Set of 1 << kind being observed. */
};

struct monitor {
    struct list node;           /* In set's 'monitors'. */
    struct monitor_set *set;
    struct control_request *req;
    unsigned int kinds;         /* Set of 1 << enum monitor_kind. */
    struct monitor_queue queue;
    /* The "present" events of --initial, sent before the queue's. */
    struct monitor_event **initial;
    size_t n_initial, i_initial, allocated;
    uv_check_t flusher;         /* Runs while a chunk waits. */
    /* Runs after a chunk was sent, so that the loop does not block while
     * the client took it all at once (its write completes on the next
     * turn, a wakeup of no event of its own). */
    uv_idle_t nudge;
    int n_handles_open;
};

struct monitor_set *
monitor_set_create(uv_loop_t *loop, struct bridge *bridge)
{
    struct monitor_set *set = xcalloc(1, sizeof *set);

    set->loop = loop;
    set->bridge = bridge;
    list_init(&set->monitors);
    return set;
}

static uint64_t
now_us(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (uint64_t) tv.tv_sec * 1000000 + (uint64_t) tv.tv_usec;
}

static void
on_flush(uv_check_t *check);

/* Numbers 'ev' (taken) and queues it for every monitor of its kind. */
static void
publish(struct monitor_set *set, struct monitor_event *ev)
{
    struct monitor *m;

    ev->seq = ++set->seq;
    ev->time_us = now_us();
    LIST_FOR_EACH (m, node, &set->monitors) {
        if (m->kinds & (1u << ev->kind)) {
            monitor_queue_push(&m->queue, ev);
            uv_check_start(&m->flusher, on_flush);
        }
    }
    monitor_event_unref(ev);
}

/* Sets '*port' of 'ev' to the name of the port 'dest' is, or '*remote'
 * to the address of the VTEP it is. */
static void
set_dest(struct monitor_set *set, struct monitor_event *ev,
         const struct mac_dest *dest, char **port, char **remote)
{
    char buf[INET_ADDR_STRLEN];

    if (dest->type == MAC_DEST_PORT) {
        const char *name = bridge_port_name(set->bridge, dest->port_no);

        monitor_event_set(ev, port, name ? name : "?");
    } else {
        monitor_event_set(ev, remote, inet_format(&dest->remote, buf));
    }
}

static struct monitor_event *
fdb_event(struct monitor_set *set, const char *action,
          const struct mac_table_entry_info *e, const struct mac_dest *from)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_FDB, action);
    char mac[ETH_ADDR_STRLEN];

    ev->has_vni = true;
    ev->vni = e->vni;
    ev->type = e->is_evpn ? "evpn" : e->is_static ? "static" : "dynamic";
    monitor_event_set(ev, &ev->mac, eth_addr_format(&e->mac, mac));
    set_dest(set, ev, &e->dest, &ev->port, &ev->remote);
    if (from) {
        set_dest(set, ev, from, &ev->from_port, &ev->from_remote);
    }
    return ev;
}

static void
on_mac_event(void *set_, enum mac_table_event event,
             const struct mac_table_entry_info *e,
             const struct mac_dest *from)
{
    static const char *const actions[] = {
        [MAC_EVENT_LEARNED] = "learned",
        [MAC_EVENT_MOVED] = "moved",
        [MAC_EVENT_AGED] = "aged",
        [MAC_EVENT_EVICTED] = "evicted",
        [MAC_EVENT_FLUSHED] = "flushed",
        [MAC_EVENT_ADDED] = "added",
        [MAC_EVENT_DELETED] = "deleted",
    };
    struct monitor_set *set = set_;

    publish(set, fdb_event(set, actions[event], e, from));
}

static struct monitor_event *
port_event(const char *action, const char *name, const char *type)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_PORT, action);

    monitor_event_set(ev, &ev->name, name);
    monitor_event_set(ev, &ev->port_type, type);
    return ev;
}

static struct monitor_event *
vni_event(const char *action, uint32_t vni)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_VNI, action);

    ev->has_vni = true;
    ev->vni = vni;
    return ev;
}

static void
on_bridge_event(void *set_, const struct bridge_event_info *info)
{
    static const char *const actions[] = {
        [BRIDGE_PORT_ADDED] = "added",
        [BRIDGE_PORT_REMOVED] = "removed",
        [BRIDGE_PORT_UP] = "up",
        [BRIDGE_PORT_DOWN] = "down",
        [BRIDGE_VNI_ADDED] = "added",
        [BRIDGE_VNI_REMOVED] = "removed",
        [BRIDGE_VNI_CHANGED] = "changed",
    };
    struct monitor_set *set = set_;
    const char *action = actions[info->event];
    bool is_port = info->name != NULL;

    if (set->observed & (1u << (is_port ? MONITOR_PORT : MONITOR_VNI))) {
        publish(set, is_port ? port_event(action, info->name, info->type)
                             : vni_event(action, info->vni));
    }
}

static struct monitor_event *
flow_event(struct monitor_set *set, const char *action,
           const struct flow_rule *r)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_FLOW, action);
    struct flow_text_ports ports;
    struct ds s;

    bridge_flow_ports(set->bridge, &ports);
    ev->has_rule = true;
    ev->table = r->table_id;
    ev->priority = r->cr.priority;
    ev->cookie = r->cookie;
    ds_init(&s);
    flow_text_format_match(&s, &r->cr.match, r->cr.priority, &ports);
    monitor_event_set(ev, &ev->match, ds_cstr(&s));
    ds_destroy(&s);
    ds_init(&s);
    flow_text_format_actions(&s, r->actions, &ports);
    monitor_event_set(ev, &ev->actions, ds_cstr(&s));
    ds_destroy(&s);
    return ev;
}

static void
on_flow_event(void *set_, enum flow_table_event event,
              const struct flow_rule *r)
{
    static const char *const actions[] = {
        [FLOW_EVENT_ADDED] = "added",
        [FLOW_EVENT_MODIFIED] = "modified",
        [FLOW_EVENT_REMOVED] = "removed",
        [FLOW_EVENT_EXPIRED] = "expired",
    };
    struct monitor_set *set = set_;

    publish(set, flow_event(set, actions[event], r));
}

/* Observes the sources of the kinds the monitors follow, and only
 * those. */
static void
update_observers(struct monitor_set *set)
{
    struct dp *dp = bridge_dp(set->bridge);
    unsigned int wanted = 0;
    struct monitor *m;

    LIST_FOR_EACH (m, node, &set->monitors) {
        wanted |= m->kinds;
    }
    set->observed = wanted;
    mac_table_set_observer(dp_mac_table(dp), wanted & (1u << MONITOR_FDB)
                           ? on_mac_event : NULL, set);
    flow_table_set_observer(dp_flow_table(dp), wanted & (1u << MONITOR_FLOW)
                            ? on_flow_event : NULL, set);
    bridge_set_observer(set->bridge, wanted & ((1u << MONITOR_PORT)
                                               | (1u << MONITOR_VNI))
                        ? on_bridge_event : NULL, set);
}

/* Fills 'pb' with 'ev', whose strings it shares. */
static void
event_to_msg(const struct monitor_event *ev, Vswitch__MonitorEvent *pb)
{
    vswitch__monitor_event__init(pb);
    pb->seq = ev->seq;
    pb->time_us = ev->time_us;
    pb->kind = (char *) monitor_kind_name(ev->kind);
    pb->action = (char *) ev->action;
    pb->has_vni = ev->has_vni;
    pb->vni = ev->vni;
    pb->type = (char *) ev->type;
    pb->mac = ev->mac;
    pb->port = ev->port;
    pb->remote = ev->remote;
    pb->from_port = ev->from_port;
    pb->from_remote = ev->from_remote;
    pb->name = ev->name;
    pb->port_type = ev->port_type;
    pb->has_table = pb->has_priority = pb->has_cookie = ev->has_rule;
    pb->table = ev->table;
    pb->priority = ev->priority;
    pb->cookie = ev->cookie;
    pb->match = ev->match;
    pb->actions = ev->actions;
    pb->has_count = pb->has_first_seq = ev->kind == MONITOR_MISSED;
    pb->count = ev->count;
    pb->first_seq = ev->first_seq;
}

static struct monitor_event *
next_event(struct monitor *m)
{
    if (m->i_initial < m->n_initial) {
        struct monitor_event *ev = m->initial[m->i_initial];

        m->initial[m->i_initial++] = NULL;
        return ev;
    }
    return monitor_queue_pop(&m->queue);
}

/* Packs a Response with up to MONITOR_CHUNK_EVENTS of the events 'm'
 * holds ('max' 0: none), and 'end' if it is the last.  Returns the frame
 * (freed by the control server's free_reply). */
static uint8_t *
pack_chunk(struct monitor *m, size_t max, const char *end, size_t *len)
{
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    Vswitch__MonitorChunk chunk = VSWITCH__MONITOR_CHUNK__INIT;
    struct monitor_event *evs[MONITOR_CHUNK_EVENTS];
    Vswitch__MonitorEvent *pbs = xcalloc(MONITOR_CHUNK_EVENTS, sizeof *pbs);
    Vswitch__MonitorEvent *ptrs[MONITOR_CHUNK_EVENTS];
    uint8_t *frame;
    size_t n = 0;

    while (n < max && n < MONITOR_CHUNK_EVENTS
           && (evs[n] = next_event(m)) != NULL) {
        event_to_msg(evs[n], &pbs[n]);
        ptrs[n] = &pbs[n];
        n++;
    }
    chunk.n_events = n;
    chunk.events = ptrs;
    chunk.end = (char *) end;
    resp.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    resp.status = VSWITCH__STATUS__STATUS_OK;
    resp.payload_case = VSWITCH__RESPONSE__PAYLOAD_MONITOR;
    resp.monitor = &chunk;
    /* A chunk is far below the largest response: only memory can fail,
     * which xmalloc() elsewhere does not survive either. */
    frame = frame_pack(&resp.base, FRAME_MAX_RESPONSE, len);
    if (!frame) {
        out_of_memory();
    }
    for (size_t i = 0; i < n; i++) {
        monitor_event_unref(evs[i]);
    }
    free(pbs);
    return frame;
}

static void
on_closed(uv_handle_t *handle)
{
    struct monitor *m = handle->data;

    if (--m->n_handles_open) {
        return;
    }
    while (m->i_initial < m->n_initial) {
        monitor_event_unref(m->initial[m->i_initial++]);
    }
    free(m->initial);
    monitor_queue_destroy(&m->queue);
    free(m);
}

/* Ends 'm' now, for reason 'why': the last chunk says so (or is only
 * freed if the client went away). */
static void
finish(struct monitor *m, const char *why)
{
    uint8_t *frame;
    size_t len;

    list_remove(&m->node);
    m->set->n--;
    update_observers(m->set);
    LOG_INFO("monitor", "monitor ended (%s): %llu events missed", why,
             (unsigned long long) m->queue.total_missed);
    frame = pack_chunk(m, 0, why, &len);
    control_reply(m->req, frame, len);
    uv_close((uv_handle_t *) &m->flusher, on_closed);
    uv_close((uv_handle_t *) &m->nudge, on_closed);
}

static void
on_nudge(uv_idle_t *idle)
{
    (void) idle;
}

/* Runs after the loop's I/O while 'm' holds events: sends a chunk once
 * the one before is written, so that a monitor holds at most one chunk in
 * the socket, the rest in its bounded queue. */
static void
on_flush(uv_check_t *check)
{
    struct monitor *m = check->data;
    uint8_t *frame;
    size_t len;

    if (control_unsent(m->req)) {
        /* Its completion wakes the loop. */
        uv_idle_stop(&m->nudge);
        return;
    }
    if (m->i_initial < m->n_initial || m->queue.n || m->queue.missed) {
        frame = pack_chunk(m, MONITOR_CHUNK_EVENTS, NULL, &len);
        control_send(m->req, frame, len);
        uv_idle_start(&m->nudge, on_nudge);
        return;
    }
    uv_idle_stop(&m->nudge);
    uv_check_stop(check);
}

static void
on_client_gone(void *aux)
{
    finish(aux, "client gone");
}

/* --initial. */

static void
add_initial(struct monitor *m, struct monitor_event *ev)
{
    if (m->n_initial == m->allocated) {
        m->allocated = m->allocated ? 2 * m->allocated : 64;
        m->initial = xrealloc(m->initial, m->allocated * sizeof *m->initial);
    }
    ev->seq = m->set->seq;
    ev->time_us = now_us();
    m->initial[m->n_initial++] = ev;
}

static void
initial_mac(const struct mac_table_entry_info *e, void *m_)
{
    struct monitor *m = m_;

    add_initial(m, fdb_event(m->set, "present", e, NULL));
}

static void
take_initial(struct monitor *m)
{
    struct monitor_set *set = m->set;
    const Vswitch__Config *c = bridge_config(set->bridge);
    struct dp *dp = bridge_dp(set->bridge);

    if (m->kinds & (1u << MONITOR_PORT)) {
        for (size_t i = 0; i < c->n_ports; i++) {
            add_initial(m, port_event("present", c->ports[i]->name,
                                      c->ports[i]->type));
        }
    }
    if (m->kinds & (1u << MONITOR_VNI)) {
        for (size_t i = 0; i < c->n_vnis; i++) {
            add_initial(m, vni_event("present", c->vnis[i]->vni));
        }
    }
    if (m->kinds & (1u << MONITOR_FLOW)) {
        size_t n;
        struct flow_rule **rules = flow_table_select(dp_flow_table(dp), NULL,
                                                     false, &n);

        for (size_t i = 0; i < n; i++) {
            add_initial(m, flow_event(set, "present", rules[i]));
        }
        free(rules);
    }
    if (m->kinds & (1u << MONITOR_FDB)) {
        mac_table_dump(dp_mac_table(dp), 0, (long long) uv_now(set->loop),
                       initial_mac, m);
    }
}

static unsigned int
kinds_of(const Vswitch__Monitor *req)
{
    unsigned int kinds = ((req->fdb ? 1u << MONITOR_FDB : 0)
                          | (req->ports ? 1u << MONITOR_PORT : 0)
                          | (req->vnis ? 1u << MONITOR_VNI : 0)
                          | (req->flows ? 1u << MONITOR_FLOW : 0));

    return kinds ? kinds : ((1u << MONITOR_FDB) | (1u << MONITOR_PORT)
                            | (1u << MONITOR_VNI) | (1u << MONITOR_FLOW));
}

Vswitch__Status
monitor_start(struct monitor_set *set, const Vswitch__Monitor *req,
              bool admin, struct control_request *creq, char *error,
              size_t error_size)
{
    size_t places = admin ? MONITOR_MAX : MONITOR_MAX - MONITOR_ADMIN_PLACES;
    struct monitor *m;
    uint8_t *frame;
    size_t len;

    if (set->n >= places) {
        snprintf(error, error_size, "%zu monitors are running, the most at "
                 "once%s", set->n, admin ? "" : " but for root's places");
        return VSWITCH__STATUS__STATUS_FAILED;
    }
    m = xcalloc(1, sizeof *m);
    m->set = set;
    m->req = creq;
    m->kinds = kinds_of(req);
    monitor_queue_init(&m->queue, MONITOR_QUEUE_EVENTS, MONITOR_QUEUE_BYTES);
    uv_check_init(set->loop, &m->flusher);
    m->flusher.data = m;
    uv_idle_init(set->loop, &m->nudge);
    m->nudge.data = m;
    m->n_handles_open = 2;
    if (req->initial) {
        take_initial(m);
    }
    list_push_back(&set->monitors, &m->node);
    set->n++;
    update_observers(set);
    control_stream(creq, on_client_gone, m);
    /* The first chunk, empty, says that the monitor runs. */
    frame = pack_chunk(m, 0, NULL, &len);
    control_send(creq, frame, len);
    if (m->n_initial) {
        uv_check_start(&m->flusher, on_flush);
    }
    LOG_INFO("monitor", "monitor started (%zu running)", set->n);
    return VSWITCH__STATUS__STATUS_OK;
}

void
monitor_set_destroy(struct monitor_set *set)
{
    struct monitor *m;

    if (!set) {
        return;
    }
    LIST_FOR_EACH_SAFE (m, node, &set->monitors) {
        finish(m, "vswitchd is stopping");
    }
    free(set);
}
