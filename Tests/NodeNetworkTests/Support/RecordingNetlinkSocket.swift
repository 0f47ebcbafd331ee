import Glibc
import NodeNetwork

/// A NetlinkSocket that records every datagram and answers like the kernel would: by default
/// an ACK per message, or what `respond` returns for a message (one or more messages, put in
/// one reply datagram per request message).
final class RecordingNetlinkSocket: NetlinkSocket {
    private(set) var sent: [[UInt8]] = []
    private var queue: [[UInt8]] = []
    /// Replies for one request message; nil means "ACK it".
    var respond: ([UInt8]) -> [[UInt8]]? = { _ in nil }

    func send(_ datagram: [UInt8]) throws {
        sent.append(datagram)
        for message in NetlinkBytes.split(datagram) {
            queue.append((respond(message) ?? [NetlinkBytes.ack(for: message)]).flatMap { $0 })
        }
    }

    /// Puts a datagram in front of the replies (a late answer from an earlier exchange).
    func inject(_ datagram: [UInt8]) { queue.insert(datagram, at: 0) }

    func receive() throws -> [UInt8] {
        guard !queue.isEmpty else { throw NetworkError.system(step: "recv (fake)", detail: "nothing queued", errno: EAGAIN) }
        return queue.removeFirst()
    }

    /// Every message sent, across datagrams.
    var messages: [[UInt8]] { sent.flatMap(NetlinkBytes.split) }
}
