#ifndef DATAPATH_MAC_TABLE_H
#define DATAPATH_MAC_TABLE_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eth-addr.h"
#include "inet.h"

/* The forwarding database: where each (VNI, MAC) was last seen.
 *
 * Dynamic entries are learned from traffic, refreshed by it, and expire
 * after the VNI's ageing time without it.  Static entries are configured,
 * never age, and learning never overwrites them.
 *
 * The table is bounded twice: per VNI and overall.  Within a VNI, entries
 * have "owners": each local port, and the underlay, which stands for every
 * remote VTEP together (anyone on the underlay can forge outer sources, so
 * counting remote VTEPs one by one would let 20,000 forged ones, each with
 * one entry, outweigh any local port).  When a bound is hit by an entry
 * learned on a local port, the entry evicted is the least recently seen one
 * of the owner that holds the most entries, so a port that floods random
 * source addresses only pushes out its own entries.  An entry learned from
 * the underlay evicts the least recently seen entry learned from the
 * underlay in its VNI: the underlay never pushes out local entries, except
 * one when it holds none at all.  Remote VTEPs are not protected from one
 * another by eviction; the learning policy (mac_table_set_learning()) says
 * which of them may be learned from.
 *
 * Time is whatever clock the caller passes, in milliseconds, so tests can
 * move it.  Ageing is one pass, mac_table_expire(), that the caller runs
 * when the deadline it returned has come: there is no timer per entry.
 *
 * EVPN entries are a third kind: remote MACs that a BGP EVPN control plane
 * announced (type-2 routes).  Like static ones they never age and are not
 * bounded by learning's limits (the routes bound them); unlike static ones
 * a MAC seen on a local port takes one over (the host moved here), and
 * another EVPN announcement moves one only with a newer MAC-mobility
 * sequence number. */

#define MAC_TABLE_DEFAULT_AGEING 300        /* Seconds. */
#define MAC_TABLE_DEFAULT_MAX 262144        /* Entries in the whole table. */

/* The most mac_table_set_max() allows: the answer to fdb-show of a full
 * table (about 36 bytes an entry) must fit one 64 MiB response. */
#define MAC_TABLE_MAX_LIMIT 1048576

enum mac_dest_type {
    MAC_DEST_PORT,              /* A local port, by number. */
    MAC_DEST_REMOTE,            /* A remote VTEP, by underlay address. */
};

struct mac_dest {
    enum mac_dest_type type;
    uint32_t port_no;           /* MAC_DEST_PORT only. */
    struct in6_addr remote;     /* MAC_DEST_REMOTE only; IPv4-mapped. */
};

bool mac_dest_equals(const struct mac_dest *, const struct mac_dest *);

struct mac_table;

/* Returns a table that holds at most 'max_entries' dynamic entries (0 means
 * MAC_TABLE_DEFAULT_MAX), or NULL if memory is short.  Destroying frees every
 * entry; it accepts NULL. */
struct mac_table *mac_table_create(size_t max_entries);
void mac_table_destroy(struct mac_table *);

/* Sets the most dynamic entries the whole table holds, from 1 to
 * MAC_TABLE_MAX_LIMIT; a VNI's own limit (mac_table_set_vni()) applies
 * too, so the smaller of the two binds it.  Lowering the bound evicts at
 * once, as learning at the bound would.  Returns 0, or EINVAL for a bound
 * out of range, which changes nothing. */
int mac_table_set_max(struct mac_table *, size_t max_entries);

/* Creates or reconfigures the settings of 'vni': ageing time in seconds (0
 * means MAC_TABLE_DEFAULT_AGEING) and the most dynamic entries it may hold
 * (0 means only the table's bound applies).  Lowering the limit evicts at
 * once.  Returns 0 or ENOMEM. */
int mac_table_set_vni(struct mac_table *, uint32_t vni,
                      unsigned int ageing_s, size_t max_entries);

/* Which remote VTEPs a VNI learns from.  A source that is not unicast
 * (inet_is_unicast()) is never learned, whatever the policy. */
