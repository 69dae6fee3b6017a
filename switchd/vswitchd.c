#include <config.h>

/* vswitchd: the switching daemon.  One libuv loop serves the control
 * socket, the MAC ageing timer and signals (and, with port I/O, the
 * ports).  See vswitchd(8). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "bridge.h"
#include "capture-path.h"
#include "config-edit.h"
#include "config-store.h"
#include "control.h"
#include "dp.h"
#include "flow-rpc.h"
#include "flow-store.h"
#include "flow-table.h"
#include "frame.h"
#include "log.h"
#include "mac-table.h"
#include "request.h"
#include "rpc.h"
#include "util.h"
#include "xmalloc.h"

/* The directories come from configure (--runstatedir, --localstatedir),
 * through Makefile.am. */
#define DEFAULT_SOCKET VSW_RUNDIR "/vswitchd.sock"
#define DEFAULT_DB VSW_DBDIR "/conf.db"
#define DEFAULT_PIDFILE VSW_RUNDIR "/vswitchd.pid"
#define DEFAULT_LOG VSW_LOGDIR "/vswitchd.log"

/* The loop forwards: on a busy host it must win the CPU over ordinary
 * processes, such as a script that hammers the control socket, as
 * ovs-ctl starts ovs-vswitchd at -10. */
#define DEFAULT_NICE -10

/* The most --max-flows allows: a flow file of that many rules still fits
 * a request (FRAME_MAX_LARGE_REQUEST) only if its lines are short, but a
 * table may grow by many requests. */
#define VSWITCHD_MAX_FLOWS (1 << 24)

struct options {
    const char *socket_path;
    const char *db_path;
    const char *pidfile;        /* NULL: none. */
    const char *log_file;       /* NULL: stderr or syslog. */
    bool syslog;
    bool detach;
    const char *socket_group;   /* NULL: root's group. */
    const char *pcap_dir;       /* NULL: "pcap" beside the db. */
    int nice;
    size_t max_flows;
    size_t max_macs;
    bool verbose;
};

struct daemon {
    struct options opt;
    uv_loop_t loop;
    struct bridge *bridge;
    struct control_server *control;
    struct capture_path *capture;
    struct rpc *rpc;
    struct flow_store *flows;
    uv_timer_t housekeeping_timer;
    uv_signal_t sigterm, sigint, sighup;
    gid_t socket_gid;
    char denied[128];
    char lock_path[PATH_MAX];   /* Beside the socket. */
    char db_lock_path[PATH_MAX];        /* Beside the database. */
    char owner[PATH_MAX + 16];  /* "vswitchd DB": alias of our devices. */
    int lock_fd;
    int db_lock_fd;
};

static void
usage(FILE *out)
{
    fprintf(out,
"usage: vswitchd [OPTION]...\n"
"The vswitch switching daemon.\n"
"\n"
"  --socket PATH        control socket (default " DEFAULT_SOCKET ")\n"
"  --db PATH            configuration file (default " DEFAULT_DB ")\n"
"  --pidfile[=PATH]     write the pid (default " DEFAULT_PIDFILE ")\n"
"  --detach             run in the background once the socket is ready\n"
"  --log-file[=PATH]    log to a file (default " DEFAULT_LOG ")\n"
"  --syslog             log to syslog\n"
"  --socket-group GROUP members of GROUP may change the configuration\n"
"  --pcap-dir DIR       capture files clients name live here\n"
"                       (default: pcap beside the configuration file)\n"
"  --nice N             scheduling priority, -20 to 19 (default -10)\n"
"  --max-flows N        most flow rules, 1 to 16777216 (default 65536)\n"
"  --max-macs N         most learned MAC entries, 1 to 1048576\n"
"                       (default 262144)\n"
"  -v, --verbose        log debug messages too\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n");
}

