#include <config.h>

#include "flow-text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "actions-text.h"
#include "flow-fields.h"
#include "flow-scan.h"
#include "headers.h"
#include "inet.h"
#include "util.h"

/* The parsing half of flow-text.h; flow-text-format.c prints. */

/* What flow_text_parse() keeps while it reads one line. */
struct parser {
    enum flow_text_mode mode;
    const struct flow_text_ports *ports;
    struct flow_spec *spec;
    struct ds *error;
    const char *given[FLOW_SLOT_N];         /* Who set each slot, or NULL. */
    bool no_tag;                        /* dl_vlan=0xffff. */
    bool field_given[FLOW_FIELDS_N];
};

/* Appends "NAME: MESSAGE" to the parse's error and returns false. */
#define bad(PARSE, ...) flow_scan_error((PARSE)->error, __VA_ARGS__)

static const char *
mode_name(enum flow_text_mode mode)
{
    switch (mode) {
    case FLOW_TEXT_ADD:
        return "a rule to add";
    case FLOW_TEXT_MODIFY:
        return "mod-flows";
    case FLOW_TEXT_FILTER:
        return "a filter (del-flows, dump-flows)";
    case FLOW_TEXT_TRACE:
    default:
        return "a trace";
    }
}

/* Marks 'slot' as set by 'name', refusing a second setting. */
static bool
claim(struct parser *p, enum flow_slot slot, const char *name)
{
    const char *by = p->given[slot];

    if (by) {
        return !strcmp(by, name) ? bad(p, name, "given twice")
                                 : bad(p, name, "sets the same field as %s",
                                       by);
    }
    p->given[slot] = name;
    return true;
}

/* Sets the first 'len' bits of the 'n' bytes of 'mask'. */
static void
prefix_to_mask(uint8_t *mask, size_t n, unsigned int len)
{
    for (size_t i = 0; i < n; i++, len = len > 8 ? len - 8 : 0) {
        mask[i] = len >= 8 ? 0xff : (uint8_t) (0xff00 >> len);
    }
}

/* Splits "VALUE/MASK" at the slash; returns the mask or NULL. */
static char *
split_mask(char *value)
{
    char *slash = strchr(value, '/');

    if (slash) {
        *slash++ = '\0';
    }
    return slash;
}

static bool
parse_int(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    char *mask = split_mask(value);
    uint64_t v, mk = flow_fields_full_mask(f);

    if (!flow_scan_uint(value, f->max, &v)) {
        return bad(p, f->name, f->hex ? "'%s' is not a number from 0 to %#x"
                                      : "'%s' is not a number from 0 to %u",
                   value, f->max);
    }
    if (mask && !flow_scan_uint(mask, f->max, &mk)) {
        return bad(p, f->name, "'%s' is not a mask from 0 to %#x", mask,
                   f->max);
    }
    flow_fields_put_int(&m->key, f, (uint32_t) v);
    flow_fields_put_int(&m->mask, f, (uint32_t) mk);
    return true;
}

static bool
parse_mac(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    struct eth_addr *key = (struct eth_addr *) flow_fields_bytes(&m->key, f);
    struct eth_addr *mk = (struct eth_addr *) flow_fields_bytes(&m->mask, f);
    char *mask = split_mask(value);

    if (!eth_addr_parse(value, key)) {
        return bad(p, f->name, "'%s' is not a MAC address", value);
    }
    if (!mask) {
        memset(mk, 0xff, sizeof *mk);
    } else if (!eth_addr_parse(mask, mk)) {
        return bad(p, f->name, "'%s' is not a MAC mask", mask);
    }
    return true;
}

/* Parses "ADDRESS[/LENGTH|/MASK]" of 'family' into the 4 or 16 bytes of
 * 'key' and 'mask'. */
