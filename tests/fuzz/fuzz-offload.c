#include <config.h>

/* libFuzzer target for the offload path a VM controls: frames read from a
 * TAP with offloads, each behind the virtio-net header the guest wrote,
 * go through vnet_hdr_apply() and the datapath (fuzz-dp.h) to the VTEP
 * and to a port without offloads (TSO cuts super frames for both), and to
 * a TAP with offloads (GRO joins runs of segments).
 *
 * The input is a byte that picks the VTEP's variant (FUZZ_DP_* in its low
 * three bits: IPv6, jumbo MTU, no outer UDP checksum), then
 * records: a byte that picks the VM's port (bit 0: the TAP with offloads,
 * else the plain VM), the 10-byte virtio-net header in the host's byte
 * order, the frame's length (2 bytes, big-endian; the last record takes
 * what is left if it is short) and the frame.  Records from one port in a
 * row arrive in one batch, as one read of a TAP gives them.
 *
 * Each super frame the header makes, TCP or UDP, is also cut and joined
 * again on its own, to check TSO and GRO against each other
 * (check_tso()). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "fuzz-dp.h"
#include "headers.h"
#include "packet.h"
#include "gro.h"
#include "port-offload.h"
#include "tso.h"
#include "vnet-hdr.h"

/* Super frames of more segments than this are only sent, not checked, so
 * that the pool does not run dry. */
#define MAX_SEGMENTS 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *data;
    size_t size;
};

static const uint8_t *
take(struct input *in, size_t n)
{
    const uint8_t *p = in->data;

    if (n > in->size) {
        return NULL;
    }
    in->data += n;
    in->size -= n;
    return p;
}

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-offload: %s\n", what);
    abort();
}

struct segments {
    size_t n;
    struct packet *seg[MAX_SEGMENTS];
};

static void
collect(void *segs_, struct packet *seg)
{
    struct segments *segs = segs_;

    if (segs->n >= MAX_SEGMENTS) {
        fail("more segments than the payload makes");
    }
    segs->seg[segs->n++] = seg;
}

/* Returns true if the IPv4 header (if any) and TCP or UDP checksums of
 * 'seg', whose headers tso_super_header_len() has found, are finished and
 * right. */
static bool
checksums_ok(const struct packet *seg)
{
    const uint8_t *l3 = packet_at(seg, seg->md.l3_ofs, IPV4_HEADER_LEN);
    size_t tcp_len = packet_size(seg) - seg->md.l4_ofs;
    uint32_t pseudo;

    if (*l3 >> 4 == IPV4_VERSION) {
        const struct ipv4_header *ip = (const void *) l3;

        if (csum_finish(csum_add_bytes(0, l3,
                                       seg->md.l4_ofs - seg->md.l3_ofs))) {
            return false;
        }
        pseudo = csum_pseudo_ipv4(be32_16_get(&ip->ip_src),
                                  be32_16_get(&ip->ip_dst),
                                  seg->md.l4_proto, (uint16_t) tcp_len);
    } else {
        const struct ipv6_header *ip6 = packet_at(seg, seg->md.l3_ofs,
                                                  IPV6_HEADER_LEN);
        struct in6_addr src, dst;

        memcpy(&src, ip6->ip6_src, sizeof src);
        memcpy(&dst, ip6->ip6_dst, sizeof dst);
        pseudo = csum_pseudo_ipv6(&src, &dst, seg->md.l4_proto,
                                  (uint32_t) tcp_len);
    }
    return !csum_finish(csum_add_bytes(pseudo,
                                       packet_data(seg) + seg->md.l4_ofs,
                                       tcp_len));
}

/* Returns true if GRO may join the segments of 'p', whose headers end at
 * 'hdr_len': IPv4 without options or IPv6, and for TCP flags ACK with at
 * most PSH. */
static bool
joinable(const struct packet *p, size_t hdr_len)
{
    const struct tcp_header *tcp = packet_at(p, p->md.l4_ofs,
                                             TCP_HEADER_LEN);
    const uint8_t *version = packet_at(p, p->md.l3_ofs, 1);
    size_t ip_hdr = p->md.l4_ofs - p->md.l3_ofs;

    return (p->md.gso_udp || (ntohs(tcp->tcp_ctl) & 0x1f7) == 0x010)
           && ip_hdr == (*version >> 4 == IPV4_VERSION ? IPV4_HEADER_LEN
                                                       : IPV6_HEADER_LEN)
           && packet_size(p) > hdr_len;
}

