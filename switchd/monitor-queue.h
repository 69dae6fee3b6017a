#ifndef SWITCHD_MONITOR_QUEUE_H
#define SWITCHD_MONITOR_QUEUE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The events of vswitch-ctl monitor, and the bounded queue of each
 * monitor's client.
 *
 * An event is made once and shared by the queues of every monitor that
 * follows its kind: it counts its references.  A queue holds at most so
 * many events and so many bytes of them; an event that does not fit is
 * dropped and counted (the newest are dropped: the queue keeps the oldest,
 * so that what the client gets has one gap, not many), and once there is
 * room again the queue holds, where the gap is, a "missed" event that says
 * how many were lost and the sequence numbers of the first and the last. */

enum monitor_kind {
    MONITOR_FDB,
    MONITOR_PORT,
    MONITOR_VNI,
    MONITOR_FLOW,
    MONITOR_MISSED,
    MONITOR_N_KINDS
};

/* Its name in the stream: "fdb", "port", "vni", "flow", "missed". */
const char *monitor_kind_name(enum monitor_kind);

struct monitor_event {
    unsigned int refs;
    size_t size;                /* Bytes it holds, for the queues. */
    uint64_t seq;
    uint64_t time_us;           /* Wall clock. */
    enum monitor_kind kind;
    const char *action;         /* Static: "learned", "added"... */

    bool has_vni;
    uint32_t vni;
    const char *type;           /* Static: "dynamic", "static"; or NULL. */

    /* Owned; NULL where the kind has none.  Set with
     * monitor_event_set(). */
    char *mac;
    char *port;
    char *remote;
    char *from_port;
    char *from_remote;
    char *name;
    char *port_type;
    char *match;
    char *actions;

    bool has_rule;
    uint32_t table;
    uint32_t priority;
    uint64_t cookie;

    uint64_t count;             /* MONITOR_MISSED: events lost, */
    uint64_t first_seq;         /* the first of them (the last: 'seq'). */
};

/* Returns a new event of 'kind' and 'action' (a static string), with one
 * reference, which the caller owns. */
struct monitor_event *monitor_event_create(enum monitor_kind,
                                           const char *action);

/* Sets the string '*field' of 'ev' to a copy of 's' (NULL: none). */
void monitor_event_set(struct monitor_event *ev, char **field,
                       const char *s);

struct monitor_event *monitor_event_ref(struct monitor_event *);

/* Drops a reference, freeing the event with the last.  Accepts NULL. */
void monitor_event_unref(struct monitor_event *);

struct monitor_queue {
    struct monitor_event **ring;
    size_t max_events;
    size_t max_bytes;
    size_t head;                /* Index of the oldest. */
    size_t n;
    size_t bytes;
    uint64_t missed;            /* Dropped since the last "missed". */
    uint64_t first_missed;      /* Sequence numbers of those. */
    uint64_t last_missed;
    uint64_t missed_time_us;
    uint64_t total_missed;      /* Ever. */
};

/* Makes 'q' empty, to hold at most 'max_events' (1 or more) events of
 * 'max_bytes' in all. */
void monitor_queue_init(struct monitor_queue *q, size_t max_events,
                        size_t max_bytes);

/* Drops every event 'q' holds and frees its memory. */
void monitor_queue_destroy(struct monitor_queue *q);

/* Appends 'ev' to 'q', taking a reference of its own, and returns true;
 * or counts it as missed and returns false if it does not fit. */
bool monitor_queue_push(struct monitor_queue *q, struct monitor_event *ev);

/* Takes the oldest event out of 'q' and returns it with the reference the
 * queue held, now the caller's; or returns NULL if there is none. */
struct monitor_event *monitor_queue_pop(struct monitor_queue *q);

#endif /* switchd/monitor-queue.h */
