#ifndef SWITCHD_CONFIG_STEPS_H
#define SWITCHD_CONFIG_STEPS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

/* Putting a large change into effect a few ports at a time.  Opening a
 * port (a TAP device) costs the kernel a millisecond or more, so a batch
 * of thousands of new ports, put into effect at once, would hold the
 * forwarding loop for seconds.  A plan walks from the configuration in
 * effect to the target through configurations that each add a few more
 * of the target's new or changed ports; every one of them is whole and
 * consistent (the target's VNIs; the ports not reached yet as they were,
 * unbound if their VNI is gone, or absent if they were not there; only
 * the static MACs whose port is there and bound to their VNI), so that
 * the bridge may run each without deleting a port that the target keeps
 * (its device with it). */

struct config_steps;

/* Plans the way from 'current' to 'target', which must outlive the plan
 * (neither is changed).  Returns NULL if memory is short. */
struct config_steps *config_steps_create(const Vswitch__Config *current,
                                         const Vswitch__Config *target);

/* Frees 'steps'.  Accepts NULL. */
void config_steps_destroy(struct config_steps *);

/* The number of the target's ports that are new or changed. */
size_t config_steps_pending(const struct config_steps *);

/* Returns the next configuration to put into effect, with up to 'n' (at
 * least 1) more of the pending ports than the last one; the ports not
 * reached yet are as they were in the 'current' given to
 * config_steps_create().  '*last' tells whether it is the target itself.
 * Otherwise the plan owns it and keeps it until the next call or its
 * destruction, and it shares its messages with the target: a caller that
 * keeps a step must copy it (config_clone()), and must not free it. */
const Vswitch__Config *config_steps_next(struct config_steps *, size_t n,
                                         bool *last);

/* What the step config_steps_next() returned last has beyond the one
 * before it: the target's ports it reached (new, or changed from what
 * the step before had), and the static MACs on them it adds; nothing
 * else differs, but for the first step, which also differs from
 * 'current' in the VNIs, the ports removed, and the static MACs removed.
 * Valid until the next call of config_steps_next(). */
void config_steps_delta(const struct config_steps *,
                        const Vswitch__PortConfig *const **ports,
                        size_t *n_ports,
                        const Vswitch__StaticMac *const **macs,
                        size_t *n_macs);

#endif /* switchd/config-steps.h */
