#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "inet.h"
#include "port.h"
#include "request.h"
#include "util.h"

/* Requests are built on the stack from these, with string literals for
 * every field: request_check() only reads them. */

#define MAX_OPTIONS 8

struct port_request {
    Vswitch__Request req;
    Vswitch__PortConfig port;
    Vswitch__SetPort set;
    Vswitch__Option opts[MAX_OPTIONS];
    Vswitch__Option *optp[MAX_OPTIONS];
};

struct vni_request {
    Vswitch__Request req;
    Vswitch__VniConfig vni;
    char *flood[300];
    char flood_buf[300][INET_ADDR_STRLEN];
};

struct small_request {
    Vswitch__Request req;
    Vswitch__PortName port_name;
    Vswitch__VniRef vni_ref;
    Vswitch__VniFilter vni_filter;
    Vswitch__PortFilter port_filter;
    Vswitch__BindVni bind;
    Vswitch__FdbAdd fdb_add;
    Vswitch__FdbDel fdb_del;
    Vswitch__Empty empty;
};

static void
request_init(Vswitch__Request *req)
{
    vswitch__request__init(req);
    req->protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
}

/* Fills 'p' with an add-port request for 'name' of 'type' with options
 * from 'kv', pairs of key and value ended by a null key. */
static Vswitch__Request *
add_port(struct port_request *p, const char *name, const char *type,
         const char *const *kv)
{
    request_init(&p->req);
    vswitch__port_config__init(&p->port);
    p->port.name = (char *) name;
    p->port.type = (char *) type;
    for (size_t i = 0; kv && kv[2 * i]; i++) {
        ck_assert_uint_lt(i, MAX_OPTIONS);
        vswitch__option__init(&p->opts[i]);
        p->opts[i].key = (char *) kv[2 * i];
        p->opts[i].value = (char *) kv[2 * i + 1];
        p->optp[i] = &p->opts[i];
        p->port.n_options = i + 1;
    }
    p->port.options = p->optp;
    p->req.command_case = VSWITCH__REQUEST__COMMAND_ADD_PORT;
    p->req.add_port = &p->port;
    return &p->req;
}

static Vswitch__Request *
set_port(struct port_request *p, const char *name, const char *const *kv)
{
    add_port(p, name, "tap", kv);
    vswitch__set_port__init(&p->set);
    p->set.name = (char *) name;
    p->set.n_options = p->port.n_options;
    p->set.options = p->optp;
    p->req.command_case = VSWITCH__REQUEST__COMMAND_SET_PORT;
    p->req.set_port = &p->set;
    return &p->req;
}

/* Fills 'v' with an add-vni request (or set-vni if 'set') for 'vni'
 * flooding to the 'n_flood' addresses of 'flood'. */
static Vswitch__Request *
vni_request(struct vni_request *v, bool set, uint32_t vni,
            const char *group, const char *const *flood, size_t n_flood)
{
    request_init(&v->req);
    vswitch__vni_config__init(&v->vni);
    v->vni.vni = vni;
    v->vni.group = (char *) group;
    for (size_t i = 0; i < n_flood; i++) {
        v->flood[i] = (char *) flood[i];
    }
    v->vni.n_flood = n_flood;
    v->vni.flood = v->flood;
    if (set) {
        v->req.command_case = VSWITCH__REQUEST__COMMAND_SET_VNI;
        v->req.set_vni = &v->vni;
    } else {
        v->req.command_case = VSWITCH__REQUEST__COMMAND_ADD_VNI;
        v->req.add_vni = &v->vni;
    }
    return &v->req;
}

static Vswitch__Request *
fdb_add(struct small_request *s, uint32_t vni, const char *mac,
        const char *port, const char *remote)
{
    request_init(&s->req);
    vswitch__fdb_add__init(&s->fdb_add);
    s->fdb_add.vni = vni;
    s->fdb_add.mac = (char *) mac;
    s->fdb_add.port = (char *) port;
    s->fdb_add.remote = (char *) remote;
    s->req.command_case = VSWITCH__REQUEST__COMMAND_FDB_ADD;
    s->req.fdb_add = &s->fdb_add;
    return &s->req;
}

static Vswitch__Request *
fdb_del(struct small_request *s, uint32_t vni, const char *mac)
{
    request_init(&s->req);
    vswitch__fdb_del__init(&s->fdb_del);
    s->fdb_del.vni = vni;
    s->fdb_del.mac = (char *) mac;
    s->req.command_case = VSWITCH__REQUEST__COMMAND_FDB_DEL;
    s->req.fdb_del = &s->fdb_del;
    return &s->req;
}

/* Fills 's' with a request of 'command' that names port 'name' and VNI
 * 'vni' wherever the command takes them. */
