#ifndef SWITCHD_FLOW_DUMP_H
#define SWITCHD_FLOW_DUMP_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

struct bridge;

/* dump-flows, in the manner of fdb-dump.h: the rules are copied on the
 * loop a slice at a time (flow_dump_copy()), then formatted and packed in
 * a worker (flow_dump_build()), so that a dump of 65,536 rules never holds
 * the loop for long. */
struct flow_dump;

/* Starts a dump of the rules 'f' selects.  Returns STATUS_OK with the
 * dump in '*dump', or another status with a reason in 'error'. */
Vswitch__Status flow_dump_start(struct bridge *, const Vswitch__FlowFilter *f,
                                struct flow_dump **dump, char *error,
                                size_t error_size);

/* Copies up to 'max' more rules.  Returns true once all are copied.  If
 * the rules changed since the last slice, starts again from the first,
 * so that a dump never mixes two states of the tables (after a few
 * restarts it copies the rest in one go). */
bool flow_dump_copy(struct flow_dump *, long long now_ms, size_t max);

/* Bytes the copy holds so far, about what the answer will. */
size_t flow_dump_size(const struct flow_dump *);

/* In a worker, once copied: formats the rules into a new FlowList, which
 * the caller frees. */
Vswitch__FlowList *flow_dump_build(struct flow_dump *);

/* diff-flows, built the same way: the lines of 'f' are parsed at once
 * (a bad line fails the start, naming it), every rule of the tables is
 * copied by flow_dump_copy(), and flow_dump_build_diff() works out and
 * formats the differences in a worker.  Until the copy is done, the port
 * numbers the lines named stay kept (bridge_hold_port_names()), so that
 * the lines and the rules copied mean the same ports. */
Vswitch__Status flow_dump_start_diff(struct bridge *,
                                     const Vswitch__FlowLines *f,
                                     struct flow_dump **dump, char *error,
                                     size_t error_size);
bool flow_dump_is_diff(const struct flow_dump *);

/* In a worker, once copied: the rules of the tables that differ from the
 * file's, in order, each "-" and its text followed by "+" and the file's
 * version if the file has one; then "+" and each rule the tables lack (of
 * lines with one identity, the last).  The caller frees it. */
Vswitch__FlowDiff *flow_dump_build_diff(struct flow_dump *);

/* Accepts NULL. */
void flow_dump_destroy(struct flow_dump *);

#endif /* switchd/flow-dump.h */
