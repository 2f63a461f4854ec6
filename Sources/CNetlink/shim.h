// libnl-3 and libnl-route-3 (Debian libnl-3-dev, libnl-route-3-dev): rtnetlink link, address and
// route notifications for NetMonitor.
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <linux/rtnetlink.h>
