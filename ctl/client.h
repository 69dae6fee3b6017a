#ifndef CTL_CLIENT_H
#define CTL_CLIENT_H 1

#include <stdbool.h>
#include <stddef.h>

#include "vswitch.pb-c.h"

/* One conversation with vswitchd: connect to its Unix socket, send one
 * framed request, and receive one framed response, the whole within a
 * time limit. */

#define CLIENT_ERROR_SIZE 512

/* Sends 'request' to the daemon listening at 'path' and waits for its
 * response, giving up after 'timeout' seconds in all (0: never).
 *
 * On success returns 0 and stores in '*response' the unpacked response,
 * which the caller frees with vswitch__response__free_unpacked(), and in
 * '*rtt_ms' the time from sending the request to having the whole
 * response.  Otherwise returns a positive errno value (ETIMEDOUT, EPIPE
 * for a connection closed early, EMSGSIZE, EPROTO for a response that
 * does not parse, or what connect() or the socket reported) and writes a
 * one-line message naming 'path' into 'error'. */
int client_transact(const char *path, const Vswitch__Request *request,
                    unsigned int timeout, Vswitch__Response **response,
                    double *rtt_ms, char error[CLIENT_ERROR_SIZE]);

/* A command answered by a stream of responses (capture).
 *
 * client_start() connects to the daemon at 'path' and sends 'request',
 * within 'timeout' seconds (0: no limit).  Returns 0 and the socket in
 * '*fd' (the caller closes it), or an errno value with a message in
 * 'error'.
 *
 * client_next() waits, at most 'timeout_ms' (-1: no limit), for the next
 * response on 'fd', read through 'reader' (initialised for
 * FRAME_MAX_RESPONSE and kept from call to call), and stores it in
 * '*response' for the caller to free.  Returns 0; EINTR, without a
 * message, if a signal came meanwhile; or another errno value (EPIPE for
 * a connection closed, ETIMEDOUT) with a message naming 'path' in
 * 'error'. */
struct frame_reader;
int client_start(const char *path, const Vswitch__Request *request,
                 unsigned int timeout, int *fd,
                 char error[CLIENT_ERROR_SIZE]);
int client_next(const char *path, int fd, struct frame_reader *reader,
                int timeout_ms, Vswitch__Response **response,
                char error[CLIENT_ERROR_SIZE]);

/* Runs a whole stream of command 'name': client_start(), then each
 * response to 'take' (which must not free it) until 'take' returns false,
 * having set '*status', or INT, TERM or HUP comes (status 0).  A refusal,
 * or a response without 'payload', ends it with a message first.
 * 'timeout' bounds the wait for the first response only.  A reader of
 * the output that goes away shows as EPIPE, SIGPIPE being ignored.
 * Returns vswitch-ctl's exit status: '*status', or 3 if the daemon is
 * unreachable or went away. */
typedef bool client_take_cb(const Vswitch__Response *, void *aux,
                            int *status);
int client_stream(const char *path, const Vswitch__Request *request,
                  unsigned int timeout, const char *name,
                  Vswitch__Response__PayloadCase payload,
                  client_take_cb *take, void *aux);

/* Says whether 'error', from writing a stream's output, ends the stream
 * as a user would: the reader went away (EPIPE), or the signal that ends
 * the stream came while the output blocked (EINTR).  Anything else is an
 * error to report. */
bool client_stream_output_ended(int error);

#endif /* ctl/client.h */
