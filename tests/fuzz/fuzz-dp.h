#ifndef TESTS_FUZZ_FUZZ_DP_H
#define TESTS_FUZZ_FUZZ_DP_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vxlan.h"

/* The datapath that the frame-reading fuzz targets feed: a configured VTEP
 * (a local address, VNIs flooding to a group or to a head-end replication
 * list, static entries for remote MACs) and local ports with and without
 * offloads, so that a frame can reach every stage: decapsulation,
 * learning, GRO, TSO and encapsulation.  Its addresses and VNIs are those
 * of the kernel captures in tests/data/, with this switch as host b.
 *
 * Every frame the datapath sends is checked as the port it leaves by
 * would take it: a tunnel frame must fit the underlay MTU and decapsulate
 * again, a super frame must be one that a TAP can be told about, and no
 * other port may get one.  A broken promise aborts, as a crash would. */

struct packet;
struct packet_batch;
struct packet_pool;
struct dp;

/* Local ports. */
#define FUZZ_PORT_VM 1          /* VNI 5000. */
#define FUZZ_PORT_TAP_GSO 2     /* VNI 5000; takes super frames whole. */
#define FUZZ_PORT_PLAIN 3       /* VNI 5000; a system or pcap port. */
#define FUZZ_PORT_VM6 5         /* VNI 6000. */
#define FUZZ_PORT_VM7 6         /* VNI 7000, whose MAC limit is small. */
/* The VTEP. */
#define FUZZ_PORT_VTEP 4
#define FUZZ_N_PORTS 7          /* Port numbers are below this. */

struct fuzz_dp {
    struct packet_pool *pool;   /* Kept for the whole run. */
    struct dp *dp;              /* Made afresh for each input. */
    bool ipv6;                  /* IPv6 underlay. */
    unsigned int mtu;           /* Underlay MTU. */
    struct in6_addr local, peer;
    struct vxlan_encap_params encap;    /* The VTEP's, for outer headers. */

    /* If not NULL, every frame sent (the inner frame, from the VTEP) must
     * be these 'expect_len' bytes: for frames from a VM, which the
     * datapath forwards or encapsulates but never changes. */
    const uint8_t *expect;
    size_t expect_len;

    /* Whether flows may send a frame to the VTEP with a VNI of their
     * choosing (else it must be one configured). */
    bool any_vni;

    /* Frames sent out of each port number, for targets that compare. */
    uint64_t n_sent[FUZZ_N_PORTS];
};

/* Variants of the VTEP, for fuzz_dp_begin(). */
#define FUZZ_DP_IPV6 1          /* IPv6 underlay (else IPv4). */
#define FUZZ_DP_JUMBO 2         /* Underlay MTU 9000 (else 1500). */
#define FUZZ_DP_NO_UDP_CSUM 4   /* Outer UDP checksum off (IPv4 only). */

/* Returns a new datapath with a VTEP of the variant that 'flags' (a
 * combination of FUZZ_DP_*) says, so that nothing learned from one input
 * changes how the next runs.  Aborts if it cannot be made.  Hand it back
 * with fuzz_dp_end(). */
struct fuzz_dp *fuzz_dp_begin(unsigned int flags);

/* Returns a packet from 'f's pool holding the 'size' bytes at 'data', or
 * NULL if they do not fit in one. */
struct packet *fuzz_dp_packet(struct fuzz_dp *f, const uint8_t *data,
                              size_t size);

/* Gives the packets of 'batch' to the datapath as received on 'port_no'
 * now, and empties it.  Frames from the VTEP get the outer addresses of a
 * datagram from the peer VTEP. */
void fuzz_dp_receive(struct fuzz_dp *f, uint32_t port_no,
                     struct packet_batch *batch);

/* Gives 'p' alone to the datapath as received on 'port_no'. */
void fuzz_dp_receive_one(struct fuzz_dp *f, uint32_t port_no,
                         struct packet *p);

/* Ages the MAC table, destroys the datapath and aborts unless every packet
 * buffer has come back. */
void fuzz_dp_end(struct fuzz_dp *f);

#endif /* tests/fuzz/fuzz-dp.h */
