#include <config.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "csum.h"
#include "fixture.h"
#include "headers.h"
#include "packet.h"
#include "port.h"
#include "util.h"

/* The pcap port, on capture files that each test writes with libpcap into
 * a directory that main() makes and removes, whatever the tests did. */

#define MAX_FRAMES 80
#define FRAME_SIZE 2048

static char dir[] = "/tmp/check-port-pcap-XXXXXX";
static struct packet_pool *pool;

/* Frames the tests write and expect back: each a UDP frame of its own
 * length and source port, so that a frame out of place shows. */
static uint8_t frames[MAX_FRAMES][FRAME_SIZE];
static size_t frame_lens[MAX_FRAMES];

static void
setup(void)
{
    struct eth_addr a = fixture_mac(1), b = fixture_mac(2);

    pool = packet_pool_create(2 * PACKET_BATCH_MAX);
    ck_assert_ptr_nonnull(pool);
    for (size_t i = 0; i < MAX_FRAMES; i++) {
        frame_lens[i] = fixture_udp4_frame(frames[i], &b, &a, 0xac1ffa01,
                                           0xac1ffa02, (uint16_t) (1000 + i),
                                           4000, 20 + i);
    }
}

static void
teardown(void)
{
    fixture_pool_destroy(pool);
}

/* While not NULL, the file that openat() below swaps for a FIFO as soon
 * as it has been looked at (O_PATH), as someone racing the daemon could;
 * then NULL again. */
static const char *swap_file;

/* Interposes on the C library's, for the calls of the code under test. */
int
openat(int dirfd, const char *name, int flags, ...)
{
    mode_t mode = 0;
    int fd;

    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list args;

        va_start(args, flags);
        mode = va_arg(args, mode_t);
        va_end(args);
    }
    fd = (int) syscall(SYS_openat, dirfd, name, flags, mode);
    if (fd >= 0 && swap_file && flags & O_PATH && !strcmp(name, swap_file)) {
        char aside[PATH_MAX + 8];

        snprintf(aside, sizeof aside, "%s.aside", swap_file);
        ck_assert_int_eq(rename(swap_file, aside), 0);
        ck_assert_int_eq(mkfifo(swap_file, 0600), 0);
        swap_file = NULL;
    }
    return fd;
}

/* Returns the name of file 'name' in the test directory, in 'buf'. */
static const char *
path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

/* Writes the first 'n' of frames[] to capture file 'file' with link type
 * 'linktype'. */
static void
write_capture(const char *file, int linktype, size_t n)
{
    pcap_t *pcap = pcap_open_dead(linktype, 65535);
    pcap_dumper_t *dumper;

    ck_assert_ptr_nonnull(pcap);
    dumper = pcap_dump_open(pcap, file);
    ck_assert_msg(dumper != NULL, "%s: %s", file, pcap_geterr(pcap));
    for (size_t i = 0; i < n; i++) {
        struct pcap_pkthdr hdr = { .caplen = (bpf_u_int32) frame_lens[i],
                                   .len = (bpf_u_int32) frame_lens[i] };

        pcap_dump((u_char *) dumper, &hdr, frames[i]);
    }
    pcap_dump_close(dumper);
    pcap_close(pcap);
}

/* Opens a pcap port on 'rx' and 'tx' (either may be NULL).  Returns what
 * open returns, with the port in '*portp' and the reason in 'error'. */
static int
open_port(const char *rx, const char *tx, struct port **portp, char *error,
          size_t error_size)
{
    char rx_option[PATH_MAX + 8], tx_option[PATH_MAX + 8];
    const char *options[3] = { NULL, NULL, NULL };
    size_t n = 0;

    if (rx) {
        snprintf(rx_option, sizeof rx_option, "rx=%s", rx);
        options[n++] = rx_option;
    }
    if (tx) {
        snprintf(tx_option, sizeof tx_option, "tx=%s", tx);
        options[n++] = tx_option;
    }
    return fixture_port_open("pcap", "pcap0", options, portp, error,
                             error_size);
}

