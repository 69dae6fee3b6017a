#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "util.h"

static struct packet_pool_stats
pool_stats(const struct packet_pool *pool)
{
    struct packet_pool_stats stats;

    memset(&stats, 0xa5, sizeof stats);
    packet_pool_get_stats(pool, &stats);
    return stats;
}

static void
check_stats(const struct packet_pool *pool, size_t n_packets, size_t n_free,
            uint64_t alloc_failures)
{
    struct packet_pool_stats stats = pool_stats(pool);

    ck_assert_uint_eq(stats.n_packets, n_packets);
    ck_assert_uint_eq(stats.n_free, n_free);
    ck_assert_uint_eq(stats.alloc_failures, alloc_failures);
}

/* Checks that 'p' is as packet_alloc() promises: empty, at full headroom,
 * with cleared metadata. */
static void
check_fresh(const struct packet *p)
{
    ck_assert_uint_eq(packet_size(p), 0);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    ck_assert_uint_eq(packet_tailroom(p), PACKET_MAX_FRAME);
    ck_assert_uint_eq(p->md.in_port, 0);
    ck_assert_uint_eq(p->md.vni, 0);
    ck_assert(!p->md.hash_valid);
    ck_assert(!p->md.csum_partial);
    ck_assert_uint_eq(p->md.gso_size, 0);
    ck_assert_uint_eq(p->md.l3_ofs, PACKET_OFS_NONE);
    ck_assert_uint_eq(p->md.l4_ofs, PACKET_OFS_NONE);
}

/* Fills 'buf' with a pattern that differs from one offset to the next. */
static void
fill_pattern(uint8_t *buf, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t) (seed + i * 7 + (i >> 8));
    }
}

START_TEST(test_pool_accounting)
{
    struct packet_pool *pool = packet_pool_create(4);
    struct packet *p[4];

    ck_assert_ptr_nonnull(pool);
    check_stats(pool, 4, 4, 0);

    for (size_t i = 0; i < 4; i++) {
        p[i] = packet_alloc(pool);
        ck_assert_ptr_nonnull(p[i]);
        check_fresh(p[i]);
        check_stats(pool, 4, 3 - i, 0);
        for (size_t j = 0; j < i; j++) {
            ck_assert_ptr_ne(p[i], p[j]);
            ck_assert_ptr_ne(packet_data(p[i]), packet_data(p[j]));
        }
    }

    /* A packet that comes back dirty goes out again clean. */
    static const uint8_t frame[] = { 1, 2, 3, 4, 5 };

    ck_assert_int_eq(packet_set_frame(p[2], frame, sizeof frame), 0);
    ck_assert_ptr_nonnull(packet_push(p[2], 10));
    p[2]->md.in_port = 7;
    p[2]->md.vni = 5000;
    p[2]->md.hash_valid = true;
    p[2]->md.csum_partial = true;
    p[2]->md.gso_size = 1400;
    p[2]->md.l3_ofs = 14;
    p[2]->md.l4_ofs = 34;
    packet_free(p[2]);
    check_stats(pool, 4, 1, 0);
    p[2] = packet_alloc(pool);
    ck_assert_ptr_nonnull(p[2]);
    check_fresh(p[2]);
    check_stats(pool, 4, 0, 0);

    for (size_t i = 0; i < 4; i++) {
        packet_free(p[i]);
        check_stats(pool, 4, i + 1, 0);
    }
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_pool_exhaustion)
{
    struct packet_pool *pool = packet_pool_create(2);
    struct packet *a = packet_alloc(pool);
    struct packet *b = packet_alloc(pool);

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(packet_alloc(pool));
    check_stats(pool, 2, 0, 1);
    ck_assert_ptr_null(packet_alloc(pool));
    check_stats(pool, 2, 0, 2);

    /* A clone also draws from the pool. */
    ck_assert_ptr_null(packet_clone(a));
    check_stats(pool, 2, 0, 3);

    packet_free(b);
    check_stats(pool, 2, 1, 3);
    b = packet_alloc(pool);
    ck_assert_ptr_nonnull(b);
    check_stats(pool, 2, 0, 3);

    packet_free(a);
    packet_free(b);
    check_stats(pool, 2, 2, 3);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_free_null)
{
    struct packet_pool *pool = packet_pool_create(1);
    struct packet *p = packet_alloc(pool);

    ck_assert_ptr_nonnull(p);
    packet_free(NULL);
    check_stats(pool, 1, 0, 0);
    packet_free(p);
    packet_free(NULL);
    check_stats(pool, 1, 1, 0);
    packet_pool_destroy(pool);
    packet_pool_destroy(NULL);
}
END_TEST

