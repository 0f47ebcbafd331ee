import APIMachinery
import KubeAPI

/// The allocations of one create or update of a Service, kube-apiserver's allocation
/// transaction (pkg/registry/core/service/storage/alloc.go): IP family fields initialised,
/// cluster IPs and node ports taken for the new object, and everything taken given back by
/// `revert` when the request fails before its write. A dry run checks without taking.
struct ServiceAllocationOperation {
    let allocator: ServiceAllocator
    let dryRun: Bool
    /// The Service's name, for error messages.
    let name: String
    private(set) var ips: [String] = []
    private(set) var ports: [Int64] = []

    init(allocator: ServiceAllocator, dryRun: Bool, name: String) {
        self.allocator = allocator
        self.dryRun = dryRun
        self.name = name
    }

    private func invalid(_ errors: [ValidationError]) -> APIError {
        APIError.invalid(kind: "Service", group: "", name: name, errors: errors)
    }

    /// Gives back what this operation took.
    func revert() async {
        guard !dryRun, !ips.isEmpty || !ports.isEmpty else { return }
        await allocator.release(ips: ips, nodePorts: ports)
    }

    // MARK: - IP families

    /// `initIPFamilyFields` for a cluster with one IPv4 service range: the policy defaults to
    /// SingleStack (RequireDualStack for a headless Service without selector, which may then
    /// hold both families), families to IPv4, and asking for IPv6 or dual stack fails.
    func initIPFamilyFields(_ spec: inout ServiceSpec, old: ServiceSpec?) throws(APIError) {
        guard ServiceRules.needsClusterIP(spec) else { return }
        if let old, spec.ipFamilyPolicy == "PreferDualStack", old.ipFamilyPolicy == "PreferDualStack",
           (spec.clusterIPs ?? []) == (old.clusterIPs ?? []), (spec.ipFamilies ?? []) == (old.ipFamilies ?? []) {
            return
        }
        let headlessWithoutSelector = spec.clusterIP == "None" && !ServiceRules.hasSelector(spec)
        if spec.ipFamilyPolicy == nil {
            if let policy = old?.ipFamilyPolicy {
                spec.ipFamilyPolicy = policy
            } else {
                spec.ipFamilyPolicy = headlessWithoutSelector ? "RequireDualStack" : "SingleStack"
            }
        }
        let clusterIPErrors = ServiceValidation.validateClusterIPFields(spec)
        guard clusterIPErrors.isEmpty else { throw invalid(clusterIPErrors) }
        var errors: [ValidationError] = []
        let policy = spec.ipFamilyPolicy ?? "SingleStack"
        var families = spec.ipFamilies ?? []
        let clusterIPs = spec.clusterIPs ?? []
        if let old {
            if policy == "SingleStack" {
                // Asking for a single stack releases a second address or family.
                if clusterIPs == (old.clusterIPs ?? []), clusterIPs.count > 1 { spec.clusterIPs = Array(clusterIPs.prefix(1)) }
                if families == (old.ipFamilies ?? []), families.count > 1 { families = Array(families.prefix(1)) }
            } else {
                if clusterIPs.count < (old.clusterIPs ?? []).count {
                    errors.append(ServiceValidation.invalid("spec.ipFamilyPolicy", .string(policy), "must be 'SingleStack' to release the secondary cluster IP"))
                }
                if families.count < (old.ipFamilies ?? []).count {
                    errors.append(ServiceValidation.invalid("spec.ipFamilyPolicy", .string(policy), "must be 'SingleStack' to release the secondary IP family"))
                }
            }
        }
        if policy == "SingleStack" {
            if (spec.clusterIPs ?? []).count == 2 {
                errors.append(ServiceValidation.invalid("spec.ipFamilyPolicy", .string(policy),
                                                        "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
            }
            if families.count == 2 {
                errors.append(ServiceValidation.invalid("spec.ipFamilyPolicy", .string(policy),
                                                        "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
            }
        }
        // Families follow from the addresses asked for.
        for (index, address) in (spec.clusterIPs ?? []).enumerated() {
            if address == "None" { break }
            guard index >= families.count else { continue }
            if ServiceValidation.isIPv6(address) {
                errors.append(ServiceValidation.invalid("spec.clusterIPs[\(index)]", ServiceValidation.jsonList(spec.clusterIPs ?? []),
                                                        "IPv6 is not configured on this cluster"))
            } else {
                families.append("IPv4")
            }
        }
        guard errors.isEmpty else { throw invalid(errors) }
        if headlessWithoutSelector {
            // Headless without a selector may list both families even on a single-stack cluster.
            if families.isEmpty { families = ["IPv4"] }
            if families.count < 2, policy != "SingleStack" { families.append(families[0] == "IPv4" ? "IPv6" : "IPv4") }
            spec.ipFamilies = families
            return
        }
        if policy == "RequireDualStack" {
            errors.append(ServiceValidation.invalid("spec.ipFamilyPolicy", .string(policy), "this cluster is not configured for dual-stack services"))
        }
        for (index, family) in families.enumerated() where family != "IPv4" {
            errors.append(ServiceValidation.invalid("spec.ipFamilies[\(index)]", .string(family), "not configured on this cluster"))
        }
        guard errors.isEmpty else { throw invalid(errors) }
        spec.ipFamilies = families.isEmpty ? ["IPv4"] : families
    }

    // MARK: - Cluster IPs

    /// `allocClusterIPs`: the requested address or a free one, unless ExternalName or headless.
    mutating func allocateClusterIP(_ spec: inout ServiceSpec) async throws(APIError) {
        guard ServiceRules.needsClusterIP(spec), !ServiceRules.isHeadless(spec) else { return }
        let requested = (spec.clusterIPs ?? []).first.flatMap { $0.isEmpty ? nil : $0 }
        do {
            let address = try await allocator.allocateIP(requested: requested, dryRun: dryRun)
            if !dryRun { ips.append(address) }
            spec.clusterIP = address
            spec.clusterIPs = [address]
        } catch {
            // A store failure is the server's (upstream reports it as the field's error).
            guard let requested, !error.isStorageFailure else {
                throw APIError.internalError("failed to allocate a serviceIP: \(error)")
            }
            throw invalid([ServiceValidation.invalid("spec.clusterIPs", ServiceValidation.jsonList(spec.clusterIPs ?? []),
                                                     "failed to allocate IP \(requested): \(error)")])
        }
    }

    // MARK: - Node ports

    private mutating func take(_ requested: Int32?) async throws(ServiceAllocationError) -> Int32 {
        let port = try await allocator.allocateNodePort(requested: requested.map(Int64.init), dryRun: dryRun)
        if !dryRun { ports.append(port) }
        return Int32(port)
    }

    private func nodePortError(_ index: Int, _ port: Int32, _ error: ServiceAllocationError) -> APIError {
        if error.isStorageFailure { return APIError.internalError("failed to allocate nodePort \(port): \(error)") }
        return invalid([ServiceValidation.invalid("spec.ports[\(index)].nodePort", .int(Int64(port)), error.description)])
    }

    /// `initNodePorts` of a new NodePort or LoadBalancer Service: requested ports are taken,
    /// the others allocated; ports with the same number (53/UDP and 53/TCP) share one.
    mutating func allocateNodePorts(_ spec: inout ServiceSpec) async throws(APIError) {
        guard ServiceRules.needsNodePort(spec), var servicePorts = spec.ports else { return }
        var byPortNumber: [Int32: Int32] = [:]
        for index in servicePorts.indices {
            let requested = servicePorts[index].nodePort ?? 0
            if requested == 0, !ServiceRules.shouldAllocateNodePorts(spec) { continue }
            let number = servicePorts[index].port
            if let shared = byPortNumber[number] {
                if requested == 0 {
                    servicePorts[index].nodePort = shared
                } else if requested != shared {
                    do { _ = try await take(requested) } catch { throw nodePortError(index, requested, error) }
                }
                continue
            }
            // A later port of the same number may name the node port for both.
            let named = servicePorts[index...].first { $0.port == number && ($0.nodePort ?? 0) != 0 }?.nodePort
            if let named {
                do { _ = try await take(named) } catch { throw nodePortError(index, named, error) }
                servicePorts[index].nodePort = named
                byPortNumber[number] = named
            } else {
                do {
                    let port = try await take(nil)
                    servicePorts[index].nodePort = port
                    byPortNumber[number] = port
                } catch {
                    throw APIError.internalError("failed to allocate a nodePort: \(error)")
                }
            }
        }
        spec.ports = servicePorts
    }

    /// `updateNodePorts`: node ports the old Service held stay; new requested ones are taken,
    /// missing ones allocated. (Ports the update drops are released once it is stored.)
    mutating func updateNodePorts(_ spec: inout ServiceSpec, old: ServiceSpec) async throws(APIError) {
        guard ServiceRules.needsNodePort(spec), var servicePorts = spec.ports else { return }
        let oldPorts = Set(ServiceRules.heldNodePorts(old).map(Int32.init))
        var takenHere: Set<Int32> = []
        for index in servicePorts.indices {
            let requested = servicePorts[index].nodePort ?? 0
            if requested == 0, !ServiceRules.shouldAllocateNodePorts(spec) { continue }
            if requested != 0 {
                guard !oldPorts.contains(requested), !takenHere.contains(requested) else { continue }
                do { _ = try await take(requested) } catch { throw nodePortError(index, requested, error) }
                takenHere.insert(requested)
            } else {
                do {
                    servicePorts[index].nodePort = try await take(nil)
                } catch {
                    throw APIError.internalError("failed to allocate a nodePort: \(error)")
                }
            }
        }
        spec.ports = servicePorts
    }

    /// The health-check node port of a LoadBalancer with `externalTrafficPolicy: Local`
    /// (`allocHealthCheckNodePort`), unless the old Service already had one.
    mutating func allocateHealthCheckNodePort(_ spec: inout ServiceSpec, old: ServiceSpec?) async throws(APIError) {
        guard ServiceRules.needsHealthCheck(spec), old.map(ServiceRules.needsHealthCheck) != true else { return }
        let requested = spec.healthCheckNodePort.flatMap { $0 == 0 ? nil : $0 }
        do {
            spec.healthCheckNodePort = try await take(requested)
        } catch {
            if let requested {
                throw APIError.internalError("failed to allocate requested HealthCheck NodePort \(requested): \(error)")
            }
            throw APIError.internalError("failed to allocate a HealthCheck NodePort: \(error)")
        }
    }
}
