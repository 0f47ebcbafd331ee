/// An upstream's answer to one question, kept by the cache and used to build replies: the
/// sections as records, and the whole reply pre-encoded (no OPT, id 0, lowercase question)
/// with where each TTL sits, so a cache hit is a copy plus a few patched fields.
final class ForwardedAnswer: Sendable {
    /// Lowercased wire name, type and class of the question.
    let name: [UInt8]
    let type: UInt16
    let recordClass: UInt16
    let rcode: ResponseCode
    let answers: [ResourceRecord]
    let authorities: [ResourceRecord]
    let additionals: [ResourceRecord]
    /// Monotonic nanoseconds when it arrived, and how long it may be served from the cache.
    let received: UInt64
    let lifetime: UInt32
    let encoded: [UInt8]
    let ttlOffsets: [Int]

    init(name: [UInt8], type: UInt16, recordClass: UInt16, rcode: ResponseCode, answers: [ResourceRecord],
         authorities: [ResourceRecord], additionals: [ResourceRecord], received: UInt64, lifetime: UInt32) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.rcode = rcode
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.received = received
        self.lifetime = lifetime
        // Pre-encode with a writer as large as TCP allows; record where TTLs land.
        var bytes = [UInt8](repeating: 0, count: 65535)
        var offsets: [Int] = []
        let table = CompressionTable()
        let length = bytes.withUnsafeMutableBytes { buffer -> Int in
            var writer = DNSWriter(buffer, limit: 65535, table: table)
            writer.header(id: 0, flags: 0, qd: 1, an: 0, ns: 0, ar: 0)
            _ = writer.name(DNSName(validatedWire: name), compress: false)
            writer.put16(type)
            writer.put16(recordClass)
            var counts = [0, 0, 0]
            for (section, records) in [answers, authorities, additionals].enumerated() {
                for record in records {
                    let start = writer.count
                    guard writer.record(record) else { continue }
                    // The TTL follows the owner name, type and class.
                    offsets.append(Self.ttlOffset(in: buffer, recordStart: start))
                    counts[section] += 1
                }
            }
            writer.patch16(at: 6, UInt16(counts[0]))
            writer.patch16(at: 8, UInt16(counts[1]))
            writer.patch16(at: 10, UInt16(counts[2]))
            return writer.count
        }
        encoded = Array(bytes[0..<length])
        ttlOffsets = offsets
    }

    /// Skips the (possibly compressed) owner name of the record at `recordStart`.
    private static func ttlOffset(in buffer: UnsafeMutableRawBufferPointer, recordStart: Int) -> Int {
        var i = recordStart
        while true {
            let length = Int(buffer[i])
            if length == 0 { i += 1; break }
            if length & 0xC0 == 0xC0 { i += 2; break }
            i += 1 + length
        }
        return i + 4
    }

    /// Seconds left before it expires, nil once expired.
    func remaining(now: UInt64) -> UInt32? {
        let age = now >= received ? (now - received) / 1_000_000_000 : 0
        return age < UInt64(lifetime) ? lifetime - UInt32(age) : nil
    }

    func age(now: UInt64) -> UInt32 {
        UInt32(min(UInt64(UInt32.max), now >= received ? (now - received) / 1_000_000_000 : 0))
    }
}
