import Synchronization

/// The forwarder's cache (CoreDNS's `cache` plugin role): positive answers for their smallest
/// TTL, capped; negative answers (NXDOMAIN, NODATA) for the SOA's TTL or MINIMUM, whichever is
/// smaller, capped, and not at all without an SOA (RFC 2308 §5). Bounded: when full, expired
/// entries go first, then arbitrary ones (CoreDNS also evicts at random). Keyed by the hash of
/// the lowercased name, so a lookup allocates nothing; split into 16 shards, each with its own
/// lock, so serving threads rarely wait for each other.
public final class ResponseCache: Sendable {
    public struct Limits: Sendable {
        /// The most entries kept (CoreDNS: 9984 per shard of success and denial).
        public var capacity: Int
        /// Longest a positive answer is kept (k3s' Corefile: `cache 30`).
        public var maxPositiveTTL: UInt32
        /// Longest a negative answer is kept (`cache 30` caps denials too).
        public var maxNegativeTTL: UInt32

        public init(capacity: Int = 10_000, maxPositiveTTL: UInt32 = 30, maxNegativeTTL: UInt32 = 30) {
            self.capacity = capacity
            self.maxPositiveTTL = maxPositiveTTL
            self.maxNegativeTTL = maxNegativeTTL
        }
    }

    public let limits: Limits
    private let shards: [Shard]
    private let stored = Atomic<Int>(0)
    private static let shardCount = 16

    private final class Shard: Sendable {
        struct State {
            var entries: [UInt64: [ForwardedAnswer]] = [:]
            var count = 0
        }
        let state = Mutex(State())
    }

    public init(limits: Limits = Limits()) {
        self.limits = limits
        shards = (0..<Self.shardCount).map { _ in Shard() }
    }

    private func shard(_ key: UInt64) -> Shard { shards[Int(key >> 60) & (Self.shardCount - 1)] }
    private var shardCapacity: Int { max(1, limits.capacity / Self.shardCount) }

    public var count: Int { stored.load(ordering: .relaxed) }

    static func key(hash: UInt64, type: UInt16) -> UInt64 { hash ^ (UInt64(type) &* 0x9E37_79B9_7F4A_7C15) }

    /// The live answer for a lowercased name, type and class, if any.
    func lookup(hash: UInt64, name: UnsafeRawBufferPointer, type: UInt16, recordClass: UInt16, now: UInt64) -> ForwardedAnswer? {
        let key = Self.key(hash: hash, type: type)
        return shard(key).state.withLock { state -> ForwardedAnswer? in
            guard let bucket = state.entries[key] else { return nil }
            for entry in bucket where entry.type == type && entry.recordClass == recordClass
                && entry.name.count == name.count && entry.name.withUnsafeBytes({ $0.elementsEqual(name) }) {
                return entry.remaining(now: now) == nil ? nil : entry
            }
            return nil
        }
    }

    /// How long an upstream answer may be cached (nil: not at all), per RFC 2308 and the caps.
    func lifetime(rcode: ResponseCode, answers: [ResourceRecord], authorities: [ResourceRecord], type: UInt16) -> UInt32? {
        let answersQuestion = answers.contains { $0.type.rawValue == type || $0.type == .cname }
        if rcode == .noError && answersQuestion {
            let ttl = answers.map(\.ttl).min() ?? 0
            return ttl == 0 ? nil : min(ttl, limits.maxPositiveTTL)
        }
        guard rcode == .noError || rcode == .nameError else { return nil }
        // A negative answer: only with an SOA, for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5).
        for record in authorities {
            guard case .soa(let soa) = record.data else { continue }
            let ttl = min(record.ttl, soa.minimum)
            return ttl == 0 ? nil : min(ttl, limits.maxNegativeTTL)
        }
        return nil
    }

    func insert(_ answer: ForwardedAnswer, now: UInt64) {
        let key = Self.key(hash: NameHash.of(answer.name), type: answer.type)
        shard(key).state.withLock { state in
            if state.count >= shardCapacity { evict(&state, now: now) }
            var bucket = state.entries[key] ?? []
            if let i = bucket.firstIndex(where: { $0.type == answer.type && $0.recordClass == answer.recordClass && $0.name == answer.name }) {
                bucket[i] = answer
            } else {
                bucket.append(answer)
                state.count += 1
                stored.add(1, ordering: .relaxed)
            }
            state.entries[key] = bucket
        }
    }

    /// Drops expired entries, then arbitrary ones until an eighth of the room is free, so the
    /// next inserts do not each scan the whole cache again.
    private func evict(_ state: inout Shard.State, now: UInt64) {
        var removed = 0
        for (key, bucket) in state.entries {
            let live = bucket.filter { $0.remaining(now: now) != nil }
            removed += bucket.count - live.count
            state.entries[key] = live.isEmpty ? nil : live
        }
        let target = max(1, shardCapacity / 8)
        if removed < target {
            for key in Array(state.entries.keys.prefix(target - removed)) {
                removed += state.entries[key]?.count ?? 0
                state.entries[key] = nil
            }
        }
        state.count -= removed
        stored.subtract(removed, ordering: .relaxed)
    }

    public func removeAll() {
        for shard in shards { shard.state.withLock { $0 = Shard.State() } }
        stored.store(0, ordering: .relaxed)
    }
}
