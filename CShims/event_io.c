// epoll, eventfd and accept4 for the loops that serve sockets on threads of their own (the
// cluster DNS server, the ingress proxy's plain-HTTP data path): see include/sl_event_io.h.
#include "include/sl_event_io.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* EPOLLRDHUP only with EPOLLIN: level-triggered, a peer's FIN would otherwise wake a loop that
 * paused its reads (the ingress data path does, for backpressure) on every wait. */
static uint32_t sl_epoll_flags(int readable, int writable) {
    uint32_t events = 0;
    if (readable) events |= EPOLLIN | EPOLLRDHUP;
    if (writable) events |= EPOLLOUT;
    return events;
}

int sl_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int sl_epoll_add(int epfd, int fd, uint64_t data, int readable, int writable) {
    struct epoll_event ev = {.events = sl_epoll_flags(readable, writable), .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int sl_epoll_modify(int epfd, int fd, uint64_t data, int readable, int writable) {
    struct epoll_event ev = {.events = sl_epoll_flags(readable, writable), .data.u64 = data};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

int sl_epoll_remove(int epfd, int fd) { return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL); }

int sl_epoll_wait(int epfd, uint64_t *data, uint32_t *flags, int max, int timeout_ms) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        data[i] = events[i].data.u64;
        uint32_t f = 0;
        if (events[i].events & EPOLLIN) f |= 1;
        if (events[i].events & EPOLLOUT) f |= 2;
        if (events[i].events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) f |= 4;
        flags[i] = f;
    }
    return n;
}

int sl_eventfd_create(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

void sl_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t rc;
    do {
        rc = write(fd, &one, sizeof one);
    } while (rc < 0 && errno == EINTR);
}

void sl_eventfd_drain(int fd) {
    uint64_t value;
    ssize_t rc;
    do {
        rc = read(fd, &value, sizeof value);
    } while (rc < 0 && errno == EINTR);
}

int sl_accept_nonblocking(int fd) {
    int rc;
    do {
        rc = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (rc < 0 && errno == EINTR);
    return rc;
}
