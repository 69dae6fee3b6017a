#include <config.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-edit.h"
#include "config-store.h"
#include "fixture.h"
#include "util.h"

/* Each test works in a directory of its own, removed afterwards. */
static char dir[64];

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/check-config-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    fixture_remove_tree(dir);
}

/* Returns 'name' inside the test's directory, in one of a few static
 * buffers used in turn, so that a test can hold several names at once. */
static const char *
in_dir(const char *name)
{
    static char paths[4][PATH_MAX];
    static size_t next;
    char *path = paths[next++ % ARRAY_SIZE(paths)];

    snprintf(path, PATH_MAX, "%s/%s", dir, name);
    return path;
}

static uint8_t *
read_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    struct stat st;

    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(fstat(fd, &st), 0);

    uint8_t *data = malloc((size_t) st.st_size + 1);
    size_t done = 0;

    ck_assert_ptr_nonnull(data);
    while (done < (size_t) st.st_size) {
        ssize_t n = read(fd, data + done, (size_t) st.st_size - done);

        ck_assert_int_gt(n, 0);
        done += (size_t) n;
    }
    close(fd);
    *size = done;
    return data;
}

static void
write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
    ck_assert_int_eq(write(fd, data, size), (ssize_t) size);
    ck_assert_int_eq(close(fd), 0);
}

static uint8_t *
pack(const Vswitch__Config *config, size_t *size)
{
    *size = vswitch__config__get_packed_size(config);

    uint8_t *data = malloc(*size + 1);

    ck_assert_ptr_nonnull(data);
    vswitch__config__pack(config, data);
    return data;
}

/* Returns the names in the test's directory, sorted, separated by spaces,
 * in a static buffer. */
static const char *
dir_entries(void)
{
    static char list[1024];
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);

    ck_assert_int_ge(n, 0);
    list[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
            if (list[0]) {
                strcat(list, " ");
            }
            strcat(list, names[i]->d_name);
        }
        free(names[i]);
    }
    free(names);
    return list;
}

/* A configuration with something in every field, built on the stack:
 * config_store_save() only reads it. */
struct sample {
    Vswitch__Config config;
    Vswitch__PortConfig ports[3];
    Vswitch__PortConfig *portp[3];
    Vswitch__Option opts[3];
    Vswitch__Option *vxlan_optp[2];
    Vswitch__Option *pcap_optp[1];
    Vswitch__VniConfig vnis[2];
    Vswitch__VniConfig *vnip[2];
    char *flood[2];
    Vswitch__StaticMac macs[2];
    Vswitch__StaticMac *macp[2];
};

static void
option_init(Vswitch__Option *o, const char *key, const char *value)
{
    vswitch__option__init(o);
    o->key = (char *) key;
    o->value = (char *) value;
}

static void
port_init(Vswitch__PortConfig *p, const char *name, const char *type)
{
    vswitch__port_config__init(p);
    p->name = (char *) name;
    p->type = (char *) type;
}

