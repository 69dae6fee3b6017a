#include <config.h>

#include "mac-table.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/* Times are in milliseconds of a fake clock that each test moves itself. */
#define SEC 1000LL

#define VNI_A 100
#define VNI_B 200

static struct mac_dest
port_dest(uint32_t port_no)
{
    struct mac_dest dest;

    /* Zeroing first makes the unused 'remote' predictable, so a table that
     * wrongly compared it would still be caught by the mismatching tests,
     * not hidden by stack garbage. */
    memset(&dest, 0, sizeof dest);
    dest.type = MAC_DEST_PORT;
    dest.port_no = port_no;
    return dest;
}

/* Returns a remote VTEP at host-order IPv4 address 'ip', IPv4-mapped. */
static struct mac_dest
remote_dest(uint32_t ip)
{
    struct mac_dest dest;
    uint32_t be = htonl(ip);

    memset(&dest, 0, sizeof dest);
    dest.type = MAC_DEST_REMOTE;
    dest.remote.s6_addr[10] = 0xff;
    dest.remote.s6_addr[11] = 0xff;
    memcpy(&dest.remote.s6_addr[12], &be, sizeof be);
    return dest;
}

static struct mac_table *
create_table(size_t max_entries)
{
    struct mac_table *t = mac_table_create(max_entries);

    ck_assert_ptr_nonnull(t);
    return t;
}

static void
set_vni(struct mac_table *t, uint32_t vni, unsigned int ageing_s,
        size_t max_entries)
{
    ck_assert_int_eq(mac_table_set_vni(t, vni, ageing_s, max_entries), 0);
}

static void
learn_new(struct mac_table *t, uint32_t vni, const struct eth_addr *mac,
          const struct mac_dest *dest, long long now_ms)
{
    ck_assert_int_eq(mac_table_learn(t, vni, mac, dest, now_ms),
                     MAC_LEARN_NEW);
}

/* Asserts that 'mac' lives in 'vni' at local port 'port_no'. */
static void
assert_at_port(const struct mac_table *t, uint32_t vni,
               const struct eth_addr *mac, uint32_t port_no)
{
    const struct mac_dest *dest = mac_table_lookup(t, vni, mac);

    ck_assert_ptr_nonnull(dest);
    ck_assert_int_eq(dest->type, MAC_DEST_PORT);
    ck_assert_uint_eq(dest->port_no, port_no);
}

static void
assert_absent(const struct mac_table *t, uint32_t vni,
              const struct eth_addr *mac)
{
    ck_assert_ptr_null(mac_table_lookup(t, vni, mac));
}

static struct mac_table_stats
get_stats(const struct mac_table *t)
{
    struct mac_table_stats stats;

    mac_table_get_stats(t, &stats);
    return stats;
}

struct vni_info {
    unsigned int ageing_s;
    size_t max_entries;
    size_t n_dynamic;
    size_t n_static;
};

static struct vni_info
get_vni(const struct mac_table *t, uint32_t vni)
{
    struct vni_info info;

    ck_assert(mac_table_get_vni(t, vni, &info.ageing_s, &info.max_entries,
                                &info.n_dynamic, &info.n_static));
    return info;
}

/* A seeded xorshift generator, so the flood is the same on every run. */
static uint64_t
xorshift64(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Returns a random unicast MAC.  The first byte 0x0a (unicast, locally
 * administered) keeps it apart from fixture_mac()'s 02:00:00:00:xx:xx. */
static struct eth_addr
random_mac(uint64_t *state)
{
    uint64_t r = xorshift64(state);
    struct eth_addr mac = {{ 0x0a, (uint8_t) (r >> 32), (uint8_t) (r >> 24),
                             (uint8_t) (r >> 16), (uint8_t) (r >> 8),
                             (uint8_t) r }};

    return mac;
}

/* Everything mac_table_dump() reported, in a growing array. */
struct dump {
    struct mac_table_entry_info *infos;
    size_t n;
};

static void
dump_cb(const struct mac_table_entry_info *info, void *dump_)
{
    struct dump *dump = dump_;

    dump->infos = realloc(dump->infos, (dump->n + 1) * sizeof *dump->infos);
    ck_assert_ptr_nonnull(dump->infos);
    dump->infos[dump->n++] = *info;
}

static struct dump
dump_table(const struct mac_table *t, uint32_t vni, long long now_ms)
{
    struct dump dump = { NULL, 0 };

    mac_table_dump(t, vni, now_ms, dump_cb, &dump);
    return dump;
}

/* Returns how many entries of 'dump' point to 'dest'. */
static size_t
count_dest(const struct dump *dump, const struct mac_dest *dest)
{
    size_t n = 0;

    for (size_t i = 0; i < dump->n; i++) {
        n += mac_dest_equals(&dump->infos[i].dest, dest);
    }
    return n;
}

static const struct mac_table_entry_info *
find_info(const struct dump *dump, uint32_t vni, const struct eth_addr *mac)
{
    for (size_t i = 0; i < dump->n; i++) {
        if (dump->infos[i].vni == vni
            && eth_addr_equals(&dump->infos[i].mac, mac)) {
            return &dump->infos[i];
        }
    }
    return NULL;
}

START_TEST(test_learn_then_lookup)
{
    struct mac_table *t = create_table(0);
    struct eth_addr local = fixture_mac(1);
    struct eth_addr far = fixture_mac(2);
    struct mac_dest port = port_dest(3);
    struct mac_dest vtep = remote_dest(0xc0000207);     /* 192.0.2.7 */

    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    learn_new(t, VNI_A, &local, &port, 0);
    learn_new(t, VNI_A, &far, &vtep, 0);

    assert_at_port(t, VNI_A, &local, 3);

    const struct mac_dest *dest = mac_table_lookup(t, VNI_A, &far);
    static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff,
                                        [12] = 192, [13] = 0, [14] = 2,
                                        [15] = 7 };

    ck_assert_ptr_nonnull(dest);
    ck_assert_int_eq(dest->type, MAC_DEST_REMOTE);
    ck_assert_mem_eq(dest->remote.s6_addr, mapped, sizeof mapped);

    /* The same MACs are unknown in another VNI, and an unknown MAC is
     * unknown everywhere. */
    assert_absent(t, VNI_B, &local);
    assert_absent(t, VNI_B, &far);

    struct eth_addr unknown = fixture_mac(3);

    assert_absent(t, VNI_A, &unknown);

    /* Learning the same MAC in the other VNI makes a second, separate
     * entry that does not disturb the first. */
    struct mac_dest other_port = port_dest(4);

    learn_new(t, VNI_B, &local, &other_port, 0);
    assert_at_port(t, VNI_A, &local, 3);
    assert_at_port(t, VNI_B, &local, 4);

    /* VNIs are 24 bits wide: one that differs from VNI A only in its top
     * bits is just as separate. */
    const uint32_t vni_high = VNI_A | 0xfe0000;

    set_vni(t, vni_high, 0, 0);
    assert_absent(t, vni_high, &local);
    learn_new(t, vni_high, &local, &other_port, 0);
    assert_at_port(t, VNI_A, &local, 3);
    assert_at_port(t, vni_high, &local, 4);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 4);
    ck_assert_uint_eq(get_stats(t).learned, 4);
    mac_table_destroy(t);
}
END_TEST

/* The hashes mac_table_prefetch() hands out are the ones the table files
 * entries under: learning and lookup with them agree with the plain
 * calls, and stay valid while the table grows. */
START_TEST(test_prefetch_hashes)
{
    enum { N = 40 };
    struct mac_table *t = create_table(0);
    struct mac_key keys[N];
    uint32_t hashes[N];
    struct mac_dest port = port_dest(3);

    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    for (size_t i = 0; i < N; i++) {
        keys[i] = (struct mac_key) { i % 2 ? VNI_B : VNI_A,
                                     fixture_mac((uint32_t) (i / 2 + 1)) };
    }
    mac_table_prefetch(t, keys, N, hashes);

    /* The even keys learned through their hashes, the odd ones plainly:
     * every table growth happens in between. */
    for (size_t i = 0; i < N; i++) {
        struct mac_dest dest = port_dest((uint32_t) (10 + i));

        ck_assert_int_eq(i % 2 ? mac_table_learn(t, keys[i].vni, &keys[i].mac,
                                                 &dest, 0)
                               : mac_table_learn_hashed(t, keys[i].vni,
                                                        &keys[i].mac,
                                                        hashes[i], &dest, 0),
                         MAC_LEARN_NEW);
    }
    for (size_t i = 0; i < N; i++) {
        const struct mac_dest *plain = mac_table_lookup(t, keys[i].vni,
                                                        &keys[i].mac);
        const struct mac_dest *hashed
            = mac_table_lookup_hashed(t, keys[i].vni, &keys[i].mac,
                                      hashes[i]);

        ck_assert_ptr_nonnull(plain);
        ck_assert_ptr_eq(plain, hashed);
        ck_assert_uint_eq(plain->port_no, 10 + i);
        ck_assert_int_eq(mac_table_learn_hashed(t, keys[i].vni, &keys[i].mac,
                                                hashes[i], &port, 0),
                         MAC_LEARN_MOVED);
    }
    ck_assert_uint_eq(get_stats(t).n_dynamic, N);
    assert_at_port(t, VNI_A, &keys[0].mac, 3);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_refresh_restarts_ageing)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, 0);
    learn_new(t, VNI_A, &mac, &port, 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &port, 100 * SEC),
                     MAC_LEARN_REFRESHED);

    /* Without the refresh the entry would go at 300 s. */
    ck_assert_int_eq(mac_table_expire(t, 300 * SEC), 400 * SEC);
    assert_at_port(t, VNI_A, &mac, 1);
    ck_assert_int_eq(mac_table_expire(t, 400 * SEC - 1), 400 * SEC);
    assert_at_port(t, VNI_A, &mac, 1);
    ck_assert_int_eq(mac_table_expire(t, 400 * SEC), 700 * SEC);
    assert_absent(t, VNI_A, &mac);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.learned, 1);
    ck_assert_uint_eq(stats.moves, 0);
    ck_assert_uint_eq(stats.expired, 1);
    mac_table_destroy(t);
}
END_TEST

/* Entries that fall due together age a slice at a time: each pass
 * removes no more than it may and asks to run again at once while more
 * are due, then gives the next deadline. */
