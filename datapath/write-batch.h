#ifndef DATAPATH_WRITE_BATCH_H
#define DATAPATH_WRITE_BATCH_H 1

#include <stddef.h>
#include <sys/uio.h>

/* Frames written to one descriptor, each its own write(2), a batch of them
 * in one system call (io_uring, through liburing).
 *
 * A TAP device takes one frame per write: forwarding to a VM that way
 * costs a system call per frame, whose entry and exit are much of its
 * cost for a small frame.  io_uring issues a batch of writes from one
 * io_uring_enter(); a TAP descriptor takes them at once (it never blocks
 * a non-blocking write), in order.  Where io_uring is missing or refused
 * (a kernel without it, kernel.io_uring_disabled, a seccomp filter), the
 * frames go out with write() one by one: the result is the same. */

struct write_batch;

#include "packet.h"
#include "util.h"

/* The most frames write_batch_run() takes at once: a batch. */
#define WRITE_BATCH_MAX PACKET_BATCH_MAX

/* Returns a batch writer, or NULL if io_uring cannot be had here, which
 * write_batch_run() takes too.  Free with write_batch_destroy(), which
 * accepts NULL. */
struct write_batch *write_batch_create(void);
void write_batch_destroy(struct write_batch *);

/* Writes each of the 'n' (at most WRITE_BATCH_MAX) buffers in 'bufs' to
 * 'fd' as a write of its own, in order, with 'wb' (or write() if it is
 * NULL).  Returns how many failed or were cut short. */
size_t write_batch_run(struct write_batch *wb, int fd,
                       const struct iovec *bufs, size_t n);

#endif /* datapath/write-batch.h */
