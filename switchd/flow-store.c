#include <config.h>

#include "flow-store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-store.h"
#include "dstring.h"
#include "hash.h"
#include "hmap.h"
#include "log.h"
#include "xmalloc.h"

/* The files' first lines, so that nothing else is taken for them. */
#define SNAPSHOT_HEADER "# vswitch flows 1\n"

/* 65,536 rules of a few hundred bytes each, twice (identity and text),
 * with room to spare; a larger file is not one of ours. */
#define FLOW_STORE_MAX_FILE (256u << 20)

/* A journal record: "R LENGTH CHECKSUM\n" then LENGTH bytes of lines:
 * "+ID\tTEXT" sets a rule, "-ID" removes one, "!" removes all.  The
 * checksum (hash_bytes() of the lines, in hexadecimal) tells a record
 * torn by a crash from a whole one. */
#define RECORD_HEADER_MAX 64

struct saved_rule {
    struct hmap_node node;
    char *id;
    char *text;
};

struct flow_store {
    char *snapshot_path;
    char *journal_path;
    struct hmap rules;          /* Of saved_rule, by hash of 'id'. */
    size_t snapshot_size;       /* Bytes, as last written or read. */
    size_t journal_size;
    bool stale;                 /* See flow_store_set_stale(). */
};

enum op_kind {
    OP_SET,
    OP_REMOVE,
    OP_CLEAR,
};

struct op {
    enum op_kind kind;
    char *id;                   /* NULL for OP_CLEAR. */
    char *text;                 /* OP_SET only. */
};

struct flow_store_txn {
    struct op *ops;
    size_t n, cap;
};

struct flow_store *
flow_store_create(const char *db_path)
{
    struct flow_store *s = xcalloc(1, sizeof *s);
    struct ds path = DS_EMPTY_INITIALIZER;

    ds_put_format(&path, "%s.flows", db_path);
    s->snapshot_path = xstrdup(ds_cstr(&path));
    ds_put_cstr(&path, ".log");
    s->journal_path = ds_steal_cstr(&path);
    hmap_init(&s->rules);
    return s;
}

void
flow_store_clear(struct flow_store *s)
{
    struct saved_rule *r;

    HMAP_FOR_EACH_SAFE (r, node, &s->rules) {
        hmap_remove(&s->rules, &r->node);
        free(r->id);
        free(r->text);
        free(r);
    }
}

void
flow_store_destroy(struct flow_store *s)
{
    if (s) {
        flow_store_clear(s);
        hmap_destroy(&s->rules);
        free(s->snapshot_path);
        free(s->journal_path);
        free(s);
    }
}

void
flow_store_set_stale(struct flow_store *s)
{
    s->stale = true;
}

size_t
flow_store_count(const struct flow_store *s)
{
    return hmap_count(&s->rules);
}

static struct saved_rule *
find_rule(const struct flow_store *s, const char *id)
{
    struct saved_rule *r;

    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(id, 0), &s->rules) {
        if (!strcmp(r->id, id)) {
            return r;
        }
    }
    return NULL;
}

const char *
flow_store_find(const struct flow_store *s, const char *id)
{
    const struct saved_rule *r = find_rule(s, id);

    return r ? r->text : NULL;
}

void
flow_store_for_each(const struct flow_store *s,
                    void (*cb)(const char *id, const char *text, void *aux),
                    void *aux)
{
    struct saved_rule *r;

    HMAP_FOR_EACH_SAFE (r, node, &s->rules) {
        cb(r->id, r->text, aux);
    }
}

static void
set_rule(struct flow_store *s, const char *id, size_t id_len,
         const char *text, size_t text_len)
{
    char *key = xmemdup0(id, id_len);
    struct saved_rule *r = find_rule(s, key);

    if (r) {
        free(key);
        free(r->text);
    } else {
        r = xmalloc(sizeof *r);
        r->id = key;
        if (hmap_insert(&s->rules, &r->node, hash_string(key, 0))) {
            out_of_memory();
        }
    }
    r->text = xmemdup0(text, text_len);
}

static void
remove_rule(struct flow_store *s, const char *id, size_t id_len)
{
    char *key = xmemdup0(id, id_len);
    struct saved_rule *r = find_rule(s, key);

    if (r) {
        hmap_remove(&s->rules, &r->node);
        free(r->id);
        free(r->text);
        free(r);
    }
    free(key);
}

/* Applies one line of a snapshot or a journal record.  Returns false if
 * it is not one. */
static bool
apply_line(struct flow_store *s, const char *line, size_t len)
{
    const char *tab = memchr(line, '\t', len);

    if (len == 1 && line[0] == '!') {
        flow_store_clear(s);
    } else if (len > 1 && line[0] == '-' && !tab) {
        remove_rule(s, line + 1, len - 1);
    } else if (len > 1 && line[0] == '+' && tab && tab > line + 1) {
        set_rule(s, line + 1, (size_t) (tab - line - 1), tab + 1,
                 len - (size_t) (tab - line) - 1);
    } else {
        return false;
    }
    return true;
}

