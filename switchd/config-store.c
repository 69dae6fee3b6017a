#include <config.h>

#include "config-store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Configurations are small; a larger file is not one of ours. */
#define CONFIG_MAX_SIZE (16u << 20)

Vswitch__Config *
config_store_empty(void)
{
    Vswitch__Config *config = malloc(sizeof *config);

    if (config) {
        vswitch__config__init(config);
        config->format = CONFIG_FORMAT;
        config->end_marker = true;
    }
    return config;
}

int
config_store_read_all(int fd, size_t max_size, uint8_t **data,
                      size_t *size)
{
    struct stat st;

    if (fstat(fd, &st)) {
        return errno;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > max_size) {
        return EFBIG;
    }

    uint8_t *buf = malloc((size_t) st.st_size + 1);
    size_t done = 0;

    if (!buf) {
        return ENOMEM;
    }
    while (done < (size_t) st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t) st.st_size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int error = n < 0 ? errno : EIO;

            free(buf);
            return error;
        }
        done += (size_t) n;
    }
    *data = buf;
    *size = done;
    return 0;
}

int
config_store_load(const char *path, Vswitch__Config **config, char *error,
                  size_t error_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT) {
            *config = config_store_empty();
            return *config ? 0 : ENOMEM;
        }
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return errno;
    }

    uint8_t *data = NULL;
    size_t size = 0;
    int err = config_store_read_all(fd, CONFIG_MAX_SIZE, &data, &size);

    close(fd);
    if (err) {
        snprintf(error, error_size, "%s: %s", path,
                 err == EFBIG ? "not a configuration file" : strerror(err));
        return err;
    }
    *config = vswitch__config__unpack(NULL, size, data);
    free(data);
    if (!*config) {
        snprintf(error, error_size, "%s: corrupt configuration (not a "
                 "vswitch configuration message); the file was left as it "
                 "is", path);
        return EINVAL;
    }
    if ((*config)->format != CONFIG_FORMAT) {
        snprintf(error, error_size, "%s: configuration format %u, this "
                 "vswitchd reads format %u", path, (*config)->format,
                 CONFIG_FORMAT);
        vswitch__config__free_unpacked(*config, NULL);
        *config = NULL;
        return EINVAL;
    }
    return 0;
}

int
config_store_write_all(int fd, const uint8_t *data, size_t size)
{
    while (size) {
        ssize_t n = write(fd, data, size);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        data += n;
        size -= (size_t) n;
    }
    return 0;
}

int
config_store_sync_directory(const char *path)
{
    char *copy = strdup(path);
    int error = 0;

    if (!copy) {
        return ENOMEM;
    }

    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd)) {
        error = errno;
    }
    if (fd >= 0) {
        close(fd);
    }
    free(copy);
    return error;
}

int
config_store_save(const char *path, const Vswitch__Config *config,
                  char *error, size_t error_size)
{
    size_t size = vswitch__config__get_packed_size(config);
    uint8_t *data = malloc(size ? size : 1);
    int err;

    if (!data) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    vswitch__config__pack(config, data);
    err = config_store_replace(path, data, size, error, error_size);
    free(data);
    return err;
}

int
config_store_replace(const char *path, const uint8_t *data, size_t size,
                     char *error, size_t error_size)
{
    char tmp[4096];
    int err = 0;

    if ((size_t) snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        /* A cut temporary name could be 'path' itself, which would then be
         * rewritten in place instead of replaced. */
        snprintf(error, error_size, "cannot save configuration to %s: %s",
                 path, strerror(ENAMETOOLONG));
        return ENAMETOOLONG;
    }

    /* A leftover temporary file is ours (the daemon holds the database's
     * lock), and whatever was planted in its place, such as a link to a
     * file of root's, must not be written through: make it anew. */
    unlink(tmp);

    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);

    if (fd < 0) {
        err = errno;
    } else {
        err = config_store_write_all(fd, data, size);
        if (!err && fsync(fd)) {
            err = errno;
        }
        if (close(fd) && !err) {
            err = errno;
        }
    }
    if (!err && rename(tmp, path)) {
        err = errno;
    }
    if (err) {
        snprintf(error, error_size, "cannot save configuration to %s: %s",
                 path, strerror(err));
        unlink(tmp);
    } else {
        /* The new file is in place whatever happens now; syncing the
         * directory only makes the rename itself survive a power cut, so
         * its failure does not undo the change. */
        config_store_sync_directory(path);
    }
    return err;
}
