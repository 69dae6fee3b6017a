#include <config.h>

/* capture-bench: how a system port best takes frames from an interface,
 * with AF_PACKET (the system port itself: recvmmsg() in batches, or its
 * TPACKET_V3 ring with rx_ring=true) or with a libpcap live capture in
 * immediate mode (a TPACKET_V2 ring, libpcap's choice in that mode, one
 * callback per frame).
 *
 *   capture-bench [--seconds N] [--size BYTES]
 *
 * It needs root.  It makes a network namespace of its own (unshare) with
 * a veth pair; a child process pinned to the first CPU sends frames into
 * one end as fast as it can (sendmmsg() on an AF_PACKET socket, 64 a
 * call), and this process, pinned to the second, takes them from the
 * other end with each method in turn, copying every frame into a packet
 * buffer of the switch's pool as a port does: the system port as it is
 * (with its virtio-net header), the system port with offload=false, and
 * libpcap.  The methods run in the order A, B, C, C, B, A, so that none
 * always goes first.  Each is set up as
 * it would be used: the system port as it stands (the socket's default
 * receive buffer, or its ring), libpcap with its default buffer.  A
 * --size over 1514 sends TCP super frames of that size instead, with a
 * virtio-net header (segment size 1448), which a veth passes on whole;
 * only the methods with offloads take them.
 *
 * With --send IF [--dst MAC] it only sends, out of interface IF (to MAC,
 * by default 02:00:00:00:00:02) for --seconds: sysport-bench.sh's
 * generator.
 *
 * For each run it prints the frames taken per second, and per second of
 * this process's CPU time; the CPU time, in
 * nanoseconds per frame taken, of the whole machine (from /proc/stat: the
 * sender, the receiver and the kernel's softirq work, wherever it ran)
 * and of this process alone (getrusage()); and the frames the kernel
 * dropped because the reader fell behind, over the measured seconds.
 * veth hands a frame to its peer in the sender's context, so the kernel's
 * half of a method (copying into a ring, or queueing for recvmmsg()) is
 * charged to the sender, and only the machine's figure compares the
 * methods' whole cost. */

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eth-addr.h"
#include "headers.h"
#include "packet.h"
#include "port.h"
#include "util.h"

#define SENDER_IF "cbsend"
#define RECEIVER_IF "cbrecv"
#define SEND_BATCH 64
#define MAX_PLAIN_FRAME (ETH_HEADER_LEN + 1500)
#define MAX_SUPER_FRAME 65000

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Returns the CPU time the whole machine has spent busy, in seconds: every
 * field of /proc/stat's "cpu" line but idle and iowait. */
static double
machine_busy_s(void)
{
    unsigned long long v[8] = { 0 };
    FILE *stat = fopen("/proc/stat", "r");
    double busy;

    if (!stat || fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
                        &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                        &v[7]) != 8) {
        fprintf(stderr, "capture-bench: cannot read /proc/stat\n");
        exit(1);
    }
    fclose(stat);
    /* user nice system idle iowait irq softirq steal */
    busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
    return busy / (double) sysconf(_SC_CLK_TCK);
}

/* Pins the calling process to CPU 'cpu' of a machine with 'n_cpus', if it
 * has more than one. */
static void
pin(int cpu, long n_cpus)
{
    cpu_set_t set;

    if (n_cpus > 1) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
    }
}

static void
stop_sending(int sig)
{
    (void) sig;
    _exit(0);
}

static void
run(const char *command)
{
    if (system(command)) {
        fprintf(stderr, "capture-bench: '%s' failed\n", command);
        exit(1);
    }
}

/* Where the sender sends (--send, --dst): by default, one end of the
 * bench's own veth pair, to a MAC that the promiscuous receiver takes. */
static const char *sender_if = SENDER_IF;
static struct eth_addr dst_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };

/* Builds into 'frame' a 'size'-byte IPv4 frame from 02:00:00:00:00:01 to
 * 'dst_mac' of protocol 'proto'; nothing above the receiver looks. */
