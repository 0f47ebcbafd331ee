import NIOCore
import Synchronization

/// A piece of a data message: a whole message when `isFirst && isLast`. Kubernetes' clients
/// (gorilla/websocket) fragment large messages into frames of their write buffer's size; a
/// message is consumed as it arrives rather than reassembled, so its size is not bounded by
/// memory.
public struct WebSocketDataFragment: Sendable {
    /// The message's type (text or binary), also on its continuation frames.
    public let opcode: WebSocketOpcode
    public let payload: ByteBuffer
    public let isFirst: Bool
    public let isLast: Bool
}

/// The server end of a WebSocket on an upgraded connection: sends frames, reads the client's
/// data and answers its control frames (a ping gets its pong, a close its close; RFC 6455 §5.5).
public final class WebSocketConnection: Sendable {
    public let connection: UpgradedConnection
    /// The largest frame accepted from the client (its payload).
    public let maxFramePayload: Int
    private let closeSent = Atomic<Bool>(false)

    public init(_ connection: UpgradedConnection, maxFramePayload: Int = 4 << 20) {
        self.connection = connection
        self.maxFramePayload = maxFramePayload
    }

    /// Sends one frame; waits while the client does not read (back-pressure).
    public func send(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) async throws {
        var frame = connection.allocator.buffer(capacity: payload.readableBytes + 10)
        WebSocketFrame(opcode: opcode, payload: payload).write(into: &frame)
        try await connection.outbound.write(frame)
    }

    /// Sends a close frame, once; later calls do nothing.
    public func close(code: UInt16, reason: String = "") async {
        guard !closeSent.exchange(true, ordering: .relaxed) else { return }
        try? await send(.close, WebSocketFrame.closePayload(code: code, reason: reason))
    }

    /// Reads until the client closes: data goes to `onData`, control frames are answered. A
    /// protocol violation is answered with a close of its code and thrown. Returns the close
    /// code the client sent (1005 when it sent none), or nil when the connection just ended.
    @discardableResult
    public func read(_ onData: (WebSocketDataFragment) async throws -> Void) async throws -> UInt16? {
        var parser = WebSocketFrameParser(maxPayload: maxFramePayload)
        var message: WebSocketOpcode?
        do {
            for try await bytes in connection.inbound {
                parser.append(bytes)
                while let frame = try parser.next() {
                    switch frame.opcode {
                    case .ping:
                        try await send(.pong, frame.payload)
                    case .pong:
                        break
                    case .close:
                        var payload = frame.payload
                        let code = payload.readInteger(as: UInt16.self) ?? 1005
                        await close(code: code == 1005 ? WebSocketCloseCode.normal : code)
                        return code
                    case .text, .binary:
                        guard message == nil else {
                            throw WebSocketProtocolError("a new \(frame.opcode) message began before the previous one ended")
                        }
                        if !frame.fin { message = frame.opcode }
                        try await onData(WebSocketDataFragment(opcode: frame.opcode, payload: frame.payload, isFirst: true, isLast: frame.fin))
                    case .continuation:
                        guard let opcode = message else { throw WebSocketProtocolError("a continuation frame outside of a message") }
                        if frame.fin { message = nil }
                        try await onData(WebSocketDataFragment(opcode: opcode, payload: frame.payload, isFirst: false, isLast: frame.fin))
                    }
                }
            }
        } catch let error as WebSocketProtocolError {
            await close(code: error.closeCode, reason: error.message)
            throw error
        }
        return nil
    }
}
