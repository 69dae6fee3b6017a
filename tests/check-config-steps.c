#include <config.h>

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "config-edit.h"
#include "config-steps.h"
#include "config-store.h"
#include "fixture.h"

/* Putting a large change into effect a few ports at a time: each step a
 * whole configuration, the last the target. */

static char error[256];

static struct config_edit
edit_of(Vswitch__Config *c)
{
    return (struct config_edit) {
        .config = c, .error = error, .error_size = sizeof error,
    };
}

static void
add_vni(Vswitch__Config *c, uint32_t vni)
{
    struct config_edit e = edit_of(c);
    Vswitch__VniConfig v = VSWITCH__VNI_CONFIG__INIT;

    v.vni = vni;
    ck_assert_msg(config_edit_add_vni(&e, &v) == VSWITCH__STATUS__STATUS_OK,
                  "%s", error);
}

/* Adds TAP port 'name' in 'vni' with one static MAC ending in 'mac'. */
static void
add_port(Vswitch__Config *c, const char *name, uint32_t vni, int mac)
{
    struct config_edit e = edit_of(c);
    Vswitch__PortConfig p = VSWITCH__PORT_CONFIG__INIT;
    Vswitch__FdbAdd f = VSWITCH__FDB_ADD__INIT;
    char addr[32];

    p.name = (char *) name;
    p.type = "tap";
    p.has_vni = true;
    p.vni = vni;
    ck_assert_msg(config_edit_add_port(&e, &p) == VSWITCH__STATUS__STATUS_OK,
                  "%s", error);
    snprintf(addr, sizeof addr, "02:00:00:00:00:%02x", mac);
    f.vni = vni;
    f.mac = addr;
    f.port = (char *) name;
    ck_assert_msg(config_edit_fdb_add(&e, &f) == VSWITCH__STATUS__STATUS_OK,
                  "%s", error);
}

/* "name:vni" of each port, then "vni/port" of each static MAC. */
static const char *
describe(const Vswitch__Config *c)
{
    static char buf[512];
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->n_ports; i++) {
        len += (size_t) snprintf(buf + len, sizeof buf - len, "%s:%u ",
                                 c->ports[i]->name, c->ports[i]->vni);
    }
    len += (size_t) snprintf(buf + len, sizeof buf - len, "|");
    for (size_t i = 0; i < c->n_static_macs; i++) {
        len += (size_t) snprintf(buf + len, sizeof buf - len, " %u/%s",
                                 c->static_macs[i]->vni,
                                 c->static_macs[i]->port);
    }
    return buf;
}

/* "name:vni" of each port the last step reached, then "vni/port" of each
 * static MAC it added. */
static const char *
describe_delta(const struct config_steps *steps)
{
    static char buf[512];
    const Vswitch__PortConfig *const *ports;
    const Vswitch__StaticMac *const *macs;
    size_t n_ports, n_macs, len = 0;

    config_steps_delta(steps, &ports, &n_ports, &macs, &n_macs);
    buf[0] = '\0';
    for (size_t i = 0; i < n_ports; i++) {
        len += (size_t) snprintf(buf + len, sizeof buf - len, "%s:%u ",
                                 ports[i]->name, ports[i]->vni);
    }
    len += (size_t) snprintf(buf + len, sizeof buf - len, "|");
    for (size_t i = 0; i < n_macs; i++) {
        len += (size_t) snprintf(buf + len, sizeof buf - len, " %u/%s",
                                 macs[i]->vni, macs[i]->port);
    }
    return buf;
}