static void
die(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *format, ...)
{
    va_list args;

    fputs("vswitchd: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

/* Returns 'arg', the value of 'option', as a number from 'min' to 'max',
 * or dies saying what is wrong. */
static long
parse_number(const char *option, const char *arg, long min, long max)
{
    char *end;
    long n = strtol(arg, &end, 10);

    if (!*arg || *end || n < min || n > max) {
        die("%s: '%s' is not a number from %ld to %ld", option, arg, min,
            max);
    }
    return n;
}

static void
parse_options(int argc, char *argv[], struct options *opt)
{
    enum { OPT_SOCKET = 256, OPT_DB, OPT_PIDFILE, OPT_DETACH, OPT_LOG_FILE,
           OPT_SYSLOG, OPT_SOCKET_GROUP, OPT_PCAP_DIR, OPT_NICE,
           OPT_MAX_FLOWS, OPT_MAX_MACS };
    static const struct option long_options[] = {
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "db", required_argument, NULL, OPT_DB },
        { "pidfile", optional_argument, NULL, OPT_PIDFILE },
        { "detach", no_argument, NULL, OPT_DETACH },
        { "log-file", optional_argument, NULL, OPT_LOG_FILE },
        { "syslog", no_argument, NULL, OPT_SYSLOG },
        { "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
        { "pcap-dir", required_argument, NULL, OPT_PCAP_DIR },
        { "nice", required_argument, NULL, OPT_NICE },
        { "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
        { "max-macs", required_argument, NULL, OPT_MAX_MACS },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *opt = (struct options) { .socket_path = DEFAULT_SOCKET,
                              .db_path = DEFAULT_DB,
                              .nice = DEFAULT_NICE,
                              .max_flows = FLOW_TABLE_DEFAULT_MAX_RULES,
                              .max_macs = MAC_TABLE_DEFAULT_MAX };
    while ((c = getopt_long(argc, argv, "vhV", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_SOCKET:
            opt->socket_path = optarg;
            break;
        case OPT_DB:
            opt->db_path = optarg;
            break;
        case OPT_PIDFILE:
            opt->pidfile = optarg ? optarg : DEFAULT_PIDFILE;
            break;
        case OPT_DETACH:
            opt->detach = true;
            break;
        case OPT_LOG_FILE:
            opt->log_file = optarg ? optarg : DEFAULT_LOG;
            break;
        case OPT_SYSLOG:
            opt->syslog = true;
            break;
        case OPT_SOCKET_GROUP:
            opt->socket_group = optarg;
            break;
        case OPT_PCAP_DIR:
            opt->pcap_dir = optarg;
            break;
        case OPT_NICE:
            opt->nice = (int) parse_number("--nice", optarg, -20, 19);
            break;
        case OPT_MAX_FLOWS:
            opt->max_flows = (size_t) parse_number("--max-flows", optarg, 1,
                                                   VSWITCHD_MAX_FLOWS);
            break;
        case OPT_MAX_MACS:
            opt->max_macs = (size_t) parse_number("--max-macs", optarg, 1,
                                                  MAC_TABLE_MAX_LIMIT);
            break;
        case 'v':
            opt->verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_SUCCESS);
        case 'V':
            printf("vswitchd %s (protocol %d)\n", PACKAGE_VERSION,
                   VSWITCH__PROTOCOL__PROTOCOL_VERSION);
            exit(EXIT_SUCCESS);
        default:
            usage(stderr);
            exit(EXIT_FAILURE);
        }
    }
    if (optind < argc) {
        die("unexpected argument '%s' (try --help)", argv[optind]);
    }
    if (opt->log_file && opt->syslog) {
        die("--log-file and --syslog do not go together");
    }
    if (strlen(opt->socket_path) >= sizeof ((struct sockaddr_un *) 0)
                                           ->sun_path) {
        die("%s: socket path too long", opt->socket_path);
    }
}

/* Creates the directories above 'path', as "mkdir -p" would. */
static void
make_parent_dirs(const char *path)
{
    char dir[PATH_MAX];

    if (snprintf(dir, sizeof dir, "%s", path) >= (int) sizeof dir) {
        die("%s: path too long", path);
    }
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) && errno != EEXIST) {
                die("cannot create %s: %s", dir, strerror(errno));
            }
            *p = '/';
        }
    }
}

/* Takes an exclusive lock on 'lock_path', which says that this daemon
 * owns 'what' (a path, which 'role' introduces in the message that
 * refuses a second daemon), and writes our pid into it.  Returns the lock's
 * descriptor; dies if another daemon holds it.  The file is never reached
 * through a symbolic link, which could make root write where it should
 * not. */
