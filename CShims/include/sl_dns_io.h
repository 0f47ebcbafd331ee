// Batched UDP for the cluster DNS server (Sources/ClusterDNS). Swift's Glibc module does not
// export recvmmsg/sendmmsg (behind _GNU_SOURCE), and the batch structures (mmsghdr + iovec + sockaddr per slot) are easiest kept in C memory
// that the Swift side fills and reads through pointers, without allocating per packet.
#ifndef SL_DNS_IO_H
#define SL_DNS_IO_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/// A batch of UDP datagrams for recvmmsg/sendmmsg: `count` slots, each with a receive buffer
/// and a reply buffer of `size` bytes and the peer's address.
typedef struct sl_udp_batch sl_udp_batch;

/// Allocates a batch; NULL with errno ENOMEM.
sl_udp_batch *sl_udp_batch_new(unsigned count, unsigned size);
void sl_udp_batch_free(sl_udp_batch *batch);
/// Receives up to the batch's count datagrams without waiting (recvmmsg, MSG_DONTWAIT);
/// returns how many (0 when none is queued), or -1 with errno. EINTR is retried.
int sl_udp_batch_recv(int fd, sl_udp_batch *batch);
/// Slot `i`'s received bytes and their length; datagrams longer than the buffer are cut
/// (MSG_TRUNC is reported through `sl_udp_batch_truncated`).
uint8_t *sl_udp_batch_data(sl_udp_batch *batch, unsigned i);
unsigned sl_udp_batch_length(const sl_udp_batch *batch, unsigned i);
int sl_udp_batch_truncated(const sl_udp_batch *batch, unsigned i);
/// Slot `i`'s reply buffer (the batch's size bytes) and the peer address it came from.
uint8_t *sl_udp_batch_reply(sl_udp_batch *batch, unsigned i);
const struct sockaddr *sl_udp_batch_peer(const sl_udp_batch *batch, unsigned i, socklen_t *length);
/// Marks slot `i`'s reply as `length` bytes to send back to its peer (0: no reply).
void sl_udp_batch_set_reply(sl_udp_batch *batch, unsigned i, unsigned length);
/// Sends every marked reply of the first `received` slots with sendmmsg, retrying partial
/// sends; returns how many were sent or -1 with errno. Marks are cleared.
int sl_udp_batch_send(int fd, sl_udp_batch *batch, unsigned received);

#endif
