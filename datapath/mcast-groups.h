#ifndef DATAPATH_MCAST_GROUPS_H
#define DATAPATH_MCAST_GROUPS_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* A set of multicast memberships spread over as many sockets as the
 * kernel's limit per socket needs.
 *
 * Linux caps the groups one socket may join: IPv4 at
 * net.ipv4.igmp_max_memberships (20 by default), IPv6 (and IPv4 too)
 * through the socket's option memory, net.core.optmem_max.  Past the cap
 * a join fails with ENOBUFS or ENOMEM.  A membership is the host's, not
 * the socket's, as far as delivery goes: a socket bound to the wildcard
 * address with IP_MULTICAST_ALL on (the default) receives the datagrams
 * to its port of every group any socket of the namespace joined on the
 * device they came in by.  So the memberships live on sockets that do
 * nothing else, never bound, and the receiving socket gets the traffic.
 *
 * Each socket takes groups up to 'per_socket' (the caller reads the
 * limit); where the kernel refuses earlier, the socket counts as full
 * until one of its groups leaves, and the group goes to another.  A
 * group that cannot be joined on an empty socket keeps the error, and is
 * tried again at the next mcast_groups_set().  The logic is here, the
 * system calls behind 'ops', so that tests can stand in for the kernel. */

struct mcast_groups_ops {
    /* Opens a socket for memberships.  Returns 0 and its descriptor in
     * '*fd', or an errno value. */
    int (*open)(void *aux, int *fd);
    void (*close)(void *aux, int fd);

    /* Joins ('join' true) or leaves 'group' on 'fd'.  Returns 0 or an
     * errno value. */
    int (*change)(void *aux, int fd, const struct in6_addr *group,
                  bool join);
};

/* No limit known: the kernel says where each socket's ends. */
#define MCAST_GROUPS_UNLIMITED ((size_t) -1)

/* Returns an empty set whose sockets 'ops' (which, with 'aux', must
 * outlive it) handles, or NULL if memory is short.  Destroying it closes
 * the sockets, which ends their memberships; it accepts NULL. */
struct mcast_groups *mcast_groups_create(const struct mcast_groups_ops *,
                                         void *aux);
void mcast_groups_destroy(struct mcast_groups *);

/* Makes the set exactly the 'n' 'groups' (duplicates allowed): leaves the
 * groups no longer named, joins the new ones and those that failed
 * before, at most 'per_socket' on one socket (MCAST_GROUPS_UNLIMITED if
 * unknown).  Sockets left empty are closed.  Returns 0 if every group is
 * joined, ENOMEM if memory ran short (the groups not recorded are not
 * in the set), or the error of one group that failed. */
int mcast_groups_set(struct mcast_groups *, const struct in6_addr *groups,
                     size_t n, size_t per_socket);

/* Returns 0 if 'group' is joined, ENOENT if it is not in the set, or why
 * it could not be joined (an errno value). */
int mcast_groups_state(const struct mcast_groups *,
                       const struct in6_addr *group);

/* How many groups of the set are joined, and how many are not. */
size_t mcast_groups_joined(const struct mcast_groups *);
size_t mcast_groups_failed(const struct mcast_groups *);

/* How many sockets are open. */
size_t mcast_groups_sockets(const struct mcast_groups *);

#endif /* datapath/mcast-groups.h */
