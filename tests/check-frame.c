#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "frame.h"
#include "util.h"
#include "vswitch.pb-c.h"

/* A packed frame and what its message must unpack to. */
struct test_frame {
    uint8_t *data;
    size_t len;
    char name[16];
};

/* Returns a request frame whose message is a set-port of 'name' with
 * 'n_options' options, so that frames differ in content and in size. */
static uint8_t *
pack_set_port(const char *name, size_t n_options, size_t max, size_t *len)
{
    Vswitch__Request req = VSWITCH__REQUEST__INIT;
    Vswitch__SetPort set = VSWITCH__SET_PORT__INIT;
    Vswitch__Option *opts = calloc(n_options + 1, sizeof *opts);
    Vswitch__Option **optp = calloc(n_options + 1, sizeof *optp);
    char (*values)[16] = calloc(n_options + 1, sizeof *values);

    ck_assert(opts && optp && values);
    for (size_t i = 0; i < n_options; i++) {
        vswitch__option__init(&opts[i]);
        snprintf(values[i], sizeof values[i], "%zu", i);
        opts[i].key = "ttl";
        opts[i].value = values[i];
        optp[i] = &opts[i];
    }
    set.name = (char *) name;
    set.n_options = n_options;
    set.options = optp;
    req.protocol = VSWITCH__PROTOCOL__PROTOCOL_VERSION;
    req.command_case = VSWITCH__REQUEST__COMMAND_SET_PORT;
    req.set_port = &set;

    uint8_t *frame = frame_pack(&req.base, max, len);

    free(opts);
    free(optp);
    free(values);
    return frame;
}

static void
make_frames(struct test_frame *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(frames[i].name, sizeof frames[i].name, "port%zu", i);
        frames[i].data = pack_set_port(frames[i].name, i * 7 % 23,
                                       FRAME_MAX_REQUEST, &frames[i].len);
        ck_assert_ptr_nonnull(frames[i].data);
    }
}

static void
free_frames(struct test_frame *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(frames[i].data);
    }
}

/* Takes the next message out of 'r' and checks that it is 'want', byte for
 * byte, and unpacks to the request it was made from. */
static void
expect_frame(struct frame_reader *r, const struct test_frame *want)
{
    const uint8_t *msg;
    size_t len;

    ck_assert_int_eq(frame_reader_next(r, &msg, &len), 0);
    ck_assert_uint_eq(len, want->len - FRAME_HEADER_LEN);
    ck_assert_mem_eq(msg, want->data + FRAME_HEADER_LEN, len);

    Vswitch__Request *req = vswitch__request__unpack(NULL, len, msg);

    ck_assert_ptr_nonnull(req);
    ck_assert_int_eq(req->command_case, VSWITCH__REQUEST__COMMAND_SET_PORT);
    ck_assert_str_eq(req->set_port->name, want->name);
    vswitch__request__free_unpacked(req, NULL);
    frame_reader_consume(r);
}

/* A small generator of our own, so that the piece sizes are the same on
 * every C library. */
static uint32_t
next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

START_TEST(test_delivers_a_message_fed_one_byte_at_a_time)
{
    struct test_frame f;
    struct frame_reader r;
    const uint8_t *msg;
    size_t len;

    make_frames(&f, 1);
    frame_reader_init(&r, FRAME_MAX_REQUEST);
    ck_assert(!frame_reader_has_partial(&r));
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    for (size_t i = 0; i < f.len - 1; i++) {
        ck_assert_int_eq(frame_reader_feed(&r, &f.data[i], 1), 0);
        ck_assert_msg(frame_reader_next(&r, &msg, &len) == EAGAIN,
                      "a message came out after %zu of %zu bytes", i + 1,
                      f.len);
        ck_assert(frame_reader_has_partial(&r));
    }
    ck_assert_int_eq(frame_reader_feed(&r, &f.data[f.len - 1], 1), 0);
    expect_frame(&r, &f);
    ck_assert(!frame_reader_has_partial(&r));
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    frame_reader_destroy(&r);
    free_frames(&f, 1);
}
END_TEST

