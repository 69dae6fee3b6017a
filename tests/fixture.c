#include <config.h>

#include "fixture.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "actions.h"
#include "csum.h"
#include "flow-text.h"
#include "headers.h"
#include "inet.h"
#include "match.h"
#include "packet.h"
#include "port.h"
#include "vxlan.h"

size_t
fixture_pcap_read(const char *name, struct fixture_frame **framesp)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    char errbuf[PCAP_ERRBUF_SIZE];

    snprintf(path, sizeof path, "%s/tests/data/%s", top ? top : ".", name);

    pcap_t *pcap = pcap_open_offline(path, errbuf);

    ck_assert_msg(pcap != NULL, "%s: %s", path, errbuf);

    struct fixture_frame *frames = NULL;
    size_t n = 0;
    struct pcap_pkthdr *hdr;
    const u_char *data;

    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        frames = realloc(frames, (n + 1) * sizeof *frames);
        ck_assert_ptr_nonnull(frames);
        frames[n].data = malloc(hdr->caplen);
        ck_assert_ptr_nonnull(frames[n].data);
        memcpy(frames[n].data, data, hdr->caplen);
        frames[n].len = hdr->caplen;
        n++;
    }
    pcap_close(pcap);
    *framesp = frames;
    return n;
}

void
fixture_frames_free(struct fixture_frame *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(frames[i].data);
    }
    free(frames);
}

struct packet *
fixture_packet(struct packet_pool *pool, const void *data, size_t len)
{
    struct packet *p = packet_alloc(pool);

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(packet_set_frame(p, data, len), 0);
    return p;
}

static size_t
put_eth(uint8_t *buf, const struct eth_addr *dst, const struct eth_addr *src,
        uint16_t type)
{
    struct eth_header eth = { .eth_dst = *dst, .eth_src = *src,
                              .eth_type = htons(type) };

    memcpy(buf, &eth, sizeof eth);
    return sizeof eth;
}

size_t
fixture_udp4_frame(uint8_t *buf, const struct eth_addr *dst,
                   const struct eth_addr *src, uint32_t ip_src,
                   uint32_t ip_dst, uint16_t sport, uint16_t dport,
                   size_t payload_len)
{
    size_t n = put_eth(buf, dst, src, ETH_TYPE_IPV4);
    struct ipv4_header ip = {
        .ip_ihl_ver = 0x45,
        .ip_tot_len = htons((uint16_t) (IPV4_HEADER_LEN + UDP_HEADER_LEN
                                        + payload_len)),
        .ip_ttl = 64,
        .ip_proto = IP_PROTO_UDP,
    };
    struct udp_header udp = {
        .udp_src = htons(sport),
        .udp_dst = htons(dport),
        .udp_len = htons((uint16_t) (UDP_HEADER_LEN + payload_len)),
    };

    be32_16_put(&ip.ip_src, htonl(ip_src));
    be32_16_put(&ip.ip_dst, htonl(ip_dst));
    ip.ip_csum = csum_finish(csum_add_bytes(0, &ip, sizeof ip));
    memcpy(buf + n, &ip, sizeof ip);
    n += sizeof ip;
    memcpy(buf + n, &udp, sizeof udp);
    n += sizeof udp;
    for (size_t i = 0; i < payload_len; i++) {
        buf[n++] = (uint8_t) i;
    }
    return n;
}