static Vswitch__Config *
sample_init(struct sample *s)
{
    vswitch__config__init(&s->config);
    s->config.format = CONFIG_FORMAT;
    s->config.end_marker = true;

    option_init(&s->opts[0], "local_ip", "172.31.0.1");
    option_init(&s->opts[1], "dst_port", "8472");
    option_init(&s->opts[2], "rx", "/tmp/in.pcap");
    s->vxlan_optp[0] = &s->opts[0];
    s->vxlan_optp[1] = &s->opts[1];
    s->pcap_optp[0] = &s->opts[2];

    port_init(&s->ports[0], "vtep0", "vxlan");
    s->ports[0].n_options = 2;
    s->ports[0].options = s->vxlan_optp;
    port_init(&s->ports[1], "tap0", "tap");
    s->ports[1].has_vni = true;
    s->ports[1].vni = 5000;
    port_init(&s->ports[2], "cap0", "pcap");
    s->ports[2].n_options = 1;
    s->ports[2].options = s->pcap_optp;
    for (size_t i = 0; i < 3; i++) {
        s->portp[i] = &s->ports[i];
    }
    s->config.n_ports = 3;
    s->config.ports = s->portp;

    vswitch__vni_config__init(&s->vnis[0]);
    s->vnis[0].vni = 5000;
    s->flood[0] = "172.31.0.2";
    s->flood[1] = "fd00::3";
    s->vnis[0].n_flood = 2;
    s->vnis[0].flood = s->flood;
    s->vnis[0].has_ageing = true;
    s->vnis[0].ageing = 60;
    s->vnis[0].has_mac_limit = true;
    s->vnis[0].mac_limit = 100;
    vswitch__vni_config__init(&s->vnis[1]);
    s->vnis[1].vni = 6000;
    s->vnis[1].group = "239.1.1.1";
    s->vnip[0] = &s->vnis[0];
    s->vnip[1] = &s->vnis[1];
    s->config.n_vnis = 2;
    s->config.vnis = s->vnip;

    vswitch__static_mac__init(&s->macs[0]);
    s->macs[0].vni = 5000;
    s->macs[0].mac = "02:00:00:00:00:01";
    s->macs[0].port = "tap0";
    vswitch__static_mac__init(&s->macs[1]);
    s->macs[1].vni = 5000;
    s->macs[1].mac = "02:00:00:00:00:02";
    s->macs[1].remote = "172.31.0.2";
    s->macp[0] = &s->macs[0];
    s->macp[1] = &s->macs[1];
    s->config.n_static_macs = 2;
    s->config.static_macs = s->macp;
    return &s->config;
}

static void
save_ok(const char *path, const Vswitch__Config *config)
{
    char error[256] = "";

    ck_assert_msg(!config_store_save(path, config, error, sizeof error),
                  "save failed: %s", error);
}

/* Checks that loading 'path' fails with a message naming the file and
 * saying 'needle', and leaves the file's bytes as they were. */
static void
expect_load_refused(const char *path, const char *needle)
{
    size_t before_size, after_size;
    uint8_t *before = read_file(path, &before_size);
    Vswitch__Config *config = NULL;
    char error[256] = "";
    int err = config_store_load(path, &config, error, sizeof error);

    ck_assert_msg(err != 0, "%s loaded", needle);
    ck_assert_msg(strstr(error, path), "error '%s' does not name %s", error,
                  path);
    ck_assert_msg(strstr(error, needle), "error '%s' does not say '%s'",
                  error, needle);

    uint8_t *after = read_file(path, &after_size);

    ck_assert_uint_eq(after_size, before_size);
    ck_assert_int_eq(memcmp(before, after, before_size), 0);
    free(before);
    free(after);
}

