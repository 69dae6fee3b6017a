#include <config.h>

#include "bridge.h"

#include <stdlib.h>
#include <string.h>

#include "config-edit.h"
#include "eth-addr.h"
#include "headers.h"
#include "inet.h"
#include "list.h"
#include "log.h"
#include "packet.h"
#include "port.h"

#define BRIDGE_POOL_PACKETS 1024

/* Why a port without a device is down; real port I/O replaces this. */
#define NO_DEVICE "no device: port I/O is not implemented yet"

struct bridge_port {
    struct list node;           /* In bridge's 'ports'. */
    uint32_t port_no;
    const struct port_class *class;
    Vswitch__PortConfig *config;        /* What the port was built from. */
    const char *error;          /* Why it is down; NULL if up. */
};

struct bridge {
    struct packet_pool *pool;
    struct dp *dp;
    struct list ports;
    uint32_t next_port_no;
    Vswitch__Config *config;
};

static void
discard_output(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    /* No port can send yet: frames for them are dropped here. */
    (void) aux;
    (void) port_no;
    packet_batch_free(batch);
}

struct bridge *
bridge_create(void)
{
    struct bridge *b = calloc(1, sizeof *b);
    struct dp_callbacks cb = { .send = discard_output };

    if (!b) {
        return NULL;
    }
    cb.aux = b;
    b->pool = packet_pool_create(BRIDGE_POOL_PACKETS);
    b->dp = b->pool ? dp_create(b->pool, 0, &cb) : NULL;
    b->config = malloc(sizeof *b->config);
    if (!b->dp || !b->config) {
        bridge_destroy(b);
        return NULL;
    }
    vswitch__config__init(b->config);
    b->config->end_marker = true;
    list_init(&b->ports);
    b->next_port_no = 1;
    return b;
}

static void
free_port(struct bridge *b, struct bridge_port *port)
{
    dp_port_del(b->dp, port->port_no);
    list_remove(&port->node);
    protobuf_c_message_free_unpacked(&port->config->base, NULL);
    free(port);
}

void
bridge_destroy(struct bridge *b)
{
    if (!b) {
        return;
    }
    if (b->dp) {
        struct bridge_port *port;

        LIST_FOR_EACH_SAFE (port, node, &b->ports) {
            free_port(b, port);
        }
    }
    dp_destroy(b->dp);
    packet_pool_destroy(b->pool);
    if (b->config) {
        protobuf_c_message_free_unpacked(&b->config->base, NULL);
    }
    free(b);
}

const Vswitch__Config *
bridge_config(const struct bridge *b)
{
    return b->config;
}

struct dp *
bridge_dp(const struct bridge *b)
{
    return b->dp;
}

static struct bridge_port *
find_port(const struct bridge *b, const char *name)
{
    struct bridge_port *port;

    LIST_FOR_EACH (port, node, &b->ports) {
        if (!strcmp(port->config->name, name)) {
            return port;
        }
    }
    return NULL;
}

static void
vni_config_to_dp(const Vswitch__VniConfig *v, struct dp_vni_config *dc,
                 struct in6_addr *flood)
{
    memset(dc, 0, sizeof *dc);
    if (v->group) {
        inet_parse(v->group, &dc->group);
    }
    for (size_t i = 0; i < v->n_flood; i++) {
        inet_parse(v->flood[i], &flood[i]);
    }
    dc->flood_list = flood;
    dc->n_flood = v->n_flood;
    dc->ageing_s = v->has_ageing ? v->ageing : 0;
    dc->mac_limit = v->has_mac_limit ? v->mac_limit : 0;
}

static void
apply_vnis(struct bridge *b, const Vswitch__Config *old,
           const Vswitch__Config *new)
{
    for (size_t i = 0; i < old->n_vnis; i++) {
        if (!config_find_vni(new, old->vnis[i]->vni)) {
            dp_vni_del(b->dp, old->vnis[i]->vni);
        }
    }
    for (size_t i = 0; i < new->n_vnis; i++) {
        const Vswitch__VniConfig *v = new->vnis[i];
        const Vswitch__VniConfig *was = config_find_vni(old, v->vni);
        struct in6_addr flood[DP_VNI_MAX_FLOOD];
        struct dp_vni_config dc;
        int error;

        if (was && config_equal(&was->base, &v->base)) {
            continue;
        }
        vni_config_to_dp(v, &dc, flood);
        error = dp_vni_set(b->dp, v->vni, &dc);
        if (error) {
            LOG_ERR("bridge", "VNI %u: cannot configure: %s", v->vni,
                    strerror(error));
        }
    }
}

