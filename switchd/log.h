#ifndef SWITCHD_LOG_H
#define SWITCHD_LOG_H 1

#include <stdbool.h>
#include <stdint.h>

/* The daemon's log: one line per event,
 *   2026-11-24T21:45:17.123Z|INFO|control|client 3 connected
 * to stderr, a file, syslog, or the systemd journal (each line there with
 * its priority and module as fields of its own).  Messages below the
 * threshold are dropped before they are formatted. */

enum log_level {
    LOG_LEVEL_ERR,
    LOG_LEVEL_WARN,
    LOG_LEVEL_INFO,
    LOG_LEVEL_DBG,
};

enum log_target {
    LOG_TO_STDERR,
    LOG_TO_FILE,
    LOG_TO_SYSLOG,
    LOG_TO_JOURNAL,
};

/* Returns true if 'fd' is the stream that systemd connected to the
 * journal: 'journal_stream' is the value of $JOURNAL_STREAM ("DEV:INODE"
 * of that stream, or NULL), which a service inherits.  A program started
 * from such a service with its stderr redirected elsewhere inherits the
 * variable too, hence the comparison. */
bool log_fd_is_journal(int fd, const char *journal_stream);

/* Starts logging to 'target' ('path' is the file for LOG_TO_FILE).
 * Returns 0 or an errno value, in which case logging goes to stderr. */
int log_open(enum log_target target, const char *path);

/* Reopens the log file, after logrotate moved it (SIGHUP).  Returns 0 or an
 * errno value; on failure the old file stays in use. */
int log_reopen(void);

void log_close(void);

void log_set_level(enum log_level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level);

/* The levels' names, as vswitch-ctl set-log-level takes them: "err",
 * "warn", "info", "debug".  log_level_parse() returns false for any
 * other name. */
const char *log_level_name(enum log_level);
bool log_level_parse(const char *name, enum log_level *);

void log_msg(enum log_level, const char *module, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* A token bucket for a message that outside events can repeat at will (a
 * client's misbehaviour, a port's errors): at most 'burst' at once and
 * 'per_minute' sustained, so that nobody can flood the log or spend the
 * loop's time on it.  When messages flow again, one line says how many
 * were suppressed.  One static limiter per message site:
 *
 *     static struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(10, 5);
 *     LOG_WARN_RL(&rl, "control", "client %u: ...", id); */
struct log_rate_limit {
    unsigned int per_minute;
    unsigned int burst;
    bool started;
    uint64_t tokens;            /* In 1/60000ths of a message. */
    long long last_ms;          /* When 'tokens' was last refilled. */
    unsigned long long n_suppressed;
    long long first_suppressed_ms;
};

#define LOG_RATE_LIMIT_INIT(PER_MINUTE, BURST) \
    { .per_minute = (PER_MINUTE), .burst = (BURST) }

/* Returns true if a message limited by 'rl' may be logged at 'now_ms' (a
 * monotonic clock, in ms), and takes its token; false counts it as
 * suppressed. */
bool log_rate_limit_allow(struct log_rate_limit *, long long now_ms);

/* Sets the monotonic clock (ms) that log_msg_rl() reads, for tests that
 * move time; NULL restores the system's. */
void log_set_clock(long long (*now_ms)(void));

/* Logs like log_msg() if 'rl' allows it now, first saying how many
 * messages it suppressed since the last one it let through. */
void log_msg_rl(struct log_rate_limit *, enum log_level, const char *module,
                const char *format, ...)
    __attribute__((format(printf, 4, 5)));

#define LOG_ERR(MODULE, ...) log_msg(LOG_LEVEL_ERR, MODULE, __VA_ARGS__)
#define LOG_WARN(MODULE, ...) log_msg(LOG_LEVEL_WARN, MODULE, __VA_ARGS__)
#define LOG_INFO(MODULE, ...) log_msg(LOG_LEVEL_INFO, MODULE, __VA_ARGS__)
#define LOG_DBG(MODULE, ...)                                                \
    (log_enabled(LOG_LEVEL_DBG)                                             \
     ? log_msg(LOG_LEVEL_DBG, MODULE, __VA_ARGS__) : (void) 0)

#define LOG_ERR_RL(RL, MODULE, ...) \
    log_msg_rl(RL, LOG_LEVEL_ERR, MODULE, __VA_ARGS__)
#define LOG_WARN_RL(RL, MODULE, ...) \
    log_msg_rl(RL, LOG_LEVEL_WARN, MODULE, __VA_ARGS__)
#define LOG_INFO_RL(RL, MODULE, ...) \
    log_msg_rl(RL, LOG_LEVEL_INFO, MODULE, __VA_ARGS__)

#endif /* switchd/log.h */
