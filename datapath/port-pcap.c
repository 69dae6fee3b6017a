#include <config.h>

/* The pcap port: frames from and to capture files, which is how a capture
 * attached to a problem report is replayed through the switch.
 *
 * rx=FILE is read once, from the start, when the port is opened and on
 * each port_replay(); tx=FILE receives every frame sent to the port
 * and is flushed after each batch, so that another program can read it
 * while the daemon runs.  Both are opened through the port's struct
 * port_files, the daemon's rules about which files a client may name; a
 * tx file that stops taking frames (a full disk) stops the port, and the
 * frames it did not take are counted as tx errors. */

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "csum.h"
#include "packet.h"
#include "port-provider.h"
#include "util.h"

struct pcap_port {
    struct port up;
    const struct port_files *files;     /* From the port's arguments. */
    char *rx_path;              /* NULL if no rx file. */
    char *tx_path;              /* NULL if no tx file. */
    pcap_t *rx;                 /* Open while frames remain to replay. */
    pcap_t *tx_handle;          /* For the dumper's link type. */
    pcap_dumper_t *tx;
    struct stat tx_st;          /* The tx file, to keep rx off it. */
    off_t tx_end;               /* Where the last frame written whole ends. */
    int tx_error;               /* Why writing stopped; 0 while it goes. */
};

static struct pcap_port *
pcap_cast(const struct port *port)
{
    return CONTAINER_OF(port, struct pcap_port, up);
}

