#include <config.h>

#include "live-capture.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bridge.h"
#include "capture-buffer.h"
#include "capture-filter.h"
#include "config-edit.h"
#include "control.h"
#include "frame.h"
#include "headers.h"
#include "list.h"
#include "log.h"
#include "packet.h"
#include "port.h"
#include "port-offload.h"
#include "wire-capture.h"
#include "xmalloc.h"

/* A wire capture reads at most this many frames per wakeup, so that a
 * busy underlay cannot starve the ports. */
#define LIVE_CAPTURE_READ_MAX 64

struct live_capture_set {
    uv_loop_t *loop;
    struct bridge *bridge;
    struct list captures;       /* Running ones. */
    size_t n;
};

struct live_capture {
    struct list node;           /* In set's 'captures' while running. */
    struct live_capture_set *set;
    struct control_request *req;
    char *port;                 /* Its name, for the log. */
    struct bridge_tap tap;
    char *expr;                 /* The user's filter; NULL for none. */
    unsigned int duration;      /* Seconds; 0: no limit. */
    bool wired;                 /* The VXLAN port's: a packet socket. */
    struct capture_filter filter;       /* Ports other than the VXLAN's. */
    struct capture_filter kernel;       /* The packet socket's, until it
                                         * is attached. */
    struct capture_buffer buf;
    unsigned int dirs;          /* Set of 1 << enum capture_dir. */
    uint64_t max_frames;        /* 0: no limit. */
    uint64_t lost_sent;         /* The count the last chunk carried. */
    const char *end;            /* Why it is ending; NULL while not. */

    uv_check_t flusher;         /* Runs while a chunk or the end waits. */
    uv_timer_t timer;           /* The duration. */
    int n_handles_open;

    /* The VXLAN port's: a packet socket (-1 for other ports). */
    int fd;
    uv_poll_t poll;
    bool polling;
    struct wire_capture_config wire;
    char dev[IFNAMSIZ];
};

struct live_capture_set *
live_capture_set_create(uv_loop_t *loop, struct bridge *bridge)
{
    struct live_capture_set *set = xcalloc(1, sizeof *set);

    set->loop = loop;
    set->bridge = bridge;
    list_init(&set->captures);
    return set;
}

/* Packs a Response carrying the records 'cap' holds, and 'end' if it is
 * the last.  Returns the frame (freed by the control server's
 * free_reply). */
static uint8_t *
pack_chunk(struct live_capture *cap, const char *end, size_t *len)
{
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    Vswitch__CaptureChunk chunk = VSWITCH__CAPTURE_CHUNK__INIT;
    uint8_t *frame;

    chunk.records.data = cap->buf.records;
    chunk.records.len = cap->buf.len;
    chunk.directions.data = cap->buf.dirs;
    chunk.directions.len = cap->buf.n;
    chunk.frames = cap->buf.frames;
    chunk.lost = cap->buf.lost;
    chunk.end = (char *) end;
    resp.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    resp.status = VSWITCH__STATUS__STATUS_OK;
    resp.payload_case = VSWITCH__RESPONSE__PAYLOAD_CAPTURE;
    resp.capture = &chunk;
    /* A chunk is far below the largest response: only memory can fail,
     * which xmalloc() elsewhere does not survive either. */
    frame = frame_pack(&resp.base, FRAME_MAX_RESPONSE, len);
    if (!frame) {
        out_of_memory();
    }
    cap->lost_sent = cap->buf.lost;
    capture_buffer_clear(&cap->buf);
    return frame;
}

static void
on_closed(uv_handle_t *handle)
{
    struct live_capture *cap = handle->data;

    if (!--cap->n_handles_open) {
        if (cap->fd >= 0) {
            close(cap->fd);
        }
        capture_buffer_destroy(&cap->buf);
        free(cap->expr);
        free(cap->port);
        free(cap);
    }
}

/* Ends 'cap' now, for reason 'why': the last chunk goes out with what it
 * holds (or is only freed if the client went away). */
