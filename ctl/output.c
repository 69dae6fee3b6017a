#include <config.h>

#include "output.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Deeper than any command needs; a bound keeps the scope stack a plain
 * array. */
#define MAX_DEPTH 16

enum scope_kind {
    SCOPE_ROOT,
    SCOPE_OBJECT,
    SCOPE_LIST,
    SCOPE_TABLE,
    SCOPE_ROW,
};

struct scope {
    enum scope_kind kind;
    bool shown;                 /* Printed in this format at all. */
    bool first;                 /* JSON: nothing written inside yet. */
    const char *cell;           /* Table layout: the column this object or
                                 * list collapses into, or NULL. */
};

struct property {
    const char *label;
    char *value;
};

/* A growable string, for the one cell being collapsed. */
struct buf {
    char *s;
    size_t len, cap;
};

struct output {
    FILE *stream;
    enum output_format format;
    int error;
    struct scope scopes[MAX_DEPTH];
    size_t depth;
    bool started;               /* JSON: "{" written.  Table layout: a
                                 * block or text written. */

    /* Table layout: the table being buffered. */
    const char *const *columns;
    size_t n_columns;
    char **cells;               /* n_rows rows of n_columns cells. */
    size_t n_rows, cells_cap;

    /* Table layout: the collapsed cell being built; collapsing does not
     * nest, so one is enough. */
    struct buf cell;
    size_t cell_items;

    /* Table layout: "label: value" lines waiting to be aligned. */
    struct property *props;
    size_t n_props, props_cap;
};

bool
output_parse_format(const char *s, enum output_format *format)
{
    if (!strcmp(s, "table")) {
        *format = OUTPUT_TABLE;
    } else if (!strcmp(s, "json")) {
        *format = OUTPUT_JSON;
    } else {
        return false;
    }
    return true;
}

struct output *
output_create(FILE *stream, enum output_format format)
{
    struct output *out = calloc(1, sizeof *out);

    if (out) {
        out->stream = stream;
        out->format = format;
        out->scopes[0] = (struct scope) { SCOPE_ROOT, true, true, NULL };
        out->depth = 1;
    }
    return out;
}

static void
fail(struct output *out, int error)
{
    if (!out->error) {
        out->error = error;
    }
}

static struct scope *
top(struct output *out)
{
    return &out->scopes[out->depth - 1];
}

static bool
in_table(const struct output *out)
{
    for (size_t i = 0; i < out->depth; i++) {
        if (out->scopes[i].kind == SCOPE_TABLE) {
            return true;
        }
    }
    return false;
}

/* Returns whether code point 'c' takes two columns on a terminal: the East
 * Asian wide and full-width blocks and the emoji. */
static bool
is_wide(uint32_t c)
{
    static const uint32_t ranges[][2] = {
        { 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
        { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
        { 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f },
        { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
        { 0x1f900, 0x1f9ff }, { 0x20000, 0x3fffd },
    };

    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        if (c >= ranges[i][0] && c <= ranges[i][1]) {
            return true;
        }
    }
    return false;
}

/* Returns how many terminal columns UTF-8 text 's' takes, whatever the
 * locale, so that names in any script line up in tables: a character is
 * one column (two if wide), not as many as it has bytes.  A byte that is
 * not valid UTF-8 counts as one column. */
static size_t
text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t width = 0;

    while (*p) {
        int n = *p >= 0xf0 && *p < 0xf5 ? 3 : *p >= 0xe0 ? 2
                : *p >= 0xc2 ? 1 : 0;
        uint32_t c = n ? *p & (0x3f >> n) : *p;
        int i;

        if (*p >= 0xf5) {
            n = 0;
        }
        for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++) {
            c = c << 6 | (p[i] & 0x3f);
        }
        if (i <= n) {
            n = 0;              /* Cut short: the lead byte alone. */
            c = *p;
        }
        width += n && is_wide(c) ? 2 : 1;
        p += 1 + n;
    }
    return width;
}

/* Returns a copy of 's' fit for a terminal: control characters, which
 * could break the layout or drive the terminal, become '?'.  NULL if
 * memory is short. */
