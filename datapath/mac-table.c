#include <config.h>

#include "mac-table.h"

#include <errno.h>
#include <limits.h>
#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hmap.h"
#include "list.h"

/* Which owner holds the most entries, remembered so that eviction under a
 * flood does not scan every owner for every new address.  'stale' counts
 * the entries 'owner' has lost since it was last known to be the biggest,
 * so it is never more than 'stale' entries short of the true biggest. */
struct owner_hint {
    struct mac_owner *owner;    /* NULL if unknown. */
    size_t stale;
};

/* Per-VNI settings and the owners that hold entries in it. */
struct mac_vni {
    struct hmap_node node;      /* In mac_table's 'vnis', by VNI. */
    uint32_t vni;
    long long ageing_ms;
    size_t max_entries;         /* 0: only the table's bound. */
    size_t n_dynamic;
    size_t n_static;
    struct list owners;         /* struct mac_owner's 'vni_node'. */
    struct owner_hint biggest;  /* Among 'owners'. */
    struct mac_owner *underlay; /* The owner of remote entries, or NULL. */
    struct mac_learn_policy policy;
    struct in6_addr *remotes;   /* 'policy.remotes', sorted, owned. */
    struct list evpn;           /* EVPN entries: mac_entry's 'lru_node'. */
    size_t n_evpn;
    struct list statics;        /* Static entries: mac_entry's 'lru_node',
                                 * so that deleting the VNI finds its
                                 * entries without a walk over the whole
                                 * table. */
};

/* The dynamic entries of one VNI learned at one local port, or from the
 * underlay: all remote VTEPs of a VNI together are one owner, since any
 * sender on the underlay can claim as many source addresses as it likes.
 * Its LRU list is in order of last sighting, so the front is both the next
 * to expire and the one to evict. */
struct mac_owner {
    struct hmap_node node;      /* In mac_table's 'owners', by VNI + key. */
    struct list vni_node;       /* In mac_vni's 'owners'. */
    struct mac_vni *vni;
    struct mac_dest dest;       /* owner_key() of its entries' dests. */
    struct list lru;            /* struct mac_entry's 'lru_node'. */
    size_t n_entries;
};

/* What a lookup and a refresh touch comes first and fits one cache line,
 * and entries are allocated on cache-line boundaries, so that with a table
 * too big for the caches a lookup costs one miss, which the batch
 * prefetch hides. */
#define CACHE_LINE 64

struct mac_entry {
    struct hmap_node node;      /* In mac_table's 'entries', by VNI + MAC. */
    struct mac_dest dest;
    uint32_t vni;
    struct eth_addr mac;
    long long used;             /* Last seen, in ms. */

    struct mac_owner *owner;    /* NULL for a static or EVPN entry. */
    struct list lru_node;       /* In owner's 'lru', or in the VNI's
                                 * 'evpn' or 'statics' list. */
    bool evpn;                  /* An EVPN entry: no owner. */
    uint32_t seq;               /* EVPN entries: MAC-mobility sequence. */
};
BUILD_ASSERT(offsetof(struct mac_entry, used) + sizeof(long long)
             <= CACHE_LINE);

/* Entries are carved from blocks of ENTRIES_PER_BLOCK slots on cache-line
 * boundaries, since aligned_alloc() of each on its own pads it to about
 * twice its size (measured: 264 bytes an entry in all, against 136, with
 * 1048576 entries; bench/mac-table-bench).  The first slot of a block
 * holds the link to the next block.  A freed entry goes on the table's
 * free list, where the next new entry takes it from: the table keeps the
 * memory of the most entries it held, for the bound it was given, until
 * it is destroyed.  Under AddressSanitizer a free slot is poisoned, so
 * that a use after free is caught as with malloc(). */
#define ENTRY_SIZE ((sizeof(struct mac_entry) + CACHE_LINE - 1) \
                    / CACHE_LINE * CACHE_LINE)
#define ENTRIES_PER_BLOCK 512

struct entry_slot {
    struct entry_slot *next;    /* Next free slot, or next block. */
};

struct mac_table {
    struct hmap entries;
    struct hmap owners;
    struct hmap vnis;
    uint64_t seed;
    uint64_t vni_mult;          /* Random and odd: spreads a VNI over the
                                 * bits a MAC leaves free. */
    size_t max_entries;
    struct owner_hint biggest;  /* Among all owners. */
    struct mac_table_stats stats;
    struct entry_slot *free_slots;
    struct entry_slot *blocks;  /* Linked through their first slots. */
    mac_table_observer_cb *observer;    /* NULL: nobody listens. */
    void *observer_aux;
};

/* Returns room for an entry, or NULL if memory is short. */
static struct mac_entry *
alloc_entry(struct mac_table *t)
{
    if (!t->free_slots) {
        char *block = aligned_alloc(CACHE_LINE,
                                    ENTRIES_PER_BLOCK * ENTRY_SIZE);

        if (!block) {
            return NULL;
        }
        struct entry_slot *first = (void *) block;

        first->next = t->blocks;
        t->blocks = first;
        for (size_t i = ENTRIES_PER_BLOCK - 1; i > 0; i--) {
            struct entry_slot *slot = (void *) (block + i * ENTRY_SIZE);

            slot->next = t->free_slots;
            t->free_slots = slot;
            ASAN_POISON_MEMORY_REGION(slot, ENTRY_SIZE);
        }
    }

    struct entry_slot *slot = t->free_slots;

    ASAN_UNPOISON_MEMORY_REGION(slot, ENTRY_SIZE);
    t->free_slots = slot->next;
    return (struct mac_entry *) slot;
}

/* Doubling the buckets moves every entry at once, on the forwarding loop:
 * 81 ms from 524288 entries to 1048576 (bench/mac-table-bench).  So once
 * the table holds PRESIZE_AT entries, its buckets grow to its bound in one
 * step, the last that moves entries, and a small table keeps a bucket
 * array that fits the caches. */
