#include <config.h>

#include "dp-private.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "eth-addr.h"
#include "headers.h"
#include "inet.h"

/* What dp_trace() records as the datapath runs a frame with its side
 * effects off: the tables visited, the notes of their actions, the outputs
 * and the first drop. */

static struct dp_trace_step *
trace_step(struct dp *dp)
{
    struct dp_trace *t = dp->trace;

    return t->n_steps ? &t->steps[t->n_steps - 1] : NULL;
}

void
dp_trace_note(struct dp *dp, const char *format, ...)
{
    struct dp_trace_step *step = trace_step(dp);
    va_list args;

    if (!step) {
        return;
    }
    if (step->notes.length) {
        ds_put_char(&step->notes, '\n');
    }
    va_start(args, format);
    ds_put_format_valist(&step->notes, format, args);
    va_end(args);
}

static const char *
port_label(const struct dp *dp, uint32_t port_no, char *buf, size_t size)
{
    const struct flow_text_ports *ports = dp->trace_ports;
    const char *name = ports && ports->port_name
                       ? ports->port_name(ports->aux, port_no) : NULL;

    if (!name) {
        snprintf(buf, size, "%"PRIu32, port_no);
        name = buf;
    }
    return name;
}

static bool
trace_grow(void **array, size_t n, size_t size)
{
    void *bigger = realloc(*array, (n + 1) * size);

    if (!bigger) {
        return false;
    }
    *array = bigger;
    return true;
}

static void
trace_output(struct dp *dp, const struct dp_trace_output *out)
{
    struct dp_trace *t = dp->trace;

    if (trace_grow((void **) &t->outputs, t->n_outputs, sizeof *out)) {
        t->outputs[t->n_outputs++] = *out;
    }
}

/* Records that 'p' would leave through local port 'out', and frees it.
 * Kept out of line: the packet path only tests for it. */
void
dp_trace_local_output(struct dp *dp, const struct dp_port *out,
                   struct packet *p)
{
    if (out != dp->tunnel) {
        trace_output(dp, &(struct dp_trace_output) {
                         .port_no = out->port_no });
    }
    packet_free(p);
}

/* Records that 'p' would be encapsulated with 'vni' to 'dst', and frees
 * it. */
void
dp_trace_remote_output(struct dp *dp, uint32_t vni, const struct in6_addr *dst,
                    struct packet *p)
{
    trace_output(dp, &(struct dp_trace_output) {
                     .port_no = dp->tunnel->port_no, .remote = true,
                     .addr = *dst, .vni = vni });
    packet_free(p);
}

/* Records the first reason to drop. */
void
dp_trace_drop(struct dp *dp, enum dp_drop_reason reason)
{
    if (dp->trace->drop < 0) {
        dp->trace->drop = (int) reason;
    }
    dp_trace_note(dp, "dropped: %s", dp_drop_reason_name(reason));
}

void
dp_trace_mac_entry(struct dp *dp, const struct eth_header *eth,
                const struct mac_dest *dest)
{
    char mac[ETH_ADDR_STRLEN], addr[INET_ADDR_STRLEN], buf[16];

    eth_addr_format(&eth->eth_dst, mac);
    if (!dest) {
        dp_trace_note(dp, "normal: %s is %s", mac,
                   eth_addr_is_multicast(&eth->eth_dst) ? "multicast"
                                                        : "unknown");
    } else if (dest->type == MAC_DEST_REMOTE) {
        dp_trace_note(dp, "normal: %s is behind remote VTEP %s", mac,
                   inet_format(&dest->remote, addr));
    } else {
        dp_trace_note(dp, "normal: %s is on port %s", mac,
                   port_label(dp, dest->port_no, buf, sizeof buf));
    }
}

void
dp_trace_lookup(struct dp *dp, uint8_t table_id, unsigned int depth,
             const struct flow_rule *rule)
{
    struct dp_trace *t = dp->trace;

    if (trace_grow((void **) &t->steps, t->n_steps, sizeof *t->steps)) {
        struct dp_trace_step *step = &t->steps[t->n_steps++];

        *step = (struct dp_trace_step) { .table = table_id, .depth = depth,
                                         .rule = rule };
        ds_init(&step->notes);
    }
}

void
dp_trace_uninit(struct dp_trace *trace)
{
    if (trace) {
        for (size_t i = 0; i < trace->n_steps; i++) {
            ds_destroy(&trace->steps[i].notes);
        }
        free(trace->steps);
        free(trace->outputs);
        memset(trace, 0, sizeof *trace);
        trace->drop = -1;
    }
}

