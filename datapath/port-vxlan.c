#include <config.h>

/* The VXLAN port: the VTEP's underlay side.
 *
 * Frames arrive on a UDP socket bound to the wildcard address and the
 * VXLAN port, so that datagrams to the multicast groups the port joins
 * arrive as well as unicast; the kernel strips the outer headers and tells
 * us the outer addresses (the destination through IP_PKTINFO), and the
 * datapath decapsulates the VXLAN header itself.  With UDP_GRO the kernel
 * hands over a train of datagrams of one flow as one buffer, which the
 * port cuts into frames.
 *
 * Every inner flow must leave from a UDP source port of its own, which
 * underlay ECMP needs to spread flows, so no single UDP socket can send.
 * Frames of one flow that leave in the same batch go out as one train
 * (udp-gso.h) from the socket of that flow's source port, one of a set
 * bound when the port opens, which the flow hash chooses among: one trip
 * through the kernel for up to 64 datagrams, the UDP payloads as the
 * datapath made them, with outer headers the kernel builds.  Lone frames,
 * multicast and trains that cannot go that way get outer IP and UDP
 * headers here (vxlan_push_outer()) and leave through a raw IP socket.
 * The kernel routes either and resolves the next hop: no outer Ethernet
 * header is ever built.  What is done to each frame besides the system
 * calls is in vxlan-io.c, where dp-bench runs it too.
 *
 * Neither receive nor raw socket is bound to 'dev': unicast may come in
 * and leave on any interface the routes choose.  'dev' only names the
 * interface for multicast (membership and output), the default MTU and
 * the outer Ethernet source.
 *
 * The multicast memberships are not the receiving socket's: the kernel
 * caps the groups of one socket (20 IPv4 groups by default), and a VNI
 * each with its own group needs more.  They live on as many sockets of
 * their own as the cap needs (mcast-groups.h), and the receiving socket,
 * bound to the wildcard address with IP_MULTICAST_ALL on, receives what
 * comes to the port for every group joined on the host. */

#include "port-provider.h"

#include <assert.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dp.h"
#include "headers.h"
#include "inet.h"
#include "mcast-groups.h"
#include "packet.h"
#include "sockopt.h"
#include "tso.h"
#include "tunnel-tap.h"
#include "udp-gso.h"
#include "util.h"
#include "vxlan-io.h"

/* Where the kernel keeps the cap on the IPv4 groups of one socket.  IPv6
 * has none of its own: net.core.optmem_max caps it, in bytes, so the
 * kernel's refusal says where a socket is full. */
#define VXLAN_PORT_IGMP_MAX "/proc/sys/net/ipv4/igmp_max_memberships"

#define VXLAN_PORT_DEFAULT_MTU 1500

struct vxlan_port {
    struct port up;
    int rx_fd;                  /* UDP socket bound to the VXLAN port. */

    /* Datagrams and trains of them (UDP GRO) that rx_fd received, not yet
     * handed on. */
    struct vxlan_io_trains trains;
    int tx_fd;                  /* Raw socket for whole outer IP packets. */
    uint16_t ip_id;             /* Next outer IPv4 identification. */
    bool use_gso;               /* The gso option. */
    struct udp_gso *gso;        /* Trains of datagrams, NULL if disabled. */
    bool use_gso_tap;           /* The gso_tap option. */
    struct tunnel_tap *gso_tap; /* Whole super frames, NULL if not used
                                 * (up.offload_note says why). */
    struct vxlan_io_tx tx;      /* The plan of the batch being sent. */
    int family;                 /* AF_INET or AF_INET6, as 'local_ip'. */
    char dev[IFNAMSIZ];         /* Underlay interface, "" if none. */
    int ifindex;                /* Index of 'dev', 0 if none. */
    bool mtu_from_dev;          /* No mtu option: follow 'dev'. */
    struct dp_tunnel_config tunnel;

    /* The multicast groups of the VNIs, on sockets of their own. */
    struct mcast_groups *groups;
};

static struct vxlan_port *
vxlan_port_cast(const struct port *port)
{
    assert(port->class == &port_vxlan_class);
    return CONTAINER_OF(port, struct vxlan_port, up);
}

/* Opens the receive socket into vp->rx_fd.  Returns 0 or an errno value
 * with a reason in 'error'. */