static struct port *
must_open(const char *rx, const char *tx)
{
    struct port *port;
    char error[512];
    int err = open_port(rx, tx, &port, error, sizeof error);

    ck_assert_msg(!err, "open: %s (%s)", strerror(err), error);
    ck_assert_ptr_nonnull(port);
    return port;
}

/* Receives one batch from 'port', asserts that it holds frames[first] and
 * the 'n' - 1 after it, byte for byte, and frees it. */
static void
expect_batch(struct port *port, size_t first, size_t n)
{
    struct packet_batch batch;
    struct packet *p;

    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), 0);
    ck_assert_uint_eq(batch.count, n);
    PACKET_BATCH_FOR_EACH (i, p, &batch) {
        ck_assert_uint_eq(packet_size(p), frame_lens[first + i]);
        ck_assert_mem_eq(packet_data(p), frames[first + i],
                         frame_lens[first + i]);
    }
    packet_batch_free(&batch);
}

static void
expect_eagain(struct port *port)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    ck_assert_int_eq(port->class->recv(port, pool, &batch), EAGAIN);
    ck_assert_uint_eq(batch.count, 0);
}

/* Reads every frame of capture 'file' (opened afresh, as another program
 * would) into a new array; returns how many. */
static size_t
read_capture(const char *file, struct fixture_frame **framesp)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(file, errbuf);
    struct fixture_frame *out = NULL;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    size_t n = 0;

    ck_assert_msg(pcap != NULL, "%s: %s", file, errbuf);
    ck_assert_int_eq(pcap_datalink(pcap), DLT_EN10MB);
    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        ck_assert_uint_eq(hdr->caplen, hdr->len);
        out = realloc(out, (n + 1) * sizeof *out);
        ck_assert_ptr_nonnull(out);
        out[n].data = malloc(hdr->caplen);
        ck_assert_ptr_nonnull(out[n].data);
        memcpy(out[n].data, data, hdr->caplen);
        out[n].len = hdr->caplen;
        n++;
    }
    pcap_close(pcap);
    *framesp = out;
    return n;
}

/* Sends frames[first] and the 'n' - 1 after it to 'port' in one batch. */
static void
send_frames(struct port *port, size_t first, size_t n)
{
    struct packet_batch batch;

    packet_batch_init(&batch);
    for (size_t i = first; i < first + n; i++) {
        packet_batch_add(&batch, fixture_packet(pool, frames[i],
                                                frame_lens[i]));
    }
    port->class->send(port, &batch);
    ck_assert_uint_eq(batch.count, 0);
}

START_TEST(test_replays_rx_in_order_in_full_batches)
{
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "in.pcap"), DLT_EN10MB, 70);
    port = must_open(file, NULL);
    ck_assert_int_eq(port->class->fd(port), -1);
    expect_batch(port, 0, PACKET_BATCH_MAX);
    expect_batch(port, 32, PACKET_BATCH_MAX);
    expect_batch(port, 64, 6);
    for (int i = 0; i < 3; i++) {
        expect_eagain(port);
    }
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_replay_starts_again_from_first_frame)
{
    char file[256], error[256];
    struct port *port;

    write_capture(path(file, sizeof file, "in.pcap"), DLT_EN10MB, 40);
    port = must_open(file, NULL);

    /* In the middle of the file. */
    expect_batch(port, 0, PACKET_BATCH_MAX);
    ck_assert_int_eq(port_replay(port, error, sizeof error), 0);
    expect_batch(port, 0, PACKET_BATCH_MAX);
    expect_batch(port, 32, 8);
    expect_eagain(port);

    /* After the end. */
    ck_assert_int_eq(port_replay(port, error, sizeof error), 0);
    expect_batch(port, 0, PACKET_BATCH_MAX);
    expect_batch(port, 32, 8);
    expect_eagain(port);
    port_close(port);
}
END_TEST

