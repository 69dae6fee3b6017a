#ifndef CTL_MONITOR_H
#define CTL_MONITOR_H 1

#include <stdbool.h>
#include <stdio.h>

#include "build.h"
#include "vswitch.pb-c.h"

/* vswitch-ctl monitor [--initial] [fdb] [ports] [vnis] [flows]: the
 * daemon streams every change of the kinds asked for (all without one;
 * see the Monitor message of vswitch.proto), and the tool prints each as
 * one line, flushed at once: a JSON object (the default; its keys are a
 * stable contract, see vswitch-ctl(8)) or, with --format=table, words
 * for people. */

/* The request's builder, for the command table. */
build_func build_monitor;

/* Prints event 'e' as one line on 'stream': JSON if 'json', else words.
 * Returns 0 or the errno value of a failed write. */
int monitor_print_event(FILE *stream, const Vswitch__MonitorEvent *e,
                        bool json);

/* Runs the monitor that 'request' asks of the daemon at 'socket',
 * connecting within 'timeout' seconds (0: no limit), until the daemon
 * ends it or a signal (INT, TERM, HUP, or PIPE on the output) comes.
 * Returns vswitch-ctl's exit status: 0 (the daemon stopping included), 1
 * if the daemon refused or the output failed, 3 if the daemon is
 * unreachable or went away without saying so. */
int monitor_run(const char *socket, unsigned int timeout,
                const Vswitch__Request *request, bool json);

#endif /* ctl/monitor.h */
