#include <config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "dp.h"
#include "flow-table.h"
#include "fixture.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "util.h"

/* The forwarding decisions of the datapath, tested on up to three "hosts"
 * (datapaths) joined by an underlay that this file plays: frames a host
 * sends out of its tunnel port are handed, outer headers checked and
 * stripped, to the tunnel port of every host they are addressed to. */

#define VNI_A 5000
#define VNI_B 6000
#define PORT_VM1 1
#define PORT_VM2 2
#define PORT_OTHER_VNI 3
#define PORT_VTEP 10
#define MAX_HOSTS 3
#define MAX_SENT 256

struct sent {
    uint32_t port_no;
    struct packet *p;
};

struct host {
    struct dp *dp;
    struct in6_addr ip;
    struct dp_tunnel_config tunnel;
    uint16_t ip_id;
    struct sent sent[MAX_SENT];
    size_t n_sent;
};

static struct packet_pool *pool;
static struct host hosts[MAX_HOSTS];
static struct in6_addr group;
static long long now;

static void
record_send(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    struct host *h = aux;
    struct packet *p;

    PACKET_BATCH_FOR_EACH (i, p, batch) {
        ck_assert_uint_lt(h->n_sent, MAX_SENT);
        /* What the datapath hands the tunnel port, the VXLAN port puts on
         * the wire with outer headers of its own; the kernel adds the
         * Ethernet header (for multicast, to the group's address). */
        if (port_no == PORT_VTEP) {
            struct eth_addr eth_dst = {{ 0 }};

            if (inet_is_multicast(&p->md.tun_dst)) {
                eth_dst = vxlan_multicast_eth(&p->md.tun_dst);
            }
            fixture_vxlan_wire_outer(p, &h->tunnel.encap, &eth_dst,
                                     h->ip_id++);
        }
        h->sent[h->n_sent++] = (struct sent) { port_no, p };
    }
}

static struct in6_addr
ip4(uint32_t addr)
{
    struct in6_addr a;

    a = inet_from_ipv4(htonl(addr));
    return a;
}

static void
clear_sent(struct host *h)
{
    for (size_t i = 0; i < h->n_sent; i++) {
        packet_free(h->sent[i].p);
    }
    h->n_sent = 0;
}

/* Sets up host 'i' with two VMs in VNI_A, one in VNI_B, and a VTEP at
 * 172.31.0.(i+1).  'her' selects head-end replication to the other hosts
 * instead of the multicast group. */
static void
host_init(int i, bool her)
{
    struct host *h = &hosts[i];
    struct dp_callbacks cb = { .send = record_send, .aux = h };
    struct in6_addr peers[MAX_HOSTS - 1];
    size_t n_peers = 0;

    for (int j = 0; j < MAX_HOSTS; j++) {
        if (j != i) {
            peers[n_peers++] = ip4(0xac1f0001 + (uint32_t) j);
        }
    }
    memset(h, 0, sizeof *h);
    h->ip = ip4(0xac1f0001 + (uint32_t) i);
    h->dp = dp_create(pool, 0, &cb);
    ck_assert_ptr_nonnull(h->dp);

    struct dp_vni_config vc = { .group = group };

    if (her) {
        vc = (struct dp_vni_config) { .flood_list = peers,
                                      .n_flood = n_peers };
    }
    ck_assert_int_eq(dp_vni_set(h->dp, VNI_A, &vc), 0);
    ck_assert_int_eq(dp_vni_set(h->dp, VNI_B, &vc), 0);

    struct dp_tunnel_config tc = {
        .encap = { .local = h->ip, .eth_src = fixture_mac(0xf0 + i),
                   .dst_port = htons(VXLAN_DST_PORT),
                   .src_port_min = VXLAN_SRC_PORT_MIN,
                   .src_port_max = VXLAN_SRC_PORT_MAX },
        .mtu = 1500,
    };

    ck_assert_int_eq(dp_port_add(h->dp, PORT_VM1, DP_PORT_LOCAL), 0);
    ck_assert_int_eq(dp_port_add(h->dp, PORT_VM2, DP_PORT_LOCAL), 0);
    ck_assert_int_eq(dp_port_add(h->dp, PORT_OTHER_VNI, DP_PORT_LOCAL), 0);
    ck_assert_int_eq(dp_port_add(h->dp, PORT_VTEP, DP_PORT_TUNNEL), 0);
    ck_assert_int_eq(dp_tunnel_configure(h->dp, PORT_VTEP, &tc), 0);
    h->tunnel = tc;
    ck_assert_int_eq(dp_port_bind(h->dp, PORT_VM1, VNI_A), 0);
    ck_assert_int_eq(dp_port_bind(h->dp, PORT_VM2, VNI_A), 0);
    ck_assert_int_eq(dp_port_bind(h->dp, PORT_OTHER_VNI, VNI_B), 0);
}

static void
setup(void)
{
    pool = packet_pool_create(1024);
    ck_assert_ptr_nonnull(pool);
    group = ip4(0xef010101);
    now = 1000;
    for (int i = 0; i < MAX_HOSTS; i++) {
        host_init(i, false);
    }
}

static void
setup_her(void)
{
    pool = packet_pool_create(1024);
    ck_assert_ptr_nonnull(pool);
    group = ip4(0xef010101);
    now = 1000;
    for (int i = 0; i < MAX_HOSTS; i++) {
        host_init(i, true);
    }
}

static void
teardown(void)
{
    struct packet_pool_stats stats;

    for (int i = 0; i < MAX_HOSTS; i++) {
        clear_sent(&hosts[i]);
        dp_destroy(hosts[i].dp);
    }
    /* Every packet the datapath took must have been freed or handed on. */
    packet_pool_get_stats(pool, &stats);
    ck_assert_uint_eq(stats.n_free, stats.n_packets);
    packet_pool_destroy(pool);
}

static void
inject(int host, uint32_t port_no, const uint8_t *frame, size_t len)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    packet_batch_add(&batch, fixture_packet(pool, frame, len));
    dp_receive(hosts[host].dp, port_no, &batch, now);
    ck_assert_uint_eq(batch.count, 0);
}

/* Counts frames host 'h' sent out of 'port_no'. */
static size_t
n_sent_on(const struct host *h, uint32_t port_no)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n_sent; i++) {
        n += h->sent[i].port_no == port_no;
    }
    return n;
}

static const struct packet *
sent_on(const struct host *h, uint32_t port_no)
{
    for (size_t i = 0; i < h->n_sent; i++) {
        if (h->sent[i].port_no == port_no) {
            return h->sent[i].p;
        }
    }
    ck_abort_msg("nothing sent on port %u", port_no);
    return NULL;
}

static struct in6_addr
outer_dst(const struct packet *p)
{
    const struct ipv4_header *ip = packet_at(p, ETH_HEADER_LEN,
                                             IPV4_HEADER_LEN);

    ck_assert_ptr_nonnull(ip);
    return ip4(ntohl(be32_16_get(&ip->ip_dst)));
}

static void
assert_outer_dst(const struct packet *p, const struct in6_addr *want)
{
    struct in6_addr got = outer_dst(p);

    ck_assert_mem_eq(&got, want, sizeof got);
}

/* Returns what host 'src''s VTEP receives of frame 'p' that 'src' sent to
 * the underlay: the UDP payload, with the outer addresses beside it, as
 * the VXLAN port hands it on. */
static struct packet *
underlay_copy(const struct host *src, const struct packet *p)
{
    size_t outer = ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
    struct packet *copy = fixture_packet(pool, packet_data(p) + outer,
                                         packet_size(p) - outer);

    copy->md.tun_src = src->ip;
    copy->md.tun_dst = outer_dst(p);
    return copy;
}

/* Plays the underlay: every frame host 'from' sent to the VTEP goes, as a
 * UDP payload, to each host whose address or group it is addressed to.
 * Returns how many deliveries there were. */
static size_t
deliver_underlay(int from)
{
    struct host *src = &hosts[from];
    size_t delivered = 0;

    for (size_t i = 0; i < src->n_sent; i++) {
        if (src->sent[i].port_no != PORT_VTEP) {
            continue;
        }

        const struct packet *p = src->sent[i].p;
        struct in6_addr dst = outer_dst(p);

        for (int j = 0; j < MAX_HOSTS; j++) {
            if (j == from || (memcmp(&dst, &hosts[j].ip, sizeof dst)
                              && memcmp(&dst, &group, sizeof dst))) {
                continue;
            }

            struct packet_batch batch;

            packet_batch_init(&batch);
            packet_batch_add(&batch, underlay_copy(src, p));
            dp_receive(hosts[j].dp, PORT_VTEP, &batch, now);
            delivered++;
        }
    }
    return delivered;
}

static struct mac_dest
port_dest(uint32_t port_no)
{
    return (struct mac_dest) { .type = MAC_DEST_PORT, .port_no = port_no };
}

static struct mac_dest
remote_dest(int host)
{
    return (struct mac_dest) { .type = MAC_DEST_REMOTE,
                               .remote = hosts[host].ip };
}

static void
assert_learned(int host, uint32_t vni, uint16_t mac_id,
               const struct mac_dest *want)
{
    struct eth_addr mac = fixture_mac(mac_id);
    const struct mac_dest *got = mac_table_lookup(dp_mac_table(
                                                      hosts[host].dp),
                                                  vni, &mac);

    ck_assert_msg(got != NULL, "host %d has not learned mac %u", host,
                  mac_id);
    ck_assert_msg(mac_dest_equals(got, want),
                  "host %d learned mac %u at the wrong place", host, mac_id);
}

/* Hands host 'to''s VTEP a VXLAN datagram holding 'inner' in VNI_A, from
 * outer source 'src' to host 'to''s address. */
/* Set to have the next datagram deliver_from_to() hands over come as
 * the kernel puts one together from IP fragments. */
static bool next_fragmented;

static void
deliver_from_to(int to, const struct in6_addr *src,
                const struct in6_addr *dst, const uint8_t *inner, size_t len)
{
    static uint8_t payload[8192];
    struct vxlan_header vx;
    struct packet_batch batch;
    struct packet *p;

    ck_assert_uint_le(VXLAN_HEADER_LEN + len, sizeof payload);
    be32_16_put(&vx.vx_flags, htonl(VXLAN_FLAG_I));
    be32_16_put(&vx.vx_vni, htonl(VNI_A << 8));
    memcpy(payload, &vx, sizeof vx);
    memcpy(payload + VXLAN_HEADER_LEN, inner, len);
    p = fixture_packet(pool, payload, VXLAN_HEADER_LEN + len);
    p->md.tun_src = *src;
    p->md.tun_dst = *dst;
    p->md.tun_fragmented = next_fragmented;
    next_fragmented = false;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    dp_receive(hosts[to].dp, PORT_VTEP, &batch, now);
}

static void
deliver_from(int to, const struct in6_addr *src, const uint8_t *inner,
             size_t len)
{
    deliver_from_to(to, src, &hosts[to].ip, inner, len);
}

static uint64_t
port_drops(int host, uint32_t port_no, enum dp_drop_reason reason)
{
    struct dp_counters c;

    ck_assert(dp_port_get_counters(hosts[host].dp, port_no, &c));
    return c.drops[reason];
}

/* VM A is mac 0x111 on host 0; VM B is mac 0x222 on host 1. */
#define MAC_A 0x111
#define MAC_B 0x222