static void
make_frame(uint8_t *frame, size_t size, uint8_t proto)
{
    uint16_t ip_len = (uint16_t) (size - ETH_HEADER_LEN);

    memcpy(frame, dst_mac.ea, ETH_ADDR_LEN);
    memcpy(frame + ETH_ADDR_LEN, "\x02\0\0\0\0\x01\x08\x00\x45", 9);
    frame[ETH_HEADER_LEN + 2] = (uint8_t) (ip_len >> 8);
    frame[ETH_HEADER_LEN + 3] = (uint8_t) ip_len;
    frame[ETH_HEADER_LEN + 8] = 64;
    frame[ETH_HEADER_LEN + 9] = proto;
}

/* With --latency, the sender sends a lone frame every 10 ms, with
 * the time it left at this offset, and the receiver takes the time each
 * frame spent on its way. */
#define STAMP_OFS (ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN)
static bool latency_mode;

/* Sends lone 'size'-byte UDP frames from 'fd' to 'sll' until killed, each
 * stamped with the time it leaves. */
static void
send_stamped(int fd, uint8_t *frame, size_t size,
             const struct sockaddr_ll *sll)
{
    for (;;) {
        struct timespec gap = { 0, 10 * 1000 * 1000 };
        double t = now_s();

        memcpy(frame + STAMP_OFS, &t, sizeof t);
        sendto(fd, frame, size, 0, (const struct sockaddr *) sll,
               sizeof *sll);
        nanosleep(&gap, NULL);
    }
}

/* Sends 'size'-byte frames out of 'sender_if' until killed: UDP, or TCP
 * super frames behind a virtio-net header over MAX_PLAIN_FRAME. */
static void
send_forever(size_t size)
{
    pin(0, sysconf(_SC_NPROCESSORS_ONLN));
    static uint8_t frame[MAX_SUPER_FRAME];
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    bool super = size > MAX_PLAIN_FRAME;
    struct virtio_net_hdr hdr = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = (uint16_t) (l4 + TCP_HEADER_LEN),
        .gso_size = 1448,
        .csum_start = (uint16_t) l4,
        .csum_offset = 16,
    };
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_ifindex = (int) if_nametoindex(sender_if),
                               .sll_halen = 6 };
    struct mmsghdr msgs[SEND_BATCH];
    struct iovec iov[2] = { { &hdr, sizeof hdr }, { frame, size } };
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    int one = 1;

    if (fd < 0 || (super && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR,
                                       &one, sizeof one))) {
        perror("capture-bench: sender");
        _exit(1);
    }
    make_frame(frame, size, super ? IP_PROTO_TCP : IP_PROTO_UDP);
    if (super) {
        /* A data offset of 5 words; ACK. */
        frame[l4 + 12] = 0x50;
        frame[l4 + 13] = 0x10;
    } else if (latency_mode) {
        send_stamped(fd, frame, size, &sll);
    }
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < SEND_BATCH; i++) {
        msgs[i].msg_hdr.msg_name = &sll;
        msgs[i].msg_hdr.msg_namelen = sizeof sll;
        msgs[i].msg_hdr.msg_iov = super ? iov : iov + 1;
        msgs[i].msg_hdr.msg_iovlen = super ? 2 : 1;
    }
    for (;;) {
        sendmmsg(fd, msgs, SEND_BATCH, 0);
    }
}

struct method;

/* One way to take frames: 'open' gets ready and returns the descriptor to
 * poll, 'read' takes what there is into 'batch' and returns how many,
 * 'dropped' says how many the kernel dropped, 'close' ends it. */
struct method {
    const char *name;
    bool offload;               /* Takes super frames. */
    bool ring;                  /* The system port's rx_ring. */
    int (*open)(const struct method *);
    size_t (*read)(struct packet_pool *, struct packet_batch *);
    unsigned long long (*dropped)(void);
    void (*close)(void);
};

/* AF_PACKET: the system port.  Reading the socket's statistics resets
 * them, so its drops add up in 'sys_drops', to count from the start as
 * libpcap's do; with its ring, the port reads them itself and counts them
 * as receive errors. */
static struct port *sys_port;
static unsigned long long sys_drops;

