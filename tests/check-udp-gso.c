#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "inet.h"
#include "udp-gso.h"
#include "util.h"

/* Trains sent over the loopback of a network namespace of the test's own,
 * to a receiver that takes them whole (UDP_GRO), so that one train shows
 * as one datagram with its segment size. */

#define RECEIVER_PORT 4799

/* Linux's, which glibc's headers lack (linux/in6.h clashes with them). */
#ifndef IPV6_FLOWINFO
#define IPV6_FLOWINFO 11
#endif
#define SEG 100

static void
setup(void)
{
    fixture_private_netns(true);
}

/* Creates a sender on 'local' with sockets spread over 'min'-'max' into
 * '*gp'.  Returns what udp_gso_create() returns. */
static int
create(const char *local, uint16_t min, uint16_t max, struct udp_gso **gp)
{
    struct udp_gso_config config = {
        .local = fixture_ip(local), .ttl = 64, .tos = 0, .df = true,
        .port_min = min, .port_max = max,
    };

    config.family = inet_is_ipv4(&config.local) ? AF_INET : AF_INET6;
    return udp_gso_create(&config, gp);
}

/* A sender on 'local' whose set holds port 50000 to 50002 and more. */
static struct udp_gso *
must_create(const char *local)
{
    struct udp_gso *g;

    ck_assert_int_eq(create(local, 50000, 50000 + UDP_GSO_SOCKETS - 1, &g),
                     0);
    ck_assert_ptr_nonnull(g);
    return g;
}

/* Returns a UDP socket bound to 'port' of 'addr', which must succeed. */
static int
hold_port(const char *addr, uint16_t port)
{
    struct in6_addr a = fixture_ip(addr);
    int family = inet_is_ipv4(&a) ? AF_INET : AF_INET6;
    int fd = socket(family, SOCK_DGRAM, 0);
    union inet_sockaddr sa;
    socklen_t len = inet_sockaddr_make(family, &a, port, 0, &sa);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, &sa.sa, len), 0);
    return fd;
}

/* Returns the set's ports in 'ports', asserting there are 'n'. */
static void
get_ports(const struct udp_gso *g, uint16_t ports[UDP_GSO_SOCKETS], size_t n)
{
    ck_assert_uint_eq(udp_gso_get_ports(g, ports, UDP_GSO_SOCKETS), n);
}

/* Returns a socket on 'local':RECEIVER_PORT that takes trains whole. */
static int
open_receiver(const char *local)
{
    return fixture_udp_receiver(local, RECEIVER_PORT, true);
}

/* Sends a train of 'n' datagrams of SEG bytes, the last 'last' bytes, from
 * 'src_port' to 'dst':RECEIVER_PORT; datagram i is filled with byte i. */
static int
send_train(struct udp_gso *g, uint16_t src_port, const char *dst, size_t n,
           size_t last)
{
    static uint8_t payloads[UDP_GSO_MAX_SEGMENTS + 1][SEG];
    struct iovec iovs[UDP_GSO_MAX_SEGMENTS + 1];
    struct in6_addr to = fixture_ip(dst);

    ck_assert_uint_le(n, ARRAY_SIZE(iovs));
    for (size_t i = 0; i < n; i++) {
        memset(payloads[i], (int) i, SEG);
        iovs[i] = (struct iovec) { payloads[i], i + 1 < n ? SEG : last };
    }
    return udp_gso_send(g, src_port, &to, htons(RECEIVER_PORT), iovs, n,
                        SEG);
}

/* Receives one train on 'sock' and asserts that it is what send_train()
 * sent with 'n' and 'last', from 'src_port'. */