START_TEST(test_packet_story_flood_learn_unicast)
{
    struct eth_addr mac_a = fixture_mac(MAC_A);
    struct eth_addr mac_b = fixture_mac(MAC_B);
    uint8_t frame[256];
    size_t len;

    /* Step 1-2: A broadcasts an ARP request; host 0 learns A on its port
     * and floods to the other local port of the VNI and to the group. */
    len = fixture_arp_request(frame, &mac_a, 0x0a000101, 0x0a000202);
    inject(0, PORT_VM1, frame, len);
    struct mac_dest vm1 = port_dest(PORT_VM1);

    assert_learned(0, VNI_A, MAC_A, &vm1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_OTHER_VNI), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    assert_outer_dst(sent_on(&hosts[0], PORT_VTEP), &group);

    /* Step 3: every VTEP of the group decapsulates, learns A against host
     * 0's address, and floods locally only (never back to the underlay). */
    ck_assert_uint_eq(deliver_underlay(0), 2);
    for (int h = 1; h < MAX_HOSTS; h++) {
        struct mac_dest want = remote_dest(0);

        assert_learned(h, VNI_A, MAC_A, &want);
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_VM1), 1);
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_VM2), 1);
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_VTEP), 0);
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_OTHER_VNI), 0);
        ck_assert_mem_eq(packet_data(sent_on(&hosts[h], PORT_VM1)), frame,
                         len);
    }
    for (int h = 0; h < MAX_HOSTS; h++) {
        clear_sent(&hosts[h]);
    }

    /* Step 4: B answers by unicast; host 1 knows A is behind host 0. */
    len = fixture_udp4_frame(frame, &mac_a, &mac_b, 0x0a000202, 0x0a000101,
                             1000, 2000, 30);
    inject(1, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[1].n_sent, 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VTEP), 1);
    assert_outer_dst(sent_on(&hosts[1], PORT_VTEP), &hosts[0].ip);

    /* Step 5: host 0 decapsulates, learns B against host 1, and delivers to
     * A's port alone. */
    ck_assert_uint_eq(deliver_underlay(1), 1);
    struct mac_dest host1 = remote_dest(1);

    assert_learned(0, VNI_A, MAC_B, &host1);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM1), 1);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_VM1)), frame, len);
    ck_assert_uint_eq(hosts[2].n_sent, 0);

    /* Step 6: from now on A to B is unicast to host 1 only. */
    clear_sent(&hosts[0]);
    clear_sent(&hosts[1]);
    len = fixture_udp4_frame(frame, &mac_b, &mac_a, 0x0a000101, 0x0a000202,
                             2000, 1000, 30);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    assert_outer_dst(sent_on(&hosts[0], PORT_VTEP), &hosts[1].ip);
    ck_assert_uint_eq(deliver_underlay(0), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 0);
}
END_TEST

/* The datapath remembers the port and the VNI it used last; a port or a
 * VNI that goes must not be found there afterwards. */
START_TEST(test_forgets_a_deleted_port_and_vni)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct dp_counters c;
    uint8_t frame[128];
    size_t len;

    len = fixture_udp4_frame(frame, &a, &b, 1, 2, 3, 4, 10);
    inject(0, PORT_VM2, frame, len);        /* Learns b on VM2. */
    len = fixture_udp4_frame(frame, &b, &a, 2, 1, 4, 3, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);

    /* VM2 goes and comes back: the new port gets the frame and counts
     * it. */
    clear_sent(&hosts[0]);
    ck_assert_int_eq(dp_port_del(hosts[0].dp, PORT_VM2), 0);
    ck_assert_int_eq(dp_port_add(hosts[0].dp, PORT_VM2, DP_PORT_LOCAL), 0);
    ck_assert_int_eq(dp_port_bind(hosts[0].dp, PORT_VM2, VNI_A), 0);
    len = fixture_udp4_frame(frame, &a, &b, 1, 2, 3, 4, 10);
    inject(0, PORT_VM2, frame, len);
    clear_sent(&hosts[0]);
    len = fixture_udp4_frame(frame, &b, &a, 2, 1, 4, 3, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert(dp_port_get_counters(hosts[0].dp, PORT_VM2, &c));
    ck_assert_uint_eq(c.tx_packets, 1);

    /* A frame from the underlay in VNI_A, then VNI_A goes: the next frame
     * in it is dropped as of an unknown VNI. */
    clear_sent(&hosts[0]);
    deliver_from_to(0, &hosts[1].ip, &hosts[0].ip, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert_int_eq(dp_vni_del(hosts[0].dp, VNI_A), 0);
    deliver_from_to(0, &hosts[1].ip, &hosts[0].ip, frame, len);
    ck_assert(dp_port_get_counters(hosts[0].dp, PORT_VTEP, &c));
    ck_assert_uint_eq(c.drops[DP_DROP_UNKNOWN_VNI], 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
}
END_TEST

START_TEST(test_local_switching_known_unicast)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[128];
    size_t len;

    len = fixture_udp4_frame(frame, &a, &b, 1, 2, 3, 4, 10);
    inject(0, PORT_VM2, frame, len);        /* Learns b on VM2. */
    clear_sent(&hosts[0]);

    len = fixture_udp4_frame(frame, &b, &a, 2, 1, 4, 3, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    ck_assert_uint_eq(hosts[0].sent[0].port_no, PORT_VM2);
    ck_assert_uint_eq(packet_size(hosts[0].sent[0].p), len);

    struct dp_counters c;

    ck_assert(dp_port_get_counters(hosts[0].dp, PORT_VM2, &c));
    ck_assert_uint_eq(c.tx_packets, 1);
    ck_assert_uint_eq(c.tx_bytes, len);
    ck_assert_uint_eq(c.rx_packets, 1);
    ck_assert(dp_vni_get_counters(hosts[0].dp, VNI_A, &c));
    ck_assert_uint_eq(c.rx_packets, 2);
}
END_TEST

START_TEST(test_vni_isolation)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[128];
    size_t len;

    /* b is known in VNI_B only; a frame to b from VNI_A must not reach it,
     * and a broadcast in VNI_B reaches nothing of VNI_A. */
    len = fixture_udp4_frame(frame, &a, &b, 1, 2, 3, 4, 10);
    inject(0, PORT_OTHER_VNI, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM1), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    clear_sent(&hosts[0]);

    len = fixture_udp4_frame(frame, &b, &a, 2, 1, 4, 3, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_OTHER_VNI), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);

    /* The VNI travels in the VXLAN header: host 1 delivers VNI_A traffic
     * to VNI_A ports only. */
    ck_assert_uint_eq(deliver_underlay(0), 2);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_OTHER_VNI), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
}
END_TEST

START_TEST(test_never_back_out_of_input_port)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[128];
    size_t len;

    /* b is learned on VM1, then a frame from VM1 to b arrives on VM1. */
    len = fixture_udp4_frame(frame, &a, &b, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    clear_sent(&hosts[0]);
    len = fixture_udp4_frame(frame, &b, &a, 2, 1, 4, 3, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_SAME_PORT), 1);

    /* A broadcast is flooded everywhere in the VNI but where it came in. */
    len = fixture_arp_request(frame, &a, 1, 2);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM1), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
}
END_TEST

START_TEST(test_split_horizon)
{
    struct eth_addr a = fixture_mac(1), c = fixture_mac(3);
    uint8_t frame[128];
    size_t len;

    /* Host 1 learns c behind host 2. */
    len = fixture_arp_request(frame, &c, 3, 1);
    inject(2, PORT_VM1, frame, len);
    deliver_underlay(2);
    clear_sent(&hosts[1]);
    clear_sent(&hosts[0]);

    /* A frame from host 0 to c reaches host 1 (say, flooded by host 0
     * before it learned c): host 1 must not send it on to host 2. */
    clear_sent(&hosts[0]);
    len = fixture_udp4_frame(frame, &c, &a, 1, 3, 5, 6, 10);
    inject(0, PORT_VM1, frame, len);
    /* Host 0 learned c as well, so it unicasts to host 2; replay that
     * frame towards host 1 as the group would have carried it. */
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);

    struct packet *p = hosts[0].sent[0].p;
    size_t outer = ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
    struct packet *payload = fixture_packet(pool, packet_data(p) + outer,
                                            packet_size(p) - outer);
    struct packet_batch batch;

    payload->md.tun_src = hosts[0].ip;
    packet_batch_init(&batch);
    packet_batch_add(&batch, payload);
    dp_receive(hosts[1].dp, PORT_VTEP, &batch, now);
    ck_assert_uint_eq(hosts[1].n_sent, 0);
    ck_assert_uint_eq(port_drops(1, PORT_VTEP, DP_DROP_SPLIT_HORIZON), 1);

    /* An unknown destination from the underlay floods to local ports only. */
    struct eth_addr nobody = fixture_mac(0x999);

    clear_sent(&hosts[0]);
    len = fixture_udp4_frame(frame, &nobody, &a, 1, 9, 5, 6, 10);
    inject(0, PORT_VM1, frame, len);
    deliver_underlay(0);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VTEP), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
}
END_TEST

START_TEST(test_head_end_replication)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);

    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 2);

    /* One copy to each peer, unicast, each a complete VXLAN frame. */
    bool seen[MAX_HOSTS] = { false };

    for (size_t i = 0; i < hosts[0].n_sent; i++) {
        if (hosts[0].sent[i].port_no != PORT_VTEP) {
            continue;
        }

        struct in6_addr dst = outer_dst(hosts[0].sent[i].p);

        for (int h = 1; h < MAX_HOSTS; h++) {
            if (!memcmp(&dst, &hosts[h].ip, sizeof dst)) {
                ck_assert(!seen[h]);
                seen[h] = true;
            }
        }
        ck_assert_uint_eq(packet_size(hosts[0].sent[i].p),
                          len + VXLAN_IPV4_OVERHEAD);
    }
    ck_assert(seen[1] && seen[2]);
    ck_assert_uint_eq(deliver_underlay(0), 2);
    for (int h = 1; h < MAX_HOSTS; h++) {
        struct mac_dest want = remote_dest(0);

        assert_learned(h, VNI_A, 1, &want);
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_VTEP), 0);
    }
}
END_TEST

/* With learning limited to the list, a frame from a VTEP off the list is
 * delivered but teaches nothing, however many source MACs it claims, and
 * a listed VTEP's entry stays where it is. */
START_TEST(test_learns_only_from_listed_vteps)
{
    struct in6_addr peers[] = { hosts[0].ip, hosts[2].ip };
    struct dp_vni_config vc = { .flood_list = peers, .n_flood = 2,
                                .learn_listed_only = true };
    struct in6_addr forged = ip4(0xac1f0909);
    struct mac_dest from0 = remote_dest(0);
    struct mac_table_stats st;
    uint8_t frame[128];
    size_t len;

    ck_assert_int_eq(dp_vni_set(hosts[1].dp, VNI_A, &vc), 0);
    for (uint16_t id = 1; id <= 3; id++) {
        struct eth_addr mac = fixture_mac(id);

        len = fixture_arp_request(frame, &mac, 1, 2);
        deliver_from(1, id == 1 ? &hosts[0].ip : &forged, frame, len);
    }
    /* And the forged VTEP claims the listed one's MAC. */
    struct eth_addr mac1 = fixture_mac(1);

    len = fixture_arp_request(frame, &mac1, 1, 2);
    deliver_from(1, &forged, frame, len);

    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 4);
    assert_learned(1, VNI_A, 1, &from0);
    mac_table_get_stats(dp_mac_table(hosts[1].dp), &st);
    ck_assert_uint_eq(st.n_dynamic, 1);
    ck_assert_uint_eq(st.learn_refused, 3);
    ck_assert_uint_eq(st.moves, 0);
}
END_TEST

START_TEST(test_mtu_drops_oversized_frames)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_dest there = remote_dest(1);
    uint8_t frame[2048];
    size_t len;

    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &there), 0);

    /* An inner IPv4 packet of 1450 bytes (frame 1464) makes a 1500-byte
     * outer packet: it fits.  One byte more does not. */
    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 1450 - 28);
    ck_assert_uint_eq(len, 1464);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[0], PORT_VTEP)),
                      1464 + 50);

    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 1451 - 28);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_TOO_BIG), 1);

    /* Jumbo underlay: the same frame passes. */
    struct dp_tunnel_config tc = {
        .encap = { .local = hosts[0].ip, .dst_port = htons(VXLAN_DST_PORT),
                   .src_port_min = 1, .src_port_max = 65535 },
        .mtu = 9000,
    };

    ck_assert_int_eq(dp_tunnel_configure(hosts[0].dp, PORT_VTEP, &tc), 0);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 2);
}
END_TEST

