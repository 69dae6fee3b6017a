#ifndef SWITCHD_LOOP_WATCH_H
#define SWITCHD_LOOP_WATCH_H 1

#include <stdint.h>

#include <uv.h>

/* How long the loop's turns hold forwarding up.  Every frame waits for
 * the loop to come back to its descriptors, so the longest turn (all the
 * work of one iteration: timers, idle handles, the callbacks of what was
 * ready; not the time spent waiting in the poll) is the longest a frame
 * can have waited for the daemon, measured by the daemon itself whatever
 * else the machine is doing, beside the clients' own round trips. */

struct loop_watch;

/* Starts measuring the turns of 'loop'.  Returns NULL if memory is short.
 * The watch does not keep the loop alive. */
struct loop_watch *loop_watch_create(uv_loop_t *);

/* Stops measuring; the memory goes once the loop has run to close the
 * handle.  Accepts NULL. */
void loop_watch_destroy(struct loop_watch *);

/* The longest turn (ns) since the watch was created or last reset.  Both
 * accept NULL (no watch: 0, nothing to reset). */
uint64_t loop_watch_longest(const struct loop_watch *);
void loop_watch_reset(struct loop_watch *);

#endif /* switchd/loop-watch.h */
