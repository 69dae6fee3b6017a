#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp.h"
#include "fixture.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "port.h"
#include "util.h"
#include "vxlan.h"

/* The VXLAN port, in a network namespace of the test's own (made by
 * setup() with unshare(), it dies with the test's process) with "lo" up
 * and, for multicast, a veth pair whose end UNDERLAY has UNDERLAY_IP.  A
 * port reaches itself through the loopback: a frame it encapsulates for
 * 127.0.0.1 and sends comes back to its own recv. */

#define UNDERLAY "ckxa"
#define UNDERLAY_PEER "ckxb"
#define UNDERLAY_IP "172.31.252.1"
#define VNI 5000

/* How long a test waits for the kernel to pass a datagram on: far longer
 * than it takes, so that only a datagram that never comes fails. */

static struct packet_pool *pool;

static void
setup(void)
{
    fixture_private_netns(true);
    pool = packet_pool_create(2 * PACKET_BATCH_MAX);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

static void
add_underlay(void)
{
    fixture_shell("ip link add " UNDERLAY " type veth peer name "
                  UNDERLAY_PEER);
    fixture_shell("ip addr add " UNDERLAY_IP "/24 dev " UNDERLAY);
    fixture_shell("ip link set " UNDERLAY " up && ip link set "
                  UNDERLAY_PEER " up");
}

/* Opens a vxlan port with the options in 'options', "key=value" strings
 * ending with NULL.  Returns what open returns, with the port in '*portp'
 * and the reason in 'error'. */
static int
open_port(const char *const *options, struct port **portp, char *error,
          size_t error_size)
{
    return fixture_port_open("vxlan", "vxlan0", options, portp, error,
                             error_size);
}

static struct port *
must_open(const char *const *options)
{
    struct port *port;
    char error[256];
    int err = open_port(options, &port, error, sizeof error);

    ck_assert_msg(!err, "open: %s (%s)", strerror(err), error);
    ck_assert_ptr_nonnull(port);
    ck_assert_int_ge(port->class->fd(port), 0);
    return port;
}

/* Builds inner frame 'i', a UDP frame of its own length, into 'buf'. */
static size_t
inner_frame(uint8_t *buf, size_t i)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);

    return fixture_udp4_frame(buf, &b, &a, 0x0a000001, 0x0a000002,
                              (uint16_t) (1000 + i), 80, 40 + i);
}

/* Encapsulates inner frame 'i' with inner flow hash 'hash' as 'params'
 * say, for 'dst', and sends it through 'port'. */
static void
send_encapsulated(struct port *port, const struct vxlan_encap_params *params,
                  const struct in6_addr *dst, size_t i, uint32_t hash)
{
    struct packet_batch batch;
    uint8_t buf[256];
    struct packet *p = fixture_packet(pool, buf, inner_frame(buf, i));

    p->md.hash = hash;
    p->md.hash_valid = true;
    ck_assert_int_eq(vxlan_encap(p, params, VNI, dst), 0);
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    port->class->send(port, &batch);
    ck_assert_uint_eq(batch.count, 0);
}

static struct dp_tunnel_config
tunnel_config(const struct port *port)
{
    struct dp_tunnel_config tc;

    ck_assert(port_tunnel_config(port, &tc));
    return tc;
}

static int
recv_batch(struct port *port, struct packet_batch *batch)
{
    packet_batch_init(batch);
    return port->class->recv(port, pool, batch);
}

/* Receives one datagram on 'port' and asserts that it is the VXLAN packet
 * of inner frame 'i' from 'src' to 'dst'. */
static void
expect_own_frame(struct port *port, size_t i, const struct in6_addr *src,
                 const struct in6_addr *dst)
{
    static const uint8_t vxlan_header[VXLAN_HEADER_LEN] = {
        0x08, 0, 0, 0, (VNI >> 16) & 0xff, (VNI >> 8) & 0xff, VNI & 0xff, 0,
    };
    struct packet_batch batch;
    struct packet *p;
    uint8_t want[256];
    size_t len = inner_frame(want, i);
    uint32_t vni;

    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    p = batch.packets[0];
    ck_assert_uint_eq(packet_size(p), VXLAN_HEADER_LEN + len);
    ck_assert_mem_eq(packet_data(p), vxlan_header, VXLAN_HEADER_LEN);
    ck_assert_mem_eq(packet_data(p) + VXLAN_HEADER_LEN, want, len);
    ck_assert(inet_equals(&p->md.tun_src, src));
    ck_assert(inet_equals(&p->md.tun_dst, dst));
    ck_assert_int_eq(vxlan_decap_payload(p, &vni), VXLAN_OK);
    ck_assert_uint_eq(vni, VNI);
    packet_batch_free(&batch);
}

START_TEST(test_receives_what_it_sends_to_itself)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr self = fixture_ip("127.0.0.1");
    struct packet_batch batch;

    send_encapsulated(port, &tc.encap, &self, 0, 1);
    expect_own_frame(port, 0, &self, &self);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_receives_what_it_sends_to_itself_over_ipv6)
{
    static const char *const options[] = { "local_ip=::1", "dst_port=4790",
                                           NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr self = fixture_ip("::1");

    send_encapsulated(port, &tc.encap, &self, 3, 1);
    expect_own_frame(port, 3, &self, &self);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_receives_at_most_a_batch_at_a_time_in_order)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr self = fixture_ip("127.0.0.1");
    size_t n_sent = PACKET_BATCH_MAX + 2, n_got = 0;
    struct packet_batch batch;

    for (size_t i = 0; i < n_sent; i++) {
        send_encapsulated(port, &tc.encap, &self, i, (uint32_t) i);
    }
    while (n_got < n_sent) {
        struct packet *p;

        fixture_wait_readable(port->class->fd(port));
        ck_assert_int_eq(recv_batch(port, &batch), 0);
        ck_assert_uint_le(batch.count, PACKET_BATCH_MAX);
        PACKET_BATCH_FOR_EACH (i, p, &batch) {
            uint8_t want[256];
            size_t len = inner_frame(want, n_got++);

            ck_assert_uint_eq(packet_size(p), VXLAN_HEADER_LEN + len);
            ck_assert_mem_eq(packet_data(p) + VXLAN_HEADER_LEN, want, len);
        }
        packet_batch_free(&batch);
    }
    ck_assert_uint_eq(n_got, n_sent);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    port_close(port);
}
END_TEST

