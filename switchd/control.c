#include <config.h>

#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "list.h"
#include "log.h"
#include "xmalloc.h"

struct control_request {
    struct control_client *client;
    size_t held;                /* Counted in the server's 'held'. */
    control_gone_cb *gone;      /* A stream's: see control_stream(). */
    void *gone_aux;
};

/* What a client's timer runs for. */
enum client_wait {
    WAIT_NONE,                  /* Not running: a request is in hand. */
    WAIT_IDLE,                  /* The next request. */
    WAIT_PARTIAL,               /* The rest of a request. */
    WAIT_UNREAD,                /* The client to take its answers. */
};

struct control_client {
    struct list node;           /* In server's 'clients' until closed. */
    struct list turn_node;      /* In server's 'ready' if 'queued'. */
    struct control_server *server;
    uv_pipe_t pipe;
    uv_timer_t timer;           /* Closes an idle or stuck connection. */
    struct frame_reader reader;
    struct control_peer peer;
    struct control_request request;
    size_t pending;             /* Reply bytes handed to uv_write(). */
    enum control_rank rank;     /* Which places it may take. */
    bool reading;
    bool closing;
    bool queued;                /* A whole request waits for its turn. */
    bool busy;                  /* A request is being answered. */
    bool in_handler;            /* ...and the handler has not returned. */
    bool large;                 /* Counted in the server's 'n_large'. */
    enum client_wait waiting;   /* What the timer runs for. */
    /* Freed once both handles are closed and no request is answered. */
    int n_handles_open;
    unsigned int id;
};

struct control_server {
    uv_loop_t *loop;
    uv_pipe_t listener;
    uv_idle_t turn;             /* Runs while requests wait their turn. */
    char *path;
    struct control_callbacks cb;
    struct list clients;
    struct list ready;          /* Clients whose request waits its turn. */
    size_t n_clients;
    size_t n_ranked[CONTROL_ADMIN];     /* Readers, writers. */
    size_t n_large;             /* Requests over FRAME_MAX_REQUEST being
                                 * read or handled. */
    size_t n_alive;             /* Clients not freed yet: the server's
                                 * memory outlives them. */
    size_t held;                /* Reply bytes being built, or handed to
                                 * uv_write() and not written yet. */
    bool memory_wanted;         /* control_try_hold() said no. */
    int n_handles_open;         /* Listener and idle handle. */
    unsigned int next_id;
    char read_buf[65536];       /* Shared: reads are handled at once. */
};

/* An answer is written in chunks of this many bytes, each its own
 * uv_write(): a chunk written is progress for a client that reads a large
 * answer slowly (see arm_timer()). */
#define WRITE_CHUNK (256u << 10)

/* One frame being written, a chunk per uv_write(). */
struct control_write {
    struct control_client *client;
    uint8_t *frame;
    size_t len;
    size_t n_left;              /* Chunks not completed yet. */
    bool close_after;
    uv_write_t chunks[];        /* Each's 'data' points here. */
};

static void client_close(struct control_client *);
static void client_next(struct control_client *);
static void arm_timer(struct control_client *);
static void stop_timer(struct control_client *);
static void on_turn(uv_idle_t *);

static void
server_maybe_free(struct control_server *server)
{
    if (!server->n_handles_open && !server->n_alive) {
        free(server->path);
        free(server);
    }
}

static void
client_maybe_free(struct control_client *client)
{
    struct control_server *server = client->server;

    if (!client->n_handles_open && !client->busy) {
        frame_reader_destroy(&client->reader);
        free(client);
        server->n_alive--;
        server_maybe_free(server);
    }
}

static void
on_handle_closed(uv_handle_t *handle)
{
    struct control_client *client = handle->data;
    control_gone_cb *gone = client->request.gone;

    client->n_handles_open--;
    if (handle == (uv_handle_t *) &client->pipe && gone) {
        /* It answers, which frees the client once nothing holds it. */
        client->request.gone = NULL;
        gone(client->request.gone_aux);
        return;
    }
    client_maybe_free(client);
}

/* Gives back the place of 'client''s large request, if it has one. */
static void
end_large(struct control_client *client)
{
    if (client->large) {
        client->large = false;
        client->server->n_large--;
    }
}

