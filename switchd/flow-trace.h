#ifndef SWITCHD_FLOW_TRACE_H
#define SWITCHD_FLOW_TRACE_H 1

#include <stddef.h>

#include "vswitch.pb-c.h"

struct bridge;

/* trace: runs the frame that 't' describes (a flow, or a frame and its
 * input port) through the bridge's tables with dp_trace(), changing
 * nothing, and answers with each table visited, where the frame would go
 * and why it would be dropped.  Returns STATUS_OK or another status with a
 * reason in 'error'. */
Vswitch__Status flow_trace(struct bridge *, const Vswitch__Trace *t,
                           long long now_ms, Vswitch__Response *resp,
                           char *error, size_t error_size);

#endif /* switchd/flow-trace.h */
