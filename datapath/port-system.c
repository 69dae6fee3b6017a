#include <config.h>

/* The system port: an existing kernel interface (a NIC, a veth), whose
 * frames are taken and given raw through an AF_PACKET socket, in batches
 * with recvmmsg() and sendmmsg().  AF_PACKET rather than a libpcap live
 * capture (bench/capture-bench measured both): on a veth it takes 20-40%
 * more frames per second than libpcap in immediate mode, though libpcap's
 * ring costs the whole machine 10-15% less CPU per frame; but only
 * AF_PACKET gives the virtio-net header, without which an offloaded 64 KB
 * frame cannot be cut, and batched sends.
 *
 * With offloads (the default) every frame crosses the socket behind a
 * virtio-net header (PACKET_VNET_HDR), as with a TAP: the kernel hands
 * over a TCP super frame whole with its segment size (a veth peer's TSO
 * frame, or what the NIC's GRO joined), and takes one the same way, which
 * the device or the kernel cuts on the wire.  So too, from Linux 6.2, a
 * UDP super frame (a veth peer's UDP_SEGMENT datagram). */

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "csum.h"
#include "flow.h"
#include "headers.h"
#include "packet.h"
#include "port-provider.h"
#include "rx-ring.h"
#include "util.h"
#include "vnet-hdr.h"

struct system_port {
    struct port up;
    int fd;
    int ifindex;
    char name[IF_NAMESIZE];     /* The port's: what the interface is. */
    bool vnet_hdr;              /* Frames cross behind a virtio-net header
                                 * (PACKET_VNET_HDR). */
    struct rx_ring *ring;       /* NULL: frames come with recvmmsg(). */
};

static struct system_port *
system_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct system_port, up);
}

/* Returns false only if the kernel says interface 'ifindex' is no more:
 * a lookup that fails for want of descriptors or memory says nothing. */
static bool
interface_exists(int ifindex)
{
    char name[IF_NAMESIZE];

    return if_indextoname((unsigned int) ifindex, name)
           || (errno != ENXIO && errno != ENODEV);
}

/* Returns true if the kernel passes UDP super frames (SKB_GSO_UDP_L4)
 * through an AF_PACKET socket's virtio-net header both ways, as Linux 6.2
 * and later do.  An older one drops such a frame on receive and refuses
 * it on send, and no socket option tells, so the release decides. */
static bool
kernel_passes_uso(void)
{
    unsigned int major, minor;
    struct utsname u;

    return !uname(&u) && sscanf(u.release, "%u.%u", &major, &minor) == 2
           && (major > 6 || (major == 6 && minor >= 2));
}

static int
system_open(const struct port_args *args, struct port **portp, char *error,
            size_t error_size)
{
    struct system_port *sp;
    struct sockaddr_ll sll;
    struct packet_mreq mreq;
    int ifindex, one = 1;
    struct rx_ring *ring = NULL;
    bool offload = true, rx_ring = false;
    int fd, err;

    if (!port_args_get_bool(args, "offload", &offload, error, error_size)
        || !port_args_get_bool(args, "rx_ring", &rx_ring, error,
                               error_size)) {
        return EINVAL;
    }
    err = port_netdev_info(args->name, true, &ifindex, NULL);
    if (err) {
        if (err == ENODEV) {
            snprintf(error, error_size, "interface %s does not exist",
                     args->name);
        } else {
            snprintf(error, error_size, "%s: %s", args->name,
                     strerror(err));
        }
        return err;
    }
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
        err = errno;
        snprintf(error, error_size, "%s: AF_PACKET socket: %s", args->name,
                 strerror(err));
        return err;
    }
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (bind(fd, (struct sockaddr *) &sll, sizeof sll)
        || setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq,
                      sizeof mreq)
        || setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one)
        || (offload && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one,
                                  sizeof one))) {
        err = errno;
    }
    /* Our own transmissions are not input.  Kernels before 4.20 lack the
     * option; recv() then filters on the packet type. */
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (!err) {
        err = port_set_nonblocking(fd);
    }
    /* After PACKET_VNET_HDR, which the kernel refuses on a socket with a
     * ring. */
    if (!err && rx_ring) {
        err = rx_ring_create(fd, &ring);
        if (err) {
            snprintf(error, error_size, "%s: receive ring: %s", args->name,
                     strerror(err));
            close(fd);
            return err;
        }
    }
    sp = err ? NULL : calloc(1, sizeof *sp);
    if (!sp) {
        err = err ? err : ENOMEM;
        snprintf(error, error_size, "%s: %s", args->name, strerror(err));
        rx_ring_destroy(ring);
        close(fd);
        return err;
    }
    sp->up.class = &port_system_class;
    /* The virtio-net header carries TCP (and UDP) super frames over both
     * versions and unfinished checksums, which the kernel finishes, or
     * cuts, for a device that cannot. */
    sp->vnet_hdr = offload;
    sp->up.offloads = !offload ? 0
                      : PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO4
                        | PORT_OFFLOAD_TSO6
                        | (kernel_passes_uso() ? PORT_OFFLOAD_USO : 0);
    sp->fd = fd;
    sp->ring = ring;
    sp->ifindex = ifindex;
    snprintf(sp->name, sizeof sp->name, "%s", args->name);
    *portp = &sp->up;
    return 0;
}

