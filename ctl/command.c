#include <config.h>

#include "command.h"

#include <errno.h>
#include <string.h>

#include "batch.h"
#include "capture.h"
#include "monitor.h"
#include "port.h"

#define NO_PAYLOAD VSWITCH__RESPONSE__PAYLOAD__NOT_SET
#define PAYLOAD(NAME) VSWITCH__RESPONSE__PAYLOAD_##NAME

static const struct command commands[] = {
    { "show", 0, 0, "",
      "ports and VNIs with their state and counters",
      build_show, print_show, PAYLOAD(SHOW), true, false },
    { "add-port", 2, COMMAND_NO_MAX,
      "NAME type=TYPE [vni=VNI] [KEY=VALUE...]",
      "add a port of TYPE with the options of that type (see below)",
      build_add_port, NULL, NO_PAYLOAD, false, false },
    { "del-port", 1, 1, "PORT",
      "remove a port and the static MACs that point at it",
      build_del_port, NULL, NO_PAYLOAD, false, false },
    { "set-port", 2, COMMAND_NO_MAX, "PORT KEY=VALUE...",
      "replace the given options of a port",
      build_set_port, NULL, NO_PAYLOAD, false, false },
    { "list-ports", 0, 0, "",
      "ports with their state, counters and options",
      build_list_ports, print_ports, PAYLOAD(PORTS), true, false },
    { "add-vni", 1, COMMAND_NO_MAX,
      "VNI [group=IP | flood=IP[,IP...]] [ageing=SECS] [mac-limit=N] "
      "[learn=any|list] [learn-prefix=IP/LEN] "
      "[control=flood-and-learn|evpn]",
      "add a VNI, flooding to a multicast group or to a list of VTEPs",
      build_add_vni, NULL, NO_PAYLOAD, false, false },
    { "set-vni", 2, COMMAND_NO_MAX,
      "VNI [group=IP | flood=IP[,IP...]] [ageing=SECS] [mac-limit=N] "
      "[learn=any|list] [learn-prefix=IP/LEN] "
      "[control=flood-and-learn|evpn]",
      "change the given settings of a VNI",
      build_set_vni, NULL, NO_PAYLOAD, false, false },
    { "del-vni", 1, 1, "VNI",
      "remove a VNI, unbinding its ports and removing its static MACs",
      build_del_vni, NULL, NO_PAYLOAD, false, false },
    { "list-vnis", 0, 0, "",
      "VNIs with their flood targets, ports and MAC counts",
      build_list_vnis, print_vnis, PAYLOAD(VNIS), true, false },
    { "bind-vni", 2, 2, "PORT VNI",
      "bind a local port to a VNI",
      build_bind_vni, NULL, NO_PAYLOAD, false, false },
    { "unbind-vni", 1, 1, "PORT",
      "unbind a port from its VNI",
      build_unbind_vni, NULL, NO_PAYLOAD, false, false },
    { "fdb-show", 0, 1, "[VNI]",
      "MAC table entries, of one VNI or of all",
      build_fdb_show, print_fdb, PAYLOAD(FDB), true, false },
    { "fdb-add", 3, 3, "VNI MAC PORT|remote=IP",
      "add or replace a static MAC entry",
      build_fdb_add, NULL, NO_PAYLOAD, false, false },
    { "fdb-del", 2, 2, "VNI MAC",
      "remove a MAC entry",
      build_fdb_del, NULL, NO_PAYLOAD, false, false },
    { "fdb-flush", 0, 1, "[VNI]",
      "remove the learned MAC entries, of one VNI or of all",
      build_fdb_flush, print_fdb_flush, PAYLOAD(FLUSHED), false, false },
    { "evpn-mac-add", 3, 4, "VNI MAC remote=IP [seq=N]",
      "add or move the remote MAC of an EVPN VNI (for the EVPN agent)",
      build_evpn_mac_add, NULL, NO_PAYLOAD, false, false },
    { "evpn-mac-del", 3, 3, "VNI MAC remote=IP",
      "remove the remote MAC of an EVPN VNI if it is at that VTEP",
      build_evpn_mac_del, NULL, NO_PAYLOAD, false, false },
    { "evpn-vtep-add", 2, 2, "VNI IP",
      "add a VTEP to the floods of an EVPN VNI (for the EVPN agent)",
      build_evpn_vtep_add, NULL, NO_PAYLOAD, false, false },
    { "evpn-vtep-del", 2, 2, "VNI IP",
      "remove a VTEP from the floods of an EVPN VNI",
      build_evpn_vtep_del, NULL, NO_PAYLOAD, false, false },
    { "evpn-flush", 1, 1, "VNI",
      "remove every EVPN MAC and VTEP of a VNI, to resynchronise",
      build_evpn_flush, print_evpn_flush, PAYLOAD(FLUSHED), false, false },
    { "fdb-stats", 0, 0, "",
      "MAC table counters",
      build_fdb_stats, print_fdb_stats, PAYLOAD(FDB_STATS), true, false },
    { "stats", 0, 1, "[PORT]",
      "packet, byte and drop counters, of one port or of all",
      build_stats, print_stats, PAYLOAD(PORTS), true, false },
    { "port-replay", 1, 1, "PORT",
      "replay the rx capture file of a pcap port from its start",
      build_port_replay, NULL, NO_PAYLOAD, false, false },
    { "add-flow", 1, 1, "FLOW",
      "add a flow rule, or replace the one with its table, priority and "
      "match",
      build_add_flow, print_flow_change, PAYLOAD(FLOW_CHANGE), false, false },
    { "add-flows", 1, 1, "FILE",
      "add the rules of FILE ('-': standard input), one a line; all or "
      "none",
      build_add_flows, print_flow_change, PAYLOAD(FLOW_CHANGE), false, false },
    { "mod-flows", 1, 2, "[--strict] FLOW",
      "give the rules that FLOW selects its actions",
      build_mod_flows, print_flow_change, PAYLOAD(FLOW_CHANGE), false,
      true },
    { "del-flows", 0, 2, "[--strict] [FLOW]",
      "delete the rules that FLOW selects, or every rule",
      build_del_flows, print_flow_change, PAYLOAD(FLOW_CHANGE), false,
      true },
    { "replace-flows", 1, 1, "FILE",
      "make the tables hold the rules of FILE, changing only those that "
      "differ",
      build_replace_flows, print_flow_change, PAYLOAD(FLOW_CHANGE), false,
      false },
    { "dump-flows", 0, 2, "[--strict] [FLOW]",
      "the rules with their counters, of those FLOW selects or of all",
      build_dump_flows, print_flows, PAYLOAD(FLOWS), true, true },
    { "diff-flows", 1, 1, "FILE",
      "the differences between the flow tables and FILE (exit 1 if any)",
      build_diff_flows, print_flow_diff, PAYLOAD(FLOW_DIFF), true, false },
    { "trace", 1, 5, "FLOW | --pcap FILE [--frame N] in_port=PORT",
      "what the flow tables would do with a frame, changing nothing",
      build_trace, print_trace, PAYLOAD(TRACE), true, true },
    { "capture", 1, 11,
      "PORT [--filter EXPR] [--count N] [--duration SECS] "
      "[--direction in|out|both] [-w FILE]",
      "stream the frames of a port as a pcap file ('-w -': to tcpdump -r "
      "-)",
      build_capture, NULL, PAYLOAD(CAPTURE), false, true },
    { "monitor", 0, 5, "[--initial] [fdb] [ports] [vnis] [flows]",
      "print each change of the MAC table, ports, VNIs or flows as it "
      "happens, a JSON object a line",
      build_monitor, NULL, PAYLOAD(MONITOR), true, true },
    { "version", 0, 0, "",
      "the versions of vswitch-ctl and vswitchd",
      build_version, print_version, PAYLOAD(VERSION), true, false },
    { "get-log-level", 0, 0, "",
      "the level below which vswitchd drops log messages",
      build_get_log_level, print_log_level, PAYLOAD(LOG_LEVEL), true,
      false },
    { "set-log-level", 1, 1, "err|warn|info|debug",
      "log messages of this level and above, until vswitchd stops",
      build_set_log_level, print_log_level, PAYLOAD(LOG_LEVEL), false,
      false },
    { "ping", 0, 0, "",
      "check that vswitchd answers, and how fast",
      build_ping, print_ping, NO_PAYLOAD, true, false },
    { "batch", 1, 1, "FILE|-",
      "apply the changes of FILE ('-': standard input), one command a "
      "line, all or none, with one save",
      batch_build_file, NULL, NO_PAYLOAD, false, false },
};