START_TEST(test_delivers_messages_fed_in_random_pieces)
{
    enum { N = 40 };
    struct test_frame frames[N];
    size_t total = 0;

    make_frames(frames, N);
    for (size_t i = 0; i < N; i++) {
        total += frames[i].len;
    }

    uint8_t *stream = malloc(total);
    size_t off = 0;

    ck_assert_ptr_nonnull(stream);
    for (size_t i = 0; i < N; i++) {
        memcpy(stream + off, frames[i].data, frames[i].len);
        off += frames[i].len;
    }

    for (uint32_t seed = 1; seed <= 20; seed++) {
        struct frame_reader r;
        uint32_t state = seed * 2654435761u;
        size_t fed = 0, delivered = 0;
        const uint8_t *msg;
        size_t len;

        frame_reader_init(&r, FRAME_MAX_REQUEST);
        while (fed < total) {
            size_t piece = 1 + next_random(&state) % 97;

            if (piece > total - fed) {
                piece = total - fed;
            }
            ck_assert_int_eq(frame_reader_feed(&r, stream + fed, piece), 0);
            fed += piece;
            while (frame_reader_next(&r, &msg, &len) == 0) {
                ck_assert_uint_lt(delivered, N);
                expect_frame(&r, &frames[delivered++]);
            }
            ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
        }
        ck_assert_uint_eq(delivered, N);
        ck_assert(!frame_reader_has_partial(&r));
        frame_reader_destroy(&r);
    }
    free(stream);
    free_frames(frames, N);
}
END_TEST

START_TEST(test_delivers_several_messages_from_one_feed)
{
    enum { N = 3 };
    struct test_frame frames[N];
    struct frame_reader r;
    const uint8_t *msg;
    size_t len;

    make_frames(frames, N);
    frame_reader_init(&r, FRAME_MAX_REQUEST);

    /* The three frames and the first two bytes of a fourth. */
    uint8_t *stream = malloc(frames[0].len + frames[1].len + frames[2].len
                             + 2);
    size_t off = 0;

    ck_assert_ptr_nonnull(stream);
    for (size_t i = 0; i < N; i++) {
        memcpy(stream + off, frames[i].data, frames[i].len);
        off += frames[i].len;
    }
    memcpy(stream + off, frames[0].data, 2);
    ck_assert_int_eq(frame_reader_feed(&r, stream, off + 2), 0);
    for (size_t i = 0; i < N; i++) {
        expect_frame(&r, &frames[i]);
    }
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    ck_assert(frame_reader_has_partial(&r));

    /* The rest of the fourth completes it. */
    ck_assert_int_eq(frame_reader_feed(&r, frames[0].data + 2,
                                       frames[0].len - 2), 0);
    expect_frame(&r, &frames[0]);
    ck_assert(!frame_reader_has_partial(&r));
    frame_reader_destroy(&r);
    free(stream);
    free_frames(frames, N);
}
END_TEST

static void
put_header(uint8_t header[FRAME_HEADER_LEN], uint32_t len)
{
    header[0] = (uint8_t) (len >> 24);
    header[1] = (uint8_t) (len >> 16);
    header[2] = (uint8_t) (len >> 8);
    header[3] = (uint8_t) len;
}

START_TEST(test_refuses_a_header_announcing_more_than_the_maximum)
{
    static const size_t maxes[] = { 100, FRAME_MAX_REQUEST,
                                    FRAME_MAX_RESPONSE };

    for (size_t i = 0; i < ARRAY_SIZE(maxes); i++) {
        struct frame_reader r;
        uint8_t header[FRAME_HEADER_LEN];
        const uint8_t *msg;
        size_t len;

        frame_reader_init(&r, maxes[i]);
        put_header(header, (uint32_t) maxes[i] + 1);
        ck_assert_int_eq(frame_reader_feed(&r, header, sizeof header), 0);
        ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EMSGSIZE);

        /* More bytes do not make the stream acceptable again. */
        ck_assert_int_eq(frame_reader_feed(&r, "abc", 3), 0);
        ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EMSGSIZE);
        frame_reader_destroy(&r);
    }
}
END_TEST

