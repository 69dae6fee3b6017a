#include <config.h>

/* The TAP port: a VM- or container-facing TAP device.
 *
 * The device is persistent: it keeps its addresses, and the network
 * namespace it was moved into, while the daemon is away, and a restarted
 * daemon attaches to it again, looking for it first in its own namespace,
 * then in the named namespaces of /run/netns, where "ip netns" keeps
 * them.  Interface names are only unique within a namespace, so a device
 * elsewhere is taken only if its alias says this daemon made it.  Deleting
 * the port removes the device; changing its options does not.
 *
 * A descriptor of /dev/net/tun holds the namespace it was opened in, and
 * one attached to a device in another namespace must be opened there.  So
 * that the daemon never keeps alive a namespace its owner deleted, a port
 * attached through a name of /run/netns lets go (its check fails) once
 * that name is gone or names another namespace.
 *
 * With offloads (the default) every frame crosses the descriptor behind a
 * virtio-net header, as with a VM's vhost-net: the VM's stack hands over
 * TCP segments of up to 64 KB and leaves checksums to finish, which the
 * datapath cuts or finishes only where a frame leaves for a place that
 * cannot (tso.h), and it takes them back the same way.  One read() then
 * moves 64 KB instead of one wire-sized frame.  Without offloads the
 * header is still there, all zero, so that offloads can be turned on and
 * off on the same descriptor: the kernel fixes a descriptor's flags when
 * it attaches.
 *
 * Like a Linux bridge (is_skb_forwardable()), the port drops, counted, a
 * frame longer than the device's MTU allows unless it is a super frame:
 * one that came whole out of a reassembled datagram, say. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "headers.h"
#include "packet.h"
#include "port-provider.h"
#include "util.h"
#include "vnet-hdr.h"
#include "write-batch.h"

#define NETNS_DIR "/run/netns"

/* UDP segmentation offload on TUN/TAP came with Linux 6.2; Debian 12's
 * headers (Linux 6.1) lack its flags, spelled out here as the kernel's
 * linux/if_tun.h defines them. */
#define TAP_F_USO4 0x20
#define TAP_F_USO6 0x40

/* What the VM's side may hand over with offloads on: TCP super frames
 * over IPv4 and IPv6 and unfinished checksums.  Not TSO_ECN: the kernel
 * then cuts frames with CWR itself, which keeps the rule for CWR simple. */
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

/* The same and UDP super frames (an application's UDP_SEGMENT), which a
 * kernel before 6.2 refuses: then the port makes do with TAP_OFFLOADS. */
#define TAP_OFFLOADS_USO (TAP_OFFLOADS | TAP_F_USO4 | TAP_F_USO6)

/* Returns the port's offloads once its device took 'tun_flags' (TUN_F_*,
 * as TUNSETOFFLOAD takes them). */
static uint32_t
offloads_of(unsigned int tun_flags)
{
    return (tun_flags & TUN_F_CSUM ? PORT_OFFLOAD_CSUM : 0)
           | (tun_flags & TUN_F_TSO4 ? PORT_OFFLOAD_TSO4 : 0)
           | (tun_flags & TUN_F_TSO6 ? PORT_OFFLOAD_TSO6 : 0)
           | ((tun_flags & (TAP_F_USO4 | TAP_F_USO6))
              == (TAP_F_USO4 | TAP_F_USO6) ? PORT_OFFLOAD_USO : 0);
}

/* Where a descriptor was attached. */
struct tap_attachment {
    int fd;
    unsigned int mtu;
    unsigned int tun_flags;     /* The offloads the device took. */
    char netns[NAME_MAX + 1];   /* The name in NETNS_DIR, "" if ours. */
    struct stat netns_id;       /* That namespace, while it lives. */
};

struct tap_port {
    struct port up;
    bool owned;                 /* Made by this daemon: removed with it. */
    struct tap_attachment at;
    struct write_batch *writes; /* NULL: io_uring not to be had. */
};

static struct tap_port *
tap_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct tap_port, up);
}

/* Reads (if 'set' is NULL) or sets the alias of interface 'name' in the
 * current network namespace, through rtnetlink, which unlike sysfs always
 * speaks for the namespace the caller is in.  Returns 0 or an errno
 * value. */
