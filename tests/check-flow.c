#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "fixture.h"
#include "flow.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "util.h"

/* The values flow.c uses for a present VLAN tag and for an 802.3 frame;
 * flow.h documents them but does not export names for them. */

#define IP4_A 0xc0000201        /* 192.0.2.1 */
#define IP4_B 0xc6336402        /* 198.51.100.2 */

static const uint8_t ip6_a[16] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01
};
static const uint8_t ip6_b[16] = {
    0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xef
};

/* Every test parses through one packet of a pool made afresh for each
 * test, so that the bytes past a frame have never been written: valgrind
 * then reports any branch on them.  The pool's second buffer is for
 * frames that must not touch that one. */
static struct packet_pool *pool;
static struct packet *pkt;

static void
setup(void)
{
    pool = packet_pool_create(2);
    ck_assert_ptr_nonnull(pool);
    pkt = packet_alloc(pool);
    ck_assert_ptr_nonnull(pkt);
}

static void
teardown(void)
{
    packet_free(pkt);
    packet_pool_destroy(pool);
}

/* Copies 'len' bytes of 'data' into the test packet, so that its size is
 * exactly 'len', and parses them into 'key', which starts out as garbage so
 * that fields the parser fails to clear show up. */
static enum flow_layer
parse(const void *data, size_t len, struct flow_key *key)
{
    ck_assert_int_eq(packet_set_frame(pkt, data, len), 0);
    memset(key, 0xa5, sizeof *key);

    enum flow_layer layers = flow_extract(pkt, key);

    ck_assert_int_eq(layers, key->layers);
    return layers;
}

/* A frame built header by header, for the shapes the fixtures do not
 * make.  Length fields are filled in by frame_finish(). */
struct frame {
    uint8_t data[512];
    size_t len;
    size_t l3;                  /* Offset of the IP header, 0 if none. */
    bool ipv6;
    size_t udp;                 /* Offset of the UDP header, 0 if none. */
};

static void
frame_init(struct frame *f)
{
    memset(f, 0, sizeof *f);
}

static size_t
frame_put(struct frame *f, const void *hdr, size_t len)
{
    size_t ofs = f->len;

    ck_assert_uint_le(ofs + len, sizeof f->data);
    memcpy(&f->data[ofs], hdr, len);
    f->len += len;
    return ofs;
}

static void
put16(struct frame *f, size_t ofs, uint16_t value)
{
    be16 x = htons(value);

    memcpy(&f->data[ofs], &x, sizeof x);
}

static void
frame_eth(struct frame *f, uint16_t type)
{
    struct eth_header eth = {
        .eth_dst = fixture_mac(2),
        .eth_src = fixture_mac(1),
        .eth_type = htons(type),
    };

    frame_put(f, &eth, sizeof eth);
}

static void
frame_vlan(struct frame *f, uint16_t tci, uint16_t next_type)
{
    struct vlan_header vlan = {
        .vlan_tci = htons(tci),
        .vlan_next_type = htons(next_type),
    };

    frame_put(f, &vlan, sizeof vlan);
}

/* Adds an IPv4 header with 'opt_words' 4-byte words of NOP options. */
static void
frame_ipv4(struct frame *f, uint8_t proto, size_t opt_words)
{
    struct ipv4_header ip = {
        .ip_ihl_ver = (uint8_t) (IPV4_VERSION << 4 | (5 + opt_words)),
        .ip_tos = 0x28,
        .ip_id = htons(0x1234),
        .ip_ttl = 33,
        .ip_proto = proto,
    };
    uint8_t nops[40];

    ck_assert_uint_le(opt_words, 10);
    be32_16_put(&ip.ip_src, htonl(IP4_A));
    be32_16_put(&ip.ip_dst, htonl(IP4_B));
    f->l3 = frame_put(f, &ip, sizeof ip);
    f->ipv6 = false;
    memset(nops, 1, sizeof nops);
    frame_put(f, nops, opt_words * 4);
}

static void
frame_ipv6(struct frame *f, uint8_t nxt)
{
    /* Traffic class 0xb8, flow label 0x12345. */
    struct ipv6_header ip6 = {
        .ip6_nxt = nxt,
        .ip6_hlim = 42,
    };

    be32_16_put(&ip6.ip6_vtc_flow,
                htonl(IPV6_VERSION << 28 | 0xb8 << 20 | 0x12345));
    memcpy(ip6.ip6_src, ip6_a, 16);
    memcpy(ip6.ip6_dst, ip6_b, 16);
    f->l3 = frame_put(f, &ip6, sizeof ip6);
    f->ipv6 = true;
}

/* Adds a hop-by-hop, routing or destination options header of
 * ('len_units' + 1) * 8 bytes, padded with Pad1 options. */
static void
frame_ipv6_ext(struct frame *f, uint8_t nxt, uint8_t len_units)
{
    uint8_t ext[2048] = { nxt, len_units };

    frame_put(f, ext, ((size_t) len_units + 1) * 8);
}

static void
frame_ipv6_frag(struct frame *f, uint8_t nxt, uint16_t offlg)
{
    struct ipv6_frag_header frag = {
        .ip6f_nxt = nxt,
        .ip6f_offlg = htons(offlg),
    };

    be32_16_put(&frag.ip6f_ident, htonl(0xcafe));
    frame_put(f, &frag, sizeof frag);
}

static void
frame_payload(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t byte = (uint8_t) (0x80 + i);

        frame_put(f, &byte, 1);
    }
}

static void
frame_udp(struct frame *f, uint16_t sport, uint16_t dport,
          size_t payload_len)
{
    struct udp_header udp = {
        .udp_src = htons(sport),
        .udp_dst = htons(dport),
    };

    f->udp = frame_put(f, &udp, sizeof udp);
    frame_payload(f, payload_len);
}

static void
frame_tcp(struct frame *f, uint16_t sport, uint16_t dport,
          size_t payload_len)
{
    struct tcp_header tcp = {
        .tcp_src = htons(sport),
        .tcp_dst = htons(dport),
        .tcp_ctl = htons(5 << 12 | 0x10),
        .tcp_winsz = htons(512),
    };

    be32_16_put(&tcp.tcp_seq, htonl(1000));
    be32_16_put(&tcp.tcp_ack, htonl(2000));
    frame_put(f, &tcp, sizeof tcp);
    frame_payload(f, payload_len);
}

/* Adds an ICMP or ICMPv6 header and the 4 bytes that follow it. */
static void
frame_icmp(struct frame *f, uint8_t type, uint8_t code)
{
    struct icmp_header icmp = { .icmp_type = type, .icmp_code = code };
    static const uint8_t rest[4] = { 0x00, 0x2a, 0x00, 0x01 };

    frame_put(f, &icmp, sizeof icmp);
    frame_put(f, rest, sizeof rest);
}

/* Sets the IP and UDP length fields to cover the rest of the frame. */
static void
frame_finish(struct frame *f)
{
    if (f->l3 && f->ipv6) {
        put16(f, f->l3 + offsetof(struct ipv6_header, ip6_plen),
              (uint16_t) (f->len - f->l3 - IPV6_HEADER_LEN));
    } else if (f->l3) {
        put16(f, f->l3 + offsetof(struct ipv4_header, ip_tot_len),
              (uint16_t) (f->len - f->l3));
    }
    if (f->udp) {
        put16(f, f->udp + offsetof(struct udp_header, udp_len),
              (uint16_t) (f->len - f->udp));
    }
}

static struct in6_addr
mapped(uint32_t ip)
{
    struct in6_addr a;

    memset(&a, 0, sizeof a);
    a.s6_addr[10] = 0xff;
    a.s6_addr[11] = 0xff;
    a.s6_addr[12] = (uint8_t) (ip >> 24);
    a.s6_addr[13] = (uint8_t) (ip >> 16);
    a.s6_addr[14] = (uint8_t) (ip >> 8);
    a.s6_addr[15] = (uint8_t) ip;
    return a;
}

static bool
in6_is_zero(const struct in6_addr *a)
{
    static const struct in6_addr zero;

    return !memcmp(a, &zero, sizeof *a);
}

