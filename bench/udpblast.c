/* udpblast: the 64-byte traffic generator of e2e-bench.sh.
 *
 *   udpblast [-x VNI,DST-MAC,SRC-MAC,INNER-SRC,INNER-DST] [-g N]
 *            [-i IFNAME -e DST-MAC,SRC-MAC,SRC-IP] IP PORT SECONDS LEN
 *
 * Sends LEN-byte UDP datagrams to IP:PORT for SECONDS, 64 a system call
 * (sendmmsg), as fast as the kernel takes them, and prints how many it
 * took.  With -x, each datagram is a prebuilt VXLAN packet instead: the
 * VXLAN header for VNI, then an Ethernet frame from SRC-MAC to DST-MAC
 * holding an IPv4 UDP datagram from INNER-SRC to INNER-DST (port 9000)
 * with LEN bytes of payload, so that a VTEP listening on IP:PORT
 * receives what a remote VTEP would send it.  With -i and -e, the
 * datagrams leave as whole Ethernet frames (from SRC-MAC and SRC-IP to
 * DST-MAC and IP:PORT) through an AF_PACKET socket on IFNAME that skips
 * the queueing discipline: no UDP, IP or neighbour work for the sender,
 * so that one core offers more frames than through a UDP socket.  With
 * -g (not with -i), each send is a train of N datagrams in one buffer
 * that the kernel cuts (UDP_SEGMENT), as vswitchd sends a flow's frames
 * to a peer VTEP: a receiver with UDP_GRO takes the train whole.  Not
 * iperf3 -u: it needs its TCP control connection to work both ways and
 * sends one datagram per system call. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_TRAIN 64            /* UDP_MAX_SEGMENTS before Linux 6.9. */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103         /* Linux 4.18; include/uapi/linux/udp.h. */
#endif
#define VXLAN_LEN 8
#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8
#define INNER_PORT 9000
#define SRC_PORT 49152          /* The outer source port with -i. */
#define HDRS_LEN (ETH_LEN + IP_LEN + UDP_LEN)

static int
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];

    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5]) != 6) {
        return 1;
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t) b[i];
    }
    return 0;
}

static void
put16(uint8_t *p, unsigned int v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

/* The IPv4 header checksum of the IP_LEN bytes at HDR. */
static unsigned int
ip_csum(const uint8_t *hdr)
{
    uint32_t sum = 0;

    for (int i = 0; i < IP_LEN; i += 2) {
        sum += (uint32_t) (hdr[i] << 8 | hdr[i + 1]);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum & 0xffff;
}

/* Writes at ETH the Ethernet, IPv4 and UDP headers (HDRS_LEN bytes) of a
 * datagram of LEN bytes of payload from SMAC, SIP and SPORT to DMAC, DIP
 * and DPORT; returns 0, or 1 if an address is bad. */
static int
put_headers(uint8_t *eth, const char *dmac, const char *smac,
            const char *sip, const char *dip, unsigned int sport,
            unsigned int dport, size_t len)
{
    uint8_t *ip = eth + ETH_LEN, *udp = ip + IP_LEN;

    memset(eth, 0, HDRS_LEN);
    if (!dip || parse_mac(dmac, eth) || parse_mac(smac, eth + 6)
        || inet_pton(AF_INET, sip, ip + 12) != 1
        || inet_pton(AF_INET, dip, ip + 16) != 1) {
        return 1;
    }
    put16(eth + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned int) (IP_LEN + UDP_LEN + len));
    /* DF and identification 0, as Linux sends a datagram from an
     * unconnected UDP socket. */
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 17;
    put16(ip + 10, ip_csum(ip));
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, (unsigned int) (UDP_LEN + len));
    /* A zero UDP checksum: none, as IPv4 allows. */
    return 0;
}

/* Writes into BUF the VXLAN packet that SPEC ("VNI,DST-MAC,SRC-MAC,
 * INNER-SRC,INNER-DST") describes, with LEN bytes of inner payload;
 * returns its length, or 0 if SPEC is bad. */
static size_t
build_vxlan(char *spec, size_t len, uint8_t *buf)
{
    char *vni = strtok(spec, ","), *dmac = strtok(NULL, ",");
    char *smac = strtok(NULL, ","), *sip = strtok(NULL, ",");
    char *dip = strtok(NULL, ",");
    unsigned long id = vni ? strtoul(vni, NULL, 10) : 0;

    if (id == 0 || id > 0xffffff
        || put_headers(buf + VXLAN_LEN, dmac, smac, sip, dip, INNER_PORT,
                       INNER_PORT, len)) {
        return 0;
    }
    buf[0] = 0x08;                       /* The VNI is valid. */
    buf[4] = (uint8_t) (id >> 16);
    buf[5] = (uint8_t) (id >> 8);
    buf[6] = (uint8_t) id;
    return VXLAN_LEN + HDRS_LEN + len;
}