struct mac_learn_policy {
    bool no_remotes;                    /* None at all (an EVPN VNI, whose
                                         * remote MACs the control plane
                                         * gives). */
    bool listed_only;                   /* Only from 'remotes'. */
    const struct in6_addr *remotes;
    size_t n_remotes;
    struct inet_prefix prefix;          /* And only from within it; a length
                                         * of 0 allows every address. */
};

/* Sets the learning policy of 'vni' (the default learns from every remote
 * VTEP) and forgets the entries learned from remote VTEPs that it refuses.
 * The policy is copied.  Returns 0, ENOENT if the VNI is not configured,
 * EINVAL for a prefix longer than 128 bits, or ENOMEM. */
int mac_table_set_learning(struct mac_table *, uint32_t vni,
                           const struct mac_learn_policy *);

/* Removes 'vni''s settings and all its entries, static ones included. */
void mac_table_del_vni(struct mac_table *, uint32_t vni);

/* EVPN entries (see the top of this file).
 *
 * Adds or moves the EVPN entry for 'mac' in 'vni' to remote VTEP 'remote'
 * with MAC-mobility sequence number 'seq'.  An EVPN entry already at
 * 'remote' with the same 'seq' is left as it is (a route announced again);
 * one with an equal or newer 'seq' anywhere else, or an older one at
 * 'remote', stays, and the refusal is counted as 'evpn_stale'.  A learned
 * entry is replaced; a static one stays ('static_kept').  Returns 0,
 * ENOENT if the VNI is not configured, EINVAL for a multicast or zero MAC
 * or a 'remote' that is not unicast, EEXIST for a static entry, ESTALE
 * for a refused sequence number, or ENOMEM. */
int mac_table_add_evpn(struct mac_table *, uint32_t vni,
                       const struct eth_addr *mac,
                       const struct in6_addr *remote, uint32_t seq);

/* Removes the EVPN entry for 'mac' in 'vni' if it is at 'remote' (a route
 * withdrawn by a VTEP the MAC has since moved from leaves the newer entry
 * alone).  Returns 0 or ENOENT. */
int mac_table_del_evpn(struct mac_table *, uint32_t vni,
                       const struct eth_addr *mac,
                       const struct in6_addr *remote);

/* Removes every EVPN entry of 'vni' and returns how many went. */
size_t mac_table_flush_evpn(struct mac_table *, uint32_t vni);

/* Returns how many EVPN entries 'vni' holds (0 if it is not configured). */
size_t mac_table_n_evpn(const struct mac_table *, uint32_t vni);

enum mac_learn_result {
    MAC_LEARN_NEW,              /* A new entry. */
    MAC_LEARN_REFRESHED,        /* Seen again in the same place. */
    MAC_LEARN_MOVED,            /* Seen somewhere else: entry updated. */
    MAC_LEARN_STATIC,           /* A static entry exists: left alone. */
    MAC_LEARN_MULTICAST,        /* Multicast or zero source: not learned. */
    MAC_LEARN_NO_VNI,           /* The VNI is not configured. */
    MAC_LEARN_REFUSED,          /* The VNI's policy refuses the remote. */
    MAC_LEARN_NO_MEMORY,        /* Allocation failed: not learned. */
};

/* Records that 'mac' was seen as a source in 'vni' at 'dest' at time
 * 'now_ms'.  A multicast or zero 'mac' is counted as 'multicast_ignored'
 * and a remote 'dest' the VNI's policy refuses as 'learn_refused'. */
enum mac_learn_result mac_table_learn(struct mac_table *, uint32_t vni,
                                      const struct eth_addr *mac,
                                      const struct mac_dest *dest,
                                      long long now_ms);

/* Says whether mac_table_learn() with these arguments would leave 'mac'
 * at 'dest' (learned, refreshed or moved there), without changing
 * anything: for trace, which must see what forwarding would after
 * learning the source.  (Which entry learning would evict from a full
 * table, it does not say.) */
bool mac_table_would_learn(const struct mac_table *, uint32_t vni,
                           const struct eth_addr *mac,
                           const struct mac_dest *dest);

/* Returns where 'mac' lives in 'vni', or NULL if unknown.  The pointer is
 * valid until the table is next changed. */