static Vswitch__Request *
simple(struct small_request *s, Vswitch__Request__CommandCase command,
       const char *name, uint32_t vni)
{
    request_init(&s->req);
    vswitch__port_name__init(&s->port_name);
    vswitch__vni_ref__init(&s->vni_ref);
    vswitch__vni_filter__init(&s->vni_filter);
    vswitch__port_filter__init(&s->port_filter);
    vswitch__bind_vni__init(&s->bind);
    vswitch__empty__init(&s->empty);
    s->port_name.name = (char *) name;
    s->vni_ref.vni = vni;
    s->vni_filter.has_vni = true;
    s->vni_filter.vni = vni;
    s->port_filter.name = (char *) name;
    s->bind.port = (char *) name;
    s->bind.vni = vni;
    s->req.command_case = command;
    switch (command) {
    case VSWITCH__REQUEST__COMMAND_DEL_PORT:
        s->req.del_port = &s->port_name;
        break;
    case VSWITCH__REQUEST__COMMAND_UNBIND_VNI:
        s->req.unbind_vni = &s->port_name;
        break;
    case VSWITCH__REQUEST__COMMAND_DEL_VNI:
        s->req.del_vni = &s->vni_ref;
        break;
    case VSWITCH__REQUEST__COMMAND_FDB_SHOW:
        s->req.fdb_show = &s->vni_filter;
        break;
    case VSWITCH__REQUEST__COMMAND_FDB_FLUSH:
        s->req.fdb_flush = &s->vni_filter;
        break;
    case VSWITCH__REQUEST__COMMAND_STATS:
        s->req.stats = &s->port_filter;
        break;
    case VSWITCH__REQUEST__COMMAND_BIND_VNI:
        s->req.bind_vni = &s->bind;
        break;
    case VSWITCH__REQUEST__COMMAND__NOT_SET:
        break;
    default:
        /* Every other command carries an Empty. */
        s->req.ping = &s->empty;
        break;
    }
    return &s->req;
}

static void
expect_ok(const Vswitch__Request *req, const char *what)
{
    char error[REQUEST_ERROR_SIZE] = "";

    ck_assert_msg(request_check(req, error, sizeof error),
                  "%s: refused: %s", what, error);
}

/* Checks that 'req' is refused with a message that contains 'needle'. */
static void
expect_error(const Vswitch__Request *req, const char *what,
             const char *needle)
{
    char error[REQUEST_ERROR_SIZE] = "";

    ck_assert_msg(!request_check(req, error, sizeof error),
                  "%s: accepted", what);
    ck_assert_msg(strstr(error, needle), "%s: error '%s' does not say '%s'",
                  what, error, needle);
}

/* Checks that 'req' passes if 'vni' is in range and is refused with a
 * message naming 'vni' if not. */
static void
expect_vni(const Vswitch__Request *req, uint32_t vni)
{
    char what[64], needle[64];

    snprintf(what, sizeof what, "command %d with VNI %u", req->command_case,
             vni);
    snprintf(needle, sizeof needle, "VNI %u is out of range", vni);
    if (vni >= 1 && vni <= 16777215) {
        expect_ok(req, what);
    } else {
        expect_error(req, what, needle);
    }
}

START_TEST(test_checks_the_vni_range_in_every_command)
{
    static const Vswitch__Request__CommandCase commands[] = {
        VSWITCH__REQUEST__COMMAND_DEL_VNI,
        VSWITCH__REQUEST__COMMAND_FDB_SHOW,
        VSWITCH__REQUEST__COMMAND_FDB_FLUSH,
        VSWITCH__REQUEST__COMMAND_BIND_VNI,
    };
    static const uint32_t vnis[] = { 0, 1, 16777215, 16777216, UINT32_MAX };

    for (size_t v = 0; v < ARRAY_SIZE(vnis); v++) {
        uint32_t vni = vnis[v];
        struct small_request s;
        struct vni_request vr;
        struct port_request p;

        for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
            expect_vni(simple(&s, commands[c], "tap0", vni), vni);
        }
        expect_vni(vni_request(&vr, false, vni, NULL, NULL, 0), vni);
        expect_vni(vni_request(&vr, true, vni, "239.1.1.1", NULL, 0), vni);
        expect_vni(fdb_add(&s, vni, "02:00:00:00:00:01", "tap0", NULL), vni);
        expect_vni(fdb_del(&s, vni, "02:00:00:00:00:01"), vni);
        add_port(&p, "tap0", "tap", NULL);
        p.port.has_vni = true;
        p.port.vni = vni;
        expect_vni(&p.req, vni);
    }
}
END_TEST

