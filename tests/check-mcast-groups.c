#include <config.h>

#include "fixture.h"
#include "mcast-groups.h"

#include <check.h>
#include <errno.h>
#include <string.h>

#include "inet.h"

/* A kernel to stand in for the real one: up to MAX_FDS sockets, each
 * refusing a join past 'limit' memberships (ENOBUFS, as IPv4 does), and
 * refusing every join with 'join_error' while that is set (a device that
 * is not there).  It counts how many groups each socket holds, and how
 * many sockets hold each group, so that a test sees what a real kernel
 * would. */
#define MAX_FDS 64
#define N_ADDRS 4096

struct kernel {
    bool open[MAX_FDS];
    size_t held[MAX_FDS];
    unsigned int members[N_ADDRS];      /* By group number. */
    size_t limit;
    int join_error;
    int open_error;
    size_t opened;                      /* Ever. */
};

static struct kernel k;

static struct in6_addr
group_addr(unsigned int i)
{
    /* 239.1.X.Y as an IPv4-mapped address. */
    return inet_from_ipv4(htonl(0xef010000u | i));
}

static unsigned int
group_number(const struct in6_addr *addr)
{
    return ntohl(inet_to_ipv4(addr)) & 0xffff;
}

static int
fake_open(void *aux, int *fd)
{
    (void) aux;
    if (k.open_error) {
        return k.open_error;
    }
    for (int i = 0; i < MAX_FDS; i++) {
        if (!k.open[i]) {
            k.open[i] = true;
            k.held[i] = 0;
            k.opened++;
            *fd = i;
            return 0;
        }
    }
    return EMFILE;
}

/* The set closes only the sockets it emptied, but when it is destroyed,
 * which teardown() does after leaving every group. */
static void
fake_close(void *aux, int fd)
{
    (void) aux;
    ck_assert(k.open[fd]);
    ck_assert_uint_eq(k.held[fd], 0);
    k.open[fd] = false;
}

static int
fake_change(void *aux, int fd, const struct in6_addr *group, bool join)
{
    unsigned int g = group_number(group);

    (void) aux;
    ck_assert(k.open[fd]);
    if (!join) {
        ck_assert_uint_gt(k.members[g], 0);
        k.members[g]--;
        k.held[fd]--;
        return 0;
    }
    if (k.join_error) {
        return k.join_error;
    }
    if (k.held[fd] >= k.limit) {
        return ENOBUFS;
    }
    k.members[g]++;
    k.held[fd]++;
    return 0;
}

static const struct mcast_groups_ops fake_ops = {
    fake_open, fake_close, fake_change,
};

static struct mcast_groups *mg;
static struct in6_addr addrs[N_ADDRS];

static void
setup(void)
{
    memset(&k, 0, sizeof k);
    k.limit = 20;
    for (unsigned int i = 0; i < N_ADDRS; i++) {
        addrs[i] = group_addr(i);
    }
    mg = mcast_groups_create(&fake_ops, NULL);
    ck_assert_ptr_nonnull(mg);
}

static void
teardown(void)
{
    /* Leave every group first: fake_close() wants empty sockets. */
    mcast_groups_set(mg, NULL, 0, 20);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 0);
    mcast_groups_destroy(mg);
}

/* How many sockets of the fake kernel are open. */
static size_t
open_sockets(void)
{
    size_t n = 0;

    for (int i = 0; i < MAX_FDS; i++) {
        n += k.open[i];
    }
    return n;
}

/* Says whether groups [first, first + n) each have exactly one
 * membership. */
static bool
each_joined_once(unsigned int first, unsigned int n)
{
    for (unsigned int i = first; i < first + n; i++) {
        if (k.members[i] != 1) {
            return false;
        }
    }
    return true;
}

START_TEST(test_spreads_groups_over_sockets)
{
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 1000, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 1000);
    ck_assert_uint_eq(mcast_groups_failed(mg), 0);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 50);
    ck_assert_uint_eq(open_sockets(), 50);
    ck_assert(each_joined_once(0, 1000));
    for (int i = 0; i < 50; i++) {
        ck_assert_uint_eq(k.held[i], 20);
    }
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[999]), 0);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[1000]), ENOENT);
}
END_TEST

START_TEST(test_duplicates_join_once)
{
    struct in6_addr dup[6] = {
        addrs[1], addrs[2], addrs[1], addrs[1], addrs[3], addrs[2],
    };

    ck_assert_int_eq(mcast_groups_set(mg, dup, 6, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 3);
    ck_assert(each_joined_once(1, 3));
    ck_assert_uint_eq(k.members[0], 0);
}
END_TEST

START_TEST(test_learns_a_lower_kernel_limit)
{
    /* The caller believes 20 (or knows no limit), the kernel takes 7. */
    k.limit = 7;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 100, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 100);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 15);
    ck_assert(each_joined_once(0, 100));
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 200,
                                      MCAST_GROUPS_UNLIMITED), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 200);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 29);
    ck_assert(each_joined_once(0, 200));
}
END_TEST