/* Super frames: a TAP with offloads hands over TCP segments of up to 64 KB
 * (md.gso_size set); every output but a port that takes them whole gets
 * wire-sized segments. */

#define TCP_ACK 0x010

/* What a TAP with offloads takes. */
#define TSO_OFFLOADS (PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO4 \
                      | PORT_OFFLOAD_TSO6)

/* Headers of fixture_tcp_frame() over IPv4: Ethernet, IPv4, TCP with 12
 * bytes of options. */
#define TCP_FRAME_HDR (ETH_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN + 12)

static void
inject_super(int host, uint32_t port_no, const uint8_t *frame, size_t len,
             uint16_t mss)
{
    struct packet_batch batch;
    struct packet *p = fixture_packet(pool, frame, len);

    p->md.gso_size = mss;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    dp_receive(hosts[host].dp, port_no, &batch, now);
}

/* Returns the TCP sequence number of the inner frame of 'p', which starts
 * 'ofs' bytes in. */
static uint32_t
inner_seq(const struct packet *p, size_t ofs)
{
    const struct tcp_header *tcp
        = packet_at(p, ofs + ETH_HEADER_LEN + IPV4_HEADER_LEN,
                    TCP_HEADER_LEN);

    ck_assert_ptr_nonnull(tcp);
    return ntohl(be32_16_get(&tcp->tcp_seq));
}

/* Asserts that host 'h' sent on 'port_no', in order, 'n' segments of 'mss'
 * payload bytes (the last of each super frame what is left of 'payload'),
 * each 'outer' bytes of outer headers in: TCP segments from sequence
 * number 0, or if 'udp' UDP datagrams with UDP lengths to match. */
static void
expect_cut_on(const struct host *h, uint32_t port_no, size_t n, size_t mss,
              size_t payload, size_t outer, bool udp)
{
    size_t hdr = udp ? ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN
                     : TCP_FRAME_HDR;
    size_t k = 0;

    ck_assert_uint_eq(n_sent_on(h, port_no), n);
    for (size_t i = 0; i < h->n_sent; i++) {
        const struct packet *p = h->sent[i].p;

        if (h->sent[i].port_no == port_no) {
            size_t j = k % ((payload + mss - 1) / mss);
            size_t len = MIN(mss, payload - j * mss);
            const struct udp_header *udp_hdr
                = packet_at(p, outer + ETH_HEADER_LEN + IPV4_HEADER_LEN,
                            UDP_HEADER_LEN);

            ck_assert_uint_eq(packet_size(p), outer + hdr + len);
            ck_assert_uint_eq(p->md.gso_size, 0);
            if (udp) {
                ck_assert_uint_eq(ntohs(udp_hdr->udp_len),
                                  UDP_HEADER_LEN + len);
            } else {
                ck_assert_uint_eq(inner_seq(p, outer), j * mss);
            }
            k++;
        }
    }
}

static void
expect_segments(const struct host *h, uint32_t port_no, size_t n,
                size_t mss, size_t payload, size_t outer)
{
    expect_cut_on(h, port_no, n, mss, payload, outer, false);
}

START_TEST(test_cuts_super_frames_for_outputs_that_need_segments)
{
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    static uint8_t frame[4096];
    size_t len = fixture_tcp_frame(frame, &t);
    struct dp_counters c;

    /* Unknown destination: the other VM and the group. */
    inject_super(0, PORT_VM1, frame, len, 1000);
    expect_segments(&hosts[0], PORT_VM2, 3, 1000, 3000, 0);
    expect_segments(&hosts[0], PORT_VTEP, 3, 1000, 3000, VXLAN_IPV4_OVERHEAD);

    /* Counters count segments, as they would wire frames. */
    ck_assert(dp_port_get_counters(hosts[0].dp, PORT_VTEP, &c));
    ck_assert_uint_eq(c.tx_packets, 3);

    /* The receiving VTEP sees three ordinary frames. */
    ck_assert_uint_eq(deliver_underlay(0), 6);
    expect_segments(&hosts[1], PORT_VM1, 3, 1000, 3000, 0);
}
END_TEST

/* Says that PORT_VM2 of host 0 takes 'offloads', then floods from PORT_VM1
 * a TCP super frame over IPv4 with 3000 bytes of payload to cut at 1000,
 * built in 'frame'.  Returns its length. */
static size_t
flood_super(uint32_t offloads, uint8_t *frame)
{
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    size_t len = fixture_tcp_frame(frame, &t);

    ck_assert_int_eq(dp_port_set_offloads(hosts[0].dp, PORT_VM2, offloads),
                     0);
    inject_super(0, PORT_VM1, frame, len, 1000);
    return len;
}

START_TEST(test_hands_super_frames_whole_to_a_port_that_takes_them)
{
    static uint8_t frame[4096];
    size_t len = flood_super(TSO_OFFLOADS, frame);

    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[0], PORT_VM2)), len);
    ck_assert_uint_eq(sent_on(&hosts[0], PORT_VM2)->md.gso_size, 1000);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_VM2)), frame, len);
    expect_segments(&hosts[0], PORT_VTEP, 3, 1000, 3000, VXLAN_IPV4_OVERHEAD);

    ck_assert_int_eq(dp_port_set_offloads(hosts[0].dp, PORT_VTEP,
                                          TSO_OFFLOADS), EINVAL);
    ck_assert_int_eq(dp_port_set_offloads(hosts[0].dp, 99, TSO_OFFLOADS),
                     ENOENT);
}
END_TEST

/* A device may take TCP super frames of one IP version only: those of the
 * other are cut for it. */
START_TEST(test_cuts_super_frames_of_a_version_the_port_has_no_tso_for)
{
    static uint8_t frame[4096];

    flood_super(PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO6, frame);
    expect_segments(&hosts[0], PORT_VM2, 3, 1000, 3000, 0);

    clear_sent(&hosts[0]);
    flood_super(PORT_OFFLOAD_TSO4, frame);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert_uint_eq(sent_on(&hosts[0], PORT_VM2)->md.gso_size, 1000);
}
END_TEST

/* The MTU bounds each segment, not the super frame: 1398 bytes of payload
 * make 1464-byte inner frames, the most a 1500-byte underlay carries. */
START_TEST(test_mtu_bounds_each_segment)
{
    struct fixture_tcp t = { .payload_len = 20000, .flags = TCP_ACK };
    static uint8_t frame[32768];
    size_t len = fixture_tcp_frame(frame, &t);

    inject_super(0, PORT_VM1, frame, len, 1398);
    expect_segments(&hosts[0], PORT_VTEP, 15, 1398, 20000,
                    VXLAN_IPV4_OVERHEAD);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_TOO_BIG), 0);

    clear_sent(&hosts[0]);
    inject_super(0, PORT_VM1, frame, len, 1399);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_TOO_BIG), 1);
    expect_segments(&hosts[0], PORT_VM2, 15, 1399, 20000, 0);
}
END_TEST

/* UDP super frames (a sender's UDP_SEGMENT): passed whole only to a port
 * with USO, cut into datagrams for every other output. */

/* Injects on PORT_VM1 of host 0 a UDP super frame over IPv4 of 'payload'
 * bytes to cut at 'seg', with its checksum left to finish, built in
 * 'frame'.  Returns its length. */
static size_t
inject_udp_super(uint8_t *frame, size_t payload, uint16_t seg)
{
    struct fixture_tcp t = { .payload_len = payload, .partial = true,
                             .udp = true };
    size_t len = fixture_tcp_frame(frame, &t);
    struct packet_batch batch;
    struct packet *p = fixture_packet(pool, frame, len);

    p->md.gso_size = seg;
    p->md.gso_udp = true;
    p->md.csum_partial = true;
    p->md.csum_start = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    p->md.csum_offset = 6;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    dp_receive(hosts[0].dp, PORT_VM1, &batch, now);
    return len;
}

static void
expect_datagrams(const struct host *h, uint32_t port_no, size_t n,
                 size_t seg, size_t payload, size_t outer)
{
    expect_cut_on(h, port_no, n, seg, payload, outer, true);
}

START_TEST(test_cuts_udp_super_frames_for_ports_without_uso)
{
    static uint8_t frame[32768];

    /* A TAP with TSO but no USO, and the underlay, whose 1500-byte MTU
     * bounds each datagram (1400 bytes of payload), not the super frame
     * of 20000. */
    ck_assert_int_eq(dp_port_set_offloads(hosts[0].dp, PORT_VM2,
                                          TSO_OFFLOADS), 0);
    inject_udp_super(frame, 20000, 1400);
    expect_datagrams(&hosts[0], PORT_VM2, 15, 1400, 20000, 0);
    expect_datagrams(&hosts[0], PORT_VTEP, 15, 1400, 20000,
                     VXLAN_IPV4_OVERHEAD);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_TOO_BIG), 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_BAD_GSO), 0);

    /* The receiving VTEP sees 15 ordinary datagrams. */
    ck_assert_uint_eq(deliver_underlay(0), 30);
    expect_datagrams(&hosts[1], PORT_VM1, 15, 1400, 20000, 0);
}
END_TEST

START_TEST(test_hands_udp_super_frames_whole_to_a_port_with_uso)
{
    static uint8_t frame[8192];
    size_t len;

    ck_assert_int_eq(dp_port_set_offloads(hosts[0].dp, PORT_VM2,
                                          TSO_OFFLOADS | PORT_OFFLOAD_USO),
                     0);

    /* Two back to back stay two: TCP's GRO joins no UDP. */
    len = inject_udp_super(frame, 3000, 1000);
    inject_udp_super(frame, 3000, 1000);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 2);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[0], PORT_VM2)), len);
    ck_assert_uint_eq(sent_on(&hosts[0], PORT_VM2)->md.gso_size, 1000);
    ck_assert(sent_on(&hosts[0], PORT_VM2)->md.gso_udp);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_VM2)), frame, len);
    expect_datagrams(&hosts[0], PORT_VTEP, 6, 1000, 3000,
                     VXLAN_IPV4_OVERHEAD);
}
END_TEST

/* Plays the underlay as the VXLAN port does with a train: every frame
 * host 'from' sent to the VTEP reaches host 'to' in one batch. */
static void
deliver_underlay_batch(int from, int to)
{
    struct host *src = &hosts[from];
    struct packet_batch batch;

    packet_batch_init(&batch);
    for (size_t i = 0; i < src->n_sent; i++) {
        if (src->sent[i].port_no == PORT_VTEP) {
            packet_batch_add(&batch, underlay_copy(src, src->sent[i].p));
        }
    }
    dp_receive(hosts[to].dp, PORT_VTEP, &batch, now);
}

/* The other way: segments from the underlay for a port that takes super
 * frames are joined again, one frame per run; other ports get each. */
START_TEST(test_joins_segments_for_a_port_that_takes_super_frames)
{
    struct fixture_tcp t = { .payload_len = 3000, .flags = TCP_ACK };
    static uint8_t frame[4096];
    size_t len = fixture_tcp_frame(frame, &t);
    const struct packet *joined;
    struct dp_counters c;

    ck_assert_int_eq(dp_port_set_offloads(hosts[1].dp, PORT_VM1,
                                          TSO_OFFLOADS), 0);
    inject_super(0, PORT_VM1, frame, len, 1000);
    deliver_underlay_batch(0, 1);

    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
    joined = sent_on(&hosts[1], PORT_VM1);
    ck_assert_uint_eq(packet_size(joined), len);
    ck_assert_uint_eq(joined->md.gso_size, 1000);
    ck_assert(joined->md.csum_partial);
    ck_assert_mem_eq(packet_data(joined) + TCP_FRAME_HDR,
                     frame + TCP_FRAME_HDR, len - TCP_FRAME_HDR);
    expect_segments(&hosts[1], PORT_VM2, 3, 1000, 3000, 0);

    /* Counted as the three frames that came. */
    ck_assert(dp_port_get_counters(hosts[1].dp, PORT_VM1, &c));
    ck_assert_uint_eq(c.tx_packets, 3);
}
END_TEST