START_TEST(test_parses_vnis_in_decimal)
{
    static const char *const bad[] = {
        "0", "16777216", "", "-1", "+5", " 5", "5 ", "5x", "0x10",
        "99999999999999999999",
    };
    uint32_t vni = 0;

    ck_assert(request_parse_vni("1", &vni));
    ck_assert_uint_eq(vni, 1);
    ck_assert(request_parse_vni("16777215", &vni));
    ck_assert_uint_eq(vni, 16777215);
    ck_assert(request_parse_vni("5000", &vni));
    ck_assert_uint_eq(vni, 5000);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        vni = 42;
        ck_assert_msg(!request_parse_vni(bad[i], &vni), "'%s' parsed",
                      bad[i]);
        ck_assert_uint_eq(vni, 42);
    }
}
END_TEST

START_TEST(test_checks_mac_addresses)
{
    static const char *const bad_syntax[] = {
        "02:00:00:00:00", "02:00:00:00:00:0g", "0200.0000.0001",
        "02:00:00:00:00:01:02", "", "02-00-00-00-00-01",
    };
    static const char *const not_unicast[] = {
        "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "33:33:00:00:00:01",
        "00:00:00:00:00:00",
    };
    struct small_request s;

    for (size_t i = 0; i < ARRAY_SIZE(bad_syntax); i++) {
        expect_error(fdb_add(&s, 5000, bad_syntax[i], "tap0", NULL),
                     bad_syntax[i], "not a MAC address");
        expect_error(fdb_add(&s, 5000, bad_syntax[i], "tap0", NULL),
                     bad_syntax[i], bad_syntax[i]);
        expect_error(fdb_del(&s, 5000, bad_syntax[i]), bad_syntax[i],
                     "not a MAC address");
    }
    for (size_t i = 0; i < ARRAY_SIZE(not_unicast); i++) {
        char needle[64];

        snprintf(needle, sizeof needle, "%s is not a unicast",
                 not_unicast[i]);
        expect_error(fdb_add(&s, 5000, not_unicast[i], "tap0", NULL),
                     not_unicast[i], needle);
    }
    expect_ok(fdb_add(&s, 5000, "02:AA:BB:CC:DD:EE", "tap0", NULL),
              "upper case");
    expect_ok(fdb_add(&s, 5000, "02:aa:Bb:cC:dd:ee", "tap0", NULL),
              "mixed case");
    expect_ok(fdb_del(&s, 5000, "02:AA:BB:CC:DD:EE"), "upper case");
}
END_TEST

START_TEST(test_wants_a_multicast_group)
{
    struct vni_request v;

    expect_ok(vni_request(&v, false, 5000, "239.1.1.1", NULL, 0), "IPv4");
    expect_ok(vni_request(&v, false, 5000, "ff0e::1", NULL, 0), "IPv6");
    expect_ok(vni_request(&v, true, 5000, "239.1.1.1", NULL, 0), "set");

    /* An empty group means no group. */
    expect_ok(vni_request(&v, false, 5000, "", NULL, 0), "empty");
    expect_error(vni_request(&v, false, 5000, "172.31.0.2", NULL, 0),
                 "unicast", "group: 172.31.0.2 is not a multicast");
    expect_error(vni_request(&v, true, 5000, "fd00::1", NULL, 0),
                 "unicast IPv6", "fd00::1 is not a multicast");
    expect_error(vni_request(&v, false, 5000, "0.0.0.0", NULL, 0),
                 "unspecified", "0.0.0.0");
    expect_error(vni_request(&v, false, 5000, "239.1.1", NULL, 0),
                 "bad syntax", "'239.1.1' is not an IPv4 or IPv6");
}
END_TEST

START_TEST(test_wants_unicast_flood_addresses)
{
    static const char *const good[] = { "172.31.0.2", "fd00::2",
                                        "172.31.0.3" };
    struct vni_request v;

    expect_ok(vni_request(&v, false, 5000, NULL, good, ARRAY_SIZE(good)),
              "unicast");
    expect_ok(vni_request(&v, true, 5000, NULL, good, ARRAY_SIZE(good)),
              "set");

    static const char *const bad[] = {
        "239.1.1.1", "ff02::1", "0.0.0.0", "::", "172.31.0",
    };

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        const char *list[] = { "172.31.0.2", bad[i] };

        expect_error(vni_request(&v, false, 5000, NULL, list, 2), bad[i],
                     bad[i]);
        expect_error(vni_request(&v, false, 5000, NULL, list, 2), bad[i],
                     "flood: ");
    }
}
END_TEST

