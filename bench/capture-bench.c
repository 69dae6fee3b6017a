#include <config.h>

/* capture-bench: how fast a system port takes frames from an interface,
 * with AF_PACKET (the system port itself: recvmmsg() in batches) or with a
 * libpcap live capture in immediate mode (a TPACKET_V3 ring, one callback
 * per frame), the two ways the design allows.
 *
 *   capture-bench [--seconds N] [--size BYTES]
 *
 * It needs root.  It makes a network namespace of its own (unshare) with
 * a veth pair; a child process sends frames into one end as fast as it
 * can (sendmmsg() on an AF_PACKET socket, 64 a call), and this process
 * takes them from the other end with each method in turn, copying every
 * frame into a packet buffer of the switch's pool as a port does.  For
 * each method it prints the frames taken per second, the CPU time this
 * process spent per frame (user and system, from getrusage()), and the
 * frames the kernel dropped because the reader fell behind. */

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <linux/if_packet.h>
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

#include "headers.h"
#include "packet.h"
#include "port.h"
#include "util.h"

#define SENDER_IF "cbsend"
#define RECEIVER_IF "cbrecv"
#define SEND_BATCH 64

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

static void
run(const char *command)
{
    if (system(command)) {
        fprintf(stderr, "capture-bench: '%s' failed\n", command);
        exit(1);
    }
}

/* Sends 'size'-byte UDP frames out of SENDER_IF until killed. */
static void
send_forever(size_t size)
{
    static uint8_t frame[ETH_HEADER_LEN + 1500];
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_ifindex = (int) if_nametoindex(SENDER_IF),
                               .sll_halen = 6 };
    struct mmsghdr msgs[SEND_BATCH];
    struct iovec iov = { frame, size };
    int fd = socket(AF_PACKET, SOCK_RAW, 0);

    if (fd < 0) {
        perror("capture-bench: sender");
        _exit(1);
    }
    /* To 02:00:00:00:00:02 from ...:01, IPv4 UDP; the receiver is
     * promiscuous, and nothing above it looks. */
    memcpy(frame, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00\x45", 15);
    frame[ETH_HEADER_LEN + 9] = IP_PROTO_UDP;
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < SEND_BATCH; i++) {
        msgs[i].msg_hdr.msg_name = &sll;
        msgs[i].msg_hdr.msg_namelen = sizeof sll;
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (;;) {
        sendmmsg(fd, msgs, SEND_BATCH, 0);
    }
}

/* One way to take frames: 'open' gets ready and returns the descriptor to
 * poll, 'read' takes what there is into 'batch' and returns how many,
 * 'dropped' says how many the kernel dropped, 'close' ends it. */
struct method {
    const char *name;
    int (*open)(void);
    size_t (*read)(struct packet_pool *, struct packet_batch *);
    unsigned long long (*dropped)(void);
    void (*close)(void);
};

/* AF_PACKET: the system port. */
static struct port *sys_port;

static int
sys_open(void)
{
    const struct port_class *class = port_class_find("system");
    struct port_args args = { .name = RECEIVER_IF, .owner = "bench" };
    char error[256];

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

    return getsockopt(sys_port->class->fd(sys_port), SOL_PACKET,
                      PACKET_STATISTICS, &st, &len) ? 0 : st.tp_drops;
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
lpcap_open(void)
{
    char errbuf[PCAP_ERRBUF_SIZE];

    pcap = pcap_create(RECEIVER_IF, errbuf);
    if (!pcap || pcap_set_snaplen(pcap, 65535)
        || pcap_set_promisc(pcap, 1) || pcap_set_immediate_mode(pcap, 1)
        || pcap_set_buffer_size(pcap, 4 << 20) || pcap_activate(pcap) < 0
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
    { "af_packet", sys_open, sys_read, sys_dropped, sys_close },
    { "libpcap", lpcap_open, lpcap_read, lpcap_dropped, lpcap_close },
};

static void
measure(const struct method *m, double seconds, size_t size,
        struct packet_pool *pool)
{
    int fd = m->open();
    unsigned long long frames = 0;
    double t0, c0, t, c;
    pid_t sender = fork();

    if (sender < 0) {
        perror("capture-bench: fork");
        exit(1);
    } else if (!sender) {
        send_forever(size);
    }
    /* A second for the sender to get going, then the measured run. */
    for (int pass = 0; pass < 2; pass++) {
        double end;

        t0 = now_s();
        c0 = cpu_s();
        end = t0 + (pass ? seconds : 1.0);
        frames = 0;
        while (now_s() < end) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            struct packet_batch batch;

            if (poll(&pfd, 1, 100) <= 0) {
                continue;
            }
            packet_batch_init(&batch);
            frames += m->read(pool, &batch);
            packet_batch_free(&batch);
        }
    }
    t = now_s() - t0;
    c = cpu_s() - c0;
    kill(sender, SIGKILL);
    waitpid(sender, NULL, 0);
    printf("method=%s size=%zu frames=%llu kfps=%.0f cpu_ns_per_frame=%.0f "
           "cpu_share=%.2f kernel_drops=%llu\n", m->name, size, frames,
           frames / t / 1e3, frames ? c / frames * 1e9 : 0.0, c / t,
           m->dropped());
    m->close();
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "seconds", required_argument, NULL, 's' },
        { "size", required_argument, NULL, 'z' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    double seconds = 5;
    size_t size = 60;
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
        default:
            fprintf(stderr, "usage: capture-bench [--seconds N] "
                    "[--size BYTES]\n");
            return 2;
        }
    }
    if (seconds <= 0 || size < ETH_HEADER_LEN + IPV4_HEADER_LEN
        || size > ETH_HEADER_LEN + 1500) {
        fprintf(stderr, "capture-bench: --seconds over 0, --size 34 to "
                "1514\n");
        return 2;
    }
    if (unshare(CLONE_NEWNET)) {
        perror("capture-bench: unshare (run as root)");
        return 1;
    }
    run("ip link set lo up && ip link add " SENDER_IF " type veth peer name "
        RECEIVER_IF " && sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
        "&& ip link set " SENDER_IF " up && ip link set " RECEIVER_IF " up");
    pool = packet_pool_create(4 * PACKET_BATCH_MAX);
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        measure(&methods[i], seconds, size, pool);
    }
    packet_pool_destroy(pool);
    return 0;
}
