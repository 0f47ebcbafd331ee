/// Reads what the kernel sends back on a NETLINK_NETFILTER socket: the messages of a datagram
/// and the attributes inside them. Everything is bounds-checked: a truncated or malformed
/// datagram yields fewer messages or attributes, never a crash.
struct NetlinkReader {
    /// One message of a datagram: its header fields and the bytes after the 16-byte header.
    struct Message {
        let type: UInt16
        let flags: UInt16
        let sequence: UInt32
        let payload: ArraySlice<UInt8>
    }

    static let messageError: UInt16 = 2  // NLMSG_ERROR
    static let messageDone: UInt16 = 3   // NLMSG_DONE

    /// The messages of one datagram, in order.
    static func messages(_ datagram: [UInt8]) -> [Message] {
        var messages: [Message] = []
        var offset = 0
        while offset + NetlinkBuffer.headerLength <= datagram.count {
            let length = Int(host32(datagram, offset))
            guard length >= NetlinkBuffer.headerLength, offset + length <= datagram.count else { break }
            messages.append(Message(type: host16(datagram, offset + 4), flags: host16(datagram, offset + 6),
                                    sequence: host32(datagram, offset + 8),
                                    payload: datagram[(offset + NetlinkBuffer.headerLength)..<(offset + length)]))
            offset += (length + 3) & ~3
        }
        return messages
    }

    /// The attributes in `bytes` (type without the NESTED/BYTEORDER flags → payload), first
    /// occurrence of each type.
    static func attributes(_ bytes: ArraySlice<UInt8>) -> [UInt16: ArraySlice<UInt8>] {
        var result: [UInt16: ArraySlice<UInt8>] = [:]
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(host16(bytes, offset))
            let type = host16(bytes, offset + 2) & 0x3fff
            guard length >= 4, offset + length <= bytes.endIndex else { break }
            if result[type] == nil { result[type] = bytes[(offset + 4)..<(offset + length)] }
            offset += (length + 3) & ~3
        }
        return result
    }

    /// An NLMSG_ERROR message: the errno (0 for an ack), the sequence number of the message
    /// it answers, and the kernel's explanation when extended acks are on.
    static func error(_ message: Message) -> (errno: Int32, sequence: UInt32, text: String?)? {
        let payload = message.payload
        guard message.type == messageError, payload.count >= 4 + NetlinkBuffer.headerLength else { return nil }
        let start = payload.startIndex
        let code = Int32(bitPattern: host32(payload, start))
        let sequence = host32(payload, start + 4 + 8)
        let echoedLength = Int(host32(payload, start + 4))
        // NLM_F_CAPPED (0x100): only the request's header is echoed (NETLINK_CAP_ACK), else the
        // whole request. NLM_F_ACK_TLVS (0x200): extended-ack attributes follow the echo.
        guard message.flags & 0x200 != 0 else { return (-code, sequence, nil) }
        let tlvStart = message.flags & 0x100 != 0
            ? start + 4 + NetlinkBuffer.headerLength
            : start + 4 + ((echoedLength + 3) & ~3)
        guard tlvStart < payload.endIndex else { return (-code, sequence, nil) }
        let text = string(attributes(payload[tlvStart...])[1])  // NLMSGERR_ATTR_MSG
        return (-code, sequence, text?.isEmpty == false ? text : nil)
    }

    static func string(_ bytes: ArraySlice<UInt8>?) -> String? {
        guard let bytes else { return nil }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func be32(_ bytes: ArraySlice<UInt8>?) -> UInt32? {
        guard let bytes, bytes.count >= 4 else { return nil }
        return bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func be16(_ bytes: ArraySlice<UInt8>?) -> UInt16? {
        guard let bytes, bytes.count >= 2 else { return nil }
        return bytes.prefix(2).reduce(0) { $0 << 8 | UInt16($1) }
    }

    static func host16<C: Collection<UInt8>>(_ bytes: C, _ offset: Int) -> UInt16 where C.Index == Int {
        hostInteger(bytes, offset)
    }

    static func host32<C: Collection<UInt8>>(_ bytes: C, _ offset: Int) -> UInt32 where C.Index == Int {
        hostInteger(bytes, offset)
    }

    private static func hostInteger<T: FixedWidthInteger, C: Collection<UInt8>>(_ bytes: C, _ offset: Int) -> T where C.Index == Int {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { raw in
            for index in 0..<MemoryLayout<T>.size { raw[index] = bytes[offset + index] }
        }
        return value
    }
}
