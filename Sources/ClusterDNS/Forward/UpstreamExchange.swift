import CShims
import Glibc

/// One forwarded query on its way through the upstreams: the socket of the current attempt
/// (a new UDP socket per attempt, so each gets a fresh random source port from the kernel,
/// connected so the kernel drops datagrams from any other address), its random id, and the
/// TCP state when an answer came back truncated.
final class UpstreamExchange {
    enum Phase {
        case udp
        case tcpConnecting
        case tcpWriting
        case tcpReading
    }

    let request: ForwardRequest
    let token: UInt64
    var attempt = 0
    /// The upstream the first attempt goes to (the last one that answered); later attempts
    /// take the next ones in turn.
    var firstUpstream = 0
    var upstreamIndex = 0
    var upstream: SocketAddress?
    var fd: Int32 = -1
    var phase = Phase.udp
    var id: UInt16 = 0
    var deadline: UInt64 = 0
    var lastRcode = ResponseCode.serverFailure
    var answered = false
    /// TCP: the framed query and how much was written; the reply as it arrives.
    var outgoing: [UInt8] = []
    var written = 0
    var incoming: [UInt8] = []

    init(request: ForwardRequest, token: UInt64) {
        self.request = request
        self.token = token
    }

    /// Our query: a fresh random id, RD, the lowercased question, an OPT offering 1232 octets
    /// (no DO bit: we do not validate DNSSEC, and the cache does not keep signatures apart).
    func encodeQuery(payloadSize: UInt16) -> [UInt8] {
        id = UInt16.random(in: 0...UInt16.max)
        var bytes = [UInt8](repeating: 0, count: DNSWire.headerLength + request.upstreamName.count + 4 + 11)
        let table = CompressionTable()
        let length = bytes.withUnsafeMutableBytes { buffer -> Int in
            var w = DNSWriter(buffer, limit: buffer.count, table: table)
            w.header(id: id, flags: DNSWire.flagRD | (request.clientFlags & DNSWire.flagCD), qd: 1, an: 0, ns: 0, ar: 1)
            _ = request.upstreamName.withUnsafeBytes { w.name($0, compress: false) }
            w.put16(request.type)
            w.put16(request.recordClass)
            _ = w.opt(payloadSize: payloadSize)
            return w.count
        }
        return Array(bytes[0..<length])
    }

    /// Whether `message` answers our query: the id, QR, opcode and the one question must all
    /// match what we sent, or it is someone else's (or a spoofer's) and is ignored.
    func matches(_ message: DNSMessage) -> Bool {
        guard message.id == id, message.isResponse, message.opcode == 0, message.questions.count == 1 else { return false }
        let q = message.questions[0]
        return q.type.rawValue == request.type && q.recordClass == request.recordClass
            && q.name == DNSName(validatedWire: request.upstreamName)
    }

    func closeSocket() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
