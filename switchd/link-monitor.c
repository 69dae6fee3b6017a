#include <config.h>

#include "link-monitor.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct link_monitor {
    struct mnl_socket *nl;
    uv_poll_t poll;             /* Its close callback frees the monitor. */
    link_monitor_cb *cb;
    void *aux;
};

/* Receive buffer of a few hundred KB: a burst of link changes (a host
 * starting its containers) should not overflow it. */
#define LINK_MONITOR_RCVBUF (256 * 1024)

/* Reads the interface name out of one attribute of a link message. */
static int
take_ifname(const struct nlattr *attr, void *name_)
{
    const char **name = name_;

    if (mnl_attr_get_type(attr) == IFLA_IFNAME
        && !mnl_attr_validate(attr, MNL_TYPE_NUL_STRING)) {
        *name = mnl_attr_get_str(attr);
        return MNL_CB_STOP;
    }
    return MNL_CB_OK;
}

static int
on_message(const struct nlmsghdr *nh, void *monitor_)
{
    struct link_monitor *monitor = monitor_;
    const char *name = NULL;

    if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) {
        return MNL_CB_OK;
    }
    mnl_attr_parse(nh, sizeof(struct ifinfomsg), take_ifname, &name);
    if (name) {
        monitor->cb(monitor->aux, name, nh->nlmsg_type == RTM_NEWLINK);
    }
    return MNL_CB_OK;
}

/* A flood of link changes overflows the queue as often as it likes. */
static struct log_rate_limit event_rl = LOG_RATE_LIMIT_INIT(20, 5);

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    struct link_monitor *monitor = poll->data;
    /* Room for the largest link message (MNL_SOCKET_BUFFER_SIZE, which
     * libmnl computes at run time, may be a page: too small for a link
     * with many attributes). */
    static char buf[32768];

    (void) status;
    (void) events;
    /* A few messages per wakeup at most: link events are rare, and the
     * loop has ports to serve. */
    for (int i = 0; i < 16; i++) {
        ssize_t n = mnl_socket_recvfrom(monitor->nl, buf, sizeof buf);

        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        if (n < 0) {
            /* The queue overflowed (ENOBUFS) or a message was cut short:
             * whatever it said is lost. */
            LOG_WARN_RL(&event_rl, "link-monitor", "link events lost (%s): "
                        "looking at every port again", strerror(errno));
            monitor->cb(monitor->aux, NULL, false);
            continue;
        }
        if (mnl_cb_run(buf, (size_t) n, 0, 0, on_message, monitor)
            == MNL_CB_ERROR) {
            LOG_WARN_RL(&event_rl, "link-monitor",
                        "malformed link event: %s", strerror(errno));
        }
    }
}

int
link_monitor_create(uv_loop_t *loop, link_monitor_cb *cb, void *aux,
                    struct link_monitor **monitorp)
{
    struct link_monitor *monitor = calloc(1, sizeof *monitor);
    int size = LINK_MONITOR_RCVBUF;
    int error = 0;

    *monitorp = NULL;
    if (!monitor) {
        return ENOMEM;
    }
    monitor->cb = cb;
    monitor->aux = aux;
    monitor->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK
                                                  | SOCK_CLOEXEC);
    if (!monitor->nl
        || mnl_socket_bind(monitor->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID)) {
        error = errno;
    } else {
        /* Not fatal: the default buffer only overflows sooner. */
        setsockopt(mnl_socket_get_fd(monitor->nl), SOL_SOCKET, SO_RCVBUF,
                   &size, sizeof size);
        error = -uv_poll_init(loop, &monitor->poll,
                              mnl_socket_get_fd(monitor->nl));
    }
    if (error) {
        if (monitor->nl) {
            mnl_socket_close(monitor->nl);
        }
        free(monitor);
        return error;
    }
    monitor->poll.data = monitor;
    uv_poll_start(&monitor->poll, UV_READABLE, on_readable);
    *monitorp = monitor;
    return 0;
}

static void
on_closed(uv_handle_t *handle)
{
    struct link_monitor *monitor = handle->data;

    mnl_socket_close(monitor->nl);
    free(monitor);
}

void
link_monitor_destroy(struct link_monitor *monitor)
{
    if (monitor) {
        uv_poll_stop(&monitor->poll);
        uv_close((uv_handle_t *) &monitor->poll, on_closed);
    }
}
