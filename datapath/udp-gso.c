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

BUILD_ASSERT((UDP_GSO_SOCKETS & (UDP_GSO_SOCKETS - 1)) == 0);

/* Room for a few trains at once (the kernel caps it at wmem_max). */
#define UDP_GSO_SNDBUF (1 << 20)

struct gso_socket {
    int fd;                     /* -1 if none. */
    uint16_t port;              /* Source port 'fd' is bound to. */
    bool busy;                  /* No socket could be opened for 'port'. */
    int error;                  /* Why, if 'busy'. */
};

struct udp_gso {
    struct udp_gso_config config;
    struct udp_gso_stats stats;
    struct gso_socket sockets[UDP_GSO_SOCKETS];
};

struct udp_gso *
udp_gso_create(const struct udp_gso_config *config)
{
    struct udp_gso *g = malloc(sizeof *g);

    if (g) {
        g->config = *config;
        memset(&g->stats, 0, sizeof g->stats);
        for (size_t i = 0; i < UDP_GSO_SOCKETS; i++) {
            g->sockets[i] = (struct gso_socket) { .fd = -1 };
        }
    }
    return g;
}

static void
close_socket(struct gso_socket *s)
{
    if (s->fd >= 0) {
        close(s->fd);
    }
    *s = (struct gso_socket) { .fd = -1 };
}

void
udp_gso_destroy(struct udp_gso *g)
{
    if (g) {
        for (size_t i = 0; i < UDP_GSO_SOCKETS; i++) {
            close_socket(&g->sockets[i]);
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
     * and lone frames on one path. */
    const struct sockopt v4_opts[] = {
        { SOL_SOCKET, SO_RCVBUF, 0, "SO_RCVBUF", false },
        { SOL_SOCKET, SO_SNDBUF, UDP_GSO_SNDBUF, "SO_SNDBUF", false },
        { IPPROTO_IP, IP_TTL, c->ttl, "IP_TTL", false },
        { IPPROTO_IP, IP_TOS, c->tos, "IP_TOS", false },
        { IPPROTO_IP, IP_MTU_DISCOVER,
          c->df ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT, "IP_MTU_DISCOVER",
          false },
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

/* Returns the socket for source port 'port', opening it if need be, or a
 * negative errno value. */
static int
get_socket(struct udp_gso *g, uint16_t port)
{
    struct gso_socket *s = &g->sockets[port & (UDP_GSO_SOCKETS - 1)];
    int fd;

    if (s->port == port && (s->fd >= 0 || s->busy)) {
        return s->busy ? -s->error : s->fd;
    }
    close_socket(s);
    s->port = port;
    fd = open_socket(&g->config, port);
    if (fd >= 0) {
        s->fd = fd;
        g->stats.sockets_opened++;
        return fd;
    }
    /* Whatever the reason (another program holds the port, the address
     * is gone, descriptors ran out), the slot remembers it until another
     * port takes it over, rather than trying again for every train. */
    s->busy = true;
    s->error = -fd;
    g->stats.open_failures++;
    return fd;
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
    fd = get_socket(g, src_port);
    if (fd < 0) {
        return -fd;
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