static void
check_nw_addrs(const struct flow_key *key, const struct in6_addr *src,
               const struct in6_addr *dst)
{
    ck_assert_mem_eq(&key->nw_src, src, sizeof *src);
    ck_assert_mem_eq(&key->nw_dst, dst, sizeof *dst);
}

static void
check_no_l3(const struct flow_key *key)
{
    ck_assert(in6_is_zero(&key->nw_src));
    ck_assert(in6_is_zero(&key->nw_dst));
    ck_assert_uint_eq(key->nw_proto, 0);
    ck_assert_uint_eq(key->nw_tos, 0);
    ck_assert_uint_eq(key->nw_ttl, 0);
    ck_assert_uint_eq(key->nw_frag, 0);
    ck_assert(eth_addr_is_zero(&key->arp_sha));
    ck_assert(eth_addr_is_zero(&key->arp_tha));
    ck_assert_uint_eq(pkt->md.l3_ofs, PACKET_OFS_NONE);
}

static void
check_no_l4(const struct flow_key *key)
{
    ck_assert_uint_eq(key->tp_src, 0);
    ck_assert_uint_eq(key->tp_dst, 0);
    ck_assert_uint_eq(pkt->md.l4_ofs, PACKET_OFS_NONE);
}

START_TEST(test_udp4_every_field)
{
    struct eth_addr dst = fixture_mac(0x0b01);
    struct eth_addr src = fixture_mac(0x0a01);
    uint8_t buf[128];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 41149,
                                    4789, 10);
    struct flow_key key;

    /* Give the TOS byte a value the fixture does not use. */
    buf[ETH_HEADER_LEN + 1] = 0xb8;
    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    pkt->md.in_port = 7;
    pkt->md.vni = 5000;
    memset(&key, 0xa5, sizeof key);
    ck_assert_int_eq(flow_extract(pkt, &key), FLOW_LAYER_L4);

    ck_assert_uint_eq(key.in_port, 7);
    ck_assert_uint_eq(key.vni, 5000);
    ck_assert(eth_addr_equals(&key.dl_dst, &dst));
    ck_assert(eth_addr_equals(&key.dl_src, &src));
    ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV4);
    ck_assert_uint_eq(key.vlan_tci, 0);

    struct in6_addr a = mapped(IP4_A), b = mapped(IP4_B);

    check_nw_addrs(&key, &a, &b);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(key.nw_tos, 0xb8);
    ck_assert_uint_eq(key.nw_ttl, 64);
    ck_assert_uint_eq(key.nw_frag, 0);
    ck_assert_uint_eq(ntohs(key.tp_src), 41149);
    ck_assert_uint_eq(ntohs(key.tp_dst), 4789);
    ck_assert(eth_addr_is_zero(&key.arp_sha));
    ck_assert(eth_addr_is_zero(&key.arp_tha));
    ck_assert_uint_eq(key.layers, FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(pkt->md.l3_ofs, 14);
    ck_assert_uint_eq(pkt->md.l4_ofs, 34);
}
END_TEST

START_TEST(test_tcp4_options)
{
    /* No options, a few words of them, and the most an IHL of 15 allows. */
    static const size_t opt_words[] = { 0, 1, 3, 10 };

    for (size_t i = 0; i < ARRAY_SIZE(opt_words); i++) {
        struct frame f;
        struct flow_key key;

        frame_init(&f);
        frame_eth(&f, ETH_TYPE_IPV4);
        frame_ipv4(&f, IP_PROTO_TCP, opt_words[i]);
        frame_tcp(&f, 33000, 443, 5);
        frame_finish(&f);

        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
        ck_assert_uint_eq(key.error, FLOW_OK);
        ck_assert_uint_eq(key.nw_proto, IP_PROTO_TCP);
        ck_assert_uint_eq(key.nw_tos, 0x28);
        ck_assert_uint_eq(key.nw_ttl, 33);
        ck_assert_uint_eq(ntohs(key.tp_src), 33000);
        ck_assert_uint_eq(ntohs(key.tp_dst), 443);
        ck_assert_uint_eq(pkt->md.l3_ofs, 14);
        ck_assert_uint_eq(pkt->md.l4_ofs, 34 + 4 * opt_words[i]);
    }
}
END_TEST

START_TEST(test_icmp_type_code)
{
    static const struct {
        uint8_t type;
        uint8_t code;
    } cases[] = {
        { 8, 0 },               /* Echo request. */
        { 0, 0 },               /* Echo reply. */
        { 3, 4 },               /* Fragmentation needed. */
        { 11, 1 },              /* Reassembly time exceeded. */
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct frame f;
        struct flow_key key;

        frame_init(&f);
        frame_eth(&f, ETH_TYPE_IPV4);
        frame_ipv4(&f, IP_PROTO_ICMP, 0);
        frame_icmp(&f, cases[i].type, cases[i].code);
        frame_finish(&f);

        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
        ck_assert_uint_eq(key.error, FLOW_OK);
        ck_assert_uint_eq(key.nw_proto, IP_PROTO_ICMP);
        ck_assert_uint_eq(ntohs(key.tp_src), cases[i].type);
        ck_assert_uint_eq(ntohs(key.tp_dst), cases[i].code);
        ck_assert_uint_eq(pkt->md.l4_ofs, 34);
    }
}
END_TEST

START_TEST(test_icmpv6_type_code)
{
    struct frame f;
    struct flow_key key;

    /* Echo request, then destination unreachable / port unreachable. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IP_PROTO_ICMPV6);
    frame_icmp(&f, 128, 0);
    frame_finish(&f);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_ICMPV6);
    ck_assert_uint_eq(ntohs(key.tp_src), 128);
    ck_assert_uint_eq(ntohs(key.tp_dst), 0);

    f.data[54 + 0] = 1;
    f.data[54 + 1] = 4;
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(ntohs(key.tp_src), 1);
    ck_assert_uint_eq(ntohs(key.tp_dst), 4);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54);
}
END_TEST

/* Byte offset of ARP field 'F' in an untagged frame. */
#define ARP_OFS(F) (ETH_HEADER_LEN + offsetof(struct arp_eth_header, F))

START_TEST(test_arp_request_reply)
{
    struct eth_addr a = fixture_mac(0x0101);
    struct eth_addr b = fixture_mac(0x0202);
    struct in6_addr ip_a = mapped(IP4_A), ip_b = mapped(IP4_B);
    uint8_t buf[64];
    size_t len = fixture_arp_request(buf, &a, IP4_A, IP4_B);
    struct flow_key key;

    ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert(eth_addr_is_broadcast(&key.dl_dst));
    ck_assert(eth_addr_equals(&key.dl_src, &a));
    ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_ARP);
    ck_assert_uint_eq(key.nw_proto, ARP_OP_REQUEST);
    check_nw_addrs(&key, &ip_a, &ip_b);
    ck_assert(eth_addr_equals(&key.arp_sha, &a));
    ck_assert(eth_addr_is_zero(&key.arp_tha));
    ck_assert_uint_eq(key.nw_ttl, 0);
    check_no_l4(&key);
    ck_assert_uint_eq(pkt->md.l3_ofs, 14);

    /* Turn it into b's reply to a. */
    memcpy(buf, &a, ETH_ADDR_LEN);
    memcpy(buf + ETH_ADDR_LEN, &b, ETH_ADDR_LEN);
    buf[ARP_OFS(ar_op) + 1] = ARP_OP_REPLY;
    memcpy(buf + ARP_OFS(ar_sha), &b, ETH_ADDR_LEN);
    memcpy(buf + ARP_OFS(ar_tha), &a, ETH_ADDR_LEN);
    be32 spa = htonl(IP4_B), tpa = htonl(IP4_A);
    memcpy(buf + ARP_OFS(ar_spa), &spa, 4);
    memcpy(buf + ARP_OFS(ar_tpa), &tpa, 4);

    ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert(eth_addr_equals(&key.dl_dst, &a));
    ck_assert(eth_addr_equals(&key.dl_src, &b));
    ck_assert_uint_eq(key.nw_proto, ARP_OP_REPLY);
    check_nw_addrs(&key, &ip_b, &ip_a);
    ck_assert(eth_addr_equals(&key.arp_sha, &b));
    ck_assert(eth_addr_equals(&key.arp_tha, &a));
    check_no_l4(&key);
}
END_TEST