#define PRESIZE_AT 16384

static int
insert_entry(struct mac_table *t, struct mac_entry *e, uint32_t hash)
{
    struct hmap *map = &t->entries;

    if (hmap_count(map) >= PRESIZE_AT && map->mask + 1 < t->max_entries) {
        /* If memory is short, hmap_insert() doubles, or fails. */
        hmap_reserve(map, t->max_entries);
    }
    return hmap_insert(map, &e->node, hash);
}

/* Puts 'e' back on the free list.  Accepts NULL. */
static void
free_entry(struct mac_table *t, struct mac_entry *e)
{
    if (e) {
        struct entry_slot *slot = (struct entry_slot *) e;

        slot->next = t->free_slots;
        t->free_slots = slot;
        ASAN_POISON_MEMORY_REGION(slot, ENTRY_SIZE);
    }
}

bool
mac_dest_equals(const struct mac_dest *a, const struct mac_dest *b)
{
    if (a->type != b->type) {
        return false;
    }
    return a->type == MAC_DEST_PORT
           ? a->port_no == b->port_no
           : !memcmp(&a->remote, &b->remote, sizeof a->remote);
}

static uint32_t
hash_entry(const struct mac_table *t, uint32_t vni,
           const struct eth_addr *mac)
{
    /* Two loads rather than eth_addr_to_u64()'s six: byte order does not
     * matter to a hash. */
    uint32_t hi;
    uint16_t lo;

    memcpy(&hi, mac->ea, sizeof hi);
    memcpy(&lo, mac->ea + 4, sizeof lo);
    uint64_t mac_bits = (uint64_t) hi << 16 | lo;

    /* One mixing round for both: the VNI goes in through a secret
     * multiplier, so a sender cannot pick (VNI, MAC) pairs that meet
     * before the round. */
    return hash_finish(hash_add64(t->seed, mac_bits ^ (vni * t->vni_mult)));
}

static uint32_t
hash_owner(const struct mac_table *t, uint32_t vni,
           const struct mac_dest *dest)
{
    uint64_t h = hash_add64(t->seed, (uint64_t) vni << 32 | dest->type);

    if (dest->type == MAC_DEST_PORT) {
        return hash_finish(hash_add64(h, dest->port_no));
    }
    return hash_bytes(&dest->remote, sizeof dest->remote, h);
}

static uint32_t
hash_vni(const struct mac_table *t, uint32_t vni)
{
    return hash_finish(hash_add64(t->seed, vni));
}

struct mac_table *
mac_table_create(size_t max_entries)
{
    struct mac_table *t = calloc(1, sizeof *t);

    if (t) {
        hmap_init(&t->entries);
        hmap_init(&t->owners);
        hmap_init(&t->vnis);
        t->seed = hash_random_seed();
        t->vni_mult = hash_random_seed() | 1;
        t->max_entries = max_entries ? max_entries : MAC_TABLE_DEFAULT_MAX;
    }
    return t;
}

static struct mac_vni *
find_vni(const struct mac_table *t, uint32_t vni)
{
    struct mac_vni *v;

    HMAP_FOR_EACH_WITH_HASH (v, node, hash_vni(t, vni), &t->vnis) {
        if (v->vni == vni) {
            return v;
        }
    }
    return NULL;
}

/* Inlined: a lookup and a refresh, once each per frame, are little more
 * than this. */
static inline __attribute__((always_inline)) struct mac_entry *
find_entry_hashed(const struct mac_table *t, uint32_t vni,
                  const struct eth_addr *mac, uint32_t hash)
{
    struct mac_entry *e;

    HMAP_FOR_EACH_WITH_HASH (e, node, hash, &t->entries) {
        if (e->vni == vni && eth_addr_equals(&e->mac, mac)) {
            return e;
        }
    }
    return NULL;
}

static struct mac_entry *
find_entry(const struct mac_table *t, uint32_t vni,
           const struct eth_addr *mac)
{
    return find_entry_hashed(t, vni, mac, hash_entry(t, vni, mac));
}

/* Returns the owner key of entries learned at 'dest': the port itself, or
 * for every remote VTEP the same remote key with no address. */
static struct mac_dest
owner_key(const struct mac_dest *dest)
{
    struct mac_dest key = { .type = dest->type };

    if (dest->type == MAC_DEST_PORT) {
        key.port_no = dest->port_no;
    }
    return key;
}

static struct mac_owner *
find_owner(const struct mac_table *t, uint32_t vni,
           const struct mac_dest *key)
{
    struct mac_owner *o;

    HMAP_FOR_EACH_WITH_HASH (o, node, hash_owner(t, vni, key), &t->owners) {
        if (o->vni->vni == vni && mac_dest_equals(&o->dest, key)) {
            return o;
        }
    }
    return NULL;
}

/* Returns the owner of entries learned in 'v' at 'dest', creating it if
 * need be, or NULL if memory is short. */
static struct mac_owner *
get_owner(struct mac_table *t, struct mac_vni *v, const struct mac_dest *at)
{
    struct mac_dest key = owner_key(at);
    struct mac_owner *o = find_owner(t, v->vni, &key);

    if (o) {
        return o;
    }
    o = calloc(1, sizeof *o);
    if (!o) {
        return NULL;
    }
    if (hmap_insert(&t->owners, &o->node, hash_owner(t, v->vni, &key))) {
        free(o);
        return NULL;
    }
    o->vni = v;
    o->dest = key;
    list_init(&o->lru);
    list_push_back(&v->owners, &o->vni_node);
    if (key.type == MAC_DEST_REMOTE) {
        v->underlay = o;
    }
    return o;
}

