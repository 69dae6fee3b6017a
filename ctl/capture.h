#ifndef CTL_CAPTURE_H
#define CTL_CAPTURE_H 1

#include <stddef.h>

#include "build.h"
#include "vswitch.pb-c.h"

/* vswitch-ctl capture PORT [--filter EXPR] [--count N] [--duration SECS]
 * [--direction in|out|both] [-w FILE]: the daemon streams the frames of
 * a port (see the Capture message of vswitch.proto), and the tool writes
 * them as a pcap file (link type EN10MB, snapshot length 262144) to FILE,
 * or to standard output with "-w -", flushed after every chunk so that
 * "| tcpdump -r -" shows them as they come; without -w, one line per
 * frame. */

/* The request's builder, for the command table. */
build_func build_capture;

/* Runs the capture that 'request' (built by build_capture() from the
 * 'argc' arguments 'argv', which it reads again for -w) asks of the daemon
 * at 'socket', connecting within 'timeout' seconds (0: no limit), until
 * the daemon ends it or a signal (INT, TERM, HUP, or PIPE on the output)
 * comes.  Then prints "N frames captured, M lost (reader too slow)" to
 * stderr.  Returns vswitch-ctl's exit status: 0, 1 if the daemon refused
 * or the output failed, 3 if the daemon is unreachable or went away. */
int capture_run(const char *socket, unsigned int timeout,
                const Vswitch__Request *request, char *argv[],
                size_t argc);

#endif /* ctl/capture.h */
