#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "port.h"
#include "util.h"

/* The system port, on one end of a veth pair in a network namespace of
 * the test's own (made by setup() with unshare(), it dies with the test's
 * process).  The test plays the host on the other end, the peer, through
 * an AF_PACKET socket of its own. */

#define DEV "ckva"
#define PEER "ckvb"

/* How long a test waits for the kernel to pass a frame on: far longer
 * than it takes, so that only a frame that never comes fails. */

static struct packet_pool *pool;

static void
setup(void)
{
    /* Without IPv6, an interface that comes up sends nothing unbidden, so
     * every frame a test sees is one it caused. */
    fixture_private_netns(false);
    fixture_shell("ip link add " DEV " type veth peer name " PEER);
    fixture_shell("ip link set " DEV " up && ip link set " PEER " up");
    pool = packet_pool_create(2 * PACKET_BATCH_MAX);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* sendmmsg() as the port calls it: counted, then passed to the kernel.
 * The tests link the port's code statically, so this definition takes
 * the place of the C library's. */
static unsigned int sendmmsg_calls;

int
sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
    sendmmsg_calls++;
    return (int) syscall(SYS_sendmmsg, fd, msgs, n, flags);
}

static int
open_port(const char *name, struct port **portp, char *error,
          size_t error_size)
{
    return fixture_port_open("system", name, NULL, portp, error,
                             error_size);
}

static struct port *
must_open_with(const char *const *options)
{
    struct port *port;
    char error[256];
    int err = fixture_port_open("system", DEV, options, &port, error,
                                sizeof error);

    ck_assert_msg(!err, "open: %s (%s)", strerror(err), error);
    ck_assert_ptr_nonnull(port);
    ck_assert_int_ge(port->class->fd(port), 0);
    return port;
}

static struct port *
must_open(void)
{
    return must_open_with(NULL);
}

/* The port with its receive ring, and offloads. */
static const char *const ring_options[] = { "rx_ring=true", NULL };

static bool
has_option(const char *const *options, const char *option)
{
    for (; options && *options; options++) {
        if (!strcmp(*options, option)) {
            return true;
        }
    }
    return false;
}

/* Reads the next frame from packet socket 'fd' into 'buf' and returns its
 * length. */
static size_t
read_frame(int fd, uint8_t *buf, size_t size)
{
    ssize_t n;

    fixture_wait_readable(fd);
    n = recv(fd, buf, size, 0);
    ck_assert_int_gt(n, 0);
    return (size_t) n;
}

/* Builds test frame 'i', a UDP frame of its own length, into 'buf'. */
/* Sends test frames 'first' to 'first' + 'n' - 1 through packet socket
 * 'fd'. */
static void
peer_send(int fd, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++) {
        uint8_t buf[256];
        size_t len = fixture_numbered_frame(buf, i);

        ck_assert_int_eq(send(fd, buf, len, 0), (ssize_t) len);
    }
}

static int
recv_batch(struct port *port, struct packet_batch *batch)
{
    packet_batch_init(batch);
    return port->class->recv(port, pool, batch);
}

/* Returns the "ip -d -o link show" line of DEV, which unlike
 * SIOCGIFFLAGS counts the promiscuity that sockets ask for. */
static const char *
link_show(char *out, size_t size)
{
    FILE *stream = popen("ip -d -o link show " DEV, "r");
    size_t n;

    ck_assert_ptr_nonnull(stream);
    n = fread(out, 1, size - 1, stream);
    out[n] = '\0';
    ck_assert_int_eq(pclose(stream), 0);
    return out;
}

static short
if_flags(const char *name)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ck_assert(!ioctl(fd, SIOCGIFFLAGS, &ifr));
    close(fd);
    return ifr.ifr_flags;
}

START_TEST(test_sends_frames_out_of_the_interface)
{
    struct port *port = must_open();
    int peer = fixture_packet_socket(PEER);

    fixture_send_numbered_frames(port, pool, 3);
    for (size_t i = 0; i < 3; i++) {
        uint8_t want[256], got[2048];
        size_t len = fixture_numbered_frame(want, i);

        ck_assert_uint_eq(read_frame(peer, got, sizeof got), len);
        ck_assert_mem_eq(got, want, len);
    }
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(peer);
    port_close(port);
}
END_TEST

