// Batched UDP for the cluster DNS server: see include/sl_dns_io.h.
#include "include/sl_dns_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
