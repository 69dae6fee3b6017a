#include <config.h>

/* libFuzzer target for everything that reads frames off the wire: flow
 * extraction, VXLAN decapsulation of a whole outer frame, and the
 * datapath's receive path from both a local port and the tunnel port.  The
 * input is one frame.  Beyond the sanitizers' checks it verifies that the
 * datapath hands back every packet buffer it was given. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp.h"
#include "flow.h"
#include "headers.h"
#include "inet.h"
#include "packet.h"

#define PORT_LOCAL 1
#define PORT_OTHER 2
#define PORT_VTEP 3
#define FUZZ_VNI 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct packet_pool *pool;
static struct dp *dp;

static void
discard(void *aux, uint32_t port_no, struct packet_batch *batch)
{
    (void) aux;
    (void) port_no;
    packet_batch_free(batch);
}

static void
setup(void)
{
    struct dp_callbacks cb = { .send = discard };
    struct in6_addr group, peer;

    group = inet_from_ipv4(htonl(0xef010101));
    peer = inet_from_ipv4(htonl(0xac1f0002));

    struct dp_vni_config multicast = { .group = group };
    struct dp_vni_config her = { .flood_list = &peer, .n_flood = 1 };

    pool = packet_pool_create(64);
    dp = pool ? dp_create(pool, 4096, &cb) : NULL;
    if (!dp || dp_vni_set(dp, FUZZ_VNI, &multicast)
        || dp_vni_set(dp, 1, &her)
        || dp_port_add(dp, PORT_LOCAL, DP_PORT_LOCAL)
        || dp_port_add(dp, PORT_OTHER, DP_PORT_LOCAL)
        || dp_port_add(dp, PORT_VTEP, DP_PORT_TUNNEL)
        || dp_port_bind(dp, PORT_LOCAL, FUZZ_VNI)
        || dp_port_bind(dp, PORT_OTHER, FUZZ_VNI)) {
        fprintf(stderr, "fuzz-decap: setup failed\n");
        abort();
    }
}

static struct packet *
packet_from(const uint8_t *data, size_t size)
{
    struct packet *p = packet_alloc(pool);

    if (!p) {
        abort();
    }
    if (packet_set_frame(p, data, size)) {
        packet_free(p);
        return NULL;
    }
    return p;
}

static void
receive(uint32_t port_no, const uint8_t *data, size_t size)
{
    struct packet *p = packet_from(data, size);
    struct packet_batch batch;

    if (p) {
        /* From the listed peer: a frame from no VTEP's address (all zero)
         * would be dropped before anything else read it. */
        if (port_no == PORT_VTEP) {
            p->md.tun_src = inet_from_ipv4(htonl(0xac1f0002));
        }
        packet_batch_init(&batch);
        packet_batch_add(&batch, p);
        dp_receive(dp, port_no, &batch, 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_key key;
    struct packet *p;
    uint32_t vni;

    if (!dp) {
        setup();
    }

    p = packet_from(data, size);
    if (p) {
        flow_extract(p, &key);
        if (vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni) == VXLAN_OK) {
            flow_extract(p, &key);
        }
        packet_free(p);
    }

    /* The same bytes as a UDP payload from the VTEP's socket, and as a
     * frame from a VM. */
    receive(PORT_VTEP, data, size);
    receive(PORT_LOCAL, data, size);
    dp_run_ageing(dp, 0);

    struct packet_pool_stats stats;

    packet_pool_get_stats(pool, &stats);
    if (stats.n_free != stats.n_packets) {
        fprintf(stderr, "fuzz-decap: %zu packet buffers leaked\n",
                stats.n_packets - stats.n_free);
        abort();
    }
    return 0;
}