START_TEST(test_refuses_a_flood_address_given_twice)
{
    static const char *const twice[][3] = {
        { "10.0.0.1", "10.0.0.2", "10.0.0.1" },
        { "10.0.0.1", "10.0.0.2", "::ffff:10.0.0.1" },
        { "fd00::1", "10.0.0.2", "fd00:0:0::1" },
    };
    struct vni_request v;

    for (size_t i = 0; i < ARRAY_SIZE(twice); i++) {
        char needle[64];

        snprintf(needle, sizeof needle, "%s given twice", twice[i][2]);
        expect_error(vni_request(&v, false, 5000, NULL, twice[i], 3),
                     twice[i][2], needle);
        expect_error(vni_request(&v, true, 5000, NULL, twice[i], 3),
                     twice[i][2], needle);
    }
}
END_TEST

START_TEST(test_refuses_group_and_flood_together)
{
    static const char *const flood[] = { "172.31.0.2" };
    struct vni_request v;

    expect_error(vni_request(&v, false, 5000, "239.1.1.1", flood, 1),
                 "add-vni", "not both");
    expect_error(vni_request(&v, true, 5000, "239.1.1.1", flood, 1),
                 "set-vni", "not both");
}
END_TEST

START_TEST(test_limits_the_flood_list_to_256)
{
    struct vni_request *v = malloc(sizeof *v);
    const char *list[257];

    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < ARRAY_SIZE(list); i++) {
        snprintf(v->flood_buf[i], sizeof v->flood_buf[i], "10.0.%zu.%zu",
                 i / 200, i % 200 + 1);
        list[i] = v->flood_buf[i];
    }
    expect_ok(vni_request(v, false, 5000, NULL, list, 256), "256");
    expect_error(vni_request(v, false, 5000, NULL, list, 257), "257",
                 "at most 256");
    expect_error(vni_request(v, true, 5000, NULL, list, 257), "257",
                 "at most 256");
    free(v);
}
END_TEST

START_TEST(test_checks_the_ageing_time)
{
    static const struct {
        uint32_t ageing;
        bool ok;
    } cases[] = {
        { 0, false }, { 1, true }, { 300, true }, { 1000000, true },
        { 1000001, false },
    };
    struct vni_request v;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char number[16];

        snprintf(number, sizeof number, "%u", cases[i].ageing);
        vni_request(&v, true, 5000, NULL, NULL, 0);
        v.vni.has_ageing = true;
        v.vni.ageing = cases[i].ageing;
        if (cases[i].ok) {
            expect_ok(&v.req, number);
        } else {
            expect_error(&v.req, number, number);
        }
    }
}
END_TEST

START_TEST(test_checks_the_learning_options)
{
    static const struct {
        const char *prefix;
        bool ok;
    } cases[] = {
        { "172.31.0.0/16", true }, { "10.0.0.1/32", true },
        { "0.0.0.0/0", true }, { "fd00::/8", true }, { "", true },
        { "172.31.0.1/16", false }, { "172.31.0.0/33", false },
        { "172.31.0.0", false }, { "172.31.0.0/", false },
        { "172.31.0.0/-1", false }, { "172.31.0.0/16x", false },
        { "fd00::/129", false }, { "bogus/8", false },
    };
    const char *flood[] = { "172.31.0.2" };
    struct vni_request v;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        vni_request(&v, i % 2, 5000, NULL, NULL, 0);
        v.vni.learn_prefix = (char *) cases[i].prefix;
        if (cases[i].ok) {
            expect_ok(&v.req, cases[i].prefix);
        } else {
            expect_error(&v.req, cases[i].prefix, "is not a prefix");
        }
    }

    vni_request(&v, false, 5000, NULL, flood, 1);
    v.vni.has_learn = true;
    v.vni.learn = VSWITCH__LEARN__LEARN_LIST;
    expect_ok(&v.req, "learn=list with flood=");
    vni_request(&v, true, 5000, "239.1.1.1", NULL, 0);
    v.vni.has_learn = true;
    v.vni.learn = VSWITCH__LEARN__LEARN_LIST;
    expect_error(&v.req, "learn=list with group=", "has none");
    v.vni.learn = 7;
    expect_error(&v.req, "learn=7", "unknown mode");
}
END_TEST

static void
expect_port_name(const Vswitch__Request *req, const char *name, bool ok)
{
    char what[64], needle[64];

    snprintf(what, sizeof what, "command %d with port '%s'",
             req->command_case, name);
    snprintf(needle, sizeof needle, "'%s' is not a valid port name", name);
    if (ok) {
        expect_ok(req, what);
    } else {
        expect_error(req, what, needle);
    }
}