static bool
parse_ip(struct parser *p, const struct flow_field *f, char *value, int family,
         uint8_t *key, uint8_t *mask)
{
    size_t n = family == AF_INET ? 4 : 16;
    char *slash = split_mask(value);
    uint64_t len;

    if (inet_pton(family, value, key) != 1) {
        return bad(p, f->name, "'%s' is not an %s address", value,
                   family == AF_INET ? "IPv4" : "IPv6");
    }
    if (!slash) {
        memset(mask, 0xff, n);
    } else if (flow_scan_uint(slash, 8 * n, &len)) {
        prefix_to_mask(mask, n, (unsigned int) len);
    } else if (inet_pton(family, slash, mask) != 1) {
        return bad(p, f->name, "'%s' is not a prefix length (0 to %zu) nor "
                   "an %s mask", slash, 8 * n,
                   family == AF_INET ? "IPv4" : "IPv6");
    }
    return true;
}

static bool
parse_addr(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint8_t *key = flow_fields_bytes(&m->key, f);
    uint8_t *mask = flow_fields_bytes(&m->mask, f);
    bool v4 = (f->kind == FLOW_FIELD_IPV4
               || (f->kind == FLOW_FIELD_TUN_IP && !strchr(value, ':')));

    if (!v4) {
        return parse_ip(p, f, value, AF_INET6, key, mask);
    }
    if (f->kind == FLOW_FIELD_TUN_IP) {
        /* Tunnel addresses of either family share the field: the IPv4
         * ones are told apart by their mapped prefix.  nw_src needs no
         * prefix, since dl_type says which family it holds. */
        memset(mask, 0xff, 12);
        key[10] = key[11] = 0xff;
    }
    return parse_ip(p, f, value, AF_INET, key + 12, mask + 12);
}

static bool
parse_in_port(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;

    if (!flow_scan_port(value, p->ports, &m->key.in_port)) {
        return bad(p, f->name, "'%s' is no port", value);
    }
    m->mask.in_port = UINT32_MAX;
    return true;
}

static void
tci_or(struct flow_key *k, uint16_t bits)
{
    k->vlan_tci = htons(flow_fields_tci(k) | bits);
}

static bool
parse_vlan(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint64_t v;

    if (f->kind == FLOW_FIELD_VLAN_PCP) {
        if (!flow_scan_uint(value, 7, &v)) {
            return bad(p, f->name, "'%s' is not a priority from 0 to 7",
                       value);
        }
        tci_or(&m->key, (uint16_t) (v << FLOW_FIELDS_PCP_SHIFT)
                        | FLOW_VLAN_PRESENT);
        tci_or(&m->mask, FLOW_FIELDS_PCP_MASK | FLOW_VLAN_PRESENT);
        return true;
    }
    if (!flow_scan_uint(value, 0xffff, &v)
        || (v > FLOW_FIELDS_VID_MASK && v != FLOW_FIELDS_NO_TAG)) {
        return bad(p, f->name, "'%s' is not a VLAN ID from 0 to 4095 (or "
                   "0xffff for no tag)", value);
    }
    if (v == FLOW_FIELDS_NO_TAG) {
        p->no_tag = true;
        m->mask.vlan_tci = htons(0xffff);
    } else {
        tci_or(&m->key, (uint16_t) v | FLOW_VLAN_PRESENT);
        tci_or(&m->mask, FLOW_FIELDS_VID_MASK | FLOW_VLAN_PRESENT);
    }
    return true;
}

static bool
parse_tos(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    uint64_t v;

    if (f->kind == FLOW_FIELD_DSCP) {
        if (!flow_scan_uint(value, 63, &v)) {
            return bad(p, f->name, "'%s' is not a number from 0 to 63",
                       value);
        }
        v <<= 2;
    } else if (!flow_scan_uint(value, 0xff, &v)) {
        return bad(p, f->name, "'%s' is not a number from 0 to 255", value);
    } else if (v & ~FLOW_FIELDS_DSCP_MASK) {
        return bad(p, f->name, "%s has ECN bits (the low 2) set", value);
    }
    m->key.nw_tos = (uint8_t) v;
    m->mask.nw_tos = FLOW_FIELDS_DSCP_MASK;
    return true;
}

