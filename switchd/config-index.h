#ifndef SWITCHD_CONFIG_INDEX_H
#define SWITCHD_CONFIG_INDEX_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "vswitch.pb-c.h"

/* A hash index over one configuration's ports (by name), VNIs (by number)
 * and static MACs (by VNI and address), for the code that compares two
 * configurations or looks up every line of a batch: config_find_port()
 * and config_find_vni() walk the whole configuration, and doing so for
 * each of thousands of ports costs the square of their number, on the
 * forwarding loop. */

struct config_index_node;

struct config_index {
    struct hmap ports;
    struct hmap vnis;
    struct hmap statics;
    struct config_index_node *nodes;
};

/* Indexes 'config', which must outlive the index and not change while it
 * is in use (the index points into it).  Aborts if memory is short, as
 * xmalloc() does. */
void config_index_init(struct config_index *, const Vswitch__Config *);
void config_index_destroy(struct config_index *);

const Vswitch__PortConfig *config_index_port(const struct config_index *,
                                             const char *name);
/* The index of port 'name' in the configuration's ports, or SIZE_MAX. */
size_t config_index_port_pos(const struct config_index *, const char *name);

const Vswitch__VniConfig *config_index_vni(const struct config_index *,
                                           uint32_t vni);

/* The index of VNI 'vni' in the configuration's VNIs, or SIZE_MAX. */
size_t config_index_vni_pos(const struct config_index *, uint32_t vni);

/* Returns the static MAC of 'vni' with address 'mac' (as the
 * configuration spells it), or NULL. */
const Vswitch__StaticMac *config_index_static(const struct config_index *,
                                              uint32_t vni, const char *mac);

/* Says whether the configuration has a static MAC equal to 'm' (same VNI,
 * address, port and remote). */
bool config_index_has_static(const struct config_index *,
                             const Vswitch__StaticMac *m);

#endif /* switchd/config-index.h */
