#include <config.h>

#include "complete.h"

#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "dstring.h"
#include "port.h"
#include "usage.h"

/* One completion being answered. */
struct completion {
    const struct complete_context *ctx;
    const char *socket;         /* The daemon to ask. */
    const char *word;           /* The word being completed, unquoted. */
    size_t replaced;            /* Where in 'word' readline's part starts. */
    struct ds candidates;       /* One a line. */
    bool files;
    bool nospace;
};

/* The answer is one item a line: no candidate, nor the word echoed back,
 * may hold a character that could break one. */
static bool
has_control(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20) {
            return true;
        }
    }
    return false;
}

/* Offers 'prefix' followed by 'word' if it completes the current word. */
static void
offer(struct completion *c, const char *prefix, const char *word)
{
    size_t prefix_length = strlen(prefix);
    size_t length = strlen(c->word);
    size_t common = length < prefix_length ? length : prefix_length;
    struct ds full = DS_EMPTY_INITIALIZER;

    if (strncmp(prefix, c->word, common)
        || (length > prefix_length
            && strncmp(word, c->word + prefix_length,
                       length - prefix_length))) {
        return;
    }
    if (has_control(word)) {
        return;
    }
    ds_put_format(&full, "%s%s", prefix, word);
    ds_put_format(&c->candidates, "%s\n", ds_cstr(&full) + c->replaced);
    if (full.length && full.string[full.length - 1] == '=') {
        c->nospace = true;
    }
    ds_destroy(&full);
}

struct offer_aux {
    struct completion *c;
    const char *prefix;
    const char *port;           /* The port whose type is wanted. */
    const struct port_class *class;
};

static void
offer_port(void *aux_, const char *name, const char *type)
{
    struct offer_aux *aux = aux_;

    (void) type;
    offer(aux->c, aux->prefix, name);
}

static void
offer_vni(void *aux_, uint32_t vni)
{
    struct offer_aux *aux = aux_;
    char text[16];

    snprintf(text, sizeof text, "%u", (unsigned int) vni);
    offer(aux->c, aux->prefix, text);
}

static void
offer_interfaces(struct completion *c, const char *prefix)
{
    struct if_nameindex *names = if_nameindex();

    for (struct if_nameindex *i = names; i && i->if_name; i++) {
        offer(c, prefix, i->if_name);
    }
    if_freenameindex(names);
}

/* Offers what each alternative of 'text' ("PORT", "table|json") stands
 * for, after 'prefix'. */
static void
offer_value(struct completion *c, const char *prefix, const char *text)
{
    struct offer_aux aux = { c, prefix, NULL, NULL };
    char word[USAGE_WORD_SIZE];
    size_t n;

    for (const char *p = text; *p; p += n + (p[n] == '|')) {
        n = strcspn(p, "|");
        snprintf(word, sizeof word, "%.*s", (int) n, p);
        switch (usage_kind(p, n)) {
        case USAGE_LITERAL:
            offer(c, prefix, word);
            break;
        case USAGE_PORT:
            c->ctx->source->ports(c->socket, offer_port, &aux);
            break;
        case USAGE_VNI:
            c->ctx->source->vnis(c->socket, offer_vni, &aux);
            break;
        case USAGE_FILE:
            c->files = true;
            break;
        case USAGE_TYPE: {
            size_t n_classes;
            const struct port_class *const *classes
                = port_classes(&n_classes);

            for (size_t i = 0; i < n_classes; i++) {
                offer(c, prefix, classes[i]->type);
            }
            break;
        }
        case USAGE_IFNAME:
            offer_interfaces(c, prefix);
            break;
        case USAGE_FREE:
        default:
            break;
        }
    }
}

/* Offers the values that 'text' stands for after "name=". */
static void
offer_assignment(struct completion *c, const char *name, const char *text)
{
    struct ds prefix = DS_EMPTY_INITIALIZER;

    ds_put_format(&prefix, "%s=", name);
    offer_value(c, ds_cstr(&prefix), text);
    ds_destroy(&prefix);
}

static const struct usage_item *
find_item(const struct usage *u, enum usage_item_type type,
          const char *name, size_t length)
{
    for (size_t i = 0; i < u->n_items; i++) {
        const struct usage_item *item = &u->items[i];

        if (item->type == type && strlen(item->name) == length
            && !memcmp(item->name, name, length)) {
            return item;
        }
    }
    return NULL;
}

/* A keyed item whose key is a placeholder ("KEY=VALUE") stands for the
 * options of the port's type. */
static bool
is_port_options(const struct usage_item *item)
{
    return item->type == USAGE_KEYED
           && usage_kind(item->name, strlen(item->name)) == USAGE_FREE;
}

static void
find_type(void *aux_, const char *name, const char *type)
{
    struct offer_aux *aux = aux_;

    if (!strcmp(name, aux->port)) {
        aux->class = port_class_find(type);
    }
}

/* What the words of one command line say: which positional argument comes
 * next, the port type named by "type=" or the port named where a PORT
 * goes, and an option waiting for its argument. */
