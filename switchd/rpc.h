#ifndef SWITCHD_RPC_H
#define SWITCHD_RPC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vswitch.pb-c.h"

struct bridge;
struct capture_path;

/* The control protocol's commands: one packed Request in, one framed
 * Response out.  Changes are checked, saved to the configuration file and
 * only then put into effect, so a command that fails changes nothing. */

struct rpc_context {
    struct bridge *bridge;
    const char *db_path;
    const struct capture_path *capture;     /* Files clients may name. */
    long long now_ms;           /* For entry ages. */
};

struct rpc_peer {
    bool may_write;             /* Allowed to change the configuration. */
    const char *denied;         /* The message if it is not. */
    const char *name;           /* For the log, e.g. "uid 1000 pid 42". */
    uid_t uid;                  /* Whose files it may name. */
};

/* Handles the Request in 'msg' and returns the Response as a frame (4-byte
 * length and message) that the caller frees, with its length in '*len'.
 * Never returns NULL: when memory is short it returns a static frame
 * saying so, which rpc_frame_free() knows not to free. */
uint8_t *rpc_handle(const struct rpc_context *, const struct rpc_peer *,
                    const uint8_t *msg, size_t msg_len, size_t *len);

/* Returns a framed Response with 'status' and 'error' and no payload, for
 * a request that could not even be read. */
uint8_t *rpc_error_frame(Vswitch__Status status, const char *error,
                         size_t *len);

void rpc_frame_free(uint8_t *frame);

#endif /* switchd/rpc.h */
