#include <config.h>

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "port.h"
#include "util.h"

/* The TAP port.  Each test runs in a network namespace of its own, made
 * by setup() with unshare(), which dies with the test's process; the
 * namespaces that "ip netns add" makes for the tests that move devices
 * are named NETNS_PREFIX, the test's process id and a letter, deleted by
 * the test and, should it fail first, by main() on its way in and out. */

#define NETNS_DIR "/run/netns"
#define NETNS_PREFIX "ckport-tap-"
#define OWNER "test"

/* What the device takes with offloads on. */
#define TAP_OFFLOADS (PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO4                \
                      | PORT_OFFLOAD_TSO6 | PORT_OFFLOAD_USO)

/* How long a test waits for the kernel to pass a frame on: far longer
 * than it takes, so that only a frame that never comes fails. */

static struct packet_pool *pool;
static char tap_name[IFNAMSIZ];

/* Runs the shell command that 'format' makes and returns its output in
 * 'out' (one string, lines and all). */
static void __attribute__((format(printf, 3, 4)))
capture(char *out, size_t size, const char *format, ...)
{
    char command[512];
    va_list args;
    size_t n;
    FILE *stream;

    va_start(args, format);
    vsnprintf(command, sizeof command, format, args);
    va_end(args);
    stream = popen(command, "r");
    ck_assert_ptr_nonnull(stream);
    n = fread(out, 1, size - 1, stream);
    out[n] = '\0';
    pclose(stream);
}

/* Deletes the namespaces of NETNS_DIR that tests of this program made and
 * that outlived them: those of processes that are gone, and with 'all'
 * those of this process too. */
static void
delete_stale_netns(bool all)
{
    DIR *dir = opendir(NETNS_DIR);
    struct dirent *de;

    while (dir && (de = readdir(dir)) != NULL) {
        size_t len = strlen(NETNS_PREFIX);
        char command[512];
        long pid;

        if (strncmp(de->d_name, NETNS_PREFIX, len)) {
            continue;
        }
        pid = strtol(de->d_name + len, NULL, 10);
        if ((pid > 0 && kill((pid_t) pid, 0) && errno == ESRCH)
            || (all && pid == getpid())) {
            snprintf(command, sizeof command, "ip netns del %s 2>/dev/null",
                     de->d_name);
            if (system(command)) {
                fprintf(stderr, "could not delete namespace %s\n",
                        de->d_name);
            }
        }
    }
    if (dir) {
        closedir(dir);
    }
}

/* Makes a named namespace for this test, NETNS_PREFIX, pid and 'tag', and
 * returns its name in 'name'. */
static const char *
add_netns(char *name, size_t size, char tag)
{
    snprintf(name, size, NETNS_PREFIX "%d-%c", (int) getpid(), tag);
    fixture_shell("ip netns add %s", name);
    return name;
}