START_TEST(test_checks_port_names)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        { "", false },
        { "a", true },
        { "tap0", true },
        { "abcdefghijklmno", true },        /* 15 characters. */
        { "abcdefghijklmnop", false },      /* 16. */
        { "a/b", false },
        { "a b", false },
        { "a:b", false },
        { "a\tb", false },
        { ".", false },
        { "..", false },
    };
    static const Vswitch__Request__CommandCase commands[] = {
        VSWITCH__REQUEST__COMMAND_DEL_PORT,
        VSWITCH__REQUEST__COMMAND_UNBIND_VNI,
        VSWITCH__REQUEST__COMMAND_BIND_VNI,
        VSWITCH__REQUEST__COMMAND_STATS,
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        static const char *const ttl[] = { "ttl", "1", NULL };
        const char *name = cases[i].name;
        struct port_request p;
        struct small_request s;

        for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
            expect_port_name(simple(&s, commands[c], name, 5000), name,
                             cases[i].ok);
        }
        expect_port_name(add_port(&p, name, "tap", NULL), name,
                         cases[i].ok);
        expect_port_name(set_port(&p, name, ttl), name, cases[i].ok);
        expect_port_name(fdb_add(&s, 5000, "02:00:00:00:00:01", name, NULL),
                         name, cases[i].ok);
    }
}
END_TEST

START_TEST(test_refuses_an_unknown_port_type)
{
    struct port_request p;

    expect_ok(add_port(&p, "tap0", "tap", NULL), "tap");
    expect_ok(add_port(&p, "eth1", "system", NULL), "system");
    expect_error(add_port(&p, "tun0", "tun", NULL), "tun",
                 "unknown port type 'tun'");
    expect_error(add_port(&p, "tap0", "TAP", NULL), "TAP",
                 "unknown port type 'TAP'");
    expect_error(add_port(&p, "tap0", "", NULL), "empty",
                 "unknown port type ''");
}
END_TEST

START_TEST(test_checks_vxlan_options)
{
    static const char *const good[][MAX_OPTIONS * 2 + 1] = {
        { "local_ip", "172.31.0.1", NULL },
        { "local_ip", "fd00::1", NULL },
        { "dev", "eth0", "local_ip", "172.31.0.1", "dst_port", "8472",
          "ttl", "0", "tos", "255", "src_port_range", "1-65535",
          "df", "true", "udp_csum", "false", NULL },
        { "local_ip", "172.31.0.1", "dst_port", "1", "src_port_range",
          "5-5", NULL },
    };
    static const struct {
        const char *kv[7];
        const char *needle;
    } bad[] = {
        { { NULL }, "needs local_ip=" },
        { { "dst_port", "4789", NULL }, "needs local_ip=" },
        { { "local_ip", "172.31.0", NULL }, "local_ip: '172.31.0'" },
        { { "local_ip", "172.31.0.1", "dst_port", "0", NULL },
          "dst_port: '0'" },
        { { "local_ip", "172.31.0.1", "dst_port", "65536", NULL },
          "dst_port: '65536'" },
        { { "local_ip", "172.31.0.1", "src_port_range", "10-5", NULL },
          "src_port_range: '10-5'" },
        { { "local_ip", "172.31.0.1", "src_port_range", "1-2-3", NULL },
          "src_port_range: '1-2-3'" },
        { { "local_ip", "172.31.0.1", "src_port_range", "0-5", NULL },
          "src_port_range: '0-5'" },
        { { "local_ip", "172.31.0.1", "df", "yes", NULL }, "df: 'yes'" },
        { { "local_ip", "172.31.0.1", "ttl", "256", NULL }, "ttl: '256'" },
        { { "local_ip", "172.31.0.1", "mtu", "", NULL }, "mtu: ''" },
        { { "local_ip", "172.31.0.1", "dev", "a/b", NULL }, "dev: 'a/b'" },
        { { "local_ip", "172.31.0.1", "colour", "blue", NULL },
          "no option 'colour'" },
        { { "local_ip", "172.31.0.1", "local_ip", "172.31.0.2", NULL },
          "'local_ip' given twice" },
    };
    struct port_request p;

    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        char what[32];

        snprintf(what, sizeof what, "good set %zu", i);
        expect_ok(add_port(&p, "vtep0", "vxlan", good[i]), what);
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_error(add_port(&p, "vtep0", "vxlan", bad[i].kv),
                     bad[i].needle, bad[i].needle);
    }
}
END_TEST

