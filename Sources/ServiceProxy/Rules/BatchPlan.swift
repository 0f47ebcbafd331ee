/// The changes of one sync, gathered over the services that changed and then written as one
/// nf_tables transaction in an order the kernel accepts: sets and chains exist before rules
/// refer to them, an element is deleted before a new value for its key is added, and a chain
/// or set that goes away is emptied after everything pointing at it is gone.
struct BatchPlan: Sendable {
    /// Empties the five maps first: a full sync rewrites every element.
    var flushMaps = false
    private(set) var addSets: [String: Int] = [:]
    private(set) var createChains: [String] = []
    private(set) var fillChains: [ServiceProgram.Chain] = []
    private(set) var deleteElements: [ProxyMap: [ElementKey]] = [:]
    private(set) var addElements: [ProxyMap: [(ElementKey, NFTVerdict?)]] = [:]
    /// Chains no program uses any more: flushed now, deleted a second later (see ServiceProxy).
    private(set) var retiredChains: [String] = []
    private(set) var deleteSets: [String] = []
    /// Services whose programs this plan changes.
    private(set) var services = 0

    var isEmpty: Bool {
        !flushMaps && addSets.isEmpty && fillChains.isEmpty && deleteElements.isEmpty && addElements.isEmpty
            && retiredChains.isEmpty && deleteSets.isEmpty
    }

    /// The commands turning one service's `old` program into `new` (nil: none). Chains whose
    /// rules are the same are left alone, so their counters and handles stay.
    mutating func change(from old: ServiceProgram?, to new: ServiceProgram?) {
        services += 1
        let oldChains = Dictionary((old?.chains ?? []).map { ($0.name, $0.rules) }, uniquingKeysWith: { first, _ in first })
        let newChains = Set((new?.chains ?? []).map(\.name))
        for (set, timeout) in new?.affinitySets ?? [:] where old?.affinitySets[set] == nil { addSets[set] = timeout }
        for chain in new?.chains ?? [] where oldChains[chain.name] != chain.rules {
            if oldChains[chain.name] == nil { createChains.append(chain.name) }
            fillChains.append(chain)
        }
        let oldElements = old?.elements ?? [:]
        let newElements = new?.elements ?? [:]
        for (key, value) in oldElements where newElements[key] == nil || newElements[key]! != value {
            deleteElements[key.map, default: []].append(key)
        }
        for (key, value) in newElements where oldElements[key] == nil || oldElements[key]! != value {
            addElements[key.map, default: []].append((key, value))
        }
        for chain in old?.chains ?? [] where !newChains.contains(chain.name) { retiredChains.append(chain.name) }
        for set in (old?.affinitySets ?? [:]).keys where new?.affinitySets[set] == nil { deleteSets.append(set) }
    }

    /// Everything of `program`, for a full sync (maps flushed, every chain rewritten).
    mutating func write(_ program: ServiceProgram) {
        services += 1
        for (set, timeout) in program.affinitySets { addSets[set] = timeout }
        for chain in program.chains {
            createChains.append(chain.name)
            fillChains.append(chain)
        }
        for (key, value) in program.elements { addElements[key.map, default: []].append((key, value)) }
    }

    /// Chains and sets found in the kernel that no program has (a full sync after a restart).
    mutating func retire(chains: [String], sets: [String]) {
        retiredChains += chains
        deleteSets += sets
    }

    /// The number of netlink commands the plan becomes (about; anonymous maps add two each).
    var commandCount: Int {
        addSets.count + createChains.count + fillChains.reduce(0) { $0 + 1 + $1.rules.count }
            + deleteElements.count + addElements.count + retiredChains.count + deleteSets.count
    }

    func write(into batch: inout NFTBatch) {
        if flushMaps { for map in ProxyMap.allCases { batch.flushSet(map.rawValue) } }
        for (set, timeout) in addSets.sorted(by: { $0.key < $1.key }) { batch.addAffinitySet(set, timeoutSeconds: timeout) }
        for chain in createChains { batch.addChain(chain) }
        for chain in fillChains {
            batch.flushChain(chain.name)
            for rule in chain.rules { rule.add(to: &batch, chain: chain.name) }
        }
        if !flushMaps {
            for map in ProxyMap.allCases {
                if let keys = deleteElements[map] { batch.deleteElements(map.rawValue, keys.map(\.bytes)) }
            }
        }
        for map in ProxyMap.allCases {
            if let elements = addElements[map] { batch.addElements(map.rawValue, elements.map { ($0.0.bytes, $0.1) }) }
        }
        for chain in retiredChains { batch.flushChain(chain) }
        for set in deleteSets { batch.deleteSet(set) }
    }
}
