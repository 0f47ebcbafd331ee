import Logging
import NodeNetwork

/// What one sync did.
public struct SyncReport: Sendable, CustomStringConvertible {
    /// Nothing written: `replaceAll` has not been called yet.
    public var skipped = false
    /// Every service rewritten (first sync of an instance, after a failure, or on request).
    public var full = false
    /// Services whose programs changed.
    public var servicesChanged = 0
    /// Netlink commands in the transaction.
    public var commands = 0
    /// Empty chains of removed services or endpoints deleted (they go a second after they empty).
    public var chainsDeleted = 0
    /// UDP conntrack entries removed because their endpoint went away.
    public var conntrackEntriesDeleted = 0
    public var duration: Duration = .zero

    public var description: String {
        if skipped { return "skipped (no full list of services and endpoint slices yet)" }
        return "\(full ? "full" : "partial") sync: \(servicesChanged) services, \(commands) commands, "
            + "\(chainsDeleted) chains deleted, \(conntrackEntriesDeleted) conntrack entries deleted in \(duration)"
    }
}

extension ServiceProxy {
    /// How long a chain stays empty before it is deleted. Kernels before 6.2 notice only a
    /// moment after a map element is deleted that the chain it pointed at is free, so deleting
    /// both in one transaction fails there (kube-proxy waits a second for the same reason).
    static let retiredChainGrace: Duration = .seconds(1)

    /// Programs the changes recorded since the last sync (all services on a full sync) in one
    /// transaction, deletes retired chains that are due, and clears stale UDP conntrack entries.
    /// On failure nothing of the transaction was applied; the next sync is a full one.
    @discardableResult
    public func sync(full: Bool = false) async throws -> SyncReport {
        await acquireSync()
        defer { releaseSync() }
        var report = SyncReport()
        guard initialized else {
            report.skipped = true
            return report
        }
        let start = clock.now
        if full { needFullSync = true }
        report.chainsDeleted = await deleteRetiredChains()
        do {
            if needFullSync {
                try await fullSync(&report)
            } else {
                try await partialSync(&report)
            }
        } catch {
            // The changes of this sync were taken from `dirty`; only a full sync can redo them.
            needFullSync = true
            logger.error("service proxy sync failed", metadata: ["error": "\(error)"])
            throw error
        }
        report.duration = clock.now - start
        logger.debug("service proxy synced", metadata: ["report": "\(report)"])
        return report
    }

    /// Deletes the whole table (uninstall, tests). Recorded inputs stay; the next sync
    /// rebuilds everything.
    public func removeAll() async throws {
        await acquireSync()
        defer { releaseSync() }
        let main = config.table, known = tables
        _ = try await worker.perform { socket, nft in
            // Also shards of another shard count, left by an earlier configuration.
            let found = try Self.listObjects(socket, main: main).tables
            try nft.run(ProxyTable.removal(of: Array(Set(known).union(found)).sorted()), what: "delete the service proxy's tables")
        }
        programs = [:]
        claims = [:]
        retiredChains = [:]
        needFullSync = true
    }

    /// Changes the node addresses node ports answer on; takes effect with a full sync.
    public func setNodeAddresses(_ addresses: [IPv4Address]) throws {
        var updated = config
        updated.nodeAddresses = addresses
        try updated.validate()
        nodeAddresses = addresses
        needFullSync = true
        wake()
    }

    // MARK: Partial sync

    private func partialSync(_ report: inout SyncReport) async throws {
        let changed = dirty.sorted()
        dirty = []
        var plan = BatchPlan(mainTable: config.table)
        var working = ClaimChanges(claims)
        var updates: [(ServiceName, ServiceProgram?)] = []
        for name in changed {
            let old = programs[name]
            guard case .program(let new) = desiredProgram(name, claims: &working, old: old), old != new else { continue }
            plan.change(from: old, to: new)
            updates.append((name, new))
        }
        guard !plan.isEmpty else {
            working.apply(to: &claims)
            return
        }
        let frontends = updates.flatMap { $0.1?.udpFrontends ?? [] }
        let result = try await commit(plan, setup: nil, frontends: frontends)
        report.servicesChanged = updates.count
        report.commands = result.commands
        report.conntrackEntriesDeleted = result.conntrackDeleted
        install(updates, plan: plan, claims: working)
    }

    private enum Desired {
        /// The program to have (nil: none, the service is gone or not proxied).
        case program(ServiceProgram?)
        /// Refused: it would take an address or node port another service holds.
        case conflict
    }

