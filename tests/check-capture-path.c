#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture-path.h"
#include "fixture.h"
#include "port.h"
#include "util.h"

/* The rules for the capture files that clients name, on a capture
 * directory and an outside directory under one temporary directory that
 * each test makes afresh and removes ("rm -r" does it, whatever the test
 * left). */

#define NOBODY 65534
#define OK VSWITCH__STATUS__STATUS_OK
#define DENIED VSWITCH__STATUS__STATUS_DENIED

/* Clients: root, and nobody with or without the test's own group among
 * its supplementary groups (files the test makes have that group). */
static const struct capture_client root_client = { 0, 0, NULL, 0 };
static const struct capture_client nobody = { NOBODY, NOBODY, NULL, 0 };
static gid_t test_group[1];
static const struct capture_client member = { NOBODY, NOBODY, test_group,
                                              1 };

static char top[] = "/tmp/check-capture-path-XXXXXX";
static char pcap_dir[64], outside[64], db[64];
static struct capture_path *cp;
static char error[512];

static void
setup(void)
{
    const char *own[] = { db };

    /* The clients the tests name are other users than the daemon's. */
    fixture_need_root("telling clients from the daemon's user");
    test_group[0] = getegid();
    ck_assert_ptr_nonnull(mkdtemp(top));
    snprintf(pcap_dir, sizeof pcap_dir, "%s/pcap", top);
    snprintf(outside, sizeof outside, "%s/outside", top);
    snprintf(db, sizeof db, "%s/pcap/conf.db", top);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    ck_assert_int_eq(capture_path_create(pcap_dir, (gid_t) -1, own, 1, &cp,
                                         error, sizeof error), 0);
}

