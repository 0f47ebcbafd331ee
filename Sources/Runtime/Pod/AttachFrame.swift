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
