#include <config.h>

#include "config-index.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "xmalloc.h"

struct config_index_node {
    struct hmap_node node;
    const void *msg;            /* A PortConfig, VniConfig or StaticMac, */
    size_t pos;                 /* at this index of its array. */
};


/* Buckets for 'n' entries first, so that no insertion has to grow them
 * (the one way hmap_insert() fails). */
static void
reserve(struct hmap *map, size_t n)
{
    hmap_init(map);
    if (hmap_reserve(map, n + 1)) {
        out_of_memory();
    }
}

static void
add(struct hmap *map, struct config_index_node *node, const void *msg,
    size_t pos, uint32_t hash)
{
    node->msg = msg;
    node->pos = pos;
    hmap_insert(map, &node->node, hash);
}

void
config_index_init(struct config_index *idx, const Vswitch__Config *c)
{
    struct config_index_node *node;

    node = idx->nodes = xcalloc(c->n_ports + c->n_vnis + c->n_static_macs
                                + 1, sizeof *idx->nodes);
    reserve(&idx->ports, c->n_ports);
    reserve(&idx->vnis, c->n_vnis);
    reserve(&idx->statics, c->n_static_macs);
    for (size_t i = 0; i < c->n_ports; i++) {
        add(&idx->ports, node++, c->ports[i], i,
            hash_string(c->ports[i]->name, 0));
    }
    for (size_t i = 0; i < c->n_vnis; i++) {
        add(&idx->vnis, node++, c->vnis[i], i,
            hash_uint32(c->vnis[i]->vni));
    }
    for (size_t i = 0; i < c->n_static_macs; i++) {
        const Vswitch__StaticMac *m = c->static_macs[i];

        add(&idx->statics, node++, m, i, hash_string(m->mac, m->vni));
    }
}

void
config_index_destroy(struct config_index *idx)
{
    hmap_destroy(&idx->ports);
    hmap_destroy(&idx->vnis);
    hmap_destroy(&idx->statics);
    free(idx->nodes);
}

static const struct config_index_node *
find_port(const struct config_index *idx, const char *name)
{
    const struct config_index_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_string(name, 0), &idx->ports) {
        const Vswitch__PortConfig *pc = n->msg;

        if (!strcmp(pc->name, name)) {
            return n;
        }
    }
    return NULL;
}

const Vswitch__PortConfig *
config_index_port(const struct config_index *idx, const char *name)
{
    const struct config_index_node *n = find_port(idx, name);

    return n ? n->msg : NULL;
}

size_t
config_index_port_pos(const struct config_index *idx, const char *name)
{
    const struct config_index_node *n = find_port(idx, name);

    return n ? n->pos : SIZE_MAX;
}

static const struct config_index_node *
find_vni(const struct config_index *idx, uint32_t vni)
{
    const struct config_index_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_uint32(vni), &idx->vnis) {
        const Vswitch__VniConfig *v = n->msg;

        if (v->vni == vni) {
            return n;
        }
    }
    return NULL;
}

const Vswitch__VniConfig *
config_index_vni(const struct config_index *idx, uint32_t vni)
{
    const struct config_index_node *n = find_vni(idx, vni);

    return n ? n->msg : NULL;
}

size_t
config_index_vni_pos(const struct config_index *idx, uint32_t vni)
{
    const struct config_index_node *n = find_vni(idx, vni);

    return n ? n->pos : SIZE_MAX;
}

static bool
same_string(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

const Vswitch__StaticMac *
config_index_static(const struct config_index *idx, uint32_t vni,
                    const char *mac)
{
    const struct config_index_node *n;

    HMAP_FOR_EACH_WITH_HASH (n, node, hash_string(mac, vni), &idx->statics) {
        const Vswitch__StaticMac *s = n->msg;

        if (s->vni == vni && !strcmp(s->mac, mac)) {
            return s;
        }
    }
    return NULL;
}

bool
config_index_has_static(const struct config_index *idx,
                        const Vswitch__StaticMac *m)
{
    const Vswitch__StaticMac *s = config_index_static(idx, m->vni, m->mac);

    return s && same_string(s->port, m->port)
           && same_string(s->remote, m->remote);
}
