/// Which of `size` consecutive values (service IPs, node ports) are taken: kube-apiserver's
/// `AllocationBitmap` with the random-scan-with-offset strategy of KEP-3070 (IPs) and KEP-3668
/// (node ports). Random picks come from the upper part of the range first, so the lower
/// `staticBand` values stay free for clients that ask for a value by number (the `kube-dns`
/// Service's 10.43.0.10, a documented node port); only when the upper part is full does a
/// random pick fall into the lower band.
///
/// A bitmap (bit `i` set: offset `i` taken) because that is what is stored and compared on
/// every allocation (`StoredRange`): `bytes` is upstream's snapshot form, so a /12's million
/// addresses cost 128 KiB, not a set of a million integers.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/service/allocator/bitmap.go
struct RangeAllocation: Sendable, Equatable {
    /// How many values the range holds (offsets 0..<size).
    let size: Int
    /// The lower offsets kept for requests by number (0 when the range is too small to split).
    let staticBand: Int
    /// Bit `i % 64` of word `i / 64` is offset `i`; bits at or past `size` are never set.
    private var words: [UInt64]
    private(set) var count = 0

    init(size: Int, staticBand: Int) {
        self.size = max(size, 0)
        self.staticBand = min(max(staticBand, 0), max(size, 0))
        words = Array(repeating: 0, count: (max(size, 0) + 63) / 64)
    }

    var isFull: Bool { count >= size }

    func has(_ offset: Int) -> Bool {
        guard (0..<size).contains(offset) else { return false }
        return words[offset / 64] & (1 << UInt64(offset % 64)) != 0
    }

    /// Takes `offset`; false when it is outside the range or already taken.
    @discardableResult
    mutating func allocate(_ offset: Int) -> Bool {
        guard (0..<size).contains(offset), !has(offset) else { return false }
        words[offset / 64] |= 1 << UInt64(offset % 64)
        count += 1
        return true
    }

    mutating func release(_ offset: Int) {
        guard has(offset) else { return }
        words[offset / 64] &= ~(1 << UInt64(offset % 64))
        count -= 1
    }

    /// The taken offsets, ascending.
    var taken: [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(count)
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                offsets.append(index * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
        return offsets
    }

    /// A free offset chosen as upstream's `randomScanStrategyWithOffset` does (a random start in
    /// the upper band, scanning forward and wrapping within it, then the same in the lower band);
    /// nil when everything is taken. Does not take it.
    func next() -> Int? {
        guard !isFull else { return nil }
        let upper = size - staticBand
        if upper > 0 {
            let start = Int.random(in: 0..<upper)
            for step in 0..<upper {
                let offset = staticBand + (start + step) % upper
                if !has(offset) { return offset }
            }
        }
        if staticBand > 0 {
            let start = Int.random(in: 0..<staticBand)
            for step in 0..<staticBand {
                let offset = (start + step) % staticBand
                if !has(offset) { return offset }
            }
        }
        return nil
    }

    /// `min(max(minimum, size/step), maximum)`, 0 for ranges of at most `minimum` values: the
    /// static band size upstream's `calculateRangeOffset` gives (IPs: 16, 16, 256; ports: 16,
    /// 32, 128).
    static func staticBand(size: Int, minimum: Int, step: Int, maximum: Int) -> Int {
        if size <= minimum { return 0 }
        return min(max(minimum, size / step), maximum)
    }

    // MARK: - Snapshot bytes

    /// The most bytes a bitmap of this range can take.
    var maximumByteCount: Int { (size + 7) / 8 }

    /// The bitmap as upstream stores it (`AllocationBitmap.Snapshot`: `big.Int.Bytes()`): one
    /// number whose bit `i` is offset `i`, big-endian, without leading zero bytes.
    var bytes: [UInt8] {
        var littleEndian: [UInt8] = []
        littleEndian.reserveCapacity(words.count * 8)
        for word in words {
            for shift in stride(from: UInt64(0), to: 64, by: 8) {
                littleEndian.append(UInt8(truncatingIfNeeded: word >> shift))
            }
        }
        while littleEndian.last == 0 { littleEndian.removeLast() }
        return littleEndian.reversed()
    }

    /// The bitmap `bytes` encode (`AllocationBitmap.Restore`), or nil when they do not fit this
    /// range: more bytes than it needs, or a bit set past its last value. (Upstream's
    /// `big.Int.SetBytes` takes any length; a stored object that says more than the range holds
    /// is damaged, and is rebuilt instead.)
    init?(size: Int, staticBand: Int, bytes: [UInt8]) {
        self.init(size: size, staticBand: staticBand)
        guard bytes.count <= maximumByteCount else { return nil }
        for (position, byte) in bytes.reversed().enumerated() where byte != 0 {
            var rest = byte
            while rest != 0 {
                let offset = position * 8 + rest.trailingZeroBitCount
                guard offset < self.size else { return nil }
                allocate(offset)
                rest &= rest - 1
            }
        }
    }
}
