#include <config.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "flow-store.h"
#include "util.h"

/* Each test works in a directory of its own, removed afterwards. */
static char dir[64];
static char db[128];
static char journal[PATH_MAX];
static char snapshot[PATH_MAX];

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check-flow-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/conf.db", dir);
    snprintf(snapshot, sizeof snapshot, "%s.flows", db);
    snprintf(journal, sizeof journal, "%s.flows.log", db);
}

static void
teardown(void)
{
    fixture_remove_tree(dir);
}

static off_t
file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) ? -1 : st.st_size;
}

/* Saves and applies one transaction that sets rule 'id' to 'text' (or
 * removes it if 'text' is NULL). */
static void
save_one(struct flow_store *s, const char *id, const char *text)
{
    struct flow_store_txn *t = flow_store_txn_create();
    char error[256];

    if (text) {
        flow_store_txn_set(t, id, text);
    } else {
        flow_store_txn_remove(t, id);
    }
    ck_assert_int_eq(flow_store_save(s, t, error, sizeof error), 0);
    flow_store_apply(s, t);
    flow_store_txn_destroy(t);
}

static struct flow_store *
reload(void)
{
    struct flow_store *s = flow_store_create(db);
    char error[256];

    ck_assert_int_eq(flow_store_load(s, error, sizeof error), 0);
    return s;
}

START_TEST(test_saves_and_replays_changes)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store *again;

    save_one(s, "table=0,priority=1,", "priority=1,actions=drop");
    save_one(s, "table=0,priority=2,", "priority=2,actions=normal");
    save_one(s, "table=0,priority=1,", "priority=1,actions=flood");
    save_one(s, "table=0,priority=2,", NULL);
    again = reload();
    ck_assert_uint_eq(flow_store_count(again), 1);
    ck_assert_str_eq(flow_store_find(again, "table=0,priority=1,"),
                     "priority=1,actions=flood");
    ck_assert_ptr_null(flow_store_find(again, "table=0,priority=2,"));
    flow_store_destroy(again);
    flow_store_destroy(s);
}
END_TEST

START_TEST(test_missing_files_hold_no_rules)
{
    struct flow_store *s = reload();

    ck_assert_uint_eq(flow_store_count(s), 0);
    flow_store_destroy(s);
}
END_TEST

START_TEST(test_clear_removes_every_rule)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store_txn *t = flow_store_txn_create();
    struct flow_store *again;
    char error[256];

    save_one(s, "a", "a,actions=drop");
    save_one(s, "b", "b,actions=drop");
    flow_store_txn_clear(t);
    flow_store_txn_set(t, "c", "c,actions=drop");
    ck_assert_int_eq(flow_store_save(s, t, error, sizeof error), 0);
    flow_store_apply(s, t);
    flow_store_txn_destroy(t);
    ck_assert_uint_eq(flow_store_count(s), 1);
    again = reload();
    ck_assert_uint_eq(flow_store_count(again), 1);
    ck_assert_str_eq(flow_store_find(again, "c"), "c,actions=drop");
    flow_store_destroy(again);
    flow_store_destroy(s);
}
END_TEST

/* A crash in the middle of a save leaves part of a record: it was never
 * acknowledged, so it is dropped, and the next save follows the last
 * whole record. */
START_TEST(test_a_torn_last_record_is_ignored_and_cut_off)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store *again;
    off_t whole;
    FILE *f;

    save_one(s, "a", "a,actions=drop");
    whole = file_size(journal);
    f = fopen(journal, "a");
    ck_assert_ptr_nonnull(f);
    fputs("R 40 0badcafe\n+b\tb,actions=dr", f);
    fclose(f);
    flow_store_destroy(s);

    again = reload();
    ck_assert_uint_eq(flow_store_count(again), 1);
    ck_assert_ptr_null(flow_store_find(again, "b"));
    ck_assert_int_eq(file_size(journal), whole);
    save_one(again, "c", "c,actions=drop");
    flow_store_destroy(again);

    again = reload();
    ck_assert_uint_eq(flow_store_count(again), 2);
    ck_assert_str_eq(flow_store_find(again, "c"), "c,actions=drop");
    flow_store_destroy(again);
}
END_TEST

