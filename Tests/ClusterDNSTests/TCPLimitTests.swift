import ClusterDNS
import Foundation
import Glibc
import Testing
import TestSupport
@testable import ClusterDNS

/// Hostile TCP clients against the real server: slow-loris (a message begun and never
/// finished), a length prefix that lies, zero-length messages, more connections than allowed;
/// pipelined queries still work. Also garbage over UDP. Root: network namespaces.
@Suite(.serialized, .ownThreads, .requires(getuid() == 0, "needs root for network namespaces"))
struct TCPLimitTests {
    static let limits = DNSServerConfig.TCPLimits(maxConnections: 4, idleTimeoutMs: 1500, readTimeoutMs: 400, maxPending: 4)

    static func lab() throws -> (DNSLab, DNSServer) {
        let lab = try DNSLab(addresses: ["10.53.0.1"])
        let store = try ClusterRecordStore()
        store.replace(services: [Fixtures.service("web")], endpointSlices: [])
        return (lab, try lab.server(store, tcp: limits))
    }

    /// Whether the server closed the connection within `seconds` (recv sees EOF or a reset).
    /// Callers give several times the server's timeout: a loaded 2-core machine delays threads.
    static func closedByServer(_ fd: Int32, within seconds: Int) -> Bool {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    static func framed(_ query: [UInt8]) -> [UInt8] { [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query }

    @Test func slowLorisAndLyingPrefixesAreCutOff() throws {
        let (lab, server) = try Self.lab()
        let slow = try lab.socket(tcp: true)
        defer { close(slow) }
        #expect(DNSLab.connect(slow, "10.53.0.1"))
        // One octet of a length prefix, then silence.
        _ = send(slow, [UInt8(0)], 1, 0)
        #expect(Self.closedByServer(slow, within: 30))

        let liar = try lab.socket(tcp: true)
        defer { close(liar) }
        #expect(DNSLab.connect(liar, "10.53.0.1"))
        let query = QueryBytes.make("web.default.svc.cluster.local")
        // Claims 300 octets, sends the 47 of a real query, waits.
        let lie = [UInt8(1), UInt8(44)] + query
        _ = lie.withUnsafeBytes { send(liar, $0.baseAddress, $0.count, 0) }
        #expect(Self.closedByServer(liar, within: 30))

        let zero = try lab.socket(tcp: true)
        defer { close(zero) }
        #expect(DNSLab.connect(zero, "10.53.0.1"))
        _ = send(zero, [UInt8(0), UInt8(0)], 2, 0)
        #expect(Self.closedByServer(zero, within: 30))
        #expect(lab.waitUntil(30) { server.openTCPConnections == 0 })
        _ = lab
    }

    @Test func connectionsAreBoundedAndIdleOnesClosed() throws {
        let (lab, server) = try Self.lab()
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        for _ in 0..<10 {
            let fd = try lab.socket(tcp: true)
            sockets.append(fd)
            #expect(DNSLab.connect(fd, "10.53.0.1"))
        }
        #expect(lab.waitUntil(30) { server.openTCPConnections == 4 })
        usleep(300_000)
        #expect(server.openTCPConnections <= 4)
        // Over the bound: closed at once. Within it: idle ones close after the idle timeout.
        #expect(Self.closedByServer(sockets[9], within: 1))
        #expect(lab.waitUntil(30) { server.openTCPConnections == 0 })
        // And the server still answers.
        #expect(lab.dig(["+tcp", "web.default.svc.cluster.local"]) == "10.43.0.20\n")
    }

    @Test func pipelinedQueriesAreAllAnswered() throws {
        let (lab, _) = try Self.lab()
        let fd = try lab.socket(tcp: true)
        defer { close(fd) }
        #expect(DNSLab.connect(fd, "10.53.0.1"))
        let both = Self.framed(QueryBytes.make("web.default.svc.cluster.local", id: 1))
            + Self.framed(QueryBytes.make("nope.default.svc.cluster.local", id: 2))
        _ = both.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var messages: [DNSMessage] = []
        while messages.count < 2 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            received += buffer[0..<n]
            while received.count >= 2, received.count >= 2 + (Int(received[0]) << 8 | Int(received[1])) {
                let length = Int(received[0]) << 8 | Int(received[1])
                messages.append(try DNSMessage.parse(Array(received[2..<(2 + length)])))
                received.removeFirst(2 + length)
            }
        }
        #expect(messages.map(\.id) == [1, 2])
        #expect(messages.map(\.rcode) == [.noError, .nameError])
        _ = lab
    }

    @Test func udpGarbageGetsFORMERROrNothingAndServingGoesOn() throws {
        let (lab, _) = try Self.lab()
        let fd = try lab.socket(tcp: false)
        defer { close(fd) }
        #expect(DNSLab.connect(fd, "10.53.0.1"))
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var generator = SplitMix(seed: 42)
        var formerr = 0
        for _ in 0..<300 {
            var packet = (0..<Int(12 + generator.next() % 100)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            packet[2] &= 0x07  // a standard query (QR and opcode 0); other opcodes get NOTIMP
            if let reply = DNSLab.exchange(fd, packet), let message = try? DNSMessage.parse(reply) {
                #expect(message.id == UInt16(packet[0]) << 8 | UInt16(packet[1]))
                if message.rcode == .formatError { formerr += 1 }
            }
        }
        #expect(formerr > 100)
        tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let reply = DNSLab.exchange(fd, QueryBytes.make("web.default.svc.cluster.local", id: 4242))
        #expect(try reply.map { try DNSMessage.parse($0).answerData } == ["10.43.0.20"])
        _ = lab
    }
}