/* Applies the lines of 'data' (each ending in '\n').  Returns false at
 * the first that is not one, having applied those before it. */
static bool
apply_lines(struct flow_store *s, const char *data, size_t size)
{
    while (size) {
        const char *nl = memchr(data, '\n', size);

        if (!nl || !apply_line(s, data, (size_t) (nl - data))) {
            return false;
        }
        size -= (size_t) (nl - data) + 1;
        data = nl + 1;
    }
    return true;
}

/* Reads 'path' into '*data' and '*size'; a missing file is empty. */
static int
read_file(const char *path, char **data, size_t *size, char *error,
          size_t error_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int err;

    *data = NULL;
    *size = 0;
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        err = errno;
        snprintf(error, error_size, "%s: %s", path, strerror(err));
        return err;
    }
    err = config_store_read_all(fd, FLOW_STORE_MAX_FILE, (uint8_t **) data,
                                size);
    close(fd);
    if (err) {
        snprintf(error, error_size, "%s: %s", path,
                 err == EFBIG ? "not a flow file" : strerror(err));
    }
    return err;
}

static int
load_snapshot(struct flow_store *s, char *error, size_t error_size)
{
    size_t header_len = strlen(SNAPSHOT_HEADER);
    char *data;
    size_t size;
    int err = read_file(s->snapshot_path, &data, &size, error, error_size);

    if (err || !data) {
        return err;
    }
    if (size < header_len || memcmp(data, SNAPSHOT_HEADER, header_len)
        || !apply_lines(s, data + header_len, size - header_len)) {
        snprintf(error, error_size, "%s: not a flow file (or a corrupt "
                 "one); it was left as it is", s->snapshot_path);
        err = EINVAL;
    }
    s->snapshot_size = size;
    free(data);
    return err;
}

/* Parses the record header at 'data'.  Returns its length, or 0 if there
 * is no whole header. */
static size_t
parse_record_header(const char *data, size_t size, size_t *length,
                    uint32_t *checksum)
{
    const char *nl = memchr(data, '\n', size < RECORD_HEADER_MAX
                                        ? size : RECORD_HEADER_MAX);
    char header[RECORD_HEADER_MAX + 1];
    unsigned long long len;
    unsigned int sum;
    char end;

    if (!nl) {
        return 0;
    }
    memcpy(header, data, (size_t) (nl - data));
    header[nl - data] = '\0';
    if (sscanf(header, "R %llu %x%c", &len, &sum, &end) != 2
        || len > FLOW_STORE_MAX_FILE) {
        return 0;
    }
    *length = (size_t) len;
    *checksum = sum;
    return (size_t) (nl - data) + 1;
}

/* Applies the whole records of the journal; cuts off a torn one at its
 * end, which a crash during a save leaves. */
static int
load_journal(struct flow_store *s, char *error, size_t error_size)
{
    char *data;
    size_t size, done = 0;
    int err = read_file(s->journal_path, &data, &size, error, error_size);

    if (err || !data) {
        return err;
    }
    while (done < size) {
        size_t length;
        uint32_t checksum;
        size_t header = parse_record_header(data + done, size - done,
                                            &length, &checksum);

        if (!header || length > size - done - header
            || hash_bytes(data + done + header, length, 0) != checksum
            || !apply_lines(s, data + done + header, length)) {
            break;
        }
        done += header + length;
    }
    if (done < size) {
        LOG_WARN("flows", "%s: the last %zu bytes are not a whole record "
                 "(a save cut short); ignored", s->journal_path,
                 size - done);
        if (truncate(s->journal_path, (off_t) done)) {
            LOG_WARN("flows", "%s: cannot cut off the torn record: %s",
                     s->journal_path, strerror(errno));
        }
    }
    s->journal_size = done;
    free(data);
    return 0;
}

int
flow_store_load(struct flow_store *s, char *error, size_t error_size)
{
    int err;

    flow_store_clear(s);
    s->snapshot_size = s->journal_size = 0;
    s->stale = false;
    err = load_snapshot(s, error, error_size);
    if (!err) {
        err = load_journal(s, error, error_size);
    }
    if (err) {
        flow_store_clear(s);
    }
    return err;
}

struct flow_store_txn *
flow_store_txn_create(void)
{
    return xcalloc(1, sizeof(struct flow_store_txn));
}

void
flow_store_txn_destroy(struct flow_store_txn *t)
{
    if (t) {
        for (size_t i = 0; i < t->n; i++) {
            free(t->ops[i].id);
            free(t->ops[i].text);
        }
        free(t->ops);
        free(t);
    }
}

