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

static struct udp_gso *
must_create(const char *local)
{
    struct udp_gso_config config = {
        .local = fixture_ip(local), .ttl = 64, .tos = 0, .df = true,
    };
    struct udp_gso *g;

    config.family = inet_is_ipv4(&config.local) ? AF_INET : AF_INET6;
    g = udp_gso_create(&config);
    ck_assert_ptr_nonnull(g);
    return g;
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

/* A source port's socket is opened once; one that maps to the same cache
 * slot takes the slot over, and the first is opened again after. */
START_TEST(test_keeps_a_socket_per_source_port)
{
    static const uint16_t ports[] = { 50000, 50000, 50001,
                                      50000 + UDP_GSO_SOCKETS, 50000 };
    static const uint64_t opened[] = { 1, 1, 2, 3, 4 };
    struct udp_gso *g = must_create("127.0.0.1");
    int sock = open_receiver("127.0.0.1");

    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        ck_assert_int_eq(send_train(g, ports[i], "127.0.0.1", 3, SEG), 0);
        expect_train(sock, 3, SEG, ports[i]);
        ck_assert_uint_eq(get_stats(g).sockets_opened, opened[i]);
    }
    close(sock);
    udp_gso_destroy(g);
}
END_TEST

START_TEST(test_refuses_a_source_port_another_socket_holds)
{
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons(50000),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct udp_gso *g = must_create("127.0.0.1");
    int holder = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_eq(bind(holder, (struct sockaddr *) &addr, sizeof addr), 0);
    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 3, SEG), EADDRINUSE);

    /* Remembered: the second train does not try to bind again. */
    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 3, SEG), EADDRINUSE);
    ck_assert_uint_eq(get_stats(g).open_failures, 1);
    ck_assert_uint_eq(get_stats(g).sockets_opened, 0);
    ck_assert_uint_eq(get_stats(g).trains, 0);
    close(holder);
    udp_gso_destroy(g);
}
END_TEST

START_TEST(test_refuses_an_address_the_host_lacks)
{
    struct udp_gso *g = must_create("172.31.251.1");

    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 3, SEG),
                     EADDRNOTAVAIL);

    /* Remembered, with its reason, until another port takes the slot. */
    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 3, SEG),
                     EADDRNOTAVAIL);
    ck_assert_uint_eq(get_stats(g).open_failures, 1);
    ck_assert_uint_eq(get_stats(g).trains, 0);
    udp_gso_destroy(g);
}
END_TEST

START_TEST(test_refuses_too_many_datagrams)
{
    struct udp_gso *g = must_create("127.0.0.1");

    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1",
                                UDP_GSO_MAX_SEGMENTS + 1, SEG), EINVAL);
    ck_assert_int_eq(send_train(g, 50000, "127.0.0.1", 0, SEG), EINVAL);
    ck_assert_uint_eq(get_stats(g).sockets_opened, 0);
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
    fixture_add_case(s, "keeps a socket per source port",
                     test_keeps_a_socket_per_source_port, setup, NULL);
    fixture_add_case(s, "refuses a source port another socket holds",
                     test_refuses_a_source_port_another_socket_holds, setup,
                     NULL);
    fixture_add_case(s, "refuses an address the host lacks",
                     test_refuses_an_address_the_host_lacks, setup, NULL);
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
