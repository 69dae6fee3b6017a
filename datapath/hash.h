#ifndef DATAPATH_HASH_H
#define DATAPATH_HASH_H 1

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Hashing for the datapath's tables.  Every table that learns from the
 * network mixes in a seed drawn at random when it is created, so that a
 * sender cannot choose keys that collide. */

/* Mixes 64 bits of key into 'basis' (a finalizer in the style of
 * splitmix64: every input bit affects every output bit). */
static inline uint64_t
hash_add64(uint64_t basis, uint64_t key)
{
    uint64_t x = basis ^ key;

    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static inline uint32_t
hash_finish(uint64_t h)
{
    return (uint32_t) (h ^ (h >> 32));
}

/* Hashes 'n' bytes at 'p'. */
uint32_t hash_bytes(const void *p, size_t n, uint64_t basis);

/* Hashes the string 's' (the control path's names: ports, keys). */
static inline uint32_t
hash_string(const char *s, uint64_t basis)
{
    return hash_bytes(s, strlen(s), basis);
}

/* Hashes a 32-bit number. */
static inline uint32_t
hash_uint32(uint32_t x)
{
    return hash_finish(hash_add64(0, x));
}

/* Returns a seed from the kernel's random source, falling back to the clock
 * only if that fails. */
uint64_t hash_random_seed(void);

#endif /* datapath/hash.h */
