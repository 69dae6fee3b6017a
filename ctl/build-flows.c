#include <config.h>

#include "build.h"

#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"

/* Builders of the flow commands: flow files read here, frames taken from
 * captures here, the flow text itself left to the daemon, which alone
 * knows the ports' names. */

/* A file larger than a request could carry is refused before it is read
 * whole. */
#define FLOW_FILE_MAX (16u << 20)

/* Reads all of 'stream' into a string that 'b' owns. */
static int
read_stream(struct build *b, FILE *stream, const char *name, char **textp)
{
    size_t cap = 65536, len = 0;
    char *text = malloc(cap);
    int error = 0;

    while (text) {
        size_t n = fread(text + len, 1, cap - len - 1, stream);

        len += n;
        if (len < cap - 1) {
            break;
        }
        if (cap >= FLOW_FILE_MAX) {
            error = build_invalid(b, "%s is larger than %u MiB", name,
                                  FLOW_FILE_MAX >> 20);
            break;
        }
        cap *= 2;

        char *bigger = realloc(text, cap);

        if (!bigger) {
            free(text);
        }
        text = bigger;
    }
    if (!text) {
        return ENOMEM;
    }
    if (!error && ferror(stream)) {
        error = build_invalid(b, "%s: %s", name, strerror(errno));
    }
    text[len] = '\0';
    if (!error && strlen(text) != len) {
        error = build_invalid(b, "%s holds a NUL byte: not a text file",
                              name);
    }
    if (!error) {
        *textp = build_alloc(b, text, len + 1);
        error = *textp ? 0 : ENOMEM;
    }
    free(text);
    return error;
}

static bool
is_blank_or_comment(const char *line)
{
    line += strspn(line, " \t\r");
    return !*line || *line == '#';
}

int
build_read_file(struct build *b, const char *name, char **textp)
{
    bool is_stdin = !strcmp(name, "-");
    FILE *stream = is_stdin ? stdin : fopen(name, "r");
    int error;

    if (!stream) {
        return build_invalid(b, "%s: %s", name, strerror(errno));
    }
    error = read_stream(b, stream, is_stdin ? "standard input" : name,
                        textp);
    if (!is_stdin) {
        fclose(stream);
    }
    return error;
}

/* Fills 'f' with the flows of file 'name' ('-': standard input), one a
 * line, leaving out blank lines and '#' comments. */
