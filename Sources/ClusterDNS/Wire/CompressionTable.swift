/// Names already written into a message, for name compression (RFC 1035 §4.1.4): the hash
/// and wire length of each suffix and where it starts. Reused per serving thread; a writer
/// resets it for each message and rolls it back with a record that did not fit.
final class CompressionTable {
    static let capacity = 256
    let hashes: UnsafeMutablePointer<UInt64>
    let offsets: UnsafeMutablePointer<UInt16>
    let lengths: UnsafeMutablePointer<UInt8>
    var count = 0

    init() {
        hashes = .allocate(capacity: Self.capacity)
        offsets = .allocate(capacity: Self.capacity)
        lengths = .allocate(capacity: Self.capacity)
    }

    deinit {
        hashes.deallocate()
        offsets.deallocate()
        lengths.deallocate()
    }

    func add(hash: UInt64, offset: Int, length: Int) {
        // Pointers hold 14 bits of offset; later names simply go uncompressed.
        guard count < Self.capacity, offset < 0x4000 else { return }
        hashes[count] = hash
        offsets[count] = UInt16(offset)
        lengths[count] = UInt8(length)
        count += 1
    }
}
