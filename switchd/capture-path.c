#include <config.h>

#include "capture-path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-edit.h"
#include "config-index.h"
#include "port.h"
#include "util.h"
#include "xmalloc.h"

/* The rules as one client may use them. */
struct capture_opener {
    struct port_files up;
    const struct capture_path *cp;
    bool trusted;               /* May name absolute paths. */
    const struct capture_client *client;    /* NULL if 'trusted'. */
};

struct capture_path {
    struct capture_opener daemon;       /* Trusted: the daemon's own. */
    char *dir;                  /* Absolute, without links. */
    struct stat st;             /* The directory's. */
    char **own;                 /* Absolute. */
    size_t n_own;
};

static int
refuse(char *error, size_t error_size, const char *what, const char *path,
       const char *reason)
{
    snprintf(error, error_size, "%s: %s: %s", what, path, reason);
    return EACCES;
}

/* Returns 'path' made absolute against the current directory, or NULL if
 * the current directory cannot be read. */
static char *
absolute(const char *path)
{
    char cwd[PATH_MAX], *abs;

    if (path[0] == '/') {
        return xstrdup(path);
    }
    if (!getcwd(cwd, sizeof cwd)) {
        return NULL;
    }
    abs = xmalloc(strlen(cwd) + strlen(path) + 2);
    sprintf(abs, "%s/%s", cwd, path);
    return abs;
}

static int capture_open(const struct port_files *, const char *what,
                        const char *path, int flags, bool probe, int *fd,
                        char *error, size_t error_size);

static int
fail_dir(const char *dir, int err, char *error, size_t error_size)
{
    snprintf(error, error_size, "%s: %s", dir, strerror(err));
    return err;
}

int
capture_path_create(const char *dir, gid_t gid, const char *const *own,
                    size_t n_own, struct capture_path **cpp, char *error,
                    size_t error_size)
{
    struct capture_path *cp;
    char real[PATH_MAX];
    struct stat st;

    *cpp = NULL;
    if (!mkdir(dir, 0750) && gid != (gid_t) -1
        && (chown(dir, (uid_t) -1, gid) || chmod(dir, 02750))) {
        return fail_dir(dir, errno, error, error_size);
    }
    if (!realpath(dir, real) || stat(real, &st)) {
        return fail_dir(dir, errno, error, error_size);
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail_dir(dir, ENOTDIR, error, error_size);
    }
    /* Whoever may write the directory may put anything under the names
     * clients give: only the daemon's user, and the group that may change
     * the configuration anyway. */
    if (st.st_uid != geteuid()) {
        snprintf(error, error_size, "%s: owned by uid %u, not by the "
                 "daemon's user (uid %u): refused", dir,
                 (unsigned) st.st_uid, (unsigned) geteuid());
        return EPERM;
    }
    if (st.st_mode & S_IWOTH
        || (st.st_mode & S_IWGRP && (gid == (gid_t) -1 || st.st_gid != gid))) {
        snprintf(error, error_size, "%s: writable by %s: refused", dir,
                 st.st_mode & S_IWOTH ? "others"
                 : "a group other than --socket-group");
        return EPERM;
    }
    cp = xcalloc(1, sizeof *cp);
    cp->daemon = (struct capture_opener) {
        .up.open = capture_open, .cp = cp, .trusted = true,
    };
    cp->dir = xstrdup(real);
    cp->st = st;
    cp->own = xcalloc(n_own, sizeof *cp->own);
    for (; cp->n_own < n_own; cp->n_own++) {
        cp->own[cp->n_own] = absolute(own[cp->n_own]);
        if (!cp->own[cp->n_own]) {
            int err = fail_dir(own[cp->n_own], errno ? errno : ENAMETOOLONG,
                               error, error_size);

            capture_path_destroy(cp);
            return err;
        }
    }
    *cpp = cp;
    return 0;
}

void
capture_path_destroy(struct capture_path *cp)
{
    if (cp) {
        for (size_t i = 0; i < cp->n_own; i++) {
            free(cp->own[i]);
        }
        free(cp->own);
        free(cp->dir);
        free(cp);
    }
}

const struct port_files *
capture_path_files(const struct capture_path *cp)
{
    return &cp->daemon.up;
}

bool
capture_client_trusted(const struct capture_client *c)
{
    return c->uid == 0 || c->uid == geteuid();
}

bool
capture_client_in_group(const struct capture_client *c, gid_t gid)
{
    bool found = c->gid == gid;

    for (size_t i = 0; !found && i < c->n_groups; i++) {
        found = c->groups[i] == gid;
    }
    return found;
}

/* Whether the kernel would let client 'c' do 'want' (R_OK, W_OK, X_OK,
 * which are the mode's rwx bits) to the file of status 'st', as the mode
 * bits say. */