static void
system_close(struct port *port)
{
    struct system_port *sp = system_cast(port);

    rx_ring_destroy(sp->ring);
    close(sp->fd);
    free(sp);
}

/* Applies what the kernel says about a received frame: a VLAN tag it
 * stripped goes back in, and (without a virtio-net header, which says it
 * exactly) a checksum it left to offload is marked owed so that the frame
 * is finished before it leaves.  Returns true if it put a tag back. */
static bool
apply_auxdata(struct packet *p, const struct tpacket_auxdata *aux,
              bool vnet_hdr)
{
    bool tagged = false;

    if (aux->tp_status & TP_STATUS_VLAN_VALID
        && packet_size(p) >= 2 * ETH_ADDR_LEN) {
        uint8_t *tag = packet_push(p, VLAN_HEADER_LEN);

        if (tag) {
            be16 tpid = htons(aux->tp_status & TP_STATUS_VLAN_TPID_VALID
                              ? aux->tp_vlan_tpid : ETH_TYPE_VLAN);
            be16 tci = htons(aux->tp_vlan_tci);

            memmove(tag, tag + VLAN_HEADER_LEN, 2 * ETH_ADDR_LEN);
            memcpy(tag + 2 * ETH_ADDR_LEN, &tpid, 2);
            memcpy(tag + 2 * ETH_ADDR_LEN + 2, &tci, 2);
            tagged = true;
        }
    }
    if (aux->tp_status & TP_STATUS_CSUMNOTREADY && !vnet_hdr) {
        struct flow_key key;

        flow_extract(p, &key);
        if (key.layers == FLOW_LAYER_L4
            && (key.nw_proto == IP_PROTO_TCP
                || key.nw_proto == IP_PROTO_UDP)) {
            p->md.csum_partial = true;
            p->md.csum_start = p->md.l4_ofs;
            p->md.csum_offset = key.nw_proto == IP_PROTO_TCP ? 16 : 6;
        }
    }
    return tagged;
}

/* Fills in 'p', whose frame the kernel wrote behind 'hdr_size' bytes of
 * virtio-net header: the VLAN tag and checksum state from auxiliary data
 * 'aux' (NULL if none came) and, with 'hdr_size', the offloads from the
 * header.  Returns false if the frame must be dropped. */
static bool
finish_frame(struct packet *p, size_t hdr_size,
             const struct tpacket_auxdata *aux)
{
    struct virtio_net_hdr hdr;
    bool tagged = false;

    /* The header is taken before a tag goes back in over its bytes, and
     * applied after: its checksum offsets count from the frame as the
     * kernel handed it over, without the tag. */
    if (hdr_size) {
        hdr = vnet_hdr_pull(p);
    }
    if (aux) {
        tagged = apply_auxdata(p, aux, hdr_size != 0);
    }
    if (!hdr_size) {
        return true;
    }
    if (tagged && hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        hdr.csum_start += VLAN_HEADER_LEN;
    }
    return vnet_hdr_apply(&hdr, p);
}

/* Fills in 'p', which 'msg' received: its size, then the rest as
 * finish_frame() does.  Returns false if the frame must be dropped. */
