#include <config.h>

#include "build.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eth-addr.h"
#include "port.h"

void
build_init(struct build *b)
{
    static const Vswitch__Request init = VSWITCH__REQUEST__INIT;

    memset(b, 0, sizeof *b);
    b->request = init;
    b->request.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
}

void
build_destroy(struct build *b)
{
    if (b) {
        for (size_t i = 0; i < b->n_allocs; i++) {
            free(b->allocs[i]);
        }
        free(b->allocs);
        b->allocs = NULL;
        b->n_allocs = b->allocs_cap = 0;
    }
}

/* Returns 'size' bytes, a copy of 'init', that 'b' frees with the
 * request; NULL if memory is short. */
static void *
alloc_copy(struct build *b, const void *init, size_t size)
{
    if (b->n_allocs == b->allocs_cap) {
        size_t cap = b->allocs_cap ? b->allocs_cap * 2 : 16;
        void **allocs = realloc(b->allocs, cap * sizeof *allocs);

        if (!allocs) {
            return NULL;
        }
        b->allocs = allocs;
        b->allocs_cap = cap;
    }

    void *p = malloc(size ? size : 1);

    if (p) {
        memcpy(p, init, size);
        b->allocs[b->n_allocs++] = p;
    }
    return p;
}

/* Returns a zeroed array of 'n' pointers owned by 'b', or NULL. */
static void *
alloc_pointers(struct build *b, size_t n)
{
    void **array = calloc(n ? n : 1, sizeof *array);
    void *owned = array ? alloc_copy(b, array, n * sizeof *array) : NULL;

    free(array);
    return owned;
}

static char *
alloc_string(struct build *b, const char *s)
{
    return alloc_copy(b, s, strlen(s) + 1);
}

void *
build_alloc(struct build *b, const void *init, size_t size)
{
    return alloc_copy(b, init, size);
}

void *
build_alloc_zeroed(struct build *b, size_t n, size_t size)
{
    void *zeroes = calloc(n ? n : 1, size ? size : 1);
    void *owned = zeroes ? alloc_copy(b, zeroes, n * size) : NULL;

    free(zeroes);
    return owned;
}

int
build_adopt(struct build *b, struct build *child)
{
    size_t n = b->n_allocs + child->n_allocs;

    if (n > b->allocs_cap) {
        size_t cap = b->allocs_cap ? b->allocs_cap : 16;
        void **allocs;

        while (cap < n) {
            cap *= 2;
        }
        allocs = realloc(b->allocs, cap * sizeof *allocs);
        if (!allocs) {
            return ENOMEM;
        }
        b->allocs = allocs;
        b->allocs_cap = cap;
    }
    memcpy(b->allocs + b->n_allocs, child->allocs,
           child->n_allocs * sizeof *child->allocs);
    b->n_allocs = n;
    free(child->allocs);
    child->allocs = NULL;
    child->n_allocs = child->allocs_cap = 0;
    return 0;
}

int
build_invalid(struct build *b, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(b->error, sizeof b->error, format, args);
    va_end(args);
    return EINVAL;
}

/* Splits "KEY=VALUE" into a copy owned by 'b'. */
static int
split_option(struct build *b, const char *arg, char **key, char **value)
{
    const char *eq = strchr(arg, '=');

    if (!eq || eq == arg) {
        return build_invalid(b, "'%s' is not KEY=VALUE", arg);
    }

    char *copy = alloc_string(b, arg);

    if (!copy) {
        return ENOMEM;
    }
    copy[eq - arg] = '\0';
    *key = copy;
    *value = copy + (eq - arg) + 1;
    return 0;
}

static int
parse_vni(struct build *b, const char *s, uint32_t *vni)
{
    if (!request_parse_vni(s, vni)) {
        return build_invalid(b, "'%s' is not a VNI (1-16777215)", s);
    }
    return 0;
}

static int
parse_u32(struct build *b, const char *key, const char *s, uint32_t *n)
{
    unsigned int value;

    if (!port_option_parse_uint(s, 0, UINT32_MAX, &value)) {
        return build_invalid(b, "%s: '%s' is not a number", key, s);
    }
    *n = value;
    return 0;
}

/* Returns a copy of 'mac' in the daemon's canonical form (lower case),
 * or of 'mac' as given if it does not parse: request_check() then says
 * what is wrong with it. */
