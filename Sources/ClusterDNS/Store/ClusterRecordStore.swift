import Glibc
import KubeAPI
import Synchronization

/// The cluster zone's records, kept from Services, EndpointSlices and Namespaces as the
/// agent's informers deliver them. Each change recomputes only the names of the service it
/// touches and publishes a new `ZoneSnapshot` that shares every untouched shard with the
/// previous one; the serving threads read the current snapshot without waiting for writers
/// (the snapshot lock only guards a pointer swap).
public final class ClusterRecordStore: Sendable {
    public let zone: DNSName
    public let ttl: UInt32
    private let current: Mutex<ZoneSnapshot>
    private let state: Mutex<State>

    /// Who gave records to a name: a service, a namespace, or the zone itself.
    enum Contributor: Hashable {
        case service(ServiceKey)
        case namespace(String)
        case zone
    }

    struct State {
        var services: [ServiceKey: Service] = [:]
        var slices: [ServiceKey: EndpointSlice] = [:]  // keyed by the slice's own namespace/name
        var slicesByService: [ServiceKey: Set<ServiceKey>] = [:]
        var sliceOwner: [ServiceKey: ServiceKey] = [:]
        var namespaces: Set<String> = []
        var servicesPerNamespace: [String: Int] = [:]
        var contributions: [Contributor: [[UInt8]: NameRecords]] = [:]
        var contributors: [[UInt8]: Set<Contributor>] = [:]
        var table = NameTable()
        var synced = false
    }

    /// The version of the Kubernetes DNS specification served in `dns-version.<zone>`. CoreDNS
    /// 1.11+ answers 1.1.0, which adds AAAA and ip6.arpa PTR records to 1.0.1; we serve both.
    public static let schemaVersion = "1.1.0"

    /// - Parameters:
    ///   - zone: the cluster domain (kubelet's `--cluster-domain`, default cluster.local).
    ///   - ttl: the TTL of every record (CoreDNS kubernetes plugin default: 5 s).
    ///   - nameserverAddresses: addresses `ns.dns.<zone>` answers (the kube-dns Service IP),
    ///     as CoreDNS answers its own service's addresses for that name.
    public init(zone: String = "cluster.local", ttl: UInt32 = 5, nameserverAddresses: [String] = []) throws {
        let name = try DNSName(zone).lowercased()
        guard name.labelCount > 0 else { throw DNSWireError(.invalidName, at: 0, "the cluster domain cannot be the root") }
        self.zone = name
        self.ttl = ttl
        var state = State()
        var zoneRecords: [[UInt8]: NameRecords] = [:]
        zoneRecords[name.wire] = NameRecords(apex: true, ttl: ttl)
        zoneRecords[try name.prepending("svc").wire] = NameRecords(exists: true, ttl: ttl)
        zoneRecords[try name.prepending("pod").wire] = NameRecords(exists: true, ttl: ttl)
        // CoreDNS serves the schema TXT with an 8-hour TTL.
        zoneRecords[try name.prepending("dns-version").wire] =
            NameRecords(txt: [Array(Self.schemaVersion.utf8)], ttl: 28800)
        var nsRecords = NameRecords(ttl: ttl)
        for text in nameserverAddresses {
            guard let address = IPAddressText.parse(text) else {
                throw DNSWireError(.invalidName, at: 0, "nameserver address \"\(text)\" is not an IP address")
            }
            if address.count == 4 { nsRecords.a.append(address) } else { nsRecords.aaaa.append(address) }
        }
        if !nsRecords.isEmpty { zoneRecords[try name.prepending("dns").prepending("ns").wire] = nsRecords }
        Self.replaceContribution(.zone, with: zoneRecords, in: &state)
        current = Mutex(ZoneSnapshot(zone: name.wire, ttl: ttl, serial: Self.now(), table: state.table, synced: false))
        self.state = Mutex(state)
    }

    /// The snapshot to answer from.
    public var snapshot: ZoneSnapshot { current.withLock { $0 } }

    /// Adds or replaces a Service.
    public func apply(_ service: Service) {
        update { state in
            let key = service.dnsKey
            let isNew = state.services[key] == nil
            state.services[key] = service
            if isNew { Self.countService(in: key.namespace, by: 1, &state) }
            Self.recompute(key, &state, zone: zone, ttl: ttl)
        }
    }

    public func deleteService(namespace: String, name: String) {
        update { state in
            let key = ServiceKey(namespace: namespace, name: name)
            guard state.services.removeValue(forKey: key) != nil else { return }
            Self.countService(in: namespace, by: -1, &state)
            Self.recompute(key, &state, zone: zone, ttl: ttl)
        }
    }

    /// Adds or replaces an EndpointSlice (its Service is the `kubernetes.io/service-name` label).
    public func apply(_ slice: EndpointSlice) {
        update { state in
            let key = ServiceKey(namespace: slice.metadata.namespace ?? "default", name: slice.metadata.name ?? "")
            state.slices[key] = slice
            let owner = slice.serviceName.map { ServiceKey(namespace: key.namespace, name: $0) }
            let previous = state.sliceOwner[key]
            if let previous, previous != owner { state.slicesByService[previous]?.remove(key) }
            if let owner {
                state.slicesByService[owner, default: []].insert(key)
                state.sliceOwner[key] = owner
            } else {
                state.sliceOwner[key] = nil
            }
            if let previous, previous != owner { Self.recompute(previous, &state, zone: zone, ttl: ttl) }
            if let owner { Self.recompute(owner, &state, zone: zone, ttl: ttl) }
        }
    }