static void
client_close(struct control_client *client)
{
    struct control_server *server = client->server;

    if (client->closing) {
        return;
    }
    client->closing = true;
    if (!client->busy) {
        end_large(client);     /* Else once it is answered. */
    }
    list_remove(&client->node);
    if (client->queued) {
        list_remove(&client->turn_node);
        client->queued = false;
    }
    server->n_clients--;
    if (client->rank < CONTROL_ADMIN) {
        server->n_ranked[client->rank]--;
    }
    LOG_DBG("control", "client %u: closed", client->id);
    uv_timer_stop(&client->timer);
    uv_close((uv_handle_t *) &client->timer, on_handle_closed);
    uv_close((uv_handle_t *) &client->pipe, on_handle_closed);
}

static bool
memory_freed(const struct control_server *server)
{
    return server->memory_wanted && server->held < CONTROL_MAX_HELD;
}

/* Lets the requests that wait for their turn, or for memory, go on. */
static void
server_release(struct control_server *server, size_t bytes)
{
    server->held -= bytes;
    if ((!list_is_empty(&server->ready) || memory_freed(server))
        && !uv_is_closing((uv_handle_t *) &server->turn)) {
        uv_idle_start(&server->turn, on_turn);
    }
}

static void
on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct control_client *client = handle->data;

    (void) suggested;
    *buf = uv_buf_init(client->server->read_buf,
                       sizeof client->server->read_buf);
}

static void on_read(uv_stream_t *, ssize_t, const uv_buf_t *);

static void
set_reading(struct control_client *client, bool reading)
{
    if (client->closing || client->reading == reading) {
        return;
    }
    client->reading = reading;
    if (reading) {
        uv_read_start((uv_stream_t *) &client->pipe, on_alloc, on_read);
    } else {
        uv_read_stop((uv_stream_t *) &client->pipe);
    }
}

static size_t
chunk_len(const struct control_write *w, size_t i)
{
    size_t rest = w->len - i * WRITE_CHUNK;

    return rest < WRITE_CHUNK ? rest : WRITE_CHUNK;
}

/* Ends 'n' chunks of 'w', whose 'bytes' are written or never will be. */
static void
write_done(struct control_write *w, size_t n, size_t bytes)
{
    struct control_server *server = w->client->server;

    w->client->pending -= bytes;
    w->n_left -= n;
    if (!w->n_left) {
        server->cb.free_reply(w->frame);
        free(w);
    }
    server_release(server, bytes);
}

static void
on_write(uv_write_t *req, int status)
{
    struct control_write *w = req->data;
    struct control_client *client = w->client;
    bool last = w->n_left == 1;

    if (status < 0 && !client->closing) {
        LOG_DBG("control", "client %u: write failed: %s", client->id,
                uv_strerror(status));
        client_close(client);
    } else if (last && w->close_after) {
        client_close(client);
    }
    write_done(w, 1, chunk_len(w, (size_t) (req - w->chunks)));
    if (!client->closing && client->request.gone) {
        /* A stream: progress, timed afresh while more waits. */
        stop_timer(client);
        if (client->pending) {
            arm_timer(client);
        }
    } else if (!client->closing && !client->busy && !client->queued) {
        client->waiting = WAIT_NONE;    /* Progress: time afresh. */
        client_next(client);
    }
}

/* Queues 'frame' (taking it) to 'client'. */
static void
send_frame(struct control_client *client, uint8_t *frame, size_t len,
           bool close_after)
{
    size_t n = len / WRITE_CHUNK + (len % WRITE_CHUNK != 0);
    struct control_write *w = xmalloc(sizeof *w + n * sizeof *w->chunks);

    w->client = client;
    w->frame = frame;
    w->len = len;
    w->n_left = n;
    w->close_after = close_after;
    client->pending += len;
    client->server->held += len;
    for (size_t i = 0; i < n; i++) {
        uv_buf_t buf = uv_buf_init((char *) frame + i * WRITE_CHUNK,
                                   (unsigned int) chunk_len(w, i));

        w->chunks[i].data = w;
        if (uv_write(&w->chunks[i], (uv_stream_t *) &client->pipe, &buf, 1,
                     on_write)) {
            /* The chunks queued already are cancelled by the close. */
            client_close(client);
            write_done(w, n - i, len - i * WRITE_CHUNK);
            return;
        }
    }
}

/* What one client does wrong, any number of clients can repeat: these
 * warnings share one limit, so that nobody can fill the log. */
