#ifndef SWITCHD_BRIDGE_H
#define SWITCHD_BRIDGE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"
#include "vswitch.pb-c.h"

/* The running switch: the datapath and the ports, VNIs and static entries
 * of the configuration in effect.  The configuration is the truth; the
 * bridge makes the datapath match it, in the manner of Open vSwitch's
 * bridge_reconfigure(). */

struct bridge;

/* Returns a bridge with an empty configuration, or NULL if memory is
 * short.  bridge_destroy() accepts NULL. */
struct bridge *bridge_create(void);
void bridge_destroy(struct bridge *);

/* Puts 'config' into effect, changing only what differs from the
 * configuration in effect so that learned entries and counters of what
 * stays survive, and takes ownership of it.  'config' must have been built
 * by config_edit_*() or passed request_check() piece by piece. */
void bridge_reconfigure(struct bridge *, Vswitch__Config *config);

const Vswitch__Config *bridge_config(const struct bridge *);
struct dp *bridge_dp(const struct bridge *);

/* Runtime state of port 'name': whether it is up, why not (NULL if it is
 * up), and its counters.  Returns false if there is no such port. */
bool bridge_port_state(const struct bridge *, const char *name, bool *up,
                       const char **error, struct dp_counters *);

/* Returns the name of the port with datapath number 'port_no', or NULL. */
const char *bridge_port_name(const struct bridge *, uint32_t port_no);

/* Returns the datapath number of port 'name', or 0. */
uint32_t bridge_port_no(const struct bridge *, const char *name);

/* Runs MAC ageing; returns when it next needs to run (ms). */
long long bridge_run_ageing(struct bridge *, long long now_ms);

#endif /* switchd/bridge.h */
