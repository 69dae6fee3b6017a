#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp.h"
#include "eth-addr.h"
#include "evpn-batch.h"
#include "fixture.h"
#include "inet.h"
#include "mac-table.h"
#include "packet.h"

/* A batch of EVPN commands is checked against the state the lines before
 * each leave, so that all of it applies or none. */

#define EVPN_VNI 5000
#define FLOOD_VNI 6000
#define MAC "02:00:00:00:00:01"
#define OTHER_MAC "02:00:00:00:00:02"
#define A "10.0.0.1"
#define B "10.0.0.2"
#define MAX_LINES 8

struct fixture {
    struct packet_pool *pool;
    struct dp *dp;
    Vswitch__Config config;
    Vswitch__VniConfig vnis[2], *vni_ptrs[2];
    /* The batch being built. */
    Vswitch__Batch batch;
    Vswitch__BatchCommand cmds[MAX_LINES], *cmd_ptrs[MAX_LINES];
    Vswitch__EvpnMac macs[MAX_LINES];
    Vswitch__EvpnVtep vteps[MAX_LINES];
    Vswitch__VniRef refs[MAX_LINES];
    struct evpn_batch *plan;    /* The last batch checked, if it passed. */
};

static struct fixture f;

static void
send_nothing(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    (void) aux;
    (void) port_no;
    (void) batch;
}

static void
setup(void)
{
    struct dp_callbacks cb = { .send = send_nothing };
    struct dp_vni_config evpn = { .evpn = true }, flood = { .evpn = false };

    f.pool = packet_pool_create(64);
    ck_assert_ptr_nonnull(f.pool);
    f.dp = dp_create(f.pool, 0, &cb);
    ck_assert_ptr_nonnull(f.dp);
    ck_assert_int_eq(dp_vni_set(f.dp, EVPN_VNI, &evpn), 0);
    ck_assert_int_eq(dp_vni_set(f.dp, FLOOD_VNI, &flood), 0);

    vswitch__config__init(&f.config);
    for (size_t i = 0; i < 2; i++) {
        vswitch__vni_config__init(&f.vnis[i]);
        f.vni_ptrs[i] = &f.vnis[i];
    }
    f.vnis[0].vni = EVPN_VNI;
    f.vnis[0].has_control = true;
    f.vnis[0].control = VSWITCH__CONTROL__CONTROL_EVPN;
    f.vnis[1].vni = FLOOD_VNI;
    f.config.vnis = f.vni_ptrs;
    f.config.n_vnis = 2;
    vswitch__batch__init(&f.batch);
    f.batch.commands = f.cmd_ptrs;
}

static void
teardown(void)
{
    evpn_batch_destroy(f.plan);
    f.plan = NULL;
    dp_destroy(f.dp);
    packet_pool_destroy(f.pool);
}

static Vswitch__BatchCommand *
line(void)
{
    size_t i = f.batch.n_commands++;

    ck_assert_uint_lt(i, MAX_LINES);
    vswitch__batch_command__init(&f.cmds[i]);
    f.cmd_ptrs[i] = &f.cmds[i];
    return &f.cmds[i];
}

static Vswitch__EvpnMac *
mac_line(bool add, uint32_t vni, const char *mac, const char *remote,
         uint32_t seq)
{
    Vswitch__BatchCommand *c = line();
    Vswitch__EvpnMac *m = &f.macs[f.batch.n_commands - 1];

    vswitch__evpn_mac__init(m);
    m->vni = vni;
    m->mac = (char *) mac;
    m->remote = (char *) remote;
    m->has_seq = true;
    m->seq = seq;
    if (add) {
        c->command_case = VSWITCH__BATCH_COMMAND__COMMAND_EVPN_MAC_ADD;
        c->evpn_mac_add = m;
    } else {
        c->command_case = VSWITCH__BATCH_COMMAND__COMMAND_EVPN_MAC_DEL;
        c->evpn_mac_del = m;
    }
    return m;
}

static Vswitch__BatchCommand *
vtep_line(bool add, uint32_t vni, const char *remote)
{
    Vswitch__BatchCommand *c = line();
    Vswitch__EvpnVtep *v = &f.vteps[f.batch.n_commands - 1];

    vswitch__evpn_vtep__init(v);
    v->vni = vni;
    v->remote = (char *) remote;
    if (add) {
        c->command_case = VSWITCH__BATCH_COMMAND__COMMAND_EVPN_VTEP_ADD;
        c->evpn_vtep_add = v;
    } else {
        c->command_case = VSWITCH__BATCH_COMMAND__COMMAND_EVPN_VTEP_DEL;
        c->evpn_vtep_del = v;
    }
    return c;
}

static void
flush_line(uint32_t vni)
{
    Vswitch__BatchCommand *c = line();
    Vswitch__VniRef *r = &f.refs[f.batch.n_commands - 1];

    vswitch__vni_ref__init(r);
    r->vni = vni;
    c->command_case = VSWITCH__BATCH_COMMAND__COMMAND_EVPN_FLUSH;
    c->evpn_flush = r;
}

