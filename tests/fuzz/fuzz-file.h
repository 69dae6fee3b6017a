#ifndef TESTS_FUZZ_FUZZ_FILE_H
#define TESTS_FUZZ_FUZZ_FILE_H 1

#include <stddef.h>
#include <stdint.h>

/* For targets whose code under test reads a file: writes the 'size' bytes
 * at 'data' to a temporary file, the same one on every call (removed at
 * exit), and returns its name.  Aborts if it cannot. */
const char *fuzz_file_write(const uint8_t *data, size_t size);

#endif /* tests/fuzz/fuzz-file.h */
