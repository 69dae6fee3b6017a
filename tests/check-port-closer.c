#include <config.h>

#include <check.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "fixture.h"
#include "port.h"
#include "port-closer.h"

/* The port closer, with ports of a class of the test's own, whose close
 * takes 30 ms (as a TAP's does) and says on which thread it ran and
 * whether the port's removal came first, and with
 * a real TAP port in a namespace of the test's own. */

static uv_loop_t loop;

/* What the closer reported, in order, and how busy it was then. */
static struct port_closer *closer;
static char closed_names[8][IFNAMSIZ];
static bool busy_when_closed[8];
static size_t n_busy_when_closed[8];
static int n_closed;

static atomic_int n_port_closes;
static atomic_int n_closes_off_loop;    /* Not on the test's thread. */
static atomic_int n_removes_before_close;
static atomic_int n_removes;
static atomic_int n_running, most_running;
static pthread_t test_thread;

static void
on_closed(const char *name, void *aux)
{
    ck_assert_ptr_eq(aux, &loop);
    ck_assert_int_lt(n_closed, 8);
    busy_when_closed[n_closed] = port_closer_busy(closer, name);
    n_busy_when_closed[n_closed] = port_closer_n_busy(closer);
    snprintf(closed_names[n_closed++], IFNAMSIZ, "%s", name);
}

/* A port of the test's classes. */
struct test_port {
    struct port up;
    bool removed;
};

static void
count_remove(struct port *port)
{
    ((struct test_port *) port)->removed = true;
    atomic_fetch_add(&n_removes, 1);
}

static void
slow_close(struct port *port)
{
    struct timespec ts = { 0, 30 * 1000 * 1000 };
    int running = atomic_fetch_add(&n_running, 1) + 1;
    int most = atomic_load(&most_running);

    while (running > most
           && !atomic_compare_exchange_weak(&most_running, &most, running)) {
        continue;
    }
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&n_running, 1);
    if (!pthread_equal(pthread_self(), test_thread)) {
        atomic_fetch_add(&n_closes_off_loop, 1);
    }
    if (((struct test_port *) port)->removed) {
        atomic_fetch_add(&n_removes_before_close, 1);
    }
    free(port);
    atomic_fetch_add(&n_port_closes, 1);
}

static const struct port_class off_loop_class = {
    .type = "test-off-loop",
    .close = slow_close,
    .close_off_loop = true,
    .remove = count_remove,
};

static const struct port_class on_loop_class = {
    .type = "test-on-loop",
    .close = slow_close,
    .remove = count_remove,
};

/* Closes a new port of 'class' named 'name', removing it if 'remove'. */
static bool
close_new(const char *name, const struct port_class *class, bool remove)
{
    struct test_port *port = calloc(1, sizeof *port);

    ck_assert_ptr_nonnull(port);
    port->up.class = class;
    return port_closer_close(closer, name, &port->up, remove);
}

static void
setup(void)
{
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    n_closed = 0;
    test_thread = pthread_self();
    atomic_store(&n_port_closes, 0);
    atomic_store(&n_closes_off_loop, 0);
    atomic_store(&n_running, 0);
    atomic_store(&most_running, 0);
    atomic_store(&n_removes, 0);
    atomic_store(&n_removes_before_close, 0);
}

/* Runs the loop until the closer has reported 'n' closes, for at most
 * FIXTURE_WAIT_MS. */
static void
wait_closed(int n)
{
    uint64_t deadline = uv_hrtime() + FIXTURE_WAIT_MS * 1000000ull;

    while (n_closed < n && uv_hrtime() < deadline) {
        uv_run(&loop, UV_RUN_ONCE);
    }
    ck_assert_int_eq(n_closed, n);
}

