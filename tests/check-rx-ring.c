#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eth-addr.h"
#include "fixture.h"
#include "headers.h"
#include "rx-ring.h"
#include "util.h"

/* The ring on its own, on one end of a veth pair in a network namespace
 * of the test's own: a packet socket of the test's sends into the other
 * end frames that carry their number. */

#define DEV "ckra"
#define PEER "ckrb"

/* Frames of 1514 bytes: a 256 KB block holds some 160 of them, the ring
 * some 2,600 (fewer when the block timer hands over blocks not yet
 * full). */
#define FRAME_LEN 1514
#define NUMBER_OFS (ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN)

static void
setup(void)
{
    fixture_private_netns(false);
    fixture_shell("ip link add " DEV " type veth peer name " PEER);
    fixture_shell("ip link set " DEV " up && ip link set " PEER " up");
}

/* Sends frames 'first' to 'first' + 'n' - 1 through 'fd'. */
static void
send_numbered(int fd, uint32_t first, uint32_t n)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[FRAME_LEN];
    size_t len = fixture_udp4_frame(frame, &b, &a, 0xac1ffd05, 0xac1ffd06,
                                    1000, 4000, FRAME_LEN - NUMBER_OFS);

    ck_assert_uint_eq(len, FRAME_LEN);
    for (uint32_t i = first; i < first + n; i++) {
        memcpy(frame + NUMBER_OFS, &i, sizeof i);
        ck_assert_int_eq(send(fd, frame, len, 0), (ssize_t) len);
    }
}

/* Takes 'n' frames from 'ring' on socket 'fd', giving each block back once
 * read, and asserts that they are frames 'first' onwards, whole. */
static void
expect_numbered(struct rx_ring *ring, int fd, uint32_t first, uint32_t n)
{
    uint32_t next = first;

    while (next < first + n) {
        const struct tpacket3_hdr *h = rx_ring_next(ring);
        uint32_t number;

        if (!h) {
            rx_ring_release(ring);
            fixture_wait_readable(fd);
            continue;
        }
        ck_assert_uint_eq(h->tp_snaplen, FRAME_LEN);
        ck_assert_uint_eq(h->tp_len, FRAME_LEN);
        ck_assert_int_eq(rx_ring_frame_addr(h)->sll_ifindex,
                         (int) if_nametoindex(DEV));
        memcpy(&number, rx_ring_frame_data(h) + NUMBER_OFS, sizeof number);
        ck_assert_uint_eq(number, next);
        next++;
    }
    rx_ring_release(ring);
}

/* Rounds of 1,000 frames, each read before the next is sent, go around
 * the ring three times: blocks come back to the kernel as they are read,
 * and nothing is lost or reordered. */
START_TEST(test_goes_around_as_blocks_are_given_back)
{
    int fd = fixture_packet_socket(DEV), peer = fixture_packet_socket(PEER);
    struct rx_ring *ring;

    ck_assert_int_eq(rx_ring_create(fd, &ring), 0);
    for (uint32_t round = 0; round < 8; round++) {
        send_numbered(peer, round * 1000, 1000);
        expect_numbered(ring, fd, round * 1000, 1000);
    }
    ck_assert_uint_eq(rx_ring_take_drops(ring), 0);
    rx_ring_destroy(ring);
    close(peer);
    close(fd);
}
END_TEST

/* Nothing read while 4,000 frames come: the kernel keeps what fits and
 * drops the rest, which the ring reports once a block says so. */
START_TEST(test_reports_the_frames_a_full_ring_lost)
{
    int fd = fixture_packet_socket(DEV), peer = fixture_packet_socket(PEER);
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    struct rx_ring *ring;
    uint32_t taken = 0;
    uint64_t lost = 0;

    ck_assert_int_eq(rx_ring_create(fd, &ring), 0);
    send_numbered(peer, 0, 4000);
    ck_assert_uint_eq(rx_ring_take_drops(ring), 0);
    while (poll(&pfd, 1, 100) == 1) {
        while (rx_ring_next(ring)) {
            taken++;
        }
        rx_ring_release(ring);
    }
    send_numbered(peer, 4000, 1);
    fixture_wait_readable(fd);
    ck_assert_ptr_nonnull(rx_ring_next(ring));
    rx_ring_release(ring);
    lost = rx_ring_take_drops(ring);
    ck_assert_uint_gt(taken, 1000);
    ck_assert_uint_eq(taken + lost, 4000);
    ck_assert_uint_eq(rx_ring_take_drops(ring), 0);
    rx_ring_destroy(ring);
    close(peer);
    close(fd);
}
END_TEST

START_TEST(test_refuses_a_socket_that_is_not_a_packet_socket)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct rx_ring *ring = (struct rx_ring *) &fd;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(rx_ring_create(fd, &ring), ENOPROTOOPT);
    ck_assert_ptr_null(ring);
    rx_ring_destroy(NULL);
    close(fd);
}
END_TEST

static Suite *
rx_ring_suite(void)
{
    Suite *s = suite_create("rx-ring");

    fixture_add_case(s, "goes around as blocks are given back",
                     test_goes_around_as_blocks_are_given_back, setup, NULL);
    fixture_add_case(s, "reports the frames a full ring lost",
                     test_reports_the_frames_a_full_ring_lost, setup, NULL);
    fixture_add_case(s, "refuses a socket that is not a packet socket",
                     test_refuses_a_socket_that_is_not_a_packet_socket,
                     NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(rx_ring_suite());
}
