/// Which of `size` consecutive values (service IPs, node ports) are taken: kube-apiserver's
/// `AllocationBitmap` with the random-scan-with-offset strategy of KEP-3070 (IPs) and KEP-3668
/// (node ports). Random picks come from the upper part of the range first, so the lower
/// `staticBand` values stay free for clients that ask for a value by number (the `kube-dns`
/// Service's 10.43.0.10, a documented node port); only when the upper part is full does a
/// random pick fall into the lower band.
/// See https://github.com/kubernetes/kubernetes/blob/master/pkg/registry/core/service/allocator/bitmap.go
struct RangeAllocation: Sendable {
    /// How many values the range holds (offsets 0..<size).
    let size: Int
    /// The lower offsets kept for requests by number (0 when the range is too small to split).
    let staticBand: Int
    private(set) var taken: Set<Int> = []

    init(size: Int, staticBand: Int) {
        self.size = max(size, 0)
        self.staticBand = min(max(staticBand, 0), max(size, 0))
    }

    var count: Int { taken.count }
    var isFull: Bool { taken.count >= size }

    func has(_ offset: Int) -> Bool {
        taken.contains(offset)
    }

    /// Takes `offset`; false when it is outside the range or already taken.
    @discardableResult
    mutating func allocate(_ offset: Int) -> Bool {
        guard (0..<size).contains(offset) else { return false }
        return taken.insert(offset).inserted
    }

    mutating func release(_ offset: Int) {
        taken.remove(offset)
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
                if !taken.contains(offset) { return offset }
            }
        }
        if staticBand > 0 {
            let start = Int.random(in: 0..<staticBand)
            for step in 0..<staticBand {
                let offset = (start + step) % staticBand
                if !taken.contains(offset) { return offset }
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
}
