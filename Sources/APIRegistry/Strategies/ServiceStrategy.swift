import APIMachinery
import KubeAPI

/// Services, as kube-apiserver's service registry handles them
/// (pkg/registry/core/service/storage/storage.go and strategy.go): decoded strictly into
/// `KubeAPI.Service`, defaulted (`SetDefaults_Service`), cluster IP and node ports allocated
/// (`ServiceAllocationOperation`), then validated (`ServiceValidation`), in that order, so an
/// invalid Service gives back what it took and a taken or out-of-range value is reported
/// before anything else. Allocations are released when the write fails, when an update
/// drops them, and when the Service is deleted.
struct ServiceStrategy: ResourceStrategy {
    var returnsDeletedObject: Bool { true }
    /// Metadata errors are reported with the spec's, in one Invalid error, as upstream does.
    var validatesMetadata: Bool { true }

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var (service, warnings) = try TypedCodec.decode(Service.self, from: object.json, kind: "Service", version: "v1",
                                                       validation: context.fieldValidation)
        ServiceRules.applyDefaults(&service.spec)
        ServiceRules.normalizeClusterIPs(&service.spec, old: nil)
        try await context.services.ensureRepaired()
        var operation = ServiceAllocationOperation(allocator: context.services, dryRun: context.dryRun, name: service.metadata.name ?? "")
        try operation.initIPFamilyFields(&service.spec, old: nil)
        do throws(APIError) {
            try await operation.allocateClusterIP(&service.spec)
            try await operation.allocateNodePorts(&service.spec)
            try await operation.allocateHealthCheckNodePort(&service.spec, old: nil)
            Self.dropEmptyValues(&service.spec)
            let errors = Self.metadataErrors(service) + ServiceValidation.validate(service.spec)
            guard errors.isEmpty else {
                throw APIError.invalid(kind: "Service", group: "", name: service.metadata.name ?? "", errors: errors)
            }
            object = KubeObject(fields: try TypedCodec.encode(service).objectValue ?? [:])
            // `PrepareForCreate`: whatever status the client sent is dropped.
            object.fields["status"] = .object(["loadBalancer": .object([:])])
        } catch {
            await operation.revert()
            throw error
        }
        return warnings
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        var (service, warnings) = try TypedCodec.decode(Service.self, from: object.json, kind: "Service", version: "v1",
                                                       validation: context.fieldValidation)
        let (oldService, _) = try TypedCodec.decode(Service.self, from: old.json, kind: "Service", version: "v1", validation: .ignore)
        let oldSpec = oldService.spec
        ServiceRules.applyDefaults(&service.spec)
        ServiceRules.patchAllocatedValues(&service.spec, old: oldSpec)
        ServiceRules.normalizeClusterIPs(&service.spec, old: oldSpec)
        ServiceRules.dropTypeDependentFields(&service.spec, old: oldSpec)
        try await context.services.ensureRepaired()
        var operation = ServiceAllocationOperation(allocator: context.services, dryRun: context.dryRun, name: service.metadata.name ?? "")
        try operation.initIPFamilyFields(&service.spec, old: oldSpec)
        do throws(APIError) {
            // From ExternalName to a type with a virtual address: allocate one now. Otherwise
            // the addresses are immutable, which validation checks.
            if !ServiceRules.needsClusterIP(oldSpec) {
                try await operation.allocateClusterIP(&service.spec)
            }
            try await operation.updateNodePorts(&service.spec, old: oldSpec)
            try await operation.allocateHealthCheckNodePort(&service.spec, old: oldSpec)
            Self.dropEmptyValues(&service.spec)
            let errors = Self.metadataErrors(service) + ServiceValidation.validateUpdate(service.spec, old: oldSpec)
                + ServiceValidation.validate(service.spec)
            guard errors.isEmpty else {
                throw APIError.invalid(kind: "Service", group: "", name: service.metadata.name ?? "", errors: errors)
            }
            object = KubeObject(fields: try TypedCodec.encode(service).objectValue ?? [:])
            // The main resource never changes the status (that is services/status).
            object.fields["status"] = old.fields["status"]
        } catch {
            await operation.revert()
            throw error
        }
        return warnings
    }

    func finishCreate(_ object: KubeObject, stored: Bool, context: StrategyContext) async {
        guard !stored, !context.dryRun else { return }
        await context.services.release(ips: ServiceAllocator.clusterIPs(of: object), nodePorts: ServiceAllocator.nodePorts(of: object))
    }

    func finishUpdate(_ object: KubeObject, old: KubeObject, stored: Bool, context: StrategyContext) async {
        guard !context.dryRun else { return }
        let ips = Set(ServiceAllocator.clusterIPs(of: object)), oldIPs = Set(ServiceAllocator.clusterIPs(of: old))
        let ports = Set(ServiceAllocator.nodePorts(of: object)), oldPorts = Set(ServiceAllocator.nodePorts(of: old))
        if stored {
            // What the update dropped (a type change to ClusterIP or ExternalName, a port removed).
            await context.services.release(ips: Array(oldIPs.subtracting(ips)), nodePorts: Array(oldPorts.subtracting(ports)))
        } else {
            // What this attempt took for the new object.
            await context.services.release(ips: Array(ips.subtracting(oldIPs)), nodePorts: Array(ports.subtracting(oldPorts)))
        }
    }

    func finishDelete(_ object: KubeObject, context: StrategyContext) async {
        guard !context.dryRun else { return }
        await context.services.release(ips: ServiceAllocator.clusterIPs(of: object), nodePorts: ServiceAllocator.nodePorts(of: object))
    }

    private static func metadataErrors(_ service: Service) -> [ValidationError] {
        ObjectValidation.validateMetadata(service.metadata, namespaced: true, nameRule: .dns1035Label)
    }

    /// Empty strings, zero ports and empty lists are what Go's `omitempty` leaves out: stored
    /// objects look like kube-apiserver's, and a re-submitted Service compares equal.
    static func dropEmptyValues(_ spec: inout ServiceSpec) {
        func clear(_ value: inout String?) { if value?.isEmpty == true { value = nil } }
        clear(&spec.clusterIP)
        clear(&spec.externalName)
        clear(&spec.loadBalancerIP)
        clear(&spec.externalTrafficPolicy)
        if spec.healthCheckNodePort == 0 { spec.healthCheckNodePort = nil }
        if spec.clusterIPs?.isEmpty == true { spec.clusterIPs = nil }
        if spec.externalIPs?.isEmpty == true { spec.externalIPs = nil }
        if spec.selector?.isEmpty == true { spec.selector = nil }
        if spec.ipFamilies?.isEmpty == true { spec.ipFamilies = nil }
        if spec.loadBalancerSourceRanges?.isEmpty == true { spec.loadBalancerSourceRanges = nil }
        if spec.ports?.isEmpty == true { spec.ports = nil }
        if var ports = spec.ports {
            for index in ports.indices {
                if ports[index].nodePort == 0 { ports[index].nodePort = nil }
                if ports[index].name?.isEmpty == true { ports[index].name = nil }
            }
            spec.ports = ports
        }
    }
}
