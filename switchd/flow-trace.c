#include <config.h>

#include "flow-trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "dp.h"
#include "dstring.h"
#include "flow.h"
#include "flow-rpc.h"
#include "flow-table.h"
#include "flow-text.h"
#include "inet.h"
#include "packet.h"
#include "xmalloc.h"

#define OK VSWITCH__STATUS__STATUS_OK
#define INVALID VSWITCH__STATUS__STATUS_INVALID
#define FAILED VSWITCH__STATUS__STATUS_FAILED

static Vswitch__TraceStep *
trace_step_msg(const struct dp_trace_step *s,
               const struct flow_text_ports *ports)
{
    Vswitch__TraceStep *m = xmalloc(sizeof *m);
    const char *notes = ds_cstr(&s->notes);
    size_t n = 0;

    vswitch__trace_step__init(m);
    m->table = s->table;
    m->depth = s->depth;
    if (s->rule) {
        struct ds ds = DS_EMPTY_INITIALIZER;

        flow_text_format_match(&ds, &s->rule->cr.match, s->rule->cr.priority,
                               ports);
        m->rule = ds_steal_cstr(&ds);
        flow_text_format_actions(&ds, s->rule->actions, ports);
        m->actions = ds_steal_cstr(&ds);
    } else {
        m->actions = xstrdup("");
    }
    for (const char *p = notes; *p; p++) {
        n += *p == '\n';
    }
    m->notes = xcalloc(n + 1, sizeof *m->notes);
    while (*notes) {
        const char *nl = strchr(notes, '\n');
        size_t len = nl ? (size_t) (nl - notes) : strlen(notes);

        m->notes[m->n_notes] = xmalloc(len + 1);
        memcpy(m->notes[m->n_notes], notes, len);
        m->notes[m->n_notes++][len] = '\0';
        notes += len + (nl != NULL);
    }
    return m;
}

static Vswitch__TraceOutput *
trace_output_msg(const struct dp_trace_output *o,
                 const struct flow_text_ports *ports)
{
    Vswitch__TraceOutput *m = xmalloc(sizeof *m);

    vswitch__trace_output__init(m);
    if (o->remote) {
        char addr[INET_ADDR_STRLEN];

        m->remote = xstrdup(inet_format(&o->addr, addr));
        m->has_vni = true;
        m->vni = o->vni;
    } else {
        const char *name = ports->port_name(ports->aux, o->port_no);
        char number[16];

        snprintf(number, sizeof number, "%u", o->port_no);
        m->port = xstrdup(name ? name : number);
    }
    return m;
}

static Vswitch__TraceReply *
trace_msg(const struct dp_trace *t, const struct flow_text_ports *ports)
{
    Vswitch__TraceReply *m = xmalloc(sizeof *m);

    vswitch__trace_reply__init(m);
    m->steps = xcalloc(t->n_steps + 1, sizeof *m->steps);
    for (size_t i = 0; i < t->n_steps; i++) {
        m->steps[m->n_steps++] = trace_step_msg(&t->steps[i], ports);
    }
    m->outputs = xcalloc(t->n_outputs + 1, sizeof *m->outputs);
    for (size_t i = 0; i < t->n_outputs; i++) {
        m->outputs[m->n_outputs++] = trace_output_msg(&t->outputs[i], ports);
    }
    if (t->drop >= 0) {
        m->drop = xstrdup(dp_drop_reason_name(t->drop));
    }
    return m;
}

/* Makes the frame that trace 't' describes, arriving on '*in_port'. */
static Vswitch__Status
trace_frame(struct bridge *b, const Vswitch__Trace *t,
            const struct flow_text_ports *ports, struct packet **pp,
            uint32_t *in_port, char *error, size_t error_size)
{
    struct packet *p = packet_alloc(bridge_packet_pool(b));

    if (!p) {
        snprintf(error, error_size, "no packet buffer free for the trace");
        return FAILED;
    }
    if (t->has_frame) {
        *in_port = bridge_port_no(b, t->in_port);
        if (!*in_port) {
            snprintf(error, error_size, "no port %s", t->in_port);
        } else if (packet_set_frame(p, t->frame.data, t->frame.len)) {
            snprintf(error, error_size, "a frame of %zu bytes does not fit",
                     t->frame.len);
            *in_port = 0;
        }
    } else {
        struct flow_spec spec;

        if (!flow_rpc_parse(t->flow, FLOW_TEXT_TRACE, ports, &spec, error,
                            error_size)) {
            *in_port = spec.match.key.in_port;
            if (!spec.match.mask.in_port
                || !bridge_port_name(b, *in_port)) {
                snprintf(error, error_size, "trace needs in_port= naming "
                         "a port that exists");
                *in_port = 0;
            } else if (flow_compose(p, &spec.match.key)) {
                snprintf(error, error_size, "the flow makes no frame");
                *in_port = 0;
            }
            flow_spec_uninit(&spec);
        }
    }
    if (!*in_port) {
        packet_free(p);
        return INVALID;
    }
    *pp = p;
    return OK;
}

Vswitch__Status
flow_trace(struct bridge *b, const Vswitch__Trace *t, long long now_ms,
           Vswitch__Response *resp, char *error, size_t error_size)
{
    struct flow_text_ports ports;
    struct dp_trace trace;
    struct packet *p;
    uint32_t in_port = 0;
    Vswitch__Status status;
    int err;

    bridge_flow_ports(b, &ports);
    status = trace_frame(b, t, &ports, &p, &in_port, error, error_size);
    bridge_reclaim_port_names(b);
    if (status != OK) {
        return status;
    }
    err = t->has_frame
          ? dp_trace_wire(bridge_dp(b), in_port, p, now_ms, &ports, &trace)
          : dp_trace(bridge_dp(b), in_port, p, now_ms, &ports, &trace);
    if (err) {
        snprintf(error, error_size, "trace: %s", strerror(err));
        return FAILED;
    }
    resp->payload_case = VSWITCH__RESPONSE__PAYLOAD_TRACE;
    resp->trace = trace_msg(&trace, &ports);
    dp_trace_uninit(&trace);
    return OK;
}
