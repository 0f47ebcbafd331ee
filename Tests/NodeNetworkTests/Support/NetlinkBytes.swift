import Foundation
import NodeNetwork

/// Hand-made netlink replies for the recording socket, byte by byte, so tests state exactly
/// what the kernel would send.
enum NetlinkBytes {
    static let error: UInt16 = 2, done: UInt16 = 3, newLink: UInt16 = 16, newRoute: UInt16 = 24
    static let flagMulti: UInt16 = 0x2, flagCapped: UInt16 = 0x100, flagAckTLVs: UInt16 = 0x200

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(v >> (8 * UInt32($0)) & 0xff) } }
    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }

    /// A message: header (length, type, flags, seq, pid 0) and payload.
    static func message(type: UInt16, flags: UInt16 = 0, seq: UInt32, payload: [UInt8]) -> [UInt8] {
        le32(UInt32(16 + payload.count)) + le16(type) + le16(flags) + le32(seq) + le32(0) + padded(payload)
    }

    static func attribute(_ type: UInt16, _ data: [UInt8]) -> [UInt8] {
        padded(le16(UInt16(4 + data.count)) + le16(type) + data)
    }

    /// NLMSG_ERROR for `request` (its header is echoed): `errno` 0 is an ACK. Capped like our
    /// sockets ask for, or with the whole request echoed; with the kernel's text when given.
    static func ack(for request: [UInt8], errno: Int32 = 0, text: String? = nil, capped: Bool = true) -> [UInt8] {
        let seq = UInt32(request[8]) | UInt32(request[9]) << 8 | UInt32(request[10]) << 16 | UInt32(request[11]) << 24
        var flags: UInt16 = capped ? flagCapped : 0
        var payload = le32(UInt32(bitPattern: -errno)) + (capped ? Array(request.prefix(16)) : request)
        if let text {
            flags |= flagAckTLVs
            payload += attribute(1, Array(text.utf8) + [0])
        }
        return message(type: error, flags: flags, seq: seq, payload: payload)
    }

    /// The messages of a datagram, split by their length fields.
    static func split(_ datagram: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = 0
        while offset + 16 <= datagram.count {
            let length = Int(datagram[offset]) | Int(datagram[offset + 1]) << 8
            result.append(Array(datagram[offset..<offset + length]))
            offset += (length + 3) & ~3
        }
        return result
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func fromHex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }
}
