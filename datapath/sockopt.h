#ifndef DATAPATH_SOCKOPT_H
#define DATAPATH_SOCKOPT_H 1

#include <stdbool.h>
#include <stddef.h>

/* Integer socket options set as a table, so that a socket's whole set-up
 * reads as one list and a failure names the option. */
struct sockopt {
    int level;
    int name;
    int value;
    const char *text;           /* The option's name, for the error. */
    bool optional;              /* A refinement older kernels lack. */
};

/* Sets each of the 'n' options in 'opts' on 'fd', skipping optional ones
 * that fail.  Returns 0, or an errno value with the option that failed
 * in 'error'. */
int sockopt_set_all(int fd, const struct sockopt *opts, size_t n,
                    char *error, size_t error_size);

#endif /* datapath/sockopt.h */