const struct command *
command_find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

int
command_prepare(const struct command *cmd, char *argv[], size_t argc,
                struct build *b)
{
    char reason[REQUEST_ERROR_SIZE];
    int error;

    if (argc < cmd->min_args || argc > cmd->max_args) {
        return build_invalid(b, "%s: wrong number of arguments (usage: "
                             "%s%s%s)", cmd->name, cmd->name,
                             *cmd->usage ? " " : "", cmd->usage);
    }
    for (size_t i = 0; i < argc && !cmd->own_options; i++) {
        if (!strncmp(argv[i], "--", 2)) {
            return build_invalid(b, "%s: options such as '%s' go before "
                                 "the command", cmd->name, argv[i]);
        }
    }
    error = cmd->build(b, argv, argc);
    if (error) {
        snprintf(reason, sizeof reason, "%s",
                 error == EINVAL ? b->error : strerror(error));
        build_invalid(b, "%s: %s", cmd->name, reason);
        return error;
    }
    if (!request_check(&b->request, reason, sizeof reason)) {
        return build_invalid(b, "%s: %s", cmd->name, reason);
    }
    return 0;
}

const struct command *
command_table(size_t *n)
{
    *n = sizeof commands / sizeof *commands;
    return commands;
}

static void
print_commands(FILE *stream, bool read_only)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const struct command *c = &commands[i];

        if (c->read_only == read_only) {
            fprintf(stream, "  %s%s%s\n      %s\n", c->name,
                    *c->usage ? " " : "", c->usage, c->description);
        }
    }
}

