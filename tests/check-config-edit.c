#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-edit.h"
#include "config-store.h"
#include "fixture.h"
#include "util.h"

#define OK VSWITCH__STATUS__STATUS_OK
#define INVALID VSWITCH__STATUS__STATUS_INVALID
#define NOT_FOUND VSWITCH__STATUS__STATUS_NOT_FOUND
#define EXISTS VSWITCH__STATUS__STATUS_EXISTS

/* Requests are built on the stack, with string literals for every field:
 * the editing functions copy what they keep. */

#define MAX_OPTIONS 4

struct port_buf {
    Vswitch__PortConfig port;
    Vswitch__SetPort set;
    Vswitch__Option opts[MAX_OPTIONS];
    Vswitch__Option *optp[MAX_OPTIONS];
};

struct vni_buf {
    Vswitch__VniConfig vni;
    char *flood[8];
};

/* Returns a port 'name' of 'type' bound to 'vni' (none if 0) with the
 * options in 'kv', pairs of key and value ended by a null key. */
static Vswitch__PortConfig *
port_config(struct port_buf *b, const char *name, const char *type,
            uint32_t vni, const char *const *kv)
{
    vswitch__port_config__init(&b->port);
    b->port.name = (char *) name;
    b->port.type = (char *) type;
    b->port.has_vni = vni != 0;
    b->port.vni = vni;
    for (size_t i = 0; kv && kv[2 * i]; i++) {
        ck_assert_uint_lt(i, MAX_OPTIONS);
        vswitch__option__init(&b->opts[i]);
        b->opts[i].key = (char *) kv[2 * i];
        b->opts[i].value = (char *) kv[2 * i + 1];
        b->optp[i] = &b->opts[i];
        b->port.n_options = i + 1;
    }
    b->port.options = b->optp;
    return &b->port;
}

static Vswitch__SetPort *
set_port(struct port_buf *b, const char *name, const char *const *kv)
{
    port_config(b, name, "tap", 0, kv);
    vswitch__set_port__init(&b->set);
    b->set.name = (char *) name;
    b->set.n_options = b->port.n_options;
    b->set.options = b->optp;
    return &b->set;
}

/* Returns a VNI that floods to 'group' or to the 'n' addresses of
 * 'flood'. */
static Vswitch__VniConfig *
vni_config(struct vni_buf *b, uint32_t vni, const char *group,
           const char *const *flood, size_t n)
{
    vswitch__vni_config__init(&b->vni);
    b->vni.vni = vni;
    b->vni.group = (char *) group;
    ck_assert_uint_le(n, ARRAY_SIZE(b->flood));
    for (size_t i = 0; i < n; i++) {
        b->flood[i] = (char *) flood[i];
    }
    b->vni.n_flood = n;
    b->vni.flood = b->flood;
    return &b->vni;
}

static Vswitch__FdbAdd *
fdb_add(Vswitch__FdbAdd *f, uint32_t vni, const char *mac, const char *port,
        const char *remote)
{
    vswitch__fdb_add__init(f);
    f->vni = vni;
    f->mac = (char *) mac;
    f->port = (char *) port;
    f->remote = (char *) remote;
    return f;
}

static Vswitch__FdbDel *
fdb_del(Vswitch__FdbDel *f, uint32_t vni, const char *mac)
{
    vswitch__fdb_del__init(f);
    f->vni = vni;
    f->mac = (char *) mac;
    return f;
}

/* The configuration every test starts from:
 *
 *   VNI 5000 floods to 172.31.0.2 and 172.31.0.3; VNI 6000 to 239.1.1.1.
 *   vtep0 (vxlan); tap0 and tap1 in 5000; tap2 in 6000; cap0 (pcap) in
 *   none.
 *   Static MACs: ...:01 on tap0, ...:02 at remote 172.31.0.2 and ...:04
 *   on tap1, all in 5000; ...:03 on tap2 in 6000. */
static struct config_edit edit;
static char error[256];

/* Starts an edit with the given flags. */
static void
begin(bool may_exist, bool if_exists)
{
    edit.may_exist = may_exist;
    edit.if_exists = if_exists;
    edit.changed = false;
    error[0] = '\0';
}

static void
expect_ok(Vswitch__Status status)
{
    ck_assert_msg(status == OK, "status %d: %s", status, error);
}

static void
setup(void)
{
    static const char *const flood[] = { "172.31.0.2", "172.31.0.3" };
    static const char *const vxlan[] = { "local_ip", "172.31.0.1", NULL };
    static const char *const pcap[] = { "rx", "/tmp/in.pcap", NULL };
    struct vni_buf v;
    struct port_buf p;
    Vswitch__FdbAdd f;

    memset(&edit, 0, sizeof edit);
    edit.config = config_store_empty();
    edit.error = error;
    edit.error_size = sizeof error;
    ck_assert_ptr_nonnull(edit.config);

    begin(false, false);
    expect_ok(config_edit_add_vni(&edit, vni_config(&v, 5000, NULL, flood,
                                                    2)));
    expect_ok(config_edit_add_vni(&edit, vni_config(&v, 6000, "239.1.1.1",
                                                    NULL, 0)));
    expect_ok(config_edit_add_port(&edit, port_config(&p, "vtep0", "vxlan",
                                                      0, vxlan)));
    expect_ok(config_edit_add_port(&edit, port_config(&p, "tap0", "tap",
                                                      5000, NULL)));
    expect_ok(config_edit_add_port(&edit, port_config(&p, "tap1", "tap",
                                                      5000, NULL)));
    expect_ok(config_edit_add_port(&edit, port_config(&p, "tap2", "tap",
                                                      6000, NULL)));
    expect_ok(config_edit_add_port(&edit, port_config(&p, "cap0", "pcap",
                                                      0, pcap)));
    expect_ok(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                 "02:00:00:00:00:01",
                                                 "tap0", NULL)));
    expect_ok(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                 "02:00:00:00:00:02", NULL,
                                                 "172.31.0.2")));
    expect_ok(config_edit_fdb_add(&edit, fdb_add(&f, 6000,
                                                 "02:00:00:00:00:03",
                                                 "tap2", NULL)));
    expect_ok(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                 "02:00:00:00:00:04",
                                                 "tap1", NULL)));
    begin(false, false);
}

