#ifndef SWITCHD_CONTROL_H
#define SWITCHD_CONTROL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* The control socket: a Unix stream socket on which clients send framed
 * requests and get framed responses, many clients at once.  Each client is
 * read and written without blocking, so a client that stops reading, sends
 * half a request or floods cannot stall forwarding or other clients:
 *
 *   - a request frame over FRAME_MAX_REQUEST gets an error and the
 *     connection is closed;
 *   - a partial frame left unfinished for CONTROL_PARTIAL_TIMEOUT, or no
 *     request at all for CONTROL_IDLE_TIMEOUT, closes the connection;
 *   - the daemon stops reading from a client whose replies pile up unread,
 *     and closes it past CONTROL_MAX_PENDING bytes;
 *   - at most CONTROL_MAX_CLIENTS connections are served at once. */

#define CONTROL_MAX_CLIENTS 256
#define CONTROL_PARTIAL_TIMEOUT 10000           /* ms. */
#define CONTROL_IDLE_TIMEOUT 60000              /* ms. */
#define CONTROL_MAX_PENDING (64u << 20)         /* Unsent reply bytes. */

struct control_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/* Handles one request message and returns the framed reply (owned by the
 * server from then on; freed with 'free_reply'). */
typedef uint8_t *control_handle_cb(void *aux, const struct control_peer *,
                                   const uint8_t *msg, size_t len,
                                   size_t *reply_len);

/* Returns a framed error reply for a request too large to read. */
typedef uint8_t *control_refuse_cb(void *aux, size_t announced,
                                   size_t *reply_len);

struct control_callbacks {
    control_handle_cb *handle;
    control_refuse_cb *refuse;
    void (*free_reply)(uint8_t *);
    void *aux;
};

struct control_server;

/* Listens on 'path' (which must not be in use: see vswitchd's lock), mode
 * 0660, owned by group 'gid' unless it is (gid_t) -1.  Returns 0 or an
 * errno value with a reason in 'error'. */
int control_server_create(uv_loop_t *, const char *path, gid_t gid,
                          const struct control_callbacks *,
                          struct control_server **, char *error,
                          size_t error_size);

/* Closes the socket and every connection and removes the socket file; the
 * memory goes once the loop has run the close callbacks. */
void control_server_destroy(struct control_server *);

#endif /* switchd/control.h */
