#include <config.h>

/* dp-bench: pushes batches through the datapath in memory, with no
 * sockets, and reports the cost per packet.
 *
 *   dp-bench [--scenario NAME] [--macs N] [--packets N]
 *
 * Without options it runs every scenario (switch, encap, decap, flood, acl)
 * with 1, 1,000 and 100,000 learned MACs.  acl is encap behind an access
 * list of 1,000 rules over 20 masks that the traffic, 10,000 flows, passes
 * (bench-acl.h): the cost of a flow table in front of normal.  Traffic
 * cycles through all learned destinations, so with many MACs the lookups
 * miss the CPU caches the way real traffic would.  Run it under valgrind
 * --tool=callgrind with a small --packets for an instruction count that
 * machine noise cannot move.
 *
 * encap and decap also run the ports' own work on each frame, up to the
 * system call, with the code the ports run (vxlan-io.h, vnet-hdr.h): the
 * VXLAN port's send plan (trains, outer headers, checksums, addresses) on
 * encap, and on flood for the copy to the multicast group; on decap its
 * receive completion of each datagram and the TAP port's virtio-net
 * header on output.  So the figures cannot change when
 * work moves between the datapath and the ports.  What the kernel would
 * do (copying the datagram in, writing its address and control messages)
 * is done here too but outside the timed part. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-acl.h"
#include "dp.h"
#include "flow-table.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"
#include "util.h"
#include "vnet-hdr.h"
#include "vxlan-io.h"

#define PORT_A 1                /* Local port the traffic enters on. */
#define PORT_B 2                /* Local port behind which the MACs live. */
#define PORT_C 3                /* A third local port, for flooding. */
#define PORT_VTEP 10
#define BENCH_VNI 5000
#define FRAME_PAYLOAD 18        /* A 64-byte frame: 14 + 20 + 8 + 18 + 4. */

enum scenario { SWITCH, ENCAP, DECAP, FLOOD, ACL, N_SCENARIOS };

static const char *const scenario_names[N_SCENARIOS] = {
    [SWITCH] = "switch", [ENCAP] = "encap", [DECAP] = "decap",
    [FLOOD] = "flood", [ACL] = "acl",
};

struct bench {
    enum scenario scenario;
    struct packet_pool *pool;
    struct dp *dp;
    struct dp_tunnel_config tunnel;
    struct vxlan_io_tx_config vxlan_tx;   /* The VXLAN port's, on encap. */
    struct vxlan_io_tx tx;                /* The plan it keeps. */
    struct vxlan_io_trains trains;        /* The VXLAN port's, on decap. */
    uint64_t rx_errors;
    uint64_t sent;              /* Frames handed to the send callback. */
};

/* What each port does to the frames of a batch before its system call:
 * the VXLAN port's plan (encap, and flood's copy to the group), the TAP
 * port's header on decap. */
static void
port_send_work(struct bench *b, uint32_t port_no,
               struct packet_batch *batch)
{
    if (port_no == PORT_VTEP) {
        vxlan_io_tx_plan(&b->vxlan_tx, batch, &b->tx);
        if (b->tx.n_unusable) {
            fprintf(stderr, "dp-bench: the VXLAN port refused frames\n");
            exit(EXIT_FAILURE);
        }
    } else if (b->scenario == DECAP && port_no == PORT_B) {
        struct packet *p;

        PACKET_BATCH_FOR_EACH (i, p, batch) {
            if (!vnet_hdr_output(p, PORT_OFFLOAD_ALL)) {
                fprintf(stderr, "dp-bench: no room for the vnet header\n");
                exit(EXIT_FAILURE);
            }
        }
    }
}

static void
bench_send(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    struct bench *b = aux;

    port_send_work(b, port_no, batch);
    b->sent += batch->count;
    packet_batch_free(batch);
}

static struct eth_addr
host_mac(uint32_t n)
{
    return (struct eth_addr) {{ 0x02, 0x00, (uint8_t) (n >> 24),
                                (uint8_t) (n >> 16), (uint8_t) (n >> 8),
                                (uint8_t) n }};
}

static struct in6_addr
vtep_addr(uint32_t n)
{
    struct in6_addr a;

    a = inet_from_ipv4(htonl(0xac1f0000 | (n & 0xffff)));
    return a;
}