/* The UDP source port on the wire comes from the inner flow's hash, within
 * the configured range; a plain UDP socket, the receiver, sees it. */
START_TEST(test_gives_each_inner_flow_its_own_source_port)
{
    static const char *const options[] = {
        "local_ip=127.0.0.1", "src_port_range=10000-10009", NULL,
    };
    static const uint32_t hashes[] = { 0, 0xffffffff, 0x80000000, 0 };
    static const uint16_t want[] = { 10000, 10009, 10005, 10000 };
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons(4799),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr self = fixture_ip("127.0.0.1");
    int sock = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(bind(sock, (struct sockaddr *) &addr, sizeof addr), 0);
    tc.encap.dst_port = htons(4799);
    for (size_t i = 0; i < ARRAY_SIZE(hashes); i++) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        uint8_t buf[512];

        send_encapsulated(port, &tc.encap, &self, i, hashes[i]);
        fixture_wait_readable(sock);
        ck_assert_int_eq(recvfrom(sock, buf, sizeof buf, 0,
                                  (struct sockaddr *) &from, &from_len),
                         VXLAN_HEADER_LEN + inner_frame(buf, i));
        ck_assert_uint_eq(ntohs(from.sin_port), want[i]);
        ck_assert_uint_eq(ntohs(from.sin_port),
                          vxlan_src_port(&tc.encap, hashes[i]));
    }
    close(sock);
    port_close(port);
}
END_TEST

START_TEST(test_recv_returns_eagain_when_idle)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct packet_batch batch;

    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(batch.count, 0);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_keeps_datagrams_while_the_pool_is_dry)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr self = fixture_ip("127.0.0.1");
    struct packet *held[2 * PACKET_BATCH_MAX];
    struct packet_pool_stats before, after;
    struct packet_batch batch;
    size_t n_held = 0;

    send_encapsulated(port, &tc.encap, &self, 7, 1);
    fixture_wait_readable(port->class->fd(port));
    n_held = fixture_drain_pool(pool, held, ARRAY_SIZE(held));
    packet_pool_get_stats(pool, &before);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);

    /* It did not even ask the pool. */
    packet_pool_get_stats(pool, &after);
    ck_assert_uint_eq(after.alloc_failures, before.alloc_failures);
    while (n_held) {
        packet_free(held[--n_held]);
    }
    expect_own_frame(port, 7, &self, &self);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_counts_frames_it_cannot_send)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct packet_batch batch;
    uint8_t buf[256];
    struct packet *other_family = fixture_packet(pool, buf,
                                                 inner_frame(buf, 0));
    /* Shorter than the VXLAN header that every frame the datapath
     * encapsulates starts with. */
    struct packet *runt = fixture_packet(pool, buf, VXLAN_HEADER_LEN - 1);

    other_family->md.tun_dst = fixture_ip("::1");
    runt->md.tun_dst = fixture_ip("127.0.0.1");
    packet_batch_init(&batch);
    packet_batch_add(&batch, other_family);
    packet_batch_add(&batch, runt);
    port->class->send(port, &batch);
    ck_assert_uint_eq(batch.count, 0);
    ck_assert_uint_eq(port->stats.tx_errors, 2);
    port_close(port);
}
END_TEST

/* Trains: frames of one inner flow that leave together go out in one UDP
 * GSO send, and a train that arrives whole is cut into its datagrams. */

#define RECEIVER_PORT 4799

/* A frame of a batch to send: inner flow 'hash', with inner UDP source
 * port 'id' to tell it apart, and 'len' bytes of UDP payload. */
struct frame_spec {
    uint32_t hash;
    uint16_t id;
    size_t len;
};

static size_t
spec_frame(uint8_t *buf, const struct frame_spec *spec)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);

    return fixture_udp4_frame(buf, &b, &a, 0x0a000001, 0x0a000002, spec->id,
                              80, spec->len);
}

/* Encapsulates the 'n' frames of 'specs' for 127.0.0.1 and RECEIVER_PORT
 * and sends them through 'port' in one batch. */
static void
send_frames(struct port *port, const struct frame_spec *specs, size_t n)
{
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr dst = fixture_ip("127.0.0.1");
    struct packet_batch batch;

    tc.encap.dst_port = htons(RECEIVER_PORT);
    packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        static uint8_t buf[65536];
        struct packet *p = fixture_packet(pool, buf,
                                          spec_frame(buf, &specs[i]));

        p->md.hash = specs[i].hash;
        p->md.hash_valid = true;
        ck_assert_int_eq(vxlan_encap(p, &tc.encap, VNI, &dst), 0);
        packet_batch_add(&batch, p);
    }
    port->class->send(port, &batch);
}

/* Returns a UDP socket on 127.0.0.1:RECEIVER_PORT that takes trains whole
 * if 'gro'. */
static int
open_receiver(bool gro)
{
    return fixture_udp_receiver("127.0.0.1", RECEIVER_PORT, gro);
}

