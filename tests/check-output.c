#include <config.h>

#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "output.h"

/* Every test prints into memory and compares the exact bytes. */

static char *captured;
static size_t captured_len;
static FILE *stream;

static struct output *
start(enum output_format format)
{
    struct output *out;

    stream = open_memstream(&captured, &captured_len);
    ck_assert_ptr_nonnull(stream);
    out = output_create(stream, format);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* Finishes 'out', expecting 'error', and checks the bytes written. */
static void
expect(struct output *out, int error, const char *want)
{
    ck_assert_int_eq(output_finish(out), error);
    ck_assert_int_eq(fclose(stream), 0);
    ck_assert_str_eq(captured, want);
    free(captured);
}

static const char *const port_columns[] = {
    "NAME", "TYPE", "VNI", "OPTIONS", NULL,
};

/* One port row, printed the same way for both layouts. */
static void
print_port(struct output *out, const char *name, const char *type,
           const uint32_t *vni, const char *const *options, size_t n)
{
    output_begin_row(out);
    output_string(out, "name", "NAME", name);
    output_string(out, "type", "TYPE", type);
    if (vni) {
        output_uint(out, "vni", "VNI", *vni);
    } else {
        output_null(out, "vni", "VNI");
    }
    output_begin_object(out, "options", "OPTIONS");
    for (size_t i = 0; i < n; i++) {
        output_string(out, options[2 * i], NULL, options[2 * i + 1]);
    }
    output_end_object(out);
    output_end_row(out);
}

static void
print_ports(struct output *out)
{
    static const char *const vxlan[] = {
        "local_ip", "172.31.0.1", "dev", "eth0",
    };
    uint32_t vni = 5000;

    output_begin_table(out, "ports", port_columns);
    print_port(out, "tap0", "tap", &vni, NULL, 0);
    print_port(out, "vtep-long-name", "vxlan", NULL, vxlan, 2);
    output_end_table(out);
}

START_TEST(test_aligns_columns_to_the_widest_cell)
{
    struct output *out = start(OUTPUT_TABLE);

    print_ports(out);
    expect(out, 0,
           "NAME            TYPE   VNI   OPTIONS\n"
           "tap0            tap    5000  -\n"
           "vtep-long-name  vxlan  -     local_ip=172.31.0.1,dev=eth0\n");
}
END_TEST

START_TEST(test_aligns_columns_by_characters_not_bytes)
{
    struct output *out = start(OUTPUT_TABLE);
    uint32_t vni = 5000;

    output_begin_table(out, "ports", port_columns);
    print_port(out, "p\xc3\xa4p0", "pcap", &vni, NULL, 0);     /* päp0 */
    print_port(out, "\xe7\xbd\x91\xe5\x8f\xa3", "tap", &vni, NULL, 0);
    print_port(out, "bad\xe7\xbd", "tap", NULL, NULL, 0);     /* Cut. */
    print_port(out, "tap0", "tap", &vni, NULL, 0);
    output_end_table(out);
    /* The two CJK characters take two columns each. */
    expect(out, 0,
           "NAME   TYPE  VNI   OPTIONS\n"
           "p\xc3\xa4p0   pcap  5000  -\n"
           "\xe7\xbd\x91\xe5\x8f\xa3   tap   5000  -\n"
           "bad\xe7\xbd  tap   -     -\n"
           "tap0   tap   5000  -\n");
}
END_TEST

START_TEST(test_prints_the_same_fields_as_json)
{
    struct output *out = start(OUTPUT_JSON);

    print_ports(out);
    expect(out, 0,
           "{\"ports\": [{\"name\": \"tap0\", \"type\": \"tap\", "
           "\"vni\": 5000, \"options\": {}}, "
           "{\"name\": \"vtep-long-name\", \"type\": \"vxlan\", "
           "\"vni\": null, \"options\": {\"local_ip\": \"172.31.0.1\", "
           "\"dev\": \"eth0\"}}]}\n");
}
END_TEST

START_TEST(test_prints_only_the_header_of_an_empty_table)
{
    struct output *out = start(OUTPUT_TABLE);

    output_begin_table(out, "ports", port_columns);
    output_end_table(out);
    expect(out, 0, "NAME  TYPE  VNI  OPTIONS\n");

    out = start(OUTPUT_JSON);
    output_begin_table(out, "ports", port_columns);
    output_end_table(out);
    expect(out, 0, "{\"ports\": []}\n");
}
END_TEST

START_TEST(test_places_cells_by_column_not_by_order)
{
    static const char *const columns[] = { "A", "B", "C", NULL };
    struct output *out = start(OUTPUT_TABLE);

    output_begin_table(out, "rows", columns);
    output_begin_row(out);
    output_string(out, "c", "C", "third");
    output_string(out, "a", "A", "first");
    output_end_row(out);
    output_begin_row(out);
    output_string(out, "b", "B", "middle");
    output_end_row(out);
    output_begin_row(out);
    output_string(out, "a", "A", "x");
    output_end_row(out);
    output_end_table(out);
    /* Missing cells are blank, and no line ends in spaces. */
    expect(out, 0,
           "A      B       C\n"
           "first          third\n"
           "       middle\n"
           "x\n");
}
END_TEST

START_TEST(test_separates_tables_with_a_blank_line)
{
    static const char *const a[] = { "PORT", NULL };
    static const char *const b[] = { "VNI", "PORTS", NULL };
    struct output *out = start(OUTPUT_TABLE);

    output_begin_table(out, "ports", a);
    output_begin_row(out);
    output_string(out, "name", "PORT", "tap0");
    output_end_row(out);
    output_end_table(out);
    output_begin_table(out, "vnis", b);
    output_begin_row(out);
    output_uint(out, "vni", "VNI", 5000);
    output_begin_list(out, "ports", "PORTS");
    output_string(out, NULL, NULL, "tap0");
    output_string(out, NULL, NULL, "tap1");
    output_end_list(out);
    output_end_row(out);
    output_begin_row(out);
    output_uint(out, "vni", "VNI", 6000);
    output_begin_list(out, "ports", "PORTS");
    output_end_list(out);
    output_end_row(out);
    output_end_table(out);
    expect(out, 0,
           "PORT\n"
           "tap0\n"
           "\n"
           "VNI   PORTS\n"
           "5000  tap0,tap1\n"
           "6000  -\n");
}
END_TEST

/* A ports table whose counters live in a nested object in JSON but fill
 * columns of the row in the table layout, and a second table for people
 * only. */
static void
print_counters(struct output *out)
{
    static const char *const columns[] = { "PORT", "RX", "DROPS", NULL };
    static const char *const reasons[] = { "PORT", "REASON", NULL };

    output_begin_table(out, "ports", columns);
    output_begin_row(out);
    output_string(out, "name", "PORT", "tap0");
    output_begin_object(out, "counters", NULL);
    output_uint(out, "rx_packets", "RX", 12);
    output_uint(out, "rx_bytes", NULL, 3400);
    output_begin_object(out, "drops", NULL);
    output_uint(out, "too_big", NULL, 3);
    output_end_object(out);
    output_end_object(out);
    output_uint(out, NULL, "DROPS", 3);
    output_end_row(out);
    output_end_table(out);

    output_begin_table(out, NULL, reasons);
    output_begin_row(out);
    output_string(out, NULL, "PORT", "tap0");
    output_string(out, NULL, "REASON", "too_big");
    output_end_row(out);
    output_end_table(out);
}

START_TEST(test_keeps_each_field_to_its_layouts)
{
    struct output *out = start(OUTPUT_TABLE);

    print_counters(out);
    expect(out, 0,
           "PORT  RX  DROPS\n"
           "tap0  12  3\n"
           "\n"
           "PORT  REASON\n"
           "tap0  too_big\n");

    out = start(OUTPUT_JSON);
    print_counters(out);
    expect(out, 0,
           "{\"ports\": [{\"name\": \"tap0\", \"counters\": "
           "{\"rx_packets\": 12, \"rx_bytes\": 3400, "
           "\"drops\": {\"too_big\": 3}}}]}\n");
}
END_TEST

START_TEST(test_aligns_key_value_lines)
{
    struct output *out = start(OUTPUT_TABLE);

    output_uint(out, "dynamic_macs", "dynamic_macs", 3);
    output_uint(out, "multicast_ignored", "multicast_ignored", 12);
    output_uint(out, "moves", "moves", 0);
    output_uint(out, "json_only", NULL, 1);
    expect(out, 0,
           "dynamic_macs:      3\n"
           "multicast_ignored: 12\n"
           "moves:             0\n");
}
END_TEST

START_TEST(test_prints_text_in_the_table_layout_only)
{
    struct output *out = start(OUTPUT_TABLE);

    output_uint(out, "removed", NULL, 7);
    output_text(out, "removed %d dynamic entries\n", 7);
    expect(out, 0, "removed 7 dynamic entries\n");

    out = start(OUTPUT_JSON);
    output_uint(out, "removed", NULL, 7);
    output_text(out, "removed %d dynamic entries\n", 7);
    expect(out, 0, "{\"removed\": 7}\n");
}
END_TEST

START_TEST(test_escapes_json_strings)
{
    struct output *out = start(OUTPUT_JSON);

    output_string(out, "quote\"key", NULL, "say \"hi\"");
    output_string(out, "backslash", NULL, "C:\\dir\\");
    output_string(out, "control", NULL, "a\x01" "b\n\t\r\x1f" "c");
    output_string(out, "delete", NULL, "\x7f");
    output_string(out, "slash", NULL, "a/b");
    expect(out, 0,
           "{\"quote\\\"key\": \"say \\\"hi\\\"\", "
           "\"backslash\": \"C:\\\\dir\\\\\", "
           "\"control\": \"a\\u0001b\\u000a\\u0009\\u000d\\u001fc\", "
           "\"delete\": \"\x7f\", "
           "\"slash\": \"a/b\"}\n");
}
END_TEST

START_TEST(test_replaces_invalid_utf8_in_json)
{
    struct output *out = start(OUTPUT_JSON);

    output_string(out, "valid", NULL,
                  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    output_string(out, "stray", NULL, "a\xff" "b\x80");
    output_string(out, "overlong", NULL, "\xc0\xaf");
    output_string(out, "surrogate", NULL, "\xed\xa0\x80");
    output_string(out, "cut", NULL, "x\xe2\x82");
    expect(out, 0,
           "{\"valid\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", "
           "\"stray\": \"a\\ufffdb\\ufffd\", "
           "\"overlong\": \"\\ufffd\\ufffd\", "
           "\"surrogate\": \"\\ufffd\\ufffd\\ufffd\", "
           "\"cut\": \"x\\ufffd\\ufffd\"}\n");
}
END_TEST

START_TEST(test_keeps_table_cells_printable)
{
    static const char *const columns[] = { "NAME", "STATE", NULL };
    struct output *out = start(OUTPUT_TABLE);

    output_begin_table(out, "ports", columns);
    output_begin_row(out);
    output_string(out, "name", "NAME", "a\nb\x1b[2J");
    output_string(out, "state", "STATE", "up");
    output_end_row(out);
    output_end_table(out);
    expect(out, 0,
           "NAME     STATE\n"
           "a?b?[2J  up\n");
}
END_TEST

START_TEST(test_nests_arrays_and_objects_in_json)
{
    struct output *out = start(OUTPUT_JSON);

    output_begin_object(out, "outer", NULL);
    output_begin_list(out, "list", NULL);
    output_uint(out, NULL, NULL, 1);
    output_begin_object(out, NULL, NULL);
    output_begin_list(out, "inner", NULL);
    output_begin_list(out, NULL, NULL);
    output_end_list(out);
    output_string(out, NULL, NULL, "x");
    output_end_list(out);
    output_end_object(out);
    output_null(out, NULL, NULL);
    output_end_list(out);
    output_begin_object(out, "empty", NULL);
    output_end_object(out);
    output_end_object(out);
    output_begin_list(out, "flat", NULL);
    output_end_list(out);
    expect(out, 0,
           "{\"outer\": {\"list\": [1, {\"inner\": [[], \"x\"]}, null], "
           "\"empty\": {}}, \"flat\": []}\n");
}
END_TEST

START_TEST(test_prints_scalars_in_json)
{
    struct output *out = start(OUTPUT_JSON);

    output_null(out, "none", "NONE");
    output_bool(out, "yes", NULL, true);
    output_bool(out, "no", NULL, false);
    output_uint(out, "zero", NULL, 0);
    output_uint(out, "max", NULL, UINT64_MAX);
    output_double(out, "rtt_ms", NULL, 0.2149, 2);
    output_double(out, "nan", NULL, NAN, 2);
    output_string(out, "empty", NULL, "");
    output_string(out, NULL, "TABLE_ONLY", "hidden");
    expect(out, 0,
           "{\"none\": null, \"yes\": true, \"no\": false, \"zero\": 0, "
           "\"max\": 18446744073709551615, \"rtt_ms\": 0.21, "
           "\"nan\": null, \"empty\": \"\"}\n");
}
END_TEST

START_TEST(test_prints_an_empty_object_for_no_fields)
{
    struct output *out = start(OUTPUT_JSON);

    expect(out, 0, "{}\n");
    out = start(OUTPUT_TABLE);
    expect(out, 0, "");
}
END_TEST

START_TEST(test_reports_misuse)
{
    static const char *const columns[] = { "A", NULL };
    struct output *out;

    /* A row outside a table. */
    out = start(OUTPUT_TABLE);
    output_begin_row(out);
    expect(out, EINVAL, "");

    /* A column the table does not have. */
    out = start(OUTPUT_TABLE);
    output_begin_table(out, "t", columns);
    output_begin_row(out);
    output_string(out, "b", "B", "x");
    output_end_row(out);
    output_end_table(out);
    expect(out, EINVAL, "");

    /* A field directly inside a table. */
    out = start(OUTPUT_JSON);
    output_begin_table(out, "t", columns);
    output_string(out, "a", "A", "x");
    expect(out, EINVAL, "{\"t\": [");

    /* Unbalanced ends. */
    out = start(OUTPUT_JSON);
    output_begin_object(out, "o", NULL);
    output_end_list(out);
    expect(out, EINVAL, "{\"o\": {");

    out = start(OUTPUT_TABLE);
    output_end_object(out);
    expect(out, EINVAL, "");

    /* Never closed. */
    out = start(OUTPUT_JSON);
    output_begin_list(out, "l", NULL);
    expect(out, EINVAL, "{\"l\": [");
}
END_TEST

START_TEST(test_reports_a_stream_that_fails)
{
    FILE *readonly = fopen("/dev/null", "r");
    struct output *out;

    ck_assert_ptr_nonnull(readonly);
    out = output_create(readonly, OUTPUT_JSON);
    ck_assert_ptr_nonnull(out);
    output_uint(out, "n", NULL, 1);
    ck_assert_int_eq(output_finish(out), EIO);
    fclose(readonly);
}
END_TEST

START_TEST(test_parses_format_names)
{
    enum output_format f = OUTPUT_TABLE;

    ck_assert(output_parse_format("json", &f));
    ck_assert_int_eq(f, OUTPUT_JSON);
    ck_assert(output_parse_format("table", &f));
    ck_assert_int_eq(f, OUTPUT_TABLE);
    ck_assert(!output_parse_format("JSON", &f));
    ck_assert(!output_parse_format("", &f));
    ck_assert(!output_parse_format("tab", &f));
    ck_assert(output_finish(NULL) == 0);
}
END_TEST

static Suite *
output_suite(void)
{
    Suite *s = suite_create("output");

    fixture_add_case(s, "aligns columns to the widest cell",
                     test_aligns_columns_to_the_widest_cell, NULL, NULL);
    fixture_add_case(s, "aligns columns by characters, not bytes",
                     test_aligns_columns_by_characters_not_bytes, NULL,
                     NULL);
    fixture_add_case(s, "prints the same fields as JSON",
                     test_prints_the_same_fields_as_json, NULL, NULL);
    fixture_add_case(s, "prints only the header of an empty table",
                     test_prints_only_the_header_of_an_empty_table, NULL,
                     NULL);
    fixture_add_case(s, "places cells by column, not by order",
                     test_places_cells_by_column_not_by_order, NULL, NULL);
    fixture_add_case(s, "separates tables with a blank line",
                     test_separates_tables_with_a_blank_line, NULL, NULL);
    fixture_add_case(s, "keeps each field to its layouts",
                     test_keeps_each_field_to_its_layouts, NULL, NULL);
    fixture_add_case(s, "aligns key: value lines",
                     test_aligns_key_value_lines, NULL, NULL);
    fixture_add_case(s, "prints text in the table layout only",
                     test_prints_text_in_the_table_layout_only, NULL, NULL);
    fixture_add_case(s, "escapes JSON strings", test_escapes_json_strings,
                     NULL, NULL);
    fixture_add_case(s, "replaces invalid UTF-8 in JSON",
                     test_replaces_invalid_utf8_in_json, NULL, NULL);
    fixture_add_case(s, "keeps table cells printable",
                     test_keeps_table_cells_printable, NULL, NULL);
    fixture_add_case(s, "nests arrays and objects in JSON",
                     test_nests_arrays_and_objects_in_json, NULL, NULL);
    fixture_add_case(s, "prints scalars in JSON",
                     test_prints_scalars_in_json, NULL, NULL);
    fixture_add_case(s, "prints an empty object for no fields",
                     test_prints_an_empty_object_for_no_fields, NULL, NULL);
    fixture_add_case(s, "reports misuse", test_reports_misuse, NULL, NULL);
    fixture_add_case(s, "reports a stream that fails",
                     test_reports_a_stream_that_fails, NULL, NULL);
    fixture_add_case(s, "parses format names", test_parses_format_names,
                     NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(output_suite());
}
