/// Reusable storage for one decoded name (one per serving thread, never shared): the name as
/// sent (original case), its lowercased copy, where each label starts, and the hash of the
/// lowercased form. Decoding a query's name into it allocates nothing.
final class NameScratch {
    /// Wire bytes as sent, root label included.
    let original: UnsafeMutablePointer<UInt8>
    /// The same bytes lowercased: the lookup key.
    let lower: UnsafeMutablePointer<UInt8>
    /// Offset of each label's length octet, leftmost first (at most 127 labels fit in 255 octets).
    let labelStarts: UnsafeMutablePointer<UInt8>
    var length = 0
    var labelCount = 0
    var hash: UInt64 = NameHash.seed

    init() {
        original = .allocate(capacity: DNSWire.maxNameLength + 1)
        lower = .allocate(capacity: DNSWire.maxNameLength + 1)
        labelStarts = .allocate(capacity: 128)
        original.initialize(repeating: 0, count: DNSWire.maxNameLength + 1)
        lower.initialize(repeating: 0, count: DNSWire.maxNameLength + 1)
        labelStarts.initialize(repeating: 0, count: 128)
    }

    deinit {
        original.deallocate()
        lower.deallocate()
        labelStarts.deallocate()
    }

    func reset() {
        length = 0
        labelCount = 0
        hash = NameHash.seed
    }

    var lowerBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: lower, count: length) }
    var originalBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: original, count: length) }

    /// The lowercased wire bytes from label `index` to the end (a parent name), and its hash.
    func suffix(fromLabel index: Int) -> UnsafeRawBufferPointer {
        let start = index >= labelCount ? length - 1 : Int(labelStarts[index])
        return UnsafeRawBufferPointer(start: lower + start, count: length - start)
    }

    /// Label `index` (leftmost is 0), lowercased, without its length octet.
    func label(_ index: Int) -> UnsafeRawBufferPointer {
        let start = Int(labelStarts[index])
        return UnsafeRawBufferPointer(start: lower + start + 1, count: Int(lower[start]))
    }

    /// Copies the decoded name out (allocates; for the slow paths).
    func makeName() -> DNSName {
        DNSName(validatedWire: Array(UnsafeBufferPointer(start: original, count: length)))
    }

    /// Loads `name` (for names that did not come off the wire, e.g. a CNAME target).
    func load(_ name: DNSName) {
        reset()
        var i = 0
        for byte in name.wire {
            original[i] = byte
            lower[i] = asciiLower(byte)
            hash = NameHash.add(hash, asciiLower(byte))
            i += 1
        }
        length = i
        var j = 0
        while j < length, original[j] != 0 {
            labelStarts[labelCount] = UInt8(j)
            labelCount += 1
            j += 1 + Int(original[j])
        }
    }
}