START_TEST(test_closes_off_the_loop_and_says_when)
{
    closer = port_closer_create(&loop, on_closed, &loop);

    ck_assert(close_new("p0", &off_loop_class, true));
    ck_assert(port_closer_busy(closer, "p0"));
    ck_assert(!port_closer_busy(closer, "p1"));
    ck_assert_uint_eq(port_closer_n_busy(closer), 1);
    ck_assert_int_eq(n_closed, 0);

    wait_closed(1);
    ck_assert_str_eq(closed_names[0], "p0");
    ck_assert_int_eq(atomic_load(&n_port_closes), 1);
    ck_assert_int_eq(atomic_load(&n_removes_before_close), 1);
    ck_assert_int_eq(atomic_load(&n_closes_off_loop), 1);
    ck_assert(!busy_when_closed[0]);
    ck_assert_uint_eq(n_busy_when_closed[0], 0);
    ck_assert(!port_closer_busy(closer, "p0"));
    ck_assert_uint_eq(port_closer_n_busy(closer), 0);
    port_closer_destroy(closer);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_closes_other_ports_at_once)
{
    closer = port_closer_create(&loop, on_closed, &loop);

    ck_assert(!close_new("p0", &on_loop_class, true));
    ck_assert_int_eq(atomic_load(&n_port_closes), 1);
    ck_assert_int_eq(atomic_load(&n_closes_off_loop), 0);
    ck_assert_int_eq(atomic_load(&n_removes_before_close), 1);
    ck_assert(!close_new("p1", &on_loop_class, false));
    ck_assert_int_eq(atomic_load(&n_port_closes), 2);
    ck_assert_int_eq(atomic_load(&n_removes), 1);
    ck_assert(!port_closer_busy(closer, "p0"));
    ck_assert_uint_eq(port_closer_n_busy(closer), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(n_closed, 0);
    port_closer_destroy(closer);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_each_name_is_busy_until_its_port_is_closed)
{
    closer = port_closer_create(&loop, on_closed, &loop);

    ck_assert(close_new("a", &off_loop_class, false));
    ck_assert(close_new("b", &off_loop_class, false));
    ck_assert(port_closer_busy(closer, "a"));
    ck_assert(port_closer_busy(closer, "b"));
    ck_assert(!port_closer_busy(closer, "ab"));
    ck_assert_uint_eq(port_closer_n_busy(closer), 2);

    wait_closed(2);
    ck_assert_str_ne(closed_names[0], closed_names[1]);
    ck_assert(!strcmp(closed_names[0], "a") || !strcmp(closed_names[0], "b"));
    ck_assert(!strcmp(closed_names[1], "a") || !strcmp(closed_names[1], "b"));
    /* Each name is free when it is reported, the other still busy. */
    ck_assert(!busy_when_closed[0] && !busy_when_closed[1]);
    ck_assert_uint_eq(n_busy_when_closed[0], 1);
    ck_assert_uint_eq(n_busy_when_closed[1], 0);
    ck_assert_uint_eq(port_closer_n_busy(closer), 0);
    port_closer_destroy(closer);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_three_close_at_a_time)
{
    closer = port_closer_create(&loop, on_closed, &loop);
    for (int i = 0; i < 6; i++) {
        char name[IFNAMSIZ];

        snprintf(name, sizeof name, "p%d", i);
        ck_assert(close_new(name, &off_loop_class, false));
    }
    ck_assert_uint_eq(port_closer_n_busy(closer), 6);
    ck_assert(port_closer_busy(closer, "p5"));
    wait_closed(6);
    /* Never more than three; more than one (a thread may start late). */
    ck_assert_int_le(atomic_load(&most_running), 3);
    ck_assert_int_ge(atomic_load(&most_running), 2);
    ck_assert_int_eq(atomic_load(&n_closes_off_loop), 6);
    /* Each once. */
    unsigned int seen = 0;

    for (int i = 0; i < 6; i++) {
        seen |= 1u << (closed_names[i][1] - '0');
    }
    ck_assert_uint_eq(seen, 0x3f);
    ck_assert_uint_eq(port_closer_n_busy(closer), 0);
    port_closer_destroy(closer);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* The closes go on without their closer; the loop's last run waits for
 * them, so that nothing leaks (AddressSanitizer would say). */
START_TEST(test_destroyed_first_it_says_nothing)
{
    closer = port_closer_create(&loop, on_closed, &loop);

    ck_assert(close_new("p0", &off_loop_class, false));
    ck_assert(close_new("p1", &off_loop_class, false));
    ck_assert(close_new("p2", &off_loop_class, false));
    ck_assert(close_new("p3", &off_loop_class, true));
    /* p3 waits its turn: it closes here, removed first. */
    port_closer_destroy(closer);
    ck_assert_int_eq(atomic_load(&n_removes), 1);
    ck_assert_int_ge(atomic_load(&n_port_closes), 1);
    port_closer_destroy(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(atomic_load(&n_port_closes), 4);
    ck_assert_int_eq(atomic_load(&n_closes_off_loop), 3);
    ck_assert_int_eq(atomic_load(&n_removes_before_close), 1);
    ck_assert_int_eq(n_closed, 0);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* A real TAP port that made its device: once removed and closed off the
 * loop, the device is gone when the closer says so. */
START_TEST(test_a_tap_device_is_gone_when_closed)
{
    struct port *port;
    char name[IFNAMSIZ], error[256];

    fixture_private_netns(false);
    snprintf(name, sizeof name, "ckcl%d", (int) getpid());
    ck_assert_msg(!fixture_port_open("tap", name, NULL, &port, error,
                                     sizeof error), "%s", error);
    ck_assert(port->class->close_off_loop);
    ck_assert_uint_ne(if_nametoindex(name), 0);
    closer = port_closer_create(&loop, on_closed, &loop);
    ck_assert(port_closer_close(closer, name, port, true));
    wait_closed(1);
    ck_assert_str_eq(closed_names[0], name);
    ck_assert_uint_eq(if_nametoindex(name), 0);
    port_closer_destroy(closer);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *
port_closer_suite(void)
{
    Suite *s = suite_create("port-closer");

    fixture_add_case(s, "closes off the loop and says when",
                     test_closes_off_the_loop_and_says_when, setup, NULL);
    fixture_add_case(s, "closes other ports at once",
                     test_closes_other_ports_at_once, setup, NULL);
    fixture_add_case(s, "each name is busy until its port is closed",
                     test_each_name_is_busy_until_its_port_is_closed, setup,
                     NULL);
    fixture_add_case(s, "three close at a time",
                     test_three_close_at_a_time, setup, NULL);
    fixture_add_case(s, "destroyed first, it says nothing",
                     test_destroyed_first_it_says_nothing, setup, NULL);
    fixture_add_case(s, "a TAP device is gone when closed",
                     test_a_tap_device_is_gone_when_closed, setup, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(port_closer_suite());
}