START_TEST(test_replay_picks_up_a_rewritten_file)
{
    char file[256], error[256];
    struct port *port;

    write_capture(path(file, sizeof file, "in.pcap"), DLT_EN10MB, 3);
    port = must_open(file, NULL);
    expect_batch(port, 0, 3);
    write_capture(file, DLT_EN10MB, 5);
    ck_assert_int_eq(port_replay(port, error, sizeof error), 0);
    expect_batch(port, 0, 5);
    port_close(port);
}
END_TEST

START_TEST(test_replay_without_rx_file_is_refused)
{
    char file[256], error[256] = "";
    struct port *port = must_open(NULL, path(file, sizeof file, "o.pcap"));

    ck_assert_int_eq(port_replay(port, error, sizeof error), ENOENT);
    ck_assert_str_eq(error, "the port has no rx file to replay");
    expect_eagain(port);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_a_capture_that_is_not_ethernet)
{
    char file[256], error[512];
    struct port *port;

    write_capture(path(file, sizeof file, "raw.pcap"), DLT_RAW, 2);
    ck_assert_int_eq(open_port(file, NULL, &port, error, sizeof error),
                     EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, file) && strstr(error, "not an Ethernet"),
                  "%s", error);
}
END_TEST

START_TEST(test_refuses_a_missing_rx_file)
{
    char file[256], error[512];
    struct port *port;

    path(file, sizeof file, "missing.pcap");
    ck_assert_int_eq(open_port(file, NULL, &port, error, sizeof error),
                     ENOENT);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, file) != NULL, "%s", error);
}
END_TEST

/* Whatever is wrong with the file, the reason names it and the errno
 * value fits. */
START_TEST(test_refuses_an_rx_file_that_is_not_a_capture)
{
    static const struct {
        const char *name;
        const char *content;
        int err;
    } cases[] = {
        { "garbage.pcap", "not a capture file at all\n", EINVAL },
        { "empty.pcap", "", EINVAL },
        { ".", NULL, EISDIR },
    };
    char error[512];
    struct port *port;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char file[256];

        path(file, sizeof file, cases[i].name);
        if (cases[i].content) {
            FILE *stream = fopen(file, "w");

            ck_assert_ptr_nonnull(stream);
            fputs(cases[i].content, stream);
            ck_assert_int_eq(fclose(stream), 0);
        }
        ck_assert_int_eq(open_port(file, NULL, &port, error, sizeof error),
                         cases[i].err);
        ck_assert_ptr_null(port);
        ck_assert_msg(!strncmp(error, "rx: ", 4) && strstr(error, file),
                      "%s", error);
    }
}
END_TEST

/* A FIFO swapped in between the look at the name and the opening is
 * never opened: the file looked at is. */
START_TEST(test_opens_the_file_it_looked_at)
{
    char file[256];
    struct port *port;
    struct stat st;

    write_capture(path(file, sizeof file, "swapped.pcap"), DLT_EN10MB, 3);
    swap_file = file;
    port = must_open(file, NULL);
    ck_assert_ptr_null(swap_file);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    expect_batch(port, 0, 3);
    port_close(port);
}
END_TEST

/* A FIFO would block the daemon's loop in libpcap's calls. */
START_TEST(test_refuses_files_that_are_not_regular)
{
    char file[256], error[512];
    struct port *port;

    path(file, sizeof file, "fifo");
    ck_assert_int_eq(mkfifo(file, 0600), 0);
    ck_assert_int_eq(open_port(file, NULL, &port, error, sizeof error),
                     EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, "not a regular file") != NULL, "%s", error);
    ck_assert_int_eq(open_port(NULL, file, &port, error, sizeof error),
                     EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_msg(!strncmp(error, "tx: ", 4), "%s", error);
}
END_TEST

/* The reason names the file once, then says what is wrong. */
START_TEST(test_refuses_a_tx_file_it_cannot_create)
{
    char file[256], error[512], want[512];
    struct port *port;

    path(file, sizeof file, "no-such-dir/out.pcap");
    ck_assert_int_eq(open_port(NULL, file, &port, error, sizeof error),
                     ENOENT);
    ck_assert_ptr_null(port);
    snprintf(want, sizeof want, "tx: %s: No such file or directory", file);
    ck_assert_str_eq(error, want);
}
END_TEST

