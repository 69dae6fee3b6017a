#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "dstring.h"
#include "fixture.h"
#include "flow-text.h"
#include "inet.h"
#include "util.h"

/* The ports every test knows: numbers 1 to 4. */
static const char *const port_names[] = { "tap0", "tap1", "vtep0", "pcap0" };

static uint32_t
test_port_no(void *aux, const char *name)
{
    (void) aux;
    for (size_t i = 0; i < ARRAY_SIZE(port_names); i++) {
        if (!strcmp(name, port_names[i])) {
            return (uint32_t) i + 1;
        }
    }
    return 0;
}

static const char *
test_port_name(void *aux, uint32_t port_no)
{
    (void) aux;
    return port_no >= 1 && port_no <= ARRAY_SIZE(port_names)
           ? port_names[port_no - 1] : NULL;
}

static const struct flow_text_ports ports = {
    test_port_no, test_port_name, NULL
};

static void
assert_specs_equal(const struct flow_spec *a, const struct flow_spec *b,
                   const char *text)
{
    ck_assert_msg(match_equal(&a->match, &b->match), "match of '%s'", text);
    ck_assert_msg(a->priority == b->priority, "priority of '%s'", text);
    ck_assert_msg(a->table == b->table, "table of '%s'", text);
    ck_assert_msg(a->cookie == b->cookie && a->cookie_mask == b->cookie_mask,
                  "cookie of '%s'", text);
    ck_assert_msg(a->idle_timeout == b->idle_timeout
                  && a->hard_timeout == b->hard_timeout,
                  "timeouts of '%s'", text);
    ck_assert_msg(flow_actions_equal(a->actions, b->actions),
                  "actions of '%s'", text);
    ck_assert_msg((a->actions == NULL) == (b->actions == NULL),
                  "actions of '%s'", text);
}

/* Parses 'text' in 'mode', which must work, and returns its printed
 * form, which must parse back to an equal rule.  The caller frees the
 * text. */
static char *
round_trip(const char *text, enum flow_text_mode mode,
           const struct flow_text_ports *p, struct flow_spec *spec)
{
    struct ds error = DS_EMPTY_INITIALIZER;
    struct ds out = DS_EMPTY_INITIALIZER;
    struct flow_spec again;
    int err;

    err = flow_text_parse(text, mode, p, spec, &error);
    ck_assert_msg(!err, "'%s': %s", text, ds_cstr(&error));
    flow_text_format_spec(&out, spec, p);
    err = flow_text_parse(ds_cstr(&out), mode, p, &again, &error);
    ck_assert_msg(!err, "'%s' printed as '%s': %s", text, ds_cstr(&out),
                  ds_cstr(&error));
    assert_specs_equal(spec, &again, text);
    flow_spec_uninit(&again);
    ds_destroy(&error);
    return ds_steal_cstr(&out);
}

