#ifndef DATAPATH_UDP_GSO_H
#define DATAPATH_UDP_GSO_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "byte-order.h"

/* Trains of UDP datagrams sent with one system call, from a chosen source
 * port.
 *
 * A raw socket, which lets the VXLAN port pick each inner flow's UDP source
 * port, crosses the kernel's whole output path once per datagram.  A UDP
 * socket with UDP_SEGMENT (Linux 4.18) crosses it once for a train of
 * datagrams of one size to one destination: the kernel, or the NIC, cuts
 * the train at the last moment, and a receiver with UDP_GRO takes it whole.
 * A UDP socket has one source port, so this keeps a socket per source port
 * in use, opened when first needed, in a direct-mapped cache of
 * UDP_GSO_SOCKETS.  A port whose socket cannot be opened or bound
 * (another program holds it) is remembered as such until another port
 * takes its slot, and its trains are refused with the reason, so that the
 * caller sends them another way.
 *
 * The kernel fills in the outer IP and UDP headers, so a train carries a
 * UDP checksum (UDP_SEGMENT requires one; a NIC computes it) and IPv4
 * identifications of the kernel's choosing. */

#define UDP_GSO_SOCKETS 256

/* The most datagrams in one train, and their total payload, that every
 * kernel with UDP_SEGMENT takes. */
#define UDP_GSO_MAX_SEGMENTS 64
#define UDP_GSO_MAX_BYTES 65000

struct udp_gso_config {
    int family;                 /* AF_INET or AF_INET6. */
    struct in6_addr local;      /* Source address; IPv4-mapped for IPv4. */
    int ifindex;                /* The underlay device, or 0 for any. */
    uint8_t ttl;                /* Unicast TTL or hop limit. */
    uint8_t tos;                /* TOS or traffic class. */
    bool df;                    /* Set DF on IPv4. */
};

struct udp_gso_stats {
    uint64_t trains;            /* Trains the kernel took. */
    uint64_t datagrams;         /* Datagrams in them. */
    uint64_t sockets_opened;
    uint64_t open_failures;     /* Sockets that could not be opened or bound
                                 * (another socket held the port). */
};

struct udp_gso;

/* Returns a sender with an empty cache, or NULL if memory is short.  Free
 * with udp_gso_destroy(), which accepts NULL and closes every socket. */
struct udp_gso *udp_gso_create(const struct udp_gso_config *);
void udp_gso_destroy(struct udp_gso *);

/* Sends 'n' datagrams from 'src_port' (host order) to 'dst':'dst_port',
 * whose payloads are 'payloads'.  All but the last must be 'seg_size'
 * bytes long, the last no longer; 'n' is at most UDP_GSO_MAX_SEGMENTS and
 * the total at most UDP_GSO_MAX_BYTES.  Returns 0 if the kernel took them,
 * EAGAIN if its buffer is full, or another errno value if this train
 * cannot go this way (such as EADDRINUSE or EMSGSIZE): the caller may send
 * the datagrams some other way. */
int udp_gso_send(struct udp_gso *, uint16_t src_port,
                 const struct in6_addr *dst, be16 dst_port,
                 const struct iovec *payloads, size_t n, size_t seg_size);

void udp_gso_get_stats(const struct udp_gso *, struct udp_gso_stats *);

#endif /* datapath/udp-gso.h */
