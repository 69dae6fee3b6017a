#ifndef CTL_COMMAND_H
#define CTL_COMMAND_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "build.h"
#include "port.h"
#include "print.h"
#include "vswitch.pb-c.h"

/* The commands of vswitch-ctl.  One static table drives dispatch, the
 * argument counts, --help and --list-commands, so that none of them can
 * forget a command. */

#define COMMAND_NO_MAX SIZE_MAX

struct command {
    const char *name;
    size_t min_args, max_args;  /* Arguments after the name. */
    const char *usage;          /* The arguments, "NAME type=TYPE ...". */
    const char *description;    /* One line. */
    build_func *build;
    print_func *print;          /* NULL: success prints nothing. */

    /* What a successful response must carry for 'print'; a response
     * without it is a broken conversation.  NOT_SET: no check. */
    Vswitch__Response__PayloadCase payload;

    bool read_only;             /* Allowed to any peer of the socket. */

    /* Takes options of its own after its name (--strict, --pcap), which
     * its builder reads; other commands refuse arguments that look like
     * options, which go before the command. */
    bool own_options;
};

/* Returns the command called 'name', or NULL. */
const struct command *command_find(const char *name);

/* Builds the request of 'cmd' from its 'argc' arguments into 'b' and
 * checks it (request_check()), as every command is: the counts of
 * arguments, options only for a command that takes its own.  Returns 0,
 * or an errno value (EINVAL: bad arguments) with a one-line message that
 * starts with the command's name in 'b->error'. */
int command_prepare(const struct command *, char *argv[], size_t argc,
                    struct build *);

/* Returns the table; '*n' is set to the number of commands. */
const struct command *command_table(size_t *n);

/* Returns how the usage text shows a value of a port option of 'kind':
 * "IP", "true|false", "FILE"... (the words of ctl/usage.h). */
const char *command_option_placeholder(enum port_option_kind kind);

/* Writes each command with its arguments and description, read-only
 * commands first, then the port types and their options that add-port
 * and set-port take. */
void command_print_help(FILE *);

#endif /* ctl/command.h */
