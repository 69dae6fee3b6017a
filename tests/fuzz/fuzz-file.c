#include <config.h>

#include "fuzz-file.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char path[] = "/tmp/vswitch-fuzz-XXXXXX";

static void
remove_file(void)
{
    unlink(path);
}

const char *
fuzz_file_write(const uint8_t *data, size_t size)
{
    static int fd = -1;

    if (fd < 0) {
        fd = mkstemp(path);
        if (fd < 0) {
            perror("fuzz-file: mkstemp");
            abort();
        }
        atexit(remove_file);
    }
    if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t) size) {
        perror("fuzz-file: write");
        abort();
    }
    return path;
}