START_TEST(test_counts_super_frames_it_cannot_cut)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    static uint8_t frame[4096];
    size_t len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 3000);

    inject_super(0, PORT_VM1, frame, len, 1000);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_BAD_GSO), 2);
}
END_TEST

/* Sends 't' to host 1's VTEP in one datagram from a kernel vxlan device on
 * host 1 itself, which sends from a loopback address. */
static void
deliver_inner(const struct fixture_tcp *t)
{
    static uint8_t frame[8192];
    struct in6_addr self = ip4(0x7f000001);

    deliver_from(1, &self, frame, fixture_tcp_frame(frame, t));
}

/* A kernel vxlan device on the same host passes its TSO frames whole, and
 * they arrive without a segment size: the datapath gives them the largest
 * that the underlay would have carried. */
START_TEST(test_marks_oversized_tcp_from_the_underlay_as_super_frames)
{
    struct fixture_tcp t = { .payload_len = 5000, .flags = TCP_ACK,
                             .partial = true };

    ck_assert_int_eq(dp_port_set_offloads(hosts[1].dp, PORT_VM1,
                                          TSO_OFFLOADS), 0);
    deliver_inner(&t);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
    ck_assert_uint_eq(sent_on(&hosts[1], PORT_VM1)->md.gso_size,
                      1500 - 36 - TCP_FRAME_HDR);
    expect_segments(&hosts[1], PORT_VM2, 4, 1500 - 36 - TCP_FRAME_HDR, 5000,
                    0);
}
END_TEST

/* With a finished checksum the long frame is a peer's with a larger MTU,
 * and goes on as it came: cutting it would vouch for data nobody
 * checked. */
START_TEST(test_leaves_oversized_frames_with_finished_checksums_whole)
{
    struct fixture_tcp t = { .payload_len = 5000, .flags = TCP_ACK };

    deliver_inner(&t);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[1], PORT_VM2)),
                      TCP_FRAME_HDR + 5000);
    ck_assert_uint_eq(sent_on(&hosts[1], PORT_VM2)->md.gso_size, 0);
}
END_TEST

/* A datagram longer than the underlay carries came from this host (no
 * wire carries one), whatever its source says, unless the kernel put it
 * together from fragments, which did cross a wire: then it goes on as it
 * came. */
START_TEST(test_takes_long_datagrams_for_this_hosts_unless_fragmented)
{
    struct fixture_tcp t = { .payload_len = 5000, .flags = TCP_ACK,
                             .partial = true };
    static uint8_t frame[8192];
    size_t len = fixture_tcp_frame(frame, &t);
    const struct packet *out;

    ck_assert_int_eq(dp_port_set_offloads(hosts[1].dp, PORT_VM2,
                                          TSO_OFFLOADS), 0);
    deliver_from(1, &hosts[0].ip, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    out = sent_on(&hosts[1], PORT_VM2);
    ck_assert(out->md.csum_partial);
    ck_assert_uint_eq(out->md.gso_size, 1500 - 36 - TCP_FRAME_HDR);
    clear_sent(&hosts[1]);

    next_fragmented = true;
    deliver_from(1, &hosts[0].ip, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    out = sent_on(&hosts[1], PORT_VM2);
    ck_assert(!out->md.csum_partial);
    ck_assert_uint_eq(out->md.gso_size, 0);
    ck_assert_mem_eq(packet_data(out), frame, len);
}
END_TEST

/* The checksum field of a frame from a remote VTEP is the sender's choice:
 * one that equals the pseudo-header sum is not taken for a checksum left to
 * offload, which would give data damaged on the way a fresh checksum.  The
 * frame goes on as it came, for the VM's stack to refuse.  From this host's
 * own kernel the same frame is finished. */
START_TEST(test_finishes_checksums_left_to_offload_only_from_this_host)
{
    struct fixture_tcp t = { .payload_len = 100, .flags = TCP_ACK,
                             .partial = true };
    struct fixture_tcp done = t;
    static uint8_t partial[512], finished[512];
    size_t len = fixture_tcp_frame(partial, &t);
    struct in6_addr self = ip4(0x7f000001);
    const struct packet *out;

    done.partial = false;
    ck_assert_uint_eq(fixture_tcp_frame(finished, &done), len);
    ck_assert_mem_ne(partial, finished, len);

    deliver_from(1, &hosts[0].ip, partial, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    out = sent_on(&hosts[1], PORT_VM2);
    ck_assert(!out->md.csum_partial);
    ck_assert_uint_eq(packet_size(out), len);
    ck_assert_mem_eq(packet_data(out), partial, len);
    clear_sent(&hosts[1]);

    /* The port that sends it finishes it. */
    deliver_from(1, &self, partial, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    out = sent_on(&hosts[1], PORT_VM2);
    ck_assert(out->md.csum_partial);
    csum_complete_partial((struct packet *) out);
    ck_assert_uint_eq(packet_size(out), len);
    ck_assert_mem_eq(packet_data(out), finished, len);
    clear_sent(&hosts[1]);

    /* From another of this host's IPv4 addresses to itself: IPv4 drops
     * that from outside, so it is this host's. */
    struct in6_addr other4 = ip4(0xac1f0909);

    deliver_from_to(1, &other4, &other4, partial, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    ck_assert(sent_on(&hosts[1], PORT_VM2)->md.csum_partial);
    clear_sent(&hosts[1]);

    /* IPv6 takes a datagram from outside whose source is the address it
     * is sent to: it goes on as it came. */
    struct in6_addr other6;

    ck_assert(inet_parse("fd00:99::9", &other6));
    deliver_from_to(1, &other6, &other6, partial, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    out = sent_on(&hosts[1], PORT_VM2);
    ck_assert(!out->md.csum_partial);
    ck_assert_mem_eq(packet_data(out), partial, len);
}
END_TEST

/* No VTEP sends from these: the frames are dropped, counted, and nothing
 * is learned from them. */
START_TEST(test_drops_frames_from_outer_sources_no_vtep_has)
{
    const char *sources[] = {
        "0.0.0.0", "::", "255.255.255.255", "239.1.1.1", "ff02::1",
    };
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct mac_table_stats st;

    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        struct in6_addr src;

        ck_assert(inet_parse(sources[i], &src));
        deliver_from(1, &src, frame, len);
        ck_assert_uint_eq(port_drops(1, PORT_VTEP, DP_DROP_BAD_REMOTE),
                          i + 1);
    }
    ck_assert_uint_eq(hosts[1].n_sent, 0);
    mac_table_get_stats(dp_mac_table(hosts[1].dp), &st);
    ck_assert_uint_eq(st.n_dynamic, 0);
    ck_assert_str_eq(dp_drop_reason_name(DP_DROP_BAD_REMOTE), "bad_remote");
}
END_TEST

/* Reconfigures host 1's VNI_A to the multicast group with 'prefix' as the
 * underlay prefix it learns from. */
static void
set_learn_prefix(const char *prefix)
{
    struct dp_vni_config vc = { .group = group };

    ck_assert(inet_prefix_parse(prefix, &vc.learn_prefix));
    ck_assert_int_eq(dp_vni_set(hosts[1].dp, VNI_A, &vc), 0);
}

/* A frame from outside the prefix is delivered but not learned; what is
 * refused is counted.  Narrowing the prefix forgets what it now refuses. */
START_TEST(test_learns_only_within_the_underlay_prefix)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct mac_dest from0 = remote_dest(0);
    struct mac_table_stats st;
    struct eth_addr mac1 = fixture_mac(1);

    set_learn_prefix("10.9.0.0/16");
    deliver_from(1, &hosts[0].ip, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM1), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 1);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[1].dp), VNI_A,
                                        &mac1));
    mac_table_get_stats(dp_mac_table(hosts[1].dp), &st);
    ck_assert_uint_eq(st.learn_refused, 1);

    set_learn_prefix("172.31.0.0/16");
    deliver_from(1, &hosts[0].ip, frame, len);
    assert_learned(1, VNI_A, 1, &from0);

    set_learn_prefix("172.31.0.2/31");
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[1].dp), VNI_A,
                                        &mac1));
}
END_TEST

START_TEST(test_decap_drops_counted_by_reason)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t inner[128];
    size_t inner_len = fixture_arp_request(inner, &a, 1, 2);
    uint8_t payload[256];
    struct vxlan_header vx;
    struct packet_batch batch;

    struct {
        uint32_t flags;
        uint32_t vni;
        size_t len;
        enum dp_drop_reason reason;
    } cases[] = {
        { 0, VNI_A, VXLAN_HEADER_LEN + inner_len, DP_DROP_NO_I_FLAG },
        { VXLAN_FLAG_I, 7777, VXLAN_HEADER_LEN + inner_len,
          DP_DROP_UNKNOWN_VNI },
        { VXLAN_FLAG_I, VNI_A, 4, DP_DROP_BAD_OUTER },
        { VXLAN_FLAG_I, VNI_A, VXLAN_HEADER_LEN + 13, DP_DROP_BAD_INNER },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        be32_16_put(&vx.vx_flags, htonl(cases[i].flags));
        be32_16_put(&vx.vx_vni, htonl(cases[i].vni << 8));
        memcpy(payload, &vx, sizeof vx);
        memcpy(payload + sizeof vx, inner, inner_len);

        /* From a real remote: the checks on the outer source come before
         * the tables, where an unknown VNI is normal's to refuse. */
        struct packet *p = fixture_packet(pool, payload, cases[i].len);

        p->md.tun_src = hosts[1].ip;
        packet_batch_init(&batch);
        packet_batch_add(&batch, p);
        dp_receive(hosts[0].dp, PORT_VTEP, &batch, now);
        ck_assert_uint_eq(port_drops(0, PORT_VTEP, cases[i].reason), 1);
    }
    ck_assert_uint_eq(hosts[0].n_sent, 0);

    /* Reserved bits set beside the I flag are ignored (RFC 7348). */
    be32_16_put(&vx.vx_flags, htonl(VXLAN_FLAG_I | 0xf70000ff));
    be32_16_put(&vx.vx_vni, htonl(VNI_A << 8 | 0xff));
    memcpy(payload, &vx, sizeof vx);

    struct packet *p = fixture_packet(pool, payload,
                                      VXLAN_HEADER_LEN + inner_len);

    p->md.tun_src = hosts[1].ip;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    dp_receive(hosts[0].dp, PORT_VTEP, &batch, now);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM1), 1);
}
END_TEST

START_TEST(test_local_drops_counted_by_reason)
{
    uint8_t frame[64] = { 0 };

    inject(0, PORT_VM1, frame, ETH_HEADER_LEN - 1);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_RUNT), 1);

    ck_assert_int_eq(dp_port_bind(hosts[0].dp, PORT_VM2, 0), 0);
    inject(0, PORT_VM2, frame, sizeof frame);
    ck_assert_uint_eq(port_drops(0, PORT_VM2, DP_DROP_NO_VNI), 1);

    /* No tunnel port: a frame for a remote VTEP has nowhere to go. */
    struct eth_addr b = fixture_mac(2);
    struct mac_dest there = remote_dest(1);

    ck_assert_int_eq(dp_port_del(hosts[0].dp, PORT_VTEP), 0);
    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &there), 0);
    memcpy(frame, &b, sizeof b);
    frame[6] = 0x02;
    frame[11] = 0x01;
    inject(0, PORT_VM1, frame, sizeof frame);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_TUNNEL), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 0);

    /* Frames on a port that does not exist are freed, not leaked. */
    inject(0, 99, frame, sizeof frame);
}
END_TEST

START_TEST(test_static_entry_to_port_outside_vni)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_dest wrong = port_dest(PORT_OTHER_VNI);
    uint8_t frame[128];
    size_t len;

    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &wrong), 0);
    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_BAD_DEST), 1);
}
END_TEST