static int
fail(char *error, size_t error_size, int err, const char *what,
     const char *path, const char *reason)
{
    snprintf(error, error_size, "%s: %s: %s", what, path,
             reason ? reason : strerror(err));
    return err;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino && a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Capture files are read and written on the daemon's loop, with libpcap's
 * blocking calls: a FIFO, a device or a socket could stop the loop, and
 * merely opening a device can act on it, so the name is looked at first
 * (O_PATH opens nothing) and only a regular file is opened, through the
 * descriptor that looked at it (/proc/self/fd), not through its name,
 * which another file may have taken meanwhile. */
int
port_pcap_openat(int dirfd, const char *name, const char *what,
                 const char *path, int flags, bool probe, int *fdp,
                 struct stat *stp, char *error, size_t error_size)
{
    struct stat st, opened;
    char proc[64];
    int look, fd, err;

    *fdp = -1;
    if (stp) {
        memset(stp, 0, sizeof *stp);
    }
    look = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (look < 0) {
        err = errno;
        if (err != ENOENT || !(flags & O_CREAT || probe)) {
            return fail(error, error_size, err, what, path, NULL);
        }
        if (probe) {
            return 0;
        }
        fd = openat(dirfd, name,
                    (flags & ~O_TRUNC) | O_CREAT | O_EXCL | O_NOFOLLOW
                    | O_CLOEXEC, PORT_FILE_MODE);
        if (fd < 0 || fchmod(fd, PORT_FILE_MODE) || fstat(fd, &opened)) {
            err = errno;
            if (fd >= 0) {
                close(fd);
            }
            return fail(error, error_size, err, what, path, NULL);
        }
        *fdp = fd;
        if (stp) {
            *stp = opened;
        }
        return 0;
    }
    err = fstat(look, &st) ? errno : 0;
    if (err || !S_ISREG(st.st_mode)) {
        close(look);
    }
    if (err) {
        return fail(error, error_size, err, what, path, NULL);
    }
    if (S_ISLNK(st.st_mode)) {
        return fail(error, error_size, ELOOP, what, path,
                    "a symbolic link, which is not followed");
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(error, error_size, S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
                    what, path, "not a regular file");
    }
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", look);
    fd = open(proc, (probe ? O_RDONLY : flags & ~(O_CREAT | O_EXCL | O_TRUNC))
                    | O_NONBLOCK | O_CLOEXEC);
    close(look);
    if (fd < 0 || fstat(fd, &opened)) {
        err = errno;
        if (fd >= 0) {
            close(fd);
        }
        return fail(error, error_size, err, what, path, NULL);
    }
    if (!same_file(&st, &opened)) {
        close(fd);
        return fail(error, error_size, EAGAIN, what, path,
                    "replaced while being opened");
    }
    *fdp = fd;
    if (stp) {
        *stp = opened;
    }
    return 0;
}

/* Opens 'path' through the port's rules, or by its name as it is. */
static int
open_file(const struct port_files *files, const char *what,
          const char *path, int flags, bool probe, int *fd, struct stat *st,
          char *error, size_t error_size)
{
    int err = files
              ? files->open(files, what, path, flags, probe, fd, error,
                            error_size)
              : port_pcap_openat(AT_FDCWD, path, what, path, flags, probe,
                                 fd, NULL, error, error_size);

    memset(st, 0, sizeof *st);
    if (!err && *fd >= 0 && fstat(*fd, st)) {
        err = fail(error, error_size, errno, what, path, NULL);
        close(*fd);
        *fd = -1;
    }
    return err;
}

/* Takes a lock on capture 'fd' for as long as it stays open: shared for a
 * replay, exclusive for writing, so that no two ports (of this daemon or
 * another) write one file, nor one replays what another writes.  Returns 0
 * or an errno value with a reason in 'error'. */
static int
lock_capture(int fd, bool exclusive, const char *what, const char *path,
             char *error, size_t error_size)
{
    if (!flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
        return 0;
    }
    return errno == EWOULDBLOCK
           ? fail(error, error_size, EBUSY, what, path, exclusive
                  ? "in use by another port: refused"
                  : "being written by another port: refused")
           : fail(error, error_size, errno, what, path, NULL);
}

/* Opens capture 'path' for replay into '*rxp', unless it is the file
 * 'tx_st' (st_ino 0: none), which replaying would destroy. */
static int
open_rx(const struct port_files *files, const char *path,
        const struct stat *tx_st, pcap_t **rxp, struct stat *st,
        char *error, size_t error_size)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    FILE *stream;
    pcap_t *rx;
    int fd;
    int err = open_file(files, "rx", path, O_RDONLY, false, &fd, st, error,
                        error_size);

    if (err) {
        return err;
    }
    if (same_file(tx_st, st)) {
        close(fd);
        return fail(error, error_size, EINVAL, "rx", path,
                    "the tx file too: rx and tx must differ");
    }
    err = lock_capture(fd, false, "rx", path, error, error_size);
    if (err) {
        close(fd);
        return err;
    }
    stream = fdopen(fd, "r");
    if (!stream) {
        close(fd);
        return fail(error, error_size, ENOMEM, "rx", path, NULL);
    }
    errbuf[0] = '\0';
    rx = pcap_fopen_offline(stream, errbuf);
    if (!rx) {
        /* libpcap leaves the stream to us when it fails. */
        fclose(stream);
        return fail(error, error_size, EINVAL, "rx", path, errbuf);
    }
    if (pcap_datalink(rx) != DLT_EN10MB) {
        snprintf(error, error_size, "rx: %s: not an Ethernet capture "
                 "(link type %d)", path, pcap_datalink(rx));
        pcap_close(rx);
        return EINVAL;
    }
    *rxp = rx;
    return 0;
}

/* An existing tx file is emptied only if that loses nothing but an old
 * capture: it must be empty or start as a capture file does, have no
 * other name, and not be the rx file. */
static int
check_tx_file(int fd, const struct stat *st, const struct stat *rx_st,
              const char *path, char *error, size_t error_size)
{
    static const uint32_t magics[] = {
        0xa1b2c3d4, 0xd4c3b2a1,     /* pcap, microseconds. */
        0xa1b23c4d, 0x4d3cb2a1,     /* pcap, nanoseconds. */
        0x0a0d0d0a,                 /* pcapng. */
    };
    uint32_t magic;
    bool capture = false;

    if (same_file(rx_st, st)) {
        return fail(error, error_size, EINVAL, "tx", path,
                    "the rx file too: rx and tx must differ");
    }
    if (st->st_nlink > 1) {
        return fail(error, error_size, EPERM, "tx", path,
                    "the file has other names (hard links): refused");
    }
    if (!st->st_size) {
        return 0;
    }
    if (pread(fd, &magic, sizeof magic, 0) == (ssize_t) sizeof magic) {
        for (size_t i = 0; i < ARRAY_SIZE(magics); i++) {
            capture = capture || magic == magics[i];
        }
    }
    return capture ? 0 : fail(error, error_size, EEXIST, "tx", path,
                              "exists and is not a capture file: refused");
}