START_TEST(test_accepts_a_message_of_exactly_the_maximum)
{
    struct frame_reader r;
    uint8_t header[FRAME_HEADER_LEN];
    uint8_t body[100];
    const uint8_t *msg;
    size_t len;

    for (size_t i = 0; i < sizeof body; i++) {
        body[i] = (uint8_t) (i * 3 + 1);
    }
    frame_reader_init(&r, sizeof body);
    put_header(header, sizeof body);
    ck_assert_int_eq(frame_reader_feed(&r, header, sizeof header), 0);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    ck_assert_int_eq(frame_reader_feed(&r, body, sizeof body - 1), 0);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    ck_assert_int_eq(frame_reader_feed(&r, &body[sizeof body - 1], 1), 0);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), 0);
    ck_assert_uint_eq(len, sizeof body);
    ck_assert_mem_eq(msg, body, sizeof body);
    frame_reader_consume(&r);
    ck_assert(!frame_reader_has_partial(&r));
    frame_reader_destroy(&r);

    /* A header announcing the full 1 MiB waits for the bytes, and the
     * reader does not reserve the memory before they come. */
    frame_reader_init(&r, FRAME_MAX_REQUEST);
    put_header(header, FRAME_MAX_REQUEST);
    ck_assert_int_eq(frame_reader_feed(&r, header, sizeof header), 0);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    ck_assert_uint_lt(r.cap, 4096);
    frame_reader_destroy(&r);
}
END_TEST

/* A reader that took a large message gives its memory back, keeping what
 * follows the message. */
START_TEST(test_gives_back_the_memory_of_a_large_message)
{
    size_t big = 4u << 20;
    uint8_t *data = calloc(1, FRAME_HEADER_LEN + big + 3);
    struct frame_reader r;
    const uint8_t *msg;
    size_t len;

    ck_assert_ptr_nonnull(data);
    put_header(data, big);
    memcpy(data + FRAME_HEADER_LEN + big, "\0\0\0", 3);
    frame_reader_init(&r, FRAME_MAX_LARGE_REQUEST);
    ck_assert_int_eq(frame_reader_feed(&r, data, FRAME_HEADER_LEN + big + 3),
                     0);
    ck_assert_uint_ge(r.cap, big);
    ck_assert_int_eq(frame_reader_announced(&r), big);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), 0);
    ck_assert_uint_eq(len, big);
    frame_reader_consume(&r);
    ck_assert_uint_eq(r.cap, FRAME_READER_KEEP);
    ck_assert_uint_eq(r.len, 3);
    ck_assert_int_eq(frame_reader_announced(&r), 0);
    frame_reader_destroy(&r);
    free(data);
}
END_TEST

START_TEST(test_waits_while_the_header_is_partial)
{
    struct frame_reader r;
    uint8_t header[FRAME_HEADER_LEN];
    const uint8_t *msg;
    size_t len;

    /* A header that would be refused once whole: nothing is decided on
     * part of it. */
    put_header(header, 0xffffffff);
    frame_reader_init(&r, 16);
    for (size_t i = 0; i < FRAME_HEADER_LEN - 1; i++) {
        ck_assert_int_eq(frame_reader_feed(&r, &header[i], 1), 0);
        ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
        ck_assert(frame_reader_has_partial(&r));
    }
    ck_assert_int_eq(frame_reader_feed(&r, &header[3], 1), 0);
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EMSGSIZE);
    frame_reader_destroy(&r);
}
END_TEST

START_TEST(test_delivers_a_zero_length_message)
{
    Vswitch__Empty empty = VSWITCH__EMPTY__INIT;
    struct frame_reader r;
    const uint8_t *msg;
    size_t len = 99;
    size_t frame_len = 99;
    uint8_t *frame = frame_pack(&empty.base, 0, &frame_len);

    ck_assert_ptr_nonnull(frame);
    ck_assert_uint_eq(frame_len, FRAME_HEADER_LEN);
    ck_assert_mem_eq(frame, "\0\0\0\0", FRAME_HEADER_LEN);

    frame_reader_init(&r, FRAME_MAX_REQUEST);
    ck_assert_int_eq(frame_reader_feed(&r, frame, frame_len), 0);
    ck_assert_int_eq(frame_reader_feed(&r, frame, frame_len), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert(frame_reader_has_partial(&r));
        ck_assert_int_eq(frame_reader_next(&r, &msg, &len), 0);
        ck_assert_uint_eq(len, 0);
        frame_reader_consume(&r);
    }
    ck_assert(!frame_reader_has_partial(&r));
    ck_assert_int_eq(frame_reader_next(&r, &msg, &len), EAGAIN);
    frame_reader_destroy(&r);
    free(frame);
}
END_TEST

