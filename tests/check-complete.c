#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complete.h"
#include "fixture.h"

/* Completion against a daemon played by the test: it has the ports
 * below and two VNIs, and records the socket it was asked at. */

#define BREAKS " \t\n\"'><=;|&(:"

static char asked[64];          /* The last socket asked. */
static int n_asked;

static const char *const port_names[] = { "tap0", "tap1", "vtep0" };
static const char *const port_types[] = { "tap", "tap", "vxlan" };

static void
fake_ports(const char *socket,
           void (*found)(void *, const char *, const char *), void *aux)
{
    snprintf(asked, sizeof asked, "%s", socket);
    n_asked++;
    for (size_t i = 0; i < sizeof port_names / sizeof *port_names; i++) {
        found(aux, port_names[i], port_types[i]);
    }
    found(aux, "bad\nname", "tap");
}

static void
fake_vnis(const char *socket, void (*found)(void *, uint32_t), void *aux)
{
    snprintf(asked, sizeof asked, "%s", socket);
    n_asked++;
    found(aux, 5000);
    found(aux, 16777215);
}

static const struct complete_source fake = { fake_ports, fake_vnis };

static const struct complete_context ctx = {
    "--socket PATH --format table|json --timeout SECS --may-exist "
    "-h, --help",
    "--socket", "/default.sock", &fake,
};

/* Completes 'line' with word breaks 'breaks' and checks the whole answer,
 * header lines included. */
static void
expect_with(const char *line, const char *breaks, const char *want)
{
    char *text = NULL;
    size_t length = 0;
    FILE *stream = open_memstream(&text, &length);

    ck_assert_ptr_nonnull(stream);
    complete_line(&ctx, line, breaks, stream);
    ck_assert_int_eq(fclose(stream), 0);
    ck_assert_str_eq(text, want);
    free(text);
}

static void
expect(const char *line, const char *want)
{
    expect_with(line, BREAKS, want);
}

START_TEST(test_completes_command_names)
{
    expect("vswitch-ctl add-p", "\nadd-p\nadd-port\n");
    expect("vswitch-ctl fdb-s", "\nfdb-s\nfdb-show\nfdb-stats\n");
    expect("vswitch-ctl nothing-like-it", "\nnothing-like-it\n");
    ck_assert_int_eq(n_asked, 0);
}
END_TEST

START_TEST(test_completes_global_options_and_their_values)
{
    expect("vswitch-ctl --f", "\n--f\n--format\n");
    expect("vswitch-ctl --format ", "\n\ntable\njson\n");
    /* Readline replaces what follows '=': so do the candidates. */
    expect("vswitch-ctl --format=j", "\nj\njson\n");
    expect("vswitch-ctl --socket /ru", "files\n/ru\n");
    expect("vswitch-ctl -", "\n-\n--socket\n--format\n--timeout\n"
           "--may-exist\n-h\n--help\n");
    /* Options and their values are skipped on the way to the command. */
    expect("vswitch-ctl --timeout 3 --may-exist --format=json del-v",
           "\ndel-v\ndel-vni\n");
}
END_TEST

START_TEST(test_asks_the_daemon_the_line_names)
{
    expect("vswitch-ctl del-port ", "\n\ntap0\ntap1\nvtep0\n");
    ck_assert_str_eq(asked, "/default.sock");
    expect("vswitch-ctl --socket /other.sock del-vni 1",
           "\n1\n16777215\n");
    ck_assert_str_eq(asked, "/other.sock");
    expect("vswitch-ctl --socket='/with space' del-port tap1",
           "\ntap1\ntap1\n");
    ck_assert_str_eq(asked, "/with space");
}
END_TEST

