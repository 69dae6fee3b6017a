#include <config.h>

/* group-bench: how long a VXLAN port takes to join, keep and leave N
 * multicast groups, spread over sockets of the kernel's limit per socket
 * (net.ipv4.igmp_max_memberships).
 *
 *   group-bench [N...]         (default: 1000 4096 16384)
 *
 * It needs root.  It makes a network namespace of its own (unshare) with
 * a veth pair, opens a vxlan port on one end and, for each N, times
 * port_set_groups() with N groups (the joins), with the same N again
 * (what every add-vni costs the port once they are joined) and with none
 * (the leaves), and prints how many sockets held them. */

#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inet.h"
#include "port.h"

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Times one port_set_groups() call; exits if it fails. */
static double
timed_set(struct port *port, const struct in6_addr *groups, size_t n)
{
    double start = now_ms();
    int error = port_set_groups(port, groups, n);

    if (error) {
        fprintf(stderr, "group-bench: %zu groups: %s\n", n, strerror(error));
        exit(EXIT_FAILURE);
    }
    return now_ms() - start;
}

static void
run(struct port *port, size_t n)
{
    struct in6_addr *groups = calloc(n, sizeof *groups);
    double join, again, leave;
    size_t joined, failed;

    if (!groups) {
        fprintf(stderr, "group-bench: out of memory\n");
        exit(EXIT_FAILURE);
    }
    for (size_t i = 0; i < n; i++) {
        groups[i] = inet_from_ipv4(htonl(0xef0a0000u + (uint32_t) i));
    }
    join = timed_set(port, groups, n);
    port_group_counts(port, &joined, &failed);
    again = timed_set(port, groups, n);
    leave = timed_set(port, groups, 0);
    printf("%6zu groups: join %7.1f ms, same set again %5.2f ms, "
           "leave all %7.1f ms (%zu joined)\n", n, join, again, leave,
           joined);
    free(groups);
}

int
main(int argc, char *argv[])
{
    static const char *const keys[] = { "local_ip", "dev" };
    static const char *const values[] = { "10.66.0.1", "gb0" };
    struct port_args args = {
        .name = "vtep0", .keys = keys, .values = values, .n_options = 2,
    };
    struct port *port;
    char error[256];

    if (unshare(CLONE_NEWNET)
        || system("ip link set lo up && ip link add gb0 type veth peer "
                  "name gb1 && ip link set gb0 up && ip link set gb1 up "
                  "&& ip addr add 10.66.0.1/24 dev gb0")) {
        fprintf(stderr, "group-bench: needs root (a namespace and a veth)\n");
        return EXIT_FAILURE;
    }
    if (port_class_find("vxlan")->open(&args, &port, error, sizeof error)) {
        fprintf(stderr, "group-bench: %s\n", error);
        return EXIT_FAILURE;
    }
    if (argc < 2) {
        run(port, 1000);
        run(port, 4096);
        run(port, 16384);
    }
    for (int i = 1; i < argc; i++) {
        run(port, strtoul(argv[i], NULL, 10));
    }
    port_close(port);
    return EXIT_SUCCESS;
}
