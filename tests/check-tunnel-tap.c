#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "tso.h"
#include "tunnel-tap.h"
#include "vxlan.h"

/* The tunnel TAP (tunnel-tap.h), in a network namespace of the test's own
 * (unshare(), it dies with the test's process): which frames it takes,
 * and that the kernel accepts what it writes for each of them and
 * receives the frame whole, outer headers in front.  On a kernel without
 * UDP-tunnel GSO on TAP devices the device cannot be made, and only what
 * needs no device is checked. */

#define VNI 5000
#define TCP_ACK 0x010

/* The most inner payload that fits: 65,535 bytes of outer IP, less the
 * outer IPv4, UDP and VXLAN headers and the inner Ethernet, IPv4 and TCP
 * (with 12 bytes of options) headers. */
#define MAX_PAYLOAD (65535 - 20 - 8 - 8 - 14 - 20 - 32)

static struct packet_pool *pool;

static void
setup(void)
{
    fixture_private_netns(false);
    pool = packet_pool_create(4);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* Returns a TCP super frame as a VM hands it over: segments of 1000 bytes,
 * its checksum left to finish. */
static struct packet *
super_frame(const struct fixture_tcp *t)
{
    static uint8_t frame[PACKET_MAX_FRAME];
    struct fixture_tcp partial = *t;
    struct packet *p;

    partial.partial = true;
    p = fixture_packet(pool, frame, fixture_tcp_frame(frame, &partial));
    p->md.gso_size = 1000;
    ck_assert_uint_ne(tso_super_header_len(p), 0);
    p->md.csum_partial = true;
    p->md.csum_start = p->md.l4_ofs;
    p->md.csum_offset = 16;
    return p;
}

START_TEST(test_takes_only_tcp_super_frames_it_can_carry)
{
    struct in6_addr peer = fixture_ip("172.31.252.2");
    struct in6_addr peer6 = fixture_ip("fd00:252::2");
    struct in6_addr group = fixture_ip("239.1.1.1");
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    struct fixture_tcp largest = { .payload_len = MAX_PAYLOAD,
                                   .flags = TCP_ACK };
    struct packet *p = super_frame(&t);

    ck_assert(tunnel_tap_takes(p, &peer));
    ck_assert(!tunnel_tap_takes(p, &peer6));
    ck_assert(!tunnel_tap_takes(p, &group));
    p->md.csum_partial = false;
    ck_assert(!tunnel_tap_takes(p, &peer));
    p->md.csum_partial = true;
    p->md.gso_udp = true;
    ck_assert(!tunnel_tap_takes(p, &peer));
    p->md.gso_udp = false;
    p->md.gso_size = 0;
    ck_assert(!tunnel_tap_takes(p, &peer));
    packet_free(p);

    p = super_frame(&largest);
    ck_assert(tunnel_tap_takes(p, &peer));
    ck_assert_ptr_nonnull(packet_put_uninit(p, 1));
    ck_assert(!tunnel_tap_takes(p, &peer));
    packet_free(p);
}
END_TEST

/* Opens the tunnel TAP, or returns NULL if the kernel has no UDP-tunnel
 * GSO on TAP devices. */
static struct tunnel_tap *
open_tap(void)
{
    struct tunnel_tap *tap;
    char error[256];
    int err = tunnel_tap_open(&tap, error, sizeof error);

    if (err == ENOTSUP) {
        fprintf(stderr, "check-tunnel-tap: skipped: %s\n", error);
        return NULL;
    }
    ck_assert_msg(!err, "%s", error);
    return tap;
}

/* Returns a packet socket that receives what the kernel takes in on the
 * tunnel TAP, whole. */
static int
listen_on(const struct tunnel_tap *tap)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = (int) if_nametoindex(tunnel_tap_name(tap)),
    };
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

    ck_assert_int_ge(fd, 0);
    ck_assert_int_ne(sll.sll_ifindex, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sll, sizeof sll), 0);
    return fd;
}

/* Encapsulates the super frame 't' describes (of a sender that uses ECN,
 * if 'ecn') for a peer, sends it through 'tap' and checks that the kernel
 * took it in as one frame: the outer headers and the whole inner frame
 * behind an Ethernet header. */
static void
expect_sent_whole(struct tunnel_tap *tap, int sock,
                  const struct fixture_tcp *t, bool ecn)
{
    static uint8_t got[PACKET_MAX_FRAME + 256];
    struct vxlan_encap_params params = {
        .local = fixture_ip("172.31.252.1"),
        .dst_port = htons(VXLAN_DST_PORT),
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
    };
    struct in6_addr peer = fixture_ip("172.31.252.2");
    struct packet *p = super_frame(t);
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    struct sockaddr_ll from;
    socklen_t from_len;
    ssize_t n;

    p->md.gso_ecn = ecn;
    ck_assert(tunnel_tap_takes(p, &peer));
    ck_assert_int_eq(vxlan_encap(p, &params, VNI, &peer), 0);
    vxlan_push_outer(p, &params, 1);
    ck_assert_int_eq(tunnel_tap_send(tap, p), 0);

    /* What the kernel itself sends out of the device (an ICMP error for
     * the peer it has no route to, say) does not count. */
    do {
        ck_assert_int_eq(poll(&pfd, 1, 5000), 1);
        from_len = sizeof from;
        n = recvfrom(sock, got, sizeof got, 0, (struct sockaddr *) &from,
                     &from_len);
        ck_assert_int_gt(n, 0);
    } while (from.sll_pkttype == PACKET_OUTGOING);
    ck_assert_int_eq(n, ETH_HEADER_LEN + packet_size(p));
    ck_assert_mem_eq(got + ETH_HEADER_LEN, packet_data(p), packet_size(p));
    packet_free(p);
}

START_TEST(test_the_kernel_takes_every_frame_it_takes)
{
    struct fixture_tcp ipv4 = { .payload_len = 3000, .flags = TCP_ACK };
    struct fixture_tcp ipv6 = { .ipv6 = true, .payload_len = 3000,
                                .flags = TCP_ACK };
    struct fixture_tcp tagged = { .vlan = true, .payload_len = 3000,
                                  .flags = TCP_ACK };
    struct fixture_tcp largest = { .payload_len = MAX_PAYLOAD,
                                   .flags = TCP_ACK };
    struct tunnel_tap *tap = open_tap();
    int sock;

    if (!tap) {
        return;
    }
    sock = listen_on(tap);
    expect_sent_whole(tap, sock, &ipv4, false);
    expect_sent_whole(tap, sock, &ipv4, true);
    expect_sent_whole(tap, sock, &ipv6, false);
    expect_sent_whole(tap, sock, &tagged, false);
    expect_sent_whole(tap, sock, &largest, false);
    close(sock);
    tunnel_tap_close(tap);
}
END_TEST

static Suite *
tunnel_tap_suite(void)
{
    Suite *s = suite_create("tunnel-tap");

    fixture_add_case(s, "takes only TCP super frames it can carry",
                     test_takes_only_tcp_super_frames_it_can_carry, setup,
                     teardown);
    fixture_add_case(s, "the kernel takes every frame it takes",
                     test_the_kernel_takes_every_frame_it_takes, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(tunnel_tap_suite());
}
