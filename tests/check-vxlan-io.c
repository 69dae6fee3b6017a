#include <config.h>

#include <check.h>
#include <netinet/udp.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "util.h"
#include "vxlan-io.h"
#include "vxlan.h"

#define VNI 5000

static struct packet_pool *pool;
static struct vxlan_encap_params params;

static void
setup(void)
{
    pool = packet_pool_create(64);
    ck_assert_ptr_nonnull(pool);
    params = (struct vxlan_encap_params) {
        .local = fixture_ip("172.31.0.1"),
        .dst_port = htons(VXLAN_DST_PORT),
        .src_port_min = VXLAN_SRC_PORT_MIN,
        .src_port_max = VXLAN_SRC_PORT_MAX,
    };
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* Returns a frame of 'payload' bytes encapsulated for 'dst' with inner
 * flow hash 'hash', as the datapath hands it to the VXLAN port. */
static struct packet *
encapsulated(const char *dst, uint32_t hash, size_t payload)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    struct in6_addr to = fixture_ip(dst);
    uint8_t buf[2048];
    struct packet *p = fixture_packet(pool, buf,
                                      fixture_udp4_frame(buf, &b, &a, 1, 2,
                                                         3, 4, payload));

    p->md.hash = hash;
    p->md.hash_valid = true;
    ck_assert_int_eq(vxlan_encap(p, &params, VNI, &to), 0);
    return p;
}

static void
assert_vxlan_payload(const struct iovec *iov, const struct packet *p)
{
    const uint8_t *d = iov->iov_base;

    /* The UDP payload as the datapath made it: no outer header on it. */
    ck_assert_ptr_eq(iov->iov_base, packet_data(p));
    ck_assert_uint_eq(iov->iov_len, packet_size(p));
    ck_assert_uint_eq(d[0], VXLAN_FLAG_I >> 24);
}

/* Frames of a flow go in a train each, with their payloads as they are;
 * multicast gets outer IPv4 and UDP headers, checksummed, for the raw
 * socket; the order of the sends keeps each flow's order. */
START_TEST(test_plans_trains_and_raw_datagrams)
{
    struct packet *a1 = encapsulated("172.31.0.2", 1u << 20, 100);
    struct packet *b1 = encapsulated("172.31.0.3", 1u << 30, 100);
    struct packet *a2 = encapsulated("172.31.0.2", 1u << 20, 100);
    struct packet *m = encapsulated("239.1.1.1", 7, 100);
    struct packet *a3 = encapsulated("172.31.0.2", 1u << 20, 60);
    struct packet *b2 = encapsulated("172.31.0.3", 1u << 30, 100);
    struct packet *all[] = { a1, b1, a2, m, a3, b2 };
    struct vxlan_io_tx_config cfg = { .encap = &params, .family = AF_INET,
                                      .trains = true, .ip_id = 77 };
    struct packet_batch batch;
    struct vxlan_io_tx tx;
    uint32_t m_size = packet_size(m);

    packet_batch_init(&batch);
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        packet_batch_add(&batch, all[i]);
    }
    vxlan_io_tx_init(&tx);
    vxlan_io_tx_plan(&cfg, &batch, &tx);

    ck_assert_uint_eq(tx.n_unusable, 0);
    ck_assert_uint_eq(tx.n_ops, 3);
    ck_assert_int_eq(tx.ops[0].type, VXLAN_IO_TRAIN);
    ck_assert_uint_eq(tx.ops[0].n, 3);
    ck_assert_ptr_eq(tx.train[tx.ops[0].first], a1);
    ck_assert_ptr_eq(tx.train[tx.ops[0].first + 1], a2);
    ck_assert_ptr_eq(tx.train[tx.ops[0].first + 2], a3);
    ck_assert_int_eq(tx.ops[1].type, VXLAN_IO_TRAIN);
    ck_assert_uint_eq(tx.ops[1].n, 2);
    ck_assert_ptr_eq(tx.train[tx.ops[1].first], b1);
    ck_assert_ptr_eq(tx.train[tx.ops[1].first + 1], b2);
    for (size_t i = 0; i < 5; i++) {
        assert_vxlan_payload(&tx.train_iovs[i], tx.train[i]);
    }

    /* The multicast frame: a whole outer IP packet, built only here. */
    ck_assert_int_eq(tx.ops[2].type, VXLAN_IO_RAW);
    ck_assert_uint_eq(tx.ops[2].n, 1);
    ck_assert_uint_eq(tx.n_msgs, 1);
    ck_assert_uint_eq(packet_size(m), m_size + IPV4_HEADER_LEN
                                      + UDP_HEADER_LEN);

    const struct msghdr *h = &tx.msgs[0].msg_hdr;
    const uint8_t *d = h->msg_iov[0].iov_base;
    const struct ipv4_header *ip = (const void *) d;
    const struct udp_header *udp = (const void *) (d + IPV4_HEADER_LEN);
    struct in6_addr to;

    ck_assert_ptr_eq(d, packet_data(m));
    ck_assert_uint_eq(h->msg_iov[0].iov_len, packet_size(m));
    ck_assert_uint_eq(ip->ip_ihl_ver, 0x45);
    ck_assert_uint_eq(ntohs(ip->ip_tot_len), packet_size(m));
    ck_assert_uint_eq(ntohs(ip->ip_id), 77);
    ck_assert_uint_eq(ip->ip_ttl, VXLAN_TTL_MULTICAST);
    ck_assert_uint_eq(ip->ip_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(csum_ipv4_header(ip), 0);
    ck_assert_uint_eq(ntohs(udp->udp_src), m->md.tun_udp_src);
    ck_assert_uint_eq(ntohs(udp->udp_dst), VXLAN_DST_PORT);
    ck_assert_uint_eq(ntohs(udp->udp_len), m_size + UDP_HEADER_LEN);
    ck_assert_uint_eq(d[IPV4_HEADER_LEN + UDP_HEADER_LEN],
                      VXLAN_FLAG_I >> 24);
    ck_assert(inet_sockaddr_get(h->msg_name, h->msg_namelen, &to));
    ck_assert(inet_equals(&to, &m->md.tun_dst));
    ck_assert_uint_eq(cfg.ip_id, 78);
    packet_batch_free(&batch);
}
END_TEST

