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
    bool lost;                  /* Events were lost since the last resync. */
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

/* Reads what the kernel said, a few messages at most: link events are
 * rare, and the loop has ports to serve. */
static void
read_events(struct link_monitor *monitor)
{
    /* Room for the largest link message (MNL_SOCKET_BUFFER_SIZE, which
     * libmnl computes at run time, may be a page: too small for a link
     * with many attributes). */
    static char buf[32768];

    for (int i = 0; i < 16; i++) {
        ssize_t n = mnl_socket_recvfrom(monitor->nl, buf, sizeof buf);

        if (n < 0 && errno == EAGAIN) {
            /* The queue is empty.  Only now may the owner look at
             * everything again: the kernel reports an overflow once and
             * then drops events silently until the queue is empty, so a
             * look taken earlier could miss what it dropped later. */
            if (monitor->lost) {
                monitor->lost = false;
                monitor->cb(monitor->aux, NULL, false);
            }
            return;
        }
        if (n < 0 && errno == EINTR) {
            return;
        }
        if (n < 0) {
            /* The queue overflowed (ENOBUFS) or a message was cut short:
             * whatever it said is lost. */
            LOG_WARN_RL(&event_rl, "link-monitor", "link events lost (%s): "
                        "looking at every port again", strerror(errno));
            monitor->lost = true;
            continue;
        }
        if (mnl_cb_run(buf, (size_t) n, 0, 0, on_message, monitor)
            == MNL_CB_ERROR) {
            LOG_WARN_RL(&event_rl, "link-monitor",
                        "malformed link event: %s", strerror(errno));
        }
    }
}

static void
on_readable(uv_poll_t *poll, int status, int events)
{
    (void) events;
    read_events(poll->data);
    /* An overflow of the kernel's queue is a socket error, which libuv
     * reports by stopping the handle: the error is taken off by the read
     * above, and following goes on. */
    if (status < 0) {
        uv_poll_start(poll, UV_READABLE, on_readable);
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