/* Reads the start of 'file' into 'buf' as a string, and returns it. */
static const char *
contents(const char *file, char *buf, size_t size)
{
    FILE *stream = fopen(file, "r");
    size_t n;

    ck_assert_ptr_nonnull(stream);
    n = fread(buf, 1, size - 1, stream);
    buf[n] = '\0';
    fclose(stream);
    return buf;
}

static void
write_text(const char *file, const char *text)
{
    FILE *stream = fopen(file, "w");

    ck_assert_ptr_nonnull(stream);
    fputs(text, stream);
    ck_assert_int_eq(fclose(stream), 0);
}

/* Emptying a file that is not a capture would destroy what it held. */
START_TEST(test_never_empties_a_file_that_is_not_a_capture)
{
    char file[256], error[512], buf[64];
    struct port *port;

    write_text(path(file, sizeof file, "notes.txt"), "precious\n");
    ck_assert_int_eq(open_port(NULL, file, &port, error, sizeof error),
                     EEXIST);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, "not a capture file") != NULL, "%s", error);
    ck_assert_str_eq(contents(file, buf, sizeof buf), "precious\n");
}
END_TEST

/* An old capture is replaced, from its first byte. */
START_TEST(test_replaces_an_old_capture)
{
    char file[256];
    struct fixture_frame *got;
    struct port *port;

    write_capture(path(file, sizeof file, "old.pcap"), DLT_EN10MB, 4);
    port = must_open(NULL, file);
    send_frames(port, 7, 1);
    ck_assert_uint_eq(read_capture(file, &got), 1);
    ck_assert_mem_eq(got[0].data, frames[7], frame_lens[7]);
    fixture_frames_free(got, 1);
    port_close(port);
}
END_TEST

START_TEST(test_refuses_rx_and_tx_the_same_file)
{
    char file[256], error[512];
    struct fixture_frame *got;
    struct port *port;

    write_capture(path(file, sizeof file, "both.pcap"), DLT_EN10MB, 3);
    ck_assert_int_eq(open_port(file, file, &port, error, sizeof error),
                     EINVAL);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, "rx and tx must differ") != NULL, "%s",
                  error);
    ck_assert_uint_eq(read_capture(file, &got), 3);
    fixture_frames_free(got, 3);
}
END_TEST

/* Two ports writing one file would interleave their records; one
 * replaying what another writes would read a file being made. */
START_TEST(test_no_two_ports_write_one_file)
{
    char file[256], other[256], dotted[256], error[512];
    struct fixture_frame *got;
    struct port *first, *second;

    path(file, sizeof file, "shared.pcap");
    path(other, sizeof other, "other.pcap");
    first = must_open(NULL, file);
    send_frames(first, 0, 2);
    snprintf(dotted, sizeof dotted, "%s/./shared.pcap", dir);
    ck_assert_int_eq(open_port(NULL, dotted, &second, error, sizeof error),
                     EBUSY);
    ck_assert_ptr_null(second);
    ck_assert_msg(strstr(error, "in use by another port") != NULL, "%s",
                  error);
    ck_assert_int_eq(open_port(file, other, &second, error, sizeof error),
                     EBUSY);
    ck_assert_msg(strstr(error, "being written by another port") != NULL,
                  "%s", error);
    /* The first port's capture is whole. */
    send_frames(first, 2, 1);
    ck_assert_uint_eq(read_capture(file, &got), 3);
    fixture_frames_free(got, 3);
    port_close(first);

    /* Once it is closed, the file is free again. */
    second = must_open(file, other);
    port_close(second);
}
END_TEST

