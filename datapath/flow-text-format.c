#include <config.h>

#include "flow-text.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "actions-text.h"
#include "flow-fields.h"
#include "inet.h"
#include "util.h"

/* The printing half of flow-text.h: what it prints, flow-text.c parses
 * back to the same rule. */

/* Returns the prefix length of the 'n' bytes of 'mask', or -1 if its ones
 * are not a prefix. */
static int
mask_to_prefix(const uint8_t *mask, size_t n)
{
    int len = 0;
    size_t i = 0;

    for (; i < n && mask[i] == 0xff; i++) {
        len += 8;
    }
    if (i < n) {
        uint8_t b = mask[i++];

        while (b & 0x80) {
            b = (uint8_t) (b << 1);
            len++;
        }
        if (b) {
            return -1;
        }
    }
    for (; i < n; i++) {
        if (mask[i]) {
            return -1;
        }
    }
    return len;
}

static bool
all_ones(const uint8_t *b, size_t n)
{
    return mask_to_prefix(b, n) == (int) (8 * n);
}

static bool
all_zeros(const uint8_t *b, size_t n)
{
    return !mask_to_prefix(b, n) && (!n || !b[0]);
}

/* Says whether 'f' is to be printed for 'm': the match looks at its bits,
 * and of the names of one slot 'f' is the one that fits the match. */
static bool
field_shown(const struct flow_field *f, const struct match *m)
{
    uint16_t tci_mask = flow_fields_tci(&m->mask);

    if (!flow_fields_prereq_ok(m, f->print_if)) {
        return false;
    }
    switch (f->kind) {
    case FLOW_FIELD_VLAN_VID:
        return (tci_mask & FLOW_FIELDS_VID_MASK) || flow_fields_no_tag(m);
    case FLOW_FIELD_VLAN_PCP:
        return (tci_mask & FLOW_FIELDS_PCP_MASK) && !flow_fields_no_tag(m);
    case FLOW_FIELD_INT:
    case FLOW_FIELD_IN_PORT:
    case FLOW_FIELD_MAC:
    case FLOW_FIELD_IPV4:
    case FLOW_FIELD_IPV6:
    case FLOW_FIELD_TUN_IP:
    case FLOW_FIELD_TOS:
    case FLOW_FIELD_DSCP:
    case FLOW_FIELD_TCP_FLAGS:
    default:
        return !all_zeros(flow_fields_cbytes(&m->mask, f), f->width);
    }
}

static void
format_int(struct ds *s, const struct flow_field *f, const struct match *m)
{
    uint32_t v = flow_fields_get_int(&m->key, f);
    uint32_t mask = flow_fields_get_int(&m->mask, f);

    if (mask != flow_fields_full_mask(f)) {
        ds_put_format(s, "%#"PRIx32"/%#"PRIx32, v, mask);
    } else if (f->hex) {
        ds_put_format(s, f->width == 2 ? "0x%04"PRIx32 : "%#"PRIx32, v);
    } else {
        ds_put_format(s, "%"PRIu32, v);
    }
}

static void
format_mac(struct ds *s, const struct flow_field *f, const struct match *m)
{
    const struct eth_addr *key = (const void *) flow_fields_cbytes(&m->key, f);
    const struct eth_addr *mask = (const void *) flow_fields_cbytes(&m->mask,
                                                                    f);
    char buf[ETH_ADDR_STRLEN];

    ds_put_cstr(s, eth_addr_format(key, buf));
    if (!all_ones(mask->ea, ETH_ADDR_LEN)) {
        ds_put_format(s, "/%s", eth_addr_format(mask, buf));
    }
}

/* Appends the 4 or 16 bytes of 'key' and 'mask' of 'family': a prefix as
 * "/LEN", another mask in full. */
static void
format_ip(struct ds *s, int family, const uint8_t *key, const uint8_t *mask)
{
    size_t n = family == AF_INET ? 4 : 16;
    int len = mask_to_prefix(mask, n);
    char buf[INET_ADDR_STRLEN];

    ds_put_cstr(s, inet_ntop(family, key, buf, sizeof buf));
    if (len < 0) {
        ds_put_format(s, "/%s", inet_ntop(family, mask, buf, sizeof buf));
    } else if (len != (int) (8 * n)) {
        ds_put_format(s, "/%d", len);
    }
}

static void
format_addr(struct ds *s, const struct flow_field *f, const struct match *m)
{
    static const uint8_t mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };
    const uint8_t *key = flow_fields_cbytes(&m->key, f);
    const uint8_t *mask = flow_fields_cbytes(&m->mask, f);
    bool v4 = (f->kind == FLOW_FIELD_IPV4
               || (f->kind == FLOW_FIELD_TUN_IP && all_ones(mask, 12)
                   && !memcmp(key, mapped, sizeof mapped)));

    if (v4) {
        format_ip(s, AF_INET, key + 12, mask + 12);
    } else {
        format_ip(s, AF_INET6, key, mask);
    }
}

