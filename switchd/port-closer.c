#include <config.h>

#include "port-closer.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hmap.h"
#include "list.h"
#include "port.h"
#include "xmalloc.h"

/* At most this many closes run on the threadpool at once, so that one of
 * its four threads stays free for the daemon's other work: dumps,
 * decoding large requests, compiling capture filters.  Each close mostly
 * waits for an RCU grace period, so they overlap well: 1,536 TAP devices
 * took 26 s two at a time, 18 s three, 13 s four. */
#define PORT_CLOSER_MAX_RUNNING 3

struct port_closer {
    uv_loop_t *loop;
    port_closer_cb *closed;
    void *aux;
    struct hmap closing;        /* Of struct closing, by name. */
    struct list backlog;        /* Of struct closing, not yet queued. */
    size_t n_running;
};

/* One port being closed.  It outlives its closer if that is destroyed
 * while it runs: 'closer' is then NULL. */
struct closing {
    uv_work_t work;
    struct hmap_node node;      /* In closer->closing, while 'closer'. */
    struct list backlog_node;   /* In closer->backlog until queued. */
    struct port_closer *closer;
    struct port *port;
    bool remove;
    char name[];
};

static void
remove_and_close(struct port *port, bool remove)
{
    if (remove && port->class->remove) {
        port->class->remove(port);
    }
    port_close(port);
}

struct port_closer *
port_closer_create(uv_loop_t *loop, port_closer_cb *closed, void *aux)
{
    struct port_closer *closer = xmalloc(sizeof *closer);

    closer->loop = loop;
    closer->closed = closed;
    closer->aux = aux;
    hmap_init(&closer->closing);
    list_init(&closer->backlog);
    closer->n_running = 0;
    return closer;
}

void
port_closer_destroy(struct port_closer *closer)
{
    struct closing *c;

    if (!closer) {
        return;
    }
    /* The daemon is stopping: what waits closes here. */
    LIST_FOR_EACH_SAFE (c, backlog_node, &closer->backlog) {
        list_remove(&c->backlog_node);
        hmap_remove(&closer->closing, &c->node);
        remove_and_close(c->port, c->remove);
        free(c);
    }
    HMAP_FOR_EACH_SAFE (c, node, &closer->closing) {
        hmap_remove(&closer->closing, &c->node);
        c->closer = NULL;
    }
    hmap_destroy(&closer->closing);
    free(closer);
}

static void
close_port(uv_work_t *work)
{
    struct closing *c = CONTAINER_OF(work, struct closing, work);

    remove_and_close(c->port, c->remove);
}

static void port_closed(uv_work_t *, int status);

/* Queues closes from the backlog while fewer than the most run. */
static void
start_closes(struct port_closer *closer)
{
    while (closer->n_running < PORT_CLOSER_MAX_RUNNING
           && !list_is_empty(&closer->backlog)) {
        struct closing *c = CONTAINER_OF(list_front(&closer->backlog),
                                         struct closing, backlog_node);

        list_remove(&c->backlog_node);
        closer->n_running++;
        /* Fails only without a work callback. */
        uv_queue_work(closer->loop, &c->work, close_port, port_closed);
    }
}

static void
port_closed(uv_work_t *work, int status)
{
    struct closing *c = CONTAINER_OF(work, struct closing, work);
    struct port_closer *closer = c->closer;

    (void) status;              /* Work queued is never cancelled. */
    if (closer) {
        hmap_remove(&closer->closing, &c->node);
        closer->n_running--;
        start_closes(closer);
        closer->closed(c->name, closer->aux);
    }
    free(c);
}

bool
port_closer_close(struct port_closer *closer, const char *name,
                  struct port *port, bool remove)
{
    size_t len = strlen(name) + 1;
    struct closing *c;

    if (!port->class->close_off_loop) {
        remove_and_close(port, remove);
        return false;
    }
    c = xmalloc(sizeof *c + len);
    memcpy(c->name, name, len);
    c->closer = closer;
    c->port = port;
    c->remove = remove;
    if (hmap_insert(&closer->closing, &c->node, hash_string(name, 0))) {
        /* Out of memory: closed here, the loop waiting as it once did. */
        free(c);
        remove_and_close(port, remove);
        return false;
    }
    list_push_back(&closer->backlog, &c->backlog_node);
    start_closes(closer);
    return true;
}

bool
port_closer_busy(const struct port_closer *closer, const char *name)
{
    const struct closing *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash_string(name, 0),
                             &closer->closing) {
        if (!strcmp(c->name, name)) {
            return true;
        }
    }
    return false;
}

size_t
port_closer_n_busy(const struct port_closer *closer)
{
    return hmap_count(&closer->closing);
}