/* The frames are all in the port's socket once a socket of the test on
 * the same interface has seen a last frame sent after them, since the
 * kernel hands each frame to every socket before it takes the next. */
START_TEST(test_receives_frames_from_the_peer_in_one_batch)
{
    struct port *port = must_open();
    int peer = fixture_packet_socket(PEER);
    int witness = fixture_packet_socket(DEV);
    struct packet_batch batch;
    struct packet *p;
    uint8_t buf[2048];

    peer_send(peer, 0, 6);
    for (size_t i = 0; i < 6; i++) {
        read_frame(witness, buf, sizeof buf);
    }

    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 6);
    PACKET_BATCH_FOR_EACH (i, p, &batch) {
        size_t len = fixture_numbered_frame(buf, i);

        ck_assert_uint_eq(packet_size(p), len);
        ck_assert_mem_eq(packet_data(p), buf, len);
        ck_assert(!p->md.csum_partial);
    }
    packet_batch_free(&batch);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(witness);
    close(peer);
    port_close(port);
}
END_TEST

START_TEST(test_receives_at_most_a_batch_at_a_time)
{
    struct port *port = must_open();
    int peer = fixture_packet_socket(PEER);
    int witness = fixture_packet_socket(DEV);
    struct packet_batch batch;
    uint8_t buf[2048];
    size_t n = PACKET_BATCH_MAX + 3;

    peer_send(peer, 0, n);
    for (size_t i = 0; i < n; i++) {
        read_frame(witness, buf, sizeof buf);
    }
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, PACKET_BATCH_MAX);
    packet_batch_free(&batch);
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 3);
    ck_assert_uint_eq(packet_size(batch.packets[2]),
                      fixture_numbered_frame(buf, PACKET_BATCH_MAX + 2));
    ck_assert_mem_eq(packet_data(batch.packets[2]), buf,
                     packet_size(batch.packets[2]));
    packet_batch_free(&batch);
    close(witness);
    close(peer);
    port_close(port);
}
END_TEST

/* Only frames that come in on the interface are input: not the port's own,
 * nor what the host itself sends out of the interface (played here by a
 * socket of the test's). */
START_TEST(test_does_not_receive_what_goes_out)
{
    struct port *port = must_open();
    int peer = fixture_packet_socket(PEER);
    int host = fixture_packet_socket(DEV);
    struct packet_batch batch;
    uint8_t buf[2048];

    /* Once the peer has them, the port's socket has been offered them. */
    fixture_send_numbered_frames(port, pool, 2);
    peer_send(host, 2, 2);
    for (size_t i = 0; i < 4; i++) {
        read_frame(peer, buf, sizeof buf);
    }
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(batch.count, 0);
    close(host);
    close(peer);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_a_missing_interface)
{
    struct port *port;
    char error[256];

    ck_assert_int_eq(open_port("cknone0", &port, error, sizeof error),
                     ENODEV);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "interface cknone0 does not exist");
}
END_TEST

START_TEST(test_recv_returns_eagain_when_idle)
{
    struct port *port = must_open();
    struct packet_batch batch;

    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(batch.count, 0);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_brings_the_interface_up_and_promiscuous)
{
    char text[2048];
    struct port *port;

    fixture_shell("ip link set " DEV " down");
    ck_assert(!(if_flags(DEV) & IFF_UP));
    port = must_open();
    ck_assert(if_flags(DEV) & IFF_UP);
    ck_assert_msg(strstr(link_show(text, sizeof text), " promiscuity 1 ")
                  != NULL, "%s", text);
    port_close(port);
    ck_assert_msg(strstr(link_show(text, sizeof text), " promiscuity 0 ")
                  != NULL, "%s", text);
}
END_TEST

/* A UDP datagram that the kernel sends over a veth leaves its checksum to
 * offload, which the other end passes on as it is. */
/* The peer's stack sends a UDP datagram, leaving its checksum to offload;
 * the port, opened with 'options', knows it is owed, from the virtio-net
 * header or (without offloads) the auxiliary data. */
