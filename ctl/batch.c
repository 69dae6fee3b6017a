#include <config.h>

#include "batch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "request.h"

/* The commands of a batch being built.  The arrays grow here and are
 * copied into the build at the end, so that it owns them once. */
struct batch {
    struct build *b;
    const char *unit;           /* "line" or "command". */
    Vswitch__BatchCommand **commands;
    uint32_t *lines;
    size_t n, cap;
};

/* Refuses command 'number' of 'bt' with the reason 'reason'. */
static int
refuse(struct batch *bt, unsigned int number, const char *reason)
{
    char copy[REQUEST_ERROR_SIZE];

    snprintf(copy, sizeof copy, "%s", reason);
    return build_invalid(bt->b, "%s %u: %s", bt->unit, number, copy);
}

static int
append(struct batch *bt, Vswitch__BatchCommand *cmd, unsigned int number)
{
    if (bt->n == bt->cap) {
        size_t cap = bt->cap ? bt->cap * 2 : 64;
        Vswitch__BatchCommand **commands = realloc(bt->commands,
                                                   cap * sizeof *commands);
        uint32_t *lines;

        if (!commands) {
            return ENOMEM;
        }
        bt->commands = commands;
        lines = realloc(bt->lines, cap * sizeof *lines);
        if (!lines) {
            return ENOMEM;
        }
        bt->lines = lines;
        bt->cap = cap;
    }
    bt->commands[bt->n] = cmd;
    bt->lines[bt->n++] = number;
    return 0;
}

/* Strips the options that 'argv' starts with, --may-exist and
 * --if-exists, into 'req'; returns how many there were, or SIZE_MAX with
 * the reason in 'reason'. */
static size_t
take_options(char *argv[], size_t argc, Vswitch__Request *req,
             char *reason, size_t size)
{
    size_t i;

    for (i = 0; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--may-exist") && !req->has_may_exist) {
            req->has_may_exist = req->may_exist = true;
        } else if (!strcmp(argv[i], "--if-exists") && !req->has_if_exists) {
            req->has_if_exists = req->if_exists = true;
        } else {
            snprintf(reason, size, "option '%s' cannot be given here (only "
                     "--may-exist and --if-exists, once each; the others "
                     "go before 'batch')", argv[i]);
            return SIZE_MAX;
        }
    }
    return i;
}

/* Builds the command of 'argv' as request 'number' of 'bt', through the
 * command table as if it were given alone. */
static int
add_command(struct batch *bt, char *argv[], size_t argc, unsigned int number)
{
    const struct command *cmd;
    struct build child;
    Vswitch__BatchCommand change, *copy;
    size_t n_options;
    int error;

    build_init(&child);
    n_options = take_options(argv, argc, &child.request, child.error,
                             sizeof child.error);
    if (n_options == SIZE_MAX) {
        return refuse(bt, number, child.error);
    }
    argv += n_options;
    argc -= n_options;
    if (!argc) {
        return refuse(bt, number, "no command after the options");
    }
    cmd = command_find(argv[0]);
    if (!cmd) {
        snprintf(child.error, sizeof child.error, "unknown command '%s'",
                 argv[0]);
        return refuse(bt, number, child.error);
    }
    if (cmd->read_only || cmd->build == batch_build_file) {
        snprintf(child.error, sizeof child.error, "%s cannot be in a batch: "
                 "%s", cmd->name, cmd->read_only ? "it only reads"
                 : "a batch holds no batch");
        return refuse(bt, number, child.error);
    }

    /* The options stay: the builder starts from the request as is. */
    error = command_prepare(cmd, argv + 1, argc - 1, &child);
    if (!error && !request_to_batch_command(&child.request, &change)) {
        error = build_invalid(&child, "%s cannot be in a batch: only "
                              "changes of ports, VNIs, bindings, static "
                              "MACs and EVPN state can", cmd->name);
    }
    if (!error) {
        /* The command points into the pieces of 'child', which the batch
         * adopts. */
        copy = build_alloc(bt->b, &change, sizeof change);
        error = !copy ? ENOMEM : build_adopt(bt->b, &child);
        error = error ? error : append(bt, copy, number);
    }
    if (error == EINVAL) {
        refuse(bt, number, child.error);
    }
    build_destroy(&child);
    return error;
}

