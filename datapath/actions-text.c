#include <config.h>

#include "actions-text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "flow-scan.h"
#include "flow-text.h"
#include "inet.h"
#include "util.h"

#define VNI_MAX 0xffffff
#define VID_MAX 0xfff

/* What one action looks like while the list is being read. */
struct parse_ctx {
    const struct flow_text_ports *ports;
    int table;                  /* The rule's; goto_table goes beyond. */
    struct ds *error;
};

typedef bool parse_arg_func(const struct parse_ctx *, const char *name,
                            const char *arg, struct flow_action *);

/* Appends "NAME: MESSAGE" to the parse's error and returns false. */
#define bad(PARSE, ...) flow_scan_error((PARSE)->error, __VA_ARGS__)

static bool
parse_port(const struct parse_ctx *ctx, const char *name, const char *arg,
           struct flow_action *act)
{
    if (act->type == FLOW_ACTION_OUTPUT
        && flow_scan_keyword_eq(arg, "in_port")) {
        act->type = FLOW_ACTION_OUTPUT_IN_PORT;
    } else if (!flow_scan_port(arg, ctx->ports, &act->port)) {
        return bad(ctx, name, "'%s' is no port", arg);
    }
    return true;
}

static bool
parse_vni(const struct parse_ctx *ctx, const char *name, const char *arg,
          struct flow_action *act)
{
    uint64_t v;

    if (!flow_scan_uint(arg, VNI_MAX, &v)) {
        return bad(ctx, name, "'%s' is not a VNI (0 to 0xffffff)", arg);
    }
    act->vni = (uint32_t) v;
    return true;
}

static bool
parse_mac(const struct parse_ctx *ctx, const char *name, const char *arg,
          struct flow_action *act)
{
    if (!eth_addr_parse(arg, &act->mac)) {
        return bad(ctx, name, "'%s' is not a MAC address", arg);
    }
    return true;
}

static bool
parse_vid(const struct parse_ctx *ctx, const char *name, const char *arg,
          struct flow_action *act)
{
    uint64_t v;

    if (!flow_scan_uint(arg, VID_MAX, &v)) {
        return bad(ctx, name, "'%s' is not a VLAN ID (0 to 4095)", arg);
    }
    act->vid = (uint16_t) v;
    return true;
}

static bool
parse_ip(const struct parse_ctx *ctx, const char *name, const char *arg,
         struct flow_action *act)
{
    if (!inet_parse(arg, &act->addr)) {
        return bad(ctx, name, "'%s' is not an IP address", arg);
    }
    return true;
}

static bool
parse_tpid(const struct parse_ctx *ctx, const char *name, const char *arg,
           struct flow_action *act)
{
    uint64_t v;

    if (!flow_scan_uint(arg, UINT16_MAX, &v)
        || (v != 0x8100 && v != 0x88a8)) {
        return bad(ctx, name, "'%s' is not 0x8100 or 0x88a8", arg);
    }
    act->tpid = htons((uint16_t) v);
    return true;
}

static bool
parse_table(const struct parse_ctx *ctx, const char *name, const char *arg,
            struct flow_action *act)
{
    uint64_t v;
    int from = ctx->table < 0 ? 0 : ctx->table;

    if (!flow_scan_uint(arg, FLOW_TEXT_MAX_TABLE, &v)) {
        return bad(ctx, name, "'%s' is not a table (0 to %d)", arg,
                   FLOW_TEXT_MAX_TABLE);
    }
    if ((int) v <= from) {
        return bad(ctx, name, "table %d is not after this rule's table %d",
                   (int) v, from);
    }
    act->table = (uint8_t) v;
    return true;
}

/* resubmit:PORT, resubmit(PORT), resubmit(,TABLE), resubmit(PORT,TABLE).
 * The parenthesized forms arrive as "(...)". */
