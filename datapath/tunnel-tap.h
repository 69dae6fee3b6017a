#ifndef DATAPATH_TUNNEL_TAP_H
#define DATAPATH_TUNNEL_TAP_H 1

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>

#include "packet.h"

/* A TAP device through which whole encapsulated super frames enter the
 * host's IP stack (UDP-tunnel GSO on TUN/TAP, Linux 6.17 and later).
 *
 * A VXLAN port that had to cut a VM's 64 KB TCP super frame into segments
 * pays a copy and a checksum for every byte; written here with its outer
 * headers and a virtio-net header that says "TCP inside a UDP tunnel", the
 * frame stays whole: the kernel forwards it to the underlay device as one
 * packet, and segments it (with the inner checksums) only where a device
 * needs segments.  Over a veth it never does, and a receiving VTEP, the
 * kernel's vxlan driver or ours, takes it whole.
 *
 * The frames arrive on the TAP from the host's own address, bound for a
 * peer VTEP: the kernel must forward them, accept a local source and not
 * filter it by reverse path.  Those three settings are made on the TAP
 * alone (net.ipv4.conf.TAP.*); nothing else of the host changes.  The
 * frames then meet the host's forwarding rules (netfilter's FORWARD chain
 * among them), which a firewall that drops forwarded traffic defeats:
 * the VXLAN port's gso_tap option turns this path off.  Unicast over IPv4
 * only, without outer UDP checksums; the rest takes the old path. */

struct tunnel_tap;

/* Creates the device (named by the kernel, "vswgsoN") in the current
 * network namespace and sets it up.  Returns 0 and the device in '*tapp',
 * or ENOTSUP with the reason in 'error' where the kernel or the host's
 * settings do not allow the path (a kernel without UDP-tunnel GSO on TAP,
 * strict reverse-path filtering for all devices), or another errno value
 * with the reason.  The device goes away with tunnel_tap_close(), which
 * accepts NULL. */
int tunnel_tap_open(struct tunnel_tap **tapp, char *error,
                    size_t error_size);
void tunnel_tap_close(struct tunnel_tap *);

/* The device's name, for messages and 'show'. */
const char *tunnel_tap_name(const struct tunnel_tap *);

/* Brings the device up again, after someone set it down (a write then
 * fails with EIO).  Returns 0 or an errno value. */
int tunnel_tap_up(struct tunnel_tap *);

/* Says whether tunnel_tap_send() takes frame 'p' once vxlan_encap() has
 * made it for 'dst': a TCP super frame (not a UDP one, which is cut
 * before encapsulation) with its checksum left to finish, to a unicast
 * IPv4 destination, with room for every header in front of it and an
 * outer IP length that fits 16 bits. */
bool tunnel_tap_takes(const struct packet *p, const struct in6_addr *dst);

/* Sends 'p', which tunnel_tap_takes() accepted and whose outer IPv4 and
 * UDP headers vxlan_push_outer() has since pushed.  The outer TTL goes up
 * by one on the way in, since forwarding takes one off.  Returns 0 or an
 * errno value.  The packet stays the caller's. */
int tunnel_tap_send(struct tunnel_tap *, struct packet *p);

#endif /* datapath/tunnel-tap.h */
