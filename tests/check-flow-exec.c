#include <config.h>

#include "fixture.h"
#include "flow-exec.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "flow-table.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"

/* flow_exec_run() with ops that record every call: lookups go to real flow
 * tables, and frames handed out are kept for the test to look at. */

#define MAX_CALLS 128

struct lookup_call {
    uint8_t table;
    unsigned int depth;
    uint32_t in_port;
};

struct send_call {
    char kind;                  /* 'o'utput, 'n'ormal or 'f'lood. */
    uint32_t port_no;
    struct flow_key key;
    struct packet *p;
};

static struct packet_pool *pool;
static struct flow_table *ft;
static struct lookup_call lookups[MAX_CALLS];
static size_t n_lookups;
static struct send_call sends[MAX_CALLS];
static size_t n_sends;
static int drops[FLOW_EXEC_NO_BUFFER + 1];
static size_t n_drops;

static struct flow_rule *
fake_lookup(void *aux, uint8_t table_id, const struct flow_key *key,
            unsigned int depth, const struct packet *p)
{
    (void) aux;
    ck_assert_ptr_nonnull(p);
    /* All are counted; the first MAX_CALLS are kept for a look. */
    if (n_lookups < MAX_CALLS) {
        lookups[n_lookups] = (struct lookup_call) { table_id, depth,
                                                    key->in_port };
    }
    n_lookups++;
    return flow_table_lookup(ft, table_id, key);
}

static void
record(char kind, struct packet *p, const struct flow_key *key,
       uint32_t port_no)
{
    ck_assert_uint_lt(n_sends, MAX_CALLS);
    sends[n_sends++] = (struct send_call) { kind, port_no, *key, p };
}

static void
fake_output(void *aux, struct packet *p, const struct flow_key *key,
            uint32_t port_no)
{
    (void) aux;
    record('o', p, key, port_no);
}

static void
fake_normal(void *aux, struct packet *p, const struct flow_key *key)
{
    (void) aux;
    record('n', p, key, 0);
}

static void
fake_flood(void *aux, struct packet *p, const struct flow_key *key)
{
    (void) aux;
    record('f', p, key, 0);
}

static void
fake_drop(void *aux, enum flow_exec_drop why)
{
    (void) aux;
    drops[why]++;
    n_drops++;
}

static const struct flow_exec_ops ops = {
    .lookup = fake_lookup,
    .output = fake_output,
    .normal = fake_normal,
    .flood = fake_flood,
    .drop = fake_drop,
};

static void
setup(void)
{
    pool = packet_pool_create(16);
    ck_assert_ptr_nonnull(pool);
    ft = flow_table_create(0);
    ck_assert_ptr_nonnull(ft);
    n_lookups = n_sends = n_drops = 0;
    memset(drops, 0, sizeof drops);
}

static void
teardown(void)
{
    for (size_t i = 0; i < n_sends; i++) {
        packet_free(sends[i].p);
    }
    flow_table_destroy(ft);
    fixture_pool_destroy(pool);
}

/* Adds a rule to table 'table' matching frames from 'in_port' (0: any)
 * with the given actions, which it frees. */
static void
add(int table, uint16_t priority, uint32_t in_port, struct flow_actions *a)
{
    struct match m;

    match_init_catchall(&m);
    if (in_port) {
        m.key.in_port = in_port;
        m.mask.in_port = UINT32_MAX;
    }

    struct flow_spec spec = fixture_spec(table, priority, &m, a);

    ck_assert_int_eq(flow_table_add(ft, &spec, 0, NULL), 0);
    free(a);
}

/* A TCP frame (tagged with VLAN 100 if 'vlan') on port 3, its key in
 * '*key', its checksum left to offload. */
static struct packet *
tcp_packet(bool vlan, struct flow_key *key)
{
    uint8_t buf[256];
    struct fixture_tcp t = { .vlan = vlan, .payload_len = 20,
                             .partial = true };
    struct packet *p = fixture_packet(pool, buf, fixture_tcp_frame(buf, &t));

    p->md.in_port = 3;
    flow_extract(p, key);
    key->in_port = 3;
    p->md.csum_partial = true;
    p->md.csum_start = p->md.l4_ofs;
    p->md.csum_offset = 16;
    return p;
}

/* Runs a TCP frame through the tables; returns the frame it sent. */
static struct packet *
run(bool vlan, struct flow_key *key)
{
    struct packet *p = tcp_packet(vlan, key);

    flow_exec_run(&ops, NULL, p, key);
    return p;
}