static void
add_op(struct flow_store_txn *t, enum op_kind kind, const char *id,
       const char *text)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->ops = xrealloc(t->ops, t->cap * sizeof *t->ops);
    }
    t->ops[t->n++] = (struct op) { kind, id ? xstrdup(id) : NULL,
                                   text ? xstrdup(text) : NULL };
}

void
flow_store_txn_set(struct flow_store_txn *t, const char *id,
                   const char *text)
{
    add_op(t, OP_SET, id, text);
}

void
flow_store_txn_remove(struct flow_store_txn *t, const char *id)
{
    add_op(t, OP_REMOVE, id, NULL);
}

void
flow_store_txn_clear(struct flow_store_txn *t)
{
    add_op(t, OP_CLEAR, NULL, NULL);
}

bool
flow_store_txn_is_empty(const struct flow_store_txn *t)
{
    return !t->n;
}

static void
put_set(struct ds *ds, const char *id, const char *text)
{
    ds_put_format(ds, "+%s\t%s\n", id, text);
}

/* Writes the store's rules, as they are before the transaction being
 * saved, as the new snapshot. */
static int
write_snapshot(struct flow_store *s, char *error, size_t error_size)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    struct saved_rule *r;
    int err;

    ds_put_cstr(&ds, SNAPSHOT_HEADER);
    HMAP_FOR_EACH_SAFE (r, node, &s->rules) {
        put_set(&ds, r->id, r->text);
    }
    err = config_store_replace(s->snapshot_path,
                               (const uint8_t *) ds_cstr(&ds), ds.length,
                               error, error_size);
    if (!err) {
        s->snapshot_size = ds.length;
    }
    ds_destroy(&ds);
    return err;
}

static void
encode(const struct flow_store_txn *t, struct ds *record)
{
    struct ds lines = DS_EMPTY_INITIALIZER;

    for (size_t i = 0; i < t->n; i++) {
        const struct op *op = &t->ops[i];

        if (op->kind == OP_SET) {
            put_set(&lines, op->id, op->text);
        } else if (op->kind == OP_REMOVE) {
            ds_put_format(&lines, "-%s\n", op->id);
        } else {
            ds_put_cstr(&lines, "!\n");
        }
    }
    ds_put_format(record, "R %zu %08"PRIx32"\n", lines.length,
                  hash_bytes(ds_cstr(&lines), lines.length, 0));
    ds_put_cstr(record, ds_cstr(&lines));
    ds_destroy(&lines);
}

/* Appends 'record' to the journal ('truncate': emptied first) and syncs
 * it. */
static int
append(struct flow_store *s, const struct ds *record, bool truncate,
       char *error, size_t error_size)
{
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC;
    bool created = access(s->journal_path, F_OK) != 0;
    int fd = open(s->journal_path, flags | (truncate ? O_TRUNC : 0), 0600);
    int err = 0;

    if (fd < 0) {
        err = errno;
    } else {
        /* A record torn by a failed write before is cut off first, so
         * that this one follows the last whole record. */
        if (!truncate && ftruncate(fd, (off_t) s->journal_size)) {
            err = errno;
        }
        if (!err) {
            err = config_store_write_all(fd, (const uint8_t *)
                                         ds_cstr(record), record->length);
        }
        if (!err && fsync(fd)) {
            err = errno;
        }
        if (close(fd) && !err) {
            err = errno;
        }
    }
    if (err) {
        snprintf(error, error_size, "cannot save flows to %s: %s",
                 s->journal_path, strerror(err));
        return err;
    }
    if (created) {
        config_store_sync_directory(s->journal_path);
    }
    s->journal_size = truncate ? record->length
                               : s->journal_size + record->length;
    return 0;
}

int
flow_store_save(struct flow_store *s, const struct flow_store_txn *t,
                char *error, size_t error_size)
{
    struct ds record = DS_EMPTY_INITIALIZER;
    size_t limit = s->snapshot_size > FLOW_STORE_MIN_JOURNAL
                   ? s->snapshot_size : FLOW_STORE_MIN_JOURNAL;
    bool compact;
    int err = 0;

    if (!t->n && !s->stale) {
        return 0;               /* Timed rules only, or nothing. */
    }
    encode(t, &record);
    compact = s->stale || s->journal_size + record.length > limit;
    if (compact) {
        err = write_snapshot(s, error, error_size);
    }
    if (!err) {
        err = append(s, &record, compact, error, error_size);
    }
    /* After a failure the journal may hold part of a record, or be
     * emptied after a new snapshot: the next save writes the rules whole
     * rather than trust it. */
    s->stale = err != 0;
    ds_destroy(&record);
    return err;
}

void
flow_store_apply(struct flow_store *s, const struct flow_store_txn *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct op *op = &t->ops[i];

        if (op->kind == OP_SET) {
            set_rule(s, op->id, strlen(op->id), op->text, strlen(op->text));
        } else if (op->kind == OP_REMOVE) {
            remove_rule(s, op->id, strlen(op->id));
        } else {
            flow_store_clear(s);
        }
    }
}
