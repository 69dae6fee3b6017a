#ifndef DATAPATH_PACKET_H
#define DATAPATH_PACKET_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte-order.h"

/* Packet buffers and batches.
 *
 * A packet is one contiguous buffer from a pool: PACKET_HEADROOM bytes in
 * front of the frame so that encapsulation can push outer headers without
 * moving the payload, and room for a frame of PACKET_MAX_FRAME bytes, the
 * largest segment a TAP device with offloads hands over.  Header positions
 * are kept as offsets from the start of the frame, so that pushing or
 * pulling bytes never leaves a dangling pointer.
 *
 * A frame starts at an even address, because wire headers are read through
 * structs of 16-bit fields: push and pull headers, whose lengths are all
 * even, never odd numbers of bytes. */

/* IPv6 VXLAN needs 70 bytes; the rest keeps the frame cache-line aligned
 * and leaves room for a VLAN tag pushed on output. */
#define PACKET_HEADROOM 128
#define PACKET_MAX_FRAME 65536

#define PACKET_OFS_NONE UINT16_MAX

/* Metadata that travels beside the frame. */
struct packet_meta {
    uint32_t in_port;           /* Port number the frame came in on. */
    uint32_t vni;               /* VNI the frame belongs to, 0 if none. */

    /* Outer addresses of a decapsulated frame, or the destination chosen for
     * an encapsulated one.  IPv4 addresses are IPv4-mapped. */
    struct in6_addr tun_src;
    struct in6_addr tun_dst;

    /* What flow_extract() found, so that nobody parses a frame twice:
     * offsets from the start of the frame (PACKET_OFS_NONE where the
     * parser did not get that far) and the IP protocol of the transport
     * header at 'l4_ofs' (0 if there is none, or it is in a fragment).
     * Valid only while 'parsed' is set: whoever changes the headers calls
     * packet_shift_offsets() or packet_reset_offsets(). */
    uint16_t l3_ofs;
    uint16_t l4_ofs;
    bool parsed;
    uint8_t l4_proto;

    uint32_t hash;              /* Inner flow hash, valid if 'hash_valid'. */
    bool hash_valid;

    /* The outer datagram of a decapsulated frame came in IP fragments that
     * the kernel put together: it crossed a wire, however long it is. */
    bool tun_fragmented;

    /* UDP ports that vxlan_encap() chose for the outer header, which
     * whoever sends the frame builds (vxlan.h). */
    uint16_t tun_udp_src;       /* Host order. */
    be16 tun_udp_dst;

    /* Checksum offload: the L4 checksum still has to be completed by
     * summing from 'csum_start' and storing at 'csum_start + csum_offset'
     * (the Linux CHECKSUM_PARTIAL convention). */
    bool csum_partial;
    uint16_t csum_start;
    uint16_t csum_offset;

    /* Segmentation offload: if nonzero, the frame is a super frame to be
     * cut into segments of this many payload bytes: TCP segments, or UDP
     * datagrams if 'gso_udp' (a sender's UDP_SEGMENT, which a port passes
     * on only to a device with USO).  'gso_ecn' says a TCP sender uses
     * ECN, so that CWR stays on the first segment only, which whoever cuts
     * it must know (VIRTIO_NET_HDR_GSO_ECN). */
    uint16_t gso_size;
    bool gso_ecn;
    bool gso_udp;
};

struct packet_pool;

struct packet {
    uint8_t *base;              /* Start of the buffer. */
    uint32_t data_ofs;          /* Where the frame starts in 'base'. */
    uint32_t size;              /* Bytes of frame. */
    struct packet_meta md;
    struct packet_pool *pool;
    struct packet *next_free;   /* Pool's free list. */
};

/* Creates a pool of 'n_packets' buffers, all allocated now.  Returns NULL if
 * memory is short.  packet_pool_destroy() accepts NULL; every packet must
 * have been freed before it is called. */
struct packet_pool *packet_pool_create(size_t n_packets);
void packet_pool_destroy(struct packet_pool *);

struct packet_pool_stats {
    size_t n_packets;           /* Buffers in the pool. */
    size_t n_free;              /* Buffers not in use. */
    uint64_t alloc_failures;    /* Times packet_alloc() found none free. */
};
void packet_pool_get_stats(const struct packet_pool *,
                           struct packet_pool_stats *);

/* Returns an empty packet with full headroom and cleared metadata, or NULL
 * (counted) if the pool is exhausted.  The caller owns it and hands it back
 * with packet_free(), which accepts NULL. */
struct packet *packet_alloc(struct packet_pool *);
void packet_free(struct packet *);

/* Returns a copy of 'p' (frame and metadata) from the same pool, with the
 * frame at the same offset, or NULL if the pool is exhausted. */
