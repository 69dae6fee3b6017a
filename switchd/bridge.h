#ifndef SWITCHD_BRIDGE_H
#define SWITCHD_BRIDGE_H 1

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "dp.h"
#include "list.h"
#include "port.h"
#include "vswitch.pb-c.h"

/* The running switch: the datapath and the ports, VNIs and static entries
 * of the configuration in effect.  The configuration is the truth; the
 * bridge makes the datapath match it, in the manner of Open vSwitch's
 * bridge_reconfigure(). */

struct bridge;

/* Returns a bridge with an empty configuration whose ports are served by
 * 'loop', or NULL if memory is short.  'owner', which must outlive the
 * bridge, names this daemon on the devices it makes, so that a restart
 * finds its own TAP devices again wherever they were moved.
 *
 * bridge_destroy() closes the ports but leaves devices such as TAPs in
 * place for the next start; the caller runs the loop once more afterwards
 * so that the handles close.  It accepts NULL. */
struct bridge *bridge_create(uv_loop_t *loop,
                             const char *owner);
void bridge_destroy(struct bridge *);

/* Puts 'config' into effect, changing only what differs from the
 * configuration in effect so that learned entries and counters of what
 * stays survive, and takes ownership of it.  'config' must have been built
 * by config_edit_*() or passed request_check() piece by piece. */
void bridge_reconfigure(struct bridge *, Vswitch__Config *config);

/* As bridge_reconfigure(), but 'step' stays the caller's: it must stay as
 * it is until the next bridge_reconfigure*() call has returned, which
 * compares the next configuration with it (a step of config-steps.h). */
void bridge_reconfigure_step(struct bridge *, const Vswitch__Config *step);

/* As bridge_reconfigure_step(), for a 'step' that differs from the
 * configuration in effect only in 'ports' (added, or with new options or
 * a new VNI: as 'step' has them) and in 'macs' added, static MACs on
 * those ports (config_steps_delta()): its cost is that of the change,
 * not of the whole configuration. */
void bridge_reconfigure_delta(struct bridge *, const Vswitch__Config *step,
                              const Vswitch__PortConfig *const *ports,
                              size_t n_ports,
                              const Vswitch__StaticMac *const *macs,
                              size_t n_macs);

/* Takes ownership of 'config', which must be the configuration in effect
 * itself (the target of the last step, which the bridge then borrowed)
 * and changes nothing else. */
void bridge_adopt_config(struct bridge *, Vswitch__Config *config);

/* Has ports open the files their options name through 'files', which
 * must outlive the bridge; without it they open them by name. */
void bridge_set_files(struct bridge *, const struct port_files *files);

const Vswitch__Config *bridge_config(const struct bridge *);
struct dp *bridge_dp(const struct bridge *);

/* The buffers of the bridge's frames, for a frame that a trace makes. */
struct packet_pool *bridge_packet_pool(const struct bridge *);

/* Runtime state of port 'name'. */
struct bridge_port_state {
    bool up;
    const char *error;          /* Why it is down; NULL if up. */
    struct dp_counters counters;        /* As the datapath saw it. */
    struct port_stats device;   /* As the device saw it. */
    uint32_t offloads;          /* PORT_OFFLOAD_*: what its device took. */
    const char *offload_note;   /* struct port's; NULL while it is down. */
    uint64_t tx_while_down;     /* Frames for it while it was down. */
    unsigned int n_taps;        /* Taps attached (live captures). */
    bool has_groups;            /* Up, and a type that joins groups: */
    size_t groups_joined;       /* the multicast groups of its VNIs it */
    size_t groups_failed;       /* joined, and could not join. */
};

/* Fills in 'state' of port 'name'.  Returns false if there is no such
 * port. */
bool bridge_port_state(const struct bridge *, const char *name,
                       struct bridge_port_state *state);

/* Says whether multicast 'group' is joined by the port that joins the
 * VNIs' groups (the VXLAN port): 0 if it is, or an errno value with why
 * not in words in 'reason' (no such port, the port is down, the kernel's
 * refusal, or a join still to be tried again). */
int bridge_group_state(const struct bridge *, const struct in6_addr *group,
                       char *reason, size_t reason_size);

/* Replays the rx capture of pcap port 'name' from its start.  Returns 0,
 * or an errno value with a reason in 'error'. */
int bridge_port_replay(struct bridge *, const char *name, char *error,
                       size_t error_size);

/* A deleted port's device goes on libuv's threadpool (port-closer.h),
 * so that the kernel's wait for it does not hold up forwarding.  If some
 * are still going, calls 'cb(aux)' on the loop once none is, and returns
 * true; else returns false.  A bridge destroyed first never calls it. */
