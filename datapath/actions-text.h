#ifndef DATAPATH_ACTIONS_TEXT_H
#define DATAPATH_ACTIONS_TEXT_H 1

#include "actions.h"
#include "dstring.h"

struct flow_text_ports;

/* The actions of a flow rule as text, the part after "actions=", in
 * ovs-ofctl's syntax ("output:tap1,normal", "resubmit(,2)", "drop").
 * flow-text.c reads and writes whole rules with these. */

/* Parses 'text' (modified in place) into a new list in '*actsp', which the
 * caller frees with free().  'table' is the rule's table, which goto_table
 * must go beyond.  Returns 0, EINVAL with one line naming the action at
 * fault appended to 'error', or ENOMEM. */
int actions_text_parse(char *text, int table,
                       const struct flow_text_ports *ports,
                       struct flow_actions **actsp, struct ds *error);

/* Appends 'a' (NULL or empty: "drop"). */
void actions_text_format(struct ds *, const struct flow_actions *a,
                         const struct flow_text_ports *ports);

/* Appends port 'port_no', by name when 'ports' knows one. */
void actions_text_format_port(struct ds *, uint32_t port_no,
                              const struct flow_text_ports *ports);

#endif /* datapath/actions-text.h */