/* Fills 'batch' with three frames of one flow. */
static void
one_flow(struct packet_batch *batch)
{
    packet_batch_init(batch);
    for (size_t i = 0; i < 3; i++) {
        packet_batch_add(batch, encapsulated("172.31.0.2", 5, 100));
    }
}

/* Without trains, or for a train the kernel refused, every frame gets its
 * outer headers, with identifications that count up. */
START_TEST(test_builds_outer_headers_for_the_raw_socket)
{
    struct vxlan_io_tx_config cfg = { .encap = &params, .family = AF_INET,
                                      .trains = true, .ip_id = 1 };
    struct packet_batch batch;
    struct vxlan_io_tx tx;
    struct vxlan_io_op raw;

    one_flow(&batch);
    vxlan_io_tx_init(&tx);
    vxlan_io_tx_plan(&cfg, &batch, &tx);
    ck_assert_uint_eq(tx.n_ops, 1);
    ck_assert_int_eq(tx.ops[0].type, VXLAN_IO_TRAIN);
    ck_assert_uint_eq(tx.n_msgs, 0);

    vxlan_io_tx_unpack_train(&cfg, &tx, &tx.ops[0], &raw);
    ck_assert_int_eq(raw.type, VXLAN_IO_RAW);
    ck_assert_uint_eq(raw.first, 0);
    ck_assert_uint_eq(raw.n, 3);
    for (size_t i = 0; i < 3; i++) {
        const struct ipv4_header *ip = tx.msgs[i].msg_hdr.msg_iov[0].iov_base;

        ck_assert_uint_eq(ntohs(ip->ip_id), 1 + i);
        ck_assert_uint_eq(ip->ip_ttl, VXLAN_TTL_UNICAST);
        ck_assert_uint_eq(csum_ipv4_header(ip), 0);
    }
    packet_batch_free(&batch);

    /* Trains off. */
    cfg.trains = false;
    one_flow(&batch);
    vxlan_io_tx_plan(&cfg, &batch, &tx);
    ck_assert_uint_eq(tx.n_ops, 1);
    ck_assert_int_eq(tx.ops[0].type, VXLAN_IO_RAW);
    ck_assert_uint_eq(tx.ops[0].n, 3);
    ck_assert_uint_eq(cfg.ip_id, 7);
    packet_batch_free(&batch);
}
END_TEST

/* A frame for the other family, or too short to be one the datapath
 * encapsulated, is counted and left out. */
START_TEST(test_leaves_out_unusable_frames)
{
    struct vxlan_io_tx_config cfg = { .encap = &params, .family = AF_INET,
                                      .trains = true };
    struct packet *v6 = encapsulated("fd00::2", 5, 100);
    struct packet *runt = encapsulated("172.31.0.2", 5, 100);
    struct packet_batch batch;
    struct vxlan_io_tx tx;

    runt->size = VXLAN_HEADER_LEN - 1;
    packet_batch_init(&batch);
    packet_batch_add(&batch, v6);
    packet_batch_add(&batch, runt);
    vxlan_io_tx_init(&tx);
    vxlan_io_tx_plan(&cfg, &batch, &tx);
    ck_assert_uint_eq(tx.n_unusable, 2);
    ck_assert_uint_eq(tx.n_ops, 0);
    packet_batch_free(&batch);
}
END_TEST