static int
take_lock(const char *lock_path, const char *what, const char *role)
{
    char pid[32];
    int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                  0600);

    if (fd < 0) {
        die("%s: %s", lock_path, errno == ELOOP
            ? "is a symbolic link, refusing to follow it" : strerror(errno));
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int error = errno;
        ssize_t n = error == EWOULDBLOCK ? pread(fd, pid, sizeof pid - 1, 0)
                                         : -1;

        if (n > 0) {
            pid[n] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            die("another vswitchd is running %s%s (pid %s)", role, what,
                pid);
        }
        die("%s: cannot lock: %s", lock_path,
            error == EWOULDBLOCK ? "held by another process"
                                 : strerror(error));
    }
    snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0) {
        die("%s: %s", lock_path, strerror(errno));
    }
    return fd;
}

/* Takes the two locks: the one beside the socket, so that a second daemon
 * on the same socket fails, and the one beside the database, so that two
 * daemons on different sockets cannot both save into one file and undo
 * each other's changes. */
static void
take_locks(struct daemon *d)
{
    snprintf(d->lock_path, sizeof d->lock_path, "%s.lock",
             d->opt.socket_path);
    snprintf(d->db_lock_path, sizeof d->db_lock_path, "%s.lock",
             d->opt.db_path);
    d->lock_fd = take_lock(d->lock_path, d->opt.socket_path, "on ");
    d->db_lock_fd = take_lock(d->db_lock_path, d->opt.db_path,
                              "with the database ");
}

/* Writes our pid to 'path', never through a symbolic link. */
static void
write_pidfile(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW
                  | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!f) {
        die("%s: %s", path, errno == ELOOP
            ? "is a symbolic link, refusing to follow it" : strerror(errno));
    }
    if (fprintf(f, "%ld\n", (long) getpid()) < 0 || fclose(f)) {
        die("%s: %s", path, strerror(errno));
    }
}

/* Checks a configuration read from disk as if its contents arrived as
 * requests; one that no requests could have made stops the daemon. */
static Vswitch__Config *
replay_config(const Vswitch__Config *saved, const char *path)
{
    char error[REQUEST_ERROR_SIZE];
    Vswitch__Config *config;
    Vswitch__Status status = config_edit_replay(saved, &config, error,
                                                sizeof error);

    if (status == VSWITCH__STATUS__STATUS_FAILED) {
        die("%s", error);
    } else if (status) {
        die("%s: invalid configuration: %s; the file was left as it is",
            path, error);
    }
    return config;
}

static void on_housekeeping(uv_timer_t *);

/* Runs the bridge's housekeeping (MAC ageing among it) and sets the one
 * timer for the next run: when the next entry is due, and at least every
 * BRIDGE_RUN_INTERVAL. */
static void
schedule_housekeeping(struct daemon *d)
{
    long long now = (long long) uv_now(&d->loop);
    long long next = bridge_run(d->bridge, now);
    long long delay = MIN(next - now, BRIDGE_RUN_INTERVAL);

    uv_timer_start(&d->housekeeping_timer, on_housekeeping,
                   (uint64_t) MAX(delay, 1), 0);
}

static void
on_housekeeping(uv_timer_t *timer)
{
    schedule_housekeeping(timer->data);
}

/* Returns the credentials of 'peer' in '*c', with its supplementary
 * groups, which SO_PEERCRED does not report, read from /proc into
 * '*groups' (to free): someone added to the socket's group with "usermod
 * -aG" should not need "sg" to use it, and a client's groups decide which
 * capture files it may name. */
/* Root and the daemon's own user: they may do anything. */
static bool
peer_is_admin(const struct control_peer *peer)
{
    return peer->uid == 0 || peer->uid == geteuid();
}