/* Every field, shorthand and action, as written and as printed. */
static const struct {
    const char *text;
    const char *printed;
} canonical[] = {
    { "actions=drop", "actions=drop" },
    { "actions=", "actions=drop" },
    { "priority=100,tcp,in_port=tap0,tp_dst=22,actions=drop",
      "priority=100,tcp,in_port=tap0,tp_dst=22 actions=drop" },
    { "priority=65535 tcp tp_dst=80 actions=drop",
      "priority=65535,tcp,tp_dst=80 actions=drop" },
    { "table=1,cookie=5,idle_timeout=30,hard_timeout=60,priority=0,"
      "actions=normal",
      "table=1,cookie=0x5,idle_timeout=30,hard_timeout=60,priority=0 "
      "actions=normal" },
    { "table=0,actions=normal", "table=0 actions=normal" },
    { "cookie=0xffffffffffffffff,actions=normal",
      "cookie=0xffffffffffffffff actions=normal" },
    { "in_port=7,actions=output:tap1", "in_port=7 actions=output:tap1" },
    { "tun_id=5,actions=normal", "tun_id=0x5 actions=normal" },
    { "tun_id=0x10/0xf0,actions=normal", "tun_id=0x10/0xf0 actions=normal" },
    { "tun_src=10.0.0.0/8,actions=normal",
      "tun_src=10.0.0.0/8 actions=normal" },
    { "tun_src=10.1.2.3/255.0.255.0,actions=normal",
      "tun_src=10.0.2.0/255.0.255.0 actions=normal" },
    { "tun_dst=fd00::1,actions=normal", "tun_dst=fd00::1 actions=normal" },
    { "tun_dst=fd00::/ffff::,actions=normal",
      "tun_dst=fd00::/16 actions=normal" },
    { "tun_dst=0.0.0.0/0,actions=normal",
      "tun_dst=0.0.0.0/0 actions=normal" },
    { "dl_src=02:00:00:00:00:01,dl_dst=01:00:00:00:00:00/"
      "01:00:00:00:00:00,actions=normal",
      "dl_src=02:00:00:00:00:01,dl_dst=01:00:00:00:00:00/"
      "01:00:00:00:00:00 actions=normal" },
    { "dl_type=0x88cc,actions=normal", "dl_type=0x88cc actions=normal" },
    { "dl_type=0x0800,actions=normal", "ip actions=normal" },
    { "dl_vlan=100,actions=normal", "dl_vlan=100 actions=normal" },
    { "dl_vlan=0xffff,actions=normal", "dl_vlan=0xffff actions=normal" },
    { "dl_vlan_pcp=5,actions=normal", "dl_vlan_pcp=5 actions=normal" },
    { "dl_vlan_pcp=3,dl_vlan=10,actions=normal",
      "dl_vlan=10,dl_vlan_pcp=3 actions=normal" },
    { "ip,nw_src=10.0.0.0/24,nw_dst=192.168.1.1,actions=normal",
      "ip,nw_src=10.0.0.0/24,nw_dst=192.168.1.1 actions=normal" },
    { "ip,nw_src=10.0.0.1/255.0.0.255,actions=normal",
      "ip,nw_src=10.0.0.1/255.0.0.255 actions=normal" },
    { "nw_src=10.0.0.1,nw_dst=10.0.0.2,arp,actions=normal",
      "arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2 actions=normal" },
    { "arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/8,"
      "arp_sha=02:00:00:00:00:01,arp_tha=02:00:00:00:00:00/"
      "ff:ff:ff:00:00:00,actions=normal",
      "arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.0/8,arp_op=1,"
      "arp_sha=02:00:00:00:00:01,arp_tha=02:00:00:00:00:00/"
      "ff:ff:ff:00:00:00 actions=normal" },
    { "arp,nw_proto=2,actions=normal", "arp,arp_op=2 actions=normal" },
    { "ipv6,ipv6_src=fd00::/64,ipv6_dst=fd00::2,actions=normal",
      "ipv6,ipv6_src=fd00::/64,ipv6_dst=fd00::2 actions=normal" },
    { "ipv6,ipv6_src=fd00::1/ffff::ffff,actions=normal",
      "ipv6,ipv6_src=fd00::1/ffff::ffff actions=normal" },
    { "ip,nw_proto=47,actions=normal", "ip,nw_proto=47 actions=normal" },
    { "nw_proto=6,ip,actions=normal", "tcp actions=normal" },
    { "ipv6,nw_proto=58,actions=normal", "icmp6 actions=normal" },
    { "ip,nw_tos=184,actions=normal", "ip,nw_tos=184 actions=normal" },
    { "ip,ip_dscp=46,actions=normal", "ip,nw_tos=184 actions=normal" },
    { "ipv6,nw_ttl=64,actions=normal", "ipv6,nw_ttl=64 actions=normal" },
    { "udp,tp_src=53,tp_dst=0x1000/0xf000,actions=normal",
      "udp,tp_src=53,tp_dst=0x1000/0xf000 actions=normal" },
    { "tcp6,tp_dst=443,actions=normal", "tcp6,tp_dst=443 actions=normal" },
    { "udp6,tp_src=546,actions=normal", "udp6,tp_src=546 actions=normal" },
    { "tcp,tcp_flags=+syn-ack,actions=normal",
      "tcp,tcp_flags=+syn-ack actions=normal" },
    { "tcp,tcp_flags=0x2/0x12,actions=normal",
      "tcp,tcp_flags=+syn-ack actions=normal" },
    { "tcp,tcp_flags=0x012,actions=normal",
      "tcp,tcp_flags=0x12 actions=normal" },
    { "tcp,tcp_flags=syn|ack,actions=normal",
      "tcp,tcp_flags=0x12 actions=normal" },
    { "tcp,tcp_flags=-[800]+ns,actions=normal",
      "tcp,tcp_flags=+ns-[800] actions=normal" },
    { "icmp,icmp_type=8,icmp_code=0,actions=normal",
      "icmp,icmp_type=8,icmp_code=0 actions=normal" },
    { "icmp6,icmp_type=135,actions=normal",
      "icmp6,icmp_type=135 actions=normal" },
    { "ip,actions=normal", "ip actions=normal" },
    { "ipv6,actions=normal", "ipv6 actions=normal" },
    { "arp,actions=normal", "arp actions=normal" },
    { "udp,actions=normal", "udp actions=normal" },
    { "icmp,actions=normal", "icmp actions=normal" },
    { "tcp6,actions=normal", "tcp6 actions=normal" },
    { "udp6,actions=normal", "udp6 actions=normal" },
    { "actions=NORMAL", "actions=normal" },
    { "actions=FLOOD,Normal", "actions=flood,normal" },
    { "actions=output:tap1,output:4,tap0,5",
      "actions=output:tap1,output:pcap0,output:tap0,output:5" },
    { "actions=in_port,output:in_port,IN_PORT",
      "actions=in_port,in_port,in_port" },
    { "actions=set_field:5->tun_id,set_tunnel:0x10,"
      "set_field:192.168.0.2->tun_dst,output:vtep0",
      "actions=set_field:0x5->tun_id,set_tunnel:0x10,"
      "set_field:192.168.0.2->tun_dst,output:vtep0" },
    { "actions=set_field:fd00::2->tun_dst",
      "actions=set_field:fd00::2->tun_dst" },
    { "actions=set_field:02:00:00:00:00:01->eth_src,"
      "set_field:02:00:00:00:00:02->eth_dst,mod_dl_src:02:00:00:00:00:03,"
      "mod_dl_dst:02:00:00:00:00:04",
      "actions=set_field:02:00:00:00:00:01->eth_src,"
      "set_field:02:00:00:00:00:02->eth_dst,mod_dl_src:02:00:00:00:00:03,"
      "mod_dl_dst:02:00:00:00:00:04" },
    { "actions=set_field:100->vlan_vid,mod_vlan_vid:200,push_vlan:0x88a8,"
      "push_vlan:0x8100,strip_vlan,pop_vlan",
      "actions=set_field:100->vlan_vid,mod_vlan_vid:200,push_vlan:0x88a8,"
      "push_vlan:0x8100,strip_vlan,strip_vlan" },
    { "actions=resubmit(,2),resubmit(tap0,3),resubmit(tap1),resubmit:5",
      "actions=resubmit(,2),resubmit(tap0,3),resubmit:tap1,resubmit:5" },
    { "actions=normal resubmit(,1)", "actions=normal,resubmit(,1)" },
    { "table=1,actions=goto_table:2", "table=1 actions=goto_table:2" },
    { "actions=normal,goto_table:254",
      "actions=normal,goto_table:254" },
    { "duration=1.5s,n_packets=3,n_bytes=4,idle_age=1,hard_age=2,"
      "actions=drop", "actions=drop" },
};

