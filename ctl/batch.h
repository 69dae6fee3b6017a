#ifndef CTL_BATCH_H
#define CTL_BATCH_H 1

#include <stdbool.h>
#include <stddef.h>

#include "build.h"

/* vswitch-ctl batch: many changes in one request, which the daemon
 * applies all or none, with one save.  Each command is written as on the
 * command line and goes through the same table, builder and checks
 * (command_prepare()); only the changes of ports, VNIs, bindings and
 * static MACs may be in a batch.  A command may start with --may-exist
 * or --if-exists, for itself alone; those given before "batch" apply to
 * every command. */

/* The builder of "batch FILE|-": one command a line; words are split at
 * blanks, "..." and '...' quote (a backslash escapes the next character
 * outside '...'), '#' at the start of a word comments out the rest of the
 * line, blank lines are left out.  Errors name the line. */
build_func batch_build_file;

/* Builds the batch of 'text' (a file's contents, which 'b' owns and which
 * is split in place), as batch_build_file() does. */
int batch_build_text(struct build *b, char *text);

/* Says whether 'argv' holds a "--" between commands: "a -- b -- c". */
bool batch_has_separator(char *argv[], size_t argc);

/* Builds the batch of the commands of 'argv' that "--" separates; errors
 * name the command by its number, from 1. */
build_func batch_build_args;

#endif /* ctl/batch.h */