/* Returns the bit of TCP flag 'name' (of 'len' bytes), or 0. */
static uint16_t
tcp_flag_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < FLOW_FIELDS_N_TCP_FLAGS; i++) {
        if (strlen(flow_fields_tcp_flag_names[i]) == len
            && !strncmp(flow_fields_tcp_flag_names[i], name, len)) {
            return (uint16_t) (1u << i);
        }
    }
    return 0;
}

static bool
parse_tcp_flags_number(struct parser *p, const struct flow_field *f,
                       char *value)
{
    struct match *m = &p->spec->match;
    char *mask = split_mask(value);
    uint64_t v, mk = FLOW_FIELDS_TCP_FLAGS_MASK;

    if (!flow_scan_uint(value, FLOW_FIELDS_TCP_FLAGS_MASK, &v)
        || (mask && !flow_scan_uint(mask, FLOW_FIELDS_TCP_FLAGS_MASK, &mk))) {
        return bad(p, f->name, "'%s%s%s' is not VALUE[/MASK] of at most "
                   "0xfff", value, mask ? "/" : "", mask ? mask : "");
    }
    m->key.tcp_flags = htons((uint16_t) v);
    m->mask.tcp_flags = htons((uint16_t) mk);
    return true;
}

/* "+syn-ack": each flag named is matched, set (+) or not (-).
 * "syn|ack" (or a number): exactly these flags are set. */
static bool
parse_tcp_flags(struct parser *p, const struct flow_field *f, char *value)
{
    struct match *m = &p->spec->match;
    bool masked = value[0] == '+' || value[0] == '-';
    uint16_t flags = 0, mask = masked ? 0 : FLOW_FIELDS_TCP_FLAGS_MASK;
    const char *s = value;

    if (isdigit((unsigned char) value[0])) {
        return parse_tcp_flags_number(p, f, value);
    }
    if (!*value) {
        return bad(p, f->name, "'' is not VALUE[/MASK] nor flags");
    }
    if (masked && p->mode == FLOW_TEXT_TRACE) {
        return bad(p, f->name, "no mask in %s", mode_name(p->mode));
    }
    while (*s) {
        bool set = *s != '-';
        size_t len;
        uint16_t bit;

        s += masked;
        len = strcspn(s, masked ? "+-" : "|");
        bit = tcp_flag_bit(s, len);
        if (!bit) {
            return bad(p, f->name, "unknown flag '%.*s' (fin, syn, rst, psh, "
                       "ack, urg, ece, cwr, ns)", (int) len, s);
        }
        if ((masked ? mask : flags) & bit) {
            return bad(p, f->name, "flag '%.*s' given twice", (int) len, s);
        }
        flags |= set ? bit : 0;
        mask |= bit;
        s += len;
        if (!masked && *s == '|' && *++s == '\0') {
            return bad(p, f->name, "'%s' ends with '|'", value);
        }
        if (masked && *s && *s != '+' && *s != '-') {
            return bad(p, f->name, "'%s' is not +FLAG-FLAG...", value);
        }
    }
    m->key.tcp_flags = htons(flags);
    m->mask.tcp_flags = htons(mask);
    return true;
}

static bool
parse_field(struct parser *p, const struct flow_field *f, char *value)
{
    if (!claim(p, f->slot, f->name)) {
        return false;
    }
    p->field_given[f - flow_fields] = true;
    if (strchr(value, '/')) {
        if (p->mode == FLOW_TEXT_TRACE) {
            return bad(p, f->name, "no mask in %s", mode_name(p->mode));
        }
        if (!f->maskable) {
            return bad(p, f->name, "cannot be masked");
        }
    }
    switch (f->kind) {
    case FLOW_FIELD_INT:
        return parse_int(p, f, value);
    case FLOW_FIELD_IN_PORT:
        return parse_in_port(p, f, value);
    case FLOW_FIELD_MAC:
        return parse_mac(p, f, value);
    case FLOW_FIELD_IPV4:
    case FLOW_FIELD_IPV6:
    case FLOW_FIELD_TUN_IP:
        return parse_addr(p, f, value);
    case FLOW_FIELD_VLAN_VID:
    case FLOW_FIELD_VLAN_PCP:
        return parse_vlan(p, f, value);
    case FLOW_FIELD_TOS:
    case FLOW_FIELD_DSCP:
        return parse_tos(p, f, value);
    case FLOW_FIELD_TCP_FLAGS:
    default:
        return parse_tcp_flags(p, f, value);
    }
}

