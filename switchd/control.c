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

/* Stop reading from a client once this much of its replies is unsent. */
#define CONTROL_READ_PAUSE (1u << 20)

struct control_client {
    struct list node;           /* In server's 'clients'. */
    struct control_server *server;
    uv_pipe_t pipe;
    uv_timer_t timer;           /* Closes an idle or stuck connection. */
    struct frame_reader reader;
    struct control_peer peer;
    size_t pending;             /* Reply bytes handed to uv_write(). */
    bool reading;
    bool closing;
    bool timing_partial;        /* The timer runs for a partial request. */
    int n_handles_open;         /* Freed when both handles are closed. */
    unsigned int id;
};

struct control_server {
    uv_loop_t *loop;
    uv_pipe_t listener;
    char *path;
    struct control_callbacks cb;
    struct list clients;
    size_t n_clients;
    unsigned int next_id;
    uint64_t next_full_warning; /* Loop time; rate-limits a warning. */
    char read_buf[65536];       /* Shared: reads are handled at once. */
};

struct control_write {
    uv_write_t req;
    struct control_client *client;
    uint8_t *frame;
    size_t len;
    bool close_after;
    /* A copy: at shutdown libuv cancels queued writes after the server,
     * which holds the callbacks, is gone. */
    void (*free_reply)(uint8_t *);
};

static void client_close(struct control_client *);

static void
on_handle_closed(uv_handle_t *handle)
{
    struct control_client *client = handle->data;

    if (!--client->n_handles_open) {
        frame_reader_destroy(&client->reader);
        free(client);
    }
}