static void
expect_train(int sock, size_t n, size_t last, uint16_t src_port)
{
    static uint8_t buf[65536];
    size_t seg;
    uint16_t from_port;

    ck_assert_uint_eq(fixture_recv_train(sock, buf, sizeof buf, &seg,
                                         &from_port), (n - 1) * SEG + last);
    ck_assert_uint_eq(seg, SEG);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(buf[i * SEG], i);
        ck_assert_uint_eq(buf[i * SEG + (i + 1 < n ? SEG : last) - 1], i);
    }
    ck_assert_uint_eq(from_port, src_port);
    ck_assert_int_eq(recv(sock, buf, sizeof buf, MSG_DONTWAIT), -1);
}

static struct udp_gso_stats
get_stats(const struct udp_gso *g)
{
    struct udp_gso_stats stats;

    udp_gso_get_stats(g, &stats);
    return stats;
}

START_TEST(test_sends_a_train_that_arrives_whole)
{
    struct udp_gso *g = must_create("127.0.0.1");
    int sock = open_receiver("127.0.0.1");

    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 10, 37), 0);
    expect_train(sock, 10, 37, 50000);
    ck_assert_uint_eq(get_stats(g).trains, 1);
    ck_assert_uint_eq(get_stats(g).datagrams, 10);
    close(sock);
    udp_gso_destroy(g);
}
END_TEST

START_TEST(test_sends_a_train_over_ipv6)
{
    struct udp_gso *g = must_create("::1");
    int sock = open_receiver("::1");

    ck_assert_int_eq(send_train(g, 50001, "::1", UDP_GSO_MAX_SEGMENTS, SEG),
                     0);
    expect_train(sock, UDP_GSO_MAX_SEGMENTS, SEG, 50001);
    close(sock);
    udp_gso_destroy(g);
}
END_TEST

/* The sockets are bound once, when the sender is made, spread evenly
 * over the range: with 16,384 ports, every 64th. */
START_TEST(test_binds_a_set_spread_over_the_range)
{
    uint16_t ports[UDP_GSO_SOCKETS];
    struct udp_gso *g;

    ck_assert_int_eq(create("127.0.0.1", 49152, 65535, &g), 0);
    get_ports(g, ports, UDP_GSO_SOCKETS);
    for (size_t i = 0; i < UDP_GSO_SOCKETS; i++) {
        ck_assert_uint_eq(ports[i], 49152 + 64 * i);
    }
    ck_assert_uint_eq(get_stats(g).sockets, UDP_GSO_SOCKETS);
    ck_assert_uint_eq(get_stats(g).ports_skipped, 0);

    /* Each port is bound already: nobody else can take it. */
    for (size_t i = 0; i < UDP_GSO_SOCKETS; i += 51) {
        struct sockaddr_in sin = { .sin_family = AF_INET,
                                   .sin_port = htons(ports[i]),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof sin), -1);
        ck_assert_int_eq(errno, EADDRINUSE);
        close(fd);
    }
    udp_gso_destroy(g);
}
END_TEST

/* Creates a sender on 'local' for 'min'-'max' and asserts that its set
 * is the 'n' ports of 'want'. */
static void
expect_ports(const char *local, uint16_t min, uint16_t max,
             const uint16_t *want, size_t n)
{
    uint16_t ports[UDP_GSO_SOCKETS];
    struct udp_gso *g;

    ck_assert_int_eq(create(local, min, max, &g), 0);
    get_ports(g, ports, n);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(ports[i], want[i]);
    }
    ck_assert_uint_eq(get_stats(g).sockets, n);
    udp_gso_destroy(g);
}

/* A range smaller than the set has a socket on each of its ports. */
START_TEST(test_binds_every_port_of_a_small_range)
{
    static const uint16_t want[] = { 40000, 40001, 40002 };

    expect_ports("::1", 40000, 40002, want, 3);
    expect_ports("127.0.0.1", 40000, 40000, want, 1);
}
END_TEST

/* Trains from any of the set's ports leave from that port, and trains
 * after trains open nothing more. */
