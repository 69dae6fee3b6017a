#include <config.h>

#include "bench-acl.h"

#include <errno.h>
#include <stdio.h>

#include "dstring.h"
#include "flow-table.h"
#include "flow-text.h"
#include "util.h"

/* One template per mask; "@" stands for the rule's value (from its index
 * within the mask, 0-49).  The
 * bench's frames are UDP from 10.0.0.1 to 10.0.0.2, port 9, from source
 * ports 0-9999, TTL 64, TOS 0, entering on port 1: no template meets
 * them. */
static const char *const templates[BENCH_ACL_MASKS] = {
    "ip,nw_src=192.168.0.@",
    "ip,nw_dst=192.168.1.@",
    "ip,nw_src=172.16.@.0/24",
    "ip,nw_dst=172.17.@.0/24",
    "ip,nw_src=10.@.0.0/16",
    "tcp,tp_dst=@",
    "udp,tp_dst=200@",
    "tcp,tp_src=@",
    "udp,tp_src=300@",
    "tcp,nw_dst=10.0.0.2,tp_dst=@",
    "udp,nw_dst=10.1.0.@,tp_dst=53",
    "tcp,nw_src=198.18.@.0/24,tp_dst=443",
    "udp,nw_src=198.19.@.0/24,tp_dst=123",
    "dl_src=02:aa:00:00:00:@",
    "dl_dst=02:bb:00:00:00:@",
    "ip,nw_tos=@",
    "icmp,icmp_type=1@",
    "arp,arp_spa=10.2.0.@",
    "ip,nw_ttl=1@",
    "in_port=3,ip,nw_src=10.3.@.0/24",
};

/* The value for the index: some templates cannot take it as it is (0 is
 * no TCP port, 10.0.0.0/16 holds the bench's addresses, TOS takes
 * multiples of 4); where the value follows fixed digits it takes two. */
static int
value(size_t template, int index)
{
    switch (template) {
    case 4:
        return 100 + index;
    case 5:
    case 7:
    case 9:
        return 1 + index;
    case 15:
        return 4 * (1 + index);
    default:
        return index;
    }
}

/* Appends 'template' with its "@" replaced by 'v', in two digits where
 * digits or a colon come before it (as in "200@", or a MAC). */
static void
put_template(struct ds *text, const char *template, int v)
{
    for (const char *c = template; *c; c++) {
        if (*c != '@') {
            ds_put_char(text, *c);
        } else if (c > template
                   && ((c[-1] >= '0' && c[-1] <= '9') || c[-1] == ':')) {
            ds_put_format(text, "%02d", v);
        } else {
            ds_put_format(text, "%d", v);
        }
    }
}

int
bench_acl_install(struct flow_table *ft, char *error, size_t size)
{
    const int per_mask = BENCH_ACL_RULES / BENCH_ACL_MASKS;

    for (size_t t = 0; t < BENCH_ACL_MASKS; t++) {
        for (int i = 0; i < per_mask; i++) {
            struct ds text = DS_EMPTY_INITIALIZER;
            struct ds why = DS_EMPTY_INITIALIZER;
            struct flow_spec spec;
            int err;

            /* Each mask its own priority, so that subtables order. */
            ds_put_format(&text, "priority=%zu,", 1000 + 10 * t);
            put_template(&text, templates[t], value(t, i));
            ds_put_cstr(&text, ",actions=drop");
            err = flow_text_parse(ds_cstr(&text), FLOW_TEXT_ADD, NULL, &spec,
                                  &why);
            if (!err) {
                err = flow_table_add(ft, &spec, 0, NULL);
                flow_spec_uninit(&spec);
                if (err) {
                    ds_put_cstr(&why, "cannot add");
                }
            }
            if (err) {
                snprintf(error, size, "%s: %s", ds_cstr(&text),
                         ds_cstr(&why));
            }
            ds_destroy(&text);
            ds_destroy(&why);
            if (err) {
                return err;
            }
        }
    }
    return 0;
}
