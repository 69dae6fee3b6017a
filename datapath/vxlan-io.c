#include <config.h>

#include "vxlan-io.h"

#include <netinet/udp.h>
#include <string.h>

#include "headers.h"
#include "udp-gso.h"
#include "util.h"
#include "vxlan.h"

BUILD_ASSERT(sizeof(struct in6_pktinfo) >= sizeof(struct in_pktinfo));

/* Reads into 'md' what the datagram's control messages say: its
 * destination address (IP_PKTINFO, IPV6_PKTINFO) into md->tun_dst, the
 * segment size of a train of datagrams (UDP_GRO) into md->gso_size, and
 * whether the kernel put it together from fragments (IP_RECVFRAGSIZE,
 * IPV6_RECVFRAGSIZE, which come only then) into md->tun_fragmented.
 * Leaves each as it was if there is no such message. */
static void
parse_rx_cmsgs(struct msghdr *msg, struct packet_meta *md)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
         c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO
            && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
            struct in_pktinfo info;

            memcpy(&info, CMSG_DATA(c), sizeof info);
            md->tun_dst = inet_from_ipv4(info.ipi_addr.s_addr);
        } else if (c->cmsg_level == IPPROTO_IPV6
                   && c->cmsg_type == IPV6_PKTINFO
                   && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo info;

            memcpy(&info, CMSG_DATA(c), sizeof info);
            md->tun_dst = info.ipi6_addr;
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO
                   && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int size;

            memcpy(&size, CMSG_DATA(c), sizeof size);
            md->gso_size = size > 0 && size <= UINT16_MAX ? (uint16_t) size
                                                          : 0;
        } else if ((c->cmsg_level == IPPROTO_IP
                    && c->cmsg_type == IP_RECVFRAGSIZE)
                   || (c->cmsg_level == IPPROTO_IPV6
                       && c->cmsg_type == IPV6_RECVFRAGSIZE)) {
            md->tun_fragmented = true;
        }
    }
}

size_t
vxlan_io_rx_prepare(struct packet_pool *pool, size_t max,
                    struct packet **packets, struct mmsghdr *msgs,
                    struct vxlan_io_rx_slot *slots)
{
    struct packet_pool_stats pool_stats;
    size_t n;

    /* Take only buffers the pool has, so that a busy pool does not count
     * allocation failures for datagrams that may not even be there, and
     * at most half of them, so that the trains among the datagrams have
     * buffers left to be cut into. */
    packet_pool_get_stats(pool, &pool_stats);
    n = MIN((pool_stats.n_free + 1) / 2, max);
    for (size_t i = 0; i < n; i++) {
        struct packet *p = packet_alloc(pool);
        struct vxlan_io_rx_slot *slot = &slots[i];

        packets[i] = p;
        slot->iov = (struct iovec) { .iov_base = packet_data(p),
                                     .iov_len = packet_tailroom(p) };
        msgs[i].msg_hdr = (struct msghdr) {
            .msg_name = &slot->addr,
            .msg_namelen = sizeof slot->addr,
            .msg_iov = &slot->iov,
            .msg_iovlen = 1,
            .msg_control = &slot->cmsg,
            .msg_controllen = sizeof slot->cmsg,
        };
    }
    return n;
}

bool
vxlan_io_rx_complete(struct mmsghdr *msg, struct packet *p)
{
    struct msghdr *hdr = &msg->msg_hdr;

    /* No UDP payload outgrows a buffer, so truncation means a datagram we
     * cannot make sense of. */
    if (hdr->msg_flags & MSG_TRUNC
        || !inet_sockaddr_get(hdr->msg_name, hdr->msg_namelen,
                             &p->md.tun_src)) {
        return false;
    }
    /* Without the control message (which the socket option always
     * brings) the destination stays unspecified; the datapath does not
     * need it to forward. */
    parse_rx_cmsgs(hdr, &p->md);
    p->size = msg->msg_len;
    if (p->md.gso_size >= p->size) {
        p->md.gso_size = 0;
    }
    return true;
}

/* Copies 'len' bytes at 'data', a datagram of the train in 'train', into a
 * packet of its own from 'pool' and adds it to 'batch'.  Counts a receive
 * error if the pool is empty. */
static void
copy_datagram(const struct packet *train, const uint8_t *data, size_t len,
              struct packet_pool *pool, struct packet_batch *batch,
              uint64_t *rx_errors)
{
    struct packet *p = packet_alloc(pool);

    if (!p || packet_set_frame(p, data, len)) {
        ++*rx_errors;
        packet_free(p);
        return;
    }
    p->md.tun_src = train->md.tun_src;
    p->md.tun_dst = train->md.tun_dst;
    packet_batch_add(batch, p);
}