struct command_line {
    const struct usage *u;
    char **args;                /* After the command's name. */
    size_t n_args;              /* Not counting the current word. */
    size_t slot;                /* Positional arguments given. */
    const char *type;
    const char *port;
    const struct usage_item *pending;
};

/* Returns true if one alternative of 'text' is of 'kind'. */
static bool
has_kind(const char *text, enum usage_kind kind)
{
    size_t n;

    for (const char *p = text; *p; p += n + (p[n] == '|')) {
        n = strcspn(p, "|");
        if (usage_kind(p, n) == kind) {
            return true;
        }
    }
    return false;
}

/* Returns true if 'key' (of 'length' bytes) is the key whose value names
 * a port type ("type=TYPE"). */
static bool
is_type_key(const struct usage *u, const char *key, size_t length)
{
    const struct usage_item *item = find_item(u, USAGE_KEYED, key, length);

    return item && has_kind(item->value, USAGE_TYPE);
}

/* Reads the arguments before the current word into 'l'. */
static void
read_command_line(struct command_line *l)
{
    for (size_t i = 0; i < l->n_args; i++) {
        const char *arg = l->args[i];
        const char *eq = strchr(arg, '=');
        const struct usage_item *item;

        if (l->pending) {
            l->pending = NULL;
        } else if (*arg == '-'
                   && (item = find_item(l->u, USAGE_OPTION, arg,
                                        strlen(arg)))) {
            l->pending = item->value[0] ? item : NULL;
        } else if (eq) {
            if (is_type_key(l->u, arg, (size_t) (eq - arg))) {
                l->type = eq + 1;
            }
        } else {
            for (size_t j = 0; j < l->u->n_items; j++) {
                const struct usage_item *p = &l->u->items[j];

                if (p->type == USAGE_POSITIONAL && p->slot == l->slot
                    && has_kind(p->name, USAGE_PORT) && !l->port) {
                    l->port = arg;
                }
            }
            l->slot++;
        }
    }
}

/* The class whose options "KEY=VALUE" stands for: that of "type=" on the
 * line, or the type of the port it names, asked from the daemon. */
static const struct port_class *
line_class(struct completion *c, const struct command_line *l)
{
    struct offer_aux aux = { c, "", l->port, NULL };

    if (l->type) {
        return port_class_find(l->type);
    }
    if (l->port) {
        c->ctx->source->ports(c->socket, find_type, &aux);
    }
    return aux.class;
}

static bool
key_given(const struct command_line *l, const char *key)
{
    size_t length = strlen(key);

    for (size_t i = 0; i < l->n_args; i++) {
        if (!strncmp(l->args[i], key, length) && l->args[i][length] == '=') {
            return true;
        }
    }
    return false;
}

/* Offers "key=" while the current word has no '=' and the line does not
 * give 'key' yet, or the values 'text' stands for once the word is
 * "key=...". */
static void
offer_key(struct completion *c, const struct command_line *l,
          const char *key, const char *text)
{
    const char *eq = strchr(c->word, '=');
    size_t length = strlen(key);

    if (!eq && !key_given(l, key)) {
        struct ds with_eq = DS_EMPTY_INITIALIZER;

        ds_put_format(&with_eq, "%s=", key);
        offer(c, "", ds_cstr(&with_eq));
        ds_destroy(&with_eq);
    } else if (eq && (size_t) (eq - c->word) == length
               && !strncmp(key, c->word, length)) {
        offer_assignment(c, key, text);
    }
}

/* Offers the keys that may come now, or the values of the key that the
 * current word starts with. */
static void
offer_keyed(struct completion *c, const struct command_line *l)
{
    const struct port_class *class = NULL;
    bool class_read = false;

    for (size_t i = 0; i < l->u->n_items; i++) {
        const struct usage_item *item = &l->u->items[i];

        if (item->type != USAGE_KEYED || item->slot > l->slot) {
            continue;
        }
        if (!is_port_options(item)) {
            offer_key(c, l, item->name, item->value);
            continue;
        }
        if (!class_read) {
            class = line_class(c, l);
            class_read = true;
        }
        for (const struct port_option *o = class ? class->options : NULL;
             o && o->key; o++) {
            offer_key(c, l, o->key, command_option_placeholder(o->kind));
        }
    }
}

/* Completes the arguments of the command 'words[0]'; 'words[n]' is the
 * current word. */
static void
complete_command(struct completion *c, char **words, size_t n)
{
    const struct command *cmd = command_find(words[0]);
    struct usage u;
    struct command_line l;

    if (!cmd) {
        return;
    }
    usage_parse(cmd->usage, &u);
    l = (struct command_line) { .u = &u, .args = words + 1,
                                .n_args = n - 1 };
    read_command_line(&l);

    if (l.pending) {
        offer_value(c, "", l.pending->value);
    } else if (*c->word == '-') {
        for (size_t i = 0; i < u.n_items; i++) {
            if (u.items[i].type == USAGE_OPTION) {
                offer(c, "", u.items[i].name);
            }
        }
    } else {
        if (!strchr(c->word, '=')) {
            for (size_t i = 0; i < u.n_items; i++) {
                if (u.items[i].type == USAGE_POSITIONAL
                    && u.items[i].slot == l.slot) {
                    offer_value(c, "", u.items[i].name);
                }
            }
        }
        offer_keyed(c, &l);
    }
}

