#ifndef DATAPATH_FLOW_TEXT_H
#define DATAPATH_FLOW_TEXT_H 1

#include <stdbool.h>
#include <stdint.h>

#include "actions.h"
#include "dstring.h"
#include "match.h"

/* Flow rules as text, in ovs-ofctl's syntax:
 *
 *   table=0,priority=100,cookie=0x5,idle_timeout=30,tcp,in_port=tap0,
 *       nw_dst=10.0.0.0/24,tp_dst=22,actions=drop
 *
 * Parsing checks everything that can be checked without the datapath:
 * field syntax, masks, prerequisites (tp_dst needs tcp, udp...), action
 * arguments, goto_table to a later table.  Formatting gives text that
 * parses back to an equal rule. */

/* Port names, for in_port= and output:.  The parser asks for the number
 * of a name; 0 means no such port, and the parser refuses the name.  The
 * formatter asks for the name of a number and prints the number when it
 * gets NULL.  With no 'flow_text_ports' at all, only numbers are taken and
 * printed. */
struct flow_text_ports {
    uint32_t (*port_no)(void *aux, const char *name);
    const char *(*port_name)(void *aux, uint32_t port_no);
    void *aux;
};

/* What the text is for, which decides what it may and must hold. */
enum flow_text_mode {
    FLOW_TEXT_ADD,      /* add-flow(s), replace-flows: actions required;
                         * cookie without a mask; timeouts allowed. */
    FLOW_TEXT_MODIFY,   /* mod-flows: actions required; cookie=V/MASK
                         * selects rules. */
    FLOW_TEXT_FILTER,   /* del-flows, dump-flows: no actions, no
                         * timeouts; cookie=V/MASK selects rules. */
    FLOW_TEXT_TRACE,    /* trace: match fields with exact values only (no
                         * masks, table, priority, cookie or actions);
                         * fields not given are zero. */
};

#define FLOW_TEXT_DEFAULT_PRIORITY 32768
#define FLOW_TEXT_MAX_TABLE 254

/* One line of flow text, parsed. */
struct flow_spec {
    int table;                  /* -1 if not given. */
    bool has_priority;
    uint16_t priority;          /* FLOW_TEXT_DEFAULT_PRIORITY if not
                                 * given. */
    uint64_t cookie;
    uint64_t cookie_mask;       /* All ones for ADD when a cookie is given;
                                 * 0 when not given. */
    uint16_t idle_timeout;      /* Seconds, 0 for none. */
    uint16_t hard_timeout;
    struct match match;         /* Normalized. */
    struct flow_actions *actions; /* Owned; NULL where the mode has none. */
};

/* Parses 'text' for 'mode' into 'spec'.  Returns 0, or EINVAL with one
 * line of explanation in 'error' (which names the field or action at
 * fault), or ENOMEM.  On failure 'spec' holds nothing to free.  'ports'
 * may be NULL. */
int flow_text_parse(const char *text, enum flow_text_mode mode,
                    const struct flow_text_ports *ports,
                    struct flow_spec *spec, struct ds *error);

/* Frees what 'spec' owns; accepts a spec that failed to parse. */
void flow_spec_uninit(struct flow_spec *spec);

/* Appends 'm' as text ("tcp,in_port=tap0,tp_dst=22"), preceded by
 * "priority=P" unless 'priority' is FLOW_TEXT_DEFAULT_PRIORITY; appends
 * nothing for a catch-all match of the default priority. */
void flow_text_format_match(struct ds *, const struct match *m,
                            uint16_t priority,
                            const struct flow_text_ports *ports);

/* Appends the actions ("output:tap1,normal"; "drop" for an empty list). */
void flow_text_format_actions(struct ds *, const struct flow_actions *a,
                              const struct flow_text_ports *ports);

/* Appends the whole rule as flow text that flow_text_parse() in
 * FLOW_TEXT_ADD mode takes back: table, priority, cookie and timeouts
 * where they differ from the defaults, the match, then "actions=".  A spec
 * of another mode prints as text of that mode (no "actions=" when
 * 'spec->actions' is NULL; "cookie=V/MASK" for a partial mask). */
void flow_text_format_spec(struct ds *, const struct flow_spec *spec,
                           const struct flow_text_ports *ports);

#endif /* datapath/flow-text.h */
