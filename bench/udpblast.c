/* udpblast: the 64-byte traffic generator of e2e-bench.sh.
 *
 *   udpblast IP PORT SECONDS LEN
 *   udpblast -x VNI,DST-MAC,SRC-MAC,INNER-SRC,INNER-DST IP PORT SECONDS LEN
 *
 * Sends LEN-byte UDP datagrams to IP:PORT for SECONDS, 64 a system call
 * (sendmmsg), as fast as the kernel takes them, and prints how many it
 * took.  With -x, each datagram is a prebuilt VXLAN packet instead: the
 * VXLAN header for VNI, then an Ethernet frame from SRC-MAC to DST-MAC
 * holding an IPv4 UDP datagram from INNER-SRC to INNER-DST (port 9000)
 * with LEN bytes of payload, so that a VTEP listening on IP:PORT
 * receives what a remote VTEP would send it.  Not iperf3 -u: it needs
 * its TCP control connection to work both ways and sends one datagram
 * per system call. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define VXLAN_LEN 8
#define ETH_LEN 14
#define IP_LEN 20
#define UDP_LEN 8
#define INNER_PORT 9000

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

/* Writes into BUF the VXLAN packet that SPEC ("VNI,DST-MAC,SRC-MAC,
 * INNER-SRC,INNER-DST") describes, with LEN bytes of inner payload;
 * returns its length, or 0 if SPEC is bad. */
static size_t
build_vxlan(char *spec, size_t len, uint8_t *buf)
{
    char *vni = strtok(spec, ","), *dmac = strtok(NULL, ",");
    char *smac = strtok(NULL, ","), *sip = strtok(NULL, ",");
    char *dip = strtok(NULL, ",");
    uint8_t *eth = buf + VXLAN_LEN, *ip = eth + ETH_LEN, *udp = ip + IP_LEN;
    unsigned long id;

    if (!dip || (id = strtoul(vni, NULL, 10)) == 0 || id > 0xffffff
        || parse_mac(dmac, eth) || parse_mac(smac, eth + 6)
        || inet_pton(AF_INET, sip, ip + 12) != 1
        || inet_pton(AF_INET, dip, ip + 16) != 1) {
        return 0;
    }
    buf[0] = 0x08;                       /* The VNI is valid. */
    buf[4] = (uint8_t) (id >> 16);
    buf[5] = (uint8_t) (id >> 8);
    buf[6] = (uint8_t) id;
    put16(eth + 12, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned int) (IP_LEN + UDP_LEN + len));
    ip[8] = 64;
    ip[9] = 17;
    put16(ip + 10, ip_csum(ip));
    put16(udp, INNER_PORT);
    put16(udp + 2, INNER_PORT);
    put16(udp + 4, (unsigned int) (UDP_LEN + len));
    /* A zero UDP checksum: none, as IPv4 allows. */
    return VXLAN_LEN + ETH_LEN + IP_LEN + UDP_LEN + len;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct mmsghdr msgs[BATCH];
    static uint8_t payload[1472];
    struct timespec now, end;
    unsigned long long sent = 0;
    char *vxlan = NULL;
    struct iovec iov;
    int fd, opt;

    while ((opt = getopt(argc, argv, "x:")) != -1) {
        if (opt != 'x') {
            return 2;
        }
        vxlan = optarg;
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc != 5 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "usage: udpblast [-x VNI,DST-MAC,SRC-MAC,"
                "INNER-SRC,INNER-DST] IP PORT SECONDS LEN\n");
        return 2;
    }
    sin.sin_port = htons((uint16_t) atoi(argv[2]));
    iov.iov_base = payload;
    iov.iov_len = (size_t) atoi(argv[4]);
    if (iov.iov_len > sizeof payload - 64) {
        return 2;
    }
    if (vxlan) {
        iov.iov_len = build_vxlan(vxlan, iov.iov_len, payload);
        if (!iov.iov_len) {
            fprintf(stderr, "udpblast: bad -x %s\n", vxlan);
            return 2;
        }
    }
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("udpblast");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += atoi(argv[3]);
    do {
        int n = sendmmsg(fd, msgs, BATCH, 0);

        if (n > 0) {
            sent += (unsigned long long) n;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < end.tv_sec
             || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
    printf("%llu\n", sent);
    return 0;
}
