#include <config.h>

#include "port.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inet.h"
#include "port-provider.h"
#include "util.h"

static const struct port_class *const classes[] = {
    &port_tap_class,
    &port_system_class,
    &port_vxlan_class,
    &port_pcap_class,
};

const struct port_class *
port_class_find(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
        if (!strcmp(classes[i]->type, type)) {
            return classes[i];
        }
    }
    return NULL;
}

const struct port_class *const *
port_classes(size_t *n)
{
    *n = ARRAY_SIZE(classes);
    return classes;
}

const struct port_option *
port_class_option(const struct port_class *class, const char *key)
{
    for (const struct port_option *o = class->options; o->key; o++) {
        if (!strcmp(o->key, key)) {
            return o;
        }
    }
    return NULL;
}

bool
port_option_parse_uint(const char *value, unsigned int min, unsigned int max,
                       unsigned int *out)
{
    char *end;
    unsigned long n;

    /* strtoul() would skip leading white space and take a sign. */
    if (!isdigit((unsigned char) *value)) {
        return false;
    }
    errno = 0;
    n = strtoul(value, &end, 10);
    if (errno || *end || n < min || n > max) {
        return false;
    }
    *out = (unsigned int) n;
    return true;
}

bool
port_option_parse_range(const char *value, unsigned int min,
                        unsigned int max, unsigned int *lo, unsigned int *hi)
{
    const char *dash = strchr(value, '-');
    char first[16];

    if (!dash || (size_t) (dash - value) >= sizeof first) {
        return false;
    }
    memcpy(first, value, (size_t) (dash - value));
    first[dash - value] = '\0';
    return port_option_parse_uint(first, min, max, lo)
           && port_option_parse_uint(dash + 1, min, max, hi)
           && *lo <= *hi;
}

bool
port_option_parse_bool(const char *value, bool *out)
{
    if (!strcmp(value, "true")) {
        *out = true;
    } else if (!strcmp(value, "false")) {
        *out = false;
    } else {
        return false;
    }
    return true;
}

bool
port_option_is_ifname(const char *value)
{
    size_t len = strlen(value);

    /* The kernel's rules (dev_valid_name()), whose isspace() also holds
     * for the Latin-1 no-break space. */
    return len > 0 && len < IFNAMSIZ && strcmp(value, ".")
           && strcmp(value, "..") && !strpbrk(value, "/: \t\n\v\f\r\xa0");
}

bool
port_option_check_value(const struct port_option *o, const char *value,
                        char *error, size_t size)
{
    struct in6_addr addr;
    unsigned int a, b;
    bool flag;
    bool ok = false;

    /* A control character would reach the log and terminals raw: no
     * value of any kind holds one, and the message does not echo it. */
    for (const char *c = value; *c; c++) {
        if ((unsigned char) *c < 0x20 || *c == 0x7f) {
            snprintf(error, size, "%s: the value may not hold control "
                     "characters (byte 0x%02x)", o->key, (unsigned char) *c);
            return false;
        }
    }
    switch (o->kind) {
    case PORT_OPT_UNICAST_IP:
        ok = inet_parse(value, &addr) && inet_is_unicast(&addr);
        break;
    case PORT_OPT_IFNAME:
        ok = port_option_is_ifname(value);
        break;
    case PORT_OPT_UINT:
        ok = port_option_parse_uint(value, o->min, o->max, &a);
        break;
    case PORT_OPT_RANGE:
        ok = port_option_parse_range(value, o->min, o->max, &a, &b);
        break;
    case PORT_OPT_BOOL:
        ok = port_option_parse_bool(value, &flag);
        break;
    case PORT_OPT_PATH:
        ok = *value != '\0' && strlen(value) < PATH_MAX;
        break;
    }
    if (!ok) {
        static const char *const wants[] = {
            [PORT_OPT_UNICAST_IP] = "a unicast IPv4 or IPv6 address",
            [PORT_OPT_IFNAME] = "an interface name",
            [PORT_OPT_UINT] = "a number",
            [PORT_OPT_RANGE] = "a range LOW-HIGH",
            [PORT_OPT_BOOL] = "true or false",
            [PORT_OPT_PATH] = "a file name",
        };

        if (o->kind == PORT_OPT_UINT || o->kind == PORT_OPT_RANGE) {
            snprintf(error, size, "%s: '%s' is not %s within %u-%u", o->key,
                     value, wants[o->kind], o->min, o->max);
        } else {
            snprintf(error, size, "%s: '%s' is not %s", o->key, value,
                     wants[o->kind]);
        }
    }
    return ok;
}