static void
setup(void)
{
    /* A namespace of our own: the devices we make, and the frames the
     * kernel sends, are only ours.  Without IPv6, a device that comes up
     * sends nothing unbidden. */
    fixture_private_netns(false);
    snprintf(tap_name, sizeof tap_name, "cktap%d", (int) getpid());
    pool = packet_pool_create(2 * PACKET_BATCH_MAX);
    ck_assert_ptr_nonnull(pool);
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* Opens the TAP port with the options in 'options', "key=value" strings
 * ending with NULL (or NULL for none). */
static int
open_port_with(const char *const *options, struct port **portp, char *error,
               size_t error_size)
{
    return fixture_port_open("tap", tap_name, options, portp, error,
                             error_size);
}

static int
open_port(struct port **portp, char *error, size_t error_size)
{
    return open_port_with(NULL, portp, error, error_size);
}

static struct port *
must_open_with(const char *const *options)
{
    struct port *port;
    char error[256];
    int err = open_port_with(options, &port, error, sizeof error);

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

/* Removes the port's device and closes it, as deleting the port does. */
static void
remove_port(struct port *port)
{
    port->class->remove(port);
    port_close(port);
}

static short
if_flags(const char *name)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ck_assert_msg(!ioctl(fd, SIOCGIFFLAGS, &ifr), "%s: %s", name,
                  strerror(errno));
    close(fd);
    return ifr.ifr_flags;
}

static struct eth_addr
if_mac(const char *name)
{
    struct eth_addr mac;
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ck_assert(!ioctl(fd, SIOCGIFHWADDR, &ifr));
    close(fd);
    memcpy(mac.ea, ifr.ifr_hwaddr.sa_data, ETH_ADDR_LEN);
    return mac;
}

/* Returns the packets that device 'name' has received, as /proc/net/dev
 * of namespace 'netns' (NULL: ours) counts them. */
static unsigned long long
rx_packets(const char *netns, const char *name)
{
    char text[8192];
    const char *line;

    if (netns) {
        capture(text, sizeof text, "ip netns exec %s cat /proc/net/dev",
                netns);
    } else {
        capture(text, sizeof text, "cat /proc/net/dev");
    }
    for (line = text; line; line = strchr(line, '\n')) {
        unsigned long long bytes, packets;
        char dev[IFNAMSIZ + 1];

        line += *line == '\n';
        if (sscanf(line, " %16[^:]: %llu %llu", dev, &bytes, &packets) == 3
            && !strcmp(dev, name)) {
            return packets;
        }
    }
    ck_abort_msg("no %s in /proc/net/dev of %s", name,
                 netns ? netns : "the test's namespace");
    return 0;
}

/* Returns the "ip -o link show" line of 'name' in 'netns' (NULL: ours),
 * or "" if it has no such device. */
static const char *
link_show(char *out, size_t size, const char *netns, const char *name)
{
    if (netns) {
        capture(out, size, "ip -n %s -d -o link show %s 2>/dev/null", netns,
                name);
    } else {
        capture(out, size, "ip -d -o link show %s 2>/dev/null", name);
    }
    return out;
}

/* Builds test frame 'i', a UDP frame of its own length, into 'buf'. */
START_TEST(test_creates_the_device_up_with_owner_alias)
{
    char text[2048];
    struct port *port;

    ck_assert_uint_eq(if_nametoindex(tap_name), 0);
    port = must_open();
    ck_assert_uint_ne(if_nametoindex(tap_name), 0);
    ck_assert(if_flags(tap_name) & IFF_UP);
    link_show(text, sizeof text, NULL, tap_name);
    ck_assert_msg(strstr(text, "tun type tap ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, " persist on ") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "alias " OWNER "\n") != NULL, "%s", text);
    remove_port(port);
}
END_TEST

START_TEST(test_sends_frames_into_the_device)
{
    struct port *port = must_open();
    int ifindex = (int) if_nametoindex(tap_name);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = ifindex };
    int sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    unsigned long long before = rx_packets(NULL, tap_name);

    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(bind(sock, (struct sockaddr *) &sll, sizeof sll), 0);
    fixture_send_numbered_frames(port, pool, 3);
    for (size_t i = 0; i < 3; i++) {
        uint8_t want[256], got[2048];
        size_t len = fixture_numbered_frame(want, i);
        ssize_t n;

        fixture_wait_readable(sock);
        n = recv(sock, got, sizeof got, 0);
        ck_assert_int_eq(n, (ssize_t) len);
        ck_assert_mem_eq(got, want, len);
    }
    ck_assert_uint_eq(rx_packets(NULL, tap_name), before + 3);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    close(sock);
    remove_port(port);
}
END_TEST

/* The kernel sends a UDP datagram out of the TAP device; the port reads
 * it, with its checksum finished ('offload' false) or left to finish.
 * Returns nothing; asserts the frame. */
static void
expect_kernel_datagram(const char *const *options, bool offload)
{
    static const char payload[] = "frame for the tap port";
    struct eth_addr dst = fixture_mac(2), src;
    struct sockaddr_in to = { .sin_family = AF_INET,
                              .sin_port = htons(4000) };
    struct port *port = must_open_with(options);
    struct packet_batch batch;
    struct packet *p;
    const uint8_t *l4;
    be32 ip_src = htonl(0xac1ffe01), ip_dst = htonl(0xac1ffe02);
    size_t l4_ofs = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    int sock;

    fixture_shell("ip addr add 172.31.254.1/24 dev %s", tap_name);
    fixture_shell("ip neigh add 172.31.254.2 lladdr 02:00:00:00:00:02 dev %s",
        tap_name);
    src = if_mac(tap_name);
    to.sin_addr.s_addr = ip_dst;
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(sendto(sock, payload, sizeof payload, 0,
                            (struct sockaddr *) &to, sizeof to),
                     sizeof payload);

    fixture_wait_readable(port->class->fd(port));
    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    p = batch.packets[0];
    ck_assert_uint_eq(packet_size(p), l4_ofs + UDP_HEADER_LEN
                                      + sizeof payload);
    ck_assert_mem_eq(packet_data(p), dst.ea, ETH_ADDR_LEN);
    ck_assert_mem_eq(packet_data(p) + 6, src.ea, ETH_ADDR_LEN);
    ck_assert_mem_eq(packet_data(p) + 12, "\x08\x00", 2);
    ck_assert_uint_eq(packet_data(p)[ETH_HEADER_LEN + 9], IP_PROTO_UDP);
    ck_assert_mem_eq(packet_data(p) + ETH_HEADER_LEN + 12, &ip_src, 4);
    ck_assert_mem_eq(packet_data(p) + ETH_HEADER_LEN + 16, &ip_dst, 4);
    l4 = packet_data(p) + l4_ofs;
    ck_assert_mem_eq(l4 + 2, "\x0f\xa0", 2);
    ck_assert_mem_eq(l4 + UDP_HEADER_LEN, payload, sizeof payload);
    ck_assert_uint_eq(p->md.gso_size, 0);

    /* With offloads the kernel leaves the UDP checksum to whoever sends
     * the frame on; finished, it is right either way. */
    ck_assert(p->md.csum_partial == offload);
    if (offload) {
        ck_assert_uint_eq(p->md.csum_start, l4_ofs);
        ck_assert_uint_eq(p->md.csum_offset, 6);
        csum_complete_partial(p);
    }
    ck_assert_uint_eq(csum_finish(csum_add_bytes(
                          csum_pseudo_ipv4(ip_src, ip_dst, IP_PROTO_UDP,
                                           UDP_HEADER_LEN + sizeof payload),
                          l4, UDP_HEADER_LEN + sizeof payload)), 0);
    packet_batch_free(&batch);

    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), EAGAIN);
    close(sock);
    remove_port(port);
}