START_TEST(test_sends_from_each_port_of_the_set)
{
    uint16_t ports[UDP_GSO_SOCKETS];
    struct udp_gso *g;
    int sock = open_receiver("127.0.0.1");

    ck_assert_int_eq(create("127.0.0.1", 49152, 65535, &g), 0);
    get_ports(g, ports, UDP_GSO_SOCKETS);
    for (size_t round = 0; round < 2; round++) {
        for (size_t i = 0; i < UDP_GSO_SOCKETS; i += 17) {
            ck_assert_int_eq(send_train(g, ports[i], "127.0.0.1", 3, SEG),
                             0);
            expect_train(sock, 3, SEG, ports[i]);
        }
    }
    ck_assert_uint_eq(get_stats(g).sockets, UDP_GSO_SOCKETS);
    ck_assert_uint_eq(get_stats(g).trains, 2 * 16);
    close(sock);
    udp_gso_destroy(g);
}
END_TEST

/* A port of the set that another socket holds is skipped for the next one
 * of its share, which is not in anybody's share but its own. */
START_TEST(test_skips_a_port_another_socket_holds)
{
    uint16_t ports[UDP_GSO_SOCKETS];
    int holder = hold_port("127.0.0.1", 49152 + 64);
    int holder2 = hold_port("127.0.0.1", 49152 + 65);
    struct udp_gso *g;

    ck_assert_int_eq(create("127.0.0.1", 49152, 65535, &g), 0);
    get_ports(g, ports, UDP_GSO_SOCKETS);
    ck_assert_uint_eq(ports[0], 49152);
    ck_assert_uint_eq(ports[1], 49152 + 66);
    ck_assert_uint_eq(ports[2], 49152 + 128);
    ck_assert_uint_eq(get_stats(g).ports_skipped, 2);
    ck_assert_uint_eq(get_stats(g).sockets, UDP_GSO_SOCKETS);

    /* The held port is not the set's: its trains go another way. */
    ck_assert_int_eq(send_train(g, 49152 + 64, "127.0.0.1", 3, SEG),
                     EADDRNOTAVAIL);
    ck_assert_uint_eq(get_stats(g).trains, 0);
    close(holder);
    close(holder2);
    udp_gso_destroy(g);
}
END_TEST

/* A share whose every port is held has no socket; a range whose every
 * port is held has no set, and says why. */
START_TEST(test_fails_if_every_port_is_held)
{
    uint16_t ports[UDP_GSO_SOCKETS];
    int holders[3];
    struct udp_gso *g;

    for (size_t i = 0; i < ARRAY_SIZE(holders); i++) {
        holders[i] = hold_port("::1", (uint16_t) (40000 + i));
    }
    ck_assert_int_eq(create("::1", 40000, 40003, &g), 0);
    get_ports(g, ports, 1);
    ck_assert_uint_eq(ports[0], 40003);
    ck_assert_uint_eq(get_stats(g).ports_skipped, 3);
    udp_gso_destroy(g);

    g = (struct udp_gso *) 1;
    ck_assert_int_eq(create("::1", 40000, 40002, &g), EADDRINUSE);
    ck_assert_ptr_null(g);
    for (size_t i = 0; i < ARRAY_SIZE(holders); i++) {
        close(holders[i]);
    }
}
END_TEST

/* A port outside the set is refused, never bound on the send path. */
START_TEST(test_refuses_a_port_outside_the_set)
{
    struct udp_gso *g;

    ck_assert_int_eq(create("127.0.0.1", 50000,
                            50000 + 2 * UDP_GSO_SOCKETS - 1, &g), 0);
    ck_assert_int_eq(send_train(g, 50001, "127.0.0.1", 3, SEG),
                     EADDRNOTAVAIL);
    ck_assert_int_eq(send_train(g, 49999, "127.0.0.1", 3, SEG),
                     EADDRNOTAVAIL);
    ck_assert_int_eq(send_train(g, 50002, "127.0.0.1", 3, SEG), 0);
    ck_assert_uint_eq(get_stats(g).sockets, UDP_GSO_SOCKETS);
    ck_assert_uint_eq(get_stats(g).trains, 1);
    udp_gso_destroy(g);
}
END_TEST

