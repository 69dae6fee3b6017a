#ifndef DATAPATH_BYTE_ORDER_H
#define DATAPATH_BYTE_ORDER_H 1

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

/* Network-order values get their own names so that a reader (and a grep) can
 * tell them from host-order integers; conversion is always explicit. */
typedef uint16_t be16;
typedef uint32_t be32;

/* A 32-bit network-order field that is only guaranteed 16-bit alignment.
 * Headers after the 14-byte Ethernet header sit at offsets that are 2 mod 4,
 * so their 32-bit members are declared with this type and read with the
 * accessors below, never dereferenced as be32. */
typedef struct {
    be16 hi;
    be16 lo;
} be32_16;

static inline be32
be32_16_get(const be32_16 *x)
{
    be32 v;

    memcpy(&v, x, sizeof v);
    return v;
}

static inline void
be32_16_put(be32_16 *x, be32 v)
{
    memcpy(x, &v, sizeof v);
}

#endif /* datapath/byte-order.h */