/* A link could point at any file the daemon may write. */
START_TEST(test_follows_no_symbolic_link)
{
    char file[256], link[256], error[512], buf[64];
    struct port *port;

    write_text(path(file, sizeof file, "target"), "precious\n");
    ck_assert_int_eq(symlink(file, path(link, sizeof link, "link")), 0);
    ck_assert_int_eq(open_port(NULL, link, &port, error, sizeof error),
                     ELOOP);
    ck_assert_ptr_null(port);
    ck_assert_msg(strstr(error, "symbolic link") != NULL, "%s", error);
    ck_assert_int_eq(open_port(link, NULL, &port, error, sizeof error),
                     ELOOP);
    ck_assert_str_eq(contents(file, buf, sizeof buf), "precious\n");
}
END_TEST

START_TEST(test_creates_tx_files_for_owner_and_group_only)
{
    char file[256];
    struct stat st;
    struct port *port;
    mode_t old = umask(022);

    /* Whatever the umask: the group may name the file again. */
    port = must_open(NULL, path(file, sizeof file, "new.pcap"));
    umask(old);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    port_close(port);
}
END_TEST

/* The daemon checks a change before it makes it: nothing is created. */
START_TEST(test_check_files_creates_nothing)
{
    const struct port_class *class = port_class_find("pcap");
    const char *keys[] = { "tx" };
    char file[256], error[512];
    const char *values[] = { path(file, sizeof file, "later.pcap") };
    struct port_args args = { .name = "pcap0", .keys = keys,
                              .values = values, .n_options = 1 };

    ck_assert_int_eq(class->check_files(&args, error, sizeof error), 0);
    ck_assert_int_eq(access(file, F_OK), -1);
    write_text(file, "precious\n");
    ck_assert_int_eq(class->check_files(&args, error, sizeof error), EEXIST);
}
END_TEST

/* Sets the largest file this process may write ('limit' bytes), or puts
 * back what it was (-1). */
static void
limit_file_size(off_t limit)
{
    static struct rlimit saved;
    struct rlimit rl;

    if (limit < 0) {
        ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
        return;
    }
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    rl = saved;
    rl.rlim_cur = (rlim_t) limit;
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

/* A full disk, here a file size limit: the frames that did not reach the
 * file whole are counted, the file keeps those that did and stays
 * readable, and the port reports why it stopped. */
START_TEST(test_counts_frames_a_full_file_did_not_take)
{
    char file[256], reason[512], want[512];
    struct fixture_frame *got;
    struct port *port;
    off_t full = 24;
    uint64_t errors;
    int check;
    size_t n;

    for (size_t i = 0; i < 3; i++) {
        full += 16 + (off_t) frame_lens[i];
    }
    signal(SIGXFSZ, SIG_IGN);
    port = must_open(NULL, path(file, sizeof file, "full.pcap"));

    /* Check reports its results through a file: the limit must be gone
     * before the first assertion. */
    limit_file_size(full + 20);
    send_frames(port, 0, 5);
    errors = port->stats.tx_errors;
    check = port->class->check(port, reason, sizeof reason);
    send_frames(port, 5, 4);
    limit_file_size(-1);
    ck_assert_uint_eq(errors, 2);
    ck_assert_int_eq(check, EFBIG);
    ck_assert_uint_eq(port->stats.tx_errors, 6);

    n = read_capture(file, &got);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_mem_eq(got[i].data, frames[i], frame_lens[i]);
    }
    fixture_frames_free(got, n);
    snprintf(want, sizeof want, "tx: %s: File too large", file);
    ck_assert_str_eq(reason, want);
    port_close(port);

    struct stat st;

    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_int_eq(st.st_size, full);
}
END_TEST

START_TEST(test_tx_file_is_a_capture_before_the_first_frame)
{
    char file[256];
    struct fixture_frame *got = NULL;
    struct port *port = must_open(NULL, path(file, sizeof file, "out.pcap"));

    ck_assert_uint_eq(read_capture(file, &got), 0);
    ck_assert_ptr_null(got);
    port_close(port);
}
END_TEST