static void
client_close(struct control_client *client)
{
    if (client->closing) {
        return;
    }
    client->closing = true;
    list_remove(&client->node);
    client->server->n_clients--;
    LOG_DBG("control", "client %u: closed", client->id);
    uv_timer_stop(&client->timer);
    uv_close((uv_handle_t *) &client->timer, on_handle_closed);
    uv_close((uv_handle_t *) &client->pipe, on_handle_closed);
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

static void
on_write(uv_write_t *req, int status)
{
    struct control_write *w = CONTAINER_OF(req, struct control_write, req);
    struct control_client *client = w->client;

    client->pending -= w->len;
    w->free_reply(w->frame);
    if (status < 0 && !client->closing) {
        LOG_DBG("control", "client %u: write failed: %s", client->id,
                uv_strerror(status));
        client_close(client);
    } else if (w->close_after) {
        client_close(client);
    } else if (client->pending < CONTROL_READ_PAUSE) {
        set_reading(client, true);
    }
    free(w);
}

/* Queues 'frame' (taking it) to 'client'. */
static void
send_frame(struct control_client *client, uint8_t *frame, size_t len,
           bool close_after)
{
    struct control_write *w = xmalloc(sizeof *w);
    uv_buf_t buf = uv_buf_init((char *) frame, (unsigned int) len);
    int error;

    w->client = client;
    w->frame = frame;
    w->len = len;
    w->close_after = close_after;
    w->free_reply = client->server->cb.free_reply;
    client->pending += len;
    error = uv_write(&w->req, (uv_stream_t *) &client->pipe, &buf, 1,
                     on_write);
    if (error) {
        client->pending -= len;
        client->server->cb.free_reply(frame);
        free(w);
        client_close(client);
        return;
    }
    if (client->pending > CONTROL_MAX_PENDING) {
        LOG_WARN("control", "client %u: %zu bytes of replies unread, "
                 "closing", client->id, client->pending);
        client_close(client);
    } else if (client->pending >= CONTROL_READ_PAUSE) {
        set_reading(client, false);
    }
}

static void
on_timeout(uv_timer_t *timer)
{
    struct control_client *client = timer->data;

    if (frame_reader_has_partial(&client->reader)) {
        LOG_WARN("control", "client %u: request unfinished after %d ms, "
                 "closing", client->id, CONTROL_PARTIAL_TIMEOUT);
    } else {
        LOG_DBG("control", "client %u: idle for %d ms, closing",
                client->id, CONTROL_IDLE_TIMEOUT);
    }
    client_close(client);
}

/* A connection gets CONTROL_IDLE_TIMEOUT to send a request and, once it
 * has started one, CONTROL_PARTIAL_TIMEOUT to finish it, so that idle or
 * stuck connections cannot hold the places of others. */
static void
arm_timer(struct control_client *client)
{
    bool partial = frame_reader_has_partial(&client->reader);

    if (partial && client->timing_partial) {
        return;                 /* Already timing this request. */
    }
    client->timing_partial = partial;
    uv_timer_start(&client->timer, on_timeout,
                   partial ? CONTROL_PARTIAL_TIMEOUT : CONTROL_IDLE_TIMEOUT,
                   0);
}

static void
handle_frames(struct control_client *client)
{
    struct control_server *server = client->server;
    const uint8_t *msg;
    size_t len;
    int error;

    while (!client->closing
           && !(error = frame_reader_next(&client->reader, &msg, &len))) {
        size_t reply_len;
        uint8_t *reply = server->cb.handle(server->cb.aux, &client->peer,
                                           msg, len, &reply_len);

        frame_reader_consume(&client->reader);
        send_frame(client, reply, reply_len, false);
    }
    if (client->closing) {
        return;
    }
    if (error == EMSGSIZE) {
        const uint8_t *h = client->reader.buf;
        size_t announced = (size_t) h[0] << 24 | (size_t) h[1] << 16
                           | (size_t) h[2] << 8 | h[3];
        size_t reply_len;
        uint8_t *reply = server->cb.refuse(server->cb.aux, announced,
                                           &reply_len);

        LOG_WARN("control", "client %u: request of %zu bytes refused",
                 client->id, announced);
        set_reading(client, false);
        send_frame(client, reply, reply_len, true);
    } else {
        arm_timer(client);
    }
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
        if (frame_reader_feed(&client->reader, buf->base, (size_t) nread)) {
            client_close(client);
            return;
        }
        handle_frames(client);
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
        LOG_WARN("control", "accept: %s", uv_strerror(status));
        return;
    }
    client = xcalloc(1, sizeof *client);
    client->server = server;
    uv_pipe_init(server->loop, &client->pipe, 0);
    uv_timer_init(server->loop, &client->timer);
    client->pipe.data = client;
    client->timer.data = client;
    client->n_handles_open = 2;
    client->id = server->next_id++;
    frame_reader_init(&client->reader, FRAME_MAX_REQUEST);
    list_push_back(&server->clients, &client->node);
    server->n_clients++;

    if (uv_accept(listener, (uv_stream_t *) &client->pipe)) {
        client_close(client);
        return;
    }
    if (server->n_clients > CONTROL_MAX_CLIENTS) {
        uint64_t now = uv_now(server->loop);

        /* A client retrying in a loop must not flood the log. */
        if (now >= server->next_full_warning) {
            LOG_WARN("control", "more than %d clients, refusing new ones",
                     CONTROL_MAX_CLIENTS);
            server->next_full_warning = now + 10000;
        }
        client_close(client);
        return;
    }
    get_peer(client);
    LOG_DBG("control", "client %u: connected (pid %d uid %d)", client->id,
            (int) client->peer.pid, (int) client->peer.uid);
    set_reading(client, true);
    arm_timer(client);
}

static void
on_listener_closed(uv_handle_t *handle)
{
    struct control_server *server = handle->data;

    free(server->path);
    free(server);
}

/* Removes the socket at 'path', if there is one.  Returns 0, or a
 * negative errno value (as libuv's) if something other than a socket is
 * there. */
static int
remove_stale_socket(const char *path)
{
    struct stat st;

    if (lstat(path, &st)) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        return UV_EEXIST;
    }
    return unlink(path) ? -errno : 0;
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
    uv_pipe_init(loop, &server->listener, 0);
    server->listener.data = server;

    /* The lock held by vswitchd guarantees a leftover socket is stale, so
     * it can go; anything else at 'path' is somebody's file. */
    err = remove_stale_socket(path);
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
        uv_close((uv_handle_t *) &server->listener, on_listener_closed);
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
    uv_close((uv_handle_t *) &server->listener, on_listener_closed);
}