size_t
fixture_tcp_frame(uint8_t *buf, const struct fixture_tcp *t)
{
    /* Timestamps after two NOPs: options that every segment must carry. */
    static const uint8_t options[12] = { 1, 1, 8, 10, 0, 0, 0, 1,
                                         0, 0, 0, 2 };
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);
    uint8_t proto = t->udp ? IP_PROTO_UDP : IP_PROTO_TCP;
    size_t hdr_len = t->udp ? UDP_HEADER_LEN : TCP_HEADER_LEN + sizeof options;
    size_t tcp_len = hdr_len + t->payload_len;
    size_t csum_ofs = t->udp ? offsetof(struct udp_header, udp_csum)
                             : offsetof(struct tcp_header, tcp_csum);
    struct in6_addr src = fixture_ip(t->ipv6 ? "fd00::1" : "10.0.0.1");
    struct in6_addr dst = fixture_ip(t->ipv6 ? "fd00::2" : "10.0.0.2");
    struct tcp_header tcp = {
        .tcp_src = htons(1000),
        .tcp_dst = htons(80),
        .tcp_ctl = htons((uint16_t) ((TCP_HEADER_LEN + sizeof options) / 4
                                     << 12 | t->flags)),
        .tcp_winsz = htons(512),
    };
    uint16_t type = t->ipv6 ? ETH_TYPE_IPV6 : ETH_TYPE_IPV4;
    size_t n = put_eth(buf, &b, &a, t->vlan ? ETH_TYPE_VLAN : type);
    size_t l4;
    uint32_t pseudo;

    if (t->vlan) {
        be16 tag[2] = { htons(100), htons(type) };

        memcpy(buf + n, tag, sizeof tag);
        n += sizeof tag;
    }
    if (t->ipv6) {
        struct ipv6_header ip6 = { .ip6_plen = htons((uint16_t) tcp_len),
                                   .ip6_nxt = proto,
                                   .ip6_hlim = 64 };

        be32_16_put(&ip6.ip6_vtc_flow, htonl(0x60000000));
        memcpy(ip6.ip6_src, &src, 16);
        memcpy(ip6.ip6_dst, &dst, 16);
        memcpy(buf + n, &ip6, sizeof ip6);
        n += sizeof ip6;
        pseudo = csum_pseudo_ipv6(&src, &dst, proto, (uint32_t) tcp_len);
    } else {
        struct ipv4_header ip = {
            .ip_ihl_ver = 0x45,
            .ip_tot_len = htons((uint16_t) (IPV4_HEADER_LEN + tcp_len)),
            .ip_id = htons(0x1234),
            .ip_frag_off = htons(IPV4_DF),
            .ip_ttl = 64,
            .ip_proto = proto,
        };

        be32_16_put(&ip.ip_src, inet_to_ipv4(&src));
        be32_16_put(&ip.ip_dst, inet_to_ipv4(&dst));
        ip.ip_csum = csum_finish(csum_add_bytes(0, &ip, sizeof ip));
        memcpy(buf + n, &ip, sizeof ip);
        n += sizeof ip;
        pseudo = csum_pseudo_ipv4(inet_to_ipv4(&src), inet_to_ipv4(&dst),
                                  proto, (uint16_t) tcp_len);
    }
    be32_16_put(&tcp.tcp_seq, htonl(t->seq));
    be32_16_put(&tcp.tcp_ack, htonl(7));
    l4 = n;
    if (t->udp) {
        struct udp_header udp = { .udp_src = htons(1000),
                                  .udp_dst = htons(80),
                                  .udp_len = htons((uint16_t) tcp_len) };

        memcpy(buf + n, &udp, sizeof udp);
        n += sizeof udp;
    } else {
        memcpy(buf + n, &tcp, sizeof tcp);
        n += sizeof tcp;
        memcpy(buf + n, options, sizeof options);
        n += sizeof options;
    }
    for (size_t i = 0; i < t->payload_len; i++) {
        buf[n++] = (uint8_t) (i * 7);
    }
    tcp.tcp_csum = t->partial
                   ? (be16) ~csum_finish(pseudo)
                   : csum_finish(csum_add_bytes(pseudo, buf + l4, tcp_len));
    memcpy(buf + l4 + csum_ofs, &tcp.tcp_csum, 2);
    return n;
}

size_t
fixture_arp_request(uint8_t *buf, const struct eth_addr *src,
                    uint32_t sender_ip, uint32_t target_ip)
{
    static const struct eth_addr bcast = {{ 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff }};
    size_t n = put_eth(buf, &bcast, src, ETH_TYPE_ARP);
    struct arp_eth_header arp = {
        .ar_hrd = htons(ARP_HTYPE_ETHERNET),
        .ar_pro = htons(ETH_TYPE_IPV4),
        .ar_hln = ETH_ADDR_LEN,
        .ar_pln = 4,
        .ar_op = htons(ARP_OP_REQUEST),
        .ar_sha = *src,
    };

    be32_16_put(&arp.ar_spa, htonl(sender_ip));
    be32_16_put(&arp.ar_tpa, htonl(target_ip));
    memcpy(buf + n, &arp, sizeof arp);
    return n + sizeof arp;
}

struct in6_addr
fixture_ip(const char *s)
{
    struct in6_addr a;

    ck_assert_msg(inet_parse(s, &a), "%s does not parse", s);
    return a;
}

struct eth_addr
fixture_mac(uint16_t n)
{
    return (struct eth_addr) {{ 0x02, 0, 0, 0, (uint8_t) (n >> 8),
                                (uint8_t) n }};
}

