/// One frame of the monitor's attach protocol (Monitor/monitor.c): 1 byte type, 4 bytes payload
/// length (big-endian), the payload. Types are the kubelet stream numbers where there is one.
public struct AttachFrame: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case stdin = 0, stdout = 1, stderr = 2, resize = 4, stdinEOF = 5
    }

    /// The most input one frame may carry (the monitor's input buffer; it drops a client that
    /// sends more).
    public static let maxInput = 32 * 1024
    /// The most output one frame from the monitor carries (it reads 16 KiB at a time); more is
    /// a corrupt stream.
    public static let maxOutput = 64 * 1024

    public let kind: Kind
    public let payload: [UInt8]

    public init(kind: Kind, payload: [UInt8] = []) {
        self.kind = kind
        self.payload = payload
    }

    /// A window size: rows and columns, 16-bit big-endian each.
    public static func resize(rows: UInt16, columns: UInt16) -> AttachFrame {
        AttachFrame(kind: .resize, payload: [UInt8(rows >> 8), UInt8(rows & 0xFF), UInt8(columns >> 8), UInt8(columns & 0xFF)])
    }

    /// Input frames for `bytes`, split at `maxInput`.
    public static func stdin(_ bytes: some Collection<UInt8>) -> [AttachFrame] {
        var frames: [AttachFrame] = []
        var rest = Array(bytes)[...]
        while !rest.isEmpty {
            let chunk = rest.prefix(maxInput)
            frames.append(AttachFrame(kind: .stdin, payload: Array(chunk)))
            rest = rest.dropFirst(chunk.count)
        }
        return frames
    }

    /// The frame on the wire.
    public var encoded: [UInt8] {
        let n = UInt32(payload.count)
        return [kind.rawValue, UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + payload
    }
}

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