START_TEST(test_steps_add_a_few_ports_each)
{
    Vswitch__Config *current = config_store_empty();
    Vswitch__Config *target;
    struct config_steps *steps;
    const Vswitch__Config *step, *first;
    bool last;

    /* In effect: tap0 and tap1 in 5000, gone0 in 5000. */
    add_vni(current, 5000);
    add_port(current, "tap0", 5000, 1);
    add_port(current, "tap1", 5000, 2);
    add_port(current, "gone0", 5000, 3);

    /* The target: gone0 deleted, tap0 kept, n0 new, tap1 moved to 6000,
     * n1 and n2 new. */
    target = config_clone(&current->base);
    {
        struct config_edit e = edit_of(target);

        ck_assert(config_edit_del_port(&e, "gone0")
                  == VSWITCH__STATUS__STATUS_OK);
        add_vni(target, 6000);
        add_port(target, "n0", 6000, 4);
        ck_assert(config_edit_del_port(&e, "tap1")
                  == VSWITCH__STATUS__STATUS_OK);
        add_port(target, "tap1", 6000, 5);
        add_port(target, "n1", 6000, 6);
        add_port(target, "n2", 6000, 7);
    }
    ck_assert_str_eq(describe(target), "tap0:5000 n0:6000 tap1:6000 "
                     "n1:6000 n2:6000 | 5000/tap0 6000/n0 6000/tap1 "
                     "6000/n1 6000/n2");

    steps = config_steps_create(current, target);
    ck_assert_ptr_nonnull(steps);
    ck_assert_uint_eq(config_steps_pending(steps), 4);

    /* n0 in; tap1 as it was (its MAC in 6000 waits), n1 and n2 absent;
     * gone0 gone at once. */
    step = config_steps_next(steps, 1, &last);
    ck_assert(!last);
    ck_assert_str_eq(describe(step), "tap0:5000 n0:6000 tap1:5000 | "
                     "5000/tap0 6000/n0");
    ck_assert_uint_eq(step->n_vnis, 2);
    first = step;

    step = config_steps_next(steps, 2, &last);
    ck_assert(!last);
    ck_assert_str_eq(describe(step), "tap0:5000 n0:6000 tap1:6000 n1:6000 "
                     "| 5000/tap0 6000/n0 6000/tap1 6000/n1");
    /* What a bridge in the step before has to do: tap1 moved, with its
     * MAC in 6000 that waited, and n1 new. */
    ck_assert_str_eq(describe_delta(steps), "tap1:6000 n1:6000 | "
                     "6000/tap1 6000/n1");
    /* The step before stays as it was while the bridge compares the
     * next one with it. */
    ck_assert_str_eq(describe(first), "tap0:5000 n0:6000 tap1:5000 | "
                     "5000/tap0 6000/n0");

    step = config_steps_next(steps, 2, &last);
    ck_assert(last);
    ck_assert_ptr_eq(step, target);
    ck_assert_str_eq(describe_delta(steps), "n2:6000 | 6000/n2");

    config_steps_destroy(steps);
    protobuf_c_message_free_unpacked(&target->base, NULL);
    protobuf_c_message_free_unpacked(&current->base, NULL);
}
END_TEST

/* A port moved to a new VNI while its old VNI is deleted, in a batch put
 * into effect in steps: until it is reached it stays, unbound.  Absent,
 * the bridge would delete it, and with it the VM's TAP device. */
START_TEST(test_a_port_whose_vni_goes_stays_unbound)
{
    Vswitch__Config *current = config_store_empty();
    Vswitch__Config *target;
    struct config_steps *steps;
    const Vswitch__Config *step;
    bool last;

    add_vni(current, 5000);
    add_port(current, "vm0", 5000, 1);
    target = config_clone(&current->base);
    {
        struct config_edit e = edit_of(target);

        ck_assert(config_edit_del_port(&e, "vm0")
                  == VSWITCH__STATUS__STATUS_OK);
        ck_assert(config_edit_del_vni(&e, 5000)
                  == VSWITCH__STATUS__STATUS_OK);
        add_vni(target, 6000);
        add_port(target, "n0", 6000, 2);
        add_port(target, "vm0", 6000, 3);
    }
    steps = config_steps_create(current, target);
    ck_assert_ptr_nonnull(steps);
    ck_assert_uint_eq(config_steps_pending(steps), 2);

    /* n0 in; vm0 there, in no VNI, without its MAC of the VNI gone. */
    step = config_steps_next(steps, 1, &last);
    ck_assert(!last);
    ck_assert_str_eq(describe(step), "n0:6000 vm0:0 | 6000/n0");
    ck_assert(!step->ports[1]->has_vni);
    ck_assert_uint_eq(step->n_vnis, 1);
    ck_assert_uint_eq(step->vnis[0]->vni, 6000);

    step = config_steps_next(steps, 1, &last);
    ck_assert(last);
    ck_assert_str_eq(describe_delta(steps), "vm0:6000 | 6000/vm0");

    config_steps_destroy(steps);
    protobuf_c_message_free_unpacked(&target->base, NULL);
    protobuf_c_message_free_unpacked(&current->base, NULL);
}
END_TEST

START_TEST(test_a_target_with_nothing_new_is_one_step)
{
    Vswitch__Config *current = config_store_empty();
    struct config_steps *steps;
    const Vswitch__Config *step;
    bool last;

    add_vni(current, 5000);
    add_port(current, "tap0", 5000, 1);
    steps = config_steps_create(current, current);
    ck_assert_uint_eq(config_steps_pending(steps), 0);
    step = config_steps_next(steps, 1, &last);
    ck_assert(last);
    ck_assert_ptr_eq(step, current);
    config_steps_destroy(steps);
    config_steps_destroy(NULL);
    protobuf_c_message_free_unpacked(&current->base, NULL);
}
END_TEST

static Suite *
config_steps_suite(void)
{
    Suite *s = suite_create("config-steps");

    fixture_add_case(s, "steps add a few ports each",
                     test_steps_add_a_few_ports_each, NULL, NULL);
    fixture_add_case(s, "a port whose VNI goes stays, unbound",
                     test_a_port_whose_vni_goes_stays_unbound, NULL, NULL);
    fixture_add_case(s, "a target with nothing new is one step",
                     test_a_target_with_nothing_new_is_one_step, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(config_steps_suite());
}
