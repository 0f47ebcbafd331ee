import APIMachinery
import KubeAPI
import Storage

/// Hands out Service cluster IPs from the service CIDR and node ports from their range, never
/// the same one twice, as kube-apiserver's `ipallocator` and `portallocator` do. What is taken
/// lives in memory and is rebuilt from the stored Services before the first allocation and by
/// `repair`, which runs periodically like kube-apiserver's repair controllers
/// (pkg/registry/core/service/ipallocator/controller/repair.go,
/// portallocator/controller/repair.go): values the store uses but memory lacks are taken again,
/// values memory holds but no Service uses are released after three repairs in a row (so a
/// create still between allocation and its write is not robbed).
///
/// The Service strategy allocates before the write and releases when the write fails, when the
/// Service is deleted, or when an update drops a value (`ResourceStrategy.finish...`).
actor ServiceAllocator {
    /// The service network, like k3s' default 10.43.0.0/16.
    nonisolated let network: UInt32
    nonisolated let prefixLength: Int
    /// --service-node-port-range.
    nonisolated let nodePorts: ClosedRange<Int64>
    private let storage: any Storage
    private let servicesPrefix: String
    /// Offsets from the first host address (network + 1) up to the last before broadcast.
    private var ips: RangeAllocation
    /// Offsets from `nodePorts.lowerBound`.
    private var ports: RangeAllocation
    /// Bumped on every change, so a repair that read the store while allocations happened
    /// knows its view is stale (upstream compares the bitmap's resourceVersion).
    private var generation: UInt64 = 0
    /// Values held in memory but used by no stored Service: repairs left before release.
    private var ipLeaks: [Int: Int] = [:]
    private var portLeaks: [Int: Int] = [:]
    private var initialRepair: Task<Void, any Error>?

    /// Repairs in a row a leaked value survives (upstream's numRepairsBeforeLeakCleanup).
    static let repairsBeforeLeakCleanup = 3

    init(storage: any Storage, serviceCIDR: String = "10.43.0.0/16", nodePorts: ClosedRange<Int64> = 30000...32767,
         servicesPrefix: String) throws {
        guard let (network, length) = IPv4Text.parseCIDR(serviceCIDR) else {
            throw StorageError.backend("invalid service CIDR \(serviceCIDR): expected an IPv4 network such as 10.43.0.0/16")
        }
        // kube-apiserver refuses ranges over 2^20 addresses, and a /31 or /32 leaves none.
        guard length >= 12 else {
            throw StorageError.backend("the service CIDR \(serviceCIDR) is too large; for 32-bit addresses, the mask must be >= 12")
        }
        guard length <= 30 else {
            throw StorageError.backend("the service CIDR \(serviceCIDR) is too small: it needs a prefix of at most 30 bits")
        }
        guard nodePorts.lowerBound >= 1, nodePorts.upperBound <= 65535 else {
            throw StorageError.backend("invalid node port range \(nodePorts.lowerBound)-\(nodePorts.upperBound): ports are 1 to 65535")
        }
        self.network = network
        self.prefixLength = length
        self.nodePorts = nodePorts
        self.storage = storage
        self.servicesPrefix = servicesPrefix
        let cidrSize = 1 << (32 - length)
        ips = RangeAllocation(size: cidrSize - 2, staticBand: RangeAllocation.staticBand(size: cidrSize, minimum: 16, step: 16, maximum: 256))
        let portCount = Int(nodePorts.upperBound - nodePorts.lowerBound + 1)
        ports = RangeAllocation(size: portCount, staticBand: RangeAllocation.staticBand(size: portCount, minimum: 16, step: 32, maximum: 128))
    }

    /// `10.43.0.0/16`.
    nonisolated var cidr: String { "\(IPv4Text.format(network))/\(prefixLength)" }

    /// `30000-32767`.
    nonisolated var nodePortRange: String { "\(nodePorts.lowerBound)-\(nodePorts.upperBound)" }

    /// The first address of the range, which the `kubernetes` Service gets.
    nonisolated var firstAddress: String { IPv4Text.format(network + 1) }

    /// Whether `address` is a host address of the service network.
    nonisolated func contains(_ address: String) -> Bool {
        ipOffset(address) != nil
    }

    private nonisolated func ipOffset(_ address: String) -> Int? {
        guard let value = IPv4Text.parseIPv4(address), value > network else { return nil }
        let offset = Int(value - network) - 1
        let hosts = (1 << (32 - prefixLength)) - 2
        return offset < hosts ? offset : nil
    }

    // MARK: - Allocation

    /// Rebuilds the allocations from the store once, before the first allocation.
    func ensureRepaired() async throws(APIError) {
        let task: Task<Void, any Error>
        if let initialRepair {
            task = initialRepair
        } else {
            task = Task { _ = try await self.repair(initial: true) }
            initialRepair = task
        }
        do {
            try await task.value
        } catch {
            initialRepair = nil
            throw (error as? APIError) ?? .internalError("rebuilding the service allocations: \(error)")
        }
    }

    /// `requested`, if it is a free host address of the range, or a free one picked at random.
    /// A dry run checks without taking.
    func allocateIP(requested: String?, dryRun: Bool = false) throws(ServiceAllocationError) -> String {
        if let requested {
            guard let offset = ipOffset(requested) else { throw .ipNotInRange(ip: requested, range: cidr) }
            guard !ips.has(offset) else { throw .ipAllocated }
            if !dryRun { take(&ips, offset) }
            return requested
        }
        guard let offset = ips.next() else { throw .full }
        if !dryRun { take(&ips, offset) }
        return IPv4Text.format(network + 1 + UInt32(offset))
    }

    /// `requested`, if it is free and in range, or a free port picked at random.
    func allocateNodePort(requested: Int64?, dryRun: Bool = false) throws(ServiceAllocationError) -> Int64 {
        if let requested {
            guard nodePorts.contains(requested) else { throw .portNotInRange(range: nodePortRange) }
            let offset = Int(requested - nodePorts.lowerBound)
            guard !ports.has(offset) else { throw .portAllocated }
            if !dryRun { take(&ports, offset) }
            return requested
        }
        guard let offset = ports.next() else { throw .full }
        if !dryRun { take(&ports, offset) }
        return nodePorts.lowerBound + Int64(offset)
    }

    private func take(_ range: inout RangeAllocation, _ offset: Int) {
        range.allocate(offset)
        generation &+= 1
    }

    /// Frees addresses and ports (values outside the ranges are ignored).
    func release(ips addresses: [String], nodePorts released: [Int64]) {
        for address in addresses {
            if let offset = ipOffset(address) { ips.release(offset) }
        }
        for port in released where nodePorts.contains(port) {
            ports.release(Int(port - nodePorts.lowerBound))
        }
        generation &+= 1
    }

    /// Whether an address or port is taken (for tests and diagnostics).
    func isAllocated(ip address: String) -> Bool {
        ipOffset(address).map(ips.has) ?? false
    }

    func isAllocated(nodePort port: Int64) -> Bool {
        nodePorts.contains(port) && ports.has(Int(port - nodePorts.lowerBound))
    }

    /// How many addresses and ports are taken.
    var counts: (ips: Int, nodePorts: Int) { (ips.count, ports.count) }

    // MARK: - Repair

    /// Rebuilds what is taken from the stored Services and returns what looked wrong, in the
    /// words of upstream's repair controllers. A store read that raced with allocations is
    /// retried; after a few tries the repair only adds what the store uses (never frees).
    @discardableResult
    func repair() async throws(APIError) -> [String] {
        try await ensureRepaired()
        return try await repair(initial: false)
    }

    private func repair(initial: Bool) async throws(APIError) -> [String] {
        for attempt in 0..<5 {
            let start = generation
            let list: StorageList
            do {
                list = try await storage.list(prefix: servicesPrefix)
            } catch {
                throw APIError.internalError("reading the stored services to rebuild the service allocations: \(error)")
            }
            let services = list.objects.compactMap { stored -> KubeObject? in
                guard case .object(let fields)? = try? JSONParser.parse(stored.value) else { return nil }
                return KubeObject(fields: fields)
            }
            if initial || generation == start || attempt == 4 {
                return rebuild(from: services, freeLeaks: !initial && generation == start)
            }
        }
        return []
    }

    /// The new allocation state from `services`: every in-range value they use, plus values
    /// memory holds that they do not (leaks) until their third repair.
    private func rebuild(from services: [KubeObject], freeLeaks: Bool) -> [String] {
        var problems: [String] = []
        var rebuiltIPs = RangeAllocation(size: ips.size, staticBand: ips.staticBand)
        var rebuiltPorts = RangeAllocation(size: ports.size, staticBand: ports.staticBand)
        for service in services {
            let name = "\(service.namespace ?? "")/\(service.name ?? "")"
            for address in Self.clusterIPs(of: service) {
                guard let offset = ipOffset(address) else {
                    problems.append("Cluster IP [IPv4]:\(address) is not within the configured Service CIDR \(cidr); please recreate service \(name)")
                    continue
                }
                if !rebuiltIPs.allocate(offset) {
                    problems.append("Cluster IP [IPv4]:\(address) was assigned to multiple services; please recreate service \(name)")
                } else if !ips.has(offset) {
                    problems.append("Cluster IP [IPv4]:\(address) is not allocated; repairing (service \(name))")
                }
            }
            for port in Self.nodePorts(of: service) {
                guard nodePorts.contains(port) else {
                    problems.append("Port \(port) is not within the port range \(nodePortRange); please recreate service \(name)")
                    continue
                }
                let offset = Int(port - nodePorts.lowerBound)
                if !rebuiltPorts.allocate(offset) {
                    problems.append("Port \(port) was assigned to multiple services; please recreate service \(name)")
                } else if !ports.has(offset) {
                    problems.append("Port \(port) is not allocated; repairing (service \(name))")
                }
            }
        }
        ipLeaks = Self.carryLeaks(from: ips, into: &rebuiltIPs, leaks: ipLeaks, freeLeaks: freeLeaks)
        portLeaks = Self.carryLeaks(from: ports, into: &rebuiltPorts, leaks: portLeaks, freeLeaks: freeLeaks)
        ips = rebuiltIPs
        ports = rebuiltPorts
        generation &+= 1
        return problems
    }

    /// Keeps leaked values taken until they have been seen leaked `repairsBeforeLeakCleanup`
    /// times (always, when `freeLeaks` is false); returns the new leak counts.
    private static func carryLeaks(from old: RangeAllocation, into rebuilt: inout RangeAllocation, leaks: [Int: Int],
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
