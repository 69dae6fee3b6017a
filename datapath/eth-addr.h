#ifndef DATAPATH_ETH_ADDR_H
#define DATAPATH_ETH_ADDR_H 1

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ETH_ADDR_LEN 6

struct eth_addr {
    uint8_t ea[ETH_ADDR_LEN];
};

#define ETH_ADDR_STRLEN 18     /* "xx:xx:xx:xx:xx:xx" plus the null byte. */

static inline bool
eth_addr_is_multicast(const struct eth_addr *a)
{
    return a->ea[0] & 1;
}

static inline bool
eth_addr_is_broadcast(const struct eth_addr *a)
{
    static const struct eth_addr bcast = {{ 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff }};

    return !memcmp(a, &bcast, sizeof *a);
}

static inline bool
eth_addr_is_zero(const struct eth_addr *a)
{
    static const struct eth_addr zero;

    return !memcmp(a, &zero, sizeof *a);
}

static inline bool
eth_addr_equals(const struct eth_addr *a, const struct eth_addr *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* Returns the 48 bits of 'a' as an integer, first byte most significant. */
static inline uint64_t
eth_addr_to_u64(const struct eth_addr *a)
{
    return ((uint64_t) a->ea[0] << 40) | ((uint64_t) a->ea[1] << 32)
           | ((uint64_t) a->ea[2] << 24) | ((uint64_t) a->ea[3] << 16)
           | ((uint64_t) a->ea[4] << 8) | a->ea[5];
}

/* Formats 'a' into 'buf' (ETH_ADDR_STRLEN bytes) and returns 'buf'. */
char *eth_addr_format(const struct eth_addr *a, char buf[ETH_ADDR_STRLEN]);

/* Parses "xx:xx:xx:xx:xx:xx" (hex digits in either case).  Returns false,
 * leaving 'a' unspecified, if 's' is anything else. */
bool eth_addr_parse(const char *s, struct eth_addr *a);

#endif /* datapath/eth-addr.h */
