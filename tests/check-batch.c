#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "build.h"
#include "fixture.h"
#include "request.h"

/* The batch form of vswitch-ctl: the file's syntax and the building of
 * each line through the command table. */

/* Builds 'text' into 'b' (initialized here); returns the error. */
static int
build_text(struct build *b, const char *text)
{
    char *copy;

    build_init(b);
    copy = build_alloc(b, text, strlen(text) + 1);
    ck_assert_ptr_nonnull(copy);
    return batch_build_text(b, copy);
}

static const Vswitch__Batch *
batch_of(const struct build *b)
{
    ck_assert_int_eq(b->request.command_case,
                     VSWITCH__REQUEST__COMMAND_BATCH);
    return b->request.batch;
}

START_TEST(test_lines_comments_and_blanks)
{
    struct build b;
    const Vswitch__Batch *batch;

    ck_assert_int_eq(build_text(&b, "# provisioning\n"
                                "\n"
                                "add-vni 5000 group=239.1.1.1\n"
                                "   \t\n"
                                "add-port tap0 type=tap vni=5000  # a VM\n"
                                "fdb-add 5000 02:00:00:00:00:01 tap0\r\n"),
                     0);
    batch = batch_of(&b);
    ck_assert_uint_eq(batch->n_commands, 3);
    ck_assert_uint_eq(batch->n_lines, 3);
    ck_assert_uint_eq(batch->lines[0], 3);
    ck_assert_uint_eq(batch->lines[1], 5);
    ck_assert_uint_eq(batch->lines[2], 6);
    ck_assert_ptr_null(batch->unit);
    ck_assert_int_eq(batch->commands[0]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_ADD_VNI);
    ck_assert_uint_eq(batch->commands[0]->add_vni->vni, 5000);
    ck_assert_str_eq(batch->commands[0]->add_vni->group, "239.1.1.1");
    ck_assert_str_eq(batch->commands[1]->add_port->name, "tap0");
    ck_assert_uint_eq(batch->commands[1]->add_port->vni, 5000);
    ck_assert_str_eq(batch->commands[2]->fdb_add->port, "tap0");
    build_destroy(&b);
}
END_TEST

START_TEST(test_quotes_and_escapes)
{
    struct build b;
    const Vswitch__Batch *batch;
    const Vswitch__PortConfig *pc;

    ck_assert_int_eq(build_text(&b, "add-port 'cap#0' type=pcap "
                                "rx=\"in file.pcap\" tx=out\\ x.pcap\n"),
                     0);
    batch = batch_of(&b);
    pc = batch->commands[0]->add_port;
    ck_assert_str_eq(pc->name, "cap#0");
    ck_assert_uint_eq(pc->n_options, 2);
    ck_assert_str_eq(pc->options[0]->key, "rx");
    ck_assert_str_eq(pc->options[0]->value, "in file.pcap");
    ck_assert_str_eq(pc->options[1]->value, "out x.pcap");
    build_destroy(&b);

    ck_assert_int_eq(build_text(&b, "add-vni 1\nadd-port 'tap1 type=tap\n"),
                     EINVAL);
    ck_assert_str_eq(b.error, "line 2: a quote is not closed");
    build_destroy(&b);
}
END_TEST