static void
assert_free_buffers(size_t n)
{
    struct packet_pool_stats stats;

    packet_pool_get_stats(pool, &stats);
    ck_assert_uint_eq(stats.n_free, n);
}

START_TEST(test_table_0_miss_drops)
{
    struct flow_key key;

    run(false, &key);
    ck_assert_uint_eq(n_lookups, 1);
    ck_assert_uint_eq(lookups[0].table, 0);
    ck_assert_uint_eq(drops[FLOW_EXEC_NO_MATCH], 1);
    ck_assert_uint_eq(n_drops, 1);
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

START_TEST(test_empty_actions_drop)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_NO_ACTIONS);
    run(false, &key);
    ck_assert_uint_eq(drops[FLOW_EXEC_FLOW_DROP], 1);
    ck_assert_uint_eq(n_drops, 1);
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

START_TEST(test_outputs_in_order_last_takes_the_frame)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 5 },
            { .type = FLOW_ACTION_FLOOD },
            { .type = FLOW_ACTION_OUTPUT, .port = 6 },
            { .type = FLOW_ACTION_NORMAL }));

    struct packet *p = run(false, &key);

    ck_assert_uint_eq(n_sends, 4);
    ck_assert_int_eq(sends[0].kind, 'o');
    ck_assert_uint_eq(sends[0].port_no, 5);
    ck_assert_int_eq(sends[1].kind, 'f');
    ck_assert_int_eq(sends[2].kind, 'o');
    ck_assert_uint_eq(sends[2].port_no, 6);
    ck_assert_int_eq(sends[3].kind, 'n');
    /* Copies first, the frame itself last: four buffers in use. */
    for (size_t i = 0; i < 3; i++) {
        ck_assert_ptr_ne(sends[i].p, p);
        ck_assert_uint_eq(packet_size(sends[i].p), packet_size(p));
        ck_assert_mem_eq(packet_data(sends[i].p), packet_data(p),
                         packet_size(p));
    }
    ck_assert_ptr_eq(sends[3].p, p);
    assert_free_buffers(12);
    ck_assert_uint_eq(n_drops, 0);
}
END_TEST

START_TEST(test_frame_freed_when_no_output_is_last)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 5 },
            { .type = FLOW_ACTION_SET_TUNNEL, .vni = 9 }));

    struct packet *p = run(false, &key);

    ck_assert_uint_eq(n_sends, 1);
    ck_assert_ptr_ne(sends[0].p, p);
    /* The frame changed after the copy left; the copy did not. */
    ck_assert_uint_eq(sends[0].key.vni, 0);
    ck_assert_uint_eq(sends[0].p->md.vni, 0);
    assert_free_buffers(15);
    ck_assert_uint_eq(n_drops, 0);
}
END_TEST

START_TEST(test_actions_sending_nowhere_drop)
{
    struct flow_key key;

    /* A list that changes the frame and stops. */
    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_SET_TUNNEL, .vni = 9 },
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { FLOW_ACTION_IN_PORT, 1 } }));
    run(false, &key);
    ck_assert_uint_eq(drops[FLOW_EXEC_FLOW_DROP], 1);
    ck_assert_uint_eq(n_drops, 1);

    /* A resubmit to a rule that drops, with nothing after it. */
    add(1, 0, 0, FIXTURE_NO_ACTIONS);
    run(false, &key);
    ck_assert_uint_eq(drops[FLOW_EXEC_FLOW_DROP], 2);
    ck_assert_uint_eq(n_drops, 2);
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

START_TEST(test_copy_without_buffer_counted)
{
    struct packet *held[16];
    struct flow_key key;
    struct packet *p = tcp_packet(false, &key);

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 5 },
            { .type = FLOW_ACTION_OUTPUT, .port = 6 }));

    size_t n = fixture_drain_pool(pool, held, 16);

    flow_exec_run(&ops, NULL, p, &key);
    ck_assert_uint_eq(drops[FLOW_EXEC_NO_BUFFER], 1);
    ck_assert_uint_eq(n_sends, 1);
    ck_assert_uint_eq(sends[0].port_no, 6);
    ck_assert_ptr_eq(sends[0].p, p);
    for (size_t i = 0; i < n; i++) {
        packet_free(held[i]);
    }
}
END_TEST

