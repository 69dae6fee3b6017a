#ifndef SWITCHD_CAPTURE_BUFFER_H
#define SWITCHD_CAPTURE_BUFFER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* The frames a live capture holds until its reader takes them: pcap
 * records (a 16-byte header in host byte order, then the frame, cut at
 * CAPTURE_SNAPLEN), each with its direction, in a buffer of bounded size.
 * A frame that does not fit is lost and counted: a reader that cannot
 * keep up loses captured frames, never forwarded ones. */

#define CAPTURE_RECORD_HEADER_LEN 16

/* Where a frame was going, as the protocol's CaptureDirection says. */
enum capture_dir {
    CAPTURE_DIR_IN = 1,         /* Into the switch from the port. */
    CAPTURE_DIR_OUT = 2,        /* Out of the switch to the port. */
};

struct capture_buffer {
    uint8_t *records;
    size_t len, cap;            /* Bytes of 'records' used, allocated. */
    size_t max;                 /* The bound on 'len'. */
    uint8_t *dirs;              /* One per record. */
    size_t n, dirs_cap;         /* Records held, room in 'dirs'. */
    uint64_t frames;            /* Captured in all. */
    uint64_t lost;              /* Lost in all: no room. */
};

/* Makes 'b' empty, to hold at most 'max' bytes of records. */
void capture_buffer_init(struct capture_buffer *b, size_t max);

/* Frees what 'b' holds. */
void capture_buffer_destroy(struct capture_buffer *b);

/* Adds the 'len' bytes of frame 'data', seen at 'ts' going 'dir', if it
 * fits.  Returns true if it did; false if it was lost (counted). */
bool capture_buffer_add(struct capture_buffer *b, const struct timeval *ts,
                        enum capture_dir dir, const uint8_t *data,
                        size_t len);

/* Forgets the records held (the counts stay), once they are sent. */
void capture_buffer_clear(struct capture_buffer *b);

#endif /* switchd/capture-buffer.h */
