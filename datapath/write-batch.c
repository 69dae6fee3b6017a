#include <config.h>

#include "write-batch.h"

#include <liburing.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

struct write_batch {
    struct io_uring ring;

    /* Set when the ring failed in a way that leaves what it held unknown:
     * it is never entered again (a write still queued in it would read a
     * frame freed since), and frames go out with write(). */
    bool broken;
};

struct write_batch *
write_batch_create(void)
{
    struct write_batch *wb = calloc(1, sizeof *wb);

    if (wb && io_uring_queue_init(WRITE_BATCH_MAX, &wb->ring, 0)) {
        free(wb);
        wb = NULL;
    }
    return wb;
}

void
write_batch_destroy(struct write_batch *wb)
{
    if (wb) {
        io_uring_queue_exit(&wb->ring);
        free(wb);
    }
}

/* The fallback: one write() per buffer. */
static size_t
write_each(int fd, const struct iovec *bufs, size_t n)
{
    size_t failed = 0;

    for (size_t i = 0; i < n; i++) {
        ssize_t retval = write(fd, bufs[i].iov_base, bufs[i].iov_len);

        failed += retval < 0 || (size_t) retval != bufs[i].iov_len;
    }
    return failed;
}

size_t
write_batch_run(struct write_batch *wb, int fd, const struct iovec *bufs,
                size_t n)
{
    size_t failed = 0, reaped = 0;
    struct io_uring_cqe *cqe;
    unsigned int head;
    int submitted, error;

    if (!wb || wb->broken || n < 2) {
        return write_each(fd, bufs, n);
    }
    for (size_t i = 0; i < n; i++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&wb->ring);

        /* The ring holds WRITE_BATCH_MAX entries and is empty here. */
        io_uring_prep_write(sqe, fd, bufs[i].iov_base,
                            (unsigned int) bufs[i].iov_len, 0);
        sqe->user_data = i;

        /* A write that would block fails with EAGAIN, as write() on a
         * non-blocking descriptor does: without this io_uring would wait
         * for room, and the loop with it.  Nothing then goes to a worker,
         * so the writes are issued in order as they are submitted; links
         * between them would only defer all but the first to task work,
         * at the end of the system call. */
        sqe->rw_flags = RWF_NOWAIT;
    }
    submitted = io_uring_submit(&wb->ring);
    if (submitted != (int) n) {
        /* What was not taken stays in the ring, which must never be
         * entered again; those frames go out the plain way. */
        wb->broken = true;
        if (submitted <= 0) {
            return write_each(fd, bufs, n);
        }
        failed = write_each(fd, bufs + submitted, n - (size_t) submitted);
    }

    /* Every write is done, or failed, as it is submitted (RWF_NOWAIT):
     * the completions are there to be read. */
    do {
        error = io_uring_wait_cqe_nr(&wb->ring, &cqe,
                                     (unsigned int) submitted);
    } while (error == -EINTR);
    if (error) {
        /* Whether those writes were made is unknown: counted as lost. */
        wb->broken = true;
        return failed + (size_t) submitted;
    }
    io_uring_for_each_cqe (&wb->ring, head, cqe) {
        size_t i = (size_t) cqe->user_data;

        if (cqe->res == -EOPNOTSUPP) {
            /* A kernel whose device refuses RWF_NOWAIT: the plain way,
             * from now on. */
            wb->broken = true;
            failed += write_each(fd, &bufs[i], 1);
        } else {
            failed += cqe->res < 0 || (size_t) cqe->res != bufs[i].iov_len;
        }
        reaped++;
    }
    io_uring_cq_advance(&wb->ring, (unsigned int) reaped);
    return failed + ((size_t) submitted - reaped);
}