static int
link_alias(const char *name, const char *set, char *get, size_t get_size)
{
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
        char attrs[512];
    } req;
    union {
        struct nlmsghdr nh;
        char buf[8192];
    } reply;
    struct rtattr *rta;
    int fd, index = (int) if_nametoindex(name);
    ssize_t n;
    int error = 0;

    if (!index) {
        return ENODEV;
    }
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi);
    req.nh.nlmsg_type = set ? RTM_SETLINK : RTM_GETLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = index;
    if (set) {
        size_t len = strlen(set) + 1;

        if (RTA_LENGTH(len) > sizeof req.attrs) {
            return ENAMETOOLONG;
        }
        rta = (void *) ((char *) &req + NLMSG_ALIGN(req.nh.nlmsg_len));
        rta->rta_type = IFLA_IFALIAS;
        rta->rta_len = (unsigned short) RTA_LENGTH(len);
        memcpy(RTA_DATA(rta), set, len);
        req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len)
                           + RTA_ALIGN(rta->rta_len);
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        return errno;
    }
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0
        || (n = recv(fd, &reply, sizeof reply, 0)) < 0) {
        error = errno;
    } else if (!NLMSG_OK(&reply.nh, (size_t) n)) {
        error = EPROTO;
    } else if (reply.nh.nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *err = NLMSG_DATA(&reply.nh);

        error = -err->error;
    } else if (!set) {
        /* Attributes are walked by hand: the kernel's macros cast char
         * pointers to struct rtattr, which -Wcast-align refuses. */
        const char *attr = (const char *) NLMSG_DATA(&reply.nh)
                           + NLMSG_ALIGN(sizeof(struct ifinfomsg));
        int len = (int) IFLA_PAYLOAD(&reply.nh);
        struct rtattr hdr;

        error = ENOENT;
        while (len >= (int) sizeof hdr) {
            memcpy(&hdr, attr, sizeof hdr);
            if (hdr.rta_len < sizeof hdr || hdr.rta_len > len) {
                break;
            }
            if (hdr.rta_type == IFLA_IFALIAS) {
                snprintf(get, get_size, "%.*s",
                         (int) (hdr.rta_len - RTA_LENGTH(0)),
                         attr + RTA_LENGTH(0));
                error = 0;
            }
            len -= (int) RTA_ALIGN(hdr.rta_len);
            attr += RTA_ALIGN(hdr.rta_len);
        }
    }
    close(fd);
    return error;
}

/* Returns true if interface 'name', in the current namespace, is a device
 * that the daemon named by 'owner' made. */
static bool
owned_by(const char *name, const char *owner)
{
    char alias[256];

    return !link_alias(name, NULL, alias, sizeof alias)
           && !strcmp(alias, owner);
}

/* Turns the offloads of the device behind 'fd' on or off, and stores in
 * '*tun_flags' those it took.  A persistent device keeps those of its
 * last owner, so they are set either way.  Returns 0 or an errno value. */
static int
set_offload(int fd, bool offload, unsigned int *tun_flags)
{
    *tun_flags = offload ? TAP_OFFLOADS_USO : 0;
    if (!ioctl(fd, TUNSETOFFLOAD, *tun_flags)) {
        return 0;
    }
    if (errno != EINVAL || !offload) {
        return errno;
    }
    *tun_flags = TAP_OFFLOADS;
    return ioctl(fd, TUNSETOFFLOAD, *tun_flags) ? errno : 0;
}

/* Attaches a new descriptor to TAP device 'name' in the current network
 * namespace, creating the device if it does not exist, and brings it up
 * there.  Returns the descriptor in at->fd and the device's MTU in
 * at->mtu, or a negative errno value in at->fd. */
static void
attach(const char *name, bool offload, struct tap_attachment *at)
{
    int hdr_size = VNET_HDR_LEN;
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    int error, mtu = 0;

    if (fd < 0) {
        at->fd = -errno;
        return;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, 1)
        || ioctl(fd, TUNSETVNETHDRSZ, &hdr_size)) {
        error = errno;
    } else {
        error = set_offload(fd, offload, &at->tun_flags);
    }
    if (!error) {
        error = port_netdev_info(name, true, NULL, &mtu);
    }
    if (!error) {
        error = port_set_nonblocking(fd);
    }
    if (error) {
        close(fd);
        at->fd = -error;
        return;
    }
    at->fd = fd;
    at->mtu = mtu > 0 ? (unsigned int) mtu : 0;
}

/* Runs 'fn' with 'aux' inside the network namespace that 'ns' refers to,
 * and comes back to the one that 'home' refers to.  Returns what 'fn'
 * returned, or an errno value if the namespace cannot be entered. */
static int
in_netns(int ns, int home, int (*fn)(void *), void *aux)
{
    int result;

    if (setns(ns, CLONE_NEWNET)) {
        return errno;
    }
    result = fn(aux);
    if (setns(home, CLONE_NEWNET)) {
        /* Stranded in another namespace: nothing else can be trusted. */
        abort();
    }
    return result;
}

/* What attach_there() needs inside another namespace. */
struct attach_there_args {
    const char *name;
    const char *owner;
    bool offload;
    struct tap_attachment *at;
};

