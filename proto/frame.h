#ifndef PROTO_FRAME_H
#define PROTO_FRAME_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Framing of protobuf messages on a stream socket: a 4-byte big-endian
 * length, then the message.  The reader takes bytes as they arrive, in
 * pieces of any size, and hands out whole messages. */

#define FRAME_HEADER_LEN 4
#define FRAME_MAX_REQUEST (1u << 20)        /* 1 MiB. */
/* From a client that may change the configuration: a whole flow file of
 * 65,536 rules, applied as one transaction. */
#define FRAME_MAX_LARGE_REQUEST (16u << 20)  /* 16 MiB. */
#define FRAME_MAX_RESPONSE (64u << 20)      /* 64 MiB: a full MAC table. */

struct frame_reader {
    uint8_t *buf;
    size_t len;                 /* Bytes buffered. */
    size_t cap;
    size_t max;                 /* Largest message accepted. */
};

void frame_reader_init(struct frame_reader *, size_t max_message);
void frame_reader_destroy(struct frame_reader *);

/* Appends 'n' bytes.  Returns 0 or ENOMEM. */
int frame_reader_feed(struct frame_reader *, const void *data, size_t n);

/* If a whole message is buffered, points '*msg' at it, sets '*len' and
 * returns 0; the message stays valid until frame_reader_consume().
 * Returns EAGAIN if more bytes are needed, or EMSGSIZE if the next message
 * announces more than the maximum: the stream cannot be trusted after
 * that, and the connection should be closed. */
int frame_reader_next(const struct frame_reader *, const uint8_t **msg,
                      size_t *len);

/* Returns the length the next message announces, or 0 while fewer than
 * FRAME_HEADER_LEN bytes are buffered. */
size_t frame_reader_announced(const struct frame_reader *);

/* Drops the message that frame_reader_next() returned.  A buffer that grew
 * past FRAME_READER_KEEP bytes shrinks back to that if what remains fits. */
#define FRAME_READER_KEEP (64u << 10)
void frame_reader_consume(struct frame_reader *);

/* Returns true if part of a message is buffered. */
static inline bool
frame_reader_has_partial(const struct frame_reader *r)
{
    return r->len > 0;
}

/* Packs 'msg' into a new frame and returns it (the caller frees it), with
 * its length in '*len'; NULL if memory is short or the message is larger
 * than 'max_message'. */
uint8_t *frame_pack(const ProtobufCMessage *msg, size_t max_message,
                    size_t *len);

#endif /* proto/frame.h */
