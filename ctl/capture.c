#include <config.h>

#include "capture.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "frame.h"
#include "port.h"
#include "request.h"

/* The pcap file header (libpcap's, version 2.4, microseconds), in this
 * host's byte order, which the daemon's records share. */
#define PCAP_MAGIC 0xa1b2c3d4
#define PCAP_SNAPLEN 262144
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_RECORD_LEN 16

/* What the arguments say beyond the request. */
struct capture_args {
    const char *port;
    const char *filter;
    const char *write;          /* -w FILE, "-" for stdout; NULL: lines. */
    unsigned int count, duration;
    int direction;              /* -1 if not given. */
};

/* Takes the value of option 'opt' at 'argv[*i]' into '*value'.  Returns
 * 0, or EINVAL with the reason in 'b'. */
static int
take_value(struct build *b, char *argv[], size_t argc, size_t *i,
           const char **value)
{
    const char *opt = argv[*i];

    if (*value) {
        return build_invalid(b, "'%s' given twice", opt);
    }
    if (*i + 1 >= argc) {
        return build_invalid(b, "'%s' needs a value", opt);
    }
    *value = argv[++*i];
    return 0;
}

static int
parse_direction(struct build *b, const char *s, int *direction)
{
    if (!strcmp(s, "in")) {
        *direction = VSWITCH__CAPTURE_DIRECTION__CAPTURE_IN;
    } else if (!strcmp(s, "out")) {
        *direction = VSWITCH__CAPTURE_DIRECTION__CAPTURE_OUT;
    } else if (!strcmp(s, "both")) {
        *direction = VSWITCH__CAPTURE_DIRECTION__CAPTURE_BOTH;
    } else {
        return build_invalid(b, "--direction: '%s' is not in, out or both",
                             s);
    }
    return 0;
}

static int
parse_args(struct build *b, char *argv[], size_t argc,
           struct capture_args *a)
{
    const char *count = NULL, *duration = NULL, *direction = NULL;
    int error = 0;

    memset(a, 0, sizeof *a);
    a->direction = -1;
    for (size_t i = 0; i < argc && !error; i++) {
        const char *arg = argv[i];

        if (!strcmp(arg, "--filter")) {
            error = take_value(b, argv, argc, &i, &a->filter);
        } else if (!strcmp(arg, "--count")) {
            error = take_value(b, argv, argc, &i, &count);
        } else if (!strcmp(arg, "--duration")) {
            error = take_value(b, argv, argc, &i, &duration);
        } else if (!strcmp(arg, "--direction")) {
            error = take_value(b, argv, argc, &i, &direction);
        } else if (!strcmp(arg, "-w")) {
            error = take_value(b, argv, argc, &i, &a->write);
        } else if (arg[0] == '-') {
            error = build_invalid(b, "unknown option '%s'", arg);
        } else if (a->port) {
            error = build_invalid(b, "give one port ('%s' and '%s')",
                                  a->port, arg);
        } else {
            a->port = arg;
        }
    }
    if (error) {
        return error;
    }
    if (!a->port) {
        return build_invalid(b, "give the port to capture");
    }
    if (count && !port_option_parse_uint(count, 1, UINT_MAX, &a->count)) {
        return build_invalid(b, "--count: '%s' is not a number of frames "
                             "(1-%u)", count, UINT_MAX);
    }
    if (duration
        && !port_option_parse_uint(duration, 1,
                                   REQUEST_CAPTURE_DURATION_MAX,
                                   &a->duration)) {
        return build_invalid(b, "--duration: '%s' is not a number of "
                             "seconds (1-%d)", duration,
                             REQUEST_CAPTURE_DURATION_MAX);
    }
    if (a->write && !*a->write) {
        return build_invalid(b, "-w needs a file name, or '-'");
    }
    return direction ? parse_direction(b, direction, &a->direction) : 0;
}