START_TEST(test_receives_what_the_kernel_sends_out)
{
    expect_kernel_datagram(NULL, true);
}
END_TEST

/* Even from a device that a port with offloads had before: the device
 * keeps its offloads while no one has it open. */
START_TEST(test_receives_finished_checksums_without_offloads)
{
    static const char *const options[] = { "offload=false", NULL };

    port_close(must_open());
    expect_kernel_datagram(options, false);
}
END_TEST

START_TEST(test_receives_a_super_frame_with_its_segment_size)
{
    struct port *port = must_open();
    int sock = fixture_vnet_packet_socket(tap_name);
    struct packet_batch batch;

    fixture_send_super_frame(sock, false);
    fixture_wait_readable(port->class->fd(port));
    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), 0);
    ck_assert_uint_eq(batch.count, 1);
    fixture_expect_super_frame(batch.packets[0], false);
    packet_batch_free(&batch);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    close(sock);
    remove_port(port);
}
END_TEST

START_TEST(test_sends_a_super_frame_into_the_device_whole)
{
    struct port *port = must_open();
    int sock = fixture_vnet_packet_socket(tap_name);

    fixture_expect_super_frame_sent(port, pool, sock);
    close(sock);
    remove_port(port);
}
END_TEST

START_TEST(test_refuses_an_offload_that_is_not_a_boolean)
{
    static const char *const options[] = { "offload=maybe", NULL };
    struct port *port;
    char error[256];

    ck_assert_int_eq(open_port_with(options, &port, error, sizeof error),
                     EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_str_eq(error, "offload: 'maybe' is not a boolean");
    ck_assert_uint_eq(if_nametoindex(tap_name), 0);
}
END_TEST

START_TEST(test_recv_returns_eagain_when_idle)
{
    struct port *port = must_open();
    struct packet_batch batch;

    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), EAGAIN);
    ck_assert_uint_eq(batch.count, 0);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), EAGAIN);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    remove_port(port);
}
END_TEST

START_TEST(test_close_keeps_the_device_and_open_reattaches)
{
    struct port *port = must_open();
    unsigned int ifindex = if_nametoindex(tap_name);
    char text[2048];

    port_close(port);
    ck_assert_uint_eq(if_nametoindex(tap_name), ifindex);

    port = must_open();
    ck_assert_uint_eq(if_nametoindex(tap_name), ifindex);
    ck_assert(if_flags(tap_name) & IFF_UP);
    ck_assert_msg(strstr(link_show(text, sizeof text, NULL, tap_name),
                         "alias " OWNER "\n") != NULL, "%s", text);

    /* The new descriptor is the device's. */
    unsigned long long before = rx_packets(NULL, tap_name);

    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(rx_packets(NULL, tap_name), before + 2);
    remove_port(port);
}
END_TEST