void
vxlan_io_rx_cut(struct vxlan_io_trains *t, struct packet_pool *pool,
                struct packet_batch *batch, uint64_t *rx_errors)
{
    while (t->next < t->batch.count && !packet_batch_is_full(batch)) {
        struct packet *p = t->batch.packets[t->next];
        size_t seg = p->md.gso_size;

        if (seg && packet_size(p) > seg) {
            copy_datagram(p, packet_data(p), seg, pool, batch, rx_errors);
            packet_pull(p, seg);
            continue;
        }
        /* The last datagram of a train may start at an odd address, where
         * frames must not: it is copied too. */
        if (seg && (uintptr_t) packet_data(p) % 2) {
            copy_datagram(p, packet_data(p), packet_size(p), pool, batch,
                          rx_errors);
            packet_free(p);
        } else {
            p->md.gso_size = 0;
            packet_batch_add(batch, p);
        }
        t->next++;
    }
    if (t->next == t->batch.count) {
        t->next = t->batch.count = 0;
    }
}

/* Adds a raw datagram for 'p' to 'tx', outer headers built, and returns
 * its index in tx->msgs.  The kernel routes and puts on the Ethernet
 * header itself.  A raw socket takes port 0 (or its own protocol) in the
 * address.  The message already points at its address and payload
 * (vxlan_io_tx_init()), and over IPv4 its address has all but the
 * frame's destination (prepare_ipv4_addrs()). */
static inline __attribute__((always_inline)) size_t
add_raw(struct vxlan_io_tx_config *cfg, struct vxlan_io_tx *tx,
        struct packet *p)
{
    size_t i = tx->n_msgs++;

    if (cfg->family == AF_INET) {
        tx->addrs[i].sin.sin_addr.s_addr = inet_to_ipv4(&p->md.tun_dst);
        vxlan_push_outer_ipv4(p, cfg->encap, &tx->outer, cfg->ip_id++);
    } else {
        tx->msgs[i].msg_hdr.msg_namelen
            = inet_sockaddr_make(cfg->family, &p->md.tun_dst, 0,
                                 cfg->ifindex, &tx->addrs[i]);
        vxlan_push_outer(p, cfg->encap, cfg->ip_id++);
    }
    tx->raw_iovs[i] = (struct iovec) { .iov_base = packet_data(p),
                                       .iov_len = packet_size(p) };
    return i;
}

void
vxlan_io_tx_init(struct vxlan_io_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    for (size_t i = 0; i < PACKET_BATCH_MAX; i++) {
        tx->msgs[i].msg_hdr = (struct msghdr) {
            .msg_name = &tx->addrs[i],
            .msg_iov = &tx->raw_iovs[i],
            .msg_iovlen = 1,
        };
    }
}

/* Makes every address of 'tx' an IPv4 one with port 0, as add_raw()
 * expects over IPv4, unless they are so already. */
static void
prepare_ipv4_addrs(struct vxlan_io_tx *tx)
{
    if (tx->addr_family == AF_INET) {
        return;
    }
    for (size_t i = 0; i < PACKET_BATCH_MAX; i++) {
        tx->msgs[i].msg_hdr.msg_namelen
            = inet_sockaddr_make(AF_INET, &in6addr_any, 0, 0, &tx->addrs[i]);
    }
    tx->addr_family = AF_INET;
}

/* Returns the UDP ports of 'p', source in the high half and destination in
 * the low half (host order), if it is a frame that may travel in a train,
 * or 0 if it may not: multicast goes out on 'dev' through the raw socket,
 * which knows it. */
static uint32_t
train_ports(const struct packet *p)
{
    return inet_is_multicast(&p->md.tun_dst)
           ? 0 : (uint32_t) p->md.tun_udp_src << 16 | ntohs(p->md.tun_udp_dst);
}

/* Links frames with the same ports, so that gathering a train visits
 * only the frames that may join it: next[i] becomes the index of the
 * next frame after 'i' with the same ports, or the batch's size if there
 * is none.  Open addressing, twice the batch in size: the last index
 * seen for a value of 'ports'. */
struct port_links {
    uint32_t keys[2 * PACKET_BATCH_MAX];
    uint8_t last[2 * PACKET_BATCH_MAX];
    bool used[2 * PACKET_BATCH_MAX];
};

/* Adds frame 'i' of a batch, with 'ports' (not 0), to 'links', after
 * the frames before it. */
