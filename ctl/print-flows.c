#include <config.h>

#include "print.h"

#include <inttypes.h>
#include <stdio.h>

/* Printing the answers of the flow commands.  dump-flows and trace print
 * text for people in the manner of ovs-ofctl and ofproto/trace, and the
 * same fields as JSON for scripts, each field given once: the JSON tables
 * have no columns, and the text has no keys. */

void
print_flow_change(struct output *out, const struct print_context *ctx)
{
    const Vswitch__FlowChange *c = ctx->response->flow_change;

    /* ovs-ofctl prints nothing on success; scripts get the counts. */
    output_uint(out, "added", NULL, c->added);
    output_uint(out, "modified", NULL, c->modified);
    output_uint(out, "deleted", NULL, c->deleted);
}

static void
print_flow(struct output *out, const Vswitch__FlowStats *f)
{
    char cookie[32];
    double duration = (double) f->duration_ms / 1000;
    uint64_t idle_age = f->idle_age_ms / 1000;

    snprintf(cookie, sizeof cookie, "0x%"PRIx64, f->cookie);
    output_begin_row(out);
    output_uint(out, "table", NULL, f->table);
    output_uint(out, "priority", NULL, f->priority);
    output_string(out, "cookie", NULL, cookie);
    output_double(out, "duration", NULL, duration, 3);
    output_uint(out, "n_packets", NULL, f->n_packets);
    output_uint(out, "n_bytes", NULL, f->n_bytes);
    output_uint(out, "idle_age", NULL, idle_age);
    output_uint(out, "idle_timeout", NULL, f->idle_timeout);
    output_uint(out, "hard_timeout", NULL, f->hard_timeout);
    output_string(out, "match", NULL, f->match);
    output_string(out, "actions", NULL, f->actions);
    output_end_row(out);
}

static void
print_flow_text(struct output *out, const Vswitch__FlowStats *f)
{
    output_text(out, " cookie=0x%"PRIx64", duration=%.3fs, table=%"PRIu32
                ", n_packets=%"PRIu64", n_bytes=%"PRIu64",", f->cookie,
                (double) f->duration_ms / 1000, f->table, f->n_packets,
                f->n_bytes);
    if (f->idle_timeout) {
        output_text(out, " idle_timeout=%"PRIu32",", f->idle_timeout);
    }
    if (f->hard_timeout) {
        output_text(out, " hard_timeout=%"PRIu32",", f->hard_timeout);
    }
    output_text(out, " idle_age=%"PRIu64",%s%s actions=%s\n",
                f->idle_age_ms / 1000, *f->match ? " " : "", f->match,
                f->actions);
}

void
print_flows(struct output *out, const struct print_context *ctx)
{
    const Vswitch__FlowList *l = ctx->response->flows;

    output_begin_table(out, "flows", NULL);
    for (size_t i = 0; i < l->n_flows; i++) {
        print_flow(out, l->flows[i]);
    }
    output_end_table(out);
    for (size_t i = 0; i < l->n_flows; i++) {
        print_flow_text(out, l->flows[i]);
    }
}

void
print_flow_diff(struct output *out, const struct print_context *ctx)
{
    const Vswitch__FlowDiff *d = ctx->response->flow_diff;

    output_begin_list(out, "differences", NULL);
    for (size_t i = 0; i < d->n_lines; i++) {
        output_string(out, NULL, NULL, d->lines[i]);
    }
    output_end_list(out);
    for (size_t i = 0; i < d->n_lines; i++) {
        output_text(out, "%s\n", d->lines[i]);
    }

    /* As diff(1) and ovs-ofctl diff-flows: 1 when they differ. */
    *ctx->exit_status = d->n_lines ? 1 : 0;
}

static void
print_step(struct output *out, const Vswitch__TraceStep *s)
{
    output_begin_row(out);
    output_uint(out, "table", NULL, s->table);
    if (s->rule) {
        output_string(out, "rule", NULL, s->rule);
    } else {
        output_null(out, "rule", NULL);
    }
    output_string(out, "actions", NULL, s->actions);
    output_uint(out, "depth", NULL, s->depth);
    output_begin_list(out, "notes", NULL);
    for (size_t i = 0; i < s->n_notes; i++) {
        output_string(out, NULL, NULL, s->notes[i]);
    }
    output_end_list(out);
    output_end_row(out);
}

static void
print_step_text(struct output *out, const Vswitch__TraceStep *s)
{
    int indent = (int) (s->depth > 16 ? 16 : s->depth) * 4;

    if (s->rule) {
        output_text(out, "%*stable %"PRIu32": %s\n%*s    actions=%s\n",
                    indent, "", s->table, *s->rule ? s->rule : "(any)",
                    indent, "", s->actions);
    } else {
        output_text(out, "%*stable %"PRIu32": no rule matched\n", indent,
                    "", s->table);
    }
    for (size_t i = 0; i < s->n_notes; i++) {
        output_text(out, "%*s    -> %s\n", indent, "", s->notes[i]);
    }
}

static void
print_output(struct output *out, const Vswitch__TraceOutput *o)
{
    output_begin_row(out);
    if (o->remote) {
        output_string(out, "remote", NULL, o->remote);
        output_uint(out, "vni", NULL, o->vni);
    } else {
        output_string(out, "port", NULL, o->port ? o->port : "?");
    }
    output_end_row(out);
}

void
print_trace(struct output *out, const struct print_context *ctx)
{
    const Vswitch__TraceReply *t = ctx->response->trace;

    output_begin_table(out, "tables", NULL);
    for (size_t i = 0; i < t->n_steps; i++) {
        print_step(out, t->steps[i]);
    }
    output_end_table(out);
    output_begin_table(out, "outputs", NULL);
    for (size_t i = 0; i < t->n_outputs; i++) {
        print_output(out, t->outputs[i]);
    }
    output_end_table(out);
    if (t->drop) {
        output_string(out, "drop", NULL, t->drop);
    } else {
        output_null(out, "drop", NULL);
    }

    for (size_t i = 0; i < t->n_steps; i++) {
        print_step_text(out, t->steps[i]);
    }
    output_text(out, "\nOutputs:");
    for (size_t i = 0; i < t->n_outputs; i++) {
        const Vswitch__TraceOutput *o = t->outputs[i];

        if (o->remote) {
            output_text(out, "%s remote %s vni %"PRIu32, i ? "," : "",
                        o->remote, o->vni);
        } else {
            output_text(out, "%s %s", i ? "," : "", o->port ? o->port : "?");
        }
    }
    output_text(out, "%s\n", t->n_outputs ? "" : " none");
    if (t->drop && t->n_outputs) {
        /* Copies went out, and one was dropped on its way elsewhere. */
        output_text(out, "Result: forwarded, a copy dropped (%s)\n",
                    t->drop);
    } else if (t->drop) {
        output_text(out, "Result: dropped (%s)\n", t->drop);
    } else {
        output_text(out, "Result: %s\n", t->n_outputs ? "forwarded"
                                                     : "no output");
    }
}
