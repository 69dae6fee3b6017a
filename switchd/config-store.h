#ifndef SWITCHD_CONFIG_STORE_H
#define SWITCHD_CONFIG_STORE_H 1

#include <stddef.h>
#include <stdint.h>

#include "vswitch.pb-c.h"

/* The configuration file: one Vswitch__Config message, replaced as a whole
 * and atomically after every change, so that a crash at any moment leaves
 * either the old or the new configuration, never a mix or nothing. */

#define CONFIG_FORMAT 1

/* Reads the configuration at 'path' into '*config' (the caller frees it
 * with vswitch__config__free_unpacked()).  A missing file is an empty
 * configuration.  Returns 0, or an errno value with a one-line reason in
 * 'error' if the file cannot be read or is not a configuration of a format
 * this daemon knows; the file is never touched. */
int config_store_load(const char *path, Vswitch__Config **config,
                      char *error, size_t error_size);

/* Writes 'config' to 'path': a temporary file beside it, fsync, rename over
 * 'path', fsync of the directory.  Returns 0 or an errno value with a
 * reason in 'error'; on failure 'path' still holds what it held. */
int config_store_save(const char *path, const Vswitch__Config *config,
                      char *error, size_t error_size);

/* Replaces the file 'path' with the 'size' bytes of 'data' in the same
 * manner.  Returns 0 or an errno value with a reason in 'error'. */
int config_store_replace(const char *path, const uint8_t *data, size_t size,
                         char *error, size_t error_size);

/* Reads the whole regular file open on 'fd' into '*data' (the caller
 * frees it; one byte more is allocated) and '*size'.  Returns 0, EFBIG
 * for a file that is not regular or is over 'max_size', or an errno
 * value. */
int config_store_read_all(int fd, size_t max_size, uint8_t **data,
                          size_t *size);

/* Writes all of 'data' to 'fd'.  Returns 0 or an errno value. */
int config_store_write_all(int fd, const uint8_t *data, size_t size);

/* Syncs the directory that holds 'path', so that a rename or a new file
 * in it survives a power cut.  Returns 0 or an errno value. */
int config_store_sync_directory(const char *path);

/* Returns a new, empty configuration, or NULL if memory is short. */
Vswitch__Config *config_store_empty(void);

#endif /* switchd/config-store.h */
