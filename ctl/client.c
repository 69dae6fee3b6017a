#include <config.h>

#include "client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"

/* How long to wait before trying again when the daemon's listen queue is
 * full, which a non-blocking connect() to a Unix socket reports as EAGAIN
 * and which poll() cannot wait out. */
#define RETRY_MS 10

#define READ_SIZE 65536

struct conversation {
    const char *path;
    int fd;
    int64_t deadline;           /* CLOCK_MONOTONIC in ms, or -1: none. */
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
now_ms_exact(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Returns the time left for poll(): -1 without a deadline, else 0 or
 * more. */
static int
remaining(const struct conversation *c)
{
    if (c->deadline < 0) {
        return -1;
    }

    int64_t left = c->deadline - now_ms();

    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int) left;
}

/* Waits until the socket is ready for 'events'.  Returns 0, ETIMEDOUT
 * once the deadline has passed, or what poll() reported.  A socket in
 * error counts as ready: the next call on it says what went wrong. */
static int
wait_for(const struct conversation *c, short events)
{
    for (;;) {
        struct pollfd pfd = { .fd = c->fd, .events = events };
        int n = poll(&pfd, 1, remaining(c));

        if (n > 0) {
            return 0;
        } else if (n == 0) {
            return ETIMEDOUT;
        } else if (errno != EINTR) {
            return errno;
        }
    }
}

/* Sleeps for RETRY_MS or until the deadline.  Returns 0 or ETIMEDOUT. */
static int
pause_before_retry(const struct conversation *c)
{
    int left = remaining(c);

    if (left == 0) {
        return ETIMEDOUT;
    }
    poll(NULL, 0, left < 0 || left > RETRY_MS ? RETRY_MS : left);
    return 0;
}

static int
connect_socket(struct conversation *c)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(c->path) >= sizeof sun.sun_path) {
        return ENAMETOOLONG;
    }
    strcpy(sun.sun_path, c->path);

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        return errno;
    }
    for (;;) {
        if (!connect(c->fd, (struct sockaddr *) &sun, sizeof sun)) {
            return 0;
        }
        if (errno == EAGAIN) {
            int error = pause_before_retry(c);

            if (error) {
                return error;
            }
        } else if (errno == EINPROGRESS || errno == EINTR) {
            /* The connection goes on without us; wait for its end. */
            int error = wait_for(c, POLLOUT);
            socklen_t len = sizeof error;

            if (!error
                && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len)) {
                error = errno;
            }
            return error;
        } else {
            return errno;
        }
    }
}

