#include <config.h>

/* libFuzzer target for the flow tables on the packet path: rules in front
 * of the learning switch, and a frame through them.  The input is flow
 * lines (ovs-ofctl syntax, ports by number: 1-3, 5 and 6 local, 4 the
 * VTEP), then a line "--", then the frame's bytes.  Lines that do not
 * parse are skipped.
 *
 * Beyond what every frame target checks (fuzz-dp.h), trace must agree
 * with forwarding: the frame traced from a VM's port, then received
 * there, must leave by the same ports the same number of times. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "flow-table.h"
#include "flow-text.h"
#include "fuzz-dp.h"
#include "packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RULES 16
#define MAX_LINE 512

static void
add_rules(struct dp *dp, const uint8_t *data, size_t size)
{
    struct flow_table *ft = dp_flow_table(dp);
    size_t n = 0;

    for (size_t i = 0; i < size && n < MAX_RULES; n++) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t len = (nl ? (size_t) (nl - data) : size) - i;
        char line[MAX_LINE];
        struct flow_spec spec;
        struct ds error = DS_EMPTY_INITIALIZER;

        if (len < sizeof line) {
            memcpy(line, data + i, len);
            line[len] = '\0';
            if (!flow_text_parse(line, FLOW_TEXT_ADD, NULL, &spec,
                                 &error)) {
                flow_table_add(ft, &spec, 0, NULL);
                flow_spec_uninit(&spec);
            }
        }
        ds_destroy(&error);
        i += len + 1;
    }
}

static void __attribute__((noreturn))
disagree(uint32_t port_no, size_t traced, uint64_t sent)
{
    fprintf(stderr, "trace says %zu frames to port %u, forwarding sent "
            "%llu\n", traced, port_no, (unsigned long long) sent);
    abort();
}

/* Traces then receives the frame on 'in_port' and compares where it went
 * (before learning changes the answer). */
static void
trace_then_receive(struct fuzz_dp *f, uint32_t in_port,
                   const uint8_t *frame, size_t len)
{
    struct packet *p = fuzz_dp_packet(f, frame, len);
    size_t traced[FUZZ_N_PORTS] = { 0 };
    uint64_t before[FUZZ_N_PORTS];
    struct dp_trace t;

    if (!p) {
        return;
    }
    if (dp_trace(f->dp, in_port, p, 0, NULL, &t)) {
        abort();
    }
    for (size_t i = 0; i < t.n_outputs; i++) {
        if (t.outputs[i].port_no >= FUZZ_N_PORTS) {
            abort();
        }
        traced[t.outputs[i].port_no]++;
    }
    dp_trace_uninit(&t);

    memcpy(before, f->n_sent, sizeof before);
    p = fuzz_dp_packet(f, frame, len);
    fuzz_dp_receive_one(f, in_port, p);
    for (uint32_t port = 0; port < FUZZ_N_PORTS; port++) {
        if (f->n_sent[port] - before[port] != traced[port]) {
            disagree(port, traced[port], f->n_sent[port] - before[port]);
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t separator[] = "\n--\n";
    const uint8_t *sep = memmem(data, size, separator, sizeof separator - 1);

    if (!sep) {
        return 0;
    }

    size_t rules_len = (size_t) (sep - data);
    const uint8_t *frame = sep + sizeof separator - 1;
    size_t frame_len = size - rules_len - (sizeof separator - 1);
    struct fuzz_dp *f = fuzz_dp_begin(0);

    f->any_vni = true;
    add_rules(f->dp, data, rules_len);
    trace_then_receive(f, FUZZ_PORT_VM, frame, frame_len);
    trace_then_receive(f, FUZZ_PORT_VM7, frame, frame_len);
    /* Twice: the second time the first one's source is learned, and the
     * exact-match cache holds the rules met. */
    trace_then_receive(f, FUZZ_PORT_VM, frame, frame_len);

    struct packet *p = fuzz_dp_packet(f, frame, frame_len);

    if (p) {
        fuzz_dp_receive_one(f, FUZZ_PORT_VTEP, p);
    }
    fuzz_dp_end(f);
    f->any_vni = false;
    return 0;
}