START_TEST(test_prints_each_field_and_action_and_parses_it_back)
{
    for (size_t i = 0; i < ARRAY_SIZE(canonical); i++) {
        struct flow_spec spec;
        char *printed = round_trip(canonical[i].text, FLOW_TEXT_ADD, &ports,
                                   &spec);

        ck_assert_str_eq(printed, canonical[i].printed);
        free(printed);
        flow_spec_uninit(&spec);
    }
}
END_TEST

static struct flow_spec
parse_ok(const char *text, enum flow_text_mode mode,
         const struct flow_text_ports *p)
{
    struct ds error = DS_EMPTY_INITIALIZER;
    struct flow_spec spec;
    int err = flow_text_parse(text, mode, p, &spec, &error);

    ck_assert_msg(!err, "'%s': %s", text, ds_cstr(&error));
    ds_destroy(&error);
    return spec;
}

START_TEST(test_stores_fields_in_the_key_and_mask)
{
    struct flow_spec spec = parse_ok(
        "tcp,nw_src=10.1.0.0/16,tun_src=10.0.0.1,dl_vlan=100,ip_dscp=46,"
        "tun_id=0x123456,tp_dst=22,in_port=tap1,actions=drop",
        FLOW_TEXT_ADD, &ports);
    const struct flow_key *k = &spec.match.key, *m = &spec.match.mask;
    static const uint8_t v4_mask[16] = {
        [12] = 0xff, [13] = 0xff,
    };
    struct in6_addr tun = inet_from_ipv4(htonl(0x0a000001));

    ck_assert_int_eq(spec.table, -1);
    ck_assert_uint_eq(spec.priority, FLOW_TEXT_DEFAULT_PRIORITY);
    ck_assert(!spec.has_priority);
    ck_assert_uint_eq(spec.cookie_mask, 0);
    ck_assert_uint_eq(spec.actions->n, 0);
    ck_assert_uint_eq(ntohs(k->dl_type), 0x0800);
    ck_assert_uint_eq(k->nw_proto, 6);
    ck_assert_uint_eq(k->nw_src.s6_addr[12], 10);
    ck_assert_uint_eq(k->nw_src.s6_addr[13], 1);
    ck_assert_mem_eq(&m->nw_src, v4_mask, sizeof v4_mask);
    ck_assert_mem_eq(&k->tun_src, &tun, sizeof tun);
    ck_assert_uint_eq(ntohs(k->vlan_tci), FLOW_VLAN_PRESENT | 100);
    ck_assert_uint_eq(ntohs(m->vlan_tci), FLOW_VLAN_PRESENT | 0xfff);
    ck_assert_uint_eq(k->nw_tos, 184);
    ck_assert_uint_eq(m->nw_tos, 0xfc);
    ck_assert_uint_eq(k->vni, 0x123456);
    ck_assert_uint_eq(m->vni, 0xffffff);
    ck_assert_uint_eq(ntohs(k->tp_dst), 22);
    ck_assert_uint_eq(ntohs(m->tp_dst), 0xffff);
    ck_assert_uint_eq(k->in_port, 2);
    ck_assert_uint_eq(m->in_port, UINT32_MAX);
    ck_assert_uint_eq(m->tp_src, 0);
    flow_spec_uninit(&spec);

    spec = parse_ok("dl_vlan=0xffff,priority=7,actions=normal",
                    FLOW_TEXT_ADD, &ports);
    ck_assert_uint_eq(spec.match.key.vlan_tci, 0);
    ck_assert_uint_eq(ntohs(spec.match.mask.vlan_tci), 0xffff);
    ck_assert(spec.has_priority);
    ck_assert_uint_eq(spec.priority, 7);
    ck_assert_uint_eq(spec.actions->n, 1);
    ck_assert_uint_eq(spec.actions->acts[0].type, FLOW_ACTION_NORMAL);
    flow_spec_uninit(&spec);
}
END_TEST