int
build_capture(struct build *b, char *argv[], size_t argc)
{
    static const Vswitch__Capture init = VSWITCH__CAPTURE__INIT;
    Vswitch__Capture *c = build_alloc(b, &init, sizeof init);
    struct capture_args a;
    int error;

    if (!c) {
        return ENOMEM;
    }
    error = parse_args(b, argv, argc, &a);
    if (error) {
        return error;
    }
    c->port = (char *) a.port;
    c->filter = (char *) a.filter;
    c->has_count = a.count != 0;
    c->count = a.count;
    c->has_duration = a.duration != 0;
    c->duration = a.duration;
    c->has_direction = a.direction >= 0;
    c->direction = a.direction >= 0 ? (Vswitch__CaptureDirection) a.direction
                   : VSWITCH__CAPTURE_DIRECTION__CAPTURE_BOTH;
    b->request.command_case = VSWITCH__REQUEST__COMMAND_CAPTURE;
    b->request.capture = c;
    return 0;
}

/* Where the frames go. */
struct capture_out {
    FILE *file;                 /* NULL: lines on stdout. */
    bool is_stdout;
    uint64_t frames;            /* Written. */
    uint64_t lost;              /* As the daemon last said. */
};

static uint32_t
get_u32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

static const char *
ethertype_name(unsigned int type)
{
    switch (type) {
    case 0x0800:
        return "IPv4";
    case 0x0806:
        return "ARP";
    case 0x86dd:
        return "IPv6";
    case 0x8100:
        return "802.1Q";
    default:
        return "?";
    }
}

/* Prints one line for the frame of record 'rec' ('caplen' bytes of a
 * frame of 'len'), going 'dir'. */
