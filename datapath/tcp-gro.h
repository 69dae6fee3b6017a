#ifndef DATAPATH_TCP_GRO_H
#define DATAPATH_TCP_GRO_H 1

#include <stdbool.h>

struct packet;

/* Software TCP receive coalescing (GRO): the inverse of tso.h, for frames
 * about to be written to a TAP device with offloads, so that the VM's stack
 * takes one 64 KB super frame instead of 45 wire-sized segments.
 *
 * The rules are those of the Linux stack's own GRO: segments of one TCP
 * connection (same Ethernet header, addresses, IPv4 without options or
 * IPv6 without extension headers, ports, acknowledgment number and
 * options) whose sequence numbers follow on, with only ACK and, on the
 * last, PSH among the flags; all of one size but the last, which may be
 * shorter and ends the run.  A segment whose checksum does not verify is
 * never merged, so that the VM's stack, which trusts a super frame's
 * checksum, still drops what the wire damaged. */

/* Appends the payload of 'seg' to 'head', the last frame queued for a TAP
 * with offloads, if the rules allow: 'head' becomes (or stays) a super
 * frame, with md.gso_size set to the size of its first segment and its
 * TCP checksum left to finish (md.csum_partial).  Returns true if it did,
 * and then 'seg' is the caller's to free; else neither changed. */
bool tcp_gro_merge(struct packet *head, struct packet *seg);

#endif /* datapath/tcp-gro.h */