START_TEST(test_parses_actions_into_their_types)
{
    struct flow_spec spec = parse_ok(
        "actions=set_tunnel:7,set_field:10.0.0.9->tun_dst,resubmit(,3),"
        "resubmit:tap0,push_vlan:0x88a8,output:vtep0,in_port",
        FLOW_TEXT_ADD, &ports);
    const struct flow_action *a = spec.actions->acts;
    struct in6_addr dst = inet_from_ipv4(htonl(0x0a000009));

    ck_assert_uint_eq(spec.actions->n, 7);
    ck_assert_uint_eq(a[6].type, FLOW_ACTION_OUTPUT_IN_PORT);
    ck_assert_uint_eq(a[0].type, FLOW_ACTION_SET_TUNNEL);
    ck_assert_uint_eq(a[0].vni, 7);
    ck_assert_uint_eq(a[1].type, FLOW_ACTION_SET_TUN_DST);
    ck_assert_mem_eq(&a[1].addr, &dst, sizeof dst);
    ck_assert_uint_eq(a[2].type, FLOW_ACTION_RESUBMIT);
    ck_assert_uint_eq(a[2].resubmit.port, FLOW_ACTION_IN_PORT);
    ck_assert_uint_eq(a[2].resubmit.table, 3);
    ck_assert_uint_eq(a[3].resubmit.port, 1);
    ck_assert_uint_eq(a[3].resubmit.table, FLOW_ACTION_TABLE_SAME);
    ck_assert_uint_eq(a[4].type, FLOW_ACTION_PUSH_VLAN);
    ck_assert_uint_eq(ntohs(a[4].tpid), 0x88a8);
    ck_assert_uint_eq(a[5].type, FLOW_ACTION_OUTPUT);
    ck_assert_uint_eq(a[5].port, 3);
    flow_spec_uninit(&spec);
}
END_TEST

START_TEST(test_modes_take_what_they_allow)
{
    struct flow_spec spec;
    char *printed;

    printed = round_trip("cookie=0x5/0xff,tcp", FLOW_TEXT_FILTER, &ports,
                         &spec);
    ck_assert_str_eq(printed, "cookie=0x5/0xff,tcp");
    ck_assert_uint_eq(spec.cookie_mask, 0xff);
    ck_assert_ptr_null(spec.actions);
    free(printed);
    flow_spec_uninit(&spec);

    printed = round_trip("table=2,priority=5,cookie=1/-1,actions=flood",
                         FLOW_TEXT_MODIFY, &ports, &spec);
    ck_assert_str_eq(printed, "table=2,cookie=0x1,priority=5 actions=flood");
    ck_assert_uint_eq(spec.cookie_mask, UINT64_MAX);
    free(printed);
    flow_spec_uninit(&spec);

    printed = round_trip("in_port=tap0,tcp,nw_dst=10.0.0.2,tp_dst=22,"
                         "tcp_flags=syn", FLOW_TEXT_TRACE, &ports, &spec);
    ck_assert_str_eq(printed, "tcp,in_port=tap0,nw_dst=10.0.0.2,tp_dst=22,"
                     "tcp_flags=0x2");
    ck_assert_uint_eq(spec.match.key.tp_src, 0);
    ck_assert_uint_eq(ntohs(spec.match.key.tcp_flags), 0x2);
    ck_assert_int_eq(spec.table, -1);
    free(printed);
    flow_spec_uninit(&spec);
}
END_TEST

START_TEST(test_without_ports_takes_and_prints_numbers)
{
    struct ds error = DS_EMPTY_INITIALIZER;
    struct flow_spec spec;
    char *printed;

    ck_assert_int_eq(flow_text_parse("in_port=tap0,actions=drop",
                                     FLOW_TEXT_ADD, NULL, &spec, &error),
                     EINVAL);
    ck_assert_str_eq(ds_cstr(&error), "in_port: 'tap0' is no port");
    printed = round_trip("in_port=1,actions=output:2,resubmit(3,4)",
                         FLOW_TEXT_ADD, NULL, &spec);
    ck_assert_str_eq(printed, "in_port=1 actions=output:2,resubmit(3,4)");
    free(printed);
    flow_spec_uninit(&spec);
    ds_destroy(&error);
}
END_TEST

START_TEST(test_formats_a_catchall_as_nothing)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct match m;

    match_init_catchall(&m);
    flow_text_format_match(&s, &m, FLOW_TEXT_DEFAULT_PRIORITY, &ports);
    ck_assert_str_eq(ds_cstr(&s), "");
    flow_text_format_match(&s, &m, 0, &ports);
    ck_assert_str_eq(ds_cstr(&s), "priority=0");
    ds_clear(&s);
    flow_text_format_actions(&s, NULL, &ports);
    ck_assert_str_eq(ds_cstr(&s), "drop");
    ds_destroy(&s);
}
END_TEST

START_TEST(test_formats_a_match_as_dump_flows_shows_it)
{
    struct flow_spec spec = parse_ok("tp_dst=22,in_port=1,tcp,priority=100",
                                     FLOW_TEXT_FILTER, &ports);
    struct ds s = DS_EMPTY_INITIALIZER;

    flow_text_format_match(&s, &spec.match, spec.priority, &ports);
    ck_assert_str_eq(ds_cstr(&s), "priority=100,tcp,in_port=tap0,tp_dst=22");
    ds_clear(&s);
    flow_text_format_match(&s, &spec.match, spec.priority, NULL);
    ck_assert_str_eq(ds_cstr(&s), "priority=100,tcp,in_port=1,tp_dst=22");
    ds_clear(&s);
    flow_text_format_match(&s, &spec.match, FLOW_TEXT_DEFAULT_PRIORITY,
                           &ports);
    ck_assert_str_eq(ds_cstr(&s), "tcp,in_port=tap0,tp_dst=22");
    ds_destroy(&s);
    flow_spec_uninit(&spec);
}
END_TEST

