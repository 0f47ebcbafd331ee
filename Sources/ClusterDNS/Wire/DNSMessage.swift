/// A whole DNS message, decoded strictly: the forwarder reads upstream replies with it and the
/// tests read the server's answers. (Queries on the serving path use `QueryParser`, which
/// decodes the same way without allocating.)
public struct DNSMessage: Hashable, Sendable {
    public struct Question: Hashable, Sendable {
        public var name: DNSName
        public var type: RecordType
        public var recordClass: UInt16

        public init(name: DNSName, type: RecordType, recordClass: UInt16 = 1) {
            self.name = name
            self.type = type
            self.recordClass = recordClass
        }
    }

    public var id: UInt16
    /// Header flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, low 4 bits of the rcode).
    public var flags: UInt16
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    /// Additional records, the OPT pseudo-record excluded (it is `edns`).
    public var additionals: [ResourceRecord]
    public var edns: EDNS?

    public init(id: UInt16, flags: UInt16, questions: [Question], answers: [ResourceRecord] = [],
                authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = [], edns: EDNS? = nil) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    public var isResponse: Bool { flags & DNSWire.flagQR != 0 }
    public var isTruncated: Bool { flags & DNSWire.flagTC != 0 }
    public var isAuthoritative: Bool { flags & DNSWire.flagAA != 0 }
    public var recursionDesired: Bool { flags & DNSWire.flagRD != 0 }
    public var recursionAvailable: Bool { flags & DNSWire.flagRA != 0 }
    public var opcode: UInt16 { (flags & DNSWire.opcodeMask) >> 11 }
    /// The full response code: the header's 4 bits and, with EDNS, the OPT record's upper 8.
    public var rcode: ResponseCode {
        ResponseCode(rawValue: UInt16(edns?.extendedRcode ?? 0) << 4 | flags & 0x000F)
    }

    /// Decodes `bytes`: counts are checked against the message, at most one OPT record (in
    /// the additional section, owned by the root), and nothing may follow the last record.
    public static func parse(_ bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        let result: Result<DNSMessage, DNSWireError> = bytes.withUnsafeBytes { raw in
            do throws(DNSWireError) { return .success(try parse(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    static func parse(_ raw: UnsafeRawBufferPointer) throws(DNSWireError) -> DNSMessage {
        var reader = DNSReader(raw)
        let scratch = NameScratch()
        guard raw.count >= DNSWire.headerLength else {
            throw DNSWireError(.truncated, at: 0, "message of \(raw.count) octets is shorter than a header")
        }
        let id = try reader.u16()
        let flags = try reader.u16()
        let qdcount = Int(try reader.u16()), ancount = Int(try reader.u16())
        let nscount = Int(try reader.u16()), arcount = Int(try reader.u16())
        // Each question takes at least 5 octets and each record 11: refuse counts the message
        // cannot hold before looping over them.
        guard qdcount * 5 + (ancount + nscount + arcount) * DNSWire.minimumRecordLength <= reader.remaining else {
            throw DNSWireError(.badCount, at: 4, "header counts (\(qdcount)/\(ancount)/\(nscount)/\(arcount)) exceed the message")
        }
        var message = DNSMessage(id: id, flags: flags, questions: [])
        for _ in 0..<qdcount {
            let name = try reader.name(using: scratch)
            let type = RecordType(rawValue: try reader.u16())
            message.questions.append(Question(name: name, type: type, recordClass: try reader.u16()))
        }
        for _ in 0..<ancount { message.answers.append(try ResourceRecord.read(&reader, scratch: scratch)) }
        for _ in 0..<nscount { message.authorities.append(try ResourceRecord.read(&reader, scratch: scratch)) }
        for _ in 0..<arcount {
            let start = reader.offset
            let record = try ResourceRecord.read(&reader, scratch: scratch)
            guard record.type == .opt else {
                message.additionals.append(record)
                continue
            }
            guard message.edns == nil else { throw DNSWireError(.badRecord, at: start, "more than one OPT record") }
            guard record.name.wire == [0] else { throw DNSWireError(.badRecord, at: start, "OPT record not owned by the root") }
            guard case .opaque(let options) = record.data else {
                throw DNSWireError(.badRecord, at: start, "OPT record data")
            }
            message.edns = EDNS(udpPayloadSize: record.recordClass, extendedRcode: UInt8(record.ttl >> 24),
                                version: UInt8((record.ttl >> 16) & 0xFF), dnssecOK: record.ttl & 0x8000 != 0,
                                options: options)
        }
        guard reader.remaining == 0 else {
            throw DNSWireError(.trailingData, at: reader.offset, "\(reader.remaining) octets after the last record")
        }
        return message
    }
}
