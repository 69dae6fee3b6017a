#ifndef DATAPATH_FLOW_SCAN_H
#define DATAPATH_FLOW_SCAN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow_text_ports;

/* The small lexical pieces that flow-text.c (match fields) and
 * actions-text.c (actions) share, so that a number or a port reads the
 * same in a match as in an action. */

/* Parses 's' whole as an unsigned number, decimal or "0x" hexadecimal, of
 * at most 'max'.  Returns false for anything else (empty, a sign, trailing
 * text, too large). */
bool flow_scan_uint(const char *s, uint64_t max, uint64_t *value);

/* Parses a port: a number from 1 to FLOW_SCAN_PORT_MAX, or a name that
 * 'ports' (which may be NULL) knows.  Returns false if 's' is neither. */
bool flow_scan_port(const char *s, const struct flow_text_ports *ports,
                    uint32_t *port_no);

/* The largest port number: UINT32_MAX stands for "the input port" in
 * resubmit(). */
#define FLOW_SCAN_PORT_MAX (UINT32_MAX - 1)

/* Appends "NAME: MESSAGE" to 'error', the form of every error of the flow
 * syntax, with control characters shown as '?' so that it stays one line,
 * and returns false, so that a parser can end with
 * "return flow_scan_error(...)". */
bool flow_scan_error(struct ds *error, const char *name,
                     const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "unknown WHAT 'NAME'" ('len' bytes of 'name') to 'error' in the
 * same way, and returns false. */
bool flow_scan_unknown(struct ds *error, const char *what, const char *name,
                       size_t len);

/* Says whether 'a' and 'b' are equal, ignoring case, as keywords are. */
bool flow_scan_keyword_eq(const char *a, const char *b);

#endif /* datapath/flow-scan.h */
