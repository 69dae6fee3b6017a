#include <config.h>

#include "loop-watch.h"

#include <stdlib.h>

struct loop_watch {
    uv_check_t check;           /* Runs right after each poll. */
    uint64_t last;              /* uv_hrtime() at the last check. */
    uint64_t last_idle;         /* uv_metrics_idle_time() then. */
    uint64_t longest;
};

/* The time since the last check, less the time spent waiting in the
 * poll, is the work of one whole turn. */
static void
on_check(uv_check_t *check)
{
    struct loop_watch *w = check->data;
    uint64_t now = uv_hrtime();
    uint64_t idle = uv_metrics_idle_time(check->loop);
    uint64_t turn = now - w->last, waited = idle - w->last_idle;
    uint64_t busy = turn > waited ? turn - waited : 0;

    if (busy > w->longest) {
        w->longest = busy;
    }
    w->last = now;
    w->last_idle = idle;
}

struct loop_watch *
loop_watch_create(uv_loop_t *loop)
{
    struct loop_watch *w = calloc(1, sizeof *w);

    if (!w) {
        return NULL;
    }
    /* Only counts from now on; harmless if set before. */
    uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
    uv_check_init(loop, &w->check);
    w->check.data = w;
    w->last = uv_hrtime();
    w->last_idle = uv_metrics_idle_time(loop);
    uv_check_start(&w->check, on_check);
    uv_unref((uv_handle_t *) &w->check);
    return w;
}

static void
free_watch(uv_handle_t *handle)
{
    free(handle->data);
}

void
loop_watch_destroy(struct loop_watch *w)
{
    if (w) {
        uv_close((uv_handle_t *) &w->check, free_watch);
    }
}

uint64_t
loop_watch_longest(const struct loop_watch *w)
{
    return w ? w->longest : 0;
}

void
loop_watch_reset(struct loop_watch *w)
{
    if (w) {
        w->longest = 0;
    }
}