static char *
canonical_mac(struct build *b, const char *mac)
{
    struct eth_addr ea;
    char buf[ETH_ADDR_STRLEN];

    return alloc_string(b, eth_addr_parse(mac, &ea)
                           ? eth_addr_format(&ea, buf) : mac);
}

static Vswitch__Empty *
new_empty(struct build *b)
{
    static const Vswitch__Empty init = VSWITCH__EMPTY__INIT;

    return alloc_copy(b, &init, sizeof init);
}

static Vswitch__PortName *
new_port_name(struct build *b, char *name)
{
    static const Vswitch__PortName init = VSWITCH__PORT_NAME__INIT;
    Vswitch__PortName *msg = alloc_copy(b, &init, sizeof init);

    if (msg) {
        msg->name = name;
    }
    return msg;
}

static Vswitch__VniFilter *
new_vni_filter(struct build *b, char *argv[], size_t argc, int *error)
{
    static const Vswitch__VniFilter init = VSWITCH__VNI_FILTER__INIT;
    Vswitch__VniFilter *msg = alloc_copy(b, &init, sizeof init);

    *error = msg ? 0 : ENOMEM;
    if (msg && argc) {
        msg->has_vni = true;
        *error = parse_vni(b, argv[0], &msg->vni);
    }
    return msg;
}

/* Sets 'b''s command from a pointer that is NULL if memory ran short. */
#define SET_COMMAND(b, field, CASE, msg)                            \
    ((b)->request.command_case = VSWITCH__REQUEST__COMMAND_##CASE,  \
     (b)->request.field = (msg),                                    \
     (b)->request.field ? 0 : ENOMEM)

int
build_ping(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, ping, PING, new_empty(b));
}

int
build_version(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, version, VERSION, new_empty(b));
}

int
build_show(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, show, SHOW, new_empty(b));
}

int
build_list_ports(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, list_ports, LIST_PORTS, new_empty(b));
}

int
build_list_vnis(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, list_vnis, LIST_VNIS, new_empty(b));
}

int
build_fdb_stats(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, fdb_stats, FDB_STATS, new_empty(b));
}

/* Parses 'argc' KEY=VALUE arguments into a new array of options in
 * '*options'.  'claim' sees each key first, so that a command can handle
 * some keys itself: it sets '*taken' for those, and returns 0 or an errno
 * value. */
typedef int claim_func(struct build *, void *aux, char *key, char *value,
                       bool *taken);

static int
parse_options(struct build *b, char *argv[], size_t argc, claim_func *claim,
              void *aux, Vswitch__Option ***options, size_t *n_options)
{
    static const Vswitch__Option init = VSWITCH__OPTION__INIT;

    *n_options = 0;
    *options = alloc_pointers(b, argc);
    if (!*options) {
        return ENOMEM;
    }
    for (size_t i = 0; i < argc; i++) {
        Vswitch__Option *o;
        char *key = NULL, *value = NULL;
        bool taken = false;
        int error = split_option(b, argv[i], &key, &value);

        if (!error) {
            error = claim(b, aux, key, value, &taken);
        }
        if (error) {
            return error;
        } else if (taken) {
            continue;
        }
        o = alloc_copy(b, &init, sizeof init);
        if (!o) {
            return ENOMEM;
        }
        o->key = key;
        o->value = value;
        (*options)[(*n_options)++] = o;
    }
    return 0;
}

static int
add_port_key(struct build *b, void *port_, char *key, char *value,
             bool *taken)
{
    Vswitch__PortConfig *port = port_;

    if (!strcmp(key, "type")) {
        if (port->type) {
            return build_invalid(b, "type given twice");
        }
        *taken = true;
        port->type = value;
    } else if (!strcmp(key, "vni")) {
        if (port->has_vni) {
            return build_invalid(b, "vni given twice");
        }
        *taken = true;
        port->has_vni = true;
        return parse_vni(b, value, &port->vni);
    }
    return 0;
}