static void
expect_checksum_owed(const char *const *options)
{
    static const char payload[] = "datagram with its checksum owed";
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_port = htons(4000) };
    be32 ip_src = htonl(0xac1ffd01), ip_dst = htonl(0xac1ffd02);
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    size_t udp_len = UDP_HEADER_LEN + sizeof payload;
    uint32_t pseudo = csum_pseudo_ipv4(ip_src, ip_dst, IP_PROTO_UDP,
                                       (uint16_t) udp_len);
    struct port *port = must_open_with(options);
    struct packet_batch batch;
    struct packet *p;
    int sock;

    /* The virtio-net header is what offloads take. */
    ck_assert_uint_eq(port->offloads,
                      has_option(options, "offload=false")
                      ? 0 : PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO4
                            | PORT_OFFLOAD_TSO6 | PORT_OFFLOAD_USO);
    fixture_shell("ip addr add 172.31.253.1/24 dev " PEER);
    fixture_shell("ip neigh add 172.31.253.2 lladdr 02:00:00:00:00:02 "
                  "dev " PEER);
    to.sin_addr.s_addr = ip_dst;
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(sendto(sock, payload, sizeof payload, 0,
                            (struct sockaddr *) &to, sizeof to),
                     sizeof payload);

    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    p = batch.packets[0];
    ck_assert_uint_eq(packet_size(p), l4 + udp_len);
    ck_assert_mem_eq(packet_data(p) + l4 + UDP_HEADER_LEN, payload,
                     sizeof payload);
    ck_assert(p->md.csum_partial);
    ck_assert_uint_eq(p->md.csum_start, l4);
    ck_assert_uint_eq(p->md.csum_offset, 6);

    /* Owed indeed, and then paid. */
    ck_assert_uint_ne(csum_finish(csum_add_bytes(pseudo, packet_data(p) + l4,
                                                 udp_len)), 0);
    csum_complete_partial(p);
    ck_assert(!p->md.csum_partial);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, packet_data(p) + l4,
                                                 udp_len)), 0);
    packet_batch_free(&batch);
    close(sock);
    port_close(port);
}

START_TEST(test_marks_a_checksum_left_to_offload)
{
    expect_checksum_owed(NULL);
}
END_TEST

START_TEST(test_marks_a_checksum_left_to_offload_without_offloads)
{
    static const char *const options[] = { "offload=false", NULL };

    expect_checksum_owed(options);
}
END_TEST

START_TEST(test_ring_marks_a_checksum_left_to_offload)
{
    expect_checksum_owed(ring_options);
}
END_TEST

START_TEST(test_ring_marks_a_checksum_owed_without_offloads)
{
    static const char *const options[] = { "rx_ring=true", "offload=false",
                                           NULL };

    expect_checksum_owed(options);
}
END_TEST

/* The peer hands the veth a TCP super frame (as its stack's TSO does),
 * tagged if 'vlan'; the port takes it whole, with its segment size, and a
 * checksum whose offsets count the tag that the kernel stripped (and left
 * out of its own offsets) and the port put back. */
static void
expect_super_frame(bool vlan, const char *const *options)
{
    struct port *port = must_open_with(options);
    int peer = fixture_vnet_packet_socket(PEER);
    struct packet_batch batch;

    fixture_send_super_frame(peer, vlan);
    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    fixture_expect_super_frame(batch.packets[0], vlan);
    packet_batch_free(&batch);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(peer);
    port_close(port);
}

START_TEST(test_receives_a_super_frame_with_its_segment_size)
{
    expect_super_frame(false, NULL);
}
END_TEST

START_TEST(test_receives_a_tagged_super_frame_with_its_offsets)
{
    expect_super_frame(true, NULL);
}
END_TEST

START_TEST(test_ring_receives_a_tagged_super_frame_with_its_offsets)
{
    expect_super_frame(true, ring_options);
}
END_TEST

START_TEST(test_sends_a_super_frame_whole)
{
    struct port *port = must_open();
    int peer = fixture_vnet_packet_socket(PEER);

    fixture_expect_super_frame_sent(port, pool, peer);
    close(peer);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_an_offload_that_is_not_a_boolean)
{
    static const char *const options[] = { "offload=yes please", NULL };
    struct port *port;
    char error[256];

    ck_assert_int_eq(fixture_port_open("system", DEV, options, &port, error,
                                       sizeof error), EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "offload: 'yes please' is not a boolean");
}
END_TEST

/* Sends test frame 0 with an 802.1Q or 802.1ad tag 'tpid' from the peer and
 * asserts that the port returns it tag and all. */
