#include <config.h>

#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "output.h"

int
build_monitor(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__Monitor init = VSWITCH__MONITOR__INIT;
    Vswitch__Monitor *m = build_alloc(b, &init, sizeof init);

    if (!m) {
        return ENOMEM;
    }
    for (size_t i = 0; i < argc; i++) {
        protobuf_c_boolean *flag = (!strcmp(argv[i], "fdb") ? &m->fdb
                                    : !strcmp(argv[i], "ports") ? &m->ports
                                    : !strcmp(argv[i], "vnis") ? &m->vnis
                                    : !strcmp(argv[i], "flows") ? &m->flows
                                    : !strcmp(argv[i], "--initial")
                                    ? &m->initial : NULL);

        if (!flag) {
            return build_invalid(b, "monitor: unknown argument '%s' "
                                 "(fdb, ports, vnis, flows or --initial)",
                                 argv[i]);
        }
        if (*flag) {
            return build_invalid(b, "monitor: '%s' given twice", argv[i]);
        }
        *flag = true;
        m->has_fdb = m->fdb;
        m->has_ports = m->ports;
        m->has_vnis = m->vnis;
        m->has_flows = m->flows;
        m->has_initial = m->initial;
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_MONITOR;
    b->request.monitor = m;
    return 0;
}

/* One line, either way: a field is named once, for both. */
struct line {
    struct output *json;        /* NULL: words on 'text'. */
    FILE *text;
};

static void
put_string(struct line *l, const char *key, const char *value)
{
    if (!value) {
        return;
    }
    if (l->json) {
        output_string(l->json, key, NULL, value);
    } else {
        fprintf(l->text, " %s=%s", key, value);
    }
}

static void
put_uint(struct line *l, const char *key, bool has, uint64_t value)
{
    if (!has) {
        return;
    }
    if (l->json) {
        output_uint(l->json, key, NULL, value);
    } else {
        fprintf(l->text, " %s=%"PRIu64, key, value);
    }
}

int
monitor_print_event(FILE *stream, const Vswitch__MonitorEvent *e, bool json)
{
    struct line l = { json ? output_create(stream, OUTPUT_JSON) : NULL,
                      stream };
    double time = (double) e->time_us / 1e6;
    char cookie[32];

    if (json && !l.json) {
        return ENOMEM;
    }
    if (l.json) {
        output_uint(l.json, "seq", NULL, e->seq);
        output_double(l.json, "time", NULL, time, 3);
        output_string(l.json, "kind", NULL, e->kind);
        put_string(&l, "action", e->action);
    } else {
        fprintf(stream, "%"PRIu64" %.3f %s %s", e->seq, time, e->kind,
                e->action ? e->action : "-");
    }
    put_uint(&l, "vni", e->has_vni, e->vni);
    put_string(&l, "mac", e->mac);
    put_string(&l, "type", e->type);
    put_string(&l, "port", e->port);
    put_string(&l, "remote", e->remote);
    put_string(&l, "from_port", e->from_port);
    put_string(&l, "from_remote", e->from_remote);
    put_string(&l, "name", e->name);
    put_string(&l, "port_type", e->port_type);
    put_uint(&l, "table", e->has_table, e->table);
    put_uint(&l, "priority", e->has_priority, e->priority);
    snprintf(cookie, sizeof cookie, "0x%"PRIx64, e->cookie);
    put_string(&l, "cookie", e->has_cookie ? cookie : NULL);
    put_string(&l, "match", e->match);
    put_string(&l, "actions", e->actions);
    put_uint(&l, "count", e->has_count, e->count);
    put_uint(&l, "first_seq", e->has_first_seq, e->first_seq);
    if (l.json) {
        int error = output_finish(l.json);

        /* The printer says EIO for any failed write; a reader gone is
         * the end of the monitor, not an error. */
        return error == EIO && errno == EPIPE ? EPIPE : error;
    }
    fputc('\n', stream);
    return fflush(stream) ? errno : 0;
}

/* Prints the events of response 'r'.  Returns true to go on reading;
 * else sets '*status'. */
static bool
take_response(const Vswitch__Response *r, void *json_, int *status)
{
    bool json = *(const bool *) json_;

    for (size_t i = 0; i < r->monitor->n_events; i++) {
        int error = monitor_print_event(stdout, r->monitor->events[i], json);

        if (error) {
            bool ended = client_stream_output_ended(error);

            if (!ended) {
                fprintf(stderr, "vswitch-ctl: monitor: cannot write: %s\n",
                        strerror(error));
            }
            *status = ended ? 0 : 1;
            return false;
        }
    }
    if (r->monitor->end) {
        fprintf(stderr, "monitor ended: %s\n", r->monitor->end);
        *status = 0;
        return false;
    }
    return true;
}

int
monitor_run(const char *socket, unsigned int timeout,
            const Vswitch__Request *request, bool json)
{
    return client_stream(socket, request, timeout, "monitor",
                         VSWITCH__RESPONSE__PAYLOAD_MONITOR, take_response,
                         &json);
}