/* Writes a 64-byte UDP frame from 'src' to 'dst' into 'buf'. */
static size_t
build_frame(uint8_t *buf, const struct eth_addr *dst,
            const struct eth_addr *src, uint16_t sport)
{
    struct eth_header eth = { .eth_dst = *dst, .eth_src = *src,
                              .eth_type = htons(ETH_TYPE_IPV4) };
    struct ipv4_header ip = {
        .ip_ihl_ver = 0x45,
        .ip_tot_len = htons(IPV4_HEADER_LEN + UDP_HEADER_LEN
                            + FRAME_PAYLOAD),
        .ip_ttl = 64,
        .ip_proto = IP_PROTO_UDP,
    };
    struct udp_header udp = {
        .udp_src = htons(sport), .udp_dst = htons(9),
        .udp_len = htons(UDP_HEADER_LEN + FRAME_PAYLOAD),
    };
    size_t n = 0;

    be32_16_put(&ip.ip_src, htonl(0x0a000001));
    be32_16_put(&ip.ip_dst, htonl(0x0a000002));
    memcpy(buf + n, &eth, sizeof eth);
    n += sizeof eth;
    memcpy(buf + n, &ip, sizeof ip);
    n += sizeof ip;
    memcpy(buf + n, &udp, sizeof udp);
    n += sizeof udp;
    memset(buf + n, 0x5a, FRAME_PAYLOAD + 4);
    return n + FRAME_PAYLOAD + 4;
}

/* Prepends a VXLAN header, as the VTEP's socket delivers a datagram. */
static size_t
build_vxlan_payload(uint8_t *buf, const uint8_t *frame, size_t len)
{
    struct vxlan_header vx;

    be32_16_put(&vx.vx_flags, htonl(VXLAN_FLAG_I));
    be32_16_put(&vx.vx_vni, htonl(BENCH_VNI << 8));
    memcpy(buf, &vx, sizeof vx);
    memcpy(buf + sizeof vx, frame, len);
    return sizeof vx + len;
}

static long long
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
setup(struct bench *b, enum scenario s, uint32_t n_macs)
{
    struct dp_callbacks cb = { .send = bench_send, .aux = b };
    struct in6_addr group, local;

    b->scenario = s;
    b->pool = packet_pool_create(4 * PACKET_BATCH_MAX);
    b->dp = dp_create(b->pool, n_macs + 1024, &cb);
    if (!b->pool || !b->dp) {
        fprintf(stderr, "dp-bench: out of memory\n");
        exit(EXIT_FAILURE);
    }
    b->sent = 0;
    b->rx_errors = 0;
    packet_batch_init(&b->trains.batch);
    b->trains.next = 0;
    vxlan_io_tx_init(&b->tx);

    group = inet_from_ipv4(htonl(0xef010101));
    local = inet_from_ipv4(htonl(0xac1effff));

    struct dp_vni_config vc = { .group = group };
    struct dp_tunnel_config tc = {
        .encap = { .local = local, .eth_src = host_mac(0xffffff),
                   .dst_port = htons(VXLAN_DST_PORT),
                   .src_port_min = VXLAN_SRC_PORT_MIN,
                   .src_port_max = VXLAN_SRC_PORT_MAX },
        .mtu = 1500,
    };

    /* The source ports the VXLAN port gives the datapath: its UDP GSO
     * sockets' set over the default range (udp-gso.h). */
    for (uint32_t i = 0; i < VXLAN_SRC_PORTS_MAX; i++) {
        tc.encap.src_ports[i] = (uint16_t) (VXLAN_SRC_PORT_MIN
            + i * (VXLAN_SRC_PORT_MAX - VXLAN_SRC_PORT_MIN + 1)
              / VXLAN_SRC_PORTS_MAX);
    }
    tc.encap.n_src_ports = VXLAN_SRC_PORTS_MAX;

    if (dp_vni_set(b->dp, BENCH_VNI, &vc)
        || dp_port_add(b->dp, PORT_A, DP_PORT_LOCAL)
        || dp_port_add(b->dp, PORT_B, DP_PORT_LOCAL)
        || dp_port_add(b->dp, PORT_C, DP_PORT_LOCAL)
        || dp_port_add(b->dp, PORT_VTEP, DP_PORT_TUNNEL)
        || dp_tunnel_configure(b->dp, PORT_VTEP, &tc)
        || dp_port_bind(b->dp, PORT_A, BENCH_VNI)
        || dp_port_bind(b->dp, PORT_B, BENCH_VNI)
        || dp_port_bind(b->dp, PORT_C, BENCH_VNI)) {
        fprintf(stderr, "dp-bench: datapath setup failed\n");
        exit(EXIT_FAILURE);
    }
    b->tunnel = tc;
    b->vxlan_tx = (struct vxlan_io_tx_config) {
        .encap = &b->tunnel.encap, .family = AF_INET, .trains = true,
    };

    /* Learn the destinations where the scenario needs them: behind a local
     * port for switch and decap, behind remote VTEPs for encap.  The flood
     * scenario learns them too but sends to unknown addresses. */
    struct mac_table *macs = dp_mac_table(b->dp);
    char error[256];

    if (s == ACL && bench_acl_install(dp_flow_table(b->dp), error,
                                      sizeof error)) {
        fprintf(stderr, "dp-bench: %s\n", error);
        exit(EXIT_FAILURE);
    }

    for (uint32_t i = 0; i < n_macs; i++) {
        struct eth_addr mac = host_mac(i + 1);
        struct mac_dest dest = { .type = MAC_DEST_PORT, .port_no = PORT_B };

        if (s == ENCAP || s == ACL) {
            dest = (struct mac_dest) { .type = MAC_DEST_REMOTE,
                                       .remote = vtep_addr(i % 64) };
        }
        mac_table_learn(macs, BENCH_VNI, &mac, &dest, 0);
    }
}

