/// A query as the serving path needs it, decoded without allocating: the question's name
/// sits in the thread's `NameScratch`.
struct ParsedQuery {
    var id: UInt16
    var flags: UInt16
    var type: UInt16
    var recordClass: UInt16
    /// Whether the query carried an OPT record, and what it said.
    var hasEDNS = false
    var udpPayloadSize = DNSWire.classicUDPSize
    var ednsVersion: UInt8 = 0
    var dnssecOK = false

    var recursionDesired: Bool { flags & DNSWire.flagRD != 0 }
    var opcode: UInt16 { (flags & DNSWire.opcodeMask) >> 11 }
}

/// The outcome of reading a query.
enum QueryParse {
    case query(ParsedQuery)
    /// Unusable but with a header to answer: reply with this code and no question
    /// (FORMERR for malformed messages, NOTIMP for opcodes other than QUERY).
    case reject(id: UInt16, flags: UInt16, code: ResponseCode)
    /// Not worth a reply: shorter than a header, or a response (answering responses could
    /// make two servers reflect packets at each other).
    case ignore
}

/// Strict query decoding (RFC 1035 §4.1, RFC 6891 §6.1.1): exactly one question; counts
/// checked against the message before any loop; every record after the question walked and
/// bounds-checked; at most one OPT, in the additional section, owned by the root; nothing
/// after the last record.
enum QueryParser {
    static func parse(_ packet: UnsafeRawBufferPointer, scratch: NameScratch, other: NameScratch) -> QueryParse {
        guard packet.count >= DNSWire.headerLength else { return .ignore }
        let id = UInt16(packet[0]) << 8 | UInt16(packet[1])
        let flags = UInt16(packet[2]) << 8 | UInt16(packet[3])
        if flags & DNSWire.flagQR != 0 { return .ignore }
        if (flags & DNSWire.opcodeMask) >> 11 != 0 { return .reject(id: id, flags: flags, code: .notImplemented) }
        func count(_ at: Int) -> Int { Int(packet[at]) << 8 | Int(packet[at + 1]) }
        let qdcount = count(4), ancount = count(6), nscount = count(8), arcount = count(10)
        guard qdcount == 1,
              5 + (ancount + nscount + arcount) * DNSWire.minimumRecordLength <= packet.count - DNSWire.headerLength
        else { return .reject(id: id, flags: flags, code: .formatError) }
        var reader = DNSReader(packet, offset: DNSWire.headerLength)
        do throws(DNSWireError) {
            try reader.name(into: scratch)
            var query = ParsedQuery(id: id, flags: flags, type: try reader.u16(), recordClass: try reader.u16())
            for index in 0..<(ancount + nscount + arcount) {
                try reader.name(into: other)
                let type = try reader.u16()
                let recordClass = try reader.u16()
                let ttl = try reader.u32()
                let length = Int(try reader.u16())
                try reader.skip(length)
                guard type == RecordType.opt.rawValue else { continue }
                guard index >= ancount + nscount, !query.hasEDNS, other.length == 1 else {
                    return .reject(id: id, flags: flags, code: .formatError)
                }
                query.hasEDNS = true
                query.udpPayloadSize = max(Int(recordClass), DNSWire.classicUDPSize)
                query.ednsVersion = UInt8((ttl >> 16) & 0xFF)
                query.dnssecOK = ttl & 0x8000 != 0
            }
            guard reader.remaining == 0 else { return .reject(id: id, flags: flags, code: .formatError) }
            return .query(query)
        } catch {
            return .reject(id: id, flags: flags, code: .formatError)
        }
    }
}