const struct mac_dest *mac_table_lookup(const struct mac_table *,
                                        uint32_t vni,
                                        const struct eth_addr *mac);

/* Software pipelining for a batch: before looking up or learning many
 * addresses, a caller passes them all here, so that the cache misses of
 * the whole batch overlap instead of following one another.  Only a hint:
 * it changes nothing, and keys past MAC_TABLE_PREFETCH_MAX are ignored.
 * Writes the hash of each key it takes to 'hashes' (room for 'n', or
 * MAC_TABLE_PREFETCH_MAX if fewer), for mac_table_learn_hashed() and
 * mac_table_lookup_hashed(): the batch's addresses are hashed once.  A
 * hash stays valid as long as the table does, whatever changes in it. */
#define MAC_TABLE_PREFETCH_MAX 64

struct mac_key {
    uint32_t vni;
    struct eth_addr mac;
};

void mac_table_prefetch(const struct mac_table *, const struct mac_key *,
                        size_t n, uint32_t *hashes);

/* mac_table_learn() and mac_table_lookup() for an address whose 'hash'
 * mac_table_prefetch() gave. */
enum mac_learn_result mac_table_learn_hashed(struct mac_table *,
                                             uint32_t vni,
                                             const struct eth_addr *mac,
                                             uint32_t hash,
                                             const struct mac_dest *dest,
                                             long long now_ms);
const struct mac_dest *mac_table_lookup_hashed(const struct mac_table *,
                                               uint32_t vni,
                                               const struct eth_addr *mac,
                                               uint32_t hash);

/* Adds or replaces a static entry.  Returns 0, ENOENT if the VNI is not
 * configured, EINVAL for a multicast or zero MAC, or ENOMEM. */
int mac_table_add_static(struct mac_table *, uint32_t vni,
                         const struct eth_addr *mac,
                         const struct mac_dest *dest);

/* Removes the entry for 'mac' in 'vni', static or dynamic.  Returns 0 or
 * ENOENT. */
int mac_table_del(struct mac_table *, uint32_t vni,
                  const struct eth_addr *mac);

/* Removes dynamic entries: of 'vni' only unless it is 0, and of 'dest' only
 * unless it is NULL.  Static entries stay.  Returns how many went. */
size_t mac_table_flush(struct mac_table *, uint32_t vni,
                       const struct mac_dest *dest);

/* The same flush in slices, so that a million entries need not go in one
 * turn of the forwarding loop.  mac_table_flush_start() notes which
 * owners (ports, the underlay) hold matching entries; each
 * mac_table_flush_step() removes matching entries last seen before
 * 'before_ms' (the time the flush was asked for), looking at about 'max'
 * entries (whole owners if 'dest' is not NULL), adds how many went to
 * '*removed', and returns true once all are done.  An entry seen at or
 * after 'before_ms' (learned, moved, or refreshed by a frame while the
 * flush goes on) stays, as it would have been learned again at once.
 * Ageing, eviction and deletion may remove entries between the steps;
 * they do not count as flushed.  mac_table_flush_start() returns NULL if
 * memory is short.  A flush must be freed before its table;
 * mac_table_flush_free() accepts NULL. */
struct mac_table_flush;
struct mac_table_flush *mac_table_flush_start(struct mac_table *,
                                              uint32_t vni,
                                              const struct mac_dest *dest,
                                              long long before_ms);
bool mac_table_flush_step(struct mac_table *, struct mac_table_flush *,
                          size_t max, size_t *removed);
void mac_table_flush_free(struct mac_table_flush *);

/* Removes dynamic entries not seen for their VNI's ageing time.  Returns
 * when to call again: the earlier of the next entry's deadline and now plus
 * the shortest ageing time of any VNI, which bounds the deadline of entries
 * learned in between; LLONG_MAX if there are no VNIs.  A caller that
 * shortens a VNI's ageing time calls again at once. */
long long mac_table_expire(struct mac_table *, long long now_ms);

/* The same, removing 'max' entries at most: if more are due, returns
 * 'now_ms', for the caller to call again once the loop has had a turn
 * (entries learned within the same second, a million of them, fall due
 * together). */
