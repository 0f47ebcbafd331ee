import NIOCore

/// What carries a SPDY session's bytes: the upgraded connection itself (`Upgrade: SPDY/3.1`),
/// or the binary messages of a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+'s
/// port-forward, whose messages split the SPDY byte stream anywhere).
public enum SPDYTransport: Sendable {
    case raw(UpgradedConnection)
    case tunnel(WebSocketConnection)

    /// Reads until the peer ends the connection; `onBytes` gets the bytes in order.
    func read(_ onBytes: (ByteBuffer) async throws -> Void) async throws {
        switch self {
        case .raw(let connection):
            for try await bytes in connection.inbound { try await onBytes(bytes) }
        case .tunnel(let socket):
            try await socket.read { fragment in
                guard fragment.opcode == .binary else {
                    throw WebSocketProtocolError("a text message in a SPDY tunnel", closeCode: WebSocketCloseCode.unacceptableData)
                }
                try await onBytes(fragment.payload)
            }
        }
    }

    func write(_ bytes: ByteBuffer) async throws {
        switch self {
        case .raw(let connection): try await connection.outbound.write(bytes)
        case .tunnel(let socket): try await socket.send(.binary, bytes)
        }
    }

    var allocator: ByteBufferAllocator {
        switch self {
        case .raw(let connection): connection.allocator
        case .tunnel(let socket): socket.connection.allocator
        }
    }

    /// Ends the transport's own framing (a WebSocket close); the connection closes after.
    func close() async {
        if case .tunnel(let socket) = self { await socket.close(code: WebSocketCloseCode.normal) }
    }
}
