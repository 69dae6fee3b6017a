#include <config.h>

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture-buffer.h"
#include "capture-filter.h"
#include "fixture.h"

static void
fill(uint8_t *buf, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t) (seed + i * 3);
    }
}

/* Writes the pcap file header vswitch-ctl writes, then the records of 'b',
 * to a temporary file, and opens it with libpcap. */
static pcap_t *
open_as_pcap(const struct capture_buffer *b, char *path)
{
    static const uint32_t words[4] = { 0, 0, CAPTURE_SNAPLEN, DLT_EN10MB };
    const uint32_t magic = 0xa1b2c3d4;
    const uint16_t version[2] = { 2, 4 };
    char errbuf[PCAP_ERRBUF_SIZE];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "wb");
    pcap_t *pcap;

    ck_assert_ptr_nonnull(f);
    fwrite(&magic, 4, 1, f);
    fwrite(version, 4, 1, f);
    fwrite(words, sizeof words, 1, f);
    fwrite(b->records, b->len, 1, f);
    ck_assert_int_eq(fclose(f), 0);
    pcap = pcap_open_offline(path, errbuf);
    ck_assert_msg(pcap != NULL, "%s", errbuf);
    return pcap;
}

START_TEST(test_keeps_records_as_libpcap_reads_them)
{
    struct timeval t1 = { 1700000000, 123456 }, t2 = { 1700000001, 999999 };
    uint8_t a[60], c[1514];
    char path[] = "/tmp/check-capture-buffer.XXXXXX";
    struct capture_buffer b;
    struct pcap_pkthdr *h;
    const u_char *data;
    pcap_t *pcap;

    fill(a, sizeof a, 1);
    fill(c, sizeof c, 7);
    capture_buffer_init(&b, 1 << 20);
    ck_assert(capture_buffer_add(&b, &t1, CAPTURE_DIR_IN, a, sizeof a));
    ck_assert(capture_buffer_add(&b, &t2, CAPTURE_DIR_OUT, c, sizeof c));
    ck_assert_uint_eq(b.len, 2 * CAPTURE_RECORD_HEADER_LEN + 60 + 1514);

    pcap = open_as_pcap(&b, path);
    ck_assert_int_eq(pcap_datalink(pcap), DLT_EN10MB);
    ck_assert_int_eq(pcap_snapshot(pcap), CAPTURE_SNAPLEN);
    ck_assert_int_eq(pcap_next_ex(pcap, &h, &data), 1);
    ck_assert_int_eq(h->ts.tv_sec, 1700000000);
    ck_assert_int_eq(h->ts.tv_usec, 123456);
    ck_assert_uint_eq(h->caplen, 60);
    ck_assert_uint_eq(h->len, 60);
    ck_assert_mem_eq(data, a, 60);
    ck_assert_int_eq(pcap_next_ex(pcap, &h, &data), 1);
    ck_assert_int_eq(h->ts.tv_sec, 1700000001);
    ck_assert_int_eq(h->ts.tv_usec, 999999);
    ck_assert_uint_eq(h->caplen, 1514);
    ck_assert_mem_eq(data, c, 1514);
    ck_assert_int_eq(pcap_next_ex(pcap, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(pcap);
    unlink(path);
    capture_buffer_destroy(&b);
}
END_TEST

START_TEST(test_records_each_frames_direction)
{
    struct timeval t = { 1, 0 };
    uint8_t f[64] = { 0 };
    struct capture_buffer b;

    capture_buffer_init(&b, 1 << 20);
    capture_buffer_add(&b, &t, CAPTURE_DIR_OUT, f, sizeof f);
    capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f);
    capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f);
    ck_assert_uint_eq(b.n, 3);
    ck_assert_uint_eq(b.dirs[0], CAPTURE_DIR_OUT);
    ck_assert_uint_eq(b.dirs[1], CAPTURE_DIR_IN);
    ck_assert_uint_eq(b.dirs[2], CAPTURE_DIR_IN);
    capture_buffer_destroy(&b);
}
END_TEST

START_TEST(test_loses_and_counts_frames_that_do_not_fit)
{
    struct timeval t = { 1, 0 };
    uint8_t f[60] = { 0 };
    struct capture_buffer b;

    /* Room for two records of 76 bytes, not three. */
    capture_buffer_init(&b, 200);
    ck_assert(capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f));
    ck_assert(capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f));
    ck_assert(!capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f));
    ck_assert(!capture_buffer_add(&b, &t, CAPTURE_DIR_OUT, f, sizeof f));
    ck_assert_uint_eq(b.frames, 2);
    ck_assert_uint_eq(b.lost, 2);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_uint_le(b.cap, 200);

    /* Once sent, there is room again; the counts run on. */
    capture_buffer_clear(&b);
    ck_assert(capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f));
    ck_assert_uint_eq(b.frames, 3);
    ck_assert_uint_eq(b.lost, 2);
    ck_assert_uint_eq(b.n, 1);
    ck_assert_uint_eq(b.len, CAPTURE_RECORD_HEADER_LEN + 60);
    capture_buffer_destroy(&b);
}
END_TEST

START_TEST(test_a_frame_that_fills_the_bound_exactly_fits)
{
    struct timeval t = { 1, 0 };
    uint8_t f[100] = { 0 };
    struct capture_buffer b;

    capture_buffer_init(&b, CAPTURE_RECORD_HEADER_LEN + 100);
    ck_assert(capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, sizeof f));
    ck_assert(!capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, 1));
    ck_assert_uint_eq(b.lost, 1);
    capture_buffer_destroy(&b);
}
END_TEST

START_TEST(test_cuts_a_frame_at_the_snap_length)
{
    struct timeval t = { 1, 0 };
    size_t big = CAPTURE_SNAPLEN + 1000;
    uint8_t *f = calloc(1, big);
    struct capture_buffer b;
    uint32_t caplen, len;

    capture_buffer_init(&b, 1 << 20);
    ck_assert(capture_buffer_add(&b, &t, CAPTURE_DIR_IN, f, big));
    memcpy(&caplen, b.records + 8, 4);
    memcpy(&len, b.records + 12, 4);
    ck_assert_uint_eq(caplen, CAPTURE_SNAPLEN);
    ck_assert_uint_eq(len, big);
    ck_assert_uint_eq(b.len, CAPTURE_RECORD_HEADER_LEN + CAPTURE_SNAPLEN);
    capture_buffer_destroy(&b);
    free(f);
}
END_TEST

static Suite *
capture_buffer_suite(void)
{
    Suite *s = suite_create("capture-buffer");

    fixture_add_case(s, "keeps records as libpcap reads them",
                     test_keeps_records_as_libpcap_reads_them, NULL, NULL);
    fixture_add_case(s, "records each frame's direction",
                     test_records_each_frames_direction, NULL, NULL);
    fixture_add_case(s, "loses and counts frames that do not fit",
                     test_loses_and_counts_frames_that_do_not_fit, NULL,
                     NULL);
    fixture_add_case(s, "a frame that fills the bound exactly fits",
                     test_a_frame_that_fills_the_bound_exactly_fits, NULL,
                     NULL);
    fixture_add_case(s, "cuts a frame at the snap length",
                     test_cuts_a_frame_at_the_snap_length, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(capture_buffer_suite());
}
