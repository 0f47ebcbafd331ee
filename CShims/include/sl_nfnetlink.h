// NETLINK_NETFILTER sockets inside a node's network namespace, for the service proxy's
// nf_tables transactions and conntrack clean-up. Why C: a netlink socket talks to the namespace
// it was created in, and entering a namespace (setns) must happen on one thread with nothing
// else running in between (see netlink_ns.h). The messages themselves are built in Swift.
#ifndef SL_NFNETLINK_H
#define SL_NFNETLINK_H

/// A NETLINK_NETFILTER socket created inside `netns_fd` (-1: the calling thread's namespace),
/// with extended acks on and send/receive buffers of at least `buffer_bytes` (forced past the
/// sysctl limits when the caller has CAP_NET_ADMIN; best effort otherwise). Returns the fd, or
/// -1 with errno and `*step` naming the failing call.
int sl_nfnl_open(int netns_fd, int buffer_bytes, const char **step);

/// Grows the socket's send and receive buffers to at least `bytes` (SO_SNDBUFFORCE and
/// SO_RCVBUFFORCE, falling back to the unforced options). nf_tables needs a whole transaction
/// in one datagram, so a large batch needs a large send buffer. 0, or -1 with errno.
int sl_nfnl_grow_buffers(int fd, int bytes);
#endif
