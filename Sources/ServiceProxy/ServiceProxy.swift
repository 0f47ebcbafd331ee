import KubeAPI
import Logging
import NodeNetwork

/// The agent's service proxy: kube-proxy's nftables mode for one node. It keeps one table of
/// its own, `ip swiftlet-proxy`: verdict maps keyed on address · protocol · port send each
/// ClusterIP and node port to a chain per service port, which picks an endpoint chain with
/// `numgen random`, which DNATs (pkg/proxy/nftables in kubernetes/kubernetes is the model).
///
/// Use it like kube-proxy's Proxier: feed it the Services and EndpointSlices the agent watches
/// (`replaceAll` with the first list, then `update`/`delete` per watch event: these only
/// record the change), and let `run()` program the changes, or call `sync()` yourself.
///
/// ```swift
/// let proxy = try ServiceProxy(config: ServiceProxyConfig(nodeName: "node-1",
///     nodeAddresses: [IPv4Address("192.168.1.11")!], clusterCIDR: IPv4Subnet("10.42.0.0/16")!,
///     serviceCIDR: IPv4Subnet("10.43.0.0/16")!))
/// await proxy.replaceAll(services: services, slices: slices)   // from the informers' lists
/// try await proxy.sync()                                          // or: await proxy.run()
/// await proxy.update(slice: changedSlice)                         // on each watch event
/// ```
///
/// A sync changes only the services whose objects changed since the last one, in one nf_tables
/// transaction; the first sync of an instance (and any after a failure) rewrites everything, also
/// in one transaction, without emptying the table first, so a restarted agent never opens a
/// window without rules. Objects with impossible values are refused with a logged reason
/// (`rejections()`), and whatever was programmed for them before stays as it was.
public actor ServiceProxy {
    public let config: ServiceProxyConfig
    let logger: Logger
    let worker: NetfilterWorker
    /// Where node ports answer (`config.nodeAddresses` until `setNodeAddresses`).
    var nodeAddresses: [IPv4Address]

    // What the API says (valid objects only).
    var services: [ServiceName: ServiceInfo] = [:]
    var slices: [SliceName: SliceInfo] = [:]
    var slicesByService: [ServiceName: Set<SliceName>] = [:]
    var rejected: [String: String] = [:]

    // What the kernel has.
    var programs: [ServiceName: ServiceProgram] = [:]
    var claims: [ElementKey: ServiceName] = [:]
    var retiredChains: [TableObject: ContinuousClock.Instant] = [:]

    var dirty: Set<ServiceName> = []
    /// Services refused because another service holds their address or node port; retried
    /// whenever a program releases keys.
    var conflicted: Set<ServiceName> = []
    var needFullSync = true
    var initialized = false
    var syncing = false
    var syncWaiters: [CheckedContinuation<Void, Never>] = []
    var wakeup: AsyncStream<Void>.Continuation?
    let clock = ContinuousClock()

    /// Opens the netlink socket and libnftables context in the node's namespace. Nothing is
    /// written until the first sync after `replaceAll`.
    public init(config: ServiceProxyConfig, logger: Logger = Logger(label: "swiftlet.service-proxy")) throws {
        try config.validate()
        self.config = config
        self.logger = logger
        self.nodeAddresses = config.nodeAddresses
        self.worker = try NetfilterWorker(netns: config.netns)
    }

    // MARK: Inputs (kube-proxy's ServiceChangeTracker and EndpointsChangeTracker)

    /// Records a Service added or changed.
    public func update(service: Service) {
        let serviceName: ServiceName
        switch ServiceValidation.name(of: service) {
        case .success(let name): serviceName = name
        case .failure(let failure):
            reject("Service \(rawName(service.metadata))", failure.reason)
            return
        }
        switch ServiceValidation.validate(service, as: serviceName, serviceCIDR: config.serviceCIDR) {
        case .proxied(let info):
            accept("Service \(serviceName)")
            if services[serviceName] != info {
                services[serviceName] = info
                markDirty(serviceName)
            }
        case .ignored(let reason):
            accept("Service \(serviceName)")
            logger.debug("service not proxied", metadata: ["service": "\(serviceName)", "reason": "\(reason)"])
            if services.removeValue(forKey: serviceName) != nil { markDirty(serviceName) }
        case .rejected(let reason):
            reject("Service \(serviceName)", reason)
        }
    }

    /// Records a Service deleted.
    public func delete(service name: ServiceName) {
        accept("Service \(name)")
        if services.removeValue(forKey: name) != nil || programs[name] != nil { markDirty(name) }
    }

    /// Records an EndpointSlice added or changed.
    public func update(slice: EndpointSlice) {
        let sliceName: SliceName
        switch SliceValidation.name(of: slice) {
        case .success(let name): sliceName = name
        case .failure(let failure):
            reject("EndpointSlice \(rawName(slice.metadata))", failure.reason)
            return
        }
        switch SliceValidation.validate(slice, as: sliceName, serviceCIDR: config.serviceCIDR) {
        case .accepted(let info):
            accept("EndpointSlice \(sliceName)")
            guard slices[sliceName] != info else { return }
            removeSlice(sliceName)
            slices[sliceName] = info
            slicesByService[info.service, default: []].insert(sliceName)
            markDirty(info.service)
        case .ignored(let reason):
            accept("EndpointSlice \(sliceName)")
            logger.debug("endpoint slice not used", metadata: ["slice": "\(sliceName)", "reason": "\(reason)"])
            removeSlice(sliceName)
        case .rejected(let reason):
            reject("EndpointSlice \(sliceName)", reason)
        }
    }

    /// Records an EndpointSlice deleted.
    public func delete(slice name: SliceName) {
        accept("EndpointSlice \(name)")
        removeSlice(name)
    }

    /// Replaces everything with a full list (the informers' first list, or a relist): objects
    /// not in it are deleted. Until this is called, syncs write nothing, so a restarted agent
    /// never programs a partial picture (kube-proxy waits for both informers the same way).
    public func replaceAll(services newServices: [Service], slices newSlices: [EndpointSlice]) {
        let keepServices = Set(newServices.compactMap { try? ServiceValidation.name(of: $0).get() })
        let keepSlices = Set(newSlices.compactMap { try? SliceValidation.name(of: $0).get() })
        for name in services.keys where !keepServices.contains(name) { delete(service: name) }
        for name in programs.keys where !keepServices.contains(name) { markDirty(name) }
        for name in slices.keys where !keepSlices.contains(name) { delete(slice: name) }
        rejected = rejected.filter { key, _ in
            // Refusals of objects no longer listed are forgotten; the new list re-checks the rest.
            !key.hasPrefix("Service ") && !key.hasPrefix("EndpointSlice ")
        }
        for service in newServices { update(service: service) }
        for slice in newSlices { update(slice: slice) }
        initialized = true
        wake()
    }

    /// Objects refused, with why: `["Service default/web": "spec.ports[0].port 0: must be ..."]`.
    public func rejections() -> [String: String] { rejected }

    /// The services currently programmed.
    public func programmedServices() -> [ServiceName] { programs.keys.sorted() }

    // MARK: Bookkeeping

    func markDirty(_ name: ServiceName) {
        dirty.insert(name)
        wake()
    }

    func wake() { wakeup?.yield() }

    private func removeSlice(_ name: SliceName) {
        guard let old = slices.removeValue(forKey: name) else { return }
        slicesByService[old.service]?.remove(name)
        if slicesByService[old.service]?.isEmpty == true { slicesByService[old.service] = nil }
        markDirty(old.service)
    }

    /// The shard table a service's chains live in.
    func shardTable(of service: ServiceName) -> String {
        ProxyTable.shardName(config.table, ProxyTable.shard(of: service, shards: config.shards))
    }

    /// Every table this configuration uses: the main one and the shards.
    var tables: [String] { [config.table] + (0..<config.shards).map { ProxyTable.shardName(config.table, $0) } }

    func slices(of service: ServiceName) -> [SliceInfo] {
        (slicesByService[service] ?? []).sorted { $0.name < $1.name }.compactMap { slices[$0] }
    }

    private func accept(_ object: String) { rejected[object] = nil }

    func reject(_ object: String, _ reason: String) {
        if rejected[object] != reason {
            logger.warning("refused", metadata: ["object": "\(object)", "reason": "\(reason)"])
        }
        rejected[object] = reason
    }

    private func rawName(_ metadata: ObjectMeta) -> String {
        "\(ServiceValidation.quoted(metadata.namespace ?? ""))/\(ServiceValidation.quoted(metadata.name ?? ""))"
    }
}
