#ifndef DATAPATH_UTIL_H
#define DATAPATH_UTIL_H 1

#include <stddef.h>

/* Small language helpers shared by every module. */

#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

#define BUILD_ASSERT(expr) _Static_assert(expr, #expr)

/* Converts a pointer to a member back into a pointer to the structure that
 * embeds it, which is how intrusive containers and port providers recover
 * their element. */
#define CONTAINER_OF(ptr, type, member) \
    ((type *) (void *) ((char *) (ptr) - offsetof(type, member)))

/* <sys/param.h> defines the same two. */
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif /* datapath/util.h */