/* Opens the system port as method 'm' says. */
static int
sys_open(const struct method *m)
{
    static const char *const keys[] = { "offload", "rx_ring" };
    const char *values[] = { m->offload ? "true" : "false",
                             m->ring ? "true" : "false" };
    const struct port_class *class = port_class_find("system");
    struct port_args args = { .name = RECEIVER_IF, .owner = "bench",
                              .keys = keys, .values = values,
                              .n_options = ARRAY_SIZE(keys) };
    char error[256];

    sys_drops = 0;
    if (class->open(&args, &sys_port, error, sizeof error)) {
        fprintf(stderr, "capture-bench: %s\n", error);
        exit(1);
    }
    return class->fd(sys_port);
}

static size_t
sys_read(struct packet_pool *pool, struct packet_batch *batch)
{
    return sys_port->class->recv(sys_port, pool, batch) ? 0 : batch->count;
}

static unsigned long long
sys_dropped(void)
{
    struct tpacket_stats st;
    socklen_t len = sizeof st;

    if (!getsockopt(sys_port->class->fd(sys_port), SOL_PACKET,
                    PACKET_STATISTICS, &st, &len)) {
        sys_drops += st.tp_drops;
    }
    return sys_drops + sys_port->stats.rx_errors;
}

static void
sys_close(void)
{
    port_close(sys_port);
}

/* libpcap, live, immediate mode. */
static pcap_t *pcap;

struct lpcap_ctx {
    struct packet_pool *pool;
    struct packet_batch *batch;
};

static void
lpcap_take(u_char *ctx_, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct lpcap_ctx *ctx = (void *) ctx_;
    struct packet *p = packet_alloc(ctx->pool);

    if (p && !packet_set_frame(p, bytes, h->caplen)) {
        packet_batch_add(ctx->batch, p);
    } else {
        packet_free(p);
    }
}

static int
lpcap_open(const struct method *m)
{
    char errbuf[PCAP_ERRBUF_SIZE];

    (void) m;
    pcap = pcap_create(RECEIVER_IF, errbuf);
    if (!pcap || pcap_set_snaplen(pcap, 65535)
        || pcap_set_promisc(pcap, 1) || pcap_set_immediate_mode(pcap, 1)
        || pcap_activate(pcap) < 0
        || pcap_setnonblock(pcap, 1, errbuf) < 0) {
        fprintf(stderr, "capture-bench: libpcap: %s\n",
                pcap ? pcap_geterr(pcap) : errbuf);
        exit(1);
    }
    return pcap_get_selectable_fd(pcap);
}

static size_t
lpcap_read(struct packet_pool *pool, struct packet_batch *batch)
{
    struct lpcap_ctx ctx = { pool, batch };
    int n = pcap_dispatch(pcap, PACKET_BATCH_MAX, lpcap_take, (u_char *) &ctx);

    return n > 0 ? batch->count : 0;
}

static unsigned long long
lpcap_dropped(void)
{
    struct pcap_stat st;

    return pcap_stats(pcap, &st) ? 0 : st.ps_drop;
}

static void
lpcap_close(void)
{
    pcap_close(pcap);
}

static const struct method methods[] = {
    { "af_packet", true, false, sys_open, sys_read, sys_dropped,
      sys_close },
    { "af_packet_no_offload", false, false, sys_open, sys_read,
      sys_dropped, sys_close },
    { "af_packet_ring", true, true, sys_open, sys_read, sys_dropped,
      sys_close },
    { "af_packet_ring_no_offload", false, true, sys_open, sys_read,
      sys_dropped, sys_close },
    { "libpcap", false, false, lpcap_open, lpcap_read, lpcap_dropped,
      lpcap_close },
};

static void
measure(const struct method *m, double seconds, size_t size,
        struct packet_pool *pool)
{
    int fd;
    unsigned long long frames = 0, drops = 0;
    double t0 = 0, c0 = 0, b0 = 0, t, c, b;
    double delay_sum = 0, delay_max = 0;
    pid_t sender;

