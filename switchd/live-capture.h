#ifndef SWITCHD_LIVE_CAPTURE_H
#define SWITCHD_LIVE_CAPTURE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "vswitch.pb-c.h"

struct bridge;
struct control_request;

/* Live captures: the frames of a port, as they enter and leave it,
 * streamed to a client of the control socket (vswitch-ctl capture).
 *
 * On a TAP, system or pcap port the frames are taken from the bridge's
 * taps (bridge.h) and filtered in the loop; on the VXLAN port, from a
 * packet socket (wire-capture.h).  Each capture holds at most
 * LIVE_CAPTURE_BUFFER bytes of frames that its client has not taken, and
 * sends them as one chunk once the one before is written: frames that do
 * not fit are lost and counted, never forwarded ones.  At most
 * LIVE_CAPTURE_MAX run at once.  A capture ends when its count or time is
 * reached, its port is deleted, its client goes away, or the daemon
 * stops; the last chunk says which. */

#define LIVE_CAPTURE_MAX 8     /* The last of them for root only. */
#define LIVE_CAPTURE_BUFFER (1u << 20)

struct live_capture_set;

/* Returns an empty set of captures of the ports of 'bridge', which must
 * outlive it. */
struct live_capture_set *live_capture_set_create(uv_loop_t *,
                                                 struct bridge *);

/* Ends every capture of 'set' ("vswitchd is stopping"). */
void live_capture_stop_all(struct live_capture_set *set);

/* Ends every capture of 'set' ("vswitchd is stopping") and frees it; the
 * captures' memory goes once the loop has closed their handles.  Accepts
 * NULL. */
void live_capture_set_destroy(struct live_capture_set *set);

/* A capture starts in three steps, so that libpcap's compiler, which
 * takes a good part of a second on a long expression, runs in a worker
 * thread and never holds up the loop's forwarding:
 *
 * live_capture_prepare(), in the loop, checks capture 'c' against the
 * captures running (the last place is kept for 'root', the daemon's own
 * user included, so that a member of the socket's group cannot lock it
 * out) and the port's configuration, and returns
 * VSWITCH__STATUS__STATUS_OK with the capture in '*cap'; or an error
 * status with one line in 'error'.
 *
 * live_capture_compile(), in a worker thread (nothing else of the set
 * may change meanwhile: captures start one at a time), compiles its
 * filter; on an error status, with one line in 'error', the caller
 * frees the capture with live_capture_abort().
 *
 * live_capture_start(), in the loop, takes the capture: it attaches it to
 * its port and answers the client of 'req' from then on, and returns
 * VSWITCH__STATUS__STATUS_OK; or frees it and returns an error status
 * with one line in 'error', leaving 'req' to the caller. */
struct live_capture;
Vswitch__Status live_capture_prepare(struct live_capture_set *,
                                     const Vswitch__Capture *c, bool root,
                                     struct live_capture **cap,
                                     char *error, size_t error_size);
Vswitch__Status live_capture_compile(struct live_capture *,
                                     char *error, size_t error_size);
Vswitch__Status live_capture_start(struct live_capture *,
                                   struct control_request *req,
                                   char *error, size_t error_size);

/* Frees a capture that has not started.  Accepts NULL. */
void live_capture_abort(struct live_capture *);

#endif /* switchd/live-capture.h */
