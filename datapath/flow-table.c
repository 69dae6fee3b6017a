#include <config.h>

#include "flow-table.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct flow_table {
    struct classifier tables[FLOW_TABLE_N_TABLES];
    struct list rules;          /* Every flow_rule, oldest first. */
    struct list timed;          /* Rules with a timeout. */
    size_t n_rules;
    size_t max_rules;
    uint64_t generation;
    bool trivial;               /* See flow_table_is_trivial(). */
    struct flow_rule *trivial_rule; /* If 'trivial', what table 0 gives
                                     * every frame (NULL if empty). */
    flow_table_observer_cb *observer;   /* NULL: nobody listens. */
    void *observer_aux;
};

void
flow_table_set_observer(struct flow_table *ft, flow_table_observer_cb *cb,
                        void *aux)
{
    ft->observer = cb;
    ft->observer_aux = aux;
}

static void
observe(const struct flow_table *ft, enum flow_table_event event,
        const struct flow_rule *r)
{
    if (ft->observer) {
        ft->observer(ft->observer_aux, event, r);
    }
}

static const struct flow_action normal_action = {
    .type = FLOW_ACTION_NORMAL,
};

struct flow_table *
flow_table_create(size_t max_rules)
{
    struct flow_table *ft = calloc(1, sizeof *ft);

    if (!ft) {
        return NULL;
    }
    for (size_t i = 0; i < FLOW_TABLE_N_TABLES; i++) {
        classifier_init(&ft->tables[i]);
    }
    list_init(&ft->rules);
    list_init(&ft->timed);
    ft->max_rules = max_rules ? max_rules : FLOW_TABLE_DEFAULT_MAX_RULES;
    ft->trivial = true;
    return ft;
}

static void
rule_free(struct flow_rule *r)
{
    if (r) {
        free(r->actions);
        free(r);
    }
}

void
flow_table_destroy(struct flow_table *ft)
{
    if (!ft) {
        return;
    }

    struct flow_rule *r;

    LIST_FOR_EACH_SAFE (r, node, &ft->rules) {
        rule_free(r);
    }
    for (size_t i = 0; i < FLOW_TABLE_N_TABLES; i++) {
        classifier_destroy(&ft->tables[i]);
    }
    free(ft);
}

void
flow_table_set_max_rules(struct flow_table *ft, size_t max_rules)
{
    ft->max_rules = max_rules ? max_rules : FLOW_TABLE_DEFAULT_MAX_RULES;
}

size_t
flow_table_max_rules(const struct flow_table *ft)
{
    return ft->max_rules;
}

size_t
flow_table_count(const struct flow_table *ft)
{
    return ft->n_rules;
}

uint64_t
flow_table_generation(const struct flow_table *ft)
{
    return ft->generation;
}

/* Every change goes through here, so that caches see it. */
static void
changed(struct flow_table *ft)
{
    ft->generation++;

    bool trivial = !classifier_needs_key(&ft->tables[0]);

    for (size_t i = 1; trivial && i < FLOW_TABLE_N_TABLES; i++) {
        trivial = !classifier_count(&ft->tables[i]);
    }
    ft->trivial = trivial;
    ft->trivial_rule = NULL;
    if (trivial && classifier_count(&ft->tables[0])) {
        /* No rule looks at the frame, so any key finds the same one. */
        static const struct flow_key any;
        const struct cls_rule *cr = classifier_lookup(&ft->tables[0], &any);

        ft->trivial_rule = cr ? CONTAINER_OF(cr, struct flow_rule, cr) : NULL;
    }
}

struct flow_rule *
flow_table_lookup(const struct flow_table *ft, uint8_t table_id,
                  const struct flow_key *key)
{
    const struct cls_rule *cr;

    if (ft->trivial) {
        return table_id ? NULL : ft->trivial_rule;
    }
    if (table_id >= FLOW_TABLE_N_TABLES) {
        return NULL;
    }
    cr = classifier_lookup(&ft->tables[table_id], key);
    return cr ? CONTAINER_OF(cr, struct flow_rule, cr) : NULL;
}

bool
flow_table_is_trivial(const struct flow_table *ft)
{
    return ft->trivial;
}

/* Frees 'r', which the classifier no longer holds. */
static void
forget_rule(struct flow_table *ft, struct flow_rule *r)
{
    list_remove(&r->node);
    list_remove(&r->timed_node);
    ft->n_rules--;
    rule_free(r);
}

static void
remove_rule(struct flow_table *ft, struct flow_rule *r)
{
    classifier_remove(&ft->tables[r->table_id], &r->cr);
    forget_rule(ft, r);
}