START_TEST(test_goto_table)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_SET_TUNNEL, .vni = 42 },
            { .type = FLOW_ACTION_GOTO_TABLE, .table = 3 }));
    add(3, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 7 }));

    struct packet *p = run(false, &key);

    ck_assert_uint_eq(n_lookups, 2);
    ck_assert_uint_eq(lookups[1].table, 3);
    ck_assert_uint_eq(lookups[1].depth, 0);
    ck_assert_uint_eq(n_sends, 1);
    ck_assert_uint_eq(sends[0].port_no, 7);
    ck_assert_uint_eq(sends[0].key.vni, 42);
    ck_assert_ptr_eq(sends[0].p, p);
    ck_assert_uint_eq(n_drops, 0);
}
END_TEST

START_TEST(test_goto_table_miss_drops)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_GOTO_TABLE, .table = 3 }));
    run(false, &key);
    ck_assert_uint_eq(n_lookups, 2);
    ck_assert_uint_eq(drops[FLOW_EXEC_NO_MATCH], 1);
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

START_TEST(test_resubmit_miss_continues)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { FLOW_ACTION_IN_PORT, 4 } },
            { .type = FLOW_ACTION_OUTPUT, .port = 2 }));

    struct packet *p = run(false, &key);

    ck_assert_uint_eq(n_lookups, 2);
    ck_assert_uint_eq(lookups[1].table, 4);
    ck_assert_uint_eq(lookups[1].depth, 1);
    ck_assert_uint_eq(lookups[1].in_port, 3);
    ck_assert_uint_eq(n_drops, 0);
    ck_assert_uint_eq(n_sends, 1);
    ck_assert_uint_eq(sends[0].port_no, 2);
    ck_assert_ptr_eq(sends[0].p, p);
}
END_TEST

START_TEST(test_resubmit_runs_the_rule_then_goes_on)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { FLOW_ACTION_IN_PORT, 4 } },
            { .type = FLOW_ACTION_OUTPUT, .port = 2 }));
    add(4, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 8 }));

    struct packet *p = run(false, &key);

    ck_assert_uint_eq(n_sends, 2);
    ck_assert_uint_eq(sends[0].port_no, 8);
    ck_assert_ptr_ne(sends[0].p, p);
    ck_assert_uint_eq(sends[1].port_no, 2);
    ck_assert_ptr_eq(sends[1].p, p);
}
END_TEST

START_TEST(test_resubmit_depth_limit)
{
    struct flow_key key;

    /* A rule that resubmits to its own table finds itself again. */
    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { FLOW_ACTION_IN_PORT, FLOW_ACTION_TABLE_SAME } },
            { .type = FLOW_ACTION_OUTPUT, .port = 2 }));
    run(false, &key);
    ck_assert_uint_eq(n_lookups, 1 + FLOW_ACTION_MAX_DEPTH);
    ck_assert_uint_eq(lookups[n_lookups - 1].depth, FLOW_ACTION_MAX_DEPTH);
    ck_assert_uint_eq(lookups[n_lookups - 1].table, 0);
    ck_assert_uint_eq(drops[FLOW_EXEC_TOO_DEEP], 1);
    ck_assert_uint_eq(n_drops, 1);
    /* Nothing after it: none of the 65 outputs waiting. */
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

/* A tree of resubmits that branches stays within the depth limit but
 * would take 2^13 lookups: the total is bounded too. */
START_TEST(test_resubmit_total_limit)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { FLOW_ACTION_IN_PORT, 1 } }));
    for (int t = 1; t <= 13; t++) {
        add(t, 0, 0, FIXTURE_ACTIONS(
                { .type = FLOW_ACTION_RESUBMIT,
                  .resubmit = { FLOW_ACTION_IN_PORT, (uint8_t) (t + 1) } },
                { .type = FLOW_ACTION_RESUBMIT,
                  .resubmit = { FLOW_ACTION_IN_PORT, (uint8_t) (t + 1) } }));
    }
    run(false, &key);
    ck_assert_uint_eq(n_lookups, 1 + FLOW_ACTION_MAX_RESUBMITS);
    ck_assert_uint_eq(drops[FLOW_EXEC_TOO_DEEP], 1);
    ck_assert_uint_eq(n_drops, 1);
    ck_assert_uint_eq(n_sends, 0);
    assert_free_buffers(16);
}
END_TEST

