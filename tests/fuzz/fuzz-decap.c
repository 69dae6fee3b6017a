#include <config.h>

/* libFuzzer target for everything that reads frames off the wire: flow
 * extraction, VXLAN decapsulation of a whole outer frame, and the
 * datapath's receive path from the tunnel port and from local ports, with
 * a configured VTEP (fuzz-dp.h) on an IPv4 and on an IPv6 underlay, so
 * that frames go on to learning, flooding, segmentation and
 * encapsulation.  The input is one frame. */

#include <stdint.h>

#include "flow.h"
#include "fuzz-dp.h"
#include "headers.h"
#include "packet.h"
#include "vxlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
receive(struct fuzz_dp *f, uint32_t port_no, const uint8_t *data,
        size_t size)
{
    struct packet *p = fuzz_dp_packet(f, data, size);

    if (p) {
        fuzz_dp_receive_one(f, port_no, p);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        struct fuzz_dp *f = fuzz_dp_begin(ipv6 ? FUZZ_DP_IPV6 : 0);
        struct packet *p = fuzz_dp_packet(f, data, size);
        struct flow_key key;
        uint32_t vni;

        if (p) {
            flow_extract(p, &key);
            if (vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni)
                == VXLAN_OK) {
                flow_extract(p, &key);
            }
            packet_free(p);
        }

        /* The same bytes as a UDP payload from the peer VTEP, and as a
         * frame from VMs on VNIs that flood to a list and to a group. */
        receive(f, FUZZ_PORT_VTEP, data, size);
        f->expect = data;
        f->expect_len = size;
        receive(f, FUZZ_PORT_VM, data, size);
        receive(f, FUZZ_PORT_VM7, data, size);
        f->expect = NULL;
        fuzz_dp_end(f);
    }
    return 0;
}