static bool
parse_shorthand(struct parser *p, const char *name)
{
    struct match *m = &p->spec->match;

    for (size_t i = 0; i < FLOW_FIELDS_N_SHORTHANDS; i++) {
        const struct flow_shorthand *sh = &flow_fields_shorthands[i];

        if (strcmp(name, sh->name)) {
            continue;
        }
        if (!claim(p, FLOW_SLOT_DL_TYPE, sh->name)
            || (sh->nw_proto >= 0 && !claim(p, FLOW_SLOT_NW_PROTO, sh->name))) {
            return false;
        }
        m->key.dl_type = htons(sh->dl_type);
        m->mask.dl_type = htons(0xffff);
        if (sh->nw_proto >= 0) {
            m->key.nw_proto = (uint8_t) sh->nw_proto;
            m->mask.nw_proto = 0xff;
        }
        return true;
    }
    return flow_scan_unknown(p->error, "field", name, strlen(name));
}

/* Parses 'value' of a setting of the rule itself ('name' in 'slot'),
 * which is a number up to 'max' that 'mode' may hold. */
static bool
parse_setting(struct parser *p, enum flow_slot slot, const char *name,
              const char *value, uint64_t max, uint64_t *v)
{
    bool allowed = (p->mode == FLOW_TEXT_TRACE ? false
                    : slot == FLOW_SLOT_IDLE || slot == FLOW_SLOT_HARD
                    ? p->mode == FLOW_TEXT_ADD : true);

    if (!claim(p, slot, name)) {
        return false;
    }
    if (!allowed) {
        return bad(p, name, "not allowed in %s", mode_name(p->mode));
    }
    if (!flow_scan_uint(value, max, v)) {
        return bad(p, name, "'%s' is not a number from 0 to %"PRIu64, value,
                   max);
    }
    return true;
}

static bool
parse_cookie(struct parser *p, char *value)
{
    struct flow_spec *spec = p->spec;
    char *mask = split_mask(value);

    if (!parse_setting(p, FLOW_SLOT_COOKIE, "cookie", value, UINT64_MAX,
                       &spec->cookie)) {
        return false;
    }
    spec->cookie_mask = UINT64_MAX;
    if (!mask) {
        return true;
    }
    if (p->mode == FLOW_TEXT_ADD) {
        return bad(p, "cookie", "a mask selects rules; not allowed in %s",
                   mode_name(p->mode));
    }
    if (strcmp(mask, "-1")
        && !flow_scan_uint(mask, UINT64_MAX, &spec->cookie_mask)) {
        return bad(p, "cookie", "'%s' is not a 64-bit mask", mask);
    }
    spec->cookie &= spec->cookie_mask;
    return true;
}

/* Parses "key=value" other than actions=. */
static bool
parse_key_value(struct parser *p, const char *key, char *value)
{
    static const char *const ignored[] = {
        /* dump-flows prints these; they may come back in a flow file. */
        "duration", "n_packets", "n_bytes", "idle_age", "hard_age",
    };
    struct flow_spec *spec = p->spec;
    uint64_t v;

    for (size_t i = 0; i < FLOW_FIELDS_N; i++) {
        if (!strcmp(key, flow_fields[i].name)) {
            return parse_field(p, &flow_fields[i], value);
        }
    }
    if (!strcmp(key, "table")) {
        if (!parse_setting(p, FLOW_SLOT_TABLE, key, value,
                           FLOW_TEXT_MAX_TABLE, &v)) {
            return false;
        }
        spec->table = (int) v;
    } else if (!strcmp(key, "priority")) {
        if (!parse_setting(p, FLOW_SLOT_PRIORITY, key, value, UINT16_MAX, &v)) {
            return false;
        }
        spec->priority = (uint16_t) v;
        spec->has_priority = true;
    } else if (!strcmp(key, "cookie")) {
        return parse_cookie(p, value);
    } else if (!strcmp(key, "idle_timeout") || !strcmp(key, "hard_timeout")) {
        bool idle = key[0] == 'i';

        if (!parse_setting(p, idle ? FLOW_SLOT_IDLE : FLOW_SLOT_HARD, key,
                           value, UINT16_MAX, &v)) {
            return false;
        }
        *(idle ? &spec->idle_timeout : &spec->hard_timeout) = (uint16_t) v;
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(ignored); i++) {
            if (!strcmp(key, ignored[i])) {
                return true;
            }
        }
        return flow_scan_unknown(p->error, "field", key, strlen(key));
    }
    return true;
}

