#ifndef SWITCHD_CAPTURE_FILTER_H
#define SWITCHD_CAPTURE_FILTER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

/* A live capture's filter: an expression in libpcap's syntax (pcap-filter
 * (7)), compiled by libpcap for Ethernet frames into a BPF program that
 * the daemon runs on each frame (or the kernel, on a packet socket).  The
 * expression comes from a client that is not root: it is only ever
 * compiled, and the program only ever run by libpcap's interpreter or the
 * kernel's, which check it. */

/* The most of a frame a capture keeps, as tcpdump's default. */
#define CAPTURE_SNAPLEN 262144

struct capture_filter {
    struct bpf_program prog;
    bool all;                   /* No expression: every frame matches. */
};

/* Compiles 'expr' (NULL or "" for every frame) into 'f'.  Returns 0, or
 * EINVAL with libpcap's reason in 'error'. */
int capture_filter_compile(struct capture_filter *f, const char *expr,
                           char *error, size_t error_size);

/* Frees what 'f' holds.  Accepts a filter that failed to compile. */
void capture_filter_free(struct capture_filter *f);

/* Says whether the 'len' bytes of frame 'data' match 'f'. */
bool capture_filter_match(const struct capture_filter *f,
                          const uint8_t *data, size_t len);

#endif /* switchd/capture-filter.h */