static void
teardown(void)
{
    vswitch__config__free_unpacked(edit.config, NULL);
}

/* The configuration's bytes, to show that a refused edit changed nothing
 * at all. */
struct snapshot {
    uint8_t *data;
    size_t size;
};

static struct snapshot
snapshot(void)
{
    struct snapshot s;

    s.size = vswitch__config__get_packed_size(edit.config);
    s.data = malloc(s.size + 1);
    ck_assert_ptr_nonnull(s.data);
    vswitch__config__pack(edit.config, s.data);
    return s;
}

static void
expect_unchanged(struct snapshot *before)
{
    struct snapshot after = snapshot();

    ck_assert_uint_eq(after.size, before->size);
    ck_assert_int_eq(memcmp(after.data, before->data, after.size), 0);
    ck_assert(!edit.changed);
    free(after.data);
    free(before->data);
}

/* Checks an edit that must succeed without changing anything, as an
 * idempotent --may-exist or --if-exists one does. */
static void
expect_no_op(Vswitch__Status status, struct snapshot *before)
{
    expect_ok(status);
    expect_unchanged(before);
}

/* Checks that an edit was refused with 'want' and a message that contains
 * 'needle', and left the configuration as it was. */
static void
expect_refused(Vswitch__Status status, Vswitch__Status want,
               const char *needle, struct snapshot *before)
{
    ck_assert_msg(status == want, "status %d, not %d (%s)", status, want,
                  error);
    ck_assert_msg(strstr(error, needle), "error '%s' does not say '%s'",
                  error, needle);
    expect_unchanged(before);
}

/* Checks that an edit succeeded and says it changed the configuration. */
static void
expect_changed(Vswitch__Status status)
{
    expect_ok(status);
    ck_assert(edit.changed);
}

static Vswitch__PortConfig *
port(const char *name)
{
    return config_find_port(edit.config, name);
}

/* Returns the static MAC 'mac' of 'vni', or NULL. */
static Vswitch__StaticMac *
static_mac(uint32_t vni, const char *mac)
{
    for (size_t i = 0; i < edit.config->n_static_macs; i++) {
        Vswitch__StaticMac *m = edit.config->static_macs[i];

        if (m->vni == vni && !strcmp(m->mac, mac)) {
            return m;
        }
    }
    return NULL;
}

START_TEST(test_adds_a_port)
{
    static const char *const tx[] = { "tx", "/tmp/out.pcap", NULL };
    struct port_buf p;

    expect_changed(config_edit_add_port(&edit, port_config(&p, "cap1",
                                                           "pcap", 6000,
                                                           tx)));
    ck_assert_uint_eq(edit.config->n_ports, 6);

    Vswitch__PortConfig *cap1 = port("cap1");

    ck_assert_ptr_nonnull(cap1);
    ck_assert_ptr_ne(cap1, &p.port);
    ck_assert_str_eq(cap1->type, "pcap");
    ck_assert(cap1->has_vni);
    ck_assert_uint_eq(cap1->vni, 6000);
    ck_assert_str_eq(config_port_option(cap1, "tx"), "/tmp/out.pcap");
    ck_assert_ptr_null(config_port_option(cap1, "rx"));
}
END_TEST

START_TEST(test_refuses_a_port_that_exists)
{
    struct port_buf p;
    struct snapshot before = snapshot();

    expect_refused(config_edit_add_port(&edit, port_config(&p, "tap0", "tap",
                                                           5000, NULL)),
                   EXISTS, "port tap0 exists", &before);
}
END_TEST

START_TEST(test_may_exist_accepts_an_identical_port)
{
    static const char *const vxlan[] = { "local_ip", "172.31.0.1", NULL };
    struct port_buf p;
    struct snapshot before = snapshot();

    begin(true, false);
    expect_no_op(config_edit_add_port(&edit, port_config(&p, "tap0", "tap",
                                                         5000, NULL)),
                 &before);

    /* The one vxlan port is no second vxlan port. */
    before = snapshot();
    expect_no_op(config_edit_add_port(&edit, port_config(&p, "vtep0",
                                                         "vxlan", 0, vxlan)),
                 &before);
}
END_TEST

START_TEST(test_may_exist_refuses_a_port_with_other_settings)
{
    static const char *const vxlan[] = { "local_ip", "172.31.0.9", NULL };
    struct port_buf p;
    struct snapshot before = snapshot();

    begin(true, false);
    expect_refused(config_edit_add_port(&edit, port_config(&p, "tap0", "tap",
                                                           6000, NULL)),
                   EXISTS, "port tap0 exists with other settings", &before);
    before = snapshot();
    expect_refused(config_edit_add_port(&edit, port_config(&p, "tap0", "tap",
                                                           0, NULL)),
                   EXISTS, "port tap0 exists with other settings", &before);
    before = snapshot();
    expect_refused(config_edit_add_port(&edit, port_config(&p, "vtep0",
                                                           "vxlan", 0,
                                                           vxlan)),
                   EXISTS, "port vtep0 exists with other settings",
                   &before);
}
END_TEST

