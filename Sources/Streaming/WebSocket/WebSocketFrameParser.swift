import NIOCore

/// Why a peer's WebSocket bytes were refused, with the close code to answer (RFC 6455 §7.4.1).
public struct WebSocketProtocolError: Error, Equatable, CustomStringConvertible {
    public let closeCode: UInt16
    public let message: String

    public init(_ message: String, closeCode: UInt16 = WebSocketCloseCode.protocolError) {
        self.message = message
        self.closeCode = closeCode
    }

    public var description: String { message }
}

/// Incremental decoder of the frames a client sends (RFC 6455 §5.2): feed it what the
/// connection reads, take frames out as they complete. It holds at most one frame's bytes,
/// and refuses, before reading its payload, a frame larger than `maxPayload`, so a peer cannot
/// make it buffer more. Client frames must be masked, use no reserved bits (no extension is
/// ever negotiated) and no unknown opcode; control frames must be whole and at most 125 bytes.
public struct WebSocketFrameParser: Sendable {
    public let maxPayload: Int
    /// Frames must be masked (a server reading its clients); false reads a server's frames.
    public let requireMask: Bool
    private var buffer = ByteBuffer()

    public init(maxPayload: Int, requireMask: Bool = true) {
        self.maxPayload = maxPayload
        self.requireMask = requireMask
    }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex > 64 * 1024 {
            buffer.discardReadBytes()
        }
        buffer.writeBuffer(&bytes)
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return nil }
        if first & 0x70 != 0 { throw WebSocketProtocolError("reserved bits set in a frame header (no extension was negotiated)") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else {
            throw WebSocketProtocolError("unknown frame opcode \(first & 0x0F)")
        }
        let fin = first & 0x80 != 0
        let masked = second & 0x80 != 0
        if requireMask && !masked { throw WebSocketProtocolError("a client frame is not masked") }
        var offset = 2
        var length: UInt64
        switch second & 0x7F {
        case 126:
            guard let value = buffer.getInteger(at: buffer.readerIndex + offset, as: UInt16.self) else { return nil }
            length = UInt64(value)
            offset += 2
        case 127:
            guard let value = buffer.getInteger(at: buffer.readerIndex + offset, as: UInt64.self) else { return nil }
            guard value >> 63 == 0 else { throw WebSocketProtocolError("frame length has its most significant bit set") }
            length = value
            offset += 8
        default:
            length = UInt64(second & 0x7F)
        }
        if opcode.isControl {
            guard fin else { throw WebSocketProtocolError("a fragmented \(opcode) frame") }
            guard length <= 125 else { throw WebSocketProtocolError("a \(opcode) frame of \(length) bytes (at most 125)") }
        }
        guard length <= UInt64(maxPayload) else {
            throw WebSocketProtocolError("a frame of \(length) bytes is over the limit of \(maxPayload)", closeCode: WebSocketCloseCode.tooBig)
        }
        var key: [UInt8] = [0, 0, 0, 0]
        if masked {
            guard let bytes = buffer.getBytes(at: buffer.readerIndex + offset, length: 4) else { return nil }
            key = bytes
            offset += 4
        }
        let size = Int(length)
        guard buffer.readableBytes >= offset + size else { return nil }
        buffer.moveReaderIndex(forwardBy: offset)
        var payload = buffer.readSlice(length: size) ?? ByteBuffer()
        // Unmasked in a copy of its own (the slice shares storage with what comes next), eight
        // bytes at a time: port-forward carries bulk data this way.
        var plain = ByteBufferAllocator().buffer(capacity: size)
        plain.writeBuffer(&payload)
        var maskBytes = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 { maskBytes[index] = key[index & 3] }
        let mask = maskBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        plain.withUnsafeMutableReadableBytes { bytes in
            var index = 0
            while index + 8 <= bytes.count {
                let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                bytes.storeBytes(of: word ^ mask, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < bytes.count {
                bytes[index] ^= key[index & 3]
                index += 1
            }
        }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: plain)
    }

    /// Bytes received and not yet part of a frame.
    public var bufferedBytes: Int { buffer.readableBytes }
}