START_TEST(test_reattaches_to_a_device_it_did_not_create)
{
    unsigned int ifindex;
    struct port *port;

    fixture_shell("ip tuntap add %s mode tap", tap_name);
    ifindex = if_nametoindex(tap_name);
    ck_assert_uint_ne(ifindex, 0);
    port = must_open();
    ck_assert_uint_eq(if_nametoindex(tap_name), ifindex);
    ck_assert(if_flags(tap_name) & IFF_UP);

    /* Someone else's device: used, but not deleted with the port. */
    remove_port(port);
    ck_assert_uint_eq(if_nametoindex(tap_name), ifindex);
}
END_TEST

START_TEST(test_refuses_a_same_named_device_that_is_not_a_tap)
{
    char error[256], want[128];
    struct port *port;

    /* A veth, then a TUN device, by the same name. */
    snprintf(want, sizeof want, "tap %s: %s", tap_name, strerror(EINVAL));
    for (int i = 0; i < 2; i++) {
        if (i == 0) {
            fixture_shell("ip link add %s type veth", tap_name);
        } else {
            fixture_shell("ip tuntap add %s mode tun", tap_name);
        }
        ck_assert_int_eq(open_port(&port, error, sizeof error), EINVAL);
        ck_assert_ptr_null(port);
        ck_assert_str_eq(error, want);
        ck_assert_uint_ne(if_nametoindex(tap_name), 0);
        fixture_shell("ip link del %s", tap_name);
    }
}
END_TEST

START_TEST(test_remove_deletes_the_device)
{
    struct port *port = must_open();

    ck_assert_uint_ne(if_nametoindex(tap_name), 0);
    remove_port(port);
    ck_assert_uint_eq(if_nametoindex(tap_name), 0);
}
END_TEST

START_TEST(test_deleted_device_breaks_recv)
{
    struct port *port = must_open();
    struct packet_batch batch;
    int err;

    fixture_shell("ip link del %s", tap_name);
    ck_assert_uint_eq(if_nametoindex(tap_name), 0);

    packet_batch_init(&batch);
    err = port->class->recv(port, pool, &batch);
    ck_assert_msg(err != 0 && err != EAGAIN, "recv returned %d", err);
    ck_assert_uint_eq(batch.count, 0);
    ck_assert_uint_eq(port->stats.rx_errors, 1);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), err);

    /* Sending to it is counted, not fatal. */
    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(port->stats.tx_errors, 2);
    remove_port(port);
}
END_TEST

START_TEST(test_reattaches_to_its_device_in_another_netns)
{
    char netns[64], text[2048];
    unsigned long long before;
    struct port *port = must_open();

    add_netns(netns, sizeof netns, 'x');
    fixture_shell("ip link set %s netns %s", tap_name, netns);
    ck_assert_uint_eq(if_nametoindex(tap_name), 0);
    port_close(port);

    port = must_open();
    ck_assert_msg(if_nametoindex(tap_name) == 0, "a new %s was made here",
                  tap_name);
    link_show(text, sizeof text, netns, tap_name);
    ck_assert_msg(strstr(text, ",UP") != NULL, "%s", text);
    before = rx_packets(netns, tap_name);
    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(rx_packets(netns, tap_name), before + 2);
    ck_assert_uint_eq(port->stats.tx_errors, 0);

    /* Removing the port removes the device where it is. */
    remove_port(port);
    ck_assert_str_eq(link_show(text, sizeof text, netns, tap_name), "");
    fixture_shell("ip netns del %s", netns);
}
END_TEST