START_TEST(test_allows_only_one_vxlan_port)
{
    static const char *const vxlan[] = { "local_ip", "172.31.0.1", NULL };
    struct port_buf p;
    struct snapshot before = snapshot();

    expect_refused(config_edit_add_port(&edit, port_config(&p, "vtep1",
                                                           "vxlan", 0,
                                                           vxlan)),
                   EXISTS, "only one vxlan port: vtep0 exists", &before);
    begin(true, false);
    before = snapshot();
    expect_refused(config_edit_add_port(&edit, port_config(&p, "vtep1",
                                                           "vxlan", 0,
                                                           vxlan)),
                   EXISTS, "only one vxlan port: vtep0 exists", &before);
}
END_TEST

START_TEST(test_refuses_a_port_in_a_missing_vni)
{
    struct port_buf p;
    struct snapshot before = snapshot();

    expect_refused(config_edit_add_port(&edit, port_config(&p, "tap3", "tap",
                                                           7000, NULL)),
                   NOT_FOUND, "VNI 7000 does not exist", &before);
}
END_TEST

START_TEST(test_deletes_a_port_and_its_static_macs)
{
    expect_changed(config_edit_del_port(&edit, "tap0"));
    ck_assert_ptr_null(port("tap0"));
    ck_assert_uint_eq(edit.config->n_ports, 4);
    ck_assert_ptr_nonnull(port("tap1"));
    ck_assert_uint_eq(edit.config->n_static_macs, 3);
    ck_assert_ptr_null(static_mac(5000, "02:00:00:00:00:01"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:02"));
    ck_assert_ptr_nonnull(static_mac(6000, "02:00:00:00:00:03"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:04"));
}
END_TEST

START_TEST(test_refuses_to_delete_a_missing_port)
{
    struct snapshot before = snapshot();

    expect_refused(config_edit_del_port(&edit, "tap9"), NOT_FOUND,
                   "no port tap9", &before);
    begin(false, true);
    before = snapshot();
    expect_no_op(config_edit_del_port(&edit, "tap9"), &before);
}
END_TEST

START_TEST(test_set_port_merges_options)
{
    static const char *const first[] = { "dst_port", "8472", "ttl", "5",
                                         NULL };
    static const char *const second[] = { "dst_port", "4789", NULL };
    struct port_buf p;

    expect_changed(config_edit_set_port(&edit, set_port(&p, "vtep0",
                                                        first)));

    Vswitch__PortConfig *vtep0 = port("vtep0");

    ck_assert_uint_eq(vtep0->n_options, 3);
    ck_assert_str_eq(config_port_option(vtep0, "local_ip"), "172.31.0.1");
    ck_assert_str_eq(config_port_option(vtep0, "dst_port"), "8472");
    ck_assert_str_eq(config_port_option(vtep0, "ttl"), "5");

    begin(false, false);
    expect_changed(config_edit_set_port(&edit, set_port(&p, "vtep0",
                                                        second)));
    vtep0 = port("vtep0");
    ck_assert_uint_eq(vtep0->n_options, 3);
    ck_assert_str_eq(config_port_option(vtep0, "dst_port"), "4789");
    ck_assert_str_eq(config_port_option(vtep0, "ttl"), "5");

    /* The same value again is no change. */
    struct snapshot before = snapshot();

    begin(false, false);
    expect_no_op(config_edit_set_port(&edit, set_port(&p, "vtep0", second)),
                 &before);
}
END_TEST

START_TEST(test_set_port_refuses_an_invalid_result)
{
    static const char *const zero[] = { "ttl", "9", "dst_port", "0", NULL };
    static const char *const ttl[] = { "ttl", "1", NULL };
    static const char *const colour[] = { "colour", "blue", NULL };
    struct port_buf p;
    struct snapshot before = snapshot();

    expect_refused(config_edit_set_port(&edit, set_port(&p, "vtep0", zero)),
                   INVALID, "dst_port: '0'", &before);
    before = snapshot();
    expect_refused(config_edit_set_port(&edit, set_port(&p, "tap0", ttl)),
                   INVALID, "a tap port has no option 'ttl'", &before);
    before = snapshot();
    expect_refused(config_edit_set_port(&edit, set_port(&p, "cap0", colour)),
                   INVALID, "a pcap port has no option 'colour'", &before);
    before = snapshot();
    expect_refused(config_edit_set_port(&edit, set_port(&p, "tap9", ttl)),
                   NOT_FOUND, "no port tap9", &before);
}
END_TEST

START_TEST(test_adds_a_vni_in_canonical_form)
{
    static const char *const flood[] = { "::ffff:172.31.0.9", "FD00::9" };
    struct vni_buf v;

    expect_changed(config_edit_add_vni(&edit, vni_config(&v, 7000, NULL,
                                                         flood, 2)));

    Vswitch__VniConfig *vni = config_find_vni(edit.config, 7000);

    ck_assert_ptr_nonnull(vni);
    ck_assert_uint_eq(edit.config->n_vnis, 3);
    ck_assert_uint_eq(vni->n_flood, 2);
    ck_assert_str_eq(vni->flood[0], "172.31.0.9");
    ck_assert_str_eq(vni->flood[1], "fd00::9");
    ck_assert_ptr_null(vni->group);

    /* An empty group is no group. */
    begin(false, false);
    expect_changed(config_edit_add_vni(&edit, vni_config(&v, 8000, "", NULL,
                                                         0)));
    vni = config_find_vni(edit.config, 8000);
    ck_assert_ptr_nonnull(vni);
    ck_assert_ptr_null(vni->group);
    ck_assert_uint_eq(vni->n_flood, 0);
}
END_TEST

START_TEST(test_refuses_a_vni_that_exists)
{
    static const char *const flood[] = { "172.31.0.2", "172.31.0.3" };
    struct vni_buf v;
    struct snapshot before = snapshot();

    expect_refused(config_edit_add_vni(&edit, vni_config(&v, 5000, NULL,
                                                         flood, 2)),
                   EXISTS, "VNI 5000 exists", &before);
}
END_TEST

START_TEST(test_may_exist_compares_vnis_in_canonical_form)
{
    static const char *const same[] = { "::ffff:172.31.0.2", "172.31.0.3" };
    static const char *const other[] = { "172.31.0.2" };
    struct vni_buf v;
    struct snapshot before = snapshot();

    begin(true, false);
    expect_no_op(config_edit_add_vni(&edit, vni_config(&v, 5000, NULL, same,
                                                       2)), &before);
    before = snapshot();
    expect_refused(config_edit_add_vni(&edit, vni_config(&v, 5000, NULL,
                                                         other, 1)),
                   EXISTS, "VNI 5000 exists with other settings", &before);
    before = snapshot();
    vni_config(&v, 6000, "239.1.1.1", NULL, 0);
    v.vni.has_ageing = true;
    v.vni.ageing = 60;
    expect_refused(config_edit_add_vni(&edit, &v.vni), EXISTS,
                   "VNI 6000 exists with other settings", &before);
}
END_TEST

START_TEST(test_set_vni_switches_between_group_and_flood)
{
    static const char *const flood[] = { "172.31.0.4" };
    struct vni_buf v;

    expect_changed(config_edit_set_vni(&edit, vni_config(&v, 5000,
                                                         "239.2.2.2", NULL,
                                                         0)));

    Vswitch__VniConfig *vni = config_find_vni(edit.config, 5000);

    ck_assert_str_eq(vni->group, "239.2.2.2");
    ck_assert_uint_eq(vni->n_flood, 0);

    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, vni_config(&v, 6000, NULL,
                                                         flood, 1)));
    vni = config_find_vni(edit.config, 6000);
    ck_assert_ptr_null(vni->group);
    ck_assert_uint_eq(vni->n_flood, 1);
    ck_assert_str_eq(vni->flood[0], "172.31.0.4");

    /* An empty group floods nowhere. */
    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, vni_config(&v, 6000, "", NULL,
                                                         0)));
    vni = config_find_vni(edit.config, 6000);
    ck_assert_ptr_null(vni->group);
    ck_assert_uint_eq(vni->n_flood, 0);
}
END_TEST

