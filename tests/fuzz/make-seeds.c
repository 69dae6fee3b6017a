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
#include "util.h"
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

/* A TCP frame (or a UDP datagram if 'udp') as a guest hands it over: a
 * super frame of 'n_segs' segments of 'mss' bytes, or a plain segment if
 * 'n_segs' is 0. */
static void
add_frame(struct records *r, uint8_t port, bool ipv6, bool vlan, bool udp,
          uint32_t seq, size_t n_segs, size_t mss, bool partial)
{
    static uint8_t frame[PACKET_MAX_FRAME];
    struct fixture_tcp t = {
        .ipv6 = ipv6,
        .vlan = vlan,
        .payload_len = n_segs ? n_segs * mss - 100 : mss,
        .seq = seq,
        .flags = 0x10 | (n_segs ? 0x08 : 0),
        .partial = partial || n_segs,
        .udp = udp,
    };
    size_t len = fixture_tcp_frame(frame, &t);
    size_t l3 = 14 + (vlan ? 4 : 0);
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

    if (t.partial) {
        h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h.csum_start = (uint16_t) (l3 + (ipv6 ? 40 : 20));
        h.csum_offset = udp ? 6 : 16;
    }
    if (n_segs) {
        h.gso_type = udp ? VNET_HDR_GSO_UDP_L4
                     : ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6
                     : VIRTIO_NET_HDR_GSO_TCPV4;
        h.gso_size = (uint16_t) mss;
        h.hdr_len = (uint16_t) (h.csum_start + (udp ? 8 : 32));
    }
    add_record(r, port, &h, frame, len);
}

/* The same for a TCP frame. */
static void
add_tcp(struct records *r, uint8_t port, bool ipv6, bool vlan, uint32_t seq,
        size_t n_segs, size_t mss, bool partial)
{
    add_frame(r, port, ipv6, vlan, false, seq, n_segs, mss, partial);
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

    /* Jumbo segments to a VTEP with an MTU of 9000; wire-sized ones to
     * one that leaves the outer UDP checksum out (FUZZ_DP_*). */
    r.len = 0;
    r.data[r.len++] = 2;
    add_tcp(&r, 0, false, false, 1000, 3, 8000, true);
    write_seed("offload", "super-jumbo", r.data, r.len);
    r.len = 0;
    r.data[r.len++] = 4;
    add_tcp(&r, 0, false, false, 1000, 3, 1000, true);
    write_seed("offload", "super-no-udp-csum", r.data, r.len);

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

    /* A run of segments shorter than any MSS, which GRO must not join into
     * a super frame that tso.h would refuse. */
    r.len = 0;
    r.data[r.len++] = 0;
    for (uint32_t i = 0; i < 4; i++) {
        add_tcp(&r, 0, false, false, 1 + i * 40, 0, 40, false);
    }
    write_seed("offload", "run-small", r.data, r.len);

    /* A large super frame from the TAP with offloads, cut for the VM. */
    r.len = 0;
    r.data[r.len++] = 0;
    add_tcp(&r, 1, false, false, 5, 40, 1448, true);
    write_seed("offload", "super-64k", r.data, r.len);

    /* UDP super frames (USO), cut for the underlay and joined again on
     * their own; and a run of datagrams of one flow from the plain VM,
     * which GRO joins for the TAP with offloads. */
    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        char name[32];

        r.len = 0;
        r.data[r.len++] = 0;
        add_frame(&r, 0, ipv6, ipv6, true, 0, 5, 1200, true);
        snprintf(name, sizeof name, "uso-ipv%d", ipv6 ? 6 : 4);
        write_seed("offload", name, r.data, r.len);
    }
    r.len = 0;
    r.data[r.len++] = 0;
    for (uint32_t i = 0; i < 4; i++) {
        add_frame(&r, 0, false, false, true, 0, 0, i < 3 ? 1000 : 200,
                  false);
    }
    write_seed("offload", "udp-run", r.data, r.len);

    /* An ARP request among segments. */
    r.len = 0;
    r.data[r.len++] = 0;
    struct eth_addr vm = fixture_mac(1);

    len = fixture_arp_request(frame, &vm, 0x0a000001, 0x0a000002);
    add_record(&r, 0, &none, frame, len);
    add_tcp(&r, 0, false, false, 1, 0, 1448, false);
    write_seed("offload", "arp", r.data, r.len);
}

/* UDP payloads from a VTEP on this host (fuzz-decap.c): a VXLAN header
 * and a TCP frame of 4 KB whose checksum is left to finish, as a kernel
 * vxlan device hands its offloaded frames across a veth. */
