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
 * A UDP socket has one source port, so this keeps a set of up to
 * UDP_GSO_SOCKETS sockets, opened and bound once, when the sender is
 * created, to source ports spread evenly over the range it is given; the
 * caller picks each flow's source port among them (udp_gso_get_ports()),
 * and nothing on the send path ever opens, closes or binds a socket.  A
 * port of the range that another program holds is skipped for the next
 * free one of its share of the range.
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
    uint16_t port_min;          /* Source ports, an inclusive range over */
    uint16_t port_max;          /* which the sockets are spread. */
};

struct udp_gso_stats {
    uint64_t trains;            /* Trains the kernel took. */
    uint64_t datagrams;         /* Datagrams in them. */
    uint64_t sockets;           /* Sockets in the set, one per port. */
    uint64_t ports_skipped;     /* Ports of the range that another socket
                                 * held when the set was made. */
};

struct udp_gso;

/* Makes a sender with its set of sockets bound, in '*gp'.  The range is
 * cut into min(UDP_GSO_SOCKETS, its size) equal shares, and each share
 * gets a socket bound to its first port that no other socket holds and
 * that the daemon may bind (else EADDRINUSE or EACCES); a share with no
 * such port has none.  The sockets bind even before 'local' is an address of
 * the host (IP_FREEBIND), so that the set does not depend on when the
 * address comes.  Returns 0, or an errno value and NULL in '*gp': ENOMEM,
 * EADDRINUSE if no port of the range was free, or why a socket could not
 * be made.  Free with udp_gso_destroy(), which accepts NULL and closes
 * every socket. */
int udp_gso_create(const struct udp_gso_config *, struct udp_gso **gp);
void udp_gso_destroy(struct udp_gso *);

/* Stores the source ports of the set, in ascending order, in 'ports',
 * which has room for 'max'.  Returns how many there are (at most 'max'
 * of them stored). */
size_t udp_gso_get_ports(const struct udp_gso *, uint16_t *ports,
                         size_t max);

/* Sends 'n' datagrams from 'src_port' (host order), one of the set's
 * ports, to 'dst':'dst_port', whose payloads are 'payloads'.  All but the
 * last must be 'seg_size' bytes long, the last no longer; 'n' is at most
 * UDP_GSO_MAX_SEGMENTS and the total at most UDP_GSO_MAX_BYTES.  Returns 0
 * if the kernel took them, EAGAIN if its buffer is full, or another errno
 * value if this train cannot go this way (such as EADDRNOTAVAIL for a port
 * outside the set, or EMSGSIZE): the caller may send the datagrams some
 * other way. */
int udp_gso_send(struct udp_gso *, uint16_t src_port,
                 const struct in6_addr *dst, be16 dst_port,
                 const struct iovec *payloads, size_t n, size_t seg_size);

void udp_gso_get_stats(const struct udp_gso *, struct udp_gso_stats *);

#endif /* datapath/udp-gso.h */
