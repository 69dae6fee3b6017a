#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "util.h"
#include "write-batch.h"

/* A pipe keeps the boundaries of nothing, but it keeps the order of the
 * bytes and says how many each write took: enough to see each buffer
 * written once, in order, by the ring and by the fallback alike. */

static int fds[2];

static void
setup(void)
{
    ck_assert_int_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
teardown(void)
{
    close(fds[0]);
    close(fds[1]);
}

/* Fills 'bufs' with 'n' buffers of 1 to 'n' bytes from 'data', whose byte
 * i is i % 251, and returns their total length. */
static size_t
make_bufs(struct iovec *bufs, size_t n, uint8_t *data)
{
    size_t total = 0;

    for (size_t i = 0; i < n * (n + 1) / 2; i++) {
        data[i] = (uint8_t) (i % 251);
    }
    for (size_t i = 0; i < n; i++) {
        bufs[i] = (struct iovec) { data + total, i + 1 };
        total += i + 1;
    }
    return total;
}

/* Writes a batch of WRITE_BATCH_MAX buffers with 'wb' and asserts that
 * the pipe holds their bytes in order. */
static void
expect_in_order(struct write_batch *wb)
{
    static uint8_t data[WRITE_BATCH_MAX * (WRITE_BATCH_MAX + 1) / 2];
    static uint8_t got[sizeof data + 1];
    struct iovec bufs[WRITE_BATCH_MAX];
    size_t total = make_bufs(bufs, WRITE_BATCH_MAX, data);

    for (int round = 0; round < 3; round++) {
        ck_assert_uint_eq(write_batch_run(wb, fds[1], bufs, WRITE_BATCH_MAX),
                          0);
        ck_assert_int_eq(read(fds[0], got, sizeof got), (ssize_t) total);
        ck_assert_mem_eq(got, data, total);
    }
}

START_TEST(test_writes_each_buffer_in_order)
{
    struct write_batch *wb = write_batch_create();

    /* io_uring is there on every kernel these tests run on; without it
     * the same calls take the fallback, tested below. */
    ck_assert_ptr_nonnull(wb);
    expect_in_order(wb);
    write_batch_destroy(wb);
}
END_TEST

START_TEST(test_falls_back_to_write)
{
    expect_in_order(NULL);
    write_batch_destroy(NULL);
}
END_TEST

/* A pipe that fills up refuses the rest of a batch (EAGAIN): those are
 * counted, and the ring works on afterwards. */
START_TEST(test_counts_the_writes_that_fail)
{
    static uint8_t big[4096], got[65536];
    struct write_batch *wb = write_batch_create();
    struct iovec bufs[WRITE_BATCH_MAX];
    int capacity = fcntl(fds[1], F_SETPIPE_SZ, (int) sizeof big);
    size_t fit;

    ck_assert_int_ge(capacity, (int) sizeof big);
    fit = (size_t) capacity / sizeof big;
    for (size_t i = 0; i < WRITE_BATCH_MAX; i++) {
        bufs[i] = (struct iovec) { big, sizeof big };
    }
    ck_assert_uint_eq(write_batch_run(wb, fds[1], bufs, WRITE_BATCH_MAX),
                      WRITE_BATCH_MAX - fit);
    ck_assert_int_eq(read(fds[0], got, sizeof got),
                     (ssize_t) (fit * sizeof big));

    /* A descriptor that is no file fails every write. */
    ck_assert_uint_eq(write_batch_run(wb, -1, bufs, 3), 3);
    ck_assert_uint_eq(write_batch_run(NULL, -1, bufs, 3), 3);
    expect_in_order(wb);
    write_batch_destroy(wb);
}
END_TEST

static Suite *
write_batch_suite(void)
{
    Suite *s = suite_create("write-batch");

    fixture_add_case(s, "writes each buffer in order",
                     test_writes_each_buffer_in_order, setup, teardown);
    fixture_add_case(s, "falls back to write()", test_falls_back_to_write,
                     setup, teardown);
    fixture_add_case(s, "counts the writes that fail",
                     test_counts_the_writes_that_fail, setup, teardown);
    return s;
}

int
main(void)
{
    return fixture_run(write_batch_suite());
}
