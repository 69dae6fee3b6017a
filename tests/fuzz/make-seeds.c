#include <config.h>

/* Writes the seed corpora of the fuzz targets that take more than a plain
 * frame, made by the code that makes such input for real: requests by
 * vswitch-ctl's builders, a configuration by the daemon's editing and
 * saving functions, offload records and captures from the unit tests'
 * frames.  Run as
 *
 *     build-fuzz/tests/fuzz/make-seeds tests/fuzz/corpus
 *
 * and commit what changed; the corpora are committed so that a run needs
 * no generator. */

#include <errno.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "command.h"
#include "config-edit.h"
#include "config-store.h"
#include "fixture.h"
#include "frame.h"
#include "request.h"
#include "vnet-hdr.h"

static const char *top;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fprintf(stderr, "make-seeds: ");
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

static char *
seed_path(const char *corpus, const char *name)
{
    static char path[4096];

    snprintf(path, sizeof path, "%s/%s", top, corpus);
    if (mkdir(path, 0755) && errno != EEXIST) {
        die("%s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/%s/%s", top, corpus, name);
    return path;
}

static void
write_seed(const char *corpus, const char *name, const void *data,
           size_t size)
{
    const char *path = seed_path(corpus, name);
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
        die("%s: cannot write", path);
    }
}

/* Offload records (fuzz-offload.c). */

struct records {
    uint8_t data[1 << 18];
    size_t len;
};

static void
add_record(struct records *r, uint8_t port, const struct virtio_net_hdr *h,
           const uint8_t *frame, size_t len)
{
    uint8_t *p = r->data + r->len;

    if (r->len + 1 + VNET_HDR_LEN + 2 + len > sizeof r->data) {
        die("offload seed too long");
    }
    p[0] = port;
    memcpy(p + 1, h, VNET_HDR_LEN);
    p[1 + VNET_HDR_LEN] = (uint8_t) (len >> 8);
    p[2 + VNET_HDR_LEN] = (uint8_t) len;
    memcpy(p + 3 + VNET_HDR_LEN, frame, len);
    r->len += 1 + VNET_HDR_LEN + 2 + len;
}

/* A TCP frame as a guest hands it over: a super frame of 'n_segs' segments
 * of 'mss' bytes, or a plain segment if 'n_segs' is 0. */
static void
add_tcp(struct records *r, uint8_t port, bool ipv6, bool vlan, uint32_t seq,
        size_t n_segs, size_t mss, bool partial)
{
    static uint8_t frame[PACKET_MAX_FRAME];
    struct fixture_tcp t = {
        .ipv6 = ipv6,
        .vlan = vlan,
        .payload_len = n_segs ? n_segs * mss - 100 : mss,
        .seq = seq,
        .flags = 0x10 | (n_segs ? 0x08 : 0),
        .partial = partial || n_segs,
    };
    size_t len = fixture_tcp_frame(frame, &t);
    size_t l3 = 14 + (vlan ? 4 : 0);
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

    if (t.partial) {
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.csum_start = (uint16_t) (l3 + (ipv6 ? 40 : 20));
        h.csum_offset = 16;
    }
    if (n_segs) {
        h.gso_type = ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
                          : VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = (uint16_t) mss;
        h.hdr_len = (uint16_t) (h.csum_start + 32);
    }
    add_record(r, port, &h, frame, len);
}

static void
write_offload(void)
{
    static struct records r;
    struct virtio_net_hdr none = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
    uint8_t frame[256];
    size_t len;

    /* A super frame over each underlay, tagged and not. */
    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        for (int vlan = 0; vlan < 2; vlan++) {
            char name[32];

            r.len = 0;
            r.data[r.len++] = (uint8_t) ipv6;
            add_tcp(&r, 0, ipv6, vlan, 1000, 3, 1000, true);
            snprintf(name, sizeof name, "super-ipv%d%s", ipv6 ? 6 : 4,
                     vlan ? "-vlan" : "");
            write_seed("offload", name, r.data, r.len);
        }
    }

    /* A run of wire-sized segments, which GRO joins for the TAP with
     * offloads, ending with a short one; with checksums finished and not. */
    for (int partial = 0; partial < 2; partial++) {
        r.len = 0;
        r.data[r.len++] = 0;
        for (uint32_t i = 0; i < 4; i++) {
            add_tcp(&r, 0, false, false, 1 + i * 1448, 0,
                    i < 3 ? 1448 : 300, partial);
        }
        write_seed("offload", partial ? "run-partial" : "run", r.data,
                   r.len);
    }

    /* A large super frame from the TAP with offloads, cut for the VM. */
    r.len = 0;
    r.data[r.len++] = 0;
    add_tcp(&r, 1, false, false, 5, 40, 1448, true);
    write_seed("offload", "super-64k", r.data, r.len);

    /* An ARP request among segments. */
    r.len = 0;
    r.data[r.len++] = 0;
    struct eth_addr vm = fixture_mac(1);

    len = fixture_arp_request(frame, &vm, 0x0a000001, 0x0a000002);
    add_record(&r, 0, &none, frame, len);
    add_tcp(&r, 0, false, false, 1, 0, 1448, false);
    write_seed("offload", "arp", r.data, r.len);
}

START_TEST(write_seeds)
{
    write_offload();
}
END_TEST

/* The frames come from the unit tests' fixture, whose checks need to run
 * inside a Check test. */
int
main(int argc, char *argv[])
{
    Suite *s = suite_create("make-seeds");

    if (argc != 2) {
        die("usage: make-seeds CORPUS-DIRECTORY");
    }
    top = argv[1];
    fixture_add_case(s, "writes the seeds", write_seeds, NULL, NULL);
    return fixture_run(s);
}
