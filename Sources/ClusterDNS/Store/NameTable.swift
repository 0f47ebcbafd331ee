/// An immutable map from lowercased owner names to their records, split into 256 shards by
/// the name's hash. An update copies only the shards it touches and shares the others with
/// the previous table, so one service changing among thousands costs a few small copies and
/// every published table stays valid for the threads still answering from it.
struct NameTable: Sendable {
    static let shardCount = 256

    final class Shard: Sendable {
        let nodes: [UInt64: [ZoneNode]]
        init(_ nodes: [UInt64: [ZoneNode]]) { self.nodes = nodes }
    }

    private let shards: [Shard]
    /// How many names the table holds.
    let count: Int

    init() {
        let empty = Shard([:])
        shards = Array(repeating: empty, count: Self.shardCount)
        count = 0
    }

    private init(shards: [Shard], count: Int) {
        self.shards = shards
        self.count = count
    }

    /// The node for a lowercased wire name with its `NameHash`.
    @inline(__always)
    func node(hash: UInt64, name: UnsafeRawBufferPointer) -> ZoneNode? {
        guard let bucket = shards[Int(hash & 0xFF)].nodes[hash] else { return nil }
        for node in bucket where node.matches(name) { return node }
        return nil
    }

    func node(_ name: [UInt8]) -> ZoneNode? {
        name.withUnsafeBytes { node(hash: NameHash.of($0), name: $0) }
    }

    /// A table with `changes` applied: a node sets or replaces the name's records, nil
    /// removes the name.
    func updating(_ changes: [[UInt8]: ZoneNode?]) -> NameTable {
        guard !changes.isEmpty else { return self }
        var byShard: [Int: [(UInt64, [UInt8], ZoneNode?)]] = [:]
        for (name, node) in changes {
            let hash = NameHash.of(name)
            byShard[Int(hash & 0xFF), default: []].append((hash, name, node))
        }
        var newShards = shards
        var newCount = count
        for (index, edits) in byShard {
            var nodes = shards[index].nodes
            for (hash, name, node) in edits {
                var bucket = nodes[hash] ?? []
                let existing = bucket.firstIndex { $0.name == name }
                switch (existing, node) {
                case (let i?, let n?): bucket[i] = n
                case (nil, let n?):
                    bucket.append(n)
                    newCount += 1
                case (let i?, nil):
                    bucket.remove(at: i)
                    newCount -= 1
                case (nil, nil): break
                }
                nodes[hash] = bucket.isEmpty ? nil : bucket
            }
            newShards[index] = Shard(nodes)
        }
        return NameTable(shards: newShards, count: newCount)
    }

    /// Every node (tests and diagnostics).
    var allNodes: [ZoneNode] { shards.flatMap { $0.nodes.values.flatMap { $0 } } }
}
