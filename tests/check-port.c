#include <config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "fixture.h"
#include "inet.h"
#include "port.h"
#include "util.h"

/* The port registry and the option checks that the control tool and the
 * daemon share.  Nothing here opens a port. */

static const struct port_class *
must_find(const char *type)
{
    const struct port_class *class = port_class_find(type);

    ck_assert_msg(class != NULL, "no class '%s'", type);
    return class;
}

/* Checks 'n' options given as "key=value" strings against 'type'.  Returns
 * the verdict, with the reason in 'error' (emptied first). */
static bool
check_options(const char *type, const char *const *options, size_t n,
              char *error, size_t error_size)
{
    static struct fixture_options opts;

    fixture_split_options(&opts, options, n);
    error[0] = '\0';
    return port_class_check_options(must_find(type), opts.keys, opts.values,
                                    opts.n, error, error_size);
}

/* Asserts that the single option 'option' (with local_ip added for a vxlan
 * port, which needs it) is accepted or refused as 'want' says, and that a
 * refusal names the option's key. */
static void
assert_option(const char *type, const char *option, bool want)
{
    const char *options[2] = { option, "local_ip=172.31.250.1" };
    size_t n = strcmp(type, "vxlan") || !strncmp(option, "local_ip=", 9)
               ? 1 : 2;
    char error[256];
    size_t key_len = strcspn(option, "=");
    bool ok = check_options(type, options, n, error, sizeof error);

    ck_assert_msg(ok == want, "%s %s: %s (%s)", type, option,
                  ok ? "accepted" : "refused", error);
    if (!ok) {
        ck_assert_msg(!strncmp(error, option, key_len)
                      && error[key_len] == ':',
                      "error '%s' does not start with the key", error);
    }
}

START_TEST(test_finds_each_class_by_type)
{
    static const struct {
        const char *type;
        enum dp_port_kind kind;
    } cases[] = {
        { "tap", DP_PORT_LOCAL },
        { "system", DP_PORT_LOCAL },
        { "vxlan", DP_PORT_TUNNEL },
        { "pcap", DP_PORT_LOCAL },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct port_class *class = must_find(cases[i].type);

        ck_assert_str_eq(class->type, cases[i].type);
        ck_assert_int_eq(class->dp_kind, cases[i].kind);
        ck_assert_ptr_nonnull(class->open);
        ck_assert_ptr_nonnull(class->recv);
    }
}
END_TEST

START_TEST(test_finds_no_unknown_type)
{
    static const char *const unknown[] = {
        "", "bridge", "TAP", "tap ", "vxla", "vxlan0",
    };

    for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
        ck_assert_msg(port_class_find(unknown[i]) == NULL, "'%s' found",
                      unknown[i]);
    }
}
END_TEST

START_TEST(test_lists_classes_in_documented_order)
{
    static const char *const want[] = { "tap", "system", "vxlan", "pcap" };
    size_t n = 0;
    const struct port_class *const *classes = port_classes(&n);

    ck_assert_uint_eq(n, ARRAY_SIZE(want));
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(classes[i]->type, want[i]);
        ck_assert_ptr_eq(classes[i], port_class_find(want[i]));
    }
}
END_TEST

START_TEST(test_finds_options_of_a_class)
{
    const struct port_class *vxlan = must_find("vxlan");
    const struct port_option *o = port_class_option(vxlan, "dst_port");

    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->key, "dst_port");
    ck_assert_int_eq(o->kind, PORT_OPT_UINT);
    ck_assert(port_class_option(vxlan, "local_ip")->required);
    ck_assert_ptr_null(port_class_option(vxlan, "dst"));
    ck_assert_ptr_null(port_class_option(vxlan, "rx"));
    ck_assert_ptr_null(port_class_option(must_find("tap"), "dev"));
    ck_assert_ptr_nonnull(port_class_option(must_find("pcap"), "tx"));
}
END_TEST

START_TEST(test_checks_ip_options)
{
    assert_option("vxlan", "local_ip=172.31.250.1", true);
    assert_option("vxlan", "local_ip=fd00:250::1", true);
    assert_option("vxlan", "local_ip=172.31.250", false);
    assert_option("vxlan", "local_ip=host.example", false);
    assert_option("vxlan", "local_ip=", false);
    /* A VTEP's own address is one host's: what it sends from. */
    assert_option("vxlan", "local_ip=224.0.0.1", false);
    assert_option("vxlan", "local_ip=255.255.255.255", false);
    assert_option("vxlan", "local_ip=0.0.0.0", false);
    assert_option("vxlan", "local_ip=::", false);
    assert_option("vxlan", "local_ip=ff02::1", false);
    assert_option("vxlan", "local_ip=127.0.0.1", true);
}
END_TEST