START_TEST(test_arp_bad_lengths)
{
    static const struct {
        size_t ofs;
        uint8_t value;
    } cases[] = {
        { ARP_OFS(ar_hln), 8 },
        { ARP_OFS(ar_hln), 0 },
        { ARP_OFS(ar_pln), 16 },
        { ARP_OFS(ar_pln), 0 },
        { ARP_OFS(ar_hrd) + 1, 6 },        /* IEEE 802 hardware. */
        { ARP_OFS(ar_pro), 0x86 },         /* 0x86dd: IPv6. */
    };
    struct eth_addr a = fixture_mac(0x0101);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t buf[64];
        size_t len = fixture_arp_request(buf, &a, IP4_A, IP4_B);
        struct flow_key key;

        buf[cases[i].ofs] = cases[i].value;
        ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L2);
        ck_assert_uint_eq(key.error, FLOW_ERR_BAD_L3);
        ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_ARP);
        ck_assert(eth_addr_equals(&key.dl_src, &a));
        check_no_l3(&key);
        check_no_l4(&key);
    }
}
END_TEST

START_TEST(test_vlan_tag)
{
    static const uint16_t tcis[] = {
        5 << VLAN_PCP_SHIFT | 100,     /* PCP 5, VID 100. */
        0,                              /* Priority 0, VID 0: still tagged. */
        7 << VLAN_PCP_SHIFT | 4095,
    };

    for (size_t i = 0; i < ARRAY_SIZE(tcis); i++) {
        struct frame f;
        struct flow_key key;

        frame_init(&f);
        frame_eth(&f, ETH_TYPE_VLAN);
        frame_vlan(&f, tcis[i], ETH_TYPE_IPV4);
        frame_ipv4(&f, IP_PROTO_UDP, 0);
        frame_udp(&f, 1111, 2222, 3);
        frame_finish(&f);

        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
        ck_assert_uint_eq(key.error, FLOW_OK);
        ck_assert_uint_eq(ntohs(key.vlan_tci), tcis[i] | FLOW_VLAN_PRESENT);
        ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV4);
        ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
        ck_assert_uint_eq(ntohs(key.tp_src), 1111);
        ck_assert_uint_eq(ntohs(key.tp_dst), 2222);
        ck_assert_uint_eq(pkt->md.l3_ofs, 18);
        ck_assert_uint_eq(pkt->md.l4_ofs, 38);
    }
}
END_TEST

START_TEST(test_qinq_tags)
{
    static const uint16_t outer_types[] = {
        ETH_TYPE_VLAN_QINQ, ETH_TYPE_VLAN
    };

    for (size_t i = 0; i < ARRAY_SIZE(outer_types); i++) {
        struct frame f;
        struct flow_key key;

        frame_init(&f);
        frame_eth(&f, outer_types[i]);
        frame_vlan(&f, 3 << VLAN_PCP_SHIFT | 200, ETH_TYPE_VLAN);
        frame_vlan(&f, 1 << VLAN_PCP_SHIFT | 100, ETH_TYPE_IPV4);
        frame_ipv4(&f, IP_PROTO_TCP, 0);
        frame_tcp(&f, 5000, 22, 0);
        frame_finish(&f);

        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
        ck_assert_uint_eq(key.error, FLOW_OK);
        /* The outer tag is the one kept. */
        ck_assert_uint_eq(ntohs(key.vlan_tci),
                          (3 << VLAN_PCP_SHIFT | 200) | FLOW_VLAN_PRESENT);
        ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV4);
        ck_assert_uint_eq(key.nw_proto, IP_PROTO_TCP);
        ck_assert_uint_eq(ntohs(key.tp_src), 5000);
        ck_assert_uint_eq(ntohs(key.tp_dst), 22);
        ck_assert_uint_eq(pkt->md.l3_ofs, 22);
        ck_assert_uint_eq(pkt->md.l4_ofs, 42);
    }
}
END_TEST

START_TEST(test_ipv6_udp)
{
    struct frame f;
    struct flow_key key;
    struct in6_addr a, b;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IP_PROTO_UDP);
    frame_udp(&f, 41018, 4789, 20);
    frame_finish(&f);
    memcpy(&a, ip6_a, 16);
    memcpy(&b, ip6_b, 16);

    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV6);
    ck_assert_uint_eq(key.vlan_tci, 0);
    check_nw_addrs(&key, &a, &b);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(key.nw_tos, 0xb8);
    ck_assert_uint_eq(key.nw_ttl, 42);
    ck_assert_uint_eq(key.nw_frag, 0);
    ck_assert_uint_eq(ntohs(key.tp_src), 41018);
    ck_assert_uint_eq(ntohs(key.tp_dst), 4789);
    ck_assert(eth_addr_is_zero(&key.arp_sha));
    ck_assert_uint_eq(pkt->md.l3_ofs, 14);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54);
}
END_TEST

START_TEST(test_ipv6_ext_headers)
{
    struct frame f;
    struct flow_key key;

    /* Hop-by-hop of 8 bytes, destination options of 16, then UDP. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IPV6_PROTO_HOPOPTS);
    frame_ipv6_ext(&f, IPV6_PROTO_DSTOPTS, 0);
    frame_ipv6_ext(&f, IP_PROTO_UDP, 1);
    frame_udp(&f, 546, 547, 4);
    frame_finish(&f);

    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(key.nw_frag, 0);
    ck_assert_uint_eq(ntohs(key.tp_src), 546);
    ck_assert_uint_eq(ntohs(key.tp_dst), 547);
    ck_assert_uint_eq(pkt->md.l3_ofs, 14);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54 + 8 + 16);

    /* A routing header is walked the same way. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IPV6_PROTO_ROUTING);
    frame_ipv6_ext(&f, IP_PROTO_TCP, 2);
    frame_tcp(&f, 80, 1024, 0);
    frame_finish(&f);

    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(ntohs(key.tp_src), 80);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54 + 24);
}
END_TEST

START_TEST(test_ipv6_fragments)
{
    struct frame f;
    struct flow_key key;

    /* First fragment: offset 0, more fragments follow. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IPV6_PROTO_FRAGMENT);
    frame_ipv6_frag(&f, IP_PROTO_UDP, IPV6_FRAG_MORE);
    frame_udp(&f, 53, 3333, 16);
    frame_finish(&f);

    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(key.nw_frag, FLOW_NW_FRAG_ANY);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(ntohs(key.tp_src), 53);
    ck_assert_uint_eq(ntohs(key.tp_dst), 3333);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54 + IPV6_FRAG_HEADER_LEN);

    /* A later fragment (offset 1480 bytes, the last one): what follows the
     * fragment header is payload, not ports. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IPV6_PROTO_FRAGMENT);
    frame_ipv6_frag(&f, IP_PROTO_UDP, 1480);
    frame_udp(&f, 53, 3333, 16);
    frame_finish(&f);

    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(key.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(key.nw_ttl, 42);
    ck_assert_uint_eq(pkt->md.l3_ofs, 14);
    check_no_l4(&key);

    /* The smallest nonzero offset, with more fragments to come. */
    put16(&f, 54 + offsetof(struct ipv6_frag_header, ip6f_offlg),
          8 | IPV6_FRAG_MORE);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.nw_frag, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER);
    check_no_l4(&key);
}
END_TEST