START_TEST(test_expire_in_slices)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1), p2 = port_dest(2);
    struct eth_addr young = fixture_mac(999);

    set_vni(t, VNI_A, 10, 0);
    for (uint16_t i = 0; i < 100; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, i % 2 ? &p1 : &p2, 0);
    }
    learn_new(t, VNI_A, &young, &p1, 5 * SEC);
    for (size_t pass = 1; pass <= 3; pass++) {
        ck_assert_int_eq(mac_table_expire_some(t, 10 * SEC, 30), 10 * SEC);
        ck_assert_uint_eq(get_stats(t).expired, 30 * pass);
    }
    ck_assert_int_eq(mac_table_expire_some(t, 10 * SEC, 30), 15 * SEC);
    ck_assert_uint_eq(get_stats(t).expired, 100);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 1);
    assert_at_port(t, VNI_A, &young, 1);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_expire_deadline_covers_faster_vni)
{
    struct mac_table *t = create_table(0);
    struct eth_addr slow = fixture_mac(1);
    struct eth_addr fast = fixture_mac(2);
    struct mac_dest port = port_dest(1);

    /* An entry in the slow VNI must not put off the pass that an entry
     * learned later in the fast VNI needs. */
    set_vni(t, VNI_A, 300, 0);
    set_vni(t, VNI_B, 10, 0);
    learn_new(t, VNI_A, &slow, &port, 0);
    ck_assert_int_eq(mac_table_expire(t, 0), 10 * SEC);
    learn_new(t, VNI_B, &fast, &port, 1 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 10 * SEC), 11 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 11 * SEC), 21 * SEC);
    assert_absent(t, VNI_B, &fast);
    assert_at_port(t, VNI_A, &slow, 1);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_expire_exactly_at_ageing_time)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(1);

    ck_assert_int_eq(mac_table_expire(t, 0), LLONG_MAX);
    set_vni(t, VNI_A, 0, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).ageing_s, MAC_TABLE_DEFAULT_AGEING);
    ck_assert_int_eq(mac_table_expire(t, 0), 300 * SEC);

    learn_new(t, VNI_A, &mac, &port, 5 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 5 * SEC), 305 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 305 * SEC - 1), 305 * SEC);
    assert_at_port(t, VNI_A, &mac, 1);
    ck_assert_uint_eq(get_stats(t).expired, 0);

    ck_assert_int_eq(mac_table_expire(t, 305 * SEC), 605 * SEC);
    assert_absent(t, VNI_A, &mac);
    ck_assert_uint_eq(get_stats(t).expired, 1);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_expire_returns_earliest_deadline)
{
    struct mac_table *t = create_table(0);
    struct eth_addr m1 = fixture_mac(1);
    struct eth_addr m2 = fixture_mac(2);
    struct eth_addr m3 = fixture_mac(3);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest p2 = port_dest(2);

    set_vni(t, VNI_A, 60, 0);
    learn_new(t, VNI_A, &m1, &p1, 0);
    learn_new(t, VNI_A, &m3, &p2, 500);
    learn_new(t, VNI_A, &m2, &p1, 1000);

    /* The deadline is the earliest of all entries, across owners. */
    ck_assert_int_eq(mac_table_expire(t, 0), 60 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 60 * SEC), 60 * SEC + 500);
    assert_absent(t, VNI_A, &m1);
    assert_at_port(t, VNI_A, &m2, 1);
    assert_at_port(t, VNI_A, &m3, 2);
    ck_assert_int_eq(mac_table_expire(t, 60 * SEC + 500), 61 * SEC);
    assert_absent(t, VNI_A, &m3);
    assert_at_port(t, VNI_A, &m2, 1);

    /* A late call removes everything due, not just one entry. */
    learn_new(t, VNI_A, &m1, &p2, 61 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 1000 * SEC), 1060 * SEC);
    assert_absent(t, VNI_A, &m1);
    assert_absent(t, VNI_A, &m2);
    ck_assert_uint_eq(get_stats(t).expired, 4);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_expire_per_vni_ageing)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 10, 0);
    set_vni(t, VNI_B, 300, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).ageing_s, 10);
    ck_assert_uint_eq(get_vni(t, VNI_B).ageing_s, 300);
    learn_new(t, VNI_A, &mac, &port, 0);
    learn_new(t, VNI_B, &mac, &port, 0);

    ck_assert_int_eq(mac_table_expire(t, 0), 10 * SEC);
    ck_assert_int_eq(mac_table_expire(t, 10 * SEC - 1), 10 * SEC);
    assert_at_port(t, VNI_A, &mac, 1);

    /* VNI A's 10 s bound the next pass while VNI B's entry waits. */
    ck_assert_int_eq(mac_table_expire(t, 10 * SEC), 20 * SEC);
    assert_absent(t, VNI_A, &mac);
    assert_at_port(t, VNI_B, &mac, 1);

    ck_assert_int_eq(mac_table_expire(t, 295 * SEC), 300 * SEC);
    assert_at_port(t, VNI_B, &mac, 1);
    ck_assert_int_eq(mac_table_expire(t, 300 * SEC), 310 * SEC);
    assert_absent(t, VNI_B, &mac);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_vni_limit_evicts_oldest)
{
    enum { LIMIT = 4 };
    struct mac_table *t = create_table(0);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, LIMIT);
    set_vni(t, VNI_B, 0, 0);

    struct eth_addr other = fixture_mac(100);

    learn_new(t, VNI_B, &other, &port, 0);

    for (uint16_t i = 0; i <= LIMIT; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, &port, i);
    }

    struct vni_info info = get_vni(t, VNI_A);

    ck_assert_uint_eq(info.max_entries, LIMIT);
    ck_assert_uint_eq(info.n_dynamic, LIMIT);

    struct eth_addr oldest = fixture_mac(0);

    assert_absent(t, VNI_A, &oldest);
    for (uint16_t i = 1; i <= LIMIT; i++) {
        struct eth_addr mac = fixture_mac(i);

        assert_at_port(t, VNI_A, &mac, 1);
    }

    /* The limit is VNI A's: VNI B's entry is not a candidate. */
    assert_at_port(t, VNI_B, &other, 1);
    ck_assert_uint_eq(get_stats(t).evicted, 1);
    ck_assert_uint_eq(get_stats(t).n_dynamic, LIMIT + 1);
    mac_table_destroy(t);
}
END_TEST

/* Two quiet ports hold 'n_quiet' MACs each in 'vni', then port 1 learns
 * 'n_flood' random MACs there.  Checks that the quiet ports lost nothing,
 * that the flooder holds 'n_left' entries, the most recent ones, and that
 * everything else it learned was evicted. */
static void
flood_and_check(struct mac_table *t, uint32_t vni, size_t n_quiet,
                size_t n_flood, size_t n_left)
{
    struct mac_dest flooder = port_dest(1);
    struct mac_dest quiet[2] = { port_dest(2), port_dest(3) };
    struct eth_addr *flood = calloc(n_flood, sizeof *flood);
    struct mac_table_stats before = get_stats(t);
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    long long now = 0;

    ck_assert_ptr_nonnull(flood);
    for (size_t q = 0; q < 2; q++) {
        for (size_t i = 0; i < n_quiet; i++) {
            struct eth_addr mac = fixture_mac((uint16_t) (q * 100 + i));

            learn_new(t, vni, &mac, &quiet[q], now++);
        }
    }
    for (size_t i = 0; i < n_flood; i++) {
        flood[i] = random_mac(&state);
        learn_new(t, vni, &flood[i], &flooder, now++);
    }

    for (size_t q = 0; q < 2; q++) {
        for (size_t i = 0; i < n_quiet; i++) {
            struct eth_addr mac = fixture_mac((uint16_t) (q * 100 + i));

            assert_at_port(t, vni, &mac, quiet[q].port_no);
        }
    }
    for (size_t i = 0; i < n_flood; i++) {
        if (i < n_flood - n_left) {
            assert_absent(t, vni, &flood[i]);
        } else {
            assert_at_port(t, vni, &flood[i], 1);
        }
    }

    struct dump dump = dump_table(t, vni, now);

    ck_assert_uint_eq(count_dest(&dump, &flooder), n_left);
    ck_assert_uint_eq(count_dest(&dump, &quiet[0]), n_quiet);
    ck_assert_uint_eq(count_dest(&dump, &quiet[1]), n_quiet);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.learned - before.learned, 2 * n_quiet + n_flood);
    ck_assert_uint_eq(stats.evicted - before.evicted, n_flood - n_left);
    free(dump.infos);
    free(flood);
}

START_TEST(test_flood_evicts_only_flooder_vni_limit)
{
    struct mac_table *t = create_table(0);

    set_vni(t, VNI_A, 0, 100);
    flood_and_check(t, VNI_A, 3, 10000, 94);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 100);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_flood_evicts_only_flooder_table_limit)
{
    struct mac_table *t = create_table(100);
    struct eth_addr elsewhere = fixture_mac(999);
    struct mac_dest vtep = remote_dest(0xc0000209);     /* 192.0.2.9 */

    /* An entry in another VNI also counts against the table's bound and
     * must survive a flood it has nothing to do with. */
    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_B, &elsewhere, &vtep, 0),
                     MAC_LEARN_NEW);
    flood_and_check(t, VNI_A, 3, 10000, 93);
    ck_assert_ptr_nonnull(mac_table_lookup(t, VNI_B, &elsewhere));

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.max_entries, 100);
    ck_assert_uint_eq(stats.n_dynamic, 100);
    mac_table_destroy(t);
}
END_TEST

/* Learns fixture_mac(first) to fixture_mac(last - 1) at 'dest', one
 * millisecond apart from '*now'. */
static void
learn_range(struct mac_table *t, uint16_t first, uint16_t last,
            const struct mac_dest *dest, long long *now)
{
    for (uint16_t i = first; i < last; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, dest, (*now)++);
    }
}

/* Asserts that fixture_mac(first) to fixture_mac(last - 1) live at local
 * port 'port_no'. */
static void
assert_range_at_port(const struct mac_table *t, uint16_t first,
                     uint16_t last, uint32_t port_no)
{
    for (uint16_t i = first; i < last; i++) {
        struct eth_addr mac = fixture_mac(i);

        assert_at_port(t, VNI_A, &mac, port_no);
    }
}

/* The story of the attack: a VNI at its limit with local entries and a few
 * from a real remote VTEP, then 20,000 MACs from 20,000 forged outer
 * sources.  Each forged VTEP would hold one entry, so counted one by one
 * the biggest owner would be a local port.  The underlay is one owner and
 * pays for its own newcomers: every local entry survives, and the
 * underlay keeps the share it had.  (Remote entries are not protected from
 * one another: the learning policy decides which VTEPs are learned.) */
