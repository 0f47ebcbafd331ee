/// A chain or set in one of our tables.
struct TableObject: Hashable, Sendable, Comparable {
    let table: String
    let name: String

    static func < (lhs: TableObject, rhs: TableObject) -> Bool { (lhs.table, lhs.name) < (rhs.table, rhs.name) }
}

/// The changes of one sync, gathered over the services that changed and then written as one
/// nf_tables transaction in an order the kernel accepts: sets and chains exist before rules
/// refer to them, an element is deleted before a new value for its key is added, and a chain
/// or set that goes away is emptied after everything pointing at it is gone.
struct BatchPlan: Sendable {
    struct TableMap: Hashable, Sendable, Comparable {
        let table: String
        let map: ProxyMap

        static func < (lhs: TableMap, rhs: TableMap) -> Bool { (lhs.table, lhs.map.rawValue) < (rhs.table, rhs.map.rawValue) }
    }

    /// The main table (filters, masquerade); per-shard maps go to each program's own table.
    let mainTable: String
    /// Maps emptied first: a full sync rewrites every element.
    var flushMaps: [TableMap] = []
    private(set) var addSets: [TableObject: Int] = [:]
    private(set) var createChains: [TableObject] = []
    private(set) var fillChains: [(table: String, chain: ServiceProgram.Chain)] = []
    private(set) var deleteElements: [TableMap: [ElementKey]] = [:]
    private(set) var addElements: [TableMap: [(ElementKey, NFTVerdict?)]] = [:]
    /// Chains no program uses any more: flushed now, deleted a second later (see ServiceProxy).
    private(set) var retiredChains: [TableObject] = []
    private(set) var deleteSets: [TableObject] = []
    /// Tables of ours that are no longer wanted (a smaller shard count): deleted whole.
    private(set) var deleteTables: [String] = []
    /// Services whose programs this plan changes.
    private(set) var services = 0

    init(mainTable: String) {
        self.mainTable = mainTable
    }

    var isEmpty: Bool {
        flushMaps.isEmpty && addSets.isEmpty && fillChains.isEmpty && deleteElements.isEmpty && addElements.isEmpty
            && retiredChains.isEmpty && deleteSets.isEmpty && deleteTables.isEmpty
    }

    private func location(_ key: ElementKey, of program: ServiceProgram) -> TableMap {
        TableMap(table: key.map.isPerShard ? program.table : mainTable, map: key.map)
    }

    /// The commands turning one service's `old` program into `new` (nil: none). Chains whose
    /// rules are the same are left alone, so their counters and handles stay.
    mutating func change(from old: ServiceProgram?, to new: ServiceProgram?) {
        services += 1
        var oldChains: [TableObject: [ProxyRule]] = [:]
        var oldSets = Set<TableObject>()
        if let old {
            for chain in old.chains { oldChains[TableObject(table: old.table, name: chain.name)] = chain.rules }
            oldSets = Set(old.affinitySets.keys.map { TableObject(table: old.table, name: $0) })
        }
        var kept = Set<TableObject>(), keptSets = Set<TableObject>()
        if let new {
            for (set, timeout) in new.affinitySets {
                let object = TableObject(table: new.table, name: set)
                keptSets.insert(object)
                if !oldSets.contains(object) { addSets[object] = timeout }
            }
            for chain in new.chains {
                let object = TableObject(table: new.table, name: chain.name)
                kept.insert(object)
                guard oldChains[object] != chain.rules else { continue }
                if oldChains[object] == nil { createChains.append(object) }
                fillChains.append((new.table, chain))
            }
        }
        var oldElements: [TableMap: [ElementKey: NFTVerdict?]] = [:]
        var newElements: [TableMap: [ElementKey: NFTVerdict?]] = [:]
        if let old { for (key, value) in old.elements { oldElements[location(key, of: old), default: [:]][key] = .some(value) } }
        if let new { for (key, value) in new.elements { newElements[location(key, of: new), default: [:]][key] = .some(value) } }
        // A key whose value changes is deleted and added again (kube-proxy's ensureElem).
        for (map, elements) in oldElements {
            for (key, value) in elements where newElements[map]?[key] != .some(value) {
                deleteElements[map, default: []].append(key)
            }
        }
        for (map, elements) in newElements {
            for (key, value) in elements where oldElements[map]?[key] != .some(value) {
                addElements[map, default: []].append((key, value))
            }
        }
        retiredChains += oldChains.keys.filter { !kept.contains($0) }.sorted()
        deleteSets += oldSets.subtracting(keptSets).sorted()
    }

    /// Everything of `program`, for a full sync (maps flushed, every chain rewritten).
    mutating func write(_ program: ServiceProgram) {
        services += 1
        for (set, timeout) in program.affinitySets { addSets[TableObject(table: program.table, name: set)] = timeout }
        for chain in program.chains {
            createChains.append(TableObject(table: program.table, name: chain.name))
            fillChains.append((program.table, chain))
        }
        for (key, value) in program.elements { addElements[location(key, of: program), default: []].append((key, value)) }
    }

    /// Chains, sets and tables found in the kernel that no program has (a full sync).
    mutating func retire(chains: [TableObject], sets: [TableObject], tables: [String]) {
        let gone = Set(tables)
        retiredChains += chains.filter { !gone.contains($0.table) }
        deleteSets += sets.filter { !gone.contains($0.table) }
        deleteTables += tables
    }

    /// The number of netlink commands, about (anonymous maps add two each).
    var commandCount: Int {
        flushMaps.count + addSets.count + createChains.count + fillChains.reduce(0) { $0 + 1 + $1.chain.rules.count }
            + deleteElements.count + addElements.count + retiredChains.count + deleteSets.count + deleteTables.count
    }

    func write(into batch: inout NFTBatch) {
        for map in flushMaps { batch.flushSet(table: map.table, map.map.rawValue) }
        for (set, timeout) in addSets.sorted(by: { $0.key < $1.key }) {
            batch.addAffinitySet(table: set.table, set.name, timeoutSeconds: timeout)
        }
        for chain in createChains { batch.addChain(table: chain.table, chain.name) }
        for (table, chain) in fillChains {
            batch.flushChain(table: table, chain.name)
            for rule in chain.rules { rule.add(to: &batch, table: table, chain: chain.name) }
        }
        for (map, keys) in deleteElements.sorted(by: { $0.key < $1.key }) {
            batch.deleteElements(table: map.table, map.map.rawValue, keys.map(\.bytes))
        }
        for (map, elements) in addElements.sorted(by: { $0.key < $1.key }) {
            batch.addElements(table: map.table, map.map.rawValue, elements.map { ($0.0.bytes, $0.1) })
        }
        for chain in retiredChains { batch.flushChain(table: chain.table, chain.name) }
        for set in deleteSets { batch.deleteSet(table: set.table, set.name) }
        for table in deleteTables { batch.deleteTable(table) }
    }
}
