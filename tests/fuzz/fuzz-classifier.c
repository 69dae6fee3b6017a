#include <config.h>

/* libFuzzer target for the classifier: the input is a program of
 * insertions, removals and lookups, run on a classifier and on the plain
 * linear scan of classifier-ref.h, which must agree on every answer.
 *
 * Each operation is one opcode byte and its operands; an input that ends
 * in the middle of one stops there.  Field values come from a pool of four
 * per field and masks cover whole fields or a prefix of one, so that
 * rules share subtables and masked keys and frames hit them. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classifier-ref.h"
#include "classifier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct classifier_ref_field *const fields
    = classifier_ref_fields;

/* Values differ in their first and in their last bits, so that prefix
 * masks can make two of them equal. */
static const uint8_t pool[4] = { 0x00, 0xff, 0x80, 0x81 };

#define MAX_RULES 64

struct state {
    struct classifier cls;
    struct cls_rule rules[MAX_RULES];
    bool inserted[MAX_RULES];
    struct cls_rule *live[MAX_RULES]; /* The rules in, oldest first. */
    size_t n_live;
};

/* Reads the operands of an operation.  Returns false at the end of the
 * input. */
static bool
take(const uint8_t **data, size_t *size, uint8_t *out, size_t n)
{
    if (*size < n) {
        return false;
    }
    memcpy(out, *data, n);
    *data += n;
    *size -= n;
    return true;
}

/* Fills the fields of 'key' from 5 bytes, two bits a field. */
static void
make_key(const uint8_t sel[5], struct flow_key *key)
{
    uint64_t bits = 0;

    memset(key, 0, sizeof *key);
    for (size_t i = 0; i < 5; i++) {
        bits = bits << 8 | sel[i];
    }
    for (size_t f = 0; f < CLASSIFIER_REF_N_FIELDS; f++) {
        memset((uint8_t *) key + fields[f].ofs, pool[(bits >> (2 * f)) & 3],
               fields[f].len);
    }
}

/* Makes a mask from 4 bytes: a set of whole fields, and a prefix of up to
 * 7 bits of another. */
static void
make_mask(const uint8_t sel[4], struct flow_key *mask)
{
    uint32_t set = (uint32_t) sel[0] << 16 | (uint32_t) sel[1] << 8 | sel[2];

    memset(mask, 0, sizeof *mask);
    for (size_t f = 0; f < CLASSIFIER_REF_N_FIELDS; f++) {
        if (set & (UINT32_C(1) << f)) {
            memset((uint8_t *) mask + fields[f].ofs, 0xff, fields[f].len);
        }
    }

    const struct classifier_ref_field *f
        = &fields[(sel[3] >> 3) % CLASSIFIER_REF_N_FIELDS];
    size_t bits = sel[3] & 7;

    for (size_t b = 0; b < bits && b < f->len * 8; b++) {
        ((uint8_t *) mask)[f->ofs + b / 8] |= (uint8_t) (0x80 >> (b % 8));
    }
}

/* Few priorities, so that ties are common, and the extremes. */
static uint16_t
make_priority(uint8_t sel)
{
    return sel & 0x80 ? (uint16_t) (sel * 257u) : sel % 4;
}

static void
check_lookup(const struct state *s, const struct flow_key *key)
{
    if (classifier_lookup(&s->cls, key)
        != classifier_ref_lookup(s->live, s->n_live, key)) {
        abort();
    }
}

static void
insert(struct state *s, const uint8_t op[11])
{
    size_t i = op[0] % MAX_RULES;

    if (s->inserted[i]) {
        return;
    }

    struct cls_rule *rule = &s->rules[i];
    struct match m;

    make_key(op + 1, &m.key);
    make_mask(op + 6, &m.mask);
    cls_rule_init(rule, &m, make_priority(op[10]));

    const struct cls_rule *old = classifier_ref_find(s->live, s->n_live,
                                                     &rule->match,
                                                     rule->priority);
    int error = classifier_insert(&s->cls, rule);

    if (old) {
        if (error != EEXIST
            || classifier_find_exactly(&s->cls, &rule->match,
                                       rule->priority) != old) {
            abort();
        }
    } else if (error) {
        abort();
    } else {
        s->inserted[i] = true;
        s->live[s->n_live++] = rule;
    }
}

static void
remove_rule(struct state *s, uint8_t sel)
{
    size_t i = sel % MAX_RULES;

    if (s->inserted[i]) {
        classifier_remove(&s->cls, &s->rules[i]);
        s->inserted[i] = false;
        s->n_live = classifier_ref_remove(s->live, s->n_live, &s->rules[i]);
    }
}

/* Looks up a key from the pools and, so that lookups hit, the same key
 * overlaid with the values of rule 'op[0]' where its mask looks. */
static void
lookup(const struct state *s, const uint8_t op[6])
{
    struct flow_key key;

    make_key(op + 1, &key);
    check_lookup(s, &key);

    size_t i = op[0] % MAX_RULES;

    if (s->inserted[i]) {
        const flow_u64 *want = flow_key_u64s(&s->rules[i].match.key);
        const flow_u64 *mask = flow_key_u64s(&s->rules[i].match.mask);
        flow_u64 *k = (flow_u64 *) &key;

        for (size_t j = 0; j < FLOW_KEY_U64S; j++) {
            k[j] = (k[j] & ~mask[j]) | want[j];
        }
        check_lookup(s, &key);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state s;
    uint8_t op[12];

    memset(&s, 0, sizeof s);
    classifier_init(&s.cls);
    while (take(&data, &size, op, 1)) {
        uint8_t code = op[0] % 4;

        if (code < 2 && take(&data, &size, op, 11)) {
            insert(&s, op);
        } else if (code == 2 && take(&data, &size, op, 1)) {
            remove_rule(&s, op[0]);
        } else if (code == 3 && take(&data, &size, op, 6)) {
            lookup(&s, op);
        } else {
            break;
        }
        if (classifier_count(&s.cls) != s.n_live
            || classifier_needs_key(&s.cls)
               != classifier_ref_needs_key(s.live, s.n_live)) {
            abort();
        }
    }
    for (size_t i = 0; i < s.n_live; i++) {
        classifier_remove(&s.cls, s.live[i]);
    }
    if (s.cls.n_subtables || classifier_count(&s.cls)) {
        abort();
    }
    classifier_destroy(&s.cls);
    return 0;
}