START_TEST(test_checks_ifname_options)
{
    assert_option("vxlan", "dev=eth0", true);
    assert_option("vxlan", "dev=abcdefghijklmno", true);
    assert_option("vxlan", "dev=abcdefghijklmnop", false);
    assert_option("vxlan", "dev=", false);
    assert_option("vxlan", "dev=eth0:1", false);
}
END_TEST

/* Every UINT option of the vxlan class, at and beyond the bounds its table
 * row gives, so that a row and its check cannot drift apart. */
START_TEST(test_checks_uint_options_against_table_bounds)
{
    const struct port_class *vxlan = must_find("vxlan");
    size_t n_uint = 0;

    for (const struct port_option *o = vxlan->options; o->key; o++) {
        char option[64];

        if (o->kind != PORT_OPT_UINT) {
            continue;
        }
        n_uint++;
        ck_assert_uint_le(o->min, o->max);
        snprintf(option, sizeof option, "%s=%u", o->key, o->min);
        assert_option("vxlan", option, true);
        snprintf(option, sizeof option, "%s=%u", o->key, o->max);
        assert_option("vxlan", option, true);
        snprintf(option, sizeof option, "%s=%u", o->key, o->max + 1);
        assert_option("vxlan", option, false);
        if (o->min > 0) {
            snprintf(option, sizeof option, "%s=%u", o->key, o->min - 1);
            assert_option("vxlan", option, false);
        }
        snprintf(option, sizeof option, "%s=x", o->key);
        assert_option("vxlan", option, false);
    }
    /* dst_port, ttl, tos, mtu. */
    ck_assert_uint_eq(n_uint, 4);
}
END_TEST

START_TEST(test_checks_range_options)
{
    const struct port_option *o
        = port_class_option(must_find("vxlan"), "src_port_range");
    char option[64];

    ck_assert_int_eq(o->kind, PORT_OPT_RANGE);
    assert_option("vxlan", "src_port_range=49152-65535", true);
    assert_option("vxlan", "src_port_range=5000-5000", true);
    assert_option("vxlan", "src_port_range=5001-5000", false);
    assert_option("vxlan", "src_port_range=5000", false);
    snprintf(option, sizeof option, "src_port_range=%u-%u", o->min, o->max);
    assert_option("vxlan", option, true);
    snprintf(option, sizeof option, "src_port_range=%u-%u", o->min,
             o->max + 1);
    assert_option("vxlan", option, false);
    snprintf(option, sizeof option, "src_port_range=%u-%u", o->min - 1,
             o->max);
    assert_option("vxlan", option, false);
}
END_TEST

START_TEST(test_checks_bool_options)
{
    assert_option("vxlan", "df=true", true);
    assert_option("vxlan", "df=false", true);
    assert_option("vxlan", "udp_csum=true", true);
    assert_option("vxlan", "df=yes", false);
    assert_option("vxlan", "df=1", false);
    assert_option("vxlan", "df=TRUE", false);
    assert_option("vxlan", "df=", false);
}
END_TEST

START_TEST(test_checks_path_options)
{
    char option[PATH_MAX + 8];

    assert_option("pcap", "rx=/tmp/in.pcap", true);
    assert_option("pcap", "tx=out.pcap", true);
    assert_option("pcap", "rx=", false);
    /* Control characters would reach the log and terminals raw. */
    assert_option("pcap", "tx=a\nb.pcap", false);
    assert_option("pcap", "tx=\033[2Jx.pcap", false);
    assert_option("pcap", "rx=a\tb.pcap", false);
    assert_option("pcap", "rx=a\177b.pcap", false);
    assert_option("pcap", "tx=caf\xc3\xa9.pcap", true);
    {
        const char *options[] = { "tx=a\nb" };
        char error[256];

        ck_assert(!check_options("pcap", options, 1, error, sizeof error));
        ck_assert_msg(!strchr(error, '\n'), "error echoes it: %s", error);
    }

    /* The longest name the system takes, and one byte more. */
    strcpy(option, "rx=");
    memset(option + 3, 'a', PATH_MAX - 1);
    option[3 + PATH_MAX - 1] = '\0';
    assert_option("pcap", option, true);
    strcat(option, "a");
    assert_option("pcap", option, false);
}
END_TEST

