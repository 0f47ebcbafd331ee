/// Appends netlink messages and their attributes to one growing byte buffer: the nf_tables
/// batch (thousands of messages for a full sync) and conntrack requests. Attributes are TLVs
/// aligned to 4 bytes; nested ones carry NLA_F_NESTED, as libmnl writes them. Host byte order
/// for headers and lengths, network order where the kernel's attribute says `be32`/`be16`.
struct NetlinkBuffer {
    private(set) var bytes: [UInt8] = []

    static let headerLength = 16
    static let nested: UInt16 = 0x8000  // NLA_F_NESTED

    init(reservingCapacity capacity: Int = 4096) {
        bytes.reserveCapacity(capacity)
    }

    /// Starts a message (`nlmsghdr` + `nfgenmsg`); `end(message:)` fills in its length.
    mutating func beginMessage(type: UInt16, flags: UInt16, sequence: UInt32, family: UInt8, resourceID: UInt16 = 0) -> Int {
        let start = bytes.count
        appendHost32(0)  // length, patched by end(message:)
        appendHost16(type)
        appendHost16(flags)
        appendHost32(sequence)
        appendHost32(0)  // port id: the kernel fills in ours
        bytes.append(family)
        bytes.append(0)  // NFNETLINK_V0
        bytes.append(UInt8(resourceID >> 8))
        bytes.append(UInt8(resourceID & 0xff))
        return start
    }

    mutating func end(message start: Int) {
        patchHost32(at: start, UInt32(bytes.count - start))
    }

    mutating func put(_ type: UInt16, _ payload: some Collection<UInt8>) {
        if payload.count > Int(UInt16.max) - 4 { oversized = true }
        appendHost16(UInt16(truncatingIfNeeded: min(4 + payload.count, Int(UInt16.max))))
        appendHost16(type)
        bytes.append(contentsOf: payload)
        pad()
    }

    /// A NUL-terminated string attribute (NLA_STRING / NLA_NUL_STRING).
    mutating func put(_ type: UInt16, string: String) {
        var payload = Array(string.utf8)
        payload.append(0)
        put(type, payload)
    }

    mutating func put(_ type: UInt16, be32 value: UInt32) {
        put(type, [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)])
    }

    mutating func put(_ type: UInt16, be64 value: UInt64) {
        put(type, (0..<8).map { UInt8(value >> (56 - 8 * UInt64($0)) & 0xff) })
    }

    mutating func put(_ type: UInt16, u8 value: UInt8) {
        put(type, [value])
    }

    mutating func put(_ type: UInt16, be16 value: UInt16) {
        put(type, [UInt8(value >> 8), UInt8(value & 0xff)])
    }

    /// A nested attribute whose content `body` appends. Callers keep nests under 64 KiB (the
    /// length field's limit; NFTBatch splits element lists); a longer one is marked oversized
    /// instead of wrapping its length, and the kernel refuses the message whole.
    mutating func nest(_ type: UInt16, _ body: (inout NetlinkBuffer) -> Void) {
        let start = bytes.count
        appendHost16(0)
        appendHost16(type | Self.nested)
        body(&self)
        let length = bytes.count - start
        if length > Int(UInt16.max) { oversized = true }
        patchHost16(at: start, UInt16(truncatingIfNeeded: min(length, Int(UInt16.max))))
    }

    /// Set when an attribute did not fit its 16-bit length: the buffer must not be sent.
    private(set) var oversized = false

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    private mutating func appendHost16(_ value: UInt16) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    private mutating func appendHost32(_ value: UInt32) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    private mutating func patchHost16(at offset: Int, _ value: UInt16) {
        withUnsafeBytes(of: value) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }

    private mutating func patchHost32(at offset: Int, _ value: UInt32) {
        withUnsafeBytes(of: value) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }
}
