#include <config.h>

/* libFuzzer target for the configuration file: the input is written to a
 * file, read with config_store_load() and checked with
 * config_edit_replay(), as vswitchd does when it starts.  A configuration
 * that replays must replay again to itself: the editing functions must
 * accept what they made. */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config-edit.h"
#include "config-store.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/fuzz-config-XXXXXX";

static void __attribute__((noreturn))
fail(const char *what)
{
    fprintf(stderr, "fuzz-config: %s\n", what);
    abort();
}

static void
remove_file(void)
{
    unlink(path);
}

/* Replaces the contents of the file at 'path' with the input. */
static void
write_input(const uint8_t *data, size_t size)
{
    static int fd = -1;

    if (fd < 0) {
        fd = mkstemp(path);
        if (fd < 0) {
            fail("cannot make a temporary file");
        }
        atexit(remove_file);
    }
    if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t) size) {
        fail("cannot write the temporary file");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char error[REQUEST_ERROR_SIZE];
    Vswitch__Config *saved, *config, *again;

    write_input(data, size);
    if (config_store_load(path, &saved, error, sizeof error)) {
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