    /// The program `name` should have, with `claims` updated to match.
    private func desiredProgram(_ name: ServiceName, claims working: inout ClaimChanges, old: ServiceProgram?) -> Desired {
        guard let info = services[name] else {
            for key in old?.claimedKeys ?? [] where working[key] == name { working[key] = nil }
            conflicted.remove(name)
            return .program(nil)
        }
        let program = ServiceProgram.build(info, slices: slices(of: name), nodeName: config.nodeName,
                                           clusterCIDR: config.clusterCIDR, table: shardTable(of: name), nodeAddresses: nodeAddresses)
        if let key = program.claimedKeys.first(where: { working[$0] != nil && working[$0] != name }), let owner = working[key] {
            reject("Service \(name)", "\(key) is already programmed for service \(owner)")
            conflicted.insert(name)
            return .conflict
        }
        if conflicted.remove(name) != nil, rejected["Service \(name)"]?.contains("is already programmed for") == true {
            rejected["Service \(name)"] = nil
        }
        for key in old?.claimedKeys ?? [] where working[key] == name { working[key] = nil }
        for key in program.claimedKeys { working[key] = name }
        return .program(program)
    }

    /// Records what the committed plan put in the kernel.
    private func install(_ updates: [(ServiceName, ServiceProgram?)], plan: BatchPlan, claims working: ClaimChanges) {
        let released = working.releasesKeys
        working.apply(to: &claims)
        for (name, program) in updates { programs[name] = program }
        let now = clock.now
        for chain in plan.retiredChains { retiredChains[chain] = now }
        for (table, chain) in plan.fillChains { retiredChains[TableObject(table: table, name: chain.name)] = nil }
        if released && !conflicted.isEmpty {
            dirty.formUnion(conflicted)
            wake()
        }
    }

    // MARK: Full sync

    private func fullSync(_ report: inout SyncReport) async throws {
        dirty = []
        var plan = BatchPlan(mainTable: config.table)
        plan.flushMaps = ProxyMap.allCases.flatMap { map in
            map.isPerShard ? tables.dropFirst().map { BatchPlan.TableMap(table: $0, map: map) } : [BatchPlan.TableMap(table: config.table, map: map)]
        }
        var working = ClaimChanges([:])
        var desired: [(ServiceName, ServiceProgram)] = []
        // Services that hold their keys now keep them; newcomers that collide are refused.
        let order = services.keys.sorted { (programs[$0] == nil ? 1 : 0, $0) < (programs[$1] == nil ? 1 : 0, $1) }
        for name in order {
            guard case .program(let program) = desiredProgram(name, claims: &working, old: nil), let program else { continue }
            plan.write(program)
            desired.append((name, program))
        }
        let setup = ProxyTable(name: config.table, shards: config.shards, clusterCIDR: config.clusterCIDR,
                               serviceCIDR: config.serviceCIDR, nodeAddresses: nodeAddresses, masqueradeMark: config.masqueradeMark)
        let frontends = desired.flatMap(\.1.udpFrontends)
        let wanted = Set(desired.flatMap { program in program.1.chains.map { TableObject(table: program.1.table, name: $0.name) } })
        let wantedSets = Set(desired.flatMap { program in program.1.affinitySets.keys.map { TableObject(table: program.1.table, name: $0) } })
        let result = try await commit(plan, setup: (setup, wanted, wantedSets), frontends: frontends)
        report.full = true
        report.servicesChanged = plan.services
        report.commands = result.commands
        report.conntrackEntriesDeleted = result.conntrackDeleted
        programs = Dictionary(desired, uniquingKeysWith: { first, _ in first })
        claims = [:]
        working.apply(to: &claims)
        needFullSync = false
        let now = clock.now
        retiredChains = retiredChains.filter { !wanted.contains($0.key) }
        for chain in result.leftovers where retiredChains[chain] == nil { retiredChains[chain] = now }
    }

    // MARK: Kernel work

    /// Runs the transaction on the worker thread: on a full sync the fixed part first (nft
    /// text) and the listing of our chains and sets to find leftovers; then the plan; then the
    /// conntrack clean-up of `frontends`. Returns the command count and entries deleted.
    private struct CommitResult: Sendable {
        var commands = 0
        var conntrackDeleted = 0
        /// Chains of ours found in the kernel that no program has (full sync only).
        var leftovers: [TableObject] = []
    }