START_TEST(test_forged_remotes_cannot_evict_local_entries)
{
    enum { LIMIT = 1000, N_PORT1 = 600, N_PORT2 = 390, N_FORGED = 20000 };
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1), p2 = port_dest(2);
    struct mac_dest real = remote_dest(0xac1f0002);
    uint64_t state = 0x2545f4914f6cdd1dULL;
    long long now = 0;

    set_vni(t, VNI_A, 0, LIMIT);
    learn_range(t, 0, N_PORT1, &p1, &now);
    learn_range(t, N_PORT1, N_PORT1 + N_PORT2, &p2, &now);
    learn_range(t, N_PORT1 + N_PORT2, LIMIT, &real, &now);
    for (uint32_t i = 0; i < N_FORGED; i++) {
        struct eth_addr mac = random_mac(&state);
        struct mac_dest forged = remote_dest(0x0a000001 + i);

        learn_new(t, VNI_A, &mac, &forged, now++);
    }

    assert_range_at_port(t, 0, N_PORT1, 1);
    assert_range_at_port(t, N_PORT1, N_PORT1 + N_PORT2, 2);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, LIMIT);
    ck_assert_uint_eq(get_stats(t).evicted, N_FORGED);
    mac_table_destroy(t);
}
END_TEST

/* Against local ports the underlay counts as one owner: when it holds the
 * most, a port's newcomer takes the place of its least recently seen
 * entry, although each remote VTEP alone holds only one. */
START_TEST(test_underlay_is_one_owner_against_local_ports)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1), p2 = port_dest(2);
    long long now = 0;

    set_vni(t, VNI_A, 0, 10);
    learn_range(t, 0, 4, &p1, &now);
    for (uint16_t i = 4; i < 10; i++) {
        struct eth_addr mac = fixture_mac(i);
        struct mac_dest vtep = remote_dest(0xac1f0000 + i);

        learn_new(t, VNI_A, &mac, &vtep, now++);
    }

    struct eth_addr newcomer = fixture_mac(10);
    struct eth_addr oldest_remote = fixture_mac(4);

    learn_new(t, VNI_A, &newcomer, &p2, now++);
    assert_absent(t, VNI_A, &oldest_remote);
    assert_range_at_port(t, 0, 4, 1);
    mac_table_destroy(t);
}
END_TEST

/* An underlay that holds nothing in a VNI full of local entries takes one
 * place, from the biggest port; after that it makes room from its own. */
START_TEST(test_empty_underlay_takes_one_place)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest a = remote_dest(0xac1f0002), b = remote_dest(0xac1f0003);
    struct eth_addr ma = fixture_mac(100), mb = fixture_mac(101);
    struct eth_addr first = fixture_mac(0);
    long long now = 0;

    set_vni(t, VNI_A, 0, 5);
    learn_range(t, 0, 5, &p1, &now);
    learn_new(t, VNI_A, &ma, &a, now++);
    assert_absent(t, VNI_A, &first);
    learn_new(t, VNI_A, &mb, &b, now++);
    assert_absent(t, VNI_A, &ma);
    assert_range_at_port(t, 1, 5, 1);
    ck_assert_uint_eq(get_stats(t).evicted, 2);
    mac_table_destroy(t);
}
END_TEST

static void
set_learning(struct mac_table *t, const struct in6_addr *remotes,
             size_t n_remotes, bool listed_only, const char *prefix)
{
    struct mac_learn_policy policy = { .listed_only = listed_only,
                                       .remotes = remotes,
                                       .n_remotes = n_remotes };

    if (prefix) {
        ck_assert(inet_prefix_parse(prefix, &policy.prefix));
    }
    ck_assert_int_eq(mac_table_set_learning(t, VNI_A, &policy), 0);
}

/* would_learn says what learning would do, and changes nothing: for
 * trace, which must see a source it would learn. */
START_TEST(test_would_learn_predicts_learning)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1), p2 = port_dest(2);
    struct mac_dest r1 = remote_dest(0xac1f0001);
    struct mac_dest off = remote_dest(0x0a000001);
    struct eth_addr m1 = fixture_mac(1), m2 = fixture_mac(2);
    struct eth_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
    struct eth_addr zero = {{ 0 }};
    struct in6_addr list[] = { r1.remote };
    struct mac_table_stats before, after;

    ck_assert(!mac_table_would_learn(t, VNI_A, &m1, &p1));   /* No VNI. */
    set_vni(t, VNI_A, 0, 0);
    ck_assert(mac_table_would_learn(t, VNI_A, &m1, &p1));
    ck_assert(!mac_table_would_learn(t, VNI_A, &bcast, &p1));
    ck_assert(!mac_table_would_learn(t, VNI_A, &zero, &p1));
    ck_assert_ptr_null(mac_table_lookup(t, VNI_A, &m1));

    /* A dynamic entry moves; a static one stays. */
    learn_new(t, VNI_A, &m1, &p1, 0);
    ck_assert(mac_table_would_learn(t, VNI_A, &m1, &p2));
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &m2, &p1), 0);
    ck_assert(mac_table_would_learn(t, VNI_A, &m2, &p1));
    ck_assert(!mac_table_would_learn(t, VNI_A, &m2, &p2));

    /* A policy of listed VTEPs refuses the others. */
    set_learning(t, list, 1, true, NULL);
    mac_table_get_stats(t, &before);
    ck_assert(mac_table_would_learn(t, VNI_A, &m1, &r1));
    ck_assert(!mac_table_would_learn(t, VNI_A, &m1, &off));
    mac_table_get_stats(t, &after);
    ck_assert_mem_eq(&before, &after, sizeof before);
    assert_at_port(t, VNI_A, &m1, 1);
    mac_table_destroy(t);
}
END_TEST

/* Sources no VTEP can have are refused under every policy; a list and a
 * prefix refuse what they do not hold; a refused VTEP cannot move an entry
 * either; and a narrower policy forgets what it now refuses. */
