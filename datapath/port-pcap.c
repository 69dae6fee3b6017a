#include <config.h>

/* The pcap port: frames from and to capture files, which is how a capture
 * attached to a problem report is replayed through the switch.
 *
 * rx=FILE is read once, from the start, when the port is opened and on
 * each port_pcap_replay(); tx=FILE receives every frame sent to the port
 * and is flushed after each batch, so that another program can read it
 * while the daemon runs. */

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "csum.h"
#include "packet.h"
#include "port-provider.h"
#include "util.h"

struct pcap_port {
    struct port up;
    char *rx_path;              /* NULL if no rx file. */
    pcap_t *rx;                 /* Open while frames remain to replay. */
    pcap_t *tx_handle;          /* For the dumper's link type. */
    pcap_dumper_t *tx;
    struct port_stats stats;
};

static struct pcap_port *
pcap_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct pcap_port, up);
}

/* Capture files are read and written on the daemon's loop, with libpcap's
 * blocking calls: a FIFO, a device or a socket could stop the loop, so only
 * regular files (or, for tx, a file yet to be created) are taken. */
static int
check_regular_file(const char *what, const char *path, bool may_be_missing,
                   char *error, size_t error_size)
{
    struct stat st;
    int err;

    if (stat(path, &st)) {
        err = errno;
        if (err == ENOENT && may_be_missing) {
            return 0;
        }
        snprintf(error, error_size, "%s: %s: %s", what, path, strerror(err));
        return err;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(error, error_size, "%s: %s: not a regular file", what,
                 path);
        return S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    }
    return 0;
}

static int
open_rx(struct pcap_port *pp, char *error, size_t error_size)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    int err = check_regular_file("rx", pp->rx_path, false, error,
                                 error_size);
    pcap_t *rx;

    if (err) {
        return err;
    }
    errno = 0;
    rx = pcap_open_offline(pp->rx_path, errbuf);
    if (!rx) {
        /* libpcap names the file only when it cannot open it, and sets
         * errno only when a system call failed: a file that is not a
         * capture gets neither. */
        err = errno ? errno : EINVAL;
        if (strstr(errbuf, pp->rx_path)) {
            snprintf(error, error_size, "rx: %s", errbuf);
        } else {
            snprintf(error, error_size, "rx: %s: %s", pp->rx_path, errbuf);
        }
        return err;
    }
    if (pcap_datalink(rx) != DLT_EN10MB) {
        snprintf(error, error_size, "rx: %s: not an Ethernet capture "
                 "(link type %d)", pp->rx_path, pcap_datalink(rx));
        pcap_close(rx);
        return EINVAL;
    }
    if (pp->rx) {
        pcap_close(pp->rx);
    }
    pp->rx = rx;
    return 0;
}

static void
pcap_port_close(struct port *port)
{
    struct pcap_port *pp = pcap_cast(port);

    if (pp->rx) {
        pcap_close(pp->rx);
    }
    if (pp->tx) {
        pcap_dump_close(pp->tx);
    }
    if (pp->tx_handle) {
        pcap_close(pp->tx_handle);
    }
    free(pp->rx_path);
    free(pp);
}

static int
pcap_port_open(const struct port_args *args, struct port **portp,
               char *error, size_t error_size)
{
    struct pcap_port *pp = calloc(1, sizeof *pp);
    const char *rx = port_args_get(args, "rx");
    const char *tx = port_args_get(args, "tx");
    int err = 0;

    if (!pp) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    pp->up.class = &port_pcap_class;
    if (rx) {
        pp->rx_path = strdup(rx);
        err = !pp->rx_path ? ENOMEM : open_rx(pp, error, error_size);
    }
    if (!err && tx) {
        err = check_regular_file("tx", tx, true, error, error_size);
    }
    if (!err && tx) {
        pp->tx_handle = pcap_open_dead(DLT_EN10MB, PACKET_MAX_FRAME);
        pp->tx = pp->tx_handle ? pcap_dump_open(pp->tx_handle, tx) : NULL;
        if (pp->tx) {
            /* The file header, so that the file is readable before the
             * first frame. */
            pcap_dump_flush(pp->tx);
        } else {
            snprintf(error, error_size, "tx: %s: %s", tx,
                     pp->tx_handle ? pcap_geterr(pp->tx_handle)
                                   : "out of memory");
            err = EIO;
        }
    }
    if (err) {
        pcap_port_close(&pp->up);
        return err;
    }
    *portp = &pp->up;
    return 0;
}