/* Asserts that the 'len' bytes at 'data' are the VXLAN payload of the frame
 * that 'spec' describes. */
static void
expect_payload(const uint8_t *data, size_t len, const struct frame_spec *spec)
{
    static uint8_t want[65536];
    size_t want_len = spec_frame(want, spec);

    ck_assert_uint_eq(len, VXLAN_HEADER_LEN + want_len);
    ck_assert_mem_eq(data + VXLAN_HEADER_LEN, want, want_len);
}

START_TEST(test_sends_a_flows_frames_in_one_train)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct frame_spec specs[20];
    int sock = open_receiver(true);
    static uint8_t buf[65536];
    size_t seg, len, frame_len = 0;
    uint16_t src_port;

    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        specs[i] = (struct frame_spec) { 7, (uint16_t) (100 + i), 58 };
    }
    send_frames(port, specs, ARRAY_SIZE(specs));
    len = fixture_recv_train(sock, buf, sizeof buf, &seg, &src_port);

    /* One train of 20 datagrams of 8 + 100 bytes, in order. */
    frame_len = VXLAN_HEADER_LEN + ETH_HEADER_LEN + IPV4_HEADER_LEN
                + UDP_HEADER_LEN + 58;
    ck_assert_uint_eq(seg, frame_len);
    ck_assert_uint_eq(len, ARRAY_SIZE(specs) * frame_len);
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        expect_payload(buf + i * seg, seg, &specs[i]);
    }
    ck_assert_uint_eq(src_port, vxlan_src_port(&tc.encap, 7));
    ck_assert_int_eq(recv(sock, buf, sizeof buf, MSG_DONTWAIT), -1);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    port_close(port);
}
END_TEST

/* Flows interleave in a batch; each keeps its order, a shorter frame ends
 * its flow's train, and what is left goes alone. */
START_TEST(test_keeps_each_flows_order_when_flows_interleave)
{
    /* Hashes far apart, for source ports of their own. */
    enum { A = 0x10000000, B = 0x80000000 };
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    static const struct frame_spec specs[] = {
        { A, 10, 100 }, { B, 20, 100 }, { A, 11, 100 }, { B, 21, 100 },
        { A, 12, 60 }, { B, 22, 100 }, { A, 13, 100 }, { B, 23, 120 },
    };
    /* Trains (and lone datagrams) in the order they leave. */
    static const struct {
        uint32_t hash;
        size_t first, n;
    } want[] = {
        { A, 0, 3 },            /* 10, 11, 12: 12 is shorter and ends it. */
        { B, 1, 3 },            /* 20, 21, 22. */
        { A, 6, 1 },            /* 13 alone. */
        { B, 7, 1 },            /* 23 is longer, so alone. */
    };
    static const size_t order[] = { 0, 2, 4, 1, 3, 5, 6, 7 };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    int sock = open_receiver(true);
    static uint8_t buf[65536];
    size_t k = 0;

    send_frames(port, specs, ARRAY_SIZE(specs));
    for (size_t t = 0; t < ARRAY_SIZE(want); t++) {
        size_t seg, len, ofs = 0;
        uint16_t src_port;

        len = fixture_recv_train(sock, buf, sizeof buf, &seg, &src_port);
        ck_assert_uint_eq(src_port, vxlan_src_port(&tc.encap, want[t].hash));
        ck_assert_uint_eq(seg != 0, want[t].n > 1);
        for (size_t i = 0; i < want[t].n; i++) {
            const struct frame_spec *spec = &specs[order[k++]];
            size_t n = seg ? MIN(seg, len - ofs) : len;

            expect_payload(buf + ofs, n, spec);
            ofs += n;
        }
        ck_assert_uint_eq(ofs, len);
    }
    ck_assert_int_eq(recv(sock, buf, sizeof buf, MSG_DONTWAIT), -1);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    port_close(port);
}
END_TEST

/* A frame whose datagram is over what a train may carry leaves alone, and
 * the frame after it still goes. */
START_TEST(test_sends_a_frame_too_big_for_a_train_alone)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    static const struct frame_spec specs[] = {
        { 7, 700, 65008 },      /* 65,050-byte inner frame. */
        { 7, 701, 58 },
    };
    struct port *port = must_open(options);
    int sock = open_receiver(false);
    static uint8_t buf[65536];
    size_t seg, len;
    uint16_t src_port;

    send_frames(port, specs, ARRAY_SIZE(specs));
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        len = fixture_recv_train(sock, buf, sizeof buf, &seg, &src_port);
        expect_payload(buf, len, &specs[i]);
    }
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    port_close(port);
}
END_TEST

/* Sends 5 frames of one flow through a port opened with 'options' and
 * asserts that they arrive as 5 datagrams, not a train. */
static void
expect_one_at_a_time(const char *const *options)
{
    struct port *port = must_open(options);
    int sock = open_receiver(true);
    struct frame_spec specs[5];
    static uint8_t buf[65536];

    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        specs[i] = (struct frame_spec) { 0, (uint16_t) (300 + i), 58 };
    }
    send_frames(port, specs, ARRAY_SIZE(specs));
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        size_t seg, len;
        uint16_t src_port;

        len = fixture_recv_train(sock, buf, sizeof buf, &seg, &src_port);
        ck_assert_uint_eq(seg, 0);
        ck_assert_uint_eq(src_port, 10000);
        expect_payload(buf, len, &specs[i]);
    }
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    port_close(port);
}

START_TEST(test_sends_one_at_a_time_with_gso_off)
{
    static const char *const options[] = {
        "local_ip=127.0.0.1", "src_port_range=10000-10000", "gso=false", NULL,
    };

    expect_one_at_a_time(options);
}
END_TEST