START_TEST(test_learning_policy_refuses_and_counts)
{
    struct mac_table *t = create_table(0);
    struct mac_dest r1 = remote_dest(0xac1f0001), r2 = remote_dest(0xac1f0002);
    struct mac_dest off = remote_dest(0x0a000001);
    const char *bad[] = { "0.0.0.0", "::", "255.255.255.255", "224.0.0.1",
                          "ff02::1" };
    struct eth_addr m1 = fixture_mac(1), m2 = fixture_mac(2);
    struct eth_addr m3 = fixture_mac(3);
    struct in6_addr list[] = { r2.remote, r1.remote };

    set_vni(t, VNI_A, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct mac_dest d = { .type = MAC_DEST_REMOTE };

        ck_assert(inet_parse(bad[i], &d.remote));
        ck_assert_int_eq(mac_table_learn(t, VNI_A, &m1, &d, 0),
                         MAC_LEARN_REFUSED);
    }
    ck_assert_uint_eq(get_stats(t).learn_refused, 5);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);

    set_learning(t, list, 2, true, NULL);
    learn_new(t, VNI_A, &m1, &r1, 1);
    learn_new(t, VNI_A, &m2, &r2, 1);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m3, &off, 1),
                     MAC_LEARN_REFUSED);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m1, &off, 1),
                     MAC_LEARN_REFUSED);
    ck_assert(mac_dest_equals(mac_table_lookup(t, VNI_A, &m1), &r1));
    ck_assert_uint_eq(get_stats(t).learn_refused, 7);

    /* Between remote VTEPs a move is still a move. */
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m1, &r2, 2),
                     MAC_LEARN_MOVED);
    ck_assert(mac_dest_equals(mac_table_lookup(t, VNI_A, &m1), &r2));
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &r1), 0);

    /* The prefix holds r1 only, and m1 and m2 are both at r2 now. */
    set_learning(t, NULL, 0, false, "172.31.0.1/32");
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    learn_new(t, VNI_A, &m1, &r1, 3);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m2, &r2, 3),
                     MAC_LEARN_REFUSED);
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &r1), 1);

    struct mac_learn_policy any = { .listed_only = false };

    ck_assert_int_eq(mac_table_set_learning(t, VNI_B, &any), ENOENT);
    any.prefix.len = 129;
    ck_assert_int_eq(mac_table_set_learning(t, VNI_A, &any), EINVAL);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_static_never_ages)
{
    struct mac_table *t = create_table(0);
    struct eth_addr fixed = fixture_mac(1);
    struct eth_addr learned = fixture_mac(2);
    struct mac_dest port = port_dest(5);

    set_vni(t, VNI_A, 10, 0);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &fixed, &port), 0);
    learn_new(t, VNI_A, &learned, &port, 0);

    ck_assert_int_eq(mac_table_expire(t, LLONG_MAX / 2),
                     LLONG_MAX / 2 + 10 * SEC);
    assert_at_port(t, VNI_A, &fixed, 5);
    assert_absent(t, VNI_A, &learned);

    struct vni_info info = get_vni(t, VNI_A);

    ck_assert_uint_eq(info.n_static, 1);
    ck_assert_uint_eq(info.n_dynamic, 0);
    ck_assert_uint_eq(get_stats(t).expired, 1);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_static_not_overwritten_by_learning)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest fixed = port_dest(5);
    struct mac_dest elsewhere = port_dest(6);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &mac, &fixed), 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &elsewhere, 0),
                     MAC_LEARN_STATIC);
    assert_at_port(t, VNI_A, &mac, 5);
    ck_assert_uint_eq(get_stats(t).static_kept, 1);

    /* Traffic from where the static entry already points is no conflict,
     * so it is not counted. */
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &fixed, 0),
                     MAC_LEARN_STATIC);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.static_kept, 1);
    ck_assert_uint_eq(stats.learned, 0);
    ck_assert_uint_eq(stats.moves, 0);
    ck_assert_uint_eq(stats.n_dynamic, 0);
    ck_assert_uint_eq(stats.n_static, 1);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_static_survives_flush_until_deleted)
{
    struct mac_table *t = create_table(0);
    struct eth_addr fixed = fixture_mac(1);
    struct eth_addr learned = fixture_mac(2);
    struct mac_dest port = port_dest(5);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &fixed, &port), 0);
    learn_new(t, VNI_A, &learned, &port, 0);

    ck_assert_uint_eq(mac_table_flush(t, 0, NULL), 1);
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &port), 0);
    assert_at_port(t, VNI_A, &fixed, 5);
    assert_absent(t, VNI_A, &learned);

    ck_assert_int_eq(mac_table_del(t, VNI_A, &fixed), 0);
    assert_absent(t, VNI_A, &fixed);
    ck_assert_int_eq(mac_table_del(t, VNI_A, &fixed), ENOENT);
    ck_assert_uint_eq(get_stats(t).n_static, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_static, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_static_replaces_dynamic)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest learned_at = port_dest(1);
    struct mac_dest fixed = port_dest(2);

    set_vni(t, VNI_A, 10, 0);
    learn_new(t, VNI_A, &mac, &learned_at, 0);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &mac, &fixed), 0);
    assert_at_port(t, VNI_A, &mac, 2);

    struct vni_info info = get_vni(t, VNI_A);

    ck_assert_uint_eq(info.n_dynamic, 0);
    ck_assert_uint_eq(info.n_static, 1);

    /* Now static: it outlives its old ageing time and its old port. */
    ck_assert_int_eq(mac_table_expire(t, 1000 * SEC), 1010 * SEC);
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &learned_at), 0);
    assert_at_port(t, VNI_A, &mac, 2);

    struct dump dump = dump_table(t, VNI_A, 1000 * SEC);

    ck_assert_uint_eq(dump.n, 1);
    ck_assert(dump.infos[0].is_static);
    ck_assert_int_eq(dump.infos[0].age_ms, 0);
    free(dump.infos);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.n_dynamic, 0);
    ck_assert_uint_eq(stats.n_static, 1);
    ck_assert_uint_eq(stats.expired, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_static_rejects_multicast_and_unknown_vni)
{
    static const struct eth_addr bad[] = {
        {{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }},
        {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }},
        {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }},
    };
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(mac_table_add_static(t, VNI_A, &bad[i], &port),
                         EINVAL);
        assert_absent(t, VNI_A, &bad[i]);
    }
    ck_assert_int_eq(mac_table_add_static(t, VNI_B, &mac, &port), ENOENT);
    assert_absent(t, VNI_B, &mac);
    ck_assert_uint_eq(get_stats(t).n_static, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_static, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_move_updates_place)
{
    struct mac_table *t = create_table(0);
    struct eth_addr roamer = fixture_mac(1);
    struct eth_addr stayer = fixture_mac(2);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest p2 = port_dest(2);
    struct mac_dest vtep = remote_dest(0xc0000207);

    set_vni(t, VNI_A, 0, 0);
    learn_new(t, VNI_A, &roamer, &p1, 0);
    learn_new(t, VNI_A, &stayer, &p1, 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &roamer, &p2, 10 * SEC),
                     MAC_LEARN_MOVED);
    assert_at_port(t, VNI_A, &roamer, 2);
    ck_assert_uint_eq(get_stats(t).moves, 1);

    /* Flushing the old port takes only what is still there. */
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &p1), 1);
    assert_absent(t, VNI_A, &stayer);
    assert_at_port(t, VNI_A, &roamer, 2);

    /* A move to a remote VTEP is a move too. */
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &roamer, &vtep, 20 * SEC),
                     MAC_LEARN_MOVED);

    const struct mac_dest *dest = mac_table_lookup(t, VNI_A, &roamer);

    ck_assert_ptr_nonnull(dest);
    ck_assert(mac_dest_equals(dest, &vtep));
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &p2), 0);
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &vtep), 1);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.moves, 2);
    ck_assert_uint_eq(stats.learned, 2);
    ck_assert_uint_eq(stats.n_dynamic, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_move_counts_for_new_owner)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest p2 = port_dest(2);
    struct mac_dest p3 = port_dest(3);
    struct eth_addr m[5];

    for (uint16_t i = 0; i < 5; i++) {
        m[i] = fixture_mac(i);
    }
    set_vni(t, VNI_A, 0, 4);
    learn_new(t, VNI_A, &m[0], &p1, 0);
    learn_new(t, VNI_A, &m[1], &p1, 1);
    learn_new(t, VNI_A, &m[2], &p1, 2);
    learn_new(t, VNI_A, &m[3], &p2, 3);

    /* After two moves port 2 holds three entries and port 1 one, so the
     * next eviction must come from port 2, its least recently seen. */
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m[0], &p2, 4),
                     MAC_LEARN_MOVED);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m[1], &p2, 5),
                     MAC_LEARN_MOVED);
    learn_new(t, VNI_A, &m[4], &p3, 6);

    assert_absent(t, VNI_A, &m[3]);
    assert_at_port(t, VNI_A, &m[0], 2);
    assert_at_port(t, VNI_A, &m[1], 2);
    assert_at_port(t, VNI_A, &m[2], 1);
    assert_at_port(t, VNI_A, &m[4], 3);

    /* The move also restarted the moved entries' ageing. */
    ck_assert_int_eq(mac_table_expire(t, 300 * SEC + 2), 300 * SEC + 4);
    assert_absent(t, VNI_A, &m[2]);
    assert_at_port(t, VNI_A, &m[0], 2);
    ck_assert_uint_eq(get_stats(t).evicted, 1);
    ck_assert_uint_eq(get_stats(t).moves, 2);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_multicast_source_not_learned)
{
    static const struct eth_addr bad[] = {
        {{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }},
        {{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }},
        {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }},
        {{ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }},
    };
    struct mac_table *t = create_table(0);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(mac_table_learn(t, VNI_A, &bad[i], &port, 0),
                         MAC_LEARN_MULTICAST);
        assert_absent(t, VNI_A, &bad[i]);
    }

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.multicast_ignored, 4);
    ck_assert_uint_eq(stats.learned, 0);
    ck_assert_uint_eq(stats.n_dynamic, 0);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_learn_in_unconfigured_vni)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(1);
    unsigned int ageing_s;
    size_t max, n_dynamic, n_static;

    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &port, 0),
                     MAC_LEARN_NO_VNI);
    assert_absent(t, VNI_A, &mac);
    ck_assert(!mac_table_get_vni(t, VNI_A, &ageing_s, &max, &n_dynamic,
                                 &n_static));

    /* Another VNI being configured does not make this one so. */
    set_vni(t, VNI_B, 0, 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &port, 0),
                     MAC_LEARN_NO_VNI);
    assert_absent(t, VNI_A, &mac);
    ck_assert_uint_eq(get_stats(t).learned, 0);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    mac_table_destroy(t);
}
END_TEST

/* Fills VNIs A and B with two MACs at each of ports 1 and 2, plus one
 * static entry at port 1 in each VNI.  MAC numbers are vni + port * 10 +
 * i, so every entry is distinct and its place is easy to recompute. */
static struct mac_table *
make_flush_table(void)
{
    static const uint32_t vnis[] = { VNI_A, VNI_B };
    struct mac_table *t = create_table(0);

    for (size_t v = 0; v < 2; v++) {
        set_vni(t, vnis[v], 0, 0);
        for (uint32_t port = 1; port <= 2; port++) {
            struct mac_dest dest = port_dest(port);

            for (uint32_t i = 0; i < 2; i++) {
                struct eth_addr mac;

                mac = fixture_mac((uint16_t) (vnis[v] + port * 10 + i));
                learn_new(t, vnis[v], &mac, &dest, 0);
            }
        }

        struct mac_dest p1 = port_dest(1);
        struct eth_addr fixed = fixture_mac((uint16_t) (vnis[v] + 99));

        ck_assert_int_eq(mac_table_add_static(t, vnis[v], &fixed, &p1), 0);
    }
    return t;
}

/* Asserts that the dynamic entries of ('vni', 'port') are present or not,
 * and that the static ones always are. */
static void
assert_flushed(const struct mac_table *t, uint32_t vni, uint32_t port,
               bool present)
{
    for (uint32_t i = 0; i < 2; i++) {
        struct eth_addr mac = fixture_mac((uint16_t) (vni + port * 10 + i));

        if (present) {
            assert_at_port(t, vni, &mac, port);
        } else {
            assert_absent(t, vni, &mac);
        }
    }

    struct eth_addr fixed = fixture_mac((uint16_t) (vni + 99));

    assert_at_port(t, vni, &fixed, 1);
}