START_TEST(test_errors_name_the_line)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        { "add-vni 1\n\nadd-vni 0\n",
          "line 3: add-vni: '0' is not a VNI (1-16777215)" },
        { "add-vni 1\nfrobnicate 2\n", "line 2: unknown command "
          "'frobnicate'" },
        { "add-vni 1\nshow\n", "line 2: show cannot be in a batch: it only "
          "reads" },
        { "batch other\n", "line 1: batch cannot be in a batch: a batch "
          "holds no batch" },
        { "add-vni 1\nset-log-level debug\n", "line 2: set-log-level cannot "
          "be in a batch: only changes of ports, VNIs, bindings, static "
          "MACs and EVPN state can" },
        { "fdb-flush\n", "line 1: fdb-flush cannot be in a batch: only "
          "changes of ports, VNIs, bindings, static MACs and EVPN state "
          "can" },
        { "--format=json add-vni 1\n", "line 1: option '--format=json' "
          "cannot be given here (only --may-exist and --if-exists, once "
          "each; the others go before 'batch')" },
        { "--may-exist --may-exist add-vni 1\n", "line 1: option "
          "'--may-exist' cannot be given here (only --may-exist and "
          "--if-exists, once each; the others go before 'batch')" },
        { "--if-exists\n", "line 1: no command after the options" },
        { "bind-vni tap0\n", "line 1: bind-vni: wrong number of arguments "
          "(usage: bind-vni PORT VNI)" },
        { "fdb-add 5000 zz:00:00:00:00:01 tap0\n", "line 1: fdb-add: "
          "'zz:00:00:00:00:01' is not a MAC address (xx:xx:xx:xx:xx:xx)" },
        { "# nothing\n\n", "the batch holds no command" },
        { "", "the batch holds no command" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct build b;

        ck_assert_int_eq(build_text(&b, cases[i].text), EINVAL);
        ck_assert_str_eq(b.error, cases[i].error);
        build_destroy(&b);
    }
}
END_TEST

START_TEST(test_options_per_line)
{
    struct build b;
    const Vswitch__Batch *batch;

    ck_assert_int_eq(build_text(&b, "--may-exist add-vni 5000\n"
                                "--if-exists del-port tap9\n"
                                "add-vni 5001\n"), 0);
    batch = batch_of(&b);
    ck_assert(batch->commands[0]->has_may_exist);
    ck_assert(batch->commands[0]->may_exist);
    ck_assert(!batch->commands[0]->has_if_exists);
    ck_assert(batch->commands[1]->has_if_exists);
    ck_assert(!batch->commands[1]->has_may_exist);
    ck_assert(!batch->commands[2]->has_may_exist);
    ck_assert(!batch->commands[2]->has_if_exists);
    build_destroy(&b);
}
END_TEST

START_TEST(test_separated_commands)
{
    char *argv[] = {
        "add-vni", "5000", "--", "--may-exist", "add-port", "tap0",
        "type=tap", "--", "--", "bind-vni", "tap0", "5000", NULL,
    };
    char *bad[] = { "add-vni", "5000", "--", "list-vnis", NULL };
    char *none[] = { "--", "--", NULL };
    struct build b;
    const Vswitch__Batch *batch;

    ck_assert(batch_has_separator(argv, 12));
    ck_assert(!batch_has_separator(argv, 2));
    build_init(&b);
    ck_assert_int_eq(batch_build_args(&b, argv, 12), 0);
    batch = batch_of(&b);
    ck_assert_uint_eq(batch->n_commands, 3);
    ck_assert_str_eq(batch->unit, "command");
    ck_assert_uint_eq(batch->lines[2], 3);
    ck_assert(batch->commands[1]->may_exist);
    ck_assert_int_eq(batch->commands[2]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_BIND_VNI);
    build_destroy(&b);

    build_init(&b);
    ck_assert_int_eq(batch_build_args(&b, bad, 4), EINVAL);
    ck_assert_str_eq(b.error, "command 2: list-vnis cannot be in a batch: "
                     "it only reads");
    build_destroy(&b);

    build_init(&b);
    ck_assert_int_eq(batch_build_args(&b, none, 2), EINVAL);
    ck_assert_str_eq(b.error, "no command between the '--'s");
    build_destroy(&b);
}
END_TEST

/* The agent's changes of EVPN state go in one batch: each command keeps
 * its fields and flags; mixed with changes of the configuration, which
 * are saved while EVPN state is not, the batch is refused, naming the
 * first line of the other kind. */
