#include <config.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "log.h"

static long long fake_now;

static long long
fake_clock(void)
{
    return fake_now;
}

START_TEST(test_lets_a_burst_through_then_suppresses)
{
    struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(60, 5);
    int allowed = 0;

    for (int i = 0; i < 100; i++) {
        allowed += log_rate_limit_allow(&rl, 1000);
    }
    ck_assert_int_eq(allowed, 5);
    ck_assert_uint_eq(rl.n_suppressed, 95);
}
END_TEST

START_TEST(test_refills_at_the_sustained_rate)
{
    struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(60, 1);

    ck_assert(log_rate_limit_allow(&rl, 0));
    /* One a second at 60 a minute: not after 999 ms, but after 1000. */
    ck_assert(!log_rate_limit_allow(&rl, 999));
    ck_assert(log_rate_limit_allow(&rl, 1999));
    ck_assert(!log_rate_limit_allow(&rl, 2000));
}
END_TEST

START_TEST(test_a_long_pause_refills_no_more_than_the_burst)
{
    struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(600, 3);
    int allowed = 0;

    ck_assert(log_rate_limit_allow(&rl, 0));
    for (int i = 0; i < 10; i++) {
        allowed += log_rate_limit_allow(&rl, 1000LL * 3600 * 24 * 365);
    }
    ck_assert_int_eq(allowed, 3);
}
END_TEST

START_TEST(test_a_clock_going_back_refills_nothing)
{
    struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(60, 1);

    ck_assert(log_rate_limit_allow(&rl, 5000));
    ck_assert(!log_rate_limit_allow(&rl, 1000));
    ck_assert(!log_rate_limit_allow(&rl, 5999));
    ck_assert(log_rate_limit_allow(&rl, 6000));
}
END_TEST

/* The log file of a test, in /tmp. */
static char log_path[64];

static void
start_log(void)
{
    int fd;

    snprintf(log_path, sizeof log_path, "/tmp/check-log-XXXXXX");
    fd = mkstemp(log_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(log_open(LOG_TO_FILE, log_path), 0);
}

/* Closes the log and returns what it holds (static buffer); the file is
 * gone. */
static const char *
finish_log(void)
{
    static char text[4096];
    FILE *f;
    size_t n;

    log_close();
    f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(log_path);
    return text;
}

static int
count_lines(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, needle)); p++) {
        n++;
    }
    return n;
}

START_TEST(test_says_how_many_were_suppressed)
{
    static struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(60, 2);
    const char *text;

    start_log();
    log_set_clock(fake_clock);
    fake_now = 10000;
    for (int i = 0; i < 50; i++) {
        LOG_WARN_RL(&rl, "test", "client %d misbehaves", i);
    }
    fake_now += 3000;
    LOG_WARN_RL(&rl, "test", "client %d misbehaves", 50);
    log_set_clock(NULL);
    text = finish_log();
    ck_assert_int_eq(count_lines(text, "misbehaves"), 3);
    ck_assert_ptr_nonnull(strstr(text, "|WARN|test|client 0 misbehaves\n"));
    ck_assert_ptr_nonnull(strstr(text, "|WARN|test|client 1 misbehaves\n"));
    ck_assert_ptr_nonnull(strstr(text, "|WARN|test|48 messages like the next "
                                 "one suppressed in the last 3 s\n"));
    ck_assert_ptr_nonnull(strstr(text, "|WARN|test|client 50 misbehaves\n"));
    ck_assert_uint_eq(rl.n_suppressed, 0);
}
END_TEST

START_TEST(test_a_message_is_one_line_whatever_it_quotes)
{
    const char *text;

    start_log();
    LOG_INFO("rpc", "refused: tx=%s", "x\n2026-12-06T20:31:00.002Z|INFO|rpc|"
             "uid 0 pid 1: del-port p1\x1b[2J");
    text = finish_log();
    ck_assert_int_eq(count_lines(text, "\n"), 1);
    ck_assert_ptr_nonnull(strstr(text, "|INFO|rpc|refused: tx=x?2026-12-06T"
                                 "20:31:00.002Z|INFO|rpc|uid 0 pid 1: "
                                 "del-port p1?[2J\n"));
}
END_TEST

/* journalctl shows a message that is not UTF-8 as a blob: a message cut
 * at the log's bound loses the character it would cut in two. */
START_TEST(test_a_long_message_is_cut_between_characters)
{
    char e_acute[1300] = "", want[1300] = "|INFO|t|";
    const char *text;

    for (int i = 0; i < 600; i++) {
        strcat(e_acute, "\xc3\xa9");
    }
    for (int i = 0; i < 511; i++) {
        strcat(want, "\xc3\xa9");
    }
    strcat(want, "\n");
    start_log();
    LOG_INFO("t", "%s", e_acute);
    text = finish_log();
    ck_assert_ptr_nonnull(strstr(text, want));
}
END_TEST