/* The checks that need the whole line. */
static bool
check_line(struct parser *p, const char *actions)
{
    const struct match *m = &p->spec->match;
    bool wants_actions = (p->mode == FLOW_TEXT_ADD
                          || p->mode == FLOW_TEXT_MODIFY);

    for (size_t i = 0; i < FLOW_FIELDS_N; i++) {
        const struct flow_field *f = &flow_fields[i];

        if (p->field_given[i] && !flow_fields_prereq_ok(m, f->prereq)) {
            return bad(p, f->name, "needs %s",
                       flow_fields_prereq_text(f->prereq));
        }
    }
    if (p->given[FLOW_SLOT_VLAN_PCP] && p->no_tag) {
        return bad(p, "dl_vlan_pcp", "a frame without a tag "
                   "(dl_vlan=0xffff) has no priority");
    }
    if (wants_actions && !actions) {
        return bad(p, "actions", "missing: %s needs actions=",
                   mode_name(p->mode));
    }
    if (!wants_actions && actions) {
        return bad(p, "actions", "not allowed in %s", mode_name(p->mode));
    }
    return true;
}

#define SEPARATORS ", \t\r\n"

/* Parses the line in 'line', which it modifies. */
static int
parse_line(struct parser *p, char *line)
{
    char *s = line, *actions = NULL;

    for (;;) {
        size_t len;
        char *key;

        s += strspn(s, SEPARATORS);
        if (!*s) {
            break;
        }
        key = s;
        len = strcspn(s, "=" SEPARATORS);
        if (s[len] == '=') {
            char *value = s + len + 1;
            size_t vlen;

            key[len] = '\0';
            if (!strcmp(key, "actions")) {
                actions = value;
                break;
            }
            vlen = strcspn(value, SEPARATORS);
            s = value + vlen + (value[vlen] != '\0');
            value[vlen] = '\0';
            if (!parse_key_value(p, key, value)) {
                return EINVAL;
            }
        } else {
            s += len + (s[len] != '\0');
            key[len] = '\0';
            if (!parse_shorthand(p, key)) {
                return EINVAL;
            }
        }
    }
    if (!check_line(p, actions)) {
        return EINVAL;
    }
    match_normalize(&p->spec->match);
    return actions ? actions_text_parse(actions, p->spec->table, p->ports,
                                        &p->spec->actions, p->error)
                   : 0;
}

int
flow_text_parse(const char *text, enum flow_text_mode mode,
                const struct flow_text_ports *ports,
                struct flow_spec *spec, struct ds *error)
{
    struct parser p = {
        .mode = mode, .ports = ports, .spec = spec, .error = error,
    };
    char *line;
    int err;

    memset(spec, 0, sizeof *spec);
    spec->table = -1;
    spec->priority = FLOW_TEXT_DEFAULT_PRIORITY;
    match_init_catchall(&spec->match);

    line = strdup(text);
    if (!line) {
        return ENOMEM;
    }
    err = parse_line(&p, line);
    free(line);
    if (err) {
        flow_spec_uninit(spec);
    }
    return err;
}

void
flow_spec_uninit(struct flow_spec *spec)
{
    if (spec) {
        free(spec->actions);
        spec->actions = NULL;
    }
}