struct flow_key
fixture_tcp4_key(const char *src, uint16_t tp_dst)
{
    struct flow_key key;

    memset(&key, 0, sizeof key);
    key.in_port = 3;
    key.dl_src = fixture_mac(1);
    key.dl_dst = fixture_mac(2);
    key.dl_type = htons(ETH_TYPE_IPV4);
    key.nw_src = fixture_ip(src);
    key.nw_dst = fixture_ip("10.0.0.2");
    key.nw_proto = IP_PROTO_TCP;
    key.nw_ttl = 64;
    key.tp_src = htons(40000);
    key.tp_dst = htons(tp_dst);
    key.layers = FLOW_LAYER_L4;
    return key;
}

struct match
fixture_tcp4_match(uint16_t tp_dst)
{
    struct match m;

    match_init_catchall(&m);
    m.key.dl_type = htons(ETH_TYPE_IPV4);
    m.mask.dl_type = htons(0xffff);
    m.key.nw_proto = IP_PROTO_TCP;
    m.mask.nw_proto = 0xff;
    if (tp_dst) {
        m.key.tp_dst = htons(tp_dst);
        m.mask.tp_dst = htons(0xffff);
    }
    return m;
}

struct flow_actions *
fixture_actions(const struct flow_action *acts, size_t n)
{
    struct flow_actions *a = flow_actions_create(acts, n);

    ck_assert_ptr_nonnull(a);
    return a;
}

struct flow_spec
fixture_spec(int table, uint16_t priority, const struct match *m,
             struct flow_actions *acts)
{
    struct flow_spec spec = {
        .table = table,
        .has_priority = true,
        .priority = priority,
        .actions = acts,
    };

    if (m) {
        spec.match = *m;
        match_normalize(&spec.match);
    } else {
        match_init_catchall(&spec.match);
    }
    return spec;
}

void
fixture_vxlan_wire_outer(struct packet *p,
                         const struct vxlan_encap_params *params,
                         const struct eth_addr *eth_dst, uint16_t ip_id)
{
    bool ipv4 = inet_is_ipv4(&p->md.tun_dst);
    struct eth_header *eth;

    vxlan_push_outer(p, params, ip_id);
    eth = packet_push(p, ETH_HEADER_LEN);
    ck_assert_ptr_nonnull(eth);
    eth->eth_dst = *eth_dst;
    eth->eth_src = params->eth_src;
    eth->eth_type = htons(ipv4 ? ETH_TYPE_IPV4 : ETH_TYPE_IPV6);
}

int
fixture_vxlan_wire(struct packet *p, const struct vxlan_encap_params *params,
                   uint32_t vni, const struct in6_addr *dst,
                   const struct eth_addr *eth_dst, uint16_t ip_id)
{
    int error = vxlan_encap(p, params, vni, dst);

    if (!error) {
        fixture_vxlan_wire_outer(p, params, eth_dst, ip_id);
    }
    return error;
}

void
fixture_add_case(Suite *s, const char *name, const TTest *test,
                 void (*setup)(void), void (*teardown)(void))
{
    TCase *tc = tcase_create(name);

    if (setup || teardown) {
        tcase_add_checked_fixture(tc, setup, teardown);
    }
    tcase_add_test(tc, test);
    suite_add_tcase(s, tc);
}

/* The exit status that fixture_need_root() gives a test, and the message
 * Check records for a test process that exits early. */
#define SKIP_STATUS 77
#define SKIP_MESSAGE "Early exit with return value 77"

void
fixture_need_root(const char *what)
{
    if (geteuid() != 0) {
        printf("SKIP: %s needs root\n", what);
        fflush(stdout);
        _exit(SKIP_STATUS);
    }
}

int
fixture_run(Suite *s)
{
    SRunner *sr = srunner_create(s);

    srunner_run_all(sr, CK_NORMAL);

    int failed = srunner_ntests_failed(sr);
    TestResult **results = srunner_failures(sr);
    int skipped = 0;

    for (int i = 0; i < failed; i++) {
        skipped += !strcmp(tr_msg(results[i]), SKIP_MESSAGE);
    }
    free(results);
    srunner_free(sr);
    return failed > skipped ? EXIT_FAILURE
           : skipped ? SKIP_STATUS : EXIT_SUCCESS;
}

size_t
fixture_drain_pool(struct packet_pool *pool, struct packet **held,
                   size_t max)
{
    struct packet *p;
    size_t n = 0;

    while ((p = packet_alloc(pool)) != NULL) {
        ck_assert_uint_lt(n, max);
        held[n++] = p;
    }
    return n;
}