START_TEST(test_refuses_unknown_option)
{
    static const char *const tap[] = { "dev=eth0" };
    static const char *const vxlan[] = { "local_ip=172.31.250.1",
                                         "remote_ip=172.31.250.2" };
    char error[256];

    ck_assert(!check_options("tap", tap, 1, error, sizeof error));
    ck_assert_str_eq(error, "a tap port has no option 'dev'");
    ck_assert(!check_options("vxlan", vxlan, 2, error, sizeof error));
    ck_assert_str_eq(error, "a vxlan port has no option 'remote_ip'");
}
END_TEST

START_TEST(test_refuses_duplicate_option)
{
    static const char *const same[] = { "local_ip=172.31.250.1", "ttl=5",
                                        "ttl=5" };
    static const char *const pcap[] = { "rx=a.pcap", "rx=b.pcap" };
    char error[256];

    ck_assert(!check_options("vxlan", same, 3, error, sizeof error));
    ck_assert_str_eq(error, "option 'ttl' given twice");
    ck_assert(!check_options("pcap", pcap, 2, error, sizeof error));
    ck_assert_str_eq(error, "option 'rx' given twice");
}
END_TEST

START_TEST(test_requires_local_ip_for_vxlan)
{
    static const char *const options[] = { "dst_port=4789", "ttl=5" };
    char error[256];

    ck_assert(!check_options("vxlan", options, 2, error, sizeof error));
    ck_assert_str_eq(error, "a vxlan port needs local_ip=...");
    ck_assert(!check_options("vxlan", options, 0, error, sizeof error));
    ck_assert_str_eq(error, "a vxlan port needs local_ip=...");
}
END_TEST

START_TEST(test_requires_rx_or_tx_for_pcap)
{
    static const char *const rx[] = { "rx=in.pcap" };
    static const char *const tx[] = { "tx=out.pcap" };
    static const char *const both[] = { "rx=in.pcap", "tx=out.pcap" };
    char error[256];

    ck_assert(!check_options("pcap", NULL, 0, error, sizeof error));
    ck_assert_str_eq(error, "a pcap port needs rx=FILE, tx=FILE or both");
    ck_assert(check_options("pcap", rx, 1, error, sizeof error));
    ck_assert(check_options("pcap", tx, 1, error, sizeof error));
    ck_assert(check_options("pcap", both, 2, error, sizeof error));
}
END_TEST

START_TEST(test_accepts_no_options_for_tap_and_system)
{
    char error[256];

    ck_assert(check_options("tap", NULL, 0, error, sizeof error));
    ck_assert(check_options("system", NULL, 0, error, sizeof error));
}
END_TEST

START_TEST(test_accepts_a_full_vxlan_configuration)
{
    static const char *const options[] = {
        "local_ip=fd00:250::1", "dev=eth1", "dst_port=8472", "ttl=0",
        "tos=184", "src_port_range=1024-2047", "df=true", "udp_csum=false",
        "mtu=9000",
    };
    char error[256];

    ck_assert_msg(check_options("vxlan", options, ARRAY_SIZE(options), error,
                                sizeof error), "%s", error);
}
END_TEST

START_TEST(test_says_what_a_bad_value_should_be)
{
    static const char *const low_mtu[] = { "local_ip=172.31.250.1",
                                        "mtu=100" };
    static const char *const ip[] = { "local_ip=300.1.1.1" };
    char error[256];

    ck_assert(!check_options("vxlan", low_mtu, 2, error, sizeof error));
    ck_assert_str_eq(error, "mtu: '100' is not a number within 576-65535");
    ck_assert(!check_options("vxlan", ip, 1, error, sizeof error));
    ck_assert_str_eq(error,
                     "local_ip: '300.1.1.1' is not a unicast IPv4 or IPv6 "
                     "address");
}
END_TEST

START_TEST(test_parses_uint_edge_cases)
{
    static const char *const bad[] = {
        "", "+1", "-1", " 1", "1 ", "\t1", "\n1", "0x10", "1e3", "1.0",
        "4294967296", "18446744073709551616", "99999999999999999999999",
    };
    unsigned int out = 77;

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ck_assert_msg(!port_option_parse_uint(bad[i], 0, UINT_MAX, &out),
                      "'%s' parsed", bad[i]);
        ck_assert_uint_eq(out, 77);
    }
    ck_assert(port_option_parse_uint("4294967295", 0, UINT_MAX, &out));
    ck_assert_uint_eq(out, UINT_MAX);
    ck_assert(port_option_parse_uint("0", 0, 10, &out));
    ck_assert_uint_eq(out, 0);
    ck_assert(port_option_parse_uint("010", 0, 10, &out));
    ck_assert_uint_eq(out, 10);
    ck_assert(!port_option_parse_uint("11", 0, 10, &out));
    ck_assert(!port_option_parse_uint("4", 5, 10, &out));
    ck_assert(port_option_parse_uint("5", 5, 5, &out));
    ck_assert_uint_eq(out, 5);
}
END_TEST

