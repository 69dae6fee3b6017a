#include <config.h>

/* The system port: an existing kernel interface (a NIC, a veth), whose
 * frames are taken and given raw through an AF_PACKET socket, in batches
 * with recvmmsg() and sendmmsg().  AF_PACKET rather than a libpcap live
 * capture, by measurement (bench/capture-bench): on a veth it takes a
 * quarter more frames per second than libpcap in immediate mode, whose
 * ring costs a copy in the kernel and another out of the ring, one frame
 * per callback; and it brings the auxiliary data that says whether a
 * checksum is still owed. */

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csum.h"
#include "flow.h"
#include "headers.h"
#include "packet.h"
#include "port-provider.h"
#include "util.h"

struct system_port {
    struct port up;
    int fd;
    int ifindex;
    struct port_stats stats;
};

static struct system_port *
system_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct system_port, up);
}

static int
system_open(const struct port_args *args, struct port **portp, char *error,
            size_t error_size)
{
    struct system_port *sp;
    struct sockaddr_ll sll;
    struct packet_mreq mreq;
    int ifindex, one = 1;
    int fd, err;

    err = port_netdev_info(args->name, true, &ifindex, NULL);
    if (err) {
        snprintf(error, error_size, "%s: %s", args->name,
                 err == ENODEV ? "no such interface" : strerror(err));
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
        || setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one)) {
        err = errno;
    }
    /* Our own transmissions are not input.  Kernels before 4.20 lack the
     * option; recv() then filters on the packet type. */
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (!err) {
        err = port_set_nonblocking(fd);
    }
    sp = err ? NULL : calloc(1, sizeof *sp);
    if (!sp) {
        err = err ? err : ENOMEM;
        snprintf(error, error_size, "%s: %s", args->name, strerror(err));
        close(fd);
        return err;
    }
    sp->up.class = &port_system_class;
    sp->fd = fd;
    sp->ifindex = ifindex;
    *portp = &sp->up;
    return 0;
}

static void
system_close(struct port *port)
{
    struct system_port *sp = system_cast(port);

    close(sp->fd);
    free(sp);
}

/* Applies what the kernel says about a received frame: a VLAN tag it
 * stripped goes back in, and a checksum it left to offload is marked owed
 * so that the frame is finished before it leaves. */
static void
apply_auxdata(struct packet *p, const struct tpacket_auxdata *aux)
{
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
        }
    }
    if (aux->tp_status & TP_STATUS_CSUMNOTREADY) {
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
}

static int
system_recv(struct port *port, struct packet_pool *pool,
            struct packet_batch *batch)
{
    struct system_port *sp = system_cast(port);
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct iovec iovs[PACKET_BATCH_MAX];
    struct sockaddr_ll from[PACKET_BATCH_MAX];
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control[PACKET_BATCH_MAX];
    struct packet *pkts[PACKET_BATCH_MAX];
    int n_bufs = 0, n;

    while (n_bufs < PACKET_BATCH_MAX
           && (pkts[n_bufs] = packet_alloc(pool)) != NULL) {
        struct packet *p = pkts[n_bufs];

        /* Leave room in front for a VLAN tag the kernel stripped. */
        iovs[n_bufs] = (struct iovec) { packet_data(p), packet_tailroom(p) };
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
        struct cmsghdr *cmsg;

        if (i >= n || from[i].sll_pkttype == PACKET_OUTGOING) {
            packet_free(p);
            continue;
        }
        p->size = msgs[i].msg_len;
        for (cmsg = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cmsg;
             cmsg = CMSG_NXTHDR(&msgs[i].msg_hdr, cmsg)) {
            if (cmsg->cmsg_level == SOL_PACKET
                && cmsg->cmsg_type == PACKET_AUXDATA) {
                struct tpacket_auxdata aux;

                memcpy(&aux, CMSG_DATA(cmsg), sizeof aux);
                apply_auxdata(p, &aux);
            }
        }
        packet_batch_add(batch, p);
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        int error = errno;
        char name[IF_NAMESIZE];

        sp->stats.rx_errors++;
        /* ENETDOWN is transient; a vanished interface is not, but the
         * kernel reports its deletion as ENETDOWN too. */
        if (error == ENETDOWN
            && !if_indextoname((unsigned int) sp->ifindex, name)) {
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

    for (size_t i = 0; i < batch->count; i++) {
        struct packet *p = batch->packets[i];

        csum_complete_partial(p);
        iovs[i] = (struct iovec) { packet_data(p), packet_size(p) };
        msgs[i].msg_hdr = (struct msghdr) { .msg_iov = &iovs[i],
                                            .msg_iovlen = 1 };
    }
    while (done < batch->count) {
        int n = sendmmsg(sp->fd, msgs + done,
                         (unsigned int) (batch->count - done), MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            /* The first frame failed; drop it and go on with the rest. */
            sp->stats.tx_errors++;
            n = 1;
        }
        done += (size_t) n;
    }
    packet_batch_free(batch);
}

static int
system_fd(const struct port *port)
{
    return system_cast(port)->fd;
}

static void
system_get_stats(const struct port *port, struct port_stats *stats)
{
    *stats = system_cast(port)->stats;
}

static const struct port_option system_options[] = {
    { .key = NULL },
};

const struct port_class port_system_class = {
    .type = "system",
    .dp_kind = DP_PORT_LOCAL,
    .options = system_options,
    .help = "an existing kernel interface, in promiscuous mode",
    .open = system_open,
    .close = system_close,
    .recv = system_recv,
    .send = system_send,
    .fd = system_fd,
    .get_stats = system_get_stats,
};