/* Returns a UDP socket bound to 127.0.0.1:'port'. */
static int
hold_port(uint16_t port)
{
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int holder = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_eq(bind(holder, (struct sockaddr *) &addr, sizeof addr), 0);
    return holder;
}

/* A source port that another program holds is left out of the port's
 * set, so that no flow is given it: the flows it would have had leave
 * from the next port, in trains. */
START_TEST(test_skips_a_source_port_held_elsewhere)
{
    static const char *const options[] = {
        "local_ip=127.0.0.1", "src_port_range=10000-10001", NULL,
    };
    int holder = hold_port(10000);
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    int sock = open_receiver(true);
    struct frame_spec specs[5];
    static uint8_t buf[65536];
    size_t seg, len;
    uint16_t src_port;

    ck_assert_uint_eq(tc.encap.n_src_ports, 1);
    ck_assert_uint_eq(tc.encap.src_ports[0], 10001);
    ck_assert_uint_eq(vxlan_src_port(&tc.encap, 0), 10001);
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        specs[i] = (struct frame_spec) { 0, (uint16_t) (300 + i), 58 };
    }
    send_frames(port, specs, ARRAY_SIZE(specs));
    len = fixture_recv_train(sock, buf, sizeof buf, &seg, &src_port);
    ck_assert_uint_eq(src_port, 10001);
    ck_assert_uint_eq(seg, VXLAN_HEADER_LEN + spec_frame(buf, &specs[0]));
    ck_assert_uint_eq(len, seg * ARRAY_SIZE(specs));
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    port_close(port);
    close(holder);
}
END_TEST

/* The same over IPv6: the set is bound on the IPv6 address, where another
 * socket holds the range's first port. */
START_TEST(test_skips_a_source_port_held_elsewhere_over_ipv6)
{
    static const char *const options[] = {
        "local_ip=::1", "src_port_range=10000-10001", NULL,
    };
    struct sockaddr_in6 addr = { .sin6_family = AF_INET6,
                                 .sin6_port = htons(10000),
                                 .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    int holder = socket(AF_INET6, SOCK_DGRAM, 0);
    struct port *port;
    struct dp_tunnel_config tc;

    ck_assert_int_eq(bind(holder, (struct sockaddr *) &addr, sizeof addr), 0);
    port = must_open(options);
    tc = tunnel_config(port);
    ck_assert_uint_eq(tc.encap.n_src_ports, 1);
    ck_assert_uint_eq(tc.encap.src_ports[0], 10001);
    port_close(port);
    close(holder);
}
END_TEST

/* Without a free source port there is no train to send: the port says so
 * when it opens, rather than sending every train another way. */
START_TEST(test_refuses_to_open_if_every_source_port_is_held)
{
    static const char *const options[] = {
        "local_ip=127.0.0.1", "src_port_range=10000-10000", NULL,
    };
    int holder = hold_port(10000);
    struct port *port;
    char error[256];

    ck_assert_int_eq(open_port(options, &port, error, sizeof error),
                     EADDRINUSE);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "src_port_range 10000-10000: every port is in "
                     "use");
    close(holder);
}
END_TEST

/* Returns how many descriptors this process has open. */
static size_t
count_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    size_t n = 0;

    ck_assert_ptr_nonnull(dir);
    while (readdir(dir)) {
        n++;
    }
    closedir(dir);
    return n;
}

/* Every flow leaves from one of the set's ports, spread over all of them
 * and the same for every frame of the flow; sending trains of many flows,
 * two of whose ports once shared a socket (16,384 ports to 256), opens
 * and closes no socket. */
START_TEST(test_sends_every_flow_from_the_set_it_opened)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    int sock = open_receiver(true);
    static uint8_t buf[65536];
    bool used[VXLAN_SRC_PORTS_MAX] = { false };
    size_t n_used = 0, fds;

    ck_assert_uint_eq(tc.encap.n_src_ports, VXLAN_SRC_PORTS_MAX);
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t hash = i * 2654435761u;
        uint16_t sport = vxlan_src_port(&tc.encap, hash);
        size_t k = 0;

        while (k < tc.encap.n_src_ports && tc.encap.src_ports[k] != sport) {
            k++;
        }
        ck_assert_uint_lt(k, tc.encap.n_src_ports);
        ck_assert_uint_ge(sport, VXLAN_SRC_PORT_MIN);
        ck_assert_uint_eq(vxlan_src_port(&tc.encap, hash), sport);
        n_used += !used[k];
        used[k] = true;
    }
    ck_assert_uint_eq(n_used, VXLAN_SRC_PORTS_MAX);

    /* Two flows on ports 49152 and 49408 (the set's every 64th port):
     * the old cache of 256 slots by port & 255 gave them one socket,
     * closed, opened and bound again for each train. */
    fds = count_fds();
    for (size_t round = 0; round < 8; round++) {
        for (size_t f = 0; f < 2; f++) {
            uint32_t hash = (uint32_t) (f * 4) << 24;
            struct frame_spec specs[3];
            size_t seg;
            uint16_t sport;

            for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
                specs[i] = (struct frame_spec) { hash, (uint16_t) i, 58 };
            }
            send_frames(port, specs, ARRAY_SIZE(specs));
            fixture_recv_train(sock, buf, sizeof buf, &seg, &sport);
            ck_assert_uint_ne(seg, 0);
            ck_assert_uint_eq(sport, VXLAN_SRC_PORT_MIN + 256 * f);
        }
    }
    ck_assert_uint_eq(count_fds(), fds);
    close(sock);
    port_close(port);
}
END_TEST

