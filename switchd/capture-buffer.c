#include <config.h>

#include "capture-buffer.h"

#include <stdlib.h>
#include <string.h>

#include "capture-filter.h"
#include "xmalloc.h"

void
capture_buffer_init(struct capture_buffer *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void
capture_buffer_destroy(struct capture_buffer *b)
{
    free(b->records);
    free(b->dirs);
}

/* Makes room for 'more' bytes of records and one direction more; the
 * buffer grows as it fills, so that a quiet capture holds little. */
static void
reserve(struct capture_buffer *b, size_t more)
{
    if (b->len + more > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;

        while (cap < b->len + more) {
            cap *= 2;
        }
        b->cap = cap < b->max ? cap : b->max;
        b->records = xrealloc(b->records, b->cap);
    }
    if (b->n == b->dirs_cap) {
        b->dirs_cap = b->dirs_cap ? b->dirs_cap * 2 : 64;
        b->dirs = xrealloc(b->dirs, b->dirs_cap);
    }
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

bool
capture_buffer_add(struct capture_buffer *b, const struct timeval *ts,
                   enum capture_dir dir, const uint8_t *data, size_t len)
{
    size_t caplen = len < CAPTURE_SNAPLEN ? len : CAPTURE_SNAPLEN;
    size_t need = CAPTURE_RECORD_HEADER_LEN + caplen;
    uint8_t *rec;

    if (need > b->max - b->len) {
        b->lost++;
        return false;
    }
    reserve(b, need);
    rec = b->records + b->len;
    put_u32(rec, (uint32_t) ts->tv_sec);
    put_u32(rec + 4, (uint32_t) ts->tv_usec);
    put_u32(rec + 8, (uint32_t) caplen);
    put_u32(rec + 12, (uint32_t) len);
    memcpy(rec + CAPTURE_RECORD_HEADER_LEN, data, caplen);
    b->len += need;
    b->dirs[b->n++] = (uint8_t) dir;
    b->frames++;
    return true;
}

void
capture_buffer_clear(struct capture_buffer *b)
{
    b->len = 0;
    b->n = 0;
}