START_TEST(test_a_level_below_the_threshold_takes_no_token)
{
    struct log_rate_limit rl = LOG_RATE_LIMIT_INIT(60, 1);

    log_set_level(LOG_LEVEL_WARN);
    log_set_clock(fake_clock);
    fake_now = 0;
    LOG_INFO_RL(&rl, "test", "not logged");
    log_set_clock(NULL);
    log_set_level(LOG_LEVEL_INFO);
    ck_assert(log_rate_limit_allow(&rl, 0));
}
END_TEST

START_TEST(test_level_names_parse_back_to_their_levels)
{
    static const enum log_level levels[] = {
        LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DBG,
    };
    enum log_level level = LOG_LEVEL_INFO;

    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
        ck_assert(log_level_parse(log_level_name(levels[i]), &level));
        ck_assert_int_eq(level, levels[i]);
    }
    ck_assert_str_eq(log_level_name(LOG_LEVEL_DBG), "debug");
    ck_assert(!log_level_parse("DEBUG", &level));
    ck_assert(!log_level_parse("inf", &level));
    ck_assert(!log_level_parse("", &level));
    ck_assert_int_eq(level, LOG_LEVEL_DBG);
}
END_TEST

START_TEST(test_set_level_drops_what_is_below_it)
{
    log_set_level(LOG_LEVEL_WARN);
    ck_assert_int_eq(log_get_level(), LOG_LEVEL_WARN);
    ck_assert(log_enabled(LOG_LEVEL_ERR));
    ck_assert(log_enabled(LOG_LEVEL_WARN));
    ck_assert(!log_enabled(LOG_LEVEL_INFO));
    log_set_level(LOG_LEVEL_DBG);
    ck_assert(log_enabled(LOG_LEVEL_DBG));
    log_set_level(LOG_LEVEL_INFO);
}
END_TEST

/* $JOURNAL_STREAM names the journal's stream by device and inode: only a
 * descriptor that is that very file counts. */
START_TEST(test_journal_stream_is_recognised_by_identity)
{
    char name[] = "/tmp/check-log-XXXXXX";
    int fd = mkstemp(name), other = open("/dev/null", O_RDONLY);
    struct stat st;
    char env[64];

    ck_assert_int_ge(fd, 0);
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino);
    ck_assert(log_fd_is_journal(fd, env));
    ck_assert(!log_fd_is_journal(other, env));
    ck_assert(!log_fd_is_journal(fd, NULL));
    ck_assert(!log_fd_is_journal(fd, ""));
    snprintf(env, sizeof env, "%llu:%llu", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino + 1);
    ck_assert(!log_fd_is_journal(fd, env));
    snprintf(env, sizeof env, "%llu:%llux", (unsigned long long) st.st_dev,
             (unsigned long long) st.st_ino);
    ck_assert(!log_fd_is_journal(fd, env));
    close(fd);
    close(other);
    unlink(name);
}
END_TEST

static Suite *
log_suite(void)
{
    Suite *s = suite_create("log");

    fixture_add_case(s, "lets a burst through then suppresses",
                     test_lets_a_burst_through_then_suppresses, NULL, NULL);
    fixture_add_case(s, "refills at the sustained rate",
                     test_refills_at_the_sustained_rate, NULL, NULL);
    fixture_add_case(s, "a long pause refills no more than the burst",
                     test_a_long_pause_refills_no_more_than_the_burst,
                     NULL, NULL);
    fixture_add_case(s, "a clock going back refills nothing",
                     test_a_clock_going_back_refills_nothing, NULL, NULL);
    fixture_add_case(s, "says how many were suppressed",
                     test_says_how_many_were_suppressed, NULL, NULL);
    fixture_add_case(s, "a message is one line whatever it quotes",
                     test_a_message_is_one_line_whatever_it_quotes, NULL,
                     NULL);
    fixture_add_case(s, "a level below the threshold takes no token",
                     test_a_level_below_the_threshold_takes_no_token,
                     NULL, NULL);
    fixture_add_case(s, "a long message is cut between characters",
                     test_a_long_message_is_cut_between_characters, NULL,
                     NULL);
    fixture_add_case(s, "level names parse back to their levels",
                     test_level_names_parse_back_to_their_levels, NULL, NULL);
    fixture_add_case(s, "set level drops what is below it",
                     test_set_level_drops_what_is_below_it, NULL, NULL);
    fixture_add_case(s, "journal stream is recognised by identity",
                     test_journal_stream_is_recognised_by_identity, NULL,
                     NULL);
    return s;
}

int
main(void)
{
    return fixture_run(log_suite());
}
