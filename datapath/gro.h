#ifndef DATAPATH_GRO_H
#define DATAPATH_GRO_H 1

#include <stdbool.h>
#include <stdint.h>

#include "port-offload.h"

struct packet;

/* Software receive coalescing (GRO): the inverse of tso.h, for frames
 * about to be written to a TAP device with offloads, so that the VM's stack
 * takes one super frame of up to 64 KB instead of 45 wire-sized TCP
 * segments, or one write of up to 64 UDP datagrams instead of 64.
 *
 * The rules are those of the Linux stack's own GRO.  TCP: segments of one
 * connection (same Ethernet header, addresses, IPv4 without options or
 * IPv6 without extension headers, ports, acknowledgment number and
 * options) whose sequence numbers follow on, with only ACK and, on the
 * last, PSH among the flags.  UDP: datagrams of one flow (the same
 * headers but the lengths and checksums), whose stack then hands them to
 * the application one by one, as they came, or whole to one that asked for
 * that (UDP_GRO).  Either way all of one size (for TCP, TSO_MIN_SEGMENT
 * at least) but the last, which may be shorter and ends the run; IPv4
 * identifications that count up by one (or, over TCP with DF, stay the
 * same), since the receiving stack gives the segments it cuts such
 * numbers.  A segment whose checksum does not verify
 * is never merged, so that the VM's stack, which trusts a super frame's
 * checksum, still drops what the wire damaged; the check is made in the
 * same pass over the bytes as the copy that merging makes anyway. */

/* Appends the payload of 'seg' to 'head', the last frame queued for a port
 * whose device takes 'offloads' (port-offload.h: TSO for the IP version
 * of TCP, USO for UDP), if the rules allow: 'head' becomes (or stays) a
 * super frame, with md.gso_size set to the size of its first segment,
 * md.gso_udp for UDP, and its L4 checksum left to finish
 * (md.csum_partial).  Returns true if it did, and then 'seg' is the
 * caller's to free; else neither changed. */
bool gro_merge(struct packet *head, struct packet *seg, uint32_t offloads);

/* The offloads of which a port must take one for gro_merge() to be worth
 * asking. */
#define GRO_OFFLOADS \
    (PORT_OFFLOAD_TSO4 | PORT_OFFLOAD_TSO6 | PORT_OFFLOAD_USO)

#endif /* datapath/gro.h */
