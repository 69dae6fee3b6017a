#include <config.h>

/* libFuzzer target for what a client of the control socket sends: the
 * byte stream is cut into messages by frame_reader as the daemon's
 * control server does (stopping at a message over FRAME_MAX_REQUEST),
 * and each message is decoded as a Request and run through
 * request_check(), the checks every request gets before it is acted on.
 *
 * The stream is read twice, whole and in pieces of 1 to 13 bytes, as a
 * socket may deliver it; both reads must give the same messages. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "request.h"
#include "vswitch.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGES 64

/* Where each message lay in the stream, to compare the two reads. */
struct reading {
    size_t n;
    size_t len[MAX_MESSAGES];
    uint32_t sum[MAX_MESSAGES];
    int end;                    /* EAGAIN or EMSGSIZE. */
};

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-request: %s\n", what);
    abort();
}

static void
check_request(const uint8_t *msg, size_t len)
{
    Vswitch__Request *request = vswitch__request__unpack(NULL, len, msg);
    char error[REQUEST_ERROR_SIZE];

    if (request) {
        error[0] = '\0';
        if (!request_check(request, error, sizeof error)
            && (!error[0] || !memchr(error, '\0', sizeof error))) {
            fail("a request refused without a reason");
        }
        vswitch__request__free_unpacked(request, NULL);
    }
}

/* Takes every whole message 'r' holds, as the control server does. */
static void
take_messages(struct frame_reader *r, struct reading *out, bool check)
{
    const uint8_t *msg;
    size_t len;

    while (!(out->end = frame_reader_next(r, &msg, &len))) {
        if (out->n < MAX_MESSAGES) {
            uint32_t sum = 0;

            for (size_t i = 0; i < len; i++) {
                sum = sum * 31 + msg[i];
            }
            out->len[out->n] = len;
            out->sum[out->n] = sum;
        }
        out->n++;
        if (check) {
            check_request(msg, len);
        }
        frame_reader_consume(r);
    }
}

/* Reads 'size' bytes at 'data' whole if 'piece' is 0, else in pieces of
 * at most 'piece' bytes (the piece grows from 1 to 'piece' and starts
 * again), until the stream ends or breaks. */
static void
read_stream(const uint8_t *data, size_t size, size_t piece,
            struct reading *out, bool check)
{
    struct frame_reader r;
    size_t n = 1;

    memset(out, 0, sizeof *out);
    frame_reader_init(&r, FRAME_MAX_REQUEST);
    out->end = EAGAIN;
    while (size && out->end == EAGAIN) {
        size_t chunk = piece && n < size ? n : size;

        if (frame_reader_feed(&r, data, chunk)) {
            fail("out of memory");
        }
        data += chunk;
        size -= chunk;
        n = piece ? n % piece + 1 : n;
        take_messages(&r, out, check);
    }
    frame_reader_destroy(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct reading whole, pieces;

    read_stream(data, size, 0, &whole, true);
    read_stream(data, size, 13, &pieces, false);
    if (whole.n != pieces.n || whole.end != pieces.end
        || memcmp(whole.len, pieces.len, sizeof whole.len)
        || memcmp(whole.sum, pieces.sum, sizeof whole.sum)) {
        fail("the stream read in pieces gave other messages");
    }
    return 0;
}
