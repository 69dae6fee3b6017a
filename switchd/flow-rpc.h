#ifndef SWITCHD_FLOW_RPC_H
#define SWITCHD_FLOW_RPC_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

struct bridge;
struct flow_store;

/* The flow commands of the control protocol, on the tables of a bridge
 * whose permanent rules are saved in a flow store.
 *
 * A change (add-flows, mod-flows, del-flows, replace-flows) is made in
 * three steps, as rpc.c makes every change: prepared on the loop (every
 * line parsed, the bound on rules checked, what the saved rules become
 * worked out, before anything changes), saved in a worker, then applied
 * on the loop, all at once, so that a change that fails changes nothing
 * and forwarding never sees half of one.  Changes must not overlap: the
 * rules and the store may change only through them (or through timeouts,
 * which only touch rules that are never saved) between the first step and
 * the last.
 *
 * Reads (dump-flows, diff-flows, trace) answer at once, except a dump,
 * which copies the rules a slice at a time (flow_dump_copy()) and is
 * formatted and packed in a worker (flow_dump_build()). */

struct flow_change;

/* Prepares the change that 'req' asks for.  The configuration file is
 * 'db_path'.  Returns STATUS_OK with the change in '*change', or another
 * status with a one-line reason in 'error' and nothing changed. */
Vswitch__Status flow_change_prepare(struct bridge *, struct flow_store *,
                                    const char *db_path,
                                    const Vswitch__Request *req,
                                    struct flow_change **change,
                                    char *error, size_t error_size);

/* In a worker: saves the change (the flow store, and the configuration
 * file if it did not record yet that rules were written).  Returns 0 or
 * an errno value with a reason in 'error'. */
int flow_change_save(struct flow_change *, char *error, size_t error_size);

/* On the loop, once saved: puts the change into effect and describes it
 * in 'resp''s payload. */
void flow_change_apply(struct flow_change *, long long now_ms,
                       Vswitch__Response *resp);

/* Frees the change, and forgets the numbers kept for port names that no
 * rule names (bridge_reclaim_port_names()), whether the change was applied
 * or not.  Accepts NULL. */
void flow_change_destroy(struct flow_change *);

/* The rules of a configuration that does not record that rules were
 * written: the default rule, as a new bridge has, which the next change
 * saves with the rest. */
void flow_rpc_start_default(struct bridge *, struct flow_store *,
                            long long now_ms);

/* Puts the saved rules of 'store' into the tables, which lose what they
 * held.  A saved rule that no longer parses or fits is logged and left
 * out.  Returns the number of rules put in. */
size_t flow_rpc_replay(struct bridge *, struct flow_store *,
                       long long now_ms);

/* diff-flows and trace: answers 'req' into 'resp'.  Returns STATUS_OK or
 * another status with a reason in 'error'. */
Vswitch__Status flow_rpc_read(struct bridge *, const Vswitch__Request *req,
                              long long now_ms, Vswitch__Response *resp,
                              char *error, size_t error_size);

/* dump-flows. */
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

/* Accepts NULL. */
void flow_dump_destroy(struct flow_dump *);

#endif /* switchd/flow-rpc.h */