static int
attach_there(void *aux_)
{
    struct attach_there_args *aux = aux_;

    if (if_nametoindex(aux->name) && owned_by(aux->name, aux->owner)) {
        attach(aux->name, aux->offload, aux->at);
        return 0;
    }
    return ENODEV;
}

/* Looks for 'name' in each namespace of NETNS_DIR and attaches to it where
 * it is.  Returns the descriptor in at->fd, or a negative errno value
 * (-ENODEV if no namespace has it). */
static void
attach_in_other_netns(const char *name, const char *owner, bool offload,
                      struct tap_attachment *at)
{
    struct attach_there_args aux = { name, owner, offload, at };
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    DIR *dir = opendir(NETNS_DIR);
    struct dirent *de;

    at->fd = -ENODEV;
    while (home >= 0 && dir && at->fd == -ENODEV
           && (de = readdir(dir)) != NULL) {
        char path[PATH_MAX];
        int ns;

        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", NETNS_DIR, de->d_name);
        ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0) {
            continue;
        }
        if (!in_netns(ns, home, attach_there, &aux) && at->fd >= 0
            && !fstat(ns, &at->netns_id)) {
            snprintf(at->netns, sizeof at->netns, "%s", de->d_name);
        }
        close(ns);
    }
    if (dir) {
        closedir(dir);
    }
    if (home >= 0) {
        close(home);
    }
}