START_TEST(test_pack_refuses_a_message_larger_than_the_maximum)
{
    size_t len = 0;
    uint8_t *frame = pack_set_port("tap0", 10000, FRAME_MAX_REQUEST, &len);

    /* Over 64 KiB, so that every header byte but the first matters. */
    ck_assert_ptr_nonnull(frame);
    ck_assert_uint_gt(len, 70000);

    size_t size = len - FRAME_HEADER_LEN;

    ck_assert_uint_eq(frame[0], 0);
    ck_assert_uint_eq(frame[1], (size >> 16) & 0xff);
    ck_assert_uint_eq(frame[2], (size >> 8) & 0xff);
    ck_assert_uint_eq(frame[3], size & 0xff);

    /* Exactly the maximum is packed; one byte less is refused. */
    size_t exact_len = 0;
    uint8_t *exact = pack_set_port("tap0", 10000, size, &exact_len);

    ck_assert_ptr_nonnull(exact);
    ck_assert_uint_eq(exact_len, len);
    ck_assert_mem_eq(exact, frame, len);

    size_t refused_len = 12345;

    ck_assert_ptr_null(pack_set_port("tap0", 10000, size - 1,
                                     &refused_len));
    ck_assert_uint_eq(refused_len, 12345);
    free(exact);
    free(frame);
}
END_TEST

START_TEST(test_delivers_garbage_that_unpack_refuses)
{
    /* Each is framed correctly but is no Request: an invalid wire type, a
     * length running past the end, a Request cut in its middle, and an
     * empty message, which lacks the required protocol field. */
    static const uint8_t bad_wire_type[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t overlong[] = { 0x0a, 0x7f, 'a', 'b' };
    size_t whole_len;
    uint8_t *whole = pack_set_port("tap0", 3, FRAME_MAX_REQUEST,
                                   &whole_len);
    const struct {
        const uint8_t *data;
        size_t len;
    } garbage[] = {
        { bad_wire_type, sizeof bad_wire_type },
        { overlong, sizeof overlong },
        { whole + FRAME_HEADER_LEN, whole_len - FRAME_HEADER_LEN - 1 },
        { bad_wire_type, 0 },
    };

    ck_assert_ptr_nonnull(whole);
    for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
        struct frame_reader r;
        uint8_t header[FRAME_HEADER_LEN];
        const uint8_t *msg;
        size_t len;

        frame_reader_init(&r, FRAME_MAX_REQUEST);
        put_header(header, (uint32_t) garbage[i].len);
        ck_assert_int_eq(frame_reader_feed(&r, header, sizeof header), 0);
        ck_assert_int_eq(frame_reader_feed(&r, garbage[i].data,
                                           garbage[i].len), 0);
        ck_assert_int_eq(frame_reader_next(&r, &msg, &len), 0);
        ck_assert_uint_eq(len, garbage[i].len);
        ck_assert_mem_eq(msg, garbage[i].data, len);
        ck_assert_msg(!vswitch__request__unpack(NULL, len, msg),
                      "garbage %zu unpacked as a request", i);
        frame_reader_consume(&r);
        ck_assert(!frame_reader_has_partial(&r));
        frame_reader_destroy(&r);
    }
    free(whole);
}
END_TEST

static Suite *
frame_suite(void)
{
    Suite *s = suite_create("frame");

    fixture_add_case(s, "delivers a message fed one byte at a time",
                     test_delivers_a_message_fed_one_byte_at_a_time,
                     NULL, NULL);
    fixture_add_case(s, "delivers messages fed in random pieces",
                     test_delivers_messages_fed_in_random_pieces,
                     NULL, NULL);
    fixture_add_case(s, "delivers several messages from one feed",
                     test_delivers_several_messages_from_one_feed,
                     NULL, NULL);
    fixture_add_case(s, "refuses a header announcing more than the maximum",
                     test_refuses_a_header_announcing_more_than_the_maximum,
                     NULL, NULL);
    fixture_add_case(s, "accepts a message of exactly the maximum",
                     test_accepts_a_message_of_exactly_the_maximum,
                     NULL, NULL);
    fixture_add_case(s, "gives back the memory of a large message",
                     test_gives_back_the_memory_of_a_large_message, NULL,
                     NULL);
    fixture_add_case(s, "waits while the header is partial",
                     test_waits_while_the_header_is_partial, NULL, NULL);
    fixture_add_case(s, "delivers a zero-length message",
                     test_delivers_a_zero_length_message, NULL, NULL);
    fixture_add_case(s, "pack refuses a message larger than the maximum",
                     test_pack_refuses_a_message_larger_than_the_maximum,
                     NULL, NULL);
    fixture_add_case(s, "delivers garbage that unpack refuses",
                     test_delivers_garbage_that_unpack_refuses, NULL, NULL);
    return s;
}

int
main(void)
{
    return fixture_run(frame_suite());
}