/* A peer's train of 40 datagrams of an odd size comes in whole; the port
 * hands it on a batch at a time, in order, each frame at an even
 * address. */
START_TEST(test_cuts_a_train_it_receives_into_its_datagrams)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    static const uint8_t vxlan_header[VXLAN_HEADER_LEN] = {
        0x08, 0, 0, 0, (VNI >> 16) & 0xff, (VNI >> 8) & 0xff, VNI & 0xff, 0,
    };
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_port = htons(VXLAN_DST_PORT),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct port *port = must_open(options);
    struct frame_spec specs[40];
    static uint8_t train[65536];
    size_t seg = 0, n_got = 0;
    struct packet_batch batch;
    int peer = socket(AF_INET, SOCK_DGRAM, 0);
    int gso_size;

    /* 8 + 61 bytes: odd, so every other datagram starts at an odd
     * offset. */
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        specs[i] = (struct frame_spec) { 0, (uint16_t) (500 + i), 19 };
    }
    seg = VXLAN_HEADER_LEN + spec_frame(train, &specs[0]);
    ck_assert_uint_eq(seg, 69);
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        memcpy(train + i * seg, vxlan_header, VXLAN_HEADER_LEN);
        spec_frame(train + i * seg + VXLAN_HEADER_LEN, &specs[i]);
    }
    gso_size = (int) seg;
    ck_assert_int_eq(setsockopt(peer, SOL_UDP, UDP_SEGMENT, &gso_size,
                                sizeof gso_size), 0);
    ck_assert_int_eq(sendto(peer, train, seg * ARRAY_SIZE(specs), 0,
                            (struct sockaddr *) &to, sizeof to),
                     (ssize_t) (seg * ARRAY_SIZE(specs)));

    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, PACKET_BATCH_MAX);

    /* The port read the whole train: the socket has nothing left. */
    ck_assert_int_eq(recv(port->class->fd(port), train, 1,
                          MSG_PEEK | MSG_DONTWAIT), -1);
    for (;;) {
        struct packet *p;

        PACKET_BATCH_FOR_EACH (i, p, &batch) {
            uint32_t vni;

            ck_assert_uint_lt(n_got, ARRAY_SIZE(specs));
            ck_assert_uint_eq((uintptr_t) packet_data(p) % 2, 0);
            ck_assert_uint_eq(p->md.gso_size, 0);
            ck_assert(inet_equals(&p->md.tun_src, &(struct in6_addr) {
                                      {{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0xff, 0xff, 127, 0, 0, 1 }} }));
            expect_payload(packet_data(p), packet_size(p), &specs[n_got++]);
            ck_assert_int_eq(vxlan_decap_payload(p, &vni), VXLAN_OK);
            ck_assert_uint_eq(vni, VNI);
        }
        packet_batch_free(&batch);
        if (recv_batch(port, &batch)) {
            break;
        }
    }
    ck_assert_uint_eq(n_got, ARRAY_SIZE(specs));
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(peer);
    port_close(port);
}
END_TEST

START_TEST(test_tunnel_config_has_defaults)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr local = fixture_ip("127.0.0.1");
    struct eth_addr zero;

    memset(&zero, 0, sizeof zero);
    ck_assert(inet_equals(&tc.encap.local, &local));
    ck_assert_uint_eq(ntohs(tc.encap.dst_port), VXLAN_DST_PORT);
    ck_assert_uint_eq(tc.encap.src_port_min, VXLAN_SRC_PORT_MIN);
    ck_assert_uint_eq(tc.encap.src_port_max, VXLAN_SRC_PORT_MAX);
    ck_assert_uint_eq(tc.encap.ttl, 0);
    ck_assert_uint_eq(tc.encap.tos, 0);
    ck_assert(!tc.encap.df);
    ck_assert(!tc.encap.udp_csum);
    ck_assert_mem_eq(tc.encap.eth_src.ea, zero.ea, ETH_ADDR_LEN);
    ck_assert_uint_eq(tc.mtu, 1500);
    port_close(port);
}
END_TEST

START_TEST(test_tunnel_config_reflects_options)
{
    static const char *const options[] = {
        "local_ip=127.0.0.2", "dst_port=8472", "ttl=10", "tos=184",
        "src_port_range=1000-2000", "df=true", "udp_csum=true", "mtu=9000",
        "dev=lo", NULL,
    };
    struct port *port = must_open(options);
    struct dp_tunnel_config tc = tunnel_config(port);
    struct in6_addr local = fixture_ip("127.0.0.2");

    ck_assert(inet_equals(&tc.encap.local, &local));
    ck_assert_uint_eq(ntohs(tc.encap.dst_port), 8472);
    ck_assert_uint_eq(tc.encap.src_port_min, 1000);
    ck_assert_uint_eq(tc.encap.src_port_max, 2000);
    ck_assert_uint_eq(tc.encap.ttl, 10);
    ck_assert_uint_eq(tc.encap.tos, 184);
    ck_assert(tc.encap.df);
    ck_assert(tc.encap.udp_csum);

    /* Given, the MTU does not follow dev's. */
    ck_assert_uint_eq(tc.mtu, 9000);
    fixture_shell("ip link set lo mtu 1600");
    ck_assert_uint_eq(tunnel_config(port).mtu, 9000);
    port_close(port);
}
END_TEST

static int
if_mtu(const char *name)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ck_assert(!ioctl(fd, SIOCGIFMTU, &ifr));
    close(fd);
    return ifr.ifr_mtu;
}

