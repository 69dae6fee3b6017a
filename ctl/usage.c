#include <config.h>

#include "usage.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* The parser's position in the usage text. */
struct parser {
    struct usage *u;
    size_t depth;               /* Brackets open. */
    size_t n_slots;             /* Positional arguments seen. */
    size_t required;            /* Of those, the ones that must be given. */
    bool alternative;           /* A lone "|" came: what follows replaces
                                 * the item before it. */
    bool last_required;         /* The last item counted in 'required'. */
    struct usage_item *option;  /* An option that may take the next word
                                 * as its argument. */
};

static void
copy(char dst[USAGE_WORD_SIZE], const char *src, size_t length)
{
    if (length >= USAGE_WORD_SIZE) {
        length = USAGE_WORD_SIZE - 1;
    }
    memcpy(dst, src, length);
    dst[length] = '\0';
}

static struct usage_item *
add_item(struct parser *p, enum usage_item_type type, const char *name,
         size_t length)
{
    struct usage_item *item;

    if (p->u->n_items >= USAGE_MAX_ITEMS) {
        return NULL;
    }
    item = &p->u->items[p->u->n_items++];
    item->type = type;
    copy(item->name, name, length);
    item->value[0] = '\0';
    item->slot = 0;
    return item;
}

/* "key=VALUE" at 'word': the value ends where a nested "[,VALUE...]"
 * begins. */
static void
add_keyed(struct parser *p, const char *word, size_t length, size_t slot)
{
    const char *eq = memchr(word, '=', length);
    const char *end = word + length;
    const char *nested = memchr(eq, '[', (size_t) (end - eq));
    struct usage_item *item = add_item(p, USAGE_KEYED, word,
                                       (size_t) (eq - word));

    if (item) {
        if (nested) {
            end = nested;
        }
        copy(item->value, eq + 1, (size_t) (end - eq - 1));
        item->slot = slot;
    }
}

/* A word that is no option: keyed arguments and positional placeholders,
 * maybe as alternatives of one another ("PORT|remote=IP"). */
static void
add_argument(struct parser *p, const char *word, size_t length,
             bool optional)
{
    const char *eq = memchr(word, '=', length);
    const char *bar = memchr(word, '|', length);
    size_t slot = p->required;
    char positional[USAGE_WORD_SIZE] = "";
    size_t n = 0;

    if (eq && (!bar || eq < bar)) {
        /* "learn=any|list": the alternatives are the value's. */
        add_keyed(p, word, length, slot);
        p->last_required = false;
        return;
    }
    for (const char *piece = word, *end = word + length; piece < end; ) {
        const char *next = memchr(piece, '|', (size_t) (end - piece));
        size_t piece_length = (size_t) ((next ? next : end) - piece);

        if (memchr(piece, '=', piece_length)) {
            add_keyed(p, piece, piece_length, slot);
        } else if (n + piece_length + 2 < sizeof positional) {
            if (n) {
                positional[n++] = '|';
            }
            memcpy(positional + n, piece, piece_length);
            n += piece_length;
            positional[n] = '\0';
        }
        piece = next ? next + 1 : end;
    }
    p->last_required = false;
    if (n) {
        struct usage_item *item = add_item(p, USAGE_POSITIONAL, positional,
                                           n);

        if (item) {
            item->slot = p->n_slots;
        }
        p->n_slots++;
        if (!optional) {
            p->required++;
            p->last_required = true;
        }
    }
}

static void
parse_word(struct parser *p, const char *word, size_t length)
{
    bool opens = false, closes = false;

    while (length && *word == '[') {
        opens = true;
        p->depth++;
        word++;
        length--;
    }
    for (;;) {
        if (length && word[length - 1] == ']') {
            closes = true;
            length--;
        } else if (length >= 3 && !memcmp(word + length - 3, "...", 3)) {
            length -= 3;
        } else {
            break;
        }
    }

    if (length == 1 && *word == '|') {
        /* What came before is one choice: if it was a positional
         * argument, it need not come before the keyed ones. */
        if (p->last_required) {
            p->required--;
            p->last_required = false;
        }
        p->alternative = true;
        p->option = NULL;
    } else if (p->option && !opens && length && *word != '-') {
        copy(p->option->value, word, length);
        p->option = NULL;
    } else if (length && *word == '-') {
        size_t name_length = length;

        if (word[name_length - 1] == ',') {
            name_length--;  /* "-h, --help" */
        }
        p->option = add_item(p, USAGE_OPTION, word, name_length);
        p->last_required = false;
        p->alternative = false;
    } else if (length) {
        add_argument(p, word, length, p->depth > 0 || p->alternative);
        p->option = NULL;
        p->alternative = false;
    }

    if (closes) {
        if (p->depth) {
            p->depth--;
        }
        p->option = NULL;
    }
}

void
usage_parse(const char *text, struct usage *u)
{
    struct parser p = { .u = u };

    u->n_items = 0;
    while (*text) {
        size_t length;

        text += strspn(text, " ");
        length = strcspn(text, " ");
        if (length) {
            parse_word(&p, text, length);
        }
        text += length;
    }
}

enum usage_kind
usage_kind(const char *word, size_t length)
{
    static const struct {
        const char *name;
        enum usage_kind kind;
    } kinds[] = {
        { "PORT", USAGE_PORT },
        { "VNI", USAGE_VNI },
        { "FILE", USAGE_FILE },
        { "PATH", USAGE_FILE },
        { "TYPE", USAGE_TYPE },
        { "IFNAME", USAGE_IFNAME },
    };

    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        if (strlen(kinds[i].name) == length
            && !memcmp(kinds[i].name, word, length)) {
            return kinds[i].kind;
        }
    }
    for (size_t i = 0; i < length; i++) {
        if (islower((unsigned char) word[i])) {
            return USAGE_LITERAL;
        }
    }
    return USAGE_FREE;
}