/* The tunnel settings of a vxlan port, from its (checked) options. */
static void
tunnel_config(const Vswitch__PortConfig *pc, struct dp_tunnel_config *tc)
{
    const char *value;
    unsigned int n, lo, hi;
    bool flag;

    memset(tc, 0, sizeof *tc);
    tc->encap.dst_port = htons(VXLAN_DST_PORT);
    tc->encap.src_port_min = VXLAN_SRC_PORT_MIN;
    tc->encap.src_port_max = VXLAN_SRC_PORT_MAX;
    tc->mtu = 1500;
    if ((value = config_port_option(pc, "local_ip")) != NULL) {
        inet_parse(value, &tc->encap.local);
    }
    if ((value = config_port_option(pc, "dst_port")) != NULL
        && port_option_parse_uint(value, 1, 65535, &n)) {
        tc->encap.dst_port = htons((uint16_t) n);
    }
    if ((value = config_port_option(pc, "ttl")) != NULL
        && port_option_parse_uint(value, 0, 255, &n)) {
        tc->encap.ttl = (uint8_t) n;
    }
    if ((value = config_port_option(pc, "tos")) != NULL
        && port_option_parse_uint(value, 0, 255, &n)) {
        tc->encap.tos = (uint8_t) n;
    }
    if ((value = config_port_option(pc, "src_port_range")) != NULL
        && port_option_parse_range(value, 1, 65535, &lo, &hi)) {
        tc->encap.src_port_min = (uint16_t) lo;
        tc->encap.src_port_max = (uint16_t) hi;
    }
    if ((value = config_port_option(pc, "df")) != NULL
        && port_option_parse_bool(value, &flag)) {
        tc->encap.df = flag;
    }
    if ((value = config_port_option(pc, "udp_csum")) != NULL
        && port_option_parse_bool(value, &flag)) {
        tc->encap.udp_csum = flag;
    }
    if ((value = config_port_option(pc, "mtu")) != NULL
        && port_option_parse_uint(value, 576, 65535, &n)) {
        tc->mtu = n;
    }
}

static void
add_port(struct bridge *b, const Vswitch__PortConfig *pc)
{
    struct bridge_port *port = calloc(1, sizeof *port);

    if (port) {
        port->config = config_clone(&pc->base);
    }
    if (!port || !port->config) {
        LOG_ERR("bridge", "port %s: out of memory", pc->name);
        free(port);
        return;
    }
    port->class = port_class_find(pc->type);
    port->port_no = b->next_port_no++;
    port->error = NO_DEVICE;

    int error = dp_port_add(b->dp, port->port_no, port->class->dp_kind);

    if (!error && port->class->dp_kind == DP_PORT_TUNNEL) {
        struct dp_tunnel_config tc;

        tunnel_config(pc, &tc);
        error = dp_tunnel_configure(b->dp, port->port_no, &tc);
    }
    if (error) {
        LOG_ERR("bridge", "port %s: %s", pc->name, strerror(error));
    }
    list_push_back(&b->ports, &port->node);
    LOG_INFO("bridge", "port %s: added (%s)", pc->name, pc->type);
}

/* Ports are rebuilt when their type or options change; a change of VNI
 * only rebinds them. */
static bool
same_port(const Vswitch__PortConfig *a, const Vswitch__PortConfig *b)
{
    if (strcmp(a->type, b->type) || a->n_options != b->n_options) {
        return false;
    }
    for (size_t i = 0; i < a->n_options; i++) {
        if (strcmp(a->options[i]->key, b->options[i]->key)
            || strcmp(a->options[i]->value, b->options[i]->value)) {
            return false;
        }
    }
    return true;
}

