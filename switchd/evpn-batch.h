#ifndef SWITCHD_EVPN_BATCH_H
#define SWITCHD_EVPN_BATCH_H 1

/* A batch of EVPN commands (evpn-mac-add, evpn-mac-del, evpn-vtep-add,
 * evpn-vtep-del, evpn-flush): what the EVPN agent sends for many routes
 * at once.  It is EVPN state, not configuration, so nothing is saved;
 * all or nothing comes from checking every command against the state the
 * commands before it would leave, before any is applied. */

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

struct dp;

/* Applies EVPN request 'req' to 'dp' and returns what its dp_evpn_*()
 * function returned; for evpn-flush, how many entries went in '*n' (may
 * be NULL). */
int evpn_batch_apply_one(struct dp *dp, const Vswitch__Request *req,
                         size_t *n);

/* What a batch of EVPN commands is to do.  It is made in two parts:
 * evpn_batch_parse() reads the text, touching nothing but 'batch', so
 * that a worker thread may run it for a large batch; evpn_batch_check(),
 * in the loop, looks up each VNI, MAC and VTEP the batch names once and
 * judges each command: O(n log n) for n commands, whatever the size of
 * the tables. */
struct evpn_batch;

/* Returns the commands of 'batch' (all EVPN commands, checked one by one
 * by request_check()), parsed, or NULL if memory is short. */
struct evpn_batch *evpn_batch_parse(const Vswitch__Batch *batch);

/* Says whether every command of 'batch', parsed into 'plan', would succeed
 * if applied in turn to 'dp', whose configuration is 'config', with
 * 'may_exist' and 'if_exists' given for the whole batch.  Returns 0, and
 * 'plan' is ready to apply; or the error the first command to fail would
 * meet (as evpn_batch_apply_one() would return it), with its index in
 * '*bad'; or ENOMEM if memory is short (with '*bad' 0).  A plan is checked
 * once (EALREADY after). */
int evpn_batch_check(struct dp *dp, const Vswitch__Config *config,
                     const Vswitch__Batch *batch, bool may_exist,
                     bool if_exists, struct evpn_batch *plan, size_t *bad);

/* Puts up to 'max' more commands of 'plan' into effect on 'dp', in their
 * order; returns true once all are.  VTEP commands are folded into each
 * VNI's final set of VTEPs, put in place (its flood list rebuilt once)
 * with the last call, so that a batch that adds and removes VTEPs costs
 * no more than one per VNI.  Between calls nothing but the batch may
 * change the VNIs' EVPN state (the caller holds the turn to change);
 * learning may, which is no worse than the same commands sent one by
 * one. */
bool evpn_batch_apply_some(struct dp *dp, struct evpn_batch *plan,
                           size_t max);

/* How many commands of 'plan' are not in effect yet. */
size_t evpn_batch_pending(const struct evpn_batch *plan);

void evpn_batch_destroy(struct evpn_batch *plan);

/* Whether error 'error' of EVPN request 'req' is no failure: what exists
 * with --may-exist, or what is absent from an existing VNI with
 * --if-exists.  'vni_exists' says whether the VNI is configured. */
bool evpn_batch_tolerated(int error, bool may_exist, bool if_exists,
                          bool vni_exists);

#endif /* SWITCHD_EVPN_BATCH_H */