START_TEST(test_checks_the_bounds_of_numeric_vxlan_options)
{
    /* The bounds come from the port class, the one place that sets
     * them. */
    const struct port_class *vxlan = port_class_find("vxlan");

    ck_assert_ptr_nonnull(vxlan);
    for (const struct port_option *o = vxlan->options; o->key; o++) {
        if (o->kind != PORT_OPT_UINT) {
            continue;
        }

        const unsigned long long values[] = {
            o->min, o->max, (unsigned long long) o->min - 1,
            (unsigned long long) o->max + 1,
        };

        for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
            char value[32], needle[64];
            const char *kv[] = { "local_ip", "172.31.0.1", o->key, value,
                                 NULL };
            struct port_request p;

            if (i == 2 && o->min == 0) {
                continue;
            }
            snprintf(value, sizeof value, "%llu", values[i]);
            snprintf(needle, sizeof needle, "%s: '%s'", o->key, value);
            if (i < 2) {
                expect_ok(add_port(&p, "vtep0", "vxlan", kv), needle);
            } else {
                expect_error(add_port(&p, "vtep0", "vxlan", kv), needle,
                             needle);
            }
        }
    }
}
END_TEST

START_TEST(test_checks_pcap_options)
{
    static const char *const rx[] = { "rx", "/tmp/in.pcap", NULL };
    static const char *const tx[] = { "tx", "/tmp/out.pcap", NULL };
    static const char *const both[] = { "rx", "/tmp/in.pcap",
                                        "tx", "/tmp/out.pcap", NULL };
    static const char *const empty[] = { "rx", "", NULL };
    static const char *const other[] = { "rx", "/tmp/in.pcap",
                                         "local_ip", "172.31.0.1", NULL };
    struct port_request p;

    expect_ok(add_port(&p, "cap0", "pcap", rx), "rx");
    expect_ok(add_port(&p, "cap0", "pcap", tx), "tx");
    expect_ok(add_port(&p, "cap0", "pcap", both), "both");
    expect_error(add_port(&p, "cap0", "pcap", NULL), "none",
                 "needs rx=FILE, tx=FILE or both");
    expect_error(add_port(&p, "cap0", "pcap", empty), "empty rx",
                 "rx: '' is not a file name");
    expect_error(add_port(&p, "cap0", "pcap", other), "local_ip",
                 "a pcap port has no option 'local_ip'");
}
END_TEST

START_TEST(test_local_ports_take_no_options)
{
    static const char *const ttl[] = { "ttl", "1", NULL };
    struct port_request p;

    expect_error(add_port(&p, "tap0", "tap", ttl), "tap",
                 "a tap port has no option 'ttl'");
    expect_error(add_port(&p, "eth1", "system", ttl), "system",
                 "a system port has no option 'ttl'");
}
END_TEST

START_TEST(test_binds_only_local_ports_to_a_vni)
{
    static const char *const local[] = { "local_ip", "172.31.0.1", NULL };
    static const char *const rx[] = { "rx", "/tmp/in.pcap", NULL };
    struct port_request p;

    add_port(&p, "vtep0", "vxlan", local);
    p.port.has_vni = true;
    p.port.vni = 5000;
    expect_error(&p.req, "vxlan", "a vxlan port cannot be bound to a VNI");

    add_port(&p, "tap0", "tap", NULL);
    p.port.has_vni = true;
    p.port.vni = 5000;
    expect_ok(&p.req, "tap");

    add_port(&p, "cap0", "pcap", rx);
    p.port.has_vni = true;
    p.port.vni = 5000;
    expect_ok(&p.req, "pcap");
}
END_TEST

START_TEST(test_set_port_needs_an_option)
{
    static const char *const ttl[] = { "ttl", "1", NULL };
    struct port_request p;

    expect_error(set_port(&p, "vtep0", NULL), "none", "at least one");
    expect_ok(set_port(&p, "vtep0", ttl), "ttl");
}
END_TEST

START_TEST(test_fdb_add_needs_a_port_or_a_remote)
{
    struct small_request s;
    const char *mac = "02:00:00:00:00:01";

    expect_ok(fdb_add(&s, 5000, mac, "tap0", NULL), "port");
    expect_ok(fdb_add(&s, 5000, mac, NULL, "172.31.0.2"), "remote");
    expect_ok(fdb_add(&s, 5000, mac, NULL, "fd00::2"), "IPv6 remote");
    expect_error(fdb_add(&s, 5000, mac, "tap0", "172.31.0.2"), "both",
                 "give a port or remote=IP");
    expect_error(fdb_add(&s, 5000, mac, NULL, NULL), "neither",
                 "give a port or remote=IP");
    expect_error(fdb_add(&s, 5000, mac, NULL, "239.1.1.1"), "multicast",
                 "remote: 239.1.1.1 is not a unicast");
    expect_error(fdb_add(&s, 5000, mac, NULL, "0.0.0.0"), "unspecified",
                 "remote: 0.0.0.0");
    expect_error(fdb_add(&s, 5000, mac, NULL, "172.31.0"), "syntax",
                 "remote: '172.31.0'");
}
END_TEST

/* The datapath refuses the limited broadcast address as a VTEP: refused
 * when it came, the command names the address, not the VNI. */