START_TEST(test_unbind_forgets_port_entries)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);

    inject(0, PORT_VM1, frame, len);
    ck_assert_ptr_nonnull(mac_table_lookup(dp_mac_table(hosts[0].dp), VNI_A,
                                           &a));
    ck_assert_int_eq(dp_port_bind(hosts[0].dp, PORT_VM1, VNI_B), 0);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[0].dp), VNI_A,
                                        &a));

    /* Deleting a VNI unbinds its ports. */
    ck_assert_int_eq(dp_vni_del(hosts[0].dp, VNI_B), 0);
    clear_sent(&hosts[0]);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_VNI), 1);
    ck_assert_int_eq(dp_vni_del(hosts[0].dp, VNI_B), ENOENT);
}
END_TEST

START_TEST(test_config_errors)
{
    struct dp *dp = hosts[0].dp;
    struct in6_addr unicast = ip4(0x0a000001);
    struct dp_vni_config vc = { .group = unicast };

    ck_assert_int_eq(dp_vni_set(dp, 0, &(struct dp_vni_config) { 0 }),
                     EINVAL);
    ck_assert_int_eq(dp_vni_set(dp, VXLAN_VNI_MAX + 1,
                                &(struct dp_vni_config) { 0 }), EINVAL);
    ck_assert_int_eq(dp_vni_set(dp, 42, &vc), EINVAL);

    vc = (struct dp_vni_config) { .group = group, .flood_list = &unicast,
                                  .n_flood = 1 };
    ck_assert_int_eq(dp_vni_set(dp, 42, &vc), EINVAL);
    vc = (struct dp_vni_config) { .flood_list = &group, .n_flood = 1 };
    ck_assert_int_eq(dp_vni_set(dp, 42, &vc), EINVAL);
    vc = (struct dp_vni_config) { .learn_prefix = { .len = 129 } };
    ck_assert_int_eq(dp_vni_set(dp, 42, &vc), EINVAL);

    ck_assert_int_eq(dp_port_add(dp, PORT_VM1, DP_PORT_LOCAL), EEXIST);
    ck_assert_int_eq(dp_port_add(dp, 0, DP_PORT_LOCAL), EINVAL);
    ck_assert_int_eq(dp_port_add(dp, 50, DP_PORT_TUNNEL), EEXIST);
    ck_assert_int_eq(dp_port_bind(dp, 77, VNI_A), ENOENT);
    ck_assert_int_eq(dp_port_bind(dp, PORT_VM1, 42), ENOENT);
    ck_assert_int_eq(dp_port_bind(dp, PORT_VTEP, VNI_A), EINVAL);
    ck_assert_int_eq(dp_port_del(dp, 77), ENOENT);

    struct dp_tunnel_config tc = { .encap = { .src_port_min = 10,
                                              .src_port_max = 9 },
                                   .mtu = 1500 };

    ck_assert_int_eq(dp_tunnel_configure(dp, PORT_VTEP, &tc), EINVAL);
    ck_assert_int_eq(dp_tunnel_configure(dp, PORT_VM1, &tc), ENOENT);

    /* A table of source ports longer than its array. */
    tc.encap.src_port_max = 10;
    tc.encap.n_src_ports = VXLAN_SRC_PORTS_MAX + 1;
    ck_assert_int_eq(dp_tunnel_configure(dp, PORT_VTEP, &tc), EINVAL);
    tc.encap.n_src_ports = 0;
    ck_assert_int_eq(dp_tunnel_configure(dp, PORT_VTEP, &tc), 0);
}
END_TEST

START_TEST(test_ageing_forgets_remote_vtep)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);

    inject(0, PORT_VM1, frame, len);
    deliver_underlay(0);
    ck_assert_ptr_nonnull(mac_table_lookup(dp_mac_table(hosts[1].dp), VNI_A,
                                           &a));

    long long next = dp_run_ageing(hosts[1].dp, now);

    ck_assert_int_eq(next, now + MAC_TABLE_DEFAULT_AGEING * 1000LL);
    ck_assert_int_eq(dp_run_ageing(hosts[1].dp, next),
                     next + MAC_TABLE_DEFAULT_AGEING * 1000LL);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[1].dp), VNI_A,
                                        &a));
}
END_TEST

START_TEST(test_flood_counts_pool_exhaustion)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct packet *hog[1024];
    size_t n_hog = 0;

    /* Leave the pool just the buffer the frame arrives in: the copy for the
     * other local port fails and is counted, the original still goes to
     * the last target, the group. */
    n_hog = fixture_drain_pool(pool, hog, sizeof hog / sizeof hog[0]);
    packet_free(hog[--n_hog]);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_BUFFER), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    while (n_hog) {
        packet_free(hog[--n_hog]);
    }
}
END_TEST

START_TEST(test_drops_multicast_source)
{
    struct eth_addr bcast = {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
    struct eth_addr zero = {{ 0 }};
    struct eth_addr b = fixture_mac(2);
    uint8_t frame[128];
    size_t len;

    len = fixture_udp4_frame(frame, &b, &bcast, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    len = fixture_udp4_frame(frame, &b, &zero, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_BAD_SRC), 2);
    ck_assert_uint_eq(hosts[0].n_sent, 0);

    /* The MAC table's count of sources it did not learn agrees. */
    struct mac_table_stats st;

    mac_table_get_stats(dp_mac_table(hosts[0].dp), &st);
    ck_assert_uint_eq(st.multicast_ignored, 2);
}
END_TEST

START_TEST(test_drops_own_frames_from_underlay)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);

    /* Host 0's own flood, looped back by the group, must not teach it that
     * its VM lives behind itself. */
    inject(0, PORT_VM1, frame, len);

    struct packet *p = (struct packet *) sent_on(&hosts[0], PORT_VTEP);
    size_t outer = ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
    struct packet *back = fixture_packet(pool, packet_data(p) + outer,
                                         packet_size(p) - outer);
    struct packet_batch batch;
    struct mac_dest vm1 = port_dest(PORT_VM1);

    back->md.tun_src = hosts[0].ip;
    packet_batch_init(&batch);
    packet_batch_add(&batch, back);
    dp_receive(hosts[0].dp, PORT_VTEP, &batch, now);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_LOOPED), 1);
    assert_learned(0, VNI_A, 1, &vm1);
}
END_TEST

START_TEST(test_drops_remote_of_other_family)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_dest v6 = { .type = MAC_DEST_REMOTE };
    uint8_t frame[128];
    size_t len;

    ck_assert(inet_parse("fd00::2", &v6.remote));
    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &v6), 0);
    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FAMILY), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
}
END_TEST

START_TEST(test_unconfigured_tunnel_counts_no_tunnel)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_dest there = remote_dest(1);
    uint8_t frame[128];
    size_t len;

    /* A VXLAN port whose device never opened has no local address: frames
     * for it are "no tunnel", not mistaken for another family. */
    ck_assert_int_eq(dp_port_del(hosts[0].dp, PORT_VTEP), 0);
    ck_assert_int_eq(dp_port_add(hosts[0].dp, PORT_VTEP, DP_PORT_TUNNEL), 0);
    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &there), 0);
    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_TUNNEL), 1);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FAMILY), 0);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
}
END_TEST

/* What the tunnel's local address says (whether there is one, and its
 * family) follows every reconfiguration: IPv4, then IPv6, then none. */
START_TEST(test_tunnel_reconfigured_family)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_dest there = remote_dest(1);
    struct dp_tunnel_config tc = hosts[0].tunnel;
    uint8_t frame[128];
    size_t len;

    ck_assert_int_eq(mac_table_add_static(dp_mac_table(hosts[0].dp), VNI_A,
                                          &b, &there), 0);
    len = fixture_udp4_frame(frame, &b, &a, 1, 2, 3, 4, 10);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);

    ck_assert(inet_parse("fd00::1", &tc.encap.local));
    ck_assert_int_eq(dp_tunnel_configure(hosts[0].dp, PORT_VTEP, &tc), 0);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FAMILY), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 1);

    memset(&tc.encap.local, 0, sizeof tc.encap.local);
    ck_assert_int_eq(dp_tunnel_configure(hosts[0].dp, PORT_VTEP, &tc), 0);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_TUNNEL), 1);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FAMILY), 1);

    tc.encap.local = hosts[0].tunnel.encap.local;
    ck_assert_int_eq(dp_tunnel_configure(hosts[0].dp, PORT_VTEP, &tc), 0);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
}
END_TEST

/* The flow tables in front of normal. */

static struct flow_table *
flows(int host)
{
    return dp_flow_table(hosts[host].dp);
}

/* Adds a rule to host 'host''s tables; takes 'acts'. */
static struct flow_rule *
add_flow(int host, int table, uint16_t priority, const struct match *m,
         struct flow_actions *acts)
{
    struct flow_spec spec = fixture_spec(table, priority, m, acts);
    struct flow_rule *r;

    ck_assert_int_eq(flow_table_add(flows(host), &spec, now, NULL), 0);
    r = flow_table_find(flows(host), &spec);
    ck_assert_ptr_nonnull(r);
    free(acts);
    return r;
}

static struct flow_rule *
default_rule(int host)
{
    struct flow_spec spec = fixture_spec(0, 0, NULL, NULL);

    return flow_table_find(flows(host), &spec);
}

static struct match
in_port_match(uint32_t port_no)
{
    struct match m;

    match_init_catchall(&m);
    m.key.in_port = port_no;
    m.mask.in_port = UINT32_MAX;
    return m;
}

/* Builds a TCP/IPv4 frame from fixture_mac(1) to fixture_mac(2) to port
 * 'tp_dst' with 'payload_len' bytes of payload. */
static size_t
tcp_frame(uint8_t *buf, uint16_t tp_dst, size_t payload_len)
{
    struct fixture_tcp t = { .payload_len = payload_len };
    size_t len = fixture_tcp_frame(buf, &t);
    size_t ofs = ETH_HEADER_LEN + IPV4_HEADER_LEN + 2;

    buf[ofs] = (uint8_t) (tp_dst >> 8);
    buf[ofs + 1] = (uint8_t) tp_dst;
    return len;
}

/* Makes host 0 learn fixture_mac(2) on PORT_VM2. */
static void
learn_mac2_on_vm2(void)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t frame[128];
    size_t len = fixture_udp4_frame(frame, &a, &b, 2, 1, 4, 3, 10);

    inject(0, PORT_VM2, frame, len);
    clear_sent(&hosts[0]);
}

/* The VNI in the VXLAN header of 'p', which host sent to the underlay. */
static uint32_t
outer_vni(const struct packet *p)
{
    const uint8_t *vni = packet_at(p, ETH_HEADER_LEN + IPV4_HEADER_LEN
                                   + UDP_HEADER_LEN + 4, 3);

    ck_assert_ptr_nonnull(vni);
    return (uint32_t) vni[0] << 16 | (uint32_t) vni[1] << 8 | vni[2];
}

START_TEST(test_flows_default_rule_counts_frames)
{
    struct flow_rule *def = default_rule(0);
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 80, 10);

    ck_assert_ptr_nonnull(def);
    ck_assert_uint_eq(flow_table_count(flows(0)), 1);
    inject(0, PORT_VM1, frame, len);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(def->n_packets, 2);
    ck_assert_uint_eq(def->n_bytes, 2 * len);
}
END_TEST

START_TEST(test_flows_no_rules_drop_no_match)
{
    struct eth_addr src = fixture_mac(1);
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 80, 10);
    struct dp_counters c;

    flow_table_delete(flows(0), NULL, false, NULL, NULL, NULL);
    inject(0, PORT_VM1, frame, len);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_MATCH), 2);
    ck_assert(dp_vni_get_counters(hosts[0].dp, VNI_A, &c));
    ck_assert_uint_eq(c.drops[DP_DROP_NO_MATCH], 2);
    /* Normal never ran: nothing learned. */
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[0].dp), VNI_A,
                                        &src));
}
END_TEST

