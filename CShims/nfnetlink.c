// NETLINK_NETFILTER sockets inside a network namespace (sl_nfnetlink.h).
#include "include/sl_nfnetlink.h"
#include "netlink_ns.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

int sl_nfnl_grow_buffers(int fd, int bytes) {
    int rc = 0;
    // FORCE needs CAP_NET_ADMIN (the proxy has it); the plain options are capped by
    // net.core.{w,r}mem_max, which is enough for small transactions.
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0
        && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) != 0) rc = -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0
        && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) != 0) rc = -1;
    return rc;
}

int sl_nfnl_open(int netns_fd, int buffer_bytes, const char **step) {
    int saved = sl_ns_enter(netns_fd, step);
    if (saved == -2) return -1;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    sl_ns_leave(saved);
    if (fd < 0) {
        *step = "socket(AF_NETLINK, NETLINK_NETFILTER)";
        return -1;
    }
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        *step = "bind(NETLINK_NETFILTER)";
        return -1;
    }
    // Best effort: with EXT_ACK the kernel explains a refusal in text, with CAP_ACK an error
    // does not echo the whole (possibly megabytes long) request back.
    int one = 1;
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    if (buffer_bytes > 0) (void)sl_nfnl_grow_buffers(fd, buffer_bytes);
    return fd;
}