struct packet *packet_clone(const struct packet *p);

static inline uint8_t *
packet_data(const struct packet *p)
{
    return p->base + p->data_ofs;
}

static inline uint32_t
packet_size(const struct packet *p)
{
    return p->size;
}

static inline uint32_t
packet_headroom(const struct packet *p)
{
    return p->data_ofs;
}

static inline uint32_t
packet_tailroom(const struct packet *p)
{
    return PACKET_HEADROOM + PACKET_MAX_FRAME - p->data_ofs - p->size;
}

/* The bounded accessor: returns a pointer to 'len' bytes at 'ofs' in the
 * frame, or NULL if the frame is shorter than that. */
static inline const void *
packet_at(const struct packet *p, size_t ofs, size_t len)
{
    return ofs <= p->size && len <= p->size - ofs
           ? packet_data(p) + ofs : NULL;
}

/* Writable variant of packet_at(). */
static inline void *
packet_at_rw(struct packet *p, size_t ofs, size_t len)
{
    return ofs <= p->size && len <= p->size - ofs
           ? packet_data(p) + ofs : NULL;
}

/* Replaces the frame with 'len' bytes copied from 'data' at full headroom
 * and resets the header offsets.  Returns EMSGSIZE if it cannot fit. */
int packet_set_frame(struct packet *p, const void *data, size_t len);

/* Adds 'len' bytes in front of the frame and returns them, or NULL if the
 * headroom is short.  Header offsets are left as they were: whoever pushes
 * or pulls headers resets or re-parses them. */
static inline void *
packet_push(struct packet *p, size_t len)
{
    if (len > p->data_ofs) {
        return NULL;
    }
    p->data_ofs -= (uint32_t) len;
    p->size += (uint32_t) len;
    return packet_data(p);
}

/* Removes 'len' bytes from the front of the frame and returns the new start,
 * or NULL (frame unchanged) if the frame is shorter than 'len'. */
static inline void *
packet_pull(struct packet *p, size_t len)
{
    if (len > p->size) {
        return NULL;
    }
    p->data_ofs += (uint32_t) len;
    p->size -= (uint32_t) len;
    return packet_data(p);
}

/* Appends 'len' uninitialized bytes and returns them, or NULL if the
 * tailroom is short. */
void *packet_put_uninit(struct packet *p, size_t len);

/* Forgets every parsed header position and the flow hash: for whoever
 * replaces the frame's headers, such as encapsulation or decapsulation. */
static inline void
packet_reset_offsets(struct packet *p)
{
    p->md.l3_ofs = PACKET_OFS_NONE;
    p->md.l4_ofs = PACKET_OFS_NONE;
    p->md.parsed = false;
    p->md.l4_proto = 0;
    p->md.hash_valid = false;
}

/* Moves the parsed header positions of 'p' by 'delta' bytes, for whoever
 * inserts (positive) or removes (negative) 'delta' bytes in front of the
 * L3 header without changing any parsed field, such as a VLAN tag pushed
 * or stripped: the offsets, the checksum start and the flow hash stay
 * valid (the hash covers the type after the tags, not the tags).  Header
 * positions that the parser did not reach stay unset. */
static inline void
packet_shift_offsets(struct packet *p, int delta)
{
    if (p->md.l3_ofs != PACKET_OFS_NONE) {
        p->md.l3_ofs = (uint16_t) (p->md.l3_ofs + delta);
    }
    if (p->md.l4_ofs != PACKET_OFS_NONE) {
        p->md.l4_ofs = (uint16_t) (p->md.l4_ofs + delta);
    }
    if (p->md.csum_partial) {
        p->md.csum_start = (uint16_t) (p->md.csum_start + delta);
    }
}

/* A batch is how packets move between every stage: at most
 * PACKET_BATCH_MAX of them, owned by whoever holds the batch. */
#define PACKET_BATCH_MAX 32

struct packet_batch {
    size_t count;
    struct packet *packets[PACKET_BATCH_MAX];
};

static inline void
packet_batch_init(struct packet_batch *b)
{
    b->count = 0;
}

static inline bool
packet_batch_is_full(const struct packet_batch *b)
{
    return b->count >= PACKET_BATCH_MAX;
}

/* Adds 'p' to 'b', which must not be full. */
static inline void
packet_batch_add(struct packet_batch *b, struct packet *p)
{
    b->packets[b->count++] = p;
}

/* Frees every packet in 'b' and empties it. */
void packet_batch_free(struct packet_batch *b);

#define PACKET_BATCH_FOR_EACH(I, P, BATCH)                                  \
    for (size_t I = 0; I < (BATCH)->count && ((P) = (BATCH)->packets[I], 1); \
         I++)

#endif /* datapath/packet.h */