/* Completes the options before the command and the command's name, or
 * hands on to complete_command() once the command is on the line;
 * 'words[n]' is the current word. */
static void
complete_words(struct completion *c, char **words, size_t n)
{
    struct usage options;
    size_t i = 1;               /* words[0] is the program. */

    usage_parse(c->ctx->options, &options);
    while (i < n && words[i][0] == '-' && strcmp(words[i], "--")) {
        const char *eq = strchr(words[i], '=');
        size_t length = eq ? (size_t) (eq - words[i]) : strlen(words[i]);
        const struct usage_item *o = find_item(&options, USAGE_OPTION,
                                               words[i], length);
        const char *value = eq ? eq + 1 : NULL;

        if (o && o->value[0] && !eq) {
            if (i + 1 == n) {
                offer_value(c, "", o->value);
                return;
            }
            value = words[++i];
        }
        if (o && value && !strcmp(o->name, c->ctx->socket_option)) {
            c->socket = value;
        }
        i++;
    }
    if (i < n && !strcmp(words[i], "--")) {
        i++;
    }
    if (i < n) {
        complete_command(c, words + i, n - i);
    } else if (*c->word == '-' && strchr(c->word, '=')) {
        const char *eq = strchr(c->word, '=');
        const struct usage_item *o = find_item(&options, USAGE_OPTION,
                                               c->word,
                                               (size_t) (eq - c->word));

        if (o && o->value[0]) {
            offer_assignment(c, o->name, o->value);
        }
    } else if (*c->word == '-') {
        for (size_t j = 0; j < options.n_items; j++) {
            offer(c, "", options.items[j].name);
        }
    } else {
        size_t n_commands;
        const struct command *commands = command_table(&n_commands);

        for (size_t j = 0; j < n_commands; j++) {
            offer(c, "", commands[j].name);
        }
    }
}

/* Splits 'line' into words as the shell would (quotes and backslashes,
 * no expansions) into 'buffer', which has room for strlen(line) + 2
 * bytes, with pointers to them in 'words'.  The last word is the one the
 * cursor is in, "" after white space.  Sets '*replaced' to where, in the
 * last word, the part that readline replaces begins: after the last
 * unquoted character of 'breaks', or, inside quotes still open, after the
 * opening quote (a quote that closes breaks nothing for readline).  Returns the
 * number of words, or 0 if there are more than 'max'. */
static size_t
split_line(const char *line, const char *breaks, char *buffer,
           char *words[], size_t max, size_t *replaced)
{
    char *out = buffer;
    char quote = 0;
    size_t before_quote = 0;
    size_t n = 0;
    bool in_word = false;

    *replaced = 0;
    for (const char *p = line; *p; p++) {
        char ch = *p;

        if (!quote && (ch == ' ' || ch == '\t' || ch == '\n')) {
            if (in_word) {
                *out++ = '\0';
                in_word = false;
            }
            continue;
        }
        if (!in_word) {
            if (n == max) {
                return 0;
            }
            words[n++] = out;
            in_word = true;
            *replaced = 0;
        }
        if (quote && ch == quote) {
            quote = 0;
            *replaced = before_quote;
        } else if (quote == '\'') {
            *out++ = ch;
        } else if (ch == '\\' && p[1]
                   && (!quote || strchr("$`\"\\\n", p[1]))) {
            *out++ = *++p;
        } else if (quote) {
            *out++ = ch;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
            before_quote = *replaced;
            *replaced = (size_t) (out - words[n - 1]);
        } else {
            *out++ = ch;
            if (strchr(breaks, ch)) {
                *replaced = (size_t) (out - words[n - 1]);
            }
        }
    }
    if (in_word) {
        *out = '\0';
    } else if (n < max) {
        words[n++] = out;
        *out = '\0';
        *replaced = 0;
    } else {
        return 0;
    }
    return n;
}

#define MAX_WORDS 256

void
complete_line(const struct complete_context *ctx, const char *line,
              const char *breaks, FILE *stream)
{
    struct completion c = { .ctx = ctx, .socket = ctx->socket,
                            .candidates = DS_EMPTY_INITIALIZER };
    char *buffer = malloc(strlen(line) + 2);
    char *words[MAX_WORDS];
    size_t n = buffer ? split_line(line, breaks, buffer, words, MAX_WORDS,
                                   &c.replaced)
                      : 0;

    if (n >= 2 && !has_control(words[n - 1])) {
        c.word = words[n - 1];
        complete_words(&c, words, n - 1);
    }
    fprintf(stream, "%s%s%s\n%s\n", c.files ? "files" : "",
            c.files && c.nospace ? " " : "", c.nospace ? "nospace" : "",
            c.word ? c.word + c.replaced : "");
    fputs(ds_cstr(&c.candidates), stream);
    ds_destroy(&c.candidates);
    free(buffer);
}