START_TEST(test_resubmit_with_in_port_restores_it)
{
    struct flow_key key;

    add(0, 0, 3, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_RESUBMIT,
              .resubmit = { 7, 1 } },
            { .type = FLOW_ACTION_NORMAL }));
    add(1, 10, 7, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 8 }));
    add(1, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_OUTPUT, .port = 9 }));
    run(false, &key);
    ck_assert_uint_eq(n_lookups, 2);
    ck_assert_uint_eq(lookups[0].in_port, 3);
    ck_assert_uint_eq(lookups[1].in_port, 7);
    ck_assert_uint_eq(n_sends, 2);
    ck_assert_uint_eq(sends[0].port_no, 8);
    ck_assert_int_eq(sends[1].kind, 'n');
    ck_assert_uint_eq(sends[1].key.in_port, 3);
    ck_assert_uint_eq(key.in_port, 3);
}
END_TEST

START_TEST(test_set_tunnel_fields)
{
    struct in6_addr dst = fixture_ip("192.168.7.9");
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_SET_TUN_ID, .vni = 0x123456 },
            { .type = FLOW_ACTION_SET_TUN_DST, .addr = dst },
            { .type = FLOW_ACTION_OUTPUT, .port = 10 },
            { .type = FLOW_ACTION_SET_TUNNEL, .vni = 77 },
            { .type = FLOW_ACTION_OUTPUT, .port = 11 }));
    run(false, &key);
    ck_assert_uint_eq(n_sends, 2);
    ck_assert_uint_eq(sends[0].key.vni, 0x123456);
    ck_assert_uint_eq(sends[0].p->md.vni, 0x123456);
    ck_assert(inet_equals(&sends[0].key.tun_dst, &dst));
    ck_assert(inet_equals(&sends[0].p->md.tun_dst, &dst));
    ck_assert_uint_eq(sends[1].key.vni, 77);
    ck_assert_uint_eq(sends[1].p->md.vni, 77);
    ck_assert(inet_equals(&sends[1].p->md.tun_dst, &dst));
}
END_TEST

START_TEST(test_eth_rewrites)
{
    struct eth_addr s1 = fixture_mac(0x51), d1 = fixture_mac(0xd1);
    struct eth_addr s2 = fixture_mac(0x52), d2 = fixture_mac(0xd2);
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_SET_ETH_SRC, .mac = s1 },
            { .type = FLOW_ACTION_SET_ETH_DST, .mac = d1 },
            { .type = FLOW_ACTION_OUTPUT, .port = 1 },
            { .type = FLOW_ACTION_MOD_DL_SRC, .mac = s2 },
            { .type = FLOW_ACTION_MOD_DL_DST, .mac = d2 },
            { .type = FLOW_ACTION_OUTPUT, .port = 2 }));
    run(false, &key);
    ck_assert_uint_eq(n_sends, 2);
    ck_assert_mem_eq(packet_data(sends[0].p), &d1, ETH_ADDR_LEN);
    ck_assert_mem_eq(packet_data(sends[0].p) + ETH_ADDR_LEN, &s1,
                     ETH_ADDR_LEN);
    ck_assert(eth_addr_equals(&sends[0].key.dl_src, &s1));
    ck_assert(eth_addr_equals(&sends[0].key.dl_dst, &d1));
    ck_assert_mem_eq(packet_data(sends[1].p), &d2, ETH_ADDR_LEN);
    ck_assert_mem_eq(packet_data(sends[1].p) + ETH_ADDR_LEN, &s2,
                     ETH_ADDR_LEN);
    ck_assert(eth_addr_equals(&sends[1].key.dl_src, &s2));
    ck_assert(eth_addr_equals(&sends[1].key.dl_dst, &d2));
}
END_TEST

static uint16_t
be16_at(const struct packet *p, size_t ofs)
{
    const uint8_t *b = packet_data(p) + ofs;

    return (uint16_t) (b[0] << 8 | b[1]);
}

/* Checks that 'key' and the offsets of 'p' are what parsing the frame
 * afresh gives. */
static void
assert_in_step(struct packet *p, const struct flow_key *key)
{
    struct packet_meta md = p->md;
    struct flow_key fresh;

    flow_extract(p, &fresh);
    ck_assert_uint_eq(ntohs(key->vlan_tci), ntohs(fresh.vlan_tci));
    ck_assert_uint_eq(ntohs(key->dl_type), ntohs(fresh.dl_type));
    ck_assert_uint_eq(md.l3_ofs, p->md.l3_ofs);
    ck_assert_uint_eq(md.l4_ofs, p->md.l4_ofs);
    ck_assert_uint_eq(md.csum_start, p->md.l4_ofs);
    p->md = md;
}

