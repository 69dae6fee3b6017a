#ifndef DATAPATH_PORT_H
#define DATAPATH_PORT_H 1

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp.h"
#include "port-offload.h"

/* Port types.
 *
 * Every type of port is one struct port_class, found by name through
 * port_class_find(): this registry is the only place that compares type
 * names.  A class says what the datapath sees the port as and which
 * options it takes, so that the control tool and the daemon validate a
 * port's configuration with the same code. */

enum port_option_kind {
    PORT_OPT_UNICAST_IP,        /* One host's IPv4 or IPv6 address. */
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

struct packet_batch;
struct packet_pool;
struct port;
struct port_files;
struct stat;

/* What a port counts beyond what the datapath sees: the same figures for
 * every type, which each class counts in its struct port. */
struct port_stats {
    uint64_t rx_errors;         /* Receive failures and malformed input. */
    uint64_t tx_errors;         /* Frames the device refused or lost. */
};

/* The options of a port being opened, already checked against its class
 * with port_class_check_options(). */
struct port_args {
    const char *name;
    const char *owner;          /* Names the daemon that owns the port. */
    const char *const *keys;
    const char *const *values;
    size_t n_options;

    /* How to open the files the options name; NULL: by their names as
     * they are, for tests and tools that run as whoever names them. */
    const struct port_files *files;
};

/* How a port opens the files its options name (a pcap port's captures).
 * The daemon opens them on behalf of clients that may not read or write
 * what the daemon can, so it resolves their names under its own rules
 * (switchd/capture-path.h); a port opens files through this and nothing
 * else. */
struct port_files {
    /* Opens 'path' for option 'what' ("rx", "tx"), as openat(2) would with
     * 'flags', but only a regular file and never through a symbolic link
     * in its last component; O_CREAT creates a missing file with mode
     * PORT_FILE_MODE (whatever the umask), and never opens one that
     * exists through it (the caller decides what to do with an existing
     * file).  With 'probe' nothing is created or opened for writing: an
     * existing file is opened read-only, and a missing one is no error
     * (0 with '*fd' -1) once its name is acceptable and its directory
     * exists.  Returns 0 and the descriptor (close-on-exec) in '*fd', or
     * an errno value with "WHAT: PATH: reason" in 'error'. */
    int (*open)(const struct port_files *, const char *what,
                const char *path, int flags, bool probe, int *fd,
                char *error, size_t error_size);
};

/* Capture files hold the frames of a VM or a network: only their owner
 * and group read them.  The group writes them too: in the capture
 * directory it is the group allowed to change the configuration, whose
 * members may then name again the captures they made. */
#define PORT_FILE_MODE 0660

struct port_class {
    const char *type;           /* "tap", "system", "vxlan", "pcap". */
    enum dp_port_kind dp_kind;
    const struct port_option *options;  /* Ends with a null key. */
    const char *help;

    /* True if opening creates nothing and fails only while what the port
     * needs is missing (an interface): the owner opens a port that is
     * down again when interfaces appear. */
    bool retry_on_link;

    /* Opens a port.  Returns 0 and the port in '*portp', or an errno value
     * with a one-line reason in 'error'.  Free with 'close'. */
    int (*open)(const struct port_args *, struct port **portp, char *error,
                size_t error_size);
    void (*close)(struct port *);

    /* True if 'close' and 'remove' touch nothing but the port's own
     * memory and descriptors, so that its owner may call them on another
     * thread: the close of a TAP device or a packet socket waits for the
     * kernel (an RCU grace period, 10-25 ms, under the lock that every
     * change of a network device takes), which the owner's loop need
     * not. */
    bool close_off_loop;

    /* Removes what the port created in the system (a TAP device), for a
     * port that is being deleted rather than merely closed at shutdown;
     * called just before 'close'.  NULL if there is nothing to remove. */
    void (*remove)(struct port *);

