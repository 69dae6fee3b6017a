#include <config.h>

#include "fdb-dump.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "mac-table.h"
#include "util.h"

#define VNI_A 100
#define VNI_B 200
#define NOW 1000000LL

/* Port names the tests look up; a test may rename one after a dump. */
static char port_names[3][16] = { "", "tap0", "cap0" };

static const char *
name_of(const void *aux, uint32_t port_no)
{
    (void) aux;
    return port_no > 0 && port_no < 3 ? port_names[port_no] : NULL;
}

/* Where an entry lives: "172.31.0.2" is a remote VTEP, "2" port 2. */
static struct mac_dest
at(const char *where)
{
    struct mac_dest dest = { .type = MAC_DEST_REMOTE };

    if (inet_pton(AF_INET, where, &dest.remote.s6_addr[12]) == 1) {
        dest.remote.s6_addr[10] = 0xff;
        dest.remote.s6_addr[11] = 0xff;
    } else {
        dest.type = MAC_DEST_PORT;
        dest.port_no = (uint32_t) atoi(where);
    }
    return dest;
}

/* Copies the whole of 'vni' of 't' in one go. */
static struct fdb_dump *
take(const struct mac_table *t, uint32_t vni)
{
    struct fdb_dump *d = fdb_dump_create(vni);

    ck_assert(fdb_dump_copy(d, t, NOW, SIZE_MAX, name_of, NULL));
    return d;
}

static struct eth_addr
mac(uint8_t a, uint8_t b)
{
    return (struct eth_addr) { { 0x02, 0, 0, 0, a, b } };
}

static void
learn(struct mac_table *t, uint32_t vni, struct eth_addr m,
      struct mac_dest dest, long long when)
{
    ck_assert_int_eq(mac_table_learn(t, vni, &m, &dest, when),
                     MAC_LEARN_NEW);
}

/* A table with entries of two VNIs, learned out of order: a port, a
 * remote VTEP, a port with no name any more, and a static entry. */
static struct mac_table *
sample_table(void)
{
    struct mac_table *t = mac_table_create(0);
    struct eth_addr m = mac(0, 0x05);
    struct mac_dest d = at("2");

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(mac_table_set_vni(t, VNI_A, 0, 0), 0);
    ck_assert_int_eq(mac_table_set_vni(t, VNI_B, 0, 0), 0);
    learn(t, VNI_B, mac(0, 0x01), at("1"), NOW - 3000);
    learn(t, VNI_A, mac(0x0a, 0x00), at("172.31.0.2"), NOW - 20);
    learn(t, VNI_A, mac(0x09, 0xff), at("1"), NOW - 1000);
    learn(t, VNI_A, mac(0, 0x07), at("7"), NOW);
    ck_assert_int_eq(mac_table_add_static(t, VNI_B, &m, &d), 0);
    return t;
}

/* The sample table of the tests that use setup_sample(). */
static struct mac_table *sample;

static void
setup_sample(void)
{
    sample = sample_table();
}

static void
teardown_sample(void)
{
    mac_table_destroy(sample);
    sample = NULL;
}

START_TEST(test_sorted_and_formatted)
{
    struct fdb_dump *d = take(sample, 0);
    Vswitch__FdbList *l = fdb_dump_build(d);
    Vswitch__FdbEntry **e = l->entries;

    ck_assert_uint_eq(l->n_entries, 5);
    /* By VNI, then by MAC: 09:ff before 0a:00 as the text sorts. */
    ck_assert_uint_eq(e[0]->vni, VNI_A);
    ck_assert_str_eq(e[0]->mac, "02:00:00:00:00:07");
    ck_assert_str_eq(e[0]->port, "?");
    ck_assert_str_eq(e[1]->mac, "02:00:00:00:09:ff");
    ck_assert_str_eq(e[1]->port, "tap0");
    ck_assert_uint_eq(e[1]->age_ms, 1000);
    ck_assert_ptr_null(e[1]->remote);
    ck_assert_str_eq(e[2]->mac, "02:00:00:00:0a:00");
    ck_assert_str_eq(e[2]->remote, "172.31.0.2");
    ck_assert_ptr_null(e[2]->port);
    ck_assert_uint_eq(e[2]->age_ms, 20);
    ck_assert_uint_eq(e[3]->vni, VNI_B);
    ck_assert_str_eq(e[3]->mac, "02:00:00:00:00:01");
    ck_assert_uint_eq(e[3]->age_ms, 3000);
    ck_assert(!e[3]->static_);
    ck_assert_str_eq(e[4]->mac, "02:00:00:00:00:05");
    ck_assert_str_eq(e[4]->port, "cap0");
    ck_assert(e[4]->static_);
    ck_assert_uint_eq(e[4]->age_ms, 0);
    fdb_dump_destroy(d);
}
END_TEST

START_TEST(test_one_vni)
{
    struct fdb_dump *d = take(sample, VNI_B);
    Vswitch__FdbList *l = fdb_dump_build(d);

    ck_assert_uint_eq(l->n_entries, 2);
    ck_assert_uint_eq(l->entries[0]->vni, VNI_B);
    ck_assert_uint_eq(l->entries[1]->vni, VNI_B);
    fdb_dump_destroy(d);
}
END_TEST

/* The build runs in a worker while the loop changes the table and the
 * ports: it must see the table as it was taken, names included. */