static struct log_rate_limit client_rl = LOG_RATE_LIMIT_INIT(20, 10);

static void
on_timeout(uv_timer_t *timer)
{
    struct control_client *client = timer->data;

    if (client->waiting == WAIT_UNREAD) {
        LOG_WARN_RL(&client_rl, "control", "client %u: %zu bytes of "
                    "answers unread after %d ms, closing", client->id,
                    client->pending, CONTROL_PARTIAL_TIMEOUT);
    } else if (client->waiting == WAIT_PARTIAL) {
        LOG_WARN_RL(&client_rl, "control", "client %u: request unfinished "
                    "after %d ms, closing", client->id,
                    CONTROL_PARTIAL_TIMEOUT);
    } else {
        LOG_DBG("control", "client %u: idle for %d ms, closing",
                client->id, CONTROL_IDLE_TIMEOUT);
    }
    client_close(client);
}

/* A connection gets CONTROL_IDLE_TIMEOUT to send a request and, once it
 * has started one, CONTROL_PARTIAL_TIMEOUT to finish it, so that idle or
 * stuck connections cannot hold the places of others.  It also gets
 * CONTROL_PARTIAL_TIMEOUT to take its answers, timed from its last
 * progress (a chunk of an answer written, so that a slow reader of a
 * large answer is not cut off), since while they wait unread they count
 * against CONTROL_MAX_HELD for everyone. */
static void
arm_timer(struct control_client *client)
{
    enum client_wait why = (client->pending ? WAIT_UNREAD
                            : frame_reader_has_partial(&client->reader)
                            ? WAIT_PARTIAL
                            : WAIT_IDLE);

    if (why != WAIT_IDLE && why == client->waiting) {
        return;                 /* Already timing this. */
    }
    client->waiting = why;
    uv_timer_start(&client->timer, on_timeout,
                   why == WAIT_IDLE ? CONTROL_IDLE_TIMEOUT
                   : CONTROL_PARTIAL_TIMEOUT, 0);
}

static void
stop_timer(struct control_client *client)
{
    uv_timer_stop(&client->timer);
    client->waiting = WAIT_NONE;
}

static void
refuse(struct control_client *client)
{
    struct control_server *server = client->server;
    size_t announced = frame_reader_announced(&client->reader);
    size_t limit = client->large || announced > client->reader.max
                   ? client->reader.max : FRAME_MAX_REQUEST;
    size_t reply_len;
    uint8_t *reply = server->cb.refuse(server->cb.aux, announced, limit,
                                       &reply_len);

    LOG_WARN_RL(&client_rl, "control", "client %u: request of %zu bytes "
                "refused", client->id, announced);
    set_reading(client, false);
    send_frame(client, reply, reply_len, true);
}

/* Decides what 'client', which has no request in progress, waits for: its
 * answers to drain, its turn for a request it has sent whole, or more
 * bytes. */
static void
client_next(struct control_client *client)
{
    struct control_server *server = client->server;
    const uint8_t *msg;
    size_t len;
    int error;

    if (client->pending >= CONTROL_READ_PAUSE) {
        set_reading(client, false);
        arm_timer(client);
        return;
    }
    if (!client->large
        && frame_reader_announced(&client->reader) > FRAME_MAX_REQUEST
        && frame_reader_announced(&client->reader) <= client->reader.max) {
        if (server->n_large >= CONTROL_MAX_LARGE_REQUESTS) {
            refuse(client);
            return;
        }
        client->large = true;
        server->n_large++;
    }
    error = frame_reader_next(&client->reader, &msg, &len);
    if (!error) {
        /* Whatever it pipelines stays in the socket meanwhile. */
        set_reading(client, false);
        stop_timer(client);
        client->queued = true;
        list_push_back(&server->ready, &client->turn_node);
        server_release(server, 0);
    } else if (error == EMSGSIZE) {
        refuse(client);
    } else {
        set_reading(client, true);
        arm_timer(client);
    }
}

static void
start_request(struct control_client *client)
{
    struct control_server *server = client->server;
    const uint8_t *msg;
    size_t len;

    frame_reader_next(&client->reader, &msg, &len);
    client->busy = true;
    client->in_handler = true;
    server->cb.handle(server->cb.aux, &client->peer, msg, len,
                      &client->request);
    client->in_handler = false;
    frame_reader_consume(&client->reader);
    if (!client->busy && !client->closing) {
        client_next(client);
    }
}