int
build_add_port(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__PortConfig init = VSWITCH__PORT_CONFIG__INIT;
    Vswitch__PortConfig *port = alloc_copy(b, &init, sizeof init);
    int error;

    if (!port) {
        return ENOMEM;
    }
    port->name = argv[0];
    error = parse_options(b, argv + 1, argc - 1, add_port_key, port,
                          &port->options, &port->n_options);
    if (!error && !port->type) {
        error = build_invalid(b, "add-port needs type=TYPE");
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_ADD_PORT;
    b->request.add_port = port;
    return error;
}

/* set-port checks what it can without knowing the port's type: the key
 * must be an option of some type, and the value fit it there (a value no
 * type would take is a bad argument whatever the port); the daemon checks
 * the values against the port's own type. */
static int
set_port_key(struct build *b, void *set_, char *key, char *value,
             bool *taken)
{
    const Vswitch__SetPort *set = set_;
    const struct port_class *const *classes;
    char why[256] = "";
    size_t n_classes;
    bool known = false, fits = false;

    (void) taken;
    if (!strcmp(key, "type")) {
        return build_invalid(b, "the type of a port cannot change: delete the "
                             "port and add it again");
    } else if (!strcmp(key, "vni")) {
        return build_invalid(b, "use bind-vni or unbind-vni to change a port's "
                             "VNI");
    }
    classes = port_classes(&n_classes);
    for (size_t i = 0; i < n_classes && !fits; i++) {
        const struct port_option *o = port_class_option(classes[i], key);

        if (o) {
            known = true;
            fits = port_option_check_value(o, value, why, sizeof why);
        }
    }
    if (!known) {
        return build_invalid(b, "no port type has option '%s'", key);
    } else if (!fits) {
        return build_invalid(b, "%s", why);
    }
    for (size_t i = 0; i < set->n_options; i++) {
        if (!strcmp(set->options[i]->key, key)) {
            return build_invalid(b, "option '%s' given twice", key);
        }
    }
    return 0;
}

int
build_set_port(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__SetPort init = VSWITCH__SET_PORT__INIT;
    Vswitch__SetPort *set = alloc_copy(b, &init, sizeof init);

    if (!set) {
        return ENOMEM;
    }
    set->name = argv[0];
    b->request.command_case = VSWITCH__REQUEST__COMMAND_SET_PORT;
    b->request.set_port = set;
    return parse_options(b, argv + 1, argc - 1, set_port_key, set,
                         &set->options, &set->n_options);
}

int
build_del_port(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return SET_COMMAND(b, del_port, DEL_PORT, new_port_name(b, argv[0]));
}

int
build_unbind_vni(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return SET_COMMAND(b, unbind_vni, UNBIND_VNI,
                       new_port_name(b, argv[0]));
}

int
build_port_replay(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    return SET_COMMAND(b, port_replay, PORT_REPLAY,
                       new_port_name(b, argv[0]));
}

int
build_set_log_level(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__SetLogLevel init = VSWITCH__SET_LOG_LEVEL__INIT;
    Vswitch__SetLogLevel *msg = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (msg) {
        msg->level = argv[0];
    }
    return SET_COMMAND(b, set_log_level, SET_LOG_LEVEL, msg);
}

int
build_get_log_level(struct build *b, char *argv[], size_t argc)
{
    (void) argv;
    (void) argc;
    return SET_COMMAND(b, get_log_level, GET_LOG_LEVEL, new_empty(b));
}

/* Splits the comma-separated 'list' into the flood list of 'vni'. */
static int
parse_flood(struct build *b, Vswitch__VniConfig *vni, const char *list)
{
    char *copy = alloc_string(b, list);
    size_t n = 1;

    if (!copy) {
        return ENOMEM;
    }
    for (const char *p = list; *p; p++) {
        n += *p == ',';
    }
    vni->flood = alloc_pointers(b, n);
    if (!vni->flood) {
        return ENOMEM;
    }
    for (char *p = copy; p; ) {
        char *comma = strchr(p, ',');

        if (comma) {
            *comma = '\0';
        }
        if (!*p) {
            return build_invalid(b, "flood: empty address in '%s'", list);
        }
        vni->flood[vni->n_flood++] = p;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* The keys of add-vni and set-vni.  None is an option of its own: each
 * sets a field of the VNI's configuration. */
static int
vni_key(struct build *b, void *vni_, char *key, char *value, bool *taken)
{
    Vswitch__VniConfig *vni = vni_;

    *taken = true;
    if (!strcmp(key, "group")) {
        if (vni->group) {
            return build_invalid(b, "group given twice");
        }
        vni->group = value;
        return 0;
    } else if (!strcmp(key, "flood")) {
        if (vni->flood) {
            return build_invalid(b, "flood given twice");
        }
        return parse_flood(b, vni, value);
    } else if (!strcmp(key, "ageing")) {
        if (vni->has_ageing) {
            return build_invalid(b, "ageing given twice");
        }
        vni->has_ageing = true;
        return parse_u32(b, key, value, &vni->ageing);
    } else if (!strcmp(key, "mac-limit")) {
        if (vni->has_mac_limit) {
            return build_invalid(b, "mac-limit given twice");
        }
        vni->has_mac_limit = true;
        return parse_u32(b, key, value, &vni->mac_limit);
    } else if (!strcmp(key, "learn")) {
        if (vni->has_learn) {
            return build_invalid(b, "learn given twice");
        }
        vni->has_learn = true;
        if (!strcmp(value, "any")) {
            vni->learn = VSWITCH__LEARN__LEARN_ANY;
        } else if (!strcmp(value, "list")) {
            vni->learn = VSWITCH__LEARN__LEARN_LIST;
        } else {
            return build_invalid(b, "learn: '%s' is neither any nor list",
                                 value);
        }
        return 0;
    } else if (!strcmp(key, "learn-prefix")) {
        if (vni->learn_prefix) {
            return build_invalid(b, "learn-prefix given twice");
        }
        vni->learn_prefix = value;
        return 0;
    } else if (!strcmp(key, "control")) {
        if (vni->has_control) {
            return build_invalid(b, "control given twice");
        }
        vni->has_control = true;
        if (!strcmp(value, "evpn")) {
            vni->control = VSWITCH__CONTROL__CONTROL_EVPN;
        } else if (!strcmp(value, "flood-and-learn")) {
            vni->control = VSWITCH__CONTROL__CONTROL_FLOOD_AND_LEARN;
        } else {
            return build_invalid(b, "control: '%s' is neither evpn nor "
                                 "flood-and-learn", value);
        }
        return 0;
    }
    return build_invalid(b, "unknown key '%s' (group, flood, ageing, "
                         "mac-limit, learn, learn-prefix or control)", key);
}

static int
build_vni_config(struct build *b, char *argv[], size_t argc,
                 Vswitch__VniConfig **vnip)
{
    static const Vswitch__VniConfig init = VSWITCH__VNI_CONFIG__INIT;
    Vswitch__VniConfig *vni = alloc_copy(b, &init, sizeof init);
    Vswitch__Option **unused;
    size_t n_unused;
    int error;

    *vnip = vni;
    if (!vni) {
        return ENOMEM;
    }
    error = parse_vni(b, argv[0], &vni->vni);
    if (!error) {
        /* vni_key() takes every key, so no option is left over. */
        error = parse_options(b, argv + 1, argc - 1, vni_key, vni, &unused,
                              &n_unused);
    }
    return error;
}

int
build_add_vni(struct build *b, char *argv[], size_t argc)
{
    int error = build_vni_config(b, argv, argc, &b->request.add_vni);

    b->request.command_case = VSWITCH__REQUEST__COMMAND_ADD_VNI;
    return error;
}

int
build_set_vni(struct build *b, char *argv[], size_t argc)
{
    int error = build_vni_config(b, argv, argc, &b->request.set_vni);

    b->request.command_case = VSWITCH__REQUEST__COMMAND_SET_VNI;
    return error;
}

int
build_del_vni(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__VniRef init = VSWITCH__VNI_REF__INIT;
    Vswitch__VniRef *ref = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (!ref) {
        return ENOMEM;
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_DEL_VNI;
    b->request.del_vni = ref;
    return parse_vni(b, argv[0], &ref->vni);
}

int
build_bind_vni(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__BindVni init = VSWITCH__BIND_VNI__INIT;
    Vswitch__BindVni *bind = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (!bind) {
        return ENOMEM;
    }
    bind->port = argv[0];
    b->request.command_case = VSWITCH__REQUEST__COMMAND_BIND_VNI;
    b->request.bind_vni = bind;
    return parse_vni(b, argv[1], &bind->vni);
}

int
build_fdb_show(struct build *b, char *argv[], size_t argc)
{
    int error;

    b->request.command_case = VSWITCH__REQUEST__COMMAND_FDB_SHOW;
    b->request.fdb_show = new_vni_filter(b, argv, argc, &error);
    return error;
}

int
build_fdb_flush(struct build *b, char *argv[], size_t argc)
{
    int error;

    b->request.command_case = VSWITCH__REQUEST__COMMAND_FDB_FLUSH;
    b->request.fdb_flush = new_vni_filter(b, argv, argc, &error);
    return error;
}

int
build_fdb_add(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__FdbAdd init = VSWITCH__FDB_ADD__INIT;
    static const char remote[] = "remote=";
    Vswitch__FdbAdd *add = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (!add || !(add->mac = canonical_mac(b, argv[1]))) {
        return ENOMEM;
    }
    if (!strncmp(argv[2], remote, sizeof remote - 1)) {
        add->remote = argv[2] + sizeof remote - 1;
    } else {
        add->port = argv[2];
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_FDB_ADD;
    b->request.fdb_add = add;
    return parse_vni(b, argv[0], &add->vni);
}

int
build_fdb_del(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__FdbDel init = VSWITCH__FDB_DEL__INIT;
    Vswitch__FdbDel *del = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (!del || !(del->mac = canonical_mac(b, argv[1]))) {
        return ENOMEM;
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_FDB_DEL;
    b->request.fdb_del = del;
    return parse_vni(b, argv[0], &del->vni);
}

int
build_stats(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__PortFilter init = VSWITCH__PORT_FILTER__INIT;
    Vswitch__PortFilter *filter = alloc_copy(b, &init, sizeof init);

    if (!filter) {
        return ENOMEM;
    }
    filter->name = argc ? argv[0] : NULL;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_STATS;
    b->request.stats = filter;
    return 0;
}

/* EVPN state: "remote=IP" names the VTEP, as in fdb-add. */
static int
parse_remote(struct build *b, char *arg, char **remote)
{
    static const char prefix[] = "remote=";

    if (strncmp(arg, prefix, sizeof prefix - 1)) {
        return build_invalid(b, "'%s' is not remote=IP", arg);
    }
    *remote = arg + sizeof prefix - 1;
    return 0;
}

static int
build_evpn_mac(struct build *b, char *argv[], size_t argc,
               Vswitch__EvpnMac **macp)
{
    static const Vswitch__EvpnMac init = VSWITCH__EVPN_MAC__INIT;
    static const char seq[] = "seq=";
    Vswitch__EvpnMac *mac = alloc_copy(b, &init, sizeof init);
    int error;

    *macp = mac;
    if (!mac || !(mac->mac = canonical_mac(b, argv[1]))) {
        return ENOMEM;
    }
    error = parse_vni(b, argv[0], &mac->vni);
    if (!error) {
        error = parse_remote(b, argv[2], &mac->remote);
    }
    if (!error && argc > 3) {
        if (strncmp(argv[3], seq, sizeof seq - 1)) {
            return build_invalid(b, "'%s' is not seq=N", argv[3]);
        }
        mac->has_seq = true;
        error = parse_u32(b, "seq", argv[3] + sizeof seq - 1, &mac->seq);
    }
    return error;
}

int
build_evpn_mac_add(struct build *b, char *argv[], size_t argc)
{
    b->request.command_case = VSWITCH__REQUEST__COMMAND_EVPN_MAC_ADD;
    return build_evpn_mac(b, argv, argc, &b->request.evpn_mac_add);
}

int
build_evpn_mac_del(struct build *b, char *argv[], size_t argc)
{
    b->request.command_case = VSWITCH__REQUEST__COMMAND_EVPN_MAC_DEL;
    return build_evpn_mac(b, argv, argc, &b->request.evpn_mac_del);
}

static int
build_evpn_vtep(struct build *b, char *argv[], Vswitch__EvpnVtep **vtepp)
{
    static const Vswitch__EvpnVtep init = VSWITCH__EVPN_VTEP__INIT;
    Vswitch__EvpnVtep *vtep = alloc_copy(b, &init, sizeof init);

    *vtepp = vtep;
    if (!vtep) {
        return ENOMEM;
    }
    vtep->remote = argv[1];
    return parse_vni(b, argv[0], &vtep->vni);
}

int
build_evpn_vtep_add(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_EVPN_VTEP_ADD;
    return build_evpn_vtep(b, argv, &b->request.evpn_vtep_add);
}

int
build_evpn_vtep_del(struct build *b, char *argv[], size_t argc)
{
    (void) argc;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_EVPN_VTEP_DEL;
    return build_evpn_vtep(b, argv, &b->request.evpn_vtep_del);
}

int
build_evpn_flush(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__VniRef init = VSWITCH__VNI_REF__INIT;
    Vswitch__VniRef *ref = alloc_copy(b, &init, sizeof init);

    (void) argc;
    if (!ref) {
        return ENOMEM;
    }
    b->request.command_case = VSWITCH__REQUEST__COMMAND_EVPN_FLUSH;
    b->request.evpn_flush = ref;
    return parse_vni(b, argv[0], &ref->vni);
}
