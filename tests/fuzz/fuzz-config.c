#include <config.h>

/* libFuzzer target for the configuration file: the input is written to a
 * file, read with config_store_load() and checked with
 * config_edit_replay(), as vswitchd does when it starts.  A configuration
 * that replays must replay again to itself: the editing functions must
 * accept what they made. */

#include <stdio.h>
#include <stdlib.h>

#include "config-edit.h"
#include "config-store.h"
#include "fuzz-file.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-config: %s\n", what);
    abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char error[REQUEST_ERROR_SIZE];
    Vswitch__Config *saved, *config, *again;

    if (config_store_load(fuzz_file_write(data, size), &saved, error,
                          sizeof error)) {
        return 0;
    }
    if (!config_edit_replay(saved, &config, error, sizeof error)) {
        if (config_edit_replay(config, &again, error, sizeof error)) {
            fprintf(stderr, "fuzz-config: %s\n", error);
            fail("a replayed configuration does not replay");
        }
        if (!config_equal(&config->base, &again->base)) {
            fail("a replayed configuration replays to another");
        }
        vswitch__config__free_unpacked(again, NULL);
        vswitch__config__free_unpacked(config, NULL);
    }
    vswitch__config__free_unpacked(saved, NULL);
    return 0;
}
