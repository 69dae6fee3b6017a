#include <config.h>

#include "rpc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bridge.h"
#include "capture-path.h"
#include "config-edit.h"
#include "config-index.h"
#include "config-steps.h"
#include "config-store.h"
#include "control.h"
#include "dstring.h"
#include "eth-addr.h"
#include "evpn-batch.h"
#include "fdb-dump.h"
#include "flow-dump.h"
#include "flow-rpc.h"
#include "flow-trace.h"
#include "frame.h"
#include "inet.h"
#include "list.h"
#include "live-capture.h"
#include "monitor.h"
#include "log.h"
#include "loop-watch.h"
#include "mac-table.h"
#include "util.h"
#include "port-offload.h"
#include "request.h"
#include "xmalloc.h"

#define OK VSWITCH__STATUS__STATUS_OK

/* A handler's status when it answers later, from a worker's completion. */
#define IN_PROGRESS ((Vswitch__Status) -1)

/* A handler's status when another module answers the request from now
 * on (a live capture). */
#define HANDED_OVER ((Vswitch__Status) -2)

/* fdb-show copies about this many entries of the MAC table per loop turn,
 * about a millisecond's work. */
#define RPC_DUMP_SLICE 8192

/* dump-flows copies about this many rules per loop turn. */
#define RPC_FLOW_DUMP_SLICE 4096

/* A change of flows prepares about this many lines or rules per loop
 * turn, a few milliseconds' work. */
#define RPC_FLOW_CHANGE_SLICE 1024

/* A batch puts its new or changed ports into effect a slice a loop turn
 * (config-steps.h): opening a TAP device takes the kernel a millisecond
 * or more, and more on a busy host.  The first slice is RPC_APPLY_SLICE
 * ports; each next one is sized from the time the last took so that a
 * step costs about RPC_APPLY_BUDGET_NS, at most twice the last and
 * RPC_APPLY_MAX_SLICE.  A batch with no more new or changed ports than
 * the first slice goes into effect at once. */
#define RPC_APPLY_SLICE 16
#define RPC_APPLY_MAX_SLICE 1024
#define RPC_APPLY_BUDGET_NS 3000000

/* A batch of EVPN commands is put into effect this many commands in the
 * first loop turn, then as many as fit RPC_APPLY_BUDGET_NS, at most
 * RPC_EVPN_MAX_SLICE a turn.  One that is no longer goes at once. */
#define RPC_EVPN_SLICE 4096
#define RPC_EVPN_MAX_SLICE 65536

/* fdb-flush removes about this many entries of the MAC table per loop
 * turn, a few milliseconds' work with a table too big for the caches. */
#define RPC_FLUSH_SLICE 8192

/* A request this large is unpacked, checked and freed by a worker: a
 * batch of 220,000 lines takes the loop a good part of a second to
 * unpack. */
#define RPC_DECODE_IN_WORKER (64 * 1024)

/* The nice value of worker threads building answers. */
#define RPC_WORKER_NICE 10

struct rpc {
    uv_loop_t *loop;
    struct bridge *bridge;
    char *db_path;
    struct flow_store *flows;   /* The permanent rules, saved. */
    const struct capture_path *capture;     /* Files clients may name. */
    struct list waiting;        /* Changes waiting for 'changing' to end. */
    bool changing;              /* A change is being made (saved). */
    struct list dumps;          /* fdb-show calls waiting for memory. */
    struct list copying;        /* fdb-show calls copying the table. */
    struct rpc_call *preparing; /* The change of flows being prepared. */
    struct rpc_call *applying;  /* The batch being put into effect. */
    struct rpc_call *evpn_applying;     /* The EVPN batch, likewise. */
    struct list flushing;       /* fdb-flush calls under way, in slices. */
    uv_idle_t copier;           /* Runs while 'copying' is not empty or a
                                 * change is being prepared. */
    bool copier_closed;
    size_t n_working;           /* Calls in a worker thread. */
    struct live_capture_set *captures;
    struct monitor_set *monitors;
    struct loop_watch *turns;   /* The loop's longest turn, for the log. */
    bool stopping;              /* rpc_destroy() has begun. */
};

struct rpc_command;

/* One request being handled. */
struct rpc_call {
    struct rpc *rpc;
    const struct rpc_command *command;
    Vswitch__Request *req;
    Vswitch__Response *resp;
    struct control_request *creq;
    char *peer_name;
    struct capture_client peer; /* Whose files it may name. */
    char *denied;               /* Why it may not change anything, or NULL
                                 * if it may. */
    uint8_t *msg;               /* A large request, for a worker to */
    size_t msg_len;             /* decode(); */
    bool large;                 /* freed by a worker too. */
    Vswitch__Status decoded;    /* What decode() found. */
    struct list node;           /* In a list of rpc's. */
    uv_work_t work;
    struct config_edit edit;
    struct fdb_dump *dump;
    struct flow_dump *flow_dump;
    struct flow_change *flow_change;
    uint8_t *frame;             /* Packed by the worker. */
    size_t frame_len;
    int save_error;
    bool has_turn;              /* The change being made. */
    Vswitch__Status closing_status; /* Its status while the devices of
                                     * the ports it deleted close
                                     * (finish()), */
    uint64_t closing_ns;            /* since then (uv_hrtime()), and */
    uint64_t closes_ns;             /* how long its answer waited. */
    struct live_capture *capture;       /* Being compiled. */
    Vswitch__Status capture_status;
    bool *unmatched;            /* A batch's fdb-del lines without a
                                 * static entry (config_edit_batch()). */
    Vswitch__Status batch_status;   /* The batch's edit, from a worker. */
    struct config_steps *steps;     /* The batch being put into effect, */
    Vswitch__Config *target;        /* saved, a few ports per turn: */
    size_t slice;                   /* ports a step; */
    unsigned int n_steps;           /* steps so far; */
    uint64_t longest_ns;            /* the longest step; */
    uint64_t longest_turn_ns;       /* the loop's longest turn. */
    struct evpn_batch *evpn;        /* An EVPN batch, a slice per turn. */
    struct mac_table_flush *flush;  /* fdb-flush, a slice per turn (also */
    uint64_t flushed;               /* n_steps, longest*): so far. */
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
        out_of_memory();
    }
    return copy;
}

/* Names the offloads of set 'offloads' in '*names', '*n' of them. */
static void
offloads_msg(uint32_t offloads, char ***names, size_t *n)
{
    *names = xcalloc((size_t) __builtin_popcount(PORT_OFFLOAD_ALL),
                     sizeof **names);
    *n = 0;
    for (uint32_t bit = 1; bit & PORT_OFFLOAD_ALL; bit <<= 1) {
        if (offloads & bit) {
            (*names)[(*n)++] = xstrdup(port_offload_name(bit));
        }
    }
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
    offloads_msg(state.offloads, &m->offloads, &m->n_offloads);
    m->offload_note = state.offload_note && *state.offload_note
                      ? xstrdup(state.offload_note) : NULL;
    m->has_captures = state.n_taps > 0;
    m->captures = state.n_taps;
    m->has_groups_joined = m->has_groups_not_joined = state.has_groups;
    m->groups_joined = (uint32_t) MIN(state.groups_joined, UINT32_MAX);
    m->groups_not_joined = (uint32_t) MIN(state.groups_failed, UINT32_MAX);
    return m;
}

/* Fills in whether the group of VNI 'vc', if it has one, is joined. */
static void
vni_group_msg(const struct bridge *b, const Vswitch__VniConfig *vc,
              Vswitch__VniStatus *m)
{
    struct in6_addr group;
    char reason[128];

    if (vc->group && inet_parse(vc->group, &group)) {
        m->has_group_joined = true;
        m->group_joined = !bridge_group_state(b, &group, reason,
                                              sizeof reason);
        m->group_error = m->group_joined ? NULL : xstrdup(reason);
    }
}

