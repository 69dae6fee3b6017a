#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "build.h"
#include "capture.h"
#include "monitor.h"
#include "client.h"
#include "command.h"
#include "complete.h"
#include "dstring.h"
#include "frame.h"
#include "output.h"
#include "print.h"
#include "port.h"
#include "request.h"

/* vswitch-ctl: parses the global options, then runs one command of the
 * table in ctl/command.c: build the request, check it, send it, print the
 * response. */

/* From configure's --runstatedir, as vswitchd's. */
#define DEFAULT_SOCKET VSW_RUNDIR "/vswitchd.sock"
#define DEFAULT_TIMEOUT 10

/* The text of a macro's value, for the help. */
#define TEXT(x) #x
#define VALUE_TEXT(x) TEXT(x)

/* The exit statuses that scripts can rely on. */
enum {
    STATUS_SUCCESS = 0,
    STATUS_REFUSED = 1,         /* The daemon said no; or a local failure
                                 * after it said yes (writing the output). */
    STATUS_USAGE = 2,           /* Bad arguments: nothing was sent. */
    STATUS_UNREACHABLE = 3,     /* No daemon, or no sensible answer. */
};

struct settings {
    const char *socket;
    enum output_format format;
    bool format_given;          /* monitor's default is JSON. */
    unsigned int timeout;       /* Seconds; 0 waits forever. */
    bool may_exist;
    bool if_exists;
};

/* Prints "vswitch-ctl: MESSAGE" on one line of stderr and returns
 * 'status'.  Messages may quote arguments or the daemon's words, so
 * control characters are replaced to keep them one line. */
