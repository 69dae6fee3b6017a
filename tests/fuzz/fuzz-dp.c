#include <config.h>

#include "fuzz-dp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "dp.h"
#include "eth-addr.h"
#include "headers.h"
#include "inet.h"
#include "mac-table.h"
#include "packet.h"
#include "tso.h"
#include "vnet-hdr.h"
#include "vxlan.h"

/* Enough buffers for every copy of a flooded super frame and a batch of
 * its segments; full batches go out (and come back) as they fill. */
#define FUZZ_POOL_SIZE 256

/* What a TAP with offloads takes. */
#define GSO_OFFLOADS (PORT_OFFLOAD_CSUM | PORT_OFFLOAD_TSO4 \
                      | PORT_OFFLOAD_TSO6 | PORT_OFFLOAD_USO)

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-dp: %s\n", what);
    abort();
}

static struct in6_addr
addr(const char *s)
{
    struct in6_addr a;

    if (!inet_parse(s, &a)) {
        fail("bad address in the setup");
    }
    return a;
}

static struct eth_addr
mac(const char *s)
{
    struct eth_addr a;

    if (!eth_addr_parse(s, &a)) {
        fail("bad MAC in the setup");
    }
    return a;
}

/* Puts on the outer headers the VXLAN port and the kernel would, then
 * checks the whole outer frame. */
static bool
frame_fits_tunnel(const struct fuzz_dp *f, struct packet *p)
{
    struct eth_header *eth;
    uint32_t vni;

    if (p->md.gso_size || packet_size(p) < VXLAN_HEADER_LEN) {
        return false;
    }
    vxlan_push_outer(p, &f->encap, 1);
    eth = packet_push(p, ETH_HEADER_LEN);
    if (!eth) {
        return false;
    }
    memset(eth, 0, ETH_HEADER_LEN);
    eth->eth_type = htons(inet_is_ipv4(&p->md.tun_dst) ? ETH_TYPE_IPV4
                                                       : ETH_TYPE_IPV6);
    return packet_size(p) <= f->mtu + ETH_HEADER_LEN
           && vxlan_decap_frame(p, htons(VXLAN_DST_PORT), &vni) == VXLAN_OK
           && (f->any_vni || vni == 5000 || vni == 6000 || vni == 7000);
}

/* A super frame for a TAP must be one its virtio-net header can describe
 * and the guest can cut. */
static bool
frame_fits_tap(struct packet *p)
{
    return !p->md.gso_size
           || (tso_super_header_len(p) && vnet_hdr_push(p));
}

static bool
frame_is_expected(const struct fuzz_dp *f, const struct packet *p)
{
    return !f->expect
           || (packet_size(p) == f->expect_len
               && !memcmp(packet_data(p), f->expect, f->expect_len));
}

/* Checks each frame as its port would take it, then frees them all. */
static void
check_and_discard(void *f_, uint32_t port_no, struct packet_batch *batch)
{
    struct fuzz_dp *f = f_;
    struct packet *p;

    if (port_no >= FUZZ_N_PORTS) {
        fail("a frame for a port that is not there");
    }
    f->n_sent[port_no] += batch->count;
    PACKET_BATCH_FOR_EACH (i, p, batch) {
        if (port_no == FUZZ_PORT_VTEP && !frame_fits_tunnel(f, p)) {
            fail("a tunnel frame that does not fit or decapsulate");
        }
        if (!frame_is_expected(f, p)) {
            fail("a frame from a VM changed on its way");
        }
        if (port_no == FUZZ_PORT_VTEP) {
            continue;
        } else if (port_no == FUZZ_PORT_TAP_GSO) {
            if (!frame_fits_tap(p)) {
                fail("a super frame a TAP cannot be told about");
            }
        } else if (p->md.gso_size) {
            fail("a super frame to a port without offloads");
        } else {
            csum_complete_partial(p);
        }
    }
    packet_batch_free(batch);
}

static void
check(int error)
{
    if (error) {
        fail("setup failed");
    }
}

static void
add_local_port(struct dp *dp, uint32_t port_no, uint32_t vni)
{
    check(dp_port_add(dp, port_no, DP_PORT_LOCAL));
    check(dp_port_bind(dp, port_no, vni));
}

static void
add_static(struct dp *dp, uint32_t vni, const char *s,
           const struct mac_dest *dest)
{
    struct eth_addr a = mac(s);

    check(mac_table_add_static(dp_mac_table(dp), vni, &a, dest));
}