static void
print_line(const uint8_t *rec, uint32_t caplen, uint32_t len, int dir)
{
    const uint8_t *f = rec + PCAP_RECORD_LEN;
    time_t sec = (time_t) get_u32(rec);
    struct tm tm;
    char when[16];

    localtime_r(&sec, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    printf("%s.%06u %-3s %5u", when, get_u32(rec + 4),
           dir == VSWITCH__CAPTURE_DIRECTION__CAPTURE_IN ? "in" : "out",
           len);
    if (caplen >= 14) {
        unsigned int type = (unsigned int) f[12] << 8 | f[13];

        printf(" %02x:%02x:%02x:%02x:%02x:%02x > "
               "%02x:%02x:%02x:%02x:%02x:%02x, ethertype %s (0x%04x)",
               f[6], f[7], f[8], f[9], f[10], f[11],
               f[0], f[1], f[2], f[3], f[4], f[5], ethertype_name(type),
               type);
    }
    putchar('\n');
}

/* Writes the records of 'chunk'.  Returns 0, EPROTO for records that do
 * not hold together, or the output's errno value. */
static int
write_chunk(struct capture_out *out, const Vswitch__CaptureChunk *chunk)
{
    const uint8_t *p = chunk->records.data;
    size_t left = chunk->records.len;
    size_t n = 0;

    out->lost = chunk->lost;
    while (left) {
        uint32_t caplen, len;

        if (left < PCAP_RECORD_LEN
            || (caplen = get_u32(p + 8)) > left - PCAP_RECORD_LEN
            || caplen > PCAP_SNAPLEN || n >= chunk->directions.len) {
            return EPROTO;
        }
        len = get_u32(p + 12);
        if (!out->file) {
            print_line(p, caplen, len, chunk->directions.data[n]);
        }
        p += PCAP_RECORD_LEN + caplen;
        left -= PCAP_RECORD_LEN + caplen;
        n++;
    }
    if (out->file && chunk->records.len
        && fwrite(chunk->records.data, chunk->records.len, 1, out->file)
           != 1) {
        return errno ? errno : EIO;
    }
    out->frames += n;
    return fflush(out->file ? out->file : stdout) ? errno : 0;
}

static void
put(uint8_t **p, const void *v, size_t n)
{
    memcpy(*p, v, n);
    *p += n;
}

static int
open_output(const char *write, struct capture_out *out)
{
    const uint32_t magic = PCAP_MAGIC, zero = 0, snaplen = PCAP_SNAPLEN;
    const uint32_t linktype = PCAP_LINKTYPE_ETHERNET;
    const uint16_t major = 2, minor = 4;
    uint8_t header[24], *p = header;

    memset(out, 0, sizeof *out);
    if (!write) {
        return 0;
    }
    out->is_stdout = !strcmp(write, "-");
    out->file = out->is_stdout ? stdout : fopen(write, "wb");
    if (!out->file) {
        return errno;
    }
    put(&p, &magic, 4);
    put(&p, &major, 2);
    put(&p, &minor, 2);
    put(&p, &zero, 4);          /* Time zone: UTC. */
    put(&p, &zero, 4);          /* Accuracy of the times. */
    put(&p, &snaplen, 4);
    put(&p, &linktype, 4);
    if (fwrite(header, sizeof header, 1, out->file) != 1
        || fflush(out->file)) {
        return errno ? errno : EIO;
    }
    return 0;
}

static int
close_output(struct capture_out *out)
{
    if (out->file && !out->is_stdout && fclose(out->file)) {
        return errno;
    }
    return 0;
}

struct capture_run {
    const char *socket;
    const char *write;          /* -w's file, "-", or NULL. */
    struct capture_out out;
    bool started;
};

/* Judges response 'r' of capture 'run_'; the first that says the capture
 * runs opens the output (so that a capture refused leaves the file of -w
 * as it was).  Returns true to go on reading; else sets '*status'. */
static bool
take_response(const Vswitch__Response *r, void *run_, int *status)
{
    struct capture_run *run = run_;
    const char *socket = run->socket;     /* For messages. */
    struct capture_out *out = &run->out;
    bool *started = &run->started;
    const Vswitch__CaptureChunk *chunk = r->capture;
    int error;

    if (!*started) {
        error = open_output(run->write, out);
        if (error) {
            fprintf(stderr, "vswitch-ctl: capture: %s: %s\n", run->write,
                    strerror(error));
            *status = 1;
            return false;
        }
        *started = true;
        fprintf(stderr, "capturing, link-type EN10MB (Ethernet), snapshot "
                "length %d bytes\n", PCAP_SNAPLEN);
    }
    error = write_chunk(out, chunk);
    if (error == EPROTO) {
        fprintf(stderr, "vswitch-ctl: vswitchd at %s sent records that do "
                "not hold together\n", socket);
        *status = 3;
        return false;
    } else if (error) {
        bool ended = client_stream_output_ended(error);

        if (!ended) {
            fprintf(stderr, "vswitch-ctl: capture: cannot write: %s\n",
                    strerror(error));
        }
        *status = ended ? 0 : 1;
        return false;
    }
    if (chunk->end) {
        fprintf(stderr, "capture ended: %s\n", chunk->end);
        *status = 0;
        return false;
    }
    return true;
}

int
capture_run(const char *socket, unsigned int timeout,
            const Vswitch__Request *request, char *argv[], size_t argc)
{
    struct capture_run run = { .socket = socket };
    struct capture_args a;
    struct build b;
    int status, code;

    build_init(&b);
    parse_args(&b, argv, argc, &a);     /* Parsed once already. */
    build_destroy(&b);
    run.write = a.write;
    status = client_stream(socket, request, timeout, "capture",
                           VSWITCH__RESPONSE__PAYLOAD_CAPTURE, take_response,
                           &run);
    code = close_output(&run.out);
    if (code && !status) {
        fprintf(stderr, "vswitch-ctl: capture: %s: %s\n", a.write,
                strerror(code));
        status = 1;
    }
    if (run.started) {
        fprintf(stderr, "%llu frames captured, %llu lost (reader too "
                "slow)\n", (unsigned long long) run.out.frames,
                (unsigned long long) run.out.lost);
    }
    return status;
}
