#ifndef DATAPATH_INET_H
#define DATAPATH_INET_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "byte-order.h"

/* Internet addresses.  The datapath keeps every address, IPv4 or IPv6, in a
 * struct in6_addr, IPv4 as IPv4-mapped (::ffff:a.b.c.d), so that tables and
 * comparisons need one form only. */

#define INET_ADDR_STRLEN 46     /* INET6_ADDRSTRLEN. */

/* These predicates are inline: the datapath asks them several times per
 * frame, and a call costs more than the question. */

/* Returns IPv4 address 'addr' in its IPv4-mapped form. */
static inline struct in6_addr
inet_from_ipv4(be32 addr)
{
    /* Whole words rather than byte stores: every datagram received over
     * IPv4 has two addresses made so. */
    static const uint8_t mapped[4] = { 0, 0, 0xff, 0xff };
    struct in6_addr a;
    uint32_t high;

    memcpy(&high, mapped, sizeof high);
    memset(&a, 0, 8);
    memcpy(&a.s6_addr[8], &high, 4);
    memcpy(&a.s6_addr[12], &addr, 4);
    return a;
}

/* Returns the IPv4 address of an IPv4-mapped 'a'. */
static inline be32
inet_to_ipv4(const struct in6_addr *a)
{
    be32 v4;

    memcpy(&v4, &a->s6_addr[12], 4);
    return v4;
}

/* Two loads and compares rather than IN6_IS_ADDR_V4MAPPED()'s three: it
 * is asked several times per frame on the way to the underlay. */
static inline bool
inet_is_ipv4(const struct in6_addr *a)
{
    uint64_t head;
    uint32_t mid;

    memcpy(&head, a->s6_addr, sizeof head);
    memcpy(&mid, a->s6_addr + 8, sizeof mid);
    return !head && mid == htonl(0xffff);
}

static inline bool
inet_is_multicast(const struct in6_addr *a)
{
    return inet_is_ipv4(a) ? (a->s6_addr[12] & 0xf0) == 0xe0
                           : a->s6_addr[0] == 0xff;
}

static inline bool
inet_is_unspecified(const struct in6_addr *a)
{
    return IN6_IS_ADDR_UNSPECIFIED(a)
           || (inet_is_ipv4(a) && !inet_to_ipv4(a));
}

static inline bool
inet_equals(const struct in6_addr *a, const struct in6_addr *b)
{
    return !memcmp(a, b, sizeof *a);
}

/* Says whether 'a' is a loopback address: 127.0.0.0/8 or ::1. */
static inline bool
inet_is_loopback(const struct in6_addr *a)
{
    return inet_is_ipv4(a) ? a->s6_addr[12] == 127 : IN6_IS_ADDR_LOOPBACK(a);
}

/* Says whether 'a' can be the source of a datagram: not unspecified,
 * multicast or the IPv4 limited broadcast address 255.255.255.255. */
static inline bool
inet_is_unicast(const struct in6_addr *a)
{
    if (inet_is_ipv4(a)) {
        uint32_t v4 = ntohl(inet_to_ipv4(a));

        return v4 && (v4 & 0xf0000000) != 0xe0000000 && v4 != 0xffffffff;
    }
    return !IN6_IS_ADDR_UNSPECIFIED(a) && a->s6_addr[0] != 0xff;
}

/* A prefix: the first 'len' bits of 'addr', counted over the IPv4-mapped
 * form, so an IPv4 /16 has 'len' 112. */
struct inet_prefix {
    struct in6_addr addr;
    unsigned int len;
};

/* Parses "ADDRESS/LENGTH" (IPv4 length 0-32, IPv6 0-128) whose address has
 * no bits set past the length.  Returns false if 's' is anything else. */
bool inet_prefix_parse(const char *s, struct inet_prefix *);

#define INET_PREFIX_STRLEN (INET_ADDR_STRLEN + 4)

/* Formats 'prefix' as inet_prefix_parse() reads it (an IPv4 length counted
 * from the start of the IPv4 address) into 'buf' and returns 'buf'. */
char *inet_prefix_format(const struct inet_prefix *prefix,
                         char buf[INET_PREFIX_STRLEN]);

/* Says whether 'a' lies within 'prefix'. */
bool inet_prefix_contains(const struct inet_prefix *prefix,
                          const struct in6_addr *a);

/* Parses an IPv4 or IPv6 address in its usual text form.  Returns false if
 * 's' is anything else. */
bool inet_parse(const char *s, struct in6_addr *a);

/* Formats 'a' (IPv4 in dotted quad) into 'buf' and returns 'buf'. */
char *inet_format(const struct in6_addr *a, char buf[INET_ADDR_STRLEN]);

/* A socket address of either family, for the socket calls. */
union inet_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
};

/* Fills 'sa' with 'addr' and host-order 'port' and returns its length: a
 * sockaddr_in for an IPv4-mapped 'addr' if 'family' is AF_INET, else a
 * sockaddr_in6.  Link-local IPv6 addresses need the interface they are on,
 * 'ifindex'.  Inline, as the predicates above: every datagram the VXLAN
 * port sends or receives has its address made or read. */
static inline socklen_t
inet_sockaddr_make(int family, const struct in6_addr *addr, uint16_t port,
                   int ifindex, union inet_sockaddr *sa)
{
    memset(sa, 0, sizeof *sa);
    if (family == AF_INET) {
        sa->sin.sin_family = AF_INET;
        sa->sin.sin_port = htons(port);
        sa->sin.sin_addr.s_addr = inet_to_ipv4(addr);
        return sizeof sa->sin;
    }
    sa->sin6.sin6_family = AF_INET6;
    sa->sin6.sin6_port = htons(port);
    sa->sin6.sin6_addr = *addr;
    if (IN6_IS_ADDR_LINKLOCAL(addr) || IN6_IS_ADDR_MC_LINKLOCAL(addr)) {
        sa->sin6.sin6_scope_id = (uint32_t) ifindex;
    }
    return sizeof sa->sin6;
}

/* Stores the address in 'sa' (of 'len' bytes) in '*addr', IPv4-mapped for
 * IPv4.  Returns false if 'sa' is neither family. */
static inline bool
inet_sockaddr_get(const union inet_sockaddr *sa, socklen_t len,
                  struct in6_addr *addr)
{
    if (sa->sa.sa_family == AF_INET && len >= sizeof sa->sin) {
        *addr = inet_from_ipv4(sa->sin.sin_addr.s_addr);
        return true;
    } else if (sa->sa.sa_family == AF_INET6 && len >= sizeof sa->sin6) {
        *addr = sa->sin6.sin6_addr;
        return true;
    }
    return false;
}

#endif /* datapath/inet.h */