START_TEST(test_completes_port_types_and_their_keys)
{
    expect("vswitch-ctl add-port x type=", "\n\ntap\nsystem\nvxlan\npcap\n");
    expect("vswitch-ctl add-port x ", "nospace\n\ntype=\nvni=\n");
    expect("vswitch-ctl add-port x type=tap ", "nospace\n\nvni=\noffload=\n");
    expect("vswitch-ctl add-port x type=tap offload=",
           "\n\ntrue\nfalse\n");
    expect("vswitch-ctl add-port x type=pcap rx=/tmp/a",
           "files\n/tmp/a\n");
    /* The port's type comes from the daemon for set-port. */
    expect("vswitch-ctl set-port tap1 o", "nospace\no\noffload=\n");
    expect("vswitch-ctl set-port nosuch ", "\n\n");
    /* Without '=' among the word breaks the whole word is replaced. */
    expect_with("vswitch-ctl add-port x type=v", " ", "\ntype=v\ntype=vxlan\n");
}
END_TEST

START_TEST(test_completes_by_position)
{
    expect("vswitch-ctl add-port ", "\n\n");
    expect("vswitch-ctl bind-vni t", "\nt\ntap0\ntap1\n");
    expect("vswitch-ctl bind-vni tap0 ", "\n\n5000\n16777215\n");
    expect("vswitch-ctl bind-vni tap0 5000 ", "\n\n");
    expect("vswitch-ctl fdb-add 5000 02:00:00:00:00:01 ",
           "nospace\n\ntap0\ntap1\nvtep0\nremote=\n");
    expect("vswitch-ctl dump-flows --", "\n--\n--strict\n");
    expect("vswitch-ctl trace --pcap ", "files\n\n");
    ck_assert_int_eq(n_asked, 3);
}
END_TEST

START_TEST(test_reads_quotes_as_the_shell_does)
{
    expect("vswitch-ctl del-port \"ta", "\nta\ntap0\ntap1\n");
    expect("vswitch-ctl del-port 'v", "\nv\nvtep0\n");
    expect("vswitch-ctl d'el-p'o", "\ndel-po\ndel-port\n");
    expect("vswitch-ctl add-port x type='t'a", "\nta\ntap\n");
    expect("vswitch-ctl del\\-p", "\ndel-p\ndel-port\n");
    expect("vswitch-ctl add-port 'a b' type=t", "\nt\ntap\n");
    /* Control characters in a name would break the line protocol. */
    expect("vswitch-ctl del-port b", "\nb\n");
    /* Nothing to complete without a program's name. */
    expect("", "\n\n");
    expect("   ", "\n\n");
}
END_TEST

/* A newline typed inside quotes (C-v C-j) is part of the word: echoed
 * back, it would end the line of the replaced part early and make its
 * rest a candidate. */
START_TEST(test_offers_nothing_for_a_word_with_a_newline)
{
    expect("vswitch-ctl --format 't\nx", "\n\n");
    expect("vswitch-ctl capture tap0 -w 'foo\nbar", "\n\n");
    expect("vswitch-ctl del-port \"\x01", "\n\n");
}
END_TEST

START_TEST(test_bounds_the_words_it_reads)
{
    char line[4096] = "vswitch-ctl --may-exist";

    for (int i = 0; i < 300; i++) {
        strcat(line, " x");
    }
    expect(line, "\n\n");
}
END_TEST

static Suite *
complete_suite(void)
{
    Suite *s = suite_create("complete");

    fixture_add_case(s, "completes command names",
                     test_completes_command_names, NULL, NULL);
    fixture_add_case(s, "completes global options and their values",
                     test_completes_global_options_and_their_values, NULL,
                     NULL);
    fixture_add_case(s, "asks the daemon the line names",
                     test_asks_the_daemon_the_line_names, NULL, NULL);
    fixture_add_case(s, "completes port types and their keys",
                     test_completes_port_types_and_their_keys, NULL, NULL);
    fixture_add_case(s, "completes by position", test_completes_by_position,
                     NULL, NULL);
    fixture_add_case(s, "reads quotes as the shell does",
                     test_reads_quotes_as_the_shell_does, NULL, NULL);
    fixture_add_case(s, "offers nothing for a word with a newline",
                     test_offers_nothing_for_a_word_with_a_newline, NULL,
                     NULL);
    fixture_add_case(s, "bounds the words it reads",
                     test_bounds_the_words_it_reads, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(complete_suite());
}