/* Checks the batch built so far; returns its error, with the index of
 * the line in '*bad', and starts a new batch.  What passed is in
 * 'f.plan'. */
static int
check(bool may_exist, bool if_exists, size_t *bad)
{
    int error;

    evpn_batch_destroy(f.plan);
    f.plan = evpn_batch_parse(&f.batch);
    ck_assert_ptr_nonnull(f.plan);
    error = evpn_batch_check(f.dp, &f.config, &f.batch, may_exist,
                             if_exists, f.plan, bad);
    if (!error) {
        ck_assert_int_eq(evpn_batch_check(f.dp, &f.config, &f.batch,
                                          may_exist, if_exists, f.plan,
                                          bad), EALREADY);
    }
    f.batch.n_commands = 0;
    return error;
}

static void
add_evpn(const char *mac, const char *remote, uint32_t seq)
{
    struct eth_addr ea;
    struct in6_addr ip;

    ck_assert(eth_addr_parse(mac, &ea));
    ck_assert(inet_parse(remote, &ip));
    ck_assert_int_eq(dp_evpn_mac_add(f.dp, EVPN_VNI, &ea, &ip, seq), 0);
}

START_TEST(test_lines_see_the_lines_before)
{
    size_t bad = 99;

    add_evpn(MAC, A, 3);
    /* Alone, a move with seq 0 is stale; after the withdrawal, new. */
    mac_line(true, EVPN_VNI, MAC, B, 0);
    ck_assert_int_eq(check(false, false, &bad), ESTALE);
    ck_assert_uint_eq(bad, 0);
    mac_line(false, EVPN_VNI, MAC, A, 0);
    mac_line(true, EVPN_VNI, MAC, B, 0);
    ck_assert_int_eq(check(false, false, &bad), 0);

    /* A withdrawal of what a line before moved elsewhere finds
     * nothing. */
    mac_line(true, EVPN_VNI, MAC, B, 4);
    mac_line(false, EVPN_VNI, MAC, A, 0);
    ck_assert_int_eq(check(false, false, &bad), ENOENT);
    ck_assert_uint_eq(bad, 1);
    mac_line(true, EVPN_VNI, MAC, B, 4);
    mac_line(false, EVPN_VNI, MAC, A, 0);
    ck_assert_int_eq(check(false, true, &bad), 0);

    /* The same route again is no move; one seq lower at the same VTEP
     * is. */
    mac_line(true, EVPN_VNI, MAC, A, 3);
    mac_line(true, EVPN_VNI, MAC, A, 3);
    ck_assert_int_eq(check(false, false, &bad), 0);
    mac_line(true, EVPN_VNI, MAC, A, 2);
    ck_assert_int_eq(check(false, false, &bad), ESTALE);

    /* Checking changed nothing. */
    struct eth_addr ea;
    const struct mac_dest *d;

    eth_addr_parse(MAC, &ea);
    d = mac_table_lookup(dp_mac_table(f.dp), EVPN_VNI, &ea);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->type, MAC_DEST_REMOTE);
    ck_assert_uint_eq(d->remote.s6_addr[15], 1);
}
END_TEST

START_TEST(test_vteps_and_flush)
{
    struct in6_addr a;
    size_t bad = 99;

    inet_parse(A, &a);
    ck_assert_int_eq(dp_evpn_vtep_add(f.dp, EVPN_VNI, &a), 0);
    add_evpn(MAC, A, 7);

    vtep_line(true, EVPN_VNI, B);
    vtep_line(true, EVPN_VNI, A);
    ck_assert_int_eq(check(false, false, &bad), EEXIST);
    ck_assert_uint_eq(bad, 1);
    vtep_line(true, EVPN_VNI, B);
    vtep_line(true, EVPN_VNI, A);
    ck_assert_int_eq(check(true, false, &bad), 0);
    vtep_line(true, EVPN_VNI, B)->may_exist = true;
    vtep_line(true, EVPN_VNI, B);
    ck_assert_int_eq(check(false, false, &bad), EEXIST);
    ck_assert_uint_eq(bad, 1);

    /* After evpn-flush, the VTEP and the MAC are gone: added again, they
     * are new, whatever their sequence number. */
    flush_line(EVPN_VNI);
    vtep_line(true, EVPN_VNI, A);
    mac_line(true, EVPN_VNI, MAC, B, 0);
    vtep_line(false, EVPN_VNI, A);
    ck_assert_int_eq(check(false, false, &bad), 0);
    flush_line(EVPN_VNI);
    vtep_line(false, EVPN_VNI, A);
    ck_assert_int_eq(check(false, false, &bad), ENOENT);
    ck_assert_uint_eq(bad, 1);
}
END_TEST

