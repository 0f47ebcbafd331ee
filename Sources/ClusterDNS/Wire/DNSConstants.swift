/// Resource record types this server answers or recognises (RFC 1035 §3.2.2, RFC 2782 SRV,
/// RFC 3596 AAAA, RFC 6891 OPT). Other types pass through the forwarder as opaque data.
public struct RecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(rawValue: 1)
    public static let ns = RecordType(rawValue: 2)
    public static let cname = RecordType(rawValue: 5)
    public static let soa = RecordType(rawValue: 6)
    public static let ptr = RecordType(rawValue: 12)
    public static let mx = RecordType(rawValue: 15)
    public static let txt = RecordType(rawValue: 16)
    public static let aaaa = RecordType(rawValue: 28)
    public static let srv = RecordType(rawValue: 33)
    public static let opt = RecordType(rawValue: 41)
    public static let ixfr = RecordType(rawValue: 251)
    public static let axfr = RecordType(rawValue: 252)
    public static let any = RecordType(rawValue: 255)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
        41: "OPT", 251: "IXFR", 252: "AXFR", 255: "ANY",
    ]

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Types whose RDATA holds domain names that RFC 1035 allows to be compressed (RFC 3597 §4:
    /// only these; newer types such as SRV carry their names uncompressed).
    var rdataNamesCompressible: Bool {
        switch rawValue {
        case 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15: return true  // NS MD MF CNAME SOA MB MG MR PTR MINFO MX
        default: return false
        }
    }
}

/// Response codes (RFC 1035 §4.1.1, RFC 6891 §9 for the extended BADVERS).
public struct ResponseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = ResponseCode(rawValue: 0)
    public static let formatError = ResponseCode(rawValue: 1)
    public static let serverFailure = ResponseCode(rawValue: 2)
    public static let nameError = ResponseCode(rawValue: 3)
    public static let notImplemented = ResponseCode(rawValue: 4)
    public static let refused = ResponseCode(rawValue: 5)
    /// Extended (needs EDNS): the query's EDNS version is not supported.
    public static let badVersion = ResponseCode(rawValue: 16)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        case 16: return "BADVERS"
        default: return "RCODE\(rawValue)"
        }
    }
}

/// Header bits and sizes from RFC 1035 §4.1.1.
enum DNSWire {
    static let headerLength = 12
    static let classIN: UInt16 = 1
    static let flagQR: UInt16 = 0x8000
    static let flagAA: UInt16 = 0x0400
    static let flagTC: UInt16 = 0x0200
    static let flagRD: UInt16 = 0x0100
    static let flagRA: UInt16 = 0x0080
    static let flagAD: UInt16 = 0x0020
    static let flagCD: UInt16 = 0x0010
    static let opcodeMask: UInt16 = 0x7800
    /// The most a name takes on the wire, length octets and the root label included.
    static let maxNameLength = 255
    static let maxLabelLength = 63
    /// What a UDP reply may take when the query has no EDNS OPT record (RFC 1035 §4.2.1).
    static let classicUDPSize = 512
    /// The smallest resource record: a root owner name and the fixed fields.
    static let minimumRecordLength = 11
}