static int
read_flow_file(struct build *b, const char *name, Vswitch__FlowLines *f)
{
    char *text, *line;
    size_t n = 1;
    unsigned int number = 0;
    int error = build_read_file(b, name, &text);

    if (error) {
        return error;
    }
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    f->lines = build_alloc_zeroed(b, n, sizeof *f->lines);
    f->line_numbers = build_alloc_zeroed(b, n, sizeof *f->line_numbers);
    if (!f->lines || !f->line_numbers) {
        return ENOMEM;
    }
    for (line = text; line; ) {
        char *nl = strchr(line, '\n');

        if (nl) {
            *nl = '\0';
        }
        number++;
        if (!is_blank_or_comment(line)) {
            size_t len = strlen(line);

            /* A file written on Windows. */
            if (len && line[len - 1] == '\r') {
                line[len - 1] = '\0';
            }
            f->lines[f->n_lines] = line;
            f->line_numbers[f->n_line_numbers++] = number;
            f->n_lines++;
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int
new_flow_lines(struct build *b, Vswitch__FlowLines **fp)
{
    static const Vswitch__FlowLines init = VSWITCH__FLOW_LINES__INIT;

    *fp = build_alloc(b, &init, sizeof init);
    return *fp ? 0 : ENOMEM;
}

int
build_add_flow(struct build *b, char *argv[], size_t argc)
{
    Vswitch__FlowLines *f;

    (void) argc;
    if (new_flow_lines(b, &f)) {
        return ENOMEM;
    }
    f->lines = build_alloc_zeroed(b, 1, sizeof *f->lines);
    if (!f->lines) {
        return ENOMEM;
    }
    f->lines[0] = argv[0];
    f->n_lines = 1;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_ADD_FLOWS;
    b->request.add_flows = f;
    return 0;
}

static int
build_file_command(struct build *b, char *argv[],
                   Vswitch__Request__CommandCase command,
                   Vswitch__FlowLines **slot)
{
    Vswitch__FlowLines *f;
    int error;

    if (new_flow_lines(b, &f)) {
        return ENOMEM;
    }
    error = read_flow_file(b, argv[0], f);
    if (!error) {
        b->request.command_case = command;
        *slot = f;
    }
    return error;
}

int
build_add_flows(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return build_file_command(b, argv, VSWITCH__REQUEST__COMMAND_ADD_FLOWS,
                              &b->request.add_flows);
}

int
build_replace_flows(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return build_file_command(b, argv,
                              VSWITCH__REQUEST__COMMAND_REPLACE_FLOWS,
                              &b->request.replace_flows);
}

int
build_diff_flows(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return build_file_command(b, argv, VSWITCH__REQUEST__COMMAND_DIFF_FLOWS,
                              &b->request.diff_flows);
}

/* Takes a leading "--strict" off the arguments.  Returns EINVAL for any
 * other option. */
static int
take_strict(struct build *b, char ***argv, size_t *argc, bool *strict)
{
    *strict = false;
    while (*argc && !strncmp((*argv)[0], "--", 2)) {
        if (strcmp((*argv)[0], "--strict") || *strict) {
            return build_invalid(b, "unknown option '%s' (only --strict, "
                                 "once)", (*argv)[0]);
        }
        *strict = true;
        (*argv)++;
        (*argc)--;
    }
    return 0;
}

int
build_mod_flows(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__FlowMod init = VSWITCH__FLOW_MOD__INIT;
    Vswitch__FlowMod *m = build_alloc(b, &init, sizeof init);
    bool strict;
    int error = take_strict(b, &argv, &argc, &strict);

    if (error) {
        return error;
    }
    if (argc != 1) {
        return build_invalid(b, "give one flow");
    }
    if (!m) {
        return ENOMEM;
    }
    m->flow = argv[0];
    m->has_strict = m->strict = strict;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_MOD_FLOWS;
    b->request.mod_flows = m;
    return 0;
}

static int
new_filter(struct build *b, char *argv[], size_t argc,
           Vswitch__FlowFilter **fp)
{
    static const Vswitch__FlowFilter init = VSWITCH__FLOW_FILTER__INIT;
    Vswitch__FlowFilter *f = build_alloc(b, &init, sizeof init);
    bool strict;
    int error = take_strict(b, &argv, &argc, &strict);

    if (error) {
        return error;
    }
    if (argc > 1) {
        return build_invalid(b, "give at most one flow");
    }
    if (strict && !argc) {
        return build_invalid(b, "--strict needs a flow");
    }
    if (!f) {
        return ENOMEM;
    }
    f->flow = argc ? argv[0] : NULL;
    f->has_strict = f->strict = strict;
    *fp = f;
    return 0;
}

int
build_del_flows(struct build *b, char *argv[], size_t argc)
{
    b->request.command_case = VSWITCH__REQUEST__COMMAND_DEL_FLOWS;
    return new_filter(b, argv, argc, &b->request.del_flows);
}

int
build_dump_flows(struct build *b, char *argv[], size_t argc)
{
    b->request.command_case = VSWITCH__REQUEST__COMMAND_DUMP_FLOWS;
    return new_filter(b, argv, argc, &b->request.dump_flows);
}

/* Copies frame number 'number' (from 1) of capture 'path' into 'trace'. */
static int
read_frame(struct build *b, const char *path, unsigned int number,
           Vswitch__Trace *trace)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(path, errbuf);
    struct pcap_pkthdr *header;
    const u_char *data;
    unsigned int i = 0;
    int error = 0;

    if (!pcap) {
        return build_invalid(b, "%s", errbuf);
    }
    while (i < number) {
        int rc = pcap_next_ex(pcap, &header, &data);

        if (rc != 1) {
            error = rc == PCAP_ERROR_BREAK
                    ? build_invalid(b, "%s holds %u frames, not %u", path, i,
                                    number)
                    : build_invalid(b, "%s: %s", path, pcap_geterr(pcap));
            break;
        }
        i++;
    }
    if (!error && header->caplen < header->len) {
        error = build_invalid(b, "%s: frame %u was captured cut short "
                              "(%u of %u bytes)", path, number, header->caplen,
                              header->len);
    }
    if (!error && pcap_datalink(pcap) != DLT_EN10MB) {
        error = build_invalid(b, "%s does not hold Ethernet frames", path);
    }
    if (!error) {
        trace->frame.data = build_alloc(b, data, header->caplen);
        trace->frame.len = header->caplen;
        trace->has_frame = true;
        error = trace->frame.data ? 0 : ENOMEM;
    }
    pcap_close(pcap);
    return error;
}

/* trace FLOW, or trace --pcap FILE [--frame N] in_port=PORT. */
int
build_trace(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__Trace init = VSWITCH__TRACE__INIT;
    Vswitch__Trace *t = build_alloc(b, &init, sizeof init);
    const char *pcap = NULL;
    unsigned int frame = 0;
    int error;

    if (!t) {
        return ENOMEM;
    }
    for (; argc && !strncmp(argv[0], "--", 2); argv++, argc--) {
        if (!strcmp(argv[0], "--pcap") && argc > 1 && !pcap) {
            pcap = *++argv;
            argc--;
        } else if (!strcmp(argv[0], "--frame") && argc > 1 && !frame) {
            if (!port_option_parse_uint(argv[1], 1, UINT_MAX, &frame)) {
                return build_invalid(b, "--frame: '%s' is not a frame "
                                     "number (from 1)", argv[1]);
            }
            argv++;
            argc--;
        } else {
            return build_invalid(b, "'%s': trace takes --pcap FILE and "
                                 "--frame N, each once and with its value",
                                 argv[0]);
        }
    }
    if (argc != 1) {
        return build_invalid(b, pcap ? "give in_port=PORT after the capture"
                                     : "give one flow");
    }
    if (!pcap) {
        if (frame) {
            return build_invalid(b, "--frame needs --pcap");
        }
        t->flow = argv[0];
    } else {
        if (strncmp(argv[0], "in_port=", 8)) {
            return build_invalid(b, "give in_port=PORT after the capture");
        }
        t->in_port = argv[0] + 8;
        error = read_frame(b, pcap, frame ? frame : 1, t);
        if (error) {
            return error;
        }
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_TRACE;
    b->request.trace = t;
    return 0;
}