/* One turn: the answers that waited for memory, if there is some now, and
 * one request of each client that was waiting when it began, so that a
 * client with many requests cannot starve the others. */
static void
on_turn(uv_idle_t *turn)
{
    struct control_server *server = turn->data;
    struct control_client *client;
    struct list *last = server->ready.prev;
    bool done = list_is_empty(&server->ready);

    if (memory_freed(server)) {
        server->memory_wanted = false;
        server->cb.released(server->cb.aux);
    }
    while (!done) {
        client = CONTAINER_OF(list_front(&server->ready),
                              struct control_client, turn_node);
        done = &client->turn_node == last;
        list_remove(&client->turn_node);
        client->queued = false;
        start_request(client);
    }
    if (list_is_empty(&server->ready) && !memory_freed(server)) {
        uv_idle_stop(turn);
    }
}

bool
control_try_hold(struct control_request *req)
{
    struct control_server *server = req->client->server;

    if (server->held < CONTROL_MAX_HELD) {
        return true;
    }
    server->memory_wanted = true;
    return false;
}

void
control_hold(struct control_request *req, size_t bytes)
{
    req->held += bytes;
    req->client->server->held += bytes;
}

void
control_reply(struct control_request *req, uint8_t *frame, size_t len)
{
    struct control_client *client = req->client;
    struct control_server *server = client->server;
    size_t held = req->held;

    /* What the answer held while it was built, the frame now holds: the
     * bytes are counted from its start until its last one is written. */
    req->held = 0;
    req->gone = NULL;
    client->busy = false;
    /* The request, unpacked, was held until now. */
    end_large(client);
    if (client->closing) {
        server->cb.free_reply(frame);
        server_release(server, held);
        client_maybe_free(client);
        return;
    }
    send_frame(client, frame, len, false);
    server_release(server, held);
    if (!client->in_handler && !client->closing) {
        client_next(client);
    }
}

void
control_stream(struct control_request *req, control_gone_cb *gone,
               void *aux)
{
    struct control_client *client = req->client;

    req->gone = gone;
    req->gone_aux = aux;
    set_reading(client, true);
}

void
control_send(struct control_request *req, uint8_t *frame, size_t len)
{
    struct control_client *client = req->client;

    if (client->closing) {
        client->server->cb.free_reply(frame);
        return;
    }
    send_frame(client, frame, len, false);
    if (!client->closing) {
        arm_timer(client);
    }
}

size_t
control_unsent(const struct control_request *req)
{
    return req->client->pending;
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct control_client *client = stream->data;

    if (nread < 0) {
        client_close(client);
        return;
    }
    if (nread > 0) {
        if (client->request.gone) {
            LOG_WARN_RL(&client_rl, "control", "client %u: request sent "
                        "during a stream, closing", client->id);
            client_close(client);
            return;
        }
        if (frame_reader_feed(&client->reader, buf->base, (size_t) nread)) {
            client_close(client);
            return;
        }
        if (!client->busy && !client->queued) {
            client_next(client);
        }
    }
}

static void
get_peer(struct control_client *client)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    uv_os_fd_t fd;

    /* An unknown peer is treated as the least privileged one. */
    client->peer = (struct control_peer) { 0, (uid_t) -1, (gid_t) -1 };
    if (!uv_fileno((uv_handle_t *) &client->pipe, &fd)
        && !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
        client->peer = (struct control_peer) { cred.pid, cred.uid,
                                               cred.gid };
    }
}

