#include <config.h>

#include <check.h>
#include <string.h>

#include "command.h"
#include "fixture.h"
#include "usage.h"

/* Finds the item called 'name' of 'u', failing the test if it is not
 * there. */
static const struct usage_item *
item(const struct usage *u, const char *name)
{
    for (size_t i = 0; i < u->n_items; i++) {
        if (!strcmp(u->items[i].name, name)) {
            return &u->items[i];
        }
    }
    ck_abort_msg("no item '%s'", name);
    return NULL;
}

static void
expect(const struct usage *u, const char *name, enum usage_item_type type,
       const char *value, size_t slot)
{
    const struct usage_item *it = item(u, name);

    ck_assert_int_eq(it->type, type);
    ck_assert_str_eq(it->value, value);
    ck_assert_uint_eq(it->slot, slot);
}

START_TEST(test_reads_positional_and_keyed_arguments)
{
    struct usage u;

    usage_parse("NAME type=TYPE [vni=VNI] [KEY=VALUE...]", &u);
    ck_assert_uint_eq(u.n_items, 4);
    expect(&u, "NAME", USAGE_POSITIONAL, "", 0);
    expect(&u, "type", USAGE_KEYED, "TYPE", 1);
    expect(&u, "vni", USAGE_KEYED, "VNI", 1);
    expect(&u, "KEY", USAGE_KEYED, "VALUE", 1);
}
END_TEST

START_TEST(test_reads_alternatives)
{
    struct usage u;

    /* One positional argument or a keyed one at the same place. */
    usage_parse("VNI MAC PORT|remote=IP", &u);
    expect(&u, "PORT", USAGE_POSITIONAL, "", 2);
    expect(&u, "remote", USAGE_KEYED, "IP", 2);

    /* Alternatives as words around "|", a value's alternatives, and a
     * nested repetition that is no part of the value. */
    usage_parse("VNI [group=IP | flood=IP[,IP...]] [learn=any|list]", &u);
    ck_assert_uint_eq(u.n_items, 4);
    expect(&u, "group", USAGE_KEYED, "IP", 1);
    expect(&u, "flood", USAGE_KEYED, "IP", 1);
    expect(&u, "learn", USAGE_KEYED, "any|list", 1);

    /* An argument that an option can replace need not come before the
     * keyed ones. */
    usage_parse("FLOW | --pcap FILE [--frame N] in_port=PORT", &u);
    expect(&u, "FLOW", USAGE_POSITIONAL, "", 0);
    expect(&u, "in_port", USAGE_KEYED, "PORT", 0);
}
END_TEST

START_TEST(test_reads_options_and_their_arguments)
{
    struct usage u;

    usage_parse("[--strict] FLOW", &u);
    expect(&u, "--strict", USAGE_OPTION, "", 0);
    expect(&u, "FLOW", USAGE_POSITIONAL, "", 0);

    usage_parse("PORT [--filter EXPR] [--count N] [--direction in|out|both] "
                "[-w FILE]", &u);
    ck_assert_uint_eq(u.n_items, 5);
    expect(&u, "PORT", USAGE_POSITIONAL, "", 0);
    expect(&u, "--filter", USAGE_OPTION, "EXPR", 0);
    expect(&u, "--direction", USAGE_OPTION, "in|out|both", 0);
    expect(&u, "-w", USAGE_OPTION, "FILE", 0);

    usage_parse("--socket PATH --format table|json --may-exist -h, --help",
                &u);
    ck_assert_uint_eq(u.n_items, 5);
    expect(&u, "--socket", USAGE_OPTION, "PATH", 0);
    expect(&u, "--format", USAGE_OPTION, "table|json", 0);
    expect(&u, "--may-exist", USAGE_OPTION, "", 0);
    expect(&u, "-h", USAGE_OPTION, "", 0);
    expect(&u, "--help", USAGE_OPTION, "", 0);
}
END_TEST

START_TEST(test_tells_kinds_apart)
{
    ck_assert_int_eq(usage_kind("PORT", 4), USAGE_PORT);
    ck_assert_int_eq(usage_kind("VNI", 3), USAGE_VNI);
    ck_assert_int_eq(usage_kind("FILE", 4), USAGE_FILE);
    ck_assert_int_eq(usage_kind("PATH", 4), USAGE_FILE);
    ck_assert_int_eq(usage_kind("TYPE", 4), USAGE_TYPE);
    ck_assert_int_eq(usage_kind("IFNAME", 6), USAGE_IFNAME);
    ck_assert_int_eq(usage_kind("json", 4), USAGE_LITERAL);
    ck_assert_int_eq(usage_kind("NAME", 4), USAGE_FREE);
    ck_assert_int_eq(usage_kind("IP/LEN", 6), USAGE_FREE);
    /* Only the given length counts: "PORTS" is no PORT. */
    ck_assert_int_eq(usage_kind("PORTS", 5), USAGE_FREE);
    ck_assert_int_eq(usage_kind("PORT|x", 4), USAGE_PORT);
}
END_TEST

/* Every usage text of the table fits, so that completion sees all of it:
 * a row added with a longer text fails here rather than completing less
 * in silence. */
START_TEST(test_reads_every_usage_of_the_table_whole)
{
    size_t n;
    const struct command *commands = command_table(&n);

    for (size_t i = 0; i < n; i++) {
        struct usage u;

        usage_parse(commands[i].usage, &u);
        ck_assert_msg(u.n_items < USAGE_MAX_ITEMS, "%s", commands[i].name);
        for (size_t j = 0; j < u.n_items; j++) {
            ck_assert_msg(strlen(u.items[j].name) < USAGE_WORD_SIZE - 1
                          && strlen(u.items[j].value) < USAGE_WORD_SIZE - 1,
                          "%s", commands[i].name);
        }
    }
}
END_TEST

static Suite *
usage_suite(void)
{
    Suite *s = suite_create("usage");

    fixture_add_case(s, "reads positional and keyed arguments",
                     test_reads_positional_and_keyed_arguments, NULL, NULL);
    fixture_add_case(s, "reads alternatives", test_reads_alternatives, NULL,
                     NULL);
    fixture_add_case(s, "reads options and their arguments",
                     test_reads_options_and_their_arguments, NULL, NULL);
    fixture_add_case(s, "tells kinds apart", test_tells_kinds_apart, NULL,
                     NULL);
    fixture_add_case(s, "reads every usage of the table whole",
                     test_reads_every_usage_of_the_table_whole, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(usage_suite());
}
