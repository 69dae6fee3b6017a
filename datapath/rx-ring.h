#ifndef DATAPATH_RX_RING_H
#define DATAPATH_RX_RING_H 1

#include <linux/if_packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An AF_PACKET receive ring (PACKET_RX_RING, TPACKET_V3), mapped into our
 * memory: the kernel copies each frame into a block shared with us, and
 * hands a block over when it is full or its timer runs out, so that a
 * busy socket is read with no system call per batch.  With PACKET_VNET_HDR
 * set before the ring, the kernel writes the frame's virtio-net header
 * just before it (tpacket_rcv() in net/packet/af_packet.c), as
 * recvmmsg() would.
 *
 * The blocks are large enough for a 64 KB super frame and its headers; a
 * longer frame arrives cut short (tp_snaplen < tp_len).  The ring belongs
 * to its socket, which stays the one to poll: it is readable while a
 * block waits for us. */

struct rx_ring;

/* Sets up a ring on AF_PACKET socket 'fd' and maps it.  PACKET_VNET_HDR
 * must be set before, if wanted: the kernel refuses it once there is a
 * ring.  The caller keeps 'fd', and closes it only after
 * rx_ring_destroy().  Returns 0 or a positive errno value. */
int rx_ring_create(int fd, struct rx_ring **ringp);

/* Unmaps 'ring' and frees it.  Accepts NULL. */
void rx_ring_destroy(struct rx_ring *ring);

/* Returns the next frame the kernel has put in 'ring', or NULL if there is
 * none yet.  The frame stays in place until the next call to
 * rx_ring_next() or rx_ring_release(), which may give its block back to
 * the kernel: copy it out before. */
const struct tpacket3_hdr *rx_ring_next(struct rx_ring *ring);

/* Gives the block being read back to the kernel if every frame of it has
 * been taken, so that the kernel can fill it while we do other work. */
void rx_ring_release(struct rx_ring *ring);

/* Returns how many frames the kernel has dropped for want of a free block
 * since the last call.  Costs a system call only after the kernel has
 * flagged drops in a block (TP_STATUS_LOSING). */
uint64_t rx_ring_take_drops(struct rx_ring *ring);

/* Returns the sockaddr_ll the kernel wrote after frame header 'h'. */
const struct sockaddr_ll *rx_ring_frame_addr(const struct tpacket3_hdr *h);

/* Returns the frame's bytes, 'h->tp_snaplen' of them.  With
 * PACKET_VNET_HDR, its virtio-net header lies just before them. */
const uint8_t *rx_ring_frame_data(const struct tpacket3_hdr *h);

#endif /* datapath/rx-ring.h */
