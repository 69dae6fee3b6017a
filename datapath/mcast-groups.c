#include <config.h>

#include "mcast-groups.h"

#include <errno.h>
#include <stdlib.h>

#include "hash.h"
#include "hmap.h"
#include "inet.h"
#include "util.h"

#define NO_SOCKET ((size_t) -1)

struct group {
    struct hmap_node node;      /* In mcast_groups' 'groups'. */
    struct in6_addr addr;
    size_t sock;                /* Index in 'socks', NO_SOCKET if not
                                 * joined. */
    int error;                  /* Why not joined; 0 if joined. */
    bool named;                 /* Named by the mcast_groups_set() call
                                 * under way. */
};

struct msock {
    int fd;                     /* -1: a free slot. */
    size_t n;                   /* Groups joined on it. */
    bool full;                  /* The kernel refused one more. */
};

struct mcast_groups {
    const struct mcast_groups_ops *ops;
    void *aux;
    struct hmap groups;         /* Of struct group. */
    struct msock *socks;
    size_t n_socks;             /* Slots in use or free. */
    size_t n_open;
    size_t n_joined;
};

static uint32_t
hash_group(const struct in6_addr *addr)
{
    return hash_bytes(addr, sizeof *addr, 0);
}

static struct group *
find_group(const struct mcast_groups *mg, const struct in6_addr *addr)
{
    struct group *g;

    HMAP_FOR_EACH_WITH_HASH (g, node, hash_group(addr), &mg->groups) {
        if (inet_equals(&g->addr, addr)) {
            return g;
        }
    }
    return NULL;
}

struct mcast_groups *
mcast_groups_create(const struct mcast_groups_ops *ops, void *aux)
{
    struct mcast_groups *mg = calloc(1, sizeof *mg);

    if (mg) {
        mg->ops = ops;
        mg->aux = aux;
        hmap_init(&mg->groups);
    }
    return mg;
}

void
mcast_groups_destroy(struct mcast_groups *mg)
{
    struct group *g;

    if (!mg) {
        return;
    }
    for (size_t i = 0; i < mg->n_socks; i++) {
        if (mg->socks[i].fd >= 0) {
            mg->ops->close(mg->aux, mg->socks[i].fd);
        }
    }
    HMAP_FOR_EACH_SAFE (g, node, &mg->groups) {
        hmap_remove(&mg->groups, &g->node);
        free(g);
    }
    hmap_destroy(&mg->groups);
    free(mg->socks);
    free(mg);
}

/* Leaves 'g', if joined, and forgets it.  A group that cannot be left is
 * forgotten all the same: trying again would not do better, and the
 * socket, if it still holds it, is found full in time. */
static void
remove_group(struct mcast_groups *mg, struct group *g)
{
    if (g->sock != NO_SOCKET) {
        struct msock *s = &mg->socks[g->sock];

        mg->ops->change(mg->aux, s->fd, &g->addr, false);
        s->n--;
        s->full = false;
        mg->n_joined--;
    }
    hmap_remove(&mg->groups, &g->node);
    free(g);
}

/* Returns the index of a socket that may take one more group, opening one
 * if none may, or NO_SOCKET with the error in '*error'.  An empty socket
 * is always tried, whatever 'per_socket' says, so that a group that
 * cannot be joined fails with the kernel's own reason. */
static size_t
pick_socket(struct mcast_groups *mg, size_t per_socket, int *error)
{
    size_t free_slot = NO_SOCKET;
    struct msock *s;

    for (size_t i = 0; i < mg->n_socks; i++) {
        s = &mg->socks[i];
        if (s->fd < 0) {
            free_slot = free_slot == NO_SOCKET ? i : free_slot;
        } else if (!s->full && (!s->n || s->n < per_socket)) {
            return i;
        }
    }
    if (free_slot == NO_SOCKET) {
        s = realloc(mg->socks, (mg->n_socks + 1) * sizeof *s);
        if (!s) {
            *error = ENOMEM;
            return NO_SOCKET;
        }
        mg->socks = s;
        free_slot = mg->n_socks++;
        mg->socks[free_slot].fd = -1;
    }
    s = &mg->socks[free_slot];
    *error = mg->ops->open(mg->aux, &s->fd);
    if (*error) {
        s->fd = -1;
        return NO_SOCKET;
    }
    s->n = 0;
    s->full = false;
    mg->n_open++;
    return free_slot;
}

/* Joins 'g' on a socket with room.  A socket that refuses for want of
 * room holds fewer than 'per_socket' said: it counts as full, and the
 * group tries the next one.  Each turn fills a socket or ends, so this
 * ends. */
static void
join_group(struct mcast_groups *mg, struct group *g, size_t per_socket)
{
    for (;;) {
        size_t i = pick_socket(mg, per_socket, &g->error);
        struct msock *s;

        if (i == NO_SOCKET) {
            return;
        }
        s = &mg->socks[i];
        g->error = mg->ops->change(mg->aux, s->fd, &g->addr, true);
        if (!g->error) {
            g->sock = i;
            s->n++;
            mg->n_joined++;
            return;
        }
        if ((g->error != ENOBUFS && g->error != ENOMEM) || !s->n) {
            return;
        }
        s->full = true;
    }
}

static void
close_empty_sockets(struct mcast_groups *mg)
{
    for (size_t i = 0; i < mg->n_socks; i++) {
        struct msock *s = &mg->socks[i];

        if (s->fd >= 0 && !s->n) {
            mg->ops->close(mg->aux, s->fd);
            s->fd = -1;
            mg->n_open--;
        }
    }
}

int
mcast_groups_set(struct mcast_groups *mg, const struct in6_addr *groups,
                 size_t n, size_t per_socket)
{
    struct group *g;
    int error = 0;

    HMAP_FOR_EACH (g, node, &mg->groups) {
        g->named = false;
    }
    for (size_t i = 0; i < n; i++) {
        g = find_group(mg, &groups[i]);
        if (!g) {
            g = malloc(sizeof *g);
            if (!g || hmap_insert(&mg->groups, &g->node,
                                  hash_group(&groups[i]))) {
                free(g);
                error = ENOMEM;
                continue;
            }
            g->addr = groups[i];
            g->sock = NO_SOCKET;
            g->error = EAGAIN;
        }
        g->named = true;
    }
    HMAP_FOR_EACH_SAFE (g, node, &mg->groups) {
        if (!g->named) {
            remove_group(mg, g);
        }
    }
    /* In the order given, so that the first groups fill the first
     * sockets. */
    for (size_t i = 0; i < n; i++) {
        g = find_group(mg, &groups[i]);
        if (g && g->sock == NO_SOCKET && g->named) {
            g->named = false;   /* Tried once in this call. */
            join_group(mg, g, per_socket);
            error = error ? error : g->error;
        }
    }
    close_empty_sockets(mg);
    return error;
}

int
mcast_groups_state(const struct mcast_groups *mg,
                   const struct in6_addr *group)
{
    const struct group *g = find_group(mg, group);

    return g ? g->error : ENOENT;
}

size_t
mcast_groups_joined(const struct mcast_groups *mg)
{
    return mg->n_joined;
}

size_t
mcast_groups_failed(const struct mcast_groups *mg)
{
    return hmap_count(&mg->groups) - mg->n_joined;
}

size_t
mcast_groups_sockets(const struct mcast_groups *mg)
{
    return mg->n_open;
}
