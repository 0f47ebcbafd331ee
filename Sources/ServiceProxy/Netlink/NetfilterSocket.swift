import CShims
import Glibc

/// A NETLINK_NETFILTER socket in the node's network namespace: nf_tables transactions, dumps
/// of our chains and sets, and conntrack. Created inside the namespace by `sl_nfnl_open`, so
/// any thread may use it afterwards. Not thread-safe: the proxy runs one operation at a time.
final class NetfilterSocket: @unchecked Sendable {
    let fd: Int32
    private var sequence: UInt32 = 1
    private var bufferBytes: Int
    private var receiveBuffer = [UInt8](repeating: 0, count: 256 * 1024)

    /// A socket in the namespace `netns` (an open fd, -1: the caller's own).
    init(netns: Int32) throws {
        var step: UnsafePointer<CChar>? = nil
        bufferBytes = 4 * 1024 * 1024
        let fd = sl_nfnl_open(netns, Int32(bufferBytes), &step)
        guard fd >= 0 else {
            throw ServiceProxyError.system(step: step.map { String(cString: $0) } ?? "open NETLINK_NETFILTER socket",
                                           errno: Glibc.errno)
        }
        self.fd = fd
        // A dump that never ends must not hang the proxy.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// A batch whose sequence numbers follow this socket's last ones.
    func batch() -> NFTBatch {
        NFTBatch(firstSequence: sequence)
    }

    /// Sends the transaction and reports the first message the kernel refused. The kernel
    /// handles the whole batch inside sendmsg (nfnetlink_rcv_batch), so every error it has
    /// for us is queued by the time send returns; nothing queued means committed.
    func commit(_ batch: NFTBatch) throws {
        guard !batch.buffer.oversized else {
            throw ServiceProxyError.transaction(step: "build", errno: EMSGSIZE, message: "a netlink attribute exceeded 64 KiB")
        }
        let datagram = batch.finished()
        sequence = batch.nextSequence
        drainStale()
        if datagram.count + 4096 > bufferBytes {
            bufferBytes = datagram.count * 2
            _ = sl_nfnl_grow_buffers(fd, Int32(clamping: bufferBytes))
        }
        try send(datagram, what: "nf_tables transaction")
        var failures: [(errno: Int32, sequence: UInt32, text: String?)] = []
        while let reply = try receive(blocking: false) {
            for message in NetlinkReader.messages(reply) {
                if let error = NetlinkReader.error(message), error.errno != 0 { failures.append(error) }
            }
        }
        guard !failures.isEmpty else { return }
        // The first refused command explains the rest (later ones often fail because of it).
        let first = failures.filter { batch.describe(sequence: $0.sequence) != "commit" }.min { $0.sequence < $1.sequence }
            ?? failures[0]
        throw ServiceProxyError.transaction(step: batch.describe(sequence: first.sequence) ?? "commit",
                                            errno: first.errno, message: first.text)
    }

    /// Runs a dump request (`type` with NLM_F_DUMP) and returns every answer's payload.
    /// `attributes` add a filter to the request (e.g. the table for a set dump).
    func dump(subsystem: UInt16, type: UInt16, family: UInt8, what: String,
              attributes: (inout NetlinkBuffer) -> Void = { _ in }) throws -> [NetlinkReader.Message] {
        for _ in 0..<5 {
            var buffer = NetlinkBuffer()
            let start = buffer.beginMessage(type: subsystem << 8 | type, flags: NFTNumbers.request | NFTNumbers.dump,
                                            sequence: nextSequence(), family: family)
            attributes(&buffer)
            buffer.end(message: start)
            drainStale()
            try send(buffer.bytes, what: what)
            var answers: [NetlinkReader.Message] = []
            var interrupted = false
            reading: while true {
                guard let reply = try receive(blocking: true) else { break }
                for message in NetlinkReader.messages(reply) {
                    if message.flags & 0x10 != 0 { interrupted = true }  // NLM_F_DUMP_INTR: changed meanwhile
                    if message.type == NetlinkReader.messageDone { break reading }
                    if let error = NetlinkReader.error(message) {
                        if error.errno == 0 { continue }
                        throw ServiceProxyError.netlink(step: what, errno: error.errno, message: error.text)
                    }
                    answers.append(message)
                }
            }
            if !interrupted { return answers }
        }
        throw ServiceProxyError.netlink(step: what, errno: EINTR, message: "the dump kept being interrupted by changes")
    }

    /// Sends requests that are not a transaction (conntrack deletions, one message each) and
    /// returns the errors the kernel answered, by sequence number.
    func request(_ build: (inout NetlinkBuffer, () -> UInt32) -> Void, what: String) throws -> [UInt32: Int32] {
        var buffer = NetlinkBuffer()
        build(&buffer) { self.nextSequence() }
        guard !buffer.bytes.isEmpty else { return [:] }
        if buffer.bytes.count + 4096 > bufferBytes {
            bufferBytes = buffer.bytes.count * 2
            _ = sl_nfnl_grow_buffers(fd, Int32(clamping: bufferBytes))
        }
        drainStale()
        try send(buffer.bytes, what: what)
        var errors: [UInt32: Int32] = [:]
        while let reply = try receive(blocking: false) {
            for message in NetlinkReader.messages(reply) {
                if let error = NetlinkReader.error(message), error.errno != 0 { errors[error.sequence] = error.errno }
            }
        }
        return errors
    }

    func nextSequence() -> UInt32 {
        defer { sequence &+= 1 }
        return sequence
    }

    private func send(_ datagram: [UInt8], what: String) throws {
        while true {
            let sent = datagram.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if sent == datagram.count { return }
            if sent < 0 && Glibc.errno == EINTR { continue }
            throw ServiceProxyError.system(step: "send(\(what), \(datagram.count) bytes)",
                                           errno: sent < 0 ? Glibc.errno : EMSGSIZE)
        }
    }

    /// One datagram; nil when none is waiting (non-blocking) or the dump ended by timeout.
    private func receive(blocking: Bool) throws -> [UInt8]? {
        while true {
            let count = receiveBuffer.withUnsafeMutableBytes {
                recv(fd, $0.baseAddress, $0.count, blocking ? 0 : Int32(MSG_DONTWAIT))
            }
            if count > 0 { return Array(receiveBuffer[0..<count]) }
            let error = count < 0 ? Glibc.errno : 0
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK {
                if blocking { throw ServiceProxyError.system(step: "recv(NETLINK_NETFILTER): no answer in time", errno: error) }
                return nil
            }
            // ENOBUFS: the kernel dropped answers; the caller's state is unknown, so it fails.
            throw ServiceProxyError.system(step: "recv(NETLINK_NETFILTER)", errno: error == 0 ? ECONNRESET : error)
        }
    }

    /// Discards anything left from an earlier exchange (a late error) so it is not mistaken
    /// for an answer to the next one.
    private func drainStale() {
        while (try? receive(blocking: false)) != nil {}
    }
}