static void
finish(struct live_capture *cap, const char *why)
{
    uint8_t *frame;
    size_t len;

    list_remove(&cap->node);
    cap->set->n--;
    bridge_tap_detach(&cap->tap);
    LOG_INFO("capture", "port %s: capture ended (%s): %llu frames, %llu "
             "lost", cap->port, why, (unsigned long long) cap->buf.frames,
             (unsigned long long) cap->buf.lost);
    frame = pack_chunk(cap, why, &len);
    control_reply(cap->req, frame, len);
    capture_filter_free(&cap->filter);
    uv_close((uv_handle_t *) &cap->flusher, on_closed);
    uv_close((uv_handle_t *) &cap->timer, on_closed);
    if (cap->fd >= 0) {
        uv_close((uv_handle_t *) &cap->poll, on_closed);
    }
}

static void on_readable(uv_poll_t *, int status, int events);

static void
set_polling(struct live_capture *cap, bool on)
{
    if (cap->fd >= 0 && cap->polling != on) {
        cap->polling = on;
        if (on) {
            uv_poll_start(&cap->poll, UV_READABLE, on_readable);
        } else {
            uv_poll_stop(&cap->poll);
        }
    }
}

/* Runs after the loop's I/O while 'cap' holds a chunk or its end: sends
 * the chunk once the one before is written, so that a capture holds at
 * most one chunk in the socket and one in its buffer. */
static void
on_flush(uv_check_t *check)
{
    struct live_capture *cap = check->data;
    uint8_t *frame;
    size_t len;

    if (cap->end) {
        finish(cap, cap->end);
        return;
    }
    if (control_unsent(cap->req)) {
        return;
    }
    if (cap->buf.n || cap->buf.lost != cap->lost_sent) {
        frame = pack_chunk(cap, NULL, &len);
        control_send(cap->req, frame, len);
    }
    set_polling(cap, true);
    uv_check_stop(check);
}

static void
flush_soon(struct live_capture *cap)
{
    uv_check_start(&cap->flusher, on_flush);
}

/* Ends 'cap' from the loop's next turn: not from inside a tap, whose
 * list must stay as it is. */
static void
end_soon(struct live_capture *cap, const char *why)
{
    if (!cap->end) {
        cap->end = why;
        set_polling(cap, false);
        flush_soon(cap);
    }
}

static bool
count_reached(const struct live_capture *cap)
{
    return cap->max_frames && cap->buf.frames >= cap->max_frames;
}

static void
on_frames(void *aux, const struct packet_batch *batch, bool out)
{
    struct live_capture *cap = aux;
    enum capture_dir dir = out ? CAPTURE_DIR_OUT : CAPTURE_DIR_IN;
    struct timeval now;

    if (cap->end || !(cap->dirs & (1u << dir))) {
        return;
    }
    gettimeofday(&now, NULL);
    for (size_t i = 0; i < batch->count; i++) {
        const struct packet *p = batch->packets[i];

        if (capture_filter_match(&cap->filter, packet_data(p),
                                 packet_size(p))) {
            capture_buffer_add(&cap->buf, &now, dir, packet_data(p),
                               packet_size(p));
            if (count_reached(cap)) {
                end_soon(cap, "count reached");
                return;
            }
        }
    }
    flush_soon(cap);
}

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    struct live_capture *cap = poll->data;
    size_t max = LIVE_CAPTURE_READ_MAX;
    bool full = false;

    (void) events;
    if (status < 0) {
        /* An error on the socket (ENETDOWN: the device went down), which
         * the read below takes: libuv has stopped polling, and the socket
         * takes frames again once the device is back up. */
        cap->polling = false;
    }
    if (cap->max_frames) {
        uint64_t left = cap->max_frames - cap->buf.frames;

        max = left < max ? (size_t) left : max;
    }
    wire_capture_read(cap->fd, &cap->wire, cap->dirs, &cap->buf, max,
                      &full);
    if (count_reached(cap)) {
        end_soon(cap, "count reached");
        return;
    }
    if (full) {
        /* The buffer is full: the socket holds the rest, or the kernel
         * drops it, counted, until the chunk is sent. */
        set_polling(cap, false);
    }
    flush_soon(cap);
}