/* What recvmmsg() fills in becomes the packet's size, outer addresses and
 * segment size; a truncated datagram is refused. */
START_TEST(test_completes_received_datagrams)
{
    struct packet *packets[2];
    struct mmsghdr msgs[2];
    struct vxlan_io_rx_slot slots[2];
    struct in6_addr src = fixture_ip("172.31.0.9");
    struct in_pktinfo info = {
        .ipi_addr.s_addr = inet_to_ipv4(&params.local),
    };
    int gro = 500;
    struct cmsghdr *c;

    ck_assert_uint_eq(vxlan_io_rx_prepare(pool, 2, packets, msgs, slots), 2);
    for (size_t i = 0; i < 2; i++) {
        struct msghdr *h = &msgs[i].msg_hdr;

        ck_assert_ptr_eq(h->msg_iov->iov_base, packet_data(packets[i]));
        h->msg_namelen = inet_sockaddr_make(AF_INET, &src, 4789, 0,
                                            h->msg_name);
        h->msg_controllen = CMSG_SPACE(sizeof info) + CMSG_SPACE(sizeof gro);
        c = CMSG_FIRSTHDR(h);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof info);
        memcpy(CMSG_DATA(c), &info, sizeof info);
        c = CMSG_NXTHDR(h, c);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_GRO;
        c->cmsg_len = CMSG_LEN(sizeof gro);
        memcpy(CMSG_DATA(c), &gro, sizeof gro);
        h->msg_flags = 0;
        msgs[i].msg_len = 1200;
    }
    msgs[1].msg_hdr.msg_flags = MSG_TRUNC;

    ck_assert(vxlan_io_rx_complete(&msgs[0], packets[0]));
    ck_assert_uint_eq(packet_size(packets[0]), 1200);
    ck_assert(inet_equals(&packets[0]->md.tun_src, &src));
    ck_assert(inet_equals(&packets[0]->md.tun_dst, &params.local));
    ck_assert_uint_eq(packets[0]->md.gso_size, 500);
    ck_assert(!vxlan_io_rx_complete(&msgs[1], packets[1]));

    /* The train of 1,200 bytes in datagrams of 500 is cut into three. */
    struct vxlan_io_trains trains = { .next = 0 };
    struct packet_batch batch;
    uint64_t errors = 0;

    memset(packet_data(packets[0]), 0xab, 1200);
    packet_batch_init(&trains.batch);
    packet_batch_add(&trains.batch, packets[0]);
    packet_batch_init(&batch);
    vxlan_io_rx_cut(&trains, pool, &batch, &errors);
    ck_assert_uint_eq(batch.count, 3);
    ck_assert_uint_eq(packet_size(batch.packets[0]), 500);
    ck_assert_uint_eq(packet_size(batch.packets[1]), 500);
    ck_assert_uint_eq(packet_size(batch.packets[2]), 200);
    for (size_t i = 0; i < 3; i++) {
        ck_assert(inet_equals(&batch.packets[i]->md.tun_src, &src));
        ck_assert_uint_eq(batch.packets[i]->md.gso_size, 0);
    }
    ck_assert_uint_eq(errors, 0);
    ck_assert_uint_eq(trains.batch.count, 0);
    packet_batch_free(&batch);
    packet_free(packets[1]);
}
END_TEST

/* Checks that raw datagram 'i' of 'tx' goes to 'dst' as a socket address
 * of 'family' with port 0, as the raw socket wants it. */
static void
assert_raw_address(const struct vxlan_io_tx *tx, size_t i, int family,
                   const char *dst)
{
    const struct msghdr *h = &tx->msgs[i].msg_hdr;
    const union inet_sockaddr *sa = h->msg_name;
    struct in6_addr to;
    struct in6_addr want = fixture_ip(dst);

    ck_assert_int_eq(sa->sa.sa_family, family);
    ck_assert_uint_eq(h->msg_namelen, family == AF_INET ? sizeof sa->sin
                                                        : sizeof sa->sin6);
    ck_assert_uint_eq(family == AF_INET ? sa->sin.sin_port
                                        : sa->sin6.sin6_port, 0);
    ck_assert(inet_sockaddr_get(sa, h->msg_namelen, &to));
    ck_assert(inet_equals(&to, &want));
    ck_assert_ptr_eq(h->msg_iov, &tx->raw_iovs[i]);
    ck_assert_uint_eq(h->msg_iovlen, 1);
    ck_assert_ptr_null(h->msg_control);
    ck_assert_uint_eq(h->msg_controllen, 0);
}

