import APIMachinery
import KubeAPI
import Storage

/// Hands out Service cluster IPs from the service CIDR and node ports from their range,
/// never twice: it reads the addresses stored Services use and remembers recent grants that
/// may not be stored yet (Kubernetes keeps bitmaps in the store; a small cluster can afford
/// the scan).
actor ServiceAllocator {
    /// The service network, like k3s' default 10.43.0.0/16.
    let network: UInt32
    let prefixLength: Int
    let nodePorts: ClosedRange<Int64>
    private let storage: any Storage
    private let servicesPrefix: String
    /// Grants of the last minutes, keyed by value, so two concurrent creates differ.
    private var recentIPs: [UInt32: ContinuousClock.Instant] = [:]
    private var recentPorts: [Int64: ContinuousClock.Instant] = [:]

    init(storage: any Storage, serviceCIDR: String = "10.43.0.0/16", nodePorts: ClosedRange<Int64> = 30000...32767,
         servicesPrefix: String) throws {
        guard let (network, length) = IPv4Text.parseCIDR(serviceCIDR), length >= 8, length <= 30 else {
            throw StorageError.backend("invalid service CIDR \(serviceCIDR): expected an IPv4 network such as 10.43.0.0/16 with a prefix of 8 to 30 bits")
        }
        self.network = network
        self.prefixLength = length
        self.nodePorts = nodePorts
        self.storage = storage
        self.servicesPrefix = servicesPrefix
    }

    /// The first address of the range, which the `kubernetes` Service gets.
    nonisolated var firstAddress: String {
        IPv4Text.format(network + 1)
    }

    /// Whether `address` lies in the service network.
    nonisolated func contains(_ address: String) -> Bool {
        guard let value = IPv4Text.parseIPv4(address) else { return false }
        return value & mask == network
    }

    private nonisolated var mask: UInt32 {
        prefixLength == 0 ? 0 : ~UInt32(0) << (32 - UInt32(prefixLength))
    }

    /// A free cluster IP, or `requested` if it is free and in range.
    func allocateIP(requested: String?) async throws(APIError) -> String {
        let used = try await usedValues()
        expireGrants()
        if let requested {
            guard let value = IPv4Text.parseIPv4(requested), value & mask == network else {
                throw APIError.invalid(kind: "Service", group: "", name: "", errors: [
                    ValidationError(type: .invalid, field: "spec.clusterIPs", badValue: .string(requested),
                                    detail: "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(IPv4Text.format(network))/\(prefixLength)"),
                ])
            }
            guard !used.ips.contains(value), recentIPs[value] == nil else {
                throw APIError.invalid(kind: "Service", group: "", name: "", errors: [
                    ValidationError(type: .invalid, field: "spec.clusterIPs", badValue: .string(requested),
                                    detail: "failed to allocate IP \(requested): provided IP is already allocated"),
                ])
            }
            recentIPs[value] = .now
            return requested
        }
        let size = UInt32(1) << (32 - UInt32(prefixLength))
        // Skip the network address, the reserved first address and the broadcast address.
        let candidates = size - 3
        let start = UInt32.random(in: 0..<candidates)
        for offset in 0..<candidates {
            let value = network + 2 + (start + offset) % candidates
            if !used.ips.contains(value), recentIPs[value] == nil {
                recentIPs[value] = .now
                return IPv4Text.format(value)
            }
        }
        throw APIError.internalError("failed to allocate a service IP: the range \(IPv4Text.format(network))/\(prefixLength) is full")
    }

    /// A free node port, or `requested` if free and in range.
    func allocateNodePort(requested: Int64?) async throws(APIError) -> Int64 {
        let used = try await usedValues()
        expireGrants()
        if let requested {
            guard nodePorts.contains(requested) else {
                throw APIError.invalid(kind: "Service", group: "", name: "", errors: [
                    ValidationError(type: .invalid, field: "spec.ports[0].nodePort", badValue: .int(requested),
                                    detail: "provided port is not in the valid range. The range of valid ports is \(nodePorts.lowerBound)-\(nodePorts.upperBound)"),
                ])
            }
            guard !used.ports.contains(requested), recentPorts[requested] == nil else {
                throw APIError.invalid(kind: "Service", group: "", name: "", errors: [
                    ValidationError(type: .invalid, field: "spec.ports[0].nodePort", badValue: .int(requested),
                                    detail: "provided port is already allocated"),
                ])
            }
            recentPorts[requested] = .now
            return requested
        }
        let count = nodePorts.upperBound - nodePorts.lowerBound + 1
        let start = Int64.random(in: 0..<count)
        for offset in 0..<count {
            let port = nodePorts.lowerBound + (start + offset) % count
            if !used.ports.contains(port), recentPorts[port] == nil {
                recentPorts[port] = .now
                return port
            }
        }
        throw APIError.internalError("failed to allocate a node port: the range \(nodePorts.lowerBound)-\(nodePorts.upperBound) is full")
    }

    private func expireGrants() {
        let cutoff = ContinuousClock.now - .seconds(120)
        recentIPs = recentIPs.filter { $0.value > cutoff }
        recentPorts = recentPorts.filter { $0.value > cutoff }
    }

    private func usedValues() async throws(APIError) -> (ips: Set<UInt32>, ports: Set<Int64>) {
        let list: StorageList
        do {
            list = try await storage.list(prefix: servicesPrefix)
        } catch {
            throw APIError.internalError("reading services to allocate addresses: \(error)")
        }
        var ips: Set<UInt32> = []
        var ports: Set<Int64> = []
        for stored in list.objects {
            guard let service = try? JSONParser.parse(stored.value) else { continue }
            for ip in service["spec"]?["clusterIPs"]?.arrayValue ?? [] {
                if let value = ip.stringValue.flatMap(IPv4Text.parseIPv4) { ips.insert(value) }
            }
            if let value = service["spec"]?["clusterIP"]?.stringValue.flatMap(IPv4Text.parseIPv4) { ips.insert(value) }
            for port in service["spec"]?["ports"]?.arrayValue ?? [] {
                if let nodePort = port["nodePort"]?.intValue { ports.insert(nodePort) }
            }
        }
        return (ips, ports)
    }
}