START_TEST(test_ipv4_fragments)
{
    static const struct {
        uint16_t frag_off;
        uint8_t nw_frag;
    } cases[] = {
        { 0, 0 },
        { IPV4_DF, 0 },
        { IPV4_MF, FLOW_NW_FRAG_ANY },
        { IPV4_MF | 185, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER },
        { 185, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER },
        { 1, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER },
        { IPV4_FRAG_OFF_MASK, FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER },
    };
    const size_t frag_ofs = 14 + offsetof(struct ipv4_header, ip_frag_off);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct frame f;
        struct flow_key key;
        bool later = cases[i].nw_frag & FLOW_NW_FRAG_LATER;

        frame_init(&f);
        frame_eth(&f, ETH_TYPE_IPV4);
        frame_ipv4(&f, IP_PROTO_UDP, 0);
        frame_udp(&f, 7000, 8000, 32);
        frame_finish(&f);
        put16(&f, frag_ofs, cases[i].frag_off);

        ck_assert_int_eq(parse(f.data, f.len, &key),
                         later ? FLOW_LAYER_L3 : FLOW_LAYER_L4);
        ck_assert_uint_eq(key.error, FLOW_OK);
        ck_assert_uint_eq(key.nw_frag, cases[i].nw_frag);
        ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
        ck_assert_uint_eq(pkt->md.l3_ofs, 14);
        if (later) {
            check_no_l4(&key);
        } else {
            ck_assert_uint_eq(ntohs(key.tp_src), 7000);
            ck_assert_uint_eq(ntohs(key.tp_dst), 8000);
            ck_assert_uint_eq(pkt->md.l4_ofs, 34);
        }
    }
}
END_TEST

START_TEST(test_802_3_length)
{
    static const uint16_t lengths[] = { 0x0000, 0x0026, 0x05dc, 0x05ff };

    for (size_t i = 0; i < ARRAY_SIZE(lengths); i++) {
        struct frame f;
        struct flow_key key;
        /* An LLC header (DSAP, SSAP, control) and STP-looking payload that
         * must not be taken for IP. */
        static const uint8_t llc[] = { 0x42, 0x42, 0x03, 0x45, 0x00 };

        frame_init(&f);
        frame_eth(&f, lengths[i]);
        frame_put(&f, llc, sizeof llc);
        frame_payload(&f, 41);

        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L2);
        ck_assert_uint_eq(key.error, FLOW_OK);
        ck_assert_uint_eq(ntohs(key.dl_type), FLOW_DL_TYPE_NONE);
        ck_assert_uint_eq(key.vlan_tci, 0);
        check_no_l3(&key);
        check_no_l4(&key);
    }

    /* 0x0600 is the first Ethertype, not a length. */
    struct frame f;
    struct flow_key key;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_MIN);
    frame_payload(&f, 46);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L2);
    ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_MIN);

    /* A length inside a VLAN tag is mapped too. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_VLAN);
    frame_vlan(&f, 10, 0x0040);
    frame_payload(&f, 46);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L2);
    ck_assert_uint_eq(ntohs(key.dl_type), FLOW_DL_TYPE_NONE);
    ck_assert_uint_eq(ntohs(key.vlan_tci), 10 | FLOW_VLAN_PRESENT);
}
END_TEST

/* Where the layers of a frame end, for the truncation tests. */
struct trunc_case {
    size_t l2_end;      /* Shortest prefix with the final dl_type. */
    size_t l3_end;      /* Shortest prefix that reaches L3. */
    size_t frag_end;    /* Shortest prefix with the final nw_frag. */
    size_t proto_end;   /* Shortest prefix with the final nw_proto. */
    size_t full_end;    /* Shortest prefix that reaches the last layer. */
    enum flow_layer full_layer;
};

/* Parses every prefix of the frame, from the empty one up to the whole
 * frame, each in a packet of exactly that size, and checks that the parser
 * gets exactly as far as the bytes allow and says why it stopped.  The
 * prefixes grow so that the bytes just past each one have never been
 * written, which lets valgrind catch a read of them. */
static void
check_truncations(const uint8_t *data, size_t len,
                  const struct trunc_case *tc)
{
    struct flow_key full, key;

    /* The whole frame goes into a packet of its own, so that it does not
     * write the bytes that the prefixes must not read. */
    struct packet *whole = fixture_packet(pool, data, len);

    ck_assert_int_eq(flow_extract(whole, &full), tc->full_layer);
    ck_assert_uint_eq(full.error, FLOW_OK);

    uint16_t full_l3_ofs = whole->md.l3_ofs;
    uint16_t full_l4_ofs = whole->md.l4_ofs;
    enum flow_layer prev = FLOW_LAYER_NONE;

    packet_free(whole);

    for (size_t n = 0; n <= len; n++) {
        enum flow_layer expected
            = n < ETH_HEADER_LEN ? FLOW_LAYER_NONE
              : n < tc->l3_end ? FLOW_LAYER_L2
              : n < tc->full_end ? FLOW_LAYER_L3
              : tc->full_layer;
        enum flow_layer layers = parse(data, n, &key);

        ck_assert_msg(layers == expected, "length %zu: layers %d, not %d",
                      n, layers, expected);
        ck_assert_msg(layers >= prev, "length %zu: layers went down", n);
        prev = layers;
        ck_assert_msg(key.error == (n < tc->full_end ? FLOW_ERR_TRUNCATED
                                    : FLOW_OK),
                      "length %zu: error %d", n, key.error);

        if (layers == FLOW_LAYER_NONE) {
            ck_assert(eth_addr_is_zero(&key.dl_src));
            ck_assert(eth_addr_is_zero(&key.dl_dst));
            ck_assert_uint_eq(key.dl_type, 0);
            ck_assert_uint_eq(key.vlan_tci, 0);
        } else {
            ck_assert(eth_addr_equals(&key.dl_src, &full.dl_src));
            ck_assert(eth_addr_equals(&key.dl_dst, &full.dl_dst));
        }
        if (n >= tc->l2_end) {
            ck_assert_uint_eq(key.dl_type, full.dl_type);
            ck_assert_uint_eq(key.vlan_tci, full.vlan_tci);
        }

        if (layers < FLOW_LAYER_L3) {
            check_no_l3(&key);
        } else {
            check_nw_addrs(&key, &full.nw_src, &full.nw_dst);
            ck_assert_uint_eq(key.nw_tos, full.nw_tos);
            ck_assert_uint_eq(key.nw_ttl, full.nw_ttl);
            ck_assert_uint_eq(key.nw_frag,
                              n >= tc->frag_end ? full.nw_frag : 0);
            ck_assert(eth_addr_equals(&key.arp_sha, &full.arp_sha));
            ck_assert(eth_addr_equals(&key.arp_tha, &full.arp_tha));
            ck_assert_uint_eq(key.nw_proto,
                              n >= tc->proto_end ? full.nw_proto : 0);
            ck_assert_uint_eq(pkt->md.l3_ofs, full_l3_ofs);
        }

        if (layers < FLOW_LAYER_L4) {
            check_no_l4(&key);
        } else {
            ck_assert_uint_eq(key.tp_src, full.tp_src);
            ck_assert_uint_eq(key.tp_dst, full.tp_dst);
            ck_assert_uint_eq(pkt->md.l4_ofs, full_l4_ofs);
        }
    }
}

START_TEST(test_truncated_udp4)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[64];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 1000,
                                    2000, 6);
    const struct trunc_case tc = {
        .l2_end = 14, .l3_end = 34, .proto_end = 34, .full_end = 42,
        .full_layer = FLOW_LAYER_L4,
    };

    check_truncations(buf, len, &tc);
}
END_TEST

START_TEST(test_truncated_vlan_tcp4)
{
    struct frame f;
    const struct trunc_case tc = {
        .l2_end = 18, .l3_end = 38, .proto_end = 38, .full_end = 58,
        .full_layer = FLOW_LAYER_L4,
    };

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_VLAN);
    frame_vlan(&f, 2 << VLAN_PCP_SHIFT | 42, ETH_TYPE_IPV4);
    frame_ipv4(&f, IP_PROTO_TCP, 0);
    frame_tcp(&f, 40000, 80, 3);
    frame_finish(&f);
    check_truncations(f.data, f.len, &tc);
}
END_TEST