static void
on_duration(uv_timer_t *timer)
{
    end_soon(timer->data, "duration over");
}

static void
on_port_gone(void *aux)
{
    finish(aux, "port deleted");
}

static void
on_client_gone(void *aux)
{
    finish(aux, "client gone");
}

/* Fills in the wire capture's settings from the VXLAN port's
 * configuration 'pc', checked when it was added. */
static int
wire_settings(struct live_capture *cap, const Vswitch__PortConfig *pc,
              char *error, size_t error_size)
{
    const char *local = config_port_option(pc, "local_ip");
    const char *dev = config_port_option(pc, "dev");
    const char *port = config_port_option(pc, "dst_port");

    if (!local || !inet_parse(local, &cap->wire.local)) {
        snprintf(error, error_size, "port %s has no local_ip", pc->name);
        return EINVAL;
    }
    snprintf(cap->dev, sizeof cap->dev, "%s", dev ? dev : "");
    cap->wire.dev = cap->dev;
    cap->wire.dst_port = port ? (uint16_t) atoi(port) : VXLAN_DST_PORT;
    return 0;
}

static unsigned int
directions(const Vswitch__Capture *c)
{
    switch (c->has_direction ? c->direction
            : VSWITCH__CAPTURE_DIRECTION__CAPTURE_BOTH) {
    case VSWITCH__CAPTURE_DIRECTION__CAPTURE_IN:
        return 1u << CAPTURE_DIR_IN;
    case VSWITCH__CAPTURE_DIRECTION__CAPTURE_OUT:
        return 1u << CAPTURE_DIR_OUT;
    case VSWITCH__CAPTURE_DIRECTION__CAPTURE_BOTH:
    case _VSWITCH__CAPTURE_DIRECTION_IS_INT_SIZE:
    default:
        return (1u << CAPTURE_DIR_IN) | (1u << CAPTURE_DIR_OUT);
    }
}

/* Frees 'cap', which has not started.  Accepts NULL. */
void
live_capture_abort(struct live_capture *cap)
{
    if (cap) {
        capture_filter_free(&cap->filter);
        capture_filter_free(&cap->kernel);
        free(cap->expr);
        free(cap->port);
        free(cap);
    }
}

Vswitch__Status
live_capture_prepare(struct live_capture_set *set, const Vswitch__Capture *c,
                     bool root, struct live_capture **capp, char *error,
                     size_t error_size)
{
    const Vswitch__PortConfig *pc;
    const struct port_class *class;
    struct live_capture *cap;

    if (set->n >= LIVE_CAPTURE_MAX) {
        snprintf(error, error_size, "%d captures are running, the most at "
                 "once", LIVE_CAPTURE_MAX);
        return VSWITCH__STATUS__STATUS_FAILED;
    }
    if (!root && set->n >= LIVE_CAPTURE_MAX - 1) {
        snprintf(error, error_size, "%zu captures are running: the last "
                 "one is kept for root", set->n);
        return VSWITCH__STATUS__STATUS_FAILED;
    }
    pc = config_find_port(bridge_config(set->bridge), c->port);
    if (!pc) {
        snprintf(error, error_size, "no port %s", c->port);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }
    cap = xcalloc(1, sizeof *cap);
    cap->set = set;
    cap->fd = -1;
    cap->port = xstrdup(c->port);
    cap->expr = c->filter && *c->filter ? xstrdup(c->filter) : NULL;
    cap->dirs = directions(c);
    cap->max_frames = c->has_count ? c->count : 0;
    cap->duration = c->has_duration ? c->duration : 0;
    class = port_class_find(pc->type);
    cap->wired = class && class->dp_kind == DP_PORT_TUNNEL;
    if (cap->wired && wire_settings(cap, pc, error, error_size)) {
        live_capture_abort(cap);
        return VSWITCH__STATUS__STATUS_INVALID;
    }
    *capp = cap;
    return VSWITCH__STATUS__STATUS_OK;
}