static bool
client_may(const struct capture_client *c, const struct stat *st, int want)
{
    mode_t bits = c->uid == st->st_uid ? st->st_mode >> 6
                  : capture_client_in_group(c, st->st_gid) ? st->st_mode >> 3
                  : st->st_mode;

    return (bits & (mode_t) want) == (mode_t) want;
}

static bool
is_capture_dir(const struct capture_path *cp, const struct stat *st)
{
    return st->st_dev == cp->st.st_dev && st->st_ino == cp->st.st_ino;
}

/* Opens, in '*dirfd', the directory that holds the file 'path' names, and
 * copies the file's own name (its last component) into 'name'.  A relative
 * name is walked down from the capture directory without following any
 * link and without "..", so that it cannot leave it. */
static int
open_parent(const struct capture_opener *o, const char *what,
            const char *path, int *dirfd, char *name, size_t name_size,
            char *error, size_t error_size)
{
    char copy[PATH_MAX], *slash, *comp, *save = NULL;
    int fd, next;

    if (snprintf(copy, sizeof copy, "%s", path) >= (int) sizeof copy) {
        snprintf(error, error_size, "%s: name too long", what);
        return ENAMETOOLONG;
    }
    slash = strrchr(copy, '/');
    comp = slash ? slash + 1 : copy;
    if (!*comp || !strcmp(comp, ".") || !strcmp(comp, "..")) {
        refuse(error, error_size, what, path,
               "names a directory, not a file");
        return EISDIR;
    }
    if (strlen(comp) >= name_size) {
        snprintf(error, error_size, "%s: name too long", what);
        return ENAMETOOLONG;
    }
    memcpy(name, comp, strlen(comp) + 1);
    if (slash) {
        *slash = '\0';
    }

    if (path[0] == '/') {
        size_t n = strlen(o->cp->dir);

        if (!o->trusted) {
            return refuse(error, error_size, what, path,
                          !strncmp(path, o->cp->dir, n) && path[n] == '/'
                          ? "name it relative to the capture directory"
                          : "only root names files outside the capture "
                            "directory: give a name relative to it");
        }
        fd = open(*copy ? copy : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(error, error_size, "%s: %s: %s", what, path,
                     strerror(errno));
            return errno;
        }
        *dirfd = fd;
        return 0;
    }

    fd = open(o->cp->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "%s: capture directory %s: %s", what,
                 o->cp->dir, strerror(errno));
        return errno;
    }
    for (comp = slash ? strtok_r(copy, "/", &save) : NULL; comp;
         comp = strtok_r(NULL, "/", &save)) {
        if (!strcmp(comp, "..")) {
            close(fd);
            return refuse(error, error_size, what, path,
                          "\"..\" may not leave the capture directory");
        }
        next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW
                                | O_CLOEXEC);
        if (next < 0) {
            int err = errno;

            close(fd);
            if (err == ENOTDIR || err == ELOOP) {
                char reason[NAME_MAX + 64];

                snprintf(reason, sizeof reason, "%s is not a directory "
                         "(symbolic links are not followed)", comp);
                return refuse(error, error_size, what, path, reason);
            }
            snprintf(error, error_size, "%s: %s: %s", what, path,
                     strerror(err));
            return err;
        }
        close(fd);
        fd = next;
        if (!o->trusted) {
            struct stat st;

            /* The capture directory itself is the daemon's grant. */
            if (fstat(fd, &st) || (!is_capture_dir(o->cp, &st)
                                   && !client_may(o->client, &st, X_OK))) {
                char reason[NAME_MAX + 64];

                close(fd);
                snprintf(reason, sizeof reason, "you may not enter "
                         "directory %s", comp);
                return refuse(error, error_size, what, path, reason);
            }
        }
    }
    *dirfd = fd;
    return 0;
}

/* Returns true if file 'name' of directory 'dirfd' (whose status is
 * 'dir'), with status 'st' (st_ino 0 if it does not exist), is one of the
 * daemon's own files: by its place, which catches a file yet to be made
 * (the configuration's temporary file), or by its identity, which
 * catches another name of it. */
static bool
is_own_file(const struct capture_path *cp, const struct stat *dir,
            const char *name, const struct stat *st)
{
    for (size_t i = 0; i < cp->n_own; i++) {
        const char *own = cp->own[i];
        const char *base = strrchr(own, '/') + 1;
        char parent[PATH_MAX];
        struct stat s;

        snprintf(parent, sizeof parent, "%.*s", (int) (base - own), own);
        if (!strcmp(base, name) && !stat(parent, &s)
            && s.st_dev == dir->st_dev && s.st_ino == dir->st_ino) {
            return true;
        }
        if (st->st_ino && !stat(own, &s) && s.st_dev == st->st_dev
            && s.st_ino == st->st_ino) {
            return true;
        }
    }
    return false;
}

/* Whether client 'c' may do to file 'st' (st_ino 0: missing) in
 * directory 'dir' what 'flags' ask: read it, write it, or create it,
 * which only the capture directory itself or a directory the client may
 * write allows. */