static void
evpn_status_msg(const struct bridge *b, Vswitch__VniStatus *m)
{
    size_t n;
    const struct in6_addr *vteps = dp_evpn_vteps(bridge_dp(b),
                                                 m->config->vni, &n);
    char buf[INET_ADDR_STRLEN];

    m->evpn_vteps = xcalloc(n ? n : 1, sizeof *m->evpn_vteps);
    for (size_t i = 0; i < n; i++) {
        m->evpn_vteps[m->n_evpn_vteps++] = xstrdup(inet_format(&vteps[i],
                                                               buf));
    }
    m->has_evpn_macs = true;
    m->evpn_macs = mac_table_n_evpn(dp_mac_table(bridge_dp(b)),
                                    m->config->vni);
}

/* The status of VNI 'vc', whose ports (names to copy) the caller has
 * found: 'n_ports' of them in 'ports'. */
static Vswitch__VniStatus *
vni_status_msg(const struct bridge *b, const Vswitch__VniConfig *vc,
               const char **ports, size_t n_ports)
{
    Vswitch__VniStatus *m = xmalloc(sizeof *m);
    struct dp_counters counters;
    unsigned int ageing = 0;
    size_t limit = 0, n_dynamic = 0, n_static = 0;

    vswitch__vni_status__init(m);
    m->config = clone_or_die(&vc->base);
    m->ports = xcalloc(n_ports + 1, sizeof *m->ports);
    for (size_t i = 0; i < n_ports; i++) {
        m->ports[m->n_ports++] = xstrdup(ports[i]);
    }
    mac_table_get_vni(dp_mac_table(bridge_dp(b)), vc->vni, &ageing, &limit,
                      &n_dynamic, &n_static);
    m->ageing = ageing;
    m->mac_limit = limit;
    m->dynamic_macs = n_dynamic;
    m->static_macs = n_static;
    if (request_vni_is_evpn(vc)) {
        evpn_status_msg(b, m);
    }
    if (!dp_vni_get_counters(bridge_dp(b), vc->vni, &counters)) {
        memset(&counters, 0, sizeof counters);
    }
    m->counters = counters_msg(&counters, NULL);
    vni_group_msg(b, vc, m);
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

/* The ports of each VNI are gathered in one pass over the ports: a pass
 * per VNI would cost thousands of VNIs the square of their number. */
static void
vnis_msg(const struct bridge *b, Vswitch__VniStatus ***vnis, size_t *n)
{
    const Vswitch__Config *c = bridge_config(b);
    size_t *first = xcalloc(c->n_vnis + 1, sizeof *first);
    const char **names = xcalloc(c->n_ports + 1, sizeof *names);
    size_t *vni_of = xcalloc(c->n_ports + 1, sizeof *vni_of);
    struct config_index idx;

    /* Counting sort of the ports by the position of their VNI: 'first'
     * ends up as where each VNI's names start in 'names'. */
    config_index_init(&idx, c);
    for (size_t i = 0; i < c->n_ports; i++) {
        const Vswitch__PortConfig *pc = c->ports[i];

        vni_of[i] = pc->has_vni ? config_index_vni_pos(&idx, pc->vni)
                                : SIZE_MAX;
        if (vni_of[i] != SIZE_MAX) {
            first[vni_of[i] + 1]++;
        }
    }
    config_index_destroy(&idx);
    for (size_t v = 0; v < c->n_vnis; v++) {
        first[v + 1] += first[v];
    }
    size_t *next = xmalloc((c->n_vnis + 1) * sizeof *next);

    memcpy(next, first, (c->n_vnis + 1) * sizeof *next);
    for (size_t i = 0; i < c->n_ports; i++) {
        if (vni_of[i] != SIZE_MAX) {
            names[next[vni_of[i]]++] = c->ports[i]->name;
        }
    }
    free(next);

    *vnis = xcalloc(c->n_vnis + 1, sizeof **vnis);
    *n = c->n_vnis;
    for (size_t v = 0; v < c->n_vnis; v++) {
        (*vnis)[v] = vni_status_msg(b, c->vnis[v], &names[first[v]],
                                    first[v + 1] - first[v]);
    }
    free(first);
    free(names);
    free(vni_of);
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

static Vswitch__LogLevelReply *
log_level_msg(struct rpc_call *call)
{
    Vswitch__LogLevelReply *m = xmalloc(sizeof *m);

    vswitch__log_level_reply__init(m);
    m->level = xstrdup(log_level_name(log_get_level()));
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_LOG_LEVEL;
    call->resp->log_level = m;
    return m;
}

static Vswitch__Status
do_get_log_level(struct rpc_call *call)
{
    log_level_msg(call);
    return OK;
}

static Vswitch__Status
do_show(struct rpc_call *call)
{
    Vswitch__ShowReply *m = xmalloc(sizeof *m);

    vswitch__show_reply__init(m);
    ports_msg(call->rpc->bridge, NULL, &m->ports, &m->n_ports);
    vnis_msg(call->rpc->bridge, &m->vnis, &m->n_vnis);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_SHOW;
    call->resp->show = m;
    return OK;
}

static Vswitch__Status
do_list_ports(struct rpc_call *call)
{
    Vswitch__PortList *m = xmalloc(sizeof *m);

    vswitch__port_list__init(m);
    ports_msg(call->rpc->bridge, NULL, &m->ports, &m->n_ports);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_PORTS;
    call->resp->ports = m;
    return OK;
}

static Vswitch__Status
do_stats(struct rpc_call *call)
{
    const char *only = call->req->stats->name;

    if (only && !config_find_port(bridge_config(call->rpc->bridge), only)) {
        snprintf(call->error, sizeof call->error, "no port %s", only);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }

    Vswitch__PortList *m = xmalloc(sizeof *m);

    vswitch__port_list__init(m);
    ports_msg(call->rpc->bridge, only, &m->ports, &m->n_ports);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_PORTS;
    call->resp->ports = m;
    return OK;
}

static Vswitch__Status
do_list_vnis(struct rpc_call *call)
{
    Vswitch__VniList *m = xmalloc(sizeof *m);

    vswitch__vni_list__init(m);
    vnis_msg(call->rpc->bridge, &m->vnis, &m->n_vnis);
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_VNIS;
    call->resp->vnis = m;
    return OK;
}

static const char *
port_name(const void *bridge, uint32_t port_no)
{
    return bridge_port_name(bridge, port_no);
}

static uint8_t *pack_response(const Vswitch__Response *, size_t *len);

/* In a worker: sorts and formats the copy of the table (the MAC table's
 * or the flow tables') and packs the whole answer, which is the part that
 * grows with the table. */
static void
build_dump(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    id_t tid = (id_t) gettid();
    int nice_before;

    /* The loop thread forwards: on a busy host it must win the CPU over
     * this.  Linux takes the nice value per thread, and the thread goes
     * back to the pool, where a save may run next: it gets its own value
     * back at the end (which takes the right to raise a priority, as root
     * has). */
    errno = 0;
    nice_before = getpriority(PRIO_PROCESS, tid);
    if (errno) {
        nice_before = RPC_WORKER_NICE;
    }
    if (nice_before < RPC_WORKER_NICE) {
        setpriority(PRIO_PROCESS, tid, RPC_WORKER_NICE);
    }

    call->resp->status = OK;
    if (call->dump) {
        /* The entries stay the dump's. */
        call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FDB;
        call->resp->fdb = fdb_dump_build(call->dump);
        call->frame = pack_response(call->resp, &call->frame_len);
        call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD__NOT_SET;
        call->resp->fdb = NULL;
        fdb_dump_destroy(call->dump);
        call->dump = NULL;
    } else if (flow_dump_is_diff(call->flow_dump)) {
        call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOW_DIFF;
        call->resp->flow_diff = flow_dump_build_diff(call->flow_dump);
        call->frame = pack_response(call->resp, &call->frame_len);
        flow_dump_destroy(call->flow_dump);
        call->flow_dump = NULL;
    } else {
        call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOWS;
        call->resp->flows = flow_dump_build(call->flow_dump);
        call->frame = pack_response(call->resp, &call->frame_len);
        flow_dump_destroy(call->flow_dump);
        call->flow_dump = NULL;
    }

    if (nice_before < RPC_WORKER_NICE) {
        setpriority(PRIO_PROCESS, tid, nice_before);
    }
}

static void reply(struct rpc_call *, uint8_t *frame, size_t len);

static void
dump_built(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    struct rpc *rpc = call->rpc;

    (void) status;              /* Work queued is never cancelled. */
    rpc->n_working--;
    reply(call, call->frame, call->frame_len);
}

/* Copies a slice of the table for 'call'; once all of it is copied, has a
 * worker build the answer.  Returns true then.  What the dump will hold is
 * counted against the control server's memory for answers from the first
 * slice on (about the whole table's worth), so that no other dump starts
 * while dumps and unsent answers hold too much. */
static bool
copy_dump(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    long long now = (long long) uv_now(rpc->loop);
    size_t before, more;
    bool done;

    if (call->dump) {
        before = fdb_dump_size(call->dump);
        done = fdb_dump_copy(call->dump,
                             dp_mac_table(bridge_dp(rpc->bridge)), now,
                             RPC_DUMP_SLICE, port_name, rpc->bridge);
        more = fdb_dump_size(call->dump) - before;
    } else {
        /* A restart can shrink the copy: what was held stays held. */
        before = flow_dump_size(call->flow_dump);
        done = flow_dump_copy(call->flow_dump, now, RPC_FLOW_DUMP_SLICE);
        more = flow_dump_size(call->flow_dump);
        more = more > before ? more - before : 0;
    }
    control_hold(call->creq, more);
    if (done) {
        uv_queue_work(rpc->loop, &call->work, build_dump, dump_built);
        rpc->n_working++;
    }
    return done;
}

static void prepare_flows(struct rpc *);
static void apply_step(struct rpc *, size_t n_ports);
static void flush_step(struct rpc *, size_t max);
static void evpn_step(struct rpc *, size_t max, uint64_t start);

/* One slice per loop turn, of the change of flows being prepared and of
 * each dump in turn, so that the loop's cost does not grow with the
 * number of clients. */
static void
on_copy_turn(uv_idle_t *idle)
{
    struct rpc *rpc = idle->data;

    if (rpc->preparing) {
        prepare_flows(rpc);
    }
    if (rpc->applying) {
        apply_step(rpc, rpc->applying->slice);
    }
    if (rpc->evpn_applying) {
        evpn_step(rpc, rpc->evpn_applying->slice, uv_hrtime());
    }
    if (!list_is_empty(&rpc->flushing)) {
        flush_step(rpc, RPC_FLUSH_SLICE);
    }
    if (!list_is_empty(&rpc->copying)) {
        struct rpc_call *call = CONTAINER_OF(list_front(&rpc->copying),
                                             struct rpc_call, node);

        list_remove(&call->node);
        if (!copy_dump(call)) {
            list_push_back(&rpc->copying, &call->node);
        }
    }
    if (list_is_empty(&rpc->copying) && !rpc->preparing
        && !rpc->applying && !rpc->evpn_applying
        && list_is_empty(&rpc->flushing)) {
        uv_idle_stop(idle);
    }
}

/* Starts the dumps that waited longest, as far as the control server's
 * memory for answers allows.  The first slice tells how much a dump will
 * hold (about the whole table's worth), so at least one dump is always
 * under way. */
void
rpc_memory_released(struct rpc *rpc)
{
    while (!list_is_empty(&rpc->dumps)) {
        struct rpc_call *call = CONTAINER_OF(list_front(&rpc->dumps),
                                             struct rpc_call, node);

        if (!control_try_hold(call->creq)) {
            break;
        }
        list_remove(&call->node);
        if (!copy_dump(call)) {
            list_push_back(&rpc->copying, &call->node);
            uv_idle_start(&rpc->copier, on_copy_turn);
        }
    }
}

static Vswitch__Status
do_fdb_show(struct rpc_call *call)
{
    const Vswitch__VniFilter *f = call->req->fdb_show;
    struct rpc *rpc = call->rpc;

    if (f->has_vni && !config_find_vni(bridge_config(rpc->bridge), f->vni)) {
        snprintf(call->error, sizeof call->error, "VNI %u does not exist",
                 f->vni);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }
    call->dump = fdb_dump_create(f->has_vni ? f->vni : 0);
    list_push_back(&rpc->dumps, &call->node);
    rpc_memory_released(rpc);
    return IN_PROGRESS;
}

/* Queues 'call', whose flow dump 'status' says was started, for its
 * slices. */
static Vswitch__Status
queue_flow_dump(struct rpc_call *call, Vswitch__Status status)
{
    if (status != OK) {
        return status;
    }
    list_push_back(&call->rpc->dumps, &call->node);
    rpc_memory_released(call->rpc);
    return IN_PROGRESS;
}

static Vswitch__Status
do_dump_flows(struct rpc_call *call)
{
    return queue_flow_dump(call, flow_dump_start(call->rpc->bridge,
                                                 call->req->dump_flows,
                                                 &call->flow_dump,
                                                 call->error,
                                                 sizeof call->error));
}

/* Built as dump-flows is: the tables copied a slice per loop turn, the
 * differences worked out in a worker (flow-dump.h). */
static Vswitch__Status
do_diff_flows(struct rpc_call *call)
{
    return queue_flow_dump(call, flow_dump_start_diff(call->rpc->bridge,
                                                      call->req->diff_flows,
                                                      &call->flow_dump,
                                                      call->error,
                                                      sizeof call->error));
}

static Vswitch__Status
do_trace(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;

    return flow_trace(rpc->bridge, call->req->trace,
                      (long long) uv_now(rpc->loop), call->resp, call->error,
                      sizeof call->error);
}

static Vswitch__Status
do_fdb_stats(struct rpc_call *call)
{
    Vswitch__FdbStats *m = xmalloc(sizeof *m);
    struct mac_table_stats s;

    mac_table_get_stats(dp_mac_table(bridge_dp(call->rpc->bridge)), &s);
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
    m->has_evpn_macs = m->has_evpn_stale = true;
    m->evpn_macs = s.n_evpn;
    m->evpn_stale = s.evpn_stale;
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FDB_STATS;
    call->resp->fdb_stats = m;
    return OK;
}

/* Changes.  begin_edit() starts from a copy of the configuration in effect;
 * commit() has a worker save the edited copy and, once it is durable, puts
 * it into effect and answers; or it drops the copy and answers at once. */

static struct config_edit *
begin_edit(struct rpc_call *call)
{
    struct config_edit *e = &call->edit;

    e->config = clone_or_die(&bridge_config(call->rpc->bridge)->base);
    e->may_exist = call->req->has_may_exist && call->req->may_exist;
    e->if_exists = call->req->has_if_exists && call->req->if_exists;
    e->changed = false;
    e->error = call->error;
    e->error_size = sizeof call->error;
    return e;
}

static void
drop_edit(struct config_edit *e)
{
    if (e->config) {
        protobuf_c_message_free_unpacked(&e->config->base, NULL);
        e->config = NULL;
    }
}

/* In a worker: the copy is the worker's alone until it is done. */
static void
save(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    call->save_error = config_store_save(call->rpc->db_path,
                                         call->edit.config, call->error,
                                         sizeof call->error);
}

static void finish(struct rpc_call *, Vswitch__Status);
static void batch_applied(struct rpc_call *);

/* Puts the batch of 'call', saved, into effect a few ports per loop turn
 * if it has many new or changed ports.  Returns false if it has few, if
 * memory is short, or if the daemon is stopping (a batch saved by a
 * worker that rpc_destroy() waits for: the loop turns that would take
 * the slices are over): the caller puts it into effect at once. */
static bool
start_applying(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;

    if (call->req->command_case != VSWITCH__REQUEST__COMMAND_BATCH
        || rpc->stopping) {
        return false;
    }
    call->steps = config_steps_create(bridge_config(rpc->bridge),
                                      call->edit.config);
    if (!call->steps
        || config_steps_pending(call->steps) <= RPC_APPLY_SLICE) {
        config_steps_destroy(call->steps);
        call->steps = NULL;
        return false;
    }
    call->target = call->edit.config;
    call->edit.config = NULL;
    call->slice = RPC_APPLY_SLICE;
    rpc->applying = call;
    loop_watch_reset(rpc->turns);
    apply_step(rpc, call->slice);
    uv_idle_start(&rpc->copier, on_copy_turn);
    return true;
}

/* The size of the next slice, after one of 'slice' ports or commands
 * that took 'took' ns: about RPC_APPLY_BUDGET_NS of work, at most twice
 * the last and 'max'. */
static size_t
next_slice(size_t slice, uint64_t took, size_t max)
{
    uint64_t n = (uint64_t) slice * RPC_APPLY_BUDGET_NS / MAX(took, 1);

    return MAX(1, MIN(n, MIN(2 * slice, max)));
}

/* Puts up to 'n_ports' more ports of the batch being put into effect
 * into effect; the last step answers. */
static void
apply_step(struct rpc *rpc, size_t n_ports)
{
    struct rpc_call *call = rpc->applying;
    uint64_t start = uv_hrtime(), took;
    bool last = false;
    const Vswitch__Config *step = config_steps_next(call->steps, n_ports,
                                                    &last);

    if (call->n_steps) {
        const Vswitch__PortConfig *const *ports;
        const Vswitch__StaticMac *const *macs;
        size_t n_new, n_macs;

        /* Only what this step adds: the whole configuration would cost
         * each step the batch's size.  The last step is the target. */
        config_steps_delta(call->steps, &ports, &n_new, &macs, &n_macs);
        bridge_reconfigure_delta(rpc->bridge, step, ports, n_new, macs,
                                 n_macs);
        if (last) {
            bridge_adopt_config(rpc->bridge, call->target);
        }
    } else if (!last) {
        bridge_reconfigure_step(rpc->bridge, step);
    } else {
        bridge_reconfigure(rpc->bridge, call->target);
    }
    if (last) {
        step = NULL;            /* The target, the bridge's from now on. */
    }
    took = uv_hrtime() - start;
    call->n_steps++;
    call->longest_ns = MAX(took, call->longest_ns);
    if (step) {
        call->slice = next_slice(call->slice, took, RPC_APPLY_MAX_SLICE);
        return;
    }
    /* This turn's own work is the step, counted above. */
    call->longest_turn_ns = MAX(call->longest_ns,
                                loop_watch_longest(rpc->turns));
    call->target = NULL;
    config_steps_destroy(call->steps);
    call->steps = NULL;
    rpc->applying = NULL;
    batch_applied(call);
    finish(call, OK);
}

static void
saved(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    struct config_edit *e = &call->edit;

    (void) status;              /* Work queued is never cancelled. */
    call->rpc->n_working--;
    if (call->save_error) {
        LOG_ERR("rpc", "%s", call->error);
        drop_edit(e);
        finish(call, VSWITCH__STATUS__STATUS_FAILED);
    } else if (!start_applying(call)) {
        bridge_reconfigure(call->rpc->bridge, e->config);
        e->config = NULL;
        batch_applied(call);
        finish(call, OK);
    }
}

static Vswitch__Status
commit(struct rpc_call *call, Vswitch__Status status)
{
    struct rpc *rpc = call->rpc;

    if (status == OK && call->edit.changed) {
        status = capture_path_check_config(rpc->capture, &call->peer,
                                           bridge_config(rpc->bridge),
                                           call->edit.config, call->error,
                                           sizeof call->error);
    }
    if (status == OK && call->edit.changed) {
        uv_queue_work(rpc->loop, &call->work, save, saved);
        rpc->n_working++;
        return IN_PROGRESS;
    }
    drop_edit(&call->edit);
    return status;
}

/* In a worker, as save(). */
static void
save_flows(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    call->save_error = flow_change_save(call->flow_change, call->error,
                                        sizeof call->error);
}

static void
flows_saved(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    struct rpc *rpc = call->rpc;

    (void) status;              /* Work queued is never cancelled. */
    rpc->n_working--;
    if (call->save_error) {
        LOG_ERR("rpc", "%s", call->error);
        finish(call, VSWITCH__STATUS__STATUS_FAILED);
    } else {
        flow_change_apply(call->flow_change, (long long) uv_now(rpc->loop),
                          call->resp);
        finish(call, OK);
    }
}

/* Prepares a slice of the change being prepared; once it is prepared,
 * has a worker save it, or answers if it was refused. */
static void
prepare_flows(struct rpc *rpc)
{
    struct rpc_call *call = rpc->preparing;
    Vswitch__Status status;

    if (!flow_change_step(call->flow_change, RPC_FLOW_CHANGE_SLICE, &status,
                          call->error, sizeof call->error)) {
        return;
    }
    rpc->preparing = NULL;
    if (status != OK) {
        finish(call, status);
    } else {
        uv_queue_work(rpc->loop, &call->work, save_flows, flows_saved);
        rpc->n_working++;
    }
}

/* add-flows, mod-flows, del-flows, replace-flows: prepared on the loop a
 * slice per turn, saved in a worker, then put into effect at once
 * (flow-rpc.h). */
static Vswitch__Status
do_change_flows(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    Vswitch__Status status = flow_change_start(
        rpc->bridge, rpc->flows, rpc->db_path, call->req, &call->flow_change,
        call->error, sizeof call->error);

    if (status != OK) {
        return status;
    }
    rpc->preparing = call;
    uv_idle_start(&rpc->copier, on_copy_turn);
    return IN_PROGRESS;
}

static Vswitch__Status
do_add_port(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    const char *name = call->req->add_port->name;
    Vswitch__Status status = commit(call, config_edit_add_port(
                                        begin_edit(call),
                                        call->req->add_port));
    const Vswitch__PortConfig *pc = config_find_port(
        bridge_config(rpc->bridge), name);

    /* Adding what exists (--may-exist) opens again what the port opens, a
     * device that went away or its files: only for a client that may name
     * those files, as the unchanged configuration was not checked. */
    if (status == OK && pc) {
        status = capture_path_check_port(rpc->capture, &call->peer, pc,
                                         call->error, sizeof call->error);
    }
    if (status == OK) {
        bridge_port_revive(rpc->bridge, name);
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
        struct mac_table *macs = dp_mac_table(bridge_dp(call->rpc->bridge));
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

/* A batch (vswitch-ctl batch): its changes are made to the copy in a
 * worker, since thousands of lines cost the loop more than a slice; then
 * on the loop what only the daemon's state can judge (learned MACs, the
 * files a port names) is checked, and the copy saved once and put into
 * effect as one change, or dropped whole. */

static bool
batch_if_exists(const struct rpc_call *call, const Vswitch__Request *req)
{
    return (call->req->has_if_exists && call->req->if_exists)
           || (req->has_if_exists && req->if_exists);
}

/* Fills '*req' with command 'i' of the batch of 'call', pointing into it
 * (checked by request_check() when it came). */
static const Vswitch__Request *
batch_request(const struct rpc_call *call, size_t i, Vswitch__Request *req)
{
    request_from_batch_command(call->req->batch->commands[i], req);
    return req;
}

/* In a worker: the copy is the worker's alone until it is done. */
static void
edit_batch(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    call->batch_status = config_edit_batch(&call->edit, call->req->batch,
                                           call->unmatched);
}

/* Refuses the batch of 'call' with the reason for its line 'i'. */
static Vswitch__Status
batch_refuse(struct rpc_call *call, size_t i, Vswitch__Status status,
             const char *reason)
{
    const Vswitch__Batch *batch = call->req->batch;
    char copy[REQUEST_ERROR_SIZE];

    snprintf(copy, sizeof copy, "%s", reason);
    snprintf(call->error, sizeof call->error, "%s %u: %s",
             request_batch_unit(batch), request_batch_line(batch, i), copy);
    return status;
}

/* The checks of the batch of 'call' that need the daemon's state. */
static Vswitch__Status
batch_check(struct rpc_call *call)
{
    const Vswitch__Batch *batch = call->req->batch;
    struct rpc *rpc = call->rpc;
    const struct mac_table *macs = dp_mac_table(bridge_dp(rpc->bridge));
    Vswitch__Status status = OK;
    struct config_index idx;

    /* A lookup per line: a walk over the ports for each would cost the
     * square of their number. */
    config_index_init(&idx, bridge_config(rpc->bridge));
    for (size_t i = 0; i < batch->n_commands && status == OK; i++) {
        Vswitch__Request buf;
        const Vswitch__Request *req = batch_request(call, i, &buf);
        const Vswitch__PortConfig *pc;
        struct eth_addr mac;

        if (call->unmatched[i] && !batch_if_exists(call, req)
            && eth_addr_parse(req->fdb_del->mac, &mac)
            && !mac_table_lookup(macs, req->fdb_del->vni, &mac)) {
            snprintf(call->error, sizeof call->error, "no entry for %s in "
                     "VNI %u, static or learned", req->fdb_del->mac,
                     req->fdb_del->vni);
            status = batch_refuse(call, i, VSWITCH__STATUS__STATUS_NOT_FOUND,
                                  call->error);
        } else if (req->command_case == VSWITCH__REQUEST__COMMAND_ADD_PORT
                   && (pc = config_index_port(&idx, req->add_port->name))
                   && (status = capture_path_check_port(rpc->capture,
                                                        &call->peer, pc,
                                                        call->error,
                                                        sizeof call->error))
                      != OK) {
            /* As for add-port --may-exist: opening again what a port
             * that exists opens is only for a client that may name its
             * files. */
            status = batch_refuse(call, i, status, call->error);
        }
    }
    config_index_destroy(&idx);
    return status;
}

static void
batch_edited(uv_work_t *work, int status_)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    Vswitch__Status status = call->batch_status;

    (void) status_;             /* Work queued is never cancelled. */
    call->rpc->n_working--;
    if (status == OK) {
        status = batch_check(call);
    }
    status = commit(call, status);
    if (status == OK) {
        batch_applied(call);    /* Nothing to save: all was done. */
    }
    if (status != IN_PROGRESS) {
        finish(call, status);
    }
}

/* What a batch does beyond the configuration, once that is in effect:
 * ports added are opened again if down, as add-port does, and learned
 * entries are deleted, as fdb-del does. */
static void
batch_applied(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    const Vswitch__Batch *batch;
    struct config_index idx;

    if (call->req->command_case != VSWITCH__REQUEST__COMMAND_BATCH) {
        return;
    }
    batch = call->req->batch;
    config_index_init(&idx, bridge_config(rpc->bridge));
    for (size_t i = 0; i < batch->n_commands; i++) {
        Vswitch__Request buf;
        const Vswitch__Request *req = batch_request(call, i, &buf);
        struct eth_addr mac;

        if (req->command_case == VSWITCH__REQUEST__COMMAND_ADD_PORT) {
            bridge_port_revive(rpc->bridge, req->add_port->name);
        } else if (call->unmatched[i]
                   && eth_addr_parse(req->fdb_del->mac, &mac)
                   && !config_index_static(&idx, req->fdb_del->vni,
                                           req->fdb_del->mac)) {
            mac_table_del(dp_mac_table(bridge_dp(rpc->bridge)),
                          req->fdb_del->vni, &mac);
        }
    }
    config_index_destroy(&idx);
}

static Vswitch__Status do_evpn_batch(struct rpc_call *);

static Vswitch__Status
do_batch(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;

    if (request_batch_is_evpn(call->req->batch)) {
        return do_evpn_batch(call);
    }
    begin_edit(call);
    call->unmatched = xcalloc(call->req->batch->n_commands,
                              sizeof *call->unmatched);
    uv_queue_work(rpc->loop, &call->work, edit_batch, batch_edited);
    rpc->n_working++;
    return IN_PROGRESS;
}

static Vswitch__Status
do_fdb_flush(struct rpc_call *call)
{
    const Vswitch__VniFilter *f = call->req->fdb_flush;
    struct bridge *b = call->rpc->bridge;

    if (f->has_vni && !config_find_vni(bridge_config(b), f->vni)) {
        snprintf(call->error, sizeof call->error, "VNI %u does not exist",
                 f->vni);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }

    /* What was learned before now goes, a slice per loop turn. */
    call->flush = mac_table_flush_start(dp_mac_table(bridge_dp(b)),
                                        f->has_vni ? f->vni : 0, NULL,
                                        (long long) uv_now(call->rpc->loop));
    if (!call->flush) {
        snprintf(call->error, sizeof call->error, "out of memory");
        return VSWITCH__STATUS__STATUS_FAILED;
    }
    if (list_is_empty(&call->rpc->flushing)) {
        uv_idle_start(&call->rpc->copier, on_copy_turn);
    }
    list_push_back(&call->rpc->flushing, &call->node);
    return IN_PROGRESS;
}

/* Removes up to about 'max' more entries for the oldest fdb-flush under
 * way, and answers it once it is done. */
static void
flush_step(struct rpc *rpc, size_t max)
{
    struct rpc_call *call = CONTAINER_OF(list_front(&rpc->flushing),
                                         struct rpc_call, node);
    uint64_t start = uv_hrtime(), took;
    size_t removed = 0;
    bool done;

    if (!call->n_steps) {
        loop_watch_reset(rpc->turns);
    }
    done = mac_table_flush_step(dp_mac_table(bridge_dp(rpc->bridge)),
                                call->flush, max, &removed);
    took = uv_hrtime() - start;
    call->flushed += removed;
    call->n_steps++;
    call->longest_ns = MAX(took, call->longest_ns);
    if (!done) {
        return;
    }
    call->longest_turn_ns = MAX(call->longest_ns,
                                loop_watch_longest(rpc->turns));
    list_remove(&call->node);

    Vswitch__FlushReply *m = xmalloc(sizeof *m);

    vswitch__flush_reply__init(m);
    m->removed = call->flushed;
    call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLUSHED;
    call->resp->flushed = m;
    finish(call, OK);
}

/* EVPN state: the agent's to set, never saved, so no edit and no commit.
 * Returns the status of 'error' from evpn_batch_apply_one() for 'req'
 * (the call's, or a line of its batch, with those flags), with the
 * reason in the call's error. */
static Vswitch__Status
evpn_status(struct rpc_call *call, const Vswitch__Request *req,
            bool may_exist, bool if_exists, int error)
{
    const Vswitch__Config *config = bridge_config(call->rpc->bridge);
    bool add = req->command_case == VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD;
    uint32_t vni;
    const char *what;

    /* The oneof's members share their place: only the one set is read. */
    switch (req->command_case) {
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD:
        vni = req->evpn_mac_add->vni;
        what = req->evpn_mac_add->mac;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL:
        vni = req->evpn_mac_del->vni;
        what = req->evpn_mac_del->mac;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD:
        vni = req->evpn_vtep_add->vni;
        what = req->evpn_vtep_add->remote;
        break;
    case VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL:
        vni = req->evpn_vtep_del->vni;
        what = req->evpn_vtep_del->remote;
        break;
    default:
        vni = req->evpn_flush->vni;
        what = "state";
        break;
    }
    if (evpn_batch_tolerated(error, may_exist, if_exists,
                             config_find_vni(config, vni))) {
        return OK;
    }
    switch (error) {
    case ENOENT:
        if (!config_find_vni(config, vni)) {
            snprintf(call->error, sizeof call->error,
                     "VNI %u does not exist", vni);
        } else {
            snprintf(call->error, sizeof call->error,
                     "VNI %u has no EVPN %s", vni, what);
        }
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    case EINVAL:
        snprintf(call->error, sizeof call->error,
                 "VNI %u is not an EVPN VNI (set-vni %u control=evpn)",
                 vni, vni);
        return VSWITCH__STATUS__STATUS_INVALID;
    case EEXIST:
        snprintf(call->error, sizeof call->error, "VNI %u: %s", vni,
                 add ? "a static entry holds this MAC"
                     : "the VTEP is listed");
        return VSWITCH__STATUS__STATUS_EXISTS;
    case ESTALE:
        snprintf(call->error, sizeof call->error, "VNI %u: %s: an entry "
                 "with an equal or newer sequence number holds it", vni,
                 what);
        return VSWITCH__STATUS__STATUS_FAILED;
    case ENOSPC:
        snprintf(call->error, sizeof call->error, "VNI %u: at most %d EVPN "
                 "VTEPs", vni, DP_EVPN_MAX_VTEPS);
        return VSWITCH__STATUS__STATUS_FAILED;
    default:
        snprintf(call->error, sizeof call->error, "VNI %u: %s", vni,
                 strerror(error));
        return VSWITCH__STATUS__STATUS_FAILED;
    }
}

/* evpn-mac-add, evpn-mac-del, evpn-vtep-add, evpn-vtep-del, evpn-flush
 * (which answers how many entries went). */
static Vswitch__Status
do_evpn(struct rpc_call *call)
{
    const Vswitch__Request *req = call->req;
    size_t n = 0;
    int error = evpn_batch_apply_one(bridge_dp(call->rpc->bridge), req, &n);
    Vswitch__Status status = evpn_status(
        call, req, req->has_may_exist && req->may_exist,
        req->has_if_exists && req->if_exists, error);

    if (status == OK
        && req->command_case == VSWITCH__REQUEST__COMMAND_EVPN_FLUSH) {
        Vswitch__FlushReply *m = xmalloc(sizeof *m);

        vswitch__flush_reply__init(m);
        m->removed = n;
        call->resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_FLUSHED;
        call->resp->flushed = m;
    }
    return status;
}

/* A batch of EVPN commands: parsed (by the worker that decoded a large
 * one), all checked against the state the ones before would leave, in
 * one loop turn, then put into effect a slice of commands per turn
 * (rpc->evpn_applying, holding the turn to change), and answered;
 * nothing to save. */
static Vswitch__Status
do_evpn_batch(struct rpc_call *call)
{
    const Vswitch__Batch *batch = call->req->batch;
    struct rpc *rpc = call->rpc;
    struct dp *dp = bridge_dp(rpc->bridge);
    bool may_exist = call->req->has_may_exist && call->req->may_exist;
    bool if_exists = call->req->has_if_exists && call->req->if_exists;
    uint64_t start = uv_hrtime();
    size_t bad = 0;
    int error;

    if (!call->evpn) {
        call->evpn = evpn_batch_parse(batch);
    }
    error = !call->evpn ? ENOMEM
            : evpn_batch_check(dp, bridge_config(rpc->bridge), batch,
                               may_exist, if_exists, call->evpn, &bad);
    if (error) {
        Vswitch__Request buf;
        const Vswitch__Request *req = batch_request(call, bad, &buf);

        return batch_refuse(call, bad,
                            evpn_status(call, req,
                                        may_exist || req->may_exist,
                                        if_exists || req->if_exists, error),
                            call->error);
    }
    if (evpn_batch_pending(call->evpn) <= RPC_EVPN_SLICE || rpc->stopping) {
        evpn_batch_apply_some(dp, call->evpn, SIZE_MAX);
        return OK;
    }
    call->slice = RPC_EVPN_SLICE;
    rpc->evpn_applying = call;
    loop_watch_reset(rpc->turns);
    evpn_step(rpc, call->slice, start);
    uv_idle_start(&rpc->copier, on_copy_turn);
    return IN_PROGRESS;
}

/* Puts up to 'max' more commands of the EVPN batch being put into effect
 * into effect, timed from 'start'; the last step answers. */
static void
evpn_step(struct rpc *rpc, size_t max, uint64_t start)
{
    struct rpc_call *call = rpc->evpn_applying;
    bool done = evpn_batch_apply_some(bridge_dp(rpc->bridge), call->evpn,
                                      max);
    uint64_t took = uv_hrtime() - start;

    call->n_steps++;
    call->longest_ns = MAX(took, call->longest_ns);
    if (!done) {
        call->slice = next_slice(call->slice, took, RPC_EVPN_MAX_SLICE);
        return;
    }
    call->longest_turn_ns = MAX(call->longest_ns,
                                loop_watch_longest(rpc->turns));
    rpc->evpn_applying = NULL;
    finish(call, OK);
}

static Vswitch__Status
do_port_replay(struct rpc_call *call)
{
    const char *name = call->req->port_replay->name;
    int error = bridge_port_replay(call->rpc->bridge, name, call->error,
                                   sizeof call->error);

    return !error ? OK
           : error == ENOENT && !config_find_port(
                 bridge_config(call->rpc->bridge), name)
           ? VSWITCH__STATUS__STATUS_NOT_FOUND
           : VSWITCH__STATUS__STATUS_FAILED;
}

/* The level lasts until the daemon stops or is told another, as
 * ovs-appctl vlog/set: a restart goes back to the command line's. */
static Vswitch__Status
do_set_log_level(struct rpc_call *call)
{
    const char *name = call->req->set_log_level->level;
    enum log_level level;
    const char *previous = log_level_name(log_get_level());

    if (!log_level_parse(name, &level)) {
        snprintf(call->error, sizeof call->error, "unknown log level '%s' "
                 "(err, warn, info or debug)", name);
        return VSWITCH__STATUS__STATUS_INVALID;
    }
    log_set_level(level);
    log_level_msg(call)->previous = xstrdup(previous);
    return OK;
}

static void conclude(struct rpc_call *, Vswitch__Status);

/* In a worker: libpcap's compiler takes up to a good part of a second on
 * a long expression, which the loop's forwarding must not wait for. */
static void
compile_capture(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    call->capture_status = live_capture_compile(call->capture, call->error,
                                                sizeof call->error);
}

static void
capture_compiled(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);
    struct live_capture *cap = call->capture;

    (void) status;              /* Work queued is never cancelled. */
    call->rpc->n_working--;
    call->capture = NULL;
    if (call->capture_status == OK) {
        call->capture_status = live_capture_start(cap, call->creq,
                                                  call->error,
                                                  sizeof call->error);
    } else {
        live_capture_abort(cap);
    }
    conclude(call, call->capture_status == OK ? HANDED_OVER
                   : call->capture_status);
}

/* Runs as a change, after those before it, for a client that may change
 * the configuration, and in the log as one: it exposes other people's
 * traffic, though it changes nothing. */
static Vswitch__Status
do_capture(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    Vswitch__Status status;

    status = live_capture_prepare(rpc->captures, call->req->capture,
                                  capture_client_trusted(&call->peer),
                                  &call->capture, call->error,
                                  sizeof call->error);
    if (status != OK) {
        return status;
    }
    uv_queue_work(rpc->loop, &call->work, compile_capture, capture_compiled);
    rpc->n_working++;
    return IN_PROGRESS;
}

/* Read-only, but the last places are root's: see monitor.h. */
static Vswitch__Status
do_monitor(struct rpc_call *call)
{
    uid_t uid = call->peer.uid;
    Vswitch__Status status = monitor_start(call->rpc->monitors,
                                           call->req->monitor,
                                           uid == 0 || uid == geteuid(),
                                           call->creq, call->error,
                                           sizeof call->error);

    return status == OK ? HANDED_OVER : status;
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
    { VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD, "evpn-mac-add", false,
      do_evpn },
    { VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL, "evpn-mac-del", false,
      do_evpn },
    { VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD, "evpn-vtep-add", false,
      do_evpn },
    { VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL, "evpn-vtep-del", false,
      do_evpn },
    { VSWITCH__REQUEST__COMMAND_EVPN_FLUSH, "evpn-flush", false,
      do_evpn },
    { VSWITCH__REQUEST__COMMAND_FDB_STATS, "fdb-stats", true,
      do_fdb_stats },
    { VSWITCH__REQUEST__COMMAND_STATS, "stats", true, do_stats },
    { VSWITCH__REQUEST__COMMAND_PORT_REPLAY, "port-replay", false,
      do_port_replay },
    { VSWITCH__REQUEST__COMMAND_ADD_FLOWS, "add-flows", false,
      do_change_flows },
    { VSWITCH__REQUEST__COMMAND_MOD_FLOWS, "mod-flows", false,
      do_change_flows },
    { VSWITCH__REQUEST__COMMAND_DEL_FLOWS, "del-flows", false,
      do_change_flows },
    { VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS, "replace-flows", false,
      do_change_flows },
    { VSWITCH__REQUEST__COMMAND_DUMP_FLOWS, "dump-flows", true,
      do_dump_flows },
    { VSWITCH__REQUEST__COMMAND_DIFF_FLOWS, "diff-flows", true,
      do_diff_flows },
    { VSWITCH__REQUEST__COMMAND_TRACE, "trace", true, do_trace },
    { VSWITCH__REQUEST__COMMAND_CAPTURE, "capture", false, do_capture },
    { VSWITCH__REQUEST__COMMAND_SET_LOG_LEVEL, "set-log-level", false,
      do_set_log_level },
    { VSWITCH__REQUEST__COMMAND_GET_LOG_LEVEL, "get-log-level", true,
      do_get_log_level },
    { VSWITCH__REQUEST__COMMAND_MONITOR, "monitor", true, do_monitor },
    { VSWITCH__REQUEST__COMMAND_BATCH, "batch", false, do_batch },
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

/* Frees what 'call' holds but the call itself; a change of flows must
 * have ended (flow_change_end()).  Touches nothing else, so that it may
 * run in a worker, once a flow dump, which holds the bridge's port names,
 * is destroyed. */
static void
free_call_contents(struct rpc_call *call)
{
    drop_edit(&call->edit);
    free(call->unmatched);
    config_steps_destroy(call->steps);
    evpn_batch_destroy(call->evpn);
    mac_table_flush_free(call->flush);
    if (call->target) {
        protobuf_c_message_free_unpacked(&call->target->base, NULL);
    }
    fdb_dump_destroy(call->dump);
    flow_dump_destroy(call->flow_dump);
    flow_change_free(call->flow_change);
    vswitch__response__free_unpacked(call->resp, NULL);
    vswitch__request__free_unpacked(call->req, NULL);
    free(call->peer_name);
    free(call->denied);
    free(call->msg);
    free((gid_t *) call->peer.groups);
}

static void
free_call_work(uv_work_t *work)
{
    free_call_contents(CONTAINER_OF(work, struct rpc_call, work));
}

static void
call_freed(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    (void) status;              /* Work queued is never cancelled. */
    call->rpc->n_working--;
    free(call);
}

/* Frees 'call'.  A change of flows ends here; one of 65,536 rules holds
 * as many specs, and the request as many lines, which take a good part of
 * a loop turn to free: a worker frees them, and any large request. */
static void
free_call(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;

    if (call->flow_change || call->large) {
        if (call->flow_change) {
            flow_change_end(call->flow_change);
        }
        /* A dump holds the bridge's port names: the loop's to let go.
         * What stays is the call's memory alone. */
        flow_dump_destroy(call->flow_dump);
        call->flow_dump = NULL;
        uv_queue_work(rpc->loop, &call->work, free_call_work, call_freed);
        rpc->n_working++;
    } else {
        free_call_contents(call);
        free(call);
    }
}

static void next_change(struct rpc *);

/* Ends 'call', whose request is answered or handed over; a change lets
 * the next one go. */
static void
end_call(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;
    bool change = call->has_turn;

    free_call(call);
    if (change) {
        rpc->changing = false;
        next_change(rpc);
    }
}

/* Sends the answer and ends 'call'. */
static void
reply(struct rpc_call *call, uint8_t *frame, size_t len)
{
    control_reply(call->creq, frame, len);
    end_call(call);
}

/* Changes made are the log's record of who changed what; changes refused
 * are anybody's to repeat, and limited. */
static struct log_rate_limit refused_rl = LOG_RATE_LIMIT_INIT(20, 10);

/* Writes " N steps, the longest ..." of the work 'call' did a slice per
 * loop turn into 'ds': the daemon's own measure of how long it held
 * forwarding up, whatever else the machine was doing. */
static void
put_steps(const struct rpc_call *call, struct ds *ds)
{
    ds_put_format(ds, " %u steps, the longest %.1f ms, the loop's longest "
                  "turn meanwhile %.1f ms", call->n_steps,
                  call->longest_ns / 1e6, call->longest_turn_ns / 1e6);
}

/* Writes "batch of N commands: 3 add-port, 3 add-vni" into 'ds', and
 * each line to the debug log, so that the log says who changed what at
 * the cost of one line. */
static void
batch_summary(const struct rpc_call *call, struct ds *ds)
{
    const Vswitch__Batch *batch = call->req->batch;
    size_t counts[sizeof commands / sizeof commands[0]] = { 0 };

    for (size_t i = 0; i < batch->n_commands; i++) {
        Vswitch__Request buf;
        const struct rpc_command *c
            = find_command(batch_request(call, i, &buf)->command_case);

        if (c) {
            counts[c - commands]++;
            LOG_DBG("rpc", "%s: batch %s %u: %s", call->peer_name,
                    request_batch_unit(batch),
                    request_batch_line(batch, i), c->name);
        }
    }
    ds_put_format(ds, "batch of %zu commands", batch->n_commands);
    for (size_t i = 0, n = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (counts[i]) {
            ds_put_format(ds, "%s %zu %s", n++ ? "," : ":", counts[i],
                          commands[i].name);
        }
    }
    if (call->n_steps) {
        ds_put_cstr(ds, "; in effect in");
        put_steps(call, ds);
    }
    if (call->closes_ns) {
        ds_put_format(ds, "; the answer waited %.1f ms for the devices of "
                      "the deleted ports to close", call->closes_ns / 1e6);
    }
}

static void
log_change(const struct rpc_call *call, Vswitch__Status status)
{
    const struct rpc_command *command = call->command;

    if (command && status == OK
        && command->command == VSWITCH__REQUEST__COMMAND_BATCH) {
        struct ds summary = DS_EMPTY_INITIALIZER;

        batch_summary(call, &summary);
        LOG_INFO("rpc", "%s: %s", call->peer_name, ds_cstr(&summary));
        ds_destroy(&summary);
    } else if (command && !command->read_only) {
        if (status == OK && call->flush) {
            struct ds steps = DS_EMPTY_INITIALIZER;

            put_steps(call, &steps);
            LOG_INFO("rpc", "%s: %s: %"PRIu64" entries removed in%s",
                     call->peer_name, command->name, call->flushed,
                     ds_cstr(&steps));
            ds_destroy(&steps);
        } else if (status == OK) {
            LOG_INFO("rpc", "%s: %s", call->peer_name, command->name);
        } else {
            LOG_INFO_RL(&refused_rl, "rpc", "%s: %s refused: %s",
                        call->peer_name, command->name, call->error);
        }
    }
}

static void
ports_closed(void *call_)
{
    struct rpc_call *call = call_;

    call->rpc->n_working--;
    call->closes_ns = uv_hrtime() - call->closing_ns;
    finish(call, call->closing_status);
}

static void
finish(struct rpc_call *call, Vswitch__Status status)
{
    uint8_t *frame;
    size_t len;

    /* A change is answered once the devices of the ports it deleted are
     * gone, which a script may go on to make again, and it keeps its turn
     * meanwhile; the loop goes on forwarding. */
    if (call->has_turn
        && bridge_after_closes(call->rpc->bridge, ports_closed, call)) {
        call->rpc->n_working++;
        call->closing_status = status;
        call->closing_ns = uv_hrtime();
        return;
    }
    log_change(call, status);
    call->resp->status = status;
    if (status != OK) {
        call->resp->error = xstrdup(call->error);
    }
    frame = pack_response(call->resp, &len);
    reply(call, frame, len);
}

/* Ends 'call' as its handler's 'status' says: answered now, or handed
 * over to a capture; work in progress ends it later. */
static void
conclude(struct rpc_call *call, Vswitch__Status status)
{
    if (status == HANDED_OVER) {
        log_change(call, OK);
        end_call(call);
    } else if (status != IN_PROGRESS) {
        finish(call, status);
    }
}

static void
run(struct rpc_call *call)
{
    conclude(call, call->command->handler(call));
}

/* Starts the change that waited longest, unless one is being made: each
 * starts from the configuration the one before it left. */
static void
next_change(struct rpc *rpc)
{
    if (!rpc->changing && !list_is_empty(&rpc->waiting)) {
        struct rpc_call *call = CONTAINER_OF(list_front(&rpc->waiting),
                                             struct rpc_call, node);

        list_remove(&call->node);
        rpc->changing = true;
        call->has_turn = true;
        run(call);
    }
}

static void refuse(struct rpc_call *);

/* Unpacks and checks the request of 'call' from the 'len' bytes at
 * 'msg', and parses an EVPN batch: it touches only the call, so that a
 * worker may run it.  Sets 'call->decoded', with the reason in the call's
 * error. */
static void
decode(struct rpc_call *call, const uint8_t *msg, size_t len)
{
    Vswitch__Request *req = vswitch__request__unpack(NULL, len, msg);

    call->req = req;
    if (!req) {
        snprintf(call->error, sizeof call->error,
                 "malformed request: not a vswitch request message");
        call->decoded = VSWITCH__STATUS__STATUS_INVALID;
    } else if (req->protocol != VSWITCH__PROTOCOL__PROTOCOL_VERSION) {
        snprintf(call->error, sizeof call->error, "protocol version %u is "
                 "not supported: vswitchd %s speaks version %d",
                 req->protocol, PACKAGE_VERSION,
                 VSWITCH__PROTOCOL__PROTOCOL_VERSION);
        call->decoded = VSWITCH__STATUS__STATUS_VERSION;
    } else if (!request_check(req, call->error, sizeof call->error)) {
        call->decoded = VSWITCH__STATUS__STATUS_INVALID;
    } else {
        call->decoded = OK;
        if (req->command_case == VSWITCH__REQUEST__COMMAND_BATCH
            && request_batch_is_evpn(req->batch)) {
            call->evpn = evpn_batch_parse(req->batch);  /* NULL: said at
                                                         * the check. */
        }
    }
}

/* Answers or starts the call whose request decode() read. */
static void
dispatch(struct rpc_call *call)
{
    struct rpc *rpc = call->rpc;

    call->command = call->req ? find_command(call->req->command_case)
                              : NULL;
    if (call->decoded != OK) {
        finish(call, call->decoded);
    } else if (!call->command) {
        snprintf(call->error, sizeof call->error, "unknown command");
        finish(call, VSWITCH__STATUS__STATUS_INVALID);
    } else if (!call->command->read_only && call->denied) {
        snprintf(call->error, sizeof call->error, "%s", call->denied);
        finish(call, VSWITCH__STATUS__STATUS_DENIED);
    } else if (!call->command->read_only) {
        list_push_back(&rpc->waiting, &call->node);
        next_change(rpc);
    } else {
        run(call);
    }
}

static void
decode_work(uv_work_t *work)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    decode(call, call->msg, call->msg_len);
    free(call->msg);
    call->msg = NULL;
}

static void
decoded(uv_work_t *work, int status)
{
    struct rpc_call *call = CONTAINER_OF(work, struct rpc_call, work);

    (void) status;              /* Work queued is never cancelled. */
    call->rpc->n_working--;
    if (call->rpc->stopping) {
        call->command = NULL;
        refuse(call);
    } else {
        dispatch(call);
    }
}

void
rpc_handle(struct rpc *rpc, const struct rpc_peer *peer, const uint8_t *msg,
           size_t msg_len, struct control_request *creq)
{
    struct rpc_call *call = xcalloc(1, sizeof *call);
    gid_t *groups;

    call->rpc = rpc;
    call->creq = creq;
    call->peer_name = xstrdup(peer->name);
    call->denied = peer->may_write ? NULL : xstrdup(peer->denied);
    call->peer = peer->client;
    groups = xcalloc(peer->client.n_groups + 1, sizeof *groups);
    if (peer->client.n_groups) {    /* A peer with none has NULL. */
        memcpy(groups, peer->client.groups,
               peer->client.n_groups * sizeof *groups);
    }
    call->peer.groups = groups;
    call->resp = xmalloc(sizeof *call->resp);
    vswitch__response__init(call->resp);
    call->resp->protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    if (msg_len < RPC_DECODE_IN_WORKER) {
        decode(call, msg, msg_len);
        dispatch(call);
        return;
    }
    /* The message is the control server's until this returns. */
    call->msg = xmalloc(msg_len);
    memcpy(call->msg, msg, msg_len);
    call->msg_len = msg_len;
    call->large = true;
    uv_queue_work(rpc->loop, &call->work, decode_work, decoded);
    rpc->n_working++;
}

struct rpc *
rpc_create(uv_loop_t *loop, struct bridge *bridge, const char *db_path,
           struct flow_store *flows, const struct capture_path *capture)
{
    struct rpc *rpc = xcalloc(1, sizeof *rpc);

    rpc->loop = loop;
    rpc->bridge = bridge;
    rpc->db_path = xstrdup(db_path);
    rpc->flows = flows;
    rpc->capture = capture;
    list_init(&rpc->waiting);
    list_init(&rpc->dumps);
    list_init(&rpc->copying);
    list_init(&rpc->flushing);
    uv_idle_init(loop, &rpc->copier);
    rpc->copier.data = rpc;
    rpc->captures = live_capture_set_create(loop, bridge);
    rpc->monitors = monitor_set_create(loop, bridge);
    rpc->turns = loop_watch_create(loop);
    return rpc;
}

static void
on_copier_closed(uv_handle_t *handle)
{
    struct rpc *rpc = handle->data;

    rpc->copier_closed = true;
}

static void
refuse(struct rpc_call *call)
{
    snprintf(call->error, sizeof call->error, "vswitchd is stopping");
    finish(call, VSWITCH__STATUS__STATUS_FAILED);
}

/* Answers the calls on 'list' that have not reached a worker. */
static void
refuse_all(struct list *list)
{
    struct rpc_call *call;

    LIST_FOR_EACH_SAFE (call, node, list) {
        list_remove(&call->node);
        refuse(call);
    }
}

void
rpc_stop_streams(struct rpc *rpc)
{
    if (rpc) {
        live_capture_stop_all(rpc->captures);
        monitor_set_destroy(rpc->monitors);
        rpc->monitors = NULL;
    }
}

void
rpc_destroy(struct rpc *rpc)
{
    if (!rpc) {
        return;
    }
    rpc->stopping = true;
    monitor_set_destroy(rpc->monitors);
    refuse_all(&rpc->waiting);
    if (rpc->applying) {
        /* Saved: the rest goes into effect at once. */
        apply_step(rpc, SIZE_MAX);
    }
    while (!list_is_empty(&rpc->flushing)) {
        flush_step(rpc, SIZE_MAX);
    }
    if (rpc->evpn_applying) {
        evpn_step(rpc, SIZE_MAX, uv_hrtime());
    }
    if (rpc->preparing) {
        struct rpc_call *call = rpc->preparing;

        rpc->preparing = NULL;
        refuse(call);
    }
    refuse_all(&rpc->dumps);
    refuse_all(&rpc->copying);
    loop_watch_destroy(rpc->turns);
    uv_close((uv_handle_t *) &rpc->copier, on_copier_closed);
    while (rpc->n_working || !rpc->copier_closed) {
        uv_run(rpc->loop, UV_RUN_ONCE);
    }
    /* Once no capture is being compiled, which starts when it is. */
    live_capture_set_destroy(rpc->captures);
    free(rpc->db_path);
    free(rpc);
}