START_TEST(test_truncated_ipv6_ext)
{
    struct frame f;
    const struct trunc_case tc = {
        .l2_end = 14, .l3_end = 54, .frag_end = 86, .proto_end = 86,
        .full_end = 94, .full_layer = FLOW_LAYER_L4,
    };

    /* Hop-by-hop (8 bytes at 54), destination options (16 at 62), a first
     * fragment header (8 at 78), UDP at 86. */
    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IPV6_PROTO_HOPOPTS);
    frame_ipv6_ext(&f, IPV6_PROTO_DSTOPTS, 0);
    frame_ipv6_ext(&f, IPV6_PROTO_FRAGMENT, 1);
    frame_ipv6_frag(&f, IP_PROTO_UDP, IPV6_FRAG_MORE);
    frame_udp(&f, 5353, 5353, 5);
    frame_finish(&f);
    ck_assert_uint_eq(f.udp, 86);
    check_truncations(f.data, f.len, &tc);
}
END_TEST

START_TEST(test_truncated_arp)
{
    struct eth_addr a = fixture_mac(0x0101);
    uint8_t buf[64];
    size_t len = fixture_arp_request(buf, &a, IP4_A, IP4_B);
    const struct trunc_case tc = {
        .l2_end = 14, .l3_end = 42, .proto_end = 42, .full_end = 42,
        .full_layer = FLOW_LAYER_L3,
    };

    check_truncations(buf, len, &tc);
}
END_TEST

/* Parses a UDP/IPv4 frame whose IPv4 header byte at 'ofs' (from the start
 * of the IP header) is 'value' and checks that it is rejected. */
static void
check_bad_ipv4(size_t ofs, uint8_t value, size_t opt_words)
{
    struct frame f;
    struct flow_key key;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV4);
    frame_ipv4(&f, IP_PROTO_UDP, opt_words);
    frame_udp(&f, 1, 2, 30);
    frame_finish(&f);
    f.data[14 + ofs] = value;

    ck_assert_msg(parse(f.data, f.len, &key) == FLOW_LAYER_L2,
                  "byte %zu = %#x", ofs, value);
    ck_assert_uint_eq(key.error, FLOW_ERR_BAD_L3);
    ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV4);
    check_no_l3(&key);
    check_no_l4(&key);
}

START_TEST(test_malformed_ipv4)
{
    const size_t tot_len_lo = offsetof(struct ipv4_header, ip_tot_len) + 1;

    /* Versions other than 4. */
    check_bad_ipv4(0, 0x55, 0);
    check_bad_ipv4(0, 0x65, 0);
    check_bad_ipv4(0, 0x05, 0);
    /* IHL below 5 words. */
    check_bad_ipv4(0, 0x44, 0);
    check_bad_ipv4(0, 0x40, 0);
    /* Total length shorter than the header: 19 < 20, 23 < 24. */
    check_bad_ipv4(tot_len_lo, 19, 0);
    check_bad_ipv4(tot_len_lo, 0, 0);
    check_bad_ipv4(tot_len_lo, 23, 1);
}
END_TEST

START_TEST(test_malformed_ipv6)
{
    struct frame f;
    struct flow_key key;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IP_PROTO_UDP);
    frame_udp(&f, 1, 2, 8);
    frame_finish(&f);

    static const uint8_t versions[] = { 0x46, 0x06, 0x76, 0xf6 };

    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        /* Keep the traffic class's high nibble (0xb). */
        f.data[14] = (uint8_t) ((versions[i] & 0xf0) | 0x0b);
        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L2);
        ck_assert_uint_eq(key.error, FLOW_ERR_BAD_L3);
        ck_assert_uint_eq(ntohs(key.dl_type), ETH_TYPE_IPV6);
        check_no_l3(&key);
        check_no_l4(&key);
    }
}
END_TEST

/* Builds an IPv6 UDP frame behind 'n_ext' 8-byte destination options
 * headers into 'f'. */
static void
make_ext_chain(struct frame *f, size_t n_ext)
{
    frame_init(f);
    frame_eth(f, ETH_TYPE_IPV6);
    frame_ipv6(f, n_ext ? IPV6_PROTO_DSTOPTS : IP_PROTO_UDP);
    for (size_t i = 0; i < n_ext; i++) {
        frame_ipv6_ext(f, i + 1 < n_ext ? IPV6_PROTO_DSTOPTS : IP_PROTO_UDP,
                       0);
    }
    frame_udp(f, 9, 10, 0);
    frame_finish(f);
}

START_TEST(test_ipv6_ext_chain_limit)
{
    struct frame f;
    struct flow_key key;

    /* Eight extension headers are walked. */
    make_ext_chain(&f, 8);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(ntohs(key.tp_src), 9);
    ck_assert_uint_eq(pkt->md.l4_ofs, 54 + 8 * 8);

    /* A ninth is one too many, whatever follows it. */
    for (size_t n = 9; n <= 12; n++) {
        make_ext_chain(&f, n);
        ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L3);
        ck_assert_uint_eq(key.error, FLOW_ERR_BAD_L3);
        ck_assert_uint_eq(key.nw_proto, 0);
        check_no_l4(&key);
    }
}
END_TEST

START_TEST(test_ip_length_beyond_frame)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[64];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 1234,
                                    5678, 0);
    struct flow_key key;

    /* tot_len says 1500 but the capture holds 28 bytes of datagram: the
     * ports are there, so they are parsed. */
    buf[16] = 1500 >> 8;
    buf[17] = 1500 & 0xff;
    ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(ntohs(key.tp_src), 1234);
    ck_assert_uint_eq(ntohs(key.tp_dst), 5678);

    /* If the frame ends inside the UDP header, the length field does not
     * make up for it. */
    ck_assert_int_eq(parse(buf, len - 1, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_ERR_TRUNCATED);
    check_no_l4(&key);

    /* The same for an IPv6 payload length. */
    struct frame f;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IP_PROTO_TCP);
    frame_tcp(&f, 4321, 8765, 0);
    put16(&f, 14 + offsetof(struct ipv6_header, ip6_plen), 9000);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(ntohs(key.tp_src), 4321);
    ck_assert_int_eq(parse(f.data, f.len - 1, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_ip_length_short_of_l4)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[64];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 1234,
                                    5678, 18);
    struct flow_key key;

    /* tot_len of 20 leaves no room for UDP: the bytes after the header are
     * Ethernet padding, and ports must not be read from them. */
    ck_assert_uint_eq(len, 60);
    buf[16] = 0;
    buf[17] = 20;
    ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_ERR_TRUNCATED);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    check_no_l4(&key);

    /* Likewise with half a UDP header inside the datagram. */
    buf[17] = 24;
    ck_assert_int_eq(parse(buf, len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_ERR_TRUNCATED);
    check_no_l4(&key);

    /* And an IPv6 payload length that ends inside the TCP header. */
    struct frame f;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV6);
    frame_ipv6(&f, IP_PROTO_TCP);
    frame_tcp(&f, 4321, 8765, 10);
    put16(&f, 14 + offsetof(struct ipv6_header, ip6_plen), 19);
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L3);
    ck_assert_uint_eq(key.error, FLOW_ERR_TRUNCATED);
    check_no_l4(&key);
}
END_TEST