START_TEST(test_flushes_tx_after_each_batch)
{
    char file[256];
    struct fixture_frame *got;
    struct port *port = must_open(NULL, path(file, sizeof file, "out.pcap"));
    size_t n;

    send_frames(port, 0, 3);
    n = read_capture(file, &got);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(got[i].len, frame_lens[i]);
        ck_assert_mem_eq(got[i].data, frames[i], frame_lens[i]);
    }
    fixture_frames_free(got, n);

    send_frames(port, 3, 2);
    n = read_capture(file, &got);
    ck_assert_uint_eq(n, 5);
    ck_assert_mem_eq(got[4].data, frames[4], frame_lens[4]);
    fixture_frames_free(got, n);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_completes_partial_checksums_in_tx)
{
    size_t l4 = ETH_HEADER_LEN + IPV4_HEADER_LEN;
    size_t udp_len = frame_lens[0] - l4;
    uint32_t pseudo = csum_pseudo_ipv4(htonl(0xac1ffa01), htonl(0xac1ffa02),
                                       IP_PROTO_UDP, (uint16_t) udp_len);
    be16 want = csum_finish(csum_add_bytes(pseudo, frames[0] + l4,
                                           udp_len));
    be16 partial = (be16) ~csum_finish(pseudo);
    char file[256];
    struct fixture_frame *got;
    struct packet_batch batch;
    struct port *port = must_open(NULL, path(file, sizeof file, "out.pcap"));
    struct packet *p = fixture_packet(pool, frames[0], frame_lens[0]);

    /* The frame as a TAP with offloads hands it over: the pseudo-header
     * sum in the checksum field, the rest owed. */
    memcpy(packet_data(p) + l4 + 6, &partial, 2);
    p->md.csum_partial = true;
    p->md.csum_start = (uint16_t) l4;
    p->md.csum_offset = 6;
    packet_batch_init(&batch);
    packet_batch_add(&batch, p);
    port->class->send(port, &batch);

    ck_assert_uint_eq(read_capture(file, &got), 1);
    ck_assert_uint_eq(got[0].len, frame_lens[0]);
    ck_assert_uint_ne(want, partial);
    ck_assert_mem_eq(got[0].data + l4 + 6, &want, 2);
    ck_assert_mem_eq(got[0].data, frames[0], l4 + 6);
    ck_assert_mem_eq(got[0].data + l4 + 8, frames[0] + l4 + 8, udp_len - 8);
    ck_assert_uint_eq(csum_finish(csum_add_bytes(pseudo, got[0].data + l4,
                                                 udp_len)), 0);
    fixture_frames_free(got, 1);
    port_close(port);
}
END_TEST

START_TEST(test_rx_only_port_drops_what_it_is_sent)
{
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "in.pcap"), DLT_EN10MB, 2);
    port = must_open(file, NULL);
    send_frames(port, 0, 4);
    ck_assert_uint_eq(port->stats.tx_errors, 0);
    expect_batch(port, 0, 2);
    port_close(port);
}
END_TEST

/* Cuts capture 'file' 'cut' bytes into the record of frame 'index'. */
static void
truncate_in_record(const char *file, size_t index, size_t cut)
{
    /* The file header, then per frame a 16-byte record header and the
     * frame. */
    off_t at = 24;

    for (size_t i = 0; i < index; i++) {
        at += 16 + (off_t) frame_lens[i];
    }
    ck_assert_int_eq(truncate(file, at + (off_t) cut), 0);
}

START_TEST(test_stops_at_a_record_cut_in_its_data)
{
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "cut.pcap"), DLT_EN10MB, 5);
    truncate_in_record(file, 3, 16 + frame_lens[3] / 2);
    port = must_open(file, NULL);
    expect_batch(port, 0, 3);
    ck_assert_uint_eq(port->stats.rx_errors, 1);
    expect_eagain(port);
    expect_eagain(port);
    ck_assert_uint_eq(port->stats.rx_errors, 1);
    port_close(port);
}
END_TEST

