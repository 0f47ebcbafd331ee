/// The EDNS(0) OPT pseudo-record of a message (RFC 6891 §6): the sender's UDP payload size,
/// the upper bits of the response code, the version and the DO flag. Options are kept as
/// octets; this server neither needs nor sends any.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can reassemble (values below 512 mean 512, §6.2.5).
    public var udpPayloadSize: UInt16
    public var extendedRcode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    public var options: [UInt8]

    public init(udpPayloadSize: UInt16, extendedRcode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false,
                options: [UInt8] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRcode = extendedRcode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// The payload size a reply may use: at least 512 (§6.2.5).
    public var effectivePayloadSize: Int { max(Int(udpPayloadSize), DNSWire.classicUDPSize) }
}
