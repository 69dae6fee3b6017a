#include <config.h>

#include "config-steps.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config-edit.h"
#include "config-index.h"

/* A step is shallow: its arrays are its own, but the messages they point
 * to are the target's, or the copies in 'was', so that making one costs
 * a few pointer copies per element of the configuration rather than a
 * copy of the whole of it. */
struct config_steps {
    const Vswitch__Config *target;
    bool *pending;              /* Per port of 'target': new or changed. */
    Vswitch__PortConfig **was;  /* Per port of 'target': a copy of what a
                                 * changed port was, else NULL. */
    const Vswitch__PortConfig **held;   /* Per port of 'target': what a
                                         * step has until it is reached:
                                         * 'was' (unbound if its VNI is
                                         * gone), or NULL (absent) if it
                                         * was not there. */
    size_t *mac_port;           /* Per static MAC of 'target': the index of
                                 * its port in 'target', else SIZE_MAX. */
    size_t *port_macs;          /* Per port of 'target': its first static
                                 * MAC, */
    size_t *next_mac;           /* and per static MAC the next of its port
                                 * (SIZE_MAX: none). */
    size_t n_pending;
    size_t cursor;              /* Ports of 'target' before it are in. */

    /* The last two steps, 'target' with arrays of their own: whoever puts
     * a step into effect compares it with the one before. */
    Vswitch__Config step[2];
    unsigned int which;         /* The last one made. */
    const Vswitch__PortConfig **now;    /* Per port of 'target': as the
                                         * step has it, NULL if absent. */

    /* What the last step put in beyond the one before. */
    const Vswitch__PortConfig **delta_ports;
    size_t n_delta_ports;
    const Vswitch__StaticMac **delta_macs;
    size_t n_delta_macs;
};

struct config_steps *
config_steps_create(const Vswitch__Config *current,
                    const Vswitch__Config *target)
{
    struct config_steps *steps = calloc(1, sizeof *steps);
    size_t n_ports = target->n_ports, n_macs = target->n_static_macs;
    struct config_index cur_idx, target_idx;

    if (!steps) {
        return NULL;
    }
    steps->target = target;
    steps->pending = calloc(n_ports + 1, sizeof *steps->pending);
    steps->was = calloc(n_ports + 1, sizeof *steps->was);
    steps->now = calloc(n_ports + 1, sizeof *steps->now);
    steps->held = calloc(n_ports + 1, sizeof *steps->held);
    steps->port_macs = calloc(n_ports + 1, sizeof *steps->port_macs);
    steps->next_mac = calloc(n_macs + 1, sizeof *steps->next_mac);
    steps->delta_ports = calloc(n_ports + 1, sizeof *steps->delta_ports);
    steps->delta_macs = calloc(n_macs + 1, sizeof *steps->delta_macs);
    steps->mac_port = calloc(n_macs + 1, sizeof *steps->mac_port);
    for (int i = 0; i < 2; i++) {
        steps->step[i].ports = calloc(n_ports + 1,
                                      sizeof *steps->step[i].ports);
        steps->step[i].static_macs
            = calloc(n_macs + 1, sizeof *steps->step[i].static_macs);
        if (!steps->step[i].ports || !steps->step[i].static_macs) {
            config_steps_destroy(steps);
            return NULL;
        }
    }
    if (!steps->pending || !steps->was || !steps->now || !steps->held
        || !steps->mac_port || !steps->port_macs || !steps->next_mac
        || !steps->delta_ports || !steps->delta_macs) {
        config_steps_destroy(steps);
        return NULL;
    }
    config_index_init(&cur_idx, current);
    for (size_t i = 0; i < n_ports; i++) {
        const Vswitch__PortConfig *was
            = config_index_port(&cur_idx, target->ports[i]->name);

        steps->pending[i] = !was || !config_equal(&was->base,
                                                  &target->ports[i]->base);
        steps->n_pending += steps->pending[i];
        if (was && steps->pending[i]
            && !(steps->was[i] = config_clone(&was->base))) {
            config_index_destroy(&cur_idx);
            config_steps_destroy(steps);
            return NULL;
        }
    }
    config_index_destroy(&cur_idx);

    config_index_init(&target_idx, target);
    for (size_t i = 0; i < n_ports; i++) {
        Vswitch__PortConfig *was = steps->was[i];

        if (was && was->has_vni && !config_index_vni(&target_idx, was->vni)) {
            /* Its VNI goes with the first step.  Unbound rather than
             * absent until it is reached: absent, the port would be
             * deleted, and with it its device (a VM's TAP), only to be
             * made anew. */
            was->has_vni = false;
            was->vni = 0;
        }
        steps->held[i] = was;
    }
    for (size_t i = 0; i < n_ports; i++) {
        steps->port_macs[i] = SIZE_MAX;
    }
    for (size_t i = n_macs; i-- > 0;) {
        const char *port = target->static_macs[i]->port;
        size_t p = port ? config_index_port_pos(&target_idx, port)
                        : SIZE_MAX;

        steps->mac_port[i] = p;
        steps->next_mac[i] = SIZE_MAX;
        if (p != SIZE_MAX) {
            steps->next_mac[i] = steps->port_macs[p];
            steps->port_macs[p] = i;
        }
    }
    config_index_destroy(&target_idx);
    return steps;
}

