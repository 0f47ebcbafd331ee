import Storage

/// One range allocation (the service IPs, the node ports) kept in the store under one key and
/// changed only by read → modify → compare-and-swap, so API servers sharing a datastore never
/// hand out the same value: kube-apiserver's `Etcd` allocator
/// (pkg/registry/core/service/allocator/storage/storage.go, `tryUpdate` in a
/// `GuaranteedUpdate`). What this process last read or wrote is kept only as a cache of that
/// stored version, so an unchanged object is not decoded again.
///
/// A stored object that is missing or unusable (damaged, or for another range after
/// --service-cidr or --service-node-port-range changed) is rebuilt by the caller's `recover`
/// and replaced; upstream refuses to allocate until its repair controller has rewritten it.
actor StoredRange {
    /// What the store holds under the key.
    enum Snapshot: Sendable {
        case valid(RangeAllocation, revision: Int64)
        case missing
        /// Not an allocation of the configured range: why, and the revision to replace.
        case unusable(reason: String, revision: Int64)
    }

    /// `/registry/ranges/serviceips`.
    nonisolated let key: String
    /// The configured range as stored: `10.43.0.0/16`, `30000-32767`.
    nonisolated let range: String
    /// The range with nothing taken (its size and static band).
    nonisolated let empty: RangeAllocation
    private let storage: any Storage
    /// The last stored version seen (never replaced by an older one).
    private var cache: (revision: Int64, allocation: RangeAllocation)?
    /// Whether a change is under way, and the changes waiting for it, in order.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Tries of one change before giving up. Every failed try means another write to the range
    /// succeeded, so this only runs out when other servers allocate without pause.
    static let maximumAttempts = 100

    init(key: String, range: String, empty: RangeAllocation, storage: any Storage) {
        self.key = key
        self.range = range
        self.empty = empty
        self.storage = storage
    }

    /// The allocation of the last stored version this process saw.
    var lastKnown: RangeAllocation? { cache?.allocation }

    /// Reads the stored object (decoding it only when it changed since last seen).
    func read() async throws -> Snapshot {
        guard let stored = try await storage.get(key) else { return .missing }
        if let cache, cache.revision == stored.revision { return .valid(cache.allocation, revision: stored.revision) }
        do {
            let allocation = try RangeAllocationSnapshot.decode(stored.value, range: range, empty: empty)
            remember(allocation, revision: stored.revision)
            return .valid(allocation, revision: stored.revision)
        } catch {
            return .unusable(reason: error.description, revision: stored.revision)
        }
    }

    /// Writes `allocation` if the stored object is still the version `snapshot` read (creating
    /// it when that was missing); false when another write came first.
    func replace(_ snapshot: Snapshot, with allocation: RangeAllocation) async throws -> Bool {
        let value = RangeAllocationSnapshot.encode(allocation, range: range)
        let stored: StoredObject
        do {
            switch snapshot {
            case .missing:
                stored = try await storage.create(key, value: value)
            case .valid(_, let revision), .unusable(_, let revision):
                stored = try await storage.update(key, value: value, expectedRevision: revision)
            }
        } catch StorageError.conflict, StorageError.alreadyExists, StorageError.notFound {
            return false
        }
        remember(allocation, revision: stored.revision)
        return true
    }

    /// Applies `change` to the stored allocation and writes the result, reading again and
    /// retrying whenever another writer came between the read and the write (upstream's
    /// `tryUpdate`). A missing or unusable object is first replaced by `recover(reason)`. A dry
    /// run, or a change that changes nothing, writes nothing. `change`'s own errors (taken, out
    /// of range, full) are judged on a version just read, so a release by another server is seen.
    ///
    /// Changes from this process wait for each other (upstream's `Etcd.lock`): concurrent
    /// requests of one server then never conflict with each other, only with other servers.
    func update<T: Sendable>(dryRun: Bool = false, recover: @Sendable (_ reason: String) async throws -> RangeAllocation,
                             _ change: @Sendable (inout RangeAllocation) throws(ServiceAllocationError) -> T)
        async throws(ServiceAllocationError) -> T {
        if !dryRun { await enter() }
        defer { if !dryRun { leave() } }
        for _ in 0..<Self.maximumAttempts {
            let snapshot: Snapshot
            var allocation: RangeAllocation
            do {
                snapshot = try await read()
                switch snapshot {
                case .valid(let stored, _):
                    allocation = stored
                case .missing:
                    allocation = try await recover("the stored allocations \(key) are missing")
                case .unusable(let reason, _):
                    allocation = try await recover("the stored allocations \(key) cannot be used: \(reason)")
                }
            } catch let error as ServiceAllocationError {
                throw error
            } catch {
                throw .storage("reading \(key): \(error)")
            }
            let before = allocation
            let result = try change(&allocation)
            if dryRun { return result }
            if case .valid = snapshot, allocation == before { return result }
            do {
                if try await replace(snapshot, with: allocation) { return result }
            } catch {
                throw .storage("writing \(key): \(error)")
            }
        }
        throw .storage("\(key) changed \(Self.maximumAttempts) times while this server tried to write it; try again")
    }

    private func remember(_ allocation: RangeAllocation, revision: Int64) {
        if let cache, cache.revision > revision { return }
        cache = (revision, allocation)
    }

    // MARK: - One change at a time

    private func enter() async {
        guard busy else {
            busy = true
            return
        }
        // `leave` hands `busy` over to the first waiter.
        await withCheckedContinuation { waiting.append($0) }
    }

    private func leave() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