/* A record whose bytes are all there but changed is no record either. */
START_TEST(test_a_record_with_a_bad_checksum_is_ignored)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store *again;
    FILE *f;

    save_one(s, "a", "a,actions=drop");
    flow_store_destroy(s);
    f = fopen(journal, "a");
    fputs("R 15 00000000\n+b\tb,actions=x\n", f);
    fclose(f);
    again = reload();
    ck_assert_uint_eq(flow_store_count(again), 1);
    flow_store_destroy(again);
}
END_TEST

/* Saving one rule into a store of 65,536 appends its record and no more:
 * the cost of a save does not grow with the rules saved. */
START_TEST(test_one_save_writes_only_its_change)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store_txn *t = flow_store_txn_create();
    char id[64], text[64];
    off_t snap, before;

    for (int i = 0; i < 65536; i++) {
        snprintf(id, sizeof id, "table=0,priority=%d,", i);
        snprintf(text, sizeof text, "priority=%d,actions=drop", i);
        flow_store_txn_set(t, id, text);
    }
    flow_store_apply(s, t);
    flow_store_txn_destroy(t);
    flow_store_set_stale(s);
    save_one(s, "x", "x,actions=drop");
    snap = file_size(snapshot);
    ck_assert_int_gt(snap, 65536 * 20);
    before = file_size(journal);
    save_one(s, "y", "y,actions=drop");
    ck_assert_int_eq(file_size(snapshot), snap);
    ck_assert_int_lt(file_size(journal) - before, 64);
    flow_store_destroy(s);

    s = reload();
    ck_assert_uint_eq(flow_store_count(s), 65538);
    ck_assert_str_eq(flow_store_find(s, "table=0,priority=65535,"),
                     "priority=65535,actions=drop");
    flow_store_destroy(s);
}
END_TEST

/* Once the journal outgrows the snapshot, a save writes the snapshot anew
 * and starts the journal again. */
START_TEST(test_a_long_journal_is_compacted)
{
    struct flow_store *s = flow_store_create(db);
    char text[8192];
    bool compacted = false;

    /* Long lines, so that a few syncs fill the journal. */
    memset(text, 'x', sizeof text);
    for (int i = 0; i < 1000 && !compacted; i++) {
        snprintf(text + sizeof text - 32, 32, "%d", i);
        save_one(s, "table=0,priority=1,", text);
        compacted = file_size(snapshot) > 0;
    }
    ck_assert(compacted);
    ck_assert_int_lt(file_size(journal), FLOW_STORE_MIN_JOURNAL);
    flow_store_destroy(s);
    s = reload();
    ck_assert_uint_eq(flow_store_count(s), 1);
    ck_assert_str_eq(flow_store_find(s, "table=0,priority=1,"), text);
    flow_store_destroy(s);
}
END_TEST

START_TEST(test_refuses_a_file_that_is_not_ours)
{
    struct flow_store *s = flow_store_create(db);
    char error[256] = "";

    fixture_write_file(snapshot, "priority=1,actions=drop\n");
    ck_assert_int_eq(flow_store_load(s, error, sizeof error), EINVAL);
    ck_assert_ptr_nonnull(strstr(error, "not a flow file"));
    ck_assert_uint_eq(flow_store_count(s), 0);
    flow_store_destroy(s);
}
END_TEST

/* Rules set in memory only (the default rule of a configuration that
 * never had rules written) reach the files with the next save. */
