#ifndef SWITCHD_CONTROL_H
#define SWITCHD_CONTROL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* The control socket: a Unix stream socket on which clients send framed
 * requests and get framed responses, many clients at once.  Each client is
 * read and written without blocking, and served in turn, so that a client
 * that stops reading, sends half a request, floods or asks for a lot cannot
 * stall forwarding or other clients:
 *
 *   - a request frame over FRAME_MAX_REQUEST (FRAME_MAX_LARGE_REQUEST
 *     from a client that may change the configuration) gets an error and
 *     the connection is closed, and so does one over FRAME_MAX_REQUEST
 *     while CONTROL_MAX_LARGE_REQUESTS others are being read, wait for
 *     their turn or are being answered, so that at most that many large
 *     requests are held in all;
 *   - a partial frame left unfinished for CONTROL_PARTIAL_TIMEOUT, answers
 *     of which not one chunk of 256 KiB is written for as long (the
 *     client reads too little of them), or no request at all for
 *     CONTROL_IDLE_TIMEOUT, closes the connection;
 *   - each loop turn starts at most one request of each client, and a
 *     client's next request waits until the answer to the previous one is
 *     built and mostly sent (less than CONTROL_READ_PAUSE unsent); the
 *     daemon reads no more of a client than its next request meanwhile;
 *   - answers that hold much memory while they are built wait, their
 *     clients paused, while the answers being built (see control_hold())
 *     and those not written yet hold CONTROL_MAX_HELD bytes or more in
 *     all, so that those hold at most that much and one answer more;
 *   - at most CONTROL_MAX_CLIENTS connections are served at once; the last
 *     CONTROL_RESERVED_CLIENTS of those places are kept for clients
 *     allowed to change the configuration, and the last
 *     CONTROL_ADMIN_CLIENTS of those for root and the daemon's user, so
 *     that neither idle readers nor a member of the socket's group can
 *     lock root out. */

#define CONTROL_MAX_CLIENTS 256
#define CONTROL_RESERVED_CLIENTS 16
#define CONTROL_ADMIN_CLIENTS 4
#define CONTROL_PARTIAL_TIMEOUT 10000           /* ms. */
#define CONTROL_IDLE_TIMEOUT 60000              /* ms. */
#define CONTROL_READ_PAUSE (1u << 20)           /* Unsent reply bytes. */
#define CONTROL_MAX_HELD (64u << 20)            /* Bytes, all clients. */
#define CONTROL_MAX_LARGE_REQUESTS 4

struct control_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/* One request of a client, from the handler's call until the handler
 * answers it with control_reply(). */
struct control_request;

/* Handles one request message.  The message is valid only during the
 * call; the answer is given to control_reply(), before the handler returns
 * or later from the loop. */
typedef void control_handle_cb(void *aux, const struct control_peer *,
                               const uint8_t *msg, size_t len,
                               struct control_request *);

/* Returns a framed error reply for a request too large to read: it
 * announces 'announced' bytes and 'limit' was the most it could have. */
typedef uint8_t *control_refuse_cb(void *aux, size_t announced,
                                   size_t limit, size_t *reply_len);

/* Returns true if 'peer' may change the configuration. */
/* How far a peer is trusted, for the places kept back for the more
 * trusted (see CONTROL_RESERVED_CLIENTS). */
enum control_rank {
    CONTROL_READER,             /* May only read. */
    CONTROL_WRITER,             /* May change the configuration. */
    CONTROL_ADMIN,              /* Root, or the daemon's own user. */
};

typedef enum control_rank control_rank_cb(void *aux,
                                          const struct control_peer *);

struct control_callbacks {
    control_handle_cb *handle;
    control_refuse_cb *refuse;
    control_rank_cb *rank;
    void (*free_reply)(uint8_t *);
    void (*released)(void *aux);    /* See control_try_hold(). */
    void *aux;
};

/* Returns true if an answer that will hold much memory may start building
 * for 'req': if the answers being built and those not written yet hold
 * less than CONTROL_MAX_HELD.  If not, the callbacks' 'released' is called
 * from a later loop turn, once they do: try again then. */
bool control_try_hold(struct control_request *);

/* Counts 'bytes' more of memory held for the answer to 'req', which is
 * built over several loop turns, against CONTROL_MAX_HELD until the answer
 * is written: one budget for answers being built and answers unsent. */
void control_hold(struct control_request *, size_t bytes);

/* Answers 'req' with the framed reply 'frame' (taken: freed with the
 * callbacks' 'free_reply'), which ends the request.  If the client went
 * away meanwhile the reply is only freed. */
void control_reply(struct control_request *, uint8_t *frame, size_t len);

/* Streams.  A handler may answer 'req' with many frames (a live
 * capture): control_stream() says so, control_send() sends each frame but
 * the last, and control_reply() the last, which ends the request as ever.
 * Meanwhile the client is read on, so that its going away is seen; bytes
 * it sends close it, since a request is in progress.  Frames it does not
 * take count against CONTROL_MAX_HELD, and a client that takes none of
 * them for CONTROL_PARTIAL_TIMEOUT is closed, as for any answer.
 *
 * Once the client has gone, 'gone' is called (from a later loop turn) and
 * must end the request with control_reply() before it returns, whose
 * frame is then only freed. */
typedef void control_gone_cb(void *aux);
void control_stream(struct control_request *, control_gone_cb *gone,
                    void *aux);

/* Sends the framed reply 'frame' (taken) to the client of 'req', which
 * control_stream() made a stream, without ending the request. */
void control_send(struct control_request *, uint8_t *frame, size_t len);

/* Returns how many bytes of what was sent to the client of 'req' it has
 * not taken yet. */
size_t control_unsent(const struct control_request *);

struct control_server;

/* Listens on 'path' (which must not be in use: see vswitchd's lock), mode
 * 0660, owned by group 'gid' unless it is (gid_t) -1.  Returns 0 or an
 * errno value with a reason in 'error'. */
int control_server_create(uv_loop_t *, const char *path, gid_t gid,
                          const struct control_callbacks *,
                          struct control_server **, char *error,
                          size_t error_size);

/* Closes the socket and every connection and removes the socket file; the
 * memory goes once the loop has run the close callbacks and every request
 * in progress has been answered. */
void control_server_destroy(struct control_server *);

#endif /* switchd/control.h */