/* Injects 'n' frames in one batch. */
static void
inject_batch(int host, uint32_t port_no, uint8_t frames[][256],
             const size_t *lens, size_t n)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        packet_batch_add(&batch, fixture_packet(pool, frames[i], lens[i]));
    }
    dp_receive(hosts[host].dp, port_no, &batch, now);
}

START_TEST(test_flows_acl_drops_tcp_22_counted_per_batch)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_rule *acl = add_flow(0, 0, 100, &tcp22, FIXTURE_NO_ACTIONS);
    struct flow_rule *def = default_rule(0);
    uint8_t frames[5][256];
    size_t lens[5], bytes_22 = 0, bytes_80 = 0;

    learn_mac2_on_vm2();

    uint64_t def_packets = def->n_packets, def_bytes = def->n_bytes;

    for (size_t i = 0; i < 5; i++) {
        bool ssh = i % 2 == 0;

        lens[i] = tcp_frame(frames[i], ssh ? 22 : 80, 10 + i * 7);
        *(ssh ? &bytes_22 : &bytes_80) += lens[i];
    }
    now = 4321;
    inject_batch(0, PORT_VM1, frames, lens, 5);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 3);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 2);
    ck_assert_uint_eq(packet_size(hosts[0].sent[0].p), lens[1]);
    ck_assert_uint_eq(packet_size(hosts[0].sent[1].p), lens[3]);
    ck_assert_uint_eq(acl->n_packets, 3);
    ck_assert_uint_eq(acl->n_bytes, bytes_22);
    ck_assert_int_eq(acl->used_ms, 4321);
    ck_assert_uint_eq(def->n_packets - def_packets, 2);
    ck_assert_uint_eq(def->n_bytes - def_bytes, bytes_80);
}
END_TEST

START_TEST(test_flows_mirror_gives_a_copy)
{
    struct match from_vm1 = in_port_match(PORT_VM1);
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 80, 10);

    learn_mac2_on_vm2();
    add_flow(0, 0, 100, &from_vm1, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_NORMAL },
                 { .type = FLOW_ACTION_OUTPUT, .port = PORT_OTHER_VNI }));
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_VM2)), frame, len);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_OTHER_VNI)), frame,
                     len);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[0], PORT_OTHER_VNI)), len);
}
END_TEST

/* set_field:HOST->tun_dst,set_tunnel:VNI,output:vtep. */
static struct flow_actions *
tunnel_to(int host, uint32_t vni)
{
    return FIXTURE_ACTIONS(
        { .type = FLOW_ACTION_SET_TUN_DST, .addr = hosts[host].ip },
        { .type = FLOW_ACTION_SET_TUNNEL, .vni = vni },
        { .type = FLOW_ACTION_OUTPUT, .port = PORT_VTEP });
}

START_TEST(test_flows_tunnel_without_learning)
{
    struct match from_vm1 = in_port_match(PORT_VM1);
    struct eth_addr src = fixture_mac(1), dst = fixture_mac(0x333);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &dst, &src, 1, 2, 3, 4, 20);

    add_flow(0, 0, 100, &from_vm1, tunnel_to(2, VNI_B));
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    assert_outer_dst(sent_on(&hosts[0], PORT_VTEP), &hosts[2].ip);
    ck_assert_uint_eq(outer_vni(sent_on(&hosts[0], PORT_VTEP)), VNI_B);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[0].dp), VNI_A,
                                        &src));

    /* Host 2 takes it in VNI_B, which only PORT_OTHER_VNI is in. */
    ck_assert_uint_eq(deliver_underlay(0), 1);
    ck_assert_uint_eq(hosts[2].n_sent, 1);
    ck_assert_uint_eq(n_sent_on(&hosts[2], PORT_OTHER_VNI), 1);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[2], PORT_OTHER_VNI)),
                     frame, len);
    ck_assert_uint_eq(hosts[1].n_sent, 0);
}
END_TEST

/* A VTEP relays between peers only with in_port: output: to the port a
 * frame came in on is refused, as OpenFlow says. */
START_TEST(test_flows_in_port_relays_between_vteps)
{
    struct match from_vtep = in_port_match(PORT_VTEP);
    struct eth_addr src = fixture_mac(0x44), dst = fixture_mac(0x333);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &dst, &src, 1, 2, 3, 4, 20);

    add_flow(0, 0, 100, &from_vtep, tunnel_to(2, VNI_A));
    deliver_from(0, &hosts[1].ip, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_SAME_PORT), 1);

    add_flow(0, 0, 100, &from_vtep, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_SET_TUN_DST, .addr = hosts[2].ip },
                 { .type = FLOW_ACTION_OUTPUT_IN_PORT }));
    deliver_from(0, &hosts[1].ip, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    assert_outer_dst(sent_on(&hosts[0], PORT_VTEP), &hosts[2].ip);
    ck_assert_uint_eq(outer_vni(sent_on(&hosts[0], PORT_VTEP)), VNI_A);
}
END_TEST

START_TEST(test_flows_output_to_vtep_needs_tun_dst)
{
    struct match from_vm1 = in_port_match(PORT_VM1);
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 80, 10);

    add_flow(0, 0, 100, &from_vm1, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_SET_TUNNEL, .vni = VNI_A },
                 { .type = FLOW_ACTION_OUTPUT, .port = PORT_VTEP }));
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_TUN_DST), 1);
}
END_TEST

START_TEST(test_flows_give_an_unbound_port_a_vni)
{
    struct match from_vm2 = in_port_match(PORT_VM2);
    struct eth_addr src = fixture_mac(0x44), dst = fixture_mac(0x333);
    struct mac_dest vm2 = port_dest(PORT_VM2);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &dst, &src, 1, 2, 3, 4, 20);

    ck_assert_int_eq(dp_port_bind(hosts[0].dp, PORT_VM2, 0), 0);
    inject(0, PORT_VM2, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM2, DP_DROP_NO_VNI), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 0);

    add_flow(0, 0, 100, &from_vm2, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_SET_TUN_ID, .vni = VNI_A },
                 { .type = FLOW_ACTION_NORMAL }));
    inject(0, PORT_VM2, frame, len);
    /* Flooded in VNI_A: its other port and its group. */
    ck_assert_uint_eq(hosts[0].n_sent, 2);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM1), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    assert_outer_dst(sent_on(&hosts[0], PORT_VTEP), &group);
    ck_assert_uint_eq(outer_vni(sent_on(&hosts[0], PORT_VTEP)), VNI_A);
    assert_learned(0, VNI_A, 0x44, &vm2);
    ck_assert_uint_eq(port_drops(0, PORT_VM2, DP_DROP_NO_VNI), 1);
}
END_TEST

/* Hands host 'to''s VTEP 'inner' in 'vni' from host 1. */
static void
deliver_in_vni(int to, uint32_t vni, const uint8_t *inner, size_t len)
{
    uint8_t payload[512];
    struct vxlan_header vx;
    struct packet_batch batch;
    struct packet *p;

    ck_assert_uint_le(VXLAN_HEADER_LEN + len, sizeof payload);
    be32_16_put(&vx.vx_flags, htonl(VXLAN_FLAG_I));
    be32_16_put(&vx.vx_vni, htonl(vni << 8));
    memcpy(payload, &vx, sizeof vx);
    memcpy(payload + VXLAN_HEADER_LEN, inner, len);
    p = fixture_packet(pool, payload, VXLAN_HEADER_LEN + len);
    p->md.tun_src = hosts[1].ip;
    p->md.tun_dst = hosts[to].ip;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    dp_receive(hosts[to].dp, PORT_VTEP, &batch, now);
}

START_TEST(test_flows_see_unconfigured_vnis)
{
    struct match m;
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 80, 10);

    deliver_in_vni(0, 7777, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_UNKNOWN_VNI), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 0);

    match_init_catchall(&m);
    m.key.vni = 7777;
    m.mask.vni = UINT32_MAX;
    add_flow(0, 0, 100, &m, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_OUTPUT, .port = PORT_VM1 }));
    deliver_in_vni(0, 7777, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    ck_assert_uint_eq(packet_size(sent_on(&hosts[0], PORT_VM1)), len);
    ck_assert_mem_eq(packet_data(sent_on(&hosts[0], PORT_VM1)), frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_UNKNOWN_VNI), 1);
}
END_TEST

/* Says whether host 0 sent something to 'o'. */
static bool
sent_to(const struct dp_trace_output *o)
{
    const struct host *h = &hosts[0];

    for (size_t j = 0; j < h->n_sent; j++) {
        const struct packet *p = h->sent[j].p;

        if (h->sent[j].port_no != o->port_no) {
            continue;
        }
        if (!o->remote) {
            return true;
        }

        struct in6_addr dst = outer_dst(p);

        if (inet_equals(&o->addr, &dst) && o->vni == outer_vni(p)) {
            return true;
        }
    }
    return false;
}

/* Copies the packet counters of every rule of host 0 into 'packets'. */
static size_t
rule_packets(uint64_t *packets, size_t max)
{
    size_t n;
    struct flow_rule **rules = flow_table_select(flows(0), NULL, false, &n);

    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++) {
        packets[i] = rules[i]->n_packets;
    }
    free(rules);
    return n;
}

/* Traces 'frame' on host 0's 'port_no' (decapsulated from outer source
 * 'tun_src' in VNI_A if that is the VTEP), checks that the trace changed
 * no counter, MAC entry or rule counter, then sends it for real and checks
 * that it did what the trace said. */
static void
trace_from_then_receive(uint32_t port_no, const struct in6_addr *tun_src,
                        const uint8_t *frame, size_t len)
{
    struct host *h = &hosts[0];
    struct eth_addr src;
    struct dp_counters in_before, in_after, vtep_before, vtep_after;
    uint64_t before[16], after[16];
    size_t n_rules = rule_packets(before, 16);
    struct dp_trace t;

    memcpy(&src, frame + ETH_ADDR_LEN, sizeof src);

    bool knew_src = mac_table_lookup(dp_mac_table(h->dp), VNI_A,
                                     &src) != NULL;

    clear_sent(h);
    ck_assert(dp_port_get_counters(h->dp, port_no, &in_before));
    ck_assert(dp_port_get_counters(h->dp, PORT_VTEP, &vtep_before));
    struct packet *p = fixture_packet(pool, frame, len);

    if (port_no == PORT_VTEP) {
        p->md.vni = VNI_A;
        p->md.tun_src = *tun_src;
        p->md.tun_dst = h->ip;
    }
    ck_assert_int_eq(dp_trace(h->dp, port_no, p, now, NULL, &t), 0);
    ck_assert_uint_eq(h->n_sent, 0);
    ck_assert(dp_port_get_counters(h->dp, port_no, &in_after));
    ck_assert(dp_port_get_counters(h->dp, PORT_VTEP, &vtep_after));
    ck_assert_mem_eq(&in_before, &in_after, sizeof in_before);
    ck_assert_mem_eq(&vtep_before, &vtep_after, sizeof vtep_before);
    ck_assert_uint_eq(rule_packets(after, 16), n_rules);
    ck_assert_mem_eq(before, after, n_rules * sizeof before[0]);
    ck_assert_int_eq(mac_table_lookup(dp_mac_table(h->dp), VNI_A,
                                      &src) != NULL, knew_src);
    /* Only a frame dropped before the tables visits none. */
    ck_assert(t.n_steps >= 1 || t.drop >= 0);
    ck_assert(!t.n_steps || t.steps[0].table == 0);

    if (port_no == PORT_VTEP) {
        deliver_from(0, tun_src, frame, len);
    } else {
        inject(0, port_no, frame, len);
    }
    ck_assert_uint_eq(h->n_sent, t.n_outputs);
    for (size_t i = 0; i < t.n_outputs; i++) {
        ck_assert_msg(sent_to(&t.outputs[i]),
                      "traced output %zu to port %u not sent", i,
                      t.outputs[i].port_no);
    }
    ck_assert(dp_port_get_counters(h->dp, port_no, &in_after));
    for (int r = 0; r < DP_DROP_N_REASONS; r++) {
        ck_assert_msg(in_after.drops[r] == in_before.drops[r]
                                           + (r == t.drop),
                      "drop %s: trace and receive disagree",
                      dp_drop_reason_name((enum dp_drop_reason) r));
    }
    dp_trace_uninit(&t);
}

