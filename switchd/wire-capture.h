#ifndef SWITCHD_WIRE_CAPTURE_H
#define SWITCHD_WIRE_CAPTURE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "capture-buffer.h"
#include "inet.h"

/* A live capture of the VXLAN port, as the wire carries it.
 *
 * The port sends through UDP sockets (with UDP GSO), a raw IP socket and
 * a TAP into the host (tunnel-tap.h), and receives from a UDP socket: the
 * kernel builds and strips the outer headers, which the port never sees.
 * So the frames are taken where the kernel hands them to and takes them
 * from the devices: a packet socket in the daemon's namespace, on the
 * port's underlay device (its 'dev'), else on every device, with a kernel
 * filter that libpcap compiles from the port's traffic (UDP to its
 * destination port, from or to its address or to a multicast group) and
 * the user's expression, which thus applies to the outer frame.  The
 * kernel says which frames leave (PACKET_OUTGOING); frames that arrive
 * from this host's own address (the tunnel TAP's, before the kernel
 * forwards them out of the underlay device) are skipped.  The socket's
 * buffer is the bound, and what the kernel drops when it is full is
 * counted (PACKET_STATISTICS).  Super frames (UDP GSO trains, TCP super
 * frames through the tunnel TAP) pass a packet socket whole, as they pass
 * tcpdump on the device: they are captured whole. */

struct wire_capture_config {
    struct in6_addr local;      /* The port's address (IPv4 mapped). */
    uint16_t dst_port;          /* Its UDP destination port. */
    const char *dev;            /* Its underlay device; "" for all. */
};

/* Compiles into 'f' the kernel's filter for the traffic of 'cfg' and the
 * user's expression 'expr' (NULL for none), which must compile on its
 * own.  Touches nothing else, so that it may run in a worker thread.
 * Returns 0, or EINVAL with libpcap's reason in 'error'. */
struct capture_filter;
int wire_capture_compile(const struct wire_capture_config *cfg,
                         const char *expr, struct capture_filter *f,
                         char *error, size_t error_size);

/* Opens the packet socket for 'cfg' with the filter 'f' that
 * wire_capture_compile() made (the caller keeps it), non-blocking.
 * Returns 0 and the socket in '*fd', or an errno value with a reason in
 * 'error'. */
int wire_capture_open(const struct wire_capture_config *cfg,
                      const struct capture_filter *f, int *fd, char *error,
                      size_t error_size);

/* Reads at most 'max' frames from 'fd' into 'buf', keeping those going
 * the ways 'dirs' (a set of 1 << enum capture_dir) says, and counts in
 * 'buf->lost' what the kernel dropped since the last call.  Stops early,
 * with '*full' set, at a frame that 'buf' has no room for (lost).
 * Returns the frames read. */
size_t wire_capture_read(int fd, const struct wire_capture_config *cfg,
                         unsigned int dirs, struct capture_buffer *buf,
                         size_t max, bool *full);

#endif /* switchd/wire-capture.h */