static bool
complete_frame(struct packet *p, struct mmsghdr *msg, size_t hdr_size)
{
    struct tpacket_auxdata aux;
    bool have_aux = false;
    struct cmsghdr *cmsg;

    /* A frame longer than the buffer (over 64 KB on a loopback with a tag)
     * would go on cut short. */
    if (msg->msg_len < hdr_size || msg->msg_hdr.msg_flags & MSG_TRUNC) {
        return false;
    }
    p->size = (uint32_t) (msg->msg_len - hdr_size);
    for (cmsg = CMSG_FIRSTHDR(&msg->msg_hdr); cmsg;
         cmsg = CMSG_NXTHDR(&msg->msg_hdr, cmsg)) {
        if (cmsg->cmsg_level == SOL_PACKET
            && cmsg->cmsg_type == PACKET_AUXDATA) {
            memcpy(&aux, CMSG_DATA(cmsg), sizeof aux);
            have_aux = true;
        }
    }
    return finish_frame(p, hdr_size, have_aux ? &aux : NULL);
}

/* Copies frame 'h' of the receive ring, with its virtio-net header of
 * 'hdr_size' bytes, into 'p' and fills it in as finish_frame() does.
 * Returns false if the frame must be dropped. */
static bool
copy_ring_frame(struct packet *p, const struct tpacket3_hdr *h,
                size_t hdr_size)
{
    struct tpacket_auxdata aux = {
        .tp_status = h->tp_status,
        .tp_len = h->tp_len,
        .tp_snaplen = h->tp_snaplen,
        .tp_mac = (uint16_t) h->tp_mac,
        .tp_net = (uint16_t) h->tp_net,
        .tp_vlan_tci = (uint16_t) h->hv1.tp_vlan_tci,
        .tp_vlan_tpid = (uint16_t) h->hv1.tp_vlan_tpid,
    };

    /* Cut short by the block's end: a frame over 64 KB. */
    if (h->tp_snaplen < h->tp_len || h->tp_snaplen > packet_tailroom(p)) {
        return false;
    }
    memcpy(packet_data(p) - hdr_size, rx_ring_frame_data(h) - hdr_size,
           hdr_size + h->tp_snaplen);
    p->size = h->tp_snaplen;
    return finish_frame(p, hdr_size, &aux);
}

/* Receives from the ring into 'batch' what the kernel has put there, up to
 * a batch, and gives each block back as soon as it is drained.  A pool
 * that runs dry leaves the rest in the ring. */
static int
ring_recv(struct system_port *sp, struct packet_pool *pool,
          struct packet_batch *batch)
{
    size_t hdr_size = sp->vnet_hdr ? VNET_HDR_LEN : 0;

    while (!packet_batch_is_full(batch)) {
        struct packet *p = packet_alloc(pool);
        const struct tpacket3_hdr *h = p ? rx_ring_next(sp->ring) : NULL;

        if (!h) {
            packet_free(p);
            break;
        }
        if (rx_ring_frame_addr(h)->sll_pkttype == PACKET_OUTGOING) {
            packet_free(p);
        } else if (!copy_ring_frame(p, h, hdr_size)) {
            sp->up.stats.rx_errors++;
            packet_free(p);
        } else {
            packet_batch_add(batch, p);
        }
    }
    rx_ring_release(sp->ring);
    /* Frames the kernel found no room for are lost input. */
    sp->up.stats.rx_errors += rx_ring_take_drops(sp->ring);
    return batch->count ? 0 : EAGAIN;
}

static int
system_recv(struct port *port, struct packet_pool *pool,
            struct packet_batch *batch)
{
    struct system_port *sp = system_cast(port);
    size_t hdr_size = sp->vnet_hdr ? VNET_HDR_LEN : 0;
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct iovec iovs[PACKET_BATCH_MAX];
    struct sockaddr_ll from[PACKET_BATCH_MAX];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control[PACKET_BATCH_MAX];
    struct packet *pkts[PACKET_BATCH_MAX];
    int n_bufs = 0, n;

