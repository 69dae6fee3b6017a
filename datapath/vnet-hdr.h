#ifndef DATAPATH_VNET_HDR_H
#define DATAPATH_VNET_HDR_H 1

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>

#include "packet.h"
#include "util.h"

/* The virtio-net header that a TAP device with IFF_VNET_HDR, or an
 * AF_PACKET socket with PACKET_VNET_HDR, puts before every frame: how the
 * frame's offloads stand (a checksum left to finish, a TCP or UDP super
 * frame to cut).  Ports read and write it in the buffer's headroom, just
 * before the frame, so that one plain read or write moves both; its even
 * length keeps the frame at an even address. */

/* The gso_type of a UDP super frame (USO), VIRTIO_NET_HDR_GSO_UDP_L4 of
 * Linux 6.2 and later, which Debian 12's headers (Linux 6.1) lack. */
#define VNET_HDR_GSO_UDP_L4 5

#define VNET_HDR_LEN sizeof(struct virtio_net_hdr)
BUILD_ASSERT(PACKET_HEADROOM >= VNET_HDR_LEN);
BUILD_ASSERT(VNET_HDR_LEN % 2 == 0);

/* Returns the header that a read left in the headroom of 'p', just before
 * its frame.  Take it before anything else is pushed there. */
struct virtio_net_hdr vnet_hdr_pull(const struct packet *p);

/* Sets the offload metadata of 'p' from its header 'h'.  Returns false if
 * the header says something the ports never offer (UFO, the old UDP
 * fragmentation offload), or what the frame cannot bear out (a checksum
 * field past its end, a super frame tso.h cannot cut, a UDP super frame
 * (VIRTIO_NET_HDR_GSO_UDP_L4) with ECN or whose UDP checksum is not left
 * to finish, which no kernel hands over): such a frame must be dropped. */
bool vnet_hdr_apply(const struct virtio_net_hdr *h, struct packet *p);

/* Puts before the frame of 'p' the header that hands on its offload
 * metadata, in the headroom.  Returns false if the headroom is short. */
bool vnet_hdr_push(struct packet *p);

/* Readies 'p' to be written to a device that takes the header and
 * 'offloads' (port-offload.h): finishes a checksum left to offload only
 * where the device does not take that (a port with offload=false), or a
 * super frame it does not take whole, then pushes the header.  With
 * checksum offload the receiving stack takes the checksum as sound, as it
 * does from a veth, and finishes it only if it sends the frame on: no
 * byte is summed here for a frame that never leaves the host.  Returns
 * false if the headroom is short. */
bool vnet_hdr_output(struct packet *p, uint32_t offloads);

#endif /* datapath/vnet-hdr.h */