/* The actions may not go back: goto_table only to a later table. */
static bool
actions_fit_table(const struct flow_actions *a, uint8_t table_id)
{
    for (size_t i = 0; i < a->n; i++) {
        if (a->acts[i].type == FLOW_ACTION_GOTO_TABLE
            && (a->acts[i].table <= table_id
                || a->acts[i].table >= FLOW_TABLE_N_TABLES)) {
            return false;
        }
    }
    return true;
}

static struct flow_rule *
rule_create(const struct flow_spec *spec, const struct flow_actions *acts,
            long long now_ms)
{
    struct flow_rule *r = calloc(1, sizeof *r);

    if (!r) {
        return NULL;
    }
    r->actions = flow_actions_clone(acts);
    if (!r->actions) {
        free(r);
        return NULL;
    }
    cls_rule_init(&r->cr, &spec->match, spec->priority);
    list_init(&r->node);
    list_init(&r->timed_node);
    r->table_id = (uint8_t) (spec->table < 0 ? 0 : spec->table);
    r->cookie = spec->cookie;
    r->idle_timeout = spec->idle_timeout;
    r->hard_timeout = spec->hard_timeout;
    r->created_ms = now_ms;
    r->used_ms = now_ms;
    return r;
}

struct flow_rule *
flow_table_find(const struct flow_table *ft, const struct flow_spec *spec)
{
    int table = spec->table < 0 ? 0 : spec->table;
    struct cls_rule *cr;

    if (table >= FLOW_TABLE_N_TABLES) {
        return NULL;
    }
    cr = classifier_find_exactly(&ft->tables[table], &spec->match,
                                 spec->priority);
    return cr ? CONTAINER_OF(cr, struct flow_rule, cr) : NULL;
}

int
flow_table_add(struct flow_table *ft, const struct flow_spec *spec,
               long long now_ms, bool *replaced)
{
    int table = spec->table < 0 ? 0 : spec->table;

    if (replaced) {
        *replaced = false;
    }
    if (table >= FLOW_TABLE_N_TABLES
        || (spec->actions && !actions_fit_table(spec->actions,
                                                (uint8_t) table))) {
        return EINVAL;
    }

    struct flow_rule *old = flow_table_find(ft, spec);

    if (!old && ft->n_rules >= ft->max_rules) {
        return ENOSPC;
    }

    struct flow_rule *r = rule_create(spec, spec->actions, now_ms);

    if (!r) {
        return ENOMEM;
    }
    /* The old rule goes only once the new one is in, so that a failure
     * leaves the tables as they were. */
    if (old) {
        classifier_remove(&ft->tables[old->table_id], &old->cr);
    }

    int error = classifier_insert(&ft->tables[r->table_id], &r->cr);

    if (error) {
        if (old && classifier_insert(&ft->tables[old->table_id],
                                     &old->cr)) {
            forget_rule(ft, old);
        }
        rule_free(r);
        changed(ft);
        return error;
    }
    if (old) {
        forget_rule(ft, old);
        if (replaced) {
            *replaced = true;
        }
    }
    list_push_back(&ft->rules, &r->node);
    if (r->idle_timeout || r->hard_timeout) {
        list_push_back(&ft->timed, &r->timed_node);
    }
    ft->n_rules++;
    changed(ft);
    observe(ft, old ? FLOW_EVENT_MODIFIED : FLOW_EVENT_ADDED, r);
    return 0;
}

int
flow_table_add_default(struct flow_table *ft, long long now_ms)
{
    struct flow_actions *acts = flow_actions_create(&normal_action, 1);
    struct flow_spec spec = {
        .table = 0,
        .priority = 0,
        .has_priority = true,
        .actions = acts,
    };

    if (!acts) {
        return ENOMEM;
    }
    match_init_catchall(&spec.match);

    int error = flow_table_add(ft, &spec, now_ms, NULL);

    free(acts);
    return error;
}

bool
flow_rule_is_selected(const struct flow_rule *r,
                      const struct flow_spec *filter, bool strict)
{
    if (!filter) {
        return true;
    }
    if (filter->table >= 0 && filter->table != r->table_id) {
        return false;
    }
    if ((r->cookie & filter->cookie_mask)
        != (filter->cookie & filter->cookie_mask)) {
        return false;
    }
    if (strict) {
        return r->cr.priority == filter->priority
               && match_equal(&r->cr.match, &filter->match);
    }
    return match_is_subset_of(&r->cr.match, &filter->match);
}