START_TEST(test_leaves_a_same_named_device_it_does_not_own)
{
    char netns[64], text[2048];
    unsigned long long before;
    struct port *port;

    add_netns(netns, sizeof netns, 'y');
    fixture_shell("ip -n %s tuntap add %s mode tap", netns, tap_name);
    fixture_shell("ip -n %s link set %s alias other", netns, tap_name);

    port = must_open();
    ck_assert_uint_ne(if_nametoindex(tap_name), 0);
    ck_assert_msg(strstr(link_show(text, sizeof text, NULL, tap_name),
                         "alias " OWNER "\n") != NULL, "%s", text);

    /* The other device is as it was: down, and not fed by the port. */
    link_show(text, sizeof text, netns, tap_name);
    ck_assert_msg(strstr(text, "alias other\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, ",UP") == NULL, "%s", text);
    before = rx_packets(NULL, tap_name);
    fixture_send_numbered_frames(port, pool, 1);
    ck_assert_uint_eq(rx_packets(NULL, tap_name), before + 1);
    ck_assert_uint_eq(rx_packets(netns, tap_name), 0);
    remove_port(port);
    fixture_shell("ip netns del %s", netns);
}
END_TEST

/* Changes option 'key' of the open port to 'value' in place. */
static void
must_update(struct port *port, const char *key, const char *value)
{
    const char *keys[] = { key }, *values[] = { value };
    struct port_args args = { .name = tap_name, .owner = OWNER,
                              .keys = keys, .values = values,
                              .n_options = 1 };
    char error[256];
    int err = port->class->update(port, &args, error, sizeof error);

    ck_assert_msg(!err, "update: %s (%s)", strerror(err), error);
}

/* What a VM's side did to its interface (moved it, gave it an address)
 * survives a change of offloads, which happens on the same descriptor. */
START_TEST(test_changes_offloads_in_place)
{
    char netns[64], text[2048];
    struct port *port = must_open();
    int fd = port->class->fd(port);
    unsigned long long before;

    add_netns(netns, sizeof netns, 'o');
    fixture_shell("ip link set %s netns %s", tap_name, netns);
    fixture_shell("ip -n %s link set %s up", netns, tap_name);
    fixture_shell("ip -n %s addr add 10.77.0.1/24 dev %s", netns, tap_name);
    ck_assert_uint_eq(port->offloads, TAP_OFFLOADS);

    must_update(port, "offload", "false");
    ck_assert_uint_eq(port->offloads, 0);
    ck_assert_int_eq(port->class->fd(port), fd);
    link_show(text, sizeof text, netns, tap_name);
    ck_assert_msg(strstr(text, ",UP") != NULL, "%s", text);
    capture(text, sizeof text, "ip -n %s -o addr show dev %s", netns,
            tap_name);
    ck_assert_msg(strstr(text, "10.77.0.1/24") != NULL, "%s", text);
    before = rx_packets(netns, tap_name);
    fixture_send_numbered_frames(port, pool, 2);
    ck_assert_uint_eq(rx_packets(netns, tap_name), before + 2);

    must_update(port, "offload", "true");
    ck_assert_uint_eq(port->offloads, TAP_OFFLOADS);
    fixture_send_numbered_frames(port, pool, 1);
    ck_assert_uint_eq(rx_packets(netns, tap_name), before + 3);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    remove_port(port);
    fixture_shell("ip netns del %s", netns);
}
END_TEST

/* Sends one UDP frame of 'len' bytes from the wire's point of view (no
 * super frame) to 'port'. */
static void
send_frame_of(struct port *port, size_t len)
{
    static uint8_t buf[2048];
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    struct packet_batch batch;
    size_t n = fixture_udp4_frame(buf, &dst, &src, 0x0a000001, 0x0a000002,
                                  1000, 2000, len - ETH_HEADER_LEN
                                  - IPV4_HEADER_LEN - UDP_HEADER_LEN);

    ck_assert_uint_eq(n, len);
    packet_batch_init(&batch);
    packet_batch_add(&batch, fixture_packet(pool, buf, n));
    port->class->send(port, &batch);
}

/* As a Linux bridge does: a frame over the MTU the VM's side set (the
 * port learns it at its check, wherever the device is) is dropped and
 * counted; up to the MTU, with room for a VLAN tag, it passes; a super
 * frame passes whole. */
START_TEST(test_drops_a_frame_over_the_mtu_unless_a_super_frame)
{
    char netns[64], reason[64];
    struct port *port = must_open();
    unsigned long long before;
    int sock;

    add_netns(netns, sizeof netns, 'm');
    fixture_shell("ip link set %s netns %s", tap_name, netns);
    fixture_shell("ip -n %s link set %s mtu 1450 up", netns, tap_name);
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    before = rx_packets(netns, tap_name);

    send_frame_of(port, 1450 + ETH_HEADER_LEN + VLAN_HEADER_LEN + 1);
    ck_assert_uint_eq(port->stats.tx_errors, 1);
    send_frame_of(port, 1450 + ETH_HEADER_LEN + VLAN_HEADER_LEN);
    send_frame_of(port, 1450 + ETH_HEADER_LEN);
    ck_assert_uint_eq(port->stats.tx_errors, 1);
    ck_assert_uint_eq(rx_packets(netns, tap_name), before + 2);
    port_close(port);

    /* Back in our own namespace (that of our process, not PID 1's: the
     * host's, where the device would outlive the test) with a small MTU,
     * for the super frame. */
    fixture_shell("ip -n %s link set %s netns %d", netns, tap_name,
                  (int) getpid());
    fixture_shell("ip netns del %s", netns);
    port = must_open();
    fixture_shell("ip link set %s mtu 1400", tap_name);
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    sock = fixture_vnet_packet_socket(tap_name);
    fixture_expect_super_frame_sent(port, pool, sock);
    close(sock);
    remove_port(port);
}
END_TEST

/* A daemon that attached to its device through a name of /run/netns (as
 * at a restart) holds that namespace; when its owner deletes the name,
 * the check says so in words, so that the owner closes the port and the
 * namespace can go. */
START_TEST(test_check_lets_go_of_a_deleted_netns)
{
    char netns[64], reason[64] = "", want[128];
    struct port *port = must_open();

    add_netns(netns, sizeof netns, 'd');
    fixture_shell("ip link set %s netns %s", tap_name, netns);
    port_close(port);
    port = must_open();
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason), 0);
    fixture_shell("ip netns del %s", netns);
    ck_assert_int_eq(port->class->check(port, reason, sizeof reason),
                     ENOENT);
    snprintf(want, sizeof want, "device gone: namespace %s deleted",
             netns);
    ck_assert_str_eq(reason, want);
    port_close(port);
}
END_TEST

