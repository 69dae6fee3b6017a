#include <config.h>

#include "sockopt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int
sockopt_set_all(int fd, const struct sockopt *opts, size_t n, char *error,
                size_t error_size)
{
    for (size_t i = 0; i < n; i++) {
        if (setsockopt(fd, opts[i].level, opts[i].name, &opts[i].value,
                       sizeof opts[i].value) && !opts[i].optional) {
            int err = errno;

            snprintf(error, error_size, "setsockopt %s: %s", opts[i].text,
                     strerror(err));
            return err;
        }
    }
    return 0;
}