    /* Reads up to PACKET_BATCH_MAX frames into 'batch' (empty on entry),
     * with buffers from 'pool'.  A frame of a tunnel port is the UDP
     * payload (VXLAN header first) with p->md.tun_src and tun_dst set.
     * Returns 0 if it read any, EAGAIN if there was nothing to read, or
     * another errno value if the port broke (the device went away): the
     * owner then stops polling it and reports it down. */
    int (*recv)(struct port *, struct packet_pool *,
                struct packet_batch *batch);

    /* Sends every packet of 'batch' and frees them; frames a tunnel port
     * sends carry full outer headers.  Failures are counted in
     * stats.tx_errors, never reported: a switch drops what it cannot
     * send. */
    void (*send)(struct port *, struct packet_batch *batch);

    /* Returns the descriptor to poll for input, or -1 if the port has none
     * and must be polled with 'recv' until it returns EAGAIN (pcap). */
    int (*fd)(const struct port *);

    /* Returns 0 while the port's device is there and works, or an errno
     * value with the reason in words in 'reason' ("device gone: ...", or
     * what broke, such as a capture file that filled up) once it does not:
     * the owner, which asks now and then, reports the port down.  A port
     * may also refresh here what it reads from its device (an MTU).  NULL
     * if there is nothing to check. */
    int (*check)(struct port *, char *reason, size_t reason_size);

    /* Puts new options, already checked, into effect on the open port
     * without closing its device: the device keeps its place, addresses
     * and namespace.  Returns 0, or an errno value with a reason in
     * 'error' (the port is then as it was).  NULL if the class has nothing
     * to change in place: the owner closes the port, without 'remove', and
     * opens it again. */
    int (*update)(struct port *, const struct port_args *, char *error,
                  size_t error_size);

    /* Checks, as 'args->files' allows, that the files the options name
     * could be opened, without creating or changing any: the daemon asks
     * this of a change before it accepts it.  Returns 0 or an errno value
     * with a one-line reason in 'error'.  NULL if the class names no
     * files. */
    int (*check_files)(const struct port_args *, char *error,
                       size_t error_size);

    /* The class's own rule about which options go together, beyond each
     * option on its own; NULL if it has none. */
    bool (*check_options)(const char *const *keys, size_t n, char *error,
                          size_t error_size);

    /* What only some types do.  The owner calls them for every port, as
     * port_tunnel_config(), port_set_groups() and port_replay() below,
     * without asking its type: a class without one leaves it NULL. */

    /* The datapath's settings for the tunnel port (with the underlay MTU
     * read from its device unless set), which the owner hands on now and
     * then, so that the tunnel follows its device.  The class of the
     * datapath's DP_PORT_TUNNEL has it. */
    void (*tunnel_config)(const struct port *, struct dp_tunnel_config *);

    /* Makes the port a member of exactly the multicast 'groups', those the
     * owner's VNIs flood to (a VXLAN port joins them on its underlay).
     * Returns 0 or an errno value; a group that failed is tried again at
     * the next call. */
    int (*set_groups)(struct port *, const struct in6_addr *groups,
                      size_t n_groups);

    /* Says whether the port is a member of 'group', one the last
     * 'set_groups' named: 0 if it is, or an errno value with why not in
     * words in 'reason'.  With 'set_groups'. */
    int (*group_state)(const struct port *, const struct in6_addr *group,
                       char *reason, size_t reason_size);

    /* How many of the groups the last 'set_groups' named (each counted
     * once) the port has joined, and how many it has not.  With
     * 'set_groups'. */
    void (*group_counts)(const struct port *, size_t *joined,
                         size_t *failed);

    /* Starts reading the frames the port replays into the switch again
     * from the start (a pcap port's rx file).  Returns 0, or an errno
     * value (ENOENT if it has nothing to replay) with a one-line reason in
     * 'error'. */
    int (*replay)(struct port *, char *error, size_t error_size);
};

/* Every port implementation embeds this and converts back with
 * CONTAINER_OF().  What every type has in common lives here rather than
 * in each implementation, so that the owner reads it without asking the
 * class. */
struct port {
    const struct port_class *class;

