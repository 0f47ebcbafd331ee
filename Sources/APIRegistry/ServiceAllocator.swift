import APIMachinery
import KubeAPI
import Logging
import Storage

/// Hands out Service cluster IPs from the service CIDR and node ports from their range, never
/// the same one twice, also when several API servers share one datastore, as kube-apiserver's
/// `ipallocator` and `portallocator` do: what is taken lives in the store as two bitmaps,
/// `/registry/ranges/serviceips` and `/registry/ranges/servicenodeports` (upstream's
/// `/ranges/serviceips` and `/ranges/servicenodeports`, pkg/registry/core/rest/storage_core.go),
/// and every allocation and release is a compare-and-swap of one of them (`StoredRange`).
///
/// `repair` rebuilds both from the stored Services before the first allocation and then
/// periodically, like kube-apiserver's repair controllers
/// (pkg/registry/core/service/ipallocator/controller/repair.go,
/// portallocator/controller/repair.go): values Services use but the bitmap lacks are taken,
/// values it holds but no Service uses are released after three repairs in a row (so a create
/// still between allocation and its write, on this server or another, is not robbed).
///
/// The Service strategy allocates before the write and releases when the write fails, when the
/// Service is deleted, or when an update drops a value (`ResourceStrategy.finish...`).
actor ServiceAllocator {
    /// The two ranges.
    enum Kind: Sendable, Hashable {
        case clusterIPs, nodePorts
    }

    /// Where the allocations are stored. No resource's keys start with `/registry/ranges/`
    /// (core resources are `/registry/<resource>/`, others `/registry/<group.with.dots>/...`),
    /// so the API never lists, watches or serves them.
    static let clusterIPsKey = "/registry/ranges/serviceips"
    static let nodePortsKey = "/registry/ranges/servicenodeports"

    /// The service network, like k3s' default 10.43.0.0/16.
    nonisolated let network: UInt32
    nonisolated let prefixLength: Int
    /// --service-node-port-range.
    nonisolated let nodePorts: ClosedRange<Int64>
    let storage: any Storage
    let servicesPrefix: String
    let logger: Logger
    /// Offsets from the first host address (network + 1) up to the last before broadcast.
    nonisolated let ips: StoredRange
    /// Offsets from `nodePorts.lowerBound`.
    nonisolated let ports: StoredRange
    /// Per range, values taken but used by no stored Service: repairs left before release.
    var leaks: [Kind: [Int: Int]] = [:]
    private var initialRepair: Task<Void, any Error>?

    /// Repairs in a row a leaked value survives (upstream's numRepairsBeforeLeakCleanup).
    static let repairsBeforeLeakCleanup = 3

    init(storage: any Storage, serviceCIDR: String = "10.43.0.0/16", nodePorts: ClosedRange<Int64> = 30000...32767,
         servicesPrefix: String, logger: Logger = Logger(label: "swiftlet.service-allocator")) throws {
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
        self.logger = logger
        let cidrSize = 1 << (32 - length)
        let portCount = Int(nodePorts.upperBound - nodePorts.lowerBound + 1)
        // The ranges as upstream names them in the stored object: the CIDR (`net.IPNet.String`)
        // and "base-last" (`net.PortRange.String`).
        ips = StoredRange(key: Self.clusterIPsKey, range: "\(IPv4Text.format(network))/\(length)",
                          empty: RangeAllocation(size: cidrSize - 2,
                                                 staticBand: RangeAllocation.staticBand(size: cidrSize, minimum: 16, step: 16, maximum: 256)),
                          storage: storage)
        ports = StoredRange(key: Self.nodePortsKey, range: "\(nodePorts.lowerBound)-\(nodePorts.upperBound)",
                            empty: RangeAllocation(size: portCount,
                                                   staticBand: RangeAllocation.staticBand(size: portCount, minimum: 16, step: 32, maximum: 128)),
                            storage: storage)
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

    nonisolated func ipOffset(_ address: String) -> Int? {
        guard let value = IPv4Text.parseIPv4(address), value > network else { return nil }
        let offset = Int(value - network) - 1
        let hosts = (1 << (32 - prefixLength)) - 2
        return offset < hosts ? offset : nil
    }

    nonisolated func portOffset(_ port: Int64) -> Int? {
        nodePorts.contains(port) ? Int(port - nodePorts.lowerBound) : nil
    }

    nonisolated func range(_ kind: Kind) -> StoredRange {
        switch kind {
        case .clusterIPs: return ips
        case .nodePorts: return ports
        }
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
    func allocateIP(requested: String?, dryRun: Bool = false) async throws(ServiceAllocationError) -> String {
        if let requested {
            guard let offset = ipOffset(requested) else { throw .ipNotInRange(ip: requested, range: cidr) }
            try await ips.update(dryRun: dryRun, recover: recovery(.clusterIPs)) {
                (allocation: inout RangeAllocation) throws(ServiceAllocationError) in
                guard allocation.allocate(offset) else { throw .ipAllocated }
            }
            return requested
        }
        let offset = try await ips.update(dryRun: dryRun, recover: recovery(.clusterIPs)) {
            (allocation: inout RangeAllocation) throws(ServiceAllocationError) -> Int in
            guard let offset = allocation.next() else { throw .full }
            allocation.allocate(offset)
            return offset
        }
        return IPv4Text.format(network + 1 + UInt32(offset))
    }

    /// `requested`, if it is free and in range, or a free port picked at random.
    func allocateNodePort(requested: Int64?, dryRun: Bool = false) async throws(ServiceAllocationError) -> Int64 {
        if let requested {
            guard let offset = portOffset(requested) else { throw .portNotInRange(range: nodePortRange) }
            try await ports.update(dryRun: dryRun, recover: recovery(.nodePorts)) {
                (allocation: inout RangeAllocation) throws(ServiceAllocationError) in
                guard allocation.allocate(offset) else { throw .portAllocated }
            }
            return requested
        }
        let offset = try await ports.update(dryRun: dryRun, recover: recovery(.nodePorts)) {
            (allocation: inout RangeAllocation) throws(ServiceAllocationError) -> Int in
            guard let offset = allocation.next() else { throw .full }
            allocation.allocate(offset)
            return offset
        }
        return nodePorts.lowerBound + Int64(offset)
    }

    /// Frees addresses and ports (values outside the ranges are ignored). A release the store
    /// refuses is logged and left to the repair, which frees what no Service uses.
    func release(ips addresses: [String], nodePorts released: [Int64]) async {
        await release(addresses.compactMap(ipOffset), of: .clusterIPs, named: addresses)
        await release(released.compactMap(portOffset), of: .nodePorts, named: released.map(String.init))
    }

    private func release(_ offsets: [Int], of kind: Kind, named names: [String]) async {
        guard !offsets.isEmpty else { return }
        do {
            try await range(kind).update(recover: recovery(kind)) { (allocation: inout RangeAllocation) throws(ServiceAllocationError) in
                for offset in offsets { allocation.release(offset) }
            }
        } catch {
            logger.warning("releasing \(names.joined(separator: ", ")) failed (\(error)); the service allocation repair frees them later")
        }
    }

    /// What `kind`'s stored object holds now (nothing while it is missing or unusable).
    func stored(_ kind: Kind) async throws -> RangeAllocation {
        if case .valid(let allocation, _) = try await range(kind).read() { return allocation }
        return range(kind).empty
    }

    /// Whether an address or port is taken (for tests and diagnostics).
    func isAllocated(ip address: String) async throws -> Bool {
        guard let offset = ipOffset(address) else { return false }
        return try await stored(.clusterIPs).has(offset)
    }

    func isAllocated(nodePort port: Int64) async throws -> Bool {
        guard let offset = portOffset(port) else { return false }
        return try await stored(.nodePorts).has(offset)
    }

    /// How many addresses and ports are taken.
    var counts: (ips: Int, nodePorts: Int) {
        get async throws { (try await stored(.clusterIPs).count, try await stored(.nodePorts).count) }
    }
}