static void
hint_grew(struct owner_hint *hint, struct mac_owner *o)
{
    if (hint->owner == o) {
        hint->stale -= hint->stale > 0;
    } else if (hint->owner && o->n_entries > hint->owner->n_entries) {
        hint->owner = o;
    }
}

static void
hint_shrank(struct owner_hint *hint, const struct mac_owner *o)
{
    if (hint->owner == o) {
        hint->stale++;
    }
}

static void
hint_forget(struct owner_hint *hint, const struct mac_owner *o)
{
    if (hint->owner == o) {
        hint->owner = NULL;
    }
}

static void
free_owner(struct mac_table *t, struct mac_owner *o)
{
    hint_forget(&t->biggest, o);
    hint_forget(&o->vni->biggest, o);
    if (o->vni->underlay == o) {
        o->vni->underlay = NULL;
    }
    hmap_remove(&t->owners, &o->node);
    list_remove(&o->vni_node);
    free(o);
}

/* Takes dynamic entry 'e' off its owner, freeing the owner once empty. */
static void
detach_from_owner(struct mac_table *t, struct mac_entry *e)
{
    struct mac_owner *o = e->owner;

    list_remove(&e->lru_node);
    e->owner = NULL;
    o->vni->n_dynamic--;
    t->stats.n_dynamic--;
    hint_shrank(&t->biggest, o);
    hint_shrank(&o->vni->biggest, o);
    if (!--o->n_entries) {
        free_owner(t, o);
    }
}

static void
attach_to_owner(struct mac_table *t, struct mac_entry *e, struct mac_owner *o)
{
    e->owner = o;
    list_push_back(&o->lru, &e->lru_node);
    o->n_entries++;
    o->vni->n_dynamic++;
    t->stats.n_dynamic++;
    hint_grew(&t->biggest, o);
    hint_grew(&o->vni->biggest, o);
}

/* Takes EVPN entry 'e' off its VNI's list: it becomes an entry of no
 * kind, for the caller to free or to give another. */
static void
detach_from_evpn(struct mac_table *t, struct mac_entry *e)
{
    struct mac_vni *v = find_vni(t, e->vni);

    list_remove(&e->lru_node);
    e->evpn = false;
    v->n_evpn--;
    t->stats.n_evpn--;
}

void
mac_table_set_observer(struct mac_table *t, mac_table_observer_cb *cb,
                       void *aux)
{
    t->observer = cb;
    t->observer_aux = aux;
}

static void report_entry(const struct mac_entry *, uint32_t vni,
                         long long now_ms, mac_table_dump_cb *, void *aux);

struct observed {
    const struct mac_table *t;
    enum mac_table_event event;
    const struct mac_dest *from;
};

static void
observe_info(const struct mac_table_entry_info *info, void *o_)
{
    const struct observed *o = o_;

    o->t->observer(o->t->observer_aux, o->event, info, o->from);
}

/* Tells the observer, which callers check for first, so that a table
 * nobody listens to pays one branch; not inlined, to keep it so. */
static void __attribute__((noinline))
observe(const struct mac_table *t, enum mac_table_event event,
        const struct mac_entry *e, const struct mac_dest *from)
{
    struct observed o = { t, event, from };

    report_entry(e, 0, e->used, observe_info, &o);
}

#define OBSERVE(T, EVENT, E, FROM)                  \
    do {                                            \
        if (UNLIKELY((T)->observer)) {              \
            observe(T, EVENT, E, FROM);             \
        }                                           \
    } while (0)

static void
remove_entry(struct mac_table *t, struct mac_entry *e,
             enum mac_table_event why)
{
    OBSERVE(t, why, e, NULL);
    if (e->owner) {
        detach_from_owner(t, e);
    } else if (e->evpn) {
        detach_from_evpn(t, e);
    } else {
        struct mac_vni *v = find_vni(t, e->vni);

        list_remove(&e->lru_node);
        v->n_static--;
        t->stats.n_static--;
    }
    hmap_remove(&t->entries, &e->node);
    free_entry(t, e);
}

/* Returns the owner with the most entries: in 'v' if it is not NULL,
 * otherwise in the whole table. */
static struct mac_owner *
find_biggest(const struct mac_table *t, const struct mac_vni *v)
{
    struct mac_owner *biggest = NULL;
    struct mac_owner *o;

    if (v) {
        LIST_FOR_EACH (o, vni_node, &v->owners) {
            if (!biggest || o->n_entries > biggest->n_entries) {
                biggest = o;
            }
        }
    } else {
        HMAP_FOR_EACH (o, node, &t->owners) {
            if (!biggest || o->n_entries > biggest->n_entries) {
                biggest = o;
            }
        }
    }
    return biggest;
}

static void
evict_front(struct mac_table *t, struct mac_owner *o)
{
    remove_entry(t, CONTAINER_OF(list_front(&o->lru), struct mac_entry,
                                 lru_node), MAC_EVENT_EVICTED);
    t->stats.evicted++;
}

/* Evicts the least recently seen entry of the biggest owner, in 'v' or, if
 * it is NULL, in the whole table.  The hint makes this O(1) while one owner
 * keeps growing, which is the case of a flood; it is trusted to within one
 * entry and otherwise refreshed by a scan. */
static bool
evict_one(struct mac_table *t, struct mac_vni *v)
{
    struct owner_hint *hint = v ? &v->biggest : &t->biggest;

    if (!hint->owner || hint->stale > 1) {
        hint->owner = find_biggest(t, v);
        hint->stale = 0;
    }
    if (!hint->owner) {
        return false;
    }
    evict_front(t, hint->owner);
    return true;
}

