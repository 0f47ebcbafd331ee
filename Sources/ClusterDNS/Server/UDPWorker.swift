import CShims
import Glibc
import Synchronization

/// One UDP serving loop: recvmmsg a batch, answer each query from the snapshot taken once for
/// the batch, sendmmsg the replies; forwarded queries are answered later by the forwarder
/// with sendto on the same socket. Sleeps in poll when nothing is queued.
final class UDPWorker: Sendable {
    let fd: Int32
    private let stopFD: Int32
    private let running = Atomic<Bool>(true)

    init(fd: Int32) throws {
        self.fd = fd
        stopFD = sl_eventfd_create()
        guard stopFD >= 0 else { throw DNSServerError.system("eventfd for a UDP worker") }
    }

    func stop() {
        running.store(false, ordering: .releasing)
        sl_eventfd_signal(stopFD)
    }

    func run(store: ClusterRecordStore, handler: QueryHandler, forwarder: UpstreamForwarder?, batchSize: Int) {
        let size = 4096
        guard let batch = sl_udp_batch_new(UInt32(batchSize), UInt32(size)) else { return }
        defer {
            sl_udp_batch_free(batch)
            close(fd)
            close(stopFD)
        }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
        let socket = fd
        while running.load(ordering: .acquiring) {
            let received = Int(sl_udp_batch_recv(fd, batch))
            if received == 0 {
                _ = poll(&fds, 2, -1)
                continue
            }
            if received < 0 {
                if errno == EBADF { return }
                // Some other error (ENOMEM, a pending ICMP error): do not spin on it.
                _ = poll(&fds, 2, 10)
                continue
            }
            let snapshot = store.snapshot
            for i in 0..<received {
                let packet = UnsafeRawBufferPointer(start: sl_udp_batch_data(batch, UInt32(i)),
                                                    count: Int(sl_udp_batch_length(batch, UInt32(i))))
                let reply = UnsafeMutableRawBufferPointer(start: sl_udp_batch_reply(batch, UInt32(i)), count: size)
                switch handler.handle(packet, into: reply, tcp: false, snapshot: snapshot) {
                case .reply(let length):
                    sl_udp_batch_set_reply(batch, UInt32(i), UInt32(length))
                case .drop:
                    break
                case .forward(var request):
                    guard let forwarder else { break }
                    var length = socklen_t(0)
                    let peer = sl_udp_batch_peer(batch, UInt32(i), &length)!
                    let address = Array(UnsafeRawBufferPointer(start: peer, count: Int(length)))
                    request.deliver = { bytes in
                        _ = address.withUnsafeBytes { a in
                            bytes.withUnsafeBytes { b in
                                sendto(socket, b.baseAddress, b.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self),
                                       socklen_t(a.count))
                            }
                        }
                    }
                    forwarder.submit(request)
                }
            }
            _ = sl_udp_batch_send(fd, batch, UInt32(received))
        }
    }
}