START_TEST(test_tunnel_config_follows_the_mtu_of_dev)
{
    static const char *const options[] = { "local_ip=127.0.0.1", "dev=lo",
                                           NULL };
    struct port *port = must_open(options);

    ck_assert_int_gt(if_mtu("lo"), 9000);
    ck_assert_uint_eq(tunnel_config(port).mtu, (unsigned int) if_mtu("lo"));
    fixture_shell("ip link set lo mtu 9000");
    ck_assert_uint_eq(tunnel_config(port).mtu, 9000);
    port_close(port);
}
END_TEST

START_TEST(test_tunnel_config_takes_the_mac_of_dev)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP,
                                           "dev=" UNDERLAY, NULL };
    struct ifreq ifr;
    struct port *port;
    int fd;

    add_underlay();
    port = must_open(options);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, UNDERLAY);
    ck_assert(!ioctl(fd, SIOCGIFHWADDR, &ifr));
    close(fd);
    ck_assert_mem_eq(tunnel_config(port).encap.eth_src.ea,
                     ifr.ifr_hwaddr.sa_data, ETH_ADDR_LEN);
    ck_assert_uint_eq(tunnel_config(port).mtu, 1500);
    port_close(port);
}
END_TEST

/* Returns how many groups /proc/net/igmp lists for device 'dev', apart from
 * the all-hosts group every device is in, and whether 'group' (dotted) is
 * one of them, in '*found' (NULL: not asked). */
static size_t
igmp_groups(const char *dev, const char *group, bool *found)
{
    FILE *stream = fopen("/proc/net/igmp", "r");
    struct in_addr want = { 0 }, all_hosts;
    char line[256];
    bool in_dev = false;
    size_t n = 0;

    ck_assert_ptr_nonnull(stream);
    ck_assert_int_eq(inet_pton(AF_INET, "224.0.0.1", &all_hosts), 1);
    if (group) {
        ck_assert_int_eq(inet_pton(AF_INET, group, &want), 1);
        *found = false;
    }
    while (fgets(line, sizeof line, stream)) {
        char name[IFNAMSIZ];
        unsigned int addr;
        int index;

        /* A device's line, then a line per group of it, whose address
         * the kernel prints in network order as a host integer, so that
         * it compares with s_addr as it is. */
        if (line[0] != '\t' && sscanf(line, "%d %15[^ :]", &index,
                                      name) == 2) {
            in_dev = !strcmp(name, dev);
        } else if (in_dev && sscanf(line, " %x", &addr) == 1
                   && addr != all_hosts.s_addr) {
            n++;
            if (group && addr == want.s_addr) {
                *found = true;
            }
        }
    }
    fclose(stream);
    return n;
}

static bool
igmp_has(const char *dev, const char *group)
{
    bool found;

    igmp_groups(dev, group, &found);
    return found;
}

static void
set_groups(struct port *port, const char *const *groups, size_t n,
           int want)
{
    struct in6_addr addrs[32];

    ck_assert_uint_le(n, ARRAY_SIZE(addrs));
    for (size_t i = 0; i < n; i++) {
        addrs[i] = fixture_ip(groups[i]);
    }
    ck_assert_int_eq(port_set_groups(port, addrs, n), want);
}

START_TEST(test_joins_and_leaves_groups_on_dev)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP,
                                           "dev=" UNDERLAY, NULL };
    static const char *const first[] = { "239.1.1.1", "239.1.1.2" };
    static const char *const second[] = { "239.1.1.2", "239.1.1.3" };
    struct port *port;

    add_underlay();
    port = must_open(options);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 0);

    set_groups(port, first, 2, 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 2);
    ck_assert(igmp_has(UNDERLAY, "239.1.1.1"));
    ck_assert(igmp_has(UNDERLAY, "239.1.1.2"));
    ck_assert_uint_eq(igmp_groups("lo", NULL, NULL), 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY_PEER, NULL, NULL), 0);

    /* One kept, one left, one joined. */
    set_groups(port, second, 2, 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 2);
    ck_assert(!igmp_has(UNDERLAY, "239.1.1.1"));
    ck_assert(igmp_has(UNDERLAY, "239.1.1.2"));
    ck_assert(igmp_has(UNDERLAY, "239.1.1.3"));

    set_groups(port, NULL, 0, 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 0);
    port_close(port);
}
END_TEST

/* One socket may join net.ipv4.igmp_max_memberships IPv4 groups (20 by
 * default): the port spreads its groups over as many as it needs. */
START_TEST(test_joins_more_groups_than_one_socket_may)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP,
                                           "dev=" UNDERLAY, NULL };
    struct in6_addr *many = calloc(1025, sizeof *many);
    size_t joined, failed;
    struct port *port;
    char reason[128];

    ck_assert_ptr_nonnull(many);
    add_underlay();
    fixture_write_file("/proc/sys/net/ipv4/igmp_max_memberships", "20");
    port = must_open(options);
    for (size_t i = 0; i < 1025; i++) {
        many[i] = inet_from_ipv4(htonl(0xef020000 + (uint32_t) i));
    }
    ck_assert_int_eq(port_set_groups(port, many, 1025), 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 1025);
    ck_assert(igmp_has(UNDERLAY, "239.2.4.0"));
    port_group_counts(port, &joined, &failed);
    ck_assert_uint_eq(joined, 1025);
    ck_assert_uint_eq(failed, 0);
    ck_assert_int_eq(port_group_state(port, &many[1024], reason,
                                      sizeof reason), 0);

    /* Half of them leave. */
    ck_assert_int_eq(port_set_groups(port, many, 512), 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 512);
    ck_assert(!igmp_has(UNDERLAY, "239.2.4.0"));
    port_group_counts(port, &joined, &failed);
    ck_assert_uint_eq(joined, 512);
    free(many);
    port_close(port);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 0);
}
END_TEST

