#ifndef SWITCHD_LINK_MONITOR_H
#define SWITCHD_LINK_MONITOR_H 1

#include <stdbool.h>

#include <uv.h>

/* Follows the network interfaces of the daemon's namespace through the
 * kernel's link events (RTM_NEWLINK, RTM_DELLINK on rtnetlink), so that
 * ports whose interface goes away and comes back follow it at once, as
 * Open vSwitch's do, rather than at the next poll. */

struct link_monitor;

/* Called for each event: interface 'name' now exists (it appeared, or
 * changed) or is gone.  A NULL 'name' says that events were lost (the
 * kernel's queue overflowed): anything may have changed.  It comes once
 * the queue is empty again, so that a look at everything then sees all
 * that the lost events said. */
typedef void link_monitor_cb(void *aux, const char *name, bool exists);

/* Starts following link events on 'loop', calling 'cb' with 'aux' for
 * each.  Returns 0 and the monitor in '*monitorp', or an errno value. */
int link_monitor_create(uv_loop_t *loop, link_monitor_cb *cb, void *aux,
                        struct link_monitor **monitorp);

/* Stops following; the memory goes once the loop has closed the handle.
 * Accepts NULL. */
void link_monitor_destroy(struct link_monitor *);

#endif /* switchd/link-monitor.h */