START_TEST(test_saves_and_loads_a_configuration)
{
    struct sample s;
    Vswitch__Config *want = sample_init(&s);
    Vswitch__Config *got = NULL;
    const char *path = in_dir("conf.db");
    char error[256] = "";

    save_ok(path, want);
    ck_assert_int_eq(config_store_load(path, &got, error, sizeof error), 0);
    ck_assert(config_equal(&got->base, &want->base));

    /* Field by field too, so that a fault shared by packing and comparing
     * cannot hide. */
    ck_assert_uint_eq(got->format, CONFIG_FORMAT);
    ck_assert_uint_eq(got->n_ports, 3);
    ck_assert_str_eq(got->ports[0]->name, "vtep0");
    ck_assert_uint_eq(got->ports[0]->n_options, 2);
    ck_assert_str_eq(got->ports[0]->options[1]->key, "dst_port");
    ck_assert_str_eq(got->ports[0]->options[1]->value, "8472");
    ck_assert(!got->ports[0]->has_vni);
    ck_assert(got->ports[1]->has_vni);
    ck_assert_uint_eq(got->ports[1]->vni, 5000);
    ck_assert_uint_eq(got->n_vnis, 2);
    ck_assert_uint_eq(got->vnis[0]->n_flood, 2);
    ck_assert_str_eq(got->vnis[0]->flood[1], "fd00::3");
    ck_assert(got->vnis[0]->has_ageing);
    ck_assert_uint_eq(got->vnis[0]->ageing, 60);
    ck_assert_uint_eq(got->vnis[0]->mac_limit, 100);
    ck_assert_ptr_null(got->vnis[0]->group);
    ck_assert_str_eq(got->vnis[1]->group, "239.1.1.1");
    ck_assert(!got->vnis[1]->has_ageing);
    ck_assert_uint_eq(got->n_static_macs, 2);
    ck_assert_str_eq(got->static_macs[0]->port, "tap0");
    ck_assert_ptr_null(got->static_macs[0]->remote);
    ck_assert_str_eq(got->static_macs[1]->remote, "172.31.0.2");
    ck_assert_ptr_null(got->static_macs[1]->port);

    /* The file holds exactly the packed message. */
    size_t want_size, file_size;
    uint8_t *want_bytes = pack(want, &want_size);
    uint8_t *file_bytes = read_file(path, &file_size);

    ck_assert_uint_eq(file_size, want_size);
    ck_assert_int_eq(memcmp(file_bytes, want_bytes, want_size), 0);
    ck_assert_str_eq(dir_entries(), "conf.db");
    free(want_bytes);
    free(file_bytes);
    vswitch__config__free_unpacked(got, NULL);
}
END_TEST

START_TEST(test_loads_a_missing_file_as_empty)
{
    Vswitch__Config *config = NULL;
    char error[256] = "";
    struct stat st;

    ck_assert_int_eq(config_store_load(in_dir("conf.db"), &config, error,
                                       sizeof error), 0);
    ck_assert_ptr_nonnull(config);
    ck_assert_uint_eq(config->format, CONFIG_FORMAT);
    ck_assert_uint_eq(config->n_ports, 0);
    ck_assert_uint_eq(config->n_vnis, 0);
    ck_assert_uint_eq(config->n_static_macs, 0);

    /* Loading creates nothing. */
    ck_assert_int_eq(stat(in_dir("conf.db"), &st), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_str_eq(dir_entries(), "");
    vswitch__config__free_unpacked(config, NULL);
}
END_TEST

START_TEST(test_refuses_bytes_that_are_no_configuration)
{
    uint8_t ones[64], noise[1000];
    uint32_t state = 2463534242u;

    memset(ones, 0xff, sizeof ones);
    for (size_t i = 0; i < sizeof noise; i++) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        noise[i] = (uint8_t) state;
    }

    const char *path = in_dir("conf.db");

    write_file(path, ones, sizeof ones);
    expect_load_refused(path, "corrupt configuration");
    write_file(path, noise, sizeof noise);
    expect_load_refused(path, "corrupt configuration");

    /* An empty file lacks the format, so it is no configuration either. */
    write_file(path, "", 0);
    expect_load_refused(path, "corrupt configuration");
}
END_TEST

START_TEST(test_refuses_a_truncated_file)
{
    struct sample s;
    const char *path = in_dir("conf.db");
    size_t size;
    uint8_t *whole = pack(sample_init(&s), &size);

    /* Cut at every length, between fields as well as inside them: the end
     * marker, written last, is missing from all of them. */
    for (size_t len = 0; len < size; len++) {
        write_file(path, whole, len);
        expect_load_refused(path, "corrupt configuration");
    }
    free(whole);
}
END_TEST

START_TEST(test_refuses_another_format)
{
    struct sample s;
    Vswitch__Config *config = sample_init(&s);
    const char *path = in_dir("conf.db");
    size_t size;

    config->format = CONFIG_FORMAT + 1;

    uint8_t *data = pack(config, &size);
    char needle[64];

    write_file(path, data, size);
    snprintf(needle, sizeof needle, "configuration format %d",
             CONFIG_FORMAT + 1);
    expect_load_refused(path, needle);
    free(data);
}
END_TEST

