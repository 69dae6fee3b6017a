#include <config.h>

/* libFuzzer target for the saved flow rules (flow-store.h): the input is
 * written as the journal, or as the snapshot if it starts as one does,
 * and loaded as vswitchd does when it starts.  Whatever loads must take
 * one more change and load again to the same rules and that change: a
 * torn or strange record must never lose what was saved after it. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow-store.h"
#include "log.h"

#define SNAPSHOT_HEADER "# vswitch flows 1\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char db[96], snapshot[128], journal[128];

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-flow-store: %s\n", what);
    abort();
}

static void
remove_files(void)
{
    unlink(snapshot);
    unlink(journal);
    rmdir(dir);
}

static void
write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *stream = fopen(path, "w");

    if (!stream || fwrite(data, 1, size, stream) != size || fclose(stream)) {
        fail("cannot write the input");
    }
}

/* Fails unless the rule 'id' of one store is in the other, the same. */
static void
expect_rule(const char *id, const char *text, void *other)
{
    const char *found = flow_store_find(other, id);

    if (!found || strcmp(found, text)) {
        fail("a rule loaded from the input was lost or changed");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t header = strlen(SNAPSHOT_HEADER);
    struct flow_store *s, *again;
    struct flow_store_txn *t;
    char error[256];

    if (!*dir) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-flow-store-XXXXXX");
        if (!mkdtemp(dir)) {
            fail("cannot make a directory");
        }
        snprintf(db, sizeof db, "%s/conf.db", dir);
        snprintf(snapshot, sizeof snapshot, "%s.flows", db);
        snprintf(journal, sizeof journal, "%s.flows.log", db);
        atexit(remove_files);
        log_set_level(LOG_LEVEL_ERR);   /* Torn records are the point. */
    }
    unlink(snapshot);
    unlink(journal);
    if (size >= header && !memcmp(data, SNAPSHOT_HEADER, header)) {
        write_file(snapshot, data, size);
    } else {
        write_file(journal, data, size);
    }

    s = flow_store_create(db);
    if (flow_store_load(s, error, sizeof error)) {
        flow_store_destroy(s);
        return 0;
    }
    t = flow_store_txn_create();
    flow_store_txn_set(t, "fuzz\x01", "after");
    if (flow_store_save(s, t, error, sizeof error)) {
        fail(error);
    }
    flow_store_apply(s, t);
    flow_store_txn_destroy(t);

    again = flow_store_create(db);
    if (flow_store_load(again, error, sizeof error)) {
        fail("what loaded and took a change does not load");
    }
    if (flow_store_count(again) != flow_store_count(s)) {
        fail("a change after the input gave other rules");
    }
    flow_store_for_each(s, expect_rule, again);
    flow_store_destroy(again);
    flow_store_destroy(s);
    return 0;
}