START_TEST(test_a_stale_store_is_written_whole)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store_txn *t = flow_store_txn_create();

    fixture_write_file(journal, "R 25 00000000\nleft over by a crash\n");
    flow_store_txn_set(t, "default", "priority=0,actions=normal");
    flow_store_apply(s, t);
    flow_store_txn_destroy(t);
    flow_store_set_stale(s);
    save_one(s, "x", "x,actions=drop");
    flow_store_destroy(s);
    s = reload();
    ck_assert_uint_eq(flow_store_count(s), 2);
    ck_assert_str_eq(flow_store_find(s, "default"),
                     "priority=0,actions=normal");
    flow_store_destroy(s);
}
END_TEST

/* A save that fails leaves the journal in doubt: the next one writes the
 * rules whole, so that no later change is lost behind the failed one. */
START_TEST(test_after_a_failed_save_the_next_writes_the_rules_whole)
{
    struct flow_store *s = flow_store_create(db);
    struct flow_store_txn *t = flow_store_txn_create();
    char error[256];

    save_one(s, "a", "a,actions=drop");
    save_one(s, "b", "b,actions=drop");
    ck_assert_int_eq(unlink(journal), 0);
    ck_assert_int_eq(mkdir(journal, 0700), 0);
    flow_store_txn_set(t, "c", "c,actions=drop");
    ck_assert_int_ne(flow_store_save(s, t, error, sizeof error), 0);
    flow_store_txn_destroy(t);
    ck_assert_int_eq(rmdir(journal), 0);
    save_one(s, "d", "d,actions=drop");
    flow_store_destroy(s);

    s = reload();
    ck_assert_uint_eq(flow_store_count(s), 3);
    ck_assert_ptr_nonnull(flow_store_find(s, "a"));
    ck_assert_ptr_nonnull(flow_store_find(s, "b"));
    ck_assert_ptr_null(flow_store_find(s, "c"));
    ck_assert_ptr_nonnull(flow_store_find(s, "d"));
    flow_store_destroy(s);
}
END_TEST

START_TEST(test_save_into_a_missing_directory_fails)
{
    struct flow_store *s = flow_store_create("/nonexistent/dir/conf.db");
    struct flow_store_txn *t = flow_store_txn_create();
    char error[256] = "";

    flow_store_txn_set(t, "a", "a,actions=drop");
    ck_assert_int_ne(flow_store_save(s, t, error, sizeof error), 0);
    ck_assert_ptr_nonnull(strstr(error, "cannot save"));
    flow_store_txn_destroy(t);
    flow_store_destroy(s);
}
END_TEST

static Suite *
flow_store_suite(void)
{
    Suite *s = suite_create("flow-store");

    fixture_add_case(s, "saves and replays changes",
                     test_saves_and_replays_changes, setup, teardown);
    fixture_add_case(s, "missing files hold no rules",
                     test_missing_files_hold_no_rules, setup, teardown);
    fixture_add_case(s, "clear removes every rule",
                     test_clear_removes_every_rule, setup, teardown);
    fixture_add_case(s, "a torn last record is ignored and cut off",
                     test_a_torn_last_record_is_ignored_and_cut_off, setup,
                     teardown);
    fixture_add_case(s, "a record with a bad checksum is ignored",
                     test_a_record_with_a_bad_checksum_is_ignored, setup,
                     teardown);
    fixture_add_case(s, "one save writes only its change",
                     test_one_save_writes_only_its_change, setup, teardown);
    fixture_add_case(s, "a long journal is compacted",
                     test_a_long_journal_is_compacted, setup, teardown);
    fixture_add_case(s, "refuses a file that is not ours",
                     test_refuses_a_file_that_is_not_ours, setup, teardown);
    fixture_add_case(s, "a stale store is written whole",
                     test_a_stale_store_is_written_whole, setup, teardown);
    fixture_add_case(s, "after a failed save the next writes the rules "
                     "whole",
                     test_after_a_failed_save_the_next_writes_the_rules_whole,
                     setup, teardown);
    fixture_add_case(s, "save into a missing directory fails",
                     test_save_into_a_missing_directory_fails, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(flow_store_suite());
}