void
fixture_shell(const char *format, ...)
{
    char command[512];
    va_list args;
    int status;

    va_start(args, format);
    vsnprintf(command, sizeof command, format, args);
    va_end(args);
    status = system(command);
    ck_assert_msg(status == 0, "'%s' exited with %d", command, status);
}

void
fixture_write_file(const char *file, const char *text)
{
    FILE *stream = fopen(file, "w");

    ck_assert_msg(stream != NULL, "%s: %s", file, strerror(errno));
    fputs(text, stream);
    ck_assert_int_eq(fclose(stream), 0);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
             struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove(path);
}

void
fixture_remove_tree(const char *dir)
{
    ck_assert_int_eq(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

void
fixture_private_netns(bool ipv6)
{
    fixture_need_root("a network namespace of its own");
    ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
    if (!ipv6) {
        fixture_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
        fixture_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6",
                           "1");
    }
    fixture_shell("ip link set lo up");
}

size_t
fixture_numbered_frame(uint8_t *buf, size_t i)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);

    return fixture_udp4_frame(buf, &b, &a, 0xac1ffd05, 0xac1ffd06,
                              (uint16_t) (1000 + i), 4000, 30 + i);
}

void
fixture_send_numbered_frames(struct port *port, struct packet_pool *pool,
                             size_t n)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[256];

        packet_batch_add(&batch, fixture_packet(pool, buf,
                                                fixture_numbered_frame(buf,
                                                                       i)));
    }
    port->class->send(port, &batch);
    ck_assert_uint_eq(batch.count, 0);
}

void
fixture_pool_destroy(struct packet_pool *pool)
{
    struct packet_pool_stats stats;

    /* Every buffer a test handed out or a port took came back. */
    packet_pool_get_stats(pool, &stats);
    ck_assert_uint_eq(stats.n_free, stats.n_packets);
    packet_pool_destroy(pool);
}

void
fixture_wait_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    ck_assert_msg(poll(&pfd, 1, FIXTURE_WAIT_MS) == 1,
                  "nothing to read after %d ms", FIXTURE_WAIT_MS);
}

void
fixture_split_options(struct fixture_options *opts,
                      const char *const *options, size_t n)
{
    ck_assert_uint_le(n, FIXTURE_MAX_OPTIONS);
    opts->n = n;
    for (size_t i = 0; i < n; i++) {
        char *eq;

        ck_assert_uint_lt(strlen(options[i]), sizeof opts->copies[i]);
        strcpy(opts->copies[i], options[i]);
        eq = strchr(opts->copies[i], '=');
        ck_assert_msg(eq != NULL, "option '%s' has no '='", options[i]);
        *eq = '\0';
        opts->keys[i] = opts->copies[i];
        opts->values[i] = eq + 1;
    }
}

int
fixture_port_open(const char *type, const char *name,
                  const char *const *options, struct port **portp,
                  char *error, size_t error_size)
{
    static struct fixture_options opts;
    const struct port_class *class = port_class_find(type);
    size_t n = 0;

    while (options && options[n]) {
        n++;
    }
    fixture_split_options(&opts, options, n);
    ck_assert_ptr_nonnull(class);
    *portp = NULL;
    error[0] = '\0';
    return class->open(&(struct port_args) { .name = name, .owner = "test",
                                             .keys = opts.keys,
                                             .values = opts.values,
                                             .n_options = opts.n },
                       portp, error, error_size);
}

void
fixture_collect_segment(void *segs_, struct packet *seg)
{
    struct fixture_segments *segs = segs_;

    ck_assert_uint_lt(segs->n, ARRAY_SIZE(segs->seg));
    segs->seg[segs->n++] = seg;
}

void
fixture_free_segments(struct fixture_segments *segs, size_t first)
{
    for (size_t i = first; i < segs->n; i++) {
        packet_free(segs->seg[i]);
    }
    segs->n = MIN(segs->n, first);
}

int
fixture_packet_socket(const char *name)
{
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = (int) if_nametoindex(name),
    };
    int one = 1;
    int sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

    ck_assert_int_ne(sll.sll_ifindex, 0);
    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(setsockopt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING,
                                &one, sizeof one), 0);
    ck_assert_int_eq(bind(sock, (struct sockaddr *) &sll, sizeof sll), 0);
    return sock;
}

int
fixture_vnet_packet_socket(const char *name)
{
    int one = 1;
    int sock = fixture_packet_socket(name);

    ck_assert_int_eq(setsockopt(sock, SOL_PACKET, PACKET_VNET_HDR, &one,
                                sizeof one), 0);
    return sock;
}