START_TEST(test_parses_range_edge_cases)
{
    static const char *const bad[] = {
        "", "-", "1-", "-1", "6-5", "1--2", "1-2-3", " 1-2", "1 -2", "1- 2",
        "1-2 ", "+1-2", "1-+2", "5", "0-5", "5-65536",
    };
    unsigned int lo = 77, hi = 77;

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ck_assert_msg(!port_option_parse_range(bad[i], 1, 65535, &lo, &hi),
                      "'%s' parsed", bad[i]);
    }
    ck_assert(port_option_parse_range("5-5", 1, 65535, &lo, &hi));
    ck_assert_uint_eq(lo, 5);
    ck_assert_uint_eq(hi, 5);
    ck_assert(port_option_parse_range("1-65535", 1, 65535, &lo, &hi));
    ck_assert_uint_eq(lo, 1);
    ck_assert_uint_eq(hi, 65535);
    ck_assert(port_option_parse_range("49152-50000", 1, 65535, &lo, &hi));
    ck_assert_uint_eq(lo, 49152);
    ck_assert_uint_eq(hi, 50000);
}
END_TEST

START_TEST(test_parses_bool_exactly)
{
    bool flag = false;

    ck_assert(port_option_parse_bool("true", &flag));
    ck_assert(flag);
    ck_assert(port_option_parse_bool("false", &flag));
    ck_assert(!flag);
    ck_assert(!port_option_parse_bool("", &flag));
    ck_assert(!port_option_parse_bool("true ", &flag));
    ck_assert(!port_option_parse_bool("True", &flag));
    ck_assert(!port_option_parse_bool("0", &flag));
}
END_TEST

/* The kernel's dev_valid_name() refuses every character for which its
 * isspace() holds, which includes \v, \f, \r and the Latin-1 no-break space
 * 0xa0; a name the check accepts must not fail at open time. */
START_TEST(test_checks_ifnames_as_the_kernel_does)
{
    static const char *const bad[] = {
        "", ".", "..", "abcdefghijklmnop", "a/b", "a:b", "a b", "a\tb",
        "a\nb", "a\vb", "a\fb", "a\rb", "a\240b", "/", ":",
    };
    static const char *const good[] = {
        "...", ".a", "a", "abcdefghijklmno", "eth0", "veth-a_1", "tap.100",
        "a\xc3\xa9",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ck_assert_msg(!port_option_is_ifname(bad[i]), "'%s' accepted",
                      bad[i]);
    }
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        ck_assert_msg(port_option_is_ifname(good[i]), "'%s' refused",
                      good[i]);
    }
}
END_TEST

START_TEST(test_gets_args_by_exact_key)
{
    static const char *const keys[] = { "local_ip", "ttl", "ttl" };
    static const char *const values[] = { "172.31.250.1", "5", "6" };
    struct port_args args = {
        .name = "vx", .owner = "test", .keys = keys, .values = values,
        .n_options = ARRAY_SIZE(keys),
    };
    struct port_args none = { .name = "vx", .owner = "test" };

    ck_assert_str_eq(port_args_get(&args, "local_ip"), "172.31.250.1");
    ck_assert_ptr_eq(port_args_get(&args, "local_ip"), values[0]);
    ck_assert_str_eq(port_args_get(&args, "ttl"), "5");
    ck_assert_ptr_null(port_args_get(&args, "local"));
    ck_assert_ptr_null(port_args_get(&args, "local_ip_"));
    ck_assert_ptr_null(port_args_get(&args, "tos"));
    ck_assert_ptr_null(port_args_get(&none, "ttl"));

    /* Only the first n_options count. */
    args.n_options = 1;
    ck_assert_ptr_null(port_args_get(&args, "ttl"));
}
END_TEST

/* The tunnel port's settings come from its class only; the operations a
 * type lacks answer for any port without the owner asking its type. */
START_TEST(test_answers_for_operations_a_type_lacks)
{
    size_t n;
    const struct port_class *const *classes = port_classes(&n);

    for (size_t i = 0; i < n; i++) {
        const struct port_class *class = classes[i];
        struct port port = { .class = class };
        struct dp_tunnel_config tc;
        struct in6_addr group;
        char error[128], want[128];

        ck_assert_int_eq(class->tunnel_config != NULL,
                         class->dp_kind == DP_PORT_TUNNEL);
        if (!class->tunnel_config) {
            ck_assert(!port_tunnel_config(&port, &tc));
        }
        if (!class->set_groups) {
            ck_assert(inet_parse("239.1.1.1", &group));
            ck_assert_int_eq(port_set_groups(&port, &group, 1), 0);
        }
        if (!class->replay) {
            snprintf(want, sizeof want, "a %s port has nothing to replay",
                     class->type);
            ck_assert_int_eq(port_replay(&port, error, sizeof error),
                             ENOENT);
            ck_assert_str_eq(error, want);
        }
    }
    ck_assert_ptr_nonnull(must_find("vxlan")->set_groups);
    ck_assert_ptr_null(must_find("tap")->set_groups);
    ck_assert_ptr_nonnull(must_find("pcap")->replay);
    ck_assert_ptr_null(must_find("system")->replay);
}
END_TEST

