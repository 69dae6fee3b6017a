#ifndef CTL_PRINT_H
#define CTL_PRINT_H 1

#include "output.h"
#include "vswitch.pb-c.h"

/* Printing the responses of vswitch-ctl's commands, each field once,
 * through the output module (ctl/output.h), so that the table and JSON
 * layouts cannot drift apart. */

struct print_context {
    const Vswitch__Response *response;  /* Carries the payload the
                                         * command expects. */
    const char *socket;                 /* Where the daemon answered. */
    double rtt_ms;                      /* How fast it answered. */
    int *exit_status;                   /* 0, unless the printer says
                                         * otherwise (diff-flows: 1 when
                                         * the tables differ). */
};

/* Prints the payload of 'ctx->response' to 'out'.  The caller has checked
 * that the response carries the payload the command's print function
 * expects; the rest of the response is trusted only as far as protobuf-c
 * checked it (required fields present, lengths in bounds). */
typedef void print_func(struct output *out, const struct print_context *);

print_func print_show;
print_func print_ports;
print_func print_vnis;
print_func print_fdb;
print_func print_fdb_flush;
print_func print_evpn_flush;
print_func print_fdb_stats;
print_func print_stats;
print_func print_version;
print_func print_ping;
print_func print_log_level;
print_func print_flow_change;
print_func print_flows;
print_func print_flow_diff;
print_func print_trace;

#endif /* ctl/print.h */