/* Evicts until there is room in 'v' for one more dynamic entry learned at
 * a place of type 'type'.  Local ports and the underlay are owners alike
 * when a port learns: the biggest gives way.  An entry from the underlay
 * takes the place of the least recently seen entry of the VNI's underlay:
 * a flood of frames from forged outer sources, each of which holds one
 * entry, would otherwise make the biggest local port give way to it.  Only
 * an underlay that holds nothing yet takes from the biggest owner, one
 * entry, after which it makes room from its own. */
static void
make_room(struct mac_table *t, struct mac_vni *v, enum mac_dest_type type)
{
    for (;;) {
        bool vni_full = v->max_entries && v->n_dynamic >= v->max_entries;

        if (!vni_full && t->stats.n_dynamic < t->max_entries) {
            return;
        }
        if (type == MAC_DEST_REMOTE && v->underlay) {
            evict_front(t, v->underlay);
        } else if (!evict_one(t, vni_full ? v : NULL)) {
            return;
        }
    }
}

void
mac_table_destroy(struct mac_table *t)
{
    if (!t) {
        return;
    }

    struct mac_owner *o;
    struct mac_vni *v;

    while (t->blocks) {
        struct entry_slot *block = t->blocks;

        t->blocks = block->next;
        ASAN_UNPOISON_MEMORY_REGION(block, ENTRIES_PER_BLOCK * ENTRY_SIZE);
        free(block);
    }
    HMAP_FOR_EACH_SAFE (o, node, &t->owners) {
        free(o);
    }
    HMAP_FOR_EACH_SAFE (v, node, &t->vnis) {
        free(v->remotes);
        free(v);
    }
    hmap_destroy(&t->entries);
    hmap_destroy(&t->owners);
    hmap_destroy(&t->vnis);
    free(t);
}

int
mac_table_set_max(struct mac_table *t, size_t max_entries)
{
    if (!max_entries || max_entries > MAC_TABLE_MAX_LIMIT) {
        return EINVAL;
    }
    t->max_entries = max_entries;
    while (t->stats.n_dynamic > t->max_entries && evict_one(t, NULL)) {
        continue;
    }
    return 0;
}

int
mac_table_set_vni(struct mac_table *t, uint32_t vni, unsigned int ageing_s,
                  size_t max_entries)
{
    struct mac_vni *v = find_vni(t, vni);

    if (!v) {
        v = calloc(1, sizeof *v);
        if (!v) {
            return ENOMEM;
        }
        if (hmap_insert(&t->vnis, &v->node, hash_vni(t, vni))) {
            free(v);
            return ENOMEM;
        }
        v->vni = vni;
        list_init(&v->owners);
        list_init(&v->evpn);
        list_init(&v->statics);
    }
    v->ageing_ms = (long long) (ageing_s ? ageing_s
                                : MAC_TABLE_DEFAULT_AGEING) * 1000;
    v->max_entries = max_entries;
    while (v->max_entries && v->n_dynamic > v->max_entries
           && evict_one(t, v)) {
        continue;
    }
    return 0;
}

/* Removing an entry unlinks it from its hash bucket, a cache miss in a big
 * table: asking for the bucket of the entry REMOVE_AHEAD places further on
 * the owner's list overlaps those misses. */
#define REMOVE_AHEAD 8

/* Removes the entries of owner 'o' for which 'doomed' returns true,
 * looking at 'limit' of them at most from the front of its list (all if
 * SIZE_MAX), and returns how many went.  The owner itself goes with its
 * last entry.  '*looked' (if not NULL) says how many it looked at. */
static size_t
remove_entries(struct mac_table *t, struct mac_owner *o,
               bool (*doomed)(const struct mac_entry *, const void *aux),
               const void *aux, size_t limit, size_t *looked)
{
    const struct hmap *map = &t->entries;
    struct list *node = list_front(&o->lru);
    struct list *ahead = node;
    size_t total = MIN(o->n_entries, limit);
    size_t i_ahead = 0;
    size_t n = 0;

    if (looked) {
        *looked = total;
    }

    while (i_ahead < MIN(REMOVE_AHEAD, total)) {
        ahead = ahead->next;
        i_ahead++;
    }
    /* Count rather than walk to the list's end, which may go with 'o'. */
    for (size_t i = 0; i < total; i++) {
        struct mac_entry *e = CONTAINER_OF(node, struct mac_entry, lru_node);

        if (i_ahead < total) {
            const struct mac_entry *a = CONTAINER_OF(ahead, struct mac_entry,
                                                     lru_node);

            __builtin_prefetch(&map->buckets[a->node.hash & map->mask]);
            ahead = ahead->next;
            i_ahead++;
        }
        node = node->next;
        if (doomed(e, aux)) {
            remove_entry(t, e, MAC_EVENT_FLUSHED);
            n++;
        }
    }
    return n;
}

static bool
at_dest(const struct mac_entry *e, const void *dest)
{
    return !dest || mac_dest_equals(&e->dest, dest);
}

void
mac_table_del_vni(struct mac_table *t, uint32_t vni)
{
    struct mac_vni *v = find_vni(t, vni);

    if (!v) {
        return;
    }

    struct list *lists[] = { &v->evpn, &v->statics };

    /* The VNI's own lists, not the whole table: a VNI of a few entries
     * in a table of a million goes at the cost of its few. */
    while (!list_is_empty(&v->owners)) {
        remove_entries(t, CONTAINER_OF(list_front(&v->owners),
                                       struct mac_owner, vni_node),
                       at_dest, NULL, SIZE_MAX, NULL);
    }
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        while (!list_is_empty(lists[i])) {
            remove_entry(t, CONTAINER_OF(list_front(lists[i]),
                                         struct mac_entry, lru_node),
                         MAC_EVENT_FLUSHED);
        }
    }
    hmap_remove(&t->vnis, &v->node);
    free(v->remotes);
    free(v);
}

static int
compare_addrs(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct in6_addr));
}

