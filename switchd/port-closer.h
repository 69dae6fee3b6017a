#ifndef SWITCHD_PORT_CLOSER_H
#define SWITCHD_PORT_CLOSER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct port;

/* Closes deleted ports off the loop.
 *
 * Closing the last descriptor of a TAP device, or a packet socket, makes
 * the kernel wait for an RCU grace period before close(2) returns: 10-25
 * ms each on these machines, so that a batch deleting 100 TAP ports held
 * the loop, and all forwarding, 2.3 s.  A port whose class says its close
 * may run on any thread ('close_off_loop') is closed on libuv's
 * threadpool instead, three at a time (the pool serves the daemon's other
 * work too).  Until it is, its name is
 * busy: the device may still be there, and a new port of that name must
 * wait for it to go. */

struct port_closer;

/* Called on the loop once the port named 'name' is closed. */
typedef void port_closer_cb(const char *name, void *aux);

struct port_closer *port_closer_create(uv_loop_t *, port_closer_cb *closed,
                                       void *aux);

/* Closes at once the ports that wait their turn, and forgets the closes
 * in progress: they still end, on the loop's next runs (a loop run until
 * it has nothing left to do waits for them), but without calling
 * 'closed'.  Accepts NULL. */
void port_closer_destroy(struct port_closer *);

/* Closes 'port', named 'name', and first removes what it made in the
 * system if 'remove' (port_class's 'remove'): on the threadpool if its
 * class allows it (then returns true, and 'closed' follows), else at once
 * (false).  On the threadpool a TAP device's removal waits, as its close
 * does, for the kernel's lock on network devices, which the closes of
 * other ports hold for most of their time. */
bool port_closer_close(struct port_closer *, const char *name,
                       struct port *, bool remove);

/* Whether a port named 'name' is being closed. */
bool port_closer_busy(const struct port_closer *, const char *name);

/* How many ports are being closed. */
size_t port_closer_n_busy(const struct port_closer *);

#endif /* switchd/port-closer.h */
