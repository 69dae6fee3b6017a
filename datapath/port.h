#ifndef DATAPATH_PORT_H
#define DATAPATH_PORT_H 1

#include <stdbool.h>
#include <stddef.h>

#include "dp.h"

/* Port types.
 *
 * Every type of port is one struct port_class, found by name through
 * port_class_find(): this registry is the only place that compares type
 * names.  A class says what the datapath sees the port as and which
 * options it takes, so that the control tool and the daemon validate a
 * port's configuration with the same code. */

enum port_option_kind {
    PORT_OPT_IP,                /* IPv4 or IPv6 address. */
    PORT_OPT_IFNAME,            /* Kernel interface name. */
    PORT_OPT_UINT,              /* Decimal integer in [min, max]. */
    PORT_OPT_RANGE,             /* "A-B", A <= B, both in [min, max]. */
    PORT_OPT_BOOL,              /* "true" or "false". */
    PORT_OPT_PATH,              /* A file name. */
};

struct port_option {
    const char *key;
    enum port_option_kind kind;
    unsigned int min, max;      /* PORT_OPT_UINT and PORT_OPT_RANGE. */
    bool required;
    const char *help;           /* For usage text and man pages. */
};

struct port_class {
    const char *type;           /* "tap", "system", "vxlan", "pcap". */
    enum dp_port_kind dp_kind;
    const struct port_option *options;  /* Ends with a null key. */
    const char *help;
};

/* Returns the class named 'type', or NULL. */
const struct port_class *port_class_find(const char *type);

/* Returns the classes, in the order the documentation lists them; '*n' is
 * set to how many. */
const struct port_class *const *port_classes(size_t *n);

/* Returns the option 'key' of 'class', or NULL. */
const struct port_option *port_class_option(const struct port_class *,
                                            const char *key);

/* Checks a whole set of options for 'class': every key known and given
 * once, every value of its kind, required ones present, and the class's
 * own combination rules.  Returns true, or false with a one-line reason in
 * 'error'. */
bool port_class_check_options(const struct port_class *,
                              const char *const *keys,
                              const char *const *values, size_t n,
                              char *error, size_t error_size);

/* Parsers for option values of each kind.  Each returns false if 'value'
 * is not of its kind or outside [min, max]. */
bool port_option_parse_uint(const char *value, unsigned int min,
                            unsigned int max, unsigned int *out);
bool port_option_parse_range(const char *value, unsigned int min,
                             unsigned int max, unsigned int *lo,
                             unsigned int *hi);
bool port_option_parse_bool(const char *value, bool *out);
bool port_option_is_ifname(const char *value);

#endif /* datapath/port.h */
