#ifndef SWITCHD_FLOW_STORE_H
#define SWITCHD_FLOW_STORE_H 1

#include <stdbool.h>
#include <stddef.h>

/* The flow rules that survive a restart, those with no timeout, as flow
 * text that names ports by name.  They live in two files beside the
 * configuration file DB:
 *
 *   DB.flows      a snapshot: one rule a line;
 *   DB.flows.log  a journal of the changes made since, one record per
 *                 change, appended and synced as the change is saved.
 *
 * Saving a change writes what the change holds, not what the tables hold.
 * When the journal has grown past the snapshot (and past
 * FLOW_STORE_MIN_JOURNAL), a save first writes the snapshot anew
 * (temporary file, fsync, rename) and empties the journal.  Loading reads
 * the snapshot, then the journal: a record cut short at its end, by a
 * crash during a save that was therefore never acknowledged, is ignored
 * with a log line and cut off.  Replaying a journal over a snapshot that
 * already holds some of its changes (a crash between the rename and the
 * emptying) gives the same rules, since each operation sets or removes
 * one rule by its identity.
 *
 * The store keeps the saved rules in memory too: each rule's identity
 * (table, priority and match, as text) and its whole text.  A change is a
 * transaction of operations on identities.  flow_store_save() writes it
 * and may run in a worker thread, as it only reads the store's rules;
 * flow_store_apply() then puts it into the store, on the loop or in the
 * same worker.  Nothing may change the store in between, nor read it
 * while it is applied elsewhere than on the loop. */

#define FLOW_STORE_MIN_JOURNAL (1u << 20)

struct flow_store;
struct flow_store_txn;

/* Returns a store for the configuration file 'db_path' (copied), holding
 * no rules until flow_store_load().  flow_store_destroy() accepts NULL. */
struct flow_store *flow_store_create(const char *db_path);
void flow_store_destroy(struct flow_store *);

/* Reads the saved rules into the store, replacing what it held.  Missing
 * files hold no rules.  Returns 0, or an errno value with a one-line
 * reason in 'error' if a file cannot be read or is not one of ours. */
int flow_store_load(struct flow_store *, char *error, size_t error_size);

/* Forgets the rules in memory, as if none had been saved; the files stay
 * until the next save compacts them. */
void flow_store_clear(struct flow_store *);

/* Says that the files do not hold the rules in memory (they were not
 * read, and the rules were set by flow_store_apply() alone): the next
 * save writes them whole. */
void flow_store_set_stale(struct flow_store *);

size_t flow_store_count(const struct flow_store *);

/* Returns the text of the rule saved under identity 'id', or NULL. */
const char *flow_store_find(const struct flow_store *, const char *id);

/* Calls 'cb' with the identity and the text of every rule saved, in no
 * order. */
void flow_store_for_each(const struct flow_store *,
                         void (*cb)(const char *id, const char *text,
                                    void *aux),
                         void *aux);

/* A transaction: operations applied in order.  The store copies the
 * strings.  flow_store_txn_destroy() accepts NULL. */
struct flow_store_txn *flow_store_txn_create(void);
void flow_store_txn_destroy(struct flow_store_txn *);
void flow_store_txn_set(struct flow_store_txn *, const char *id,
                        const char *text);
void flow_store_txn_remove(struct flow_store_txn *, const char *id);
void flow_store_txn_clear(struct flow_store_txn *);   /* Removes all. */
bool flow_store_txn_is_empty(const struct flow_store_txn *);

/* Writes 'txn' durably (see above).  Returns 0, or an errno value with a
 * reason in 'error'; on failure the rules saved are still those before
 * the transaction, and the next save writes them whole. */
int flow_store_save(struct flow_store *, const struct flow_store_txn *,
                    char *error, size_t error_size);

/* Puts 'txn', saved, into the store's rules. */
void flow_store_apply(struct flow_store *, const struct flow_store_txn *);

#endif /* switchd/flow-store.h */
