#ifndef SWITCHD_LOG_H
#define SWITCHD_LOG_H 1

#include <stdbool.h>

/* The daemon's log: one line per event,
 *   2026-11-24T21:45:17.123Z|INFO|control|client 3 connected
 * to stderr, a file, or syslog.  Messages below the threshold are dropped
 * before they are formatted. */

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
};

/* Starts logging to 'target' ('path' is the file for LOG_TO_FILE).
 * Returns 0 or an errno value, in which case logging goes to stderr. */
int log_open(enum log_target target, const char *path);

/* Reopens the log file, after logrotate moved it (SIGHUP).  Returns 0 or an
 * errno value; on failure the old file stays in use. */
int log_reopen(void);

void log_close(void);

void log_set_level(enum log_level);
bool log_enabled(enum log_level);

void log_msg(enum log_level, const char *module, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_ERR(MODULE, ...) log_msg(LOG_LEVEL_ERR, MODULE, __VA_ARGS__)
#define LOG_WARN(MODULE, ...) log_msg(LOG_LEVEL_WARN, MODULE, __VA_ARGS__)
#define LOG_INFO(MODULE, ...) log_msg(LOG_LEVEL_INFO, MODULE, __VA_ARGS__)
#define LOG_DBG(MODULE, ...)                                                \
    (log_enabled(LOG_LEVEL_DBG)                                             \
     ? log_msg(LOG_LEVEL_DBG, MODULE, __VA_ARGS__) : (void) 0)

#endif /* switchd/log.h */
