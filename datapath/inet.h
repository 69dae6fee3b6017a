#ifndef DATAPATH_INET_H
#define DATAPATH_INET_H 1

#include <netinet/in.h>
#include <stdbool.h>

#include "byte-order.h"

/* Internet addresses.  The datapath keeps every address, IPv4 or IPv6, in a
 * struct in6_addr, IPv4 as IPv4-mapped (::ffff:a.b.c.d), so that tables and
 * comparisons need one form only. */

#define INET_ADDR_STRLEN 46     /* INET6_ADDRSTRLEN. */

/* Returns IPv4 address 'addr' in its IPv4-mapped form. */
struct in6_addr inet_from_ipv4(be32 addr);

/* Returns the IPv4 address of an IPv4-mapped 'a'. */
be32 inet_to_ipv4(const struct in6_addr *a);

bool inet_is_ipv4(const struct in6_addr *);
bool inet_is_multicast(const struct in6_addr *);
bool inet_is_unspecified(const struct in6_addr *);
bool inet_equals(const struct in6_addr *, const struct in6_addr *);

/* Parses an IPv4 or IPv6 address in its usual text form.  Returns false if
 * 's' is anything else. */
bool inet_parse(const char *s, struct in6_addr *a);

/* Formats 'a' (IPv4 in dotted quad) into 'buf' and returns 'buf'. */
char *inet_format(const struct in6_addr *a, char buf[INET_ADDR_STRLEN]);

#endif /* datapath/inet.h */
