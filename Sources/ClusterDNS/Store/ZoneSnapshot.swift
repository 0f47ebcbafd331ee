/// One published state of the cluster zone: what the serving threads answer from. Immutable;
/// the store swaps in a new one on every change, and a thread keeps the one it took for the
/// batch of queries it is answering.
public final class ZoneSnapshot: Sendable {
    /// The cluster domain, lowercased wire bytes ("cluster.local").
    let zone: [UInt8]
    let zoneLabels: Int
    let ttl: UInt32
    /// CoreDNS puts the time of the last change in the SOA serial.
    let serial: UInt32
    let table: NameTable
    /// Whether the store has seen a full list of services and slices. Until then a name the
    /// zone does not hold may only be missing from what arrived so far: SERVFAIL, not
    /// NXDOMAIN (CoreDNS answers so before its informers sync).
    public let synced: Bool

    init(zone: [UInt8], ttl: UInt32, serial: UInt32, table: NameTable, synced: Bool) {
        self.zone = zone
        var labels = 0
        var i = 0
        while i < zone.count, zone[i] != 0 {
            labels += 1
            i += 1 + Int(zone[i])
        }
        zoneLabels = labels
        self.ttl = ttl
        self.serial = serial
        self.table = table
        self.synced = synced
        soa = Self.makeSOA(zone: zone, ttl: ttl, serial: serial)
    }

    /// How many owner names the zone holds (reverse names included).
    public var nameCount: Int { table.count }

    @inline(__always)
    func node(hash: UInt64, name: UnsafeRawBufferPointer) -> ZoneNode? {
        table.node(hash: hash, name: name)
    }

    func node(_ name: [UInt8]) -> ZoneNode? { table.node(name) }

    /// Whether a lowercased wire name is the zone or below it.
    func contains(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count >= zone.count else { return false }
        let offset = name.count - zone.count
        var i = 0
        while i < offset { i += 1 + Int(name[i]) }
        guard i == offset else { return false }
        return zone.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: name[offset...]).elementsEqual($0) }
    }

    /// The SOA record put in the authority section of negative answers (CoreDNS's values,
    /// plugin/backend_lookup.go SOA: ns.dns.<zone>, hostmaster.<zone>, 7200 1800 86400, and
    /// the record TTL as both TTL and minimum, so negative answers are cached that long).
    let soa: ResourceRecord

    private static func makeSOA(zone: [UInt8], ttl: UInt32, serial: UInt32) -> ResourceRecord {
        let zoneName = DNSName(validatedWire: zone)
        let ns = (try? zoneName.prepending("dns").prepending("ns")) ?? zoneName
        let hostmaster = (try? zoneName.prepending("hostmaster")) ?? zoneName
        return ResourceRecord(name: zoneName, type: .soa, ttl: ttl,
                              data: .soa(SOAData(mname: ns, rname: hostmaster, serial: serial, refresh: 7200,
                                                 retry: 1800, expire: 86400, minimum: ttl)))
    }
}
