#include <config.h>

/* mac-table-bench: what a MAC table of N entries costs, the table alone
 * (see bench/README.md): resident memory per entry, the time to learn N
 * sources and the longest single learn among them (a rehash of the buckets
 * happens inside one), an ageing pass that finds nothing due, a dump, and
 * a flush. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mac-table.h"

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Resident memory in bytes, from /proc/self/statm. */
static long long
rss_bytes(void)
{
    long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%lld %lld", &size, &resident) != 2) {
            resident = 0;
        }
        fclose(f);
    }
    return resident * 4096;
}

static double
ms_since(long long start)
{
    return (now_ns() - start) / 1e6;
}

static void
count_entry(const struct mac_table_entry_info *info, void *aux)
{
    size_t *n = aux;

    (void) info;
    (*n)++;
}

int
main(int argc, char *argv[])
{
    size_t n = MAC_TABLE_MAX_LIMIT;
    int c;

    while ((c = getopt(argc, argv, "n:")) != -1) {
        if (c != 'n' || !(n = strtoul(optarg, NULL, 10))
            || n > MAC_TABLE_MAX_LIMIT) {
            fprintf(stderr, "usage: mac-table-bench [-n ENTRIES], "
                    "ENTRIES from 1 to %d\n", MAC_TABLE_MAX_LIMIT);
            return EXIT_FAILURE;
        }
    }

    struct mac_table *t = mac_table_create(0);
    struct mac_dest port = { .type = MAC_DEST_PORT, .port_no = 1 };

    if (!t || mac_table_set_max(t, n) || mac_table_set_vni(t, 6000, 0, 0)) {
        fprintf(stderr, "mac-table-bench: out of memory\n");
        return EXIT_FAILURE;
    }

    long long rss_empty = rss_bytes();
    long long worst = 0;
    size_t worst_at = 0;
    long long start = now_ns();

    for (size_t i = 0; i < n; i++) {
        struct eth_addr mac = { { 0x02, 0x06, i >> 24, i >> 16, i >> 8, i } };
        long long before = now_ns();

        if (mac_table_learn(t, 6000, &mac, &port, 0) != MAC_LEARN_NEW) {
            fprintf(stderr, "mac-table-bench: entry %zu not learned\n", i);
            return EXIT_FAILURE;
        }
        if (now_ns() - before > worst) {
            worst = now_ns() - before;
            worst_at = i;
        }
    }
    double learn_ms = ms_since(start);
    long long rss_full = rss_bytes();

    start = now_ns();
    mac_table_expire(t, 1000);
    double expire_ms = ms_since(start);

    size_t n_dumped = 0;

    start = now_ns();
    mac_table_dump(t, 0, 0, count_entry, &n_dumped);
    double dump_ms = ms_since(start);

    start = now_ns();
    size_t n_flushed = mac_table_flush(t, 0, NULL);
    double flush_ms = ms_since(start);

    printf("entries=%zu rss_empty_kib=%lld rss_full_kib=%lld "
           "bytes_per_entry=%.1f\n", n, rss_empty / 1024, rss_full / 1024,
           (double) (rss_full - rss_empty) / n);
    printf("learn_ms=%.1f ns_per_learn=%.0f worst_learn_ms=%.2f "
           "(entry %zu)\n", learn_ms, learn_ms * 1e6 / n, worst / 1e6,
           worst_at);
    printf("expire_nothing_due_ms=%.3f dump_ms=%.1f (%zu entries) "
           "flush_ms=%.1f (%zu entries)\n", expire_ms, dump_ms, n_dumped,
           flush_ms, n_flushed);
    mac_table_destroy(t);
    return EXIT_SUCCESS;
}