void
config_steps_destroy(struct config_steps *steps)
{
    if (steps) {
        for (size_t i = 0; steps->was && i < steps->target->n_ports; i++) {
            if (steps->was[i]) {
                protobuf_c_message_free_unpacked(&steps->was[i]->base, NULL);
            }
        }
        free(steps->was);
        free(steps->pending);
        free(steps->now);
        free(steps->held);
        free(steps->port_macs);
        free(steps->next_mac);
        free(steps->delta_ports);
        free(steps->delta_macs);
        free(steps->mac_port);
        for (int i = 0; i < 2; i++) {
            free(steps->step[i].ports);
            free(steps->step[i].static_macs);
        }
        free(steps);
    }
}

size_t
config_steps_pending(const struct config_steps *steps)
{
    return steps->n_pending;
}

/* Says whether a step keeps static MAC 'm' while its port is held as
 * 'held' (NULL: absent). */
static bool
kept_while_held(const Vswitch__StaticMac *m, const Vswitch__PortConfig *held)
{
    return held && held->has_vni && held->vni == m->vni;
}

/* Lists the ports from 'first' to the cursor that the last step reached,
 * and the static MACs on them that the step before did not keep. */
static void
note_delta(struct config_steps *steps, size_t first)
{
    const Vswitch__Config *target = steps->target;

    steps->n_delta_ports = steps->n_delta_macs = 0;
    for (size_t p = first; p < steps->cursor; p++) {
        if (!steps->pending[p]) {
            continue;
        }
        steps->delta_ports[steps->n_delta_ports++] = target->ports[p];
        for (size_t i = steps->port_macs[p]; i != SIZE_MAX;
             i = steps->next_mac[i]) {
            const Vswitch__StaticMac *m = target->static_macs[i];

            if (!kept_while_held(m, steps->held[p])) {
                steps->delta_macs[steps->n_delta_macs++] = m;
            }
        }
    }
}

void
config_steps_delta(const struct config_steps *steps,
                   const Vswitch__PortConfig *const **ports, size_t *n_ports,
                   const Vswitch__StaticMac *const **macs, size_t *n_macs)
{
    *ports = steps->delta_ports;
    *n_ports = steps->n_delta_ports;
    *macs = steps->delta_macs;
    *n_macs = steps->n_delta_macs;
}

/* Makes the ports of the step from 'first' on the target's if reached,
 * else what they were ('held'): those before 'first' were reached by an
 * earlier step. */
static void
hold_back_ports(struct config_steps *steps, size_t first)
{
    const Vswitch__Config *target = steps->target;

    for (size_t i = first; i < target->n_ports; i++) {
        steps->now[i] = i < steps->cursor || !steps->pending[i]
                        ? target->ports[i] : steps->held[i];
    }
}

const Vswitch__Config *
config_steps_next(struct config_steps *steps, size_t n, bool *last)
{
    const Vswitch__Config *target = steps->target;
    Vswitch__Config *step;
    size_t first = steps->cursor, added = 0;

    while (steps->cursor < target->n_ports
           && (added < n || !steps->pending[steps->cursor])) {
        added += steps->pending[steps->cursor++];
    }
    *last = steps->cursor >= target->n_ports;
    note_delta(steps, first);
    if (*last) {
        return target;
    }
    hold_back_ports(steps, first);
    steps->which ^= 1;
    step = &steps->step[steps->which];

    /* The target's fields, then the ports and static MACs the step has. */
    Vswitch__PortConfig **ports = step->ports;
    Vswitch__StaticMac **macs = step->static_macs;

    *step = *target;
    step->ports = ports;
    step->static_macs = macs;
    step->n_ports = 0;
    for (size_t i = 0; i < target->n_ports; i++) {
        if (steps->now[i]) {
            ports[step->n_ports++] = (Vswitch__PortConfig *) steps->now[i];
        }
    }
    /* A static MAC whose port is absent or bound to another VNI waits;
     * the others' ports are the target's. */
    step->n_static_macs = 0;
    for (size_t i = 0; i < target->n_static_macs; i++) {
        const Vswitch__StaticMac *m = target->static_macs[i];
        size_t p = steps->mac_port[i];
        const Vswitch__PortConfig *now = p != SIZE_MAX ? steps->now[p]
                                                       : NULL;

        if (p == SIZE_MAX || now == target->ports[p]
            || kept_while_held(m, now)) {
            macs[step->n_static_macs++] = (Vswitch__StaticMac *) m;
        }
    }
    return step;
}
