#ifndef SWITCHD_MONITOR_H
#define SWITCHD_MONITOR_H 1

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "vswitch.pb-c.h"

struct bridge;
struct control_request;

/* The event stream (vswitch-ctl monitor): every change of the MAC table,
 * the ports, the VNIs and the flow rules, as it happens, streamed to
 * clients of the control socket as MonitorChunks (see vswitch.proto and
 * the stable field list in vswitch-ctl(8)).
 *
 * Each event gets the next number of one sequence for the whole daemon
 * (across kinds, counting the events of the kinds some monitor follows).
 * Each monitor holds at most MONITOR_QUEUE_EVENTS events, of
 * MONITOR_QUEUE_BYTES in all, that its client has not taken, and sends
 * them in chunks of up to MONITOR_CHUNK_EVENTS once the one before is
 * written: events that do not fit are dropped, the newest first, and the
 * client gets a "missed" event saying how many, never forwarding stalled.
 * With 'initial' a monitor starts with the state at that moment as events
 * with the action "present", numbered with the sequence number of the last
 * event before (so the first live event follows with no gap and nothing
 * twice); those are taken at once, all of them, whatever the bounds.
 *
 * At most MONITOR_MAX monitors run at once, the last MONITOR_ADMIN_PLACES
 * of those places kept for root and the daemon's user.  A monitor ends
 * when its client goes away (or leaves chunks unread for the control
 * server's timeout) or the daemon stops.  While no monitor follows a kind,
 * its source is not observed at all. */

#define MONITOR_MAX 16
#define MONITOR_ADMIN_PLACES 4
#define MONITOR_QUEUE_EVENTS 65536
#define MONITOR_QUEUE_BYTES (16u << 20)
#define MONITOR_CHUNK_EVENTS 1024

struct monitor_set;

/* Returns an empty set of monitors of 'bridge', which must outlive it. */
struct monitor_set *monitor_set_create(uv_loop_t *, struct bridge *);

/* Ends every monitor of 'set' ("vswitchd is stopping") and frees it; the
 * monitors' memory goes once the loop has closed their handles.  Accepts
 * NULL. */
void monitor_set_destroy(struct monitor_set *);

/* Starts monitor 'm' for the client of 'req', which it answers from then
 * on, and returns VSWITCH__STATUS__STATUS_OK; or returns an error status
 * with one line in 'error', leaving 'req' to the caller.  'admin' says
 * whether the client is root or the daemon's user. */
Vswitch__Status monitor_start(struct monitor_set *, const Vswitch__Monitor *m,
                              bool admin, struct control_request *req,
                              char *error, size_t error_size);

#endif /* switchd/monitor.h */