/* Bad text and what the error must say. */
static const struct {
    enum flow_text_mode mode;
    const char *text;
    const char *error;
} bad_texts[] = {
    /* Line level. */
    { FLOW_TEXT_ADD, "foo=1,actions=drop", "unknown field 'foo'" },
    { FLOW_TEXT_ADD, "bogus,actions=drop", "unknown field 'bogus'" },
    { FLOW_TEXT_ADD, "fo\001o=1,actions=drop", "unknown field 'fo?o'" },
    { FLOW_TEXT_ADD, "actions=resubmit(,1\n", "resubmit: '(,1?' lacks" },
    { FLOW_TEXT_ADD, "actions=x\033y", "unknown action 'x?y'" },
    { FLOW_TEXT_ADD, "tcp", "actions: missing: a rule to add needs" },
    { FLOW_TEXT_MODIFY, "tcp", "actions: missing: mod-flows needs" },
    { FLOW_TEXT_ADD, "priority=65536,actions=drop",
      "priority: '65536' is not a number from 0 to 65535" },
    { FLOW_TEXT_ADD, "priority=-1,actions=drop", "priority: '-1'" },
    { FLOW_TEXT_ADD, "priority=1,priority=2,actions=drop",
      "priority: given twice" },
    { FLOW_TEXT_ADD, "table=255,actions=drop",
      "table: '255' is not a number from 0 to 254" },
    { FLOW_TEXT_ADD, "idle_timeout=65536,actions=drop",
      "idle_timeout: '65536' is not a number from 0 to 65535" },
    { FLOW_TEXT_ADD, "hard_timeout=x,actions=drop", "hard_timeout: 'x'" },
    { FLOW_TEXT_ADD, "cookie=1/1,actions=drop",
      "cookie: a mask selects rules; not allowed in a rule to add" },
    { FLOW_TEXT_ADD, "cookie=xyz,actions=drop", "cookie: 'xyz'" },
    { FLOW_TEXT_FILTER, "cookie=1/xyz", "cookie: 'xyz' is not a 64-bit" },
    { FLOW_TEXT_FILTER, "cookie=0x10000000000000000/-1",
      "cookie: '0x10000000000000000'" },
    /* Modes. */
    { FLOW_TEXT_FILTER, "tcp,actions=drop",
      "actions: not allowed in a filter" },
    { FLOW_TEXT_FILTER, "idle_timeout=5",
      "idle_timeout: not allowed in a filter" },
    { FLOW_TEXT_MODIFY, "hard_timeout=5,actions=drop",
      "hard_timeout: not allowed in mod-flows" },
    { FLOW_TEXT_TRACE, "ip,nw_src=10.0.0.0/24",
      "nw_src: no mask in a trace" },
    { FLOW_TEXT_TRACE, "tcp,tcp_flags=+syn",
      "tcp_flags: no mask in a trace" },
    { FLOW_TEXT_TRACE, "priority=5", "priority: not allowed in a trace" },
    { FLOW_TEXT_TRACE, "table=1", "table: not allowed in a trace" },
    { FLOW_TEXT_TRACE, "cookie=1", "cookie: not allowed in a trace" },
    { FLOW_TEXT_TRACE, "idle_timeout=1",
      "idle_timeout: not allowed in a trace" },
    { FLOW_TEXT_TRACE, "actions=drop", "actions: not allowed in a trace" },
    /* Prerequisites. */
    { FLOW_TEXT_ADD, "tp_dst=22,actions=drop",
      "tp_dst: needs tcp, udp, tcp6 or udp6" },
    { FLOW_TEXT_ADD, "ip,tp_src=22,actions=drop",
      "tp_src: needs tcp, udp, tcp6 or udp6" },
    { FLOW_TEXT_ADD, "udp,tcp_flags=+syn,actions=drop",
      "tcp_flags: needs tcp or tcp6" },
    { FLOW_TEXT_ADD, "tcp,icmp_type=8,actions=drop",
      "icmp_type: needs icmp or icmp6" },
    { FLOW_TEXT_ADD, "ipv6,icmp_code=0,actions=drop",
      "icmp_code: needs icmp or icmp6" },
    { FLOW_TEXT_ADD, "ip,arp_op=1,actions=drop", "arp_op: needs arp" },
    { FLOW_TEXT_ADD, "ip,arp_sha=02:00:00:00:00:01,actions=drop",
      "arp_sha: needs arp" },
    { FLOW_TEXT_ADD, "arp_tha=02:00:00:00:00:01,actions=drop",
      "arp_tha: needs arp" },
    { FLOW_TEXT_ADD, "ip,arp_spa=10.0.0.1,actions=drop",
      "arp_spa: needs arp" },
    { FLOW_TEXT_ADD, "arp_tpa=10.0.0.1,actions=drop", "arp_tpa: needs arp" },
    { FLOW_TEXT_ADD, "ipv6,nw_src=10.0.0.1,actions=drop",
      "nw_src: needs ip or arp" },
    { FLOW_TEXT_ADD, "nw_dst=10.0.0.1,actions=drop",
      "nw_dst: needs ip or arp" },
    { FLOW_TEXT_ADD, "ip,ipv6_src=fd00::1,actions=drop",
      "ipv6_src: needs ipv6" },
    { FLOW_TEXT_ADD, "ipv6_dst=fd00::1,actions=drop",
      "ipv6_dst: needs ipv6" },
    { FLOW_TEXT_ADD, "nw_proto=6,actions=drop",
      "nw_proto: needs ip, ipv6 or arp" },
    { FLOW_TEXT_ADD, "arp,nw_ttl=1,actions=drop",
      "nw_ttl: needs ip or ipv6" },
    { FLOW_TEXT_ADD, "nw_tos=4,actions=drop", "nw_tos: needs ip or ipv6" },
    { FLOW_TEXT_ADD, "ip_dscp=4,actions=drop", "ip_dscp: needs ip or ipv6" },
    { FLOW_TEXT_ADD, "dl_type=0x0800,nw_proto=17,tp_dst=1,tcp_flags=1,"
      "actions=drop", "tcp_flags: needs tcp or tcp6" },
    /* Values, ranges and masks. */
    { FLOW_TEXT_ADD, "in_port=0,actions=drop", "in_port: '0' is no port" },
    { FLOW_TEXT_ADD, "in_port=nosuch,actions=drop",
      "in_port: 'nosuch' is no port" },
    { FLOW_TEXT_ADD, "in_port=1/1,actions=drop", "in_port: cannot be masked" },
    { FLOW_TEXT_ADD, "tun_id=0x1000000,actions=drop",
      "tun_id: '0x1000000' is not a number from 0 to 0xffffff" },
    { FLOW_TEXT_ADD, "tun_id=1/0x1000000,actions=drop",
      "tun_id: '0x1000000' is not a mask from 0 to 0xffffff" },
    { FLOW_TEXT_ADD, "tun_id=,actions=drop", "tun_id: '' is not a number" },
    { FLOW_TEXT_ADD, "tun_src=10.0.0.0/33,actions=drop",
      "tun_src: '33' is not a prefix length (0 to 32) nor an IPv4 mask" },
    { FLOW_TEXT_ADD, "tun_dst=10.0.0.300,actions=drop",
      "tun_dst: '10.0.0.300' is not an IPv4 address" },
    { FLOW_TEXT_ADD, "tun_dst=fd00::/129,actions=drop",
      "tun_dst: '129' is not a prefix length (0 to 128) nor an IPv6 mask" },
    { FLOW_TEXT_ADD, "ip,nw_src=10.0.0.0/255.0.255.x,actions=drop",
      "nw_src: '255.0.255.x' is not a prefix length" },
    { FLOW_TEXT_ADD, "ip,nw_dst=fd00::1,actions=drop",
      "nw_dst: 'fd00::1' is not an IPv4 address" },
    { FLOW_TEXT_ADD, "ipv6,ipv6_src=10.0.0.1,actions=drop",
      "ipv6_src: '10.0.0.1' is not an IPv6 address" },
    { FLOW_TEXT_ADD, "ipv6,ipv6_dst=fd00::/ff::x,actions=drop",
      "ipv6_dst: 'ff::x' is not a prefix length" },
    { FLOW_TEXT_ADD, "dl_src=02:00:00:00:00,actions=drop",
      "dl_src: '02:00:00:00:00' is not a MAC address" },
    { FLOW_TEXT_ADD, "dl_dst=02:00:00:00:00:01/ff,actions=drop",
      "dl_dst: 'ff' is not a MAC mask" },
    { FLOW_TEXT_ADD, "arp,arp_sha=x,actions=drop",
      "arp_sha: 'x' is not a MAC address" },
    { FLOW_TEXT_ADD, "dl_type=0x10000,actions=drop",
      "dl_type: '0x10000' is not a number from 0 to 0xffff" },
    { FLOW_TEXT_ADD, "dl_type=0x800/0xff00,actions=drop",
      "dl_type: cannot be masked" },
    { FLOW_TEXT_ADD, "dl_vlan=4096,actions=drop",
      "dl_vlan: '4096' is not a VLAN ID from 0 to 4095" },
    { FLOW_TEXT_ADD, "dl_vlan_pcp=8,actions=drop",
      "dl_vlan_pcp: '8' is not a priority from 0 to 7" },
    { FLOW_TEXT_ADD, "dl_vlan=0xffff,dl_vlan_pcp=1,actions=drop",
      "dl_vlan_pcp: a frame without a tag (dl_vlan=0xffff) has no" },
    { FLOW_TEXT_ADD, "dl_vlan_pcp=1,dl_vlan=0xffff,actions=drop",
      "dl_vlan_pcp: a frame without a tag" },
    { FLOW_TEXT_ADD, "ip,nw_proto=256,actions=drop",
      "nw_proto: '256' is not a number from 0 to 255" },
    { FLOW_TEXT_ADD, "arp,arp_op=256,actions=drop", "arp_op: '256'" },
    { FLOW_TEXT_ADD, "ip,nw_tos=5,actions=drop",
      "nw_tos: 5 has ECN bits (the low 2) set" },
    { FLOW_TEXT_ADD, "ip,nw_tos=256,actions=drop", "nw_tos: '256'" },
    { FLOW_TEXT_ADD, "ip,ip_dscp=64,actions=drop",
      "ip_dscp: '64' is not a number from 0 to 63" },
    { FLOW_TEXT_ADD, "ip,nw_ttl=256,actions=drop", "nw_ttl: '256'" },
    { FLOW_TEXT_ADD, "ip,nw_ttl=1/1,actions=drop",
      "nw_ttl: cannot be masked" },
    { FLOW_TEXT_ADD, "tcp,tp_dst=65536,actions=drop",
      "tp_dst: '65536' is not a number from 0 to 65535" },
    { FLOW_TEXT_ADD, "tcp,tp_src=1/0x10000,actions=drop",
      "tp_src: '0x10000' is not a mask" },
    { FLOW_TEXT_ADD, "icmp,icmp_type=256,actions=drop", "icmp_type: '256'" },
    { FLOW_TEXT_ADD, "icmp,icmp_code=1/1,actions=drop",
      "icmp_code: cannot be masked" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=+syn+bogus,actions=drop",
      "tcp_flags: unknown flag 'bogus'" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=+syn-syn,actions=drop",
      "tcp_flags: flag 'syn' given twice" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=syn|syn,actions=drop",
      "tcp_flags: flag 'syn' given twice" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=0x1000,actions=drop",
      "tcp_flags: '0x1000' is not VALUE[/MASK] of at most 0xfff" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=1/0x1000,actions=drop",
      "tcp_flags: '1/0x1000' is not VALUE[/MASK]" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=syn|,actions=drop",
      "tcp_flags: 'syn|' ends with '|'" },
    { FLOW_TEXT_ADD, "tcp,tcp_flags=,actions=drop",
      "tcp_flags: '' is not VALUE[/MASK]" },
    /* Duplicates. */
    { FLOW_TEXT_ADD, "tcp,tp_dst=1,tp_dst=2,actions=drop",
      "tp_dst: given twice" },
    { FLOW_TEXT_ADD, "tcp,ip,actions=drop", "ip: sets the same field as tcp" },
    { FLOW_TEXT_ADD, "ip,dl_type=0x0800,actions=drop",
      "dl_type: sets the same field as ip" },
    { FLOW_TEXT_ADD, "tcp,nw_proto=6,actions=drop",
      "nw_proto: sets the same field as tcp" },
    { FLOW_TEXT_ADD, "icmp,tp_src=1,icmp_type=2,actions=drop",
      "icmp_type: sets the same field as tp_src" },
    { FLOW_TEXT_ADD, "ip,ip_dscp=1,nw_tos=4,actions=drop",
      "nw_tos: sets the same field as ip_dscp" },
    { FLOW_TEXT_ADD, "arp,nw_src=10.0.0.1,arp_spa=10.0.0.1,actions=drop",
      "arp_spa: sets the same field as nw_src" },
    { FLOW_TEXT_ADD, "dl_vlan=1,dl_vlan=2,actions=drop",
      "dl_vlan: given twice" },
    { FLOW_TEXT_ADD, "table=1,table=1,actions=drop", "table: given twice" },
    { FLOW_TEXT_ADD, "cookie=1,cookie=1,actions=drop",
      "cookie: given twice" },
    { FLOW_TEXT_ADD, "idle_timeout=1,idle_timeout=1,actions=drop",
      "idle_timeout: given twice" },
    /* Actions. */
    { FLOW_TEXT_ADD, "actions=bogus", "unknown action 'bogus'" },
    { FLOW_TEXT_ADD, "actions=bogus:1", "unknown action 'bogus'" },
    { FLOW_TEXT_ADD, "actions=output:99x", "output: '99x' is no port" },
    { FLOW_TEXT_ADD, "actions=output:0", "output: '0' is no port" },
    { FLOW_TEXT_ADD, "actions=output:4294967295",
      "output: '4294967295' is no port" },
    { FLOW_TEXT_ADD, "actions=output", "output: needs an argument" },
    { FLOW_TEXT_ADD, "actions=output:", "output: needs an argument" },
    { FLOW_TEXT_ADD, "actions=output(1)",
      "output: '(1)' is not ':ARGUMENT'" },
    { FLOW_TEXT_ADD, "actions=normal:1", "normal: takes no argument" },
    { FLOW_TEXT_ADD, "actions=strip_vlan(1)",
      "strip_vlan: takes no argument" },
    { FLOW_TEXT_ADD, "actions=drop,normal", "drop: must be the only action" },
    { FLOW_TEXT_ADD, "actions=normal,drop", "drop: must be the only action" },
    { FLOW_TEXT_ADD, "actions=drop,drop", "drop: given twice" },
    { FLOW_TEXT_ADD, "actions=goto_table:0",
      "goto_table: table 0 is not after this rule's table 0" },
    { FLOW_TEXT_ADD, "table=5,actions=goto_table:3",
      "goto_table: table 3 is not after this rule's table 5" },
    { FLOW_TEXT_ADD, "table=5,actions=goto_table:5",
      "goto_table: table 5 is not after this rule's table 5" },
    { FLOW_TEXT_ADD, "actions=goto_table:1,normal",
      "goto_table: must be the last action" },
    { FLOW_TEXT_ADD, "actions=goto_table:1,goto_table:2",
      "goto_table: given twice" },
    { FLOW_TEXT_ADD, "actions=goto_table:255",
      "goto_table: '255' is not a table (0 to 254)" },
    { FLOW_TEXT_ADD, "actions=resubmit(,)",
      "resubmit: '' is not a table" },
    { FLOW_TEXT_ADD, "actions=resubmit()",
      "resubmit: needs a port or a table" },
    { FLOW_TEXT_ADD, "actions=resubmit(,255)",
      "resubmit: '255' is not a table (0 to 254)" },
    { FLOW_TEXT_ADD, "actions=resubmit(nosuch,1)",
      "resubmit: 'nosuch' is no port" },
    { FLOW_TEXT_ADD, "actions=resubmit:nosuch",
      "resubmit: 'nosuch' is no port" },
    { FLOW_TEXT_ADD, "actions=resubmit(,1", "resubmit: '(,1' lacks its ')'" },
    { FLOW_TEXT_ADD, "actions=resubmit:(", "resubmit: '(' lacks its ')'" },
    { FLOW_TEXT_ADD, "actions=resubmit:(,5", "resubmit: '(,5' lacks its ')'" },
    { FLOW_TEXT_ADD, "actions=set_field:5",
      "set_field: '5' is not VALUE->FIELD" },
    { FLOW_TEXT_ADD, "actions=set_field:5->nw_ttl",
      "set_field: cannot set field 'nw_ttl'" },
    { FLOW_TEXT_ADD, "actions=set_field:0x1000000->tun_id",
      "set_field: '0x1000000' is not a VNI (0 to 0xffffff)" },
    { FLOW_TEXT_ADD, "actions=set_field:1/1->tun_id",
      "set_field: '1/1' has a mask" },
    { FLOW_TEXT_ADD, "actions=set_field:x->tun_dst",
      "set_field: 'x' is not an IP address" },
    { FLOW_TEXT_ADD, "actions=set_field:x->eth_dst",
      "set_field: 'x' is not a MAC address" },
    { FLOW_TEXT_ADD, "actions=set_field:4096->vlan_vid",
      "set_field: '4096' is not a VLAN ID (0 to 4095)" },
    { FLOW_TEXT_ADD, "actions=set_tunnel:0x1000000",
      "set_tunnel: '0x1000000' is not a VNI" },
    { FLOW_TEXT_ADD, "actions=mod_dl_src:zz",
      "mod_dl_src: 'zz' is not a MAC address" },
    { FLOW_TEXT_ADD, "actions=mod_dl_dst:",
      "mod_dl_dst: needs an argument" },
    { FLOW_TEXT_ADD, "actions=push_vlan:0x0800",
      "push_vlan: '0x0800' is not 0x8100 or 0x88a8" },
    { FLOW_TEXT_ADD, "actions=mod_vlan_vid:4096",
      "mod_vlan_vid: '4096' is not a VLAN ID" },
};

