import Foundation
import NIOCore

/// A terminal size as kubectl sends it on the resize stream: `{"Width":80,"Height":24}`
/// (k8s.io/client-go/tools/remotecommand TerminalSize, uint16 fields).
public struct RemoteTerminalSize: Sendable, Equatable {
    public var width: UInt16
    public var height: UInt16

    public init(width: UInt16, height: UInt16) {
        self.width = width
        self.height = height
    }
}

/// Reads the resize stream: a stream of JSON objects, split anywhere by the transport, as
/// kubelet reads it with a `json.Decoder` (handleResizeEvents). Field names match
/// case-insensitively and unknown ones are ignored, as in Go; a value that is not an object,
/// a size that is not a uint16, or more than `maxPending` bytes without a complete object is
/// an error, after which kubelet stops reading resizes (the session goes on).
public struct TerminalSizeDecoder: Sendable {
    public struct DecodeError: Error, CustomStringConvertible {
        public let description: String
    }

    public let maxPending: Int
    private var pending: [UInt8] = []

    public init(maxPending: Int = 4096) {
        self.maxPending = maxPending
    }

    /// The sizes completed by `bytes`, in order.
    public mutating func feed(_ bytes: ByteBuffer) throws(DecodeError) -> [RemoteTerminalSize] {
        pending += bytes.readableBytesView
        var sizes: [RemoteTerminalSize] = []
        while let end = try objectEnd() {
            let object = Array(pending[..<end])
            pending.removeFirst(end)
            sizes.append(try Self.decode(object))
        }
        guard pending.count <= maxPending else {
            throw DecodeError(description: "more than \(maxPending) bytes of resize data without a complete JSON object")
        }
        return sizes
    }

    /// Where the first complete top-level object ends (exclusive), skipping whitespace before
    /// it; nil when it is not complete yet.
    private mutating func objectEnd() throws(DecodeError) -> Int? {
        let leading = pending.prefix { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }.count
        if leading > 0 { pending.removeFirst(leading) }
        guard let first = pending.first else { return nil }
        guard first == UInt8(ascii: "{") else {
            throw DecodeError(description: "resize data is not a JSON object (starts with \(Character(UnicodeScalar(first)).debugDescription))")
        }
        var depth = 0
        var inString = false
        var escaped = false
        for (index, byte) in pending.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return index + 1 }
            default: break
            }
        }
        return nil
    }

    /// One field's value: a number, or something else (nil).
    struct Field: Decodable {
        let number: Double?
        init(from decoder: any Decoder) throws {
            number = try? decoder.singleValueContainer().decode(Double.self)
        }
    }

    static func decode(_ object: [UInt8]) throws(DecodeError) -> RemoteTerminalSize {
        guard let fields = try? JSONDecoder().decode([String: Field].self, from: Data(object)) else {
            throw DecodeError(description: "resize data is not a valid JSON object: \(String(decoding: object.prefix(80), as: UTF8.self))")
        }
        func field(_ name: String) throws(DecodeError) -> UInt16 {
            // encoding/json: an exact match first, else a case-insensitive one; absent is 0.
            guard let value = fields[name] ?? fields.first(where: { $0.key.lowercased() == name.lowercased() })?.value else { return 0 }
            guard let number = value.number, let exact = UInt16(exactly: number) else {
                throw DecodeError(description: "resize \(name) is not a number from 0 to 65535")
            }
            return exact
        }
        return RemoteTerminalSize(width: try field("Width"), height: try field("Height"))
    }
}