static Suite *
port_tap_suite(void)
{
    Suite *s = suite_create("port-tap");

    fixture_add_case(s, "creates the device up with owner alias",
                     test_creates_the_device_up_with_owner_alias, setup,
                     teardown);
    fixture_add_case(s, "sends frames into the device",
                     test_sends_frames_into_the_device, setup, teardown);
    fixture_add_case(s, "receives finished checksums without offloads",
                     test_receives_finished_checksums_without_offloads, setup,
                     teardown);
    fixture_add_case(s, "receives a super frame with its segment size",
                     test_receives_a_super_frame_with_its_segment_size, setup,
                     teardown);
    fixture_add_case(s, "sends a super frame into the device whole",
                     test_sends_a_super_frame_into_the_device_whole, setup,
                     teardown);
    fixture_add_case(s, "refuses an offload that is not a boolean",
                     test_refuses_an_offload_that_is_not_a_boolean, setup,
                     teardown);
    fixture_add_case(s, "receives what the kernel sends out",
                     test_receives_what_the_kernel_sends_out, setup,
                     teardown);
    fixture_add_case(s, "recv returns EAGAIN when idle",
                     test_recv_returns_eagain_when_idle, setup, teardown);
    fixture_add_case(s, "close keeps the device and open reattaches",
                     test_close_keeps_the_device_and_open_reattaches, setup,
                     teardown);
    fixture_add_case(s, "reattaches to a device it did not create",
                     test_reattaches_to_a_device_it_did_not_create, setup,
                     teardown);
    fixture_add_case(s, "refuses a same-named device that is not a TAP",
                     test_refuses_a_same_named_device_that_is_not_a_tap,
                     setup, teardown);
    fixture_add_case(s, "remove deletes the device",
                     test_remove_deletes_the_device, setup, teardown);
    fixture_add_case(s, "deleted device breaks recv",
                     test_deleted_device_breaks_recv, setup, teardown);
    fixture_add_case(s, "reattaches to its device in another netns",
                     test_reattaches_to_its_device_in_another_netns, setup,
                     teardown);
    fixture_add_case(s, "leaves a same-named device it does not own",
                     test_leaves_a_same_named_device_it_does_not_own, setup,
                     teardown);
    fixture_add_case(s, "changes offloads in place",
                     test_changes_offloads_in_place, setup, teardown);
    fixture_add_case(s, "drops a frame over the MTU unless a super frame",
                     test_drops_a_frame_over_the_mtu_unless_a_super_frame,
                     setup, teardown);
    fixture_add_case(s, "check lets go of a deleted netns",
                     test_check_lets_go_of_a_deleted_netns, setup, teardown);
    return s;
}

int
main(void)
{
    int status;

    delete_stale_netns(false);
    status = fixture_run(port_tap_suite());
    delete_stale_netns(true);
    return status;
}
