// epoll, eventfd and accept4 for the loops that serve sockets on threads of their own: the
// cluster DNS server (Sources/ClusterDNS) and the ingress proxy's plain-HTTP data path
// (Sources/IngressProxy/DataPath). Swift's Glibc module exports neither <sys/epoll.h> nor
// <sys/eventfd.h>, and accept4 is behind _GNU_SOURCE.
#ifndef SL_EVENT_IO_H
#define SL_EVENT_IO_H
#include <stdint.h>

/// epoll_create1(EPOLL_CLOEXEC).
int sl_epoll_create(void);
/// epoll_ctl ADD/MOD/DEL with `data` as the event's user data; `readable`/`writable` choose
/// EPOLLIN/EPOLLOUT; EPOLLRDHUP (a TCP peer closing) comes with EPOLLIN only, so a
/// level-triggered set that stops reading a socket is not woken by its FIN.
int sl_epoll_add(int epfd, int fd, uint64_t data, int readable, int writable);
int sl_epoll_modify(int epfd, int fd, uint64_t data, int readable, int writable);
int sl_epoll_remove(int epfd, int fd);
/// epoll_wait into parallel arrays of user data and flags (bit 0 readable, bit 1 writable,
/// bit 2 error or hang-up); returns the count, 0 on timeout, -1 with errno (EINTR is 0).
int sl_epoll_wait(int epfd, uint64_t *data, uint32_t *flags, int max, int timeout_ms);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), a wake-up for threads waiting in poll/epoll.
int sl_eventfd_create(void);
/// Adds one to the eventfd's counter (wakes its waiter).
void sl_eventfd_signal(int fd);
/// Resets the counter to zero.
void sl_eventfd_drain(int fd);

/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC); -1 with errno. EINTR is retried.
int sl_accept_nonblocking(int fd);
#endif