START_TEST(test_refuses_a_directory)
{
    const char *path = in_dir("conf.db");
    Vswitch__Config *config = NULL;
    char error[256] = "";
    struct stat st;

    ck_assert_int_eq(mkdir(path, 0755), 0);
    write_file(in_dir("conf.db/inside"), "x", 1);
    ck_assert_int_ne(config_store_load(path, &config, error, sizeof error),
                     0);
    ck_assert_msg(strstr(error, path), "error '%s' does not name %s", error,
                  path);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(stat(in_dir("conf.db/inside"), &st), 0);
    ck_assert_int_eq(st.st_size, 1);
}
END_TEST

START_TEST(test_refuses_a_file_over_16_mib)
{
    /* A well-formed configuration, so that only its size is wrong. */
    size_t value_size = 17u << 20;
    char *value = malloc(value_size + 1);
    Vswitch__Config config = VSWITCH__CONFIG__INIT;
    Vswitch__PortConfig port = VSWITCH__PORT_CONFIG__INIT;
    Vswitch__PortConfig *portp = &port;
    Vswitch__Option option;
    Vswitch__Option *optionp = &option;
    const char *path = in_dir("conf.db");
    size_t size;

    ck_assert_ptr_nonnull(value);
    memset(value, 'a', value_size);
    value[value_size] = '\0';
    option_init(&option, "rx", value);
    port_init(&port, "cap0", "pcap");
    port.n_options = 1;
    port.options = &optionp;
    config.format = CONFIG_FORMAT;
    config.n_ports = 1;
    config.ports = &portp;

    uint8_t *data = pack(&config, &size);
    Vswitch__Config *back = vswitch__config__unpack(NULL, size, data);

    ck_assert_ptr_nonnull(back);
    vswitch__config__free_unpacked(back, NULL);
    ck_assert_uint_gt(size, 17u << 20);
    write_file(path, data, size);
    expect_load_refused(path, "not a configuration file");
    free(data);
    free(value);
}
END_TEST

START_TEST(test_save_replaces_the_whole_file_by_rename)
{
    struct sample s;
    Vswitch__Config *old = sample_init(&s);
    Vswitch__Config small = VSWITCH__CONFIG__INIT;
    Vswitch__VniConfig vni = VSWITCH__VNI_CONFIG__INIT;
    Vswitch__VniConfig *vnip = &vni;
    const char *path = in_dir("conf.db");
    size_t old_size, new_size, size;

    small.format = CONFIG_FORMAT;
    vni.vni = 7000;
    small.n_vnis = 1;
    small.vnis = &vnip;

    uint8_t *old_bytes = pack(old, &old_size);
    uint8_t *new_bytes = pack(&small, &new_size);

    ck_assert_uint_lt(new_size, old_size);
    save_ok(path, old);

    /* A second name for the old file: a save that wrote into the old file
     * instead of replacing it would change what this name shows. */
    const char *link_path = in_dir("old-link");

    ck_assert_int_eq(link(path, link_path), 0);
    save_ok(path, &small);

    uint8_t *bytes = read_file(path, &size);

    ck_assert_uint_eq(size, new_size);
    ck_assert_int_eq(memcmp(bytes, new_bytes, size), 0);
    free(bytes);
    bytes = read_file(link_path, &size);
    ck_assert_uint_eq(size, old_size);
    ck_assert_int_eq(memcmp(bytes, old_bytes, size), 0);
    free(bytes);
    ck_assert_str_eq(dir_entries(), "conf.db old-link");

    Vswitch__Config *loaded = NULL;
    char error[256] = "";

    ck_assert_int_eq(config_store_load(path, &loaded, error, sizeof error),
                     0);
    ck_assert(config_equal(&loaded->base, &small.base));
    vswitch__config__free_unpacked(loaded, NULL);
    free(old_bytes);
    free(new_bytes);
}
END_TEST

