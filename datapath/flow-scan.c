#include <config.h>

#include "flow-scan.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>

#include "dstring.h"
#include "flow-text.h"

bool
flow_scan_uint(const char *s, uint64_t max, uint64_t *value)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    unsigned long long v;
    char *end;

    /* strtoull() would take a sign, leading spaces, and "0x" alone. */
    if (!(hex ? isxdigit((unsigned char) *digits)
              : isdigit((unsigned char) *digits))) {
        return false;
    }
    errno = 0;
    v = strtoull(digits, &end, hex ? 16 : 10);
    if (errno || *end || v > max) {
        return false;
    }
    *value = v;
    return true;
}

bool
flow_scan_port(const char *s, const struct flow_text_ports *ports,
               uint32_t *port_no)
{
    uint64_t v;

    if (flow_scan_uint(s, FLOW_SCAN_PORT_MAX, &v)) {
        *port_no = (uint32_t) v;
        return v != 0;
    }
    if (ports && ports->port_no && *s) {
        *port_no = ports->port_no(ports->aux, s);
        return *port_no != 0;
    }
    return false;
}

bool
flow_scan_keyword_eq(const char *a, const char *b)
{
    return !strcasecmp(a, b);
}

/* Shows the control characters of what 'error' got since 'start' as '?':
 * messages quote the text at fault, which may hold anything, and must stay
 * one line.  Returns false. */
static bool
one_line(struct ds *error, size_t start)
{
    for (size_t i = start; i < error->length; i++) {
        if (iscntrl((unsigned char) error->string[i])) {
            error->string[i] = '?';
        }
    }
    return false;
}

bool
flow_scan_error(struct ds *error, const char *name, const char *format, ...)
{
    size_t start = error->length;
    va_list args;

    ds_put_format(error, "%s: ", name);
    va_start(args, format);
    ds_put_format_valist(error, format, args);
    va_end(args);

    return one_line(error, start);
}

bool
flow_scan_unknown(struct ds *error, const char *what, const char *name,
                  size_t len)
{
    size_t start = error->length;

    ds_put_format(error, "unknown %s '%.*s'", what, (int) len, name);
    return one_line(error, start);
}