static bool
parse_resubmit(const struct parse_ctx *ctx, const char *name,
               const char *arg, struct flow_action *act)
{
    char buf[128];
    char *port = buf, *table = NULL;
    uint64_t v;

    act->resubmit.port = FLOW_ACTION_IN_PORT;
    act->resubmit.table = FLOW_ACTION_TABLE_SAME;
    if (arg[0] != '(') {
        return flow_scan_port(arg, ctx->ports, &act->resubmit.port)
               || bad(ctx, name, "'%s' is no port", arg);
    }
    if (strlen(arg) >= sizeof buf) {
        return bad(ctx, name, "argument too long");
    }
    /* resubmit:(... reaches here too, without the ')' the parenthesized
     * form was checked for. */
    if (strlen(arg) < 2 || arg[strlen(arg) - 1] != ')') {
        return bad(ctx, name, "'%s' lacks its ')'", arg);
    }
    strcpy(buf, arg + 1);
    buf[strlen(buf) - 1] = '\0';
    table = strchr(buf, ',');
    if (table) {
        *table++ = '\0';
        if (!flow_scan_uint(table, FLOW_TEXT_MAX_TABLE, &v)) {
            return bad(ctx, name, "'%s' is not a table (0 to %d)", table,
                       FLOW_TEXT_MAX_TABLE);
        }
        act->resubmit.table = (uint8_t) v;
    }
    if (*port && !flow_scan_port(port, ctx->ports, &act->resubmit.port)) {
        return bad(ctx, name, "'%s' is no port", port);
    }
    if (!*port && !table) {
        return bad(ctx, name, "needs a port or a table");
    }
    return true;
}

/* set_field:VALUE->FIELD: each field it may set is an action type. */
static bool
parse_set_field(const struct parse_ctx *ctx, const char *name,
                const char *arg, struct flow_action *act)
{
    static const struct {
        const char *field;
        enum flow_action_type type;
        parse_arg_func *parse;
    } fields[] = {
        { "tun_id", FLOW_ACTION_SET_TUN_ID, parse_vni },
        { "tun_dst", FLOW_ACTION_SET_TUN_DST, parse_ip },
        { "eth_src", FLOW_ACTION_SET_ETH_SRC, parse_mac },
        { "eth_dst", FLOW_ACTION_SET_ETH_DST, parse_mac },
        { "vlan_vid", FLOW_ACTION_SET_VLAN_VID, parse_vid },
    };
    const char *arrow = strstr(arg, "->");
    char value[128];

    if (!arrow) {
        return bad(ctx, name, "'%s' is not VALUE->FIELD", arg);
    }
    if ((size_t) (arrow - arg) >= sizeof value) {
        return bad(ctx, name, "value too long");
    }
    memcpy(value, arg, arrow - arg);
    value[arrow - arg] = '\0';
    if (strchr(value, '/')) {
        return bad(ctx, name, "'%s' has a mask, which it cannot take",
                   value);
    }
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (flow_scan_keyword_eq(arrow + 2, fields[i].field)) {
            act->type = fields[i].type;
            return fields[i].parse(ctx, name, value, act);
        }
    }
    return bad(ctx, name, "cannot set field '%s' (only tun_id, tun_dst, "
               "eth_src, eth_dst, vlan_vid)", arrow + 2);
}

/* Every keyword; 'parse' is NULL for those without an argument.  The first
 * spelling of a type is the one printed. */
static const struct action_syntax {
    const char *name;
    enum flow_action_type type;
    parse_arg_func *parse;
} syntaxes[] = {
    { "normal", FLOW_ACTION_NORMAL, NULL },
    { "flood", FLOW_ACTION_FLOOD, NULL },
    { "output", FLOW_ACTION_OUTPUT, parse_port },
    { "in_port", FLOW_ACTION_OUTPUT_IN_PORT, NULL },
    { "set_field", FLOW_ACTION_SET_TUN_ID, parse_set_field },
    { "set_tunnel", FLOW_ACTION_SET_TUNNEL, parse_vni },
    { "mod_dl_src", FLOW_ACTION_MOD_DL_SRC, parse_mac },
    { "mod_dl_dst", FLOW_ACTION_MOD_DL_DST, parse_mac },
    { "mod_vlan_vid", FLOW_ACTION_MOD_VLAN_VID, parse_vid },
    { "push_vlan", FLOW_ACTION_PUSH_VLAN, parse_tpid },
    { "strip_vlan", FLOW_ACTION_STRIP_VLAN, NULL },
    { "pop_vlan", FLOW_ACTION_STRIP_VLAN, NULL },
    { "goto_table", FLOW_ACTION_GOTO_TABLE, parse_table },
    { "resubmit", FLOW_ACTION_RESUBMIT, parse_resubmit },
};

