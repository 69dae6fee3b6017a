#include <config.h>

#include "dstring.h"
#include "fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_empty_string_reads_as_empty)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    ck_assert_str_eq(ds_cstr(&ds), "");
    ds_truncate(&ds, 0);
    ds_clear(&ds);
    ck_assert_uint_eq(ds.length, 0);

    char *s = ds_steal_cstr(&ds);

    ck_assert_str_eq(s, "");
    free(s);
    ds_destroy(&ds);
    ds_destroy(&ds);
}
END_TEST

START_TEST(test_puts_append)
{
    struct ds ds;

    ds_init(&ds);
    ds_put_cstr(&ds, "table=");
    ds_put_format(&ds, "%d,priority=%u", 3, 100u);
    ds_put_char(&ds, ',');
    ds_put_cstr(&ds, "");
    ck_assert_str_eq(ds_cstr(&ds), "table=3,priority=100,");
    ck_assert_uint_eq(ds.length, strlen("table=3,priority=100,"));
    ds_truncate(&ds, 7);
    ck_assert_str_eq(ds_cstr(&ds), "table=3");
    /* Truncating to more than there is changes nothing. */
    ds_truncate(&ds, 100);
    ck_assert_str_eq(ds_cstr(&ds), "table=3");
    ds_clear(&ds);
    ck_assert_str_eq(ds_cstr(&ds), "");
    ds_put_char(&ds, 'x');
    ck_assert_str_eq(ds_cstr(&ds), "x");
    ds_destroy(&ds);
    ck_assert_ptr_null(ds.string);
    ck_assert_uint_eq(ds.length, 0);
}
END_TEST

START_TEST(test_grows_past_its_allocation)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    char want[5001];

    /* Formats longer than the room left take the second vsnprintf(). */
    for (int i = 0; i < 50; i++) {
        ds_put_format(&ds, "%0100d", i);
        snprintf(want + i * 100, 101, "%0100d", i);
    }
    ck_assert_uint_eq(ds.length, 5000);
    ck_assert_uint_gt(ds.allocated, ds.length);
    ck_assert_str_eq(ds_cstr(&ds), want);

    /* One char at a time across every boundary. */
    ds_clear(&ds);
    for (int i = 0; i < 3000; i++) {
        ds_put_char(&ds, (char) ('a' + i % 26));
    }
    ck_assert_uint_eq(ds.length, 3000);
    ck_assert_uint_eq(strlen(ds_cstr(&ds)), 3000);
    ck_assert_int_eq(ds_cstr(&ds)[2999], 'a' + 2999 % 26);

    char *s = ds_steal_cstr(&ds);

    ck_assert_uint_eq(strlen(s), 3000);
    ck_assert_ptr_null(ds.string);
    ck_assert_str_eq(ds_cstr(&ds), "");
    free(s);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("dstring");

    fixture_add_case(s, "an empty string reads as empty",
                     test_empty_string_reads_as_empty, NULL, NULL);
    fixture_add_case(s, "puts append", test_puts_append, NULL, NULL);
    fixture_add_case(s, "grows past its allocation",
                     test_grows_past_its_allocation, NULL, NULL);
    return fixture_run(s);
}