START_TEST(test_flush_by_vni)
{
    struct mac_table *t = make_flush_table();

    ck_assert_uint_eq(mac_table_flush(t, VNI_A, NULL), 4);
    assert_flushed(t, VNI_A, 1, false);
    assert_flushed(t, VNI_A, 2, false);
    assert_flushed(t, VNI_B, 1, true);
    assert_flushed(t, VNI_B, 2, true);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 0);
    ck_assert_uint_eq(get_vni(t, VNI_B).n_dynamic, 4);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 4);
    ck_assert_uint_eq(get_stats(t).n_static, 2);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_flush_by_dest)
{
    struct mac_table *t = make_flush_table();
    struct mac_dest p1 = port_dest(1);

    ck_assert_uint_eq(mac_table_flush(t, 0, &p1), 4);
    assert_flushed(t, VNI_A, 1, false);
    assert_flushed(t, VNI_A, 2, true);
    assert_flushed(t, VNI_B, 1, false);
    assert_flushed(t, VNI_B, 2, true);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 4);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_flush_by_vni_and_dest)
{
    struct mac_table *t = make_flush_table();
    struct mac_dest p2 = port_dest(2);

    ck_assert_uint_eq(mac_table_flush(t, VNI_B, &p2), 2);
    assert_flushed(t, VNI_A, 1, true);
    assert_flushed(t, VNI_A, 2, true);
    assert_flushed(t, VNI_B, 1, true);
    assert_flushed(t, VNI_B, 2, false);
    ck_assert_uint_eq(get_vni(t, VNI_B).n_dynamic, 2);

    /* Everything dynamic, then nothing left to flush. */
    ck_assert_uint_eq(mac_table_flush(t, 0, NULL), 6);
    ck_assert_uint_eq(mac_table_flush(t, 0, NULL), 0);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    ck_assert_uint_eq(get_stats(t).n_static, 2);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_del_vni_removes_only_that_vni)
{
    struct mac_table *t = make_flush_table();
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest port = port_dest(7);
    unsigned int ageing_s;
    size_t max, n_dynamic, n_static;

    /* The same MAC in both VNIs: only VNI A's copy may go. */
    learn_new(t, VNI_A, &mac, &port, 0);
    learn_new(t, VNI_B, &mac, &port, 0);
    mac_table_del_vni(t, VNI_A);

    ck_assert(!mac_table_get_vni(t, VNI_A, &ageing_s, &max, &n_dynamic,
                                 &n_static));
    assert_absent(t, VNI_A, &mac);
    for (uint32_t p = 1; p <= 2; p++) {
        for (uint32_t i = 0; i < 2; i++) {
            struct eth_addr m = fixture_mac((uint16_t) (VNI_A + p * 10 + i));

            assert_absent(t, VNI_A, &m);
        }
    }

    struct eth_addr fixed = fixture_mac(VNI_A + 99);

    assert_absent(t, VNI_A, &fixed);

    assert_at_port(t, VNI_B, &mac, 7);
    assert_flushed(t, VNI_B, 1, true);
    assert_flushed(t, VNI_B, 2, true);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.n_dynamic, 5);
    ck_assert_uint_eq(stats.n_static, 1);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &port, 0),
                     MAC_LEARN_NO_VNI);

    struct dump dump = dump_table(t, 0, 0);

    ck_assert_uint_eq(dump.n, 6);
    for (size_t i = 0; i < dump.n; i++) {
        ck_assert_uint_eq(dump.infos[i].vni, VNI_B);
    }
    free(dump.infos);

    /* Deleting it again, or a VNI never configured, changes nothing. */
    mac_table_del_vni(t, VNI_A);
    mac_table_del_vni(t, 12345);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 5);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_lowering_vni_limit_evicts_at_once)
{
    struct mac_table *t = create_table(0);
    struct mac_dest busy = port_dest(1);
    struct mac_dest quiet = port_dest(2);

    /* The quiet port comes first so that its entries are the oldest and
     * its owner the first found: only the busy port being the biggest
     * makes it the one to pay. */
    set_vni(t, VNI_A, 0, 0);
    for (uint16_t i = 100; i < 102; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, &quiet, i - 100);
    }
    for (uint16_t i = 0; i < 10; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, &busy, i + 2);
    }
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 12);

    set_vni(t, VNI_A, 30, 6);

    struct vni_info info = get_vni(t, VNI_A);

    ck_assert_uint_eq(info.n_dynamic, 6);
    ck_assert_uint_eq(info.max_entries, 6);
    ck_assert_uint_eq(info.ageing_s, 30);
    ck_assert_uint_eq(get_stats(t).evicted, 6);

    /* The busy port pays, oldest first; the quiet one keeps both. */
    for (uint16_t i = 0; i < 10; i++) {
        struct eth_addr mac = fixture_mac(i);

        if (i < 6) {
            assert_absent(t, VNI_A, &mac);
        } else {
            assert_at_port(t, VNI_A, &mac, 1);
        }
    }
    for (uint16_t i = 100; i < 102; i++) {
        struct eth_addr mac = fixture_mac(i);

        assert_at_port(t, VNI_A, &mac, 2);
    }

    /* Raising it again evicts nothing. */
    set_vni(t, VNI_A, 0, 100);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 6);
    ck_assert_uint_eq(get_vni(t, VNI_A).ageing_s, MAC_TABLE_DEFAULT_AGEING);
    ck_assert_uint_eq(get_stats(t).evicted, 6);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_dump_reports_every_entry)
{
    struct mac_table *t = create_table(0);
    struct eth_addr m1 = fixture_mac(1);
    struct eth_addr m2 = fixture_mac(2);
    struct eth_addr m3 = fixture_mac(3);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest p2 = port_dest(2);
    struct mac_dest p9 = port_dest(9);
    struct mac_dest vtep = remote_dest(0xc0000207);

    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    learn_new(t, VNI_A, &m1, &p1, 1 * SEC);
    learn_new(t, VNI_A, &m2, &vtep, 4 * SEC);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &m3, &p9), 0);
    learn_new(t, VNI_B, &m1, &p2, 2 * SEC);

    struct dump dump = dump_table(t, 0, 10 * SEC);
    const struct mac_table_entry_info *info;

    ck_assert_uint_eq(dump.n, 4);

    info = find_info(&dump, VNI_A, &m1);
    ck_assert_ptr_nonnull(info);
    ck_assert(mac_dest_equals(&info->dest, &p1));
    ck_assert(!info->is_static);
    ck_assert_int_eq(info->age_ms, 9 * SEC);

    info = find_info(&dump, VNI_A, &m2);
    ck_assert_ptr_nonnull(info);
    ck_assert(mac_dest_equals(&info->dest, &vtep));
    ck_assert(!info->is_static);
    ck_assert_int_eq(info->age_ms, 6 * SEC);

    info = find_info(&dump, VNI_A, &m3);
    ck_assert_ptr_nonnull(info);
    ck_assert(mac_dest_equals(&info->dest, &p9));
    ck_assert(info->is_static);
    ck_assert_int_eq(info->age_ms, 0);

    info = find_info(&dump, VNI_B, &m1);
    ck_assert_ptr_nonnull(info);
    ck_assert(mac_dest_equals(&info->dest, &p2));
    ck_assert(!info->is_static);
    ck_assert_int_eq(info->age_ms, 8 * SEC);
    free(dump.infos);

    dump = dump_table(t, VNI_B, 10 * SEC);
    ck_assert_uint_eq(dump.n, 1);
    ck_assert_uint_eq(dump.infos[0].vni, VNI_B);
    ck_assert(eth_addr_equals(&dump.infos[0].mac, &m1));
    ck_assert(mac_dest_equals(&dump.infos[0].dest, &p2));
    free(dump.infos);

    dump = dump_table(t, VNI_A, 10 * SEC);
    ck_assert_uint_eq(dump.n, 3);
    ck_assert_ptr_null(find_info(&dump, VNI_B, &m1));
    free(dump.infos);

    dump = dump_table(t, 12345, 10 * SEC);
    ck_assert_uint_eq(dump.n, 0);
    free(dump.infos);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_stats_match_activity)
{
    static const struct eth_addr bcast = {{ 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff }};
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1);
    struct mac_dest p2 = port_dest(2);
    struct eth_addr m[6];

    for (uint16_t i = 0; i < 6; i++) {
        m[i] = fixture_mac(i);
    }

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.max_entries, MAC_TABLE_DEFAULT_MAX);
    ck_assert_uint_eq(stats.n_dynamic + stats.n_static + stats.learned
                      + stats.moves + stats.expired + stats.evicted
                      + stats.static_kept + stats.multicast_ignored, 0);

    set_vni(t, VNI_A, 10, 3);
    set_vni(t, VNI_B, 0, 0);
    learn_new(t, VNI_A, &m[0], &p1, 0);             /* learned 1 */
    learn_new(t, VNI_A, &m[1], &p1, 1);             /* learned 2 */
    learn_new(t, VNI_A, &m[2], &p1, 2);             /* learned 3 */
    learn_new(t, VNI_A, &m[3], &p1, 3);             /* learned 4, evict */
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m[3], &p2, 4),
                     MAC_LEARN_MOVED);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m[3], &p2, 5),
                     MAC_LEARN_REFRESHED);
    ck_assert_int_eq(mac_table_add_static(t, VNI_B, &m[4], &p1), 0);
    ck_assert_int_eq(mac_table_learn(t, VNI_B, &m[4], &p2, 6),
                     MAC_LEARN_STATIC);
    ck_assert_int_eq(mac_table_learn(t, VNI_B, &bcast, &p2, 7),
                     MAC_LEARN_MULTICAST);
    learn_new(t, VNI_B, &m[5], &p2, 8);             /* learned 5 */

    /* VNI A ages out m[1] and m[2] (seen at 1 and 2 ms) but not m[3]. */
    ck_assert_int_eq(mac_table_expire(t, 10 * SEC + 2), 10 * SEC + 5);

    stats = get_stats(t);
    ck_assert_uint_eq(stats.n_dynamic, 2);
    ck_assert_uint_eq(stats.n_static, 1);
    ck_assert_uint_eq(stats.max_entries, MAC_TABLE_DEFAULT_MAX);
    ck_assert_uint_eq(stats.learned, 5);
    ck_assert_uint_eq(stats.moves, 1);
    ck_assert_uint_eq(stats.expired, 2);
    ck_assert_uint_eq(stats.evicted, 1);
    ck_assert_uint_eq(stats.static_kept, 1);
    ck_assert_uint_eq(stats.multicast_ignored, 1);

    struct vni_info a = get_vni(t, VNI_A);

    ck_assert_uint_eq(a.ageing_s, 10);
    ck_assert_uint_eq(a.max_entries, 3);
    ck_assert_uint_eq(a.n_dynamic, 1);
    ck_assert_uint_eq(a.n_static, 0);

    struct vni_info b = get_vni(t, VNI_B);

    ck_assert_uint_eq(b.ageing_s, MAC_TABLE_DEFAULT_AGEING);
    ck_assert_uint_eq(b.max_entries, 0);
    ck_assert_uint_eq(b.n_dynamic, 1);
    ck_assert_uint_eq(b.n_static, 1);
    mac_table_destroy(t);
}
END_TEST

/* Learns the same MACs, in the same order, into 't' and returns the order
 * in which a dump reports them. */
static struct dump
fill_and_dump(struct mac_table *t)
{
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, 0);
    for (uint16_t i = 0; i < 200; i++) {
        struct eth_addr mac = fixture_mac(i);

        learn_new(t, VNI_A, &mac, &port, 0);
    }
    return dump_table(t, VNI_A, 0);
}

START_TEST(test_tables_get_different_seeds)
{
    struct mac_table *t1 = create_table(0);
    struct mac_table *t2 = create_table(0);
    struct dump d1 = fill_and_dump(t1);
    struct dump d2 = fill_and_dump(t2);
    size_t same = 0;

    /* The seed is not visible, but the dump walks the hash table in bucket
     * order, so two tables with the same seed would report the same 200
     * MACs in the same order.  With different seeds the chance that the
     * orders still agree everywhere is negligible. */
    ck_assert_uint_eq(d1.n, 200);
    ck_assert_uint_eq(d2.n, 200);
    for (size_t i = 0; i < d1.n; i++) {
        same += eth_addr_equals(&d1.infos[i].mac, &d2.infos[i].mac);
    }
    ck_assert_uint_lt(same, 200);
    free(d1.infos);
    free(d2.infos);
    mac_table_destroy(t1);
    mac_table_destroy(t2);
    mac_table_destroy(NULL);
}
END_TEST

START_TEST(test_set_max_refuses_out_of_range)
{
    struct mac_table *t = create_table(100);

    ck_assert_int_eq(mac_table_set_max(t, 0), EINVAL);
    ck_assert_int_eq(mac_table_set_max(t, MAC_TABLE_MAX_LIMIT + 1), EINVAL);
    ck_assert_int_eq(mac_table_set_max(t, SIZE_MAX), EINVAL);
    ck_assert_uint_eq(get_stats(t).max_entries, 100);
    ck_assert_int_eq(mac_table_set_max(t, MAC_TABLE_MAX_LIMIT), 0);
    ck_assert_uint_eq(get_stats(t).max_entries, MAC_TABLE_MAX_LIMIT);
    ck_assert_int_eq(mac_table_set_max(t, 1), 0);
    ck_assert_uint_eq(get_stats(t).max_entries, 1);
    mac_table_destroy(t);
}
END_TEST