static const struct action_syntax *
find_syntax(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(syntaxes); i++) {
        if (flow_scan_keyword_eq(name, syntaxes[i].name)) {
            return &syntaxes[i];
        }
    }
    return NULL;
}

/* Cuts the next action off '*textp': up to a comma or white space that is
 * not inside parentheses.  Returns NULL at the end. */
static char *
next_token(char **textp)
{
    char *s = *textp + strspn(*textp, ", \t\r\n");
    char *start = s;
    int depth = 0;

    if (!*s) {
        return NULL;
    }
    for (; *s; s++) {
        if (*s == '(') {
            depth++;
        } else if (*s == ')' && depth) {
            depth--;
        } else if (!depth && strchr(", \t\r\n", *s)) {
            *s++ = '\0';
            break;
        }
    }
    *textp = s;
    return start;
}

/* Parses one action 'token' into 'act'. */
static bool
parse_action(const struct parse_ctx *ctx, char *token,
             struct flow_action *act)
{
    size_t len = strcspn(token, ":(");
    char sep = token[len];
    const struct action_syntax *syntax;
    char *arg = token + len;
    char name[32];

    memset(act, 0, sizeof *act);
    snprintf(name, sizeof name, "%.*s", (int) len, token);
    syntax = len < sizeof name ? find_syntax(name) : NULL;
    if (!syntax) {
        /* A bare port is an output, as in ovs-ofctl. */
        if (!sep && flow_scan_port(token, ctx->ports, &act->port)) {
            act->type = FLOW_ACTION_OUTPUT;
            return true;
        }
        return flow_scan_unknown(ctx->error, "action", token, len);
    }
    act->type = syntax->type;
    if (!syntax->parse) {
        return !sep || bad(ctx, name, "takes no argument");
    }
    if (sep == ':') {
        arg++;
    } else if (!sep) {
        return bad(ctx, name, "needs an argument");
    } else if (syntax->type != FLOW_ACTION_RESUBMIT) {
        return bad(ctx, name, "'%s' is not ':ARGUMENT'", arg);
    } else if (arg[strlen(arg) - 1] != ')') {
        return bad(ctx, name, "'%s' lacks its ')'", arg);
    }
    if (!*arg) {
        return bad(ctx, name, "needs an argument");
    }
    return syntax->parse(ctx, name, arg, act);
}

