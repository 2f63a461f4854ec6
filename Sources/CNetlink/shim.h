// libnl-3 and libnl-route-3 (Debian libnl-3-dev, libnl-route-3-dev): rtnetlink link, address and
// route notifications for NetMonitor.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

// glibc declares setns() and CLONE_NEWNET only under _GNU_SOURCE, which Swift's Glibc module is not
// built with; this compatible redeclaration and the helper below give NetMonitor what it needs to
// create a socket inside a named network namespace (see NetworkNamespace.swift).
extern int setns(int fd, int nstype);

/// Moves the calling thread into the network namespace `fd` refers to (an open
/// /var/run/netns/NAME); 0 on success, -1 with errno set.
static inline int cnetlink_enter_network_namespace(int fd) {
    return setns(fd, 0x40000000 /* CLONE_NEWNET, the same value on every Linux architecture */);
}