static int
open_rx_socket(struct vxlan_port *vp, char *error, size_t error_size)
{
    /* With MULTICAST_ALL on (the default; IPv6 has the option since
     * Linux 4.20, and behaved so before), a socket bound to the wildcard
     * address receives datagrams to the groups that other sockets of the
     * namespace joined: those that hold the port's memberships.  V6ONLY
     * keeps IPv4 datagrams, which an IPv6 VTEP has no use for, away.  No
     * SO_REUSEADDR: a second VTEP on the same port must fail to start
     * rather than silently share the unicast traffic.  A receive buffer
     * of a few MB rides out bursts while the loop serves other ports
     * (forced past rmem_max where the daemon may). */
    static const struct sockopt v4_opts[] = {
        { SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20, "SO_RCVBUFFORCE", true },
        { IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO", false },
        { IPPROTO_IP, IP_RECVFRAGSIZE, 1, "IP_RECVFRAGSIZE", false },
        { IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP", false },
        { IPPROTO_IP, IP_MULTICAST_ALL, 1, "IP_MULTICAST_ALL", false },
        { SOL_UDP, UDP_GRO, 1, "UDP_GRO", true },
    };
    static const struct sockopt v6_opts[] = {
        { SOL_SOCKET, SO_RCVBUFFORCE, 4 << 20, "SO_RCVBUFFORCE", true },
        { IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", false },
        { IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO", false },
        { IPPROTO_IPV6, IPV6_RECVFRAGSIZE, 1, "IPV6_RECVFRAGSIZE", false },
        { IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP",
          false },
        { IPPROTO_IPV6, IPV6_MULTICAST_ALL, 1, "IPV6_MULTICAST_ALL", true },
        { SOL_UDP, UDP_GRO, 1, "UDP_GRO", true },
    };
    static const struct in6_addr any4 = {{{ 0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0xff, 0xff, 0, 0, 0, 0 }}};
    bool v4 = vp->family == AF_INET;
    union inet_sockaddr sa;
    socklen_t len;
    int err;

    vp->rx_fd = socket(vp->family, SOCK_DGRAM, IPPROTO_UDP);
    if (vp->rx_fd < 0) {
        err = errno;
        snprintf(error, error_size, "UDP socket: %s", strerror(err));
        return err;
    }
    err = sockopt_set_all(vp->rx_fd, v4 ? v4_opts : v6_opts,
                          v4 ? ARRAY_SIZE(v4_opts) : ARRAY_SIZE(v6_opts),
                          error, error_size);
    if (err) {
        return err;
    }

    len = inet_sockaddr_make(vp->family, v4 ? &any4 : &in6addr_any,
                        ntohs(vp->tunnel.encap.dst_port), 0, &sa);
    if (bind(vp->rx_fd, &sa.sa, len)) {
        err = errno;
        snprintf(error, error_size, "bind to UDP port %u: %s",
                 ntohs(vp->tunnel.encap.dst_port), strerror(err));
        return err;
    }
    err = port_set_nonblocking(vp->rx_fd);
    if (err) {
        snprintf(error, error_size, "UDP socket: %s", strerror(err));
    }
    return err;
}

/* Opens the transmit socket into vp->tx_fd.  Returns 0 or an errno value
 * with a reason in 'error'. */
static int
open_tx_socket(struct vxlan_port *vp, char *error, size_t error_size)
{
    /* IPPROTO_RAW implies IP_HDRINCL for IPv4; IPv6 has its own option
     * (Linux 4.5 and later).  Without multicast loopback we never receive
     * our own floods. */
    static const struct sockopt v4_opts[] = {
        { IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP", false },
    };
    static const struct sockopt v6_opts[] = {
        { IPPROTO_IPV6, IPV6_HDRINCL, 1, "IPV6_HDRINCL", false },
        { IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP",
          false },
    };
    bool v4 = vp->family == AF_INET;
    int err;

    vp->tx_fd = socket(vp->family, SOCK_RAW, IPPROTO_RAW);
    if (vp->tx_fd < 0) {
        err = errno;
        snprintf(error, error_size, "raw IP socket: %s", strerror(err));
        return err;
    }
    err = sockopt_set_all(vp->tx_fd, v4 ? v4_opts : v6_opts,
                          v4 ? ARRAY_SIZE(v4_opts) : ARRAY_SIZE(v6_opts),
                          error, error_size);
    if (err) {
        return err;
    }

    if (vp->ifindex) {
        struct ip_mreqn mreqn = { .imr_ifindex = vp->ifindex };
        int r = v4 ? setsockopt(vp->tx_fd, IPPROTO_IP, IP_MULTICAST_IF,
                                &mreqn, sizeof mreqn)
                   : setsockopt(vp->tx_fd, IPPROTO_IPV6, IPV6_MULTICAST_IF,
                                &vp->ifindex, sizeof vp->ifindex);

        if (r) {
            err = errno;
            snprintf(error, error_size, "multicast output on %s: %s",
                     vp->dev, strerror(err));
            return err;
        }
        /* Whole outer packets leave by the underlay device only, as the
         * kernel's vxlan driver routes them out of 'dev': were its route
         * or local_ip to go, they must fail and be counted, not take the
         * default route out of another interface with a source address
         * that is not there. */
        if (setsockopt(vp->tx_fd, SOL_SOCKET, SO_BINDTOIFINDEX,
                       &vp->ifindex, sizeof vp->ifindex)) {
            err = errno;
            snprintf(error, error_size, "raw IP socket on %s: %s", vp->dev,
                     strerror(err));
            return err;
        }
    }
    err = port_set_nonblocking(vp->tx_fd);
    if (err) {
        snprintf(error, error_size, "raw IP socket: %s", strerror(err));
    }
    return err;
}

/* Parses option 'key' of 'args', if given, into '*out' within the bounds
 * the options table sets.  Returns false if it does not parse. */
static bool
get_uint(const struct port_args *args, const char *key, unsigned int *out)
{
    const struct port_option *o = port_class_option(&port_vxlan_class, key);
    const char *value = port_args_get(args, key);

    return !value || port_option_parse_uint(value, o->min, o->max, out);
}

/* Reads the options in 'args' into vp->tunnel, vp->family and vp->dev,
 * with their defaults.  Returns 0 or EINVAL with a reason in 'error'. */
static int
parse_options(const struct port_args *args, struct vxlan_port *vp,
              char *error, size_t error_size)
{
    const struct port_option *range_opt
        = port_class_option(&port_vxlan_class, "src_port_range");
    struct vxlan_encap_params *encap = &vp->tunnel.encap;
    const char *local = port_args_get(args, "local_ip");
    const char *range = port_args_get(args, "src_port_range");
    const char *dev = port_args_get(args, "dev");
    unsigned int dst_port = VXLAN_DST_PORT;
    unsigned int lo = VXLAN_SRC_PORT_MIN, hi = VXLAN_SRC_PORT_MAX;
    unsigned int ttl = 0, tos = 0, mtu = 0;

    vp->use_gso = true;
    vp->use_gso_tap = true;

    if (!local || !inet_parse(local, &encap->local)
        || !inet_is_unicast(&encap->local)) {
        snprintf(error, error_size, "local_ip: needs a unicast address");
        return EINVAL;
    }
    if (dev && (!port_option_is_ifname(dev) || strlen(dev) >= IFNAMSIZ)) {
        snprintf(error, error_size, "dev: '%s' is not an interface name",
                 dev);
        return EINVAL;
    }
    if (!port_args_get_bool(args, "df", &encap->df, error, error_size)
        || !port_args_get_bool(args, "udp_csum", &encap->udp_csum, error,
                               error_size)
        || !port_args_get_bool(args, "gso", &vp->use_gso, error,
                               error_size)
        || !port_args_get_bool(args, "gso_tap", &vp->use_gso_tap, error,
                               error_size)) {
        return EINVAL;
    }
    if (!get_uint(args, "dst_port", &dst_port)
        || !get_uint(args, "ttl", &ttl) || !get_uint(args, "tos", &tos)
        || !get_uint(args, "mtu", &mtu)
        || (range && !port_option_parse_range(range, range_opt->min,
                                              range_opt->max, &lo, &hi))) {
        snprintf(error, error_size, "invalid options for a vxlan port");
        return EINVAL;
    }

    vp->family = inet_is_ipv4(&encap->local) ? AF_INET : AF_INET6;
    snprintf(vp->dev, sizeof vp->dev, "%s", dev ? dev : "");
    encap->dst_port = htons((uint16_t) dst_port);
    encap->src_port_min = (uint16_t) lo;
    encap->src_port_max = (uint16_t) hi;
    encap->ttl = (uint8_t) ttl;
    encap->tos = (uint8_t) tos;
    vp->mtu_from_dev = !mtu && dev;
    vp->tunnel.mtu = mtu ? mtu : VXLAN_PORT_DEFAULT_MTU;
    return 0;
}

static void
vxlan_close(struct port *port)
{
    if (port) {
        struct vxlan_port *vp = vxlan_port_cast(port);

        if (vp->rx_fd >= 0) {
            close(vp->rx_fd);
        }
        if (vp->tx_fd >= 0) {
            close(vp->tx_fd);
        }
        mcast_groups_destroy(vp->groups);
        for (size_t i = vp->trains.next; i < vp->trains.batch.count; i++) {
            packet_free(vp->trains.batch.packets[i]);
        }
        udp_gso_destroy(vp->gso);
        tunnel_tap_close(vp->gso_tap);
        free(vp);
    }
}

/* Sets up vp->gso, for unicast with the port's TTL, TOS and DF, and
 * restricts the source ports to its set.  Returns 0 or an errno value
 * with a reason in 'error'. */
static int
open_gso(struct vxlan_port *vp, char *error, size_t error_size)
{
    struct vxlan_encap_params *encap = &vp->tunnel.encap;
    struct udp_gso_config config = {
        .family = vp->family,
        .local = encap->local,
        .ifindex = vp->ifindex,
        .ttl = encap->ttl ? encap->ttl : VXLAN_TTL_UNICAST,
        .tos = encap->tos,
        .df = encap->df,
        .port_min = encap->src_port_min,
        .port_max = encap->src_port_max,
    };
    int err = udp_gso_create(&config, &vp->gso);

    /* Each flow leaves from one of the set's ports, raw frames too, so
     * that a flow's trains and lone frames share a path. */
    if (!err) {
        encap->n_src_ports = (uint16_t) udp_gso_get_ports(
            vp->gso, encap->src_ports, ARRAY_SIZE(encap->src_ports));
    } else if (err == EADDRINUSE) {
        snprintf(error, error_size, "src_port_range %u-%u: every port is "
                 "in use", encap->src_port_min, encap->src_port_max);
    } else {
        snprintf(error, error_size, "UDP GSO sockets: %s", strerror(err));
    }
    return err;
}

/* Opens vp->gso_tap where the options and the kernel allow; otherwise
 * says why not in the port's offload note.  The port works either way. */
static void
open_gso_tap(struct vxlan_port *vp)
{
    const char *why = !vp->use_gso_tap ? "gso_tap=false"
                      : vp->family != AF_INET ? "IPv6 underlay"
                      : vp->tunnel.encap.udp_csum ? "udp_csum=true"
                      : NULL;

    if (why) {
        snprintf(vp->up.offload_note, sizeof vp->up.offload_note, "%s", why);
    } else if (!tunnel_tap_open(&vp->gso_tap, vp->up.offload_note,
                                sizeof vp->up.offload_note)) {
        vp->up.offload_note[0] = '\0';
        vp->up.offloads = PORT_OFFLOAD_TUNNEL_GSO;
    }
}

/* The system calls behind vp->groups. */

static int
open_membership_socket(void *vp_, int *fd)
{
    const struct vxlan_port *vp = vp_;

    /* Never bound: it receives nothing, and holds memberships only. */
    *fd = socket(vp->family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    return *fd < 0 ? errno : 0;
}

static void
close_membership_socket(void *vp_, int fd)
{
    (void) vp_;
    close(fd);
}

/* Joins ('join' true) or leaves multicast 'group' on 'fd', on vp->ifindex
 * (0: where the route to the group leads).  Returns 0 or an errno
 * value. */
static int
change_membership(void *vp_, int fd, const struct in6_addr *group,
                  bool join)
{
    const struct vxlan_port *vp = vp_;
    int retval;

    if (vp->family == AF_INET) {
        struct ip_mreqn mreqn = {
            .imr_multiaddr.s_addr = inet_to_ipv4(group),
            .imr_ifindex = vp->ifindex,
        };

        retval = setsockopt(fd, IPPROTO_IP,
                            join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP,
                            &mreqn, sizeof mreqn);
    } else {
        struct ipv6_mreq mreq = {
            .ipv6mr_multiaddr = *group,
            .ipv6mr_interface = (unsigned int) vp->ifindex,
        };

        retval = setsockopt(fd, IPPROTO_IPV6,
                            join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP,
                            &mreq, sizeof mreq);
    }
    return retval ? errno : 0;
}

static const struct mcast_groups_ops membership_ops = {
    open_membership_socket, close_membership_socket, change_membership,
};

/* Returns how many groups one socket may join, as the kernel says now:
 * the operator may change it at any time. */
static size_t
groups_per_socket(const struct vxlan_port *vp)
{
    unsigned long n = 0;
    FILE *stream;
    bool ok;

    if (vp->family != AF_INET) {
        return MCAST_GROUPS_UNLIMITED;
    }
    stream = fopen(VXLAN_PORT_IGMP_MAX, "re");
    if (!stream) {
        return MCAST_GROUPS_UNLIMITED;
    }
    ok = fscanf(stream, "%lu", &n) == 1;
    fclose(stream);
    return ok ? (size_t) n : MCAST_GROUPS_UNLIMITED;
}

static int
vxlan_open(const struct port_args *args, struct port **portp, char *error,
           size_t error_size)
{
    struct vxlan_port *vp = calloc(1, sizeof *vp);
    int err;

    *portp = NULL;
    if (!vp) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    vp->up.class = &port_vxlan_class;
    vp->rx_fd = vp->tx_fd = -1;
    vxlan_io_tx_init(&vp->tx);

    err = parse_options(args, vp, error, error_size);
    if (!err && vp->dev[0]) {
        int mtu;

        err = port_netdev_info(vp->dev, false, &vp->ifindex, &mtu);
        if (!err) {
            err = port_netdev_mac(vp->dev, &vp->tunnel.encap.eth_src);
        }
        if (err == ENODEV) {
            snprintf(error, error_size, "underlay interface %s does not "
                     "exist", vp->dev);
        } else if (err) {
            snprintf(error, error_size, "dev %s: %s", vp->dev,
                     strerror(err));
        } else if (vp->mtu_from_dev && mtu > 0) {
            vp->tunnel.mtu = (unsigned int) mtu;
        }
    }
    if (!err) {
        err = open_rx_socket(vp, error, error_size);
    }
    if (!err) {
        vp->groups = mcast_groups_create(&membership_ops, vp);
        err = vp->groups ? 0 : ENOMEM;
        if (err) {
            snprintf(error, error_size, "out of memory");
        }
    }
    if (!err) {
        err = open_tx_socket(vp, error, error_size);
    }
    if (!err && vp->use_gso) {
        err = open_gso(vp, error, error_size);
    }
    if (err) {
        vxlan_close(&vp->up);
        return err;
    }
    open_gso_tap(vp);
    *portp = &vp->up;
    return 0;
}

/* Errors a socket reports for one datagram that the next may not have. */
static bool
is_transient(int err)
{
    return err == ENOBUFS || err == ENOMEM || err == ECONNREFUSED
           || err == EHOSTUNREACH || err == ENETUNREACH;
}

/* Receives up to 'max' datagrams or trains of them into vp->trains, which
 * must be empty.  Returns 0 or an errno value. */
static int
receive_trains(struct vxlan_port *vp, struct packet_pool *pool, size_t max)
{
    struct packet *packets[PACKET_BATCH_MAX];
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct vxlan_io_rx_slot slots[PACKET_BATCH_MAX];
    size_t n = vxlan_io_rx_prepare(pool, max, packets, msgs, slots);
    int retval, err;
    size_t n_read;

    if (!n) {
        return EAGAIN;
    }
    retval = recvmmsg(vp->rx_fd, msgs, (unsigned int) n, MSG_DONTWAIT, NULL);
    err = retval < 0 ? errno : 0;
    n_read = retval < 0 ? 0 : (size_t) retval;
    for (size_t i = 0; i < n; i++) {
        if (i < n_read && vxlan_io_rx_complete(&msgs[i], packets[i])) {
            packet_batch_add(&vp->trains.batch, packets[i]);
        } else {
            vp->up.stats.rx_errors += i < n_read;
            packet_free(packets[i]);
        }
    }
    return err;
}

static int
vxlan_recv(struct port *port, struct packet_pool *pool,
           struct packet_batch *batch)
{
    struct vxlan_port *vp = vxlan_port_cast(port);
    int err = 0;

    vxlan_io_rx_cut(&vp->trains, pool, batch, &vp->up.stats.rx_errors);
    if (!vp->trains.batch.count && !packet_batch_is_full(batch)) {
        err = receive_trains(vp, pool, PACKET_BATCH_MAX - batch->count);
        vxlan_io_rx_cut(&vp->trains, pool, batch, &vp->up.stats.rx_errors);
    }

    if (batch->count) {
        return 0;
    } else if (!err || err == EAGAIN || err == EWOULDBLOCK || err == EINTR) {
        return EAGAIN;
    } else if (is_transient(err)) {
        vp->up.stats.rx_errors++;
        return EAGAIN;
    }
    return err;
}

/* Sends the raw datagrams that 'op' names, together with sendmmsg(). */
static void
send_raw(struct vxlan_port *vp, struct vxlan_io_tx *tx,
         const struct vxlan_io_op *op)
{
    struct mmsghdr *msgs = &tx->msgs[op->first];

    /* sendmmsg() stops at the first datagram that fails and reports an
     * error only if that is the first one, so each error accounts for one
     * datagram, skipped, and the rest is tried again.  A full socket buffer
     * fails the rest too: a switch drops rather than waits. */
    for (size_t i = 0; i < op->n;) {
        int retval = sendmmsg(vp->tx_fd, &msgs[i], (unsigned int) (op->n - i),
                              MSG_DONTWAIT);

        if (retval > 0) {
            i += (size_t) retval;
        } else if (retval < 0 && errno == EINTR) {
            continue;
        } else if (retval < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            vp->up.stats.tx_errors += op->n - i;
            break;
        } else {
            vp->up.stats.tx_errors++;
            i++;
        }
    }
}

/* Sends the train that 'op' names in one UDP GSO send.  Returns false if
 * it must go some other way. */
static bool
send_train(struct vxlan_port *vp, const struct vxlan_io_tx *tx,
           const struct vxlan_io_op *op)
{
    const struct packet *head = tx->train[op->first];
    const struct iovec *iovs = &tx->train_iovs[op->first];
    int error = udp_gso_send(vp->gso, head->md.tun_udp_src,
                             &head->md.tun_dst, head->md.tun_udp_dst,
                             iovs, op->n, iovs[0].iov_len);

    if (error == EAGAIN) {
        vp->up.stats.tx_errors += op->n;
    }
    return !error || error == EAGAIN;
}

/* Sends the frames of 'batch', none a super frame, and empties it. */
static void
send_frames(struct vxlan_port *vp, struct packet_batch *batch)
{
    struct vxlan_io_tx_config cfg = {
        .encap = &vp->tunnel.encap,
        .family = vp->family,
        .ifindex = vp->ifindex,
        .trains = vp->gso != NULL,
        .ip_id = vp->ip_id,
    };
    struct vxlan_io_tx *tx = &vp->tx;

    vxlan_io_tx_plan(&cfg, batch, tx);
    vp->up.stats.tx_errors += tx->n_unusable;
    for (size_t i = 0; i < tx->n_ops; i++) {
        const struct vxlan_io_op *op = &tx->ops[i];

        if (op->type == VXLAN_IO_RAW) {
            send_raw(vp, tx, op);
        } else if (!send_train(vp, tx, op)) {
            struct vxlan_io_op raw;

            vxlan_io_tx_unpack_train(&cfg, tx, op, &raw);
            send_raw(vp, tx, &raw);
        }
    }
    vp->ip_id = cfg.ip_id;
    packet_batch_free(batch);
}

/* Where the segments of a super frame go that the tunnel TAP cannot
 * take: each gets the VXLAN header of the frame it came from, and leaves
 * as the port's other frames do. */
struct segment_sink {
    struct vxlan_port *vp;
    uint8_t vxlan[VXLAN_HEADER_LEN];
    struct packet_batch batch;
};

static void
emit_segment(void *sink_, struct packet *seg)
{
    struct segment_sink *sink = sink_;

    memcpy(packet_push(seg, VXLAN_HEADER_LEN), sink->vxlan,
           VXLAN_HEADER_LEN);
    packet_reset_offsets(seg);
    packet_batch_add(&sink->batch, seg);
    if (packet_batch_is_full(&sink->batch)) {
        send_frames(sink->vp, &sink->batch);
    }
}

/* Cuts super frame 'p' (VXLAN header first) into segments and sends them,
 * as the datapath would have before it handed the frame over whole. */
static void
send_segments(struct vxlan_port *vp, struct packet *p)
{
    struct segment_sink sink = { .vp = vp };

    memcpy(sink.vxlan, packet_data(p), VXLAN_HEADER_LEN);
    packet_pull(p, VXLAN_HEADER_LEN);
    packet_batch_init(&sink.batch);
    if (tso_segment(p, p->pool, emit_segment, &sink)) {
        vp->up.stats.tx_errors++;
    }
    if (sink.batch.count) {
        send_frames(vp, &sink.batch);
    }
}

/* Sends super frame 'p' whole through the tunnel TAP, or in segments if
 * the port has none (any more), and frees it.  A tunnel TAP that someone
 * set down is brought up again; one that someone deleted is closed: the
 * datapath then learns, within a second, to cut super frames itself
 * (dp_tunnel_config's 'takes_super_frames').  Either way the frame in
 * hand is cut here. */
static void
send_super_frame(struct vxlan_port *vp, struct packet *p)
{
    if (vp->gso_tap) {
        struct packet_meta md = p->md;
        uint16_t ip_id = vp->ip_id;
        int error;

        /* The kernel numbers the segments it cuts from 'ip_id' on. */
        vp->ip_id = (uint16_t) (vp->ip_id + packet_size(p) / md.gso_size
                                + 1);
        vxlan_push_outer(p, &vp->tunnel.encap, ip_id);
        error = tunnel_tap_send(vp->gso_tap, p);
        if (!error) {
            packet_free(p);
            return;
        }
        /* A write to a device that is down fails with EIO. */
        bool brought_up = error == EIO && !tunnel_tap_up(vp->gso_tap);

        if (!brought_up && !port_error_is_device_gone(error)) {
            vp->up.stats.tx_errors++;
            packet_free(p);
            return;
        }
        if (!brought_up) {
            snprintf(vp->up.offload_note, sizeof vp->up.offload_note,
                     "%s: %s", tunnel_tap_name(vp->gso_tap),
                     strerror(error));
            tunnel_tap_close(vp->gso_tap);
            vp->gso_tap = NULL;
            vp->up.offloads &= ~(uint32_t) PORT_OFFLOAD_TUNNEL_GSO;
        }

        /* Back to the frame that vxlan_encap() made. */
        packet_pull(p, vxlan_overhead(&md.tun_dst) - ETH_HEADER_LEN
                       - VXLAN_HEADER_LEN);
        p->md = md;
    }
    send_segments(vp, p);
    packet_free(p);
}

/* The datapath hands over whole only the super frames that the tunnel TAP
 * takes (dp_tunnel_config's 'takes_super_frames'); the frames before one
 * leave before it, so that a flow's frames keep their order. */
static void
vxlan_send(struct port *port, struct packet_batch *batch)
{
    struct vxlan_port *vp = vxlan_port_cast(port);
    struct packet_batch frames;
    struct packet *p;

    packet_batch_init(&frames);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        if (!p->md.gso_size) {
            packet_batch_add(&frames, p);
            continue;
        }
        if (frames.count) {
            send_frames(vp, &frames);
        }
        send_super_frame(vp, p);
    }
    if (frames.count) {
        send_frames(vp, &frames);
    }
    batch->count = 0;
}

static int
vxlan_fd(const struct port *port)
{
    return vxlan_port_cast(port)->rx_fd;
}

static void
vxlan_tunnel_config(const struct port *port, struct dp_tunnel_config *tc)
{
    const struct vxlan_port *vp = vxlan_port_cast(port);
    int mtu;

    *tc = vp->tunnel;
    tc->takes_super_frames = vp->gso_tap != NULL;

    /* The operator may have raised the underlay MTU since the port was
     * opened (for jumbo frames); the MTU at open time is the fallback. */
    if (vp->mtu_from_dev
        && !port_netdev_info(vp->dev, false, NULL, &mtu) && mtu > 0) {
        tc->mtu = (unsigned int) mtu;
    }
}

/* The memberships and the multicast output were made on the underlay
 * device's index, which dies with it: a device of the same name made
 * again is another device, which the port must be opened again to
 * follow. */
static int
vxlan_check(struct port *port, char *reason, size_t reason_size)
{
    const struct vxlan_port *vp = vxlan_port_cast(port);
    char name[IF_NAMESIZE];

    if (!vp->ifindex || if_indextoname((unsigned int) vp->ifindex, name)
        || (errno != ENXIO && errno != ENODEV)) {
        return 0;
    }
    snprintf(reason, reason_size,
             "device gone: underlay interface %s deleted", vp->dev);
    return ENODEV;
}

static int
vxlan_set_groups(struct port *port, const struct in6_addr *groups,
                 size_t n_groups)
{
    struct vxlan_port *vp = vxlan_port_cast(port);
    bool v4 = vp->family == AF_INET;
    struct in6_addr *mine = malloc((n_groups + 1) * sizeof *mine);
    size_t n = 0;
    int error;

    if (!mine) {
        return ENOMEM;
    }
    /* The datapath drops traffic to a group of the other family, so such
     * a group is not joined (vxlan_group_state() says why). */
    for (size_t i = 0; i < n_groups; i++) {
        if (inet_is_ipv4(&groups[i]) == v4) {
            mine[n++] = groups[i];
        }
    }
    error = mcast_groups_set(vp->groups, mine, n, groups_per_socket(vp));
    free(mine);
    return error;
}

static int
vxlan_group_state(const struct port *port, const struct in6_addr *group,
                  char *reason, size_t reason_size)
{
    const struct vxlan_port *vp = vxlan_port_cast(port);
    int error;

    if (inet_is_ipv4(group) != (vp->family == AF_INET)) {
        snprintf(reason, reason_size, "an IPv%d group on an IPv%d VTEP",
                 inet_is_ipv4(group) ? 4 : 6, vp->family == AF_INET ? 4 : 6);
        return EAFNOSUPPORT;
    }
    error = mcast_groups_state(vp->groups, group);
    if (error == EAGAIN) {
        snprintf(reason, reason_size, "not tried yet");
    } else if (error) {
        snprintf(reason, reason_size, "%s", strerror(error));
    }
    return error;
}

static void
vxlan_group_counts(const struct port *port, size_t *joined, size_t *failed)
{
    const struct vxlan_port *vp = vxlan_port_cast(port);

    *joined = mcast_groups_joined(vp->groups);
    *failed = mcast_groups_failed(vp->groups);
}

static const struct port_option vxlan_options[] = {
    { "local_ip", PORT_OPT_UNICAST_IP, 0, 0, true,
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
    { "gso", PORT_OPT_BOOL, 0, 0, false,
      "send a flow's frames in trains with UDP GSO (default true)" },
    { "gso_tap", PORT_OPT_BOOL, 0, 0, false,
      "send whole TCP super frames into the host through a TAP with "
      "UDP-tunnel GSO, where the kernel takes it (default true)" },
    { "mtu", PORT_OPT_UINT, 576, 65535, false,
      "underlay MTU, 576 or more (default: the MTU of dev, else 1500)" },
    { .key = NULL },
};

const struct port_class port_vxlan_class = {
    .type = "vxlan",
    .dp_kind = DP_PORT_TUNNEL,
    .options = vxlan_options,
    .help = "the VTEP's underlay side (at most one)",
    .retry_on_link = true,
    .open = vxlan_open,
    .close = vxlan_close,
    .recv = vxlan_recv,
    .send = vxlan_send,
    .fd = vxlan_fd,
    .check = vxlan_check,
    .tunnel_config = vxlan_tunnel_config,
    .set_groups = vxlan_set_groups,
    .group_state = vxlan_group_state,
    .group_counts = vxlan_group_counts,
};
