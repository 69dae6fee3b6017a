#ifndef PROTO_REQUEST_H
#define PROTO_REQUEST_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vswitch.pb-c.h"

/* The checks of a request that need no state: syntax and ranges of VNIs,
 * MAC and IP addresses, port names, types and options.  vswitch-ctl runs
 * them before it sends a request, so that a typo gets a precise message
 * without a daemon; vswitchd runs them again on every request it receives,
 * since any program can talk to its socket.  Each returns true, or false
 * with a one-line reason in 'error'. */

#define REQUEST_ERROR_SIZE 256

bool request_check(const Vswitch__Request *, char *error, size_t size);

bool request_check_port_config(const Vswitch__PortConfig *, char *error,
                               size_t size);

bool request_check_vni_config(const Vswitch__VniConfig *, char *error,
                              size_t size);

/* Checks what only a VNI's whole configuration shows (a set-vni request
 * holds only what changes): learn=list needs a flood list. */
bool request_check_vni_whole(const Vswitch__VniConfig *, char *error,
                             size_t size);

/* Says whether BGP EVPN is the control plane of the VNI configured by
 * 'c'. */
bool request_vni_is_evpn(const Vswitch__VniConfig *c);

/* Says whether the VNI configured by 'c' learns from the remote VTEPs of
 * its flood list only: if told so, and by default when it has a list. */
bool request_vni_learns_from_list(const Vswitch__VniConfig *c);

bool request_check_static_mac(uint32_t vni, const char *mac,
                              const char *port, const char *remote,
                              char *error, size_t size);

/* A flow file's lines: as many line numbers as lines, if any. */
bool request_check_flow_lines(const Vswitch__FlowLines *, char *error,
                              size_t size);

/* A trace: a flow, or a frame of a sensible size with its input port. */
bool request_check_trace(const Vswitch__Trace *, char *error, size_t size);

/* A capture: a port, a filter of at most REQUEST_CAPTURE_FILTER_MAX
 * bytes, a count of 1 or more, a duration of 1 to
 * REQUEST_CAPTURE_DURATION_MAX seconds, a known direction. */
#define REQUEST_CAPTURE_FILTER_MAX 1024
#define REQUEST_CAPTURE_DURATION_MAX 86400
bool request_check_capture(const Vswitch__Capture *, char *error,
                           size_t size);

/* A batch holds the changes of the configuration (ports, VNIs, bindings,
 * static MACs), or else EVPN state alone, as BatchCommands.  These fill in '*req' (pointing into
 * 'cmd', flags and all) or '*cmd' (pointing into 'req'); each returns
 * false if the command is none a batch may hold. */
bool request_from_batch_command(const Vswitch__BatchCommand *cmd,
                                Vswitch__Request *req);
bool request_to_batch_command(const Vswitch__Request *req,
                              Vswitch__BatchCommand *cmd);

/* Says whether 'req' sets EVPN state (evpn-*), and whether 'batch' holds
 * such commands (its first one tells). */
bool request_is_evpn(const Vswitch__Request *req);
bool request_batch_is_evpn(const Vswitch__Batch *batch);

/* Returns the number that names request 'i' of 'batch' in messages, and
 * what such numbers count ("line" or "command"). */
unsigned int request_batch_line(const Vswitch__Batch *batch, size_t i);
const char *request_batch_unit(const Vswitch__Batch *batch);

/* Parses a VNI, 1 to 16777215, in decimal. */
bool request_parse_vni(const char *s, uint32_t *vni);

bool request_check_vni(uint32_t vni, char *error, size_t size);
bool request_check_port_name(const char *name, char *error, size_t size);

#endif /* proto/request.h */