START_TEST(test_stops_at_a_record_cut_in_its_header)
{
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "cut.pcap"), DLT_EN10MB, 5);
    truncate_in_record(file, 2, 7);
    port = must_open(file, NULL);
    expect_batch(port, 0, 2);
    ck_assert_uint_eq(port->stats.rx_errors, 1);
    expect_eagain(port);
    port_close(port);
}
END_TEST

START_TEST(test_ends_cleanly_at_a_record_boundary)
{
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "cut.pcap"), DLT_EN10MB, 5);
    truncate_in_record(file, 4, 0);
    port = must_open(file, NULL);
    expect_batch(port, 0, 4);
    expect_eagain(port);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_skips_and_counts_a_frame_too_big_for_a_buffer)
{
    static uint8_t big[PACKET_MAX_FRAME + 1];
    struct pcap_pkthdr big_hdr = { .caplen = sizeof big, .len = sizeof big };
    pcap_t *pcap = pcap_open_dead(DLT_EN10MB, 262144);
    pcap_dumper_t *dumper;
    char file[256];
    struct port *port;

    /* frames[0], the big one, frames[1] and frames[2]. */
    dumper = pcap_dump_open(pcap, path(file, sizeof file, "big.pcap"));
    ck_assert_ptr_nonnull(dumper);
    for (size_t i = 0; i < 3; i++) {
        struct pcap_pkthdr hdr = { .caplen = (bpf_u_int32) frame_lens[i],
                                   .len = (bpf_u_int32) frame_lens[i] };

        pcap_dump((u_char *) dumper, &hdr, frames[i]);
        if (i == 0) {
            pcap_dump((u_char *) dumper, &big_hdr, big);
        }
    }
    pcap_dump_close(dumper);
    pcap_close(pcap);

    port = must_open(file, NULL);
    expect_batch(port, 0, 3);
    ck_assert_uint_eq(port->stats.rx_errors, 1);
    expect_eagain(port);
    port_close(port);
}
END_TEST

/* A frame is only taken from the file once a buffer is there for it, so a
 * dry pool delays frames but loses none. */
START_TEST(test_keeps_frames_while_the_pool_is_dry)
{
    struct packet *held[2 * PACKET_BATCH_MAX];
    size_t n_held = 0;
    char file[256];
    struct port *port;

    write_capture(path(file, sizeof file, "in.pcap"), DLT_EN10MB, 10);
    port = must_open(file, NULL);
    n_held = fixture_drain_pool(pool, held, ARRAY_SIZE(held));
    expect_eagain(port);
    expect_eagain(port);

    /* Four buffers: four frames, then the next four. */
    for (size_t i = 0; i < 4; i++) {
        packet_free(held[--n_held]);
    }
    expect_batch(port, 0, 4);
    expect_batch(port, 4, 4);

    while (n_held) {
        packet_free(held[--n_held]);
    }
    expect_batch(port, 8, 2);
    expect_eagain(port);
    ck_assert_uint_eq(port->stats.rx_errors, 0);
    port_close(port);
}
END_TEST

START_TEST(test_reads_rx_and_writes_tx_on_one_port)
{
    char in[256], out[256];
    struct fixture_frame *got;
    struct port *port;

    write_capture(path(in, sizeof in, "in.pcap"), DLT_EN10MB, 3);
    port = must_open(in, path(out, sizeof out, "out.pcap"));
    expect_batch(port, 0, 3);
    send_frames(port, 5, 1);
    ck_assert_uint_eq(read_capture(out, &got), 1);
    ck_assert_mem_eq(got[0].data, frames[5], frame_lens[5]);
    fixture_frames_free(got, 1);
    port_close(port);
}
END_TEST