static char *
printable_copy(const char *s)
{
    char *copy = strdup(s);

    for (char *p = copy; p && *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    return copy;
}

static bool
buf_append(struct buf *b, const char *s)
{
    size_t n = strlen(s);

    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 64;

        while (cap - b->len <= n) {
            cap *= 2;
        }

        char *p = realloc(b->s, cap);

        if (!p) {
            return false;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
    return true;
}

/* Returns 'array' (of '*cap' elements of 'elem' bytes) grown to hold at
 * least 'want', updating '*cap', or NULL, leaving both alone, if memory is
 * short. */
static void *
grow(void *array, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap) {
        return array;
    }

    size_t n = *cap ? *cap * 2 : 8;

    while (n < want) {
        n *= 2;
    }

    void *p = realloc(array, n * elem);

    if (p) {
        *cap = n;
    }
    return p;
}

/* JSON. */

/* Returns the length of the valid UTF-8 sequence at 's', whose first byte
 * is not ASCII, or 0 if it is not valid (overlong, a surrogate, beyond
 * U+10FFFF, or cut short). */
static size_t
utf8_length(const unsigned char *s)
{
#define CONT(b) (((b) & 0xc0) == 0x80)
    unsigned char c = s[0];

    if (c >= 0xc2 && c < 0xe0) {
        return CONT(s[1]) ? 2 : 0;
    }
    if (c >= 0xe0 && c < 0xf0) {
        if (!CONT(s[1]) || !CONT(s[2])
            || (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xf0 && c < 0xf5) {
        if (!CONT(s[1]) || !CONT(s[2]) || !CONT(s[3])
            || (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)) {
            return 0;
        }
        return 4;
    }
    return 0;
#undef CONT
}

/* Writes 's' as a JSON string (RFC 8259).  Strings come from the daemon
 * and are not checked for UTF-8 on the way in, so a byte that does not
 * begin a valid sequence is written as U+FFFD rather than producing JSON
 * that parsers reject. */
static void
json_string(FILE *stream, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;

    fputc('"', stream);
    while (*p) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', stream);
            fputc(*p++, stream);
        } else if (*p < 0x20) {
            fprintf(stream, "\\u%04x", *p++);
        } else if (*p < 0x80) {
            fputc(*p++, stream);
        } else {
            size_t n = utf8_length(p);

            if (n) {
                fwrite(p, 1, n, stream);
                p += n;
            } else {
                fputs("\\ufffd", stream);
                p++;
            }
        }
    }
    fputc('"', stream);
}

static void
json_open_root(struct output *out)
{
    if (!out->started) {
        fputc('{', out->stream);
        out->started = true;
    }
}

/* Returns true if a member with 'key' in the current scope appears in
 * JSON: arrays take members without keys, objects only members with
 * one. */
static bool
json_shows(struct output *out, const char *key)
{
    const struct scope *s = top(out);

    if (!s->shown) {
        return false;
    }
    return s->kind == SCOPE_LIST || s->kind == SCOPE_TABLE || key;
}

/* Writes the separator and, inside an object, the key of a new member. */
static void
json_member(struct output *out, const char *key)
{
    struct scope *s = top(out);

    json_open_root(out);
    if (!s->first) {
        fputs(", ", out->stream);
    }
    s->first = false;
    if (s->kind != SCOPE_LIST && s->kind != SCOPE_TABLE) {
        json_string(out->stream, key);
        fputs(": ", out->stream);
    }
}

/* Table layout. */

/* Starts a new block of output: blocks are set apart by a blank line. */
static void
begin_block(struct output *out)
{
    if (out->started) {
        fputc('\n', out->stream);
    }
    out->started = true;
}

static void
free_properties(struct output *out)
{
    for (size_t i = 0; i < out->n_props; i++) {
        free(out->props[i].value);
    }
    out->n_props = 0;
}

static void
flush_properties(struct output *out)
{
    size_t width = 0;

    if (!out->n_props) {
        return;
    }
    for (size_t i = 0; i < out->n_props; i++) {
        size_t len = text_width(out->props[i].label);

        width = len > width ? len : width;
    }
    begin_block(out);
    for (size_t i = 0; i < out->n_props; i++) {
        const struct property *p = &out->props[i];
        int pad = (int) (width - text_width(p->label) + 1);

        fprintf(out->stream, "%s:%*s%s\n", p->label, pad, "", p->value);
    }
    free_properties(out);
}

static void
add_property(struct output *out, const char *label, const char *text)
{
    char *value = printable_copy(text);
    struct property *props = grow(out->props, &out->props_cap,
                                  out->n_props + 1, sizeof *props);

    if (!value || !props) {
        free(value);
        fail(out, ENOMEM);
        return;
    }
    out->props = props;
    out->props[out->n_props++] = (struct property) { label, value };
}

static void
free_cells(struct output *out)
{
    for (size_t i = 0; i < out->n_rows * out->n_columns; i++) {
        free(out->cells[i]);
    }
    out->n_rows = 0;
}

static void
start_table(struct output *out, const char *const *columns)
{
    flush_properties(out);
    out->columns = columns;
    for (out->n_columns = 0; columns[out->n_columns]; out->n_columns++) {
        continue;
    }
    out->n_rows = 0;
    if (!out->n_columns) {
        fail(out, EINVAL);
    }
}

static void
add_row(struct output *out)
{
    char **cells = grow(out->cells, &out->cells_cap,
                        (out->n_rows + 1) * out->n_columns, sizeof *cells);

    if (!cells) {
        fail(out, ENOMEM);
        return;
    }
    out->cells = cells;
    memset(out->cells + out->n_rows * out->n_columns, 0,
           out->n_columns * sizeof *out->cells);
    out->n_rows++;
}

static void
set_cell(struct output *out, const char *column, const char *text)
{
    size_t c;

    for (c = 0; c < out->n_columns; c++) {
        if (!strcmp(out->columns[c], column)) {
            break;
        }
    }
    if (c == out->n_columns) {
        fail(out, EINVAL);
        return;
    }

    char **cell = &out->cells[(out->n_rows - 1) * out->n_columns + c];
    char *copy = printable_copy(text);

    if (!copy) {
        fail(out, ENOMEM);
        return;
    }
    free(*cell);
    *cell = copy;
}

/* Writes one row of 'cells' (NULL cells are empty) padded to 'widths';
 * trailing empty cells are left out so that no line ends in spaces. */
static void
write_row(struct output *out, const char *const *cells,
          const size_t *widths)
{
    size_t last = 0;

    for (size_t c = 0; c < out->n_columns; c++) {
        if (cells[c] && *cells[c]) {
            last = c;
        }
    }
    for (size_t c = 0; c <= last; c++) {
        const char *text = cells[c] ? cells[c] : "";

        fputs(text, out->stream);
        if (c < last) {
            fprintf(out->stream, "%*s",
                    (int) (widths[c] - text_width(text) + 2), "");
        }
    }
    fputc('\n', out->stream);
}

static void
write_table(struct output *out)
{
    size_t *widths = calloc(out->n_columns + 1, sizeof *widths);

    if (!widths) {
        fail(out, ENOMEM);
        free_cells(out);
        return;
    }
    for (size_t c = 0; c < out->n_columns; c++) {
        widths[c] = text_width(out->columns[c]);
        for (size_t r = 0; r < out->n_rows; r++) {
            const char *cell = out->cells[r * out->n_columns + c];
            size_t len = cell ? text_width(cell) : 0;

            widths[c] = len > widths[c] ? len : widths[c];
        }
    }
    begin_block(out);
    write_row(out, out->columns, widths);
    for (size_t r = 0; r < out->n_rows; r++) {
        write_row(out, (const char *const *) out->cells + r * out->n_columns,
                  widths);
    }
    free(widths);
    free_cells(out);
}

/* Puts a field's text where the table layout wants it: into the cell
 * being collapsed, into the current row's 'column', or, outside tables,
 * onto a "column: value" line. */
static void
table_field(struct output *out, const char *key, const char *column,
            const char *text)
{
    const struct scope *s = top(out);

    if (!s->shown) {
        return;
    }
    if (s->cell) {
        bool ok = (!out->cell_items || buf_append(&out->cell, ","))
                  && (s->kind != SCOPE_OBJECT || !key
                      || (buf_append(&out->cell, key)
                          && buf_append(&out->cell, "=")))
                  && buf_append(&out->cell, text);

        out->cell_items++;
        if (!ok) {
            fail(out, ENOMEM);
        }
        return;
    }
    if (!column) {
        return;
    }
    for (size_t i = out->depth; i-- > 0;) {
        switch (out->scopes[i].kind) {
        case SCOPE_OBJECT:
            continue;
        case SCOPE_ROW:
            set_cell(out, column, text);
            return;
        case SCOPE_ROOT:
            add_property(out, column, text);
            return;
        case SCOPE_LIST:
        case SCOPE_TABLE:
        default:
            fail(out, EINVAL);
            return;
        }
    }
}

/* Whether a container opened in the current scope appears in the table
 * layout.  A list needs a cell to collapse into; nothing nests inside a
 * collapsed cell. */
static bool
table_shows(struct output *out, enum scope_kind kind, const char *column,
            const char *const *columns)
{
    const struct scope *s = top(out);

    if (!s->shown || s->cell) {
        return false;
    }
    switch (kind) {
    case SCOPE_TABLE:
        if (columns && in_table(out)) {
            /* A table cannot be laid out inside another one's row. */
            fail(out, EINVAL);
            return false;
        }
        return columns != NULL;
    case SCOPE_LIST:
        return column != NULL;
    case SCOPE_ROOT:
    case SCOPE_OBJECT:
    case SCOPE_ROW:
    default:
        return true;
    }
}

/* Containers. */

static void
begin(struct output *out, enum scope_kind kind, const char *key,
      const char *column, const char *const *columns)
{
    bool shown;
    const char *cell = NULL;

    if (out->error) {
        return;
    }
    if ((kind == SCOPE_ROW) != (top(out)->kind == SCOPE_TABLE)) {
        fail(out, EINVAL);
        return;
    }
    if (out->depth == MAX_DEPTH) {
        fail(out, EINVAL);
        return;
    }
    if (out->format == OUTPUT_JSON) {
        shown = json_shows(out, key);
        if (shown) {
            json_member(out, key);
            fputc(kind == SCOPE_LIST || kind == SCOPE_TABLE ? '[' : '{',
                  out->stream);
        }
    } else {
        shown = table_shows(out, kind, column, columns);
        if (shown && column
            && (kind == SCOPE_OBJECT || kind == SCOPE_LIST)) {
            cell = column;
            out->cell.len = 0;
            out->cell_items = 0;
        } else if (shown && kind == SCOPE_TABLE) {
            start_table(out, columns);
        } else if (shown && kind == SCOPE_ROW) {
            add_row(out);
        }
    }
    out->scopes[out->depth++] = (struct scope) { kind, shown, true, cell };
}

static void
end(struct output *out, enum scope_kind kind)
{
    if (out->error) {
        return;
    }
    if (out->depth < 2 || top(out)->kind != kind) {
        fail(out, EINVAL);
        return;
    }

    struct scope s = out->scopes[--out->depth];

    if (!s.shown) {
        return;
    }
    if (out->format == OUTPUT_JSON) {
        fputc(kind == SCOPE_LIST || kind == SCOPE_TABLE ? ']' : '}',
              out->stream);
    } else if (s.cell) {
        table_field(out, NULL, s.cell, out->cell_items ? out->cell.s : "-");
    } else if (kind == SCOPE_TABLE) {
        write_table(out);
    }
}

void
output_begin_table(struct output *out, const char *key,
                   const char *const *columns)
{
    begin(out, SCOPE_TABLE, key, NULL, columns);
}

void
output_end_table(struct output *out)
{
    end(out, SCOPE_TABLE);
}

void
output_begin_row(struct output *out)
{
    begin(out, SCOPE_ROW, NULL, NULL, NULL);
}

void
output_end_row(struct output *out)
{
    end(out, SCOPE_ROW);
}

void
output_begin_object(struct output *out, const char *key, const char *column)
{
    begin(out, SCOPE_OBJECT, key, column, NULL);
}

void
output_end_object(struct output *out)
{
    end(out, SCOPE_OBJECT);
}

void
output_begin_list(struct output *out, const char *key, const char *column)
{
    begin(out, SCOPE_LIST, key, column, NULL);
}

void
output_end_list(struct output *out)
{
    end(out, SCOPE_LIST);
}

/* Fields. */

/* Returns true if the caller should write a field's value now: the
 * format is JSON, the field appears in it, and its key is written. */
static bool
json_field(struct output *out, const char *key)
{
    if (out->format != OUTPUT_JSON || !json_shows(out, key)) {
        return false;
    }
    json_member(out, key);
    return true;
}

/* Returns false, recording the misuse, if a field may not go here: only
 * rows go directly inside a table. */
static bool
field_allowed(struct output *out)
{
    if (out->error) {
        return false;
    }
    if (top(out)->kind == SCOPE_TABLE) {
        fail(out, EINVAL);
        return false;
    }
    return true;
}

void
output_string(struct output *out, const char *key, const char *column,
              const char *value)
{
    if (!field_allowed(out)) {
        return;
    }
    if (json_field(out, key)) {
        json_string(out->stream, value);
    } else if (out->format == OUTPUT_TABLE) {
        table_field(out, key, column, value);
    }
}

void
output_uint(struct output *out, const char *key, const char *column,
            uint64_t value)
{
    char text[24];

    snprintf(text, sizeof text, "%"PRIu64, value);
    if (!field_allowed(out)) {
        return;
    }
    if (json_field(out, key)) {
        fputs(text, out->stream);
    } else if (out->format == OUTPUT_TABLE) {
        table_field(out, key, column, text);
    }
}

void
output_bool(struct output *out, const char *key, const char *column,
            bool value)
{
    const char *text = value ? "true" : "false";

    if (!field_allowed(out)) {
        return;
    }
    if (json_field(out, key)) {
        fputs(text, out->stream);
    } else if (out->format == OUTPUT_TABLE) {
        table_field(out, key, column, text);
    }
}

void
output_double(struct output *out, const char *key, const char *column,
              double value, int decimals)
{
    char text[64];

    if (!isfinite(value)) {
        output_null(out, key, column);
        return;
    }
    snprintf(text, sizeof text, "%.*f", decimals, value);
    if (!field_allowed(out)) {
        return;
    }
    if (json_field(out, key)) {
        fputs(text, out->stream);
    } else if (out->format == OUTPUT_TABLE) {
        table_field(out, key, column, text);
    }
}

void
output_null(struct output *out, const char *key, const char *column)
{
    if (!field_allowed(out)) {
        return;
    }
    if (json_field(out, key)) {
        fputs("null", out->stream);
    } else if (out->format == OUTPUT_TABLE) {
        table_field(out, key, column, "-");
    }
}

void
output_text(struct output *out, const char *format, ...)
{
    va_list args;
    char *text;
    int len;

    if (out->error || out->format != OUTPUT_TABLE) {
        return;
    }
    if (in_table(out)) {
        fail(out, EINVAL);
        return;
    }
    va_start(args, format);
    len = vsnprintf(NULL, 0, format, args);
    va_end(args);
    text = len < 0 ? NULL : malloc((size_t) len + 1);
    if (!text) {
        fail(out, len < 0 ? EINVAL : ENOMEM);
        return;
    }
    va_start(args, format);
    vsnprintf(text, (size_t) len + 1, format, args);
    va_end(args);

    /* The arguments may come from the daemon: keep the caller's line
     * breaks but no other control character. */
    for (char *p = text; *p; p++) {
        if (((unsigned char) *p < 0x20 && *p != '\n') || *p == 0x7f) {
            *p = '?';
        }
    }
    flush_properties(out);
    fputs(text, out->stream);
    free(text);
    out->started = true;
}

int
output_finish(struct output *out)
{
    int error;

    if (!out) {
        return 0;
    }
    if (out->depth != 1) {
        fail(out, EINVAL);
    }
    if (!out->error) {
        if (out->format == OUTPUT_JSON) {
            json_open_root(out);
            fputs("}\n", out->stream);
        } else {
            flush_properties(out);
        }
    }
    if ((fflush(out->stream) || ferror(out->stream)) && !out->error) {
        out->error = EIO;
    }
    error = out->error;

    free_cells(out);
    free(out->cells);
    free_properties(out);
    free(out->props);
    free(out->cell.s);
    free(out);
    return error;
}