static int
check_client(const struct capture_opener *o, const struct stat *dir,
             const struct stat *st, int flags, const char *what,
             const char *path, char *error, size_t error_size)
{
    const struct capture_client *c = o->client;
    bool reading = (flags & O_ACCMODE) == O_RDONLY;

    if (st->st_ino) {
        return client_may(c, st, reading ? R_OK : W_OK) ? 0
               : refuse(error, error_size, what, path, reading
                        ? "you may not read it" : "you may not write it");
    }
    if (flags & O_CREAT && !is_capture_dir(o->cp, dir)
        && !client_may(c, dir, W_OK | X_OK)) {
        return refuse(error, error_size, what, path, "you may not create "
                      "files in its directory");
    }
    return 0;
}

static int
capture_open(const struct port_files *files, const char *what,
             const char *path, int flags, bool probe, int *fd, char *error,
             size_t error_size)
{
    const struct capture_opener *o = CONTAINER_OF(files,
                                                  struct capture_opener, up);
    char name[NAME_MAX + 1];
    struct stat dir, st;
    int dirfd = -1;
    int err;

    *fd = -1;
    /* A client's rights are judged before anything is made or opened for
     * writing: its rules only look. */
    probe = probe || !o->trusted;
    err = open_parent(o, what, path, &dirfd, name, sizeof name, error,
                      error_size);
    if (err) {
        return err;
    }
    memset(&st, 0, sizeof st);
    if (fstat(dirfd, &dir)) {
        err = errno;
        snprintf(error, error_size, "%s: %s: %s", what, path, strerror(err));
    } else if (is_own_file(o->cp, &dir, name, &st)) {
        err = refuse(error, error_size, what, path,
                     "one of the daemon's own files");
    } else {
        err = port_pcap_openat(dirfd, name, what, path, flags, probe, fd,
                               &st, error, error_size);
        if (!err && is_own_file(o->cp, &dir, name, &st)) {
            err = refuse(error, error_size, what, path,
                         "one of the daemon's own files");
        } else if (!err && !o->trusted) {
            err = check_client(o, &dir, &st, flags, what, path, error,
                               error_size);
        }
        if (err && *fd >= 0) {
            close(*fd);
            *fd = -1;
        }
    }
    close(dirfd);
    return err;
}

static Vswitch__Status
check_port(const struct capture_opener *o, const Vswitch__PortConfig *pc,
           char *error, size_t error_size)
{
    const struct port_class *class = port_class_find(pc->type);
    struct port_args args;
    int err;

    if (!class || !class->check_files) {
        return VSWITCH__STATUS__STATUS_OK;
    }
    if (!config_port_args(pc, &args)) {
        snprintf(error, error_size, "out of memory");
        return VSWITCH__STATUS__STATUS_FAILED;
    }
    args.files = &o->up;
    err = class->check_files(&args, error, error_size);
    config_free_port_args(&args);
    return !err ? VSWITCH__STATUS__STATUS_OK
           : err == EACCES || err == EPERM || err == ELOOP || err == EEXIST
           ? VSWITCH__STATUS__STATUS_DENIED
           : VSWITCH__STATUS__STATUS_INVALID;
}

static struct capture_opener
client_opener(const struct capture_path *cp, const struct capture_client *c)
{
    bool trusted = capture_client_trusted(c);

    return (struct capture_opener) {
        .up.open = capture_open,
        .cp = cp,
        .trusted = trusted,
        .client = trusted ? NULL : c,
    };
}

Vswitch__Status
capture_path_check_config(const struct capture_path *cp,
                          const struct capture_client *c,
                          const Vswitch__Config *old,
                          const Vswitch__Config *new, char *error,
                          size_t error_size)
{
    struct capture_opener client = client_opener(cp, c);
    Vswitch__Status status = VSWITCH__STATUS__STATUS_OK;
    struct config_index old_idx;

    /* Every change goes through here, on the forwarding loop: a walk of
     * the old ports for each new one would cost the square of their
     * number. */
    config_index_init(&old_idx, old);
    for (size_t i = 0; !status && i < new->n_ports; i++) {
        const Vswitch__PortConfig *pc = new->ports[i];
        const Vswitch__PortConfig *was = config_index_port(&old_idx,
                                                           pc->name);

        /* The rest of a port (its VNI) may change without its files being
         * checked again. */
        if (!was || strcmp(was->type, pc->type)
            || !config_same_options(was, pc)) {
            status = check_port(&client, pc, error, error_size);
        }
    }
    config_index_destroy(&old_idx);
    return status;
}

Vswitch__Status
capture_path_check_port(const struct capture_path *cp,
                        const struct capture_client *c,
                        const Vswitch__PortConfig *pc, char *error,
                        size_t error_size)
{
    struct capture_opener client = client_opener(cp, c);

    return check_port(&client, pc, error, error_size);
}
