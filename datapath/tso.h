#ifndef DATAPATH_TSO_H
#define DATAPATH_TSO_H 1

#include <stddef.h>

struct packet;
struct packet_pool;

/* Software segmentation: what a NIC with TSO or USO does, for frames that
 * leave where no NIC will do it (inside a tunnel, on a device or into a
 * capture that takes only wire-sized frames).
 *
 * A TAP device with offloads hands over a "super frame" of up to 64 KB
 * with p->md.gso_size, the payload bytes each segment on the wire may
 * carry: TCP, or UDP if p->md.gso_udp (an application's UDP_SEGMENT).
 * Each segment gets a copy of the headers (Ethernet, VLAN tags, IPv4, or
 * IPv6 without extension headers, TCP or UDP) with the lengths and IPv4
 * identification of its place in the frame; a TCP segment its sequence
 * number, FIN and PSH only on the last, CWR only on the first; and
 * finished IPv4 and TCP or UDP checksums, whatever the super frame's own
 * checksum state.  Each UDP segment is a datagram of its own, as its
 * sender's kernel would have sent it without USO. */

/* The smallest segment size taken for TCP, Linux TCP's smallest sending MSS
 * (net.ipv4.tcp_min_snd_mss): it bounds how many segments one 64 KB frame
 * becomes. */
#define TSO_MIN_SEGMENT 48

/* The most datagrams one UDP super frame is cut into, Linux's
 * UDP_MAX_SEGMENTS (since 6.9; 64 before): a UDP sender may choose any
 * segment size, so it is the count that is bounded. */
#define TSO_MAX_UDP_SEGMENTS 128

/* Receives one segment, which it then owns. */
typedef void tso_emit_cb(void *aux, struct packet *segment);

/* Returns the length of the headers of 'p', from Ethernet to the end of
 * TCP, if 'p' is a TCP frame that can be cut (not an IP fragment, no IPv6
 * extension headers, headers whole, the IP length ending the frame), else
 * 0.  Sets the header offsets in p->md. */
size_t tso_header_len(struct packet *p);

/* The same for a UDP frame, to the end of its UDP header. */
size_t tso_udp_header_len(struct packet *p);

/* Returns the length of the headers of super frame 'p', to the end of TCP
 * or, if p->md.gso_udp, of UDP, if tso_segment() can cut it: a frame as
 * tso_header_len() takes it (with UDP in place of TCP), and a segment size
 * of at least TSO_MIN_SEGMENT for TCP, or at most TSO_MAX_UDP_SEGMENTS
 * datagrams for UDP.  Else returns 0.  Sets the header offsets in p->md. */
size_t tso_super_header_len(struct packet *p);

/* Cuts super frame 'p' into segments with buffers from 'pool' and hands
 * each to 'emit' in order.  'p' stays the caller's, unchanged but for its
 * header offsets.  Returns 0; EINVAL if tso_super_header_len() refuses
 * 'p' (nothing was emitted); or ENOBUFS if the pool ran dry (the segments
 * before were emitted, the rest are lost). */
int tso_segment(struct packet *p, struct packet_pool *pool, tso_emit_cb *emit,
                void *aux);

#endif /* datapath/tso.h */