static void
peer_client(const struct control_peer *peer, struct capture_client *c,
            gid_t **groups)
{
    char path[64], *line = NULL;
    size_t n = 0, allocated = 0, line_size = 0;
    FILE *f;

    *groups = NULL;
    snprintf(path, sizeof path, "/proc/%ld/status", (long) peer->pid);
    /* Root and the daemon's user need no groups. */
    f = peer_is_admin(peer) ? NULL : fopen(path, "r");
    /* getline(): a number cut in two by a buffer would be another group. */
    while (f && getline(&line, &line_size, f) > 0) {
        if (!strncmp(line, "Groups:", 7)) {
            char *p = line + 7, *end;

            for (long g = strtol(p, &end, 10); end != p;
                 p = end, g = strtol(p, &end, 10)) {
                if (n == allocated) {
                    allocated = allocated ? 2 * allocated : 16;
                    *groups = xrealloc(*groups, allocated * sizeof **groups);
                }
                (*groups)[n++] = (gid_t) g;
            }
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    free(line);
    *c = (struct capture_client) {
        .uid = peer->uid, .gid = peer->gid, .groups = *groups,
        .n_groups = n,
    };
}

static bool
may_write(const struct daemon *d, const struct capture_client *c)
{
    return capture_client_trusted(c)
           || (d->socket_gid != (gid_t) -1
               && capture_client_in_group(c, d->socket_gid));
}

static enum control_rank
rank(void *aux, const struct control_peer *peer)
{
    struct capture_client c;
    gid_t *groups;
    enum control_rank r;

    if (peer_is_admin(peer)) {
        return CONTROL_ADMIN;
    }
    peer_client(peer, &c, &groups);
    r = may_write(aux, &c) ? CONTROL_WRITER : CONTROL_READER;
    free(groups);
    return r;
}

static void
handle_request(void *aux, const struct control_peer *peer,
               const uint8_t *msg, size_t len, struct control_request *req)
{
    struct daemon *d = aux;
    char name[64];
    gid_t *groups;
    struct rpc_peer rp = {
        .denied = d->denied,
        .name = name,
    };

    peer_client(peer, &rp.client, &groups);
    rp.may_write = may_write(d, &rp.client);
    snprintf(name, sizeof name, "uid %d pid %d", (int) peer->uid,
             (int) peer->pid);
    /* A change that shortens ageing is picked up by the next housekeeping
     * run, within BRIDGE_RUN_INTERVAL. */
    rpc_handle(d->rpc, &rp, msg, len, req);
    free(groups);
}

static void
memory_released(void *aux)
{
    struct daemon *d = aux;

    rpc_memory_released(d->rpc);
}

static uint8_t *
refuse_request(void *aux, size_t announced, size_t limit,
               size_t *reply_len)
{
    char error[128];

    (void) aux;
    snprintf(error, sizeof error, "request of %zu bytes refused: the limit "
             "is %zu bytes", announced, limit);
    return rpc_error_frame(VSWITCH__STATUS__STATUS_INVALID, error,
                           reply_len);
}

static void
on_stop_signal(uv_signal_t *sig, int signum)
{
    struct daemon *d = sig->data;

    LOG_INFO("vswitchd", "signal %d: stopping", signum);
    sd_notify(0, "STOPPING=1");
    uv_stop(&d->loop);
}

static void
on_hangup(uv_signal_t *sig, int signum)
{
    int error = log_reopen();

    (void) sig;
    (void) signum;
    /* systemd (ExecReload sends HUP) waits for READY=1 again before it
     * calls the reload done. */
    sd_notify(0, "RELOADING=1");
    if (error) {
        LOG_ERR("vswitchd", "cannot reopen the log file: %s",
                strerror(error));
    } else {
        LOG_INFO("vswitchd", "log file reopened");
    }
    sd_notify(0, "READY=1");
}

/* Forks; the parent waits until the child says it is serving (exit 0) or
 * dies (exit 1, the child having said why on stderr).  Returns, in the
 * child, the descriptor to write the news to. */
static int
detach(void)
{
    int fds[2];
    pid_t pid;
    char ok;

    if (pipe(fds)) {
        die("pipe: %s", strerror(errno));
    }
    pid = fork();
    if (pid < 0) {
        die("fork: %s", strerror(errno));
    }
    if (pid > 0) {
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &ok, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1 && ok == '1') {
            exit(EXIT_SUCCESS);
        }
        waitpid(pid, NULL, 0);
        exit(EXIT_FAILURE);
    }
    close(fds[0]);
    setsid();
    return fds[1];
}

static void
daemonized(int notify_fd)
{
    int null = open("/dev/null", O_RDWR);

    if (write(notify_fd, "1", 1) != 1) {
        LOG_WARN("vswitchd", "cannot tell the parent we are ready");
    }
    close(notify_fd);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) {
            close(null);
        }
    }
    if (chdir("/")) {
        LOG_WARN("vswitchd", "chdir /: %s", strerror(errno));
    }
}