static void
assert_tag_kept(uint16_t tpid, const char *const *options)
{
    struct port *port = must_open_with(options);
    int peer = fixture_packet_socket(PEER);
    uint8_t plain[256], tagged[256];
    size_t len = fixture_numbered_frame(plain, 0);
    struct packet_batch batch;
    be16 tag[2] = { htons(tpid), htons(0x2123) };

    memcpy(tagged, plain, 2 * ETH_ADDR_LEN);
    memcpy(tagged + 2 * ETH_ADDR_LEN, tag, sizeof tag);
    memcpy(tagged + 2 * ETH_ADDR_LEN + sizeof tag, plain + 2 * ETH_ADDR_LEN,
           len - 2 * ETH_ADDR_LEN);
    ck_assert_int_eq(send(peer, tagged, len + 4, 0), (ssize_t) len + 4);

    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    ck_assert_uint_eq(packet_size(batch.packets[0]), len + 4);
    ck_assert_mem_eq(packet_data(batch.packets[0]), tagged, len + 4);
    packet_batch_free(&batch);
    close(peer);
    port_close(port);
}

START_TEST(test_puts_back_a_vlan_tag_the_kernel_stripped)
{
    assert_tag_kept(ETH_TYPE_VLAN, NULL);
}
END_TEST

START_TEST(test_ring_puts_back_a_vlan_tag_the_kernel_stripped)
{
    assert_tag_kept(ETH_TYPE_VLAN, ring_options);
}
END_TEST

START_TEST(test_puts_back_an_802_1ad_tag_the_kernel_stripped)
{
    assert_tag_kept(0x88a8, NULL);
}
END_TEST

START_TEST(test_keeps_receiving_after_the_interface_bounces)
{
    struct port *port = must_open();
    int peer;
    struct packet_batch batch;
    uint8_t want[256];
    size_t len = fixture_numbered_frame(want, 4);
    int err;

    fixture_shell("ip link set " DEV " down");
    err = recv_batch(port, &batch);
    ck_assert_msg(err == EAGAIN, "recv on a down interface returned %d",
                  err);
    fixture_shell("ip link set " DEV " up");

    peer = fixture_packet_socket(PEER);
    peer_send(peer, 4, 1);
    fixture_wait_readable(port->class->fd(port));
    ck_assert_int_eq(recv_batch(port, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    ck_assert_mem_eq(packet_data(batch.packets[0]), want, len);
    packet_batch_free(&batch);
    close(peer);
    port_close(port);
}
END_TEST

START_TEST(test_deleted_interface_breaks_recv)
{
    struct port *port = must_open();
    struct packet_batch batch;
    int err;

    fixture_shell("ip link del " DEV);
    err = recv_batch(port, &batch);
    ck_assert_msg(err == ENODEV, "recv returned %d", err);
    ck_assert_uint_eq(batch.count, 0);

    /* Sending to it is counted, not fatal. */
    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(port->stats.tx_errors, 2);
    port_close(port);
}
END_TEST

/* Down first, then deleted: the socket has no error left to give, and
 * the check is what notices. */
START_TEST(test_check_notices_an_interface_deleted_while_down)
{
    struct port *port = must_open();
    struct packet_batch batch;

    char reason[64] = "";

    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    fixture_shell("ip link set " DEV " down");
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    recv_batch(port, &batch);
    fixture_shell("ip link del " DEV);
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason),
                     ENODEV);
    ck_assert_str_eq(reason, "device gone: interface deleted");
    port_close(port);
}
END_TEST

/* The port is the interface of its name: one renamed away is gone. */
START_TEST(test_check_notices_an_interface_renamed_away)
{
    struct port *port = must_open();
    char reason[64] = "";

    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    fixture_shell("ip link set " DEV " name ckvr");
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason),
                     ENODEV);
    ck_assert_str_eq(reason, "device gone: interface renamed to ckvr");
    port_close(port);
    fixture_shell("ip link set ckvr name " DEV);
}
END_TEST

/* A socket whose buffer is full: frames held in a slow queue on the
 * interface stay charged to the socket's small send buffer, so that the
 * rest of the batch cannot go.  They are dropped and counted in one go,
 * not tried again one by one. */
