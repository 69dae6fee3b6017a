#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "fixture.h"
#include "monitor.h"

/* Returns what monitor_print_event() prints for 'e' (freed by the
 * caller). */
static char *
print(const Vswitch__MonitorEvent *e, bool json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(monitor_print_event(f, e, json), 0);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

static void
init_fdb(Vswitch__MonitorEvent *e)
{
    vswitch__monitor_event__init(e);
    e->seq = 7;
    e->time_us = 1733550000123000ULL;
    e->kind = "fdb";
    e->action = "learned";
    e->has_vni = true;
    e->vni = 5000;
    e->mac = "aa:bb:cc:dd:ee:ff";
    e->type = "dynamic";
    e->port = "tap0";
}

START_TEST(test_prints_an_fdb_event_as_the_contract_says)
{
    Vswitch__MonitorEvent e;
    char *text;

    init_fdb(&e);
    text = print(&e, true);
    ck_assert_str_eq(text, "{\"seq\": 7, \"time\": 1733550000.123, "
                     "\"kind\": \"fdb\", \"action\": \"learned\", "
                     "\"vni\": 5000, \"mac\": \"aa:bb:cc:dd:ee:ff\", "
                     "\"type\": \"dynamic\", \"port\": \"tap0\"}\n");
    free(text);
}
END_TEST

START_TEST(test_prints_where_a_moved_entry_was)
{
    Vswitch__MonitorEvent e;
    char *text;

    init_fdb(&e);
    e.action = "moved";
    e.port = NULL;
    e.remote = "172.31.0.2";
    e.from_port = "tap0";
    text = print(&e, true);
    ck_assert_ptr_nonnull(strstr(text, "\"action\": \"moved\""));
    ck_assert_ptr_nonnull(strstr(text, "\"remote\": \"172.31.0.2\", "
                                 "\"from_port\": \"tap0\"}"));
    ck_assert_ptr_null(strstr(text, "\"port\""));
    free(text);
}
END_TEST

START_TEST(test_prints_a_flow_events_cookie_in_hex)
{
    Vswitch__MonitorEvent e;
    char *text;

    vswitch__monitor_event__init(&e);
    e.seq = 12;
    e.time_us = 1250000;
    e.kind = "flow";
    e.action = "expired";
    e.has_table = e.has_priority = e.has_cookie = true;
    e.table = 0;
    e.priority = 100;
    e.cookie = 42;
    e.match = "priority=100,udp";
    e.actions = "drop";
    text = print(&e, true);
    ck_assert_str_eq(text, "{\"seq\": 12, \"time\": 1.250, "
                     "\"kind\": \"flow\", \"action\": \"expired\", "
                     "\"table\": 0, \"priority\": 100, \"cookie\": \"0x2a\", "
                     "\"match\": \"priority=100,udp\", "
                     "\"actions\": \"drop\"}\n");
    free(text);
}
END_TEST

START_TEST(test_prints_a_missed_event_with_its_count)
{
    Vswitch__MonitorEvent e;
    char *text;

    vswitch__monitor_event__init(&e);
    e.seq = 90;
    e.time_us = 2000000;
    e.kind = "missed";
    e.has_count = e.has_first_seq = true;
    e.count = 81;
    e.first_seq = 10;
    text = print(&e, true);
    ck_assert_str_eq(text, "{\"seq\": 90, \"time\": 2.000, "
                     "\"kind\": \"missed\", \"count\": 81, "
                     "\"first_seq\": 10}\n");
    free(text);
}
END_TEST

START_TEST(test_prints_words_for_people)
{
    Vswitch__MonitorEvent e;
    char *text;

    init_fdb(&e);
    text = print(&e, false);
    ck_assert_str_eq(text, "7 1733550000.123 fdb learned vni=5000 "
                     "mac=aa:bb:cc:dd:ee:ff type=dynamic port=tap0\n");
    free(text);
}
END_TEST

START_TEST(test_builds_the_kinds_asked_for)
{
    char *args[] = { "vnis", "--initial", "fdb" };
    struct build b;

    build_init(&b);
    ck_assert_int_eq(build_monitor(&b, args, 3), 0);
    ck_assert_int_eq(b.request.command_case,
                     VSWITCH__REQUEST__COMMAND_MONITOR);
    ck_assert(b.request.monitor->fdb);
    ck_assert(b.request.monitor->vnis);
    ck_assert(b.request.monitor->initial);
    ck_assert(!b.request.monitor->ports);
    ck_assert(!b.request.monitor->flows);
    build_destroy(&b);
}
END_TEST

START_TEST(test_refuses_unknown_and_repeated_words)
{
    char *unknown[] = { "fdb", "macs" };
    char *twice[] = { "flows", "flows" };
    struct build b;

    build_init(&b);
    ck_assert_int_eq(build_monitor(&b, unknown, 2), EINVAL);
    ck_assert_ptr_nonnull(strstr(b.error, "'macs'"));
    build_destroy(&b);
    build_init(&b);
    ck_assert_int_eq(build_monitor(&b, twice, 2), EINVAL);
    ck_assert_ptr_nonnull(strstr(b.error, "'flows' given twice"));
    build_destroy(&b);
}
END_TEST

static Suite *
monitor_suite(void)
{
    Suite *s = suite_create("monitor");

    fixture_add_case(s, "prints an fdb event as the contract says",
                     test_prints_an_fdb_event_as_the_contract_says, NULL,
                     NULL);
    fixture_add_case(s, "prints where a moved entry was",
                     test_prints_where_a_moved_entry_was, NULL, NULL);
    fixture_add_case(s, "prints a flow event's cookie in hex",
                     test_prints_a_flow_events_cookie_in_hex, NULL, NULL);
    fixture_add_case(s, "prints a missed event with its count",
                     test_prints_a_missed_event_with_its_count, NULL, NULL);
    fixture_add_case(s, "prints words for people",
                     test_prints_words_for_people, NULL, NULL);
    fixture_add_case(s, "builds the kinds asked for",
                     test_builds_the_kinds_asked_for, NULL, NULL);
    fixture_add_case(s, "refuses unknown and repeated words",
                     test_refuses_unknown_and_repeated_words, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(monitor_suite());
}