START_TEST(test_evpn_commands)
{
    static const char *mixed[] = {
        "evpn-flush 5000\nadd-vni 7000\n",
        "add-vni 7000\n# EVPN\nevpn-vtep-add 7000 10.0.0.2\n",
    };
    static const char *why[] = {
        "line 2: EVPN commands and changes of the configuration cannot be "
        "in one batch",
        "line 3: EVPN commands and changes of the configuration cannot be "
        "in one batch",
    };
    char error[REQUEST_ERROR_SIZE];
    struct build b;
    const Vswitch__Batch *batch;

    ck_assert_int_eq(build_text(&b, "evpn-mac-del 5000 02:00:00:00:00:01 "
                                "remote=10.0.0.2\n"
                                "evpn-mac-add 5000 02:00:00:00:00:01 "
                                "remote=10.0.0.3 seq=7\n"
                                "--may-exist evpn-vtep-add 5000 10.0.0.3\n"
                                "--if-exists evpn-vtep-del 5000 10.0.0.2\n"
                                "evpn-flush 6000\n"), 0);
    batch = batch_of(&b);
    ck_assert_uint_eq(batch->n_commands, 5);
    ck_assert_int_eq(batch->commands[0]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_EVPN_MAC_DEL);
    ck_assert_str_eq(batch->commands[0]->evpn_mac_del->remote, "10.0.0.2");
    ck_assert_int_eq(batch->commands[1]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_EVPN_MAC_ADD);
    ck_assert_str_eq(batch->commands[1]->evpn_mac_add->mac,
                     "02:00:00:00:00:01");
    ck_assert_uint_eq(batch->commands[1]->evpn_mac_add->seq, 7);
    ck_assert_int_eq(batch->commands[2]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_EVPN_VTEP_ADD);
    ck_assert(batch->commands[2]->may_exist);
    ck_assert_int_eq(batch->commands[3]->command_case,
                     VSWITCH__BATCH_COMMAND__COMMAND_EVPN_VTEP_DEL);
    ck_assert(batch->commands[3]->if_exists);
    ck_assert_uint_eq(batch->commands[4]->evpn_flush->vni, 6000);
    ck_assert(request_batch_is_evpn(batch));
    ck_assert(request_check(&b.request, error, sizeof error));
    build_destroy(&b);

    for (size_t i = 0; i < sizeof mixed / sizeof mixed[0]; i++) {
        ck_assert_int_eq(build_text(&b, mixed[i]), 0);
        ck_assert(!request_check(&b.request, error, sizeof error));
        ck_assert_str_eq(error, why[i]);
        build_destroy(&b);
    }
}
END_TEST

START_TEST(test_many_lines)
{
    struct build b;
    char *text = malloc(4096 * 80);
    size_t len = 0;

    ck_assert_ptr_nonnull(text);
    for (int i = 1; i <= 4096; i++) {
        len += (size_t) sprintf(text + len, "add-vni %d\nadd-port tap%d "
                                "type=tap vni=%d\n", i, i, i);
    }
    ck_assert_int_eq(build_text(&b, text), 0);
    ck_assert_uint_eq(batch_of(&b)->n_commands, 8192);
    ck_assert_uint_eq(batch_of(&b)->lines[8191], 8192);
    ck_assert_str_eq(batch_of(&b)->commands[8191]->add_port->name,
                     "tap4096");
    build_destroy(&b);
    free(text);
}
END_TEST

static Suite *
batch_suite(void)
{
    Suite *s = suite_create("batch");

    fixture_add_case(s, "reads lines, comments and blanks",
                     test_lines_comments_and_blanks, NULL, NULL);
    fixture_add_case(s, "undoes quotes and escapes",
                     test_quotes_and_escapes, NULL, NULL);
    fixture_add_case(s, "names the line of an error",
                     test_errors_name_the_line, NULL, NULL);
    fixture_add_case(s, "takes --may-exist and --if-exists per line",
                     test_options_per_line, NULL, NULL);
    fixture_add_case(s, "splits commands at --", test_separated_commands,
                     NULL, NULL);
    fixture_add_case(s, "holds EVPN commands, alone", test_evpn_commands,
                     NULL, NULL);
    fixture_add_case(s, "builds thousands of lines", test_many_lines, NULL,
                     NULL);
    return s;
}

int
main(void)
{
    return fixture_run(batch_suite());
}
