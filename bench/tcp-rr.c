/* tcp-rr: the request/response latency test of e2e-bench.sh.
 *
 *   tcp-rr -s PORT                 serve one client, then exit
 *   tcp-rr IP PORT SECONDS         ping-pong for SECONDS
 *
 * The client sends one byte, waits for the server to echo it, and
 * repeats for SECONDS on one connection with TCP_NODELAY on both sides,
 * as netperf's TCP_RR does; it prints the transactions per second.  One
 * transaction in flight at a time: the figure is the round trip through
 * both stacks and whatever lies between, with nothing to batch. */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
serve(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, conn;
    char c;

    sin.sin_port = htons((uint16_t) port);
    if (fd < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || bind(fd, (struct sockaddr *) &sin, sizeof sin)
        || listen(fd, 1) || (conn = accept(fd, NULL, NULL)) < 0) {
        perror("tcp-rr");
        return 1;
    }
    setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (read(conn, &c, 1) == 1) {
        if (write(conn, &c, 1) != 1) {
            break;
        }
    }
    return 0;
}

static int
ping_pong(const char *ip, int port, double secs)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    unsigned long long n = 0;
    double start, end;
    char c = 'x';

    sin.sin_port = htons((uint16_t) port);
    if (fd < 0 || inet_pton(AF_INET, ip, &sin.sin_addr) != 1
        || connect(fd, (struct sockaddr *) &sin, sizeof sin)) {
        perror("tcp-rr");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    start = now_s();
    end = start + secs;
    do {
        if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
            perror("tcp-rr");
            return 1;
        }
        n++;
    } while ((n & 63) || now_s() < end);
    printf("%.0f\n", (double) n / (now_s() - start));
    return 0;
}

int
main(int argc, char *argv[])
{
    if (argc == 3 && argv[1][0] == '-' && argv[1][1] == 's') {
        return serve(atoi(argv[2]));
    }
    if (argc == 4) {
        return ping_pong(argv[1], atoi(argv[2]), atof(argv[3]));
    }
    fprintf(stderr, "usage: tcp-rr -s PORT | tcp-rr IP PORT SECONDS\n");
    return 2;
}
