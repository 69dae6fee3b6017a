#ifndef DATAPATH_PORT_OFFLOAD_H
#define DATAPATH_PORT_OFFLOAD_H 1

#include <stddef.h>
#include <stdint.h>

/* What a port's device takes, and may hand over, beyond finished frames
 * no longer than its MTU: a set of these flags.  A port learns it from
 * its device when it opens (what a TAP's TUNSETOFFLOAD accepted, whether
 * a system port's socket took PACKET_VNET_HDR); the datapath reads it to
 * know what it must finish or cut before a frame leaves through the port.
 * It stands apart from port.h so that the datapath (dp.h) takes the set
 * without knowing anything else of ports. */
enum port_offload {
    PORT_OFFLOAD_CSUM = 1 << 0,         /* L4 checksums left to finish. */
    PORT_OFFLOAD_TSO4 = 1 << 1,         /* TCP super frames over IPv4. */
    PORT_OFFLOAD_TSO6 = 1 << 2,         /* TCP super frames over IPv6. */
    PORT_OFFLOAD_USO = 1 << 3,          /* UDP super frames (UDP_SEGMENT). */
    PORT_OFFLOAD_TUNNEL_GSO = 1 << 4,   /* Super frames in a UDP tunnel. */
};

/* Every flag above. */
#define PORT_OFFLOAD_ALL ((uint32_t) (1 << 5) - 1)

/* Returns the name of the single flag 'offload' ("csum", "tso4", "tso6",
 * "uso", "tunnel_gso"), as `vswitch-ctl show` prints it, or NULL if
 * 'offload' is not one flag of the set. */
const char *port_offload_name(uint32_t offload);

#endif /* datapath/port-offload.h */
