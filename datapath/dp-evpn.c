#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp-private.h"
#include "inet.h"
#include "mac-table.h"

/* The state an EVPN agent gives an EVPN VNI: remote MACs (entries of
 * their own kind in the MAC table) and the VTEPs that want its floods
 * (type-3 routes).  The VTEPs are kept sorted, so that adding one, and
 * merging them with the configuration's flood list, look an address up
 * by bisection. */

static int
compare_addrs(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct in6_addr));
}

/* Where 'addr' is, or would go, in the sorted 'list' of 'n'. */
static size_t
find_slot(const struct in6_addr *list, size_t n, const struct in6_addr *addr)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (compare_addrs(&list[mid], addr) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static bool
contains(const struct in6_addr *list, size_t n, const struct in6_addr *addr)
{
    size_t i = find_slot(list, n, addr);

    return i < n && inet_equals(&list[i], addr);
}

/* The configuration's list comes first, in its order; then the EVPN VTEPs
 * it does not name, so that a VTEP in both gets one copy of each flood. */
int
dp_evpn_merge_flood(struct dp_vni *v)
{
    size_t n_oper = v->n_oper_flood;
    size_t max = n_oper + v->n_evpn_vteps;
    struct in6_addr *list = malloc((max + n_oper + 1) * sizeof *list);
    struct in6_addr *sorted = list + max;   /* The configuration's. */
    size_t n = 0;

    if (!list) {
        return ENOMEM;
    }
    if (n_oper) {
        memcpy(list, v->oper_flood, n_oper * sizeof *list);
        memcpy(sorted, v->oper_flood, n_oper * sizeof *list);
        qsort(sorted, n_oper, sizeof *sorted, compare_addrs);
    }
    n = n_oper;
    for (size_t i = 0; i < v->n_evpn_vteps; i++) {
        if (!contains(sorted, n_oper, &v->evpn_vteps[i])) {
            list[n++] = v->evpn_vteps[i];
        }
    }
    free(v->flood_list);
    v->flood_list = list;
    v->n_flood = n;
    return 0;
}

size_t
dp_evpn_forget(struct mac_table *macs, struct dp_vni *v)
{
    size_t n = mac_table_flush_evpn(macs, v->vni) + v->n_evpn_vteps;

    free(v->evpn_vteps);
    v->evpn_vteps = NULL;
    v->n_evpn_vteps = 0;
    return n;
}

/* Returns EVPN VNI 'vni' in '*v', or ENOENT or EINVAL. */
static int
find_evpn_vni(const struct dp *dp, uint32_t vni, struct dp_vni **vp)
{
    struct dp_vni *v;

    v = dp_find_vni(dp, vni);
    if (!v) {
        return ENOENT;
    }
    *vp = v;
    return v->evpn ? 0 : EINVAL;
}

int
dp_evpn_mac_add(struct dp *dp, uint32_t vni, const struct eth_addr *mac,
                const struct in6_addr *remote, uint32_t seq)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);

    return error ? error : mac_table_add_evpn(dp->macs, vni, mac, remote,
                                              seq);
}

int
dp_evpn_mac_del(struct dp *dp, uint32_t vni, const struct eth_addr *mac,
                const struct in6_addr *remote)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);

    return error ? error : mac_table_del_evpn(dp->macs, vni, mac, remote);
}

int
dp_evpn_vtep_add(struct dp *dp, uint32_t vni, const struct in6_addr *addr)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);

    if (error) {
        return error;
    }
    if (!inet_is_unicast(addr)) {
        return EINVAL;
    }

    size_t i = find_slot(v->evpn_vteps, v->n_evpn_vteps, addr);

    if (i < v->n_evpn_vteps && inet_equals(&v->evpn_vteps[i], addr)) {
        return EEXIST;
    }
    if (v->n_evpn_vteps >= DP_EVPN_MAX_VTEPS) {
        return ENOSPC;
    }

    struct in6_addr *vteps = realloc(v->evpn_vteps, (v->n_evpn_vteps + 1)
                                                    * sizeof *vteps);

    if (!vteps) {
        return ENOMEM;
    }
    memmove(&vteps[i + 1], &vteps[i],
            (v->n_evpn_vteps - i) * sizeof *vteps);
    vteps[i] = *addr;
    v->evpn_vteps = vteps;
    v->n_evpn_vteps++;
    error = dp_evpn_merge_flood(v);
    if (error) {
        memmove(&vteps[i], &vteps[i + 1],
                (--v->n_evpn_vteps - i) * sizeof *vteps);
    }
    return error;
}

int
dp_evpn_vtep_del(struct dp *dp, uint32_t vni, const struct in6_addr *addr)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);

    if (error) {
        return error;
    }
    if (!contains(v->evpn_vteps, v->n_evpn_vteps, addr)) {
        return ENOENT;
    }

    size_t i = find_slot(v->evpn_vteps, v->n_evpn_vteps, addr);

    memmove(&v->evpn_vteps[i], &v->evpn_vteps[i + 1],
            (--v->n_evpn_vteps - i) * sizeof *v->evpn_vteps);
    /* Shorter: the old list, whose place is reused, serves if memory is
     * short, with this VTEP still in it. */
    return dp_evpn_merge_flood(v);
}

int
dp_evpn_set_vteps(struct dp *dp, uint32_t vni, const struct in6_addr *vteps,
                  size_t n)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);

    if (error) {
        return error;
    }
    if (n > DP_EVPN_MAX_VTEPS) {
        return ENOSPC;
    }

    struct in6_addr *copy = malloc((n + 1) * sizeof *copy);
    struct in6_addr *old = v->evpn_vteps;
    size_t n_old = v->n_evpn_vteps;

    if (!copy) {
        return ENOMEM;
    }
    if (n) {                    /* 'vteps' may be NULL then. */
        memcpy(copy, vteps, n * sizeof *copy);
    }
    v->evpn_vteps = copy;
    v->n_evpn_vteps = n;
    error = dp_evpn_merge_flood(v);
    if (error) {
        v->evpn_vteps = old;
        v->n_evpn_vteps = n_old;
        free(copy);
    } else {
        free(old);
    }
    return error;
}

int
dp_evpn_flush(struct dp *dp, uint32_t vni, size_t *n)
{
    struct dp_vni *v;
    int error = find_evpn_vni(dp, vni, &v);
    size_t removed = 0;

    if (!error) {
        removed = dp_evpn_forget(dp->macs, v);
        error = dp_evpn_merge_flood(v);
    }
    if (n) {
        *n = removed;
    }
    return error;
}

const struct in6_addr *
dp_evpn_vteps(const struct dp *dp, uint32_t vni, size_t *n)
{
    struct dp_vni *v;

    if (find_evpn_vni(dp, vni, &v)) {
        *n = 0;
        return NULL;
    }
    *n = v->n_evpn_vteps;
    return v->evpn_vteps;
}