/* Checks that saving to 'path' fails with 'want' and a message naming
 * 'path'. */
static void
expect_save_refused(const char *path, int want)
{
    struct sample s;
    char error[256] = "";
    int err = config_store_save(path, sample_init(&s), error, sizeof error);

    ck_assert_msg(err == want, "save returned %d (%s), not %d", err,
                  strerror(err), want);
    ck_assert_msg(strstr(error, path), "error '%s' does not name %s", error,
                  path);
    ck_assert_msg(strstr(error, strerror(want)), "error '%s' does not say "
                  "'%s'", error, strerror(want));
}

START_TEST(test_save_into_a_missing_directory_fails)
{
    const char *path = in_dir("missing/conf.db");
    struct stat st;

    expect_save_refused(path, ENOENT);
    ck_assert_int_eq(stat(in_dir("missing"), &st), -1);
    ck_assert_str_eq(dir_entries(), "");
}
END_TEST

START_TEST(test_save_under_a_file_fails_and_keeps_the_file)
{
    const char *path = in_dir("file-not-dir/conf.db");
    size_t size;

    write_file(in_dir("file-not-dir"), "keep me", 7);
    expect_save_refused(path, ENOTDIR);

    uint8_t *bytes = read_file(in_dir("file-not-dir"), &size);

    ck_assert_uint_eq(size, 7);
    ck_assert_int_eq(memcmp(bytes, "keep me", 7), 0);
    ck_assert_str_eq(dir_entries(), "file-not-dir");
    free(bytes);
}
END_TEST

START_TEST(test_save_never_writes_through_a_link_at_the_temporary)
{
    static const uint8_t victim_bytes[] = "root's file";
    struct sample s;
    const char *path = in_dir("conf.db");
    const char *victim = in_dir("victim");
    Vswitch__Config *loaded = NULL;
    char error[256] = "";
    uint8_t *bytes;
    size_t size;
    struct stat st;

    write_file(victim, victim_bytes, sizeof victim_bytes);
    ck_assert_int_eq(symlink(victim, in_dir("conf.db.tmp")), 0);
    ck_assert_int_eq(config_store_save(path, sample_init(&s), error,
                                       sizeof error), 0);

    bytes = read_file(victim, &size);
    ck_assert_uint_eq(size, sizeof victim_bytes);
    ck_assert_int_eq(memcmp(bytes, victim_bytes, size), 0);
    free(bytes);
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(config_store_load(path, &loaded, error, sizeof error),
                     0);
    ck_assert(config_equal(&loaded->base, &s.config.base));
    vswitch__config__free_unpacked(loaded, NULL);
}
END_TEST