    /* What the port's device accepted when 'open' (or 'update') set it up,
     * a set of PORT_OFFLOAD_* flags: 'send' takes frames with these
     * offloads whole (a TCP super frame of an IP version it has TSO for, a
     * UDP one if it has USO, a checksum left to finish), and 'recv' may
     * return them.  The owner
     * hands it on to the datapath (dp_port_set_offloads()), which finishes
     * or cuts what the port cannot take. */
    uint32_t offloads;

    /* Why the device does without an offload that the port would use
     * where the host allows it (a VXLAN port without its tunnel TAP: an
     * older kernel, gso_tap=false), in words; "" if nothing is missing. */
    char offload_note[160];

    struct port_stats stats;    /* Counted by the class. */
};

/* Says whether 'error', from reading or writing a port's device, means
 * that the device is gone (deleted), rather than that one frame failed.
 * The kernel says so in several ways, none in words: a TAP's descriptor
 * turns to EBADFD ("File descriptor in bad state"). */
static inline bool
port_error_is_device_gone(int error)
{
    return error == ENODEV || error == ENXIO || error == EBADFD
           || error == EIO;
}

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

/* Checks 'value' against option 'o' (its kind, and its range for numbers).
 * Returns true, or false with a one-line reason in 'error'. */
bool port_option_check_value(const struct port_option *o, const char *value,
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

/* Returns the value of option 'key' in 'args', or NULL if not given. */
const char *port_args_get(const struct port_args *, const char *key);

/* Reads boolean option 'key' of 'args' into '*value', which keeps what it
 * held (the default) if the option is absent.  Returns false, with the
 * reason in 'error', if the option does not parse. */
bool port_args_get_bool(const struct port_args *, const char *key,
                        bool *value, char *error, size_t error_size);

/* The class operations that only some types have (see struct
 * port_class), for any port. */

/* Fills in 'tc' and returns true if 'port' is the datapath's tunnel port;
 * returns false for any other. */
bool port_tunnel_config(const struct port *, struct dp_tunnel_config *tc);

/* Makes 'port' a member of 'groups' if its type joins multicast groups.
 * Returns 0 (always, for a type that joins none) or an errno value. */
int port_set_groups(struct port *, const struct in6_addr *groups,
                    size_t n_groups);

/* Says whether ports of 'class' join multicast groups. */
static inline bool
port_class_joins_groups(const struct port_class *class)
{
    return class->set_groups != NULL;
}

/* For a port whose type joins groups: whether it is a member of 'group'
 * (0, or an errno value with the reason in 'reason'), and how many of its
 * groups it has joined and not. */
int port_group_state(const struct port *, const struct in6_addr *group,
                     char *reason, size_t reason_size);
void port_group_counts(const struct port *, size_t *joined,
                       size_t *failed);

/* Replays the frames of 'port' again from the start.  Returns 0, or an
 * errno value with a one-line reason in 'error': ENOENT if the port has
 * nothing to replay, whatever its type. */
int port_replay(struct port *, char *error, size_t error_size);

/* The heart of struct port_files' 'open' for the file 'name' in directory
 * 'dirfd' (or AT_FDCWD), named 'path' in messages: the rules it states
 * that do not depend on who names the file.  'st' (if not NULL) receives
 * the file's status, or st_ino 0 for a missing file in a probe. */
int port_pcap_openat(int dirfd, const char *name, const char *what,
                     const char *path, int flags, bool probe, int *fd,
                     struct stat *st, char *error, size_t error_size);

/* Closes 'port' through its class; accepts NULL. */
static inline void
port_close(struct port *port)
{
    if (port) {
        port->class->close(port);
    }
}

#endif /* datapath/port.h */