START_TEST(test_skips_groups_of_the_other_family)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP,
                                           "dev=" UNDERLAY, NULL };
    static const char *const mixed[] = { "ff0e::1:2", "239.1.1.1",
                                         "ff02::1:3" };
    struct port *port;

    add_underlay();
    port = must_open(options);
    set_groups(port, mixed, 3, 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 1);
    ck_assert(igmp_has(UNDERLAY, "239.1.1.1"));
    port_close(port);
}
END_TEST

/* Returns how many groups under ff0e::/16 /proc/net/igmp6 lists for device
 * 'dev'. */
static size_t
igmp6_groups(const char *dev)
{
    FILE *stream = fopen("/proc/net/igmp6", "r");
    char line[256];
    size_t n = 0;

    ck_assert_ptr_nonnull(stream);
    while (fgets(line, sizeof line, stream)) {
        char name[IFNAMSIZ], addr[33];
        int index;

        if (sscanf(line, "%d %15s %32s", &index, name, addr) == 3
            && !strcmp(name, dev) && !strncmp(addr, "ff0e", 4)) {
            n++;
        }
    }
    fclose(stream);
    return n;
}

/* IPv6 has no count of groups per socket: the socket's option memory
 * (net.core.optmem_max) is the limit, and the kernel's ENOMEM says where
 * a socket is full.  With it small, 200 groups need many sockets. */
START_TEST(test_joins_more_ipv6_groups_than_one_socket_may)
{
    static const char *const options[] = { "local_ip=fd00:31::1",
                                           "dev=" UNDERLAY, NULL };
    struct in6_addr groups[200];
    size_t joined, failed;
    struct port *port;

    add_underlay();
    fixture_shell("ip -6 addr add fd00:31::1/64 dev " UNDERLAY " nodad");
    fixture_write_file("/proc/sys/net/core/optmem_max", "2048");
    port = must_open(options);
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        char text[32];

        snprintf(text, sizeof text, "ff0e::31:%zx", i + 1);
        groups[i] = fixture_ip(text);
    }
    ck_assert_int_eq(port_set_groups(port, groups, ARRAY_SIZE(groups)), 0);
    ck_assert_uint_eq(igmp6_groups(UNDERLAY), ARRAY_SIZE(groups));
    port_group_counts(port, &joined, &failed);
    ck_assert_uint_eq(joined, ARRAY_SIZE(groups));
    ck_assert_uint_eq(failed, 0);
    port_close(port);
    ck_assert_uint_eq(igmp6_groups(UNDERLAY), 0);
}
END_TEST

/* Without dev a group is joined where the route to it leads; with no
 * such route the kernel finds no device, which the group shows until a
 * route appears. */
START_TEST(test_joins_a_group_once_a_route_leads_to_it)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP, NULL };
    struct in6_addr group = fixture_ip("239.4.0.1");
    struct port *port;
    char reason[128];

    add_underlay();
    port = must_open(options);
    ck_assert_int_eq(port_set_groups(port, &group, 1), ENODEV);
    ck_assert_int_eq(port_group_state(port, &group, reason, sizeof reason),
                     ENODEV);
    ck_assert_str_eq(reason, "No such device");

    fixture_shell("ip route add 239.0.0.0/8 dev " UNDERLAY);
    ck_assert_int_eq(port_set_groups(port, &group, 1), 0);
    ck_assert(igmp_has(UNDERLAY, "239.4.0.1"));
    ck_assert_int_eq(port_group_state(port, &group, reason, sizeof reason),
                     0);
    port_close(port);
}
END_TEST

/* A group the kernel refuses keeps the reason, and is tried again at the
 * next call. */
START_TEST(test_retries_groups_that_failed_to_join)
{
    static const char *const options[] = { "local_ip=" UNDERLAY_IP,
                                           "dev=" UNDERLAY, NULL };
    struct in6_addr groups[21];
    struct in6_addr v6 = fixture_ip("ff0e::1:2");
    size_t joined, failed;
    struct port *port;
    char reason[128];

    add_underlay();
    fixture_write_file("/proc/sys/net/ipv4/igmp_max_memberships", "0");
    port = must_open(options);
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        groups[i] = inet_from_ipv4(htonl(0xef030000 + (uint32_t) i));
    }
    ck_assert_int_eq(port_set_groups(port, groups, 21), ENOBUFS);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 0);
    ck_assert_int_eq(port_group_state(port, &groups[20], reason,
                                      sizeof reason), ENOBUFS);
    ck_assert_str_eq(reason, "No buffer space available");
    port_group_counts(port, &joined, &failed);
    ck_assert_uint_eq(joined, 0);
    ck_assert_uint_eq(failed, 21);
    ck_assert_int_eq(port_group_state(port, &v6, reason, sizeof reason),
                     EAFNOSUPPORT);
    ck_assert_str_eq(reason, "an IPv6 group on an IPv4 VTEP");

    fixture_write_file("/proc/sys/net/ipv4/igmp_max_memberships", "20");
    ck_assert_int_eq(port_set_groups(port, groups, 21), 0);
    ck_assert_uint_eq(igmp_groups(UNDERLAY, NULL, NULL), 21);
    ck_assert(igmp_has(UNDERLAY, "239.3.0.20"));
    ck_assert_int_eq(port_group_state(port, &groups[20], reason,
                                      sizeof reason), 0);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_a_missing_dev)
{
    static const char *const options[] = { "local_ip=127.0.0.1",
                                           "dev=cknone0", NULL };
    struct port *port;
    char error[256];

    ck_assert_int_eq(open_port(options, &port, error, sizeof error),
                     ENODEV);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "underlay interface cknone0 does not exist");
}
END_TEST