static inline void
link_same_ports(struct port_links *links, size_t i, uint32_t ports,
                uint8_t *next)
{
    enum { N_SLOTS = 2 * PACKET_BATCH_MAX };
    size_t slot = (ports * UINT32_C(0x9e3779b1)) >> 26;

    BUILD_ASSERT(PACKET_BATCH_MAX < UINT8_MAX);
    BUILD_ASSERT(N_SLOTS == 64);
    while (links->used[slot] && links->keys[slot] != ports) {
        slot = (slot + 1) % N_SLOTS;
    }
    if (links->used[slot]) {
        next[links->last[slot]] = (uint8_t) i;
    }
    links->used[slot] = true;
    links->keys[slot] = ports;
    links->last[slot] = (uint8_t) i;
}

/* Gathers into tx->train the frames of 'batch', from 'first' on, that can
 * go in one UDP GSO send with it: to the same VTEP and UDP ports (the
 * same inner flow, or flows that share its source port), all as long as
 * 'first' but the last.  Frames of other flows may be passed over, since
 * only a flow's own order matters, but not a frame of this one that
 * cannot join.  'next' links the frames with the same ports.  Marks what
 * it takes in 'taken'; returns how many. */
static size_t
collect_train(const struct packet_batch *batch, size_t first,
              const uint8_t *next, bool *taken, struct vxlan_io_tx *tx)
{
    const struct packet *head = batch->packets[first];
    size_t seg_size = packet_size(head);
    size_t n = 0, bytes = 0;

    for (size_t i = first; i < batch->count; i = next[i]) {
        struct packet *p = batch->packets[i];
        size_t len = packet_size(p);

        if (taken[i] || (i > first && !inet_equals(&p->md.tun_dst,
                                                   &head->md.tun_dst))) {
            continue;
        }
        /* The first frame is always taken, if only to go alone. */
        if (n && (len > seg_size || n == UDP_GSO_MAX_SEGMENTS
                  || bytes + len > UDP_GSO_MAX_BYTES)) {
            break;
        }
        taken[i] = true;
        tx->train[tx->n_train + n] = p;
        tx->train_iovs[tx->n_train + n] = (struct iovec) {
            .iov_base = packet_data(p), .iov_len = len,
        };
        n++;
        bytes += len;
        if (len < seg_size) {
            break;
        }
    }
    return n;
}

void
vxlan_io_tx_plan(struct vxlan_io_tx_config *cfg,
                 const struct packet_batch *batch, struct vxlan_io_tx *tx)
{
    struct port_links links;
    uint8_t next[PACKET_BATCH_MAX];
    bool taken[PACKET_BATCH_MAX];
    bool ipv4 = cfg->family == AF_INET;
    struct vxlan_io_op *raw_run = NULL;
    struct packet *p;

    tx->n_ops = tx->n_msgs = tx->n_train = tx->n_unusable = 0;
    if (ipv4) {
        vxlan_outer_ipv4_init(&tx->outer, cfg->encap);
        prepare_ipv4_addrs(tx);
    } else {
        tx->addr_family = cfg->family;
    }
    memset(links.used, 0, sizeof links.used);
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        bool usable = packet_size(p) >= VXLAN_HEADER_LEN
                      && inet_is_ipv4(&p->md.tun_dst) == ipv4;
        uint32_t ports = usable && cfg->trains ? train_ports(p) : 0;

        tx->n_unusable += !usable;
        taken[i] = !usable;
        next[i] = (uint8_t) batch->count;
        if (ports) {
            link_same_ports(&links, i, ports, next);
        }
    }

    PACKET_BATCH_FOR_EACH (i, p, batch) {
        if (taken[i]) {
            continue;
        }

        /* A frame no later one shares its ports with goes alone. */
        size_t n = next[i] < batch->count
                   ? collect_train(batch, i, next, taken, tx) : 1;

        if (n > 1) {
            tx->ops[tx->n_ops++] = (struct vxlan_io_op) {
                VXLAN_IO_TRAIN, tx->n_train, n,
            };
            tx->n_train += n;
            raw_run = NULL;
        } else {
            size_t m = add_raw(cfg, tx, p);

            /* Raw datagrams in a row go in one sendmmsg(). */
            if (raw_run) {
                raw_run->n++;
            } else {
                raw_run = &tx->ops[tx->n_ops++];
                *raw_run = (struct vxlan_io_op) { VXLAN_IO_RAW, m, 1 };
            }
        }
    }
}

void
vxlan_io_tx_unpack_train(struct vxlan_io_tx_config *cfg,
                         struct vxlan_io_tx *tx,
                         const struct vxlan_io_op *train,
                         struct vxlan_io_op *op)
{
    *op = (struct vxlan_io_op) { VXLAN_IO_RAW, tx->n_msgs, train->n };
    if (cfg->family == AF_INET) {
        prepare_ipv4_addrs(tx);
    }
    for (size_t j = 0; j < train->n; j++) {
        add_raw(cfg, tx, tx->train[train->first + j]);
    }
}
