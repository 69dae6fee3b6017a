#include <config.h>

#include "eth-addr.h"

#include <ctype.h>
#include <stdio.h>

char *
eth_addr_format(const struct eth_addr *a, char buf[ETH_ADDR_STRLEN])
{
    snprintf(buf, ETH_ADDR_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
             a->ea[0], a->ea[1], a->ea[2], a->ea[3], a->ea[4], a->ea[5]);
    return buf;
}

static int
hex_value(char c)
{
    return isdigit((unsigned char) c) ? c - '0'
           : tolower((unsigned char) c) - 'a' + 10;
}

bool
eth_addr_parse(const char *s, struct eth_addr *a)
{
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        if (!isxdigit((unsigned char) s[0])
            || !isxdigit((unsigned char) s[1])
            || s[2] != (i == ETH_ADDR_LEN - 1 ? '\0' : ':')) {
            return false;
        }
        a->ea[i] = (uint8_t) (hex_value(s[0]) << 4 | hex_value(s[1]));
        s += 3;
    }
    return true;
}