    if (size > MAX_PLAIN_FRAME && !m->offload) {
        return;
    }
    fd = m->open(m);
    sender = fork();
    if (sender < 0) {
        perror("capture-bench: fork");
        exit(1);
    } else if (!sender) {
        send_forever(size);
    }
    /* A second for the sender to get going, then the measured run. */
    for (int pass = 0; pass < 2; pass++) {
        double end;

        drops = m->dropped();
        t0 = now_s();
        c0 = cpu_s();
        b0 = machine_busy_s();
        end = t0 + (pass ? seconds : 1.0);
        frames = 0;
        delay_sum = delay_max = 0;
        while (now_s() < end) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            struct packet_batch batch;

            if (poll(&pfd, 1, 100) <= 0) {
                continue;
            }
            packet_batch_init(&batch);
            frames += m->read(pool, &batch);
            for (size_t i = 0; latency_mode && i < batch.count; i++) {
                double sent, delay;

                memcpy(&sent, packet_data(batch.packets[i]) + STAMP_OFS,
                       sizeof sent);
                delay = now_s() - sent;
                delay_sum += delay;
                delay_max = delay > delay_max ? delay : delay_max;
            }
            packet_batch_free(&batch);
        }
    }
    t = now_s() - t0;
    c = cpu_s() - c0;
    b = machine_busy_s() - b0;
    drops = m->dropped() - drops;
    kill(sender, SIGKILL);
    waitpid(sender, NULL, 0);
    if (latency_mode) {
        printf("method=%s size=%zu frames=%llu latency_us_avg=%.0f "
               "latency_us_max=%.0f\n", m->name, size, frames,
               frames ? delay_sum / frames * 1e6 : 0.0, delay_max * 1e6);
        m->close();
        return;
    }
    printf("method=%s size=%zu kfps=%.0f kframes_per_cpu_s=%.0f "
           "machine_cpu_ns_per_frame=%.0f receiver_cpu_ns_per_frame=%.0f "
           "kernel_drops=%llu\n", m->name, size, frames / t / 1e3,
           c > 0 ? frames / c / 1e3 : 0.0,
           frames ? b / frames * 1e9 : 0.0, frames ? c / frames * 1e9 : 0.0,
           drops);
    m->close();
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "seconds", required_argument, NULL, 's' },
        { "size", required_argument, NULL, 'z' },
        { "latency", no_argument, NULL, 'l' },
        { "send", required_argument, NULL, 'S' },
        { "dst", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double seconds = 5;
    size_t size = 60;
    bool send_only = false;
    struct packet_pool *pool;
    int c;

    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's':
            seconds = atof(optarg);
            break;
        case 'z':
            size = (size_t) atol(optarg);
            break;
        case 'l':
            latency_mode = true;
            break;
        case 'S':
            sender_if = optarg;
            send_only = true;
            break;
        case 'd':
            if (!eth_addr_parse(optarg, &dst_mac)) {
                fprintf(stderr, "capture-bench: %s is not a MAC\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: capture-bench [--seconds N] "
                    "[--size BYTES] [--latency] [--send IF [--dst MAC]]\n");
            return 2;
        }
    }
    if (seconds <= 0 || size < ETH_HEADER_LEN + IPV4_HEADER_LEN
        || size > MAX_SUPER_FRAME
        || (latency_mode && size < STAMP_OFS + 8)
        || (size > MAX_PLAIN_FRAME && latency_mode)
        || (size > MAX_PLAIN_FRAME
            && size < ETH_HEADER_LEN + IPV4_HEADER_LEN + TCP_HEADER_LEN
                      + 1448 * 2)) {
        fprintf(stderr, "capture-bench: --seconds over 0, --size 34 to "
                "1514 or (TCP super frames, not with --latency) 2962 to "
                "65000\n");
        return 2;
    }
    if (send_only) {
        /* Only the sender, for sysport-bench.sh, until the alarm. */
        if (!if_nametoindex(sender_if)) {
            fprintf(stderr, "capture-bench: no interface %s\n", sender_if);
            return 1;
        }
        signal(SIGALRM, stop_sending);
        alarm((unsigned int) seconds);
        send_forever(size);
    }
    if (unshare(CLONE_NEWNET)) {
        perror("capture-bench: unshare (run as root)");
        return 1;
    }
    run("ip link set lo up && ip link add " SENDER_IF " type veth peer name "
        RECEIVER_IF " && sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
        "&& ip link set " SENDER_IF " up && ip link set " RECEIVER_IF " up");
    pool = packet_pool_create(4 * PACKET_BATCH_MAX);
    pin(1, sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < 2 * ARRAY_SIZE(methods); i++) {
        size_t n = ARRAY_SIZE(methods);

        measure(&methods[i < n ? i : 2 * n - 1 - i], seconds, size, pool);
    }
    packet_pool_destroy(pool);
    return 0;
}