START_TEST(test_ethernet_padding)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[60];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 67, 68,
                                    2);
    struct flow_key key;

    /* A 44-byte frame padded to the 60-byte minimum with bytes that would
     * confuse a parser that believed the frame over the IP length. */
    ck_assert_uint_eq(len, 44);
    memset(buf + len, 0xff, sizeof buf - len);
    ck_assert_int_eq(parse(buf, sizeof buf, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(key.nw_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(ntohs(key.tp_src), 67);
    ck_assert_uint_eq(ntohs(key.tp_dst), 68);
    ck_assert_uint_eq(pkt->md.l4_ofs, 34);

    /* An ICMP echo of 28 bytes padded the same way. */
    struct frame f;

    frame_init(&f);
    frame_eth(&f, ETH_TYPE_IPV4);
    frame_ipv4(&f, IP_PROTO_ICMP, 0);
    frame_icmp(&f, 8, 0);
    frame_finish(&f);
    ck_assert_uint_eq(f.len, 42);
    memset(f.data + f.len, 0xee, 18);
    f.len = 60;
    ck_assert_int_eq(parse(f.data, f.len, &key), FLOW_LAYER_L4);
    ck_assert_uint_eq(key.error, FLOW_OK);
    ck_assert_uint_eq(ntohs(key.tp_src), 8);
    ck_assert_uint_eq(ntohs(key.tp_dst), 0);
}
END_TEST

/* Parses the UDP/IPv4 frame with these fields into 'key'. */
static void
hash_key(struct flow_key *key, uint32_t ip_src, uint32_t ip_dst,
         uint8_t proto, uint16_t sport, uint16_t dport, size_t payload)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[128];
    size_t len = fixture_udp4_frame(buf, &dst, &src, ip_src, ip_dst, sport,
                                    dport, payload);

    /* TCP and UDP both start with the ports, so changing the protocol
     * byte keeps them when there are bytes enough for a TCP header. */
    buf[ETH_HEADER_LEN + offsetof(struct ipv4_header, ip_proto)] = proto;
    ck_assert_int_eq(parse(buf, len, key), FLOW_LAYER_L4);
}

START_TEST(test_hash_5tuple)
{
    for (uint32_t i = 0; i < 16; i++) {
        uint32_t s = IP4_A + i * 7919, d = IP4_B - i * 104729;
        uint16_t sp = (uint16_t) (1024 + i * 611), dp = (uint16_t) (80 + i);
        struct flow_key key, other;

        hash_key(&key, s, d, IP_PROTO_UDP, sp, dp, 12);

        uint32_t h = flow_hash_5tuple(&key, 0);

        /* Same flow, different payload and TTL: same hash. */
        hash_key(&other, s, d, IP_PROTO_UDP, sp, dp, 40);
        other.nw_ttl = 1;
        ck_assert_uint_eq(flow_hash_5tuple(&other, 0), h);
        ck_assert_uint_eq(flow_hash_5tuple(&key, 0), h);

        hash_key(&other, s ^ 1, d, IP_PROTO_UDP, sp, dp, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);
        hash_key(&other, s, d ^ 0x100, IP_PROTO_UDP, sp, dp, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);
        hash_key(&other, s, d, IP_PROTO_TCP, sp, dp, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);
        hash_key(&other, s, d, IP_PROTO_UDP, sp + 1, dp, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);
        hash_key(&other, s, d, IP_PROTO_UDP, sp, dp ^ 0x8000, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);

        /* Swapping the ports is a different flow, not the same one. */
        hash_key(&other, s, d, IP_PROTO_UDP, dp, sp, 12);
        ck_assert_uint_ne(flow_hash_5tuple(&other, 0), h);

        ck_assert_uint_ne(flow_hash_5tuple(&key, 1), h);
        ck_assert_uint_ne(flow_hash_5tuple(&key, UINT64_C(1) << 63), h);
        ck_assert_uint_eq(flow_hash_5tuple(&key, 12345),
                          flow_hash_5tuple(&key, 12345));
    }
}
END_TEST

/* Checks that the top 6 bits of the hashes of 4096 flows, which differ
 * only in the source port ('field' 0), the source address (1) or the
 * destination address (2), fill 64 buckets evenly: each within half its
 * share of the mean, as the UDP source ports of encapsulation need. */
static void
check_hash_spread(int field)
{
    unsigned int counts[64] = { 0 };

    for (uint32_t i = 0; i < 4096; i++) {
        struct flow_key key;

        hash_key(&key, IP4_A + (field == 1 ? i : 0),
                 IP4_B + (field == 2 ? i << 8 : 0), IP_PROTO_UDP,
                 (uint16_t) (1024 + (field == 0 ? i : 0)), 4789, 12);
        counts[flow_hash_5tuple(&key, 0x5eed) >> 26]++;
    }
    for (size_t b = 0; b < 64; b++) {
        ck_assert_msg(counts[b] >= 32 && counts[b] <= 96,
                      "field %d: bucket %zu holds %u of 4096", field, b,
                      counts[b]);
    }
}

START_TEST(test_hash_spreads_flows)
{
    check_hash_spread(0);
    check_hash_spread(1);
    check_hash_spread(2);
}
END_TEST

/* Parses the frame in 'buf' with flow_hash() and with
 * flow_extract_hashed(), and checks that both leave the same header
 * offsets, protocol and hash in p->md, and that the hash is the one the
 * key gives (flow_hash_5tuple()): the same frame with an 802.1Q tag,
 * which the hash leaves out, goes the full parser's way, hashed from its
 * key, where the common frame is hashed from its bytes. */
static void
check_flow_hash(const uint8_t *buf, size_t len)
{
    static const uint8_t tag[4] = { 0x81, 0x00, 0x00, 0x05 };
    uint8_t tagged[256];
    struct packet_meta fast, full;
    struct flow_key key;

    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    uint32_t hash = flow_hash(pkt);

    fast = pkt->md;
    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    flow_extract_hashed(pkt, &key);
    full = pkt->md;

    ck_assert(fast.parsed && fast.hash_valid);
    ck_assert_uint_eq(hash, full.hash);
    ck_assert_uint_eq(fast.hash, full.hash);
    ck_assert_uint_eq(fast.l3_ofs, full.l3_ofs);
    ck_assert_uint_eq(fast.l4_ofs, full.l4_ofs);
    ck_assert_uint_eq(fast.l4_proto, full.l4_proto);

    be16 type;

    if (len < ETH_HEADER_LEN || len + sizeof tag > sizeof tagged) {
        return;
    }
    memcpy(&type, buf + 2 * ETH_ADDR_LEN, sizeof type);
    if (type == htons(ETH_TYPE_VLAN) || type == htons(ETH_TYPE_VLAN_QINQ)) {
        return;
    }
    memcpy(tagged, buf, 2 * ETH_ADDR_LEN);
    memcpy(tagged + 2 * ETH_ADDR_LEN, tag, sizeof tag);
    memcpy(tagged + 2 * ETH_ADDR_LEN + sizeof tag, buf + 2 * ETH_ADDR_LEN,
           len - 2 * ETH_ADDR_LEN);
    ck_assert_int_eq(packet_set_frame(pkt, tagged, len + sizeof tag), 0);
    flow_extract_hashed(pkt, &key);
    ck_assert_uint_eq(pkt->md.hash, hash);
}

/* flow_hash() parses the common frame without a key and hands the others
 * to the full parser: either way p->md must be what flow_extract_hashed()
 * makes of the frame.  Random damage to the headers a fast path reads
 * (type, version and length, total length, fragment field, protocol,
 * ports) and random lengths reach every branch of both. */
/* flow_extract() takes the common frame (untagged IPv4 TCP or UDP) apart
 * on a path of its own: the same frame with an 802.1Q tag goes the full
 * parser's way, and both must give the same key but for the tag, and the
 * same offsets but for the tag's four bytes. */
static void
check_fast_extract(const uint8_t *frame, size_t len)
{
    uint8_t tagged[160];
    struct flow_key plain, full;
    struct packet_meta md;

    if (len < ETH_HEADER_LEN) {
        return;
    }
    memcpy(tagged, frame, 2 * ETH_ADDR_LEN);
    memcpy(tagged + 2 * ETH_ADDR_LEN, "\x81\x00\x00\x00", VLAN_HEADER_LEN);
    memcpy(tagged + 2 * ETH_ADDR_LEN + VLAN_HEADER_LEN,
           frame + 2 * ETH_ADDR_LEN, len - 2 * ETH_ADDR_LEN);

    ck_assert_int_eq(packet_set_frame(pkt, frame, len), 0);
    flow_extract(pkt, &plain);
    md = pkt->md;
    ck_assert_int_eq(packet_set_frame(pkt, tagged, len + VLAN_HEADER_LEN),
                     0);
    flow_extract(pkt, &full);
    ck_assert_uint_eq(ntohs(full.vlan_tci), FLOW_VLAN_PRESENT);
    full.vlan_tci = 0;
    ck_assert_mem_eq(&plain, &full, sizeof plain);
    ck_assert_uint_eq(md.l4_proto, pkt->md.l4_proto);
    ck_assert_uint_eq(md.l3_ofs == PACKET_OFS_NONE ? PACKET_OFS_NONE
                      : md.l3_ofs + VLAN_HEADER_LEN, pkt->md.l3_ofs);
    ck_assert_uint_eq(md.l4_ofs == PACKET_OFS_NONE ? PACKET_OFS_NONE
                      : md.l4_ofs + VLAN_HEADER_LEN, pkt->md.l4_ofs);
}

START_TEST(test_flow_hash_matches_extract)
{
    static const size_t spots[] = {
        12, 13,                                         /* Ethernet type. */
        ETH_HEADER_LEN, ETH_HEADER_LEN + 2, ETH_HEADER_LEN + 3,
        ETH_HEADER_LEN + 6, ETH_HEADER_LEN + 7,         /* Fragment. */
        ETH_HEADER_LEN + 9,                             /* Protocol. */
        ETH_HEADER_LEN + 12, ETH_HEADER_LEN + 19,       /* Addresses. */
        ETH_HEADER_LEN + 20, ETH_HEADER_LEN + 23,       /* Ports. */
        ETH_HEADER_LEN + 24, ETH_HEADER_LEN + 32,
    };
    static const uint8_t protos[] = {
        IP_PROTO_UDP, IP_PROTO_TCP, IP_PROTO_ICMP, 47,
    };
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint32_t seed = 12345;

    for (int i = 0; i < 100000; i++) {
        uint8_t buf[128];
        size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A + (uint32_t) i,
                                        IP4_B, (uint16_t) i, 80, 40);

        seed = seed * 1103515245 + 12345;
        buf[ETH_HEADER_LEN + offsetof(struct ipv4_header, ip_proto)]
            = protos[(seed >> 16) % ARRAY_SIZE(protos)];
        for (int n = (int) (seed >> 28) % 3; n > 0; n--) {
            seed = seed * 1103515245 + 12345;
            buf[spots[(seed >> 16) % ARRAY_SIZE(spots)]] ^= (uint8_t)
                                                             (1 << (seed
                                                                    >> 29));
        }
        seed = seed * 1103515245 + 12345;
        if (seed >> 31) {
            len = (seed >> 16) % (len + 1);
        }
        check_flow_hash(buf, len);
        check_fast_extract(buf, len);
    }
}
END_TEST

