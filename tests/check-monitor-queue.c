#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "monitor-queue.h"

/* A learned-MAC event numbered 'seq', of which the caller owns the one
 * reference. */
static struct monitor_event *
event(uint64_t seq)
{
    struct monitor_event *ev = monitor_event_create(MONITOR_FDB, "learned");

    ev->seq = seq;
    ev->time_us = seq * 1000;
    monitor_event_set(ev, &ev->mac, "02:00:00:00:00:01");
    return ev;
}

/* Pushes events numbered 'first' to 'last' into 'q'; returns how many it
 * took. */
static size_t
push_range(struct monitor_queue *q, uint64_t first, uint64_t last)
{
    size_t n = 0;

    for (uint64_t seq = first; seq <= last; seq++) {
        struct monitor_event *ev = event(seq);

        n += monitor_queue_push(q, ev);
        monitor_event_unref(ev);
    }
    return n;
}

/* Pops the next event and checks it is the live event 'seq'. */
static void
pop_seq(struct monitor_queue *q, uint64_t seq)
{
    struct monitor_event *ev = monitor_queue_pop(q);

    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->kind, MONITOR_FDB);
    ck_assert_uint_eq(ev->seq, seq);
    monitor_event_unref(ev);
}

/* Pops the next event and checks it says 'count' were missed, 'first' to
 * 'last'. */
static void
pop_missed(struct monitor_queue *q, uint64_t count, uint64_t first,
           uint64_t last)
{
    struct monitor_event *ev = monitor_queue_pop(q);

    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->kind, MONITOR_MISSED);
    ck_assert_str_eq(monitor_kind_name(ev->kind), "missed");
    ck_assert_uint_eq(ev->count, count);
    ck_assert_uint_eq(ev->first_seq, first);
    ck_assert_uint_eq(ev->seq, last);
    ck_assert_uint_eq(ev->time_us, last * 1000);
    monitor_event_unref(ev);
}

START_TEST(test_keeps_events_in_order_up_to_its_bound)
{
    struct monitor_queue q;

    monitor_queue_init(&q, 4, 1 << 20);
    ck_assert_uint_eq(push_range(&q, 1, 4), 4);
    for (uint64_t seq = 1; seq <= 4; seq++) {
        pop_seq(&q, seq);
    }
    ck_assert_ptr_null(monitor_queue_pop(&q));
    ck_assert_uint_eq(q.bytes, 0);
    /* Round the ring. */
    ck_assert_uint_eq(push_range(&q, 5, 7), 3);
    pop_seq(&q, 5);
    pop_seq(&q, 6);
    pop_seq(&q, 7);
    monitor_queue_destroy(&q);
}
END_TEST

START_TEST(test_drops_the_newest_and_counts_them)
{
    struct monitor_queue q;

    monitor_queue_init(&q, 3, 1 << 20);
    ck_assert_uint_eq(push_range(&q, 1, 6), 3);
    ck_assert_uint_eq(q.total_missed, 3);
    pop_seq(&q, 1);
    pop_seq(&q, 2);
    pop_seq(&q, 3);
    pop_missed(&q, 3, 4, 6);
    ck_assert_ptr_null(monitor_queue_pop(&q));
    ck_assert_uint_eq(push_range(&q, 7, 7), 1);
    pop_seq(&q, 7);
    ck_assert_uint_eq(q.total_missed, 3);
    monitor_queue_destroy(&q);
}
END_TEST

START_TEST(test_says_the_gap_before_anything_newer)
{
    struct monitor_queue q;

    monitor_queue_init(&q, 3, 1 << 20);
    ck_assert_uint_eq(push_range(&q, 1, 5), 3);
    pop_seq(&q, 1);
    /* Room for one: not for the gap and the event, which is lost too. */
    ck_assert_uint_eq(push_range(&q, 6, 6), 0);
    pop_seq(&q, 2);
    ck_assert_uint_eq(push_range(&q, 7, 7), 1);
    pop_seq(&q, 3);
    pop_missed(&q, 3, 4, 6);
    pop_seq(&q, 7);
    ck_assert_ptr_null(monitor_queue_pop(&q));
    monitor_queue_destroy(&q);
}
END_TEST

START_TEST(test_bounds_the_bytes_it_holds)
{
    struct monitor_queue q;
    struct monitor_event *small = event(1);
    struct monitor_event *big = event(2);
    char text[1000];

    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    monitor_event_set(big, &big->match, text);
    ck_assert_uint_eq(big->size, small->size + sizeof text);
    monitor_queue_init(&q, 100, small->size * 2 + sizeof text - 1);
    ck_assert(monitor_queue_push(&q, small));
    ck_assert(!monitor_queue_push(&q, big));
    ck_assert_uint_eq(q.bytes, small->size);
    monitor_event_unref(small);
    monitor_event_unref(big);
    pop_seq(&q, 1);
    pop_missed(&q, 1, 2, 2);
    monitor_queue_destroy(&q);
}
END_TEST

START_TEST(test_shares_an_event_between_queues)
{
    struct monitor_queue a, b;
    struct monitor_event *ev = event(9);
    struct monitor_event *got;

    monitor_queue_init(&a, 2, 1 << 20);
    monitor_queue_init(&b, 2, 1 << 20);
    ck_assert(monitor_queue_push(&a, ev));
    ck_assert(monitor_queue_push(&b, ev));
    ck_assert_uint_eq(ev->refs, 3);
    monitor_event_unref(ev);
    got = monitor_queue_pop(&a);
    ck_assert_ptr_eq(got, ev);
    ck_assert_uint_eq(got->refs, 2);
    ck_assert_str_eq(got->mac, "02:00:00:00:00:01");
    monitor_event_unref(got);
    /* The other queue still holds it whole. */
    got = monitor_queue_pop(&b);
    ck_assert_uint_eq(got->refs, 1);
    ck_assert_str_eq(got->mac, "02:00:00:00:00:01");
    monitor_event_unref(got);
    monitor_queue_destroy(&a);
    monitor_queue_destroy(&b);
}
END_TEST

START_TEST(test_frees_what_it_holds_when_destroyed)
{
    struct monitor_queue q;

    monitor_queue_init(&q, 2, 1 << 20);
    ck_assert_uint_eq(push_range(&q, 1, 5), 2);
    /* The events held and the gap go with it (the sanitizer build checks
     * that nothing leaks). */
    monitor_queue_destroy(&q);
    ck_assert_ptr_null(q.ring);
}
END_TEST

static Suite *
monitor_queue_suite(void)
{
    Suite *s = suite_create("monitor-queue");

    fixture_add_case(s, "keeps events in order up to its bound",
                     test_keeps_events_in_order_up_to_its_bound, NULL,
                     NULL);
    fixture_add_case(s, "drops the newest and counts them",
                     test_drops_the_newest_and_counts_them, NULL, NULL);
    fixture_add_case(s, "says the gap before anything newer",
                     test_says_the_gap_before_anything_newer, NULL, NULL);
    fixture_add_case(s, "bounds the bytes it holds",
                     test_bounds_the_bytes_it_holds, NULL, NULL);
    fixture_add_case(s, "shares an event between queues",
                     test_shares_an_event_between_queues, NULL, NULL);
    fixture_add_case(s, "frees what it holds when destroyed",
                     test_frees_what_it_holds_when_destroyed, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(monitor_queue_suite());
}