/* Says whether 'v''s policy lets it learn from remote VTEP 'remote'. */
static bool
may_learn_from(const struct mac_vni *v, const struct in6_addr *remote)
{
    const struct mac_learn_policy *p = &v->policy;

    return inet_is_unicast(remote) && !p->no_remotes
           && (!p->listed_only
               || bsearch(remote, p->remotes, p->n_remotes, sizeof *remote,
                          compare_addrs))
           && inet_prefix_contains(&p->prefix, remote);
}

static bool
refused(const struct mac_entry *e, const void *v)
{
    return !may_learn_from(v, &e->dest.remote);
}

int
mac_table_set_learning(struct mac_table *t, uint32_t vni,
                       const struct mac_learn_policy *policy)
{
    struct mac_vni *v = find_vni(t, vni);
    struct in6_addr *remotes = NULL;

    if (!v) {
        return ENOENT;
    }
    if (policy->prefix.len > 128) {
        return EINVAL;
    }
    if (policy->n_remotes) {
        remotes = malloc(policy->n_remotes * sizeof *remotes);
        if (!remotes) {
            return ENOMEM;
        }
        memcpy(remotes, policy->remotes, policy->n_remotes * sizeof *remotes);
        qsort(remotes, policy->n_remotes, sizeof *remotes, compare_addrs);
    }
    free(v->remotes);
    v->remotes = remotes;
    v->policy = *policy;
    v->policy.remotes = remotes;

    if (v->underlay) {
        remove_entries(t, v->underlay, refused, v, SIZE_MAX, NULL);
    }
    return 0;
}

bool
mac_table_would_learn(const struct mac_table *t, uint32_t vni,
                      const struct eth_addr *mac, const struct mac_dest *dest)
{
    if (eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
        return false;
    }

    const struct mac_entry *e = find_entry(t, vni, mac);
    const struct mac_vni *v = e ? (e->owner ? e->owner->vni : NULL)
                                : find_vni(t, vni);

    if (e && e->evpn && dest->type == MAC_DEST_PORT) {
        return true;
    }
    if (e && !e->owner) {
        return mac_dest_equals(&e->dest, dest);
    }
    return v && (dest->type != MAC_DEST_REMOTE
                 || (e && mac_dest_equals(&e->dest, dest))
                 || may_learn_from(v, &dest->remote));
}

static enum mac_learn_result learn_new_or_moved(struct mac_table *,
                                                uint32_t vni,
                                                const struct eth_addr *,
                                                uint32_t hash,
                                                const struct mac_dest *,
                                                long long now_ms,
                                                struct mac_entry *);

enum mac_learn_result
mac_table_learn(struct mac_table *t, uint32_t vni, const struct eth_addr *mac,
                const struct mac_dest *dest, long long now_ms)
{
    return mac_table_learn_hashed(t, vni, mac, hash_entry(t, vni, mac), dest,
                                  now_ms);
}

enum mac_learn_result
mac_table_learn_hashed(struct mac_table *t, uint32_t vni,
                       const struct eth_addr *mac, uint32_t hash,
                       const struct mac_dest *dest, long long now_ms)
{
    if (eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
        t->stats.multicast_ignored++;
        return MAC_LEARN_MULTICAST;
    }

    struct mac_entry *e = find_entry_hashed(t, vni, mac, hash);

    /* Most frames come from where their source was seen last. */
    if (LIKELY(e && e->owner && mac_dest_equals(&e->dest, dest))) {
        if (e->used != now_ms) {
            e->used = now_ms;
            list_move_back(&e->owner->lru, &e->lru_node);
        }
        return MAC_LEARN_REFRESHED;
    }
    return learn_new_or_moved(t, vni, mac, hash, dest, now_ms, e);
}

/* A source seen on a local port where an EVPN entry placed it remote: the
 * host moved here, and the local sighting is the newest news of it.  From
 * the underlay, it is refused: only the control plane moves EVPN
 * entries. */
static enum mac_learn_result
take_over_evpn(struct mac_table *t, struct mac_entry *e,
               const struct mac_dest *dest, long long now_ms)
{
    if (dest->type != MAC_DEST_PORT) {
        t->stats.learn_refused++;
        return MAC_LEARN_REFUSED;
    }

    struct mac_vni *v = find_vni(t, e->vni);
    struct mac_owner *o;

    make_room(t, v, dest->type);
    o = get_owner(t, v, dest);
    if (!o) {
        return MAC_LEARN_NO_MEMORY;
    }
    struct mac_dest from = e->dest;

    detach_from_evpn(t, e);
    attach_to_owner(t, e, o);
    e->dest = *dest;
    e->used = now_ms;
    t->stats.moves++;
    /* The EVPN agent learns of the move here, and announces it. */
    OBSERVE(t, MAC_EVENT_MOVED, e, &from);
    return MAC_LEARN_MOVED;
}

/* mac_table_learn_hashed() for a source that is new, moved, or static:
 * 'e' is its entry, or NULL.  Not inlined, so that the common refresh
 * does not pay for the registers this needs. */
static enum mac_learn_result __attribute__((noinline))
learn_new_or_moved(struct mac_table *t, uint32_t vni,
                   const struct eth_addr *mac, uint32_t hash,
                   const struct mac_dest *dest, long long now_ms,
                   struct mac_entry *e)
{
    if (e && e->evpn) {
        return take_over_evpn(t, e, dest, now_ms);
    }
    if (e) {
        if (!e->owner) {
            if (!mac_dest_equals(&e->dest, dest)) {
                t->stats.static_kept++;
            }
            return MAC_LEARN_STATIC;
        }
        if (dest->type == MAC_DEST_REMOTE
            && !may_learn_from(e->owner->vni, &dest->remote)) {
            t->stats.learn_refused++;
            return MAC_LEARN_REFUSED;
        }

        struct mac_owner *o = get_owner(t, e->owner->vni, dest);

        if (!o) {
            return MAC_LEARN_NO_MEMORY;
        }
        /* From one remote VTEP to another, the owner stays the same. */
        if (o == e->owner) {
            list_move_back(&o->lru, &e->lru_node);
        } else {
            detach_from_owner(t, e);
            attach_to_owner(t, e, o);
        }

        struct mac_dest from = e->dest;

        e->dest = *dest;
        e->used = now_ms;
        t->stats.moves++;
        OBSERVE(t, MAC_EVENT_MOVED, e, &from);
        return MAC_LEARN_MOVED;
    }