/* A raised bound holds more than the default one, and evicts at itself:
 * one entry more than MAC_TABLE_DEFAULT_MAX is learned without eviction,
 * and at the new bound the oldest entry gives way. */
START_TEST(test_raised_max_holds_more_and_evicts_at_it)
{
    const size_t max = MAC_TABLE_DEFAULT_MAX + 2;
    struct mac_table *t = create_table(0);
    struct mac_dest port = port_dest(1);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_set_max(t, max), 0);
    for (size_t i = 0; i < max; i++) {
        struct eth_addr mac = {{ 0x0a, 0, (uint8_t) (i >> 24),
                                 (uint8_t) (i >> 16), (uint8_t) (i >> 8),
                                 (uint8_t) i }};

        learn_new(t, VNI_A, &mac, &port, (long long) i);
    }
    ck_assert_uint_eq(get_stats(t).n_dynamic, max);
    ck_assert_uint_eq(get_stats(t).evicted, 0);

    struct eth_addr oldest = {{ 0x0a, 0, 0, 0, 0, 0 }};
    struct eth_addr second = {{ 0x0a, 0, 0, 0, 0, 1 }};
    struct eth_addr one_more = fixture_mac(1);

    learn_new(t, VNI_A, &one_more, &port, (long long) max);
    ck_assert_uint_eq(get_stats(t).n_dynamic, max);
    ck_assert_uint_eq(get_stats(t).evicted, 1);
    assert_absent(t, VNI_A, &oldest);
    assert_at_port(t, VNI_A, &second, 1);
    assert_at_port(t, VNI_A, &one_more, 1);
    mac_table_destroy(t);
}
END_TEST

/* Lowering the table's bound evicts the oldest entries at once; a VNI's
 * own limit above the table's bound leaves the table's in charge. */
START_TEST(test_lowering_max_evicts_at_once)
{
    struct mac_table *t = create_table(0);
    struct mac_dest port = port_dest(1);
    long long now = 0;

    set_vni(t, VNI_A, 0, 1000);
    learn_range(t, 0, 10, &port, &now);
    ck_assert_int_eq(mac_table_set_max(t, 4), 0);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 4);
    ck_assert_uint_eq(get_stats(t).evicted, 6);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 4);
    for (uint16_t i = 0; i < 6; i++) {
        struct eth_addr mac = fixture_mac(i);

        assert_absent(t, VNI_A, &mac);
    }
    assert_range_at_port(t, 6, 10, 1);

    learn_range(t, 10, 11, &port, &now);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 4);
    ck_assert_uint_eq(get_stats(t).evicted, 7);
    mac_table_destroy(t);
}
END_TEST

/* Returns fixture-independent MAC number 'i': 0a:01:...:i. */
static struct eth_addr
numbered_mac(size_t i)
{
    struct eth_addr mac = {{ 0x0a, 1, (uint8_t) (i >> 24), (uint8_t) (i >> 16),
                             (uint8_t) (i >> 8), (uint8_t) i }};

    return mac;
}

static void
count_numbered(const struct mac_table_entry_info *info, void *counts_)
{
    unsigned char *counts = counts_;
    size_t i = (size_t) info->mac.ea[3] << 16 | info->mac.ea[4] << 8
               | info->mac.ea[5];

    if (info->mac.ea[1] == 1) {
        counts[i]++;
    }
}

/* A big table's buckets grow to its bound in one step (not by doubling);
 * a dump in slices that began before still reports every entry that was
 * there all along exactly once. */
START_TEST(test_dump_slices_across_growth_to_bound)
{
    enum { BEFORE = 10000, AFTER = 40000 };
    struct mac_table *t = create_table(0);
    struct mac_dest port = port_dest(1);
    struct mac_table_cursor cursor = { 0, 0 };
    unsigned char *counts = calloc(AFTER, 1);

    ck_assert_ptr_nonnull(counts);
    set_vni(t, VNI_A, 0, 0);
    for (size_t i = 0; i < BEFORE; i++) {
        struct eth_addr mac = numbered_mac(i);

        learn_new(t, VNI_A, &mac, &port, 0);
    }
    ck_assert(!mac_table_dump_slice(t, 0, 0, &cursor, 1000, count_numbered,
                                    counts));
    ck_assert_uint_eq(cursor.n_buckets, 16384);
    for (size_t i = BEFORE; i < AFTER; i++) {
        struct eth_addr mac = numbered_mac(i);

        learn_new(t, VNI_A, &mac, &port, 0);
    }
    while (!mac_table_dump_slice(t, 0, 0, &cursor, 1000, count_numbered,
                                 counts)) {
        continue;
    }
    for (size_t i = 0; i < BEFORE; i++) {
        ck_assert_uint_eq(counts[i], 1);
    }
    for (size_t i = BEFORE; i < AFTER; i++) {
        ck_assert_uint_le(counts[i], 1);
    }

    /* The buckets went to the bound at once: no learning before it moves
     * the entries again. */
    struct mac_table_cursor fresh = { 0, 0 };

    mac_table_dump_slice(t, 0, 0, &fresh, 1, count_numbered, counts);
    ck_assert_uint_eq(fresh.n_buckets, MAC_TABLE_DEFAULT_MAX);
    free(counts);
    mac_table_destroy(t);
}
END_TEST

/* A flush walks an owner's entries looking ahead of the one it removes:
 * with many entries of the underlay at two remote VTEPs in turn, flushing
 * one VTEP removes exactly its entries, whatever their neighbours. */
START_TEST(test_flush_many_by_remote)
{
    enum { N = 1000 };
    struct mac_table *t = create_table(0);
    struct mac_dest vteps[2] = { remote_dest(0xc0000201),
                                 remote_dest(0xc0000202) };

    set_vni(t, VNI_A, 0, 0);
    for (size_t i = 0; i < N; i++) {
        struct eth_addr mac = numbered_mac(i);

        learn_new(t, VNI_A, &mac, &vteps[i % 3 == 0], (long long) i);
    }
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, &vteps[1]), (N + 2) / 3);
    for (size_t i = 0; i < N; i++) {
        struct eth_addr mac = numbered_mac(i);
        const struct mac_dest *dest = mac_table_lookup(t, VNI_A, &mac);

        if (i % 3 == 0) {
            ck_assert_ptr_null(dest);
        } else {
            ck_assert_ptr_nonnull(dest);
            ck_assert(mac_dest_equals(dest, &vteps[0]));
        }
    }
    ck_assert_uint_eq(get_stats(t).n_dynamic, N - (N + 2) / 3);
    ck_assert_uint_eq(mac_table_flush(t, 0, NULL), N - (N + 2) / 3);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    mac_table_destroy(t);
}
END_TEST

/* A flush in slices: N entries over four ports and the underlay of VNI_A,
 * learned at times 0 to N - 1, and N more in VNI_B; the flush of VNI_A
 * begins at time N. */
enum { SLICED_N = 3000 };

static struct mac_table *
make_sliced_table(void)
{
    struct mac_table *t = create_table(0);

    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    for (size_t i = 0; i < SLICED_N; i++) {
        struct eth_addr mac = numbered_mac(i);
        struct mac_dest dest = i % 5 == 4 ? remote_dest(0xc0000201)
                                          : port_dest(1 + i % 5);

        learn_new(t, VNI_A, &mac, &dest, (long long) i);
        learn_new(t, VNI_B, &mac, &dest, (long long) i);
    }
    return t;
}

/* Each step removes no more than it may look at, and the steps together
 * remove every entry of the VNI once, and nothing else. */
START_TEST(test_flush_in_slices_removes_each_entry_once)
{
    struct mac_table *t = make_sliced_table();
    struct mac_table_flush *f = mac_table_flush_start(t, VNI_A, NULL,
                                                      SLICED_N);
    struct eth_addr fixed = fixture_mac(7);
    struct mac_dest p1 = port_dest(1);
    size_t removed = 0, steps = 0;
    bool done = false;

    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &fixed, &p1), 0);
    ck_assert_ptr_nonnull(f);
    while (!done) {
        size_t before = removed;

        done = mac_table_flush_step(t, f, 100, &removed);
        ck_assert_uint_le(removed - before, 100);
        ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, SLICED_N - removed);
        ck_assert_uint_lt(++steps, SLICED_N);
    }
    ck_assert_uint_eq(removed, SLICED_N);
    ck_assert_uint_ge(steps, SLICED_N / 100);
    ck_assert_uint_eq(get_vni(t, VNI_A).n_dynamic, 0);
    ck_assert_uint_eq(get_vni(t, VNI_B).n_dynamic, SLICED_N);
    assert_at_port(t, VNI_A, &fixed, 1);
    /* Done is done. */
    ck_assert(mac_table_flush_step(t, f, 100, &removed));
    ck_assert_uint_eq(removed, SLICED_N);
    mac_table_flush_free(f);
    mac_table_flush_free(NULL);
    mac_table_destroy(t);
}
END_TEST

/* Between two slices the table goes on: what is learned, moved or seen
 * again after the flush began stays, what ages or is deleted is not
 * counted, and a port whose entries all went is passed over. */
START_TEST(test_flush_in_slices_spares_what_is_seen_meanwhile)
{
    struct mac_table *t = make_sliced_table();
    struct mac_table_flush *f = mac_table_flush_start(t, 0, NULL, SLICED_N);
    struct mac_dest p1 = port_dest(1), p9 = port_dest(9);
    struct eth_addr fresh = numbered_mac(SLICED_N + 1);
    struct eth_addr seen = numbered_mac(SLICED_N - 5);   /* At port 1. */
    struct eth_addr moved = numbered_mac(SLICED_N - 4);  /* At port 2. */
    struct eth_addr gone = numbered_mac(SLICED_N - 3);   /* At port 3. */
    size_t removed = 0, n_del = 0;
    bool done;

    ck_assert_ptr_nonnull(f);
    ck_assert(!mac_table_flush_step(t, f, 50, &removed));
    ck_assert_uint_eq(removed, 50);

    learn_new(t, VNI_A, &fresh, &p9, SLICED_N + 1);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &seen, &p1, SLICED_N + 1),
                     MAC_LEARN_REFRESHED);
    ck_assert_int_eq(mac_table_learn(t, VNI_B, &moved, &p1, SLICED_N + 1),
                     MAC_LEARN_MOVED);
    ck_assert_int_eq(mac_table_del(t, VNI_B, &gone), 0);
    /* Every entry port 2 has in VNI_A (those the first slice left) goes
     * before the next slice: the flush passes over the port. */
    for (size_t i = 1; i < SLICED_N; i += 5) {
        struct eth_addr mac = numbered_mac(i);

        n_del += !mac_table_del(t, VNI_A, &mac);
    }
    ck_assert_uint_ge(n_del, SLICED_N / 5 - 50);
    do {
        done = mac_table_flush_step(t, f, 50, &removed);
    } while (!done);

    /* All that were there, but the two seen again and the deleted. */
    ck_assert_uint_eq(removed, 2 * SLICED_N - 2 - 1 - n_del);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 3);
    assert_at_port(t, VNI_A, &fresh, 9);
    assert_at_port(t, VNI_A, &seen, 1);
    assert_at_port(t, VNI_B, &moved, 1);
    assert_absent(t, VNI_B, &gone);
    assert_absent(t, VNI_A, &moved);
    mac_table_flush_free(f);
    mac_table_destroy(t);
}
END_TEST

