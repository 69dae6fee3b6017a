#include <config.h>

#include "dstring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ds_init(struct ds *ds)
{
    *ds = (struct ds) DS_EMPTY_INITIALIZER;
}

/* Makes room for 'n' more bytes and the NUL. */
static void
reserve(struct ds *ds, size_t n)
{
    size_t need = ds->length + n + 1;

    if (need > ds->allocated) {
        size_t size = ds->allocated ? ds->allocated : 64;

        while (size < need) {
            size *= 2;
        }
        ds->string = realloc(ds->string, size);
        if (!ds->string) {
            abort();
        }
        ds->allocated = size;
    }
}

void
ds_clear(struct ds *ds)
{
    ds_truncate(ds, 0);
}

void
ds_truncate(struct ds *ds, size_t new_length)
{
    if (ds->string && new_length < ds->length) {
        ds->length = new_length;
        ds->string[new_length] = '\0';
    }
}

void
ds_put_char(struct ds *ds, char c)
{
    reserve(ds, 1);
    ds->string[ds->length++] = c;
    ds->string[ds->length] = '\0';
}

void
ds_put_cstr(struct ds *ds, const char *s)
{
    size_t n = strlen(s);

    reserve(ds, n);
    memcpy(ds->string + ds->length, s, n + 1);
    ds->length += n;
}

void
ds_put_format_valist(struct ds *ds, const char *format, va_list args)
{
    va_list copy;
    int n;

    reserve(ds, 0);
    va_copy(copy, args);
    n = vsnprintf(ds->string + ds->length, ds->allocated - ds->length,
                  format, copy);
    va_end(copy);
    if (n < 0) {
        ds->string[ds->length] = '\0';
        return;
    }
    if ((size_t) n >= ds->allocated - ds->length) {
        reserve(ds, (size_t) n);
        vsnprintf(ds->string + ds->length, ds->allocated - ds->length,
                  format, args);
    }
    ds->length += (size_t) n;
}

void
ds_put_format(struct ds *ds, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    ds_put_format_valist(ds, format, args);
    va_end(args);
}

const char *
ds_cstr(const struct ds *ds)
{
    return ds->string ? ds->string : "";
}

char *
ds_steal_cstr(struct ds *ds)
{
    char *s = ds->string ? ds->string : strdup("");

    if (!s) {
        abort();
    }
    ds_init(ds);
    return s;
}

void
ds_destroy(struct ds *ds)
{
    free(ds->string);
    ds_init(ds);
}