START_TEST(test_copy_is_independent)
{
    struct fdb_dump *d = take(sample, VNI_B);
    struct eth_addr gone = mac(0, 0x01);
    Vswitch__FdbList *l;

    ck_assert_int_eq(mac_table_del(sample, VNI_B, &gone), 0);
    learn(sample, VNI_B, mac(0, 0x02), at("1"), NOW);
    strcpy(port_names[1], "renamed");
    teardown_sample();
    l = fdb_dump_build(d);
    strcpy(port_names[1], "tap0");

    ck_assert_uint_eq(l->n_entries, 2);
    ck_assert_str_eq(l->entries[0]->mac, "02:00:00:00:00:01");
    ck_assert_str_eq(l->entries[0]->port, "tap0");
    fdb_dump_destroy(d);
}
END_TEST

static struct eth_addr
nth_mac(uint32_t i)
{
    return (struct eth_addr) { { 0x02, 0, i >> 24 & 0xff, i >> 16 & 0xff,
                                 i >> 8 & 0xff, i & 0xff } };
}

/* A dump copied in slices while the table grows (and its hash map with
 * it) still holds every entry that was there all along, once. */
START_TEST(test_slices_across_growth)
{
    struct mac_table *t = mac_table_create(0);
    struct fdb_dump *d = fdb_dump_create(0);
    Vswitch__FdbList *l;
    size_t n_old = 0;
    bool done;

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(mac_table_set_vni(t, VNI_A, 0, 0), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        learn(t, VNI_A, nth_mac(i), at("1"), NOW);
    }
    ck_assert(!fdb_dump_copy(d, t, NOW, 100, name_of, NULL));
    for (uint32_t i = 1000; i < 9000; i++) {
        learn(t, VNI_A, nth_mac(i), at("2"), NOW);
    }
    do {
        done = fdb_dump_copy(d, t, NOW, 100, name_of, NULL);
    } while (!done);
    l = fdb_dump_build(d);
    for (size_t i = 0; i < l->n_entries; i++) {
        /* Sorted: a duplicate would sit next to its twin. */
        ck_assert(i == 0 || strcmp(l->entries[i - 1]->mac,
                                   l->entries[i]->mac) < 0);
        n_old += !strcmp(l->entries[i]->port, "tap0");
    }
    ck_assert_uint_eq(n_old, 1000);
    fdb_dump_destroy(d);
    mac_table_destroy(t);
}
END_TEST

static double
elapsed_ms(const struct timespec *a, const struct timespec *b)
{
    return (double) (b->tv_sec - a->tv_sec) * 1e3
           + (double) (b->tv_nsec - a->tv_nsec) / 1e6;
}

/* The loop's share of fdb-show is the copy, a slice per turn as vswitchd
 * takes it (8192 entries), so that each costs the loop a bounded slice of
 * a full table.  How long a slice takes is printed, not asserted: timings
 * on a shared machine belong to the system test that measures forwarding
 * latency under load (tests/system/control-load.sh). */
START_TEST(test_full_table_copy_in_slices)
{
    struct mac_table *t = mac_table_create(0);
    struct fdb_dump *d = fdb_dump_create(0);
    struct timespec t0, t1, t2;
    double worst = 0, total = 0;
    Vswitch__FdbList *l;
    size_t n_slices = 0;
    bool done;

    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(mac_table_set_vni(t, VNI_A, 0, 0), 0);
    for (uint32_t i = 0; i < MAC_TABLE_DEFAULT_MAX; i++) {
        learn(t, VNI_A, nth_mac(i), at(i % 2 ? "2" : "1"), NOW);
    }
    do {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        done = fdb_dump_copy(d, t, NOW, 8192, name_of, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        worst = MAX(worst, elapsed_ms(&t0, &t1));
        total += elapsed_ms(&t0, &t1);
        n_slices++;
    } while (!done);
    l = fdb_dump_build(d);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("copy of %d entries: %zu slices, worst %.2f ms, %.1f ms in all "
           "on the loop; sort and format: %.1f ms in a worker; %zu bytes "
           "held\n", MAC_TABLE_DEFAULT_MAX, n_slices, worst, total,
           elapsed_ms(&t1, &t2), fdb_dump_size(d));
    ck_assert_uint_eq(l->n_entries, MAC_TABLE_DEFAULT_MAX);
    ck_assert_str_eq(l->entries[MAC_TABLE_DEFAULT_MAX - 1]->mac,
                     "02:00:00:03:ff:ff");
    ck_assert_uint_ge(n_slices, MAC_TABLE_DEFAULT_MAX / 8192);
    fdb_dump_destroy(d);
    mac_table_destroy(t);
}
END_TEST

static Suite *
fdb_dump_suite(void)
{
    Suite *s = suite_create("fdb-dump");

    fixture_add_case(s, "a dump is sorted by VNI and MAC and formatted",
                     test_sorted_and_formatted, setup_sample,
                     teardown_sample);
    fixture_add_case(s, "a dump of one VNI holds that VNI only",
                     test_one_vni, setup_sample, teardown_sample);
    fixture_add_case(s, "a dump is a copy, names included",
                     test_copy_is_independent, setup_sample,
                     teardown_sample);
    fixture_add_case(s, "a dump in slices survives the table growing",
                     test_slices_across_growth, NULL, NULL);
    fixture_add_case(s, "a full table is copied in small slices",
                     test_full_table_copy_in_slices, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(fdb_dump_suite());
}