long long mac_table_expire_some(struct mac_table *, long long now_ms,
                                size_t max);

struct mac_table_entry_info {
    uint32_t vni;
    struct eth_addr mac;
    struct mac_dest dest;
    bool is_static;
    bool is_evpn;               /* Neither static nor learned. */
    uint32_t evpn_seq;          /* EVPN entries: MAC-mobility sequence. */
    long long age_ms;           /* Since last seen; 0 for static and EVPN
                                 * entries. */
};

/* Fills '*info' with the entry for 'mac' in 'vni' and returns true, or
 * returns false if there is none. */
bool mac_table_get_entry(const struct mac_table *, uint32_t vni,
                         const struct eth_addr *mac, long long now_ms,
                         struct mac_table_entry_info *info);

typedef void mac_table_dump_cb(const struct mac_table_entry_info *,
                               void *aux);

/* Calls 'cb' for every entry of 'vni' (every VNI if 0), in no particular
 * order.  'cb' must not change the table. */
void mac_table_dump(const struct mac_table *, uint32_t vni, long long now_ms,
                    mac_table_dump_cb *cb, void *aux);

/* Where a dump in slices stands; { 0, 0 } to begin. */
struct mac_table_cursor {
    size_t bucket;
    size_t n_buckets;
};

/* Like mac_table_dump(), but returns once about 'max' entries (of any VNI)
 * were looked at, so that a large table is dumped a slice at a time; true
 * once the whole table was.  The table may change between slices: an entry
 * present all along is reported exactly once, one added or removed
 * meanwhile may or may not be. */
bool mac_table_dump_slice(const struct mac_table *, uint32_t vni,
                          long long now_ms, struct mac_table_cursor *,
                          size_t max, mac_table_dump_cb *cb, void *aux);

struct mac_table_stats {
    size_t n_dynamic;           /* Entries now. */
    size_t n_static;
    size_t max_entries;
    uint64_t learned;           /* New dynamic entries ever. */
    uint64_t moves;
    uint64_t expired;
    uint64_t evicted;           /* To make room, either bound. */
    uint64_t static_kept;       /* Learning that a static entry overrode. */
    uint64_t multicast_ignored; /* Multicast or zero sources not learned. */
    uint64_t learn_refused;     /* Remote VTEPs a VNI's policy refused. */
    size_t n_evpn;              /* EVPN entries now. */
    uint64_t evpn_stale;        /* EVPN moves refused for their sequence
                                 * number. */
};

/* Observing: what happens to the entries, as it happens (the event
 * stream of vswitch-ctl monitor).  'entry' says what the entry is (its
 * age is 0) as it is after a learn, move or add, and as it was for the
 * others, whose entry is gone; 'from' is where a moved entry was, NULL
 * otherwise.  Flushing a VNI away or refusing a remote VTEP (the learning
 * policy) counts as flushing.  The callback must not change the table.
 * While no observer is set, which 'cb' NULL makes so, a change costs one
 * branch more. */
enum mac_table_event {
    MAC_EVENT_LEARNED,
    MAC_EVENT_MOVED,
    MAC_EVENT_AGED,
    MAC_EVENT_EVICTED,
    MAC_EVENT_FLUSHED,
    MAC_EVENT_ADDED,            /* A static entry, new or replaced. */
    MAC_EVENT_DELETED,
};

typedef void mac_table_observer_cb(void *aux, enum mac_table_event,
                                   const struct mac_table_entry_info *entry,
                                   const struct mac_dest *from);

void mac_table_set_observer(struct mac_table *, mac_table_observer_cb *cb,
                            void *aux);

void mac_table_get_stats(const struct mac_table *, struct mac_table_stats *);

/* Reports 'vni''s settings and entry counts.  Returns false if the VNI is not
 * configured. */
bool mac_table_get_vni(const struct mac_table *, uint32_t vni,
                       unsigned int *ageing_s, size_t *max_entries,
                       size_t *n_dynamic, size_t *n_static);

#endif /* datapath/mac-table.h */
