#include <config.h>

#include "config-steps.h"

#include <stdlib.h>
#include <string.h>

#include "config-edit.h"

struct config_steps {
    const Vswitch__Config *target;
    bool *pending;              /* Per port of 'target': new or changed. */
    Vswitch__PortConfig **was;  /* Per port of 'target': a copy of what a
                                 * changed port was, else NULL. */
    size_t n_pending;
    size_t cursor;              /* Ports of 'target' before it are in. */
};

/* A port of the target not reached yet, as a step has it. */
struct held {
    const char *name;
    const Vswitch__PortConfig *now;     /* NULL: absent. */
};

/* Returns the port of 'c' called 'name', trying index 'hint' first: a
 * batch appends new ports, so the ports the two configurations share are
 * mostly at the same place, and a search of each would cost the loop the
 * square of the number of ports. */
static const Vswitch__PortConfig *
find_port(const Vswitch__Config *c, const char *name, size_t hint)
{
    if (hint < c->n_ports && !strcmp(c->ports[hint]->name, name)) {
        return c->ports[hint];
    }
    return config_find_port(c, name);
}

struct config_steps *
config_steps_create(const Vswitch__Config *current,
                    const Vswitch__Config *target)
{
    struct config_steps *steps = calloc(1, sizeof *steps);

    if (!steps) {
        return NULL;
    }
    steps->target = target;
    steps->pending = calloc(target->n_ports + 1, sizeof *steps->pending);
    steps->was = calloc(target->n_ports + 1, sizeof *steps->was);
    if (!steps->pending || !steps->was) {
        config_steps_destroy(steps);
        return NULL;
    }
    for (size_t i = 0; i < target->n_ports; i++) {
        const Vswitch__PortConfig *was = find_port(current,
                                                   target->ports[i]->name,
                                                   i);

        steps->pending[i] = !was || !config_equal(&was->base,
                                                  &target->ports[i]->base);
        steps->n_pending += steps->pending[i];
        if (was && steps->pending[i]
            && !(steps->was[i] = config_clone(&was->base))) {
            config_steps_destroy(steps);
            return NULL;
        }
    }
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
        free(steps);
    }
}

size_t
config_steps_pending(const struct config_steps *steps)
{
    return steps->n_pending;
}

/* Keeps the elements of 'array' (of '*n') for which 'keep' is true,
 * freeing the others. */
static void
filter(void *array_, size_t *n, const bool *keep)
{
    ProtobufCMessage **array = array_;
    size_t kept = 0;

    for (size_t i = 0; i < *n; i++) {
        if (keep[i]) {
            array[kept++] = array[i];
        } else {
            protobuf_c_message_free_unpacked(array[i], NULL);
        }
    }
    *n = kept;
}

static int
compare_held(const void *a_, const void *b_)
{
    const struct held *a = a_, *b = b_;

    return strcmp(a->name, b->name);
}

/* Makes the ports of 'step' (a copy of the target) not reached yet what
 * they were, or drops them, and lists them in '*held' (sorted by name,
 * '*n_held' of them; the caller frees the array).  Returns false if
 * memory is short. */
static bool
hold_back_ports(const struct config_steps *steps, Vswitch__Config *step,
                struct held **held, size_t *n_held)
{
    bool *keep = calloc(step->n_ports + 1, sizeof *keep);

    *held = calloc(step->n_ports + 1, sizeof **held);
    *n_held = 0;
    if (!keep || !*held) {
        free(keep);
        return false;
    }
    for (size_t i = 0; i < step->n_ports; i++) {
        const Vswitch__PortConfig *was = steps->was[i];
        struct held *h;

        keep[i] = i < steps->cursor || !steps->pending[i];
        if (keep[i]) {
            continue;
        }
        h = &(*held)[(*n_held)++];
        h->name = steps->target->ports[i]->name;
        if (was && (!was->has_vni || config_find_vni(step, was->vni))) {
            Vswitch__PortConfig *copy = config_clone(&was->base);

            if (!copy) {
                free(keep);
                return false;
            }
            protobuf_c_message_free_unpacked(&step->ports[i]->base, NULL);
            step->ports[i] = copy;
            keep[i] = true;
            h->now = copy;
        }
    }
    filter(step->ports, &step->n_ports, keep);
    free(keep);
    qsort(*held, *n_held, sizeof **held, compare_held);
    return true;
}

/* Drops the static MACs of 'step' whose port is one of the 'n_held' in
 * 'held' and is absent or bound to another VNI; the others' ports are
 * the target's.  Returns false if memory is short. */
static bool
drop_orphan_macs(Vswitch__Config *step, const struct held *held,
                 size_t n_held)
{
    bool *keep = calloc(step->n_static_macs + 1, sizeof *keep);

    if (!keep) {
        return false;
    }
    for (size_t i = 0; i < step->n_static_macs; i++) {
        const Vswitch__StaticMac *m = step->static_macs[i];
        struct held key = { .name = m->port };
        const struct held *h = m->port
            ? bsearch(&key, held, n_held, sizeof *held, compare_held) : NULL;

        keep[i] = !h || (h->now && h->now->has_vni
                         && h->now->vni == m->vni);
    }
    filter(step->static_macs, &step->n_static_macs, keep);
    free(keep);
    return true;
}

Vswitch__Config *
config_steps_next(struct config_steps *steps, size_t n, bool *last)
{
    const Vswitch__Config *target = steps->target;
    Vswitch__Config *step;
    struct held *held = NULL;
    size_t added = 0, n_held = 0;

    while (steps->cursor < target->n_ports
           && (added < n || !steps->pending[steps->cursor])) {
        added += steps->pending[steps->cursor++];
    }
    step = config_clone(&target->base);
    *last = steps->cursor >= target->n_ports;
    if (step && !*last
        && (!hold_back_ports(steps, step, &held, &n_held)
            || !drop_orphan_macs(step, held, n_held))) {
        protobuf_c_message_free_unpacked(&step->base, NULL);
        step = NULL;
    }
    free(held);
    return step;
}