static void
write_decap(void)
{
    static uint8_t payload[8 + 8192];
    uint8_t vxlan[8] = { 0x08, 0, 0, 0, 0, 0x13, 0x88, 0 };  /* VNI 5000. */

    for (int vlan = 0; vlan < 2; vlan++) {
        struct fixture_tcp t = {
            .vlan = vlan,
            .payload_len = 4000,
            .seq = 1,
            .flags = 0x18,
            .partial = true,
        };
        size_t len = fixture_tcp_frame(payload + 8, &t);

        memcpy(payload, vxlan, sizeof vxlan);
        write_seed("decap", vlan ? "payload-super-vlan" : "payload-super",
                   payload, 8 + len);
    }
}

/* Captures (fuzz-pcap.c): the kernel's VXLAN captures of tests/data/ are
 * copied as they are; these add TCP and ARP frames, in microsecond and
 * nanosecond captures. */

static void
write_capture(const char *name, int precision, const struct records *r)
{
    pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
                                                        precision);
    pcap_dumper_t *d = dead ? pcap_dump_open(dead, seed_path("pcap", name))
                            : NULL;
    size_t ofs = 1;

    if (!d) {
        die("%s: cannot write a capture", name);
    }
    /* The frames of offload records, without their headers. */
    while (ofs < r->len) {
        const uint8_t *h = r->data + ofs + 1 + VNET_HDR_LEN;
        size_t len = (size_t) h[0] << 8 | h[1];
        struct pcap_pkthdr hdr = { .ts = { 1700000000, (long) ofs },
                                   .caplen = (bpf_u_int32) len,
                                   .len = (bpf_u_int32) len };

        pcap_dump((u_char *) d, &hdr, h + 2);
        ofs += 1 + VNET_HDR_LEN + 2 + len;
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

static void
write_pcap(void)
{
    static struct records r;
    struct virtio_net_hdr none = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
    struct eth_addr vm = fixture_mac(1);
    uint8_t frame[256];
    size_t len;

    r.len = 1;
    len = fixture_arp_request(frame, &vm, 0x0a000001, 0x0a000002);
    add_record(&r, 0, &none, frame, len);
    for (uint32_t i = 0; i < 3; i++) {
        add_tcp(&r, 0, i == 2, i == 1, 1 + i * 1448, 0, 1448, false);
    }
    write_capture("tcp-usec", PCAP_TSTAMP_PRECISION_MICRO, &r);
    write_capture("tcp-nsec", PCAP_TSTAMP_PRECISION_NANO, &r);
}

/* Requests (fuzz-request.c) and configurations (fuzz-config.c). */

/* Builds the request of the vswitch-ctl command line 'line' into 'b' as
 * the tool does, checks it as the daemon does, and returns it framed (the
 * caller frees it), with its length in '*len'. */
static uint8_t *
build_request(struct build *b, const char *line, size_t *len)
{
    static char words[1024];
    char *argv[32], *save = NULL;
    const struct command *cmd;
    char error[REQUEST_ERROR_SIZE];
    size_t argc = 0;
    uint8_t *frame;

    snprintf(words, sizeof words, "%s", line);
    for (char *w = strtok_r(words, " ", &save); w && argc < 32;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc++] = w;
    }
    cmd = command_find(argv[0]);
    build_init(b);
    if (!cmd || cmd->build(b, argv + 1, argc - 1)
        || !request_check(&b->request, error, sizeof error)) {
        die("%s: %s", line, cmd ? b->error : "no such command");
    }
    frame = frame_pack(&b->request.base, FRAME_MAX_REQUEST, len);
    if (!frame) {
        die("%s: cannot pack", line);
    }
    return frame;
}

/* Makes the change of 'request' to 'e' as the daemon would. */
static void
apply_request(struct config_edit *e, const Vswitch__Request *request)
{
    Vswitch__Status status;

    switch (request->command_case) {
    case VSWITCH__REQUEST__COMMAND_ADD_VNI:
        status = config_edit_add_vni(e, request->add_vni);
        break;
    case VSWITCH__REQUEST__COMMAND_ADD_PORT:
        status = config_edit_add_port(e, request->add_port);
        break;
    case VSWITCH__REQUEST__COMMAND_BIND_VNI:
        status = config_edit_bind(e, request->bind_vni->port,
                                  request->bind_vni->vni);
        break;
    case VSWITCH__REQUEST__COMMAND_FDB_ADD:
        status = config_edit_fdb_add(e, request->fdb_add);
        break;
    default:
        status = VSWITCH__STATUS__STATUS_INVALID;
        snprintf(e->error, e->error_size, "not a configuration change");
        break;
    }
    if (status) {
        die("%s", e->error);
    }
}