START_TEST(test_save_keeps_old_file_if_temporary_fails)
{
    struct sample s;
    const char *path = in_dir("conf.db");
    size_t old_size, size;
    uint8_t *old_bytes = pack(sample_init(&s), &old_size);
    struct stat st;

    /* A directory where the temporary file would go: it cannot be
     * removed like a leftover file, and is not written into. */
    write_file(path, old_bytes, old_size);
    ck_assert_int_eq(mkdir(in_dir("conf.db.tmp"), 0755), 0);
    expect_save_refused(path, EEXIST);

    uint8_t *bytes = read_file(path, &size);

    ck_assert_uint_eq(size, old_size);
    ck_assert_int_eq(memcmp(bytes, old_bytes, size), 0);
    ck_assert_int_eq(stat(in_dir("conf.db.tmp"), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    free(bytes);
    free(old_bytes);
}
END_TEST

START_TEST(test_save_over_directory_leaves_no_temporary)
{
    const char *path = in_dir("conf.db");
    struct stat st;

    ck_assert_int_eq(mkdir(path, 0755), 0);
    write_file(in_dir("conf.db/inside"), "x", 1);
    expect_save_refused(path, EISDIR);
    ck_assert_str_eq(dir_entries(), "conf.db");
    ck_assert_int_eq(stat(in_dir("conf.db/inside"), &st), 0);
    ck_assert_int_eq(st.st_size, 1);
}
END_TEST

START_TEST(test_save_refuses_path_too_long_for_temporary)
{
    /* A path of PATH_MAX - 1 characters is a valid name, but its ".tmp"
     * name is not: built from directories of 200-character names. */
    char path[PATH_MAX];
    size_t len = (size_t) snprintf(path, sizeof path, "%s", dir);

    while (PATH_MAX - 1 - len > 250) {
        path[len++] = '/';
        memset(&path[len], 'd', 199);
        len += 199;
        path[len] = '\0';
        ck_assert_int_eq(mkdir(path, 0755), 0);
    }
    path[len++] = '/';
    memset(&path[len], 'c', PATH_MAX - 1 - len);
    path[PATH_MAX - 1] = '\0';
    ck_assert_uint_eq(strlen(path), PATH_MAX - 1);

    /* The old file has a second name, which a save must not change. */
    const char *link_path = in_dir("old-link");
    size_t size;

    write_file(path, "old", 3);
    ck_assert_int_eq(link(path, link_path), 0);

    struct sample s;
    char error[PATH_MAX + 256] = "";
    int err = config_store_save(path, sample_init(&s), error, sizeof error);

    ck_assert_int_eq(err, ENAMETOOLONG);
    ck_assert_msg(strstr(error, strerror(ENAMETOOLONG)), "error '%s'",
                  error);

    uint8_t *bytes = read_file(path, &size);

    ck_assert_uint_eq(size, 3);
    ck_assert_int_eq(memcmp(bytes, "old", 3), 0);
    free(bytes);
    bytes = read_file(link_path, &size);
    ck_assert_uint_eq(size, 3);
    free(bytes);
}
END_TEST

static Suite *
config_store_suite(void)
{
    Suite *s = suite_create("config-store");

    fixture_add_case(s, "saves and loads a configuration",
                     test_saves_and_loads_a_configuration, setup, teardown);
    fixture_add_case(s, "loads a missing file as empty",
                     test_loads_a_missing_file_as_empty, setup, teardown);
    fixture_add_case(s, "refuses bytes that are no configuration",
                     test_refuses_bytes_that_are_no_configuration, setup,
                     teardown);
    fixture_add_case(s, "refuses a truncated file",
                     test_refuses_a_truncated_file, setup, teardown);
    fixture_add_case(s, "refuses another format",
                     test_refuses_another_format, setup, teardown);
    fixture_add_case(s, "refuses a directory", test_refuses_a_directory,
                     setup, teardown);
    fixture_add_case(s, "refuses a file over 16 MiB",
                     test_refuses_a_file_over_16_mib, setup, teardown);
    fixture_add_case(s, "save replaces the whole file by rename",
                     test_save_replaces_the_whole_file_by_rename, setup,
                     teardown);
    fixture_add_case(s, "save into a missing directory fails",
                     test_save_into_a_missing_directory_fails, setup,
                     teardown);
    fixture_add_case(s, "save under a file fails and keeps the file",
                     test_save_under_a_file_fails_and_keeps_the_file, setup,
                     teardown);
    fixture_add_case(s, "save keeps the old file if the temporary fails",
                     test_save_keeps_old_file_if_temporary_fails, setup,
                     teardown);
    fixture_add_case(s, "save never writes through a link at the "
                     "temporary",
                     test_save_never_writes_through_a_link_at_the_temporary,
                     setup, teardown);
    fixture_add_case(s, "save over a directory fails and leaves no "
                     "temporary file",
                     test_save_over_directory_leaves_no_temporary, setup,
                     teardown);
    fixture_add_case(s, "save refuses a path too long for its temporary "
                     "name",
                     test_save_refuses_path_too_long_for_temporary, setup,
                     teardown);
    return s;
}

int
main(void)
{
    return fixture_run(config_store_suite());
}