const char *
command_option_placeholder(enum port_option_kind kind)
{
    switch (kind) {
    case PORT_OPT_UNICAST_IP:
        return "IP";
    case PORT_OPT_IFNAME:
        return "IFNAME";
    case PORT_OPT_UINT:
        return "N";
    case PORT_OPT_RANGE:
        return "LOW-HIGH";
    case PORT_OPT_BOOL:
        return "true|false";
    case PORT_OPT_PATH:
    default:
        return "FILE";
    }
}

/* The port types come from the datapath's registry, so a new type or
 * option appears here without a change to this file. */
static void
print_port_types(FILE *stream)
{
    size_t n;
    const struct port_class *const *classes = port_classes(&n);

    for (size_t i = 0; i < n; i++) {
        const struct port_class *class = classes[i];

        fprintf(stream, "  type=%s: %s\n", class->type, class->help);
        for (const struct port_option *o = class->options; o->key; o++) {
            fprintf(stream, "      %s=%s%s\n          %s\n", o->key,
                    command_option_placeholder(o->kind),
                    o->required ? " (required)" : "", o->help);
        }
    }
}

void
command_print_help(FILE *stream)
{
    fputs("Commands that read:\n", stream);
    print_commands(stream, true);
    fputs("\nCommands that change the configuration (root, or the group "
          "of the socket):\n", stream);
    print_commands(stream, false);
    fputs("\nPort types (add-port type=TYPE) and their options "
          "(KEY=VALUE):\n", stream);
    print_port_types(stream);
}