    struct mac_vni *v = find_vni(t, vni);

    if (!v) {
        return MAC_LEARN_NO_VNI;
    }
    if (dest->type == MAC_DEST_REMOTE && !may_learn_from(v, &dest->remote)) {
        t->stats.learn_refused++;
        return MAC_LEARN_REFUSED;
    }
    make_room(t, v, dest->type);

    struct mac_owner *o = get_owner(t, v, dest);

    e = o ? alloc_entry(t) : NULL;
    if (!e || insert_entry(t, e, hash)) {
        free_entry(t, e);
        if (o && !o->n_entries) {
            free_owner(t, o);
        }
        return MAC_LEARN_NO_MEMORY;
    }
    e->vni = vni;
    e->mac = *mac;
    e->dest = *dest;
    e->used = now_ms;
    e->evpn = false;
    attach_to_owner(t, e, o);
    t->stats.learned++;
    OBSERVE(t, MAC_EVENT_LEARNED, e, NULL);
    return MAC_LEARN_NEW;
}

const struct mac_dest *
mac_table_lookup(const struct mac_table *t, uint32_t vni,
                 const struct eth_addr *mac)
{
    return mac_table_lookup_hashed(t, vni, mac, hash_entry(t, vni, mac));
}

const struct mac_dest *
mac_table_lookup_hashed(const struct mac_table *t, uint32_t vni,
                        const struct eth_addr *mac, uint32_t hash)
{
    const struct mac_entry *e = find_entry_hashed(t, vni, mac, hash);

    return e ? &e->dest : NULL;
}