START_TEST(test_leaves_and_refills)
{
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 100, 20), 0);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 5);

    /* Groups 0-39 leave: the first two sockets are empty and close. */
    ck_assert_int_eq(mcast_groups_set(mg, &addrs[40], 60, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 60);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 3);
    ck_assert_uint_eq(open_sockets(), 3);
    for (unsigned int i = 0; i < 40; i++) {
        ck_assert_uint_eq(k.members[i], 0);
    }
    ck_assert(each_joined_once(40, 60));

    /* Half of each remaining socket goes: new groups fill the holes
     * rather than open sockets. */
    struct in6_addr keep[130];
    size_t n = 0;

    for (unsigned int i = 40; i < 100; i += 2) {
        keep[n++] = addrs[i];
    }
    ck_assert_int_eq(mcast_groups_set(mg, keep, n, 20), 0);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 3);
    for (unsigned int i = 1000; i < 1030; i++) {
        keep[n++] = addrs[i];
    }
    ck_assert_int_eq(mcast_groups_set(mg, keep, n, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 60);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 3);
    ck_assert(each_joined_once(1000, 30));
}
END_TEST

START_TEST(test_keeps_the_error_and_retries)
{
    /* No socket may hold any: every join fails on an empty socket, which
     * then closes. */
    k.limit = 0;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 30, 0), ENOBUFS);
    ck_assert_uint_eq(mcast_groups_joined(mg), 0);
    ck_assert_uint_eq(mcast_groups_failed(mg), 30);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[29]), ENOBUFS);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 0);
    ck_assert_uint_eq(open_sockets(), 0);
    /* Tried on one socket, not one per group. */
    ck_assert_uint_eq(k.opened, 1);

    /* The limit is raised: the same set joins them. */
    k.limit = 20;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 30, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 30);
    ck_assert_uint_eq(mcast_groups_failed(mg), 0);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[29]), 0);
    ck_assert(each_joined_once(0, 30));
}
END_TEST

START_TEST(test_full_sockets_leave_new_groups_failed)
{
    /* 41 groups joined; then the limit drops to 0 (the sysctl lowered):
     * what is joined stays, a new group fails with the kernel's reason,
     * and joins once a group leaves and frees a place. */
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 41, 20), 0);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 3);

    k.limit = 0;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 42, 0), ENOBUFS);
    ck_assert_uint_eq(mcast_groups_joined(mg), 41);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[41]), ENOBUFS);
    ck_assert_uint_eq(k.members[41], 0);

    /* Group 0 leaves: the kernel's limit is per socket, so its place on
     * the first socket (20 held, of 20) does not help while the limit is
     * 0 ... */
    ck_assert_int_eq(mcast_groups_set(mg, &addrs[1], 41, 0), ENOBUFS);
    ck_assert_uint_eq(mcast_groups_joined(mg), 40);
    /* ... but does once it is 20 again. */
    k.limit = 20;
    ck_assert_int_eq(mcast_groups_set(mg, &addrs[1], 41, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 41);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 3);
    ck_assert(each_joined_once(1, 41));
}
END_TEST

START_TEST(test_other_errors_stay_per_group)
{
    k.join_error = ENODEV;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 5, 20), ENODEV);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[4]), ENODEV);
    ck_assert_uint_eq(mcast_groups_failed(mg), 5);
    ck_assert_uint_eq(k.opened, 1);

    /* The device comes back. */
    k.join_error = 0;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 5, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 5);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[4]), 0);
}
END_TEST

START_TEST(test_socket_that_cannot_open)
{
    k.open_error = EMFILE;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 3, 20), EMFILE);
    ck_assert_int_eq(mcast_groups_state(mg, &addrs[0]), EMFILE);
    ck_assert_uint_eq(mcast_groups_failed(mg), 3);
    k.open_error = 0;
    ck_assert_int_eq(mcast_groups_set(mg, addrs, 3, 20), 0);
    ck_assert_uint_eq(mcast_groups_joined(mg), 3);
}
END_TEST

START_TEST(test_destroy_accepts_null)
{
    mcast_groups_destroy(NULL);
    ck_assert_uint_eq(mcast_groups_sockets(mg), 0);
}
END_TEST

static Suite *
mcast_groups_suite(void)
{
    Suite *s = suite_create("mcast-groups");

    fixture_add_case(s, "spreads 1000 groups over sockets of 20",
                     test_spreads_groups_over_sockets, setup, teardown);
    fixture_add_case(s, "joins a group named twice once",
                     test_duplicates_join_once, setup, teardown);
    fixture_add_case(s, "learns a kernel limit lower than it was told",
                     test_learns_a_lower_kernel_limit, setup, teardown);
    fixture_add_case(s, "leaves groups, closes empty sockets, refills",
                     test_leaves_and_refills, setup, teardown);
    fixture_add_case(s, "keeps a join's error and retries it",
                     test_keeps_the_error_and_retries, setup, teardown);
    fixture_add_case(s, "joins a new group once the limit allows",
                     test_full_sockets_leave_new_groups_failed, setup,
                     teardown);
    fixture_add_case(s, "keeps other errors per group",
                     test_other_errors_stay_per_group, setup, teardown);
    fixture_add_case(s, "keeps a socket's open error",
                     test_socket_that_cannot_open, setup, teardown);
    fixture_add_case(s, "destroy accepts NULL",
                     test_destroy_accepts_null, setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(mcast_groups_suite());
}