/* Checks the rules that concern the list as a whole. */
static bool
check_list(const struct parse_ctx *ctx, const struct flow_action *acts,
           size_t n, bool dropped)
{
    size_t n_goto = 0;

    for (size_t i = 0; i < n; i++) {
        if (acts[i].type == FLOW_ACTION_GOTO_TABLE && ++n_goto > 1) {
            return bad(ctx, "goto_table", "given twice");
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (acts[i].type == FLOW_ACTION_GOTO_TABLE && i != n - 1) {
            return bad(ctx, "goto_table", "must be the last action");
        }
    }
    return !(dropped && n) || bad(ctx, "drop", "must be the only action");
}

int
actions_text_parse(char *text, int table,
                   const struct flow_text_ports *ports,
                   struct flow_actions **actsp, struct ds *error)
{
    struct parse_ctx ctx = { .ports = ports, .table = table, .error = error };
    struct flow_action acts[FLOW_ACTIONS_MAX];
    bool dropped = false;
    size_t n = 0;
    char *token;

    *actsp = NULL;
    while ((token = next_token(&text)) != NULL) {
        if (flow_scan_keyword_eq(token, "drop")) {
            if (dropped) {
                return bad(&ctx, "drop", "given twice"), EINVAL;
            }
            dropped = true;
            continue;
        }
        if (n == FLOW_ACTIONS_MAX) {
            ds_put_format(error, "actions: more than %d", FLOW_ACTIONS_MAX);
            return EINVAL;
        }
        if (!parse_action(&ctx, token, &acts[n])) {
            return EINVAL;
        }
        n++;
    }
    if (!check_list(&ctx, acts, n, dropped)) {
        return EINVAL;
    }
    *actsp = flow_actions_create(acts, n);
    return *actsp ? 0 : ENOMEM;
}

void
actions_text_format_port(struct ds *s, uint32_t port_no,
                         const struct flow_text_ports *ports)
{
    const char *name = (ports && ports->port_name
                        ? ports->port_name(ports->aux, port_no) : NULL);

    if (name) {
        ds_put_cstr(s, name);
    } else {
        ds_put_format(s, "%"PRIu32, port_no);
    }
}

static void
format_resubmit(struct ds *s, const struct flow_action *act,
                const struct flow_text_ports *ports)
{
    bool has_port = act->resubmit.port != FLOW_ACTION_IN_PORT;

    if (act->resubmit.table == FLOW_ACTION_TABLE_SAME) {
        ds_put_cstr(s, "resubmit:");
        actions_text_format_port(s, act->resubmit.port, ports);
        return;
    }
    ds_put_cstr(s, "resubmit(");
    if (has_port) {
        actions_text_format_port(s, act->resubmit.port, ports);
    }
    ds_put_format(s, ",%d)", act->resubmit.table);
}

static void
format_action(struct ds *s, const struct flow_action *act,
              const struct flow_text_ports *ports)
{
    char buf[INET_ADDR_STRLEN];

    switch ((enum flow_action_type) act->type) {
    case FLOW_ACTION_NORMAL:
        ds_put_cstr(s, "normal");
        break;
    case FLOW_ACTION_FLOOD:
        ds_put_cstr(s, "flood");
        break;
    case FLOW_ACTION_OUTPUT_IN_PORT:
        ds_put_cstr(s, "in_port");
        break;
    case FLOW_ACTION_OUTPUT:
        ds_put_cstr(s, "output:");
        actions_text_format_port(s, act->port, ports);
        break;
    case FLOW_ACTION_SET_TUN_ID:
        ds_put_format(s, "set_field:%#"PRIx32"->tun_id", act->vni);
        break;
    case FLOW_ACTION_SET_TUNNEL:
        ds_put_format(s, "set_tunnel:%#"PRIx32, act->vni);
        break;
    case FLOW_ACTION_SET_TUN_DST:
        ds_put_format(s, "set_field:%s->tun_dst",
                      inet_format(&act->addr, buf));
        break;
    case FLOW_ACTION_SET_ETH_SRC:
    case FLOW_ACTION_SET_ETH_DST:
        ds_put_format(s, "set_field:%s->%s", eth_addr_format(&act->mac, buf),
                      act->type == FLOW_ACTION_SET_ETH_SRC ? "eth_src"
                                                           : "eth_dst");
        break;
    case FLOW_ACTION_MOD_DL_SRC:
    case FLOW_ACTION_MOD_DL_DST:
        ds_put_format(s, "%s:%s",
                      act->type == FLOW_ACTION_MOD_DL_SRC ? "mod_dl_src"
                                                          : "mod_dl_dst",
                      eth_addr_format(&act->mac, buf));
        break;
    case FLOW_ACTION_SET_VLAN_VID:
        ds_put_format(s, "set_field:%d->vlan_vid", act->vid);
        break;
    case FLOW_ACTION_MOD_VLAN_VID:
        ds_put_format(s, "mod_vlan_vid:%d", act->vid);
        break;
    case FLOW_ACTION_PUSH_VLAN:
        ds_put_format(s, "push_vlan:0x%04x", ntohs(act->tpid));
        break;
    case FLOW_ACTION_STRIP_VLAN:
        ds_put_cstr(s, "strip_vlan");
        break;
    case FLOW_ACTION_GOTO_TABLE:
        ds_put_format(s, "goto_table:%d", act->table);
        break;
    case FLOW_ACTION_RESUBMIT:
        format_resubmit(s, act, ports);
        break;
    case FLOW_ACTION_N_TYPES:
    default:
        ds_put_format(s, "unknown_action_%d", act->type);
        break;
    }
}

void
actions_text_format(struct ds *s, const struct flow_actions *a,
                    const struct flow_text_ports *ports)
{
    if (!a || !a->n) {
        ds_put_cstr(s, "drop");
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (i) {
            ds_put_char(s, ',');
        }
        format_action(s, &a->acts[i], ports);
    }
}
