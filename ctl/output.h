#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The printer behind every command of vswitch-ctl, in the manner of
 * iproute2's print_*(): each field is printed once, with its JSON key and
 * its table column, and the module lays the fields out either as aligned
 * tables for people or as one line of JSON for scripts.
 *
 * A field whose key is NULL appears in the table layout only; one whose
 * column is NULL appears in JSON only.  The structure:
 *
 *   - The output itself is a JSON object.  In the table layout, a field
 *     at this level is a "column: value" line, aligned with its
 *     neighbours.
 *   - output_begin_table(key, columns) opens a JSON array of rows and, in
 *     the table layout, a table with the given header; rows are buffered
 *     until the table ends, then printed aligned.  A table with a NULL key
 *     is not printed in JSON; one with NULL columns not in the table
 *     layout.  Only rows go inside a table, and rows only inside a table.
 *   - output_begin_row() opens one JSON object; in the table layout, each
 *     field inside names its cell by column.
 *   - output_begin_object(key, column) and output_begin_list(key, column)
 *     open a JSON object or array.  In the table layout an object with no
 *     column is transparent (its fields still fill the row's columns); an
 *     object or list with a column collapses into that one cell as
 *     "k=v,k=v" or "a,b", or "-" when empty.  Inside a list, fields take
 *     no key.
 *
 * Tables after the first block of output are preceded by a blank line.
 * Keys, column names and the 'columns' array are not copied: they must
 * stay valid until the table ends or, outside tables, until
 * output_finish().  Misuse (unbalanced or misplaced begin/end, an unknown
 * column) and out-of-memory are recorded, every later call does nothing,
 * and output_finish() reports the first error. */

enum output_format {
    OUTPUT_TABLE,
    OUTPUT_JSON,
};

struct output;

/* Parses "table" or "json".  Returns false for anything else. */
bool output_parse_format(const char *, enum output_format *);

/* Returns a printer writing to 'stream' (still owned by the caller), or
 * NULL if memory is short. */
struct output *output_create(FILE *stream, enum output_format);

/* Closes the output, flushes 'stream' and frees the printer.  Returns 0,
 * or the first error: EINVAL for misuse, ENOMEM, or EIO if 'stream'
 * failed.  Accepts NULL. */
int output_finish(struct output *);

void output_begin_table(struct output *, const char *key,
                        const char *const *columns);
void output_end_table(struct output *);
void output_begin_row(struct output *);
void output_end_row(struct output *);
void output_begin_object(struct output *, const char *key,
                         const char *column);
void output_end_object(struct output *);
void output_begin_list(struct output *, const char *key,
                       const char *column);
void output_end_list(struct output *);

void output_string(struct output *, const char *key, const char *column,
                   const char *value);
void output_uint(struct output *, const char *key, const char *column,
                 uint64_t value);
void output_bool(struct output *, const char *key, const char *column,
                 bool value);

/* Prints 'value' with 'decimals' digits after the point (JSON null if it
 * is not finite). */
void output_double(struct output *, const char *key, const char *column,
                   double value, int decimals);

/* JSON null; "-" in a table. */
void output_null(struct output *, const char *key, const char *column);

/* Free text for the table layout only, such as a one-line summary; it may
 * not appear inside a table. */
void output_text(struct output *, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* ctl/output.h */