/* Plans raw datagrams to 'dsts' (of 'n') of 'family' with 'tx'. */
static void
plan_raw(struct vxlan_io_tx *tx, int family, const char *const *dsts,
         size_t n)
{
    struct vxlan_io_tx_config cfg = { .encap = &params, .family = family };
    struct packet_batch batch;

    packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        packet_batch_add(&batch, encapsulated(dsts[i], 5, 100));
    }
    vxlan_io_tx_plan(&cfg, &batch, tx);
    ck_assert_uint_eq(tx->n_unusable, 0);
    ck_assert_uint_eq(tx->n_msgs, n);
    for (size_t i = 0; i < n; i++) {
        assert_raw_address(tx, i, family, dsts[i]);
    }
    packet_batch_free(&batch);
}

/* A port keeps its plan from one batch to the next, and its family may
 * change between them: each datagram still goes to its own destination,
 * in a socket address of the port's family. */
/* IP_RECVFRAGSIZE comes only with a datagram that the kernel put together
 * from fragments: such a datagram crossed a wire, however long it is. */
START_TEST(test_marks_datagrams_put_together_from_fragments)
{
    struct packet *packets[2];
    struct mmsghdr msgs[2];
    struct vxlan_io_rx_slot slots[2];
    struct in6_addr src = fixture_ip("172.31.0.9");
    int frag_size = 1480;
    struct cmsghdr *c;

    ck_assert_uint_eq(vxlan_io_rx_prepare(pool, 2, packets, msgs, slots), 2);
    for (size_t i = 0; i < 2; i++) {
        struct msghdr *h = &msgs[i].msg_hdr;

        h->msg_namelen = inet_sockaddr_make(AF_INET, &src, 4789, 0,
                                            h->msg_name);
        h->msg_flags = 0;
        msgs[i].msg_len = 3000;
    }
    c = CMSG_FIRSTHDR(&msgs[0].msg_hdr);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_RECVFRAGSIZE;
    c->cmsg_len = CMSG_LEN(sizeof frag_size);
    memcpy(CMSG_DATA(c), &frag_size, sizeof frag_size);
    msgs[0].msg_hdr.msg_controllen = CMSG_SPACE(sizeof frag_size);
    msgs[1].msg_hdr.msg_controllen = 0;

    ck_assert(vxlan_io_rx_complete(&msgs[0], packets[0]));
    ck_assert(packets[0]->md.tun_fragmented);
    ck_assert(vxlan_io_rx_complete(&msgs[1], packets[1]));
    ck_assert(!packets[1]->md.tun_fragmented);
    packet_free(packets[0]);
    packet_free(packets[1]);
}
END_TEST

START_TEST(test_kept_plan_addresses_each_batch)
{
    static const char *const v4[] = { "172.31.0.2", "172.31.0.3",
                                      "239.1.1.1" };
    static const char *const v4_again[] = { "172.31.0.9" };
    static const char *const v6[] = { "fd00::2", "fe80::5" };
    struct vxlan_io_tx tx;

    vxlan_io_tx_init(&tx);
    plan_raw(&tx, AF_INET6, v6, ARRAY_SIZE(v6));
    plan_raw(&tx, AF_INET, v4, ARRAY_SIZE(v4));
    plan_raw(&tx, AF_INET, v4_again, ARRAY_SIZE(v4_again));
    plan_raw(&tx, AF_INET6, v6, ARRAY_SIZE(v6));
    plan_raw(&tx, AF_INET, v4, ARRAY_SIZE(v4));
}
END_TEST

static Suite *
vxlan_io_suite(void)
{
    Suite *s = suite_create("vxlan-io");

    fixture_add_case(s, "plans trains and raw datagrams",
                     test_plans_trains_and_raw_datagrams, setup, teardown);
    fixture_add_case(s, "builds outer headers for the raw socket",
                     test_builds_outer_headers_for_the_raw_socket, setup,
                     teardown);
    fixture_add_case(s, "leaves out unusable frames",
                     test_leaves_out_unusable_frames, setup, teardown);
    fixture_add_case(s, "kept plan addresses each batch",
                     test_kept_plan_addresses_each_batch, setup, teardown);
    fixture_add_case(s, "completes received datagrams",
                     test_completes_received_datagrams, setup, teardown);
    fixture_add_case(s, "marks datagrams put together from fragments",
                     test_marks_datagrams_put_together_from_fragments, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(vxlan_io_suite());
}
