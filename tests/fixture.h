#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H 1

#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eth-addr.h"

struct flow_action;
struct flow_actions;
struct flow_key;
struct flow_spec;
struct match;
struct packet;
struct packet_pool;
struct port;

/* Helpers shared by the unit tests: frames from the captures under
 * tests/data/ and frames built to order.  They abort the test on failure,
 * so a test never runs on a half-made fixture. */

struct fixture_frame {
    uint8_t *data;
    size_t len;
};

/* Reads every frame of tests/data/'name' into a new array; returns how many
 * there are.  Free with fixture_frames_free(). */
size_t fixture_pcap_read(const char *name, struct fixture_frame **frames);
void fixture_frames_free(struct fixture_frame *frames, size_t n);

/* Returns a packet from 'pool' holding a copy of 'len' bytes at 'data'. */
struct packet *fixture_packet(struct packet_pool *pool, const void *data,
                              size_t len);

/* Builds an Ethernet + IPv4 + UDP frame with 'payload_len' payload bytes
 * (a counting pattern) into 'buf' and returns its length.  Addresses are
 * host-order IPv4 addresses. */
size_t fixture_udp4_frame(uint8_t *buf, const struct eth_addr *dst,
                          const struct eth_addr *src, uint32_t ip_src,
                          uint32_t ip_dst, uint16_t sport, uint16_t dport,
                          size_t payload_len);

/* What fixture_tcp_frame() builds. */
struct fixture_tcp {
    bool ipv6;
    bool vlan;                  /* With an 802.1Q tag for VLAN 100. */
    size_t payload_len;         /* Payload byte i is (uint8_t) (i * 7). */
    uint32_t seq;
    uint16_t flags;             /* TCP flags, the low 9 bits of tcp_ctl. */
    bool partial;               /* TCP checksum left to offload: the field
                                 * holds the pseudo-header sum. */
    bool udp;                   /* A UDP datagram instead: 'seq' and
                                 * 'flags' unused, 'partial' for its UDP
                                 * checksum. */
};

/* Builds a TCP frame from fixture_mac(1) to fixture_mac(2), 10.0.0.1 (or
 * fd00::1) port 1000 to 10.0.0.2 (fd00::2) port 80, with 12 bytes of TCP
 * options (or a UDP datagram between the same ports), IPv4 identification
 * 0x1234 and DF, and finished checksums (but the TCP or UDP one if
 * 'partial').  Returns its length. */
size_t fixture_tcp_frame(uint8_t *buf, const struct fixture_tcp *);

/* Builds a broadcast ARP request from 'src' asking for 'target_ip'. */
size_t fixture_arp_request(uint8_t *buf, const struct eth_addr *src,
                           uint32_t sender_ip, uint32_t target_ip);

/* Adds to 's' a test case named 'name' that holds the single test 'test',
 * run between 'setup' and 'teardown' (either may be NULL) in its own
 * process.  One test per case makes a failure report read as the broken
 * behaviour. */
void fixture_add_case(Suite *s, const char *name, const TTest *test,
                      void (*setup)(void), void (*teardown)(void));

/* Runs every test of 's', frees it, and returns main()'s exit status:
 * 77 (skipped, for automake) if the only tests that did not pass are
 * those that fixture_need_root() skipped, as in a package build that
 * runs as an ordinary user. */
int fixture_run(Suite *s);

/* Ends the test as skipped unless it runs as root, which 'what' (for the
 * message) needs. */
void fixture_need_root(const char *what);

/* Takes every free buffer of 'pool' into 'held' (room for 'max'), so that
 * a test can see what happens when the pool is dry.  Returns how many it
 * took; aborts the test if 'held' is too small. */
size_t fixture_drain_pool(struct packet_pool *pool, struct packet **held,
                          size_t max);

/* Builds test frame number 'i' into 'buf' (256 bytes): a UDP/IPv4 frame
 * from 02:00:00:00:00:01 to 02:00:00:00:00:02 whose ports and length
 * depend on 'i', so that frames are told apart.  Returns its length. */
size_t fixture_numbered_frame(uint8_t *buf, size_t i);

/* Sends test frames 0 to 'n' - 1 to 'port' in one batch from 'pool'. */
void fixture_send_numbered_frames(struct port *port,
                                  struct packet_pool *pool, size_t n);

/* Checks that every buffer of 'pool' came back, then destroys it. */
void fixture_pool_destroy(struct packet_pool *pool);

/* Waits, at most FIXTURE_WAIT_MS, until 'fd' is readable; fails the test
 * if it does not become so. */
#define FIXTURE_WAIT_MS 5000
void fixture_wait_readable(int fd);

/* Runs the shell command that 'format' makes and fails the test unless it
 * succeeds. */