START_TEST(test_drops_the_rest_of_a_batch_on_a_full_socket)
{
    static const char *const options[] = { "offload=false", NULL };
    struct port *port = must_open_with(options);
    int fd = port->class->fd(port);
    int size = 1;
    struct port_stats stats;
    int peer = fixture_packet_socket(PEER);

    fixture_shell("tc qdisc add dev " DEV " root tbf rate 8kbit "
                  "burst 1600 limit 1000000");
    ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
                                sizeof size), 0);
    sendmmsg_calls = 0;
    fixture_send_numbered_frames(port, pool, PACKET_BATCH_MAX);
    stats = port->stats;
    ck_assert_uint_gt(stats.tx_errors, 0);
    ck_assert_uint_lt(stats.tx_errors, PACKET_BATCH_MAX);
    /* One call sends what fits, the next finds the socket full. */
    ck_assert_uint_le(sendmmsg_calls, 2);

    close(peer);
    port_close(port);
}
END_TEST

/* Receives from 'port' until it has 'n' frames or, if 'n' is 0, until it
 * has nothing more to give within a tenth of a second: a ring hands a
 * block over when its timer runs out, not frame by frame.  Frames go into
 * 'got' (up to 'size' of them, the rest are freed).  Returns how many
 * came. */
static size_t
recv_frames(struct port *port, struct packet **got, size_t size, size_t n)
{
    struct pollfd pfd = { .fd = port->class->fd(port), .events = POLLIN };
    size_t count = 0;

    while ((!n || count < n)
           && poll(&pfd, 1, n ? FIXTURE_WAIT_MS : 100) == 1
           && pfd.revents & POLLIN) {
        struct packet_batch batch;
        struct packet *p;

        if (recv_batch(port, &batch)) {
            continue;
        }
        PACKET_BATCH_FOR_EACH (i, p, &batch) {
            if (count < size) {
                got[count] = p;
            } else {
                packet_free(p);
            }
            count++;
        }
    }
    return count;
}

/* Asserts that 'p' is test frame 'i', and frees it. */
static void
expect_numbered_frame(struct packet *p, size_t i)
{
    uint8_t want[256];
    size_t len = fixture_numbered_frame(want, i);

    ck_assert_uint_eq(packet_size(p), len);
    ck_assert_mem_eq(packet_data(p), want, len);
    packet_free(p);
}

/* Builds a UDP frame of 'len' bytes in all into 'buf'. */
static size_t
sized_frame(uint8_t *buf, size_t len)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);

    return fixture_udp4_frame(buf, &b, &a, 0xac1ffd05, 0xac1ffd06, 1000,
                              4000, len - ETH_HEADER_LEN - IPV4_HEADER_LEN
                                    - UDP_HEADER_LEN);
}

START_TEST(test_ring_receives_the_smallest_and_largest_frames)
{
    static const size_t sizes[] = { 60, 1514, 60 };
    struct port *port = must_open_with(ring_options);
    int peer = fixture_packet_socket(PEER);
    struct packet *got[3];
    uint8_t want[1514];

    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        size_t len = sized_frame(want, sizes[i]);

        ck_assert_int_eq(send(peer, want, len, 0), (ssize_t) len);
    }
    ck_assert_uint_eq(recv_frames(port, got, 3, 3), 3);
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        ck_assert_uint_eq(packet_size(got[i]), sizes[i]);
        sized_frame(want, sizes[i]);
        ck_assert_mem_eq(packet_data(got[i]), want, sizes[i]);
        ck_assert(!got[i]->md.csum_partial);
        ck_assert_uint_eq(got[i]->md.gso_size, 0);
        packet_free(got[i]);
    }
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(peer);
    port_close(port);
}
END_TEST

/* The ring, like recvmmsg(), is offered only what comes in: a frame that
 * the peer sends after the port's own and the host's is the only one. */
START_TEST(test_ring_does_not_receive_what_goes_out)
{
    struct port *port = must_open_with(ring_options);
    int peer = fixture_packet_socket(PEER);
    int host = fixture_packet_socket(DEV);
    struct packet *got[4];
    uint8_t buf[2048];

    fixture_send_numbered_frames(port, pool, 2);
    peer_send(host, 2, 2);
    for (size_t i = 0; i < 4; i++) {
        read_frame(peer, buf, sizeof buf);
    }
    peer_send(peer, 5, 1);
    ck_assert_uint_eq(recv_frames(port, got, 4, 0), 1);
    expect_numbered_frame(got[0], 5);
    close(host);
    close(peer);
    port_close(port);
}
END_TEST

