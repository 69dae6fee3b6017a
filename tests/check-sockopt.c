#include <config.h>

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "sockopt.h"
#include "util.h"

static int
get_int(int fd, int level, int name)
{
    int value = -1;
    socklen_t len = sizeof value;

    ck_assert_int_eq(getsockopt(fd, level, name, &value, &len), 0);
    return value;
}

START_TEST(test_sets_every_option)
{
    static const struct sockopt opts[] = {
        { IPPROTO_IP, IP_TTL, 17, "IP_TTL", false },
        { IPPROTO_IP, IP_TOS, 0x20, "IP_TOS", false },
    };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char error[64] = "";

    ck_assert_int_eq(sockopt_set_all(fd, opts, ARRAY_SIZE(opts), error,
                                     sizeof error), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_TTL), 17);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_TOS), 0x20);
    ck_assert_str_eq(error, "");
    close(fd);
}
END_TEST

/* An IPv6 option on an IPv4 socket fails: required, it stops the list and
 * is named; optional, it is passed over. */
START_TEST(test_names_a_required_option_that_fails)
{
    static const struct sockopt opts[] = {
        { IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", false },
        { IPPROTO_IP, IP_TTL, 17, "IP_TTL", false },
    };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char error[64] = "";
    int ttl = get_int(fd, IPPROTO_IP, IP_TTL);

    ck_assert_int_ne(sockopt_set_all(fd, opts, ARRAY_SIZE(opts), error,
                                     sizeof error), 0);
    ck_assert_ptr_nonnull(strstr(error, "setsockopt IPV6_V6ONLY: "));
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_TTL), ttl);
    close(fd);
}
END_TEST

START_TEST(test_passes_over_an_optional_option_that_fails)
{
    static const struct sockopt opts[] = {
        { IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY", true },
        { IPPROTO_IP, IP_TTL, 17, "IP_TTL", false },
    };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char error[64] = "";

    ck_assert_int_eq(sockopt_set_all(fd, opts, ARRAY_SIZE(opts), error,
                                     sizeof error), 0);
    ck_assert_int_eq(get_int(fd, IPPROTO_IP, IP_TTL), 17);
    close(fd);
}
END_TEST

static Suite *
sockopt_suite(void)
{
    Suite *s = suite_create("sockopt");

    fixture_add_case(s, "sets every option", test_sets_every_option, NULL,
                     NULL);
    fixture_add_case(s, "names a required option that fails",
                     test_names_a_required_option_that_fails, NULL, NULL);
    fixture_add_case(s, "passes over an optional option that fails",
                     test_passes_over_an_optional_option_that_fails, NULL,
                     NULL);
    return s;
}

int
main(void)
{
    return fixture_run(sockopt_suite());
}
