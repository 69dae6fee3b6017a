#include <config.h>

#include "udp-gso.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inet.h"
#include "sockopt.h"
#include "util.h"

/* Room for a few trains at once (the kernel caps it at wmem_max). */
#define UDP_GSO_SNDBUF (1 << 20)

struct udp_gso {
    struct udp_gso_config config;
    struct udp_gso_stats stats;
    size_t n;                   /* Sockets in the set. */
    uint16_t ports[UDP_GSO_SOCKETS];  /* Their ports, ascending. */
    int fds[UDP_GSO_SOCKETS];         /* fds[i] is bound to ports[i]. */
};

void
udp_gso_destroy(struct udp_gso *g)
{
    if (g) {
        for (size_t i = 0; i < g->n; i++) {
            close(g->fds[i]);
        }
        free(g);
    }
}

/* Opens a socket bound to 'port' on the configured address.  Returns it,
 * or a negative errno value. */
static int
open_socket(const struct udp_gso_config *c, uint16_t port)
{
    /* The socket only sends, but being bound it also receives whatever
     * comes to its port: the smallest buffer keeps that from costing
     * memory.  The send buffer must hold a whole train.  PROBE sets DF
     * without heeding path MTU reports, the way the raw socket sends what
     * the datapath already sized.  IPv6 flow label 0, as the raw socket's
     * frames carry: ECMP that hashes the label must keep a flow's trains
     * and lone frames on one path.  FREEBIND lets the set be bound before
     * 'local' is up: the raw socket sends from it all the same. */
    const struct sockopt v4_opts[] = {
        { SOL_SOCKET, SO_RCVBUF, 0, "SO_RCVBUF", false },
        { SOL_SOCKET, SO_SNDBUF, UDP_GSO_SNDBUF, "SO_SNDBUF", false },
        { IPPROTO_IP, IP_TTL, c->ttl, "IP_TTL", false },
        { IPPROTO_IP, IP_TOS, c->tos, "IP_TOS", false },
        { IPPROTO_IP, IP_MTU_DISCOVER,
          c->df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT, "IP_MTU_DISCOVER",
          false },
        { IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND", false },
    };
    const struct sockopt v6_opts[] = {
        { SOL_SOCKET, SO_RCVBUF, 0, "SO_RCVBUF", false },
        { SOL_SOCKET, SO_SNDBUF, UDP_GSO_SNDBUF, "SO_SNDBUF", false },
        { IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", false },
        { IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0, "IPV6_AUTOFLOWLABEL", true },
        { IPPROTO_IPV6, IPV6_UNICAST_HOPS, c->ttl, "IPV6_UNICAST_HOPS",
          false },
        { IPPROTO_IPV6, IPV6_TCLASS, c->tos, "IPV6_TCLASS", false },
        { IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE,
          "IPV6_MTU_DISCOVER", false },
        { IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND", false },
    };
    bool v4 = c->family == AF_INET;
    union inet_sockaddr sa;
    socklen_t len;
    char error[128];
    int fd, err;

    fd = socket(c->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                IPPROTO_UDP);
    if (fd < 0) {
        return -errno;
    }
    err = sockopt_set_all(fd, v4 ? v4_opts : v6_opts,
                          v4 ? ARRAY_SIZE(v4_opts) : ARRAY_SIZE(v6_opts),
                          error, sizeof error);
    /* Trains leave by the underlay device only, as single frames do
     * (port-vxlan.c). */
    if (!err && c->ifindex
        && setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &c->ifindex,
                      sizeof c->ifindex)) {
        err = errno;
    }
    if (!err) {
        len = inet_sockaddr_make(c->family, &c->local, port, c->ifindex,
                                 &sa);
        err = bind(fd, &sa.sa, len) ? errno : 0;
    }
    if (err) {
        close(fd);
        return -err;
    }
    return fd;
}

/* Binds a socket of 'g' in the share of its range from 'first' to 'last'
 * (inclusive): to the first port that is free.  Returns 0 (also when the
 * whole share is held by others, which 'g''s stats count), or an errno
 * value if no socket can be made at all. */
static int
bind_share(struct udp_gso *g, uint32_t first, uint32_t last)
{
    for (uint32_t port = first; port <= last; port++) {
        int fd = open_socket(&g->config, (uint16_t) port);

        if (fd >= 0) {
            g->ports[g->n] = (uint16_t) port;
            g->fds[g->n++] = fd;
            g->stats.sockets++;
            return 0;
        } else if (fd != -EADDRINUSE && fd != -EACCES) {
            return -fd;
        }
        g->stats.ports_skipped++;
    }
    return 0;
}

int
udp_gso_create(const struct udp_gso_config *config, struct udp_gso **gp)
{
    uint32_t min = config->port_min, max = config->port_max;
    uint32_t range = max >= min ? max - min + 1 : 0;
    uint32_t shares = MIN(range, UDP_GSO_SOCKETS);
    struct udp_gso *g = calloc(1, sizeof *g);
    int err = 0;

    *gp = NULL;
    if (!g) {
        return ENOMEM;
    }
    g->config = *config;
    /* Share i is [min + i * range / shares, min + (i + 1) * range / shares),
     * so that the shares tile the range and differ by at most one port. */
    for (uint32_t i = 0; i < shares && !err; i++) {
        err = bind_share(g, min + i * range / shares,
                         min + (i + 1) * range / shares - 1);
    }
    if (!err && !g->n) {
        err = EADDRINUSE;
    }
    if (err) {
        udp_gso_destroy(g);
        return err;
    }
    *gp = g;
    return 0;
}

size_t
udp_gso_get_ports(const struct udp_gso *g, uint16_t *ports, size_t max)
{
    size_t n = MIN(max, g->n);

    memcpy(ports, g->ports, n * sizeof *ports);
    return n;
}

/* Returns the socket bound to 'port', or -1 if the set has none. */
static int
find_socket(const struct udp_gso *g, uint16_t port)
{
    size_t lo = 0, hi = g->n;

    /* The ports are in ascending order. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (g->ports[mid] == port) {
            return g->fds[mid];
        } else if (g->ports[mid] < port) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

int
udp_gso_send(struct udp_gso *g, uint16_t src_port,
             const struct in6_addr *dst, be16 dst_port,
             const struct iovec *payloads, size_t n, size_t seg_size)
{
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
    } control;
    union inet_sockaddr sa;
    struct msghdr msg;
    struct cmsghdr *cmsg;
    uint16_t gso_size = (uint16_t) seg_size;
    int fd;

    if (!n || n > UDP_GSO_MAX_SEGMENTS || seg_size > UINT16_MAX) {
        return EINVAL;
    }
    fd = find_socket(g, src_port);
    if (fd < 0) {
        return EADDRNOTAVAIL;
    }

    memset(&control, 0, sizeof control);
    msg = (struct msghdr) {
        .msg_name = &sa,
        .msg_namelen = inet_sockaddr_make(g->config.family, dst,
                                          ntohs(dst_port), g->config.ifindex,
                                          &sa),
        .msg_iov = (struct iovec *) payloads,
        .msg_iovlen = n,
        .msg_control = &control,
        .msg_controllen = sizeof control.buf,
    };
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_UDP;
    cmsg->cmsg_type = UDP_SEGMENT;
    cmsg->cmsg_len = CMSG_LEN(sizeof gso_size);
    memcpy(CMSG_DATA(cmsg), &gso_size, sizeof gso_size);

    for (;;) {
        if (sendmsg(fd, &msg, MSG_DONTWAIT) >= 0) {
            g->stats.trains++;
            g->stats.datagrams += n;
            return 0;
        } else if (errno != EINTR) {
            return errno == EWOULDBLOCK ? EAGAIN : errno;
        }
    }
}

void
udp_gso_get_stats(const struct udp_gso *g, struct udp_gso_stats *stats)
{
    *stats = g->stats;
}