/* A 64 KB TCP super frame, as a peer's TSO makes it, fills most of a ring
 * block; its virtio-net header comes through the ring intact. */
START_TEST(test_ring_receives_a_64k_super_frame_with_its_header)
{
    static uint8_t frame[65536], want[65536];
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    struct fixture_tcp t = { .payload_len = 64934, .flags = 0x010,
                             .partial = true };
    size_t len = fixture_tcp_frame(frame, &t);
    struct virtio_net_hdr hdr = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = (uint16_t) (l4 + TCP_HEADER_LEN + 12),
        .gso_size = 1448,
        .csum_start = (uint16_t) l4,
        .csum_offset = 16,
    };
    struct iovec iov[2] = { { &hdr, sizeof hdr }, { frame, len } };
    struct port *port = must_open_with(ring_options);
    int peer = fixture_vnet_packet_socket(PEER);
    struct packet *p;

    ck_assert_uint_eq(len, 65000);
    ck_assert_int_eq(writev(peer, iov, 2), (ssize_t) (sizeof hdr + len));
    ck_assert_uint_eq(recv_frames(port, &p, 1, 1), 1);
    ck_assert_uint_eq(packet_size(p), len);
    ck_assert_uint_eq(p->md.gso_size, 1448);
    ck_assert(p->md.csum_partial);
    ck_assert_uint_eq(p->md.csum_start, l4);
    ck_assert_uint_eq(p->md.csum_offset, 16);
    t.partial = false;
    fixture_tcp_frame(want, &t);
    csum_complete_partial(p);
    ck_assert_mem_eq(packet_data(p), want, len);
    packet_free(p);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(peer);
    port_close(port);
}
END_TEST

/* More full-sized frames than the ring holds arrive while the port reads
 * nothing: the kernel drops the rest, the port counts them as receive
 * errors once it has read on, and it takes what comes next. */
START_TEST(test_ring_counts_what_a_burst_over_its_size_loses)
{
    enum { BURST = 4000 };
    struct port *port = must_open_with(ring_options);
    int peer = fixture_packet_socket(PEER);
    uint8_t frame[1514];
    struct packet *got[1];
    size_t len = sized_frame(frame, sizeof frame), taken;

    for (size_t i = 0; i < BURST; i++) {
        ck_assert_int_eq(send(peer, frame, len, 0), (ssize_t) len);
    }
    taken = recv_frames(port, got, 0, 0);
    ck_assert_uint_gt(taken, BURST / 4);
    ck_assert_uint_lt(taken, BURST);

    /* What the kernel flags as lost comes with a later block. */
    peer_send(peer, 7, 1);
    ck_assert_uint_eq(recv_frames(port, got, 1, 1), 1);
    expect_numbered_frame(got[0], 7);
    ck_assert_uint_eq(taken + port->stats.rx_errors, BURST);
    close(peer);
    port_close(port);
}
END_TEST

/* The interface goes while a block of the ring is still ours: what the
 * ring holds can still be read, then nothing more comes, and the socket
 * reports its error for the daemon's loop to see; the check says why. */
START_TEST(test_ring_survives_its_interface_deleted)
{
    struct port *port = must_open_with(ring_options);
    int peer = fixture_packet_socket(PEER);
    struct pollfd pfd = { .fd = port->class->fd(port), .events = POLLIN };
    struct packet_batch batch;
    struct packet *got[1];
    char reason[64] = "";

    peer_send(peer, 3, 1);
    fixture_wait_readable(pfd.fd);
    fixture_shell("ip link del " DEV);
    ck_assert_uint_eq(recv_frames(port, got, 1, 1), 1);
    expect_numbered_frame(got[0], 3);
    ck_assert_int_eq(recv_batch(port, &batch), EAGAIN);

    ck_assert_int_eq(poll(&pfd, 1, 0), 1);
    ck_assert(pfd.revents & POLLERR);
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason),
                     ENODEV);
    ck_assert_str_eq(reason, "device gone: interface deleted");
    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(port->stats.tx_errors, 2);
    close(peer);
    port_close(port);
}
END_TEST