int
flow_table_modify(struct flow_table *ft, const struct flow_spec *spec,
                  bool strict, size_t *n_changed)
{
    struct flow_rule *r;
    size_t n = 0;

    *n_changed = 0;
    /* All new lists first, so that running out of memory changes
     * nothing. */
    LIST_FOR_EACH (r, node, &ft->rules) {
        if (flow_rule_is_selected(r, spec, strict)) {
            if (!actions_fit_table(spec->actions, r->table_id)) {
                return EINVAL;
            }
            n++;
        }
    }
    if (!n) {
        return 0;
    }

    struct flow_actions **lists = calloc(n, sizeof *lists);
    size_t i = 0;

    if (!lists) {
        return ENOMEM;
    }
    for (i = 0; i < n; i++) {
        lists[i] = flow_actions_clone(spec->actions);
        if (!lists[i]) {
            while (i--) {
                free(lists[i]);
            }
            free(lists);
            return ENOMEM;
        }
    }
    i = 0;
    LIST_FOR_EACH (r, node, &ft->rules) {
        if (flow_rule_is_selected(r, spec, strict)) {
            free(r->actions);
            r->actions = lists[i++];
            observe(ft, FLOW_EVENT_MODIFIED, r);
        }
    }
    free(lists);
    *n_changed = n;
    changed(ft);
    return 0;
}

void
flow_table_delete(struct flow_table *ft, const struct flow_spec *filter,
                  bool strict, size_t *n_deleted,
                  void (*deleted)(const struct flow_rule *, void *aux),
                  void *aux)
{
    struct flow_rule *r;
    size_t n = 0;

    LIST_FOR_EACH_SAFE (r, node, &ft->rules) {
        if (flow_rule_is_selected(r, filter, strict)) {
            if (deleted) {
                deleted(r, aux);
            }
            observe(ft, FLOW_EVENT_REMOVED, r);
            remove_rule(ft, r);
            n++;
        }
    }
    if (n) {
        changed(ft);
    }
    if (n_deleted) {
        *n_deleted = n;
    }
}

static int
compare_rules(const void *a_, const void *b_)
{
    const struct flow_rule *a = *(const struct flow_rule *const *) a_;
    const struct flow_rule *b = *(const struct flow_rule *const *) b_;

    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    if (a->cr.priority != b->cr.priority) {
        return a->cr.priority > b->cr.priority ? -1 : 1;
    }
    return a->cr.seq < b->cr.seq ? -1 : a->cr.seq > b->cr.seq;
}

struct flow_rule **
flow_table_select(const struct flow_table *ft, const struct flow_spec *filter,
                  bool strict, size_t *n)
{
    struct flow_rule **rules;
    struct flow_rule *r;

    *n = 0;
    if (!ft->n_rules) {
        return NULL;
    }
    rules = malloc(ft->n_rules * sizeof *rules);
    if (!rules) {
        return NULL;
    }
    LIST_FOR_EACH (r, node, &ft->rules) {
        if (flow_rule_is_selected(r, filter, strict)) {
            rules[(*n)++] = r;
        }
    }
    if (!*n) {
        free(rules);
        return NULL;
    }
    qsort(rules, *n, sizeof *rules, compare_rules);
    return rules;
}

bool
flow_rule_equals_spec(const struct flow_rule *r, const struct flow_spec *spec)
{
    return r->cookie == spec->cookie
           && r->idle_timeout == spec->idle_timeout
           && r->hard_timeout == spec->hard_timeout
           && flow_actions_equal(r->actions, spec->actions);
}

void
flow_rule_to_spec(const struct flow_rule *r, struct flow_spec *spec)
{
    *spec = (struct flow_spec) {
        .table = r->table_id,
        .has_priority = true,
        .priority = r->cr.priority,
        .cookie = r->cookie,
        /* As flow_text_parse() gives an added rule: a cookie, if any,
         * with a full mask, so that it prints. */
        .cookie_mask = r->cookie ? UINT64_MAX : 0,
        .idle_timeout = r->idle_timeout,
        .hard_timeout = r->hard_timeout,
        .match = r->cr.match,
        .actions = r->actions,
    };
}

/* When 'r' expires, if it has a timeout. */
static long long
expiry(const struct flow_rule *r)
{
    long long when = LLONG_MAX;

    if (r->hard_timeout) {
        when = r->created_ms + r->hard_timeout * 1000LL;
    }
    if (r->idle_timeout) {
        when = MIN(when, r->used_ms + r->idle_timeout * 1000LL);
    }
    return when;
}

long long
flow_table_expire(struct flow_table *ft, long long now_ms,
                  void (*expired)(const struct flow_rule *, void *aux),
                  void *aux)
{
    long long next = LLONG_MAX;
    struct flow_rule *r;
    bool any = false;

    LIST_FOR_EACH_SAFE (r, timed_node, &ft->timed) {
        long long when = expiry(r);

        if (when <= now_ms) {
            if (expired) {
                expired(r, aux);
            }
            observe(ft, FLOW_EVENT_EXPIRED, r);
            remove_rule(ft, r);
            any = true;
        } else {
            next = MIN(next, when);
        }
    }
    if (any) {
        changed(ft);
    }
    return next;
}
