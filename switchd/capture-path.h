#ifndef SWITCHD_CAPTURE_PATH_H
#define SWITCHD_CAPTURE_PATH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vswitch.pb-c.h"

struct port_files;

/* Which files the daemon opens for the capture files that ports name (a
 * pcap port's rx= and tx=), on behalf of clients that are not root: see
 * SECURITY in vswitchd(8).
 *
 * - A name relative to the capture directory (--pcap-dir) is resolved
 *   under it one component at a time: no "..", no symbolic link anywhere
 *   in it.  Anyone allowed to change the configuration may name one that
 *   they could open themselves: each directory below the capture
 *   directory searchable by them, an existing rx file readable, an
 *   existing tx file writable, a new tx file only in the capture
 *   directory itself or in a directory below it that they may write.
 * - An absolute name is root's alone (or the daemon's own user's): it
 *   points anywhere, as root's shell would.
 * - Never one of the daemon's own files (configuration, its temporary
 *   file, socket, lock, pid file, log), by name or by identity.
 * - Never anything but a regular file, never through a symbolic link in
 *   its last component; rx and tx never the same file; an existing tx
 *   file is emptied only if it is a capture (datapath/port-pcap.c).
 *
 * The rules hold when the daemon opens the files too, as root, when it
 * replays its saved configuration: a relative name stays under the
 * directory whatever it became in the meantime. */

struct capture_path;

/* Who names the files: a client's credentials.  Root and the daemon's own
 * user may name any file; anyone else only files under the capture
 * directory that the kernel would let them open themselves, judged by
 * the mode bits (ACLs are not read, which errs towards refusing). */
struct capture_client {
    uid_t uid;
    gid_t gid;
    const gid_t *groups;        /* Supplementary groups. */
    size_t n_groups;
};

/* Whether 'c' is root or the daemon's own user. */
bool capture_client_trusted(const struct capture_client *c);

/* Whether 'gid' is the client's group or one of its supplementary
 * groups. */
bool capture_client_in_group(const struct capture_client *, gid_t gid);

/* Makes the capture directory 'dir' (mode 0750; with 'gid' other than -1,
 * group 'gid' and set-group-ID, so that the group reads the captures)
 * unless it exists, and returns the rules in '*cpp'.  'own' lists the
 * daemon's own files ('n_own' of them; relative names are taken from the
 * current directory).  Returns 0 or an errno value with a reason in
 * 'error'. */
int capture_path_create(const char *dir, gid_t gid,
                        const char *const *own, size_t n_own,
                        struct capture_path **cpp, char *error,
                        size_t error_size);

/* Accepts NULL. */
void capture_path_destroy(struct capture_path *);

/* The rules for the daemon's own opening of the files, as root: what the
 * bridge hands to ports.  Lives as long as 'cp'. */
const struct port_files *capture_path_files(const struct capture_path *cp);

/* Checks, as the rules allow 'client', the files named by every port of
 * 'new' whose options differ from those it has in 'old' (or that 'old'
 * lacks).  Creates and changes nothing.  Returns
 * VSWITCH__STATUS__STATUS_OK, or an error status with one line in
 * 'error'. */
Vswitch__Status capture_path_check_config(const struct capture_path *,
                                          const struct capture_client *,
                                          const Vswitch__Config *old,
                                          const Vswitch__Config *new,
                                          char *error, size_t error_size);

/* Checks, as capture_path_check_config() does, the files of port 'pc'. */
Vswitch__Status capture_path_check_port(const struct capture_path *,
                                        const struct capture_client *,
                                        const Vswitch__PortConfig *pc,
                                        char *error, size_t error_size);

#endif /* switchd/capture-path.h */