void fixture_shell(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Writes 'text' to 'file' (a /proc setting, say), failing the test if it
 * cannot. */
void fixture_write_file(const char *file, const char *text);

/* Removes directory 'dir' and everything in it, failing the test if it
 * cannot: the end of a test that worked in a directory of its own. */
void fixture_remove_tree(const char *dir);

/* Moves the test process into a network namespace of its own, with lo up,
 * so that the devices a test makes and the frames the kernel sends are
 * only its own.  Unless 'ipv6' is true, IPv6 is off: a device that comes
 * up then sends nothing unbidden.  Check runs each test in a child
 * process, so the namespace goes with the test. */
void fixture_private_netns(bool ipv6);  /* Skips the test unless root. */

/* Returns address 's' (IPv4-mapped for IPv4), failing the test if it does
 * not parse. */
struct in6_addr fixture_ip(const char *s);

/* Returns the Ethernet address 02:00:00:00:hi:lo for a test host. */
struct eth_addr fixture_mac(uint16_t n);

/* Returns the key flow_extract() gives for a TCP/IPv4 frame on port 3 from
 * fixture_mac(1) to fixture_mac(2), from 'src' port 40000 to 10.0.0.2
 * port 'tp_dst', TTL 64. */
struct flow_key fixture_tcp4_key(const char *src, uint16_t tp_dst);

/* Returns the match for TCP over IPv4 to port 'tp_dst', or to any port if
 * 'tp_dst' is 0. */
struct match fixture_tcp4_match(uint16_t tp_dst);

/* Returns a new action list holding the 'n' actions of 'acts' (free it
 * with free()); FIXTURE_ACTIONS(...) takes the actions as arguments and
 * FIXTURE_NO_ACTIONS is the empty list (drop). */
struct flow_actions *fixture_actions(const struct flow_action *acts,
                                     size_t n);
#define FIXTURE_ACTIONS(...)                                              \
    fixture_actions((const struct flow_action[]) { __VA_ARGS__ },         \
                    sizeof ((const struct flow_action[]) { __VA_ARGS__ }) \
                    / sizeof (struct flow_action))
#define FIXTURE_NO_ACTIONS fixture_actions(NULL, 0)

/* Returns the rule text "table=TABLE,priority=PRIORITY,MATCH,actions=..."
 * would parse to for adding ('m' NULL: catch-all), which takes 'acts'
 * (NULL for none, as in a filter).  The caller frees spec.actions. */
struct flow_spec fixture_spec(int table, uint16_t priority,
                              const struct match *m,
                              struct flow_actions *acts);

struct vxlan_encap_params;

/* Encapsulates the frame in 'p' as it goes on the wire: vxlan_encap() for
 * 'vni' to 'dst', then the outer IP and UDP headers the VXLAN port builds
 * (vxlan_push_outer(), identification 'ip_id') and an Ethernet header from
 * params->eth_src to 'eth_dst', which no part of the switch builds.
 * Returns what vxlan_encap() returned. */
int fixture_vxlan_wire(struct packet *p, const struct vxlan_encap_params *,
                       uint32_t vni, const struct in6_addr *dst,
                       const struct eth_addr *eth_dst, uint16_t ip_id);

/* Turns 'p', which a datapath sent to its tunnel port configured with
 * 'params', into the whole outer frame, as fixture_vxlan_wire() does. */
void fixture_vxlan_wire_outer(struct packet *p,
                              const struct vxlan_encap_params *,
                              const struct eth_addr *eth_dst,
                              uint16_t ip_id);

/* Returns a non-blocking UDP socket bound to 'addr' (IPv4 or IPv6) and
 * 'port' that takes trains of datagrams whole (UDP_GRO) if 'gro'. */
int fixture_udp_receiver(const char *addr, uint16_t port, bool gro);

/* Waits for and receives one datagram, or train of them, on 'sock' into
 * the 'size' bytes at 'buf'.  Returns its length; the segment size of a
 * train goes in '*seg' (0 for one datagram), the sender's port in
 * '*src_port'. */
size_t fixture_recv_train(int sock, uint8_t *buf, size_t size, size_t *seg,
                          uint16_t *src_port);

/* Returns an AF_PACKET socket bound to interface 'name' that takes and
 * gives every frame there, but none that goes out of it. */
int fixture_packet_socket(const char *name);

/* The same, passing frames with a virtio-net header in front
 * (PACKET_VNET_HDR), both ways. */
int fixture_vnet_packet_socket(const char *name);

/* The super frame of the offload tests: 3,000 bytes of TCP payload over
 * IPv4 (VLAN-tagged if 'vlan') in segments of FIXTURE_MSS, its checksum
 * left to offload. */
#define FIXTURE_MSS 1000

/* Writes the super frame through 'sock' (fixture_vnet_packet_socket())
 * with its virtio-net header.  Returns the frame's length. */
size_t fixture_send_super_frame(int sock, bool vlan);

/* Asserts that 'p', which a port read, is the super frame whole: its
 * bytes, segment size and checksum offsets (which count the tag). */
void fixture_expect_super_frame(struct packet *p, bool vlan);

/* Sends the untagged super frame through 'port' with buffers from 'pool'
 * and asserts that 'sock' (fixture_vnet_packet_socket() on the port's
 * device, or its peer) takes it whole, with its segment size. */
void fixture_expect_super_frame_sent(struct port *port,
                                     struct packet_pool *pool, int sock);

/* Segments that tso_segment() emits, collected in order with
 * fixture_collect_segment() as its callback. */
struct fixture_segments {
    size_t n;
    struct packet *seg[128];
};
void fixture_collect_segment(void *segments, struct packet *);

/* Frees the segments of 'segs' from index 'first' on and forgets them. */
void fixture_free_segments(struct fixture_segments *segs, size_t first);

/* Port options split from "key=value" strings, for the port calls. */
#define FIXTURE_MAX_OPTIONS 16
struct fixture_options {
    size_t n;
    const char *keys[FIXTURE_MAX_OPTIONS];
    const char *values[FIXTURE_MAX_OPTIONS];
    char copies[FIXTURE_MAX_OPTIONS][PATH_MAX + 32];
};

/* Splits the 'n' strings of 'options' into 'opts', failing the test on a
 * string without '='. */
void fixture_split_options(struct fixture_options *opts,
                           const char *const *options, size_t n);

/* Opens a port of class 'type' named 'name', owned by "test", with the
 * options in 'options', "key=value" strings ending with NULL ('options'
 * may be NULL for none).  Returns what the class's open returns, with the
 * port in '*portp' and the reason in 'error'. */
int fixture_port_open(const char *type, const char *name,
                      const char *const *options, struct port **portp,
                      char *error, size_t error_size);

#endif /* tests/fixture.h */