static Suite *
port_system_suite(void)
{
    Suite *s = suite_create("port-system");

    fixture_add_case(s, "sends frames out of the interface",
                     test_sends_frames_out_of_the_interface, setup,
                     teardown);
    fixture_add_case(s, "receives frames from the peer in one batch",
                     test_receives_frames_from_the_peer_in_one_batch, setup,
                     teardown);
    fixture_add_case(s, "receives at most a batch at a time",
                     test_receives_at_most_a_batch_at_a_time, setup,
                     teardown);
    fixture_add_case(s, "does not receive what goes out",
                     test_does_not_receive_what_goes_out, setup, teardown);
    fixture_add_case(s, "refuses a missing interface",
                     test_refuses_a_missing_interface, setup, teardown);
    fixture_add_case(s, "recv returns EAGAIN when idle",
                     test_recv_returns_eagain_when_idle, setup, teardown);
    fixture_add_case(s, "brings the interface up and promiscuous",
                     test_brings_the_interface_up_and_promiscuous, setup,
                     teardown);
    fixture_add_case(s, "marks a checksum left to offload",
                     test_marks_a_checksum_left_to_offload, setup, teardown);
    fixture_add_case(s, "marks a checksum left to offload without offloads",
                     test_marks_a_checksum_left_to_offload_without_offloads,
                     setup, teardown);
    fixture_add_case(s, "receives a super frame with its segment size",
                     test_receives_a_super_frame_with_its_segment_size, setup,
                     teardown);
    fixture_add_case(s, "receives a tagged super frame with its offsets",
                     test_receives_a_tagged_super_frame_with_its_offsets,
                     setup, teardown);
    fixture_add_case(s, "sends a super frame whole",
                     test_sends_a_super_frame_whole, setup, teardown);
    fixture_add_case(s, "refuses an offload that is not a boolean",
                     test_refuses_an_offload_that_is_not_a_boolean, setup,
                     teardown);
    fixture_add_case(s, "puts back a VLAN tag the kernel stripped",
                     test_puts_back_a_vlan_tag_the_kernel_stripped, setup,
                     teardown);
    fixture_add_case(s, "puts back an 802.1ad tag the kernel stripped",
                     test_puts_back_an_802_1ad_tag_the_kernel_stripped,
                     setup, teardown);
    fixture_add_case(s, "keeps receiving after the interface bounces",
                     test_keeps_receiving_after_the_interface_bounces, setup,
                     teardown);
    fixture_add_case(s, "check notices an interface deleted while down",
                     test_check_notices_an_interface_deleted_while_down,
                     setup, teardown);
    fixture_add_case(s, "check notices an interface renamed away",
                     test_check_notices_an_interface_renamed_away, setup,
                     teardown);
    fixture_add_case(s, "drops the rest of a batch on a full socket",
                     test_drops_the_rest_of_a_batch_on_a_full_socket, setup,
                     teardown);
    fixture_add_case(s, "deleted interface breaks recv",
                     test_deleted_interface_breaks_recv, setup, teardown);
    fixture_add_case(s, "ring marks a checksum left to offload",
                     test_ring_marks_a_checksum_left_to_offload, setup,
                     teardown);
    fixture_add_case(s, "ring marks a checksum left to offload without "
                     "offloads",
                     test_ring_marks_a_checksum_owed_without_offloads,
                     setup, teardown);
    fixture_add_case(s, "ring receives a tagged super frame with its offsets",
                     test_ring_receives_a_tagged_super_frame_with_its_offsets,
                     setup, teardown);
    fixture_add_case(s, "ring puts back a VLAN tag the kernel stripped",
                     test_ring_puts_back_a_vlan_tag_the_kernel_stripped,
                     setup, teardown);
    fixture_add_case(s, "ring receives the smallest and largest frames",
                     test_ring_receives_the_smallest_and_largest_frames,
                     setup, teardown);
    fixture_add_case(s, "ring receives a 64K super frame with its header",
                     test_ring_receives_a_64k_super_frame_with_its_header,
                     setup, teardown);
    fixture_add_case(s, "ring counts what a burst over its size loses",
                     test_ring_counts_what_a_burst_over_its_size_loses,
                     setup, teardown);
    fixture_add_case(s, "ring survives its interface deleted",
                     test_ring_survives_its_interface_deleted, setup,
                     teardown);
    fixture_add_case(s, "ring does not receive what goes out",
                     test_ring_does_not_receive_what_goes_out, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(port_system_suite());
}