static void
apply_ports(struct bridge *b, const Vswitch__Config *new)
{
    struct bridge_port *port;

    LIST_FOR_EACH_SAFE (port, node, &b->ports) {
        const Vswitch__PortConfig *pc = config_find_port(new,
                                                         port->config->name);

        if (!pc || !same_port(pc, port->config)) {
            LOG_INFO("bridge", "port %s: removed", port->config->name);
            free_port(b, port);
        }
    }
    for (size_t i = 0; i < new->n_ports; i++) {
        const Vswitch__PortConfig *pc = new->ports[i];

        port = find_port(b, pc->name);
        if (!port) {
            add_port(b, pc);
            port = find_port(b, pc->name);
        }
        if (port && port->class->dp_kind == DP_PORT_LOCAL) {
            dp_port_bind(b->dp, port->port_no, pc->has_vni ? pc->vni : 0);
            port->config->has_vni = pc->has_vni;
            port->config->vni = pc->vni;
        }
    }
}

static bool
static_mac_dest(const struct bridge *b, const Vswitch__StaticMac *m,
                struct eth_addr *mac, struct mac_dest *dest)
{
    memset(dest, 0, sizeof *dest);
    if (!eth_addr_parse(m->mac, mac)) {
        return false;
    }
    if (m->port) {
        dest->type = MAC_DEST_PORT;
        dest->port_no = bridge_port_no(b, m->port);
        return dest->port_no != 0;
    }
    dest->type = MAC_DEST_REMOTE;
    return m->remote && inet_parse(m->remote, &dest->remote);
}

static bool
has_static(const Vswitch__Config *c, const Vswitch__StaticMac *m)
{
    for (size_t i = 0; i < c->n_static_macs; i++) {
        if (config_equal(&c->static_macs[i]->base, &m->base)) {
            return true;
        }
    }
    return false;
}

static void
remove_stale_statics(struct bridge *b, const Vswitch__Config *old,
                     const Vswitch__Config *new)
{
    struct mac_table *macs = dp_mac_table(b->dp);

    for (size_t i = 0; i < old->n_static_macs; i++) {
        const Vswitch__StaticMac *m = old->static_macs[i];
        struct eth_addr mac;

        if (!has_static(new, m) && eth_addr_parse(m->mac, &mac)) {
            mac_table_del(macs, m->vni, &mac);
        }
    }
}

static void
add_statics(struct bridge *b, const Vswitch__Config *new)
{
    struct mac_table *macs = dp_mac_table(b->dp);

    for (size_t i = 0; i < new->n_static_macs; i++) {
        const Vswitch__StaticMac *m = new->static_macs[i];
        struct mac_dest dest;
        struct eth_addr mac;

        if (!static_mac_dest(b, m, &mac, &dest)
            || mac_table_add_static(macs, m->vni, &mac, &dest)) {
            LOG_WARN("bridge", "static entry %s in VNI %u not installed",
                     m->mac, m->vni);
        }
    }
}

void
bridge_reconfigure(struct bridge *b, Vswitch__Config *config)
{
    Vswitch__Config *old = b->config;

    /* Statics go first, while the ports they name still exist, and come
     * back last, once the ports they name do. */
    remove_stale_statics(b, old, config);
    apply_vnis(b, old, config);
    apply_ports(b, config);
    add_statics(b, config);
    b->config = config;
    protobuf_c_message_free_unpacked(&old->base, NULL);
}

bool
bridge_port_state(const struct bridge *b, const char *name, bool *up,
                  const char **error, struct dp_counters *counters)
{
    const struct bridge_port *port = find_port(b, name);

    if (!port) {
        return false;
    }
    *up = !port->error;
    *error = port->error;
    if (!dp_port_get_counters(b->dp, port->port_no, counters)) {
        memset(counters, 0, sizeof *counters);
    }
    return true;
}

const char *
bridge_port_name(const struct bridge *b, uint32_t port_no)
{
    const struct bridge_port *port;

    LIST_FOR_EACH (port, node, &b->ports) {
        if (port->port_no == port_no) {
            return port->config->name;
        }
    }
    return NULL;
}

uint32_t
bridge_port_no(const struct bridge *b, const char *name)
{
    const struct bridge_port *port = find_port(b, name);

    return port ? port->port_no : 0;
}

long long
bridge_run_ageing(struct bridge *b, long long now_ms)
{
    return dp_run_ageing(b->dp, now_ms);
}