static void
setup_logging(const struct options *opt)
{
    int error = 0;

    log_set_level(opt->verbose ? LOG_LEVEL_DBG : LOG_LEVEL_INFO);
    if (opt->log_file) {
        make_parent_dirs(opt->log_file);
        error = log_open(LOG_TO_FILE, opt->log_file);
        if (error) {
            die("%s: %s", opt->log_file, strerror(error));
        }
    } else if (opt->syslog || opt->detach) {
        log_open(LOG_TO_SYSLOG, NULL);
    } else if (log_fd_is_journal(STDERR_FILENO, getenv("JOURNAL_STREAM"))) {
        /* A service: the journal keeps each line's priority and module,
         * which plain lines on stderr would lose. */
        log_open(LOG_TO_JOURNAL, NULL);
    }
}

static gid_t
lookup_group(const char *name, char *denied, size_t size)
{
    if (!name) {
        snprintf(denied, size, "permission denied: changing the "
                 "configuration needs root");
        return (gid_t) -1;
    }

    struct group *g = getgrnam(name);

    if (!g) {
        die("--socket-group: no group '%s'", name);
    }
    snprintf(denied, size, "permission denied: changing the configuration "
             "needs root or group %s", name);
    return g->gr_gid;
}

/* The capture directory, and the daemon's own files that no capture may
 * be. */
static void
open_capture_dir(struct daemon *d)
{
    char tmp[PATH_MAX + 8], dir[PATH_MAX + 8], error[PATH_MAX + 64];
    char flows[PATH_MAX + 16], flows_tmp[PATH_MAX + 16];
    char flows_log[PATH_MAX + 16];
    const char *slash = strrchr(d->opt.db_path, '/');
    const char *own[10];
    size_t n = 0;

    if (d->opt.pcap_dir) {
        snprintf(dir, sizeof dir, "%s", d->opt.pcap_dir);
    } else {
        snprintf(dir, sizeof dir, "%.*spcap",
                 slash ? (int) (slash - d->opt.db_path + 1) : 0,
                 d->opt.db_path);
    }
    /* With a trailing slash make_parent_dirs() would make the directory
     * itself, without its mode and group. */
    for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--) {
        dir[len - 1] = '\0';
    }

    snprintf(tmp, sizeof tmp, "%s.tmp", d->opt.db_path);
    snprintf(flows, sizeof flows, "%s.flows", d->opt.db_path);
    snprintf(flows_tmp, sizeof flows_tmp, "%s.flows.tmp", d->opt.db_path);
    snprintf(flows_log, sizeof flows_log, "%s.flows.log", d->opt.db_path);
    own[n++] = d->opt.db_path;
    own[n++] = tmp;
    own[n++] = flows;           /* The saved flow rules (flow-store.h). */
    own[n++] = flows_tmp;
    own[n++] = flows_log;
    own[n++] = d->opt.socket_path;
    own[n++] = d->lock_path;
    own[n++] = d->db_lock_path;
    if (d->opt.pidfile) {
        own[n++] = d->opt.pidfile;
    }
    if (d->opt.log_file) {
        own[n++] = d->opt.log_file;
    }
    make_parent_dirs(dir);
    if (capture_path_create(dir, d->socket_gid, own, n, &d->capture,
                            error, sizeof error)) {
        die("capture directory: %s", error);
    }
}

/* The flow rules: those saved if the configuration says rules were
 * written, else the default rule of a new bridge. */
static void
start_flows(struct daemon *d)
{
    long long now = (long long) uv_now(&d->loop);
    char error[512];

    flow_table_set_max_rules(dp_flow_table(bridge_dp(d->bridge)),
                             d->opt.max_flows);
    d->flows = flow_store_create(d->opt.db_path);
    if (!bridge_config(d->bridge)->flows_written) {
        flow_rpc_start_default(d->bridge, d->flows, now);
        return;
    }
    if (flow_store_load(d->flows, error, sizeof error)) {
        die("%s", error);
    }
    LOG_INFO("vswitchd", "%zu flow rules replayed",
             flow_rpc_replay(d->bridge, d->flows, now));
}

