#include <config.h>

#include "hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

uint32_t
hash_bytes(const void *p_, size_t n, uint64_t basis)
{
    const uint8_t *p = p_;
    uint64_t h = basis ^ n;

    for (; n >= 8; n -= 8, p += 8) {
        uint64_t word;

        memcpy(&word, p, 8);
        h = hash_add64(h, word);
    }
    if (n) {
        uint64_t word = 0;

        memcpy(&word, p, n);
        h = hash_add64(h, word);
    }
    return hash_finish(h);
}

uint64_t
hash_random_seed(void)
{
    uint64_t seed;

    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == sizeof seed) {
        return seed;
    }

    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return hash_add64((uint64_t) ts.tv_nsec, (uint64_t) ts.tv_sec);
}
