#include <config.h>

#include "capture-filter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
capture_filter_compile(struct capture_filter *f, const char *expr,
                       char *error, size_t error_size)
{
    pcap_t *dead;
    int err = 0;

    memset(f, 0, sizeof *f);
    if (!expr || !*expr) {
        f->all = true;
        return 0;
    }
    dead = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
    if (!dead) {
        snprintf(error, error_size, "out of memory");
        return ENOMEM;
    }
    if (pcap_compile(dead, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
        snprintf(error, error_size, "bad filter: %s", pcap_geterr(dead));
        memset(&f->prog, 0, sizeof f->prog);
        err = EINVAL;
    }
    pcap_close(dead);
    return err;
}

void
capture_filter_free(struct capture_filter *f)
{
    pcap_freecode(&f->prog);
}

bool
capture_filter_match(const struct capture_filter *f, const uint8_t *data,
                     size_t len)
{
    struct pcap_pkthdr h;

    if (f->all) {
        return true;
    }
    h.ts.tv_sec = 0;
    h.ts.tv_usec = 0;
    h.caplen = (bpf_u_int32) (len < CAPTURE_SNAPLEN ? len : CAPTURE_SNAPLEN);
    h.len = (bpf_u_int32) len;
    return pcap_offline_filter(&f->prog, &h, data) != 0;
}