bool
port_class_check_options(const struct port_class *class,
                         const char *const *keys, const char *const *values,
                         size_t n, char *error, size_t size)
{
    for (size_t i = 0; i < n; i++) {
        const struct port_option *o = port_class_option(class, keys[i]);

        if (!o) {
            snprintf(error, size, "a %s port has no option '%s'",
                     class->type, keys[i]);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(keys[i], keys[j])) {
                snprintf(error, size, "option '%s' given twice", keys[i]);
                return false;
            }
        }
        if (!port_option_check_value(o, values[i], error, size)) {
            return false;
        }
    }
    for (const struct port_option *o = class->options; o->key; o++) {
        bool given = false;

        for (size_t i = 0; i < n && !given; i++) {
            given = !strcmp(keys[i], o->key);
        }
        if (o->required && !given) {
            snprintf(error, size, "a %s port needs %s=...", class->type,
                     o->key);
            return false;
        }
    }

    return !class->check_options
           || class->check_options(keys, n, error, size);
}

bool
port_tunnel_config(const struct port *port, struct dp_tunnel_config *tc)
{
    if (!port->class->tunnel_config) {
        return false;
    }
    port->class->tunnel_config(port, tc);
    return true;
}

int
port_set_groups(struct port *port, const struct in6_addr *groups,
                size_t n_groups)
{
    return port->class->set_groups
           ? port->class->set_groups(port, groups, n_groups) : 0;
}

int
port_group_state(const struct port *port, const struct in6_addr *group,
                 char *reason, size_t reason_size)
{
    return port->class->group_state(port, group, reason, reason_size);
}

void
port_group_counts(const struct port *port, size_t *joined, size_t *failed)
{
    port->class->group_counts(port, joined, failed);
}

int
port_replay(struct port *port, char *error, size_t error_size)
{
    if (!port->class->replay) {
        snprintf(error, error_size, "a %s port has nothing to replay",
                 port->class->type);
        return ENOENT;
    }
    return port->class->replay(port, error, error_size);
}

const char *
port_args_get(const struct port_args *args, const char *key)
{
    for (size_t i = 0; i < args->n_options; i++) {
        if (!strcmp(args->keys[i], key)) {
            return args->values[i];
        }
    }
    return NULL;
}

bool
port_args_get_bool(const struct port_args *args, const char *key,
                   bool *value, char *error, size_t error_size)
{
    const char *text = port_args_get(args, key);

    if (text && !port_option_parse_bool(text, value)) {
        snprintf(error, error_size, "%s: '%s' is not a boolean", key, text);
        return false;
    }
    return true;
}

int
port_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        || fcntl(fd, F_SETFD, FD_CLOEXEC)) {
        return errno;
    }
    return 0;
}

/* Runs 'request' on interface 'name' through a throwaway socket, which is
 * how the kernel takes interface ioctls. */
static int
netdev_ioctl(const char *name, unsigned long request, struct ifreq *ifr)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int error = 0;

    if (fd < 0) {
        return errno;
    }
    if (strlen(name) >= sizeof ifr->ifr_name) {
        close(fd);
        return ENAMETOOLONG;
    }
    strcpy(ifr->ifr_name, name);
    if (ioctl(fd, request, ifr)) {
        error = errno;
    }
    close(fd);
    return error;
}

int
port_netdev_info(const char *name, bool up, int *ifindex, int *mtu)
{
    struct ifreq ifr;
    int error;

    memset(&ifr, 0, sizeof ifr);
    error = netdev_ioctl(name, SIOCGIFFLAGS, &ifr);
    if (!error && up && !(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        error = netdev_ioctl(name, SIOCSIFFLAGS, &ifr);
    }
    if (!error && ifindex) {
        error = netdev_ioctl(name, SIOCGIFINDEX, &ifr);
        *ifindex = ifr.ifr_ifindex;
    }
    if (!error && mtu) {
        error = netdev_ioctl(name, SIOCGIFMTU, &ifr);
        *mtu = ifr.ifr_mtu;
    }
    return error;
}

int
port_netdev_mac(const char *name, struct eth_addr *mac)
{
    struct ifreq ifr;
    int error;

    memset(&ifr, 0, sizeof ifr);
    error = netdev_ioctl(name, SIOCGIFHWADDR, &ifr);
    if (!error) {
        memcpy(mac->ea, ifr.ifr_hwaddr.sa_data, ETH_ADDR_LEN);
    }
    return error;
}