bool bridge_after_closes(struct bridge *, void (*cb)(void *aux), void *aux);

/* Opens port 'name' again if it is down: a TAP device deleted underneath
 * it is made again, with the port's number and static entries.  Returns 0
 * if it is up, ENOENT if there is no such port, or another errno value if
 * it stays down (its state says why). */
int bridge_port_revive(struct bridge *, const char *name);

/* Returns the name of the port with datapath number 'port_no', or NULL. */
const char *bridge_port_name(const struct bridge *, uint32_t port_no);

/* Returns the datapath number of port 'name', or 0. */
uint32_t bridge_port_no(const struct bridge *, const char *name);

/* Port names in flow rules, for flow_text_parse() and the formatters.  A
 * rule may name a port that does not exist: the bridge keeps a datapath
 * number for the name, which a port added later under that name takes, so
 * that the rule matches nothing until the port exists and then applies to
 * it.  A port deleted while rules name it leaves its number kept the same
 * way.  The names of kept numbers print as the names of ports do. */
void bridge_flow_ports(struct bridge *, struct flow_text_ports *);

/* Forgets the numbers kept for names that no rule uses any more: after
 * every change of the rules, so that what is kept is bounded by them. */
void bridge_reclaim_port_names(struct bridge *);

/* A change of the rules being made (prepared a slice at a time, then
 * saved) names ports that its rules, not in the tables yet, need numbers
 * for: between these two calls bridge_reclaim_port_names(), which readers
 * call too, forgets none. */
void bridge_hold_port_names(struct bridge *);
void bridge_release_port_names(struct bridge *);

/* Taps: watchers of a port's frames, for live captures.  A tap sees each
 * batch the port receives, before the datapath has it, and each batch
 * the datapath hands to the port to send, before the port has it; while
 * a port has no tap this costs one test per batch.  The callback must
 * not change the frames, nor attach or detach taps. */
struct packet_batch;
typedef void bridge_tap_frames_cb(void *aux, const struct packet_batch *,
                                  bool out);

/* Called when the tap's port is deleted (or the bridge destroyed), after
 * the tap is detached; the port's memory goes afterwards. */
typedef void bridge_tap_gone_cb(void *aux);

/* The caller owns the memory, which must stay until it is detached. */
struct bridge_tap {
    struct list node;           /* In its port's taps; list_init() it
                                 * before attaching. */
    bridge_tap_frames_cb *frames;       /* NULL: wants no frames. */
    bridge_tap_gone_cb *gone;
    void *aux;
};

/* Attaches 'tap' to port 'name'.  Returns 0 or ENOENT. */
int bridge_tap_attach(struct bridge *, const char *name,
                      struct bridge_tap *tap);

/* Detaches 'tap' if it is attached. */
void bridge_tap_detach(struct bridge_tap *tap);

/* Observing the ports and VNIs as they change, for the event stream of
 * vswitch-ctl monitor: a port added (whether its device opened or not) or
 * removed, gone down (its device failed or went) or up again; a VNI added,
 * removed, or with new settings.  'name' and 'type' are the port's (NULL
 * for a VNI), valid during the call.  The callback must not change the
 * bridge.  'cb' NULL: none. */
enum bridge_event {
    BRIDGE_PORT_ADDED,
    BRIDGE_PORT_REMOVED,
    BRIDGE_PORT_UP,
    BRIDGE_PORT_DOWN,
    BRIDGE_VNI_ADDED,
    BRIDGE_VNI_REMOVED,
    BRIDGE_VNI_CHANGED,
};

struct bridge_event_info {
    enum bridge_event event;
    const char *name;
    const char *type;
    uint32_t vni;
};

typedef void bridge_observer_cb(void *aux, const struct bridge_event_info *);
void bridge_set_observer(struct bridge *, bridge_observer_cb *cb, void *aux);

/* Housekeeping: runs MAC ageing, and starts a round of checks that the
 * ports' devices are still there and of what is read from them (MTUs),
 * every port once a BRIDGE_RUN_INTERVAL; the round goes on by itself in
 * slices of about BRIDGE_RUN_SLICE_NS of work, a millisecond apart, so
 * that thousands of ports do not hold forwarding up.  Returns when it
 * next needs to run (ms): when ageing is due or the next round starts;
 * the caller runs it at least every BRIDGE_RUN_INTERVAL ms as well. */
#define BRIDGE_RUN_INTERVAL 1000
#define BRIDGE_RUN_SLICE_NS 2000000
long long bridge_run(struct bridge *, long long now_ms);

#endif /* switchd/bridge.h */