static int __attribute__((format(printf, 2, 3)))
complain(int status, const char *format, ...)
{
    char msg[1024];
    va_list args;

    va_start(args, format);
    vsnprintf(msg, sizeof msg, format, args);
    va_end(args);
    for (char *p = msg; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    fprintf(stderr, "vswitch-ctl: %s\n", msg);
    return status;
}

/* The options before the command, as --help shows them.  The synopses
 * are usage text (ctl/usage.h), which completion reads too. */
static const struct {
    const char *synopsis;
    const char *help;
} option_help[] = {
    { "--socket PATH", "the daemon's socket (default: $VSWITCH_SOCKET, "
      "else\n" "                       " DEFAULT_SOCKET ")" },
    { "--format table|json", "output for people or for scripts (default: "
      "table)" },
    { "--timeout SECS", "give up after SECS seconds, 0 never (default: "
      VALUE_TEXT(DEFAULT_TIMEOUT) ")" },
    { "--may-exist", "adding what exists succeeds" },
    { "--if-exists", "removing what does not exist succeeds" },
    { "--list-commands", "print the command names and exit" },
    { "-h, --help", "print this help and exit" },
    { "-V, --version", "print the version and exit" },
};

static void
print_usage(void)
{
    printf("usage: vswitch-ctl [OPTIONS] COMMAND [ARG...]\n"
           "Configures and inspects vswitchd, the userspace VXLAN switch.\n"
           "\n"
           "Options, before the command:\n");
    for (size_t i = 0; i < sizeof option_help / sizeof *option_help; i++) {
        printf("  %-20s %s\n", option_help[i].synopsis, option_help[i].help);
    }
    printf("\n"
           "Exit status: 0 done, 1 refused by vswitchd, 2 bad arguments, "
           "3 vswitchd not\n"
           "reachable or no sensible answer.\n"
           "\n");
    command_print_help(stdout);
}

/* "vswitch-ctl __complete BREAKS LINE", which the bash completion script
 * runs: see complete_line().  It is no command of the table, and no
 * option, so that neither --help nor the manual's lists show it. */
static int
complete(const char *breaks, const char *line)
{
    const char *env = getenv("VSWITCH_SOCKET");
    struct ds options = DS_EMPTY_INITIALIZER;
    struct complete_context ctx = {
        .socket_option = "--socket",
        .socket = env && *env ? env : DEFAULT_SOCKET,
        .source = &complete_daemon,
    };

    for (size_t i = 0; i < sizeof option_help / sizeof *option_help; i++) {
        ds_put_format(&options, "%s ", option_help[i].synopsis);
    }
    ctx.options = ds_cstr(&options);
    complete_line(&ctx, line, breaks, stdout);
    ds_destroy(&options);
    return fflush(stdout) ? STATUS_REFUSED : STATUS_SUCCESS;
}

static void
print_command_names(void)
{
    size_t n;
    const struct command *commands = command_table(&n);

    for (size_t i = 0; i < n; i++) {
        puts(commands[i].name);
    }
}

enum {
    OPT_SOCKET = 256,
    OPT_FORMAT,
    OPT_TIMEOUT,
    OPT_MAY_EXIST,
    OPT_IF_EXISTS,
    OPT_LIST_COMMANDS,
};

static const struct option long_options[] = {
    { "socket", required_argument, NULL, OPT_SOCKET },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "may-exist", no_argument, NULL, OPT_MAY_EXIST },
    { "if-exists", no_argument, NULL, OPT_IF_EXISTS },
    { "list-commands", no_argument, NULL, OPT_LIST_COMMANDS },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* Handles one option 'opt' with argument 'arg'.  Returns true to go on,
 * or false with the status to exit with in '*status'. */
static bool
apply_option(int opt, const char *arg, struct settings *s, int *status)
{
    unsigned int timeout;

    *status = STATUS_SUCCESS;
    switch (opt) {
    case OPT_SOCKET:
        if (!*arg) {
            *status = complain(STATUS_USAGE, "--socket needs a path");
            return false;
        }
        s->socket = arg;
        return true;
    case OPT_FORMAT:
        if (!output_parse_format(arg, &s->format)) {
            *status = complain(STATUS_USAGE, "unknown format '%s' (table "
                               "or json)", arg);
            return false;
        }
        s->format_given = true;
        return true;
    case OPT_TIMEOUT:
        /* Whole seconds; the bound keeps milliseconds far from
         * overflow. */
        if (!port_option_parse_uint(arg, 0, 2000000, &timeout)) {
            *status = complain(STATUS_USAGE, "--timeout: '%s' is not a "
                               "number of seconds (0-2000000)", arg);
            return false;
        }
        s->timeout = timeout;
        return true;
    case OPT_MAY_EXIST:
        s->may_exist = true;
        return true;
    case OPT_IF_EXISTS:
        s->if_exists = true;
        return true;
    case OPT_LIST_COMMANDS:
        print_command_names();
        return false;
    case 'h':
        print_usage();
        return false;
    case 'V':
        puts("vswitch-ctl " PACKAGE_VERSION);
        return false;
    default:
        *status = complain(STATUS_USAGE, "internal error: option %d", opt);
        return false;
    }
}

/* Returns the long name of option 'opt', for messages. */
static const char *
option_name(int opt)
{
    for (const struct option *o = long_options; o->name; o++) {
        if (o->val == opt) {
            return o->name;
        }
    }
    return "?";
}

/* Reports what getopt_long() found wrong with 'arg' and returns the exit
 * status. */
static int
bad_option(int opt, const char *arg)
{
    bool is_long = !strncmp(arg, "--", 2);

    if (opt == ':') {
        return complain(STATUS_USAGE, "option '%s' needs an argument", arg);
    } else if (is_long && optopt) {
        return complain(STATUS_USAGE, "option '%s' takes no argument", arg);
    } else if (is_long) {
        return complain(STATUS_USAGE, "unknown option '%s'", arg);
    }
    return complain(STATUS_USAGE, "unknown option '-%c'", optopt);
}

/* Parses the options before the command into 's'.  Returns true if the
 * command should run, with 'argv[*first]' its name, or false with the
 * status to exit with in '*status'. */
static bool
parse_settings(int argc, char *argv[], struct settings *s, int *first,
               int *status)
{
    const char *env = getenv("VSWITCH_SOCKET");
    bool seen[OPT_LIST_COMMANDS + 1] = { false };
    int opt;

    s->socket = env && *env ? env : DEFAULT_SOCKET;
    s->format = OUTPUT_TABLE;
    s->format_given = false;
    s->timeout = DEFAULT_TIMEOUT;
    s->may_exist = s->if_exists = false;

    /* '+': options end at the command, whose arguments are its own.
     * ':': a missing argument is told apart from an unknown option.
     * getopt's own messages are off so that ours have the usual form. */
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:hV", long_options, NULL))
           != -1) {
        if (opt == '?' || opt == ':') {
            *status = bad_option(opt, argv[optind - 1]);
            return false;
        }
        if (opt < 0 || opt > OPT_LIST_COMMANDS || seen[opt]) {
            *status = complain(STATUS_USAGE, "option '--%s' given twice",
                               option_name(opt));
            return false;
        }
        seen[opt] = true;
        if (!apply_option(opt, optarg, s, status)) {
            return false;
        }
    }
    if (optind >= argc) {
        *status = complain(STATUS_USAGE, "no command given (try --help)");
        return false;
    }
    *first = optind;
    return true;
}

static const char *
status_name(Vswitch__Status status)
{
    switch (status) {
    case VSWITCH__STATUS__STATUS_INVALID:
        return "invalid request";
    case VSWITCH__STATUS__STATUS_NOT_FOUND:
        return "not found";
    case VSWITCH__STATUS__STATUS_EXISTS:
        return "already exists";
    case VSWITCH__STATUS__STATUS_DENIED:
        return "permission denied";
    case VSWITCH__STATUS__STATUS_FAILED:
        return "failed";
    case VSWITCH__STATUS__STATUS_OK:
    case VSWITCH__STATUS__STATUS_VERSION:
    case _VSWITCH__STATUS_IS_INT_SIZE:
    default:
        return "refused";
    }
}