static void
configure(struct fuzz_dp *f, unsigned int flags)
{
    struct dp_callbacks cb = { .send = check_and_discard, .aux = f };
    struct in6_addr flood[] = { addr("172.31.250.1"), addr("fd00:250::1") };
    struct dp_vni_config her = { .flood_list = flood, .n_flood = 2 };
    struct dp_vni_config group = {
        .group = addr(f->ipv6 ? "ff05::1:1" : "239.1.1.1"),
        .mac_limit = 8,
    };
    struct dp_tunnel_config tunnel = {
        .encap = {
            .local = f->local,
            .eth_src = mac("02:00:00:00:0b:01"),
            .dst_port = htons(VXLAN_DST_PORT),
            .src_port_min = VXLAN_SRC_PORT_MIN,
            .src_port_max = VXLAN_SRC_PORT_MAX,
            .df = true,
            .udp_csum = !(flags & FUZZ_DP_NO_UDP_CSUM),
        },
        .mtu = f->mtu,
    };
    struct dp *dp;

    f->encap = tunnel.encap;
    f->dp = dp = dp_create(f->pool, 4096, &cb);
    if (!dp) {
        fail("out of memory");
    }
    check(dp_vni_set(dp, 5000, &her));
    check(dp_vni_set(dp, 6000, &her));
    check(dp_vni_set(dp, 7000, &group));
    check(dp_port_add(dp, FUZZ_PORT_VTEP, DP_PORT_TUNNEL));
    check(dp_tunnel_configure(dp, FUZZ_PORT_VTEP, &tunnel));
    add_local_port(dp, FUZZ_PORT_VM, 5000);
    add_local_port(dp, FUZZ_PORT_TAP_GSO, 5000);
    check(dp_port_set_offloads(dp, FUZZ_PORT_TAP_GSO, GSO_OFFLOADS));
    add_local_port(dp, FUZZ_PORT_PLAIN, 5000);
    add_local_port(dp, FUZZ_PORT_VM6, 6000);
    add_local_port(dp, FUZZ_PORT_VM7, 7000);

    /* The peer's overlay MACs are known, as after a first exchange; one
     * of our VMs is known by a static entry. */
    struct mac_dest remote = { .type = MAC_DEST_REMOTE, .remote = f->peer };
    struct mac_dest tap = { .type = MAC_DEST_PORT,
                            .port_no = FUZZ_PORT_TAP_GSO };

    add_static(dp, 5000, "02:00:00:00:01:01", &remote);
    add_static(dp, 6000, "02:00:00:00:01:01", &remote);
    add_static(dp, 5000, "02:00:00:00:02:02", &tap);
}

struct fuzz_dp *
fuzz_dp_begin(unsigned int flags)
{
    static struct fuzz_dp dps[2];
    bool ipv6 = flags & FUZZ_DP_IPV6;
    struct fuzz_dp *f = &dps[ipv6];

    if (!f->pool) {
        f->pool = packet_pool_create(FUZZ_POOL_SIZE);
        if (!f->pool) {
            fail("out of memory");
        }
        f->ipv6 = ipv6;
        f->local = addr(ipv6 ? "fd00:250::2" : "172.31.250.2");
        f->peer = addr(ipv6 ? "fd00:250::1" : "172.31.250.1");
    }
    f->mtu = flags & FUZZ_DP_JUMBO ? 9000 : 1500;
    configure(f, flags);
    return f;
}

struct packet *
fuzz_dp_packet(struct fuzz_dp *f, const uint8_t *data, size_t size)
{
    struct packet *p = packet_alloc(f->pool);

    if (!p) {
        fail("packet buffers leaked");
    }
    if (packet_set_frame(p, data, size)) {
        packet_free(p);
        return NULL;
    }
    return p;
}

void
fuzz_dp_receive(struct fuzz_dp *f, uint32_t port_no,
                struct packet_batch *batch)
{
    struct packet *p;

    if (port_no == FUZZ_PORT_VTEP) {
        PACKET_BATCH_FOR_EACH (i, p, batch) {
            p->md.tun_src = f->peer;
            p->md.tun_dst = f->local;
        }
    }
    dp_receive(f->dp, port_no, batch, 0);
}

void
fuzz_dp_receive_one(struct fuzz_dp *f, uint32_t port_no, struct packet *p)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    fuzz_dp_receive(f, port_no, &batch);
}

void
fuzz_dp_end(struct fuzz_dp *f)
{
    struct packet_pool_stats stats;

    dp_run_ageing(f->dp, 0);
    dp_destroy(f->dp);
    f->dp = NULL;
    packet_pool_get_stats(f->pool, &stats);
    if (stats.n_free != stats.n_packets) {
        fail("packet buffers leaked");
    }
}