static void
on_connection(uv_stream_t *listener, int status)
{
    struct control_server *server = listener->data;
    struct control_client *client;

    if (status < 0) {
        LOG_WARN_RL(&client_rl, "control", "accept: %s",
                    uv_strerror(status));
        return;
    }
    client = xcalloc(1, sizeof *client);
    client->server = server;
    uv_pipe_init(server->loop, &client->pipe, 0);
    uv_timer_init(server->loop, &client->timer);
    client->pipe.data = client;
    client->timer.data = client;
    client->n_handles_open = 2;
    client->rank = CONTROL_ADMIN;       /* Until known, counted as none. */
    client->request.client = client;
    client->id = server->next_id++;
    frame_reader_init(&client->reader, FRAME_MAX_REQUEST);
    list_push_back(&server->clients, &client->node);
    server->n_clients++;
    server->n_alive++;

    if (uv_accept(listener, (uv_stream_t *) &client->pipe)) {
        client_close(client);
        return;
    }
    get_peer(client);
    client->rank = server->cb.rank(server->cb.aux, &client->peer);
    if (client->rank < CONTROL_ADMIN) {
        server->n_ranked[client->rank]++;
    }
    if (client->rank >= CONTROL_WRITER) {
        client->reader.max = FRAME_MAX_LARGE_REQUEST;
    }
    /* The last places are kept for those who may change the
     * configuration, and the very last for root, so that neither idle
     * readers nor a member of the socket's group can lock root out. */
    if (server->n_clients > CONTROL_MAX_CLIENTS
        || server->n_ranked[CONTROL_READER] > (CONTROL_MAX_CLIENTS
                                               - CONTROL_RESERVED_CLIENTS)
        || (server->n_ranked[CONTROL_READER]
            + server->n_ranked[CONTROL_WRITER]) > (CONTROL_MAX_CLIENTS
                                                   - CONTROL_ADMIN_CLIENTS)) {
        LOG_WARN_RL(&client_rl, "control", "%zu clients, %zu of them "
                    "read-only: refusing new ones", server->n_clients - 1,
                    server->n_ranked[CONTROL_READER]
                    - (client->rank == CONTROL_READER));
        client_close(client);
        return;
    }
    LOG_DBG("control", "client %u: connected (pid %d uid %d)", client->id,
            (int) client->peer.pid, (int) client->peer.uid);
    set_reading(client, true);
    arm_timer(client);
}

static void
on_server_handle_closed(uv_handle_t *handle)
{
    struct control_server *server = handle->data;

    server->n_handles_open--;
    server_maybe_free(server);
}

/* Removes the socket at 'path', if there is one.  Returns 0, or EEXIST
 * if something other than a socket is there, or another errno value. */
static int
remove_stale_socket(const char *path)
{
    struct stat st;

    if (lstat(path, &st)) {
        return errno == ENOENT ? 0 : errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        return EEXIST;
    }
    return unlink(path) ? errno : 0;
}

int
control_server_create(uv_loop_t *loop, const char *path, gid_t gid,
                      const struct control_callbacks *cb,
                      struct control_server **serverp, char *error,
                      size_t error_size)
{
    struct control_server *server = xcalloc(1, sizeof *server);
    bool bound = false;
    int err;

    server->loop = loop;
    server->cb = *cb;
    server->path = xstrdup(path);
    list_init(&server->clients);
    list_init(&server->ready);
    uv_idle_init(loop, &server->turn);
    server->turn.data = server;
    uv_pipe_init(loop, &server->listener, 0);
    server->listener.data = server;
    server->n_handles_open = 2;

    /* The lock held by vswitchd guarantees a leftover socket is stale, so
     * it can go; anything else at 'path' is somebody's file. */
    /* 'err' holds libuv's negative codes from here on. */
    err = -remove_stale_socket(path);
    if (!err) {
        err = uv_pipe_bind(&server->listener, path);
        bound = !err;
    }
    if (!err && chmod(path, 0660)) {
        err = -errno;
    }
    if (!err && gid != (gid_t) -1 && chown(path, (uid_t) -1, gid)) {
        err = -errno;
    }
    if (!err) {
        err = uv_listen((uv_stream_t *) &server->listener, 128,
                        on_connection);
    }
    if (err) {
        snprintf(error, error_size, "%s: %s", path, err == UV_EEXIST && !bound
                 ? "exists and is not a socket" : uv_strerror(err));
        if (bound) {
            unlink(path);
        }
        uv_close((uv_handle_t *) &server->turn, on_server_handle_closed);
        uv_close((uv_handle_t *) &server->listener, on_server_handle_closed);
        return -err;
    }
    *serverp = server;
    return 0;
}

void
control_server_destroy(struct control_server *server)
{
    struct control_client *client;

    if (!server) {
        return;
    }
    LIST_FOR_EACH_SAFE (client, node, &server->clients) {
        client_close(client);
    }
    unlink(server->path);
    uv_close((uv_handle_t *) &server->turn, on_server_handle_closed);
    uv_close((uv_handle_t *) &server->listener, on_server_handle_closed);
}