START_TEST(test_set_vni_changes_only_what_is_given)
{
    struct vni_buf v;

    vni_config(&v, 5000, NULL, NULL, 0);
    v.vni.has_ageing = true;
    v.vni.ageing = 60;
    expect_changed(config_edit_set_vni(&edit, &v.vni));

    Vswitch__VniConfig *vni = config_find_vni(edit.config, 5000);

    ck_assert(vni->has_ageing);
    ck_assert_uint_eq(vni->ageing, 60);
    ck_assert(!vni->has_mac_limit);
    ck_assert_uint_eq(vni->n_flood, 2);
    ck_assert_str_eq(vni->flood[1], "172.31.0.3");

    vni_config(&v, 5000, NULL, NULL, 0);
    v.vni.has_mac_limit = true;
    v.vni.mac_limit = 10;
    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, &v.vni));
    vni = config_find_vni(edit.config, 5000);
    ck_assert(vni->has_mac_limit);
    ck_assert_uint_eq(vni->mac_limit, 10);
    ck_assert_uint_eq(vni->ageing, 60);
    ck_assert_uint_eq(vni->n_flood, 2);

    /* The values in effect again are no change. */
    struct snapshot before = snapshot();

    begin(false, false);
    expect_no_op(config_edit_set_vni(&edit, &v.vni), &before);
}
END_TEST

/* learn= and learn-prefix= are kept like the other settings, the prefix in
 * canonical form; an empty prefix removes it; learn=list needs a list,
 * whichever request would leave a VNI without one. */