/* What show prints for each offload. */
START_TEST(test_names_each_offload)
{
    static const struct {
        uint32_t flag;
        const char *name;
    } cases[] = {
        { PORT_OFFLOAD_CSUM, "csum" },
        { PORT_OFFLOAD_TSO4, "tso4" },
        { PORT_OFFLOAD_TSO6, "tso6" },
        { PORT_OFFLOAD_USO, "uso" },
        { PORT_OFFLOAD_TUNNEL_GSO, "tunnel_gso" },
    };
    uint32_t all = 0;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        ck_assert_str_eq(port_offload_name(cases[i].flag), cases[i].name);
        all |= cases[i].flag;
    }
    ck_assert_uint_eq(all, PORT_OFFLOAD_ALL);
    ck_assert_ptr_null(port_offload_name(0));
    ck_assert_ptr_null(port_offload_name(PORT_OFFLOAD_TSO4
                                         | PORT_OFFLOAD_TSO6));
    ck_assert_ptr_null(port_offload_name(PORT_OFFLOAD_ALL + 1));
}
END_TEST

static Suite *
port_suite(void)
{
    Suite *s = suite_create("port");

    fixture_add_case(s, "finds each class by type",
                     test_finds_each_class_by_type, NULL, NULL);
    fixture_add_case(s, "finds no unknown type", test_finds_no_unknown_type,
                     NULL, NULL);
    fixture_add_case(s, "answers for operations a type lacks",
                     test_answers_for_operations_a_type_lacks, NULL, NULL);
    fixture_add_case(s, "names each offload", test_names_each_offload,
                     NULL, NULL);
    fixture_add_case(s, "lists classes in documented order",
                     test_lists_classes_in_documented_order, NULL, NULL);
    fixture_add_case(s, "finds options of a class",
                     test_finds_options_of_a_class, NULL, NULL);
    fixture_add_case(s, "checks IP options", test_checks_ip_options, NULL,
                     NULL);
    fixture_add_case(s, "checks ifname options", test_checks_ifname_options,
                     NULL, NULL);
    fixture_add_case(s, "checks uint options against table bounds",
                     test_checks_uint_options_against_table_bounds, NULL,
                     NULL);
    fixture_add_case(s, "checks range options", test_checks_range_options,
                     NULL, NULL);
    fixture_add_case(s, "checks bool options", test_checks_bool_options,
                     NULL, NULL);
    fixture_add_case(s, "checks path options", test_checks_path_options,
                     NULL, NULL);
    fixture_add_case(s, "refuses unknown option",
                     test_refuses_unknown_option, NULL, NULL);
    fixture_add_case(s, "refuses duplicate option",
                     test_refuses_duplicate_option, NULL, NULL);
    fixture_add_case(s, "requires local_ip for vxlan",
                     test_requires_local_ip_for_vxlan, NULL, NULL);
    fixture_add_case(s, "requires rx or tx for pcap",
                     test_requires_rx_or_tx_for_pcap, NULL, NULL);
    fixture_add_case(s, "accepts no options for tap and system",
                     test_accepts_no_options_for_tap_and_system, NULL, NULL);
    fixture_add_case(s, "accepts a full vxlan configuration",
                     test_accepts_a_full_vxlan_configuration, NULL, NULL);
    fixture_add_case(s, "says what a bad value should be",
                     test_says_what_a_bad_value_should_be, NULL, NULL);
    fixture_add_case(s, "parses uint edge cases",
                     test_parses_uint_edge_cases, NULL, NULL);
    fixture_add_case(s, "parses range edge cases",
                     test_parses_range_edge_cases, NULL, NULL);
    fixture_add_case(s, "parses bool exactly", test_parses_bool_exactly,
                     NULL, NULL);
    fixture_add_case(s, "checks ifnames as the kernel does",
                     test_checks_ifnames_as_the_kernel_does, NULL, NULL);
    fixture_add_case(s, "gets args by exact key",
                     test_gets_args_by_exact_key, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(port_suite());
}