static void
teardown(void)
{
    char cmd[128];

    capture_path_destroy(cp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(top, "/tmp/check-capture-path-XXXXXX");
}

static void
write_text(const char *dir, const char *name, const char *text)
{
    char file[256];
    FILE *stream;

    snprintf(file, sizeof file, "%s/%s", dir, name);
    stream = fopen(file, "w");
    ck_assert_ptr_nonnull(stream);
    fputs(text, stream);
    ck_assert_int_eq(fclose(stream), 0);
}

/* Checks, as 'client', a configuration whose one pcap port has option
 * 'key' (rx or tx) 'value', against 'old_value' in effect (NULL: no port
 * yet). */
static Vswitch__Status
check_opt(const struct capture_client *client, const char *key,
          const char *value, const char *old_value)
{
    Vswitch__Option opt = VSWITCH__OPTION__INIT, old_opt;
    Vswitch__Option *opts[] = { &opt }, *old_opts[] = { &old_opt };
    Vswitch__PortConfig pc = VSWITCH__PORT_CONFIG__INIT, old_pc;
    Vswitch__PortConfig *ports[] = { &pc }, *old_ports[] = { &old_pc };
    Vswitch__Config new = VSWITCH__CONFIG__INIT, old = VSWITCH__CONFIG__INIT;

    opt.key = (char *) key;
    opt.value = (char *) value;
    pc.name = (char *) "cap0";
    pc.type = (char *) "pcap";
    pc.n_options = 1;
    pc.options = opts;
    new.n_ports = 1;
    new.ports = ports;
    old_opt = opt;
    old_opt.value = (char *) old_value;
    old_pc = pc;
    old_pc.options = old_opts;
    old.n_ports = old_value ? 1 : 0;
    old.ports = old_ports;
    error[0] = '\0';
    return capture_path_check_config(cp, client, &old, &new, error,
                                     sizeof error);
}

static Vswitch__Status
check_tx(const struct capture_client *client, const char *tx,
         const char *old_tx)
{
    return check_opt(client, "tx", tx, old_tx);
}

START_TEST(test_anyone_names_a_file_in_the_directory)
{
    char file[128];

    ck_assert_int_eq(check_tx(&nobody, "new.pcap", NULL), OK);
    snprintf(file, sizeof file, "%s/new.pcap", pcap_dir);
    ck_assert_int_eq(access(file, F_OK), -1);
}
END_TEST

START_TEST(test_only_root_names_a_file_outside)
{
    char file[128];

    snprintf(file, sizeof file, "%s/out.pcap", outside);
    ck_assert_int_eq(check_tx(&nobody, file, NULL), DENIED);
    ck_assert_msg(strstr(error, "only root") != NULL, "%s", error);
    ck_assert_int_eq(check_tx(&root_client, file, NULL), OK);
}
END_TEST

START_TEST(test_an_absolute_name_inside_asks_for_the_relative_one)
{
    char file[128];

    snprintf(file, sizeof file, "%s/x.pcap", pcap_dir);
    ck_assert_int_eq(check_tx(&nobody, file, NULL), DENIED);
    ck_assert_msg(strstr(error, "relative to the capture directory")
                  != NULL, "%s", error);
}
END_TEST

START_TEST(test_dot_dot_does_not_leave_the_directory)
{
    ck_assert_int_eq(check_tx(&nobody, "../outside/x.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "\"..\"") != NULL, "%s", error);
    ck_assert_int_eq(check_tx(&root_client, "../outside/x.pcap", NULL),
                     DENIED);
}
END_TEST

START_TEST(test_follows_no_link_on_the_way)
{
    char link[128];

    snprintf(link, sizeof link, "%s/sub", pcap_dir);
    ck_assert_int_eq(symlink(outside, link), 0);
    ck_assert_int_eq(check_tx(&nobody, "sub/x.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "symbolic links are not followed") != NULL,
                  "%s", error);
    /* The same for root: a relative name is confined for everyone, so
     * that the daemon replaying its configuration as root keeps a name a
     * client gave inside the directory. */
    ck_assert_int_eq(check_tx(&root_client, "sub/x.pcap", NULL), DENIED);
}
END_TEST

START_TEST(test_follows_no_link_at_the_end)
{
    char link[128], target[128];

    snprintf(target, sizeof target, "%s/secret", outside);
    write_text(outside, "secret", "precious\n");
    snprintf(link, sizeof link, "%s/x.pcap", pcap_dir);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(check_tx(&nobody, "x.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "symbolic link") != NULL, "%s", error);
}
END_TEST

START_TEST(test_never_the_daemons_own_files)
{
    char tmp[128];

    /* By place, before the file exists. */
    ck_assert_int_eq(check_tx(&root_client, db, NULL), DENIED);
    ck_assert_msg(strstr(error, "daemon's own files") != NULL, "%s",
                  error);
    ck_assert_int_eq(check_tx(&nobody, "conf.db", NULL), DENIED);
    /* By identity, under another name. */
    write_text(pcap_dir, "conf.db", "");
    snprintf(tmp, sizeof tmp, "%s/other-name", outside);
    ck_assert_int_eq(link(db, tmp), 0);
    ck_assert_int_eq(check_tx(&root_client, tmp, NULL), DENIED);
}
END_TEST

/* A client may change what else a port does without naming its files
 * again, such as a port root gave a file outside. */
START_TEST(test_checks_only_ports_whose_options_change)
{
    char file[128];

    snprintf(file, sizeof file, "%s/out.pcap", outside);
    ck_assert_int_eq(check_tx(&nobody, file, file), OK);
    ck_assert_int_eq(check_tx(&nobody, file, "other.pcap"), DENIED);
}
END_TEST

/* Makes 'name' in 'dir' with 'mode', a capture file, or a directory if
 * 'name' ends with a slash; returns its path. */
static const char *
make(const char *dir, const char *name, mode_t mode)
{
    static char path[256];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (name[strlen(name) - 1] == '/') {
        ck_assert_int_eq(mkdir(path, mode), 0);
    } else {
        write_text(dir, name, "\xd4\xc3\xb2\xa1");
    }
    ck_assert_int_eq(chmod(path, mode), 0);
    return path;
}

/* A client may not make the daemon read or write what it could not. */
START_TEST(test_a_client_may_not_use_a_file_it_could_not)
{
    make(pcap_dir, "root.pcap", 0600);
    ck_assert_int_eq(check_tx(&nobody, "root.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "you may not write it") != NULL, "%s",
                  error);
    ck_assert_int_eq(check_opt(&nobody, "rx", "root.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "you may not read it") != NULL, "%s",
                  error);
    ck_assert_int_eq(check_tx(&root_client, "root.pcap", NULL), OK);

    /* The group's bits for a member of the file's group, by its
     * supplementary groups too. */
    make(pcap_dir, "group.pcap", 0640);
    ck_assert_int_eq(check_opt(&member, "rx", "group.pcap", NULL), OK);
    ck_assert_int_eq(check_tx(&member, "group.pcap", NULL), DENIED);
    ck_assert_int_eq(check_opt(&nobody, "rx", "group.pcap", NULL), DENIED);
    make(pcap_dir, "shared.pcap", 0660);
    ck_assert_int_eq(check_tx(&member, "shared.pcap", NULL), OK);
    make(pcap_dir, "world.pcap", 0666);
    ck_assert_int_eq(check_tx(&nobody, "world.pcap", NULL), OK);
}
END_TEST

START_TEST(test_a_client_enters_only_directories_it_could)
{
    make(pcap_dir, "priv/", 0700);
    make(pcap_dir, "priv/x.pcap", 0666);
    ck_assert_int_eq(check_tx(&nobody, "priv/x.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "you may not enter directory priv")
                  != NULL, "%s", error);
    ck_assert_int_eq(check_opt(&nobody, "rx", "priv/x.pcap", NULL), DENIED);
    ck_assert_int_eq(check_tx(&nobody, "priv/new.pcap", NULL), DENIED);
    ck_assert_int_eq(check_tx(&root_client, "priv/x.pcap", NULL), OK);

    /* Every directory on the way. */
    make(pcap_dir, "open/", 0777);
    make(pcap_dir, "open/priv/", 0750);
    make(pcap_dir, "open/priv/deeper/", 0777);
    ck_assert_int_eq(check_tx(&nobody, "open/priv/deeper/x.pcap", NULL),
                     DENIED);
    ck_assert_msg(strstr(error, "you may not enter directory priv")
                  != NULL, "%s", error);
    ck_assert_int_eq(check_tx(&member, "open/priv/deeper/x.pcap", NULL),
                     OK);
}
END_TEST

/* A new file only in the capture directory itself (the daemon's grant)
 * or in a directory the client may write. */
START_TEST(test_a_client_creates_only_where_it_could)
{
    make(pcap_dir, "ro/", 0755);
    ck_assert_int_eq(check_tx(&nobody, "ro/new.pcap", NULL), DENIED);
    ck_assert_msg(strstr(error, "you may not create files in its "
                         "directory") != NULL, "%s", error);
    make(pcap_dir, "group/", 0770);
    ck_assert_int_eq(check_tx(&nobody, "group/new.pcap", NULL), DENIED);
    ck_assert_int_eq(check_tx(&member, "group/new.pcap", NULL), OK);
    ck_assert_int_eq(check_tx(&nobody, "./new.pcap", NULL), OK);
    ck_assert_int_eq(check_tx(&nobody, "new.pcap", NULL), OK);
}
END_TEST

/* The daemon's own opening resolves a relative name in the directory,
 * wherever the daemon runs. */
START_TEST(test_daemon_opens_relative_names_in_the_directory)
{
    const struct port_files *files = capture_path_files(cp);
    struct stat st;
    char file[128];
    mode_t mask = umask(022);
    int fd;

    ck_assert_int_eq(files->open(files, "tx", "made.pcap", O_RDWR | O_CREAT,
                                 false, &fd, error, sizeof error), 0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(file, sizeof file, "%s/made.pcap", pcap_dir);
    ck_assert_int_eq(stat(file, &st), 0);
    umask(mask);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
}
END_TEST

START_TEST(test_the_directory_must_be_one)
{
    struct capture_path *other;
    char file[128];

    write_text(outside, "file", "");
    snprintf(file, sizeof file, "%s/file", outside);
    ck_assert_int_eq(capture_path_create(file, (gid_t) -1, NULL, 0, &other,
                                         error, sizeof error), ENOTDIR);
    ck_assert_ptr_null(other);
    ck_assert_msg(strstr(error, file) != NULL, "%s", error);
}
END_TEST

/* One that others could fill with links or swap files in is refused. */
START_TEST(test_the_directory_must_be_the_daemons)
{
    struct capture_path *other;
    char dir[128];

    snprintf(dir, sizeof dir, "%s/wide", outside);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(chmod(dir, 01777), 0);
    ck_assert_int_eq(capture_path_create(dir, (gid_t) -1, NULL, 0, &other,
                                         error, sizeof error), EPERM);
    ck_assert_ptr_null(other);
    ck_assert_msg(strstr(error, "writable by others") != NULL, "%s",
                  error);

    /* Group-writable only for the group that may change the
     * configuration. */
    ck_assert_int_eq(chmod(dir, 0770), 0);
    ck_assert_int_eq(capture_path_create(dir, (gid_t) -1, NULL, 0, &other,
                                         error, sizeof error), EPERM);
    ck_assert_int_eq(capture_path_create(dir, getegid() + 1, NULL, 0,
                                         &other, error, sizeof error),
                     EPERM);
    ck_assert_int_eq(capture_path_create(dir, getegid(), NULL, 0, &other,
                                         error, sizeof error), 0);
    capture_path_destroy(other);

    /* Someone else's, such as a user's home. */
    if (geteuid() == 0) {
        ck_assert_int_eq(chmod(dir, 0750), 0);
        ck_assert_int_eq(chown(dir, NOBODY, (gid_t) -1), 0);
        ck_assert_int_eq(capture_path_create(dir, (gid_t) -1, NULL, 0,
                                             &other, error, sizeof error),
                         EPERM);
        ck_assert_msg(strstr(error, "not by the daemon's user") != NULL,
                      "%s", error);
    }
}
END_TEST

static Suite *
capture_path_suite(void)
{
    Suite *s = suite_create("capture-path");

    fixture_add_case(s, "anyone names a file in the directory",
                     test_anyone_names_a_file_in_the_directory, setup,
                     teardown);
    fixture_add_case(s, "only root names a file outside",
                     test_only_root_names_a_file_outside, setup, teardown);
    fixture_add_case(s, "an absolute name inside asks for the relative one",
                     test_an_absolute_name_inside_asks_for_the_relative_one,
                     setup, teardown);
    fixture_add_case(s, "dot-dot does not leave the directory",
                     test_dot_dot_does_not_leave_the_directory, setup,
                     teardown);
    fixture_add_case(s, "follows no link on the way",
                     test_follows_no_link_on_the_way, setup, teardown);
    fixture_add_case(s, "follows no link at the end",
                     test_follows_no_link_at_the_end, setup, teardown);
    fixture_add_case(s, "never the daemon's own files",
                     test_never_the_daemons_own_files, setup, teardown);
    fixture_add_case(s, "checks only ports whose options change",
                     test_checks_only_ports_whose_options_change, setup,
                     teardown);
    fixture_add_case(s, "a client may not use a file it could not",
                     test_a_client_may_not_use_a_file_it_could_not, setup,
                     teardown);
    fixture_add_case(s, "a client enters only directories it could",
                     test_a_client_enters_only_directories_it_could, setup,
                     teardown);
    fixture_add_case(s, "a client creates only where it could",
                     test_a_client_creates_only_where_it_could, setup,
                     teardown);
    fixture_add_case(s, "daemon opens relative names in the directory",
                     test_daemon_opens_relative_names_in_the_directory,
                     setup, teardown);
    fixture_add_case(s, "the directory must be one",
                     test_the_directory_must_be_one, setup, teardown);
    fixture_add_case(s, "the directory must be the daemon's",
                     test_the_directory_must_be_the_daemons, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(capture_path_suite());
}
