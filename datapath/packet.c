#include <config.h>

#include "packet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PACKET_BUFFER_SIZE (PACKET_HEADROOM + PACKET_MAX_FRAME)

struct packet_pool {
    struct packet *packets;     /* Array of 'n_packets'. */
    uint8_t *buffers;           /* 'n_packets' buffers of PACKET_BUFFER_SIZE. */
    size_t n_packets;
    size_t n_free;
    struct packet *free_list;
    uint64_t alloc_failures;
};

struct packet_pool *
packet_pool_create(size_t n_packets)
{
    struct packet_pool *pool = calloc(1, sizeof *pool);

    if (!pool) {
        return NULL;
    }
    /* One allocation for all buffers: untouched pages of the large slab are
     * never made resident, so 64 KB buffers cost memory only when used. */
    pool->packets = calloc(n_packets, sizeof *pool->packets);
    pool->buffers = n_packets <= SIZE_MAX / PACKET_BUFFER_SIZE
                    ? malloc(n_packets * PACKET_BUFFER_SIZE) : NULL;
    if (!pool->packets || !pool->buffers) {
        free(pool->packets);
        free(pool->buffers);
        free(pool);
        return NULL;
    }
    pool->n_packets = n_packets;
    for (size_t i = n_packets; i-- > 0;) {
        struct packet *p = &pool->packets[i];

        p->base = pool->buffers + i * PACKET_BUFFER_SIZE;
        p->pool = pool;
        p->next_free = pool->free_list;
        pool->free_list = p;
    }
    pool->n_free = n_packets;
    return pool;
}

void
packet_pool_destroy(struct packet_pool *pool)
{
    if (pool) {
        free(pool->packets);
        free(pool->buffers);
        free(pool);
    }
}

void
packet_pool_get_stats(const struct packet_pool *pool,
                      struct packet_pool_stats *stats)
{
    stats->n_packets = pool->n_packets;
    stats->n_free = pool->n_free;
    stats->alloc_failures = pool->alloc_failures;
}

struct packet *
packet_alloc(struct packet_pool *pool)
{
    struct packet *p = pool->free_list;

    if (!p) {
        pool->alloc_failures++;
        return NULL;
    }
    pool->free_list = p->next_free;
    pool->n_free--;

    p->next_free = NULL;
    p->data_ofs = PACKET_HEADROOM;
    p->size = 0;
    memset(&p->md, 0, sizeof p->md);
    packet_reset_offsets(p);
    return p;
}

void
packet_free(struct packet *p)
{
    if (p) {
        struct packet_pool *pool = p->pool;

        p->next_free = pool->free_list;
        pool->free_list = p;
        pool->n_free++;
    }
}

struct packet *
packet_clone(const struct packet *p)
{
    struct packet *copy = packet_alloc(p->pool);

    if (copy) {
        copy->data_ofs = p->data_ofs;
        copy->size = p->size;
        copy->md = p->md;
        memcpy(packet_data(copy), packet_data(p), p->size);
    }
    return copy;
}

int
packet_set_frame(struct packet *p, const void *data, size_t len)
{
    if (len > PACKET_MAX_FRAME) {
        return EMSGSIZE;
    }
    p->data_ofs = PACKET_HEADROOM;
    p->size = (uint32_t) len;
    memcpy(packet_data(p), data, len);
    packet_reset_offsets(p);
    return 0;
}

void *
packet_put_uninit(struct packet *p, size_t len)
{
    if (len > packet_tailroom(p)) {
        return NULL;
    }

    void *tail = packet_data(p) + p->size;

    p->size += (uint32_t) len;
    return tail;
}

void
packet_batch_free(struct packet_batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        packet_free(b->packets[i]);
    }
    b->count = 0;
}
