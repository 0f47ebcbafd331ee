import APIMachinery
import KubeAPI
import Storage

/// The repair of the stored allocations, kube-apiserver's repair controllers
/// (pkg/registry/core/service/ipallocator/controller/repair.go and
/// portallocator/controller/repair.go, `runOnce` under `RetryOnConflict`).
extension ServiceAllocator {
    /// Full repairs of one range tried before falling back to only taking what Services use.
    static let repairAttempts = 5

    /// Rebuilds what is taken from the stored Services and returns what looked wrong, in the
    /// words of upstream's repair controllers.
    @discardableResult
    func repair() async throws(APIError) -> [String] {
        try await ensureRepaired()
        return try await repair(initial: false)
    }

    /// Both ranges. The first repair of a process frees nothing: a value no Service uses yet
    /// may be another server's allocation whose create is still on its way.
    func repair(initial: Bool) async throws(APIError) -> [String] {
        let clusterIPs = try await repair(.clusterIPs, initial: initial)
        return try await clusterIPs + repair(.nodePorts, initial: initial)
    }

    /// One range: the stored bitmap is read first, then the Services (upstream's order, so that
    /// a value allocated after the read makes the write conflict, and one allocated before it
    /// whose Service the list misses is seen as a leak and kept). The rebuilt bitmap is written
    /// only over the version read; when another write came first, everything is read again.
    private func repair(_ kind: Kind, initial: Bool) async throws(APIError) -> [String] {
        let stored = range(kind)
        var problems: [String] = []
        for _ in 0..<Self.repairAttempts {
            let snapshot: StoredRange.Snapshot
            do {
                snapshot = try await stored.read()
            } catch {
                throw APIError.internalError("reading \(stored.key) to repair the service allocations: \(error)")
            }
            let services = try await storedServices()
            // What to compare with and take leaks from: the stored bitmap; when it is gone or
            // unusable, the last one this server saw (fresh store: nothing).
            let previous: RangeAllocation?
            switch snapshot {
            case .valid(let allocation, _):
                previous = allocation
            case .missing:
                previous = await stored.lastKnown
            case .unusable(let reason, _):
                logger.warning("the stored allocations \(stored.key) cannot be used: \(reason); rebuilding them from the Services")
                previous = await stored.lastKnown
            }
            var rebuilt = stored.empty
            var isValid = false
            if case .valid = snapshot { isValid = true }
            problems = check(services, in: kind, rebuilding: &rebuilt, against: isValid ? previous : nil)
            let leaks = previous.map {
                Self.carryLeaks(from: $0, into: &rebuilt, leaks: self.leaks[kind] ?? [:], freeLeaks: !initial)
            } ?? [:]
            if case .valid(let current, _) = snapshot, current == rebuilt {
                self.leaks[kind] = leaks
                return problems
            }
            do {
                if try await stored.replace(snapshot, with: rebuilt) {
                    self.leaks[kind] = leaks
                    return problems
                }
            } catch {
                throw APIError.internalError("writing \(stored.key) to repair the service allocations: \(error)")
            }
        }
        // Allocations kept winning the race: take what the Services use, which is right at any
        // time, and free nothing this round.
        let used = try await storedServices().flatMap { values(of: $0, in: kind).compactMap { $0.offset } }
        do {
            try await stored.update(recover: recovery(kind)) { (allocation: inout RangeAllocation) throws(ServiceAllocationError) in
                for offset in used { allocation.allocate(offset) }
            }
        } catch {
            throw APIError.internalError("repairing \(stored.key): \(error)")
        }
        return problems
    }

    /// Takes into `rebuilt` every in-range value `services` use and returns what looked wrong:
    /// values out of range, used twice, or (compared with `stored`) not allocated.
    private func check(_ services: [KubeObject], in kind: Kind, rebuilding rebuilt: inout RangeAllocation,
                       against stored: RangeAllocation?) -> [String] {
        var problems: [String] = []
        let range = kind == .clusterIPs ? "the configured Service CIDR \(cidr)" : "the port range \(nodePortRange)"
        for service in services {
            let name = "\(service.namespace ?? "")/\(service.name ?? "")"
            for value in values(of: service, in: kind) {
                guard let offset = value.offset else {
                    problems.append("\(value.label) is not within \(range); please recreate service \(name)")
                    continue
                }
                if !rebuilt.allocate(offset) {
                    problems.append("\(value.label) was assigned to multiple services; please recreate service \(name)")
                } else if let stored, !stored.has(offset) {
                    problems.append("\(value.label) is not allocated; repairing (service \(name))")
                }
            }
        }
        return problems
    }