static int
open_tx(struct pcap_port *pp, const char *path, const struct stat *rx_st,
        char *error, size_t error_size)
{
    FILE *stream;
    int fd;
    int err = open_file(pp->files, "tx", path, O_RDWR | O_CREAT, false, &fd,
                        &pp->tx_st, error, error_size);

    if (!err) {
        err = check_tx_file(fd, &pp->tx_st, rx_st, path, error, error_size);
        if (!err) {
            err = lock_capture(fd, true, "tx", path, error, error_size);
        }
        if (!err && ftruncate(fd, 0)) {
            err = fail(error, error_size, errno, "tx", path, NULL);
        }
        if (err) {
            close(fd);
        }
    }
    if (err) {
        return err;
    }
    stream = fdopen(fd, "w");
    pp->tx_handle = pcap_open_dead(DLT_EN10MB, PACKET_MAX_FRAME);
    pp->tx = stream && pp->tx_handle
             ? pcap_dump_fopen(pp->tx_handle, stream) : NULL;
    if (!pp->tx) {
        /* libpcap's message would name the file once more. */
        if (stream) {
            fclose(stream);
        } else {
            close(fd);
        }
        return fail(error, error_size, ENOMEM, "tx", path, NULL);
    }
    /* The file header, so that the file is readable before the first
     * frame. */
    if (pcap_dump_flush(pp->tx)) {
        return fail(error, error_size, errno ? errno : EIO, "tx", path,
                    NULL);
    }
    pp->tx_end = lseek(fd, 0, SEEK_CUR);
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
    free(pp->tx_path);
    free(pp);
}

static int
pcap_port_open(const struct port_args *args, struct port **portp,
               char *error, size_t error_size)
{
    struct pcap_port *pp = calloc(1, sizeof *pp);
    const char *rx = port_args_get(args, "rx");
    const char *tx = port_args_get(args, "tx");
    struct stat rx_st;
    int err = 0;

    if (!pp) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    pp->up.class = &port_pcap_class;
    pp->files = args->files;
    memset(&rx_st, 0, sizeof rx_st);
    if (rx) {
        pp->rx_path = strdup(rx);
        err = !pp->rx_path ? ENOMEM
              : open_rx(pp->files, rx, &pp->tx_st, &pp->rx, &rx_st, error,
                        error_size);
    }
    if (!err && tx) {
        pp->tx_path = strdup(tx);
        err = !pp->tx_path ? ENOMEM
              : open_tx(pp, tx, &rx_st, error, error_size);
    }
    if (err) {
        pcap_port_close(&pp->up);
        return err;
    }
    *portp = &pp->up;
    return 0;
}

static int
pcap_check_files(const struct port_args *args, char *error,
                 size_t error_size)
{
    const char *rx = port_args_get(args, "rx");
    const char *tx = port_args_get(args, "tx");
    struct stat rx_st, tx_st;
    int fd = -1;
    int err = 0;

    memset(&rx_st, 0, sizeof rx_st);
    if (rx) {
        err = open_file(args->files, "rx", rx, O_RDONLY, true, &fd, &rx_st,
                        error, error_size);
        if (fd >= 0) {
            close(fd);
        }
    }
    if (!err && tx) {
        err = open_file(args->files, "tx", tx, O_RDWR | O_CREAT, true, &fd,
                        &tx_st, error, error_size);
        if (!err && fd >= 0) {
            err = check_tx_file(fd, &tx_st, &rx_st, tx, error, error_size);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    if (!err && rx && tx && !strcmp(rx, tx)) {
        err = fail(error, error_size, EINVAL, "tx", tx,
                   "the rx file too: rx and tx must differ");
    }
    return err;
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
                pp->up.stats.rx_errors++;
            }
            packet_free(p);
            pcap_close(pp->rx);
            pp->rx = NULL;
            break;
        }
        if (packet_set_frame(p, data, hdr->caplen)) {
            pp->up.stats.rx_errors++;
            packet_free(p);
            continue;
        }
        packet_batch_add(batch, p);
    }
    return batch->count ? 0 : EAGAIN;
}