START_TEST(test_keeps_the_learning_options)
{
    struct vni_buf v;
    Vswitch__VniConfig *vni;
    struct snapshot before;

    vni_config(&v, 6000, NULL, NULL, 0);
    v.vni.learn_prefix = "FD00:0:0::/16";
    expect_changed(config_edit_set_vni(&edit, &v.vni));
    vni = config_find_vni(edit.config, 6000);
    ck_assert_str_eq(vni->learn_prefix, "fd00::/16");
    ck_assert_str_eq(vni->group, "239.1.1.1");

    vni_config(&v, 5000, NULL, NULL, 0);
    v.vni.has_learn = true;
    v.vni.learn = VSWITCH__LEARN__LEARN_ANY;
    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, &v.vni));
    vni = config_find_vni(edit.config, 5000);
    ck_assert(vni->has_learn);
    ck_assert_int_eq(vni->learn, VSWITCH__LEARN__LEARN_ANY);
    ck_assert_uint_eq(vni->n_flood, 2);

    vni_config(&v, 6000, NULL, NULL, 0);
    v.vni.learn_prefix = "";
    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, &v.vni));
    ck_assert_ptr_null(config_find_vni(edit.config, 6000)->learn_prefix);

    /* A group in place of the list of a VNI told to learn from it. */
    vni_config(&v, 5000, NULL, NULL, 0);
    v.vni.has_learn = true;
    v.vni.learn = VSWITCH__LEARN__LEARN_LIST;
    begin(false, false);
    expect_changed(config_edit_set_vni(&edit, &v.vni));
    before = snapshot();
    begin(false, false);
    expect_refused(config_edit_set_vni(&edit, vni_config(&v, 5000,
                                                         "239.2.2.2", NULL,
                                                         0)),
                   INVALID, "learn=list needs a flood= list", &before);

    vni_config(&v, 7000, NULL, NULL, 0);
    v.vni.has_learn = true;
    v.vni.learn = VSWITCH__LEARN__LEARN_LIST;
    before = snapshot();
    begin(false, false);
    expect_refused(config_edit_add_vni(&edit, &v.vni), INVALID,
                   "learn=list needs a flood= list", &before);
}
END_TEST

START_TEST(test_set_vni_refuses_a_missing_vni_or_no_change)
{
    struct vni_buf v;
    struct snapshot before = snapshot();

    expect_refused(config_edit_set_vni(&edit, vni_config(&v, 7000,
                                                         "239.1.1.1", NULL,
                                                         0)),
                   NOT_FOUND, "VNI 7000 does not exist", &before);
    before = snapshot();
    expect_refused(config_edit_set_vni(&edit, vni_config(&v, 5000, NULL,
                                                         NULL, 0)),
                   INVALID, "set-vni needs", &before);
}
END_TEST

START_TEST(test_deletes_a_vni_with_its_bindings_and_static_macs)
{
    expect_changed(config_edit_del_vni(&edit, 5000));
    ck_assert_ptr_null(config_find_vni(edit.config, 5000));
    ck_assert_ptr_nonnull(config_find_vni(edit.config, 6000));
    ck_assert_uint_eq(edit.config->n_ports, 5);
    ck_assert(!port("tap0")->has_vni);
    ck_assert(!port("tap1")->has_vni);
    ck_assert(port("tap2")->has_vni);
    ck_assert_uint_eq(port("tap2")->vni, 6000);
    ck_assert_uint_eq(edit.config->n_static_macs, 1);
    ck_assert_ptr_nonnull(static_mac(6000, "02:00:00:00:00:03"));
}
END_TEST

START_TEST(test_refuses_to_delete_a_missing_vni)
{
    struct snapshot before = snapshot();

    expect_refused(config_edit_del_vni(&edit, 7000), NOT_FOUND,
                   "VNI 7000 does not exist", &before);
    begin(false, true);
    before = snapshot();
    expect_no_op(config_edit_del_vni(&edit, 7000), &before);
}
END_TEST

START_TEST(test_binds_a_port)
{
    expect_changed(config_edit_bind(&edit, "cap0", 5000));
    ck_assert(port("cap0")->has_vni);
    ck_assert_uint_eq(port("cap0")->vni, 5000);

    struct snapshot before = snapshot();

    begin(false, false);
    expect_no_op(config_edit_bind(&edit, "cap0", 5000), &before);

    /* Binding the port where it is keeps its static MACs. */
    before = snapshot();
    begin(false, false);
    expect_no_op(config_edit_bind(&edit, "tap0", 5000), &before);
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:01"));
}
END_TEST

START_TEST(test_rebinding_removes_the_ports_static_macs)
{
    expect_changed(config_edit_bind(&edit, "tap0", 6000));
    ck_assert_uint_eq(port("tap0")->vni, 6000);
    ck_assert_uint_eq(edit.config->n_static_macs, 3);
    ck_assert_ptr_null(static_mac(5000, "02:00:00:00:00:01"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:02"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:04"));
}
END_TEST

START_TEST(test_refuses_a_binding_of_a_vxlan_or_missing_port_or_vni)
{
    struct snapshot before = snapshot();

    expect_refused(config_edit_bind(&edit, "vtep0", 5000), INVALID,
                   "a vxlan port cannot be bound to a VNI", &before);
    before = snapshot();
    expect_refused(config_edit_bind(&edit, "tap9", 5000), NOT_FOUND,
                   "no port tap9", &before);
    before = snapshot();
    expect_refused(config_edit_bind(&edit, "tap0", 7000), NOT_FOUND,
                   "VNI 7000 does not exist", &before);
}
END_TEST

START_TEST(test_unbinds_a_port_and_removes_its_static_macs)
{
    expect_changed(config_edit_unbind(&edit, "tap0"));
    ck_assert(!port("tap0")->has_vni);
    ck_assert_uint_eq(edit.config->n_static_macs, 3);
    ck_assert_ptr_null(static_mac(5000, "02:00:00:00:00:01"));

    struct snapshot before = snapshot();

    begin(false, false);
    expect_no_op(config_edit_unbind(&edit, "tap0"), &before);
}
END_TEST

START_TEST(test_refuses_to_unbind_a_vxlan_or_missing_port)
{
    struct snapshot before = snapshot();

    expect_refused(config_edit_unbind(&edit, "vtep0"), INVALID,
                   "a vxlan port cannot be bound to a VNI", &before);
    before = snapshot();
    expect_refused(config_edit_unbind(&edit, "tap9"), NOT_FOUND,
                   "no port tap9", &before);
}
END_TEST