/* The set is bound before 'local' is an address of the host. */
START_TEST(test_binds_an_address_the_host_lacks)
{
    static const uint16_t want[] = { 50000, 50001, 50002, 50003 };

    expect_ports("172.31.251.1", 50000, 50003, want, ARRAY_SIZE(want));
    expect_ports("2001:db8::1", 50000, 50003, want, ARRAY_SIZE(want));
}
END_TEST

START_TEST(test_refuses_too_many_datagrams)
{
    struct udp_gso *g = must_create("127.0.0.1");

    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1",
                                UDP_GSO_MAX_SEGMENTS + 1, SEG), EINVAL);
    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 0, SEG), EINVAL);
    ck_assert_uint_eq(get_stats(g).trains, 0);
    udp_gso_destroy(g);
}
END_TEST

/* Raw-socket frames carry flow label 0; so must a flow's trains, or ECMP
 * that hashes the label would split the flow. */
START_TEST(test_sends_ipv6_with_flow_label_zero)
{
    struct udp_gso *g = must_create("::1");
    int sock = open_receiver("::1");
    int one = 1;
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(int))];
    } control;
    uint8_t buf[65536];
    bool found = false;
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = &control,
                          .msg_controllen = sizeof control };
    struct cmsghdr *c;
    uint32_t label = 0;

    ck_assert_int_eq(setsockopt(sock, IPPROTO_IPV6, IPV6_FLOWINFO, &one,
                                sizeof one), 0);
    ck_assert_int_eq(send_train(g, 50002, "::1", 3, SEG), 0);
    fixture_wait_readable(sock);
    ck_assert_int_gt(recvmsg(sock, &msg, 0), 0);
    for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_FLOWINFO) {
            memcpy(&label, CMSG_DATA(c), sizeof label);
            found = true;
        }
    }
    /* The kernel passes the flow information on only when it is not 0. */
    ck_assert_msg(!found || !(ntohl(label) & 0xfffff), "flow label %#x",
                  ntohl(label) & 0xfffff);
    close(sock);
    udp_gso_destroy(g);
}
END_TEST

START_TEST(test_destroy_accepts_null)
{
    udp_gso_destroy(NULL);
}
END_TEST

static Suite *
udp_gso_suite(void)
{
    Suite *s = suite_create("udp-gso");

    fixture_add_case(s, "sends a train that arrives whole",
                     test_sends_a_train_that_arrives_whole, setup, NULL);
    fixture_add_case(s, "sends a train over IPv6",
                     test_sends_a_train_over_ipv6, setup, NULL);
    fixture_add_case(s, "binds a set spread over the range",
                     test_binds_a_set_spread_over_the_range, setup, NULL);
    fixture_add_case(s, "binds every port of a small range",
                     test_binds_every_port_of_a_small_range, setup, NULL);
    fixture_add_case(s, "sends from each port of the set",
                     test_sends_from_each_port_of_the_set, setup, NULL);
    fixture_add_case(s, "skips a port another socket holds",
                     test_skips_a_port_another_socket_holds, setup, NULL);
    fixture_add_case(s, "fails if every port is held",
                     test_fails_if_every_port_is_held, setup, NULL);
    fixture_add_case(s, "refuses a port outside the set",
                     test_refuses_a_port_outside_the_set, setup, NULL);
    fixture_add_case(s, "binds an address the host lacks",
                     test_binds_an_address_the_host_lacks, setup, NULL);
    fixture_add_case(s, "refuses too many datagrams",
                     test_refuses_too_many_datagrams, setup, NULL);
    fixture_add_case(s, "sends IPv6 with flow label zero",
                     test_sends_ipv6_with_flow_label_zero, setup, NULL);
    fixture_add_case(s, "destroy accepts NULL", test_destroy_accepts_null,
                     NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(udp_gso_suite());
}