START_TEST(test_set_frame_sizes)
{
    struct packet_pool *pool = packet_pool_create(1);
    struct packet *p = packet_alloc(pool);
    uint8_t *big = malloc(PACKET_MAX_FRAME + 1);

    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(big);
    fill_pattern(big, PACKET_MAX_FRAME + 1, 0x31);

    /* Setting a frame undoes an earlier push and stale offsets. */
    ck_assert_ptr_nonnull(packet_push(p, 20));
    p->md.l3_ofs = 14;
    p->md.l4_ofs = 34;
    ck_assert_int_eq(packet_set_frame(p, big, 0), 0);
    ck_assert_uint_eq(packet_size(p), 0);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    ck_assert_uint_eq(p->md.l3_ofs, PACKET_OFS_NONE);
    ck_assert_uint_eq(p->md.l4_ofs, PACKET_OFS_NONE);

    ck_assert_int_eq(packet_set_frame(p, big, 1), 0);
    ck_assert_uint_eq(packet_size(p), 1);
    ck_assert_uint_eq(packet_data(p)[0], big[0]);
    ck_assert_uint_eq(packet_tailroom(p), PACKET_MAX_FRAME - 1);

    ck_assert_int_eq(packet_set_frame(p, big, PACKET_MAX_FRAME), 0);
    ck_assert_uint_eq(packet_size(p), PACKET_MAX_FRAME);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    ck_assert_uint_eq(packet_tailroom(p), 0);
    ck_assert_mem_eq(packet_data(p), big, PACKET_MAX_FRAME);

    /* One byte too many is refused and leaves the frame as it was. */
    uint8_t *other = malloc(PACKET_MAX_FRAME + 1);

    ck_assert_ptr_nonnull(other);
    fill_pattern(other, PACKET_MAX_FRAME + 1, 0x77);
    ck_assert_int_eq(packet_set_frame(p, other, PACKET_MAX_FRAME + 1),
                     EMSGSIZE);
    ck_assert_uint_eq(packet_size(p), PACKET_MAX_FRAME);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    ck_assert_mem_eq(packet_data(p), big, PACKET_MAX_FRAME);

    free(other);
    free(big);
    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_push_headroom)
{
    struct packet_pool *pool = packet_pool_create(1);
    uint8_t frame[60];

    fill_pattern(frame, sizeof frame, 3);

    struct packet *p = fixture_packet(pool, frame, sizeof frame);
    uint8_t *start = packet_data(p);

    /* Too much at once fails and changes nothing. */
    ck_assert_ptr_null(packet_push(p, PACKET_HEADROOM + 1));
    ck_assert_uint_eq(packet_size(p), sizeof frame);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);
    ck_assert_ptr_eq(packet_data(p), start);

    uint8_t *outer = packet_push(p, 50);

    ck_assert_ptr_eq(outer, start - 50);
    ck_assert_ptr_eq(packet_data(p), outer);
    ck_assert_uint_eq(packet_size(p), sizeof frame + 50);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM - 50);

    /* The rest of the headroom, exactly. */
    outer = packet_push(p, PACKET_HEADROOM - 50);
    ck_assert_ptr_eq(outer, start - PACKET_HEADROOM);
    ck_assert_ptr_eq(outer, p->base);
    ck_assert_uint_eq(packet_headroom(p), 0);
    ck_assert_uint_eq(packet_size(p), sizeof frame + PACKET_HEADROOM);

    ck_assert_ptr_null(packet_push(p, 1));
    ck_assert_uint_eq(packet_headroom(p), 0);
    ck_assert_uint_eq(packet_size(p), sizeof frame + PACKET_HEADROOM);
    ck_assert_ptr_eq(packet_data(p), p->base);

    /* The payload did not move. */
    ck_assert_mem_eq(packet_data(p) + PACKET_HEADROOM, frame, sizeof frame);

    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_pull_bounds)
{
    struct packet_pool *pool = packet_pool_create(1);
    uint8_t frame[64];

    fill_pattern(frame, sizeof frame, 9);

    struct packet *p = fixture_packet(pool, frame, sizeof frame);

    ck_assert_ptr_null(packet_pull(p, sizeof frame + 1));
    ck_assert_uint_eq(packet_size(p), sizeof frame);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM);

    uint8_t *inner = packet_pull(p, 14);

    ck_assert_ptr_eq(inner, packet_data(p));
    ck_assert_uint_eq(packet_size(p), sizeof frame - 14);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM + 14);
    ck_assert_mem_eq(inner, frame + 14, sizeof frame - 14);

    ck_assert_ptr_null(packet_pull(p, sizeof frame - 13));
    ck_assert_uint_eq(packet_size(p), sizeof frame - 14);

    /* Pulling the whole frame leaves it empty, not failed. */
    ck_assert_ptr_nonnull(packet_pull(p, sizeof frame - 14));
    ck_assert_uint_eq(packet_size(p), 0);
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM + sizeof frame);
    ck_assert_ptr_null(packet_pull(p, 1));
    ck_assert_uint_eq(packet_headroom(p), PACKET_HEADROOM + sizeof frame);

    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_put_tailroom)
{
    struct packet_pool *pool = packet_pool_create(1);
    static const uint8_t frame[] = { 0xde, 0xad, 0xbe, 0xef };
    struct packet *p = fixture_packet(pool, frame, sizeof frame);
    size_t room = packet_tailroom(p);

    ck_assert_uint_eq(room, PACKET_MAX_FRAME - sizeof frame);
    ck_assert_ptr_null(packet_put_uninit(p, room + 1));
    ck_assert_uint_eq(packet_size(p), sizeof frame);
    ck_assert_uint_eq(packet_tailroom(p), room);

    uint8_t *tail = packet_put_uninit(p, 100);

    ck_assert_ptr_eq(tail, packet_data(p) + sizeof frame);
    ck_assert_uint_eq(packet_size(p), sizeof frame + 100);

    tail = packet_put_uninit(p, room - 100);
    ck_assert_ptr_eq(tail, packet_data(p) + sizeof frame + 100);
    ck_assert_uint_eq(packet_size(p), PACKET_MAX_FRAME);
    ck_assert_uint_eq(packet_tailroom(p), 0);
    /* The last byte is inside the buffer: writing it must be safe. */
    tail[room - 101] = 0x5a;

    ck_assert_ptr_null(packet_put_uninit(p, 1));
    ck_assert_uint_eq(packet_size(p), PACKET_MAX_FRAME);
    ck_assert_ptr_nonnull(packet_put_uninit(p, 0));
    ck_assert_uint_eq(packet_size(p), PACKET_MAX_FRAME);
    ck_assert_mem_eq(packet_data(p), frame, sizeof frame);

    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_at_bounds)
{
    struct packet_pool *pool = packet_pool_create(1);
    uint8_t frame[42];

    fill_pattern(frame, sizeof frame, 1);

    struct packet *p = fixture_packet(pool, frame, sizeof frame);
    const uint8_t *data = packet_data(p);

    ck_assert_ptr_eq(packet_at(p, 0, 0), data);
    ck_assert_ptr_eq(packet_at(p, 0, 42), data);
    ck_assert_ptr_null(packet_at(p, 0, 43));
    ck_assert_ptr_eq(packet_at(p, 34, 8), data + 34);
    ck_assert_ptr_null(packet_at(p, 34, 9));
    ck_assert_ptr_eq(packet_at(p, 41, 1), data + 41);
    ck_assert_ptr_eq(packet_at(p, 42, 0), data + 42);
    ck_assert_ptr_null(packet_at(p, 42, 1));
    ck_assert_ptr_null(packet_at(p, 43, 0));
    ck_assert_ptr_null(packet_at(p, 1, SIZE_MAX));
    ck_assert_ptr_null(packet_at(p, SIZE_MAX, 1));
    ck_assert_ptr_null(packet_at(p, SIZE_MAX, 0));
    ck_assert_ptr_null(packet_at(p, 2, SIZE_MAX - 1));

    ck_assert_ptr_eq(packet_at_rw(p, 42, 0), data + 42);
    ck_assert_ptr_eq(packet_at_rw(p, 40, 2), data + 40);
    ck_assert_ptr_null(packet_at_rw(p, 40, 3));
    ck_assert_ptr_null(packet_at_rw(p, 43, 0));
    ck_assert_ptr_null(packet_at_rw(p, 1, SIZE_MAX));

    /* The bound follows the frame as it is pulled. */
    ck_assert_ptr_nonnull(packet_pull(p, 14));
    ck_assert_ptr_eq(packet_at(p, 28, 0), data + 42);
    ck_assert_ptr_null(packet_at(p, 28, 1));

    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_clone)
{
    struct packet_pool *pool = packet_pool_create(2);
    uint8_t frame[98];

    fill_pattern(frame, sizeof frame, 0x40);

    struct packet *p = fixture_packet(pool, frame, sizeof frame);
    uint8_t *outer = packet_push(p, 50);

    ck_assert_ptr_nonnull(outer);
    memset(outer, 0xee, 50);
    p->md.in_port = 3;
    p->md.vni = 5000;
    p->md.tun_src.s6_addr[15] = 1;
    p->md.tun_dst.s6_addr[15] = 2;
    p->md.l3_ofs = 64;
    p->md.l4_ofs = 84;
    p->md.hash = 0x12345678;
    p->md.hash_valid = true;
    p->md.csum_partial = true;
    p->md.csum_start = 84;
    p->md.csum_offset = 6;
    p->md.gso_size = 1400;

    struct packet *c = packet_clone(p);

    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(c, p);
    ck_assert_ptr_ne(packet_data(c), packet_data(p));
    check_stats(pool, 2, 0, 0);

    ck_assert_uint_eq(packet_headroom(c), PACKET_HEADROOM - 50);
    ck_assert_uint_eq(packet_size(c), sizeof frame + 50);
    ck_assert_mem_eq(packet_data(c), packet_data(p), sizeof frame + 50);
    ck_assert_uint_eq(c->md.in_port, 3);
    ck_assert_uint_eq(c->md.vni, 5000);
    ck_assert_uint_eq(c->md.tun_src.s6_addr[15], 1);
    ck_assert_uint_eq(c->md.tun_dst.s6_addr[15], 2);
    ck_assert_uint_eq(c->md.l3_ofs, 64);
    ck_assert_uint_eq(c->md.l4_ofs, 84);
    ck_assert_uint_eq(c->md.hash, 0x12345678);
    ck_assert(c->md.hash_valid);
    ck_assert(c->md.csum_partial);
    ck_assert_uint_eq(c->md.csum_start, 84);
    ck_assert_uint_eq(c->md.csum_offset, 6);
    ck_assert_uint_eq(c->md.gso_size, 1400);

    /* Changing or freeing the original leaves the clone alone. */
    memset(packet_data(p), 0, packet_size(p));
    p->md.in_port = 9;
    ck_assert_ptr_nonnull(packet_pull(p, 50));
    packet_free(p);
    ck_assert_uint_eq(c->md.in_port, 3);
    ck_assert_uint_eq(packet_size(c), sizeof frame + 50);
    ck_assert_uint_eq(packet_data(c)[0], 0xee);
    ck_assert_mem_eq(packet_data(c) + 50, frame, sizeof frame);

    /* And the other way round. */
    p = packet_clone(c);
    ck_assert_ptr_nonnull(p);
    packet_data(c)[60] ^= 0xff;
    ck_assert_uint_eq(packet_data(p)[60], frame[10]);

    packet_free(p);
    packet_free(c);
    check_stats(pool, 2, 2, 0);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_batch_fill)
{
    struct packet_pool *pool = packet_pool_create(PACKET_BATCH_MAX);
    struct packet_batch b;

    b.count = 99;
    packet_batch_init(&b);
    ck_assert_uint_eq(b.count, 0);
    ck_assert(!packet_batch_is_full(&b));

    for (size_t i = 0; i < PACKET_BATCH_MAX; i++) {
        ck_assert(!packet_batch_is_full(&b));
        packet_batch_add(&b, packet_alloc(pool));
        ck_assert_uint_eq(b.count, i + 1);
        ck_assert_ptr_nonnull(b.packets[i]);
    }
    ck_assert(packet_batch_is_full(&b));
    check_stats(pool, PACKET_BATCH_MAX, 0, 0);

    packet_batch_free(&b);
    ck_assert_uint_eq(b.count, 0);
    ck_assert(!packet_batch_is_full(&b));
    check_stats(pool, PACKET_BATCH_MAX, PACKET_BATCH_MAX, 0);

    /* Freeing an empty batch is harmless. */
    packet_batch_free(&b);
    check_stats(pool, PACKET_BATCH_MAX, PACKET_BATCH_MAX, 0);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_batch_free_partial)
{
    struct packet_pool *pool = packet_pool_create(8);
    struct packet *kept = packet_alloc(pool);
    struct packet_batch b;

    packet_batch_init(&b);
    for (size_t i = 0; i < 5; i++) {
        packet_batch_add(&b, packet_alloc(pool));
    }
    check_stats(pool, 8, 2, 0);

    packet_batch_free(&b);
    ck_assert_uint_eq(b.count, 0);
    check_stats(pool, 8, 7, 0);

    /* Every freed buffer can be allocated again. */
    for (size_t i = 0; i < 7; i++) {
        struct packet *p = packet_alloc(pool);

        ck_assert_ptr_nonnull(p);
        ck_assert_ptr_ne(p, kept);
        packet_batch_add(&b, p);
    }
    ck_assert_ptr_null(packet_alloc(pool));
    packet_batch_free(&b);
    packet_free(kept);
    check_stats(pool, 8, 8, 1);
    packet_pool_destroy(pool);
}
END_TEST