/* Deleting a VNI finds its entries through its own lists: learned ones,
 * EVPN ones, static ones, and a static one that replaced a learned one or
 * an EVPN one; the same MACs in another VNI stay. */
START_TEST(test_del_vni_removes_every_kind_of_entry)
{
    struct mac_table *t = create_table(0);
    struct mac_dest p1 = port_dest(1), vtep = remote_dest(0xc0000201);
    uint32_t vnis[] = { VNI_A, VNI_B };

    for (size_t v = 0; v < 2; v++) {
        struct eth_addr m[5];

        set_vni(t, vnis[v], 0, 0);
        for (size_t i = 0; i < 5; i++) {
            m[i] = numbered_mac(i);
        }
        learn_new(t, vnis[v], &m[0], &p1, 0);
        learn_new(t, vnis[v], &m[1], &p1, 0);
        ck_assert_int_eq(mac_table_add_evpn(t, vnis[v], &m[2], &vtep.remote,
                                            1), 0);
        ck_assert_int_eq(mac_table_add_evpn(t, vnis[v], &m[3], &vtep.remote,
                                            1), 0);
        ck_assert_int_eq(mac_table_add_static(t, vnis[v], &m[4], &p1), 0);
        /* Statics that replace a learned and an EVPN entry. */
        ck_assert_int_eq(mac_table_add_static(t, vnis[v], &m[1], &p1), 0);
        ck_assert_int_eq(mac_table_add_static(t, vnis[v], &m[3], &p1), 0);
    }
    ck_assert_uint_eq(get_stats(t).n_static, 6);
    mac_table_del_vni(t, VNI_A);

    struct mac_table_stats stats = get_stats(t);
    struct dump dump = dump_table(t, 0, 0);

    ck_assert_uint_eq(stats.n_static, 3);
    ck_assert_uint_eq(stats.n_dynamic, 1);
    ck_assert_uint_eq(mac_table_n_evpn(t, VNI_B), 1);
    ck_assert_uint_eq(dump.n, 5);
    for (size_t i = 0; i < dump.n; i++) {
        ck_assert_uint_eq(dump.infos[i].vni, VNI_B);
    }
    free(dump.infos);
    for (size_t i = 0; i < 5; i++) {
        struct eth_addr mac = numbered_mac(i);

        assert_absent(t, VNI_A, &mac);
        ck_assert_ptr_nonnull(mac_table_lookup(t, VNI_B, &mac));
    }
    /* The other VNI's statics are still listed: deleting it too leaves
     * nothing. */
    mac_table_del_vni(t, VNI_B);
    ck_assert_uint_eq(get_stats(t).n_static, 0);
    ck_assert_uint_eq(dump_table(t, 0, 0).n, 0);
    mac_table_destroy(t);
}
END_TEST

/* EVPN entries. */

/* Asserts that 'mac' lives in 'vni' at the remote VTEP of 'dest'. */
static void
assert_at_remote(const struct mac_table *t, uint32_t vni,
                 const struct eth_addr *mac, const struct mac_dest *dest)
{
    const struct mac_dest *at = mac_table_lookup(t, vni, mac);

    ck_assert_ptr_nonnull(at);
    ck_assert(mac_dest_equals(at, dest));
}

START_TEST(test_evpn_never_ages_and_survives_flush)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest a = remote_dest(0xc0000201);

    set_vni(t, VNI_A, 10, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 7), 0);
    mac_table_expire(t, 1000 * SEC);
    ck_assert_uint_eq(mac_table_flush(t, VNI_A, NULL), 0);
    ck_assert_uint_eq(mac_table_flush(t, 0, &a), 0);
    assert_at_remote(t, VNI_A, &mac, &a);

    struct dump dump = dump_table(t, VNI_A, 1000 * SEC);

    ck_assert_uint_eq(dump.n, 1);
    ck_assert(dump.infos[0].is_evpn);
    ck_assert(!dump.infos[0].is_static);
    ck_assert_uint_eq(dump.infos[0].evpn_seq, 7);
    ck_assert_int_eq(dump.infos[0].age_ms, 0);
    free(dump.infos);

    struct mac_table_stats stats = get_stats(t);
    struct vni_info info = get_vni(t, VNI_A);

    ck_assert_uint_eq(stats.n_evpn, 1);
    ck_assert_uint_eq(stats.n_dynamic + stats.n_static, 0);
    ck_assert_uint_eq(info.n_dynamic + info.n_static, 0);
    ck_assert_uint_eq(mac_table_n_evpn(t, VNI_A), 1);
    ck_assert_uint_eq(stats.expired, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_evpn_moves_only_with_newer_seq)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest b = remote_dest(0xc0000202);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 1), 0);

    /* An equal or older number elsewhere is refused and counted. */
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &b.remote, 1),
                     ESTALE);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &b.remote, 0),
                     ESTALE);
    assert_at_remote(t, VNI_A, &mac, &a);
    ck_assert_uint_eq(get_stats(t).evpn_stale, 2);

    /* The same route again is no refusal; an older one at the same VTEP
     * is. */
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 1), 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 0),
                     ESTALE);
    ck_assert_uint_eq(get_stats(t).evpn_stale, 3);
    ck_assert_uint_eq(get_stats(t).moves, 0);

    /* A newer one moves it. */
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &b.remote, 2), 0);
    assert_at_remote(t, VNI_A, &mac, &b);
    ck_assert_uint_eq(get_stats(t).moves, 1);
    ck_assert_uint_eq(get_stats(t).n_evpn, 1);

    /* The old VTEP's withdrawal leaves the newer entry alone. */
    ck_assert_int_eq(mac_table_del_evpn(t, VNI_A, &mac, &a.remote), ENOENT);
    assert_at_remote(t, VNI_A, &mac, &b);
    ck_assert_int_eq(mac_table_del_evpn(t, VNI_A, &mac, &b.remote), 0);
    assert_absent(t, VNI_A, &mac);
    ck_assert_uint_eq(get_stats(t).n_evpn, 0);

    /* Once withdrawn, any number is new again. */
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 0), 0);
    assert_at_remote(t, VNI_A, &mac, &a);
    mac_table_destroy(t);
}
END_TEST

/* The last event a table reported, for tests that watch one. */
struct last_event {
    int n;
    enum mac_table_event event;
    struct mac_table_entry_info entry;
    struct mac_dest from;
};

static void
record_event(void *aux, enum mac_table_event event,
             const struct mac_table_entry_info *entry,
             const struct mac_dest *from)
{
    struct last_event *last = aux;

    last->n++;
    last->event = event;
    last->entry = *entry;
    if (from) {
        last->from = *from;
    }
}

START_TEST(test_evpn_taken_over_by_local_port_only)
{
    struct last_event last = { 0 };
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest b = remote_dest(0xc0000202);
    struct mac_dest port = port_dest(3);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &a.remote, 4), 0);

    /* The underlay does not move it, even where learning is on. */
    ck_assert(!mac_table_would_learn(t, VNI_A, &mac, &b));
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &b, 0),
                     MAC_LEARN_REFUSED);
    assert_at_remote(t, VNI_A, &mac, &a);

    /* A local port does: the host moved here, and the table says so
     * (what the EVPN agent announces with the next sequence number). */
    ck_assert(mac_table_would_learn(t, VNI_A, &mac, &port));
    mac_table_set_observer(t, record_event, &last);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &mac, &port, 5 * SEC),
                     MAC_LEARN_MOVED);
    assert_at_port(t, VNI_A, &mac, 3);
    ck_assert_int_eq(last.n, 1);
    ck_assert_int_eq(last.event, MAC_EVENT_MOVED);
    ck_assert(!last.entry.is_evpn);
    ck_assert(mac_dest_equals(&last.entry.dest, &port));
    ck_assert(mac_dest_equals(&last.from, &a));
    mac_table_set_observer(t, NULL, NULL);

    struct mac_table_stats stats = get_stats(t);

    ck_assert_uint_eq(stats.n_evpn, 0);
    ck_assert_uint_eq(stats.n_dynamic, 1);
    ck_assert_uint_eq(stats.moves, 1);
    ck_assert_uint_eq(mac_table_n_evpn(t, VNI_A), 0);

    /* Now learned, it ages like any other. */
    mac_table_expire(t, 5 * SEC + MAC_TABLE_DEFAULT_AGEING * SEC);
    assert_absent(t, VNI_A, &mac);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_evpn_replaces_learned_not_static)
{
    struct mac_table *t = create_table(0);
    struct eth_addr learned = fixture_mac(1);
    struct eth_addr fixed = fixture_mac(2);
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest port = port_dest(3);

    set_vni(t, VNI_A, 0, 0);
    learn_new(t, VNI_A, &learned, &port, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &learned, &a.remote, 0),
                     0);
    assert_at_remote(t, VNI_A, &learned, &a);
    ck_assert_uint_eq(get_stats(t).n_dynamic, 0);
    ck_assert_uint_eq(get_stats(t).n_evpn, 1);

    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &fixed, &port), 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &fixed, &a.remote, 9),
                     EEXIST);
    assert_at_port(t, VNI_A, &fixed, 3);
    ck_assert_uint_eq(get_stats(t).static_kept, 1);

    /* A static entry, the operator's, replaces an EVPN one. */
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &learned, &port), 0);
    assert_at_port(t, VNI_A, &learned, 3);
    ck_assert_uint_eq(get_stats(t).n_evpn, 0);
    ck_assert_uint_eq(get_stats(t).n_static, 2);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_get_entry_reports_each_kind)
{
    struct mac_table *t = create_table(0);
    struct eth_addr fixed = fixture_mac(1), learned = fixture_mac(2);
    struct eth_addr evpn = fixture_mac(3), absent = fixture_mac(4);
    struct mac_dest port = port_dest(5), a = remote_dest(0xc0000201);
    struct mac_table_entry_info e;

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_static(t, VNI_A, &fixed, &port), 0);
    learn_new(t, VNI_A, &learned, &port, 1000);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &evpn, &a.remote, 7), 0);

    ck_assert(mac_table_get_entry(t, VNI_A, &fixed, 5000, &e));
    ck_assert(e.is_static && !e.is_evpn);
    ck_assert_uint_eq(e.dest.port_no, 5);
    ck_assert(mac_table_get_entry(t, VNI_A, &learned, 5000, &e));
    ck_assert(!e.is_static && !e.is_evpn);
    ck_assert_int_eq(e.age_ms, 4000);
    ck_assert(mac_table_get_entry(t, VNI_A, &evpn, 5000, &e));
    ck_assert(e.is_evpn && !e.is_static);
    ck_assert_uint_eq(e.evpn_seq, 7);
    ck_assert(mac_dest_equals(&e.dest, &a));
    ck_assert(!mac_table_get_entry(t, VNI_A, &absent, 5000, &e));
    ck_assert(!mac_table_get_entry(t, VNI_B, &fixed, 5000, &e));
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_evpn_rejects_bad_input)
{
    struct mac_table *t = create_table(0);
    struct eth_addr mac = fixture_mac(1);
    struct eth_addr bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest group = remote_dest(0xef010101);

    set_vni(t, VNI_A, 0, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_B, &mac, &a.remote, 0),
                     ENOENT);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &bcast, &a.remote, 0),
                     EINVAL);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &mac, &group.remote, 0),
                     EINVAL);
    ck_assert_int_eq(mac_table_del_evpn(t, VNI_A, &mac, &a.remote), ENOENT);
    ck_assert_uint_eq(get_stats(t).n_evpn, 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_evpn_flush_and_del_vni)
{
    struct mac_table *t = create_table(0);
    struct eth_addr m1 = fixture_mac(1);
    struct eth_addr m2 = fixture_mac(2);
    struct eth_addr m3 = fixture_mac(3);
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest port = port_dest(3);

    set_vni(t, VNI_A, 0, 0);
    set_vni(t, VNI_B, 0, 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &m1, &a.remote, 0), 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_A, &m2, &a.remote, 0), 0);
    ck_assert_int_eq(mac_table_add_evpn(t, VNI_B, &m1, &a.remote, 0), 0);
    learn_new(t, VNI_A, &m3, &port, 0);

    ck_assert_uint_eq(mac_table_flush_evpn(t, VNI_A), 2);
    assert_absent(t, VNI_A, &m1);
    assert_absent(t, VNI_A, &m2);
    assert_at_port(t, VNI_A, &m3, 3);
    assert_at_remote(t, VNI_B, &m1, &a);
    ck_assert_uint_eq(get_stats(t).n_evpn, 1);

    mac_table_del_vni(t, VNI_B);
    ck_assert_uint_eq(get_stats(t).n_evpn, 0);
    ck_assert_uint_eq(mac_table_flush_evpn(t, VNI_B), 0);
    mac_table_destroy(t);
}
END_TEST