/* Sends all 'n' bytes at 'data'.  Returns 0 or an errno value. */
static int
send_all(const struct conversation *c, const uint8_t *data, size_t n)
{
    while (n > 0) {
        /* MSG_NOSIGNAL: a daemon that goes away must produce a message
         * and exit code 3, not a silent death by SIGPIPE. */
        ssize_t sent = send(c->fd, data, n, MSG_NOSIGNAL);

        if (sent > 0) {
            data += sent;
            n -= (size_t) sent;
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int error = wait_for(c, POLLOUT);

            if (error) {
                return error;
            }
        } else if (sent < 0 && errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

static int
send_request(const struct conversation *c, const Vswitch__Request *request)
{
    size_t len;
    uint8_t *frame = frame_pack(&request->base, FRAME_MAX_LARGE_REQUEST,
                                &len);

    if (!frame) {
        return ENOMEM;
    }

    int error = send_all(c, frame, len);

    free(frame);
    return error;
}

/* Reads until 'reader' holds one whole frame.  Returns 0, EPIPE if the
 * daemon closed the connection first, EMSGSIZE, ETIMEDOUT, or another
 * errno value. */
static int
receive_frame(const struct conversation *c, struct frame_reader *reader,
              const uint8_t **msg, size_t *len)
{
    uint8_t *buf = malloc(READ_SIZE);
    int error;

    if (!buf) {
        return ENOMEM;
    }
    while ((error = frame_reader_next(reader, msg, len)) == EAGAIN) {
        ssize_t n = recv(c->fd, buf, READ_SIZE, 0);

        if (n > 0) {
            error = frame_reader_feed(reader, buf, (size_t) n);
        } else if (n == 0) {
            error = EPIPE;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            error = wait_for(c, POLLIN);
        } else if (errno != EINTR) {
            error = errno;
        }
        if (error) {
            break;
        }
    }
    free(buf);
    return error;
}

static int
receive_response(const struct conversation *c, Vswitch__Response **response)
{
    struct frame_reader reader;
    const uint8_t *msg;
    size_t len;
    int error;

    frame_reader_init(&reader, FRAME_MAX_RESPONSE);
    error = receive_frame(c, &reader, &msg, &len);
    if (!error) {
        /* Unpacking checks lengths and required fields, so whatever the
         * peer sent, we get a whole message or NULL. */
        *response = vswitch__response__unpack(NULL, len, msg);
        error = *response ? 0 : EPROTO;
    }
    frame_reader_destroy(&reader);
    return error;
}

static void
describe(char *error, const struct conversation *c, unsigned int timeout,
         bool connected, int code)
{
    if (code == ETIMEDOUT) {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "no answer from vswitchd at %s within %u s", c->path,
                 timeout);
    } else if (!connected) {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "cannot connect to vswitchd at %s: %s", c->path,
                 strerror(code));
    } else if (code == EPIPE) {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "vswitchd at %s closed the connection without answering",
                 c->path);
    } else if (code == EMSGSIZE) {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "vswitchd at %s sent a response larger than %u MiB",
                 c->path, FRAME_MAX_RESPONSE >> 20);
    } else if (code == EPROTO) {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "vswitchd at %s sent a response that does not parse",
                 c->path);
    } else {
        snprintf(error, CLIENT_ERROR_SIZE,
                 "conversation with vswitchd at %s failed: %s", c->path,
                 strerror(code));
    }
}

int
client_transact(const char *path, const Vswitch__Request *request,
                unsigned int timeout, Vswitch__Response **response,
                double *rtt_ms, char error[CLIENT_ERROR_SIZE])
{
    struct conversation c = {
        .path = path,
        .fd = -1,
        .deadline = timeout ? now_ms() + (int64_t) timeout * 1000 : -1,
    };
    bool connected = false;
    double start = 0;
    int code;

    *response = NULL;
    code = connect_socket(&c);
    if (!code) {
        connected = true;
        start = now_ms_exact();
        code = send_request(&c, request);
    }
    if (!code || (connected && (code == EPIPE || code == ECONNRESET))) {
        /* A daemon that refuses a request too large answers before it
         * closes: its answer says more than the broken pipe. */
        int sent = code;

        code = receive_response(&c, response);
        if (code && sent) {
            code = sent;
        }
    }
    if (c.fd >= 0) {
        close(c.fd);
    }
    if (code) {
        describe(error, &c, timeout, connected, code);
    } else {
        *rtt_ms = now_ms_exact() - start;
    }
    return code;
}

int
client_start(const char *path, const Vswitch__Request *request,
             unsigned int timeout, int *fd, char error[CLIENT_ERROR_SIZE])
{
    struct conversation c = {
        .path = path,
        .fd = -1,
        .deadline = timeout ? now_ms() + (int64_t) timeout * 1000 : -1,
    };
    bool connected = false;
    int code = connect_socket(&c);

    if (!code) {
        connected = true;
        code = send_request(&c, request);
    }
    if (code) {
        if (c.fd >= 0) {
            close(c.fd);
        }
        describe(error, &c, timeout, connected, code);
        return code;
    }
    *fd = c.fd;
    return 0;
}

/* Reads what 'fd' has into 'reader', waiting at most 'timeout_ms' for it.
 * Returns 0, EINTR, ETIMEDOUT, EPIPE or another errno value. */