static void
trace_then_receive(uint32_t port_no, const uint8_t *frame, size_t len)
{
    trace_from_then_receive(port_no, NULL, frame, len);
}

START_TEST(test_flows_trace_agrees_with_receive)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp443 = fixture_tcp4_match(443);
    struct match tcp25 = fixture_tcp4_match(25);
    struct match from_vm1 = in_port_match(PORT_VM1);
    struct eth_addr src = fixture_mac(1), other = fixture_mac(0x333);
    uint8_t frame[256];
    size_t len;

    add_flow(0, 0, 100, &tcp22, FIXTURE_NO_ACTIONS);
    add_flow(0, 0, 100, &tcp443, tunnel_to(1, VNI_A));
    add_flow(0, 0, 100, &tcp25, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_SET_TUNNEL, .vni = VNI_B }));
    add_flow(0, 0, 50, &from_vm1, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_NORMAL },
                 { .type = FLOW_ACTION_OUTPUT, .port = PORT_OTHER_VNI }));

    /* Unknown destination, source not yet learned: flood plus mirror. */
    len = tcp_frame(frame, 80, 10);
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 3);
    /* Known destination: one port plus the mirror. */
    learn_mac2_on_vm2();
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
    /* The ACL. */
    len = tcp_frame(frame, 22, 10);
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
    /* A flow-based tunnel. */
    len = tcp_frame(frame, 443, 10);
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    /* Actions that send it nowhere. */
    len = tcp_frame(frame, 25, 10);
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 2);
    /* Normal's own drop: back out of its port. */
    len = fixture_udp4_frame(frame, &src, &other, 1, 2, 3, 4, 10);
    trace_then_receive(PORT_VM2, frame, len);
    /* No rule at all. */
    flow_table_delete(flows(0), NULL, false, NULL, NULL, NULL);
    trace_then_receive(PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_NO_MATCH), 1);
}
END_TEST

START_TEST(test_flows_trace_of_decapsulated_frames_agrees)
{
    struct eth_addr src = fixture_mac(0x55), dst = fixture_mac(0x333);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &dst, &src, 1, 2, 3, 4, 10);
    struct in6_addr multicast = ip4(0xef000001);

    /* Our own frame back, a source no VTEP has, and a real peer. */
    trace_from_then_receive(PORT_VTEP, &hosts[0].ip, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_LOOPED), 1);
    trace_from_then_receive(PORT_VTEP, &multicast, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VTEP, DP_DROP_BAD_REMOTE), 1);
    trace_from_then_receive(PORT_VTEP, &hosts[1].ip, frame, len);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
}
END_TEST

/* A frame captured on the underlay is traced as the VTEP would take it:
 * decapsulated first, or dropped for the reason receive would count. */
/* A frame whose destination is its own source: forwarding learns the
 * source first and finds it on the input port, and trace must say so
 * although it learns nothing.  (Found by fuzz-flows.) */
START_TEST(test_flows_trace_sees_the_source_it_would_learn)
{
    struct eth_addr self = fixture_mac(0x66);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &self, &self, 1, 2, 3, 4, 10);

    trace_from_then_receive(PORT_VM1, NULL, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_SAME_PORT), 1);
    ck_assert_uint_eq(hosts[0].n_sent, 0);
}
END_TEST

START_TEST(test_flows_trace_of_wire_frames)
{
    struct eth_addr src = fixture_mac(0x56), dst = fixture_mac(0x334);
    struct eth_addr next_hop = fixture_mac(0x777);
    uint8_t frame[256];
    size_t len = fixture_udp4_frame(frame, &dst, &src, 1, 2, 3, 4, 10);
    struct dp_trace t;
    struct packet *p;

    p = fixture_packet(pool, frame, len);
    ck_assert_int_eq(fixture_vxlan_wire(p, &hosts[1].tunnel.encap, VNI_A,
                                        &hosts[0].ip, &next_hop, 1), 0);
    ck_assert_int_eq(dp_trace_wire(hosts[0].dp, PORT_VTEP, p, now, NULL,
                                   &t), 0);
    /* An unknown destination from the underlay floods to the local ports
     * of the VNI only (split horizon); nothing was learned. */
    ck_assert_int_eq(t.drop, -1);
    ck_assert_uint_gt(t.n_outputs, 0);
    for (size_t i = 0; i < t.n_outputs; i++) {
        ck_assert(!t.outputs[i].remote);
    }
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[0].dp), VNI_A,
                                        &src));
    dp_trace_uninit(&t);

    /* The inner frame alone is no VXLAN frame. */
    p = fixture_packet(pool, frame, len);
    ck_assert_int_eq(dp_trace_wire(hosts[0].dp, PORT_VTEP, p, now, NULL,
                                   &t), 0);
    ck_assert_int_eq(t.drop, DP_DROP_BAD_OUTER);
    ck_assert_uint_eq(t.n_outputs, 0);
    dp_trace_uninit(&t);

    /* On a local port the frame is what the port delivers. */
    p = fixture_packet(pool, frame, len);
    ck_assert_int_eq(dp_trace_wire(hosts[0].dp, PORT_VM1, p, now, NULL,
                                   &t), 0);
    ck_assert_int_eq(t.drop, -1);
    ck_assert_uint_gt(t.n_outputs, 0);
    dp_trace_uninit(&t);
}
END_TEST

START_TEST(test_flows_trace_refuses_short_frames)
{
    uint8_t frame[ETH_HEADER_LEN] = { 0 };
    struct dp_trace t;
    struct packet *p;

    /* A trace of what the VTEP decapsulated: the inner frame, with its
     * VNI beside it, too short to hold an Ethernet header. */
    for (size_t len = 0; len < ETH_HEADER_LEN; len += 6) {
        p = fixture_packet(pool, frame, len);
        p->md.vni = VNI_A;
        p->md.tun_src = hosts[1].ip;
        ck_assert_int_eq(dp_trace(hosts[0].dp, PORT_VTEP, p, now, NULL,
                                  &t), 0);
        ck_assert_int_eq(t.drop, DP_DROP_BAD_INNER);
        ck_assert_uint_eq(t.n_outputs, 0);
        dp_trace_uninit(&t);

        p = fixture_packet(pool, frame, len);
        ck_assert_int_eq(dp_trace(hosts[0].dp, PORT_VM1, p, now, NULL, &t),
                         0);
        ck_assert_int_eq(t.drop, DP_DROP_RUNT);
        dp_trace_uninit(&t);
    }
    ck_assert_int_eq(dp_trace(hosts[0].dp, 99,
                              fixture_packet(pool, frame, sizeof frame),
                              now, NULL, &t), ENOENT);
    ck_assert_int_eq(t.drop, -1);
}
END_TEST

START_TEST(test_flows_idle_rule_kept_by_traffic)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct flow_spec spec = fixture_spec(0, 100, &tcp22, FIXTURE_NO_ACTIONS);
    uint8_t frame[256];
    size_t len = tcp_frame(frame, 22, 10);

    learn_mac2_on_vm2();
    spec.idle_timeout = 10;
    ck_assert_int_eq(flow_table_add(flows(0), &spec, now, NULL), 0);
    free(spec.actions);
    ck_assert_int_eq(dp_run_ageing(hosts[0].dp, now), now + 10000);

    /* A frame at 5 s moves the expiry to 15 s. */
    now += 5000;
    inject(0, PORT_VM1, frame, len);
    ck_assert_int_eq(dp_run_ageing(hosts[0].dp, now + 9999),
                     now + 10000);
    ck_assert_uint_eq(flow_table_count(flows(0)), 2);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 2);

    now += 10000;
    dp_run_ageing(hosts[0].dp, now);
    ck_assert_uint_eq(flow_table_count(flows(0)), 1);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 2);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
}
END_TEST

START_TEST(test_flows_cache_follows_rule_changes)
{
    struct match tcp22 = fixture_tcp4_match(22);
    struct match tcp80 = fixture_tcp4_match(80);
    uint8_t frame22[256], frame80[256];
    size_t len22 = tcp_frame(frame22, 22, 10);
    size_t len80 = tcp_frame(frame80, 80, 10);
    struct flow_spec acl = fixture_spec(0, 100, &tcp22, NULL);

    learn_mac2_on_vm2();
    add_flow(0, 0, 100, &tcp22, FIXTURE_NO_ACTIONS);
    add_flow(0, 0, 100, &tcp80, FIXTURE_ACTIONS(
                 { .type = FLOW_ACTION_OUTPUT, .port = PORT_OTHER_VNI }));
    for (int i = 0; i < 2; i++) {
        inject(0, PORT_VM1, frame22, len22);
        inject(0, PORT_VM1, frame80, len80);
    }
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 2);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_OTHER_VNI), 2);
    ck_assert_uint_eq(hosts[0].n_sent, 2);
    clear_sent(&hosts[0]);

    /* Delete the ACL: TCP/22 goes through normal now. */
    flow_table_delete(flows(0), &acl, true, NULL, NULL, NULL);
    inject(0, PORT_VM1, frame22, len22);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 2);
    ck_assert_uint_eq(hosts[0].n_sent, 1);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);

    /* A better rule for cached TCP/80 takes over at once. */
    struct match tcp80_vm1 = tcp80;

    tcp80_vm1.key.in_port = PORT_VM1;
    tcp80_vm1.mask.in_port = UINT32_MAX;
    add_flow(0, 0, 200, &tcp80_vm1, FIXTURE_NO_ACTIONS);
    inject(0, PORT_VM1, frame80, len80);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 3);
    ck_assert_uint_eq(hosts[0].n_sent, 1);

    /* And a modified one changes what it does. */
    struct flow_spec mod = fixture_spec(0, 200, &tcp80_vm1, FIXTURE_ACTIONS(
                                 { .type = FLOW_ACTION_OUTPUT,
                                   .port = PORT_OTHER_VNI }));
    size_t n;

    ck_assert_int_eq(flow_table_modify(flows(0), &mod, true, &n), 0);
    ck_assert_uint_eq(n, 1);
    free(mod.actions);
    inject(0, PORT_VM1, frame80, len80);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_OTHER_VNI), 1);
    ck_assert_uint_eq(port_drops(0, PORT_VM1, DP_DROP_FLOW_DROP), 3);
}
END_TEST

/* EVPN VNIs. */

/* Counts the frames host 'h' sent to the VTEP with outer destination
 * 'dst'. */
static size_t
n_sent_to(const struct host *h, const struct in6_addr *dst)
{
    size_t n = 0;

    for (size_t i = 0; i < h->n_sent; i++) {
        if (h->sent[i].port_no == PORT_VTEP) {
            struct in6_addr got = outer_dst(h->sent[i].p);

            n += !memcmp(&got, dst, sizeof got);
        }
    }
    return n;
}

static void
make_evpn(int host, const struct in6_addr *flood, size_t n_flood)
{
    struct dp_vni_config vc = { .evpn = true, .flood_list = flood,
                                .n_flood = n_flood };

    ck_assert_int_eq(dp_vni_set(hosts[host].dp, VNI_A, &vc), 0);
}

/* In an EVPN VNI floods go to the VTEPs of the type-3 routes, frames from
 * the underlay are delivered but teach nothing, local ports still learn,
 * and a type-2 route's MAC is reached by unicast. */