static int
tap_open(const struct port_args *args, struct port **portp, char *error,
         size_t error_size)
{
    bool offload = true;

    if (!port_args_get_bool(args, "offload", &offload, error, error_size)) {
        return EINVAL;
    }

    bool here = if_nametoindex(args->name) != 0;
    /* A device found elsewhere carries our alias; one here may be someone
     * else's (made with "ip tuntap add"), to use but not to delete. */
    bool owned = !here || owned_by(args->name, args->owner);
    struct tap_attachment at;

    memset(&at, 0, sizeof at);
    if (here) {
        attach(args->name, offload, &at);
    } else {
        attach_in_other_netns(args->name, args->owner, offload, &at);
    }
    if (at.fd == -ENODEV) {
        owned = true;
        attach(args->name, offload, &at);
        /* Marks the new device as ours, for the day it has moved to
         * another namespace and this daemon restarts. */
        if (at.fd >= 0 && link_alias(args->name, args->owner, NULL, 0)) {
            close(at.fd);
            at.fd = -EIO;
        }
    }
    if (at.fd < 0) {
        snprintf(error, error_size, "tap %s: %s", args->name,
                 strerror(-at.fd));
        return -at.fd;
    }

    struct tap_port *tap = calloc(1, sizeof *tap);

    if (!tap) {
        close(at.fd);
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    tap->up.class = &port_tap_class;
    tap->up.offloads = offloads_of(at.tun_flags);
    tap->at = at;
    tap->owned = owned;
    tap->writes = write_batch_create();
    *portp = &tap->up;
    return 0;
}

/* Turns offloads on or off on the same descriptor, so that the device
 * keeps its place, addresses and MTU. */
static int
tap_update(struct port *port, const struct port_args *args, char *error,
           size_t error_size)
{
    struct tap_port *tap = tap_cast(port);
    bool offload = true;
    unsigned int tun_flags;
    int err;

    if (!port_args_get_bool(args, "offload", &offload, error, error_size)) {
        return EINVAL;
    }
    err = set_offload(tap->at.fd, offload, &tun_flags);
    if (err) {
        snprintf(error, error_size, "tap %s: offloads: %s", args->name,
                 strerror(err));
        return err;
    }
    tap->at.tun_flags = tun_flags;
    port->offloads = offloads_of(tun_flags);
    return 0;
}

static void
tap_remove(struct port *port)
{
    struct tap_port *tap = tap_cast(port);

    /* Without persistence the device goes with its last descriptor. */
    if (tap->owned) {
        ioctl(tap->at.fd, TUNSETPERSIST, 0);
    }
}

static void
tap_close(struct port *port)
{
    struct tap_port *tap = tap_cast(port);

    close(tap->at.fd);
    write_batch_destroy(tap->writes);
    free(tap);
}

/* Takes the offload metadata of 'p' from the header read before it.
 * Returns false if it must be dropped. */
static bool
apply_vnet_hdr(struct packet *p)
{
    struct virtio_net_hdr h = vnet_hdr_pull(p);

    return vnet_hdr_apply(&h, p);
}

static int
tap_recv(struct port *port, struct packet_pool *pool,
         struct packet_batch *batch)
{
    struct tap_port *tap = tap_cast(port);
    size_t hdr_size = VNET_HDR_LEN;

    /* A TAP device hands over one frame per read(); the batch bounds how
     * many one wakeup takes, so a busy port cannot starve the others.  The
     * virtio-net header lands in the headroom just before the frame, so
     * that one plain read() takes both. */
    while (!packet_batch_is_full(batch)) {
        struct packet *p = packet_alloc(pool);
        ssize_t n;

        if (!p) {
            break;
        }
        n = read(tap->at.fd, packet_data(p) - hdr_size,
                 hdr_size + packet_tailroom(p));
        if (n <= 0) {
            int error = n < 0 ? errno : EIO;

            packet_free(p);
            if (error == EAGAIN || error == EINTR) {
                break;
            }
            port->stats.rx_errors++;
            /* The device was deleted underneath us. */
            return batch->count ? 0 : error;
        }
        if ((size_t) n <= hdr_size) {
            port->stats.rx_errors++;
            packet_free(p);
            continue;
        }
        p->size = (uint32_t) ((size_t) n - hdr_size);
        if (!apply_vnet_hdr(p)) {
            port->stats.rx_errors++;
            packet_free(p);
            continue;
        }
        packet_batch_add(batch, p);
    }
    return batch->count ? 0 : EAGAIN;
}

static void
tap_send(struct port *port, struct packet_batch *batch)
{
    struct tap_port *tap = tap_cast(port);
    struct packet *p;

    size_t max_len = tap->at.mtu + ETH_HEADER_LEN + VLAN_HEADER_LEN;

    struct iovec bufs[PACKET_BATCH_MAX];
    size_t n = 0;

    PACKET_BATCH_FOR_EACH (i, p, batch) {
        if (!p->md.gso_size && tap->at.mtu && packet_size(p) > max_len) {
            port->stats.tx_errors++;
            continue;
        }
        if (!vnet_hdr_output(p, port->offloads)) {
            port->stats.tx_errors++;
            continue;
        }
        bufs[n++] = (struct iovec) { packet_data(p), packet_size(p) };
    }
    port->stats.tx_errors += write_batch_run(tap->writes, tap->at.fd, bufs,
                                             n);
    packet_batch_free(batch);
}

static int
tap_fd(const struct port *port)
{
    return tap_cast(port)->at.fd;
}

/* Reads the MTU of the device behind 'tap', wherever it is now.  */
static int
read_mtu(void *tap_)
{
    struct tap_port *tap = tap_;
    struct ifreq ifr;
    int mtu;

    memset(&ifr, 0, sizeof ifr);
    if (!ioctl(tap->at.fd, TUNGETIFF, &ifr)
        && !port_netdev_info(ifr.ifr_name, false, NULL, &mtu) && mtu > 0) {
        tap->at.mtu = (unsigned int) mtu;
    }
    return 0;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Returns true if the name in NETNS_DIR through which the port attached
 * is gone, or names another namespace now. */
static bool
netns_gone(const struct tap_port *tap)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", NETNS_DIR, tap->at.netns);
    return stat(path, &st) || !same_file(&st, &tap->at.netns_id);
}

/* Follows the device's MTU, which the VM's side may change at any time,
 * into whatever namespace the device is in now. */
static void
refresh_mtu(struct tap_port *tap)
{
    int ns = ioctl(tap->at.fd, TUNGETDEVNETNS);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    struct stat there, here;

    if (ns >= 0 && home >= 0 && !fstat(ns, &there) && !fstat(home, &here)) {
        if (same_file(&there, &here)) {
            read_mtu(tap);
        } else {
            in_netns(ns, home, read_mtu, tap);
        }
    }
    if (ns >= 0) {
        close(ns);
    }
    if (home >= 0) {
        close(home);
    }
}

/* Lets go of a namespace whose name its owner deleted, and keeps up with
 * the device's MTU. */
static int
tap_check(struct port *port, char *reason, size_t reason_size)
{
    struct tap_port *tap = tap_cast(port);

    if (tap->at.netns[0] && netns_gone(tap)) {
        snprintf(reason, reason_size, "device gone: namespace %s deleted",
                 tap->at.netns);
        return ENOENT;
    }
    refresh_mtu(tap);
    return 0;
}

static const struct port_option tap_options[] = {
    { "offload", PORT_OPT_BOOL, 0, 0, false,
      "take TCP segments of up to 64 KB and unfinished checksums from the "
      "VM, and give them back (default true)" },
    { .key = NULL },
};

const struct port_class port_tap_class = {
    .type = "tap",
    .dp_kind = DP_PORT_LOCAL,
    .options = tap_options,
    .help = "a TAP device, created if it does not exist",
    .open = tap_open,
    .close = tap_close,
    .close_off_loop = true,
    .remove = tap_remove,
    .update = tap_update,
    .recv = tap_recv,
    .send = tap_send,
    .fd = tap_fd,
    .check = tap_check,
};