/* The configuration of a host of the kernel captures. */
static const char *const setup[] = {
    "add-vni 5000 flood=172.31.250.1,172.31.250.3 ageing=600",
    "add-vni 6000 flood=fd00:250::1 mac-limit=1000",
    "add-vni 7000 group=239.1.1.1",
    "add-port vtep0 type=vxlan local_ip=172.31.250.2 dst_port=4789 "
    "src_port_range=32768-60999 ttl=64 df=true udp_csum=false mtu=1500",
    "add-port vm1 type=tap vni=5000 offload=true",
    "add-port eth1 type=system vni=6000",
    "add-port replay type=pcap rx=/var/lib/vswitch/in.pcap "
    "tx=/var/lib/vswitch/out.pcap",
    "bind-vni replay 7000",
    "fdb-add 5000 02:00:00:00:01:01 remote=172.31.250.1",
    "fdb-add 5000 02:00:00:00:0a:0b vm1",
};

/* Queries and changes beyond the setup, one seed each. */
static const char *const others[] = {
    "show", "ping", "version", "list-ports", "list-vnis", "fdb-show",
    "fdb-show 5000", "fdb-stats", "stats", "stats vm1", "fdb-flush 7000",
    "del-port vm1", "set-port vm1 offload=false", "del-vni 6000",
    "set-vni 5000 flood=172.31.250.9 mac-limit=10", "unbind-vni vm1",
    "fdb-del 5000 02:00:00:00:01:01", "port-replay replay",
    "add-flow priority=100,tcp,in_port=vm1,tp_dst=22,actions=drop",
    "mod-flows --strict priority=100,tcp,tp_dst=22,actions=normal",
    "del-flows tcp", "dump-flows", "dump-flows --strict priority=0",
    "trace in_port=vm1,tcp,tp_dst=22",
};

/* An IPv6 underlay, and a configuration with nothing in it. */
static const char *const setup6[] = {
    "add-vni 6000 flood=fd00:250::1,fd00:250::3",
    "add-vni 16777215 group=ff05::1:1 ageing=10",
    "add-port vtep6 type=vxlan local_ip=fd00:250::2 dev=veth0 gso=true",
    "add-port tap6 type=tap vni=6000",
    "fdb-add 6000 02:00:00:00:01:01 remote=fd00:250::1",
    "fdb-add 6000 02:00:00:00:0a:0b tap6",
};

/* Writes the commands of 'lines' as one request stream, as a script of
 * vswitch-ctl calls would send them over a long-lived connection, and the
 * configuration they make, under 'name'. */
static void
write_setup(const char *name, const char *const *lines, size_t n_lines)
{
    static uint8_t stream[1 << 16];
    char error[REQUEST_ERROR_SIZE];
    struct config_edit e = {
        .config = config_store_empty(),
        .error = error,
        .error_size = sizeof error,
    };
    size_t n = 0, len;

    for (size_t i = 0; i < n_lines; i++) {
        struct build b;
        uint8_t *frame = build_request(&b, lines[i], &len);

        if (n + len > sizeof stream) {
            die("request stream too long");
        }
        memcpy(stream + n, frame, len);
        n += len;
        apply_request(&e, &b.request);
        free(frame);
        build_destroy(&b);
    }
    if (n_lines) {
        write_seed("request", name, stream, n);
    }
    if (config_store_save(seed_path("config", name), e.config, error,
                          sizeof error)) {
        die("%s", error);
    }
    vswitch__config__free_unpacked(e.config, NULL);
}

static void
write_requests_and_config(void)
{
    size_t len;

    write_setup("setup", setup, ARRAY_SIZE(setup));
    write_setup("setup-ipv6", setup6, ARRAY_SIZE(setup6));
    write_setup("empty", NULL, 0);
    for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
        struct build b;
        uint8_t *frame = build_request(&b, others[i], &len);
        char name[64];

        snprintf(name, sizeof name, "%s", others[i]);
        for (char *c = name; *c; c++) {
            *c = *c == ' ' || *c == '=' || *c == ':' ? '-' : *c;
        }
        write_seed("request", name, frame, len);
        free(frame);
        build_destroy(&b);
    }
}

START_TEST(write_seeds)
{
    write_offload();
    write_requests_and_config();
    write_pcap();
    write_decap();
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
