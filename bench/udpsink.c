/* udpsink: the counting underlay receiver of e2e-bench.sh.
 *
 *   udpsink PORT SECONDS
 *
 * Binds a UDP socket to PORT, reads everything for SECONDS and counts
 * datagrams; each SIGUSR1 prints the count so far on a line, so that a
 * script can take it at the two ends of its window.  The socket sets
 * UDP_GRO, as a VTEP does: a train of datagrams sent with UDP GSO stays
 * one buffer, which is counted as the datagrams it holds (its length
 * over the segment size the kernel reports), so that the receiving
 * kernel does not cut it for nothing and the sender is not charged for
 * that work. */

#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#ifndef UDP_GRO
#define UDP_GRO 104             /* Linux 5.0; include/uapi/linux/udp.h. */
#endif

#define BATCH 64
#define BUF_SIZE 65536

static volatile sig_atomic_t asked;

static void
on_usr1(int sig)
{
    (void) sig;
    asked = 1;
}

/* The datagrams the message MSG of LEN bytes holds: one, or its length
 * over the segment size of a train. */
static unsigned long long
datagrams(struct msghdr *msg, size_t len)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int size;

            memcpy(&size, CMSG_DATA(c), sizeof size);
            if (size > 0) {
                return (len + (size_t) size - 1) / (size_t) size;
            }
        }
    }
    return 1;
}

int
main(int argc, char *argv[])
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    static char bufs[BATCH][BUF_SIZE];
    static char ctl[BATCH][CMSG_SPACE(sizeof(int))];
    struct timeval tick = { .tv_usec = 100000 };
    struct sigaction sa = { .sa_handler = on_usr1 };
    struct mmsghdr msgs[BATCH];
    struct iovec iovs[BATCH];
    unsigned long long count = 0;
    struct timespec now, end;
    int fd, one = 1, rcvbuf = 4 << 20;

    if (argc != 3) {
        fprintf(stderr, "usage: udpsink PORT SECONDS\n");
        return 2;
    }
    sin.sin_port = htons((uint16_t) atoi(argv[1]));
    sigaction(SIGUSR1, &sa, NULL);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one)
        || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof tick)
        || bind(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("udpsink");
        return 1;
    }
    /* Best effort: a larger buffer rides out the reader's pauses. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    for (int i = 0; i < BATCH; i++) {
        iovs[i].iov_base = bufs[i];
        iovs[i].iov_len = BUF_SIZE;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (;;) {
        int n;

        memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < BATCH; i++) {
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
        }
        n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        for (int i = 0; i < n; i++) {
            count += datagrams(&msgs[i].msg_hdr, msgs[i].msg_len);
        }
        if (asked) {
            asked = 0;
            printf("%llu\n", count);
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > end.tv_sec
            || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec)) {
            return 0;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            perror("udpsink");
            return 1;
        }
    }
}