    if (sp->ring) {
        return ring_recv(sp, pool, batch);
    }
    while (n_bufs < PACKET_BATCH_MAX
           && (pkts[n_bufs] = packet_alloc(pool)) != NULL) {
        struct packet *p = pkts[n_bufs];

        /* The virtio-net header lands in the headroom; what is left in
         * front of it takes back a VLAN tag the kernel stripped. */
        iovs[n_bufs] = (struct iovec) { packet_data(p) - hdr_size,
                                        hdr_size + packet_tailroom(p) };
        msgs[n_bufs].msg_hdr = (struct msghdr) {
            .msg_name = &from[n_bufs], .msg_namelen = sizeof from[n_bufs],
            .msg_iov = &iovs[n_bufs], .msg_iovlen = 1,
            .msg_control = &control[n_bufs],
            .msg_controllen = sizeof control[n_bufs],
        };
        n_bufs++;
    }
    n = n_bufs ? recvmmsg(sp->fd, msgs, (unsigned int) n_bufs, MSG_DONTWAIT,
                          NULL) : 0;
    for (int i = 0; i < n_bufs; i++) {
        struct packet *p = pkts[i];

        if (i >= n || from[i].sll_pkttype == PACKET_OUTGOING) {
            packet_free(p);
        } else if (!complete_frame(p, &msgs[i], hdr_size)) {
            port->stats.rx_errors++;
            packet_free(p);
        } else {
            packet_batch_add(batch, p);
        }
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        int error = errno;

        port->stats.rx_errors++;
        /* ENETDOWN is transient; a vanished interface is not, but the
         * kernel reports its deletion as ENETDOWN too. */
        if (error == ENETDOWN && !interface_exists(sp->ifindex)) {
            error = ENODEV;
        }
        return error == ENODEV || error == ENXIO ? error : EAGAIN;
    }
    return batch->count ? 0 : EAGAIN;
}

static void
system_send(struct port *port, struct packet_batch *batch)
{
    struct system_port *sp = system_cast(port);
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct iovec iovs[PACKET_BATCH_MAX];
    size_t done = 0;

    size_t n_msgs = 0;

    for (size_t i = 0; i < batch->count; i++) {
        struct packet *p = batch->packets[i];

        /* With offloads the device (or the kernel, for it) finishes the
         * checksum and cuts a super frame; without, nothing would. */
        if (!sp->vnet_hdr) {
            csum_complete_partial(p);
        } else if (!vnet_hdr_push(p)) {
            port->stats.tx_errors++;
            continue;
        }
        iovs[n_msgs] = (struct iovec) { packet_data(p), packet_size(p) };
        msgs[n_msgs].msg_hdr = (struct msghdr) { .msg_iov = &iovs[n_msgs],
                                                 .msg_iovlen = 1 };
        n_msgs++;
    }
    /* sendmmsg() stops at the first frame that fails, and reports an
     * error only if that is the first one: that frame is dropped and the
     * rest tried again.  A full socket buffer fails the rest as well, and
     * a switch drops rather than waits (or spins). */
    while (done < n_msgs) {
        int n = sendmmsg(sp->fd, msgs + done, (unsigned int) (n_msgs - done),
                         MSG_DONTWAIT);

        if (n > 0) {
            done += (size_t) n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK
                             || errno == ENOBUFS)) {
            port->stats.tx_errors += n_msgs - done;
            break;
        } else {
            port->stats.tx_errors++;
            done++;
        }
    }
    packet_batch_free(batch);
}

static int
system_fd(const struct port *port)
{
    return system_cast(port)->fd;
}

/* An interface that went down before it was deleted leaves the socket no
 * error to report, so the port asks the kernel whether it is still there.
 * One renamed is gone too: the port is the interface of its name, and
 * another may take that name (a restarted VM's TAP, say). */
static int
system_check(struct port *port, char *reason, size_t reason_size)
{
    const struct system_port *sp = system_cast(port);
    char name[IF_NAMESIZE];

    if (!if_indextoname((unsigned int) sp->ifindex, name)) {
        if (errno != ENXIO && errno != ENODEV) {
            return 0;           /* Out of descriptors: says nothing. */
        }
        snprintf(reason, reason_size, "device gone: interface deleted");
        return ENODEV;
    }
    if (strcmp(name, sp->name)) {
        snprintf(reason, reason_size,
                 "device gone: interface renamed to %s", name);
        return ENODEV;
    }
    return 0;
}

static const struct port_option system_options[] = {
    { "offload", PORT_OPT_BOOL, 0, 0, false,
      "take TCP super frames and unfinished checksums from the device, "
      "and give them to it (default true)" },
    { "rx_ring", PORT_OPT_BOOL, 0, 0, false,
      "receive through a TPACKET_V3 ring shared with the kernel rather "
      "than with recvmmsg() (default false)" },
    { .key = NULL },
};

const struct port_class port_system_class = {
    .type = "system",
    .dp_kind = DP_PORT_LOCAL,
    .options = system_options,
    .help = "an existing kernel interface, in promiscuous mode",
    .retry_on_link = true,
    .open = system_open,
    .close = system_close,
    .close_off_loop = true,
    .recv = system_recv,
    .send = system_send,
    .fd = system_fd,
    .check = system_check,
};
