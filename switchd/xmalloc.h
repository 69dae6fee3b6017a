#ifndef SWITCHD_XMALLOC_H
#define SWITCHD_XMALLOC_H 1

#include <stddef.h>

/* Allocation for building replies and other control-path structures, where
 * no sensible recovery from an exhausted heap exists: these abort with a
 * message instead of returning NULL, as Open vSwitch's do.  The packet
 * path never allocates. */
void *xmalloc(size_t);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);

/* Returns a new string of the 'n' bytes at 's' (which need not end in a
 * NUL) and a NUL. */
char *xmemdup0(const void *s, size_t n);

/* Says the heap is exhausted and aborts: for the allocations made
 * otherwise (a hash map growing, a message packed) on the same terms. */
void out_of_memory(void) __attribute__((noreturn));

#endif /* switchd/xmalloc.h */
