#ifndef SWITCHD_FLOW_RPC_H
#define SWITCHD_FLOW_RPC_H 1

#include <stdbool.h>
#include <stddef.h>

#include "flow-text.h"
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
 * and forwarding never sees half of one.  Preparing a file of 65,536
 * lines takes a good part of a second, so it is done a slice of lines and
 * rules at a time (flow_change_step()), one slice per loop turn, and
 * forwarding goes on in between; readers meanwhile see the rules as they
 * were.  Changes must not overlap: the rules and the store may change
 * only through them (or through timeouts, which only touch rules that are
 * never saved, and make a change being prepared start again) between the
 * first step and the last.
 *
 * diff-flows answers at once; dump-flows (flow-dump.h) and trace
 * (flow-trace.h) have modules of their own. */

struct flow_change;

/* Starts preparing the change that 'req' asks for, which must outlive
 * the change.  The configuration file is 'db_path'.  Returns STATUS_OK
 * with the change in '*change', or another status with a one-line reason
 * in 'error' and nothing changed. */
Vswitch__Status flow_change_start(struct bridge *, struct flow_store *,
                                  const char *db_path,
                                  const Vswitch__Request *req,
                                  struct flow_change **change,
                                  char *error, size_t error_size);

/* Prepares up to 'max' more lines or rules of the change.  Returns true
 * once it is prepared, with STATUS_OK in '*status', or refused, with
 * another status and a one-line reason in 'error': then the caller
 * destroys it, and nothing changed.  Selecting the rules of the tables
 * that the change looks at takes a step of its own.  If the rules changed
 * since the last step, starts again from the first line (after a few
 * restarts it takes every line, or every rule, in one step). */
bool flow_change_step(struct flow_change *, size_t max,
                      Vswitch__Status *status, char *error,
                      size_t error_size);

/* flow_change_start() and every step, all at once. */
Vswitch__Status flow_change_prepare(struct bridge *, struct flow_store *,
                                    const char *db_path,
                                    const Vswitch__Request *req,
                                    struct flow_change **change,
                                    char *error, size_t error_size);

/* In a worker: saves the change (the flow store, and the configuration
 * file if it did not record yet that rules were written) and, once it is
 * saved, puts it into the store's rules, which nothing else reads while
 * the change has its turn.  Returns 0 or an errno value with a reason in
 * 'error'. */
int flow_change_save(struct flow_change *, char *error, size_t error_size);

/* On the loop, once saved: puts the change into effect and describes it
 * in 'resp''s payload. */
void flow_change_apply(struct flow_change *, long long now_ms,
                       Vswitch__Response *resp);

/* On the loop, once the change was applied or refused: forgets the
 * numbers kept for port names that no rule names
 * (bridge_reclaim_port_names()). */
void flow_change_end(struct flow_change *);

/* Frees the change, after flow_change_end(); as it touches nothing but
 * the change, it may run in a worker.  Accepts NULL. */
void flow_change_free(struct flow_change *);

/* flow_change_end() and flow_change_free().  Accepts NULL. */
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

/* Parses the lines of 'f' (FLOW_TEXT_ADD, a missing table is 0) into a
 * new array of specs, which flow_rpc_free_specs() frees with what they
 * own.  Returns 0, or an errno value with the first bad line's number and
 * fault in 'error'. */
int flow_rpc_parse_lines(const Vswitch__FlowLines *f,
                         const struct flow_text_ports *ports,
                         struct flow_spec **specs, char *error,
                         size_t error_size);
void flow_rpc_free_specs(struct flow_spec *specs, size_t n);

/* Parses one line of flow text for 'mode' into 'spec', as
 * flow_text_parse() does, with the reason of a failure in 'error'.
 * Returns 0, EINVAL or ENOMEM. */
int flow_rpc_parse(const char *text, enum flow_text_mode mode,
                   const struct flow_text_ports *ports,
                   struct flow_spec *spec, char *error, size_t error_size);

#endif /* switchd/flow-rpc.h */