static Suite *
port_pcap_suite(void)
{
    Suite *s = suite_create("port-pcap");

    fixture_add_case(s, "replays rx in order in full batches",
                     test_replays_rx_in_order_in_full_batches, setup,
                     teardown);
    fixture_add_case(s, "replay starts again from first frame",
                     test_replay_starts_again_from_first_frame, setup,
                     teardown);
    fixture_add_case(s, "replay picks up a rewritten file",
                     test_replay_picks_up_a_rewritten_file, setup, teardown);
    fixture_add_case(s, "replay without rx file is refused",
                     test_replay_without_rx_file_is_refused, setup,
                     teardown);
    fixture_add_case(s, "refuses a capture that is not Ethernet",
                     test_refuses_a_capture_that_is_not_ethernet, setup,
                     teardown);
    fixture_add_case(s, "refuses a missing rx file",
                     test_refuses_a_missing_rx_file, setup, teardown);
    fixture_add_case(s, "refuses an rx file that is not a capture",
                     test_refuses_an_rx_file_that_is_not_a_capture, setup,
                     teardown);
    fixture_add_case(s, "refuses files that are not regular",
                     test_refuses_files_that_are_not_regular, setup,
                     teardown);
    fixture_add_case(s, "opens the file it looked at",
                     test_opens_the_file_it_looked_at, setup, teardown);
    fixture_add_case(s, "refuses a tx file it cannot create",
                     test_refuses_a_tx_file_it_cannot_create, setup,
                     teardown);
    fixture_add_case(s, "never empties a file that is not a capture",
                     test_never_empties_a_file_that_is_not_a_capture, setup,
                     teardown);
    fixture_add_case(s, "replaces an old capture",
                     test_replaces_an_old_capture, setup, teardown);
    fixture_add_case(s, "refuses rx and tx the same file",
                     test_refuses_rx_and_tx_the_same_file, setup, teardown);
    fixture_add_case(s, "no two ports write one file",
                     test_no_two_ports_write_one_file, setup, teardown);
    fixture_add_case(s, "follows no symbolic link",
                     test_follows_no_symbolic_link, setup, teardown);
    fixture_add_case(s, "creates tx files for owner and group only",
                     test_creates_tx_files_for_owner_and_group_only, setup,
                     teardown);
    fixture_add_case(s, "check_files creates nothing",
                     test_check_files_creates_nothing, setup, teardown);
    fixture_add_case(s, "counts frames a full file did not take",
                     test_counts_frames_a_full_file_did_not_take, setup,
                     teardown);
    fixture_add_case(s, "tx file is a capture before the first frame",
                     test_tx_file_is_a_capture_before_the_first_frame, setup,
                     teardown);
    fixture_add_case(s, "flushes tx after each batch",
                     test_flushes_tx_after_each_batch, setup, teardown);
    fixture_add_case(s, "completes partial checksums in tx",
                     test_completes_partial_checksums_in_tx, setup,
                     teardown);
    fixture_add_case(s, "rx-only port drops what it is sent",
                     test_rx_only_port_drops_what_it_is_sent, setup,
                     teardown);
    fixture_add_case(s, "stops at a record cut in its data",
                     test_stops_at_a_record_cut_in_its_data, setup,
                     teardown);
    fixture_add_case(s, "stops at a record cut in its header",
                     test_stops_at_a_record_cut_in_its_header, setup,
                     teardown);
    fixture_add_case(s, "ends cleanly at a record boundary",
                     test_ends_cleanly_at_a_record_boundary, setup,
                     teardown);
    fixture_add_case(s, "skips and counts a frame too big for a buffer",
                     test_skips_and_counts_a_frame_too_big_for_a_buffer,
                     setup, teardown);
    fixture_add_case(s, "keeps frames while the pool is dry",
                     test_keeps_frames_while_the_pool_is_dry, setup,
                     teardown);
    fixture_add_case(s, "reads rx and writes tx on one port",
                     test_reads_rx_and_writes_tx_on_one_port, setup,
                     teardown);
    return s;
}

/* Removes the test directory and the files in it. */
static void
remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        char file[512];

        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
            unlink(file);
        }
    }
    closedir(d);
    rmdir(dir);
}

int
main(void)
{
    int status;

    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    status = fixture_run(port_pcap_suite());
    remove_dir();
    return status;
}
