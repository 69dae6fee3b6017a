#include <config.h>

#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
out_of_memory(void)
{
    fprintf(stderr, "vswitchd: out of memory\n");
    abort();
}

static void *
check(void *p)
{
    if (!p) {
        out_of_memory();
    }
    return p;
}

void *
xmalloc(size_t size)
{
    return check(malloc(size ? size : 1));
}

void *
xcalloc(size_t n, size_t size)
{
    return check(calloc(n ? n : 1, size ? size : 1));
}

void *
xrealloc(void *p, size_t size)
{
    return check(realloc(p, size ? size : 1));
}

char *
xstrdup(const char *s)
{
    return check(strdup(s));
}

char *
xmemdup0(const void *s, size_t n)
{
    char *copy = xmalloc(n + 1);

    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}
