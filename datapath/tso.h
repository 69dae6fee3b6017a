#ifndef DATAPATH_TSO_H
#define DATAPATH_TSO_H 1

#include <stddef.h>

struct packet;
struct packet_pool;

/* Software TCP segmentation: what a NIC with TSO does, for frames that
 * leave where no NIC will do it (inside a tunnel, on a device or into a
 * capture that takes only wire-sized frames).
 *
 * A TAP device with offloads hands over a TCP "super frame" of up to 64 KB
 * with p->md.gso_size, the payload bytes each segment on the wire may
 * carry.  Each segment gets a copy of the headers (Ethernet, VLAN tags,
 * IPv4, or IPv6 without extension headers, TCP) with the lengths, IPv4
 * identification and TCP sequence number of its place in the stream; FIN
 * and PSH only on the last, CWR only on the first; and finished IPv4 and
 * TCP checksums, whatever the super frame's own checksum state. */

/* The smallest segment size taken, Linux TCP's smallest sending MSS
 * (net.ipv4.tcp_min_snd_mss): it bounds how many segments one 64 KB frame
 * becomes. */
#define TSO_MIN_SEGMENT 48

/* Receives one segment, which it then owns. */
typedef void tso_emit_cb(void *aux, struct packet *segment);

/* Returns the length of the headers of 'p', from Ethernet to the end of
 * TCP, if 'p' is a TCP frame that can be cut (not an IP fragment, no IPv6
 * extension headers, headers whole, the IP length ending the frame), else
 * 0.  Sets the header offsets in p->md. */
size_t tso_header_len(struct packet *p);

/* Cuts 'p' into segments with buffers from 'pool' and hands each to 'emit'
 * in order.  'p' stays the caller's, unchanged but for its header
 * offsets.  Returns 0; EINVAL if 'p' has a gso_size under TSO_MIN_SEGMENT
 * or is not a frame that tso_header_len() accepts (nothing was emitted);
 * or ENOBUFS if the pool ran dry (the segments before were emitted, the
 * rest are lost). */
int tso_segment(struct packet *p, struct packet_pool *pool, tso_emit_cb *emit,
                void *aux);

#endif /* datapath/tso.h */