START_TEST(test_push_vlan_shifts_headers)
{
    struct flow_key key;
    struct packet *p = tcp_packet(false, &key);
    uint8_t before[256];
    size_t size = packet_size(p);

    memcpy(before, packet_data(p), size);
    ck_assert_uint_eq(p->md.l3_ofs, 14);
    ck_assert(flow_exec_push_vlan(p, &key, htons(ETH_TYPE_VLAN)));
    ck_assert_uint_eq(packet_size(p), size + 4);
    ck_assert_mem_eq(packet_data(p), before, 12);
    ck_assert_uint_eq(be16_at(p, 12), ETH_TYPE_VLAN);
    ck_assert_uint_eq(be16_at(p, 14), 0);
    ck_assert_mem_eq(packet_data(p) + 16, before + 12, size - 12);
    ck_assert_uint_eq(ntohs(key.vlan_tci), FLOW_VLAN_PRESENT);
    ck_assert_uint_eq(p->md.l3_ofs, 18);
    ck_assert_uint_eq(p->md.l4_ofs, 38);
    ck_assert_uint_eq(p->md.csum_start, 38);
    assert_in_step(p, &key);

    ck_assert(flow_exec_set_vlan_vid(p, &key, 0x123));
    ck_assert_uint_eq(be16_at(p, 14), 0x123);
    ck_assert_uint_eq(ntohs(key.vlan_tci), FLOW_VLAN_PRESENT | 0x123);
    assert_in_step(p, &key);

    /* The priority stays when the VID changes. */
    packet_data(p)[14] |= 5 << (VLAN_PCP_SHIFT - 8);
    ck_assert(flow_exec_set_vlan_vid(p, &key, 0xfff));
    ck_assert_uint_eq(be16_at(p, 14), 5 << VLAN_PCP_SHIFT | 0xfff);
    ck_assert_uint_eq(ntohs(key.vlan_tci),
                      5 << VLAN_PCP_SHIFT | FLOW_VLAN_PRESENT | 0xfff);
    assert_in_step(p, &key);

    ck_assert(flow_exec_strip_vlan(p, &key));
    ck_assert_uint_eq(packet_size(p), size);
    ck_assert_mem_eq(packet_data(p), before, size);
    ck_assert_uint_eq(key.vlan_tci, 0);
    ck_assert_uint_eq(p->md.l3_ofs, 14);
    ck_assert_uint_eq(p->md.l4_ofs, 34);
    ck_assert_uint_eq(p->md.csum_start, 34);
    assert_in_step(p, &key);

    /* Untagged: nothing to strip or change. */
    ck_assert(!flow_exec_strip_vlan(p, &key));
    ck_assert(!flow_exec_set_vlan_vid(p, &key, 5));
    ck_assert_mem_eq(packet_data(p), before, size);
    ck_assert_uint_eq(key.vlan_tci, 0);
    packet_free(p);
}
END_TEST

START_TEST(test_strip_outer_of_two_tags)
{
    struct flow_key key;
    struct packet *p = tcp_packet(true, &key);

    ck_assert_uint_eq(ntohs(key.vlan_tci), FLOW_VLAN_PRESENT | 100);
    ck_assert(flow_exec_push_vlan(p, &key, htons(ETH_TYPE_VLAN_QINQ)));
    ck_assert_uint_eq(be16_at(p, 12), ETH_TYPE_VLAN_QINQ);
    ck_assert_uint_eq(be16_at(p, 16), ETH_TYPE_VLAN);
    ck_assert_uint_eq(be16_at(p, 18), 100);
    ck_assert_uint_eq(ntohs(key.vlan_tci), FLOW_VLAN_PRESENT);
    ck_assert(flow_exec_strip_vlan(p, &key));
    ck_assert_uint_eq(be16_at(p, 12), ETH_TYPE_VLAN);
    ck_assert_uint_eq(ntohs(key.vlan_tci), FLOW_VLAN_PRESENT | 100);
    assert_in_step(p, &key);
    packet_free(p);
}
END_TEST