/* flow_compose() then flow_extract() gives 'key' back, with 'layers'; the
 * frame's lengths and checksums hold, and its metadata is the key's. */
static void
check_compose(const struct flow_key *key, enum flow_layer layers)
{
    struct flow_key got;

    ck_assert_int_eq(flow_compose(pkt, key), 0);
    ck_assert_uint_eq(pkt->md.in_port, key->in_port);
    ck_assert_uint_eq(pkt->md.vni, key->vni);
    ck_assert(!memcmp(&pkt->md.tun_src, &key->tun_src, sizeof key->tun_src));
    ck_assert(!memcmp(&pkt->md.tun_dst, &key->tun_dst, sizeof key->tun_dst));

    memset(&got, 0xa5, sizeof got);
    ck_assert_int_eq(flow_extract(pkt, &got), layers);
    ck_assert_int_eq(got.error, FLOW_OK);

    struct flow_key want = *key;

    want.layers = (uint8_t) layers;
    ck_assert_mem_eq(&got, &want, sizeof want);

    const uint8_t *l3 = packet_data(pkt) + pkt->md.l3_ofs;

    if (key->dl_type == htons(ETH_TYPE_IPV4)) {
        ck_assert_uint_eq(csum_finish(csum_add_bytes(0, l3, IPV4_HEADER_LEN)),
                          0);
        ck_assert_uint_eq(l3[2] << 8 | l3[3],
                          packet_size(pkt) - pkt->md.l3_ofs);
    } else if (key->dl_type == htons(ETH_TYPE_IPV6)) {
        ck_assert_uint_eq(l3[4] << 8 | l3[5],
                          packet_size(pkt) - pkt->md.l3_ofs - IPV6_HEADER_LEN);
    }
    if (layers == FLOW_LAYER_L4) {
        size_t len = packet_size(pkt) - pkt->md.l4_ofs;
        uint32_t sum = 0;

        if (key->dl_type == htons(ETH_TYPE_IPV6)) {
            sum = csum_pseudo_ipv6(&key->nw_src, &key->nw_dst, key->nw_proto,
                                   (uint32_t) len);
        } else if (key->nw_proto != IP_PROTO_ICMP) {
            sum = csum_pseudo_ipv4(inet_to_ipv4(&key->nw_src),
                                   inet_to_ipv4(&key->nw_dst), key->nw_proto,
                                   (uint16_t) len);
        }
        sum = csum_add_bytes(sum, packet_data(pkt) + pkt->md.l4_ofs, len);
        ck_assert_uint_eq(csum_finish(sum), 0);
    }
}

/* A key with both addresses, a port and a VNI, and the given type. */
static struct flow_key
compose_key(uint16_t dl_type)
{
    struct flow_key key;

    memset(&key, 0, sizeof key);
    key.in_port = 7;
    key.vni = 5001;
    key.dl_src = fixture_mac(1);
    key.dl_dst = fixture_mac(2);
    key.dl_type = htons(dl_type);
    if (dl_type == ETH_TYPE_IPV6) {
        memcpy(&key.nw_src, ip6_a, sizeof ip6_a);
        memcpy(&key.nw_dst, ip6_b, sizeof ip6_b);
    } else {
        key.nw_src = inet_from_ipv4(htonl(IP4_A));
        key.nw_dst = inet_from_ipv4(htonl(IP4_B));
    }
    return key;
}

static void
set_l4(struct flow_key *key, uint8_t proto, uint16_t tp_src, uint16_t tp_dst)
{
    key->nw_proto = proto;
    key->tp_src = htons(tp_src);
    key->tp_dst = htons(tp_dst);
}

START_TEST(test_compose_arp)
{
    struct flow_key key = compose_key(ETH_TYPE_ARP);

    key.nw_proto = ARP_OP_REPLY;
    key.arp_sha = fixture_mac(1);
    key.arp_tha = fixture_mac(2);
    check_compose(&key, FLOW_LAYER_L3);
    key.nw_proto = ARP_OP_REQUEST;
    memset(&key.arp_tha, 0, sizeof key.arp_tha);
    key.dl_dst = (struct eth_addr) {{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }};
    check_compose(&key, FLOW_LAYER_L3);
}
END_TEST

START_TEST(test_compose_tcp4)
{
    struct flow_key key = compose_key(ETH_TYPE_IPV4);

    key.tun_src = inet_from_ipv4(htonl(0x0a000001));
    key.tun_dst = inet_from_ipv4(htonl(0x0a000002));
    key.nw_tos = 0xb8;
    key.nw_ttl = 64;
    set_l4(&key, IP_PROTO_TCP, 40000, 22);
    key.tcp_flags = htons(0x112);       /* NS, ACK, SYN. */
    check_compose(&key, FLOW_LAYER_L4);
}
END_TEST

START_TEST(test_compose_udp4_icmp4)
{
    struct flow_key key = compose_key(ETH_TYPE_IPV4);

    key.nw_ttl = 1;
    set_l4(&key, IP_PROTO_UDP, 5353, 53);
    check_compose(&key, FLOW_LAYER_L4);

    set_l4(&key, IP_PROTO_ICMP, 3, 1);  /* Host unreachable. */
    check_compose(&key, FLOW_LAYER_L4);

    /* A protocol without ports ends at L3. */
    set_l4(&key, 47, 0, 0);
    check_compose(&key, FLOW_LAYER_L3);
}
END_TEST

START_TEST(test_compose_ipv6)
{
    struct flow_key key = compose_key(ETH_TYPE_IPV6);

    key.nw_tos = 0x28;
    key.nw_ttl = 255;
    set_l4(&key, IP_PROTO_TCP, 1000, 443);
    key.tcp_flags = htons(0x002);
    check_compose(&key, FLOW_LAYER_L4);

    key.tcp_flags = 0;
    set_l4(&key, IP_PROTO_ICMPV6, 135, 0); /* Neighbour solicitation. */
    check_compose(&key, FLOW_LAYER_L4);
}
END_TEST