/* Opens an AF_PACKET socket that sends on IFNAME past its queueing
 * discipline and turns the LEN bytes of payload in BUF into the frame
 * that SPEC ("DST-MAC,SRC-MAC,SRC-IP") and DST give, in place; returns
 * the socket and sets *LEN to the frame's length, or returns -1. */
static int
open_packet(const char *ifname, char *spec, const struct sockaddr_in *dst,
            uint8_t *buf, size_t *len)
{
    struct sockaddr_ll sll = { .sll_family = AF_PACKET };
    char *dmac = strtok(spec, ","), *smac = strtok(NULL, ",");
    char *sip = strtok(NULL, ","), dip[INET_ADDRSTRLEN];
    int fd, one = 1;

    inet_ntop(AF_INET, &dst->sin_addr, dip, sizeof dip);
    memmove(buf + HDRS_LEN, buf, *len);
    if (put_headers(buf, dmac, smac, sip, sip ? dip : NULL, SRC_PORT,
                    ntohs(dst->sin_port), *len)) {
        fprintf(stderr, "udpblast: bad -e\n");
        return -1;
    }
    *len += HDRS_LEN;
    sll.sll_protocol = htons(ETH_P_IP);
    sll.sll_ifindex = (int) if_nametoindex(ifname);
    /* Protocol 0: the socket sends and receives nothing. */
    fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0 || !sll.sll_ifindex
        || bind(fd, (struct sockaddr *) &sll, sizeof sll)
        || setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
                      sizeof one)) {
        perror("udpblast");
        return -1;
    }
    return fd;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct mmsghdr msgs[BATCH];
    /* Room for a 1,472-byte payload behind both sets of headers. */
    static uint8_t payload[2048];
    struct timespec now, end;
    unsigned long long sent = 0;
    char *vxlan = NULL, *ifname = NULL, *eth = NULL;
    struct iovec iov, train[MAX_TRAIN];
    int fd, opt, n_train = 1;

    while ((opt = getopt(argc, argv, "x:g:i:e:")) != -1) {
        switch (opt) {
        case 'x':
            vxlan = optarg;
            break;
        case 'g':
            n_train = atoi(optarg);
            break;
        case 'i':
            ifname = optarg;
            break;
        case 'e':
            eth = optarg;
            break;
        default:
            return 2;
        }
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc != 5 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1
        || !ifname != !eth || n_train < 1 || n_train > MAX_TRAIN
        || (n_train > 1 && ifname)) {
        fprintf(stderr, "usage: udpblast [-x VNI,DST-MAC,SRC-MAC,"
                "INNER-SRC,INNER-DST] [-g N] [-i IFNAME -e DST-MAC,SRC-MAC,"
                "SRC-IP] IP PORT SECONDS LEN\n");
        return 2;
    }
    sin.sin_port = htons((uint16_t) atoi(argv[2]));
    iov.iov_base = payload;
    iov.iov_len = (size_t) atoi(argv[4]);
    if (iov.iov_len > 1472) {
        return 2;
    }
    if (vxlan) {
        iov.iov_len = build_vxlan(vxlan, iov.iov_len, payload);
        if (!iov.iov_len) {
            fprintf(stderr, "udpblast: bad -x\n");
            return 2;
        }
    }
    if (ifname) {
        fd = open_packet(ifname, eth, &sin, payload, &iov.iov_len);
        if (fd < 0) {
            return 1;
        }
    } else {
        int seg = (int) iov.iov_len;

        fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)
            || (n_train > 1 && setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT,
                                          &seg, sizeof seg))) {
            perror("udpblast");
            return 1;
        }
    }
    /* The datagram is complete now (open_packet() put the headers in
     * front of it). */
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < n_train; i++) {
        train[i] = iov;
    }
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = train;
        msgs[i].msg_hdr.msg_iovlen = (size_t) n_train;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += atoi(argv[3]);
    do {
        int n = sendmmsg(fd, msgs, BATCH, 0);

        if (n > 0) {
            sent += (unsigned long long) n * (unsigned long long) n_train;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec
             || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
    printf("%llu\n", sent);
    return 0;
}
