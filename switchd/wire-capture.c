#include <config.h>

#include "wire-capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture-filter.h"
#include "headers.h"
#include "request.h"

/* The kernel's bound on what the capture holds that the daemon has not
 * read: as much as the capture's own buffer. */
#define WIRE_CAPTURE_RCVBUF (1 << 20)


static int
fail(int err, char *error, size_t error_size, const char *what)
{
    snprintf(error, error_size, "capture socket: %s: %s", what,
             strerror(err));
    return err;
}

/* Writes into 'expr' the filter for the port's own traffic and the user's
 * expression 'user', which must compile on its own first: parentheses
 * that balance there cannot reach outside its own. */
static void
port_expression(const struct wire_capture_config *cfg, const char *user,
                char *expr, size_t size)
{
    char addr[INET_ADDR_STRLEN];
    bool v4 = inet_is_ipv4(&cfg->local);

    inet_format(&cfg->local, addr);
    snprintf(expr, size, "(udp dst port %u and (host %s or %s multicast))"
             "%s%s%s", cfg->dst_port, addr, v4 ? "ip" : "ip6",
             user ? " and (" : "", user ? user : "", user ? ")" : "");
}

int
wire_capture_compile(const struct wire_capture_config *cfg,
                     const char *user, struct capture_filter *f,
                     char *error, size_t error_size)
{
    char expr[REQUEST_CAPTURE_FILTER_MAX + 128];
    int err;

    if (user && *user) {
        err = capture_filter_compile(f, user, error, error_size);
        capture_filter_free(f);
        if (err) {
            return err;
        }
    } else {
        user = NULL;
    }
    port_expression(cfg, user, expr, sizeof expr);
    return capture_filter_compile(f, expr, error, error_size);
}

static int
attach_filter(int fd, const struct capture_filter *f, char *error,
              size_t error_size)
{
    struct sock_fprog prog;

    /* libpcap's instructions are laid out as the kernel's. */
    prog.len = (unsigned short) f->prog.bf_len;
    prog.filter = (struct sock_filter *) f->prog.bf_insns;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog)) {
        return fail(errno, error, error_size, "SO_ATTACH_FILTER");
    }
    return 0;
}

int
wire_capture_open(const struct wire_capture_config *cfg,
                  const struct capture_filter *f, int *fdp, char *error,
                  size_t error_size)
{
    struct sockaddr_ll sll;
    int size = WIRE_CAPTURE_RCVBUF;
    struct tpacket_stats stats;
    socklen_t len = sizeof stats;
    int fd, err;

    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    if (cfg->dev[0]) {
        sll.sll_ifindex = (int) if_nametoindex(cfg->dev);
        if (!sll.sll_ifindex) {
            snprintf(error, error_size, "capture socket: device %s: %s",
                     cfg->dev, strerror(errno));
            return ENODEV;
        }
    }
    /* Protocol 0 takes nothing until it is bound, once the filter is in
     * place: no frame of other traffic slips through before. */
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(errno, error, error_size, "socket");
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size)
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size)) {
        err = fail(errno, error, error_size, "SO_RCVBUF");
    } else {
        err = attach_filter(fd, f, error, error_size);
    }
    if (!err && bind(fd, (struct sockaddr *) &sll, sizeof sll)) {
        err = fail(errno, error, error_size, "bind");
    }
    if (err) {
        close(fd);
        return err;
    }
    /* Reading the statistics resets them. */
    getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len);
    *fdp = fd;
    return 0;
}

/* Says whether 'frame', which arrived on a device, comes from the port's
 * own address: the host forwards what the tunnel TAP hands it, and the
 * frame leaves again through the underlay device, where it is taken. */
static bool
from_local(const struct wire_capture_config *cfg, const uint8_t *frame,
           size_t len)
{
    if (len < ETH_HEADER_LEN + 40) {
        return false;
    }
    if (inet_is_ipv4(&cfg->local)) {
        return frame[12] == 0x08 && frame[13] == 0x00
               && !memcmp(frame + ETH_HEADER_LEN + 12,
                          &cfg->local.s6_addr[12], 4);
    }
    return frame[12] == 0x86 && frame[13] == 0xdd
           && !memcmp(frame + ETH_HEADER_LEN + 8, &cfg->local, 16);
}

static void
count_drops(int fd, struct capture_buffer *buf)
{
    struct tpacket_stats stats;
    socklen_t len = sizeof stats;

    if (!getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len)) {
        buf->lost += stats.tp_drops;
    }
}

size_t
wire_capture_read(int fd, const struct wire_capture_config *cfg,
                  unsigned int dirs, struct capture_buffer *buf,
                  size_t max, bool *full)
{
    static uint8_t frame[CAPTURE_SNAPLEN];
    size_t n = 0;

    count_drops(fd, buf);
    while (n < max) {
        struct sockaddr_ll sll;
        struct iovec iov = { frame, sizeof frame };
        struct msghdr msg = {
            .msg_name = &sll, .msg_namelen = sizeof sll,
            .msg_iov = &iov, .msg_iovlen = 1,
        };
        ssize_t len = recvmsg(fd, &msg, MSG_TRUNC);
        enum capture_dir dir;
        struct timeval now;
        size_t caplen;

        if (len < 0) {
            break;
        }
        n++;
        caplen = (size_t) len < sizeof frame ? (size_t) len : sizeof frame;
        if (sll.sll_hatype != ARPHRD_ETHER
            && sll.sll_hatype != ARPHRD_LOOPBACK) {
            continue;           /* No Ethernet header to show. */
        }
        dir = sll.sll_pkttype == PACKET_OUTGOING ? CAPTURE_DIR_OUT
              : CAPTURE_DIR_IN;
        if (!(dirs & (1u << dir))
            || (dir == CAPTURE_DIR_IN && from_local(cfg, frame, caplen))) {
            continue;
        }
        gettimeofday(&now, NULL);
        /* A frame longer than 'frame' is cut there, at the snap
         * length. */
        if (!capture_buffer_add(buf, &now, dir, frame, (size_t) len)) {
            *full = true;
            break;
        }
    }
    return n;
}