START_TEST(test_policy_without_remotes_learns_none)
{
    struct mac_table *t = create_table(0);
    struct eth_addr m1 = fixture_mac(1);
    struct eth_addr m2 = fixture_mac(2);
    struct mac_dest a = remote_dest(0xc0000201);
    struct mac_dest port = port_dest(3);
    struct mac_learn_policy none = { .no_remotes = true };

    set_vni(t, VNI_A, 0, 0);
    learn_new(t, VNI_A, &m1, &a, 0);
    ck_assert_int_eq(mac_table_set_learning(t, VNI_A, &none), 0);
    assert_absent(t, VNI_A, &m1);
    ck_assert_int_eq(mac_table_learn(t, VNI_A, &m2, &a, 0),
                     MAC_LEARN_REFUSED);
    assert_absent(t, VNI_A, &m2);
    ck_assert_uint_eq(get_stats(t).learn_refused, 1);
    learn_new(t, VNI_A, &m2, &port, 0);
    assert_at_port(t, VNI_A, &m2, 3);
    mac_table_destroy(t);
}
END_TEST

static Suite *
mac_table_suite(void)
{
    Suite *s = suite_create("mac-table");

    fixture_add_case(s, "looks up one entry of each kind",
                     test_get_entry_reports_each_kind, NULL, NULL);
    fixture_add_case(s, "deleting a VNI removes every kind of its entries",
                     test_del_vni_removes_every_kind_of_entry, NULL, NULL);
    fixture_add_case(s, "entries due together age in slices",
                     test_expire_in_slices, NULL, NULL);
    fixture_add_case(s, "a flush in slices removes each entry once",
                     test_flush_in_slices_removes_each_entry_once, NULL,
                     NULL);
    fixture_add_case(s, "a flush in slices spares what is seen meanwhile",
                     test_flush_in_slices_spares_what_is_seen_meanwhile,
                     NULL, NULL);
    fixture_add_case(s, "learns a MAC and finds it only in its VNI",
                     test_learn_then_lookup, NULL, NULL);
    fixture_add_case(s, "learns and looks up with the prefetch's hashes",
                     test_prefetch_hashes, NULL, NULL);
    fixture_add_case(s, "refreshing restarts ageing",
                     test_refresh_restarts_ageing, NULL, NULL);
    fixture_add_case(s, "expire's deadline covers a faster VNI",
                     test_expire_deadline_covers_faster_vni, NULL, NULL);
    fixture_add_case(s, "expires exactly at the ageing time",
                     test_expire_exactly_at_ageing_time, NULL, NULL);
    fixture_add_case(s, "expire returns the earliest deadline",
                     test_expire_returns_earliest_deadline, NULL, NULL);
    fixture_add_case(s, "ages each VNI with its own time",
                     test_expire_per_vni_ageing, NULL, NULL);
    fixture_add_case(s, "VNI limit evicts the oldest entry",
                     test_vni_limit_evicts_oldest, NULL, NULL);
    fixture_add_case(s, "flood evicts only the flooder's entries (VNI limit)",
                     test_flood_evicts_only_flooder_vni_limit, NULL, NULL);
    fixture_add_case(s, "flood evicts only the flooder's entries (table limit)",
                     test_flood_evicts_only_flooder_table_limit, NULL, NULL);
    fixture_add_case(s, "forged remote VTEPs cannot evict local entries",
                     test_forged_remotes_cannot_evict_local_entries, NULL,
                     NULL);
    fixture_add_case(s, "the underlay is one owner against local ports",
                     test_underlay_is_one_owner_against_local_ports, NULL,
                     NULL);
    fixture_add_case(s, "an empty underlay takes one place, then its own",
                     test_empty_underlay_takes_one_place, NULL, NULL);
    fixture_add_case(s, "the learning policy refuses and counts",
                     test_learning_policy_refuses_and_counts, NULL, NULL);
    fixture_add_case(s, "would_learn predicts learning",
                     test_would_learn_predicts_learning, NULL, NULL);
    fixture_add_case(s, "static entries never age",
                     test_static_never_ages, NULL, NULL);
    fixture_add_case(s, "learning never overwrites a static entry",
                     test_static_not_overwritten_by_learning, NULL, NULL);
    fixture_add_case(s, "static entries survive flush until deleted",
                     test_static_survives_flush_until_deleted, NULL, NULL);
    fixture_add_case(s, "a static entry replaces a dynamic one",
                     test_static_replaces_dynamic, NULL, NULL);
    fixture_add_case(s, "static add rejects multicast and unknown VNIs",
                     test_static_rejects_multicast_and_unknown_vni, NULL, NULL);
    fixture_add_case(s, "a moved MAC is found at its new place",
                     test_move_updates_place, NULL, NULL);
    fixture_add_case(s, "a moved MAC counts for its new owner",
                     test_move_counts_for_new_owner, NULL, NULL);
    fixture_add_case(s, "multicast, broadcast and zero sources are not learned",
                     test_multicast_source_not_learned, NULL, NULL);
    fixture_add_case(s, "learning in an unconfigured VNI fails",
                     test_learn_in_unconfigured_vni, NULL, NULL);
    fixture_add_case(s, "flushes by VNI", test_flush_by_vni, NULL, NULL);
    fixture_add_case(s, "flushes by destination",
                     test_flush_by_dest, NULL, NULL);
    fixture_add_case(s, "flushes by VNI and destination",
                     test_flush_by_vni_and_dest, NULL, NULL);
    fixture_add_case(s, "deleting a VNI removes that VNI only",
                     test_del_vni_removes_only_that_vni, NULL, NULL);
    fixture_add_case(s, "lowering a VNI's limit evicts at once",
                     test_lowering_vni_limit_evicts_at_once, NULL, NULL);
    fixture_add_case(s, "EVPN entries never age and survive flushes",
                     test_evpn_never_ages_and_survives_flush, NULL, NULL);
    fixture_add_case(s, "EVPN entries move only with a newer sequence",
                     test_evpn_moves_only_with_newer_seq, NULL, NULL);
    fixture_add_case(s, "a local port takes over an EVPN entry, the "
                     "underlay does not",
                     test_evpn_taken_over_by_local_port_only, NULL, NULL);
    fixture_add_case(s, "EVPN replaces learned entries, not static ones",
                     test_evpn_replaces_learned_not_static, NULL, NULL);
    fixture_add_case(s, "EVPN add rejects bad input",
                     test_evpn_rejects_bad_input, NULL, NULL);
    fixture_add_case(s, "EVPN flush and del-vni remove EVPN entries",
                     test_evpn_flush_and_del_vni, NULL, NULL);
    fixture_add_case(s, "a policy without remotes learns none",
                     test_policy_without_remotes_learns_none, NULL, NULL);
    fixture_add_case(s, "dump reports every entry",
                     test_dump_reports_every_entry, NULL, NULL);
    fixture_add_case(s, "stats match what happened",
                     test_stats_match_activity, NULL, NULL);
    fixture_add_case(s, "the table's bound refuses 0 and too large values",
                     test_set_max_refuses_out_of_range, NULL, NULL);
    fixture_add_case(s, "a raised bound holds more and evicts at itself",
                     test_raised_max_holds_more_and_evicts_at_it, NULL, NULL);
    fixture_add_case(s, "lowering the table's bound evicts at once",
                     test_lowering_max_evicts_at_once, NULL, NULL);
    fixture_add_case(s, "a dump in slices survives growth to the bound",
                     test_dump_slices_across_growth_to_bound, NULL, NULL);
    fixture_add_case(s, "a flush of many entries removes exactly its own",
                     test_flush_many_by_remote, NULL, NULL);
    fixture_add_case(s, "two tables hash with different seeds",
                     test_tables_get_different_seeds, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(mac_table_suite());
}