START_TEST(test_refusals)
{
    struct mac_dest port = { .type = MAC_DEST_PORT, .port_no = 1 };
    struct eth_addr ea;
    size_t bad = 99;

    eth_addr_parse(OTHER_MAC, &ea);
    ck_assert_int_eq(mac_table_add_static(dp_mac_table(f.dp), EVPN_VNI, &ea,
                                          &port), 0);
    mac_line(true, EVPN_VNI, MAC, A, 0);
    mac_line(true, EVPN_VNI, OTHER_MAC, A, 0);
    ck_assert_int_eq(check(false, false, &bad), EEXIST);
    ck_assert_uint_eq(bad, 1);

    mac_line(true, EVPN_VNI, MAC, A, 0);
    mac_line(true, FLOOD_VNI, MAC, A, 0);
    ck_assert_int_eq(check(false, false, &bad), EINVAL);
    ck_assert_uint_eq(bad, 1);

    /* --if-exists forgives what is absent, not a VNI that is. */
    vtep_line(false, 7000, A);
    ck_assert_int_eq(check(false, true, &bad), ENOENT);
    ck_assert_uint_eq(bad, 0);
    vtep_line(false, EVPN_VNI, A);
    ck_assert_int_eq(check(false, true, &bad), 0);

    mac_line(true, EVPN_VNI, MAC, "224.0.0.1", 0);
    ck_assert_int_eq(check(false, false, &bad), EINVAL);
    mac_line(true, EVPN_VNI, "01:00:5e:00:00:01", A, 0);
    ck_assert_int_eq(check(false, false, &bad), EINVAL);
}
END_TEST

/* "A B" for the VTEPs the EVPN VNI floods to by EVPN. */
static const char *
vteps_now(void)
{
    static char s[64];
    size_t n, len = 0;
    const struct in6_addr *v = dp_evpn_vteps(f.dp, EVPN_VNI, &n);

    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        len += snprintf(s + len, sizeof s - len, "%s%u", i ? " " : "",
                        v[i].s6_addr[15]);
    }
    return s;
}

/* "REMOTE-LAST-BYTE/SEQ" of MAC's EVPN entry, or "-". */
static const char *
evpn_entry(const char *mac)
{
    static char s[32];
    struct eth_addr ea;
    struct mac_table_entry_info e;

    eth_addr_parse(mac, &ea);
    if (!mac_table_get_entry(dp_mac_table(f.dp), EVPN_VNI, &ea, 0, &e)
        || !e.is_evpn) {
        return "-";
    }
    snprintf(s, sizeof s, "%u/%u", e.dest.remote.s6_addr[15], e.evpn_seq);
    return s;
}

START_TEST(test_applies_in_slices)
{
    struct in6_addr a;
    size_t bad = 99, steps = 0;

    inet_parse(A, &a);
    ck_assert_int_eq(dp_evpn_vtep_add(f.dp, EVPN_VNI, &a), 0);
    add_evpn(OTHER_MAC, A, 0);

    /* Added, removed, added again; a MAC added, then flushed with the
     * VTEPs, then added anew; a VTEP after the flush. */
    vtep_line(true, EVPN_VNI, B);
    vtep_line(false, EVPN_VNI, B);
    vtep_line(true, EVPN_VNI, B);
    mac_line(true, EVPN_VNI, MAC, A, 5);
    flush_line(EVPN_VNI);
    mac_line(true, EVPN_VNI, MAC, B, 0);
    vtep_line(true, EVPN_VNI, "10.0.0.3");
    ck_assert_int_eq(check(false, false, &bad), 0);
    ck_assert_uint_eq(evpn_batch_pending(f.plan), 7);
    ck_assert_str_eq(vteps_now(), "1");

    /* One command a step: the VTEPs change once, with the last. */
    while (!evpn_batch_apply_some(f.dp, f.plan, 1)) {
        steps++;
        ck_assert_str_eq(vteps_now(), steps < 5 ? "1" : "");
        if (steps == 4) {
            ck_assert_str_eq(evpn_entry(MAC), "1/5");
        }
    }
    ck_assert_uint_eq(steps, 6);
    ck_assert_uint_eq(evpn_batch_pending(f.plan), 0);
    ck_assert_str_eq(vteps_now(), "3");
    ck_assert_str_eq(evpn_entry(MAC), "2/0");
    ck_assert_str_eq(evpn_entry(OTHER_MAC), "-");

    /* Without a flush, the VTEPs no line names stay. */
    vtep_line(true, EVPN_VNI, A);
    vtep_line(true, EVPN_VNI, B);
    vtep_line(false, EVPN_VNI, "10.0.0.3");
    vtep_line(false, EVPN_VNI, B);
    ck_assert_int_eq(check(false, false, &bad), 0);
    ck_assert(evpn_batch_apply_some(f.dp, f.plan, SIZE_MAX));
    ck_assert_str_eq(vteps_now(), "1");
}
END_TEST

static Suite *
evpn_batch_suite(void)
{
    Suite *s = suite_create("evpn-batch");

    fixture_add_case(s, "judges each line after the lines before",
                     test_lines_see_the_lines_before, setup, teardown);
    fixture_add_case(s, "follows VTEPs and evpn-flush",
                     test_vteps_and_flush, setup, teardown);
    fixture_add_case(s, "refuses what the daemon would", test_refusals,
                     setup, teardown);
    fixture_add_case(s, "applies in slices what the lines would leave",
                     test_applies_in_slices, setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(evpn_batch_suite());
}