START_TEST(test_refuses_the_broadcast_address_as_an_evpn_vtep)
{
    Vswitch__EvpnMac mac = VSWITCH__EVPN_MAC__INIT;
    Vswitch__EvpnVtep vtep = VSWITCH__EVPN_VTEP__INIT;
    Vswitch__Request add_mac, add_vtep;
    const Vswitch__Request *reqs[] = { &add_mac, &add_vtep };
    char **remotes[] = { &mac.remote, &vtep.remote };

    request_init(&add_mac);
    mac.vni = 5000;
    mac.mac = "02:00:00:00:00:01";
    add_mac.command_case = VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD;
    add_mac.evpn_mac_add = &mac;
    request_init(&add_vtep);
    vtep.vni = 5000;
    add_vtep.command_case = VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD;
    add_vtep.evpn_vtep_add = &vtep;
    for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
        *remotes[i] = "172.31.0.2";
        expect_ok(reqs[i], "a unicast VTEP");
        *remotes[i] = "255.255.255.255";
        expect_error(reqs[i], "the broadcast address",
                     "remote: 255.255.255.255 is not a unicast");
    }
}
END_TEST

START_TEST(test_refuses_a_request_without_a_command)
{
    struct small_request s;

    expect_error(simple(&s, VSWITCH__REQUEST__COMMAND__NOT_SET, "tap0", 1),
                 "no command", "request names no command");
}
END_TEST

START_TEST(test_checks_each_command_of_a_batch)
{
    Vswitch__Request req = VSWITCH__REQUEST__INIT;
    Vswitch__Batch batch = VSWITCH__BATCH__INIT;
    Vswitch__BatchCommand c[2], *cp[2] = { &c[0], &c[1] };
    Vswitch__VniRef good = VSWITCH__VNI_REF__INIT, bad = good;
    uint32_t lines[] = { 4, 9 };
    char error[REQUEST_ERROR_SIZE] = "";

    good.vni = 5000;
    bad.vni = 0;
    for (size_t i = 0; i < 2; i++) {
        vswitch__batch_command__init(&c[i]);
        c[i].command_case = VSWITCH__BATCH_COMMAND__COMMAND_DEL_VNI;
        c[i].del_vni = &good;
    }
    req.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    req.command_case = VSWITCH__REQUEST__COMMAND_BATCH;
    req.batch = &batch;
    expect_error(&req, "empty batch", "the batch holds no command");
    batch.commands = cp;
    batch.n_commands = 2;
    ck_assert_msg(request_check(&req, error, sizeof error), "%s", error);

    c[1].del_vni = &bad;
    expect_error(&req, "bad VNI", "line 2: ");
    batch.lines = lines;
    batch.n_lines = 2;
    expect_error(&req, "bad VNI", "line 9: ");
    batch.unit = "command";
    expect_error(&req, "bad VNI", "command 9: ");
    batch.n_lines = 1;
    expect_error(&req, "lines", "1 line numbers for 2 commands");
    batch.n_lines = 2;
    c[1].command_case = VSWITCH__BATCH_COMMAND__COMMAND__NOT_SET;
    expect_error(&req, "no command", "command 9: names no command");
}
END_TEST

START_TEST(test_accepts_commands_without_arguments)
{
    static const Vswitch__Request__CommandCase commands[] = {
        VSWITCH__REQUEST__COMMAND_PING,
        VSWITCH__REQUEST__COMMAND_VERSION,
        VSWITCH__REQUEST__COMMAND_SHOW,
        VSWITCH__REQUEST__COMMAND_LIST_PORTS,
        VSWITCH__REQUEST__COMMAND_LIST_VNIS,
        VSWITCH__REQUEST__COMMAND_FDB_STATS,
    };
    struct small_request s;

    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        expect_ok(simple(&s, commands[i], "tap0", 1), "no arguments");
    }

    /* Filters are optional. */
    simple(&s, VSWITCH__REQUEST__COMMAND_STATS, NULL, 1);
    expect_ok(&s.req, "stats of every port");
    simple(&s, VSWITCH__REQUEST__COMMAND_FDB_SHOW, NULL, 0);
    s.vni_filter.has_vni = false;
    expect_ok(&s.req, "fdb-show of every VNI");
    simple(&s, VSWITCH__REQUEST__COMMAND_FDB_FLUSH, NULL, 0);
    s.vni_filter.has_vni = false;
    expect_ok(&s.req, "fdb-flush of every VNI");
}
END_TEST

