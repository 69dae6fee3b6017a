#ifndef SWITCHD_FDB_DUMP_H
#define SWITCHD_FDB_DUMP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vswitch.pb-c.h"

struct mac_table;

/* The answer to fdb-show, made in steps so that the forwarding loop pays
 * only for a copy of the table, a slice at a time: fdb_dump_copy() copies
 * entries, and the names of the ports they point to, into flat arrays (on
 * the loop, since the table changes under forwarding); fdb_dump_build()
 * sorts and formats that copy, touching nothing else, so it may run in a
 * worker thread while the loop forwards. */

struct fdb_dump;

/* Returns the name of port 'port_no', or NULL if there is none. */
typedef const char *fdb_dump_port_name_cb(const void *aux, uint32_t port_no);

/* Returns a dump, empty yet, of the entries of 'vni' (every VNI if 0). */
struct fdb_dump *fdb_dump_create(uint32_t vni);

/* Copies about 'max' more entries of 'table', with their ages at 'now_ms',
 * and returns true once all of it is copied.  The table may change between
 * calls (see mac_table_dump_slice()).  The dump refers to nothing of the
 * table or of 'aux' afterwards. */
bool fdb_dump_copy(struct fdb_dump *, const struct mac_table *,
                   long long now_ms, size_t max, fdb_dump_port_name_cb *,
                   const void *aux);

/* Returns about how many bytes the dump holds once built, the answer
 * packed from it included: from the first copy on, for a table that does
 * not grow, no less than it will hold. */
size_t fdb_dump_size(const struct fdb_dump *);

/* Sorts the entries by VNI and MAC and returns them as a message that
 * lives, and is freed, with the dump (never with
 * vswitch__fdb_list__free_unpacked()).  Call at most once. */
Vswitch__FdbList *fdb_dump_build(struct fdb_dump *);

/* Frees the dump and the message built from it.  Accepts NULL. */
void fdb_dump_destroy(struct fdb_dump *);

#endif /* switchd/fdb-dump.h */