static void
format_tcp_flags(struct ds *s, const struct match *m)
{
    uint16_t flags = ntohs(m->key.tcp_flags);
    uint16_t mask = ntohs(m->mask.tcp_flags);

    if (mask == FLOW_FIELDS_TCP_FLAGS_MASK) {
        ds_put_format(s, "%#"PRIx16, flags);
        return;
    }
    for (size_t i = 0; i < FLOW_FIELDS_N_TCP_FLAGS; i++) {
        if (mask & (1u << i)) {
            ds_put_format(s, "%c%s", flags & (1u << i) ? '+' : '-',
                          flow_fields_tcp_flag_names[i]);
        }
    }
}

static void
format_field(struct ds *s, const struct flow_field *f, const struct match *m,
             const struct flow_text_ports *ports)
{
    uint16_t tci = flow_fields_tci(&m->key);

    ds_put_format(s, "%s=", f->name);
    switch (f->kind) {
    case FLOW_FIELD_INT:
        format_int(s, f, m);
        break;
    case FLOW_FIELD_IN_PORT:
        actions_text_format_port(s, m->key.in_port, ports);
        break;
    case FLOW_FIELD_MAC:
        format_mac(s, f, m);
        break;
    case FLOW_FIELD_IPV4:
    case FLOW_FIELD_IPV6:
    case FLOW_FIELD_TUN_IP:
        format_addr(s, f, m);
        break;
    case FLOW_FIELD_VLAN_VID:
        if (flow_fields_no_tag(m)) {
            ds_put_format(s, "%#x", FLOW_FIELDS_NO_TAG);
        } else {
            ds_put_format(s, "%d", tci & FLOW_FIELDS_VID_MASK);
        }
        break;
    case FLOW_FIELD_VLAN_PCP:
        ds_put_format(s, "%d", tci >> FLOW_FIELDS_PCP_SHIFT);
        break;
    case FLOW_FIELD_TOS:
    case FLOW_FIELD_DSCP:
        ds_put_format(s, "%d", m->key.nw_tos);
        break;
    case FLOW_FIELD_TCP_FLAGS:
    default:
        format_tcp_flags(s, m);
        break;
    }
}

/* Returns the shorthand that says what 'm' says of dl_type and nw_proto,
 * or NULL. */
static const struct flow_shorthand *
find_shorthand(const struct match *m)
{
    for (size_t i = 0; i < FLOW_FIELDS_N_SHORTHANDS; i++) {
        const struct flow_shorthand *sh = &flow_fields_shorthands[i];

        if (flow_fields_dl_type_is(m, sh->dl_type)
            && (sh->nw_proto < 0
                || flow_fields_nw_proto_is(m, (uint8_t) sh->nw_proto))) {
            return sh;
        }
    }
    return NULL;
}

static void
put_separator(struct ds *s, size_t start)
{
    if (s->length > start) {
        ds_put_char(s, ',');
    }
}

void
flow_text_format_match(struct ds *s, const struct match *m,
                       uint16_t priority,
                       const struct flow_text_ports *ports)
{
    const struct flow_shorthand *sh = find_shorthand(m);
    size_t start = s->length;

    if (priority != FLOW_TEXT_DEFAULT_PRIORITY) {
        ds_put_format(s, "priority=%d", priority);
    }
    if (sh) {
        put_separator(s, start);
        ds_put_cstr(s, sh->name);
    }
    for (size_t i = 0; i < FLOW_FIELDS_N; i++) {
        const struct flow_field *f = &flow_fields[i];

        if (!field_shown(f, m)
            || (sh && f->slot == FLOW_SLOT_DL_TYPE)
            || (sh && sh->nw_proto >= 0 && f->slot == FLOW_SLOT_NW_PROTO)) {
            continue;
        }
        put_separator(s, start);
        format_field(s, f, m, ports);
    }
}

void
flow_text_format_actions(struct ds *s, const struct flow_actions *a,
                         const struct flow_text_ports *ports)
{
    actions_text_format(s, a, ports);
}

void
flow_text_format_spec(struct ds *s, const struct flow_spec *spec,
                      const struct flow_text_ports *ports)
{
    size_t start = s->length;
    size_t before, mark;

    if (spec->table >= 0) {
        ds_put_format(s, "table=%d", spec->table);
    }
    if (spec->cookie_mask) {
        put_separator(s, start);
        ds_put_format(s, "cookie=%#"PRIx64, spec->cookie);
        if (spec->cookie_mask != UINT64_MAX) {
            ds_put_format(s, "/%#"PRIx64, spec->cookie_mask);
        }
    }
    if (spec->idle_timeout) {
        put_separator(s, start);
        ds_put_format(s, "idle_timeout=%d", spec->idle_timeout);
    }
    if (spec->hard_timeout) {
        put_separator(s, start);
        ds_put_format(s, "hard_timeout=%d", spec->hard_timeout);
    }
    before = s->length;
    put_separator(s, start);
    mark = s->length;
    flow_text_format_match(s, &spec->match, spec->priority, ports);
    if (s->length == mark) {
        ds_truncate(s, before);
    }
    if (spec->actions) {
        if (s->length > start) {
            ds_put_char(s, ' ');
        }
        ds_put_cstr(s, "actions=");
        flow_text_format_actions(s, spec->actions, ports);
    }
}
