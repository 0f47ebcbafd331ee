/// The records one owner name holds in the cluster zone, as the store builds them from
/// Services and EndpointSlices. Names are lowercased wire bytes. Several sources may give
/// records to one name (two services selecting the same pod give its IP two PTRs), so
/// records merge.
struct NameRecords: Equatable, Sendable {
    var a: [[UInt8]] = []
    var aaaa: [[UInt8]] = []
    var srv: [SRVData] = []
    var ptr: [[UInt8]] = []
    var cname: [UInt8]?
    var txt: [[UInt8]] = []
    /// The zone apex: SOA and NS.
    var apex = false
    /// A name that exists without records of its own (a namespace, `svc.<zone>`, a ClusterIP
    /// service still without an address): NODATA rather than NXDOMAIN.
    var exists = false
    /// TTL for every record of the name (the dns-version TXT has its own, as in CoreDNS).
    var ttl: UInt32 = 5

    var isEmpty: Bool { a.isEmpty && aaaa.isEmpty && srv.isEmpty && ptr.isEmpty && cname == nil && txt.isEmpty && !apex && !exists }

    /// Adds `other`'s records, without duplicates.
    mutating func merge(_ other: NameRecords) {
        for x in other.a where !a.contains(x) { a.append(x) }
        for x in other.aaaa where !aaaa.contains(x) { aaaa.append(x) }
        for x in other.srv where !srv.contains(x) { srv.append(x) }
        for x in other.ptr where !ptr.contains(x) { ptr.append(x) }
        for x in other.txt where !txt.contains(x) { txt.append(x) }
        if cname == nil { cname = other.cname }
        apex = apex || other.apex
        exists = exists || other.exists
        ttl = max(ttl, other.ttl)
    }
}

/// SRV data (RFC 2782); the target is lowercased wire bytes.
struct SRVData: Equatable, Sendable {
    var priority: UInt16
    var weight: UInt16
    var port: UInt16
    var target: [UInt8]
}

/// An owner name and its records as served: immutable, shared by snapshots.
final class ZoneNode: Sendable {
    /// Lowercased wire bytes.
    let name: [UInt8]
    let records: NameRecords

    init(name: [UInt8], records: NameRecords) {
        self.name = name
        self.records = records
    }

    func matches(_ key: UnsafeRawBufferPointer) -> Bool {
        guard key.count == name.count else { return false }
        return name.withUnsafeBytes { $0.elementsEqual(key) }
    }
}
