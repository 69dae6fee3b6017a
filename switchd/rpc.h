#ifndef SWITCHD_RPC_H
#define SWITCHD_RPC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "capture-path.h"
#include "vswitch.pb-c.h"

struct bridge;
struct flow_store;
struct control_request;

/* The control protocol's commands: one packed Request in, one framed
 * Response out.  Changes are checked, saved to the configuration file and
 * only then put into effect, so a command that fails changes nothing.
 *
 * What would cost the forwarding loop more than a slice runs in libuv's
 * worker threads: a change's save (write, fsync, rename, fsync of the
 * directory) and the sorting, formatting and packing of fdb-show, whose
 * entries are copied on the loop first, a slice per loop turn.  Changes
 * run one at a time in the order they come: while one is being saved, the
 * next waits, and read-only requests go on.  What a dump will hold counts
 * against the control server's memory for answers (control_hold()) from
 * its first slice until its answer is written; a dump waits, and the
 * requests of others go on, while that memory is spent. */

struct rpc;

struct rpc_peer {
    bool may_write;             /* Allowed to change the configuration. */
    const char *denied;         /* The message if it is not. */
    const char *name;           /* For the log, e.g. "uid 1000 pid 42". */
    struct capture_client client;   /* Whose files it may name. */
};

/* Returns the commands of 'bridge', saved to 'db_path' (copied) and, for
 * the flow rules, to 'flows' (which must outlive it), with the rules of
 * 'capture' (which must outlive it) for the files clients name. */
struct rpc *rpc_create(uv_loop_t *, struct bridge *, const char *db_path,
                       struct flow_store *flows,
                       const struct capture_path *capture);

/* Ends the streams (live captures, monitors) with a last answer that
 * says the daemon is stopping: call it while their clients are still
 * connected, before the control server closes them.  No request may
 * come afterwards.  Accepts NULL. */
void rpc_stop_streams(struct rpc *);

/* Refuses the changes still waiting for their turn, waits (running the
 * loop) for the work in flight, whose answers go out, and frees 'rpc'.
 * The bridge must outlive this call.  Accepts NULL. */
void rpc_destroy(struct rpc *);

/* Handles the Request in 'msg' (only read during the call) and answers
 * 'req' through control_reply() with the Response as a frame: before
 * returning or, for a change or a dump, later from the loop.  When memory
 * is short the frame is a static one saying so, which rpc_frame_free()
 * knows not to free. */
void rpc_handle(struct rpc *, const struct rpc_peer *, const uint8_t *msg,
                size_t msg_len, struct control_request *);

/* Returns a framed Response with 'status' and 'error' and no payload, for
 * a request that could not even be read. */
uint8_t *rpc_error_frame(Vswitch__Status status, const char *error,
                         size_t *len);

void rpc_frame_free(uint8_t *frame);

/* Starts the dumps that wait for memory, as far as control_try_hold()
 * allows: for the control callbacks' 'released'. */
void rpc_memory_released(struct rpc *);

#endif /* switchd/rpc.h */
