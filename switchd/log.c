#include <config.h>

#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <sys/time.h>
/* sd_journal_send() would add CODE_FILE, CODE_LINE and CODE_FUNC, which
 * here always name log_vmsg(): the module field says where instead. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>
#include <time.h>

#include "util.h"

static enum log_target target = LOG_TO_STDERR;
static enum log_level threshold = LOG_LEVEL_INFO;
static FILE *file;
static char *file_path;

static const char *const level_names[] = {
    [LOG_LEVEL_ERR] = "ERR",
    [LOG_LEVEL_WARN] = "WARN",
    [LOG_LEVEL_INFO] = "INFO",
    [LOG_LEVEL_DBG] = "DBG",
};

/* As operators type them (and as they read in ovs-appctl vlog/set). */
static const char *const level_words[] = {
    [LOG_LEVEL_ERR] = "err",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DBG] = "debug",
};

static int
open_file(const char *path, FILE **out)
{
    FILE *f = fopen(path, "a");

    if (!f) {
        return errno;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    *out = f;
    return 0;
}

int
log_open(enum log_target new_target, const char *path)
{
    log_close();
    if (new_target == LOG_TO_FILE) {
        int error = open_file(path, &file);

        if (error) {
            return error;
        }
        file_path = strdup(path);
        if (!file_path) {
            fclose(file);
            file = NULL;
            return ENOMEM;
        }
    } else if (new_target == LOG_TO_SYSLOG) {
        openlog("vswitchd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
    target = new_target;
    return 0;
}

int
log_reopen(void)
{
    FILE *f = NULL;
    int error;

    if (target != LOG_TO_FILE) {
        return 0;
    }
    error = open_file(file_path, &f);
    if (!error) {
        fclose(file);
        file = f;
    }
    return error;
}

void
log_close(void)
{
    if (target == LOG_TO_FILE && file) {
        fclose(file);
    } else if (target == LOG_TO_SYSLOG) {
        closelog();
    }
    file = NULL;
    free(file_path);
    file_path = NULL;
    target = LOG_TO_STDERR;
}

void
log_set_level(enum log_level level)
{
    threshold = level;
}

enum log_level
log_get_level(void)
{
    return threshold;
}

const char *
log_level_name(enum log_level level)
{
    return level_words[level];
}

bool
log_level_parse(const char *name, enum log_level *level)
{
    for (size_t i = 0; i < sizeof level_words / sizeof *level_words; i++) {
        if (!strcmp(name, level_words[i])) {
            *level = (enum log_level) i;
            return true;
        }
    }
    return false;
}

bool
log_fd_is_journal(int fd, const char *journal_stream)
{
    unsigned long long dev, ino;
    struct stat st;
    int end = 0;

    if (!journal_stream
        || sscanf(journal_stream, "%llu:%llu%n", &dev, &ino, &end) != 2
        || journal_stream[end] || fstat(fd, &st)) {
        return false;
    }
    return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

bool
log_enabled(enum log_level level)
{
    return level <= threshold;
}

/* Drops the UTF-8 sequence that cutting 's' at the log's bound left
 * unfinished at its end: the journal shows a message that is not UTF-8
 * as a blob, not as text. */
static void
trim_partial_char(char *s)
{
    size_t len = strlen(s);
    size_t i = len;

    while (i > 0 && len - i < 3 && ((unsigned char) s[i - 1] & 0xc0) == 0x80) {
        i--;
    }
    if (i > 0 && (unsigned char) s[i - 1] >= 0xc0) {
        unsigned char lead = (unsigned char) s[i - 1];
        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

        if (len - (i - 1) < need) {
            s[i - 1] = '\0';
        }
    }
}

static void log_vmsg(enum log_level, const char *module, const char *format,
                     va_list) __attribute__((format(printf, 3, 0)));

static void
log_vmsg(enum log_level level, const char *module, const char *format,
         va_list args)
{
    static const int syslog_levels[] = {
        [LOG_LEVEL_ERR] = LOG_ERR,
        [LOG_LEVEL_WARN] = LOG_WARNING,
        [LOG_LEVEL_INFO] = LOG_INFO,
        [LOG_LEVEL_DBG] = LOG_DEBUG,
    };
    char text[1024];

    if (vsnprintf(text, sizeof text, format, args) >= (int) sizeof text) {
        trim_partial_char(text);
    }
    /* Messages quote what clients and the network said (a file name, a
     * request's error): a newline there could forge a line of its own, an
     * escape sequence drive the terminal of whoever reads the log. */
    for (char *p = text; *p; p++) {
        if ((unsigned char) *p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    if (target == LOG_TO_SYSLOG) {
        syslog(syslog_levels[level], "%s|%s", module, text);
        return;
    }
    /* Where the journal refuses a line, stderr (the journal's stream, or
     * nothing) is all there is left. */
    if (target == LOG_TO_JOURNAL
        && sd_journal_send("MESSAGE=%s|%s", module, text,
                           "PRIORITY=%d", syslog_levels[level],
                           "SYSLOG_IDENTIFIER=vswitchd",
                           "VSWITCH_MODULE=%s", module, NULL) >= 0) {
        return;
    }

    struct timeval tv;
    struct tm tm;
    char when[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(target == LOG_TO_FILE ? file : stderr, "%s.%03ldZ|%s|%s|%s\n",
            when, (long) tv.tv_usec / 1000, level_names[level], module,
            text);
}

void
log_msg(enum log_level level, const char *module, const char *format, ...)
{
    va_list args;

    if (!log_enabled(level)) {
        return;
    }
    va_start(args, format);
    log_vmsg(level, module, format, args);
    va_end(args);
}

/* A message costs this many tokens; a minute refills 'per_minute' of
 * them, one share per millisecond. */
#define TOKENS_PER_MESSAGE 60000u

bool
log_rate_limit_allow(struct log_rate_limit *rl, long long now_ms)
{
    uint64_t cap = (uint64_t) rl->burst * TOKENS_PER_MESSAGE;

    if (!rl->started) {
        rl->started = true;
        rl->tokens = cap;
        rl->last_ms = now_ms;
    } else if (now_ms > rl->last_ms) {
        uint64_t elapsed = (uint64_t) (now_ms - rl->last_ms);

        /* Past a full refill the arithmetic need not be done (nor
         * overflow). */
        rl->tokens = elapsed >= cap ? cap
                     : MIN(cap, rl->tokens + elapsed * rl->per_minute);
        rl->last_ms = now_ms;
    }
    if (rl->tokens >= TOKENS_PER_MESSAGE) {
        rl->tokens -= TOKENS_PER_MESSAGE;
        return true;
    }
    if (!rl->n_suppressed++) {
        rl->first_suppressed_ms = now_ms;
    }
    return false;
}

static long long
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long (*clock_ms)(void) = monotonic_ms;

void
log_set_clock(long long (*now_ms)(void))
{
    clock_ms = now_ms ? now_ms : monotonic_ms;
}

void
log_msg_rl(struct log_rate_limit *rl, enum log_level level,
           const char *module, const char *format, ...)
{
    long long now = clock_ms();
    va_list args;

    if (!log_enabled(level) || !log_rate_limit_allow(rl, now)) {
        return;
    }
    if (rl->n_suppressed) {
        log_msg(level, module, "%llu messages like the next one suppressed "
                "in the last %lld s", rl->n_suppressed,
                (now - rl->first_suppressed_ms + 999) / 1000);
        rl->n_suppressed = 0;
    }
    va_start(args, format);
    log_vmsg(level, module, format, args);
    va_end(args);
}
