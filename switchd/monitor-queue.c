#include <config.h>

#include "monitor-queue.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static const char *const kind_names[MONITOR_N_KINDS] = {
    [MONITOR_FDB] = "fdb",
    [MONITOR_PORT] = "port",
    [MONITOR_VNI] = "vni",
    [MONITOR_FLOW] = "flow",
    [MONITOR_MISSED] = "missed",
};

const char *
monitor_kind_name(enum monitor_kind kind)
{
    return kind < MONITOR_N_KINDS ? kind_names[kind] : "unknown";
}

struct monitor_event *
monitor_event_create(enum monitor_kind kind, const char *action)
{
    struct monitor_event *ev = xcalloc(1, sizeof *ev);

    ev->refs = 1;
    ev->size = sizeof *ev;
    ev->kind = kind;
    ev->action = action;
    return ev;
}

void
monitor_event_set(struct monitor_event *ev, char **field, const char *s)
{
    if (*field) {
        ev->size -= strlen(*field) + 1;
        free(*field);
    }
    *field = s ? xstrdup(s) : NULL;
    if (s) {
        ev->size += strlen(s) + 1;
    }
}

struct monitor_event *
monitor_event_ref(struct monitor_event *ev)
{
    ev->refs++;
    return ev;
}

void
monitor_event_unref(struct monitor_event *ev)
{
    if (ev && !--ev->refs) {
        free(ev->mac);
        free(ev->port);
        free(ev->remote);
        free(ev->from_port);
        free(ev->from_remote);
        free(ev->name);
        free(ev->port_type);
        free(ev->match);
        free(ev->actions);
        free(ev);
    }
}

void
monitor_queue_init(struct monitor_queue *q, size_t max_events,
                   size_t max_bytes)
{
    memset(q, 0, sizeof *q);
    q->max_events = max_events ? max_events : 1;
    q->max_bytes = max_bytes;
    q->ring = xcalloc(q->max_events, sizeof *q->ring);
}

void
monitor_queue_destroy(struct monitor_queue *q)
{
    struct monitor_event *ev;

    while (q->n && (ev = monitor_queue_pop(q))) {
        monitor_event_unref(ev);
    }
    free(q->ring);
    q->ring = NULL;
}

/* Says whether 'n' more events of 'bytes' fit in 'q'. */
static bool
fits(const struct monitor_queue *q, size_t n, size_t bytes)
{
    return q->n + n <= q->max_events && q->bytes + bytes <= q->max_bytes;
}

static void
append(struct monitor_queue *q, struct monitor_event *ev)
{
    q->ring[(q->head + q->n) % q->max_events] = ev;
    q->n++;
    q->bytes += ev->size;
}

/* Returns the "missed" event for what 'q' dropped, and forgets it. */
static struct monitor_event *
take_missed(struct monitor_queue *q)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_MISSED, NULL);

    ev->seq = q->last_missed;
    ev->time_us = q->missed_time_us;
    ev->count = q->missed;
    ev->first_seq = q->first_missed;
    q->missed = 0;
    return ev;
}

static bool
drop(struct monitor_queue *q, const struct monitor_event *ev)
{
    if (!q->missed) {
        q->first_missed = ev->seq;
    }
    q->missed++;
    q->total_missed++;
    q->last_missed = ev->seq;
    q->missed_time_us = ev->time_us;
    return false;
}

bool
monitor_queue_push(struct monitor_queue *q, struct monitor_event *ev)
{
    if (q->missed) {
        /* The gap is said where it is, before anything newer. */
        if (!fits(q, 2, ev->size + sizeof *ev)) {
            return drop(q, ev);
        }
        append(q, take_missed(q));
    } else if (!fits(q, 1, ev->size)) {
        return drop(q, ev);
    }
    append(q, monitor_event_ref(ev));
    return true;
}

struct monitor_event *
monitor_queue_pop(struct monitor_queue *q)
{
    struct monitor_event *ev;

    if (!q->n) {
        return q->missed ? take_missed(q) : NULL;
    }
    ev = q->ring[q->head];
    q->head = (q->head + 1) % q->max_events;
    q->n--;
    q->bytes -= ev->size;
    return ev;
}
