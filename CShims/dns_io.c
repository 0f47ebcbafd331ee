// Batched UDP, epoll and eventfd for the cluster DNS server: see include/sl_dns_io.h.
#include "include/sl_dns_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

struct sl_udp_batch {
    unsigned count;
    unsigned size;
    struct mmsghdr *in;          // recvmmsg headers, one per slot
    struct iovec *in_iov;
    struct sockaddr_storage *peers;
    uint8_t *in_data;            // count * size
    uint8_t *out_data;           // count * size
    unsigned *out_length;        // 0: no reply for the slot
    struct mmsghdr *out;         // sendmmsg headers, packed with the marked slots
    struct iovec *out_iov;
};

sl_udp_batch *sl_udp_batch_new(unsigned count, unsigned size) {
    sl_udp_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->count = count;
    b->size = size;
    b->in = calloc(count, sizeof *b->in);
    b->in_iov = calloc(count, sizeof *b->in_iov);
    b->peers = calloc(count, sizeof *b->peers);
    b->in_data = calloc(count, size);
    b->out_data = calloc(count, size);
    b->out_length = calloc(count, sizeof *b->out_length);
    b->out = calloc(count, sizeof *b->out);
    b->out_iov = calloc(count, sizeof *b->out_iov);
    if (!b->in || !b->in_iov || !b->peers || !b->in_data || !b->out_data || !b->out_length || !b->out ||
        !b->out_iov) {
        sl_udp_batch_free(b);
        errno = ENOMEM;
        return NULL;
    }
    return b;
}

void sl_udp_batch_free(sl_udp_batch *b) {
    if (!b) return;
    free(b->in);
    free(b->in_iov);
    free(b->peers);
    free(b->in_data);
    free(b->out_data);
    free(b->out_length);
    free(b->out);
    free(b->out_iov);
    free(b);
}

int sl_udp_batch_recv(int fd, sl_udp_batch *b) {
    // The headers are reset each time: recvmmsg writes msg_namelen and msg_flags back.
    for (unsigned i = 0; i < b->count; i++) {
        b->in_iov[i].iov_base = b->in_data + (size_t)i * b->size;
        b->in_iov[i].iov_len = b->size;
        memset(&b->in[i], 0, sizeof b->in[i]);
        b->in[i].msg_hdr.msg_iov = &b->in_iov[i];
        b->in[i].msg_hdr.msg_iovlen = 1;
        b->in[i].msg_hdr.msg_name = &b->peers[i];
        b->in[i].msg_hdr.msg_namelen = sizeof b->peers[i];
        b->out_length[i] = 0;
    }
    int n;
    do {
        n = recvmmsg(fd, b->in, b->count, MSG_DONTWAIT, NULL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return n;
}

uint8_t *sl_udp_batch_data(sl_udp_batch *b, unsigned i) { return b->in_data + (size_t)i * b->size; }

unsigned sl_udp_batch_length(const sl_udp_batch *b, unsigned i) { return b->in[i].msg_len; }

int sl_udp_batch_truncated(const sl_udp_batch *b, unsigned i) { return (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }

uint8_t *sl_udp_batch_reply(sl_udp_batch *b, unsigned i) { return b->out_data + (size_t)i * b->size; }

const struct sockaddr *sl_udp_batch_peer(const sl_udp_batch *b, unsigned i, socklen_t *length) {
    *length = b->in[i].msg_hdr.msg_namelen;
    return (const struct sockaddr *)&b->peers[i];
}

void sl_udp_batch_set_reply(sl_udp_batch *b, unsigned i, unsigned length) {
    b->out_length[i] = length <= b->size ? length : 0;
}

int sl_udp_batch_send(int fd, sl_udp_batch *b, unsigned received) {
    unsigned m = 0;
    for (unsigned i = 0; i < received && i < b->count; i++) {
        if (b->out_length[i] == 0) continue;
        b->out_iov[m].iov_base = b->out_data + (size_t)i * b->size;
        b->out_iov[m].iov_len = b->out_length[i];
        memset(&b->out[m], 0, sizeof b->out[m]);
        b->out[m].msg_hdr.msg_iov = &b->out_iov[m];
        b->out[m].msg_hdr.msg_iovlen = 1;
        b->out[m].msg_hdr.msg_name = &b->peers[i];
        b->out[m].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
        b->out_length[i] = 0;
        m++;
    }
    unsigned sent = 0;
    while (sent < m) {
        int n = sendmmsg(fd, b->out + sent, m - sent, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            // A datagram the kernel refuses (e.g. EAGAIN with a full send buffer, or a peer
            // address it cannot route) is dropped, as a lost UDP reply would be: skip it.
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EPERM ||
                errno == ENETUNREACH || errno == EHOSTUNREACH || errno == EINVAL) {
                sent++;
                continue;
            }
            return sent > 0 ? (int)sent : -1;
        }
        sent += (unsigned)n;
    }
    return (int)sent;
}

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