START_TEST(test_checks_flow_files_and_traces)
{
    static const uint8_t frame[60];
    char *lines[] = { "priority=1,actions=drop", "actions=normal" };
    uint32_t numbers[] = { 3, 7 };
    Vswitch__Request req = VSWITCH__REQUEST__INIT;
    Vswitch__FlowLines f = VSWITCH__FLOW_LINES__INIT;
    Vswitch__Trace t = VSWITCH__TRACE__INIT;

    req.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    req.command_case = VSWITCH__REQUEST__COMMAND_ADD_FLOWS;
    req.add_flows = &f;
    f.lines = lines;
    f.n_lines = 2;
    expect_ok(&req, "lines without numbers");
    f.line_numbers = numbers;
    f.n_line_numbers = 2;
    expect_ok(&req, "lines with their numbers");
    f.n_line_numbers = 1;
    expect_error(&req, "a number short", "1 line numbers for 2 flow lines");

    req.command_case = VSWITCH__REQUEST__COMMAND_TRACE;
    req.trace = &t;
    expect_error(&req, "neither flow nor frame", "a flow or a frame");
    t.flow = "in_port=tap0";
    expect_ok(&req, "a flow");
    t.in_port = "tap0";
    expect_error(&req, "a flow and a port", "inside the flow");
    t.has_frame = true;
    t.frame.data = (uint8_t *) frame;
    t.frame.len = sizeof frame;
    expect_error(&req, "a flow and a frame", "not both");
    t.flow = NULL;
    expect_ok(&req, "a frame with its port");
    t.in_port = NULL;
    expect_error(&req, "a frame without its port", "in_port=PORT");
    t.in_port = "a/b";
    expect_error(&req, "a frame on a bad port name", "not a valid port");
    t.in_port = "tap0";
    t.frame.len = 13;
    expect_error(&req, "a runt", "a frame of 13 bytes");
}
END_TEST

static Suite *
request_suite(void)
{
    Suite *s = suite_create("request");

    fixture_add_case(s, "checks the VNI range in every command",
                     test_checks_the_vni_range_in_every_command, NULL, NULL);
    fixture_add_case(s, "parses VNIs in decimal", test_parses_vnis_in_decimal,
                     NULL, NULL);
    fixture_add_case(s, "checks MAC addresses", test_checks_mac_addresses,
                     NULL, NULL);
    fixture_add_case(s, "wants a multicast group",
                     test_wants_a_multicast_group, NULL, NULL);
    fixture_add_case(s, "wants unicast flood addresses",
                     test_wants_unicast_flood_addresses, NULL, NULL);
    fixture_add_case(s, "refuses the broadcast address as an EVPN VTEP",
                     test_refuses_the_broadcast_address_as_an_evpn_vtep,
                     NULL, NULL);
    fixture_add_case(s, "refuses a flood address given twice",
                     test_refuses_a_flood_address_given_twice, NULL, NULL);
    fixture_add_case(s, "refuses group and flood together",
                     test_refuses_group_and_flood_together, NULL, NULL);
    fixture_add_case(s, "limits the flood list to 256",
                     test_limits_the_flood_list_to_256, NULL, NULL);
    fixture_add_case(s, "checks the ageing time",
                     test_checks_the_ageing_time, NULL, NULL);
    fixture_add_case(s, "checks the learning options",
                     test_checks_the_learning_options, NULL, NULL);
    fixture_add_case(s, "checks port names", test_checks_port_names,
                     NULL, NULL);
    fixture_add_case(s, "refuses an unknown port type",
                     test_refuses_an_unknown_port_type, NULL, NULL);
    fixture_add_case(s, "checks vxlan options", test_checks_vxlan_options,
                     NULL, NULL);
    fixture_add_case(s, "checks the bounds of numeric vxlan options",
                     test_checks_the_bounds_of_numeric_vxlan_options, NULL,
                     NULL);
    fixture_add_case(s, "checks pcap options", test_checks_pcap_options,
                     NULL, NULL);
    fixture_add_case(s, "local ports take no options",
                     test_local_ports_take_no_options, NULL, NULL);
    fixture_add_case(s, "binds only local ports to a VNI",
                     test_binds_only_local_ports_to_a_vni, NULL, NULL);
    fixture_add_case(s, "set-port needs an option",
                     test_set_port_needs_an_option, NULL, NULL);
    fixture_add_case(s, "fdb-add needs a port or a remote",
                     test_fdb_add_needs_a_port_or_a_remote, NULL, NULL);
    fixture_add_case(s, "checks each command of a batch",
                     test_checks_each_command_of_a_batch, NULL, NULL);
    fixture_add_case(s, "refuses a request without a command",
                     test_refuses_a_request_without_a_command, NULL, NULL);
    fixture_add_case(s, "checks flow files and traces",
                     test_checks_flow_files_and_traces, NULL, NULL);
    fixture_add_case(s, "accepts commands without arguments",
                     test_accepts_commands_without_arguments, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(request_suite());
}
