#include <config.h>

/* libFuzzer target for the offload path a VM controls: frames read from a
 * TAP with offloads, each behind the virtio-net header the guest wrote,
 * go through vnet_hdr_apply() and the datapath (fuzz-dp.h) to the VTEP
 * and to a port without offloads (TSO cuts super frames for both), and to
 * a TAP with offloads (GRO joins runs of segments).
 *
 * The input is a byte that picks the underlay (bit 0: IPv6), then
 * records: a byte that picks the VM's port (bit 0: the TAP with offloads,
 * else the plain VM), the 10-byte virtio-net header in the host's byte
 * order, the frame's length (2 bytes, big-endian; the last record takes
 * what is left if it is short) and the frame.  Records from one port in a
 * row arrive in one batch, as one read of a TAP gives them. */

#include <stdint.h>
#include <string.h>

#include "fuzz-dp.h"
#include "packet.h"
#include "vnet-hdr.h"

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
    f = fuzz_dp_begin(*first & 1);
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
