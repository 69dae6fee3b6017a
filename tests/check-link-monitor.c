#include <config.h>

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "fixture.h"
#include "link-monitor.h"

/* The link monitor, in a network namespace of the test's own (made by
 * setup() with unshare(), it dies with the test's process), where the
 * test makes and deletes veth interfaces and watches what is reported. */

#define DEV "cklink0"

static uv_loop_t loop;

/* How many times the monitor reported DEV, and what it said last. */
static int n_seen;
static bool last_exists;

static void
on_link(void *aux, const char *name, bool exists)
{
    ck_assert_ptr_eq(aux, &loop);
    if (name && !strcmp(name, DEV)) {
        n_seen++;
        last_exists = exists;
    }
}

static void
setup(void)
{
    fixture_private_netns(false);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    n_seen = 0;
}

static void
on_timeout(uv_timer_t *timer)
{
    (void) timer;
}

/* Runs the loop until the monitor has reported DEV with 'exists' last,
 * for at most FIXTURE_WAIT_MS; fails the test if it does not. */
static void
wait_for_report(bool exists)
{
    uv_timer_t timer;
    uint64_t deadline;

    uv_timer_init(&loop, &timer);
    uv_update_time(&loop);
    deadline = uv_now(&loop) + FIXTURE_WAIT_MS;
    while (!(n_seen && last_exists == exists) && uv_now(&loop) < deadline) {
        uv_timer_start(&timer, on_timeout, 10, 0);
        uv_run(&loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *) &timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    ck_assert_msg(n_seen && last_exists == exists,
                  "no report of " DEV " %s", exists ? "appearing" : "gone");
}

START_TEST(test_reports_an_interface_that_appears_and_goes)
{
    struct link_monitor *monitor;

    ck_assert_int_eq(link_monitor_create(&loop, on_link, &loop, &monitor),
                     0);
    fixture_shell("ip link add " DEV " type veth peer name cklink1");
    wait_for_report(true);
    fixture_shell("ip link del " DEV);
    wait_for_report(false);

    /* Made again with the same name: reported again. */
    n_seen = 0;
    fixture_shell("ip link add " DEV " type veth peer name cklink1");
    wait_for_report(true);
    link_monitor_destroy(monitor);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_destroy_closes_its_handle)
{
    struct link_monitor *monitor;

    ck_assert_int_eq(link_monitor_create(&loop, on_link, &loop, &monitor),
                     0);
    link_monitor_destroy(monitor);
    link_monitor_destroy(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    ck_assert_int_eq(n_seen, 0);
}
END_TEST

static Suite *
link_monitor_suite(void)
{
    Suite *s = suite_create("link-monitor");

    fixture_add_case(s, "reports an interface that appears and goes",
                     test_reports_an_interface_that_appears_and_goes, setup,
                     NULL);
    fixture_add_case(s, "destroy closes its handle",
                     test_destroy_closes_its_handle, setup, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(link_monitor_suite());
}
