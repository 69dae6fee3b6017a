#include <config.h>

#include "inet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
inet_prefix_contains(const struct inet_prefix *prefix,
                     const struct in6_addr *a)
{
    unsigned int whole = prefix->len / 8, bits = prefix->len % 8;

    if (memcmp(a->s6_addr, prefix->addr.s6_addr, whole)) {
        return false;
    }
    return !bits || !((a->s6_addr[whole] ^ prefix->addr.s6_addr[whole])
                      & (0xff00 >> bits));
}

char *
inet_prefix_format(const struct inet_prefix *prefix,
                   char buf[INET_PREFIX_STRLEN])
{
    char addr[INET_ADDR_STRLEN];
    bool dotted = inet_is_ipv4(&prefix->addr) && prefix->len >= 96;

    snprintf(buf, INET_PREFIX_STRLEN, "%s/%u",
             inet_format(&prefix->addr, addr),
             prefix->len - (dotted ? 96 : 0));
    return buf;
}

bool
inet_prefix_parse(const char *s, struct inet_prefix *prefix)
{
    char addr[INET_ADDR_STRLEN];
    const char *slash = strchr(s, '/');
    char *end;

    if (!slash || (size_t) (slash - s) >= sizeof addr || !slash[1]
        || slash[1] == '-' || slash[1] == '+') {
        return false;
    }
    memcpy(addr, s, (size_t) (slash - s));
    addr[slash - s] = '\0';

    /* IPv4 lengths count from the start of the IPv4 address. */
    bool dotted = !strchr(addr, ':');
    unsigned long len = strtoul(slash + 1, &end, 10);
    struct in6_addr a;

    if (*end || !inet_parse(addr, &a) || len > (dotted ? 32 : 128)) {
        return false;
    }
    prefix->addr = a;
    prefix->len = (unsigned int) len + (dotted ? 96 : 0);

    /* No bits past the length, as a route would have it. */
    struct in6_addr net = a;

    for (unsigned int i = prefix->len; i < 128; i++) {
        net.s6_addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
    }
    return inet_equals(&net, &a);
}

bool
inet_parse(const char *s, struct in6_addr *a)
{
    struct in_addr v4;

    if (inet_pton(AF_INET, s, &v4) == 1) {
        *a = inet_from_ipv4(v4.s_addr);
        return true;
    }
    return inet_pton(AF_INET6, s, a) == 1;
}

char *
inet_format(const struct in6_addr *a, char buf[INET_ADDR_STRLEN])
{
    if (inet_is_ipv4(a)) {
        struct in_addr v4 = { .s_addr = inet_to_ipv4(a) };

        inet_ntop(AF_INET, &v4, buf, INET_ADDR_STRLEN);
    } else {
        inet_ntop(AF_INET6, a, buf, INET_ADDR_STRLEN);
    }
    return buf;
}

