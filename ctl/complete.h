#ifndef CTL_COMPLETE_H
#define CTL_COMPLETE_H 1

#include <stdint.h>
#include <stdio.h>

/* Completion of a vswitch-ctl command line, for the shell: the bash
 * script (ctl/vswitch-ctl.bash) hands the line to "vswitch-ctl
 * __complete", which answers from the command table, the usage texts
 * (ctl/usage.h), the port types of the datapath's registry and, for
 * ports and VNIs, the daemon. */

/* Where the names that only the daemon knows come from.  Each callback
 * calls 'found' once for each port or VNI of the daemon listening at
 * 'socket', or never if that daemon does not answer in time; it prints
 * nothing. */
struct complete_source {
    void (*ports)(const char *socket,
                  void (*found)(void *aux, const char *name,
                                const char *type),
                  void *aux);
    void (*vnis)(const char *socket,
                 void (*found)(void *aux, uint32_t vni), void *aux);
};

struct complete_context {
    /* The usage text of the options that go before the command, such as
     * "--socket PATH --format table|json -h, --help". */
    const char *options;
    const char *socket_option;  /* The option that names the socket. */
    const char *socket;         /* The socket when the line names none. */
    const struct complete_source *source;
};

/* The daemon's ports and VNIs through the control socket, each request
 * given a second at most. */
extern const struct complete_source complete_daemon;

/* Completes the last word of 'line', the text of a vswitch-ctl command
 * line up to the cursor (bash's COMP_LINE up to COMP_POINT: the program's
 * name, then its words, quoted as they were typed).  'breaks' are the
 * characters that, unquoted, start a new word for readline (bash's
 * COMP_WORDBREAKS), which replaces only the part of the word after the
 * last of them.
 *
 * Writes to 'stream':
 *   - a line of flags: "files" if file names complete the word too,
 *     "nospace" if a candidate wants no space after it (it ends in '=');
 *   - a line with the part of the word that readline replaces, unquoted,
 *     for completing file names;
 *   - the candidates, one a line, with the same part cut off the front.
 * Nothing is written to standard error, whatever the line holds. */
void complete_line(const struct complete_context *, const char *line,
                   const char *breaks, FILE *stream);

#endif /* ctl/complete.h */
