#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "fixture.h"
#include "output.h"
#include "print.h"
#include "util.h"

/* vswitch-ctl's flow commands: reading flow files and captures into
 * requests, and printing the answers. */

static char file[64];

static void
setup(void)
{
    int fd;

    snprintf(file, sizeof file, "/tmp/check-build-flows-XXXXXX");
    fd = mkstemp(file);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void
teardown(void)
{
    unlink(file);
}

/* Builds command 'build' from the 'argc' arguments of 'argv' into 'b'. */
static int
run(build_func *build, struct build *b, size_t argc, ...)
{
    char *argv[8];
    va_list args;

    va_start(args, argc);
    for (size_t i = 0; i < argc; i++) {
        argv[i] = va_arg(args, char *);
    }
    va_end(args);
    build_init(b);
    return build(b, argv, argc);
}

START_TEST(test_a_flow_file_loses_comments_and_blank_lines)
{
    struct build b;
    const Vswitch__FlowLines *f;

    fixture_write_file(file, "# rules\n"
                             "priority=1,actions=drop\n"
                             "\n"
                             "   # indented comment\n"
                             "\t\n"
                             "priority=2,actions=normal\r\n"
                             "priority=3,actions=flood");
    ck_assert_int_eq(run(build_add_flows, &b, 1, file), 0);
    ck_assert_int_eq(b.request.command_case,
                     VSWITCH__REQUEST__COMMAND_ADD_FLOWS);
    f = b.request.add_flows;
    ck_assert_uint_eq(f->n_lines, 3);
    ck_assert_uint_eq(f->n_line_numbers, 3);
    ck_assert_str_eq(f->lines[0], "priority=1,actions=drop");
    ck_assert_str_eq(f->lines[1], "priority=2,actions=normal");
    ck_assert_str_eq(f->lines[2], "priority=3,actions=flood");
    ck_assert_uint_eq(f->line_numbers[0], 2);
    ck_assert_uint_eq(f->line_numbers[1], 6);
    ck_assert_uint_eq(f->line_numbers[2], 7);
    build_destroy(&b);
}
END_TEST

START_TEST(test_a_flow_file_must_be_text_and_exist)
{
    struct build b;
    FILE *stream = fopen(file, "w");

    fwrite("priority=1\0,actions=drop\n", 1, 25, stream);
    fclose(stream);
    ck_assert_int_eq(run(build_replace_flows, &b, 1, file), EINVAL);
    ck_assert_msg(strstr(b.error, "NUL byte"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_diff_flows, &b, 1, "/nonexistent/flows"),
                     EINVAL);
    ck_assert_msg(strstr(b.error, "/nonexistent/flows: No such file"), "%s",
                  b.error);
    build_destroy(&b);
}
END_TEST

START_TEST(test_strict_is_the_only_option_of_mod_and_del)
{
    struct build b;

    ck_assert_int_eq(run(build_mod_flows, &b, 2, "--strict", "tcp,"
                         "actions=drop"), 0);
    ck_assert(b.request.mod_flows->strict);
    ck_assert_str_eq(b.request.mod_flows->flow, "tcp,actions=drop");
    build_destroy(&b);
    ck_assert_int_eq(run(build_del_flows, &b, 0), 0);
    ck_assert_ptr_null(b.request.del_flows->flow);
    ck_assert(!b.request.del_flows->strict);
    build_destroy(&b);
    ck_assert_int_eq(run(build_del_flows, &b, 1, "--strict"), EINVAL);
    ck_assert_msg(strstr(b.error, "--strict needs a flow"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_dump_flows, &b, 2, "--loose", "tcp"), EINVAL);
    ck_assert_msg(strstr(b.error, "'--loose'"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_mod_flows, &b, 2, "--strict", "--strict"),
                     EINVAL);
    build_destroy(&b);
}
END_TEST

START_TEST(test_trace_takes_a_flow_or_a_frame_of_a_capture)
{
    char path[4096];
    const char *top = getenv("top_srcdir");
    struct fixture_frame *frames;
    size_t n = fixture_pcap_read("kernel-vxlan-ipv4.pcap", &frames);
    struct build b;

    ck_assert_uint_ge(n, 2);
    snprintf(path, sizeof path, "%s/tests/data/kernel-vxlan-ipv4.pcap",
             top ? top : ".");
    ck_assert_int_eq(run(build_trace, &b, 1, "in_port=tap0,tcp"), 0);
    ck_assert_str_eq(b.request.trace->flow, "in_port=tap0,tcp");
    ck_assert(!b.request.trace->has_frame);
    build_destroy(&b);

    ck_assert_int_eq(run(build_trace, &b, 5, "--pcap", path, "--frame", "2",
                         "in_port=vtep0"), 0);
    ck_assert_str_eq(b.request.trace->in_port, "vtep0");
    ck_assert_uint_eq(b.request.trace->frame.len, frames[1].len);
    ck_assert_mem_eq(b.request.trace->frame.data, frames[1].data,
                     frames[1].len);
    build_destroy(&b);

    ck_assert_int_eq(run(build_trace, &b, 5, "--pcap", path, "--frame",
                         "100000", "in_port=vtep0"), EINVAL);
    ck_assert_msg(strstr(b.error, "not 100000"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_trace, &b, 3, "--pcap", path, "tcp"), EINVAL);
    ck_assert_msg(strstr(b.error, "in_port=PORT"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_trace, &b, 3, "--frame", "2", "tcp"), EINVAL);
    ck_assert_msg(strstr(b.error, "--frame needs --pcap"), "%s", b.error);
    build_destroy(&b);
    ck_assert_int_eq(run(build_trace, &b, 3, "--pcap", file,
                         "in_port=tap0"), EINVAL);
    build_destroy(&b);
    fixture_frames_free(frames, n);
}
END_TEST

/* Prints 'resp' with 'print' in 'format' into a string the caller
 * frees; '*status' gets what the printer says the exit status is. */
static char *
print_to_string(print_func *print, const Vswitch__Response *resp,
                enum output_format format, int *status)
{
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream(&text, &size);
    struct output *out = output_create(stream, format);
    struct print_context ctx = { resp, "sock", 0, status };

    *status = 0;
    print(out, &ctx);
    ck_assert_int_eq(output_finish(out), 0);
    fclose(stream);
    return text;
}

START_TEST(test_dump_flows_prints_as_ovs_ofctl_and_as_json)
{
    Vswitch__FlowStats f = VSWITCH__FLOW_STATS__INIT;
    Vswitch__FlowStats *flows[] = { &f };
    Vswitch__FlowList l = VSWITCH__FLOW_LIST__INIT;
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    int status;
    char *text;

    f.priority = 100;
    f.cookie = 0x5;
    f.duration_ms = 12345;
    f.n_packets = 4;
    f.n_bytes = 392;
    f.idle_age_ms = 1999;
    f.idle_timeout = 30;
    f.match = "priority=100,tcp,in_port=tap0,tp_dst=22";
    f.actions = "drop";
    l.flows = flows;
    l.n_flows = 1;
    resp.payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOWS;
    resp.flows = &l;
    text = print_to_string(print_flows, &resp, OUTPUT_TABLE, &status);
    ck_assert_str_eq(text, " cookie=0x5, duration=12.345s, table=0, "
                     "n_packets=4, n_bytes=392, idle_timeout=30, "
                     "idle_age=1, priority=100,tcp,in_port=tap0,tp_dst=22 "
                     "actions=drop\n");
    free(text);
    text = print_to_string(print_flows, &resp, OUTPUT_JSON, &status);
    ck_assert_str_eq(text, "{\"flows\": [{\"table\": 0, \"priority\": 100, "
                     "\"cookie\": \"0x5\", \"duration\": 12.345, "
                     "\"n_packets\": 4, \"n_bytes\": 392, \"idle_age\": 1, "
                     "\"idle_timeout\": 30, \"hard_timeout\": 0, "
                     "\"match\": \"priority=100,tcp,in_port=tap0,tp_dst=22\", "
                     "\"actions\": \"drop\"}]}\n");
    free(text);
}
END_TEST

START_TEST(test_diff_flows_exits_1_when_there_are_differences)
{
    char *lines[] = { "-priority=1 actions=drop" };
    Vswitch__FlowDiff d = VSWITCH__FLOW_DIFF__INIT;
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    int status;
    char *text;

    resp.payload_case = VSWITCH__RESPONSE__PAYLOAD_FLOW_DIFF;
    resp.flow_diff = &d;
    text = print_to_string(print_flow_diff, &resp, OUTPUT_TABLE, &status);
    ck_assert_str_eq(text, "");
    ck_assert_int_eq(status, 0);
    free(text);
    d.lines = lines;
    d.n_lines = 1;
    text = print_to_string(print_flow_diff, &resp, OUTPUT_TABLE, &status);
    ck_assert_str_eq(text, "-priority=1 actions=drop\n");
    ck_assert_int_eq(status, 1);
    free(text);
}
END_TEST

START_TEST(test_trace_prints_tables_outputs_and_the_result)
{
    char *notes[] = { "dropped: flow_drop" };
    Vswitch__TraceStep s0 = VSWITCH__TRACE_STEP__INIT;
    Vswitch__TraceStep s1 = VSWITCH__TRACE_STEP__INIT;
    Vswitch__TraceStep *steps[] = { &s0, &s1 };
    Vswitch__TraceOutput o = VSWITCH__TRACE_OUTPUT__INIT;
    Vswitch__TraceOutput *outputs[] = { &o };
    Vswitch__TraceReply t = VSWITCH__TRACE_REPLY__INIT;
    Vswitch__Response resp = VSWITCH__RESPONSE__INIT;
    int status;
    char *text;

    s0.rule = "priority=5,tcp";
    s0.actions = "resubmit(,1)";
    s1.table = 1;
    s1.depth = 1;
    s1.actions = "";
    s1.notes = notes;
    s1.n_notes = 1;
    o.remote = "172.31.0.2";
    o.has_vni = true;
    o.vni = 5000;
    t.steps = steps;
    t.n_steps = 2;
    t.outputs = outputs;
    t.n_outputs = 1;
    resp.payload_case = VSWITCH__RESPONSE__PAYLOAD_TRACE;
    resp.trace = &t;
    text = print_to_string(print_trace, &resp, OUTPUT_JSON, &status);
    ck_assert_str_eq(text, "{\"tables\": [{\"table\": 0, \"rule\": "
                     "\"priority=5,tcp\", \"actions\": \"resubmit(,1)\", "
                     "\"depth\": 0, \"notes\": []}, {\"table\": 1, "
                     "\"rule\": null, \"actions\": \"\", \"depth\": 1, "
                     "\"notes\": [\"dropped: flow_drop\"]}], \"outputs\": "
                     "[{\"remote\": \"172.31.0.2\", \"vni\": 5000}], "
                     "\"drop\": null}\n");
    free(text);
    text = print_to_string(print_trace, &resp, OUTPUT_TABLE, &status);
    ck_assert_str_eq(text, "table 0: priority=5,tcp\n"
                     "    actions=resubmit(,1)\n"
                     "    table 1: no rule matched\n"
                     "        -> dropped: flow_drop\n"
                     "\n"
                     "Outputs: remote 172.31.0.2 vni 5000\n"
                     "Result: forwarded\n");
    free(text);

    /* A copy that went out and another dropped (a flood that could not
     * reach the underlay): both said. */
    t.drop = "no_tunnel";
    text = print_to_string(print_trace, &resp, OUTPUT_TABLE, &status);
    ck_assert_ptr_nonnull(strstr(text, "Outputs: remote 172.31.0.2 vni 5000\n"
                                       "Result: forwarded, a copy dropped "
                                       "(no_tunnel)\n"));
    free(text);
}
END_TEST

static Suite *
build_flows_suite(void)
{
    Suite *s = suite_create("build-flows");

    fixture_add_case(s, "a flow file loses comments and blank lines",
                     test_a_flow_file_loses_comments_and_blank_lines, setup,
                     teardown);
    fixture_add_case(s, "a flow file must be text and exist",
                     test_a_flow_file_must_be_text_and_exist, setup,
                     teardown);
    fixture_add_case(s, "--strict is the only option of mod and del",
                     test_strict_is_the_only_option_of_mod_and_del, NULL,
                     NULL);
    fixture_add_case(s, "trace takes a flow or a frame of a capture",
                     test_trace_takes_a_flow_or_a_frame_of_a_capture, setup,
                     teardown);
    fixture_add_case(s, "dump-flows prints as ovs-ofctl and as JSON",
                     test_dump_flows_prints_as_ovs_ofctl_and_as_json, NULL,
                     NULL);
    fixture_add_case(s, "diff-flows exits 1 when there are differences",
                     test_diff_flows_exits_1_when_there_are_differences,
                     NULL, NULL);
    fixture_add_case(s, "trace prints tables, outputs and the result",
                     test_trace_prints_tables_outputs_and_the_result, NULL,
                     NULL);
    return s;
}

int
main(void)
{
    return fixture_run(build_flows_suite());
}
