#ifndef BENCH_BENCH_ACL_H
#define BENCH_BENCH_ACL_H 1

#include <stddef.h>

struct flow_table;

/* The access list of dp-bench's acl scenario: BENCH_ACL_RULES drop rules
 * over BENCH_ACL_MASKS different masks (addresses, prefixes, ports,
 * Ethernet addresses, IP fields, the input port), none of which matches
 * the bench's own traffic, so that every frame is looked up past all of
 * them to the default rule's normal, the way permitted traffic meets an
 * ACL in front of a switch. */

#define BENCH_ACL_RULES 1000
#define BENCH_ACL_MASKS 20

/* Adds the rules to 'ft'.  Returns 0, or an errno value with a message
 * in 'error'. */
int bench_acl_install(struct flow_table *ft, char *error, size_t size);

#endif /* bench/bench-acl.h */
