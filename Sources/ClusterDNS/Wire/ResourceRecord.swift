/// One resource record (RFC 1035 §4.1.3) with its data decoded enough to re-encode it: names
/// inside the data are decompressed (RFC 3597 §4 lists the types whose names may arrive
/// compressed), everything else is kept as octets.
public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var type: RecordType
    public var recordClass: UInt16
    public var ttl: UInt32
    public var data: RData

    public init(name: DNSName, type: RecordType, recordClass: UInt16 = 1, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    public var description: String { "\(name) \(ttl) IN \(type) \(data)" }
}

/// Record data.
public enum RData: Hashable, Sendable, CustomStringConvertible {
    case a([UInt8])
    case aaaa([UInt8])
    /// CNAME, NS, PTR and the other types whose data is one name.
    case name(DNSName)
    case mx(preference: UInt16, exchange: DNSName)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case soa(SOAData)
    case txt([[UInt8]])
    /// Other name-bearing types (MINFO, RP, AFSDB, RT, NAPTR): a sequence of octet runs and names.
    case fields([RDataField])
    case opaque([UInt8])

    public var description: String {
        switch self {
        case .a(let b): return IPAddressText.format(b)
        case .aaaa(let b): return IPAddressText.format(b)
        case .name(let n): return n.description
        case .mx(let p, let e): return "\(p) \(e)"
        case .srv(let p, let w, let port, let t): return "\(p) \(w) \(port) \(t)"
        case .soa(let s): return "\(s.mname) \(s.rname) \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .txt(let strings): return strings.map { "\"\(String(decoding: $0, as: UTF8.self))\"" }.joined(separator: " ")
        case .fields(let f): return "\\# fields \(f.count)"
        case .opaque(let b): return "\\# \(b.count)"
        }
    }
}

public enum RDataField: Hashable, Sendable {
    case bytes([UInt8])
    case name(DNSName)
}

/// SOA data (RFC 1035 §3.3.13).
public struct SOAData: Hashable, Sendable {
    public var mname: DNSName
    public var rname: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32,
                minimum: UInt32) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

extension ResourceRecord {
    /// Reads one record at the reader's offset; the data must fill exactly its RDLENGTH.
    static func read(_ reader: inout DNSReader, scratch: NameScratch) throws(DNSWireError) -> ResourceRecord {
        let name = try reader.name(using: scratch)
        let type = RecordType(rawValue: try reader.u16())
        let recordClass = try reader.u16()
        let ttl = try reader.u32()
        let length = Int(try reader.u16())
        let start = reader.offset
        guard length <= reader.remaining else {
            throw DNSWireError(.truncated, at: start, "record data of \(length) octets runs past the message")
        }
        let data = try readData(&reader, type: type, length: length, scratch: scratch)
        guard reader.offset == start + length else {
            throw DNSWireError(.badRecord, at: start, "\(type) data does not fill its \(length) octets")
        }
        return ResourceRecord(name: name, type: type, recordClass: recordClass, ttl: ttl, data: data)
    }

    private static func readData(_ reader: inout DNSReader, type: RecordType, length: Int,
                                 scratch: NameScratch) throws(DNSWireError) -> RData {
        let end = reader.offset + length
        switch type.rawValue {
        case 1:
            guard length == 4 else { throw DNSWireError(.badRecord, at: reader.offset, "A data of \(length) octets") }
            return .a(try reader.bytes(4))
        case 28:
            guard length == 16 else { throw DNSWireError(.badRecord, at: reader.offset, "AAAA data of \(length) octets") }
            return .aaaa(try reader.bytes(16))
        case 2, 3, 4, 5, 7, 8, 9, 12, 39:  // NS MD MF CNAME MB MG MR PTR DNAME
            return .name(try reader.name(using: scratch))
        case 15:
            let preference = try reader.u16()
            return .mx(preference: preference, exchange: try reader.name(using: scratch))
        case 33:
            let priority = try reader.u16(), weight = try reader.u16(), port = try reader.u16()
            return .srv(priority: priority, weight: weight, port: port, target: try reader.name(using: scratch))
        case 6:
            let mname = try reader.name(using: scratch)
            let rname = try reader.name(using: scratch)
            return .soa(SOAData(mname: mname, rname: rname, serial: try reader.u32(), refresh: try reader.u32(),
                                retry: try reader.u32(), expire: try reader.u32(), minimum: try reader.u32()))
        case 16:
            var strings: [[UInt8]] = []
            while reader.offset < end {
                let count = Int(try reader.u8())
                guard reader.offset + count <= end else {
                    throw DNSWireError(.badRecord, at: reader.offset, "TXT string runs past its record")
                }
                strings.append(try reader.bytes(count))
            }
            return .txt(strings)
        case 14, 17:  // MINFO, RP: two names
            return .fields([.name(try reader.name(using: scratch)), .name(try reader.name(using: scratch))])
        case 18, 21:  // AFSDB, RT: a 16-bit value and a name
            let value = try reader.bytes(2)
            return .fields([.bytes(value), .name(try reader.name(using: scratch))])
        case 35:  // NAPTR: order, preference, three character strings, replacement name
            var fields: [RDataField] = [.bytes(try reader.bytes(4))]
            for _ in 0..<3 {
                let count = Int(try reader.u8())
                guard reader.offset + count <= end else {
                    throw DNSWireError(.badRecord, at: reader.offset, "NAPTR string runs past its record")
                }
                fields.append(.bytes([UInt8(count)] + (try reader.bytes(count))))
            }
            fields.append(.name(try reader.name(using: scratch)))
            return .fields(fields)
        default:
            return .opaque(try reader.bytes(length))
        }
    }
}