START_TEST(test_refuses_bad_text_saying_why)
{
    for (size_t i = 0; i < ARRAY_SIZE(bad_texts); i++) {
        struct ds error = DS_EMPTY_INITIALIZER;
        struct flow_spec spec;
        int err = flow_text_parse(bad_texts[i].text, bad_texts[i].mode,
                                  &ports, &spec, &error);

        ck_assert_msg(err == EINVAL, "'%s' parsed", bad_texts[i].text);
        ck_assert_msg(strstr(ds_cstr(&error), bad_texts[i].error),
                      "'%s': error '%s' lacks '%s'", bad_texts[i].text,
                      ds_cstr(&error), bad_texts[i].error);
        ck_assert_msg(!strchr(ds_cstr(&error), '\n'), "'%s': error '%s'",
                      bad_texts[i].text, ds_cstr(&error));
        ck_assert_ptr_null(spec.actions);
        flow_spec_uninit(&spec);
        ds_destroy(&error);
    }
}
END_TEST

START_TEST(test_refuses_more_than_the_most_actions)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct ds error = DS_EMPTY_INITIALIZER;
    struct flow_spec spec;

    ds_put_cstr(&text, "actions=");
    for (int i = 0; i < FLOW_ACTIONS_MAX; i++) {
        ds_put_cstr(&text, "normal,");
    }
    spec = parse_ok(ds_cstr(&text), FLOW_TEXT_ADD, &ports);
    ck_assert_uint_eq(spec.actions->n, FLOW_ACTIONS_MAX);
    flow_spec_uninit(&spec);

    ds_put_cstr(&text, "flood");
    ck_assert_int_eq(flow_text_parse(ds_cstr(&text), FLOW_TEXT_ADD, &ports,
                                     &spec, &error), EINVAL);
    ck_assert_str_eq(ds_cstr(&error), "actions: more than 256");
    ds_destroy(&text);
    ds_destroy(&error);
}
END_TEST

static Suite *
flow_text_suite(void)
{
    /* Not static: Check's test handles are variables, not constants. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "prints each field and action and parses it back",
          test_prints_each_field_and_action_and_parses_it_back },
        { "stores fields in the key and mask",
          test_stores_fields_in_the_key_and_mask },
        { "parses actions into their types",
          test_parses_actions_into_their_types },
        { "modes take what they allow", test_modes_take_what_they_allow },
        { "without ports takes and prints numbers",
          test_without_ports_takes_and_prints_numbers },
        { "formats a match as dump-flows shows it",
          test_formats_a_match_as_dump_flows_shows_it },
        { "formats a catch-all as nothing",
          test_formats_a_catchall_as_nothing },
        { "refuses bad text saying why", test_refuses_bad_text_saying_why },
        { "refuses more than the most actions",
          test_refuses_more_than_the_most_actions },
    };
    Suite *s = suite_create("flow-text");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, NULL, NULL);
    }
    return s;
}

int
main(void)
{
    return fixture_run(flow_text_suite());
}