START_TEST(test_vlan_actions)
{
    struct flow_key key;

    add(0, 0, 0, FIXTURE_ACTIONS(
            { .type = FLOW_ACTION_SET_VLAN_VID, .vid = 5 },
            { .type = FLOW_ACTION_OUTPUT, .port = 1 },
            { .type = FLOW_ACTION_MOD_VLAN_VID, .vid = 6 },
            { .type = FLOW_ACTION_OUTPUT, .port = 2 },
            { .type = FLOW_ACTION_MOD_VLAN_VID, .vid = 7 },
            { .type = FLOW_ACTION_OUTPUT, .port = 3 },
            { .type = FLOW_ACTION_STRIP_VLAN },
            { .type = FLOW_ACTION_PUSH_VLAN, .tpid = htons(0x88a8) },
            { .type = FLOW_ACTION_OUTPUT, .port = 4 }));

    struct packet *p = run(false, &key);
    size_t size = packet_size(sends[0].p);

    ck_assert_uint_eq(n_sends, 4);
    /* set_vlan_vid leaves an untagged frame alone. */
    ck_assert_uint_eq(sends[0].key.vlan_tci, 0);
    ck_assert_uint_eq(be16_at(sends[0].p, 12), ETH_TYPE_IPV4);
    /* mod_vlan_vid pushes a tag if there is none, else changes it. */
    ck_assert_uint_eq(packet_size(sends[1].p), size + 4);
    ck_assert_uint_eq(be16_at(sends[1].p, 12), ETH_TYPE_VLAN);
    ck_assert_uint_eq(be16_at(sends[1].p, 14), 6);
    ck_assert_uint_eq(ntohs(sends[1].key.vlan_tci), FLOW_VLAN_PRESENT | 6);
    ck_assert_uint_eq(sends[1].p->md.l4_ofs, 38);
    ck_assert_uint_eq(packet_size(sends[2].p), size + 4);
    ck_assert_uint_eq(be16_at(sends[2].p, 14), 7);
    ck_assert_uint_eq(ntohs(sends[2].key.vlan_tci), FLOW_VLAN_PRESENT | 7);
    assert_in_step(sends[2].p, &sends[2].key);
    ck_assert_ptr_eq(sends[3].p, p);
    ck_assert_uint_eq(packet_size(p), size + 4);
    ck_assert_uint_eq(be16_at(p, 12), 0x88a8);
    ck_assert_uint_eq(be16_at(p, 14), 0);
    ck_assert_uint_eq(be16_at(p, 16), ETH_TYPE_IPV4);
    ck_assert_uint_eq(p->md.l3_ofs, 18);
    ck_assert_uint_eq(p->md.csum_start, 38);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("flow-exec");

    fixture_add_case(s, "table 0 miss drops", test_table_0_miss_drops,
                     setup, teardown);
    fixture_add_case(s, "empty actions drop", test_empty_actions_drop,
                     setup, teardown);
    fixture_add_case(s, "outputs in order, the last takes the frame",
                     test_outputs_in_order_last_takes_the_frame, setup,
                     teardown);
    fixture_add_case(s, "frame freed when no output is last",
                     test_frame_freed_when_no_output_is_last, setup,
                     teardown);
    fixture_add_case(s, "actions sending nowhere drop",
                     test_actions_sending_nowhere_drop, setup, teardown);
    fixture_add_case(s, "copy without a buffer counted",
                     test_copy_without_buffer_counted, setup, teardown);
    fixture_add_case(s, "goto_table", test_goto_table, setup, teardown);
    fixture_add_case(s, "goto_table miss drops", test_goto_table_miss_drops,
                     setup, teardown);
    fixture_add_case(s, "resubmit miss continues",
                     test_resubmit_miss_continues, setup, teardown);
    fixture_add_case(s, "resubmit runs the rule then goes on",
                     test_resubmit_runs_the_rule_then_goes_on, setup,
                     teardown);
    fixture_add_case(s, "resubmit total limit", test_resubmit_total_limit,
                     setup, teardown);
    fixture_add_case(s, "resubmit depth limit", test_resubmit_depth_limit,
                     setup, teardown);
    fixture_add_case(s, "resubmit with in_port restores it",
                     test_resubmit_with_in_port_restores_it, setup,
                     teardown);
    fixture_add_case(s, "set_tunnel and tun_dst", test_set_tunnel_fields,
                     setup, teardown);
    fixture_add_case(s, "eth rewrites", test_eth_rewrites, setup, teardown);
    fixture_add_case(s, "push_vlan shifts headers",
                     test_push_vlan_shifts_headers, setup, teardown);
    fixture_add_case(s, "strip the outer of two tags",
                     test_strip_outer_of_two_tags, setup, teardown);
    fixture_add_case(s, "vlan actions", test_vlan_actions, setup, teardown);
    return fixture_run(s);
}