    private func commit(_ plan: BatchPlan, setup: (ProxyTable, Set<TableObject>, Set<TableObject>)?,
                        frontends: [ServiceProgram.UDPFrontend]) async throws -> CommitResult {
        let main = config.table, known = Set(tables)
        let nodeAddresses = Set(self.nodeAddresses)
        let logger = self.logger
        return try await worker.perform { socket, nft -> CommitResult in
            var plan = plan
            var leftovers: [TableObject] = []
            if let (fixed, wanted, wantedSets) = setup {
                try Self.setUpTable(fixed, nft: nft, logger: logger)
                let existing = try Self.listObjects(socket, main: main)
                let extraTables = existing.tables.filter { !known.contains($0) }
                leftovers = existing.chains.filter {
                    ChainNames.isServiceChain($0.name) && !wanted.contains($0) && known.contains($0.table)
                }
                let staleSets = existing.sets.filter { ChainNames.isAffinitySet($0.name) && !wantedSets.contains($0) }
                plan.retire(chains: leftovers, sets: staleSets, tables: extraTables.sorted())
            }
            var batch = socket.batch()
            plan.write(into: &batch)
            try socket.commit(batch)
            var deleted = 0
            if !frontends.isEmpty {
                do {
                    let entries = try ConntrackCleaner.dumpUDP(socket)
                    let stale = ConntrackCleaner.stale(entries, frontends: frontends, nodeAddresses: nodeAddresses)
                    deleted = try ConntrackCleaner.delete(stale, socket: socket)
                } catch {
                    // The rules are in; a flow may stick to an old endpoint until it times out.
                    logger.warning("conntrack clean-up failed", metadata: ["error": "\(error)"])
                }
            }
            return CommitResult(commands: batch.count, conntrackDeleted: deleted, leftovers: leftovers)
        }
    }

    /// The fixed part, refreshed in place; if nft refuses that (a table from an incompatible
    /// version: different base chain priorities), the base chains are re-created as well.
    private static func setUpTable(_ fixed: ProxyTable, nft: NFTables, logger: Logger) throws {
        do {
            try nft.run(fixed.setup(recreateBaseChains: false), what: "set up table ip \(fixed.name)")
        } catch {
            logger.warning("re-creating the base chains of the service proxy's table", metadata: ["error": "\(error)"])
            try nft.run(fixed.setup(recreateBaseChains: true), what: "set up table ip \(fixed.name)")
        }
    }

    /// Our tables' chains and sets as the kernel has them (dumps; chains are not filtered by
    /// table in the kernel, sets are listed for the whole family and filtered here too).
    static func listObjects(_ socket: NetfilterSocket, main: String) throws -> (chains: [TableObject], sets: [TableObject], tables: Set<String>) {
        func objects(_ type: UInt16, table tableAttribute: UInt16, name nameAttribute: UInt16, what: String) throws -> [TableObject] {
            try socket.dump(subsystem: NFTNumbers.subsystemNFTables, type: type, family: NFTNumbers.familyIPv4, what: what)
                .compactMap { message in
                    let attributes = NetlinkReader.attributes(message.payload.dropFirst(4))
                    guard let table = NetlinkReader.string(attributes[tableAttribute]), ProxyTable.isOurs(table, main: main),
                          let name = NetlinkReader.string(attributes[nameAttribute]) else { return nil }
                    return TableObject(table: table, name: name)
                }
        }
        let chains = try objects(NFTNumbers.getChain, table: NFTNumbers.chainTable, name: NFTNumbers.chainName, what: "list chains")
        let sets = try objects(NFTNumbers.getSet, table: NFTNumbers.setTable, name: NFTNumbers.setName, what: "list sets")
        return (chains, sets, Set(chains.map(\.table)))
    }

    /// Deletes the retired chains that have been empty long enough, in a transaction of their
    /// own; a failure is only logged (an empty chain does no harm; a full sync finds it again).
    func deleteRetiredChains() async -> Int {
        let now = clock.now
        let due = retiredChains.filter { now - $0.value >= Self.retiredChainGrace }.map(\.key).sorted()
        guard !due.isEmpty else { return 0 }
        for chain in due { retiredChains[chain] = nil }
        do {
            try await worker.perform { socket, _ in
                var batch = socket.batch()
                for chain in due { batch.deleteChain(table: chain.table, chain.name) }
                try socket.commit(batch)
            }
            return due.count
        } catch {
            logger.warning("deleting empty chains failed", metadata: ["chains": "\(due.count)", "error": "\(error)"])
            return 0
        }
    }

    /// Whether retired chains are waiting to be deleted (and when the first is due).
    var nextRetirement: ContinuousClock.Instant? {
        retiredChains.values.min().map { $0 + Self.retiredChainGrace }
    }

    // MARK: One sync at a time

    func acquireSync() async {
        while syncing { await withCheckedContinuation { syncWaiters.append($0) } }
        syncing = true
    }

    func releaseSync() {
        syncing = false
        if !syncWaiters.isEmpty { syncWaiters.removeFirst().resume() }
    }
}
