#include <config.h>

#include "tunnel-tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "csum.h"
#include "headers.h"
#include "inet.h"
#include "port-provider.h"
#include "tso.h"
#include "util.h"

/* UDP-tunnel GSO on TUN/TAP came with Linux 6.17; Debian 12's headers
 * (Linux 6.1) know neither the offload flag nor the header fields, so they
 * are spelled out here as the kernel's uapi headers define them
 * (linux/if_tun.h, linux/virtio_net.h). */
#define TUNNEL_TAP_F_UDP_TUNNEL_GSO 0x080
#define TUNNEL_TAP_GSO_UDP_TUNNEL_IPV4 0x20

/* struct virtio_net_hdr_v1_hash_tunnel: the virtio-net header (version 1,
 * with the hash fields, unused here) and where the outer transport header
 * and the inner network header start, in the host's byte order, as a TAP
 * takes it unless told otherwise. */
#define TUNNEL_VNET_HDR_LEN 24
struct tunnel_vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
    uint32_t hash_value;
    uint16_t hash_report;
    uint16_t padding;
    uint16_t outer_th_offset;
    uint16_t inner_nh_offset;
};
BUILD_ASSERT(sizeof(struct tunnel_vnet_hdr) == TUNNEL_VNET_HDR_LEN);

#define TUNNEL_TAP_OFFLOADS \
    (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUNNEL_TAP_F_UDP_TUNNEL_GSO)

/* The headers in front of the inner frame when the frame is written: the
 * virtio-net header, an Ethernet header, outer IPv4, UDP and VXLAN. */
#define OUTER_LEN (ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN \
                   + VXLAN_HEADER_LEN)

struct tunnel_tap {
    int fd;
    char name[IFNAMSIZ];
    struct eth_header eth;      /* To the TAP's own address. */
};

/* Writes 'value' to /proc/sys/net/'family'/conf/'dev'/'key'.  Returns 0 or
 * an errno value. */
static int
set_conf(const char *family, const char *dev, const char *key,
         const char *value)
{
    char path[128];
    int fd, error = 0;

    snprintf(path, sizeof path, "/proc/sys/net/%s/conf/%s/%s", family, dev,
             key);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    if (write(fd, value, strlen(value)) < 0) {
        error = errno;
    }
    close(fd);
    return error;
}

/* Reads net.ipv4.conf.all.rp_filter, or 0 if it cannot be read. */
static int
all_rp_filter(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/conf/all/rp_filter", "re");
    int value = 0;

    if (f) {
        if (fscanf(f, "%d", &value) != 1) {
            value = 0;
        }
        fclose(f);
    }
    return value;
}

/* Creates the device on 'tap->fd' and names it in tap->name.  Returns 0,
 * or an errno value with the reason in 'error'. */
static int
create_device(struct tunnel_tap *tap, char *error, size_t error_size)
{
    int hdr_size = TUNNEL_VNET_HDR_LEN;
    struct ifreq ifr;

    tap->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (tap->fd < 0) {
        int err = errno;

        snprintf(error, error_size, "/dev/net/tun: %s", strerror(err));
        return err;
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "vswgso%%d");
    if (ioctl(tap->fd, TUNSETIFF, &ifr)
        || ioctl(tap->fd, TUNSETVNETHDRSZ, &hdr_size)) {
        int err = errno;

        snprintf(error, error_size, "TAP device: %s", strerror(err));
        return err;
    }
    snprintf(tap->name, sizeof tap->name, "%s", ifr.ifr_name);

    /* A kernel older than 6.17 refuses the flag it does not know. */
    if (ioctl(tap->fd, TUNSETOFFLOAD, TUNNEL_TAP_OFFLOADS)) {
        snprintf(error, error_size, "the kernel takes no UDP-tunnel GSO on "
                 "TAP devices (%s)", strerror(errno));
        return ENOTSUP;
    }
    return 0;
}

