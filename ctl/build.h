#ifndef CTL_BUILD_H
#define CTL_BUILD_H 1

#include <stddef.h>

#include "request.h"
#include "vswitch.pb-c.h"

/* Turning a command's arguments into a Request.
 *
 * A struct build owns every piece of the request it holds: submessages,
 * option arrays and the copies of arguments split at '='.  Builders parse
 * only what the daemon cannot see (KEY=VALUE syntax, numbers, which keys
 * a command takes); the ranges and addresses are left to request_check(),
 * which the caller runs afterwards, so that the tool and the daemon judge
 * a value with the same code. */

struct build {
    Vswitch__Request request;
    void **allocs;              /* Everything to free with the request. */
    size_t n_allocs, allocs_cap;
    char error[REQUEST_ERROR_SIZE];     /* Why a builder failed. */
};

void build_init(struct build *);

/* Frees everything the request holds.  Accepts NULL. */
void build_destroy(struct build *);

/* Returns 'size' bytes, a copy of 'init', that 'b' frees with the
 * request; NULL if memory is short. */
void *build_alloc(struct build *b, const void *init, size_t size);

/* Returns a zeroed array of 'n' elements of 'size' bytes that 'b' frees,
 * or NULL. */
void *build_alloc_zeroed(struct build *b, size_t n, size_t size);

/* Makes 'b' own what 'child' holds (its request's pieces), so that
 * build_destroy(b) frees them; 'child' is left empty.  Returns 0 or
 * ENOMEM, when 'child' keeps them. */
int build_adopt(struct build *b, struct build *child);

/* Puts the reason, formatted, in 'b->error' and returns EINVAL: how a
 * builder refuses its arguments. */
int build_invalid(struct build *b, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Reads file 'name' ('-': standard input) into a string that 'b' owns,
 * refusing one of 16 MiB or more, or with a NUL byte.  Returns 0, EINVAL
 * with the reason in 'b->error', or ENOMEM. */
int build_read_file(struct build *b, const char *name, char **textp);

/* A builder fills in the command of 'b->request' from the 'argc'
 * arguments that follow the command's name, which the caller has already
 * counted against the command's minimum and maximum.  Returns 0, EINVAL
 * with a one-line reason in 'b->error', or ENOMEM.  The request points
 * into 'argv', which must outlive it. */
typedef int build_func(struct build *b, char *argv[], size_t argc);

build_func build_ping;
build_func build_version;
build_func build_set_log_level;
build_func build_get_log_level;
build_func build_show;
build_func build_add_port;
build_func build_del_port;
build_func build_set_port;
build_func build_list_ports;
build_func build_add_vni;
build_func build_set_vni;
build_func build_del_vni;
build_func build_list_vnis;
build_func build_bind_vni;
build_func build_unbind_vni;
build_func build_port_replay;
build_func build_fdb_show;
build_func build_fdb_add;
build_func build_fdb_del;
build_func build_fdb_flush;
build_func build_evpn_mac_add;
build_func build_evpn_mac_del;
build_func build_evpn_vtep_add;
build_func build_evpn_vtep_del;
build_func build_evpn_flush;
build_func build_fdb_stats;
build_func build_stats;
build_func build_add_flow;
build_func build_add_flows;
build_func build_mod_flows;
build_func build_del_flows;
build_func build_dump_flows;
build_func build_replace_flows;
build_func build_diff_flows;
build_func build_trace;

#endif /* ctl/build.h */