static int
read_more(int fd, struct frame_reader *reader, int timeout_ms)
{
    uint8_t buf[READ_SIZE];
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n = poll(&pfd, 1, timeout_ms);
    ssize_t got;

    if (n < 0) {
        return errno;
    } else if (!n) {
        return ETIMEDOUT;
    }
    got = recv(fd, buf, sizeof buf, 0);
    if (got > 0) {
        return frame_reader_feed(reader, buf, (size_t) got);
    } else if (!got) {
        return EPIPE;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : errno;
}

int
client_next(const char *path, int fd, struct frame_reader *reader,
            int timeout_ms, Vswitch__Response **response,
            char error[CLIENT_ERROR_SIZE])
{
    struct conversation c = { .path = path, .fd = fd, .deadline = -1 };
    const uint8_t *msg;
    size_t len;
    int code;

    *response = NULL;
    while ((code = frame_reader_next(reader, &msg, &len)) == EAGAIN) {
        code = read_more(fd, reader, timeout_ms);
        if (code == EINTR) {
            return code;
        } else if (code) {
            break;
        }
    }
    if (!code) {
        *response = vswitch__response__unpack(NULL, len, msg);
        frame_reader_consume(reader);
        code = *response ? 0 : EPROTO;
    }
    if (code) {
        describe(error, &c, (unsigned int) (timeout_ms / 1000), true, code);
    }
    return code;
}

static volatile sig_atomic_t stopped;

static void
on_signal(int sig)
{
    (void) sig;
    stopped = 1;
}

bool
client_stream_output_ended(int error)
{
    return error == EPIPE || (error == EINTR && stopped);
}

/* Signals end a stream, through EINTR: no SA_RESTART. */
static void
catch_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals / sizeof *signals; i++) {
        sigaction(signals[i], &sa, NULL);
    }
    /* A reader that goes away shows as EPIPE on the output. */
    signal(SIGPIPE, SIG_IGN);
}

/* Says whether 'r' is a response of 'name''s stream; if not, says why
 * and sets '*status'. */
static bool
stream_response_ok(const char *path, const char *name,
                   Vswitch__Response__PayloadCase payload,
                   const Vswitch__Response *r, int *status)
{
    if (r->status != VSWITCH__STATUS__STATUS_OK) {
        fprintf(stderr, "vswitch-ctl: %s: %s\n", name,
                r->error && *r->error ? r->error : "refused");
        *status = r->status == VSWITCH__STATUS__STATUS_VERSION ? 3 : 1;
        return false;
    }
    if (r->payload_case != payload) {
        fprintf(stderr, "vswitch-ctl: vswitchd at %s answered %s with the "
                "wrong kind of response\n", path, name);
        *status = 3;
        return false;
    }
    return true;
}

int
client_stream(const char *path, const Vswitch__Request *request,
              unsigned int timeout, const char *name,
              Vswitch__Response__PayloadCase payload,
              client_take_cb *take, void *aux)
{
    char error[CLIENT_ERROR_SIZE];
    struct frame_reader reader;
    bool started = false;
    int status = 0;
    int fd, code;

    catch_signals();
    code = client_start(path, request, timeout, &fd, error);
    if (code) {
        fprintf(stderr, "vswitch-ctl: %s\n", error);
        return 3;
    }
    frame_reader_init(&reader, FRAME_MAX_RESPONSE);
    while (!stopped) {
        Vswitch__Response *r;
        bool more;

        code = client_next(path, fd, &reader,
                           started || !timeout ? -1 : (int) timeout * 1000,
                           &r, error);
        if (code == EINTR) {
            continue;
        } else if (code) {
            fprintf(stderr, "vswitch-ctl: %s\n", error);
            status = 3;
            break;
        }
        started = true;
        more = (stream_response_ok(path, name, payload, r, &status)
                && take(r, aux, &status));
        vswitch__response__free_unpacked(r, NULL);
        if (!more) {
            break;
        }
    }
    frame_reader_destroy(&reader);
    close(fd);
    return status;
}