/* Puts the commands of 'bt' into its build's request. */
static int
finish(struct batch *bt, const char *empty)
{
    static const Vswitch__Batch init = VSWITCH__BATCH__INIT;
    struct build *b = bt->b;
    Vswitch__Batch *batch;

    if (!bt->n) {
        return build_invalid(b, "%s", empty);
    }
    batch = build_alloc(b, &init, sizeof init);
    if (!batch) {
        return ENOMEM;
    }
    batch->commands = build_alloc(b, bt->commands,
                                  bt->n * sizeof *bt->commands);
    batch->lines = build_alloc(b, bt->lines, bt->n * sizeof *bt->lines);
    batch->unit = (char *) (strcmp(bt->unit, "line") ? bt->unit : NULL);
    if (!batch->commands || !batch->lines) {
        return ENOMEM;
    }
    batch->n_commands = batch->n_lines = bt->n;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_BATCH;
    b->request.batch = batch;
    return 0;
}

static void
batch_free(struct batch *bt)
{
    free(bt->commands);
    free(bt->lines);
}

static bool
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Reads the word at '*in' into 'out' (at most where it starts), undoing
 * the quotes; moves '*in' past it.  Returns false if a quote is not
 * closed. */
static bool
take_word(char **in_, char *out)
{
    char *in = *in_;

    while (*in && !is_blank(*in)) {
        char quote = *in;

        if (quote == '\'' || quote == '"') {
            for (in++; *in && *in != quote; ) {
                if (quote == '"' && *in == '\\' && in[1]) {
                    in++;
                }
                *out++ = *in++;
            }
            if (!*in) {
                return false;
            }
            in++;
        } else {
            if (*in == '\\' && in[1]) {
                in++;
            }
            *out++ = *in++;
        }
    }
    /* 'out' is at most at the blank that ends the word, left behind. */
    if (*in) {
        in++;
    }
    *out = '\0';
    *in_ = in;
    return true;
}

/* Splits 'line' in place into '*n' words in '*words' (grown as needed,
 * the caller frees it).  Returns 0, EINVAL for a quote not closed, or
 * ENOMEM. */
static int
split_line(char *line, char ***words, size_t *n, size_t *cap)
{
    *n = 0;
    for (;;) {
        while (is_blank(*line)) {
            line++;
        }
        if (!*line || *line == '#') {
            return 0;
        }
        if (*n == *cap) {
            size_t bigger = *cap ? *cap * 2 : 16;
            char **grown = realloc(*words, bigger * sizeof *grown);

            if (!grown) {
                return ENOMEM;
            }
            *words = grown;
            *cap = bigger;
        }
        (*words)[(*n)++] = line;
        if (!take_word(&line, line)) {
            return EINVAL;
        }
    }
}

int
batch_build_text(struct build *b, char *text)
{
    struct batch bt = { .b = b, .unit = "line" };
    char **words = NULL;
    size_t n_words, cap = 0;
    unsigned int number = 0;
    int error = 0;

    for (char *line = text; line && !error; ) {
        char *nl = strchr(line, '\n');

        if (nl) {
            *nl = '\0';
        }
        number++;
        error = split_line(line, &words, &n_words, &cap);
        if (error == EINVAL) {
            refuse(&bt, number, "a quote is not closed");
        } else if (!error && n_words) {
            /* The request may point into the words: each line has its
             * own, which 'b' owns. */
            char **argv = build_alloc(b, words, n_words * sizeof *words);

            error = argv ? add_command(&bt, argv, n_words, number) : ENOMEM;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(words);
    if (!error) {
        error = finish(&bt, "the batch holds no command");
    }
    batch_free(&bt);
    return error;
}

int
batch_build_file(struct build *b, char *argv[], size_t argc)
{
    char *text;
    int error;

    (void) argc;
    error = build_read_file(b, argv[0], &text);
    return error ? error : batch_build_text(b, text);
}

bool
batch_has_separator(char *argv[], size_t argc)
{
    for (size_t i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            return true;
        }
    }
    return false;
}

int
batch_build_args(struct build *b, char *argv[], size_t argc)
{
    struct batch bt = { .b = b, .unit = "command" };
    unsigned int number = 0;
    size_t start = 0;
    int error = 0;

    for (size_t i = 0; i <= argc && !error; i++) {
        if (i == argc || !strcmp(argv[i], "--")) {
            if (i > start) {
                error = add_command(&bt, argv + start, i - start, ++number);
            }
            start = i + 1;
        }
    }
    if (!error) {
        error = finish(&bt, "no command between the '--'s");
    }
    batch_free(&bt);
    return error;
}
