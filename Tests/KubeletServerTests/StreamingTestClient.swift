import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Streaming

/// A TLS connection to the kubelet API that the test drives byte by byte: an upgrade request
/// written as text, the answer's head read raw, then WebSocket frames both ways (masked, as a
/// client sends them). Hostile-input tests send what no real client would.
struct StreamingTestConnection {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var parser = WebSocketFrameParser(maxPayload: 16 << 20, requireMask: false)
    var leftover = ByteBuffer()

    /// Connects to 127.0.0.1:`port` over TLS (the kubelet's certificate is not verified) and
    /// runs `body` with the connection; it is closed after.
    static func with<T: Sendable>(port: Int, _ body: (inout StreamingTestConnection) async throws -> T) async throws -> T {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = StreamingTestConnection(iterator: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    /// A WebSocket upgrade request for `path` (a kubelet path with its query).
    static func webSocketRequest(_ path: String, protocols: [String], token: String? = "admin-token") -> String {
        var lines = ["GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: Upgrade", "Upgrade: websocket",
                     "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        if !protocols.isEmpty { lines.append("Sec-WebSocket-Protocol: " + protocols.joined(separator: ", ")) }
        if let token { lines.append("Authorization: Bearer \(token)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    mutating func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    mutating func send(_ frame: WebSocketFrame) async throws {
        var bytes = ByteBuffer()
        frame.writeMasked(into: &bytes, key: [0x11, 0x22, 0x33, 0x44])
        try await outbound.write(bytes)
    }

    /// A binary message on a channel of Kubernetes' protocol.
    mutating func send(channel: UInt8, _ text: String) async throws {
        var payload = ByteBuffer(bytes: [channel])
        payload.writeString(text)
        try await send(WebSocketFrame(opcode: .binary, payload: payload))
    }

    /// The answer's status line and headers (lowercased names); the bytes after them stay for
    /// `readFrame` or `readRest`.
    mutating func readHead() async throws -> (status: Int, headers: [String: String]) {
        while true {
            let view = leftover.readableBytesView
            if let end = view.firstRange(of: [13, 10, 13, 10]) {
                let count = view.distance(from: view.startIndex, to: end.upperBound)
                let head = leftover.readString(length: count) ?? ""
                var lines = head.components(separatedBy: "\r\n")
                let status = Int(lines.removeFirst().split(separator: " ").dropFirst().first ?? "") ?? 0
                var headers: [String: String] = [:]
                for line in lines where line.contains(":") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                }
                return (status, headers)
            }
            guard var more = try await iterator.next() else { throw TestFailure("connection closed before an answer") }
            leftover.writeBuffer(&more)
        }
    }

    /// The body of a refusal (Content-Length long).
    mutating func readBody(_ headers: [String: String]) async throws -> String {
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while leftover.readableBytes < length, var more = try await iterator.next() { leftover.writeBuffer(&more) }
        return leftover.readString(length: min(length, leftover.readableBytes)) ?? ""
    }

    /// The next frame from the server, or nil when the connection ends.
    mutating func readFrame() async throws -> WebSocketFrame? {
        if leftover.readableBytes > 0 {
            parser.append(leftover)
            leftover = ByteBuffer()
        }
        while true {
            if let frame = try parser.next() { return frame }
            guard let more = try await iterator.next() else { return nil }
            parser.append(more)
        }
    }

    /// What a session carried: each channel's bytes, and the close code.
    struct Session: CustomStringConvertible {
        var bytes: [UInt8: [UInt8]] = [:]
        var closeCode: UInt16?
        func text(_ channel: UInt8) -> String? { bytes[channel].map { String(decoding: $0, as: UTF8.self) } }
        var description: String {
            bytes.keys.sorted().map { "\($0): \(text($0)!.debugDescription)" }.joined(separator: ", ") + " close \(closeCode.map(String.init) ?? "none")"
        }
    }

    /// Frames until the server's close (or the end).
    mutating func readSession() async throws -> Session {
        var session = Session()
        while let frame = try await readFrame() {
            switch frame.opcode {
            case .binary:
                var payload = frame.payload
                guard let channel = payload.readInteger(as: UInt8.self) else { continue }
                session.bytes[channel, default: []] += payload.readableBytesView
            case .close:
                var payload = frame.payload
                session.closeCode = payload.readInteger(as: UInt16.self)
                return session
            default:
                continue
            }
        }
        return session
    }
}

extension StreamingTestConnection {
    /// A SPDY/3.1 upgrade request for `path`.
    static func spdyRequest(_ path: String, protocols: [String], token: String? = "admin-token") -> String {
        var lines = ["POST \(path) HTTP/1.1", "Host: 127.0.0.1", "Connection: Upgrade", "Upgrade: SPDY/3.1", "Content-Length: 0"]
        lines += protocols.map { "X-Stream-Protocol-Version: \($0)" }
        if let token { lines.append("Authorization: Bearer \(token)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    mutating func send(_ frame: SPDYFrame) async throws {
        var bytes = ByteBuffer()
        frame.write(into: &bytes)
        try await outbound.write(bytes)
    }

    /// The next SPDY frame from the server, or nil when the connection ends.
    mutating func readSPDYFrame(_ parser: inout SPDYFrameParser) async throws -> SPDYFrame? {
        if leftover.readableBytes > 0 {
            parser.append(leftover)
            leftover = ByteBuffer()
        }
        while true {
            if let frame = try parser.next() { return frame }
            guard let more = try await iterator.next() else { return nil }
            parser.append(more)
        }
    }
}