/* Judges 'r' and prints what it carries.  Returns the exit status. */
static int
handle_response(const struct settings *s, const struct command *cmd,
                const Vswitch__Response *r, double rtt_ms)
{
    const char *error = r->error && *r->error ? r->error : NULL;

    if (r->status == VSWITCH__STATUS__STATUS_VERSION) {
        return complain(STATUS_UNREACHABLE, "%s", error ? error
                        : "vswitchd does not speak vswitch-ctl's protocol");
    }
    if (r->protocol != VSWITCH__PROTOCOL__PROTOCOL_VERSION) {
        return complain(STATUS_UNREACHABLE, "vswitchd at %s speaks protocol "
                        "%u, vswitch-ctl speaks %u", s->socket,
                        r->protocol, VSWITCH__PROTOCOL__PROTOCOL_VERSION);
    }
    if (r->status != VSWITCH__STATUS__STATUS_OK) {
        return complain(STATUS_REFUSED, "%s", error ? error
                        : status_name(r->status));
    }
    if (cmd->payload != VSWITCH__RESPONSE__PAYLOAD__NOT_SET
        && r->payload_case != cmd->payload) {
        return complain(STATUS_UNREACHABLE, "vswitchd at %s answered %s "
                        "with the wrong kind of response", s->socket,
                        cmd->name);
    }
    if (!cmd->print) {
        return STATUS_SUCCESS;
    }

    int exit_status = STATUS_SUCCESS;
    struct print_context ctx = { r, s->socket, rtt_ms, &exit_status };
    struct output *out = output_create(stdout, s->format);
    int code;

    if (!out) {
        return complain(STATUS_REFUSED, "out of memory");
    }
    cmd->print(out, &ctx);
    code = output_finish(out);
    if (code) {
        return complain(STATUS_REFUSED, "cannot write the output: %s",
                        strerror(code));
    }
    return exit_status;
}

/* Builds and checks the request of 'cmd' from its 'argc' arguments into
 * 'b'.  Returns true if it may be sent, or false with the status to exit
 * with in '*status'. */
static bool
prepare(const struct settings *s, const struct command *cmd,
        char *argv[], size_t argc, struct build *b, int *status)
{
    int error = cmd ? command_prepare(cmd, argv, argc, b)
                    : batch_build_args(b, argv, argc);

    if (error) {
        *status = complain(error == EINVAL ? STATUS_USAGE : STATUS_REFUSED,
                           "%s", b->error);
        return false;
    }
    if (s->may_exist) {
        b->request.has_may_exist = b->request.may_exist = true;
    }
    if (s->if_exists) {
        b->request.has_if_exists = b->request.if_exists = true;
    }
    if (protobuf_c_message_get_packed_size(&b->request.base)
        > FRAME_MAX_LARGE_REQUEST) {
        *status = complain(STATUS_USAGE, "%s: the request is larger than "
                           "%u MiB%s", cmd ? cmd->name : "batch",
                           FRAME_MAX_LARGE_REQUEST >> 20,
                           b->request.command_case
                           == VSWITCH__REQUEST__COMMAND_BATCH
                           ? ": split it into several batches" : "");
        return false;
    }
    return true;
}

/* Sends 'request' of 'cmd' and judges the response.  Returns the exit
 * status. */
static int
transact(const struct settings *s, const struct command *cmd,
         const Vswitch__Request *request)
{
    Vswitch__Response *response;
    char error[CLIENT_ERROR_SIZE];
    double rtt_ms;
    int status;

    if (client_transact(s->socket, request, s->timeout, &response, &rtt_ms,
                        error)) {
        return complain(STATUS_UNREACHABLE, "%s", error);
    }
    status = handle_response(s, cmd, response, rtt_ms);
    vswitch__response__free_unpacked(response, NULL);
    return status;
}

static int
run(const struct settings *s, char *argv[], size_t argc)
{
    const struct command *cmd = command_find(argv[0]);
    struct build b;
    int status;

    if (batch_has_separator(argv, argc)) {
        /* "a -- b -- c": a batch of the commands between the "--"s. */
        build_init(&b);
        if (prepare(s, NULL, argv, argc, &b, &status)) {
            status = transact(s, command_find("batch"), &b.request);
        }
        build_destroy(&b);
        return status;
    }
    if (!cmd) {
        return complain(STATUS_USAGE, "unknown command '%s' (try --help)",
                        argv[0]);
    }
    build_init(&b);
    if (prepare(s, cmd, argv + 1, argc - 1, &b, &status)) {
        if (cmd->payload == VSWITCH__RESPONSE__PAYLOAD_CAPTURE) {
            /* Answered by a stream. */
            status = capture_run(s->socket, s->timeout, &b.request,
                                 argv + 1, argc - 1);
        } else if (cmd->payload == VSWITCH__RESPONSE__PAYLOAD_MONITOR) {
            status = monitor_run(s->socket, s->timeout, &b.request,
                                 !s->format_given
                                 || s->format == OUTPUT_JSON);
        } else {
            status = transact(s, cmd, &b.request);
        }
    }
    build_destroy(&b);
    return status;
}

int
main(int argc, char *argv[])
{
    struct settings settings;
    int first;
    int status;

    if (argc == 4 && !strcmp(argv[1], "__complete")) {
        return complete(argv[2], argv[3]);
    }
    if (!parse_settings(argc, argv, &settings, &first, &status)) {
        return status;
    }
    return run(&settings, argv + first, (size_t) (argc - first));
}