START_TEST(test_adds_a_static_mac_in_lower_case)
{
    Vswitch__FdbAdd f;

    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:AA:BB:CC:DD:EE",
                                                      "tap1", NULL)));
    ck_assert_uint_eq(edit.config->n_static_macs, 5);

    Vswitch__StaticMac *m = static_mac(5000, "02:aa:bb:cc:dd:ee");

    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->port, "tap1");
    ck_assert_ptr_null(m->remote);

    begin(false, false);
    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 6000,
                                                      "02:00:00:00:00:05",
                                                      NULL,
                                                      "::ffff:172.31.0.3")));
    m = static_mac(6000, "02:00:00:00:00:05");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->remote, "172.31.0.3");
    ck_assert_ptr_null(m->port);
}
END_TEST

START_TEST(test_replaces_a_static_mac)
{
    Vswitch__FdbAdd f;

    /* A static entry is replaced, not doubled. */
    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:00:00:00:00:01",
                                                      NULL, "172.31.0.3")));
    ck_assert_uint_eq(edit.config->n_static_macs, 4);

    Vswitch__StaticMac *m = static_mac(5000, "02:00:00:00:00:01");

    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(m->port);
    ck_assert_str_eq(m->remote, "172.31.0.3");

    /* The same address in capitals is the same entry. */
    begin(false, false);
    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:00:00:00:00:0A",
                                                      "tap1", NULL)));
    begin(false, false);
    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:00:00:00:00:0a",
                                                      "tap0", NULL)));
    ck_assert_uint_eq(edit.config->n_static_macs, 5);
    m = static_mac(5000, "02:00:00:00:00:0a");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->port, "tap0");

    /* The same entry again is no change. */
    struct snapshot before = snapshot();

    begin(false, false);
    expect_no_op(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                    "02:00:00:00:00:0A",
                                                    "tap0", NULL)),
                 &before);
}
END_TEST

START_TEST(test_fdb_add_wants_the_port_in_the_vni)
{
    Vswitch__FdbAdd f;
    const char *mac = "02:00:00:00:00:09";
    struct snapshot before = snapshot();

    expect_refused(config_edit_fdb_add(&edit, fdb_add(&f, 5000, mac, "tap2",
                                                      NULL)),
                   INVALID, "port tap2 is not in VNI 5000", &before);
    before = snapshot();
    expect_refused(config_edit_fdb_add(&edit, fdb_add(&f, 5000, mac, "cap0",
                                                      NULL)),
                   INVALID, "port cap0 is not in VNI 5000", &before);
    before = snapshot();
    expect_refused(config_edit_fdb_add(&edit, fdb_add(&f, 5000, mac, "tap9",
                                                      NULL)),
                   NOT_FOUND, "no port tap9", &before);
    before = snapshot();
    expect_refused(config_edit_fdb_add(&edit, fdb_add(&f, 7000, mac, NULL,
                                                      "172.31.0.2")),
                   NOT_FOUND, "VNI 7000 does not exist", &before);

    /* Nor does a refused replacement touch the entry it would replace. */
    before = snapshot();
    expect_refused(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:00:00:00:00:01",
                                                      "tap2", NULL)),
                   INVALID, "port tap2 is not in VNI 5000", &before);
}
END_TEST