/* Cuts super frame 'p' (which vnet_hdr_apply() accepted) and checks each
 * segment: its headers, its share of the payload, finished checksums.
 * Where GRO may join them, joins them back and checks that the payload
 * is whole again.  'p' stays as it was. */
static void
check_tso(struct fuzz_dp *f, struct packet *p)
{
    size_t hdr_len = tso_super_header_len(p);
    size_t mss = p->md.gso_size;
    size_t payload = packet_size(p) - hdr_len;
    struct segments segs = { .n = 0 };
    size_t ofs = 0;

    if (!hdr_len) {
        fail("vnet_hdr_apply() took a super frame TSO cannot cut");
    }
    if (payload / mss >= MAX_SEGMENTS) {
        return;
    }
    if (tso_segment(p, f->pool, collect, &segs)) {
        fail("tso_segment() refused a super frame it should cut");
    }
    for (size_t i = 0; i < segs.n; i++) {
        struct packet *seg = segs.seg[i];
        size_t len = packet_size(seg) - hdr_len;

        if ((p->md.gso_udp ? seg->md.l4_proto != IP_PROTO_UDP
                           : tso_header_len(seg) != hdr_len)
            || len > mss
            || (i + 1 < segs.n && len != mss)
            || memcmp(packet_data(seg) + hdr_len,
                      packet_data(p) + hdr_len + ofs, len)
            || !checksums_ok(seg)) {
            fail("a segment that is not its share of the super frame");
        }
        ofs += len;
    }
    if (ofs != payload) {
        fail("segments that do not carry the whole payload");
    }
    if (joinable(p, hdr_len)) {
        struct packet *head = segs.seg[0];

        for (size_t i = 1; i < segs.n; i++) {
            if (!gro_merge(head, segs.seg[i], PORT_OFFLOAD_ALL)) {
                fail("GRO does not join what TSO cut");
            }
        }
        if (packet_size(head) != packet_size(p)
            || memcmp(packet_data(head) + hdr_len,
                      packet_data(p) + hdr_len, payload)
            || (segs.n > 1 && (head->md.gso_size != mss
                               || head->md.gso_udp != p->md.gso_udp
                               || tso_super_header_len(head) != hdr_len))) {
            fail("GRO joined other than what TSO cut");
        }
    }
    for (size_t i = 0; i < segs.n; i++) {
        packet_free(segs.seg[i]);
    }
}

/* Returns the frame of the next record, as the TAP port's read leaves it
 * (header applied), in '*p' with its port in '*port_no'; '*p' is NULL if
 * the port would drop it.  Returns false when the input is used up. */
static bool
next_record(struct fuzz_dp *f, struct input *in, struct packet **p,
            uint32_t *port_no)
{
    const uint8_t *head = take(in, 1 + VNET_HDR_LEN + 2);
    size_t len;

    if (!head) {
        return false;
    }
    *port_no = head[0] & 1 ? FUZZ_PORT_TAP_GSO : FUZZ_PORT_VM;
    len = (size_t) head[1 + VNET_HDR_LEN] << 8 | head[2 + VNET_HDR_LEN];
    len = len < in->size ? len : in->size;
    *p = fuzz_dp_packet(f, take(in, len), len);
    if (*p) {
        struct virtio_net_hdr h;

        memcpy(packet_data(*p) - VNET_HDR_LEN, head + 1, VNET_HDR_LEN);
        h = vnet_hdr_pull(*p);
        if (!vnet_hdr_apply(&h, *p)) {
            packet_free(*p);
            *p = NULL;
        } else if ((*p)->md.gso_size) {
            check_tso(f, *p);
        }
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    const uint8_t *first = take(&in, 1);
    struct packet_batch batch;
    uint32_t batch_port = 0;
    struct fuzz_dp *f;
    uint32_t port_no;
    struct packet *p;

    if (!first) {
        return 0;
    }
    f = fuzz_dp_begin(*first & 7);
    packet_batch_init(&batch);
    while (next_record(f, &in, &p, &port_no)) {
        if (!p) {
            continue;
        }
        if (batch.count
            && (port_no != batch_port || packet_batch_is_full(&batch))) {
            fuzz_dp_receive(f, batch_port, &batch);
        }
        batch_port = port_no;
        packet_batch_add(&batch, p);
    }
    if (batch.count) {
        fuzz_dp_receive(f, batch_port, &batch);
    }
    fuzz_dp_end(f);
    return 0;
}
