#include <config.h>

#include "port.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inet.h"
#include "util.h"

static const struct port_option no_options[] = {
    { .key = NULL },
};

static const struct port_option vxlan_options[] = {
    { "local_ip", PORT_OPT_IP, 0, 0, true,
      "underlay address of this VTEP (IPv4 or IPv6)" },
    { "dev", PORT_OPT_IFNAME, 0, 0, false,
      "underlay interface: multicast joins and MTU" },
    { "dst_port", PORT_OPT_UINT, 1, 65535, false,
      "UDP destination port (default 4789; 8472 for old peers)" },
    { "ttl", PORT_OPT_UINT, 0, 255, false,
      "outer TTL; 0 means 64 for unicast, 1 for multicast (default 0)" },
    { "tos", PORT_OPT_UINT, 0, 255, false, "outer TOS byte (default 0)" },
    { "src_port_range", PORT_OPT_RANGE, 1, 65535, false,
      "UDP source ports for flow entropy (default 49152-65535)" },
    { "df", PORT_OPT_BOOL, 0, 0, false,
      "set DF in the outer IPv4 header (default false)" },
    { "udp_csum", PORT_OPT_BOOL, 0, 0, false,
      "compute the outer UDP checksum over IPv4 (default false)" },
    { "mtu", PORT_OPT_UINT, 576, 65535, false,
      "underlay MTU, 576 or more (default: the MTU of dev, else 1500)" },
    { .key = NULL },
};

static const struct port_option pcap_options[] = {
    { "rx", PORT_OPT_PATH, 0, 0, false,
      "capture file whose frames are replayed into the switch" },
    { "tx", PORT_OPT_PATH, 0, 0, false,
      "capture file that receives every frame sent to the port" },
    { .key = NULL },
};

static bool
check_pcap(const char *const *keys, size_t n, char *error, size_t size)
{
    if (!n) {
        snprintf(error, size, "a pcap port needs rx=FILE, tx=FILE or both");
        return false;
    }
    (void) keys;
    return true;
}

/* A class's own rule about which options go together, beyond each option
 * on its own. */
typedef bool combination_check(const char *const *keys, size_t n,
                               char *error, size_t size);

struct port_class_entry {
    struct port_class class;
    combination_check *check;
};

static const struct port_class_entry entries[] = {
    { { "tap", DP_PORT_LOCAL, no_options,
        "a TAP device, created if it does not exist" }, NULL },
    { { "system", DP_PORT_LOCAL, no_options,
        "an existing kernel interface, in promiscuous mode" }, NULL },
    { { "vxlan", DP_PORT_TUNNEL, vxlan_options,
        "the VTEP's underlay side (at most one)" }, NULL },
    { { "pcap", DP_PORT_LOCAL, pcap_options,
        "frames from and to capture files" }, check_pcap },
};

const struct port_class *
port_class_find(const char *type)
{
    for (size_t i = 0; i < ARRAY_SIZE(entries); i++) {
        if (!strcmp(entries[i].class.type, type)) {
            return &entries[i].class;
        }
    }
    return NULL;
}

const struct port_class *const *
port_classes(size_t *n)
{
    static const struct port_class *const classes[] = {
        &entries[0].class, &entries[1].class, &entries[2].class,
        &entries[3].class,
    };

    BUILD_ASSERT(ARRAY_SIZE(classes) == ARRAY_SIZE(entries));
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

    if (!*value || *value == '-' || *value == '+' || *value == ' ') {
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

    /* The kernel's rules (dev_valid_name()). */
    return len > 0 && len < IFNAMSIZ && strcmp(value, ".")
           && strcmp(value, "..") && !strpbrk(value, "/: \t\n");
}

static bool
check_value(const struct port_option *o, const char *value, char *error,
            size_t size)
{
    struct in6_addr addr;
    unsigned int a, b;
    bool flag;
    bool ok = false;

    switch (o->kind) {
    case PORT_OPT_IP:
        ok = inet_parse(value, &addr);
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
            [PORT_OPT_IP] = "an IPv4 or IPv6 address",
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
        if (!check_value(o, values[i], error, size)) {
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

    const struct port_class_entry *entry
        = CONTAINER_OF(class, struct port_class_entry, class);

    return !entry->check || entry->check(keys, n, error, size);
}