/* After a failed write of the frames ending at 'ends[0..n-1]': counts
 * those that did not reach the file whole, cuts off a record written in
 * part, so that the file stays a readable capture of what it holds, and
 * stops writing with 'err', which 'check' then reports. */
static void
tx_failed(struct pcap_port *pp, const off_t *ends, size_t n, int err)
{
    FILE *stream = pcap_dump_file(pp->tx);
    int fd = fileno(stream);
    off_t reached = lseek(fd, 0, SEEK_CUR);
    size_t written = 0;

    /* What the stream still holds would land after the cut at close. */
    __fpurge(stream);
    while (written < n && reached >= 0 && ends[written] <= reached) {
        written++;
    }
    if (written) {
        pp->tx_end = ends[written - 1];
    }
    if (ftruncate(fd, pp->tx_end)) {
        /* The reader stops at the record cut short: nothing more to do. */
    }
    pp->up.stats.tx_errors += n - written;
    pp->tx_error = err;
}

static void
pcap_port_send(struct port *port, struct packet_batch *batch)
{
    struct pcap_port *pp = pcap_cast(port);
    off_t ends[PACKET_BATCH_MAX];
    off_t end = pp->tx_end;
    struct packet *p;

    if (pp->tx && pp->tx_error) {
        /* The file stopped taking frames: each one sent is lost. */
        pp->up.stats.tx_errors += batch->count;
    } else if (pp->tx) {
        FILE *stream = pcap_dump_file(pp->tx);
        struct pcap_pkthdr hdr;

        gettimeofday(&hdr.ts, NULL);
        errno = 0;
        PACKET_BATCH_FOR_EACH (i, p, batch) {
            csum_complete_partial(p);
            hdr.caplen = hdr.len = packet_size(p);
            pcap_dump((u_char *) pp->tx, &hdr, packet_data(p));
            /* A record: a 16-byte header in the file, then the frame. */
            end += 16 + (off_t) hdr.caplen;
            ends[i] = end;
        }
        if (pcap_dump_flush(pp->tx) || ferror(stream)) {
            tx_failed(pp, ends, batch->count, errno ? errno : EIO);
        } else {
            pp->tx_end = end;
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

/* A tx file that could not take a frame (a full file system) takes the
 * port down, saying so. */
static int
pcap_port_check(struct port *port, char *reason, size_t reason_size)
{
    const struct pcap_port *pp = pcap_cast(port);

    if (pp->tx_error) {
        fail(reason, reason_size, pp->tx_error, "tx",
             pp->tx_path ? pp->tx_path : "-", NULL);
    }
    return pp->tx_error;
}

static int
pcap_port_replay(struct port *port, char *error, size_t error_size)
{
    struct pcap_port *pp = pcap_cast(port);
    struct stat st;
    pcap_t *rx;
    int err;

    if (!pp->rx_path) {
        snprintf(error, error_size, "the port has no rx file to replay");
        return ENOENT;
    }
    err = open_rx(pp->files, pp->rx_path, &pp->tx_st, &rx, &st, error,
                  error_size);
    if (!err) {
        if (pp->rx) {
            pcap_close(pp->rx);
        }
        pp->rx = rx;
    }
    return err;
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
    .check = pcap_port_check,
    .check_files = pcap_check_files,
    .check_options = pcap_check_options,
    .replay = pcap_port_replay,
};
