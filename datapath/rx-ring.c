#include <config.h>

#include "rx-ring.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

/* A block holds three 64 KB super frames with the headers before each
 * (the frame's, its address and its virtio-net header; the block's own
 * comes first), or some 1,600 frames of 64 bytes.  16 of them take 4 MB
 * a port, and hold some 25,000 small frames while the daemon is busy
 * elsewhere.  (A block of 128 KB would hold only one super frame.) */
#define RX_RING_BLOCK_SIZE (256 * 1024)
#define RX_RING_BLOCKS 16

/* The kernel sizes its frame accounting by this, though TPACKET_V3 packs
 * frames of any length into a block. */
#define RX_RING_FRAME_SIZE 2048

/* How long, in milliseconds, the kernel fills a block that is not full
 * before it hands the block over anyway: what a lone frame may wait. */
#define RX_RING_RETIRE_MS 1

struct rx_ring {
    int fd;                     /* Not ours: the socket the ring is on. */
    uint8_t *map;
    size_t map_size;
    unsigned int block;         /* The block to read next. */
    bool reading;               /* 'block' is ours, frames left or not. */
    uint32_t left;              /* Frames of 'block' not yet taken. */
    const uint8_t *frame;       /* The next of them. */
    bool losing;                /* The kernel flagged drops to count. */
};

int
rx_ring_create(int fd, struct rx_ring **ringp)
{
    int version = TPACKET_V3;
    struct tpacket_req3 req = {
        .tp_block_size = RX_RING_BLOCK_SIZE,
        .tp_block_nr = RX_RING_BLOCKS,
        .tp_frame_size = RX_RING_FRAME_SIZE,
        .tp_frame_nr = RX_RING_BLOCK_SIZE / RX_RING_FRAME_SIZE
                       * RX_RING_BLOCKS,
        .tp_retire_blk_tov = RX_RING_RETIRE_MS,
    };
    struct rx_ring *ring;
    void *map;

    *ringp = NULL;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version)
        || setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        return errno;
    }
    map = mmap(NULL, (size_t) RX_RING_BLOCK_SIZE * RX_RING_BLOCKS,
               PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
        return errno;
    }
    ring = calloc(1, sizeof *ring);
    if (!ring) {
        munmap(map, (size_t) RX_RING_BLOCK_SIZE * RX_RING_BLOCKS);
        return ENOMEM;
    }
    ring->fd = fd;
    ring->map = map;
    ring->map_size = (size_t) RX_RING_BLOCK_SIZE * RX_RING_BLOCKS;
    *ringp = ring;
    return 0;
}

void
rx_ring_destroy(struct rx_ring *ring)
{
    if (ring) {
        munmap(ring->map, ring->map_size);
        free(ring);
    }
}

static struct tpacket_block_desc *
block_desc(const struct rx_ring *ring)
{
    /* Through void *: blocks start at page boundaries, frames and their
     * addresses at TPACKET_ALIGNMENT, as the kernel lays them out. */
    return (struct tpacket_block_desc *) (void *)
           (ring->map + (size_t) ring->block * RX_RING_BLOCK_SIZE);
}

/* Gives the block being read back to the kernel and moves on to the next
 * one.  The release store orders our reads of the block before the
 * kernel's next writes into it. */
static void
give_back(struct rx_ring *ring)
{
    __atomic_store_n(&block_desc(ring)->hdr.bh1.block_status,
                     TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    ring->block = (ring->block + 1) % RX_RING_BLOCKS;
    ring->reading = false;
}

const struct tpacket3_hdr *
rx_ring_next(struct rx_ring *ring)
{
    const struct tpacket3_hdr *h;

    while (!ring->left) {
        struct tpacket_block_desc *bd;
        uint32_t status;

        if (ring->reading) {
            give_back(ring);
        }
        bd = block_desc(ring);
        /* The acquire load orders the kernel's writes of the frames
         * before our reads of them. */
        status = __atomic_load_n(&bd->hdr.bh1.block_status,
                                 __ATOMIC_ACQUIRE);
        if (!(status & TP_STATUS_USER)) {
            return NULL;
        }
        if (status & TP_STATUS_LOSING) {
            ring->losing = true;
        }
        ring->reading = true;
        ring->left = bd->hdr.bh1.num_pkts;
        ring->frame = (const uint8_t *) bd + bd->hdr.bh1.offset_to_first_pkt;
    }
    h = (const struct tpacket3_hdr *) (const void *) ring->frame;
    ring->left--;
    ring->frame += h->tp_next_offset;
    return h;
}

void
rx_ring_release(struct rx_ring *ring)
{
    if (ring->reading && !ring->left) {
        give_back(ring);
    }
}

uint64_t
rx_ring_take_drops(struct rx_ring *ring)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;

    if (!ring->losing) {
        return 0;
    }
    ring->losing = false;
    /* Reading the statistics resets them. */
    return getsockopt(ring->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)
           ? 0 : st.tp_drops;
}

const struct sockaddr_ll *
rx_ring_frame_addr(const struct tpacket3_hdr *h)
{
    return (const struct sockaddr_ll *) (const void *)
           ((const uint8_t *) h + TPACKET_ALIGN(sizeof *h));
}

const uint8_t *
rx_ring_frame_data(const struct tpacket3_hdr *h)
{
    return (const uint8_t *) h + h->tp_mac;
}