/* The port's socket asks for SO_REUSEADDR, which only helps when every
 * socket on the port does. */
START_TEST(test_refuses_a_dst_port_another_socket_holds)
{
    static const char *const options[] = { "local_ip=127.0.0.1", NULL };
    struct sockaddr_in addr = { .sin_family = AF_INET,
                                .sin_port = htons(VXLAN_DST_PORT) };
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    struct port *port;
    char error[256];

    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(bind(sock, (struct sockaddr *) &addr, sizeof addr), 0);
    ck_assert_int_eq(open_port(options, &port, error, sizeof error),
                     EADDRINUSE);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "bind to UDP port 4789: Address already in use");

    /* Free again, it opens. */
    close(sock);
    port = must_open(options);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_a_local_ip_that_is_not_unicast)
{
    static const char *const bad[] = {
        "local_ip=239.1.1.1", "local_ip=0.0.0.0", "local_ip=ff02::1",
        "local_ip=::",
    };
    struct port *port;
    char error[256];

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        const char *options[] = { bad[i], NULL };

        ck_assert_int_eq(open_port(options, &port, error, sizeof error),
                         EINVAL);
        ck_assert_ptr_null(port);
        ck_assert_str_eq(error, "local_ip: needs a unicast address");
    }
}
END_TEST

static Suite *
port_vxlan_suite(void)
{
    Suite *s = suite_create("port-vxlan");

    fixture_add_case(s, "receives what it sends to itself",
                     test_receives_what_it_sends_to_itself, setup,
                     teardown);
    fixture_add_case(s, "receives what it sends to itself over IPv6",
                     test_receives_what_it_sends_to_itself_over_ipv6, setup,
                     teardown);
    fixture_add_case(s, "receives at most a batch at a time in order",
                     test_receives_at_most_a_batch_at_a_time_in_order, setup,
                     teardown);
    fixture_add_case(s, "gives each inner flow its own source port",
                     test_gives_each_inner_flow_its_own_source_port, setup,
                     teardown);
    fixture_add_case(s, "recv returns EAGAIN when idle",
                     test_recv_returns_eagain_when_idle, setup, teardown);
    fixture_add_case(s, "keeps datagrams while the pool is dry",
                     test_keeps_datagrams_while_the_pool_is_dry, setup,
                     teardown);
    fixture_add_case(s, "counts frames it cannot send",
                     test_counts_frames_it_cannot_send, setup, teardown);
    fixture_add_case(s, "sends a flow's frames in one train",
                     test_sends_a_flows_frames_in_one_train, setup, teardown);
    fixture_add_case(s, "keeps each flow's order when flows interleave",
                     test_keeps_each_flows_order_when_flows_interleave, setup,
                     teardown);
    fixture_add_case(s, "sends a frame too big for a train alone",
                     test_sends_a_frame_too_big_for_a_train_alone, setup,
                     teardown);
    fixture_add_case(s, "sends one at a time with gso off",
                     test_sends_one_at_a_time_with_gso_off, setup, teardown);
    fixture_add_case(s, "skips a source port held elsewhere",
                     test_skips_a_source_port_held_elsewhere, setup,
                     teardown);
    fixture_add_case(s, "skips a source port held elsewhere over IPv6",
                     test_skips_a_source_port_held_elsewhere_over_ipv6,
                     setup, teardown);
    fixture_add_case(s, "refuses to open if every source port is held",
                     test_refuses_to_open_if_every_source_port_is_held,
                     setup, teardown);
    fixture_add_case(s, "sends every flow from the set it opened",
                     test_sends_every_flow_from_the_set_it_opened, setup,
                     teardown);
    fixture_add_case(s, "cuts a train it receives into its datagrams",
                     test_cuts_a_train_it_receives_into_its_datagrams, setup,
                     teardown);
    fixture_add_case(s, "tunnel config has defaults",
                     test_tunnel_config_has_defaults, setup, teardown);
    fixture_add_case(s, "tunnel config reflects options",
                     test_tunnel_config_reflects_options, setup, teardown);
    fixture_add_case(s, "tunnel config follows the MTU of dev",
                     test_tunnel_config_follows_the_mtu_of_dev, setup,
                     teardown);
    fixture_add_case(s, "tunnel config takes the MAC of dev",
                     test_tunnel_config_takes_the_mac_of_dev, setup,
                     teardown);
    fixture_add_case(s, "joins and leaves groups on dev",
                     test_joins_and_leaves_groups_on_dev, setup, teardown);
    fixture_add_case(s, "joins more groups than one socket may",
                     test_joins_more_groups_than_one_socket_may, setup,
                     teardown);
    fixture_add_case(s, "joins more IPv6 groups than one socket may",
                     test_joins_more_ipv6_groups_than_one_socket_may, setup,
                     teardown);
    fixture_add_case(s, "joins a group once a route leads to it",
                     test_joins_a_group_once_a_route_leads_to_it, setup,
                     teardown);
    fixture_add_case(s, "skips groups of the other family",
                     test_skips_groups_of_the_other_family, setup, teardown);
    fixture_add_case(s, "retries groups that failed to join",
                     test_retries_groups_that_failed_to_join, setup,
                     teardown);
    fixture_add_case(s, "refuses a missing dev", test_refuses_a_missing_dev,
                     setup, teardown);
    fixture_add_case(s, "refuses a dst_port another socket holds",
                     test_refuses_a_dst_port_another_socket_holds, setup,
                     teardown);
    fixture_add_case(s, "refuses a local_ip that is not unicast",
                     test_refuses_a_local_ip_that_is_not_unicast, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(port_vxlan_suite());
}