START_TEST(test_deletes_a_static_mac)
{
    Vswitch__FdbDel d;
    Vswitch__FdbAdd f;

    expect_changed(config_edit_fdb_del(&edit, fdb_del(&d, 5000,
                                                      "02:00:00:00:00:02")));
    ck_assert_uint_eq(edit.config->n_static_macs, 3);
    ck_assert_ptr_null(static_mac(5000, "02:00:00:00:00:02"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:01"));
    ck_assert_ptr_nonnull(static_mac(5000, "02:00:00:00:00:04"));

    begin(false, false);
    expect_changed(config_edit_fdb_add(&edit, fdb_add(&f, 5000,
                                                      "02:aa:bb:cc:dd:ee",
                                                      "tap1", NULL)));
    begin(false, false);
    expect_changed(config_edit_fdb_del(&edit, fdb_del(&d, 5000,
                                                      "02:AA:BB:CC:DD:EE")));
    ck_assert_ptr_null(static_mac(5000, "02:aa:bb:cc:dd:ee"));
    ck_assert_uint_eq(edit.config->n_static_macs, 3);
}
END_TEST

START_TEST(test_refuses_to_delete_a_missing_static_mac)
{
    Vswitch__FdbDel d;
    struct snapshot before = snapshot();

    expect_refused(config_edit_fdb_del(&edit, fdb_del(&d, 5000,
                                                      "02:00:00:00:00:09")),
                   NOT_FOUND, "no static entry for 02:00:00:00:00:09 in "
                   "VNI 5000", &before);

    /* An entry of another VNI is not this VNI's. */
    before = snapshot();
    expect_refused(config_edit_fdb_del(&edit, fdb_del(&d, 5000,
                                                      "02:00:00:00:00:03")),
                   NOT_FOUND, "no static entry for 02:00:00:00:00:03",
                   &before);
    begin(false, true);
    before = snapshot();
    expect_no_op(config_edit_fdb_del(&edit, fdb_del(&d, 5000,
                                                    "02:00:00:00:00:09")),
                 &before);
}
END_TEST

/* A batch of up to four commands, on the stack as the others. */
struct batch_buf {
    Vswitch__Batch batch;
    Vswitch__BatchCommand cmds[4];
    Vswitch__BatchCommand *cmdp[4];
    uint32_t lines[4];
    bool unmatched[4];
};

static Vswitch__BatchCommand *
batch_add(struct batch_buf *b, uint32_t line)
{
    Vswitch__BatchCommand *r = &b->cmds[b->batch.n_commands];

    ck_assert_uint_lt(b->batch.n_commands, 4);
    vswitch__batch_command__init(r);
    b->cmdp[b->batch.n_commands] = r;
    b->lines[b->batch.n_commands++] = line;
    b->batch.n_lines = b->batch.n_commands;
    return r;
}

/* Adds add-vni 'vni' group='group' and add-port 'name' type=tap
 * vni='vni' as lines 'line' and 'line' + 1. */
static void
batch_add_vni_and_port(struct batch_buf *b, uint32_t line,
                       struct vni_buf *v, struct port_buf *p, uint32_t vni,
                       const char *group, const char *name)
{
    Vswitch__BatchCommand *r = batch_add(b, line);

    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_ADD_VNI;
    r->add_vni = vni_config(v, vni, group, NULL, 0);
    r = batch_add(b, line + 1);
    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_ADD_PORT;
    r->add_port = port_config(p, name, "tap", vni, NULL);
}

static void
batch_init(struct batch_buf *b)
{
    vswitch__batch__init(&b->batch);
    b->batch.commands = b->cmdp;
    b->batch.lines = b->lines;
}

START_TEST(test_batch_applies_its_requests_in_turn)
{
    struct batch_buf b;
    struct vni_buf v;
    struct port_buf p;
    Vswitch__FdbAdd f;
    Vswitch__BatchCommand *r;

    batch_init(&b);
    batch_add_vni_and_port(&b, 3, &v, &p, 7000, "239.1.1.7", "tap7");
    r = batch_add(&b, 6);
    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_FDB_ADD;
    r->fdb_add = fdb_add(&f, 7000, "02:00:00:00:00:77", "tap7", NULL);
    expect_changed(config_edit_batch(&edit, &b.batch, b.unmatched));
    ck_assert_ptr_nonnull(config_find_vni(edit.config, 7000));
    ck_assert_uint_eq(port("tap7")->vni, 7000);
    ck_assert_str_eq(static_mac(7000, "02:00:00:00:00:77")->port, "tap7");
    ck_assert(!b.unmatched[0] && !b.unmatched[1] && !b.unmatched[2]);
}
END_TEST

START_TEST(test_batch_names_the_line_that_fails)
{
    struct batch_buf b;
    struct vni_buf v;
    struct port_buf p;

    /* tap0 exists, in VNI 5000. */
    batch_init(&b);
    batch_add_vni_and_port(&b, 11, &v, &p, 7000, "239.1.1.7", "tap0");
    ck_assert_int_eq(config_edit_batch(&edit, &b.batch, b.unmatched),
                     EXISTS);
    ck_assert_str_eq(error, "line 12: port tap0 exists");

    /* Numbered by command, for the "--" form. */
    b.batch.unit = "command";
    b.batch.n_lines = 0;
    begin(false, false);
    ck_assert_int_eq(config_edit_batch(&edit, &b.batch, b.unmatched),
                     EXISTS);
    ck_assert_str_eq(error, "command 1: VNI 7000 exists");
}
END_TEST

START_TEST(test_batch_replays_idempotently_with_may_exist)
{
    struct batch_buf b;
    struct vni_buf v;
    struct port_buf p;
    Vswitch__FdbAdd f;
    Vswitch__BatchCommand *r;
    struct snapshot before = snapshot();

    batch_init(&b);
    batch_add_vni_and_port(&b, 1, &v, &p, 6000, "239.1.1.1", "tap2");
    b.cmds[0].has_may_exist = b.cmds[0].may_exist = true;
    r = batch_add(&b, 3);
    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_FDB_ADD;
    r->fdb_add = fdb_add(&f, 6000, "02:00:00:00:00:03", "tap2", NULL);

    /* Line 2 has no --may-exist of its own. */
    ck_assert_int_eq(config_edit_batch(&edit, &b.batch, b.unmatched),
                     EXISTS);
    ck_assert_str_eq(error, "line 2: port tap2 exists");
    free(before.data);

    /* The batch's --may-exist covers every line. */
    before = snapshot();
    begin(true, false);
    expect_no_op(config_edit_batch(&edit, &b.batch, b.unmatched), &before);
    ck_assert(edit.may_exist);
}
END_TEST

START_TEST(test_batch_leaves_learned_macs_to_the_caller)
{
    struct batch_buf b;
    Vswitch__FdbDel d1, d2;
    Vswitch__BatchCommand *r;

    batch_init(&b);
    r = batch_add(&b, 1);
    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_FDB_DEL;
    r->fdb_del = fdb_del(&d1, 5000, "02:00:00:00:00:01");
    r = batch_add(&b, 2);
    r->command_case = VSWITCH__BATCH_COMMAND__COMMAND_FDB_DEL;
    r->fdb_del = fdb_del(&d2, 5000, "02:00:00:00:00:99");
    expect_changed(config_edit_batch(&edit, &b.batch, b.unmatched));
    ck_assert_ptr_null(static_mac(5000, "02:00:00:00:00:01"));
    ck_assert(!b.unmatched[0]);
    ck_assert(b.unmatched[1]);

    /* A command that names nothing is no change. */
    batch_init(&b);
    batch_add(&b, 5);
    begin(false, false);
    ck_assert_int_eq(config_edit_batch(&edit, &b.batch, b.unmatched),
                     INVALID);
    ck_assert_str_eq(error, "line 5: not a change that can be in a batch");
}
END_TEST

START_TEST(test_clones_and_compares_configurations)
{
    Vswitch__Config *copy = config_clone(&edit.config->base);

    ck_assert_ptr_nonnull(copy);
    ck_assert_ptr_ne(copy, edit.config);
    ck_assert(config_equal(&copy->base, &edit.config->base));
    copy->vnis[1]->has_ageing = true;
    copy->vnis[1]->ageing = 300;
    ck_assert(!config_equal(&copy->base, &edit.config->base));
    protobuf_c_message_free_unpacked(&copy->base, NULL);
}
END_TEST

START_TEST(test_replays_a_configuration_to_itself)
{
    Vswitch__Config *replayed;

    ck_assert_int_eq(config_edit_replay(edit.config, &replayed, error,
                                        sizeof error), OK);
    ck_assert_ptr_nonnull(replayed);
    ck_assert_ptr_ne(replayed, edit.config);
    ck_assert(config_equal(&replayed->base, &edit.config->base));
    vswitch__config__free_unpacked(replayed, NULL);
}
END_TEST

START_TEST(test_replay_refuses_what_no_request_could_make)
{
    Vswitch__Config *replayed = edit.config;

    /* A static MAC whose VNI is gone, as an edited file may hold. */
    edit.config->static_macs[0]->vni = 77;
    ck_assert_int_eq(config_edit_replay(edit.config, &replayed, error,
                                        sizeof error), NOT_FOUND);
    ck_assert_ptr_null(replayed);
    ck_assert_str_eq(error, "VNI 77 does not exist");

    /* A port of no known type. */
    edit.config->static_macs[0]->vni = 5000;
    edit.config->ports[1]->type[0] = 'X';
    ck_assert_int_eq(config_edit_replay(edit.config, &replayed, error,
                                        sizeof error), INVALID);
    ck_assert_ptr_null(replayed);
}
END_TEST

static Suite *
config_edit_suite(void)
{
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "adds a port", test_adds_a_port },
        { "refuses a port that exists", test_refuses_a_port_that_exists },
        { "may-exist accepts an identical port",
          test_may_exist_accepts_an_identical_port },
        { "may-exist refuses a port with other settings",
          test_may_exist_refuses_a_port_with_other_settings },
        { "allows only one vxlan port", test_allows_only_one_vxlan_port },
        { "refuses a port in a missing VNI",
          test_refuses_a_port_in_a_missing_vni },
        { "deletes a port and its static MACs",
          test_deletes_a_port_and_its_static_macs },
        { "refuses to delete a missing port",
          test_refuses_to_delete_a_missing_port },
        { "set-port merges options", test_set_port_merges_options },
        { "set-port refuses an invalid result",
          test_set_port_refuses_an_invalid_result },
        { "adds a VNI in canonical form",
          test_adds_a_vni_in_canonical_form },
        { "refuses a VNI that exists", test_refuses_a_vni_that_exists },
        { "may-exist compares VNIs in canonical form",
          test_may_exist_compares_vnis_in_canonical_form },
        { "set-vni switches between group and flood",
          test_set_vni_switches_between_group_and_flood },
        { "set-vni changes only what is given",
          test_set_vni_changes_only_what_is_given },
        { "set-vni refuses a missing VNI or no change",
          test_set_vni_refuses_a_missing_vni_or_no_change },
        { "keeps the learning options", test_keeps_the_learning_options },
        { "deletes a VNI with its bindings and static MACs",
          test_deletes_a_vni_with_its_bindings_and_static_macs },
        { "refuses to delete a missing VNI",
          test_refuses_to_delete_a_missing_vni },
        { "binds a port", test_binds_a_port },
        { "rebinding removes the port's static MACs",
          test_rebinding_removes_the_ports_static_macs },
        { "refuses a binding of a vxlan or missing port or VNI",
          test_refuses_a_binding_of_a_vxlan_or_missing_port_or_vni },
        { "unbinds a port and removes its static MACs",
          test_unbinds_a_port_and_removes_its_static_macs },
        { "refuses to unbind a vxlan or missing port",
          test_refuses_to_unbind_a_vxlan_or_missing_port },
        { "adds a static MAC in lower case",
          test_adds_a_static_mac_in_lower_case },
        { "replaces a static MAC", test_replaces_a_static_mac },
        { "fdb-add wants the port in the VNI",
          test_fdb_add_wants_the_port_in_the_vni },
        { "deletes a static MAC", test_deletes_a_static_mac },
        { "refuses to delete a missing static MAC",
          test_refuses_to_delete_a_missing_static_mac },
        { "batch applies its requests in turn",
          test_batch_applies_its_requests_in_turn },
        { "batch names the line that fails",
          test_batch_names_the_line_that_fails },
        { "batch replays idempotently with may-exist",
          test_batch_replays_idempotently_with_may_exist },
        { "batch leaves learned MACs to the caller",
          test_batch_leaves_learned_macs_to_the_caller },
        { "clones and compares configurations",
          test_clones_and_compares_configurations },
        { "replays a configuration to itself",
          test_replays_a_configuration_to_itself },
        { "replay refuses what no request could make",
          test_replay_refuses_what_no_request_could_make },
    };
    Suite *s = suite_create("config-edit");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, setup, teardown);
    }
    return s;
}

int
main(void)
{
    return fixture_run(config_edit_suite());
}