int
tunnel_tap_open(struct tunnel_tap **tapp, char *error, size_t error_size)
{
    struct tunnel_tap *tap = calloc(1, sizeof *tap);
    struct eth_addr mac;
    int err;

    *tapp = NULL;
    if (!tap) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    err = create_device(tap, error, error_size);
    if (!err && all_rp_filter() == 1) {
        snprintf(error, error_size, "strict reverse-path filtering "
                 "(net.ipv4.conf.all.rp_filter=1) drops what the host "
                 "sends itself through a TAP");
        err = ENOTSUP;
    }
    if (!err) {
        err = port_netdev_mac(tap->name, &mac);
        if (!err) {
            err = port_netdev_info(tap->name, true, NULL, NULL);
        }
        if (err) {
            snprintf(error, error_size, "%s: %s", tap->name, strerror(err));
        }
    }
    if (!err) {
        /* What forwarding our own frames needs, on this device only. */
        static const char *const conf[][2] = {
            { "forwarding", "1" },
            { "accept_local", "1" },
            { "rp_filter", "0" },
        };

        for (size_t i = 0; !err && i < ARRAY_SIZE(conf); i++) {
            err = set_conf("ipv4", tap->name, conf[i][0], conf[i][1]);
            if (err) {
                snprintf(error, error_size, "net.ipv4.conf.%s.%s: %s",
                         tap->name, conf[i][0], strerror(err));
            }
        }
    }
    if (err) {
        tunnel_tap_close(tap);
        return err;
    }

    /* Nothing is ever read from the device: keep IPv6 from queueing its
     * router solicitations there (a host without IPv6 has no such file,
     * and loses nothing). */
    set_conf("ipv6", tap->name, "disable_ipv6", "1");

    /* The source only has to be some other unicast address. */
    tap->eth.eth_dst = mac;
    tap->eth.eth_src = mac;
    tap->eth.eth_src.ea[0] ^= 0x02;
    tap->eth.eth_src.ea[5] ^= 0x01;
    tap->eth.eth_type = htons(ETH_TYPE_IPV4);
    *tapp = tap;
    return 0;
}

void
tunnel_tap_close(struct tunnel_tap *tap)
{
    if (tap) {
        if (tap->fd >= 0) {
            close(tap->fd);
        }
        free(tap);
    }
}

const char *
tunnel_tap_name(const struct tunnel_tap *tap)
{
    return tap->name;
}

int
tunnel_tap_up(struct tunnel_tap *tap)
{
    return port_netdev_info(tap->name, true, NULL, NULL);
}

/* Returns the offset of the network header in the inner frame that starts
 * 'inner' bytes into 'p', past any VLAN tags, or 0 if there is none. */
static size_t
inner_l3_offset(const struct packet *p, size_t inner)
{
    size_t ofs = inner + ETH_HEADER_LEN;

    for (;;) {
        const be16 *type = packet_at(p, ofs - 2, 2);

        if (!type) {
            return 0;
        }
        if (*type != htons(ETH_TYPE_VLAN)
            && *type != htons(ETH_TYPE_VLAN_QINQ)) {
            return ofs;
        }
        ofs += VLAN_HEADER_LEN;
    }
}

bool
tunnel_tap_takes(const struct packet *p, const struct in6_addr *dst)
{
    return p->md.gso_size && !p->md.gso_udp && p->md.csum_partial
           && inet_is_ipv4(dst) && !inet_is_multicast(dst)
           && packet_headroom(p) >= TUNNEL_VNET_HDR_LEN + OUTER_LEN
           && packet_size(p) + OUTER_LEN - ETH_HEADER_LEN <= UINT16_MAX;
}

int
tunnel_tap_send(struct tunnel_tap *tap, struct packet *p)
{
    /* What vxlan_push_outer() put in front of the inner frame. */
    size_t inner = IPV4_HEADER_LEN + UDP_HEADER_LEN + VXLAN_HEADER_LEN;
    struct ipv4_header *ip = packet_at_rw(p, 0, IPV4_HEADER_LEN);
    size_t l3 = inner_l3_offset(p, inner);
    const uint8_t *version = l3 ? packet_at(p, l3, 1) : NULL;
    size_t csum_start = inner + p->md.csum_start;
    const struct tcp_header *tcp = packet_at(p, csum_start, TCP_HEADER_LEN);
    struct tunnel_vnet_hdr h;

    if (!ip || !version || !tcp) {
        return EINVAL;
    }
    if (ip->ip_ttl < UINT8_MAX) {
        ip->ip_ttl++;
        ip->ip_csum = 0;
        ip->ip_csum = csum_ipv4_header(ip);
    }
    memcpy(packet_push(p, ETH_HEADER_LEN), &tap->eth, ETH_HEADER_LEN);

    /* Offsets from here on count the Ethernet header. */
    memset(&h, 0, sizeof h);
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.gso_type = (*version >> 4 == IPV4_VERSION ? VIRTIO_NET_HDR_GSO_TCPV4
                                                : VIRTIO_NET_HDR_GSO_TCPV6)
                 | TUNNEL_TAP_GSO_UDP_TUNNEL_IPV4
                 | (p->md.gso_ecn ? VIRTIO_NET_HDR_GSO_ECN : 0);
    h.gso_size = p->md.gso_size;
    h.csum_start = (uint16_t) (ETH_HEADER_LEN + csum_start);
    h.csum_offset = p->md.csum_offset;
    h.hdr_len = (uint16_t) (h.csum_start
                            + (ntohs(tcp->tcp_ctl) >> 12) * 4);
    h.outer_th_offset = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    h.inner_nh_offset = (uint16_t) (ETH_HEADER_LEN + l3);
    memcpy(packet_push(p, sizeof h), &h, sizeof h);

    ssize_t n = write(tap->fd, packet_data(p), packet_size(p));
    int err = n < 0 ? errno : 0;

    packet_pull(p, sizeof h + ETH_HEADER_LEN);
    return err;
}
