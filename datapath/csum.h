#ifndef DATAPATH_CSUM_H
#define DATAPATH_CSUM_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "byte-order.h"

/* The Internet checksum (RFC 1071).  Partial sums are 32-bit accumulators in
 * the byte order of the data, folded only at the end. */

/* Both inline, so that a sum of a fixed size (an IPv4 header, a pseudo
 * header) compiles to a few additions. */

/* Adds 'n' bytes at 'data' to the partial sum 'sum'.  An odd 'n' is padded
 * with a zero byte, so only the last piece of a sum may have odd length. */
static inline uint32_t
csum_add_bytes(uint32_t sum, const void *data_, size_t n)
{
    const uint8_t *data = data_;
    uint64_t acc = sum;

    for (; n >= 4; n -= 4, data += 4) {
        uint32_t word;

        memcpy(&word, data, 4);
        acc += word;
    }
    if (n >= 2) {
        uint16_t half;

        memcpy(&half, data, 2);
        acc += half;
        data += 2;
        n -= 2;
    }
    if (n) {
        uint16_t last = 0;

        memcpy(&last, data, 1);
        acc += last;
    }
    while (acc >> 32) {
        acc = (acc & 0xffffffff) + (acc >> 32);
    }
    return (uint32_t) acc;
}

/* Copies 'n' bytes from 'src' to 'dst' (which must not overlap) and adds
 * them to the partial sum 'sum', as csum_add_bytes() would, in one pass
 * over the bytes: segmentation copies each payload once anyway, and a
 * second pass to sum it would read it again. */
uint32_t csum_copy(uint32_t sum, void *dst, const void *src, size_t n);

/* Folds a partial sum and returns its complement: the value to store. */
static inline be16
csum_finish(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (be16) ~sum;
}

/* Returns the checksum of the 20 bytes of an IPv4 header without options
 * at 'ip' (2-byte aligned): the value to store in its checksum field if
 * that holds zero, or zero if the header is intact.  Written out, since a
 * header is summed for every frame that leaves through a raw socket. */
static inline be16
csum_ipv4_header(const void *ip)
{
    uint32_t w[5];
    uint64_t acc;

    memcpy(w, ip, sizeof w);
    acc = (uint64_t) w[0] + w[1] + w[2] + w[3] + w[4];
    acc = (acc & 0xffffffff) + (acc >> 32);
    return csum_finish((uint32_t) acc + (uint32_t) (acc >> 32));
}

/* The pseudo-header sums that UDP and TCP checksums start from. */
uint32_t csum_pseudo_ipv4(be32 src, be32 dst, uint8_t proto, uint16_t len);
uint32_t csum_pseudo_ipv6(const struct in6_addr *src,
                          const struct in6_addr *dst, uint8_t proto,
                          uint32_t len);

struct packet;

/* Finishes the L4 checksum of 'p' if p->md.csum_partial says it is still
 * owed (the Linux CHECKSUM_PARTIAL convention: the field holds the
 * pseudo-header sum, and the sum from csum_start to the end completes it),
 * and clears the flag.  Frames must be finished before they leave on a
 * device, or inside a tunnel, whose receiver will not finish them. */
void csum_complete_partial(struct packet *p);

/* Marks 'p' as owing its TCP or UDP checksum (p->md.csum_partial) if the
 * checksum field holds just the pseudo-header sum, which is what a Linux
 * sender leaves for offload.  A frame that crossed only virtual links (a
 * kernel vxlan device over a veth) arrives so, and a plain socket cannot
 * tell: the field is the one sign.  A finished checksum that happens to
 * equal that sum is recomputed to the same value; but a wrong one that a
 * sender chose to equal it would be made right over damaged data, so the
 * caller asks only of frames from this host's own stack.  Returns true if
 * it marked the frame. */
bool csum_detect_partial(struct packet *p);

#endif /* datapath/csum.h */
