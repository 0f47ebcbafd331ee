import NIOCore

/// RFC 6455 frame opcodes.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// One WebSocket frame, its payload unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    public var fin: Bool
    public var opcode: WebSocketOpcode
    public var payload: ByteBuffer

    public init(fin: Bool = true, opcode: WebSocketOpcode, payload: ByteBuffer) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    /// The frame as a server sends it (RFC 6455 §5.2: servers never mask), into `buffer`.
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeInteger((fin ? 0x80 : 0) | opcode.rawValue)
        let length = payload.readableBytes
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
        var payload = payload
        buffer.writeBuffer(&payload)
    }

    /// The frame as a client sends it, masked with `key` (tests play the client).
    public func writeMasked(into buffer: inout ByteBuffer, key: [UInt8]) {
        precondition(key.count == 4)
        buffer.writeInteger((fin ? 0x80 : 0) | opcode.rawValue)
        let length = payload.readableBytes
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeBytes(key)
        var index = 0
        for byte in payload.readableBytesView {
            buffer.writeInteger(byte ^ key[index & 3])
            index += 1
        }
    }

    /// A close frame's payload: the status code, then a UTF-8 reason (at most 123 bytes).
    public static func closePayload(code: UInt16, reason: String = "") -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(code)
        buffer.writeBytes(reason.utf8.prefix(123))
        return buffer
    }
}

/// Close codes (RFC 6455 §7.4.1).
public enum WebSocketCloseCode {
    public static let normal: UInt16 = 1000
    public static let goingAway: UInt16 = 1001
    public static let protocolError: UInt16 = 1002
    public static let unacceptableData: UInt16 = 1003
    public static let invalidData: UInt16 = 1007
    public static let policyViolation: UInt16 = 1008
    public static let tooBig: UInt16 = 1009
    public static let internalError: UInt16 = 1011
}
