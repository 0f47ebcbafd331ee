/// Writes a DNS message into a fixed buffer with name compression. `limit` is the size the
/// reply may take (the client's UDP payload size, or 65535 over TCP): a record that does not
/// fit is rolled back whole so the caller can set TC (RFC 2181 §9) or drop optional data.
struct DNSWriter {
    let base: UnsafeMutableRawPointer
    var limit: Int
    private(set) var count = 0
    let table: CompressionTable

    init(_ buffer: UnsafeMutableRawBufferPointer, limit: Int, table: CompressionTable) {
        base = buffer.baseAddress!
        self.limit = min(limit, buffer.count)
        self.table = table
        table.count = 0
    }

    /// A position to roll back to.
    struct Mark {
        let count: Int
        let entries: Int
    }

    var mark: Mark { Mark(count: count, entries: table.count) }

    mutating func rollback(to mark: Mark) {
        count = mark.count
        table.count = mark.entries
    }

    func fits(_ length: Int) -> Bool { count + length <= limit }

    /// Appends without a bound check: callers check `fits` first.
    mutating func put8(_ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    mutating func put16(_ value: UInt16) {
        base.storeBytes(of: UInt8(value >> 8), toByteOffset: count, as: UInt8.self)
        base.storeBytes(of: UInt8(value & 0xFF), toByteOffset: count + 1, as: UInt8.self)
        count += 2
    }

    mutating func put32(_ value: UInt32) {
        put16(UInt16(value >> 16))
        put16(UInt16(value & 0xFFFF))
    }

    mutating func putBytes(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func putBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { putBytes($0) }
    }

    func patch16(at offset: Int, _ value: UInt16) {
        base.storeBytes(of: UInt8(value >> 8), toByteOffset: offset, as: UInt8.self)
        base.storeBytes(of: UInt8(value & 0xFF), toByteOffset: offset + 1, as: UInt8.self)
    }

    /// The header with the given counts (patched later by the caller when they change).
    mutating func header(id: UInt16, flags: UInt16, qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16) {
        put16(id)
        put16(flags)
        put16(qd)
        put16(an)
        put16(ns)
        put16(ar)
    }

    /// Writes a name given as wire bytes (any case), compressed against names written before
    /// when `compress`, and remembers its suffixes for later names. False when it does not fit.
    mutating func name(_ wire: UnsafeRawBufferPointer, compress: Bool = true) -> Bool {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 128) { starts in
            var labels = 0
            var i = 0
            while i < wire.count, wire[i] != 0, labels < 128 {
                starts[labels] = i
                labels += 1
                i += 1 + Int(wire[i])
            }
            // The longest suffix already in the message, if any.
            var matchLabel = labels
            var matchOffset = -1
            if compress {
                for k in 0..<labels {
                    let suffix = UnsafeRawBufferPointer(rebasing: wire[starts[k]..<wire.count])
                    if let offset = find(hash: NameHash.of(suffix), suffix: suffix) {
                        matchLabel = k
                        matchOffset = offset
                        break
                    }
                }
            }
            let plainLength = matchOffset >= 0 ? starts[matchLabel] : wire.count
            guard fits(plainLength + (matchOffset >= 0 ? 2 : 0)) else { return false }
            let nameStart = count
            if plainLength > 0 { putBytes(UnsafeRawBufferPointer(rebasing: wire[0..<plainLength])) }
            if matchOffset >= 0 { put16(0xC000 | UInt16(matchOffset)) }
            // Remember the suffixes written out in full (not the root alone).
            for k in 0..<matchLabel {
                let suffix = UnsafeRawBufferPointer(rebasing: wire[starts[k]..<wire.count])
                table.add(hash: NameHash.of(suffix), offset: nameStart + starts[k], length: suffix.count)
            }
            return true
        }
    }

    mutating func name(_ name: DNSName, compress: Bool = true) -> Bool {
        name.wire.withUnsafeBytes { self.name($0, compress: compress) }
    }

