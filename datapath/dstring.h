#ifndef DATAPATH_DSTRING_H
#define DATAPATH_DSTRING_H 1

#include <stdarg.h>
#include <stddef.h>

/* A growable string, for text built in pieces (flow rules, traces).  The
 * text is always NUL-terminated.  Memory is allocated with the xmalloc
 * family's rules: a failed allocation aborts, since text for a human is
 * never worth a half-printed line. */
struct ds {
    char *string;               /* NULL until something is put. */
    size_t length;              /* Bytes used, not counting the NUL. */
    size_t allocated;           /* Bytes of 'string', when not NULL. */
};

#define DS_EMPTY_INITIALIZER { NULL, 0, 0 }

void ds_init(struct ds *);
void ds_clear(struct ds *);
void ds_truncate(struct ds *, size_t new_length);
void ds_put_char(struct ds *, char);
void ds_put_cstr(struct ds *, const char *);
void ds_put_format(struct ds *, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void ds_put_format_valist(struct ds *, const char *format, va_list)
    __attribute__((format(printf, 2, 0)));

/* Returns the text ("" if none); it stays the string's. */
const char *ds_cstr(const struct ds *);

/* Hands the text to the caller, who frees it, and leaves 'ds' empty. */
char *ds_steal_cstr(struct ds *);

/* Frees the text; accepts a string that was never used. */
void ds_destroy(struct ds *);

#endif /* datapath/dstring.h */
