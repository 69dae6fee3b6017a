#include <config.h>

/* libFuzzer target for the flow syntax: the input is one line of flow
 * text, parsed in each mode.  Whatever parses must print as text that
 * parses back, in the same mode, to an equal rule: what dump-flows prints
 * must be what add-flows takes. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstring.h"
#include "flow-text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer lines add nothing that a short one cannot reach. */
#define MAX_LINE 4096

/* Ports "p1" to "p9" have names, so that names and numbers both print
 * back; other numbers print as numbers. */
static uint32_t
fuzz_port_no(void *aux, const char *name)
{
    (void) aux;
    return name[0] == 'p' && name[1] >= '1' && name[1] <= '9' && !name[2]
           ? (uint32_t) (name[1] - '0') : 0;
}

static const char *
fuzz_port_name(void *aux, uint32_t port_no)
{
    static char name[3];

    (void) aux;
    if (port_no < 1 || port_no > 9) {
        return NULL;
    }
    snprintf(name, sizeof name, "p%"PRIu32, port_no);
    return name;
}

static const struct flow_text_ports ports = {
    fuzz_port_no, fuzz_port_name, NULL
};

static void __attribute__((noreturn))
fail(const char *line, const char *printed, const char *what)
{
    fprintf(stderr, "fuzz-flow-text: '%s' printed as '%s': %s\n", line,
            printed, what);
    abort();
}

static bool
specs_equal(const struct flow_spec *a, const struct flow_spec *b)
{
    return (match_equal(&a->match, &b->match)
            && a->priority == b->priority
            && a->table == b->table
            && a->cookie == b->cookie
            && a->cookie_mask == b->cookie_mask
            && a->idle_timeout == b->idle_timeout
            && a->hard_timeout == b->hard_timeout
            && (a->actions == NULL) == (b->actions == NULL)
            && flow_actions_equal(a->actions, b->actions));
}

static void
check_mode(const char *line, enum flow_text_mode mode)
{
    struct ds error = DS_EMPTY_INITIALIZER;
    struct ds printed = DS_EMPTY_INITIALIZER;
    struct flow_spec spec, again;

    if (flow_text_parse(line, mode, &ports, &spec, &error)) {
        if (strchr(ds_cstr(&error), '\n') || !error.length) {
            fail(line, "", "an error is not one line");
        }
        ds_destroy(&error);
        return;
    }
    flow_text_format_spec(&printed, &spec, &ports);
    if (flow_text_parse(ds_cstr(&printed), mode, &ports, &again, &error)) {
        fail(line, ds_cstr(&printed), ds_cstr(&error));
    }
    if (!specs_equal(&spec, &again)) {
        fail(line, ds_cstr(&printed), "parses back to another rule");
    }
    flow_spec_uninit(&again);
    flow_spec_uninit(&spec);
    ds_destroy(&printed);
    ds_destroy(&error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum flow_text_mode modes[] = {
        FLOW_TEXT_ADD, FLOW_TEXT_MODIFY, FLOW_TEXT_FILTER, FLOW_TEXT_TRACE,
    };
    char *line;

    if (size > MAX_LINE) {
        return 0;
    }
    line = malloc(size + 1);
    if (!line) {
        return 0;
    }
    memcpy(line, data, size);
    line[size] = '\0';
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        check_mode(line, modes[i]);
    }
    free(line);
    return 0;
}