START_TEST(test_compose_fragments)
{
    struct flow_key key4 = compose_key(ETH_TYPE_IPV4);
    struct flow_key key6 = compose_key(ETH_TYPE_IPV6);

    key4.nw_proto = key6.nw_proto = IP_PROTO_UDP;
    key4.nw_frag = key6.nw_frag = FLOW_NW_FRAG_ANY;
    key4.tp_src = key6.tp_src = htons(7);
    key4.tp_dst = key6.tp_dst = htons(9);
    check_compose(&key4, FLOW_LAYER_L4);
    check_compose(&key6, FLOW_LAYER_L4);

    /* Later fragments have no ports. */
    key4.nw_frag = key6.nw_frag = FLOW_NW_FRAG_ANY | FLOW_NW_FRAG_LATER;
    key4.tp_src = key6.tp_src = 0;
    key4.tp_dst = key6.tp_dst = 0;
    check_compose(&key4, FLOW_LAYER_L3);
    check_compose(&key6, FLOW_LAYER_L3);
}
END_TEST

START_TEST(test_compose_vlan)
{
    struct flow_key key = compose_key(ETH_TYPE_IPV4);

    key.vlan_tci = htons(FLOW_VLAN_PRESENT | 5 << VLAN_PCP_SHIFT | 100);
    set_l4(&key, IP_PROTO_UDP, 1, 4789);
    check_compose(&key, FLOW_LAYER_L4);
    ck_assert_uint_eq(packet_size(pkt), ETH_HEADER_LEN + VLAN_HEADER_LEN
                                        + IPV4_HEADER_LEN + UDP_HEADER_LEN);
    /* The tag on the wire has PCP 5 and VID 100, the DEI bit clear. */
    ck_assert_uint_eq(packet_data(pkt)[14], 0xa0);
    ck_assert_uint_eq(packet_data(pkt)[15], 100);

    /* A tag of all zeros is still a tag. */
    key.vlan_tci = htons(FLOW_VLAN_PRESENT);
    check_compose(&key, FLOW_LAYER_L4);
    ck_assert_uint_eq(packet_data(pkt)[12], 0x81);
}
END_TEST

START_TEST(test_compose_l2)
{
    struct flow_key key;

    memset(&key, 0, sizeof key);
    key.in_port = 2;
    key.dl_src = fixture_mac(3);
    key.dl_dst = fixture_mac(4);
    key.dl_type = htons(0x88cc);
    check_compose(&key, FLOW_LAYER_L2);
    ck_assert_uint_eq(packet_size(pkt), ETH_HEADER_LEN);

    key.dl_type = htons(FLOW_DL_TYPE_NONE);
    check_compose(&key, FLOW_LAYER_L2);

    /* The key of 'trace in_port=2': an empty frame of unknown type. */
    key.dl_type = 0;
    ck_assert_int_eq(flow_compose(pkt, &key), 0);
    ck_assert_uint_eq(packet_size(pkt), ETH_HEADER_LEN);
    ck_assert_uint_eq(pkt->md.in_port, 2);
}
END_TEST

/* Whoever parses a frame first leaves its offsets and its flow hash in the
 * metadata; the hash is the same for frames of one flow, and flow_parse()
 * does not parse a frame again. */
START_TEST(test_parse_records_offsets_and_hash)
{
    struct eth_addr dst = fixture_mac(2), src = fixture_mac(1);
    uint8_t buf[128];
    size_t len = fixture_udp4_frame(buf, &dst, &src, IP4_A, IP4_B, 67, 68,
                                    10);
    struct flow_key key;
    uint32_t hash;

    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    ck_assert(!pkt->md.parsed && !pkt->md.hash_valid);
    flow_parse(pkt);
    ck_assert(pkt->md.parsed && pkt->md.hash_valid);
    ck_assert_uint_eq(pkt->md.l3_ofs, ETH_HEADER_LEN);
    ck_assert_uint_eq(pkt->md.l4_ofs, ETH_HEADER_LEN + IPV4_HEADER_LEN);
    ck_assert_uint_eq(pkt->md.l4_proto, IP_PROTO_UDP);
    hash = pkt->md.hash;

    /* Parsed already: a changed frame is not looked at again. */
    buf[ETH_HEADER_LEN + IPV4_HEADER_LEN] ^= 0xff;
    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    pkt->md.parsed = true;
    pkt->md.hash = hash;
    pkt->md.hash_valid = true;
    flow_parse(pkt);
    ck_assert_uint_eq(pkt->md.hash, hash);

    /* Another source port is another flow; the same frame again, the
     * same hash, from either function. */
    flow_extract_hashed(pkt, &key);
    ck_assert_uint_ne(pkt->md.hash, hash);
    buf[ETH_HEADER_LEN + IPV4_HEADER_LEN] ^= 0xff;
    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    flow_extract_hashed(pkt, &key);
    ck_assert_uint_eq(pkt->md.hash, hash);
    ck_assert_uint_eq(ntohs(key.tp_src), 67);

    /* A fragment has no transport header to hand on. */
    buf[ETH_HEADER_LEN + offsetof(struct ipv4_header, ip_frag_off)] = 0x20;
    ck_assert_int_eq(packet_set_frame(pkt, buf, len), 0);
    flow_parse(pkt);
    ck_assert_uint_eq(pkt->md.l4_proto, 0);
}
END_TEST

static Suite *
flow_suite(void)
{
    /* Not static: Check's test handles are variables, not constants. */
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        { "parses every field of a UDP/IPv4 frame", test_udp4_every_field },
        { "records offsets and hash once",
          test_parse_records_offsets_and_hash },
        { "moves the L4 offset past IPv4 options", test_tcp4_options },
        { "reads ICMP type and code as ports", test_icmp_type_code },
        { "reads ICMPv6 type and code as ports", test_icmpv6_type_code },
        { "parses ARP requests and replies", test_arp_request_reply },
        { "rejects ARP with wrong address lengths", test_arp_bad_lengths },
        { "parses an 802.1Q tag", test_vlan_tag },
        { "keeps the outer tag of QinQ", test_qinq_tags },
        { "parses an IPv6 UDP frame", test_ipv6_udp },
        { "walks IPv6 extension headers", test_ipv6_ext_headers },
        { "marks IPv6 fragments", test_ipv6_fragments },
        { "marks IPv4 fragments", test_ipv4_fragments },
        { "maps an 802.3 length to dl_type 0x05ff", test_802_3_length },
        { "stops at every truncation of a UDP/IPv4 frame",
          test_truncated_udp4 },
        { "stops at every truncation of a tagged TCP/IPv4 frame",
          test_truncated_vlan_tcp4 },
        { "stops at every truncation of an IPv6 extension chain",
          test_truncated_ipv6_ext },
        { "stops at every truncation of an ARP frame", test_truncated_arp },
        { "rejects malformed IPv4 headers", test_malformed_ipv4 },
        { "rejects a wrong IPv6 version", test_malformed_ipv6 },
        { "gives up after 8 IPv6 extension headers",
          test_ipv6_ext_chain_limit },
        { "parses L4 when the IP length runs past the frame",
          test_ip_length_beyond_frame },
        { "reads no ports past the IP length", test_ip_length_short_of_l4 },
        { "ignores Ethernet padding", test_ethernet_padding },
        { "hashes the 5-tuple", test_hash_5tuple },
        { "hash spreads flows", test_hash_spreads_flows },
        { "hashes and extracts the common frame as the full parser",
          test_flow_hash_matches_extract },
        { "composes ARP", test_compose_arp },
        { "composes TCP/IPv4", test_compose_tcp4 },
        { "composes UDP and ICMP over IPv4", test_compose_udp4_icmp4 },
        { "composes TCP and ICMPv6 over IPv6", test_compose_ipv6 },
        { "composes fragments", test_compose_fragments },
        { "composes an 802.1Q tag", test_compose_vlan },
        { "composes plain Ethernet", test_compose_l2 },
    };
    Suite *s = suite_create("flow");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        fixture_add_case(s, cases[i].name, cases[i].test, setup, teardown);
    }
    return s;
}

int
main(void)
{
    return fixture_run(flow_suite());
}
