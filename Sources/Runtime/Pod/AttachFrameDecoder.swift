/// Why the monitor's byte stream is not a stream of output frames.
public struct AttachProtocolError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { "attach socket: \(message)" }
}

/// Splits the monitor's byte stream into output frames as bytes arrive in any pieces.
public struct AttachFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame, nil when more bytes are needed; throws on a frame the monitor
    /// never sends (an unknown type, an input type, an oversized length).
    public mutating func next() throws -> AttachFrame? {
        guard buffer.count - start >= 5 else { return nil }
        let type = buffer[start]
        guard let kind = AttachFrame.Kind(rawValue: type), kind == .stdout || kind == .stderr else {
            throw AttachProtocolError(message: "unexpected frame type \(type) from the monitor")
        }
        let length = Int(buffer[start + 1]) << 24 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 8 | Int(buffer[start + 4])
        guard length <= AttachFrame.maxOutput else {
            throw AttachProtocolError(message: "frame of \(length) bytes from the monitor (at most \(AttachFrame.maxOutput))")
        }
        guard buffer.count - start >= 5 + length else { return nil }
        let payload = Array(buffer[(start + 5)..<(start + 5 + length)])
        start += 5 + length
        if start > 64 * 1024 { // keep the consumed prefix from growing without bound
            buffer.removeFirst(start)
            start = 0
        }
        return AttachFrame(kind: kind, payload: payload)
    }

    /// Bytes of an unfinished frame (a stream that ends with some is cut short).
    public var pendingBytes: Int { buffer.count - start }
}