static void
start(struct daemon *d)
{
    char error[512];
    Vswitch__Config *saved;
    struct control_callbacks cb = {
        .handle = handle_request,
        .refuse = refuse_request,
        .rank = rank,
        .free_reply = rpc_frame_free,
        .released = memory_released,
        .aux = d,
    };

    /* Before any thread starts: libuv's workers take the value with them
     * (and the fdb-show builder lowers its own). */
    if (setpriority(PRIO_PROCESS, 0, d->opt.nice)) {
        LOG_WARN("vswitchd", "cannot set scheduling priority %d: %s",
                 d->opt.nice, strerror(errno));
    }
    make_parent_dirs(d->opt.socket_path);
    make_parent_dirs(d->opt.db_path);
    if (d->opt.pidfile) {
        make_parent_dirs(d->opt.pidfile);
    }
    take_locks(d);
    open_capture_dir(d);

    if (config_store_load(d->opt.db_path, &saved, error, sizeof error)) {
        die("%s", error);
    }
    uv_loop_init(&d->loop);
    snprintf(d->owner, sizeof d->owner, "vswitchd %s", d->opt.db_path);
    d->bridge = bridge_create(&d->loop, d->owner);
    if (!d->bridge) {
        die("out of memory");
    }
    /* Before the saved configuration brings its VNIs; parse_options()
     * checked the range. */
    mac_table_set_max(dp_mac_table(bridge_dp(d->bridge)), d->opt.max_macs);
    bridge_set_files(d->bridge, capture_path_files(d->capture));
    bridge_reconfigure(d->bridge, replay_config(saved, d->opt.db_path));
    vswitch__config__free_unpacked(saved, NULL);
    start_flows(d);
    d->rpc = rpc_create(&d->loop, d->bridge, d->opt.db_path, d->flows,
                        d->capture);

    uv_timer_init(&d->loop, &d->housekeeping_timer);
    d->housekeeping_timer.data = d;
    if (control_server_create(&d->loop, d->opt.socket_path, d->socket_gid,
                              &cb, &d->control, error, sizeof error)) {
        die("%s", error);
    }
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sighup);
    d->sigterm.data = d->sigint.data = d->sighup.data = d;
    uv_signal_start(&d->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&d->sighup, on_hangup, SIGHUP);
    if (d->opt.pidfile) {
        write_pidfile(d->opt.pidfile);
    }
}

static void
close_handle(uv_handle_t *handle, void *aux)
{
    (void) aux;
    if (!uv_is_closing(handle)) {
        uv_close(handle, NULL);
    }
}

static void
stop(struct daemon *d)
{
    /* The last answers of captures and monitors go out while their
     * clients are there. */
    rpc_stop_streams(d->rpc);
    control_server_destroy(d->control);
    rpc_destroy(d->rpc);
    bridge_destroy(d->bridge);
    flow_store_destroy(d->flows);
    capture_path_destroy(d->capture);
    uv_walk(&d->loop, close_handle, NULL);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_loop_close(&d->loop);
    if (d->opt.pidfile) {
        unlink(d->opt.pidfile);
    }
    /* The lock files stay: unlinking one would let a daemon that opened
     * it a moment ago and one that makes a new one both hold "the"
     * lock. */
    close(d->lock_fd);
    close(d->db_lock_fd);
    LOG_INFO("vswitchd", "stopped");
    log_close();
}

int
main(int argc, char *argv[])
{
    static struct daemon d;
    int notify_fd = -1;

    parse_options(argc, argv, &d.opt);
    signal(SIGPIPE, SIG_IGN);
    d.socket_gid = lookup_group(d.opt.socket_group, d.denied,
                                sizeof d.denied);
    if (d.opt.detach) {
        notify_fd = detach();
    }
    setup_logging(&d.opt);
    start(&d);
    LOG_INFO("vswitchd", "vswitchd %s listening on %s", PACKAGE_VERSION,
             d.opt.socket_path);
    if (notify_fd >= 0) {
        daemonized(notify_fd);
    }
    /* Under systemd (Type=notify) the service is up only now, with the
     * saved configuration replayed and the socket listening; without
     * NOTIFY_SOCKET this does nothing. */
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s\nMAINPID=%lu",
               d.opt.socket_path, (unsigned long) getpid());
    schedule_housekeeping(&d);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    stop(&d);
    return EXIT_SUCCESS;
}
