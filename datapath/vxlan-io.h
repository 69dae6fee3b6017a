#ifndef DATAPATH_VXLAN_IO_H
#define DATAPATH_VXLAN_IO_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "inet.h"
#include "packet.h"
#include "vxlan.h"

/* The VXLAN port's own work on each datagram, apart from its system
 * calls: on receive, the buffers and control messages recvmmsg() fills
 * and the trains it hands over cut into datagrams; on send, the plan of a
 * batch (which frames leave together in UDP GSO trains, the outer headers
 * and addresses of the others for the raw socket).  port-vxlan.c calls
 * these between the datapath and its sockets, and dp-bench calls the same
 * functions without sockets, so that its figures include the port's work
 * wherever it is done. */

/* Receiving. */

/* Room for the control messages a datagram brings (its destination, and
 * the segment size of a train the kernel kept whole), aligned as the
 * CMSG_* macros expect. */
union vxlan_io_rx_cmsg {
    struct cmsghdr align;
    uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))
                + 2 * CMSG_SPACE(sizeof(int))];
};

/* What recvmmsg() needs for one datagram beside its header. */
struct vxlan_io_rx_slot {
    struct iovec iov;
    union inet_sockaddr addr;
    union vxlan_io_rx_cmsg cmsg;
};

/* Takes up to 'max' buffers from 'pool' into 'packets' and points 'msgs'
 * at them through 'slots'.  Returns how many.  The caller owns the
 * packets. */
size_t vxlan_io_rx_prepare(struct packet_pool *pool, size_t max,
                           struct packet **packets, struct mmsghdr *msgs,
                           struct vxlan_io_rx_slot *slots);

/* Sets the size, the outer addresses and (for a train of datagrams the
 * kernel kept whole) the segment size of 'p' from the datagram that 'msg'
 * received into it.  Returns false if the datagram is unusable. */
bool vxlan_io_rx_complete(struct mmsghdr *msg, struct packet *p);

/* Datagrams and trains of them that vxlan_io_rx_complete() accepted, not
 * yet handed on whole. */
struct vxlan_io_trains {
    struct packet_batch batch;  /* Each with md.gso_size set if a train. */
    size_t next;                /* The first of 'batch' not yet cut. */
};

/* Moves what 't' holds into 'batch', in the order it came, until 'batch'
 * is full: a lone datagram as it is, a train cut into its datagrams,
 * copied into buffers from 'pool'.  Adds to '*rx_errors' the datagrams
 * it had no buffer for. */
void vxlan_io_rx_cut(struct vxlan_io_trains *t, struct packet_pool *pool,
                     struct packet_batch *batch, uint64_t *rx_errors);

/* Sending. */

/* How the port sends. */
struct vxlan_io_tx_config {
    const struct vxlan_encap_params *encap;
    int family;                 /* AF_INET or AF_INET6. */
    int ifindex;                /* Underlay device for multicast, or 0. */
    bool trains;                /* UDP GSO trains may be used. */
    uint16_t ip_id;             /* Next outer IPv4 identification. */
};

enum vxlan_io_op_type {
    VXLAN_IO_RAW,               /* msgs[first..first+n) to the raw socket. */
    VXLAN_IO_TRAIN,             /* train[first..first+n) in one UDP GSO
                                 * send, payloads 'train_iovs'. */
};

struct vxlan_io_op {
    enum vxlan_io_op_type type;
    size_t first;
    size_t n;
};

/* One batch's sends, in the order they must be made. */
struct vxlan_io_tx {
    size_t n_ops;
    struct vxlan_io_op ops[PACKET_BATCH_MAX];

    /* Whole outer IP packets for the raw socket's sendmmsg(). */
    size_t n_msgs;
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct iovec raw_iovs[PACKET_BATCH_MAX];
    union inet_sockaddr addrs[PACKET_BATCH_MAX];

    /* Frames of trains, their UDP payloads as they are. */
    size_t n_train;
    struct packet *train[PACKET_BATCH_MAX];
    struct iovec train_iovs[PACKET_BATCH_MAX];

    size_t n_unusable;          /* Frames of 'batch' that cannot be sent. */

    /* The family of 'addrs' as they are, apart from each datagram's
     * destination, or 0 if none yet: over IPv4 they are made ready for a
     * batch at once, not for each frame. */
    int addr_family;

    /* The outer headers of this batch's frames, if the port's family is
     * IPv4: built once per batch, since 'cfg' may change between them. */
    struct vxlan_outer_ipv4 outer;
};

/* Makes 'tx' ready for vxlan_io_tx_plan(): each message pointed at its
 * address and payload, which stay where they are from one batch to the
 * next, so that planning a frame fills in only what is its own.  Whoever
 * sends keeps 'tx', its own, from one batch to the next. */
void vxlan_io_tx_init(struct vxlan_io_tx *tx);

/* Plans the sending of 'batch', whose frames vxlan_encap() made: frames of
 * one flow to one VTEP go in trains (to the same VTEP and UDP ports, all
 * as long as the first but the last); the others, multicast and lone
 * frames get their outer IP and UDP headers (vxlan_push_outer()) and go to
 * the raw socket.  Frames of other flows may overtake each other, never
 * frames of the same flow.  The packets stay in 'batch', the caller's.
 * 'tx' is one that vxlan_io_tx_init() made ready. */
void vxlan_io_tx_plan(struct vxlan_io_tx_config *,
                      const struct packet_batch *batch,
                      struct vxlan_io_tx *tx);

/* For a train that could not go as one: builds the outer headers of its
 * frames and adds them to 'tx' as a new run of raw datagrams, returned in
 * '*op'. */
void vxlan_io_tx_unpack_train(struct vxlan_io_tx_config *,
                              struct vxlan_io_tx *tx,
                              const struct vxlan_io_op *train,
                              struct vxlan_io_op *op);

#endif /* datapath/vxlan-io.h */