START_TEST(test_evpn_vni_floods_to_its_vteps_and_learns_locally)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct mac_table_stats st;
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);

    for (int h = 0; h < MAX_HOSTS; h++) {
        make_evpn(h, NULL, 0);
    }
    ck_assert_int_eq(dp_evpn_vtep_add(hosts[0].dp, VNI_A, &hosts[1].ip), 0);
    ck_assert_int_eq(dp_evpn_vtep_add(hosts[0].dp, VNI_A, &hosts[2].ip), 0);

    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 2);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[1].ip), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[2].ip), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &group), 0);

    struct mac_dest vm1 = port_dest(PORT_VM1);

    assert_learned(0, VNI_A, 1, &vm1);

    ck_assert_uint_eq(deliver_underlay(0), 2);
    for (int h = 1; h < MAX_HOSTS; h++) {
        ck_assert_uint_eq(n_sent_on(&hosts[h], PORT_VM1), 1);
        ck_assert_ptr_null(mac_table_lookup(dp_mac_table(hosts[h].dp),
                                            VNI_A, &a));
        mac_table_get_stats(dp_mac_table(hosts[h].dp), &st);
        ck_assert_uint_eq(st.n_dynamic, 0);
        ck_assert_uint_eq(st.learn_refused, 1);
    }

    /* With the route, host 1 answers by unicast to host 0 alone. */
    ck_assert_int_eq(dp_evpn_mac_add(hosts[1].dp, VNI_A, &a, &hosts[0].ip,
                                     0), 0);
    clear_sent(&hosts[1]);
    len = fixture_udp4_frame(frame, &a, &b, 2, 1, 3, 4, 20);
    inject(1, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VTEP), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[1], &hosts[0].ip), 1);
    ck_assert_uint_eq(n_sent_on(&hosts[1], PORT_VM2), 0);
}
END_TEST

/* The flood list in use is the flood= list and the EVPN VTEPs, one copy
 * to a VTEP in both; changing other settings keeps the EVPN state, going
 * back to flood-and-learn forgets it. */
START_TEST(test_evpn_set_vteps_replaces_the_set_once)
{
    struct eth_addr a = fixture_mac(1);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct dp *dp = hosts[0].dp;
    struct in6_addr both[2] = { hosts[1].ip, hosts[2].ip };
    size_t n;

    if (memcmp(&both[0], &both[1], sizeof both[0]) > 0) {
        both[0] = hosts[2].ip;      /* Sorted, as the function wants. */
        both[1] = hosts[1].ip;
    }
    /* flood= names host 1 too: one copy each all the same. */
    make_evpn(0, &hosts[1].ip, 1);
    ck_assert_int_eq(dp_evpn_set_vteps(dp, VNI_A, both, 2), 0);
    ck_assert_ptr_nonnull(dp_evpn_vteps(dp, VNI_A, &n));
    ck_assert_uint_eq(n, 2);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 2);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[1].ip), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[2].ip), 1);

    /* None: only flood= is left. */
    ck_assert_int_eq(dp_evpn_set_vteps(dp, VNI_A, NULL, 0), 0);
    dp_evpn_vteps(dp, VNI_A, &n);
    ck_assert_uint_eq(n, 0);
    clear_sent(&hosts[0]);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[1].ip), 1);

    ck_assert_int_eq(dp_evpn_set_vteps(dp, VNI_A, both,
                                       DP_EVPN_MAX_VTEPS + 1), ENOSPC);
    ck_assert_int_eq(dp_evpn_set_vteps(dp, VNI_B, both, 2), EINVAL);
    ck_assert_int_eq(dp_evpn_set_vteps(dp, 4242, both, 2), ENOENT);
    dp_evpn_vteps(dp, VNI_A, &n);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_evpn_flood_list_merges_and_resets)
{
    struct eth_addr a = fixture_mac(1), c = fixture_mac(3);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct dp *dp = hosts[0].dp;

    make_evpn(0, &hosts[1].ip, 1);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &hosts[1].ip), 0);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &hosts[1].ip), EEXIST);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &hosts[2].ip), 0);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &group), EINVAL);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_B, &hosts[2].ip), EINVAL);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, 4242, &hosts[2].ip), ENOENT);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[1].ip), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[2].ip), 1);

    /* Host 2 leaves: the flood= list still names host 1. */
    ck_assert_int_eq(dp_evpn_vtep_del(dp, VNI_A, &hosts[2].ip), 0);
    ck_assert_int_eq(dp_evpn_vtep_del(dp, VNI_A, &hosts[2].ip), ENOENT);
    ck_assert_int_eq(dp_evpn_vtep_del(dp, VNI_A, &hosts[1].ip), 0);
    clear_sent(&hosts[0]);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &hosts[1].ip), 1);

    /* Another setting changed: the EVPN state stays. */
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &hosts[2].ip), 0);
    ck_assert_int_eq(dp_evpn_mac_add(dp, VNI_A, &c, &hosts[2].ip, 3), 0);
    make_evpn(0, NULL, 0);
    size_t n;
    const struct in6_addr *vteps = dp_evpn_vteps(dp, VNI_A, &n);

    ck_assert_uint_eq(n, 1);
    ck_assert_mem_eq(&vteps[0], &hosts[2].ip, sizeof *vteps);
    ck_assert_uint_eq(mac_table_n_evpn(dp_mac_table(dp), VNI_A), 1);

    /* A group is no EVPN flood target. */
    struct dp_vni_config bad = { .evpn = true, .group = group };

    ck_assert_int_eq(dp_vni_set(dp, VNI_A, &bad), EINVAL);

    /* Back to flood-and-learn: nothing of EVPN is left. */
    struct dp_vni_config plain = { .group = group };

    ck_assert_int_eq(dp_vni_set(dp, VNI_A, &plain), 0);
    ck_assert_uint_eq(mac_table_n_evpn(dp_mac_table(dp), VNI_A), 0);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(dp), VNI_A, &c));
    ck_assert_ptr_null(dp_evpn_vteps(dp, VNI_A, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(dp_evpn_mac_add(dp, VNI_A, &c, &hosts[2].ip, 4),
                     EINVAL);
    clear_sent(&hosts[0]);
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 1);
    ck_assert_uint_eq(n_sent_to(&hosts[0], &group), 1);
}
END_TEST

START_TEST(test_evpn_flush_removes_macs_and_vteps)
{
    struct eth_addr a = fixture_mac(1), c = fixture_mac(3);
    uint8_t frame[128];
    size_t len = fixture_arp_request(frame, &a, 1, 2);
    struct dp *dp = hosts[0].dp;
    size_t n;

    make_evpn(0, NULL, 0);
    ck_assert_int_eq(dp_evpn_vtep_add(dp, VNI_A, &hosts[1].ip), 0);
    ck_assert_int_eq(dp_evpn_mac_add(dp, VNI_A, &c, &hosts[1].ip, 0), 0);
    ck_assert_int_eq(dp_evpn_mac_del(dp, VNI_A, &c, &hosts[2].ip), ENOENT);
    ck_assert_int_eq(dp_evpn_flush(dp, VNI_A, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_null(mac_table_lookup(dp_mac_table(dp), VNI_A, &c));
    inject(0, PORT_VM1, frame, len);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VTEP), 0);
    ck_assert_uint_eq(n_sent_on(&hosts[0], PORT_VM2), 1);
    ck_assert_int_eq(dp_evpn_flush(dp, VNI_B, &n), EINVAL);
    ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
dp_suite(void)
{
    Suite *s = suite_create("dp");
    TCase *tc = tcase_create("forwarding");
    TCase *her = tcase_create("head-end replication");
    TCase *flows_tc = tcase_create("flow tables");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_packet_story_flood_learn_unicast);
    tcase_add_test(tc, test_local_switching_known_unicast);
    tcase_add_test(tc, test_vni_isolation);
    tcase_add_test(tc, test_never_back_out_of_input_port);
    tcase_add_test(tc, test_split_horizon);
    tcase_add_test(tc, test_mtu_drops_oversized_frames);
    tcase_add_test(tc, test_decap_drops_counted_by_reason);
    tcase_add_test(tc, test_local_drops_counted_by_reason);
    tcase_add_test(tc, test_static_entry_to_port_outside_vni);
    tcase_add_test(tc, test_unbind_forgets_port_entries);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_ageing_forgets_remote_vtep);
    tcase_add_test(tc, test_flood_counts_pool_exhaustion);
    tcase_add_test(tc, test_drops_multicast_source);
    tcase_add_test(tc, test_drops_own_frames_from_underlay);
    tcase_add_test(tc, test_drops_remote_of_other_family);
    tcase_add_test(tc, test_unconfigured_tunnel_counts_no_tunnel);
    tcase_add_test(tc, test_tunnel_reconfigured_family);
    tcase_add_test(tc, test_cuts_super_frames_for_outputs_that_need_segments);
    tcase_add_test(tc,
                   test_hands_super_frames_whole_to_a_port_that_takes_them);
    tcase_add_test(tc,
                   test_cuts_super_frames_of_a_version_the_port_has_no_tso_for);
    tcase_add_test(tc, test_mtu_bounds_each_segment);
    tcase_add_test(tc, test_cuts_udp_super_frames_for_ports_without_uso);
    tcase_add_test(tc, test_hands_udp_super_frames_whole_to_a_port_with_uso);
    tcase_add_test(tc, test_counts_super_frames_it_cannot_cut);
    tcase_add_test(tc,
                   test_joins_segments_for_a_port_that_takes_super_frames);
    tcase_add_test(tc,
                   test_marks_oversized_tcp_from_the_underlay_as_super_frames);
    tcase_add_test(tc,
                   test_leaves_oversized_frames_with_finished_checksums_whole);
    tcase_add_test(tc,
                   test_finishes_checksums_left_to_offload_only_from_this_host);
    tcase_add_test(tc,
                   test_takes_long_datagrams_for_this_hosts_unless_fragmented);
    tcase_add_test(tc, test_drops_frames_from_outer_sources_no_vtep_has);
    tcase_add_test(tc, test_learns_only_within_the_underlay_prefix);
    tcase_add_test(tc, test_forgets_a_deleted_port_and_vni);
    suite_add_tcase(s, tc);

    tcase_add_checked_fixture(flows_tc, setup, teardown);
    tcase_add_test(flows_tc, test_flows_default_rule_counts_frames);
    tcase_add_test(flows_tc, test_flows_no_rules_drop_no_match);
    tcase_add_test(flows_tc, test_flows_acl_drops_tcp_22_counted_per_batch);
    tcase_add_test(flows_tc, test_flows_mirror_gives_a_copy);
    tcase_add_test(flows_tc, test_flows_tunnel_without_learning);
    tcase_add_test(flows_tc, test_flows_output_to_vtep_needs_tun_dst);
    tcase_add_test(flows_tc, test_flows_give_an_unbound_port_a_vni);
    tcase_add_test(flows_tc, test_flows_see_unconfigured_vnis);
    tcase_add_test(flows_tc, test_flows_trace_agrees_with_receive);
    tcase_add_test(flows_tc, test_flows_trace_refuses_short_frames);
    tcase_add_test(flows_tc, test_flows_trace_of_decapsulated_frames_agrees);
    tcase_add_test(flows_tc, test_flows_trace_of_wire_frames);
    tcase_add_test(flows_tc, test_flows_in_port_relays_between_vteps);
    tcase_add_test(flows_tc, test_flows_trace_sees_the_source_it_would_learn);
    tcase_add_test(flows_tc, test_flows_cache_follows_rule_changes);
    tcase_add_test(flows_tc, test_flows_idle_rule_kept_by_traffic);
    suite_add_tcase(s, flows_tc);

    tcase_add_checked_fixture(her, setup_her, teardown);
    tcase_add_test(her, test_head_end_replication);
    tcase_add_test(her, test_learns_only_from_listed_vteps);
    tcase_add_test(her, test_evpn_vni_floods_to_its_vteps_and_learns_locally);
    tcase_add_test(her, test_evpn_flood_list_merges_and_resets);
    tcase_add_test(her, test_evpn_set_vteps_replaces_the_set_once);
    tcase_add_test(her, test_evpn_flush_removes_macs_and_vteps);
    suite_add_tcase(s, her);
    return s;
}

int
main(void)
{
    return fixture_run(dp_suite());
}