/* Builds the super frame into 'buf' with its checksum left to offload or,
 * with 'finished', done.  Returns its length. */
static size_t
super_frame(uint8_t *buf, bool vlan, bool finished)
{
    struct fixture_tcp t = { .vlan = vlan, .payload_len = 3000,
                             .flags = 0x010, .partial = !finished };

    return fixture_tcp_frame(buf, &t);
}

static size_t
super_frame_l4(bool vlan)
{
    return ETH_HEADER_LEN + (vlan ? VLAN_HEADER_LEN : 0) + IPV4_HEADER_LEN;
}

size_t
fixture_send_super_frame(int sock, bool vlan)
{
    static uint8_t frame[4096];
    size_t len = super_frame(frame, vlan, false);
    size_t l4 = super_frame_l4(vlan);
    struct virtio_net_hdr hdr = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = (uint16_t) (l4 + TCP_HEADER_LEN + 12),
        .gso_size = FIXTURE_MSS,
        .csum_start = (uint16_t) l4,
        .csum_offset = 16,
    };
    struct iovec iov[2] = { { &hdr, sizeof hdr }, { frame, len } };

    ck_assert_int_eq(writev(sock, iov, 2), (ssize_t) (sizeof hdr + len));
    return len;
}

void
fixture_expect_super_frame(struct packet *p, bool vlan)
{
    static uint8_t want[4096];
    size_t len = super_frame(want, vlan, true);

    ck_assert_uint_eq(packet_size(p), len);
    ck_assert_uint_eq(p->md.gso_size, FIXTURE_MSS);
    ck_assert(p->md.csum_partial);
    ck_assert_uint_eq(p->md.csum_start, super_frame_l4(vlan));
    ck_assert_uint_eq(p->md.csum_offset, 16);
    csum_complete_partial(p);
    ck_assert_mem_eq(packet_data(p), want, len);
}

void
fixture_expect_super_frame_sent(struct port *port, struct packet_pool *pool,
                                int sock)
{
    static uint8_t frame[4096], got[8192];
    size_t len = super_frame(frame, false, false);
    struct packet *p = fixture_packet(pool, frame, len);
    struct packet_batch batch;
    struct virtio_net_hdr hdr;

    p->md.gso_size = FIXTURE_MSS;
    p->md.csum_partial = true;
    p->md.csum_start = (uint16_t) super_frame_l4(false);
    p->md.csum_offset = 16;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    port->class->send(port, &batch);
    ck_assert_uint_eq(port->stats.tx_errors, 0);

    fixture_wait_readable(sock);
    ck_assert_int_eq(recv(sock, got, sizeof got, 0),
                     (ssize_t) (sizeof hdr + len));
    memcpy(&hdr, got, sizeof hdr);
    ck_assert_uint_eq(hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(hdr.gso_size, FIXTURE_MSS);
    ck_assert_mem_eq(got + sizeof hdr, frame, len);
}

int
fixture_udp_receiver(const char *addr, uint16_t port, bool gro)
{
    struct in6_addr a = fixture_ip(addr);
    int family = inet_is_ipv4(&a) ? AF_INET : AF_INET6;
    union inet_sockaddr sa;
    socklen_t len = inet_sockaddr_make(family, &a, port, 0, &sa);
    int one = 1;
    int sock = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

    ck_assert_int_ge(sock, 0);
    ck_assert_int_eq(bind(sock, &sa.sa, len), 0);
    if (gro) {
        ck_assert_int_eq(setsockopt(sock, SOL_UDP, UDP_GRO, &one, sizeof one),
                         0);
    }
    return sock;
}

size_t
fixture_recv_train(int sock, uint8_t *buf, size_t size, size_t *seg,
                   uint16_t *src_port)
{
    union {
        struct cmsghdr align;
        uint8_t buf[CMSG_SPACE(sizeof(int))];
    } control;
    union inet_sockaddr from;
    struct iovec iov = { .iov_base = buf, .iov_len = size };
    struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof from,
                          .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = &control,
                          .msg_controllen = sizeof control };
    ssize_t n;

    fixture_wait_readable(sock);
    n = recvmsg(sock, &msg, 0);
    ck_assert_int_gt(n, 0);
    *seg = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
         c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int gso_size;

            memcpy(&gso_size, CMSG_DATA(c), sizeof gso_size);
            *seg = (size_t) gso_size;
        }
    }
    *src_port = ntohs(from.sa.sa_family == AF_INET ? from.sin.sin_port
                                                   : from.sin6.sin6_port);
    return (size_t) n;
}