static void
teardown(struct bench *b)
{
    dp_destroy(b->dp);
    packet_pool_destroy(b->pool);
}

/* Prebuilt frames, copied into pool buffers as a port's receive would. */
struct traffic {
    uint8_t (*frames)[128];
    const size_t *lens;
    size_t n_frames;
    size_t next;                /* The frame to send next. */
    struct in6_addr remote;     /* Outer source of datagrams (decap). */
    struct in6_addr local;      /* Their outer destination. */
};

/* Returns the next frame of 't' and its length in '*len'. */
static const uint8_t *
take_frame(struct traffic *t, size_t *len)
{
    const uint8_t *frame = t->frames[t->next];

    *len = t->lens[t->next];
    t->next = t->next + 1 < t->n_frames ? t->next + 1 : 0;
    return frame;
}

/* Fills 'batch' with 'n' frames from 't', as a TAP port's read would. */
static void
receive_frames(struct bench *b, struct traffic *t, size_t n,
               struct packet_batch *batch)
{
    for (size_t i = 0; i < n; i++) {
        struct packet *p = packet_alloc(b->pool);
        size_t len;
        const uint8_t *frame = take_frame(t, &len);

        packet_set_frame(p, frame, len);
        packet_batch_add(batch, p);
    }
}

/* Does what recvmmsg() does for one datagram from 't' into 'msg': its
 * payload, source address and IP_PKTINFO control message. */
static void
kernel_deliver(struct traffic *t, struct mmsghdr *msg)
{
    struct msghdr *hdr = &msg->msg_hdr;
    struct in_pktinfo info = { .ipi_addr.s_addr = inet_to_ipv4(&t->local) };
    struct cmsghdr *c;
    size_t len;
    const uint8_t *frame = take_frame(t, &len);

    memcpy(hdr->msg_iov->iov_base, frame, len);
    msg->msg_len = (unsigned int) len;
    hdr->msg_namelen = inet_sockaddr_make(AF_INET, &t->remote,
                                          VXLAN_SRC_PORT_MIN, 0,
                                          hdr->msg_name);
    hdr->msg_controllen = CMSG_SPACE(sizeof info);
    hdr->msg_flags = 0;
    c = CMSG_FIRSTHDR(hdr);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    memcpy(CMSG_DATA(c), &info, sizeof info);
}

/* Fills 'batch' with 'n' datagrams from 't' as the VXLAN port's receive
 * does, with the kernel's part played in between.  Returns the time the
 * port's part took. */
static long long
receive_datagrams(struct bench *b, struct traffic *t, size_t n,
                  struct packet_batch *batch)
{
    struct packet *packets[PACKET_BATCH_MAX];
    struct mmsghdr msgs[PACKET_BATCH_MAX];
    struct vxlan_io_rx_slot slots[PACKET_BATCH_MAX];
    long long start = now_ns();
    long long elapsed;

    n = vxlan_io_rx_prepare(b->pool, n, packets, msgs, slots);
    elapsed = now_ns() - start;
    for (size_t i = 0; i < n; i++) {
        kernel_deliver(t, &msgs[i]);
    }

    start = now_ns();
    for (size_t i = 0; i < n; i++) {
        if (!vxlan_io_rx_complete(&msgs[i], packets[i])) {
            fprintf(stderr, "dp-bench: a datagram was refused\n");
            exit(EXIT_FAILURE);
        }
        packet_batch_add(&b->trains.batch, packets[i]);
    }
    vxlan_io_rx_cut(&b->trains, b->pool, batch, &b->rx_errors);
    return elapsed + now_ns() - start;
}