Vswitch__Status
live_capture_compile(struct live_capture *cap, char *error,
                     size_t error_size)
{
    int err;

    if (cap->wired) {
        cap->filter.all = true;
        err = wire_capture_compile(&cap->wire, cap->expr, &cap->kernel,
                                   error, error_size);
    } else {
        err = capture_filter_compile(&cap->filter, cap->expr, error,
                                     error_size);
    }
    return !err ? VSWITCH__STATUS__STATUS_OK
           : err == EINVAL ? VSWITCH__STATUS__STATUS_INVALID
           : VSWITCH__STATUS__STATUS_FAILED;
}

/* Attaches 'cap' to its port and opens its packet socket, if it is the
 * VXLAN port's.  Returns an error status with a reason in 'error'. */
static Vswitch__Status
attach(struct live_capture *cap, char *error, size_t error_size)
{
    int err;

    cap->tap.frames = cap->wired ? NULL : on_frames;
    cap->tap.gone = on_port_gone;
    cap->tap.aux = cap;
    list_init(&cap->tap.node);
    if (bridge_tap_attach(cap->set->bridge, cap->port, &cap->tap)) {
        snprintf(error, error_size, "no port %s", cap->port);
        return VSWITCH__STATUS__STATUS_NOT_FOUND;
    }
    if (cap->wired) {
        err = wire_capture_open(&cap->wire, &cap->kernel, &cap->fd, error,
                                error_size);
        if (err) {
            bridge_tap_detach(&cap->tap);
            return VSWITCH__STATUS__STATUS_FAILED;
        }
    }
    return VSWITCH__STATUS__STATUS_OK;
}

Vswitch__Status
live_capture_start(struct live_capture *cap, struct control_request *req,
                   char *error, size_t error_size)
{
    struct live_capture_set *set = cap->set;
    Vswitch__Status status = attach(cap, error, error_size);
    uint8_t *frame;
    size_t len;

    capture_filter_free(&cap->kernel);
    if (status != VSWITCH__STATUS__STATUS_OK) {
        live_capture_abort(cap);
        return status;
    }
    cap->req = req;
    capture_buffer_init(&cap->buf, LIVE_CAPTURE_BUFFER);
    list_push_back(&set->captures, &cap->node);
    set->n++;

    uv_check_init(set->loop, &cap->flusher);
    cap->flusher.data = cap;
    uv_timer_init(set->loop, &cap->timer);
    cap->timer.data = cap;
    cap->n_handles_open = 2;
    if (cap->duration) {
        uv_timer_start(&cap->timer, on_duration,
                       (uint64_t) cap->duration * 1000, 0);
    }
    if (cap->fd >= 0) {
        uv_poll_init_socket(set->loop, &cap->poll, cap->fd);
        cap->poll.data = cap;
        cap->n_handles_open++;
        set_polling(cap, true);
    }
    control_stream(req, on_client_gone, cap);
    /* The first chunk, empty, says that the capture runs. */
    frame = pack_chunk(cap, NULL, &len);
    control_send(req, frame, len);
    LOG_INFO("capture", "port %s: capture started", cap->port);
    return VSWITCH__STATUS__STATUS_OK;
}

void
live_capture_stop_all(struct live_capture_set *set)
{
    struct live_capture *cap;

    LIST_FOR_EACH_SAFE (cap, node, &set->captures) {
        finish(cap, "vswitchd is stopping");
    }
}

void
live_capture_set_destroy(struct live_capture_set *set)
{
    if (set) {
        live_capture_stop_all(set);
        free(set);
    }
}
