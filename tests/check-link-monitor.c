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

/* What the monitor reported after saying events were lost. */
static int n_lost, n_after_lost;

static void
on_link_counting_losses(void *aux, const char *name, bool exists)
{
    n_lost += !name;
    n_after_lost += name && n_lost;
    on_link(aux, name, exists);
}

START_TEST(test_says_events_were_lost_once_its_queue_is_empty)
{
    struct link_monitor *monitor;
    FILE *batch;

    n_lost = n_after_lost = 0;
    ck_assert_int_eq(link_monitor_create(&loop, on_link_counting_losses,
                                         &loop, &monitor), 0);
    /* Far more events than the queue holds, with the loop not reading;
     * DEV's comes last and is lost with the rest. */
    batch = popen("ip -batch -", "w");
    ck_assert_ptr_nonnull(batch);
    for (int i = 0; i < 300; i++) {
        fprintf(batch, "link add ckflood%d type veth peer name ckpeer%d\n",
                i, i);
        fprintf(batch, "link del ckflood%d\n", i);
    }
    ck_assert_int_eq(pclose(batch), 0);
    fixture_shell("ip link add " DEV " type veth peer name cklink1");
    for (int i = 0; i < 1000 && !n_lost; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    ck_assert_int_eq(n_lost, 1);

    /* The loss is reported after the last stale event, when a look at
     * every interface finds DEV; and what happens next is followed. */
    for (int i = 0; i < 10; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    ck_assert_int_eq(n_after_lost, 0);
    fixture_shell("ip link del " DEV);
    wait_for_report(false);
    ck_assert_int_eq(n_lost, 1);
    link_monitor_destroy(monitor);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *
link_monitor_suite(void)
{
    Suite *s = suite_create("link-monitor");

    fixture_add_case(s, "reports an interface that appears and goes",
                     test_reports_an_interface_that_appears_and_goes, setup,
                     NULL);
    fixture_add_case(s, "says events were lost once its queue is empty",
                     test_says_events_were_lost_once_its_queue_is_empty,
                     setup, NULL);
    fixture_add_case(s, "destroy closes its handle",
                     test_destroy_closes_its_handle, setup, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(link_monitor_suite());
}