    /// The offset of a name written earlier equal to `suffix` (case-insensitive), if any.
    private func find(hash: UInt64, suffix: UnsafeRawBufferPointer) -> Int? {
        for e in 0..<table.count where table.hashes[e] == hash && Int(table.lengths[e]) == suffix.count {
            if equalAt(Int(table.offsets[e]), suffix) { return Int(table.offsets[e]) }
        }
        return nil
    }

    /// Whether the (possibly compressed) name at `offset` in our own output equals `wire`.
    private func equalAt(_ offset: Int, _ wire: UnsafeRawBufferPointer) -> Bool {
        var o = offset
        var w = 0
        var hops = 0
        while w < wire.count {
            guard o < count else { return false }
            let length = Int(base.load(fromByteOffset: o, as: UInt8.self))
            if length & 0xC0 == 0xC0 {
                hops += 1
                guard hops < 64, o + 1 < count else { return false }
                o = (length & 0x3F) << 8 | Int(base.load(fromByteOffset: o + 1, as: UInt8.self))
                continue
            }
            guard length == Int(wire[w]) else { return false }
            if length == 0 { return w + 1 == wire.count }
            for k in 1...length {
                guard o + k < count,
                      asciiLower(base.load(fromByteOffset: o + k, as: UInt8.self)) == asciiLower(wire[w + k]) else {
                    return false
                }
            }
            o += 1 + length
            w += 1 + length
        }
        return false
    }

    /// Writes a whole record; false (and nothing written) when it does not fit.
    mutating func record(_ record: ResourceRecord, ttl: UInt32? = nil) -> Bool {
        let start = mark
        guard name(record.name), fits(10) else {
            rollback(to: start)
            return false
        }
        put16(record.type.rawValue)
        put16(record.recordClass)
        put32(ttl ?? record.ttl)
        let lengthAt = count
        put16(0)
        guard rdata(record.data, compress: record.type.rdataNamesCompressible) else {
            rollback(to: start)
            return false
        }
        let length = count - lengthAt - 2
        guard length <= 0xFFFF else {
            rollback(to: start)
            return false
        }
        patch16(at: lengthAt, UInt16(length))
        return true
    }

    private mutating func rdata(_ data: RData, compress: Bool) -> Bool {
        switch data {
        case .a(let bytes), .aaaa(let bytes), .opaque(let bytes):
            guard fits(bytes.count) else { return false }
            putBytes(bytes)
            return true
        case .name(let target):
            return name(target, compress: compress)
        case .mx(let preference, let exchange):
            guard fits(2) else { return false }
            put16(preference)
            return name(exchange, compress: compress)
        case .srv(let priority, let weight, let port, let target):
            guard fits(6) else { return false }
            put16(priority)
            put16(weight)
            put16(port)
            return name(target, compress: false)
        case .soa(let soa):
            guard name(soa.mname, compress: compress), name(soa.rname, compress: compress), fits(20) else { return false }
            put32(soa.serial)
            put32(soa.refresh)
            put32(soa.retry)
            put32(soa.expire)
            put32(soa.minimum)
            return true
        case .txt(let strings):
            for string in strings {
                guard string.count <= 255, fits(1 + string.count) else { return false }
                put8(UInt8(string.count))
                putBytes(string)
            }
            return true
        case .fields(let fields):
            for field in fields {
                switch field {
                case .bytes(let bytes):
                    guard fits(bytes.count) else { return false }
                    putBytes(bytes)
                case .name(let n):
                    guard name(n, compress: compress) else { return false }
                }
            }
            return true
        }
    }

    /// The EDNS OPT record (RFC 6891 §6.1.2): root owner, our payload size in the class field.
    mutating func opt(payloadSize: UInt16, extendedRcode: UInt8 = 0, dnssecOK: Bool = false) -> Bool {
        guard fits(11) else { return false }
        put8(0)
        put16(RecordType.opt.rawValue)
        put16(payloadSize)
        put8(extendedRcode)
        put8(0)  // version 0
        put16(dnssecOK ? 0x8000 : 0)
        put16(0)  // no options
        return true
    }
}