    public func deleteEndpointSlice(namespace: String, name: String) {
        update { state in
            let key = ServiceKey(namespace: namespace, name: name)
            guard state.slices.removeValue(forKey: key) != nil else { return }
            if let owner = state.sliceOwner.removeValue(forKey: key) {
                state.slicesByService[owner]?.remove(key)
                if state.slicesByService[owner]?.isEmpty == true { state.slicesByService[owner] = nil }
                Self.recompute(owner, &state, zone: zone, ttl: ttl)
            }
        }
    }

    /// Namespaces exist in DNS (`<ns>.svc.<zone>` and `<ns>.pod.<zone>` answer NODATA, pod
    /// names in them resolve) when added here or while they hold a service. CoreDNS reads the
    /// Namespace objects themselves; a caller without a namespace informer can rely on services.
    public func addNamespace(_ name: String) {
        update { state in
            guard state.namespaces.insert(name).inserted else { return }
            Self.refreshNamespace(name, &state, zone: zone, ttl: ttl)
        }
    }

    public func deleteNamespace(_ name: String) {
        update { state in
            guard state.namespaces.remove(name) != nil else { return }
            Self.refreshNamespace(name, &state, zone: zone, ttl: ttl)
        }
    }

    /// Replaces everything with a full list (an informer's initial list or a relist) and marks
    /// the zone synced. Names whose records did not change keep their nodes.
    public func replace(services: [Service], endpointSlices: [EndpointSlice], namespaces: [String]? = nil) {
        update { state in
            let oldServices = Set(state.services.keys)
            state.services = [:]
            state.slices = [:]
            state.slicesByService = [:]
            state.sliceOwner = [:]
            state.servicesPerNamespace = [:]
            let oldNamespaces = Set(state.contributions.keys.compactMap { c -> String? in
                if case .namespace(let n) = c { return n } else { return nil }
            })
            if let namespaces { state.namespaces = Set(namespaces) }
            for service in services {
                let key = service.dnsKey
                if state.services[key] == nil { state.servicesPerNamespace[key.namespace, default: 0] += 1 }
                state.services[key] = service
            }
            for slice in endpointSlices {
                let key = ServiceKey(namespace: slice.metadata.namespace ?? "default", name: slice.metadata.name ?? "")
                state.slices[key] = slice
                if let owner = slice.serviceName.map({ ServiceKey(namespace: key.namespace, name: $0) }) {
                    state.slicesByService[owner, default: []].insert(key)
                    state.sliceOwner[key] = owner
                }
            }
            for key in oldServices.union(state.services.keys) { Self.recompute(key, &state, zone: zone, ttl: ttl) }
            let allNamespaces = oldNamespaces.union(state.namespaces).union(state.servicesPerNamespace.keys)
            for namespace in allNamespaces { Self.refreshNamespace(namespace, &state, zone: zone, ttl: ttl) }
            state.synced = true
        }
    }

    /// Marks the zone synced without a full list (an informer that delivered its list as adds).
    public func markSynced() {
        update { $0.synced = true }
    }

    // MARK: - Writer side

    private func update(_ change: (inout State) -> Void) {
        state.withLock { state in
            change(&state)
            let snapshot = ZoneSnapshot(zone: zone.wire, ttl: ttl, serial: Self.now(), table: state.table,
                                        synced: state.synced)
            current.withLock { $0 = snapshot }
        }
    }

    private static func now() -> UInt32 { UInt32(truncatingIfNeeded: time(nil)) }

    private static func countService(in namespace: String, by delta: Int, _ state: inout State) {
        let count = (state.servicesPerNamespace[namespace] ?? 0) + delta
        state.servicesPerNamespace[namespace] = count > 0 ? count : nil
    }

    private static func recompute(_ key: ServiceKey, _ state: inout State, zone: DNSName, ttl: UInt32) {
        var records: [[UInt8]: NameRecords] = [:]
        if let service = state.services[key] {
            let slices = (state.slicesByService[key] ?? []).compactMap { state.slices[$0] }
                .sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
            records = service.dnsRecords(slices: slices, zone: zone, ttl: ttl)
        }
        replaceContribution(.service(key), with: records, in: &state)
        refreshNamespace(key.namespace, &state, zone: zone, ttl: ttl)
    }

    private static func refreshNamespace(_ namespace: String, _ state: inout State, zone: DNSName, ttl: UInt32) {
        var records: [[UInt8]: NameRecords] = [:]
        if state.namespaces.contains(namespace) || state.servicesPerNamespace[namespace] != nil {
            for kind in ["svc", "pod"] {
                if let name = try? zone.prepending(kind).prepending(namespace).lowercased() {
                    records[name.wire] = NameRecords(exists: true, ttl: ttl)
                }
            }
        }
        replaceContribution(.namespace(namespace), with: records, in: &state)
    }

    /// Swaps one contributor's records and republishes the names whose merged records changed.
    private static func replaceContribution(_ contributor: Contributor, with records: [[UInt8]: NameRecords],
                                            in state: inout State) {
        let old = state.contributions[contributor] ?? [:]
        guard old != records else { return }
        state.contributions[contributor] = records.isEmpty ? nil : records
        var changed: [[UInt8]: ZoneNode?] = [:]
        for name in Set(old.keys).union(records.keys) where old[name] != records[name] {
            if records[name] != nil {
                state.contributors[name, default: []].insert(contributor)
            } else {
                state.contributors[name]?.remove(contributor)
            }
            var merged = NameRecords()
            var first = true
            for other in state.contributors[name] ?? [] {
                guard let part = state.contributions[other]?[name] else { continue }
                if first {
                    merged = part
                    first = false
                } else {
                    merged.merge(part)
                }
            }
            if first || merged.isEmpty {
                state.contributors[name] = nil
                changed[name] = .some(nil)
            } else {
                changed[name] = .some(ZoneNode(name: name, records: merged))
            }
        }
        state.table = state.table.updating(changed)
    }
}