static int
pcap_port_recv(struct port *port, struct packet_pool *pool,
               struct packet_batch *batch)
{
    struct pcap_port *pp = pcap_cast(port);

    while (pp->rx && !packet_batch_is_full(batch)) {
        /* The buffer first: a frame libpcap has handed over cannot be put
         * back, and the pool refills as batches go out. */
        struct packet *p = packet_alloc(pool);
        struct pcap_pkthdr *hdr;
        const u_char *data;
        int n;

        if (!p) {
            break;
        }
        n = pcap_next_ex(pp->rx, &hdr, &data);
        if (n != 1) {
            /* The end of the file, or a damaged one: replay is over. */
            if (n == PCAP_ERROR) {
                pp->stats.rx_errors++;
            }
            packet_free(p);
            pcap_close(pp->rx);
            pp->rx = NULL;
            break;
        }
        if (packet_set_frame(p, data, hdr->caplen)) {
            pp->stats.rx_errors++;
            packet_free(p);
            continue;
        }
        packet_batch_add(batch, p);
    }
    return batch->count ? 0 : EAGAIN;
}

static void
pcap_port_send(struct port *port, struct packet_batch *batch)
{
    struct pcap_port *pp = pcap_cast(port);
    struct packet *p;

    if (pp->tx) {
        struct pcap_pkthdr hdr;

        gettimeofday(&hdr.ts, NULL);
        PACKET_BATCH_FOR_EACH (i, p, batch) {
            csum_complete_partial(p);
            hdr.caplen = hdr.len = packet_size(p);
            pcap_dump((u_char *) pp->tx, &hdr, packet_data(p));
        }
        if (pcap_dump_flush(pp->tx)) {
            pp->stats.tx_errors += batch->count;
        }
    }
    packet_batch_free(batch);
}

static int
pcap_port_fd(const struct port *port)
{
    (void) port;
    return -1;
}

static void
pcap_port_get_stats(const struct port *port, struct port_stats *stats)
{
    *stats = pcap_cast(port)->stats;
}

int
port_pcap_replay(struct port *port, char *error, size_t error_size)
{
    struct pcap_port *pp = pcap_cast(port);

    if (port->class != &port_pcap_class || !pp->rx_path) {
        snprintf(error, error_size, "the port has no rx file to replay");
        return ENOENT;
    }
    return open_rx(pp, error, error_size);
}

static bool
pcap_check_options(const char *const *keys, size_t n, char *error,
                   size_t error_size)
{
    (void) keys;
    if (!n) {
        snprintf(error, error_size,
                 "a pcap port needs rx=FILE, tx=FILE or both");
        return false;
    }
    return true;
}

static const struct port_option pcap_options[] = {
    { "rx", PORT_OPT_PATH, 0, 0, false,
      "capture file whose frames are replayed into the switch" },
    { "tx", PORT_OPT_PATH, 0, 0, false,
      "capture file that receives every frame sent to the port" },
    { .key = NULL },
};

const struct port_class port_pcap_class = {
    .type = "pcap",
    .dp_kind = DP_PORT_LOCAL,
    .options = pcap_options,
    .help = "frames from and to capture files",
    .open = pcap_port_open,
    .close = pcap_port_close,
    .recv = pcap_port_recv,
    .send = pcap_port_send,
    .fd = pcap_port_fd,
    .get_stats = pcap_port_get_stats,
    .check_options = pcap_check_options,
};