    /// Keeps leaked values taken until they have been seen leaked `repairsBeforeLeakCleanup`
    /// times (always, when `freeLeaks` is false); returns the new leak counts.
    static func carryLeaks(from old: RangeAllocation, into rebuilt: inout RangeAllocation, leaks: [Int: Int],
                           freeLeaks: Bool) -> [Int: Int] {
        var remaining: [Int: Int] = [:]
        for offset in old.taken where !rebuilt.has(offset) {
            let left = leaks[offset] ?? repairsBeforeLeakCleanup - 1
            if left > 0 || !freeLeaks {
                rebuilt.allocate(offset)
                remaining[offset] = freeLeaks ? left - 1 : left
            }
        }
        return remaining
    }

    // MARK: - Recovery

    /// What rebuilds `kind`'s stored object when an allocation or release finds it missing or
    /// unusable.
    nonisolated func recovery(_ kind: Kind) -> @Sendable (String) async throws -> RangeAllocation {
        { reason in try await self.recovered(kind, reason: reason) }
    }

    /// The values the stored Services use, plus those of the last version this server read
    /// (which may hold allocations whose Services are not written yet; the repair frees them
    /// if no Service comes).
    private func recovered(_ kind: Kind, reason: String) async throws -> RangeAllocation {
        logger.warning("\(reason); rebuilding them from the Services")
        let stored = range(kind)
        var allocation = await stored.lastKnown ?? stored.empty
        for service in try await storedServices() {
            for value in values(of: service, in: kind) {
                if let offset = value.offset { allocation.allocate(offset) }
            }
        }
        return allocation
    }

    // MARK: - Services

    private func storedServices() async throws(APIError) -> [KubeObject] {
        let list: StorageList
        do {
            list = try await storage.list(prefix: servicesPrefix)
        } catch {
            throw APIError.internalError("reading the stored services to rebuild the service allocations: \(error)")
        }
        return list.objects.compactMap { try? KubeObject(json: $0.value) }
    }

    /// The values `service` holds in `kind`'s range: how repair messages name each, and its
    /// offset (nil when outside the range).
    nonisolated func values(of service: KubeObject, in kind: Kind) -> [(label: String, offset: Int?)] {
        switch kind {
        case .clusterIPs: return Self.clusterIPs(of: service).map { ("Cluster IP [IPv4]:\($0)", ipOffset($0)) }
        case .nodePorts: return Self.nodePorts(of: service).map { ("Port \($0)", portOffset($0)) }
        }
    }

    /// The IPv4 cluster addresses a Service holds (`clusterIPs` and `clusterIP`, not "None").
    static func clusterIPs(of service: KubeObject) -> [String] {
        var addresses = (service.value(at: ["spec", "clusterIPs"])?.arrayValue ?? []).compactMap(\.stringValue)
        if let single = service.string(at: ["spec", "clusterIP"]), !addresses.contains(single) { addresses.append(single) }
        return addresses.filter { !$0.isEmpty && $0 != "None" && IPv4Text.parseIPv4($0) != nil }
    }

    /// The node ports a Service holds: its ports' `nodePort`s (a number shared by two ports of
    /// the same service counts once) and `healthCheckNodePort`.
    static func nodePorts(of service: KubeObject) -> [Int64] {
        var ports: [Int64] = []
        for port in service.value(at: ["spec", "ports"])?.arrayValue ?? [] {
            if let number = port["nodePort"]?.intValue, number != 0, !ports.contains(number) { ports.append(number) }
        }
        if let health = service.value(at: ["spec", "healthCheckNodePort"])?.intValue, health != 0, !ports.contains(health) {
            ports.append(health)
        }
        return ports
    }
}
