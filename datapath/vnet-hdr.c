#include <config.h>

#include "vnet-hdr.h"

#include <stddef.h>
#include <string.h>

#include "csum.h"
#include "headers.h"
#include "port-offload.h"
#include "tso.h"

struct virtio_net_hdr
vnet_hdr_pull(const struct packet *p)
{
    struct virtio_net_hdr h;

    memcpy(&h, packet_data(p) - VNET_HDR_LEN, sizeof h);
    return h;
}

bool
vnet_hdr_apply(const struct virtio_net_hdr *h, struct packet *p)
{
    uint8_t gso_type = h->gso_type & (uint8_t) ~VIRTIO_NET_HDR_GSO_ECN;

    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((size_t) h->csum_start + h->csum_offset + 2 > packet_size(p)) {
            return false;
        }
        p->md.csum_partial = true;
        p->md.csum_start = h->csum_start;
        p->md.csum_offset = h->csum_offset;
    }
    if (gso_type == VIRTIO_NET_HDR_GSO_TCPV4
        || gso_type == VIRTIO_NET_HDR_GSO_TCPV6) {
        /* Checked here once, so that every output may take it as sound. */
        p->md.gso_size = h->gso_size;
        p->md.gso_ecn = (h->gso_type & VIRTIO_NET_HDR_GSO_ECN) != 0;
        return tso_super_header_len(p) != 0;
    }
    if (h->gso_type == VNET_HDR_GSO_UDP_L4) {
        /* As the kernel takes it back from a device (no ECN, the checksum
         * left to finish in the UDP header), so that a port with USO may
         * pass it on whole. */
        p->md.gso_size = h->gso_size;
        p->md.gso_udp = true;
        return tso_super_header_len(p) && p->md.csum_partial
               && p->md.csum_start == p->md.l4_ofs
               && p->md.csum_offset == offsetof(struct udp_header, udp_csum);
    }
    return gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

bool
vnet_hdr_push(struct packet *p)
{
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
    size_t hdr_len;
    void *room;

    if (p->md.csum_partial) {
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.csum_start = p->md.csum_start;
        h.csum_offset = p->md.csum_offset;
    }
    if (p->md.gso_size && (hdr_len = tso_super_header_len(p)) != 0) {
        const uint8_t *version = packet_at(p, p->md.l3_ofs, 1);

        h.gso_type = p->md.gso_udp ? VNET_HDR_GSO_UDP_L4
                     : *version >> 4 == IPV4_VERSION
                     ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
        if (p->md.gso_ecn) {
            h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        }
        h.gso_size = p->md.gso_size;
        h.hdr_len = (uint16_t) hdr_len;
    }
    room = packet_push(p, sizeof h);
    if (room) {
        memcpy(room, &h, sizeof h);
    }
    return room != NULL;
}

bool
vnet_hdr_output(struct packet *p, uint32_t offloads)
{
    uint32_t needs = !p->md.gso_size ? PORT_OFFLOAD_CSUM
                     : p->md.gso_udp ? PORT_OFFLOAD_USO
                     : PORT_OFFLOAD_TSO4 | PORT_OFFLOAD_TSO6;

    if (p->md.csum_partial && !(offloads & needs)) {
        csum_complete_partial(p);
    }
    return vnet_hdr_push(p);
}