START_TEST(test_batch_for_each_order)
{
    struct packet_pool *pool = packet_pool_create(PACKET_BATCH_MAX);
    struct packet_batch b;
    struct packet *p;
    size_t visits = 0;

    packet_batch_init(&b);
    PACKET_BATCH_FOR_EACH (i, p, &b) {
        visits++;
    }
    ck_assert_uint_eq(visits, 0);

    for (size_t i = 0; i < PACKET_BATCH_MAX; i++) {
        struct packet *q = packet_alloc(pool);

        q->md.in_port = (uint32_t) (100 + i);
        packet_batch_add(&b, q);
    }
    PACKET_BATCH_FOR_EACH (i, p, &b) {
        ck_assert_uint_eq(i, visits);
        ck_assert_ptr_eq(p, b.packets[visits]);
        ck_assert_uint_eq(p->md.in_port, 100 + visits);
        visits++;
    }
    ck_assert_uint_eq(visits, PACKET_BATCH_MAX);

    packet_batch_free(&b);
    packet_pool_destroy(pool);
}
END_TEST

/* A VLAN tag pushed or stripped moves the parsed headers; a header that
 * was not reached stays unset, and resetting forgets the parse and the
 * hash. */
START_TEST(test_shift_and_reset_offsets)
{
    struct packet_pool *pool = packet_pool_create(1);
    struct packet *p = packet_alloc(pool);

    p->md.parsed = true;
    p->md.l4_proto = IP_PROTO_TCP;
    p->md.l3_ofs = 14;
    p->md.l4_ofs = PACKET_OFS_NONE;
    p->md.hash = 1234;
    p->md.hash_valid = true;
    p->md.csum_partial = true;
    p->md.csum_start = 34;
    packet_shift_offsets(p, 4);
    ck_assert_uint_eq(p->md.l3_ofs, 18);
    ck_assert_uint_eq(p->md.l4_ofs, PACKET_OFS_NONE);
    ck_assert_uint_eq(p->md.csum_start, 38);
    ck_assert(p->md.parsed && p->md.hash_valid);
    p->md.l4_ofs = 38;
    packet_shift_offsets(p, -4);
    ck_assert_uint_eq(p->md.l3_ofs, 14);
    ck_assert_uint_eq(p->md.l4_ofs, 34);
    ck_assert_uint_eq(p->md.csum_start, 34);

    packet_reset_offsets(p);
    ck_assert(!p->md.parsed);
    ck_assert(!p->md.hash_valid);
    ck_assert_uint_eq(p->md.l4_proto, 0);
    ck_assert_uint_eq(p->md.l3_ofs, PACKET_OFS_NONE);
    ck_assert_uint_eq(p->md.l4_ofs, PACKET_OFS_NONE);
    packet_free(p);
    packet_pool_destroy(pool);
}
END_TEST

static Suite *
packet_suite(void)
{
    /* Not static: Check's test handles are variables, not constants. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "accounts for every buffer", test_pool_accounting },
        { "returns NULL and counts failures when exhausted",
          test_pool_exhaustion },
        { "accepts NULL to free", test_free_null },
        { "sets frames of 0, 1 and the maximum size, no more",
          test_set_frame_sizes },
        { "pushes up to the whole headroom and no further",
          test_push_headroom },
        { "pulls no more than the frame", test_pull_bounds },
        { "puts bytes up to the end of the tailroom", test_put_tailroom },
        { "bounds packet_at by the frame size", test_at_bounds },
        { "clones data and metadata independently", test_clone },
        { "fills a batch to PACKET_BATCH_MAX", test_batch_fill },
        { "frees every packet of a batch back to the pool",
          test_batch_free_partial },
        { "visits batch packets in order", test_batch_for_each_order },
        { "shifts and resets parsed offsets", test_shift_and_reset_offsets },
    };
    Suite *s = suite_create("packet");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, NULL, NULL);
    }
    return s;
}

int
main(void)
{
    return fixture_run(packet_suite());
}
