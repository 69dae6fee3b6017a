#ifndef SWITCHD_CONFIG_EDIT_H
#define SWITCHD_CONFIG_EDIT_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

struct port_args;

/* Changes to a configuration, one function per command.  Each checks the
 * change against the rest of the configuration and either makes it or
 * leaves 'config' exactly as it was and returns why not: the daemon edits a
 * copy, saves it, and only then puts it into effect, so a refused or failed
 * command changes nothing anywhere.
 *
 * Every function returns VSWITCH__STATUS__STATUS_OK or an error status with
 * a one-line reason in 'error'.  '*changed' (if not NULL) tells whether the
 * configuration is now different, which it is not for an idempotent
 * --may-exist or --if-exists request that found its work done. */

struct config_edit {
    Vswitch__Config *config;    /* Being edited; memory from malloc(). */
    bool may_exist;
    bool if_exists;
    bool changed;
    char *error;
    size_t error_size;
};

Vswitch__Status config_edit_add_port(struct config_edit *,
                                     const Vswitch__PortConfig *);
Vswitch__Status config_edit_del_port(struct config_edit *, const char *name);
Vswitch__Status config_edit_set_port(struct config_edit *,
                                     const Vswitch__SetPort *);
Vswitch__Status config_edit_add_vni(struct config_edit *,
                                    const Vswitch__VniConfig *);
Vswitch__Status config_edit_set_vni(struct config_edit *,
                                    const Vswitch__VniConfig *);
Vswitch__Status config_edit_del_vni(struct config_edit *, uint32_t vni);
Vswitch__Status config_edit_bind(struct config_edit *, const char *port,
                                 uint32_t vni);
Vswitch__Status config_edit_unbind(struct config_edit *, const char *port);
Vswitch__Status config_edit_fdb_add(struct config_edit *,
                                    const Vswitch__FdbAdd *);
Vswitch__Status config_edit_fdb_del(struct config_edit *,
                                    const Vswitch__FdbDel *);

/* Applies the commands of 'batch' in turn, each with its own may_exist and
 * if_exists or those of 'e'.  On an error the reason names the request's
 * line, and 'e->config' holds the changes of the lines before it: the
 * caller drops the copy.  'unmatched' (as many as commands) tells which
 * fdb-del found no static entry, so that the caller deletes a learned one
 * or refuses (neither is in the configuration). */
Vswitch__Status config_edit_batch(struct config_edit *,
                                  const Vswitch__Batch *, bool *unmatched);

/* Rebuilds 'saved', a configuration read from disk, from nothing through
 * the checks and editing functions that requests go through, in an order
 * where everything a piece refers to exists, so that the daemon never runs
 * a configuration no requests could have made.  Returns STATUS_OK with the
 * rebuilt configuration in '*config' (the caller frees it with
 * vswitch__config__free_unpacked()), or an error status with a reason in
 * 'error' (STATUS_FAILED: out of memory) and '*config' NULL. */
Vswitch__Status config_edit_replay(const Vswitch__Config *saved,
                                   Vswitch__Config **config, char *error,
                                   size_t error_size);

/* Lookups that the daemon shares with the editing functions. */
Vswitch__PortConfig *config_find_port(const Vswitch__Config *,
                                      const char *name);
Vswitch__VniConfig *config_find_vni(const Vswitch__Config *, uint32_t vni);
const char *config_port_option(const Vswitch__PortConfig *,
                               const char *key);

/* Returns a deep copy of 'msg' made with malloc(), or NULL if memory is
 * short.  Free it with protobuf_c_message_free_unpacked(copy, NULL). */
void *config_clone(const ProtobufCMessage *msg);

/* Returns true if 'a' and 'b' encode to the same bytes. */
bool config_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* Returns true if ports 'a' and 'b' have the same options (kept sorted by
 * key, so in the same order). */
bool config_same_options(const Vswitch__PortConfig *a,
                         const Vswitch__PortConfig *b);

/* Fills in the name and options of 'args' from 'pc', whose strings it
 * points to (the rest is zeroed).  Returns false if memory is short.  Free
 * the arrays with config_free_port_args(). */
bool config_port_args(const Vswitch__PortConfig *pc, struct port_args *args);
void config_free_port_args(struct port_args *);

#endif /* switchd/config-edit.h */