static void
run(enum scenario s, uint32_t n_macs, uint64_t n_packets)
{
    struct bench b;

    setup(&b, s, n_macs);

    /* Prebuilt frames, one per destination, are copied into pool buffers
     * for every batch, as a port's receive would. */
    /* acl's traffic is 10,000 flows, whatever the number of MACs above
     * that. */
    size_t n_frames = MIN(n_macs, s == ACL ? 10000u : 1u << 16);
    uint8_t (*frames)[128] = malloc(n_frames * sizeof *frames);
    size_t *lens = malloc(n_frames * sizeof *lens);

    if (!frames || !lens) {
        fprintf(stderr, "dp-bench: out of memory\n");
        exit(EXIT_FAILURE);
    }
    for (size_t i = 0; i < n_frames; i++) {
        /* Destinations stride through all learned MACs. */
        uint32_t dst_index = (uint32_t) ((i * 2654435761u) % n_macs) + 1;
        struct eth_addr dst = host_mac(s == FLOOD ? 0x800000 + dst_index
                                                  : dst_index);
        struct eth_addr src = host_mac(0x400000 + (uint32_t) (i % 64));
        uint8_t frame[128];
        size_t len = build_frame(frame, &dst, &src, (uint16_t) i);

        if (s == DECAP) {
            lens[i] = build_vxlan_payload(frames[i], frame, len);
        } else {
            memcpy(frames[i], frame, len);
            lens[i] = len;
        }
    }

    uint32_t in_port = s == DECAP ? PORT_VTEP : PORT_A;
    struct traffic t = {
        .frames = frames, .lens = lens, .n_frames = n_frames, .next = 0,
        .remote = vtep_addr(7), .local = b.tunnel.encap.local,
    };
    uint64_t done = 0;
    long long elapsed = 0;

    while (done < n_packets) {
        struct packet_batch batch;
        size_t want = (size_t) MIN(n_packets - done, PACKET_BATCH_MAX);

        packet_batch_init(&batch);
        if (s == DECAP) {
            elapsed += receive_datagrams(&b, &t, want, &batch);
        } else {
            receive_frames(&b, &t, want, &batch);
        }
        done += batch.count;

        long long start = now_ns();

        dp_receive(b.dp, in_port, &batch, done / 1000000);
        elapsed += now_ns() - start;
    }

    double ns = (double) elapsed / (double) n_packets;

    printf("scenario=%s macs=%u pkts=%llu ns_per_pkt=%.1f mpps=%.2f\n",
           scenario_names[s], n_macs, (unsigned long long) n_packets, ns,
           1000.0 / ns);
    if (b.sent < n_packets) {
        fprintf(stderr, "dp-bench: %s sent only %llu of %llu frames\n",
                scenario_names[s], (unsigned long long) b.sent,
                (unsigned long long) n_packets);
        exit(EXIT_FAILURE);
    }
    free(frames);
    free(lens);
    teardown(&b);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: dp-bench [--scenario switch|encap|decap|flood|acl] "
            "[--macs N] [--packets N]\n");
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "scenario", required_argument, NULL, 's' },
        { "macs", required_argument, NULL, 'm' },
        { "packets", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int only = -1;
    long long macs = 0;
    long long packets = 2000000;
    int c;

    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end;

        switch (c) {
        case 's':
            for (int i = 0; i < N_SCENARIOS; i++) {
                if (!strcmp(optarg, scenario_names[i])) {
                    only = i;
                }
            }
            if (only < 0) {
                fprintf(stderr, "dp-bench: unknown scenario '%s'\n", optarg);
                return EXIT_FAILURE;
            }
            break;
        case 'm':
            macs = strtoll(optarg, &end, 10);
            if (*end || macs < 1 || macs > 10000000) {
                fprintf(stderr, "dp-bench: --macs wants 1 to 10000000\n");
                return EXIT_FAILURE;
            }
            break;
        case 'p':
            packets = strtoll(optarg, &end, 10);
            if (*end || packets < 1) {
                fprintf(stderr, "dp-bench: --packets wants a number > 0\n");
                return EXIT_FAILURE;
            }
            break;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        default:
            usage(stderr);
            return EXIT_FAILURE;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return EXIT_FAILURE;
    }

    static const uint32_t default_macs[] = { 1, 1000, 100000 };

    for (int s = 0; s < N_SCENARIOS; s++) {
        if (only >= 0 && s != only) {
            continue;
        }
        if (macs) {
            run(s, (uint32_t) macs, (uint64_t) packets);
        } else {
            for (size_t i = 0; i < ARRAY_SIZE(default_macs); i++) {
                run(s, default_macs[i], (uint64_t) packets);
            }
        }
    }
    return EXIT_SUCCESS;
}
