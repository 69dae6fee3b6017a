#include <config.h>

#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
frame_reader_init(struct frame_reader *r, size_t max_message)
{
    r->buf = NULL;
    r->len = 0;
    r->cap = 0;
    r->max = max_message;
}

void
frame_reader_destroy(struct frame_reader *r)
{
    if (r) {
        free(r->buf);
        r->buf = NULL;
        r->len = r->cap = 0;
    }
}

static size_t
announced(const struct frame_reader *r)
{
    return (size_t) r->buf[0] << 24 | (size_t) r->buf[1] << 16
           | (size_t) r->buf[2] << 8 | r->buf[3];
}

size_t
frame_reader_announced(const struct frame_reader *r)
{
    return r->len < FRAME_HEADER_LEN ? 0 : announced(r);
}

int
frame_reader_feed(struct frame_reader *r, const void *data, size_t n)
{
    if (n > r->cap - r->len) {
        /* Grow to what is needed now, not to what the header announces:
         * a peer must send the bytes before it gets the memory. */
        size_t cap = r->cap ? r->cap : 256;

        while (cap - r->len < n) {
            cap *= 2;
        }

        uint8_t *buf = realloc(r->buf, cap);

        if (!buf) {
            return ENOMEM;
        }
        r->buf = buf;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    return 0;
}

int
frame_reader_next(const struct frame_reader *r, const uint8_t **msg,
                  size_t *len)
{
    if (r->len < FRAME_HEADER_LEN) {
        return EAGAIN;
    }
    if (announced(r) > r->max) {
        return EMSGSIZE;
    }
    if (r->len - FRAME_HEADER_LEN < announced(r)) {
        return EAGAIN;
    }
    *msg = r->buf + FRAME_HEADER_LEN;
    *len = announced(r);
    return 0;
}

void
frame_reader_consume(struct frame_reader *r)
{
    size_t used = FRAME_HEADER_LEN + announced(r);

    memmove(r->buf, r->buf + used, r->len - used);
    r->len -= used;

    /* A buffer grown for a large message goes back once it is consumed,
     * so that a connection that sent one holds little while it idles. */
    if (r->cap > FRAME_READER_KEEP && r->len <= FRAME_READER_KEEP) {
        uint8_t *buf = realloc(r->buf, FRAME_READER_KEEP);

        if (buf) {
            r->buf = buf;
            r->cap = FRAME_READER_KEEP;
        }
    }
}

uint8_t *
frame_pack(const ProtobufCMessage *msg, size_t max_message, size_t *len)
{
    size_t size = protobuf_c_message_get_packed_size(msg);

    if (size > max_message) {
        return NULL;
    }

    uint8_t *frame = malloc(FRAME_HEADER_LEN + size);

    if (frame) {
        frame[0] = (uint8_t) (size >> 24);
        frame[1] = (uint8_t) (size >> 16);
        frame[2] = (uint8_t) (size >> 8);
        frame[3] = (uint8_t) size;
        protobuf_c_message_pack(msg, frame + FRAME_HEADER_LEN);
        *len = FRAME_HEADER_LEN + size;
    }
    return frame;
}