void
mac_table_prefetch(const struct mac_table *t, const struct mac_key *keys,
                   size_t n, uint32_t *hashes)
{
    const struct hmap *map = &t->entries;

    n = MIN(n, MAC_TABLE_PREFETCH_MAX);

    /* Each pass touches what the previous one asked for and asks for the
     * next: the bucket, the first node of its chain, and the second node
     * if the first does not match. */
    const struct hmap_node *first[MAC_TABLE_PREFETCH_MAX];

    for (size_t i = 0; i < n; i++) {
        hashes[i] = hash_entry(t, keys[i].vni, &keys[i].mac);
        __builtin_prefetch(&map->buckets[hashes[i] & map->mask]);
    }
    for (size_t i = 0; i < n; i++) {
        first[i] = map->buckets[hashes[i] & map->mask];
        if (first[i]) {
            __builtin_prefetch(first[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct hmap_node *node = first[i];

        if (node && node->hash != hashes[i] && node->next) {
            __builtin_prefetch(node->next);
        }
    }
}

int
mac_table_add_static(struct mac_table *t, uint32_t vni,
                     const struct eth_addr *mac, const struct mac_dest *dest)
{
    struct mac_vni *v = find_vni(t, vni);

    if (!v) {
        return ENOENT;
    }
    if (eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
        return EINVAL;
    }

    struct mac_entry *e = find_entry(t, vni, mac);

    if (e) {
        if (e->owner || e->evpn) {
            if (e->owner) {
                detach_from_owner(t, e);
            } else {
                detach_from_evpn(t, e);
            }
            list_push_back(&v->statics, &e->lru_node);
            v->n_static++;
            t->stats.n_static++;
        }
        e->dest = *dest;
        OBSERVE(t, MAC_EVENT_ADDED, e, NULL);
        return 0;
    }
    e = alloc_entry(t);
    if (!e || insert_entry(t, e, hash_entry(t, vni, mac))) {
        free_entry(t, e);
        return ENOMEM;
    }
    e->vni = vni;
    e->mac = *mac;
    e->dest = *dest;
    e->owner = NULL;
    e->evpn = false;
    list_push_back(&v->statics, &e->lru_node);
    e->used = 0;
    v->n_static++;
    t->stats.n_static++;
    OBSERVE(t, MAC_EVENT_ADDED, e, NULL);
    return 0;
}

/* Says whether an EVPN announcement of 'seq' at 'dest' moves EVPN entry
 * 'e': only a newer sequence number does, but at the same VTEP an equal
 * one is the same route again, which is not refused. */
static bool
evpn_seq_refused(const struct mac_entry *e, const struct mac_dest *dest,
                 uint32_t seq)
{
    return mac_dest_equals(&e->dest, dest) ? seq < e->seq : seq <= e->seq;
}

int
mac_table_add_evpn(struct mac_table *t, uint32_t vni,
                   const struct eth_addr *mac, const struct in6_addr *remote,
                   uint32_t seq)
{
    struct mac_vni *v = find_vni(t, vni);
    struct mac_dest dest = { .type = MAC_DEST_REMOTE, .remote = *remote };

    if (!v) {
        return ENOENT;
    }
    if (eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)
        || !inet_is_unicast(remote)) {
        return EINVAL;
    }

    uint32_t hash = hash_entry(t, vni, mac);
    struct mac_entry *e = find_entry_hashed(t, vni, mac, hash);

    if (e && !e->owner && !e->evpn) {
        t->stats.static_kept += !mac_dest_equals(&e->dest, &dest);
        return EEXIST;
    }
    if (e && e->evpn) {
        struct mac_dest from = e->dest;

        if (evpn_seq_refused(e, &dest, seq)) {
            t->stats.evpn_stale++;
            return ESTALE;
        }
        e->seq = seq;
        if (!mac_dest_equals(&from, &dest)) {
            t->stats.moves++;
            e->dest = dest;
            OBSERVE(t, MAC_EVENT_MOVED, e, &from);
        }
        return 0;
    }

    struct mac_dest from;
    bool moved = false;

    if (e) {
        /* Learned here or elsewhere: the announcement is newer news. */
        from = e->dest;
        moved = !mac_dest_equals(&from, &dest);
        detach_from_owner(t, e);
        t->stats.moves += moved;
    } else {
        e = alloc_entry(t);
        if (!e || hmap_insert(&t->entries, &e->node, hash)) {
            free_entry(t, e);
            return ENOMEM;
        }
        e->vni = vni;
        e->mac = *mac;
        e->owner = NULL;
    }
    e->dest = dest;
    e->used = 0;
    e->evpn = true;
    e->seq = seq;
    list_push_back(&v->evpn, &e->lru_node);
    v->n_evpn++;
    t->stats.n_evpn++;
    if (moved) {
        OBSERVE(t, MAC_EVENT_MOVED, e, &from);
    } else {
        OBSERVE(t, MAC_EVENT_ADDED, e, NULL);
    }
    return 0;
}

int
mac_table_del_evpn(struct mac_table *t, uint32_t vni,
                   const struct eth_addr *mac, const struct in6_addr *remote)
{
    struct mac_entry *e = find_entry(t, vni, mac);
    struct mac_dest dest = { .type = MAC_DEST_REMOTE, .remote = *remote };

    if (!e || !e->evpn || !mac_dest_equals(&e->dest, &dest)) {
        return ENOENT;
    }
    remove_entry(t, e, MAC_EVENT_DELETED);
    return 0;
}

size_t
mac_table_flush_evpn(struct mac_table *t, uint32_t vni)
{
    struct mac_vni *v = find_vni(t, vni);
    struct mac_entry *e;
    size_t n = 0;

    if (!v) {
        return 0;
    }
    LIST_FOR_EACH_SAFE (e, lru_node, &v->evpn) {
        remove_entry(t, e, MAC_EVENT_FLUSHED);
        n++;
    }
    return n;
}

int
mac_table_del(struct mac_table *t, uint32_t vni, const struct eth_addr *mac)
{
    struct mac_entry *e = find_entry(t, vni, mac);

    if (!e) {
        return ENOENT;
    }
    remove_entry(t, e, MAC_EVENT_DELETED);
    return 0;
}

size_t
mac_table_flush(struct mac_table *t, uint32_t vni,
                const struct mac_dest *dest)
{
    struct mac_table_flush *f = mac_table_flush_start(t, vni, dest,
                                                      LLONG_MAX);
    size_t n = 0;

    if (f) {
        mac_table_flush_step(t, f, SIZE_MAX, &n);
        mac_table_flush_free(f);
    }
    return n;
}

/* The owners a flush has to visit are known by key (VNI and destination)
 * rather than by pointer, since between two slices an owner may go (its
 * last entry aged out) and another come at the same address. */
struct flush_owner {
    uint32_t vni;
    struct mac_dest key;
};

struct mac_table_flush {
    long long before_ms;        /* Entries seen since then stay. */
    struct mac_dest dest;       /* Of entries at 'dest' only, */
    bool has_dest;              /* if this is true. */
    struct flush_owner *owners;
    size_t n_owners;
    size_t next;                /* The owner the next slice starts at. */
};

/* Notes owner 'o' in 'f' if it holds entries at 'key' (NULL: any). */
static void
note_owner(struct mac_table_flush *f, const struct mac_owner *o,
           const struct mac_dest *key)
{
    if (!key || mac_dest_equals(&o->dest, key)) {
        f->owners[f->n_owners++] = (struct flush_owner) {
            .vni = o->vni->vni, .key = o->dest,
        };
    }
}

/* A flush of one VNI looks at that VNI's owners only: unbinding a port
 * flushes its entries, and a walk over every owner of thousands of VNIs
 * for each would cost a batch the square of their number. */
struct mac_table_flush *
mac_table_flush_start(struct mac_table *t, uint32_t vni,
                      const struct mac_dest *dest, long long before_ms)
{
    struct mac_table_flush *f = calloc(1, sizeof *f);
    struct mac_dest key = dest ? owner_key(dest) : (struct mac_dest) { 0 };
    struct mac_vni *v = vni ? find_vni(t, vni) : NULL;
    size_t n = vni ? 0 : hmap_count(&t->owners);
    struct mac_owner *o;

    if (v) {
        LIST_FOR_EACH (o, vni_node, &v->owners) {
            n++;
        }
    }

    if (!f || !(f->owners = calloc(n + 1, sizeof *f->owners))) {
        free(f);
        return NULL;
    }
    f->before_ms = before_ms;
    f->has_dest = dest != NULL;
    if (dest) {
        f->dest = *dest;
    }
    if (v) {
        LIST_FOR_EACH (o, vni_node, &v->owners) {
            note_owner(f, o, dest ? &key : NULL);
        }
    } else if (!vni) {
        HMAP_FOR_EACH (o, node, &t->owners) {
            note_owner(f, o, dest ? &key : NULL);
        }
    }
    return f;
}

static bool
flush_doomed(const struct mac_entry *e, const void *f_)
{
    const struct mac_table_flush *f = f_;

    return e->used < f->before_ms
           && at_dest(e, f->has_dest ? &f->dest : NULL);
}

/* An owner's list is in order of last sighting, so the entries a flush
 * without a destination removes are the front of the list, up to the
 * first entry seen since it began. */
bool
mac_table_flush_step(struct mac_table *t, struct mac_table_flush *f,
                     size_t max, size_t *removed)
{
    size_t left = f->has_dest ? SIZE_MAX : max;

    while (f->next < f->n_owners && left) {
        const struct flush_owner *fo = &f->owners[f->next];
        struct mac_owner *o = find_owner(t, fo->vni, &fo->key);
        size_t looked = 0;

        if (o) {
            *removed += remove_entries(t, o, flush_doomed, f, left, &looked);
            left -= looked;
            o = find_owner(t, fo->vni, &fo->key);
            if (o && flush_doomed(CONTAINER_OF(list_front(&o->lru),
                                               struct mac_entry, lru_node),
                                  f)) {
                break;          /* The next slice goes on with it. */
            }
        }
        f->next++;
    }
    return f->next >= f->n_owners;
}

void
mac_table_flush_free(struct mac_table_flush *f)
{
    if (f) {
        free(f->owners);
        free(f);
    }
}

long long
mac_table_expire(struct mac_table *t, long long now_ms)
{
    return mac_table_expire_some(t, now_ms, SIZE_MAX);
}

long long
mac_table_expire_some(struct mac_table *t, long long now_ms, size_t max)
{
    long long next = LLONG_MAX;
    struct mac_owner *o;
    struct mac_vni *v;

    HMAP_FOR_EACH_SAFE (o, node, &t->owners) {
        long long ageing = o->vni->ageing_ms;

        while (o) {
            if (!max) {
                return now_ms;  /* The rest is due at once. */
            }
            struct mac_entry *e = CONTAINER_OF(list_front(&o->lru),
                                               struct mac_entry, lru_node);

            if (e->used + ageing > now_ms) {
                next = MIN(next, e->used + ageing);
                break;
            }
            /* Removing the last entry frees the owner. */
            bool last = o->n_entries == 1;

            remove_entry(t, e, MAC_EVENT_AGED);
            t->stats.expired++;
            max--;
            if (last) {
                o = NULL;
            }
        }
    }

    /* An entry learned after this pass, in the VNI that ages fastest, is
     * due that long after now: no later pass may be scheduled. */
    HMAP_FOR_EACH (v, node, &t->vnis) {
        if (now_ms <= LLONG_MAX - v->ageing_ms) {
            next = MIN(next, now_ms + v->ageing_ms);
        }
    }
    return next;
}

void
mac_table_dump(const struct mac_table *t, uint32_t vni, long long now_ms,
               mac_table_dump_cb *cb, void *aux)
{
    struct mac_table_cursor cursor = { 0, 0 };

    mac_table_dump_slice(t, vni, now_ms, &cursor, SIZE_MAX, cb, aux);
}

static struct mac_table_entry_info
entry_info(const struct mac_entry *e, long long now_ms)
{
    return (struct mac_table_entry_info) {
        .vni = e->vni,
        .mac = e->mac,
        .dest = e->dest,
        .is_static = !e->owner && !e->evpn,
        .is_evpn = e->evpn,
        .evpn_seq = e->seq,
        .age_ms = e->owner ? MAX(now_ms - e->used, 0) : 0,
    };
}

bool
mac_table_get_entry(const struct mac_table *t, uint32_t vni,
                    const struct eth_addr *mac, long long now_ms,
                    struct mac_table_entry_info *info)
{
    const struct mac_entry *e = find_entry(t, vni, mac);

    if (e) {
        *info = entry_info(e, now_ms);
    }
    return e != NULL;
}

static void
report_entry(const struct mac_entry *e, uint32_t vni, long long now_ms,
             mac_table_dump_cb *cb, void *aux)
{
    if (!vni || e->vni == vni) {
        struct mac_table_entry_info info = entry_info(e, now_ms);

        cb(&info, aux);
    }
}

/* The table's buckets only grow, by powers of two, so the entries of the
 * bucket 'i' of the table as it was when the dump began are now in buckets
 * i, i + n, i + 2n... for the 'n' buckets of then: visiting those together
 * reports each entry once however the table grew between slices. */
bool
mac_table_dump_slice(const struct mac_table *t, uint32_t vni,
                     long long now_ms, struct mac_table_cursor *cursor,
                     size_t max, mac_table_dump_cb *cb, void *aux)
{
    const struct hmap *map = &t->entries;
    size_t n_reported = 0;

    if (!cursor->n_buckets) {
        cursor->n_buckets = map->mask + 1;
        cursor->bucket = 0;
    }
    while (cursor->bucket < cursor->n_buckets && n_reported < max) {
        for (size_t i = cursor->bucket; i <= map->mask;
             i += cursor->n_buckets) {
            for (const struct hmap_node *node = map->buckets[i]; node;
                 node = node->next) {
                report_entry(CONTAINER_OF(node, struct mac_entry, node),
                             vni, now_ms, cb, aux);
                n_reported++;
            }
        }
        cursor->bucket++;
    }
    return cursor->bucket >= cursor->n_buckets;
}

size_t
mac_table_n_evpn(const struct mac_table *t, uint32_t vni)
{
    const struct mac_vni *v = find_vni(t, vni);

    return v ? v->n_evpn : 0;
}

void
mac_table_get_stats(const struct mac_table *t, struct mac_table_stats *s)
{
    *s = t->stats;
    s->max_entries = t->max_entries;
}

bool
mac_table_get_vni(const struct mac_table *t, uint32_t vni,
                  unsigned int *ageing_s, size_t *max_entries,
                  size_t *n_dynamic, size_t *n_static)
{
    const struct mac_vni *v = find_vni(t, vni);

    if (!v) {
        return false;
    }
    *ageing_s = (unsigned int) (v->ageing_ms / 1000);
    *max_entries = v->max_entries;
    *n_dynamic = v->n_dynamic;
    *n_static = v->n_static;
    return true;
}
